//! Issuer keys certified by an outside certification authority (a licensed 电子认证服务机构):
//! the node makes the key's certificate request, the operator attaches the certificate the
//! CA returns, and every credential the key signs from then on carries the chain in its JWS
//! `x5c` header, so that a verifier that trusts the CA (and knows nothing of our trust list)
//! can tell who signed.
//!
//! Invariants:
//! - A certificate is attached only when it is for the key (same SubjectPublicKeyInfo), its
//!   subject names the key's issuer (its USCC appears in the subject), and it chains now to
//!   an outside CA the operator lists (`seal_trust_anchors`; `seal_crls` applied): else
//!   `key_cert.*` and nothing is stored. A renewal replaces the earlier one.
//! - A credential's `x5c` is checked the same way against the verifier's anchors when the
//!   verifier has any (`issuer.certificate_*` problems); a credential without one is judged by
//!   its key alone, as before.

use std::sync::Arc;

use base64::Engine;
use elicense_crypto::{Alg, Jwk};
use elicense_seal::ca::{
    certificate_info, certificate_request, certifies, pem, validate_chain, Subject,
};
use elicense_store::KeyCertificateRecord;
use serde::Serialize;

use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// An issuer key's outside certificate, as shown to the operator and in verdicts.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CertificateView {
    /// The certificate's subject (RFC 4514).
    pub subject: String,
    /// The certification authority that issued it (its name).
    pub ca: String,
    /// The certificate's serial number (hex).
    pub serial: String,
    /// End of the certificate's validity (unix seconds).
    pub not_after: i64,
}

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message.into())
}

fn view_of(cert: &[u8]) -> Option<CertificateView> {
    let info = certificate_info(cert)?;
    Some(CertificateView {
        subject: info.subject,
        ca: info.issuer,
        serial: info.serial,
        not_after: info.not_after,
    })
}

/// Why a chain does not vouch for a key of an issuer.
#[derive(Debug)]
pub enum ChainFault {
    /// No certificate, or the first does not parse.
    BadChain,
    /// The certificate is for another key.
    WrongKey,
    /// Its subject does not name the issuer.
    WrongSubject,
    /// The path to an anchor fails (`ChainError::code` says how).
    Chain(elicense_seal::ca::ChainError),
}

/// A [`ChainFault`] with what to tell the user.
#[derive(Debug)]
pub struct ChainProblem {
    pub fault: ChainFault,
    pub message: String,
}

/// Checks that `chain` (DER: the key's certificate first) is for `jwk`, names `issuer` (its
/// USCC) in its subject and chains at `now` to one of `anchors` with `crls` applied.
pub fn check_chain(
    chain: &[Vec<u8>],
    jwk: &Jwk,
    issuer: &str,
    anchors: &[Vec<u8>],
    crls: &[Vec<u8>],
    now: i64,
) -> std::result::Result<CertificateView, ChainProblem> {
    let problem = |fault: ChainFault, message: String| ChainProblem { fault, message };
    let Some((leaf, rest)) = chain.split_first() else {
        return Err(problem(ChainFault::BadChain, "no certificate".into()));
    };
    let Some(view) = view_of(leaf) else {
        return Err(problem(
            ChainFault::BadChain,
            "the first certificate does not parse".into(),
        ));
    };
    if !certifies(leaf, jwk) {
        return Err(problem(
            ChainFault::WrongKey,
            format!("the certificate {} is for another key", view.subject),
        ));
    }
    if !view.subject.contains(issuer) {
        return Err(problem(
            ChainFault::WrongSubject,
            format!(
                "the certificate's subject {} does not name {issuer}",
                view.subject
            ),
        ));
    }
    let at = time::OffsetDateTime::from_unix_timestamp(now)
        .map_err(|e| problem(ChainFault::BadChain, e.to_string()))?;
    validate_chain(leaf, rest, anchors, at, crls).map_err(|e| {
        let message = format!("{}: {e}", view.subject);
        problem(ChainFault::Chain(e), message)
    })?;
    Ok(view)
}

/// The public JWK of issuer key `kid` and its issuer (`key.unknown`).
async fn key(node: &Node, kid: &str) -> Result<(elicense_store::KeyRecord, Jwk)> {
    let record = crate::operator::existing_key(node, kid).await?;
    let jwk: Jwk = serde_json::from_str(&record.public_jwk)
        .map_err(|e| AppError::new(ErrorKind::Internal, "store.corrupt", e.to_string()))?;
    Ok((record, jwk))
}

