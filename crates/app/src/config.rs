//! Node configuration: one typed struct, read from `DIR/elicense.toml` when present and from
//! `ELICENSE_*` environment variables, with defaults that make `elicense demo` work with no
//! file at all.
//!
//! The data dir is private to the node's user: created with mode 0700, and an existing one
//! that others can enter is tightened (with a warning), as are the configuration and secret
//! files in it (0600). Secrets are created with mode 0600 on first use: `holder-secret` (keys
//! the holder-code hash; `ELICENSE_HOLDER_SECRET` overrides it) and, unless the password of
//! the issuers' private keys comes from outside the data dir ([`KeyPasswordSource`]: a file
//! such as a secrets mount, or `ELICENSE_KEY_PASSWORD`), `key-password`.
//!
//! Wallet sign-in: `session_idle_secs` (`ELICENSE_SESSION_IDLE_SECS`, default 1800) and
//! `trusted_proxies` (`ELICENSE_TRUSTED_PROXIES`, comma-separated): only a request from one of
//! these addresses may name its client in `X-Forwarded-For`.
//!
//! Institutions' sharing requests ([`ShareLimits`], per institution): `legal_share_burst` and
//! `legal_share_per_minute` (`ELICENSE_LEGAL_SHARE_BURST`, `ELICENSE_LEGAL_SHARE_PER_MINUTE`,
//! default 60 and 30), `share_miss_burst` and `share_misses_per_hour`
//! (`ELICENSE_SHARE_MISS_BURST`, `ELICENSE_SHARE_MISSES_PER_HOUR`, default 20 and 20); each
//! at least 1.
//!
//! Federation ([`Federation`]): `area`, `level` and `parent` (`ELICENSE_AREA`,
//! `ELICENSE_LEVEL`, `ELICENSE_PARENT`; `elicense serve --area --level --parent` override
//! both through [`NodeConfig::override_federation`]). None of them: a standalone node.
//! `status_cache_max_secs` (`ELICENSE_STATUS_CACHE_MAX_SECS`, 1 to 300, default 300): how
//! long another node's status list is used before it is revalidated.
//!
//! The wallet and other verifiers: `wallet_verifiers` (`ELICENSE_WALLET_VERIFIERS`,
//! comma-separated origins such as `https://bank.example`): the OpenID4VP verifiers besides
//! this node whose requests the node's wallet fetches and answers (`https://`, or `http://` on
//! 127.0.0.1 or localhost); none by default.
//!
//! Sealed documents: `seal_trust_anchors` (`ELICENSE_SEAL_TRUST_ANCHORS`, comma-separated
//! paths of PEM or DER certificates): outside certification authorities (third-party CAs)
//! whose certificates the node accepts for seals and signers, besides its own seal CAs;
//! `seal_crls` (`ELICENSE_SEAL_CRLS`, paths of PEM or DER CRLs): their revocation lists.
//!
//! OpenID Connect sign-in: the `[oidc]` section and `ELICENSE_OIDC_*`
//! ([`crate::wallet::oidc::settings`]).
//!
//! Event log: `checkpoint_interval_ms` (`ELICENSE_CHECKPOINT_INTERVAL_MS`, 0 to 1000,
//! default 2): the shortest time between two signed checkpoints; one signature covers
//! every entry appended in between ([`crate::log`]).
//!
//! Trust list ([`TrustSettings`]): `hub_keys` (`ELICENSE_HUB_KEYS`, `serve --hub-keys FILE`;
//! a JWKS file with the hub's node key(s), relative paths from the data dir), required by
//! every member node but the hub when it serves ([`crate::federation::trust::anchors`]);
//! `trust_list_ttl_secs` (`ELICENSE_TRUST_LIST_TTL_SECS`, default 86400: how long a list the
//! hub signs is valid) and `trust_refresh_secs` (`ELICENSE_TRUST_REFRESH_SECS`, default 60:
//! how often a node fetches its parent's list, and the hub checks whether to republish).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use elicense_crypto::Alg;
use rand::RngCore;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::{AppError, ErrorKind, Result};
use crate::federation::{Federation, FederationSettings};
use crate::limit::Rate;

