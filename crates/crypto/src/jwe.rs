//! Compact JWE (RFC 7516) with ECDH-ES direct key agreement on P-256 (RFC 7518 §4.6) and
//! AES-GCM content encryption (`A128GCM`, `A256GCM`): what OpenID4VP's `direct_post.jwt`
//! response mode uses under the HAIP profile (the wallet encrypts its response to the
//! verifier's per-request key).
//!
//! Written here because no maintained pure-Rust JOSE crate offers ECDH-ES without OpenSSL;
//! the pieces are AWS-LC's ECDH (through aws-lc-rs, as for ES256: with the pure-Rust `p256`
//! the per-request key's public point was most of the time of starting an OpenID4VP
//! request), `p256` for reading and writing points, the `aes-gcm` crate, and the Concat KDF
//! of NIST SP 800-56A §5.8.1 with SHA-256, which is a few lines. Interoperability is tested
//! against the npm `jose` library (crates/server/tests/oid4vp.rs).
//!
//! Invariants: only `alg` `ECDH-ES` (no key wrapping: the encrypted key part is empty) with an
//! `epk` on P-256 is accepted; the authentication tag covers the ASCII of the encoded
//! protected header (the AAD); any failure (bad structure, unknown `enc`, a point off the
//! curve, a wrong tag) is one `CryptoError::Jwe`, without saying which byte was wrong.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};
use aws_lc_rs::agreement::{agree, PrivateKey, UnparsedPublicKey, ECDH_P256};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::pubkey::PublicKey;
use crate::{b64, CryptoError, Jwk};

/// A content encryption algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    /// AES-128 in Galois/Counter Mode.
    A128Gcm,
    /// AES-256 in Galois/Counter Mode.
    A256Gcm,
}

impl Enc {
    /// The `enc` header value.
    pub fn name(self) -> &'static str {
        match self {
            Enc::A128Gcm => "A128GCM",
            Enc::A256Gcm => "A256GCM",
        }
    }

    /// The algorithm named `name`, if supported.
    pub fn parse(name: &str) -> Option<Enc> {
        match name {
            "A128GCM" => Some(Enc::A128Gcm),
            "A256GCM" => Some(Enc::A256Gcm),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Enc::A128Gcm => 16,
            Enc::A256Gcm => 32,
        }
    }
}

fn bad(m: impl Into<String>) -> CryptoError {
    CryptoError::Jwe(m.into())
}

/// A recipient's P-256 key for ECDH-ES: the private key in AWS-LC (freed and cleansed by
/// AWS-LC) and its public point, computed once.
pub struct EcdhEsKey {
    secret: PrivateKey,
    public: p256::PublicKey,
}

impl std::fmt::Debug for EcdhEsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcdhEsKey").finish_non_exhaustive()
    }
}

