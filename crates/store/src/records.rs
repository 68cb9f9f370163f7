//! Plain records as the store keeps them. Times are unix seconds (UTC); JSON columns are text.
//! The app layer turns these into domain types and back; records never carry secrets in clear.

use serde::{Deserialize, Serialize};

/// One version of one license-type definition in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    /// The 21-char GB/T 36904 type code.
    pub code: String,
    /// Catalogue version of this definition, from 1.
    pub version: u32,
    /// The definition as canonical JSON.
    pub definition: String,
    pub created_at: i64,
}

/// An issuing authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerRecord {
    /// USCC of the authority.
    pub code: String,
    pub name: String,
    /// 6-digit GB/T 2260 area code.
    pub area: String,
    /// The authority that took over (USCC), once this one ended; set only by an operator
    /// event ([`OperatorChange::Succeed`]), never by `put_issuer`.
    pub successor: Option<String>,
    /// When this authority ceased to act itself (unix seconds).
    pub ended_at: Option<i64>,
}

/// An issuer's signing key: public part in clear, private part as encrypted PKCS#8 PEM.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub kid: String,
    pub issuer: String,
    /// CLI algorithm name: `sm2`, `ed25519` or `es256`.
    pub alg: String,
    /// Public JWK as JSON.
    pub public_jwk: String,
    /// `ENCRYPTED PRIVATE KEY` PEM; never decrypted by the store.
    pub encrypted_pem: String,
    /// SM2 signer ID when it is not the default.
    pub sm2_signer_id: Option<String>,
    pub not_before: i64,
    pub not_after: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("alg", &self.alg)
            .field("encrypted_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// An API key of an issuing authority, stored as a SHA-256 hash of the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// Public key id (the part of the token before the dot).
    pub id: String,
    /// Hex SHA-256 of the whole token.
    pub hash: String,
    /// USCC of the issuer the key acts for.
    pub issuer: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// One version of one license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseRecord {
    /// Full GB/T 36904 identifier of this version.
    pub identifier: String,
    /// The identifier without version and check char: the same for all versions of a license.
    pub lineage: String,
    pub version: u32,
    pub type_code: String,
    pub catalogue_version: u32,
    pub issuer: String,
    /// Keyed hash of the holder code (hex); the plain code stays inside `meta`.
    pub holder_key: String,
    /// Lifecycle status code (`valid`, `suspended`, ...).
    pub status: String,
    /// The status as its Token Status List value (0 valid, 1 invalid, 2 suspended).
    pub status_value: u8,
    pub pledged: bool,
    /// GB/T 36903 metadata as JSON.
    pub meta: String,
    /// The signed SD-JWT VC as issued (with every disclosure).
    pub credential: String,
    pub alg: String,
    pub kid: String,
    pub status_list: u32,
    pub status_idx: u32,
    pub issued_at: i64,
    /// End of validity as unix seconds, `None` for 长期 (long-term).
    pub valid_until: Option<i64>,
    pub updated_at: i64,
    /// Keyed hash of the resident ID of the holder's legal representative (法定代表人), for
    /// types with a `represents` item whose value is given: the person with this ID acts for
    /// the holder while the version is current and in force.
    #[serde(default)]
    pub representative_key: Option<String>,
}

/// A lifecycle event or a use of a license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Position in the node's event sequence; assigned by the store (0 when new).
    pub seq: i64,
    /// Identifier of the license version the event is about.
    pub identifier: String,
    /// `issue`, an action code (`suspend`, `revoke`, ...) or a use (`present`, ...): an
    /// `elicense_core::EventKind` code.
    pub kind: String,
    pub actor: String,
    pub at: i64,
    /// Free text: the issuer's reason for an action, an institution's purpose. Never in the
    /// public log (leaf format 2).
    pub reason: Option<String>,
    /// Extra facts as JSON (e.g. new version, new holder).
    pub detail: String,
    /// A lifecycle event's public reason category (an `elicense_core::ReasonCategory` code),
    /// the only reason its log leaf carries; `None` for uses and for events without one.
    pub reason_category: Option<String>,
}

/// Where a bulk-import row ended, journalled in the same transaction as its license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowRecord {
    pub job: String,
    /// 1-based data row number (the header is row 0).
    pub row: u64,
    pub identifier: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Serial numbers reserved for new licenses of one type and issuer, and as many status-list
/// slots in the issuer's lists of one algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// First serial number of the block (the block is `first_serial..first_serial + n`).
    pub first_serial: u64,
    /// Status-list slots, one per serial, in order.
    pub slots: Vec<(u32, u32)>,
}

/// A new license version with its event (and, for imports, the journal row).
#[derive(Debug, Clone)]
pub struct NewLicense {
    pub license: LicenseRecord,
    pub event: EventRecord,
    pub import_row: Option<ImportRowRecord>,
}

