//! `elicense verify` (stdin or a file; local data dir, `--node URL` or `--offline --cache
//! DIR`), `elicense cache refresh` and `elicense status`.

use std::io::Read;
use std::path::{Path, PathBuf};

use elicense_app::verify::{verify as verify_local, VerifyOptions};
use elicense_app::{AppError, Clock as _, ErrorKind, SystemClock};

use super::with_node;
use crate::cli::DataArgs;
use crate::output;

/// What `elicense verify` verifies against.
pub enum Source {
    /// A local data dir.
    Data(DataArgs),
    /// A running node (`--node URL`).
    Node(String),
    /// An offline cache (`--offline --cache DIR`).
    Offline(PathBuf),
}

/// The credential from `file`, or stdin.
fn read_input(file: Option<&Path>) -> Result<String, AppError> {
    let limit = elicense_app::verify::MAX_INPUT as u64 + 1;
    let mut input = String::new();
    let res = match file {
        Some(path) => std::fs::File::open(path)
            .and_then(|f| f.take(limit).read_to_string(&mut input))
            .map_err(|e| format!("{}: {e}", path.display())),
        None => std::io::stdin()
            .take(limit)
            .read_to_string(&mut input)
            .map_err(|e| format!("stdin: {e}")),
    };
    res.map(|_| input)
        .map_err(|e| AppError::new(ErrorKind::Invalid, "input.unreadable", e))
}

pub async fn verify(source: Source, file: Option<&Path>, opts: VerifyOptions) -> i32 {
    let input = match read_input(file) {
        Ok(i) => i,
        Err(e) => return output::error(&e, true),
    };
    let verdict = match source {
        Source::Node(url) => remote(&url, input.trim(), &opts).await,
        Source::Data(data) => match super::open_node(&data) {
            Ok(node) => verify_local(&node, &input, &opts)
                .await
                .map(|v| serde_json::to_value(v).expect("verdict serialises")),
            Err(e) => Err(e),
        },
        Source::Offline(dir) => {
            elicense_app::offline::verify(&dir, &input, &opts, SystemClock.now())
                .await
                .map(|v| {
                    for w in &v.cache.warnings {
                        eprintln!("warning: {w}");
                    }
                    serde_json::to_value(v).expect("verdict serialises")
                })
        }
    };
    match verdict {
        Ok(v) => {
            output::json(&v);
            if v.get("valid").and_then(|b| b.as_bool()) == Some(true) {
                0
            } else {
                1
            }
        }
        Err(e) => output::error(&e, true),
    }
}

/// `elicense cache refresh`: exit 0 when every trust-listed node answered, 1 when some did
/// not, 2 on error.
pub async fn refresh_cache(node: &str, cache: &Path, hub_keys: Option<&Path>) -> i32 {
    match elicense_app::offline::refresh(cache, node, hub_keys, SystemClock.now()).await {
        Ok(report) => {
            output::json(&report);
            if report.nodes.iter().all(|n| n.error.is_none()) {
                0
            } else {
                1
            }
        }
        Err(e) => output::error(&e, true),
    }
}

async fn remote(
    url: &str,
    credential: &str,
    opts: &VerifyOptions,
) -> Result<serde_json::Value, AppError> {
    let body = serde_json::json!({
        "credential": credential,
        "nonce": opts.nonce,
        "audience": opts.audience,
    });
    let request = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/verifications",
            url.trim_end_matches('/')
        ))
        .json(&body);
    node_json(url, request).await
}

/// Sends `request` to the node at `url` and reads its JSON answer: the answer when 2xx,
/// `node.refused` with the node's code when not, `node.unreachable`, `node.bad_response`.
pub(super) async fn node_json(
    url: &str,
    request: reqwest::RequestBuilder,
) -> Result<serde_json::Value, AppError> {
    let resp = request.send().await.map_err(|e| {
        AppError::new(
            ErrorKind::Unavailable,
            "node.unreachable",
            format!("{url}: {e}"),
        )
    })?;
    let status = resp.status();
    let value: serde_json::Value = resp.json().await.map_err(|e| {
        AppError::new(
            ErrorKind::Unavailable,
            "node.bad_response",
            format!("{url}: {e}"),
        )
    })?;
    if status.is_success() {
        return Ok(value);
    }
    let code = value["error"]["code"]
        .as_str()
        .unwrap_or("node.error")
        .to_string();
    let message = value["error"]["message"].as_str().unwrap_or("").to_string();
    Err(AppError::new(
        ErrorKind::Invalid,
        "node.refused",
        format!("{code}: {message}"),
    ))
}

pub async fn status(data: &DataArgs, identifier: &str) -> i32 {
    let id = match super::identifier(identifier) {
        Ok(id) => id,
        Err(e) => return output::error(&e, true),
    };
    with_node(data, true, |node| async move {
        output::json(&elicense_app::verify::public_status(&node, &id).await?);
        Ok(0)
    })
    .await
}
