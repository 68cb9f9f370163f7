//! HTTP Message Signatures (RFC 9421) for node-to-node requests, with `Content-Digest`
//! (RFC 9530, `sha-256`) for bodies.
//!
//! What a node signs ([`sign`]): `@method`, `@target-uri` and, when the request has a body,
//! `content-digest`; parameters `created`, `keyid` (the node key's JWK thumbprint) and
//! `alg="ed25519"`; label `sig1`. What a node accepts ([`verify`]):
//! - exactly the label `sig1` in `Signature-Input` and `Signature`;
//! - covered components including `@method` and either `@target-uri` or both `@path` and
//!   `@authority`, and `content-digest` whenever the body is not empty; every covered
//!   component present in the request;
//! - `created` present, not older than [`VerifyPolicy::max_age_secs`] nor later than
//!   [`VerifyPolicy::max_skew_secs`] ahead; `expires`, if present, not past;
//! - `alg` present and `ed25519`, and the key found by `keyid` an Ed25519 key;
//! - a `Content-Digest` whose `sha-256` member is the SHA-256 of the body;
//! - and a signature that verifies over the signature base (RFC 9421 §2.5).
//!
//! Invariant: the signature base is built by one function, [`signature_base`], for signing
//! and verifying alike; a component value is never taken from the `Signature-Input` itself.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use elicense_crypto::{Alg, Signer, Verifier};
use sha2::{Digest, Sha256};

/// The label of the signatures this module makes and accepts.
pub const LABEL: &str = "sig1";
/// The RFC 9421 algorithm name for Ed25519.
pub const ALG_ED25519: &str = "ed25519";

/// A request as the signature sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Upper-case method (`POST`).
    pub method: String,
    /// The absolute target URI (`https://hub.example.gov.cn/api/v1/x?y=1`).
    pub target_uri: url::Url,
    /// Header fields, names in any case, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The value of header `name` (case-insensitive): every occurrence, trimmed, joined by
    /// `", "` as RFC 9421 §2.1 says; `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    fn set_header(&mut self, name: &str, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value));
    }
}

/// Why a request's signature is refused; each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpSigError {
    /// No `Signature-Input` / `Signature` for label `sig1`.
    #[error("the request carries no signature labelled sig1")]
    Missing,
    /// A header that does not parse.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A component the policy requires is not covered, or a covered one is absent.
    #[error("component {0} is missing")]
    MissingComponent(String),
    /// `created` is missing, too old or in the future, or `expires` has passed.
    #[error("the signature is stale or from the future ({0})")]
    Stale(String),
    /// `Content-Digest` does not match the body.
    #[error("content-digest does not match the body")]
    DigestMismatch,
    /// `alg` missing or not `ed25519`, or the key is not Ed25519.
    #[error("unsupported signature algorithm {0:?}")]
    BadAlg(String),
    /// No key with this `keyid`.
    #[error("unknown keyid {0:?}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    Invalid,
}

impl HttpSigError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "httpsig.missing",
            Self::Malformed(_) => "httpsig.malformed",
            Self::MissingComponent(_) => "httpsig.missing_component",
            Self::Stale(_) => "httpsig.stale",
            Self::DigestMismatch => "httpsig.digest_mismatch",
            Self::BadAlg(_) => "httpsig.bad_alg",
            Self::UnknownKey(_) => "httpsig.unknown_key",
            Self::Invalid => "httpsig.invalid",
        }
    }
}

/// The signature parameters, serialized in this order: `created`, `expires`, `nonce`,
/// `keyid`, `alg` (absent ones left out).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureParams {
    /// Covered component identifiers, lower case (`@method`, `content-digest`).
    pub components: Vec<String>,
    /// Unix seconds of signing.
    pub created: Option<i64>,
    /// Unix seconds after which the signature is not to be accepted.
    pub expires: Option<i64>,
    /// A nonce.
    pub nonce: Option<String>,
    /// The key's identifier.
    pub keyid: Option<String>,
    /// The algorithm.
    pub alg: Option<String>,
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl SignatureParams {
    /// The structured-field inner list, as in `Signature-Input` and `@signature-params`.
    pub fn serialize(&self) -> String {
        let items: Vec<String> = self.components.iter().map(|c| quote(c)).collect();
        let mut s = format!("({})", items.join(" "));
        if let Some(c) = self.created {
            s.push_str(&format!(";created={c}"));
        }
        if let Some(e) = self.expires {
            s.push_str(&format!(";expires={e}"));
        }
        if let Some(n) = &self.nonce {
            s.push_str(&format!(";nonce={}", quote(n)));
        }
        if let Some(k) = &self.keyid {
            s.push_str(&format!(";keyid={}", quote(k)));
        }
        if let Some(a) = &self.alg {
            s.push_str(&format!(";alg={}", quote(a)));
        }
        s
    }

    /// Parses an inner list with the parameters above (others are refused).
    pub fn parse(s: &str) -> Result<Self, HttpSigError> {
        let bad = || HttpSigError::Malformed("Signature-Input");
        let mut p = Parser(s.trim().as_bytes(), 0);
        p.expect(b'(').ok_or_else(bad)?;
        let mut out = SignatureParams::default();
        loop {
            p.spaces();
            if p.eat(b')') {
                break;
            }
            out.components.push(p.string().ok_or_else(bad)?);
        }
        while p.eat(b';') {
            let key = p.key().ok_or_else(bad)?;
            p.expect(b'=').ok_or_else(bad)?;
            match key.as_str() {
                "created" => out.created = Some(p.integer().ok_or_else(bad)?),
                "expires" => out.expires = Some(p.integer().ok_or_else(bad)?),
                "nonce" => out.nonce = Some(p.string().ok_or_else(bad)?),
                "keyid" => out.keyid = Some(p.string().ok_or_else(bad)?),
                "alg" => out.alg = Some(p.string().ok_or_else(bad)?),
                _ => return Err(bad()),
            }
        }
        if p.1 != p.0.len() {
            return Err(bad());
        }
        Ok(out)
    }
}