/// Everything a node needs to know about itself.
#[derive(Clone)]
pub struct NodeConfig {
    /// Public base URL of the node; credentials name their issuer and status list under it.
    pub base_url: String,
    /// Password of the issuers' encrypted private keys.
    pub key_password: Zeroizing<String>,
    /// Key of the holder-code hash (HMAC-SHA256).
    pub holder_secret: Zeroizing<Vec<u8>>,
    /// Signature algorithm when a request does not name one.
    pub default_alg: Alg,
    /// Where SQLite lives, when the node uses SQLite.
    pub data_dir: Option<PathBuf>,
    /// Serving limits and the metrics address (`serve`).
    pub serving: Serving,
    /// A wallet session ends after this many seconds without a request.
    pub session_idle_secs: i64,
    /// Reverse proxies whose `X-Forwarded-For` names the client (sign-in throttling); empty:
    /// the connection's peer address is the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Per-institution limits on sharing requests.
    pub share_limits: ShareLimits,
    /// The node's place in the federation (standalone unless configured).
    pub federation: Federation,
    /// Longest time another node's status list is used before asking its owner again
    /// (seconds, 1 to 300; the list's own `ttl` may be shorter).
    pub status_cache_max_secs: u64,
    /// The trust list: pinned hub keys, lifetime, refresh interval.
    pub trust: TrustSettings,
    /// The OpenID Connect provider wallet holders sign in with, if any (`[oidc]`).
    pub oidc: Option<crate::wallet::oidc::OidcSettings>,
    /// Origins of the other OpenID4VP verifiers the wallet answers (`wallet_verifiers`).
    pub wallet_verifiers: Vec<String>,
    /// Shortest time between two signed checkpoints of the event log, milliseconds (0 to
    /// 1000, default 2): the longest an issue waits for the checkpoint its proof leads to.
    pub checkpoint_interval_ms: u64,
    /// Outside certification authorities whose seal and signer certificates the node accepts
    /// when it verifies sealed documents (`seal_trust_anchors`), DER.
    pub seal_trust_anchors: Vec<Vec<u8>>,
    /// Revocation lists of those authorities (`seal_crls`), DER, applied when verifying.
    pub seal_crls: Vec<Vec<u8>>,
}

/// Trust-list settings (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustSettings {
    /// The JWKS file with the hub's node key(s).
    pub hub_keys: Option<PathBuf>,
    /// Lifetime of a list the hub signs, seconds (at least 2 × `refresh_secs`).
    pub list_ttl_secs: i64,
    /// Refresh (and republish-check) interval, seconds (at least 1).
    pub refresh_secs: u64,
}

/// Default lifetime of a trust list: 24 hours.
pub const DEFAULT_TRUST_LIST_TTL_SECS: i64 = 86_400;
/// Default refresh interval: 60 seconds.
pub const DEFAULT_TRUST_REFRESH_SECS: u64 = 60;

impl Default for TrustSettings {
    fn default() -> Self {
        TrustSettings {
            hub_keys: None,
            list_ttl_secs: DEFAULT_TRUST_LIST_TTL_SECS,
            refresh_secs: DEFAULT_TRUST_REFRESH_SECS,
        }
    }
}

impl TrustSettings {
    fn load(dir: &Path, file: &FileConfig) -> Result<TrustSettings> {
        let hub_keys = std::env::var("ELICENSE_HUB_KEYS")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
            .or_else(|| file.hub_keys.clone().map(PathBuf::from))
            .map(|p| if p.is_relative() { dir.join(p) } else { p });
        let t = TrustSettings {
            hub_keys,
            list_ttl_secs: env_number("ELICENSE_TRUST_LIST_TTL_SECS")?
                .or(file.trust_list_ttl_secs)
                .unwrap_or(DEFAULT_TRUST_LIST_TTL_SECS),
            refresh_secs: env_number("ELICENSE_TRUST_REFRESH_SECS")?
                .or(file.trust_refresh_secs)
                .unwrap_or(DEFAULT_TRUST_REFRESH_SECS),
        };
        t.check()?;
        Ok(t)
    }

    /// `config.invalid` unless the interval is at least 1 s and the lifetime at least twice it.
    pub fn check(&self) -> Result<()> {
        if self.refresh_secs == 0 || self.list_ttl_secs < 2 * self.refresh_secs as i64 {
            return Err(invalid(format!(
                "trust_refresh_secs {} must be at least 1 and trust_list_ttl_secs {} at least \
                 twice it",
                self.refresh_secs, self.list_ttl_secs
            )));
        }
        Ok(())
    }
}