impl EcdhEsKey {
    /// A fresh key (its scalar drawn from `rng`).
    pub fn generate(rng: &mut impl rand_core::CryptoRngCore) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        loop {
            rng.fill_bytes(bytes.as_mut());
            if let Some(k) = Self::from_scalar(&bytes) {
                return k;
            }
        }
    }

    /// The key whose scalar is `bytes` (big-endian); `None` when it is zero or not below
    /// the group order.
    pub fn from_scalar(bytes: &[u8; 32]) -> Option<Self> {
        // The range check (1 ≤ d < n) of the RustCrypto type, then the key in AWS-LC.
        p256::SecretKey::from_bytes(bytes.into()).ok()?;
        let secret = PrivateKey::from_private_key(&ECDH_P256, bytes).ok()?;
        let public = secret.compute_public_key().ok()?;
        let public = p256::PublicKey::from_sec1_bytes(public.as_ref()).ok()?;
        Some(EcdhEsKey { secret, public })
    }

    /// The public key as a JWK with `use` `enc`, `alg` `ECDH-ES` and `kid`.
    pub fn public_jwk(&self, kid: &str) -> Jwk {
        let mut jwk = PublicKey::Es256(self.public).to_jwk();
        jwk.kid = Some(kid.to_owned());
        jwk.alg = Some("ECDH-ES".into());
        jwk.use_ = Some("enc".into());
        jwk
    }

    /// Decrypts a compact JWE made for this key: returns its protected header and the
    /// plaintext.
    pub fn decrypt(&self, compact: &str) -> Result<(Map<String, Value>, Vec<u8>), CryptoError> {
        let parts: Vec<&str> = compact.split('.').collect();
        let [header_b64, encrypted_key, iv, ciphertext, tag] = parts[..] else {
            return Err(bad("a compact JWE has five parts"));
        };
        if !encrypted_key.is_empty() {
            return Err(bad("ECDH-ES carries no encrypted key"));
        }
        let header: Map<String, Value> = serde_json::from_slice(&b64::decode(header_b64)?)
            .map_err(|_| bad("the protected header is not a JSON object"))?;
        if header.get("alg").and_then(Value::as_str) != Some("ECDH-ES") {
            return Err(bad("only alg ECDH-ES is accepted"));
        }
        let enc = header
            .get("enc")
            .and_then(Value::as_str)
            .and_then(Enc::parse)
            .ok_or_else(|| bad("enc must be A128GCM or A256GCM"))?;
        if header.get("zip").is_some() || header.get("crit").is_some() {
            return Err(bad("zip and crit are not supported"));
        }
        let epk: Jwk = header
            .get("epk")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| bad("no epk"))?;
        let PublicKey::Es256(epk) =
            PublicKey::from_jwk(&epk).map_err(|_| bad("epk is not a P-256 point"))?
        else {
            return Err(bad("epk must be a P-256 key"));
        };
        let party = |name: &str| -> Result<Vec<u8>, CryptoError> {
            match header.get(name) {
                None => Ok(Vec::new()),
                Some(Value::String(s)) => b64::decode(s),
                Some(_) => Err(bad(format!("{name} is not a string"))),
            }
        };
        let (apu, apv) = (party("apu")?, party("apv")?);
        let epk = epk.to_encoded_point(false);
        let cek = agree(
            &self.secret,
            UnparsedPublicKey::new(&ECDH_P256, epk.as_bytes()),
            bad("key agreement failed"),
            |z| Ok(concat_kdf(z, enc, &apu, &apv)),
        )?;
        let iv = b64::decode(iv)?;
        if iv.len() != 12 {
            return Err(bad("the IV must be 12 bytes"));
        }
        let mut sealed = b64::decode(ciphertext)?;
        let tag = b64::decode(tag)?;
        if tag.len() != 16 {
            return Err(bad("the tag must be 16 bytes"));
        }
        sealed.extend_from_slice(&tag);
        let plaintext = aead(enc, &cek, &iv, header_b64.as_bytes(), &sealed, false)?;
        Ok((header, plaintext))
    }
}

