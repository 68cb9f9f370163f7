//! Verification without network: a cache directory filled by `elicense cache refresh` and
//! read by `elicense verify --offline`.
//!
//! The directory holds `hub-keys.json` (the pinned hub keys, a JWKS), `trust-list.jwt` (the
//! accepted trust list, as signed), `status/*.jwt` (status-list tokens, as signed) and
//! `cache.json` (which node it was refreshed from, and when each item was fetched).
//!
//! Invariants:
//! - Nothing in the directory is trusted for itself: [`OfflineCache::open`] verifies the
//!   trust list against the hub keys (signature, expiry) and every status-list token is
//!   checked against that trust list when it is read ([`crate::verify::remote::check_token`]),
//!   so a changed file is refused, never believed.
//! - [`refresh`] accepts a trust list only through `trust_list::verify` against the list
//!   the cache holds: an older list (a rollback) is `trust_list.rolled_back` and the cache
//!   keeps what it had.
//! - Every file is replaced atomically (written beside, then renamed).
//! - The same core as the online verification decides ([`crate::verify::verify_with`]); the
//!   verdict's `status_source` says the status came from the cache, fetched when, how old.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use elicense_crypto::Jwks;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, ErrorKind, Result};
use crate::federation::trust_list::{self, TrustList};
use crate::verify::remote::{check_token, fetch_token, owning_node, FETCH_TIMEOUT};
use crate::verify::{
    Category, IssuerKey, KeySource, Problem, StatusFrom, StatusOrigin, StatusReading, StatusSource,
    Verdict, VerifyOptions,
};

/// A cached trust list older than this is reported with a warning (it still counts until
/// its `exp`).
pub const TRUST_LIST_WARN_SECS: i64 = 24 * 3600;

const HUB_KEYS: &str = "hub-keys.json";
const TRUST_LIST: &str = "trust-list.jwt";
const MANIFEST: &str = "cache.json";
const STATUS_DIR: &str = "status";

/// `cache.json`: where and when the items were fetched.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// The node the cache was last refreshed from.
    pub node: String,
    /// When the trust list was fetched (Unix seconds).
    pub trust_list_fetched_at: i64,
    /// Status lists by URI.
    pub status_lists: BTreeMap<String, CachedList>,
}

/// One cached status list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedList {
    /// The file under `status/`.
    pub file: String,
    /// When it was fetched (Unix seconds).
    pub fetched_at: i64,
}

/// What a refresh did.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshReport {
    pub cache: PathBuf,
    pub trust_list_seq: u64,
    pub trust_list_exp: i64,
    pub nodes: Vec<NodeRefresh>,
}

/// The lists of one trust-listed node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRefresh {
    pub url: String,
    /// Status lists fetched.
    pub lists: usize,
    /// Why the node's lists could not be fetched (the cache keeps its older copies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn cache_error(code: &'static str, msg: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, msg)
}

fn io(path: &Path, e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Unavailable,
        "cache.io",
        format!("{}: {e}", path.display()),
    )
}

fn unreachable(url: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Unavailable,
        "cache.unreachable",
        format!("{url}: {e}"),
    )
}

/// Writes `bytes` to `path` atomically.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

fn read_text(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path, e)),
    }
}

fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    read_text(&path)?
        .map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| cache_error("cache.corrupt", format!("{}: {e}", path.display())))
        })
        .transpose()
}

