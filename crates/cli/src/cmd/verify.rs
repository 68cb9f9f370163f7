//! `elicense verify` (stdin; local data dir or `--node URL`) and `elicense status`.

use std::io::Read;

use elicense_app::verify::{verify as verify_local, VerifyOptions};
use elicense_app::{AppError, ErrorKind};

use super::with_node;
use crate::cli::DataArgs;
use crate::output;

pub async fn verify(
    data: &DataArgs,
    node_url: Option<String>,
    nonce: Option<String>,
    audience: Option<String>,
) -> i32 {
    let mut input = String::new();
    let limit = elicense_app::verify::MAX_INPUT as u64 + 1;
    if let Err(e) = std::io::stdin().take(limit).read_to_string(&mut input) {
        let e = AppError::new(
            ErrorKind::Invalid,
            "input.unreadable",
            format!("stdin: {e}"),
        );
        return output::error(&e, true);
    }
    let opts = VerifyOptions {
        nonce,
        audience,
        ..Default::default()
    };
    let verdict = match node_url {
        Some(url) => remote(&url, input.trim(), &opts).await,
        None => match super::open_node(data) {
            Ok(node) => verify_local(&node, &input, &opts)
                .await
                .map(|v| serde_json::to_value(v).expect("verdict serialises")),
            Err(e) => Err(e),
        },
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
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/verifications",
            url.trim_end_matches('/')
        ))
        .json(&body)
        .send()
        .await
        .map_err(|e| {
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
