//! OpenID for Verifiable Presentations 1.0 (with the HAIP profile's choices): what the
//! node's verifier (`institutions::presentations`) and the node's wallet
//! (`wallet::openid4vp`) share: the verifier's identity, the DCQL query of a matter, the
//! per-request response key, and the request object's format.
//!
//! - **Identity.** The node is one verifier for every institution it serves: an ES256 key of
//!   its own (`verifier-key.pem` in the data dir, encrypted like the other node keys) and a
//!   self-signed certificate of that key (`verifier-cert.der`). Its client identifier uses
//!   the `x509_hash` prefix: `x509_hash:` + base64url(SHA-256(certificate DER)). Request
//!   objects carry the certificate in `x5c`, so a wallet checks the hash and the signature
//!   without any registry; which verifiers a wallet trusts is the wallet's policy (the node's
//!   own wallet trusts its own node).
//! - **Request.** A signed request object (JAR, `typ` `oauth-authz-req+jwt`) fetched by
//!   reference (`request_uri`), with `response_type` `vp_token`, a DCQL query asking for one
//!   SD-JWT VC (`dc+sd-jwt`) of the matter's license type and exactly the matter's fields,
//!   a fresh `nonce` and `state`, and `response_mode` `direct_post.jwt` (the default: the
//!   response is encrypted to a key of this request only, ECDH-ES on P-256 with A128GCM or
//!   A256GCM) or `direct_post`.
//! - **Response key.** The private key of a request's encryption key is never stored: it is
//!   derived from the node's secret and the request id (HMAC-SHA256), so it is fresh per
//!   request and gone with the secret.
//!
//! Invariants: the client identifier is a pure function of the verifier key's certificate;
//! the DCQL query asks for exactly the matter's fields, in catalogue order, so what a
//! wallet may disclose and what the verifier accepts are the same list.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use elicense_crypto::jwe::EcdhEsKey;
use elicense_crypto::{x509, Alg, KeyPair};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::config::NodeConfig;
use crate::error::{AppError, ErrorKind, Result};
use crate::institutions::Matter;
use crate::node::Node;

/// The verifier key's file in a data dir.
pub const VERIFIER_KEY_FILE: &str = "verifier-key.pem";
/// The verifier certificate's file in a data dir (DER).
pub const VERIFIER_CERT_FILE: &str = "verifier-cert.der";
/// The `aud` of a request object fetched by reference (OpenID4VP 1.0 §5.8, static
/// discovery).
pub const SELF_ISSUED_AUD: &str = "https://self-issued.me/v2";
/// The `typ` of a request object (RFC 9101).
pub const REQUEST_TYP: &str = "oauth-authz-req+jwt";
/// The DCQL credential query id of the license asked for.
pub const QUERY_ID: &str = "license";
/// The credential format of SD-JWT VCs in OpenID4VP 1.0.
pub const FORMAT: &str = "dc+sd-jwt";
/// The response modes a request may use.
pub const RESPONSE_MODES: [&str; 2] = ["direct_post.jwt", "direct_post"];
/// The content encryptions a `direct_post.jwt` response may use.
pub const ENC_VALUES: [&str; 2] = ["A128GCM", "A256GCM"];
/// First and last moment of the verifier certificate (2026-01-01, 2046-01-01): fixed, so
/// the certificate of a key is always the same.
const CERT_VALIDITY: (i64, i64) = (1_767_225_600, 2_398_377_600);

fn key_error(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::Internal, "openid4vp.key", e.to_string())
}

/// The node's verifier identity.
pub struct VerifierIdentity {
    /// Signs request objects (ES256).
    pub key: KeyPair,
    /// The self-signed certificate of `key`, DER.
    pub certificate: Vec<u8>,
    /// `x509_hash:<base64url SHA-256 of certificate>`.
    pub client_id: String,
}

/// The verifier identity of a node, loaded (or created) on first use.
pub struct VerifierKeys {
    dir: Option<PathBuf>,
    name: String,
    password: Zeroizing<String>,
    loaded: OnceLock<std::result::Result<Arc<VerifierIdentity>, AppError>>,
}

impl VerifierKeys {
    /// The identity of a node with this configuration.
    pub fn new(config: &NodeConfig) -> Self {
        let name = config
            .base_url
            .split_once("://")
            .map_or(config.base_url.as_str(), |(_, r)| r)
            .trim_end_matches('/')
            .to_string();
        VerifierKeys {
            dir: config.data_dir.clone(),
            name,
            password: config.key_password.clone(),
            loaded: OnceLock::new(),
        }
    }