/// Per-institution limits on sharing requests (`institutions::guard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareLimits {
    /// Requests under a legal basis (no consent asked: the abuse path), per institution.
    pub legal: Rate,
    /// Requests that reach no license (an unknown holder or a wrong name alike), per
    /// institution, whatever the basis: an institution probing ID numbers runs out of them.
    pub misses: Rate,
}

/// Default burst of legal-basis requests per institution.
pub const DEFAULT_LEGAL_SHARE_BURST: u32 = 60;
/// Default legal-basis requests per minute and institution, after the burst.
pub const DEFAULT_LEGAL_SHARE_PER_MINUTE: u32 = 30;
/// Default requests reaching no license an institution may make at once.
pub const DEFAULT_SHARE_MISS_BURST: u32 = 20;
/// Default requests reaching no license per hour and institution, after the burst.
pub const DEFAULT_SHARE_MISSES_PER_HOUR: u32 = 20;

impl Default for ShareLimits {
    fn default() -> Self {
        ShareLimits {
            legal: Rate::new(
                DEFAULT_LEGAL_SHARE_BURST,
                DEFAULT_LEGAL_SHARE_PER_MINUTE,
                60,
            )
            .expect("non-zero"),
            misses: Rate::new(
                DEFAULT_SHARE_MISS_BURST,
                DEFAULT_SHARE_MISSES_PER_HOUR,
                3600,
            )
            .expect("non-zero"),
        }
    }
}

impl ShareLimits {
    /// From the file's and the environment's numbers (the environment wins), defaults for
    /// the rest; a zero is `config.invalid`.
    fn load(file: &FileConfig) -> Result<ShareLimits> {
        let pick = |env: &str, file: Option<u32>, default: u32| -> Result<u32> {
            let n = env_number::<u32>(env)?.or(file).unwrap_or(default);
            if n == 0 {
                return Err(invalid(format!("{env} (or its key in elicense.toml) is 0")));
            }
            Ok(n)
        };
        let legal = Rate::new(
            pick(
                "ELICENSE_LEGAL_SHARE_BURST",
                file.legal_share_burst,
                DEFAULT_LEGAL_SHARE_BURST,
            )?,
            pick(
                "ELICENSE_LEGAL_SHARE_PER_MINUTE",
                file.legal_share_per_minute,
                DEFAULT_LEGAL_SHARE_PER_MINUTE,
            )?,
            60,
        );
        let misses = Rate::new(
            pick(
                "ELICENSE_SHARE_MISS_BURST",
                file.share_miss_burst,
                DEFAULT_SHARE_MISS_BURST,
            )?,
            pick(
                "ELICENSE_SHARE_MISSES_PER_HOUR",
                file.share_misses_per_hour,
                DEFAULT_SHARE_MISSES_PER_HOUR,
            )?,
            3600,
        );
        Ok(ShareLimits {
            legal: legal.expect("checked non-zero"),
            misses: misses.expect("checked non-zero"),
        })
    }
}

/// How `elicense serve` serves: `metrics_listen`, `max_connections` and
/// `header_read_timeout_secs` in `elicense.toml`, or `ELICENSE_METRICS_LISTEN`,
/// `ELICENSE_MAX_CONNECTIONS`, `ELICENSE_HEADER_READ_TIMEOUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// A listen address of its own for `/metrics` (the main one then answers 404 there).
    pub metrics_listen: Option<String>,
    /// Connections served at once per listener; more get `503 server.busy`.
    pub max_connections: usize,
    /// Seconds a client has to send a request's line and headers (and to start the next).
    pub header_read_timeout_secs: u64,
}

/// Default connection cap per listener.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default header-read timeout, in seconds.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;

impl Default for Serving {
    fn default() -> Self {
        Serving {
            metrics_listen: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout_secs: DEFAULT_HEADER_READ_TIMEOUT_SECS,
        }
    }
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("base_url", &self.base_url)
            .field("default_alg", &self.default_alg)
            .field("data_dir", &self.data_dir)
            .field("serving", &self.serving)
            .field("session_idle_secs", &self.session_idle_secs)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("share_limits", &self.share_limits)
            .field("federation", &self.federation)
            .field("status_cache_max_secs", &self.status_cache_max_secs)
            .field("trust", &self.trust)
            .field("oidc", &self.oidc)
            .finish_non_exhaustive()
    }
}

