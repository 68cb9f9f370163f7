//! The node's federation keys: the **node key**, which signs node-to-node requests (HTTP
//! Message Signatures, RFC 9421, `alg` `ed25519`) and is published as a JWK, and the
//! **witness key**, which co-signs children's checkpoints (C2SP tlog-cosignature,
//! `cosignature/v1`) and is published as a C2SP vkey.
//!
//! Invariants:
//! - Both are Ed25519 keys of their own, generated once and kept in the data dir as
//!   encrypted PKCS#8 PEM (`node-key.pem`, `witness-key.pem`, mode 0600, the node's key
//!   password), in memory for a node without a data dir. Neither is the log's key
//!   (`log-key.pem`): a log key's signatures are statements kept forever under the log's
//!   name, a request key authenticates short-lived messages and can rotate freely through
//!   the trust list, and C2SP requires a cosigner's Ed25519 key to serve that one cosigner
//!   only (`cosignature/v1` does not commit to the cosigner's name).
//! - The witness key's name is the node's base URL without its scheme, plus `/witness`
//!   (`127.0.0.1:8080/witness`); its key ID is `SHA-256(name || 0x0A || 0x04 || key)[:4]`,
//!   `0x04` being the signed-note type byte of timestamped Ed25519 cosignatures.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use elicense_crypto::{b64, Alg, Jwks, KeyPair, Signer as _};
use elicense_log::cosignature::{Cosigner, CosignerKey};
use zeroize::Zeroizing;

use crate::config::NodeConfig;
use crate::error::{AppError, ErrorKind, Result};

/// The node key's file in a data dir.
pub const NODE_KEY_FILE: &str = "node-key.pem";
/// The witness key's file in a data dir.
pub const WITNESS_KEY_FILE: &str = "witness-key.pem";
/// The signed-note signature type byte of Ed25519 `cosignature/v1` (c2sp.org/signed-note).
pub use elicense_log::cosignature::COSIGNATURE_V1_TYPE;

fn key_error(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::Internal, "federation.key", e.to_string())
}

/// Reads the encrypted key in `path`, or creates it (`alg`, mode 0600) when it is missing;
/// when two processes race, the loser reads the winner's key. `None`: a fresh key in memory.
pub fn load_or_create_key(path: Option<&Path>, alg: Alg, password: &str) -> Result<KeyPair> {
    let mut rng = rand::rngs::OsRng;
    let Some(path) = path else {
        return Ok(KeyPair::generate(alg, &mut rng));
    };
    match std::fs::read_to_string(path) {
        Ok(pem) => {
            let key =
                KeyPair::from_encrypted_pem(&pem, password.as_bytes()).map_err(AppError::crypto)?;
            if key.alg() != alg {
                return Err(key_error(format!(
                    "{} holds a {} key, {} expected",
                    path.display(),
                    key.alg().jws_name(),
                    alg.jws_name()
                )));
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = KeyPair::generate(alg, &mut rng);
            let pem = Zeroizing::new(
                key.to_encrypted_pem(password.as_bytes(), &mut rng)
                    .map_err(AppError::crypto)?,
            );
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            crate::config::write_private_file(&tmp, pem.as_bytes())
                .map_err(|e| key_error(format!("{}: {e}", tmp.display())))?;
            // A hard link fails if the file appeared meanwhile: never overwrite a key.
            let linked = std::fs::hard_link(&tmp, path);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => Ok(key),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_key(Some(path), alg, password)
                }
                Err(e) => Err(key_error(format!("{}: {e}", path.display()))),
            }
        }
        Err(e) => Err(key_error(format!("{}: {e}", path.display()))),
    }
}

/// A witness (cosigner) public key under its name: the `cosignature/v1` key of
/// `elicense_log::cosignature`, which computes its key ID and vkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKey(CosignerKey);

impl WitnessKey {
    /// The key `public` named `name` (a schema-less URL; no spaces, no `+`).
    pub fn new(name: &str, public: [u8; 32]) -> Result<Self> {
        CosignerKey::new(name, public)
            .map(WitnessKey)
            .map_err(|e| key_error(format!("witness key {name:?}: {e}")))
    }

    /// Parses a vkey `<name>+<hex key ID>+<base64(0x04 || key)>` (as published in a node's
    /// `/.well-known/elicense-node`).
    pub fn parse(vkey: &str) -> Result<Self> {
        CosignerKey::parse(vkey)
            .map(WitnessKey)
            .map_err(|e| AppError::new(ErrorKind::Invalid, e.code(), format!("witness key: {e}")))
    }

    /// The name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The 32-byte Ed25519 public key.
    pub fn public(&self) -> &[u8; 32] {
        self.0.public()
    }

    /// The `cosignature/v1` key ID: `SHA-256(name || 0x0A || 0x04 || key)[:4]`, big-endian.
    pub fn key_id(&self) -> u32 {
        self.0.key_id()
    }