fn read_hub_keys(path: &Path) -> Result<Jwks> {
    let text = read_text(path)?.ok_or_else(|| {
        cache_error(
            "cache.no_hub_keys",
            format!("{}: no hub keys (give --hub-keys FILE)", path.display()),
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| cache_error("cache.bad_hub_keys", format!("{}: {e}", path.display())))
}

/// The file name of a status list's token.
fn list_file(uri: &str) -> String {
    format!("{}.jwt", &hex::encode(Sha256::digest(uri.as_bytes()))[..32])
}

async fn get_text(url: &str) -> Result<String> {
    let resp = crate::federation::peer::client()
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| unreachable(url, e))?;
    if !resp.status().is_success() {
        return Err(unreachable(url, format!("HTTP {}", resp.status())));
    }
    resp.text().await.map_err(|e| unreachable(url, e))
}

/// An entry of `GET /status-lists`.
#[derive(Deserialize)]
struct Listed {
    uri: String,
}

#[derive(Deserialize)]
struct ListIndex {
    lists: Vec<Listed>,
}

/// Fetches the trust list from `node` (checked against the hub keys and the list the cache
/// holds), then every status list of every trust-listed node, into `dir`.
pub async fn refresh(
    dir: &Path,
    node: &str,
    hub_keys: Option<&Path>,
    now: i64,
) -> Result<RefreshReport> {
    std::fs::create_dir_all(dir.join(STATUS_DIR)).map_err(|e| io(dir, e))?;
    let anchors = match hub_keys {
        Some(path) => {
            let keys = read_hub_keys(path)?;
            write_atomic(
                &dir.join(HUB_KEYS),
                &serde_json::to_vec_pretty(&keys).map_err(|e| AppError::internal(e.to_string()))?,
            )?;
            keys
        }
        None => read_hub_keys(&dir.join(HUB_KEYS))?,
    };
    // The list held, checked as when it was accepted but for its age (an expired list still
    // says which sequence number a new one must not go below).
    let held = match read_text(&dir.join(TRUST_LIST))? {
        Some(jws) => Some(trust_list::verify(&jws, &anchors, i64::MIN, None)?),
        None => None,
    };
    let node = node.trim_end_matches('/');
    let jws = get_text(&format!("{node}/.well-known/elicense-trust-list")).await?;
    let list = trust_list::verify(&jws, &anchors, now, held.as_ref())?;
    write_atomic(&dir.join(TRUST_LIST), jws.trim().as_bytes())?;
    let mut manifest = read_manifest(dir)?.unwrap_or_default();
    manifest.node = node.to_owned();
    manifest.trust_list_fetched_at = now;

    let mut nodes = Vec::new();
    for n in &list.nodes {
        let outcome = refresh_node(dir, &list, &n.url, now, &mut manifest).await;
        nodes.push(NodeRefresh {
            url: n.url.clone(),
            lists: *outcome.as_ref().unwrap_or(&0),
            error: outcome.err().map(|e| format!("{}: {}", e.code, e.message)),
        });
    }
    write_atomic(
        &dir.join(MANIFEST),
        &serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::internal(e.to_string()))?,
    )?;
    Ok(RefreshReport {
        cache: dir.to_path_buf(),
        trust_list_seq: list.seq,
        trust_list_exp: list.exp,
        nodes,
    })
}

/// Fetches every status list `url` lists (`GET /status-lists`) and checks each.
async fn refresh_node(
    dir: &Path,
    list: &TrustList,
    url: &str,
    now: i64,
    manifest: &mut Manifest,
) -> Result<usize> {
    let base = url.trim_end_matches('/');
    let index_url = format!("{base}/status-lists");
    let index: ListIndex = serde_json::from_str(&get_text(&index_url).await?).map_err(|e| {
        AppError::new(
            ErrorKind::Unavailable,
            "cache.bad_answer",
            format!("{index_url}: {e}"),
        )
    })?;
    let mut n = 0;
    for l in index.lists {
        // A node lists only its own lists.
        if owning_node(list, &l.uri).map(|o| o.url.trim_end_matches('/')) != Some(base) {
            continue;
        }
        let (_, _, jwt) = fetch_token(&l.uri, None)
            .await
            .map_err(|p| AppError::new(ErrorKind::Unavailable, "status.unavailable", p.message))?;
        check_token(&jwt, &l.uri, list, now)
            .map_err(|p| AppError::new(ErrorKind::Invalid, "status.bad_list", p.message))?;
        let file = list_file(&l.uri);
        write_atomic(&dir.join(STATUS_DIR).join(&file), jwt.trim().as_bytes())?;
        manifest.status_lists.insert(
            l.uri,
            CachedList {
                file,
                fetched_at: now,
            },
        );
        n += 1;
    }
    Ok(n)
}

/// How old a cached item is.
#[derive(Debug, Clone, Serialize)]
pub struct ItemAge {
    pub fetched_at: i64,
    pub age_secs: i64,
    /// How long it was meant to be used without refreshing.
    pub ttl_secs: i64,
    /// Older than that.
    pub stale: bool,
}

/// An opened cache: the trust list verified, the status lists indexed.
pub struct OfflineCache {
    dir: PathBuf,
    trust: TrustList,
    manifest: Manifest,
    now: i64,
}

impl OfflineCache {
    /// Opens `dir`, verifying its trust list against its hub keys at `now`.
    pub fn open(dir: &Path, now: i64) -> Result<OfflineCache> {
        let anchors = read_hub_keys(&dir.join(HUB_KEYS))?;
        let jws = read_text(&dir.join(TRUST_LIST))?.ok_or_else(|| {
            cache_error(
                "cache.empty",
                format!(
                    "{}: no trust list (run elicense cache refresh)",
                    dir.display()
                ),
            )
        })?;
        let trust = trust_list::verify(&jws, &anchors, now, None)?;
        let manifest = read_manifest(dir)?.unwrap_or_default();
        Ok(OfflineCache {
            dir: dir.to_path_buf(),
            trust,
            manifest,
            now,
        })
    }