/// The file form of the configuration (`DIR/elicense.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    base_url: Option<String>,
    default_alg: Option<String>,
    metrics_listen: Option<String>,
    max_connections: Option<usize>,
    header_read_timeout_secs: Option<u64>,
    session_idle_secs: Option<i64>,
    trusted_proxies: Option<Vec<String>>,
    legal_share_burst: Option<u32>,
    legal_share_per_minute: Option<u32>,
    share_miss_burst: Option<u32>,
    share_misses_per_hour: Option<u32>,
    area: Option<String>,
    level: Option<String>,
    parent: Option<String>,
    status_cache_max_secs: Option<u64>,
    hub_keys: Option<String>,
    trust_list_ttl_secs: Option<i64>,
    trust_refresh_secs: Option<u64>,
    oidc: Option<crate::wallet::oidc::settings::OidcFile>,
    wallet_verifiers: Option<Vec<String>>,
    checkpoint_interval_ms: Option<u64>,
    seal_trust_anchors: Option<Vec<String>>,
    seal_crls: Option<Vec<String>>,
}

/// Default public base URL.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// Default shortest time between two signed checkpoints: 2 ms.
pub const DEFAULT_CHECKPOINT_INTERVAL_MS: u64 = 2;

/// The checkpoint interval: `ELICENSE_CHECKPOINT_INTERVAL_MS`, else the file's, else the
/// default; at most a second (an issue waits for it).
fn checkpoint_interval_ms(file: Option<u64>) -> Result<u64> {
    let ms = env_number("ELICENSE_CHECKPOINT_INTERVAL_MS")?
        .or(file)
        .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL_MS);
    if ms > 1000 {
        return Err(invalid(format!(
            "checkpoint_interval_ms {ms} is above 1000 milliseconds"
        )));
    }
    Ok(ms)
}

/// Default idle timeout of a wallet session: 30 minutes.
pub const DEFAULT_SESSION_IDLE_SECS: i64 = 30 * 60;

fn invalid(message: String) -> AppError {
    AppError::new(ErrorKind::Invalid, "config.invalid", message)
}

/// The idle timeout: `ELICENSE_SESSION_IDLE_SECS`, else the file's, else the default; at
/// least a minute (sessions record activity once a minute).
fn session_idle_secs(file: Option<i64>) -> Result<i64> {
    let secs = match std::env::var("ELICENSE_SESSION_IDLE_SECS") {
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .map_err(|_| invalid(format!("ELICENSE_SESSION_IDLE_SECS {v:?} is not a number")))?,
        Err(_) => file.unwrap_or(DEFAULT_SESSION_IDLE_SECS),
    };
    if secs < 60 {
        return Err(invalid(format!(
            "session_idle_secs {secs} is below 60 seconds"
        )));
    }
    Ok(secs)
}

/// How long another node's status list is cached at most: `ELICENSE_STATUS_CACHE_MAX_SECS`,
/// else the file's, else [`crate::verify::remote::DEFAULT_MAX_AGE_SECS`]; 1 to that default.
fn status_cache_max_secs(file: Option<u64>) -> Result<u64> {
    let max = crate::verify::remote::DEFAULT_MAX_AGE_SECS;
    let secs = env_number::<u64>("ELICENSE_STATUS_CACHE_MAX_SECS")?
        .or(file)
        .unwrap_or(max);
    if !(1..=max).contains(&secs) {
        return Err(invalid(format!(
            "status_cache_max_secs {secs} is not between 1 and {max}"
        )));
    }
    Ok(secs)
}

/// A list setting: the environment variable `var` (comma-separated, blanks dropped) when set,
/// else the file's list.
fn env_or_file_list(var: &str, file: Option<Vec<String>>) -> Vec<String> {
    match std::env::var(var) {
        Ok(v) => v
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Err(_) => file.unwrap_or_default(),
    }
}

/// The verifiers the wallet answers: `ELICENSE_WALLET_VERIFIERS` (comma-separated), else the
/// file's; each an origin, `https://host[:port]` or `http://` on 127.0.0.1 or localhost.
fn wallet_verifiers(file: Option<Vec<String>>) -> Result<Vec<String>> {
    env_or_file_list("ELICENSE_WALLET_VERIFIERS", file)
        .iter()
        .map(|o| {
            let bad = || invalid(format!("wallet verifier {o:?} is not an https:// origin"));
            let u = url::Url::parse(o).map_err(|_| bad())?;
            let local = matches!(u.host_str(), Some("127.0.0.1" | "localhost"));
            let ok = (u.scheme() == "https" || (u.scheme() == "http" && local))
                && u.path() == "/"
                && u.query().is_none()
                && u.username().is_empty();
            if !ok {
                return Err(bad());
            }
            Ok(u.origin().ascii_serialization())
        })
        .collect()
}

