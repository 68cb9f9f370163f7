//! `elicense face --data DIR IDENTIFIER --format pdf|png|svg --out FILE`.

use std::io::Write;
use std::path::Path;

use elicense_app::face::{render_identifier, FaceFormat};
use elicense_app::{AppError, ErrorKind};

use super::open_node;
use crate::cli::DataArgs;
use crate::output;

pub async fn face(data: &DataArgs, identifier: &str, format: &str, out: &Path) -> i32 {
    match run(data, identifier, format, out).await {
        Ok(()) => 0,
        Err(e) => output::error(&e, false),
    }
}

async fn run(data: &DataArgs, identifier: &str, format: &str, out: &Path) -> Result<(), AppError> {
    let format: FaceFormat = format.parse()?;
    let identifier = super::identifier(identifier)?;
    let node = open_node(data)?;
    let bytes = render_identifier(&node, &identifier, format).await?;
    let io = |e: std::io::Error| {
        AppError::new(
            ErrorKind::Unavailable,
            "face.write_failed",
            format!("cannot write {}: {e}", out.display()),
        )
    };
    if out == Path::new("-") {
        std::io::stdout().write_all(&bytes).map_err(io)?;
    } else {
        // Written whole to a temporary file first, so a failed run leaves no half file.
        let tmp = out.with_extension(format!("{}.tmp", format.extension()));
        std::fs::write(&tmp, &bytes).map_err(io)?;
        std::fs::rename(&tmp, out).map_err(io)?;
    }
    Ok(())
}