    /// The cached trust list.
    pub fn trust_list(&self) -> &TrustList {
        &self.trust
    }

    /// How old the trust list is.
    pub fn trust_list_age(&self) -> ItemAge {
        let fetched_at = self.manifest.trust_list_fetched_at;
        let age_secs = (self.now - fetched_at).max(0);
        ItemAge {
            fetched_at,
            age_secs,
            ttl_secs: TRUST_LIST_WARN_SECS,
            stale: age_secs > TRUST_LIST_WARN_SECS,
        }
    }
}

#[async_trait]
impl KeySource for OfflineCache {
    async fn issuer_key(&self, kid: &str) -> Result<Option<IssuerKey>> {
        IssuerKey::from_trust_list(&self.trust, kid)
    }
}

#[async_trait]
impl StatusSource for OfflineCache {
    async fn status(
        &self,
        uri: &str,
        idx: u64,
    ) -> Result<std::result::Result<StatusReading, Problem>> {
        let Some(owner) = owning_node(&self.trust, uri) else {
            return Ok(Err(Problem::new(
                Category::Status,
                "status.foreign_list",
                format!("status list {uri} is not a trust-listed node's"),
            )));
        };
        let not_cached = || {
            Problem::new(
                Category::Status,
                "status.not_cached",
                format!(
                    "status list {uri} of {} is not in the cache (run elicense cache refresh)",
                    owner.url
                ),
            )
        };
        let Some(entry) = self.manifest.status_lists.get(uri) else {
            return Ok(Err(not_cached()));
        };
        let Some(jwt) = read_text(&self.dir.join(STATUS_DIR).join(&entry.file))? else {
            return Ok(Err(not_cached()));
        };
        let checked = match check_token(&jwt, uri, &self.trust, self.now) {
            Ok(c) => c,
            Err(p) => return Ok(Err(p)),
        };
        let age_secs = (self.now - entry.fetched_at).max(0);
        let ttl = checked.ttl.unwrap_or(0);
        let origin = StatusOrigin {
            from: StatusFrom::Cache,
            uri: uri.to_owned(),
            node: Some(checked.node.clone()),
            fetched_at: Some(entry.fetched_at),
            age_secs: Some(age_secs),
            ttl_secs: Some(ttl),
            stale: age_secs > ttl,
        };
        Ok(crate::verify::remote::read_entry(
            &checked.list,
            uri,
            idx,
            origin,
        ))
    }
}

/// An offline verdict: the verdict, and how old the cached items it used are.
#[derive(Debug, Clone, Serialize)]
pub struct OfflineVerdict {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub cache: CacheAges,
}

/// The ages of the cached items a verdict used, with warnings for the stale ones.
#[derive(Debug, Clone, Serialize)]
pub struct CacheAges {
    pub node: String,
    pub trust_list: ItemAge,
    pub trust_list_seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_list: Option<ItemAge>,
    pub warnings: Vec<String>,
}

/// Verifies `input` with the cache in `dir` only, at `now`.
pub async fn verify(
    dir: &Path,
    input: &str,
    opts: &VerifyOptions,
    now: i64,
) -> Result<OfflineVerdict> {
    let cache = OfflineCache::open(dir, now)?;
    let verdict = crate::verify::verify_with(&cache, &cache, now, input, opts).await?;
    let trust_list = cache.trust_list_age();
    let mut warnings = Vec::new();
    if trust_list.stale {
        warnings.push(format!(
            "the trust list was fetched {} s ago, more than {} s",
            trust_list.age_secs, trust_list.ttl_secs
        ));
    }
    let status_list = verdict.status_source.as_ref().and_then(|o| {
        Some(ItemAge {
            fetched_at: o.fetched_at?,
            age_secs: o.age_secs?,
            ttl_secs: o.ttl_secs?,
            stale: o.stale,
        })
    });
    if let (Some(age), Some(o)) = (&status_list, &verdict.status_source) {
        if age.stale {
            warnings.push(format!(
                "the status list {} was fetched {} s ago, more than its ttl of {} s",
                o.uri, age.age_secs, age.ttl_secs
            ));
        }
    }
    Ok(OfflineVerdict {
        cache: CacheAges {
            node: cache.manifest.node.clone(),
            trust_list,
            trust_list_seq: cache.trust.seq,
            status_list,
            warnings,
        },
        verdict,
    })
}