/// Outside seal CAs: `ELICENSE_SEAL_TRUST_ANCHORS` (comma-separated paths), else the
/// file's; each file one or more PEM certificates (or one DER certificate), read at start.
fn seal_trust_anchors(file: Option<Vec<String>>) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for path in env_or_file_list("ELICENSE_SEAL_TRUST_ANCHORS", file) {
        let bytes =
            std::fs::read(&path).map_err(|e| invalid(format!("seal trust anchor {path}: {e}")))?;
        let certs = certificates(&bytes);
        if certs.is_empty() {
            return Err(invalid(format!(
                "seal trust anchor {path} holds no certificate"
            )));
        }
        out.extend(certs);
    }
    Ok(out)
}

/// The outside CAs' revocation lists: `ELICENSE_SEAL_CRLS` (comma-separated paths), else the
/// file's; each file one or more PEM `X509 CRL` blocks (or one DER CRL), read at start.
fn seal_crls(file: Option<Vec<String>>) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for path in env_or_file_list("ELICENSE_SEAL_CRLS", file) {
        let bytes = std::fs::read(&path).map_err(|e| invalid(format!("seal CRL {path}: {e}")))?;
        let crls = pem_blocks(&bytes, "X509 CRL", false).unwrap_or_default();
        if crls.is_empty() {
            return Err(invalid(format!("seal CRL {path} holds no CRL")));
        }
        out.extend(crls);
    }
    Ok(out)
}

/// The certificates of a file: one DER certificate, or every PEM `CERTIFICATE` block.
pub fn certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
    pem_blocks(bytes, "CERTIFICATE", false).unwrap_or_default()
}

/// The DER of a file: the file itself when it is DER, else every PEM block labelled `label`.
/// A block not closed or not base64 is skipped, or with `strict` the error (what is wrong).
pub(crate) fn pem_blocks(
    bytes: &[u8],
    label: &str,
    strict: bool,
) -> std::result::Result<Vec<Vec<u8>>, String> {
    use base64::Engine;
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes.to_vec()]);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(Vec::new());
    };
    let (begin, end_line) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let body = &rest[start + begin.len()..];
        let Some(end) = body.find(&end_line) else {
            if strict {
                return Err(format!("a {label} block is not closed"));
            }
            break;
        };
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(der) => out.push(der),
            Err(e) if strict => return Err(format!("a {label} block: {e}")),
            Err(_) => {}
        }
        rest = &body[end..];
    }
    Ok(out)
}

/// Trusted proxy addresses: `ELICENSE_TRUSTED_PROXIES` (comma-separated), else the file's.
fn trusted_proxies(file: Option<Vec<String>>) -> Result<Vec<IpAddr>> {
    env_or_file_list("ELICENSE_TRUSTED_PROXIES", file)
        .iter()
        .map(|a| {
            a.parse::<IpAddr>()
                .map_err(|_| invalid(format!("trusted proxy {a:?} is not an IP address")))
        })
        .collect()
}

/// Where the password of the issuers' private keys (and of the log keys) comes from.
#[derive(Clone)]
pub enum KeyPasswordSource {
    /// A file outside the data dir (`--key-password-file`, `ELICENSE_KEY_PASSWORD_FILE`),
    /// e.g. a secrets mount: read (surrounding whitespace ignored), never created.
    File(PathBuf),
    /// The value itself (`ELICENSE_KEY_PASSWORD`).
    Value(Zeroizing<String>),
    /// `DIR/key-password`, created with a random password (mode 0600) on first use.
    DataDir,
}

impl std::fmt::Debug for KeyPasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Value(_) => f.write_str("Value(..)"),
            Self::DataDir => f.write_str("DataDir"),
        }
    }
}

/// Environment variable naming a file that holds the key password.
pub const KEY_PASSWORD_FILE_ENV: &str = "ELICENSE_KEY_PASSWORD_FILE";
/// Environment variable holding the key password itself.
pub const KEY_PASSWORD_ENV: &str = "ELICENSE_KEY_PASSWORD";

