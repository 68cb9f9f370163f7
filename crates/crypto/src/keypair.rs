//! Local private keys of any supported algorithm.
//!
//! Invariants: a [`KeyPair`] always holds a valid private key and its matching public key;
//! its `kid` is the RFC 7638 thumbprint of the public JWK; the private key never shows in
//! `Debug` output and is zeroized when the key pair is dropped (the SM2 key by `elicense-sm2`;
//! the AWS-LC copies of ES256 and Ed25519 keys are cleansed by AWS-LC when freed, see
//! [`crate::backend`]). SM2 signs with `elicense-sm2` (the RustCrypto `sm2` crate only reads
//! and writes the key's PKCS#8 and SPKI forms).

use std::fmt;

use pkcs8::{EncodePrivateKey, SecretDocument};
use zeroize::Zeroizing;

use crate::backend::{Ed25519Secret, Es256Secret};
use crate::keyfile;
use crate::pubkey::PublicKey;
use crate::{Alg, CryptoError, Jwk, Signer, Verifier, SM2_DEFAULT_SIGNER_ID};

/// A private key held in this process. Implements [`Signer`] with `kid` = JWK thumbprint.
pub struct KeyPair {
    secret: Secret,
    public: PublicKey,
    kid: String,
    sm2_signer_id: String,
}

enum Secret {
    Sm2(Sm2Secret),
    Ed25519(Ed25519Secret),
    Es256(Es256Secret),
}

/// An SM2 private key in `elicense-sm2` (zeroized on drop), with its signer prepared for the
/// key pair's signer ID (`Z_A` computed once).
struct Sm2Secret {
    key: elicense_sm2::SigningKey,
    signer: elicense_sm2::PreparedSigner,
}

impl Sm2Secret {
    fn new(sk: &sm2::SecretKey, id: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(<[u8; 32]>::from(sk.to_bytes()));
        let bad = |_| CryptoError::MalformedKey("invalid SM2 key or signer ID".into());
        let key = elicense_sm2::SigningKey::from_bytes(&bytes).map_err(bad)?;
        let signer = key.with_id(id.as_bytes()).map_err(bad)?;
        Ok(Sm2Secret { key, signer })
    }
}

impl KeyPair {
    /// Generates a fresh key.
    pub fn generate(alg: Alg, rng: &mut impl rand_core::CryptoRngCore) -> Self {
        match alg {
            Alg::Sm2 => {
                let sk = sm2::SecretKey::random(rng);
                Self::from_sm2(&sk, SM2_DEFAULT_SIGNER_ID).expect("a random SM2 key is valid")
            }
            Alg::EdDSA => Self::from_secret(Secret::Ed25519(
                Ed25519Secret::new(ed25519_dalek::SigningKey::generate(rng))
                    .expect("a random Ed25519 key is valid"),
            )),
            Alg::Es256 => Self::from_secret(Secret::Es256(
                Es256Secret::new(p256::ecdsa::SigningKey::random(rng))
                    .expect("a random P-256 key is valid"),
            )),
        }
    }

    fn from_sm2(sk: &sm2::SecretKey, id: &str) -> Result<Self, CryptoError> {
        let mut kp = Self::from_secret(Secret::Sm2(Sm2Secret::new(sk, id)?));
        kp.sm2_signer_id = id.to_owned();
        Ok(kp)
    }

    fn from_secret(secret: Secret) -> Self {
        let public = match &secret {
            Secret::Sm2(k) => PublicKey::Sm2(
                sm2::PublicKey::from_sec1_bytes(&k.key.verifying_key().to_sec1_uncompressed())
                    .expect("a signing key's public point is valid"),
            ),
            Secret::Ed25519(k) => PublicKey::Ed25519(k.key.verifying_key()),
            Secret::Es256(k) => PublicKey::Es256(k.key.verifying_key().into()),
        };
        let kid = public.to_jwk().thumbprint();
        KeyPair {
            secret,
            public,
            kid,
            sm2_signer_id: SM2_DEFAULT_SIGNER_ID.to_owned(),
        }
    }

    /// Sets the SM2 distinguishing ID used when signing (no effect on other algorithms;
    /// the `kid` does not change). IDs longer than 8191 bytes are not representable and
    /// leave the key unchanged.
    pub fn with_sm2_signer_id(mut self, id: &str) -> Self {
        if let Secret::Sm2(k) = &mut self.secret {
            if let Ok(signer) = k.key.with_id(id.as_bytes()) {
                k.signer = signer;
                self.sm2_signer_id = id.to_owned();
            }
        }
        self
    }

