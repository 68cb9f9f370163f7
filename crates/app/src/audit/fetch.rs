//! What the auditor reads from the node over HTTP, and nothing else: it trusts none of it
//! until checked.

use serde_json::Value;

use crate::error::{AppError, ErrorKind};

pub(super) fn net(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::Unavailable, "audit.fetch", e.to_string())
}

pub(super) fn bad(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, "audit.bad_answer", msg)
}

/// A client of one node.
pub(super) struct Fetcher {
    pub client: reqwest::Client,
    /// The node's base URL, without a trailing slash.
    pub base: String,
}

impl Fetcher {
    pub fn new(base: &str) -> Result<Self, AppError> {
        Ok(Fetcher {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .map_err(net)?,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    pub async fn get(&self, path: &str) -> Result<reqwest::Response, AppError> {
        let url = format!("{}{path}", self.base);
        let resp = self.client.get(&url).send().await.map_err(net)?;
        if !resp.status().is_success() {
            return Err(net(format!("GET {url}: {}", resp.status())));
        }
        Ok(resp)
    }

    pub async fn json(&self, path: &str) -> Result<Value, AppError> {
        self.get(path)
            .await?
            .json()
            .await
            .map_err(|e| bad(format!("{path}: {e}")))
    }

    /// The node's public status of a license: `None` when it does not know it, else its
    /// status code and status-list value.
    pub async fn public_status(
        &self,
        identifier: &str,
    ) -> Result<Option<(Option<String>, Option<u8>)>, AppError> {
        let resp = self
            .client
            .get(format!(
                "{}/api/v1/licenses/{identifier}/verification",
                self.base
            ))
            .send()
            .await
            .map_err(net)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(net(format!("status of {identifier}: {}", resp.status())));
        }
        let v: Value = resp.json().await.map_err(|e| bad(e.to_string()))?;
        let code = v["status"]["code"].as_str().map(str::to_string);
        let value = v["status"]["list_value"].as_u64().map(|v| v as u8);
        Ok(Some((code, value)))
    }
}
