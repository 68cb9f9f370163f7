//! The `[oidc]` section of `DIR/elicense.toml` and the `ELICENSE_OIDC_*` variables: which
//! OpenID Connect provider the wallet signs holders in with.
//!
//! Invariants: a node has a provider only when an issuer is configured, and then also a
//! client id and a client secret read from a file (never from the toml or the environment
//! itself) that no one but the node's user may read; the issuer is an `https` URL (plain
//! `http` only on a loopback host, for tests) without query, fragment or credentials; the
//! scopes include `openid`; claim names are not empty. Anything else is `config.invalid`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::{AppError, ErrorKind, Result};

/// Default scopes asked for.
pub const DEFAULT_SCOPES: &str = "openid profile";
/// Default claim carrying the verified resident ID (GB 11643).
pub const DEFAULT_RESIDENT_ID_CLAIM: &str = "resident_id";
/// Default claim carrying the person's name.
pub const DEFAULT_NAME_CLAIM: &str = "name";

/// The `[oidc]` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OidcFile {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret_file: Option<String>,
    scopes: Option<Vec<String>>,
    resident_id_claim: Option<String>,
    name_claim: Option<String>,
    provider_name: Option<String>,
}

/// A configured provider.
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer identifier, exactly as the provider's ID tokens name it in `iss`.
    pub issuer: String,
    /// This node's client id at the provider.
    pub client_id: String,
    /// The client secret (client_secret_basic).
    pub client_secret: Zeroizing<String>,
    /// Scopes asked for (`openid` among them).
    pub scopes: Vec<String>,
    /// The ID-token claim with the person's verified resident ID.
    pub resident_id_claim: String,
    /// The ID-token claim with the person's name.
    pub name_claim: String,
    /// The provider's name on the sign-in page (default: the issuer's host).
    pub provider_name: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("resident_id_claim", &self.resident_id_claim)
            .field("name_claim", &self.name_claim)
            .field("provider_name", &self.provider_name)
            .finish_non_exhaustive()
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, "config.invalid", message)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl OidcSettings {
    /// From the file's section and the environment (which wins); `None` without an issuer.
    pub(crate) fn load(dir: &Path, file: Option<OidcFile>) -> Result<Option<OidcSettings>> {
        let file = file.unwrap_or_default();
        let issuer = env("ELICENSE_OIDC_ISSUER").or(file.issuer);
        let client_id = env("ELICENSE_OIDC_CLIENT_ID").or(file.client_id);
        let secret_file = env("ELICENSE_OIDC_CLIENT_SECRET_FILE").or(file.client_secret_file);
        let scopes = match env("ELICENSE_OIDC_SCOPES") {
            Some(v) => Some(
                v.split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            None => file.scopes,
        };
        let resident_id_claim = env("ELICENSE_OIDC_RESIDENT_ID_CLAIM").or(file.resident_id_claim);
        let name_claim = env("ELICENSE_OIDC_NAME_CLAIM").or(file.name_claim);
        let provider_name = env("ELICENSE_OIDC_PROVIDER_NAME").or(file.provider_name);
        let Some(issuer) = issuer else {
            if client_id.is_some() || secret_file.is_some() {
                return Err(invalid(
                    "[oidc] names a client but no issuer (ELICENSE_OIDC_ISSUER)",
                ));
            }
            return Ok(None);
        };
        let host = check_issuer(&issuer)?;
        let client_id = client_id
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| invalid("[oidc] client_id (ELICENSE_OIDC_CLIENT_ID) is missing"))?;
        let secret_file = secret_file.map(PathBuf::from).ok_or_else(|| {
            invalid("[oidc] client_secret_file (ELICENSE_OIDC_CLIENT_SECRET_FILE) is missing")
        })?;
        let secret_file = if secret_file.is_relative() {
            dir.join(secret_file)
        } else {
            secret_file
        };
        let scopes: Vec<String> =
            scopes.unwrap_or_else(|| DEFAULT_SCOPES.split(' ').map(str::to_owned).collect());
        if !scopes.iter().any(|s| s == "openid") {
            return Err(invalid("[oidc] scopes must include openid"));
        }
        if let Some(bad) = scopes
            .iter()
            .find(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '"'))
        {
            return Err(invalid(format!(
                "[oidc] scope {bad:?} is not a scope token"
            )));
        }
        let claim = |v: Option<String>, default: &str, key: &str| -> Result<String> {
            let v = v.unwrap_or_else(|| default.to_owned());
            if v.trim().is_empty() {
                return Err(invalid(format!("[oidc] {key} is empty")));
            }
            Ok(v)
        };
        Ok(Some(OidcSettings {
            issuer,
            client_id,
            client_secret: read_secret(&secret_file)?,
            scopes,
            resident_id_claim: claim(
                resident_id_claim,
                DEFAULT_RESIDENT_ID_CLAIM,
                "resident_id_claim",
            )?,
            name_claim: claim(name_claim, DEFAULT_NAME_CLAIM, "name_claim")?,
            provider_name: provider_name.unwrap_or(host),
        }))
    }
}

/// Checks an issuer URL (see the module header); returns its host.
pub fn check_issuer(issuer: &str) -> Result<String> {
    let bad = |why: &str| invalid(format!("[oidc] issuer {issuer:?}: {why}"));
    let u = url::Url::parse(issuer).map_err(|e| bad(&e.to_string()))?;
    let host = u.host_str().ok_or_else(|| bad("no host"))?.to_owned();
    let loopback = match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(bad("must be an https URL")),
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad("must have no query or fragment"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("must carry no credentials"));
    }
    Ok(host)
}

/// Reads the client secret: the file must exist, hold a secret, and be private to its owner.
fn read_secret(path: &Path) -> Result<Zeroizing<String>> {
    let fail = |why: String| {
        invalid(format!(
            "[oidc] client secret file {}: {why}",
            path.display()
        ))
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "mode {mode:o} lets others read it; make it 0600"
            )));
        }
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?);
    if text.trim().is_empty() {
        return Err(fail("it is empty".into()));
    }
    Ok(Zeroizing::new(text.trim().to_owned()))
}