    /// The SM2 distinguishing ID used when signing.
    pub fn sm2_signer_id(&self) -> &str {
        &self.sm2_signer_id
    }

    /// The public key as a JWK with `kid`, `alg` and `use` set.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = self.public.to_jwk();
        jwk.kid = Some(self.kid.clone());
        jwk.alg = Some(self.alg().jws_name().to_owned());
        jwk.use_ = Some("sig".to_owned());
        jwk
    }

    /// A verifier for this key's signatures (SM2: with this key's signer ID).
    pub fn verifier(&self) -> Box<dyn Verifier> {
        self.public
            .verifier(&self.sm2_signer_id)
            .expect("the signer ID was accepted when the key was built")
    }

    /// SubjectPublicKeyInfo PEM (`PUBLIC KEY`), e.g. for OpenSSL.
    pub fn public_spki_pem(&self) -> String {
        self.public
            .to_spki_pem()
            .expect("SPKI encoding of a valid public key cannot fail")
    }

    /// Unencrypted PKCS#8 DER of the private key (zeroized when dropped).
    fn to_pkcs8_der(&self) -> Result<SecretDocument, CryptoError> {
        let r = match &self.secret {
            Secret::Sm2(k) => {
                let bytes = k.key.to_bytes();
                sm2::SecretKey::from_bytes(bytes.as_slice().into())
                    .map_err(|_| CryptoError::Encoding("SM2 scalar".into()))?
                    .to_pkcs8_der()
            }
            // PKCS#8 v1 (no embedded public key): OpenSSL 3.0 refuses the v2 form.
            Secret::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: k.key.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_der(),
            Secret::Es256(k) => k.key.to_pkcs8_der(),
        };
        r.map_err(|e| CryptoError::Encoding(e.to_string()))
    }

    /// PKCS#8 `EncryptedPrivateKeyInfo` PEM (`ENCRYPTED PRIVATE KEY`), PBES2 with
    /// PBKDF2-HMAC-SHA256 and AES-256-CBC; see [`keyfile`] for the parameters.
    pub fn to_encrypted_pem(
        &self,
        password: &[u8],
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Result<String, CryptoError> {
        let der = self.to_pkcs8_der()?;
        keyfile::encrypt(der.as_bytes(), password, rng)
    }

    /// Reads a key written by [`KeyPair::to_encrypted_pem`] (or by OpenSSL with PBES2).
    /// The algorithm is taken from the key. A wrong password gives `key.bad_password`.
    pub fn from_encrypted_pem(pem: &str, password: &[u8]) -> Result<Self, CryptoError> {
        let der = keyfile::decrypt(pem, password)?;
        Self::from_pkcs8_der(der.as_bytes()).map_err(|e| match e {
            // Garbage that survived CBC padding checks: still a wrong password.
            CryptoError::MalformedKey(_) => CryptoError::BadPassword,
            e => e,
        })
    }

    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` (v1 or v2) DER: Ed25519, P-256, or
    /// SM2 (as id-ecPublicKey with the sm2p256v1 curve, or with the SM2 OID itself).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        match keyfile::classify(der)? {
            keyfile::KeyKind::Ed25519 => {
                use pkcs8::DecodePrivateKey;
                let k = ed25519_dalek::SigningKey::from_pkcs8_der(der)
                    .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
                Ok(Self::from_secret(Secret::Ed25519(Ed25519Secret::new(k)?)))
            }
            keyfile::KeyKind::P256 => {
                use pkcs8::DecodePrivateKey;
                let k = p256::ecdsa::SigningKey::from_pkcs8_der(der)
                    .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
                Ok(Self::from_secret(Secret::Es256(Es256Secret::new(k)?)))
            }
            keyfile::KeyKind::Sm2(sk) => Self::from_sm2(&sk, SM2_DEFAULT_SIGNER_ID),
        }
    }
}

impl Signer for KeyPair {
    fn alg(&self) -> Alg {
        self.public.alg()
    }

    fn kid(&self) -> &str {
        &self.kid
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(match &self.secret {
            // The nonce comes from the operating system's generator.
            Secret::Sm2(k) => k.signer.sign(msg, &mut rand::rngs::OsRng).to_vec(),
            Secret::Ed25519(k) => k.sign(msg)?,
            Secret::Es256(k) => k.sign(msg)?,
        })
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("alg", &self.alg())
            .field("kid", &self.kid)
            .field("private_key", &"<redacted>")
            .finish()
    }
}