    /// The verifier key string `<name>+<8 hex digits>+<base64(0x04 || key)>`.
    pub fn vkey(&self) -> String {
        self.0.vkey()
    }

    /// The `cosignature/v1` verifier.
    pub fn cosigner_key(&self) -> &CosignerKey {
        &self.0
    }
}

/// The node's loaded keys.
pub struct LoadedKeys {
    /// Signs node-to-node requests.
    pub node: Arc<KeyPair>,
    /// Co-signs children's checkpoints.
    pub witness: Arc<KeyPair>,
    /// The witness key's public form.
    pub witness_key: WitnessKey,
    /// Makes `cosignature/v1`s with the witness key.
    pub cosigner: Arc<Cosigner>,
}

/// The federation keys of a [`crate::Node`], loaded (or created) on first use.
pub struct NodeKeys {
    dir: Option<PathBuf>,
    witness_name: String,
    password: Zeroizing<String>,
    loaded: OnceLock<std::result::Result<Arc<LoadedKeys>, AppError>>,
}

/// `http://host:port/path` → `host:port/path/witness`.
pub fn witness_name_for(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, r)| r)
        .trim_end_matches('/');
    format!("{rest}/witness")
}

impl NodeKeys {
    /// The keys of a node with this configuration.
    pub fn new(config: &NodeConfig) -> Self {
        NodeKeys {
            dir: config.data_dir.clone(),
            witness_name: witness_name_for(&config.base_url),
            password: config.key_password.clone(),
            loaded: OnceLock::new(),
        }
    }

    /// The keys, loaded or created on first use.
    pub fn get(&self) -> Result<Arc<LoadedKeys>> {
        self.loaded
            .get_or_init(|| {
                let file = |name| self.dir.as_ref().map(|d| d.join(name));
                let node =
                    load_or_create_key(file(NODE_KEY_FILE).as_deref(), Alg::EdDSA, &self.password)?;
                let witness = load_or_create_key(
                    file(WITNESS_KEY_FILE).as_deref(),
                    Alg::EdDSA,
                    &self.password,
                )?;
                let public: [u8; 32] = b64::decode(&witness.public_jwk().x)
                    .map_err(key_error)?
                    .try_into()
                    .map_err(|_| key_error("an Ed25519 public key is 32 bytes"))?;
                let witness_key = WitnessKey::new(&self.witness_name, public)?;
                let witness = Arc::new(witness);
                let cosigner = Cosigner::new(witness_key.cosigner_key().clone(), witness.clone())
                    .map_err(key_error)?;
                Ok(Arc::new(LoadedKeys {
                    witness_key,
                    node: Arc::new(node),
                    witness,
                    cosigner: Arc::new(cosigner),
                }))
            })
            .clone()
    }

    /// The public JWKS of the node key(s).
    pub fn jwks(&self) -> Result<Jwks> {
        Ok(Jwks {
            keys: vec![self.get()?.node.public_jwk()],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use sha2::{Digest, Sha256};

    #[test]
    fn witness_vkey_shape_and_key_id() {
        let pair = KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
        let public: [u8; 32] = b64::decode(&pair.public_jwk().x)
            .unwrap()
            .try_into()
            .unwrap();
        let k = WitnessKey::new("witness.example.com/w1", public).unwrap();
        let v = k.vkey();
        let parts: Vec<&str> = v.splitn(3, '+').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "witness.example.com/w1");
        assert_eq!(parts[1].len(), 8);
        let mut msg = b"witness.example.com/w1\n\x04".to_vec();
        msg.extend_from_slice(&public);
        assert_eq!(parts[1], hex::encode(&Sha256::digest(&msg)[..4]));
        let material = STANDARD.decode(parts[2]).unwrap();
        assert_eq!(material[0], 0x04);
        assert_eq!(&material[1..], &public);
        assert_eq!(WitnessKey::parse(&v).unwrap(), k);
        assert!(WitnessKey::new("a b", [0; 32]).is_err());
        assert!(WitnessKey::new("a+b", [0; 32]).is_err());
        assert_eq!(
            witness_name_for("https://js.example.gov.cn/"),
            "js.example.gov.cn/witness"
        );
    }

    #[test]
    fn keys_are_created_once_private_and_distinct() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(NODE_KEY_FILE);
        let a = load_or_create_key(Some(&path), Alg::EdDSA, "pw").unwrap();
        let b = load_or_create_key(Some(&path), Alg::EdDSA, "pw").unwrap();
        assert_eq!(a.public_jwk(), b.public_jwk());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(load_or_create_key(Some(&path), Alg::EdDSA, "wrong").is_err());
        assert!(load_or_create_key(Some(&path), Alg::Sm2, "pw").is_err());
    }
}
