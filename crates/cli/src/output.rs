//! Printing results and errors the same way in every command.

use elicense_app::AppError;
use serde::Serialize;

/// Exit code of a command that could not do its job.
pub const EXIT_ERROR: i32 = 2;

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialisable output")
    );
}

/// Prints an error on stderr (as `{"error":{code,message}}` when `as_json`) and returns the
/// error exit code.
pub fn error(e: &AppError, as_json: bool) -> i32 {
    if as_json {
        eprintln!(
            "{}",
            serde_json::json!({"error": {"code": e.code, "message": e.message}})
        );
    } else {
        eprintln!("error[{}]: {}", e.code, e.message);
    }
    EXIT_ERROR
}
