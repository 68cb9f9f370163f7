//! The seams between signing code and key material.
//!
//! Invariant: a [`Signer`] returns signatures in JWS form (64 bytes: r‖s for SM2 and
//! ES256, R‖S for Ed25519); a [`Verifier`] accepts exactly that form and nothing else
//! (no DER, no other lengths). The traits need nothing but `sign`/`verify`, so a remote
//! service or an HSM can stand behind them.

use crate::{Alg, CryptoError};

/// Something that can sign with a private key it holds (locally, remotely or in an HSM).
pub trait Signer: Send + Sync {
    /// The algorithm of the key.
    fn alg(&self) -> Alg;
    /// The key identifier put in JWS headers (for local keys, the RFC 7638 thumbprint).
    fn kid(&self) -> &str;
    /// Signs `msg`, returning the JWS signature bytes.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

/// A public key that checks JWS signatures.
pub trait Verifier: Send + Sync {
    /// The algorithm of the key.
    fn alg(&self) -> Alg;
    /// Checks `sig` (JWS form) over `msg`; `Err(CryptoError::SignatureInvalid)` when it
    /// does not verify.
    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError>;
}

impl<T: Signer + ?Sized> Signer for &T {
    fn alg(&self) -> Alg {
        (**self).alg()
    }
    fn kid(&self) -> &str {
        (**self).kid()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        (**self).sign(msg)
    }
}

impl<T: Signer + ?Sized> Signer for std::sync::Arc<T> {
    fn alg(&self) -> Alg {
        (**self).alg()
    }
    fn kid(&self) -> &str {
        (**self).kid()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        (**self).sign(msg)
    }
}

impl<T: Verifier + ?Sized> Verifier for Box<T> {
    fn alg(&self) -> Alg {
        (**self).alg()
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        (**self).verify(msg, sig)
    }
}