/// A lifecycle transition of one version, applied only if the version is still as read.
#[derive(Debug, Clone)]
pub struct TransitionRecord {
    pub identifier: String,
    /// Status the caller read; the write fails with `Conflict` if it changed meanwhile.
    pub expected_status: String,
    pub expected_pledged: bool,
    pub new_status: String,
    pub new_status_value: u8,
    pub new_pledged: bool,
    pub event: EventRecord,
    /// The next version, for change, extend and transfer.
    pub successor: Option<NewLicense>,
    /// End every open authorization of the lineage (`ended_at = at`) in the same transaction:
    /// set for a transfer, whose successor has another holder.
    pub end_authorizations: bool,
    pub at: i64,
}

/// One Token Status List: its slots belong to one issuer, who signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListRecord {
    pub id: u32,
    pub issuer: String,
    /// Slots handed out so far.
    pub len: u32,
    /// The algorithm (`sm2`, `ed25519`, `es256`, as `KeyRecord::alg`) of the credentials whose
    /// slots it holds, and so of the key that signs it; `None` for a list made before lists
    /// had one algorithm (its slots may belong to credentials of any algorithm).
    pub alg: Option<String>,
}

/// A status-list slot whose value is not 0 (valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusEntry {
    pub idx: u32,
    pub status: u8,
}

/// A holder's wallet account. Lookups by holder go through keyed hashes only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Account id, chosen by the app.
    pub id: String,
    /// Login name, unique among accounts, stored as given (the app normalises it).
    pub username: String,
    /// The password hash as a PHC string (`$argon2id$...`); never the password.
    pub password_hash: String,
    /// App-defined profile as JSON (display name, contact, ...).
    pub profile: String,
    /// Keyed hashes of the holder codes whose licenses this account may see: the holder's own
    /// and those of the enterprises the holder represents.
    pub holder_keys: Vec<String>,
    /// When it was stored, unix seconds.
    pub created_at: i64,
    /// When the account was disabled, `None` while it is usable.
    pub disabled_at: Option<i64>,
}

impl std::fmt::Debug for AccountRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("profile", &"<redacted>")
            .field("holder_keys", &self.holder_keys)
            .field("created_at", &self.created_at)
            .field("disabled_at", &self.disabled_at)
            .finish()
    }
}

/// A wallet session. The app keys it by a hash of the secret the cookie carries, never the
/// secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Hash of the session secret (hex), chosen by the app.
    pub id: String,
    /// The account signed in.
    pub account: String,
    /// When the session started, unix seconds.
    pub created_at: i64,
    /// The last request seen in the session (the app writes it at most once a minute).
    pub last_seen: i64,
    /// When the session was ended (sign-out, account disabled); `None` while open.
    pub ended_at: Option<i64>,
}

/// A failed sign-in to an existing account, kept to show its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFailureRecord {
    pub account: String,
    /// Unix seconds.
    pub at: i64,
    /// The client's network, truncated by the app (`203.0.113.0/24`), never a full address.
    pub client: String,
    /// Stable reason code (`signin.bad_password`, ...), defined by the app.
    pub reason: String,
}

/// A license version bound to one of the holder's device keys: one row per (identifier, key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRecord {
    /// Identifier of the license version.
    pub identifier: String,
    /// RFC 7638 JWK thumbprint (base64url) of the device key.
    pub jkt: String,
    /// The device's public key as a JWK (JSON).
    pub jwk: String,
    /// The SD-JWT VC issued bound to that key (`cnf.jwk`).
    pub credential: String,
    /// When it was stored, unix seconds.
    pub created_at: i64,
}

/// A presentation the holder prepares for a verifier (e.g. behind a QR code), kept until it
/// expires. It is stored when prepared (with the matter and nonce the node chose, which the
/// browser cannot change), completed once with the device key's signature, and opened by
/// verifiers; only its first opening is a use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresentationRecord {
    /// Random id, the handle the verifier fetches it by.
    pub id: String,
    /// Identifier of the license version presented.
    pub identifier: String,
    /// While prepared: the SD-JWT with the chosen disclosures followed by the KB-JWT signing
    /// input; once completed: the whole presentation (SD-JWT and key-binding JWT).
    pub presentation: String,
    /// The matter it was prepared for, when the holder named one.
    pub matter: Option<String>,
    /// Thumbprint of the device key that must sign it.
    pub jkt: String,
    /// The KB-JWT nonce the node chose.
    pub nonce: String,
    /// When it was stored, unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it is no longer served (or, while prepared, no longer
    /// completed); `purge_presentations` deletes it.
    pub expires_at: i64,
    /// When the holder's signature completed it.
    pub completed_at: Option<i64>,
    /// When a verifier first opened it.
    pub opened_at: Option<i64>,
}