/// A PKCS#10 certificate request (PEM) for issuer key `kid`, signed by it: subject
/// `O=<issuer name>, serialNumber=<USCC>, CN=<issuer name> 电子证照签发`. `key.unknown`;
/// `key_cert.unsupported` for an Ed25519 key (outside CAs certify SM2 and P-256 keys).
pub async fn request(node: &Arc<Node>, kid: &str) -> Result<String> {
    let (record, _) = key(node, kid).await?;
    let alg: Alg = record
        .alg
        .parse()
        .map_err(|_| AppError::internal(format!("stored alg {}", record.alg)))?;
    if alg == Alg::EdDSA {
        return Err(invalid(
            "key_cert.unsupported",
            format!("{kid} is an Ed25519 key: outside CAs certify SM2 and ES256 keys"),
        ));
    }
    let name = node
        .store
        .issuer(&record.issuer)
        .await?
        .map_or_else(|| record.issuer.clone(), |i| i.name);
    let pair = crate::seals::ca::decrypt_pem(node, &record.encrypted_pem).await?;
    let subject = Subject {
        common_name: format!("{name} 电子证照签发"),
        organization: Some(name),
        uscc: Some(record.issuer.clone()),
    };
    let der = certificate_request(pair.as_ref(), &pair.public_jwk(), &subject)
        .map_err(|e| AppError::new(ErrorKind::Invalid, e.code(), e.to_string()))?;
    Ok(pem("CERTIFICATE REQUEST", &der))
}

/// The DER certificates of a PEM text, in order (`key_cert.bad_chain` when there is none or
/// one does not decode).
fn certificates_of_pem(text: &str) -> Result<Vec<Vec<u8>>> {
    let out = crate::config::pem_blocks(text.as_bytes(), "CERTIFICATE", true)
        .map_err(|e| invalid("key_cert.bad_chain", e))?;
    if out.is_empty() {
        return Err(invalid(
            "key_cert.bad_chain",
            "no PEM certificate in the chain",
        ));
    }
    Ok(out)
}

/// Attaches the certificate chain `chain_pem` (the key's certificate first, then any
/// intermediate CAs) that an outside CA issued for issuer key `kid`, after the checks of
/// [`check_chain`] against the operator's outside CAs (`key_cert.bad_chain`,
/// `key_cert.wrong_key`, `key_cert.wrong_subject`, `key_cert.untrusted`, `key_cert.expired`,
/// `key_cert.revoked`, …); `key.unknown`.
pub async fn attach(
    node: &Arc<Node>,
    actor: &str,
    kid: &str,
    chain_pem: &str,
) -> Result<CertificateView> {
    let (record, jwk) = key(node, kid).await?;
    let chain = certificates_of_pem(chain_pem)?;
    let now = node.now();
    let view = check_chain(
        &chain,
        &jwk,
        &record.issuer,
        &node.config.seal_trust_anchors,
        &node.config.seal_crls,
        now,
    )
    .map_err(|p| {
        use elicense_seal::ca::ChainError;
        let code = match p.fault {
            ChainFault::BadChain => "key_cert.bad_chain",
            ChainFault::WrongKey => "key_cert.wrong_key",
            ChainFault::WrongSubject => "key_cert.wrong_subject",
            ChainFault::Chain(ChainError::Untrusted(_)) => "key_cert.untrusted",
            ChainFault::Chain(ChainError::Expired(_)) => "key_cert.expired",
            ChainFault::Chain(ChainError::Revoked(_)) => "key_cert.revoked",
            ChainFault::Chain(_) => "key_cert.invalid_chain",
        };
        invalid(code, p.message)
    })?;
    node.store
        .put_key_certificate(KeyCertificateRecord {
            kid: record.kid.clone(),
            chain,
            subject: view.subject.clone(),
            issuer: view.ca.clone(),
            serial: view.serial.clone(),
            not_after: view.not_after,
            attached_at: now,
            attached_by: actor.to_owned(),
        })
        .await?;
    node.seals.x5c.clear();
    Ok(view)
}

/// The `x5c` header value (base64 DER, the key's certificate first) for what issuer key
/// `kid` signs, when an outside certificate is attached to it; read from the store at most
/// once per [`crate::cache::TTL`] per key.
pub async fn x5c(node: &Node, kid: &str) -> Result<Option<Arc<Vec<String>>>> {
    if let Some(cached) = node.seals.x5c.get(&kid.to_owned()) {
        return Ok(cached);
    }
    let chain = node.store.key_certificate(kid).await?.map(|c| {
        Arc::new(
            c.chain
                .iter()
                .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
                .collect::<Vec<_>>(),
        )
    });
    node.seals.x5c.put(kid.to_owned(), chain.clone());
    Ok(chain)
}

/// The DER certificates of an `x5c` header value (`None` when it is not an array of base64
/// strings).
pub fn chain_of_x5c(x5c: &serde_json::Value) -> Option<Vec<Vec<u8>>> {
    x5c.as_array()?
        .iter()
        .map(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c.as_str()?)
                .ok()
        })
        .collect()
}