impl KeyPasswordSource {
    /// The source named by `file` (a command-line option) or the environment
    /// (`ELICENSE_KEY_PASSWORD_FILE`, `ELICENSE_KEY_PASSWORD`), else the data dir. A file and
    /// a password given together are refused (`config.key_password_ambiguous`): which one
    /// encrypts the keys must not depend on precedence rules.
    pub fn resolve(file: Option<PathBuf>) -> Result<KeyPasswordSource> {
        let file = file.or_else(|| {
            std::env::var_os(KEY_PASSWORD_FILE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let value = std::env::var(KEY_PASSWORD_ENV)
            .ok()
            .filter(|v| !v.is_empty());
        match (file, value) {
            (Some(_), Some(_)) => Err(AppError::new(
                ErrorKind::Invalid,
                "config.key_password_ambiguous",
                format!(
                    "the key password is given both as a file and in {KEY_PASSWORD_ENV}; use one"
                ),
            )),
            (Some(path), None) => Ok(Self::File(path)),
            (None, Some(value)) => Ok(Self::Value(Zeroizing::new(value))),
            (None, None) => Ok(Self::DataDir),
        }
    }

    /// The password, creating `DIR/key-password` only for [`KeyPasswordSource::DataDir`].
    fn password(&self, dir: &Path) -> Result<Zeroizing<String>> {
        let in_dir = dir.join("key-password");
        match self {
            Self::DataDir => password_file(&in_dir),
            outside => {
                if in_dir.exists() {
                    tracing::warn!(
                        path = %in_dir.display(),
                        "the key password comes from outside the data dir; this file is not \
                         used: delete it once the keys open with the outside password"
                    );
                }
                match outside {
                    Self::File(path) => read_password_file(path),
                    Self::Value(value) => Ok(value.clone()),
                    Self::DataDir => unreachable!("matched above"),
                }
            }
        }
    }
}

impl NodeConfig {
    /// Loads (and on first use creates) the configuration of the data dir `dir`, the key
    /// password from the source the environment names ([`KeyPasswordSource::resolve`]).
    pub fn load(dir: &Path) -> Result<NodeConfig> {
        Self::load_with(dir, &KeyPasswordSource::resolve(None)?)
    }

    /// Loads (and on first use creates) the configuration of the data dir `dir`, the key
    /// password from `key_password`.
    pub fn load_with(dir: &Path, key_password: &KeyPasswordSource) -> Result<NodeConfig> {
        private_dir(dir)?;
        let file_path = dir.join("elicense.toml");
        let mut file: FileConfig = match std::fs::read_to_string(&file_path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                AppError::new(
                    ErrorKind::Invalid,
                    "config.invalid",
                    format!("{}: {e}", file_path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileConfig::default(),
            Err(e) => return Err(io_error(&file_path, e)),
        };
        let share_limits = ShareLimits::load(&file)?;
        let trust = TrustSettings::load(dir, &file)?;
        let oidc = crate::wallet::oidc::OidcSettings::load(dir, file.oidc.take())?;
        let base_url = std::env::var("ELICENSE_BASE_URL")
            .ok()
            .or(file.base_url)
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let default_alg = match std::env::var("ELICENSE_DEFAULT_ALG")
            .ok()
            .or(file.default_alg)
        {
            Some(name) => name.parse::<Alg>().map_err(|_| {
                AppError::new(
                    ErrorKind::Invalid,
                    "config.invalid",
                    format!("unknown default_alg {name:?} (sm2, ed25519 or es256)"),
                )
            })?,
            None => Alg::Sm2,
        };
        let key_password = key_password.password(dir)?;
        let holder_secret = match std::env::var("ELICENSE_HOLDER_SECRET") {
            Ok(s) if !s.is_empty() => Zeroizing::new(s.into_bytes()),
            _ => secret_file(&dir.join("holder-secret"), 32)?,
        };
        let serving = Serving {
            metrics_listen: std::env::var("ELICENSE_METRICS_LISTEN")
                .ok()
                .filter(|a| !a.is_empty())
                .or(file.metrics_listen),
            max_connections: env_number("ELICENSE_MAX_CONNECTIONS")?
                .or(file.max_connections)
                .unwrap_or(DEFAULT_MAX_CONNECTIONS),
            header_read_timeout_secs: env_number("ELICENSE_HEADER_READ_TIMEOUT")?
                .or(file.header_read_timeout_secs)
                .unwrap_or(DEFAULT_HEADER_READ_TIMEOUT_SECS),
        };
        if serving.max_connections == 0 || serving.header_read_timeout_secs == 0 {
            return Err(AppError::new(
                ErrorKind::Invalid,
                "config.invalid",
                "max_connections and header_read_timeout_secs must be at least 1",
            ));
        }
        let base_url = base_url.trim_end_matches('/').to_string();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let federation = Federation::parse(
            &FederationSettings {
                area: file.area,
                level: file.level,
                parent: file.parent,
            }
            .overridden_by(FederationSettings {
                area: env("ELICENSE_AREA"),
                level: env("ELICENSE_LEVEL"),
                parent: env("ELICENSE_PARENT"),
            }),
            &base_url,
        )?;
        Ok(NodeConfig {
            base_url,
            key_password,
            holder_secret,
            default_alg,
            data_dir: Some(dir.to_path_buf()),
            serving,
            session_idle_secs: session_idle_secs(file.session_idle_secs)?,
            trusted_proxies: trusted_proxies(file.trusted_proxies)?,
            share_limits,
            federation,
            status_cache_max_secs: status_cache_max_secs(file.status_cache_max_secs)?,
            trust,
            oidc,
            wallet_verifiers: wallet_verifiers(file.wallet_verifiers)?,
            checkpoint_interval_ms: checkpoint_interval_ms(file.checkpoint_interval_ms)?,
            seal_trust_anchors: seal_trust_anchors(file.seal_trust_anchors)?,
            seal_crls: seal_crls(file.seal_crls)?,
        })
    }

    /// Writes `base_url` into `DIR/elicense.toml` (used by `demo` when it picks the address),
    /// creating the data dir (0700) if needed; the file is replaced atomically, mode 0600.
    pub fn save_base_url(dir: &Path, base_url: &str) -> Result<()> {
        private_dir(dir)?;
        let path = dir.join("elicense.toml");
        let text = format!("base_url = {:?}\n", base_url.trim_end_matches('/'));
        let tmp = dir.join(format!(".elicense.toml.tmp{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        write_private_file(&tmp, text.as_bytes()).map_err(|e| io_error(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io_error(&path, e))
    }

    /// A throw-away configuration with fresh random secrets (tests, benchmarks).
    pub fn ephemeral(base_url: &str) -> NodeConfig {
        let mut secret = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let mut pw = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut pw);
        NodeConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            key_password: Zeroizing::new(hex::encode(pw)),
            holder_secret: Zeroizing::new(secret),
            default_alg: Alg::Sm2,
            data_dir: None,
            serving: Serving::default(),
            session_idle_secs: DEFAULT_SESSION_IDLE_SECS,
            trusted_proxies: Vec::new(),
            share_limits: ShareLimits::default(),
            federation: Federation::Standalone,
            status_cache_max_secs: crate::verify::remote::DEFAULT_MAX_AGE_SECS,
            trust: TrustSettings::default(),
            oidc: None,
            wallet_verifiers: Vec::new(),
            checkpoint_interval_ms: DEFAULT_CHECKPOINT_INTERVAL_MS,
            seal_trust_anchors: Vec::new(),
            seal_crls: Vec::new(),
        }
    }

    /// Applies the command line's federation settings over the configured ones (each given
    /// setting replaces the configured one) and checks the result ([`Federation::parse`]).
    pub fn override_federation(&mut self, over: FederationSettings) -> Result<()> {
        let merged = FederationSettings::of(&self.federation).overridden_by(over);
        self.federation = Federation::parse(&merged, &self.base_url)?;
        Ok(())
    }

    /// The SQLite file of this node's data dir.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.data_dir.as_ref().map(|d| d.join("elicense.db"))
    }
}

/// A whole number from the environment variable `name`, if set.
fn env_number<N: std::str::FromStr>(name: &str) -> Result<Option<N>> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.trim().parse().map(Some).map_err(|_| {
            AppError::new(
                ErrorKind::Invalid,
                "config.invalid",
                format!("{name}={v:?} is not a whole number"),
            )
        }),
        _ => Ok(None),
    }
}

fn io_error(path: &Path, e: std::io::Error) -> AppError {
    AppError::new(
        ErrorKind::Unavailable,
        "config.io",
        format!("{}: {e}", path.display()),
    )
}

/// Reads a secret file, creating it with `len` random bytes (mode 0600) if it is missing.
fn secret_file(path: &Path, len: usize) -> Result<Zeroizing<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) if !bytes.is_empty() => Ok(Zeroizing::new(bytes)),
        Ok(_) => Err(AppError::new(
            ErrorKind::Invalid,
            "config.secret_empty",
            format!("{} is empty", path.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = Zeroizing::new(vec![0u8; len]);
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            write_private_file(path, &bytes).map_err(|e| io_error(path, e))?;
            Ok(bytes)
        }
        Err(e) => Err(io_error(path, e)),
    }
}

/// Reads a key password file outside the data dir; it must exist and hold a password.
fn read_password_file(path: &Path) -> Result<Zeroizing<String>> {
    let fail = |why: String| {
        AppError::new(
            ErrorKind::Invalid,
            "config.key_password_file",
            format!("key password file {}: {why}", path.display()),
        )
    };
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?);
    if text.trim().is_empty() {
        return Err(fail("it is empty".to_owned()));
    }
    warn_if_shared(path);
    Ok(Zeroizing::new(text.trim().to_string()))
}

