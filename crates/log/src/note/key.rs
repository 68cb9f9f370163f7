//! Note keys: public keys with their type prefix, verifier key strings
//! `<name>+<hex key ID>+<base64(type || key)>`, and signers.
//!
//! SM2 is not assigned a type byte by c2sp.org/signed-note. We use the byte the spec
//! reserves for types without an assigned byte, `0xff`, followed (as it recommends) by a
//! longer identifier: [`SM2_KEY_TYPE`] = `0xff || "elicense/sm2-sm3"`. This is private
//! use: only elicense verifiers understand it; others ignore such signatures as signed by
//! an unknown key. The SM2 public key is the 65-byte uncompressed SEC1 point
//! (`0x04 || x || y`), the signature is SM2 over SM3 with the default signer ID
//! `1234567812345678`, as 64 bytes `r || s`.

use std::fmt;

use elicense_crypto::{b64 as b64url, Alg, Jwk, KeyPair, Signer, Verifier, SM2_DEFAULT_SIGNER_ID};
use sha2::{Digest, Sha256};

use super::{b64_decode, b64_encode, check_name, NoteError, NoteSignature};

/// Type byte of Ed25519 note keys (c2sp.org/signed-note).
pub const ED25519_KEY_TYPE: &[u8] = &[0x01];
/// Type prefix of SM2 note keys: `0xff` (reserved by c2sp.org/signed-note for types
/// without an assigned byte) followed by an identifier. Private use.
pub const SM2_KEY_TYPE: &[u8] = b"\xffelicense/sm2-sm3";

/// A note public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotePublicKey {
    /// A 32-byte Ed25519 public key (RFC 8032).
    Ed25519([u8; 32]),
    /// An uncompressed SEC1 SM2 point, `0x04 || x || y`.
    Sm2([u8; 65]),
}

impl NotePublicKey {
    /// Type prefix followed by the key: the bytes the key ID is computed over.
    pub fn encode(&self) -> Vec<u8> {
        let (prefix, key): (&[u8], &[u8]) = match self {
            NotePublicKey::Ed25519(k) => (ED25519_KEY_TYPE, k),
            NotePublicKey::Sm2(k) => (SM2_KEY_TYPE, k),
        };
        [prefix, key].concat()
    }

    /// Reads [`NotePublicKey::encode`]'s output; the key must be a valid point.
    pub fn decode(bytes: &[u8]) -> Result<Self, NoteError> {
        let bad = |what: &str| NoteError::BadKey(what.to_owned());
        let key = if let Some(k) = bytes.strip_prefix(ED25519_KEY_TYPE) {
            NotePublicKey::Ed25519(
                k.try_into()
                    .map_err(|_| bad("Ed25519 key is not 32 bytes"))?,
            )
        } else if let Some(k) = bytes.strip_prefix(SM2_KEY_TYPE) {
            NotePublicKey::Sm2(k.try_into().map_err(|_| bad("SM2 key is not 65 bytes"))?)
        } else {
            return Err(NoteError::UnsupportedKeyType);
        };
        key.verifier()?;
        Ok(key)
    }

    /// The public key of a JWK (`OKP`/`Ed25519` or `EC`/`SM2`).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, NoteError> {
        let coord = |s: &str| b64url::decode(s).map_err(|e| NoteError::BadKey(e.to_string()));
        let key =
            match (jwk.kty.as_str(), jwk.crv.as_str(), jwk.y.as_deref()) {
                ("OKP", "Ed25519", None) => NotePublicKey::Ed25519(
                    coord(&jwk.x)?
                        .try_into()
                        .map_err(|_| NoteError::BadKey("Ed25519 x is not 32 bytes".into()))?,
                ),
                ("EC", "SM2", Some(y)) => {
                    let point = [&[0x04][..], &coord(&jwk.x)?, &coord(y)?].concat();
                    NotePublicKey::Sm2(point.try_into().map_err(|_| {
                        NoteError::BadKey("SM2 coordinates are not 32 bytes".into())
                    })?)
                }
                _ => return Err(NoteError::UnsupportedKeyType),
            };
        key.verifier()?;
        Ok(key)
    }

    fn to_jwk(&self) -> Jwk {
        let (kty, crv, x, y) = match self {
            NotePublicKey::Ed25519(k) => ("OKP", "Ed25519", b64url::encode(k), None),
            NotePublicKey::Sm2(p) => (
                "EC",
                "SM2",
                b64url::encode(&p[1..33]),
                Some(b64url::encode(&p[33..])),
            ),
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

    fn alg(&self) -> Alg {
        match self {
            NotePublicKey::Ed25519(_) => Alg::EdDSA,
            NotePublicKey::Sm2(_) => Alg::Sm2,
        }
    }

    fn verifier(&self) -> Result<Box<dyn Verifier>, NoteError> {
        if let NotePublicKey::Sm2(p) = self {
            if p[0] != 0x04 {
                return Err(NoteError::BadKey("SM2 point is not uncompressed".into()));
            }
        }
        self.to_jwk()
            .verifier(Some(SM2_DEFAULT_SIGNER_ID))
            .map_err(|e| NoteError::BadKey(e.to_string()))
    }

    /// The key ID of this key under `name`: `SHA-256(name || 0x0A || encode())[:4]`.
    pub fn key_id(&self, name: &str) -> u32 {
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update(b"\n");
        h.update(self.encode());
        let d = h.finalize();
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }
}

/// A named public key that verifies note signatures.
pub struct VerifierKey {
    name: String,
    key_id: u32,
    public: NotePublicKey,
    verifier: Box<dyn Verifier>,
}

impl VerifierKey {
    /// The verifier for `public` under `name`.
    pub fn new(name: &str, public: NotePublicKey) -> Result<Self, NoteError> {
        check_name(name)?;
        let verifier = public.verifier()?;
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: public.key_id(name),
            public,
            verifier,
        })
    }

    /// Parses `<name>+<8 hex digits>+<base64(type || key)>`, checking the key ID.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let bad = || NoteError::BadKey("expected <name>+<hex key ID>+<base64 key>".into());
        let (name, rest) = s.split_once('+').ok_or_else(bad)?;
        let (id_hex, key_b64) = rest.split_once('+').ok_or_else(bad)?;
        let given = parse_key_id(id_hex).ok_or_else(bad)?;
        check_name(name)?;
        let public = NotePublicKey::decode(&b64_decode(key_b64).ok_or_else(bad)?)?;
        let key = VerifierKey::new(name, public)?;
        if key.key_id != given {
            return Err(NoteError::KeyIdMismatch {
                given,
                computed: key.key_id,
            });
        }
        Ok(key)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The public key.
    pub fn public(&self) -> &NotePublicKey {
        &self.public
    }

    /// Whether `signature` is a valid signature of `text` by this key.
    pub fn verifies(&self, text: &[u8], signature: &[u8]) -> bool {
        self.verifier.verify(text, signature).is_ok()
    }
}

