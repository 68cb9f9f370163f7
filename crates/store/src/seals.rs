//! What electronic seals (电子印章, GB/T 38540) keep: the node's seal certification
//! authorities, the seals filed with the node (备案) with their keys, certificates and status,
//! and every use of a seal.
//!
//! Invariants:
//! - A seal CA is made once per algorithm and node: [`SealStore::put_seal_ca`] keeps the
//!   first one stored and returns it, so two processes racing to make it agree on one.
//! - A seal's key is stored only encrypted (PKCS#8, never decrypted by the store); its id is
//!   unique (`Duplicate` otherwise) and its certificate serial unique per CA algorithm.
//! - A status change names the moment it took effect; a seal's uses are only appended, never
//!   changed, and a use is stored only with the seal it names (`NotFound` otherwise).
//! - An issuer key has at most one certificate of an outside CA: attaching another (a renewal)
//!   replaces it.

use async_trait::async_trait;

use crate::error::Result;

/// One of the node's seal certification authorities (one per algorithm).
#[derive(Clone, PartialEq, Eq)]
pub struct SealCaRecord {
    /// `sm2` or `es256`.
    pub alg: String,
    /// The CA's key, `ENCRYPTED PRIVATE KEY` PEM.
    pub encrypted_pem: String,
    /// The CA's self-signed certificate, DER.
    pub certificate: Vec<u8>,
    pub created_at: i64,
}

impl std::fmt::Debug for SealCaRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealCaRecord")
            .field("alg", &self.alg)
            .field("encrypted_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A seal filed with the node.
#[derive(Clone, PartialEq, Eq)]
pub struct SealRecord {
    /// The seal's id (`esID`), public.
    pub id: String,
    /// The owner's USCC.
    pub owner: String,
    /// The owner's name.
    pub owner_name: String,
    /// `official`, `contract`, `finance`, `invoice` or `legal_rep`.
    pub kind: String,
    /// The seal's name (what its picture reads).
    pub name: String,
    /// `sm2` or `es256`.
    pub alg: String,
    /// The seal's signing key, `ENCRYPTED PRIVATE KEY` PEM.
    pub encrypted_pem: String,
    /// The key's certificate (issued by the node's seal CA of `alg`), DER.
    pub certificate: Vec<u8>,
    /// The certificate's serial number, lowercase hex (what a CRL lists).
    pub serial: String,
    /// The GB/T 38540 `SESeal`, DER.
    pub seal: Vec<u8>,
    /// The seal picture, PNG.
    pub picture: Vec<u8>,
    /// Unix seconds.
    pub valid_from: i64,
    pub valid_to: i64,
    /// `active`, `suspended` or `revoked`.
    pub status: String,
    /// When the status last changed (the creation for `active`).
    pub status_at: i64,
    /// The lineage of the business license it was issued with (an enterprise's seals), if any.
    pub license: Option<String>,
    /// Accounts (usernames) besides the owner's representatives that may use it.
    pub users: Vec<String>,
    pub created_at: i64,
    /// Who made it: `operator:cli`, `issuer:<USCC>`, `license:<identifier>`, ….
    pub created_by: String,
}

impl std::fmt::Debug for SealRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealRecord")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("alg", &self.alg)
            .field("status", &self.status)
            .field("encrypted_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// One use of a seal: a document sealed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealUseRecord {
    /// Assigned by the store (ignored on insert), increasing.
    pub seq: i64,
    pub seal: String,
    /// Unix seconds.
    pub at: i64,
    /// Who used it: `account:<username>`, `operator:cli`, `node` (a face or copy sealed by the
    /// node), ….
    pub actor: String,
    /// SHA-256 of the sealed document as returned, lowercase hex.
    pub document: String,
    /// The (1-based) page the seal was placed on.
    pub page: u32,
    /// What was sealed, in the user's words or the node's (`face <identifier>`).
    pub purpose: String,
}

/// The certificate an outside CA issued for one of the node's issuer keys, with its chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCertificateRecord {
    /// The issuer key's kid.
    pub kid: String,
    /// The certificate first, then any intermediate CA certificates: DER each.
    pub chain: Vec<Vec<u8>>,
    /// The certificate's subject and issuer (RFC 4514), serial number (hex), end of validity.
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_after: i64,
    /// When and by whom it was attached.
    pub attached_at: i64,
    pub attached_by: String,
}

/// Storage of seals.
#[async_trait]
pub trait SealStore: Send + Sync {
    /// Stores the CA for `ca.alg` unless one is stored; returns the stored one (the first).
    async fn put_seal_ca(&self, ca: SealCaRecord) -> Result<SealCaRecord>;
    /// The CA for `alg`.
    async fn seal_ca(&self, alg: &str) -> Result<Option<SealCaRecord>>;
    /// Files a new seal; an id (or a serial for the same `alg`) in use is `Duplicate`.
    async fn put_seal(&self, s: SealRecord) -> Result<()>;
    /// The seal `id`.
    async fn seal(&self, id: &str) -> Result<Option<SealRecord>>;
    /// The seals of an owner (USCC), oldest first (by `created_at`, then id).
    async fn seals_of(&self, owner: &str) -> Result<Vec<SealRecord>>;
    /// The seals issued with the business license of `lineage`, oldest first (by
    /// `created_at`, then id).
    async fn seals_of_license(&self, lineage: &str) -> Result<Vec<SealRecord>>;
    /// The seals that list `username` among their users (authorised staff), oldest first.
    async fn seals_of_user(&self, username: &str) -> Result<Vec<SealRecord>>;
    /// Sets the status of seal `id` as of `at`; `false` when there is no such seal.
    async fn set_seal_status(&self, id: &str, status: &str, at: i64) -> Result<bool>;
    /// Replaces who besides the owner's representatives may use seal `id`; `false` when
    /// there is no such seal.
    async fn set_seal_users(&self, id: &str, users: Vec<String>) -> Result<bool>;
    /// The seals of `alg` that are not `active` (for the CA's revocation list), oldest
    /// status change first.
    async fn inactive_seals(&self, alg: &str) -> Result<Vec<SealRecord>>;
    /// Appends uses (all or none, in one transaction); a use of an unknown seal is
    /// `NotFound` and nothing is written. Returns them with their `seq`.
    async fn record_seal_uses(&self, uses: Vec<SealUseRecord>) -> Result<Vec<SealUseRecord>>;
    /// The uses of seal `id`, newest first, at most `limit`.
    async fn seal_uses(&self, id: &str, limit: u32) -> Result<Vec<SealUseRecord>>;
    /// Attaches an outside CA's certificate to issuer key `c.kid`, replacing any earlier one.
    async fn put_key_certificate(&self, c: KeyCertificateRecord) -> Result<()>;
    /// The certificate attached to issuer key `kid`.
    async fn key_certificate(&self, kid: &str) -> Result<Option<KeyCertificateRecord>>;
}