/// The Concat KDF of RFC 7518 §4.6.2 for direct key agreement: `AlgorithmID` is the `enc`
/// value, `SuppPubInfo` the key length in bits, one SHA-256 round per 32 bytes.
fn concat_kdf(z: &[u8], enc: Enc, apu: &[u8], apv: &[u8]) -> Zeroizing<Vec<u8>> {
    let field = |v: &[u8]| {
        let mut out = (v.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(v);
        out
    };
    let mut other = field(enc.name().as_bytes());
    other.extend(field(apu));
    other.extend(field(apv));
    other.extend(((enc.key_len() * 8) as u32).to_be_bytes());
    let mut out = Zeroizing::new(Vec::with_capacity(32));
    let mut counter = 1u32;
    while out.len() < enc.key_len() {
        let mut h = Sha256::new();
        h.update(counter.to_be_bytes());
        h.update(z);
        h.update(&other);
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(enc.key_len());
    out
}

fn aead(
    enc: Enc,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    msg: &[u8],
    seal: bool,
) -> Result<Vec<u8>, CryptoError> {
    let nonce = Nonce::from_slice(iv);
    let payload = Payload { msg, aad };
    let r = match (enc, seal) {
        (Enc::A128Gcm, true) => Aes128Gcm::new_from_slice(key).map(|c| c.encrypt(nonce, payload)),
        (Enc::A128Gcm, false) => Aes128Gcm::new_from_slice(key).map(|c| c.decrypt(nonce, payload)),
        (Enc::A256Gcm, true) => Aes256Gcm::new_from_slice(key).map(|c| c.encrypt(nonce, payload)),
        (Enc::A256Gcm, false) => Aes256Gcm::new_from_slice(key).map(|c| c.decrypt(nonce, payload)),
    };
    r.map_err(|_| bad("bad key length"))?
        .map_err(|_| bad("decryption failed"))
}

/// Encrypts `plaintext` to the P-256 key `recipient` with ECDH-ES and `enc`; the protected
/// header holds `alg`, `enc`, `epk` (a fresh ephemeral key), the recipient's `kid` when it
/// has one, and `extra` members.
pub fn encrypt(
    recipient: &Jwk,
    enc: Enc,
    plaintext: &[u8],
    extra: &Map<String, Value>,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<String, CryptoError> {
    let PublicKey::Es256(to) =
        PublicKey::from_jwk(recipient).map_err(|_| bad("the recipient is not a P-256 key"))?
    else {
        return Err(bad("the recipient must be a P-256 key"));
    };
    let ephemeral = EcdhEsKey::generate(rng);
    let epk = PublicKey::Es256(ephemeral.public).to_jwk();
    let mut header = Map::new();
    header.insert("alg".into(), json!("ECDH-ES"));
    header.insert("enc".into(), json!(enc.name()));
    header.insert(
        "epk".into(),
        serde_json::to_value(&epk).expect("a JWK serialises"),
    );
    if let Some(kid) = &recipient.kid {
        header.insert("kid".into(), json!(kid));
    }
    for (k, v) in extra {
        header.insert(k.clone(), v.clone());
    }
    let header_b64 = b64::encode(&serde_json::to_vec(&header).expect("a map serialises"));
    let to = to.to_encoded_point(false);
    let cek = agree(
        &ephemeral.secret,
        UnparsedPublicKey::new(&ECDH_P256, to.as_bytes()),
        bad("key agreement failed"),
        |z| Ok(concat_kdf(z, enc, &[], &[])),
    )?;
    let mut iv = [0u8; 12];
    rng.fill_bytes(&mut iv);
    let mut sealed = aead(enc, &cek, &iv, header_b64.as_bytes(), plaintext, true)?;
    let tag = sealed.split_off(sealed.len() - 16);
    Ok(format!(
        "{header_b64}..{}.{}.{}",
        b64::encode(&iv),
        b64::encode(&sealed),
        b64::encode(&tag)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_encs() {
        let mut rng = rand::rngs::OsRng;
        let key = EcdhEsKey::generate(&mut rng);
        let jwk = key.public_jwk("k1");
        for enc in [Enc::A128Gcm, Enc::A256Gcm] {
            let jwe = encrypt(&jwk, enc, b"{\"a\":1}", &Map::new(), &mut rng).unwrap();
            let (header, plain) = key.decrypt(&jwe).unwrap();
            assert_eq!(plain, b"{\"a\":1}");
            assert_eq!(header["enc"], enc.name());
            assert_eq!(header["kid"], "k1");
        }
    }

    #[test]
    fn tampering_and_other_keys_are_refused() {
        let mut rng = rand::rngs::OsRng;
        let key = EcdhEsKey::generate(&mut rng);
        let other = EcdhEsKey::generate(&mut rng);
        let jwe = encrypt(
            &key.public_jwk("k"),
            Enc::A128Gcm,
            b"secret",
            &Map::new(),
            &mut rng,
        )
        .unwrap();
        assert!(matches!(other.decrypt(&jwe), Err(CryptoError::Jwe(_))));
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        let mut ct = b64::decode(&parts[3]).unwrap();
        ct[0] ^= 1;
        parts[3] = b64::encode(&ct);
        assert!(matches!(
            key.decrypt(&parts.join(".")),
            Err(CryptoError::Jwe(_))
        ));
        // The header is authenticated: another enc (or anything else) fails the tag.
        let jwe256 = encrypt(
            &key.public_jwk("k"),
            Enc::A256Gcm,
            b"x",
            &Map::new(),
            &mut rng,
        )
        .unwrap();
        let mut p: Vec<&str> = jwe256.split('.').collect();
        let h0 = jwe.split('.').next().unwrap();
        p[0] = h0;
        assert!(key.decrypt(&p.join(".")).is_err());
        for broken in [
            "",
            "a.b.c",
            "e30..AAAA.AAAA.AAAA",
            &jwe.replacen("..", ".AAAA.", 1),
        ] {
            assert!(key.decrypt(broken).is_err(), "{broken}");
        }
    }

    /// RFC 7518 Appendix C: the Concat KDF of ECDH-ES with A128GCM, apu "Alice", apv "Bob".
    #[test]
    fn rfc7518_appendix_c_kdf() {
        let z = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let cek = concat_kdf(&z, Enc::A128Gcm, b"Alice", b"Bob");
        assert_eq!(
            cek.as_slice(),
            &[86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26]
        );
    }
}