fn parse_key_id(hex: &str) -> Option<u32> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = b64_encode(&self.public.encode());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, key)
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

/// A named private key (local, or behind any [`Signer`], e.g. an HSM) that signs notes.
pub struct NoteSigner {
    name: String,
    key_id: u32,
    public: NotePublicKey,
    signer: Box<dyn Signer>,
}

impl NoteSigner {
    /// Signs as `name` with `signer`, whose public key is `public`. An SM2 signer must
    /// use the default signer ID; `signer` must sign with the key of `public`.
    pub fn new(name: &str, signer: Box<dyn Signer>, public: &Jwk) -> Result<Self, NoteError> {
        check_name(name)?;
        let public = NotePublicKey::from_jwk(public)?;
        if signer.alg() != public.alg() {
            return Err(NoteError::BadKey(
                "signer and public key differ in algorithm".into(),
            ));
        }
        Ok(NoteSigner {
            name: name.to_owned(),
            key_id: public.key_id(name),
            public,
            signer,
        })
    }

    /// Signs as `name` with a local Ed25519 or SM2 key pair.
    pub fn from_keypair(name: &str, key: KeyPair) -> Result<Self, NoteError> {
        if key.alg() == Alg::Sm2 && key.sm2_signer_id() != SM2_DEFAULT_SIGNER_ID {
            return Err(NoteError::BadKey(
                "SM2 note keys use the default signer ID".into(),
            ));
        }
        let public = key.public_jwk();
        NoteSigner::new(name, Box::new(key), &public)
    }

    /// Reads an Ed25519 signer key in the Go `sumdb/note` text form,
    /// `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`.
    pub fn from_private_key_string(s: &str) -> Result<Self, NoteError> {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let bad = || NoteError::BadKey("expected PRIVATE+KEY+<name>+<hex>+<base64>".into());
        let rest = s.strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
        let (name, rest) = rest.split_once('+').ok_or_else(bad)?;
        let (id_hex, key_b64) = rest.split_once('+').ok_or_else(bad)?;
        let given = parse_key_id(id_hex).ok_or_else(bad)?;
        let raw = zeroize_on_drop(b64_decode(key_b64).ok_or_else(bad)?);
        let seed: [u8; 32] = raw
            .0
            .strip_prefix(ED25519_KEY_TYPE)
            .and_then(|k| k.try_into().ok())
            .ok_or(NoteError::UnsupportedKeyType)?;
        let der = ed25519_dalek::SigningKey::from_bytes(&seed)
            .to_pkcs8_der()
            .map_err(|e| NoteError::BadKey(e.to_string()))?;
        let key = KeyPair::from_pkcs8_der(der.as_bytes())
            .map_err(|e| NoteError::BadKey(e.to_string()))?;
        let signer = NoteSigner::from_keypair(name, key)?;
        if signer.key_id != given {
            return Err(NoteError::KeyIdMismatch {
                given,
                computed: signer.key_id,
            });
        }
        Ok(signer)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The verifier key to give to those who check this signer's notes.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey::new(&self.name, self.public.clone()).expect("name and key were checked")
    }

    pub(crate) fn sign(&self, text: &str) -> Result<NoteSignature, NoteError> {
        let signature = self
            .signer
            .sign(text.as_bytes())
            .map_err(|e| NoteError::Signer {
                code: e.code(),
                message: e.to_string(),
            })?;
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature,
        })
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({}+{:08x})", self.name, self.key_id)
    }
}

/// Bytes overwritten with zeros when dropped (decoded private key material).
struct Wiped(Vec<u8>);

impl Drop for Wiped {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self.0);
    }
}

fn zeroize_on_drop(v: Vec<u8>) -> Wiped {
    Wiped(v)
}
