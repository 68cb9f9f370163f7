//! The node's seal certification authorities, one per algorithm (SM2 with SM3, and ECDSA
//! P-256 for ES256 seals that ordinary PDF tools validate): made on first use, kept in the
//! store (key encrypted like the issuers' keys), loaded once per process.
//!
//! Each CA certifies, besides the seals' signing keys, the node's seal maker (制章者): the key
//! that signs every `SESeal` the node makes, with a leaf certificate of its own (stored beside
//! the CA under `<alg>-maker`), so the CA's key signs certificates and revocation lists only.
//!
//! Invariant: two processes making a CA (or a maker) at once agree on one: the store keeps the
//! first (`put_seal_ca`), and a process that lost the race loads the winner's key.

use std::sync::Arc;

use elicense_crypto::{Alg, KeyPair};
use elicense_seal::ca::{SealCa, Subject, Validity};
use elicense_store::SealCaRecord;
use time::OffsetDateTime;

use super::{alg_name, internal};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

/// Validity of a seal CA: 2026-01-01 to 2056-01-01.
const CA_VALIDITY: (i64, i64) = (1_767_225_600, 2_713_910_400);

/// A seal CA ready to issue, with the node's seal maker of that algorithm.
pub struct LoadedCa {
    pub alg: Alg,
    pub ca: SealCa<Arc<KeyPair>>,
    /// The seal maker's key (signs the node's `SESeal`s).
    pub maker: Arc<KeyPair>,
    /// The seal maker's certificate (DER), issued by `ca`.
    pub maker_certificate: Vec<u8>,
}

fn ca_error(e: elicense_seal::ca::CaError) -> AppError {
    AppError::new(ErrorKind::Internal, e.code(), e.to_string())
}

/// The seal CA of `alg`, loaded or made on first use.
pub(crate) async fn get(node: &Node, alg: Alg) -> Result<Arc<LoadedCa>> {
    let name = alg_name(alg);
    let mut cas = node.seals.cas.lock().await;
    if let Some(ca) = cas.get(name) {
        return Ok(ca.clone());
    }
    let stored = match node.store.seal_ca(name).await? {
        Some(r) => r,
        None => node.store.put_seal_ca(make(node, alg).await?).await?,
    };
    let key = decrypt(node, &stored).await?;
    let ca = SealCa::from_certificate(key.clone(), &stored.certificate).map_err(ca_error)?;
    let maker_name = format!("{name}-maker");
    let maker = match node.store.seal_ca(&maker_name).await? {
        Some(r) => r,
        None => {
            let m = make_maker(node, alg, &ca, &maker_name).await?;
            node.store.put_seal_ca(m).await?
        }
    };
    let loaded = Arc::new(LoadedCa {
        alg,
        ca,
        maker: decrypt(node, &maker).await?,
        maker_certificate: maker.certificate,
    });
    cas.insert(name, loaded.clone());
    Ok(loaded)
}

async fn decrypt(node: &Node, r: &SealCaRecord) -> Result<Arc<KeyPair>> {
    decrypt_pem(node, &r.encrypted_pem).await
}

/// A key stored encrypted with the node's key password, decrypted off the async threads.
pub(crate) async fn decrypt_pem(node: &Node, pem: &str) -> Result<Arc<KeyPair>> {
    let (pem, password) = (pem.to_owned(), node.config.key_password.clone());
    let key =
        tokio::task::spawn_blocking(move || KeyPair::from_encrypted_pem(&pem, password.as_bytes()))
            .await
            .map_err(internal)?
            .map_err(AppError::crypto)?;
    Ok(Arc::new(key))
}

async fn encrypt(node: &Node, key: &Arc<KeyPair>) -> Result<String> {
    let (key, password) = (key.clone(), node.config.key_password.clone());
    tokio::task::spawn_blocking(move || {
        key.to_encrypted_pem(password.as_bytes(), &mut rand::rngs::OsRng)
    })
    .await
    .map_err(internal)?
    .map_err(AppError::crypto)
}

fn host(node: &Node) -> String {
    node.config
        .base_url
        .split_once("://")
        .map_or(node.config.base_url.as_str(), |(_, r)| r)
        .trim_end_matches('/')
        .to_owned()
}

fn validity() -> Result<Validity> {
    let t = |u| OffsetDateTime::from_unix_timestamp(u).map_err(internal);
    Ok(Validity {
        not_before: t(CA_VALIDITY.0)?,
        not_after: t(CA_VALIDITY.1)?,
    })
}

/// A new certificate serial number: 16 random bytes, positive and without a leading zero
/// byte (RFC 5280 §4.1.2.2).
pub(crate) fn fresh_serial() -> [u8; 16] {
    let mut serial = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut serial);
    serial[0] = (serial[0] & 0x7f) | 0x01;
    serial
}

/// The node's seal maker of `alg`: a new key certified by `ca`, stored as `name`.
async fn make_maker(
    node: &Node,
    alg: Alg,
    ca: &SealCa<Arc<KeyPair>>,
    name: &str,
) -> Result<SealCaRecord> {
    let key = Arc::new(KeyPair::generate(alg, &mut rand::rngs::OsRng));
    let subject = Subject {
        common_name: format!(
            "elicense seal maker ({}) {}",
            alg_name(alg).to_uppercase(),
            host(node)
        ),
        organization: Some("elicense".into()),
        uscc: None,
    };
    let certificate = ca
        .issue(&subject, &key.public_jwk(), validity()?, &fresh_serial())
        .map_err(ca_error)?;
    Ok(SealCaRecord {
        alg: name.to_owned(),
        encrypted_pem: encrypt(node, &key).await?,
        certificate,
        created_at: node.now(),
    })
}

/// A new CA of `alg` for this node, named after it.
async fn make(node: &Node, alg: Alg) -> Result<SealCaRecord> {
    let key = Arc::new(KeyPair::generate(alg, &mut rand::rngs::OsRng));
    // The key's thumbprint makes the name unique: two nodes with one base URL (or a node made
    // again) have CAs that no verifier can mix up (their revocation lists included).
    let thumbprint = key.public_jwk().thumbprint();
    let subject = Subject {
        common_name: format!(
            "elicense seal CA ({}) {} {}",
            alg_name(alg).to_uppercase(),
            host(node),
            &thumbprint[..8]
        ),
        organization: Some("elicense".into()),
        uscc: None,
    };
    let ca =
        SealCa::new(key.clone(), &key.public_jwk(), &subject, validity()?).map_err(ca_error)?;
    Ok(SealCaRecord {
        alg: alg_name(alg).into(),
        encrypted_pem: encrypt(node, &key).await?,
        certificate: ca.certificate().to_vec(),
        created_at: node.now(),
    })
}