/// A tiny reader for the structured-field subset used here (RFC 8941 strings, integers,
/// keys).
struct Parser<'a>(&'a [u8], usize);

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.0.get(self.1).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.1 += 1;
        }
        hit
    }
    fn expect(&mut self, b: u8) -> Option<()> {
        self.eat(b).then_some(())
    }
    fn spaces(&mut self) {
        while self.eat(b' ') {}
    }
    fn string(&mut self) -> Option<String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let b = self.peek()?;
            self.1 += 1;
            match b {
                b'"' => return Some(out),
                b'\\' => {
                    let e = self.peek()?;
                    if e != b'"' && e != b'\\' {
                        return None;
                    }
                    self.1 += 1;
                    out.push(e as char);
                }
                0x20..=0x7e => out.push(b as char),
                _ => return None,
            }
        }
    }
    fn integer(&mut self) -> Option<i64> {
        let start = self.1;
        self.eat(b'-');
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.1 += 1;
        }
        let text = std::str::from_utf8(&self.0[start..self.1]).ok()?;
        if text.is_empty() || text == "-" || text.trim_start_matches('-').len() > 15 {
            return None;
        }
        text.parse().ok()
    }
    fn key(&mut self) -> Option<String> {
        let start = self.1;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b))
        {
            self.1 += 1;
        }
        (self.1 > start).then(|| String::from_utf8_lossy(&self.0[start..self.1]).into_owned())
    }
}

/// The value of one component identifier of `req`; `None` when the request lacks it.
fn component_value(req: &HttpRequest, name: &str) -> Result<Option<String>, HttpSigError> {
    let u = &req.target_uri;
    Ok(match name {
        "@method" => Some(req.method.clone()),
        "@target-uri" => Some(u.as_str().to_owned()),
        "@authority" => {
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        }
        "@scheme" => Some(u.scheme().to_owned()),
        "@path" => Some(if u.path().is_empty() {
            "/".to_owned()
        } else {
            u.path().to_owned()
        }),
        "@query" => Some(format!("?{}", u.query().unwrap_or_default())),
        n if n.starts_with('@') => return Err(HttpSigError::MissingComponent(n.to_owned())),
        n => req.header(n),
    })
}

/// The signature base (RFC 9421 §2.5) of `req` for `params`.
pub fn signature_base(req: &HttpRequest, params: &SignatureParams) -> Result<String, HttpSigError> {
    let mut base = String::new();
    for name in &params.components {
        if name != &name.to_ascii_lowercase() || name.contains(['"', '\n']) {
            return Err(HttpSigError::Malformed("component identifier"));
        }
        let value = component_value(req, name)?
            .ok_or_else(|| HttpSigError::MissingComponent(name.clone()))?;
        if value.contains('\n') {
            return Err(HttpSigError::Malformed("component value"));
        }
        base.push_str(&format!("{}: {value}\n", quote(name)));
    }
    base.push_str(&format!("\"@signature-params\": {}", params.serialize()));
    Ok(base)
}

/// `sha-256=:<base64>:` of `body` (RFC 9530).
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// Signs `req` in place with `key` (an Ed25519 node key) at `now`: sets `Content-Digest`
/// (when there is a body), `Signature-Input` and `Signature`.
pub fn sign(req: &mut HttpRequest, key: &dyn Signer, now: i64) -> Result<(), HttpSigError> {
    if key.alg() != Alg::EdDSA {
        return Err(HttpSigError::BadAlg(key.alg().jws_name().to_owned()));
    }
    let mut components = vec!["@method".to_owned(), "@target-uri".to_owned()];
    if !req.body.is_empty() {
        req.set_header("Content-Digest", content_digest(&req.body));
        components.push("content-digest".to_owned());
    }
    let params = SignatureParams {
        components,
        created: Some(now),
        keyid: Some(key.kid().to_owned()),
        alg: Some(ALG_ED25519.to_owned()),
        ..Default::default()
    };
    let base = signature_base(req, &params)?;
    let sig = key
        .sign(base.as_bytes())
        .map_err(|_| HttpSigError::Invalid)?;
    req.set_header("Signature-Input", format!("{LABEL}={}", params.serialize()));
    req.set_header("Signature", format!("{LABEL}=:{}:", STANDARD.encode(sig)));
    Ok(())
}