/// A holder's authorization of an agent to use a license for one matter, for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRecord {
    /// Authorization id, chosen by the app.
    pub id: String,
    /// Lineage of the license (authorizations are listed per lineage).
    pub lineage: String,
    /// Identifier of the license version it was granted on.
    pub identifier: String,
    /// Keyed hash of the code of the person who granted it (the holder, or the legal
    /// representative of an enterprise holder).
    pub grantor_key: String,
    /// Keyed hash of the license holder's code when it was granted: the authorization reaches
    /// only versions with this holder.
    pub holder_key: String,
    /// Keyed hash of the agent's holder code.
    pub agent_key: String,
    /// The agent's name as the grantor gave it (display only).
    pub agent_name: String,
    /// The matter the agent may use the license for.
    pub matter: String,
    /// Start of validity, unix seconds.
    pub valid_from: i64,
    /// End of validity, unix seconds.
    pub valid_until: i64,
    /// When it was stored, unix seconds.
    pub created_at: i64,
    /// When the grantor withdrew it, `None` while it stands.
    pub withdrawn_at: Option<i64>,
    /// When a transfer of the license ended it.
    pub ended_at: Option<i64>,
}

/// A relying institution (用证单位): a counter, a bank, a hotel, an employer. It may ask only
/// for the matters in its business scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionRecord {
    /// USCC of the institution.
    pub code: String,
    pub name: String,
    /// 6-digit GB/T 2260 area code.
    pub area: String,
    /// Codes of the matters (事项) it may handle: its business scope.
    pub matters: Vec<String>,
    /// When it was first stored, unix seconds.
    pub created_at: i64,
    /// When it was disabled, `None` while it may ask.
    pub disabled_at: Option<i64>,
}

/// A staff member of a relying institution, registered by the institution's administrator
/// (its API key), with the matters they may handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRecord {
    /// USCC of the institution.
    pub institution: String,
    /// Unique within the institution.
    pub username: String,
    /// The person's name, as the holder sees it.
    pub name: String,
    /// Matter codes assigned to them (a part of the institution's scope).
    pub matters: Vec<String>,
    /// When first stored, unix seconds.
    pub created_at: i64,
    /// When disabled, `None` while they may ask.
    pub disabled_at: Option<i64>,
    /// Keyed hash of the person's resident ID: whoever signs in as that person (a local or
    /// an OpenID Connect account) works as this staff member; `None`: nobody signs in as them.
    pub person_key: Option<String>,
}

/// An institution's form for one matter (免填报): which of the matter's license claims fill
/// which of its form fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormRecord {
    /// USCC of the institution.
    pub institution: String,
    pub matter: String,
    /// The fields as JSON (`[{"name","label","claim"}]`), checked by the app.
    pub fields: String,
    pub updated_at: i64,
}

/// An institution's request for a holder's license for one matter (a sharing query), and
/// what became of it: the holder's consent or refusal, or the matter's legal basis, and the
/// annotated copy (加注件) the institution received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRecord {
    /// Random id, chosen by the app.
    pub id: String,
    /// USCC of the asking institution.
    pub institution: String,
    /// The staff member (or system) who asked, as the institution names them.
    pub staff: String,
    /// The matter code the request is for.
    pub matter: String,
    /// Why, in the institution's words.
    pub purpose: String,
    /// Identifier of the license version the request concerns.
    pub identifier: String,
    /// Lineage of that license.
    pub lineage: String,
    /// Keyed hash of the holder code (the wallet lists requests by it).
    pub holder_key: String,
    /// `consent` (the holder decides) or `legal` (the matter's legal basis allows it).
    pub basis: String,
    /// `pending`, `granted` or `refused`.
    pub state: String,
    pub created_at: i64,
    /// A pending request that is not answered by then lapses (unix seconds).
    pub expires_at: i64,
    /// When the holder (or the legal basis) decided, unix seconds.
    pub decided_at: Option<i64>,
    /// The annotated copy (an SD-JWT VC), once granted.
    pub copy: Option<String>,
    /// End of the annotated copy's use, unix seconds, once granted.
    pub copy_until: Option<i64>,
    /// How many days the institution asked to keep the copy.
    pub keep_days: u32,
}

/// Something the region operator did that is not about a license (an API key revoked, an
/// institution or account disabled or enabled, an issuer key retired or revoked). Stored in
/// `operator_events` with its log leaf and, for an action on a party, its opening, in the
/// transaction that applies the change ([`crate::OperatorStore::apply_operator`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorEventRecord {
    /// The operator event's number, assigned by the store (0 when new); operator events are
    /// numbered apart from license events.
    pub seq: i64,
    /// An `elicense_core::OperatorAction` code.
    pub action: String,
    /// What it acted on: an API key id, a kid, an institution code or an account id.
    pub subject: String,
    /// `operator:cli` or `operator:<operator key id>`.
    pub actor: String,
    /// Unix seconds.
    pub at: i64,
    /// For a key revocation: unix seconds from which the key's signatures are invalid.
    pub since: Option<i64>,
}