/// Warns when others than the owner may read `path` (a key password file is not ours to
/// change: it may be a mount managed elsewhere).
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "the key password file can be read by other users"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Files of the data dir that hold configuration or secrets: mode 0600 (the SQLite files are
/// the store's business, see `elicense_store::SqliteStore::open`).
const PRIVATE_FILES: [&str; 7] = [
    "elicense.toml",
    "key-password",
    "holder-secret",
    "log-key.pem",
    crate::federation::keys::NODE_KEY_FILE,
    crate::federation::keys::WITNESS_KEY_FILE,
    crate::federation::sync::HOLDER_KEY_FILE,
];

/// Creates the data dir with mode 0700 (parents as `create_dir_all` would, with the usual
/// mode), or tightens an existing one, and the files of [`PRIVATE_FILES`] in it, to
/// owner-only access, with a warning for each change.
pub fn private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        if !dir.exists() {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
            }
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Ok(()) => {}
                // Another process made it meanwhile: tightened below like any existing one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error(dir, e)),
            }
        }
        refuse_shared(dir)?;
        tighten(dir, 0o700)?;
        for name in PRIVATE_FILES {
            let path = dir.join(name);
            if path.exists() {
                tighten(&path, 0o600)?;
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))
    }
}

/// A directory with the sticky bit (`/tmp`) is shared by design: taking it over as a data
/// dir would lock everyone else out of it.
#[cfg(unix)]
fn refuse_shared(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(dir).map_err(|e| io_error(dir, e))?;
    if !meta.is_dir() {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "config.data_dir",
            format!("data dir {} is not a directory", dir.display()),
        ));
    }
    if meta.permissions().mode() & 0o1000 != 0 {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "config.data_dir",
            format!(
                "data dir {} is a shared directory (sticky bit, like /tmp): give the node a \
                 directory of its own",
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// Removes every permission bit outside `allowed` from `path`, warning when there were any.
#[cfg(unix)]
fn tighten(path: &Path, allowed: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & !allowed == 0 {
        return Ok(());
    }
    let tight = mode & allowed;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(tight))
        .map_err(|e| io_error(path, e))?;
    tracing::warn!(
        path = %path.display(),
        was = format!("{mode:o}"),
        now = format!("{tight:o}"),
        "others could access this part of the data dir: permissions tightened"
    );
    Ok(())
}

/// Reads a password file (text, surrounding whitespace ignored), creating it with a random
/// password if it is missing.
fn password_file(path: &Path) -> Result<Zeroizing<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(Zeroizing::new(text.trim().to_string())),
        Ok(_) => Err(AppError::new(
            ErrorKind::Invalid,
            "config.secret_empty",
            format!("{} is empty", path.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut raw = Zeroizing::new([0u8; 24]);
            rand::rngs::OsRng.fill_bytes(&mut *raw);
            let password = Zeroizing::new(hex::encode(*raw));
            write_private_file(path, password.as_bytes()).map_err(|e| io_error(path, e))?;
            Ok(password)
        }
        Err(e) => Err(io_error(path, e)),
    }
}

/// Creates `path` (it must not exist yet) readable and writable by its owner only, writes
/// `bytes` and syncs them: how secrets and key files are written.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
