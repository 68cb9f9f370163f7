//! Public keys of the three algorithms and their verifiers.
//!
//! Invariant: a [`PublicKey`] holds a valid curve point (checked when built from a JWK or
//! SEC1 bytes); verifiers accept only 64-byte JWS signatures, and Ed25519 verification is
//! strict (rejects small-order keys and non-canonical signatures). ES256 and Ed25519
//! verification runs on AWS-LC ([`crate::backend`]); the keys are parsed and encoded here
//! with `p256` and `ed25519-dalek`.

use pkcs8::{EncodePublicKey, LineEnding};

use crate::backend;
use crate::{b64, Alg, CryptoError, Jwk, Verifier};

/// A public key of one of the supported algorithms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PublicKey {
    Sm2(sm2::PublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Es256(p256::PublicKey),
}

fn coordinate(s: &str, what: &str) -> Result<[u8; 32], CryptoError> {
    let bytes =
        b64::decode(s).map_err(|_| CryptoError::MalformedKey(format!("{what}: bad base64url")))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        CryptoError::MalformedKey(format!("{what}: must be 32 bytes, got {}", bytes.len()))
    })
}

fn sec1_uncompressed(jwk: &Jwk) -> Result<Vec<u8>, CryptoError> {
    let x = coordinate(&jwk.x, "x")?;
    let y = coordinate(
        jwk.y
            .as_deref()
            .ok_or_else(|| CryptoError::MalformedKey("EC key without y".into()))?,
        "y",
    )?;
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(4);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    Ok(sec1)
}

fn split_sec1(point: &[u8]) -> (String, Option<String>) {
    // Uncompressed SEC1: 0x04 || x (32) || y (32).
    (
        b64::encode(&point[1..33]),
        Some(b64::encode(&point[33..65])),
    )
}

impl PublicKey {
    pub(crate) fn alg(&self) -> Alg {
        match self {
            PublicKey::Sm2(_) => Alg::Sm2,
            PublicKey::Ed25519(_) => Alg::EdDSA,
            PublicKey::Es256(_) => Alg::Es256,
        }
    }

    /// Reads the key from a JWK's `kty`/`crv`/`x`/`y` members.
    pub(crate) fn from_jwk(jwk: &Jwk) -> Result<Self, CryptoError> {
        let bad = |_| CryptoError::MalformedKey("not a point on the curve".into());
        match (jwk.kty.as_str(), jwk.crv.as_str()) {
            ("EC", "SM2") => Ok(PublicKey::Sm2(
                sm2::PublicKey::from_sec1_bytes(&sec1_uncompressed(jwk)?).map_err(bad)?,
            )),
            ("EC", "P-256") => Ok(PublicKey::Es256(
                p256::PublicKey::from_sec1_bytes(&sec1_uncompressed(jwk)?).map_err(bad)?,
            )),
            ("OKP", "Ed25519") => {
                if jwk.y.is_some() {
                    return Err(CryptoError::MalformedKey("OKP key with y".into()));
                }
                let x = coordinate(&jwk.x, "x")?;
                Ok(PublicKey::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(&x)
                        .map_err(|_| CryptoError::MalformedKey("not an Ed25519 point".into()))?,
                ))
            }
            (kty, crv) => Err(CryptoError::UnsupportedKey(format!(
                "kty {kty:?} crv {crv:?}"
            ))),
        }
    }

    /// The bare JWK (no `kid`, `alg` or `use`).
    pub(crate) fn to_jwk(&self) -> Jwk {
        let (kty, crv, x, y) = match self {
            PublicKey::Sm2(pk) => {
                let point = sm2::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(pk, false);
                let (x, y) = split_sec1(point.as_bytes());
                ("EC", "SM2", x, y)
            }
            PublicKey::Es256(pk) => {
                let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(pk, false);
                let (x, y) = split_sec1(point.as_bytes());
                ("EC", "P-256", x, y)
            }
            PublicKey::Ed25519(vk) => ("OKP", "Ed25519", b64::encode(vk.as_bytes()), None),
        };
        Jwk {
            kty: kty.into(),
            crv: crv.into(),
            x,
            y,
            kid: None,
            alg: None,
            use_: None,
        }
    }

    /// SubjectPublicKeyInfo PEM (`PUBLIC KEY`). SM2 keys use id-ecPublicKey with the
    /// sm2p256v1 curve OID, which OpenSSL 3 reads as an SM2 key.
    pub(crate) fn to_spki_pem(&self) -> Result<String, CryptoError> {
        let r = match self {
            PublicKey::Sm2(pk) => pk.to_public_key_pem(LineEnding::LF),
            PublicKey::Es256(pk) => pk.to_public_key_pem(LineEnding::LF),
            PublicKey::Ed25519(vk) => vk.to_public_key_pem(LineEnding::LF),
        };
        r.map_err(|e| CryptoError::Encoding(e.to_string()))
    }

    /// A verifier for this key; `sm2_signer_id` is the SM2 distinguishing ID.
    pub(crate) fn verifier(&self, sm2_signer_id: &str) -> Result<Box<dyn Verifier>, CryptoError> {
        Ok(match self {
            PublicKey::Sm2(pk) => Box::new(Sm2Verifier::new(pk, sm2_signer_id)?),
            PublicKey::Ed25519(vk) => Box::new(backend::Ed25519Verifier::new(vk)?),
            PublicKey::Es256(pk) => Box::new(backend::Es256Verifier::new(pk)?),
        })
    }
}

/// An SM2 public key in `elicense-sm2` with the signer ID its signatures are checked for.
/// `Z_A` of the default ID is computed once per key; the key's multiplication table is built
/// on its second verification (a key seen once does not pay for it).
struct Sm2Verifier {
    key: elicense_sm2::VerifyingKey,
    id: Vec<u8>,
}

impl Sm2Verifier {
    fn new(pk: &sm2::PublicKey, id: &str) -> Result<Self, CryptoError> {
        if id.len() > elicense_sm2::MAX_ID_LEN {
            return Err(CryptoError::MalformedKey("SM2 signer ID too long".into()));
        }
        let point = sm2::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(pk, false);
        let bytes: &[u8; 65] = point
            .as_bytes()
            .try_into()
            .map_err(|_| CryptoError::MalformedKey("SM2 point".into()))?;
        let key = elicense_sm2::VerifyingKey::from_sec1_uncompressed(bytes)
            .map_err(|_| CryptoError::MalformedKey("not a point on the curve".into()))?;
        Ok(Sm2Verifier {
            key,
            id: id.as_bytes().to_vec(),
        })
    }
}

impl Verifier for Sm2Verifier {
    fn alg(&self) -> Alg {
        Alg::Sm2
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        self.key
            .verify(&self.id, msg, sig)
            .map_err(|_| CryptoError::SignatureInvalid)
    }
}