/// How fresh a signature must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyPolicy {
    /// Oldest accepted `created`, in seconds before now.
    pub max_age_secs: i64,
    /// Latest accepted `created`, in seconds after now (clock skew).
    pub max_skew_secs: i64,
}

impl Default for VerifyPolicy {
    /// Five minutes old, thirty seconds ahead.
    fn default() -> Self {
        VerifyPolicy {
            max_age_secs: 300,
            max_skew_secs: 30,
        }
    }
}

/// The member `label` of a structured-field dictionary header (`label=value, ...`); values
/// here never contain a comma outside quotes for the shapes we accept.
fn dictionary_member<'a>(header: &'a str, label: &str) -> Option<&'a str> {
    let mut depth_quote = false;
    let mut start = 0;
    let bytes = header.as_bytes();
    let mut members = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => depth_quote = !depth_quote,
            b',' if !depth_quote => {
                members.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    members.push(&header[start..]);
    members
        .into_iter()
        .filter_map(|m| m.trim().split_once('='))
        .find(|(k, _)| *k == label)
        .map(|(_, v)| v)
}

fn byte_sequence(v: &str) -> Option<Vec<u8>> {
    let inner = v.trim().strip_prefix(':')?.strip_suffix(':')?;
    STANDARD.decode(inner).ok()
}

/// Verifies the `sig1` signature of `req` at `now`, the key found by `lookup(keyid)`;
/// returns the `keyid` that signed. See the module documentation for what is checked.
pub fn verify<V: Verifier + ?Sized>(
    req: &HttpRequest,
    now: i64,
    policy: VerifyPolicy,
    lookup: impl Fn(&str) -> Option<Box<V>>,
) -> Result<String, HttpSigError> {
    let input = req.header("signature-input").ok_or(HttpSigError::Missing)?;
    let signature = req.header("signature").ok_or(HttpSigError::Missing)?;
    let input = dictionary_member(&input, LABEL).ok_or(HttpSigError::Missing)?;
    let signature = dictionary_member(&signature, LABEL).ok_or(HttpSigError::Missing)?;
    let signature = byte_sequence(signature).ok_or(HttpSigError::Malformed("Signature"))?;
    let params = SignatureParams::parse(input)?;

    let covers = |c: &str| params.components.iter().any(|x| x == c);
    if !covers("@method") {
        return Err(HttpSigError::MissingComponent("@method".to_owned()));
    }
    let target = covers("@target-uri") || (covers("@path") && covers("@authority"));
    if !target {
        return Err(HttpSigError::MissingComponent(
            "@target-uri (or @path and @authority)".to_owned(),
        ));
    }
    if !req.body.is_empty() || req.header("content-digest").is_some() {
        if !covers("content-digest") {
            return Err(HttpSigError::MissingComponent("content-digest".to_owned()));
        }
        let header = req
            .header("content-digest")
            .ok_or_else(|| HttpSigError::MissingComponent("content-digest".to_owned()))?;
        let given = dictionary_member(&header, "sha-256")
            .and_then(byte_sequence)
            .ok_or(HttpSigError::DigestMismatch)?;
        if given[..] != Sha256::digest(&req.body)[..] {
            return Err(HttpSigError::DigestMismatch);
        }
    }
    let created = params
        .created
        .ok_or_else(|| HttpSigError::Stale("no created".to_owned()))?;
    if created < now - policy.max_age_secs {
        return Err(HttpSigError::Stale(format!("created {created}, now {now}")));
    }
    if created > now + policy.max_skew_secs {
        return Err(HttpSigError::Stale(format!(
            "created {created} is ahead of now {now}"
        )));
    }
    if let Some(expires) = params.expires {
        if expires < now {
            return Err(HttpSigError::Stale(format!("expired at {expires}")));
        }
    }
    match params.alg.as_deref() {
        Some(ALG_ED25519) => {}
        other => return Err(HttpSigError::BadAlg(other.unwrap_or("none").to_owned())),
    }
    let keyid = params
        .keyid
        .clone()
        .ok_or_else(|| HttpSigError::UnknownKey(String::new()))?;
    let key = lookup(&keyid).ok_or_else(|| HttpSigError::UnknownKey(keyid.clone()))?;
    if key.alg() != Alg::EdDSA {
        return Err(HttpSigError::BadAlg(key.alg().jws_name().to_owned()));
    }
    let base = signature_base(req, &params)?;
    key.verify(base.as_bytes(), &signature)
        .map_err(|_| HttpSigError::Invalid)?;
    Ok(keyid)
}