    /// The identity, loaded or created on first use.
    pub fn get(&self) -> Result<Arc<VerifierIdentity>> {
        self.loaded.get_or_init(|| self.load()).clone()
    }

    fn load(&self) -> Result<Arc<VerifierIdentity>> {
        let file = |name| self.dir.as_ref().map(|d| d.join(name));
        let key = crate::federation::keys::load_or_create_key(
            file(VERIFIER_KEY_FILE).as_deref(),
            Alg::Es256,
            &self.password,
        )?;
        let make = || {
            x509::self_signed(
                &key,
                &key.public_jwk(),
                &self.name,
                "elicense verifier",
                CERT_VALIDITY.0,
                CERT_VALIDITY.1,
            )
            .map_err(key_error)
        };
        // Kept once made: an ECDSA implementation with random nonces would otherwise give
        // another certificate, and so another client identifier, at every start.
        let certificate = match file(VERIFIER_CERT_FILE) {
            None => make()?,
            Some(path) => match std::fs::read(&path) {
                Ok(der) => {
                    let of_key = x509::leaf_key(&der)
                        .map(|k| k.thumbprint() == key.public_jwk().thumbprint())
                        .unwrap_or(false);
                    if !of_key {
                        return Err(key_error(format!(
                            "{} is not a certificate of {VERIFIER_KEY_FILE}",
                            path.display()
                        )));
                    }
                    der
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let der = make()?;
                    crate::config::write_private_file(&path, &der)
                        .map_err(|e| key_error(format!("{}: {e}", path.display())))?;
                    der
                }
                Err(e) => return Err(key_error(format!("{}: {e}", path.display()))),
            },
        };
        Ok(Arc::new(VerifierIdentity {
            client_id: format!("x509_hash:{}", x509::hash(&certificate)),
            key,
            certificate,
        }))
    }
}

/// The encryption key of request `id`'s response: derived from the node's secret, never
/// stored.
pub fn response_key(node: &Node, id: &str) -> EcdhEsKey {
    let mut counter = 0u8;
    loop {
        let mut mac = Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
            .expect("HMAC takes any key length");
        mac.update(b"elicense openid4vp response key\0");
        mac.update(id.as_bytes());
        mac.update(&[counter]);
        let bytes: [u8; 32] = mac.finalize().into_bytes().into();
        // A value outside the group order (probability about 2^-32) takes the next counter.
        if let Some(k) = EcdhEsKey::from_scalar(&bytes) {
            return k;
        }
        counter += 1;
    }
}

/// The DCQL query of a matter: for each of its parts (one, or several for a joint matter) one
/// SD-JWT VC of the part's type with exactly the part's fields.
pub fn dcql_query(parts: &[Matter]) -> Value {
    let credentials: Vec<Value> = parts
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let claims: Vec<Value> = m
                .need
                .fields
                .iter()
                .map(|f| json!({ "path": [f] }))
                .collect();
            json!({
                "id": query_id(parts, i),
                "format": FORMAT,
                "meta": { "vct_values": [Node::vct(m.license_type.code.as_str())] },
                "claims": claims,
            })
        })
        .collect();
    // Without `credential_sets` every credential query is required (DCQL): a joint matter
    // is answered with one license of each of its types, or not at all.
    json!({ "credentials": credentials })
}

/// The DCQL credential query id of part `i` of a matter: [`QUERY_ID`] when the matter has
/// one part, the license type's code for each part of a joint matter.
pub fn query_id(parts: &[Matter], i: usize) -> String {
    if parts.len() == 1 {
        QUERY_ID.to_owned()
    } else {
        parts[i].license_type.code.to_string()
    }
}

/// The `openid4vp://` link a QR code carries (by reference).
pub fn qr_link(client_id: &str, request_uri: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "openid4vp://?client_id={}&request_uri={}",
        enc(client_id),
        enc(request_uri)
    )
}

/// The `request_uri` and `client_id` an `openid4vp://` link (or its query alone) carries.
pub fn link_params(link: &str) -> (Option<String>, Option<String>) {
    let link = link.trim();
    let query = link.split_once('?').map_or(link, |(_, q)| q);
    let (mut request_uri, mut client_id) = (None, None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "request_uri" => request_uri = Some(v.into_owned()),
            "client_id" => client_id = Some(v.into_owned()),
            _ => {}
        }
    }
    (request_uri, client_id)
}

/// Where a wallet fetches request `id`'s object.
pub fn request_uri(node: &Node, id: &str) -> String {
    format!("{}/oid4vp/requests/{id}", node.config.base_url)
}

/// Where a wallet posts the response to request `id`.
pub fn response_uri(node: &Node, id: &str) -> String {
    format!("{}/oid4vp/responses/{id}", node.config.base_url)
}