/// Whose API key: the three tables of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyOwner {
    /// An issuing authority's key (`api_keys`, `elk_…`).
    Issuer,
    /// A relying institution's key (`institution_keys`, `eli_…`).
    Institution,
    /// A region operator's key (`operator_keys`, `elo_…`).
    Operator,
}

/// The change an operator event makes, applied by the store together with the event. Each
/// applies only if it changes something: otherwise the store answers `Conflict` and writes
/// nothing; `NotFound` if its subject does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorChange {
    /// Sets `revoked_at = at` of a key that is not revoked.
    RevokeApiKey {
        owner: ApiKeyOwner,
        id: String,
        at: i64,
    },
    /// Sets (`Some`, if enabled) or clears (`None`, if disabled) an institution's
    /// `disabled_at`.
    InstitutionDisabled {
        code: String,
        disabled_at: Option<i64>,
    },
    /// Sets (`Some`, if enabled) or clears (`None`, if disabled) an account's `disabled_at`;
    /// disabling also ends every open session of the account.
    AccountDisabled {
        account: String,
        disabled_at: Option<i64>,
    },
    /// Sets an issuer key's `not_after` when it has none or a later one.
    RetireKey { kid: String, not_after: i64 },
    /// Sets an issuer key's `revoked_at` when it has none or a later one.
    RevokeKey { kid: String, revoked_at: i64 },
    /// Names the successor of an issuing authority that has none yet and sets its end.
    Succeed {
        code: String,
        successor: String,
        ended_at: i64,
    },
    /// Makes a wallet account (`UsernameTaken` when its username is taken).
    CreateAccount(AccountRecord),
    /// Replaces an account's password hash and ends every open session of the account at
    /// `at`.
    ResetPassword {
        account: String,
        password_hash: String,
        at: i64,
    },
}

/// A log this node witnesses (C2SP tlog-witness): a child's log, by its checkpoint origin,
/// with the log's verifier keys and the head this node last co-signed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessedLogRecord {
    /// The log's checkpoint origin line (unique).
    pub origin: String,
    /// The log's note verifier keys (`<name>+<hex id>+<base64>`), at least one.
    pub vkeys: Vec<String>,
    /// The child node's base URL.
    pub url: String,
    /// Size of the last co-signed checkpoint (0 before the first).
    pub size: u64,
    /// Root of the last co-signed checkpoint (32 bytes); `None` before the first.
    pub root: Option<Vec<u8>>,
    /// The last co-signed checkpoint note, as the log sent it; `None` before the first.
    pub checkpoint: Option<String>,
    /// Unix seconds: when the log was admitted.
    pub admitted_at: i64,
    /// Unix seconds: when the row last changed.
    pub updated_at: i64,
}

/// A compare-and-swap of a witnessed log's head ([`crate::WitnessStore::witness_advance`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessAdvance {
    /// The log's origin.
    pub origin: String,
    /// The size the caller checked the new head against; the swap applies only if the
    /// stored size is still this one.
    pub old_size: u64,
    /// The new head's size (not below `old_size`).
    pub new_size: u64,
    /// The new head's root (32 bytes).
    pub new_root: Vec<u8>,
    /// The new checkpoint note.
    pub checkpoint: String,
    /// Unix seconds.
    pub at: i64,
}

/// What a compare-and-swap of a witnessed log's head did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitnessSwap {
    /// The new head is stored.
    Advanced,
    /// Someone moved the head meanwhile: nothing was written; `size` is the stored size.
    Moved {
        /// The stored size now.
        size: u64,
    },
}

/// A checkpoint a witnessed log signed that is inconsistent with the head this node
/// co-signed: evidence of a forked or rewritten log, kept for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkReportRecord {
    /// Number assigned by the store (0 when new), increasing.
    pub id: i64,
    /// The log's origin.
    pub origin: String,
    /// `root_mismatch` (two signed heads of one size) or `inconsistent` (no valid proof
    /// that the new head extends the co-signed one).
    pub kind: String,
    /// Size of the head this node co-signed.
    pub cosigned_size: u64,
    /// Root of the head this node co-signed (32 bytes).
    pub cosigned_root: Vec<u8>,
    /// The conflicting checkpoint note, as received (its log signature verified).
    pub checkpoint: String,
    /// Unix seconds.
    pub at: i64,
}

/// One of this node's own checkpoints with its parent's cosignature line(s) (child side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosignedCheckpointRecord {
    /// Tree size (unique).
    pub size: u64,
    /// The checkpoint note with the log's signatures and the witness's cosignature lines.
    pub note: String,
    /// Unix seconds.
    pub created_at: i64,
}
