//! The storage traits, one per capability. The app layer depends on these, never on a back-end.

use async_trait::async_trait;

use crate::error::Result;
use crate::records::*;

/// Most device-key bindings one license version keeps (the oldest is dropped).
pub const MAX_BINDINGS: usize = 5;

/// The license-type catalogue, versioned per type code.
#[async_trait]
pub trait CatalogueStore: Send + Sync {
    /// Stores a definition; returns its version: the latest version when the definition is
    /// unchanged, else a new version one above it.
    async fn put_type(&self, code: &str, definition: &str, at: i64) -> Result<u32>;
    /// The latest version of every type, ordered by code.
    async fn types(&self) -> Result<Vec<CatalogueEntry>>;
    /// One version of one type; `None` version means the latest.
    async fn type_version(
        &self,
        code: &str,
        version: Option<u32>,
    ) -> Result<Option<CatalogueEntry>>;
}

/// Issuing authorities and their keys.
#[async_trait]
pub trait IssuerStore: Send + Sync {
    async fn put_issuer(&self, issuer: IssuerRecord) -> Result<()>;
    async fn issuers(&self) -> Result<Vec<IssuerRecord>>;
    async fn issuer(&self, code: &str) -> Result<Option<IssuerRecord>>;
    async fn put_key(&self, key: KeyRecord) -> Result<()>;
    /// Every key of one issuer (revoked ones too), oldest first.
    async fn keys(&self, issuer: &str) -> Result<Vec<KeyRecord>>;
    /// Every key of every issuer, oldest first.
    async fn all_keys(&self) -> Result<Vec<KeyRecord>>;
}

/// API keys by which machines act for an issuer.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn put_api_key(&self, key: ApiKeyRecord) -> Result<()>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
}

/// Licenses and their lifecycle events.
#[async_trait]
pub trait LicenseStore: Send + Sync {
    /// Reserves `n` serial numbers for (type, issuer) and `n` slots in the issuer's lists of
    /// algorithm `alg` (`KeyRecord::alg`): serials count per (type, issuer) whatever the
    /// algorithm, slots go only to lists recorded with `alg` (a new one when none has room;
    /// lists without an algorithm get no new slots).
    async fn reserve(
        &self,
        type_code: &str,
        issuer: &str,
        alg: &str,
        n: u32,
    ) -> Result<Reservation>;
    /// Stores a new license version, its event and journal row in one transaction.
    async fn insert(&self, new: NewLicense) -> Result<EventRecord>;
    /// Applies a transition (and stores its successor) in one transaction.
    async fn transition(&self, t: TransitionRecord) -> Result<EventRecord>;
    async fn license(&self, identifier: &str) -> Result<Option<LicenseRecord>>;
    /// The metadata (GB/T 36903 JSON) of each stored version named, as `(identifier, meta)`
    /// pairs in no particular order; names not stored are left out. One read for many
    /// versions, without their credentials (upward sync reads a batch's holders with it).
    async fn metas(&self, identifiers: &[String]) -> Result<Vec<(String, String)>>;
    /// Every version of the license with this lineage, oldest first.
    async fn versions(&self, lineage: &str) -> Result<Vec<LicenseRecord>>;
    /// Licenses of one holder (by keyed hash), newest first.
    async fn by_holder(&self, holder_key: &str) -> Result<Vec<LicenseRecord>>;
    /// The versions that are not superseded and name this keyed hash as the holder's legal
    /// representative, newest first.
    async fn represented_by(&self, representative_key: &str) -> Result<Vec<LicenseRecord>>;
    /// Identifiers of licenses in `valid` or `suspended` whose validity ended before `before`.
    async fn expiring(&self, before: i64, limit: u32) -> Result<Vec<String>>;
    /// Events of every version of a lineage, in order.
    async fn events(&self, lineage: &str) -> Result<Vec<EventRecord>>;
    /// Number of license versions stored.
    async fn count(&self) -> Result<u64>;
}

/// Token Status List contents, derived from license statuses.
#[async_trait]
pub trait StatusListStore: Send + Sync {
    /// Every list that has at least one slot, by id.
    async fn lists(&self) -> Result<Vec<StatusListRecord>>;
    async fn list(&self, id: u32) -> Result<Option<StatusListRecord>>;
    /// Slots of a list whose value is not 0.
    async fn non_valid(&self, list: u32) -> Result<Vec<StatusEntry>>;
    /// A number that changes whenever any status changes: the sequence number of the last
    /// issue or lifecycle event. Events that leave every status as it was (uses and
    /// authorizations, written by [`WalletStore`]) do not move it, so a status-list cache keyed
    /// by it is not rebuilt because a license was presented or verified.
    async fn status_epoch(&self) -> Result<i64>;
}

/// The bulk-import journal, for resuming a killed import.
#[async_trait]
pub trait ImportJournal: Send + Sync {
    /// Starts or resumes a job; returns the rows already done.
    async fn begin_job(&self, job: &str, source: &str, at: i64) -> Result<Vec<ImportRowRecord>>;
    /// Journals a row that failed (rows that succeed are journalled by `LicenseStore::insert`).
    async fn record_failure(&self, row: ImportRowRecord) -> Result<()>;
    async fn job_rows(&self, job: &str) -> Result<Vec<ImportRowRecord>>;
}

/// The holder wallet: accounts, device-key bindings, prepared presentations and the holder's
/// authorizations of agents. Authorizations and uses of a license are events: each is written
/// with its event and log entry in one transaction, like a lifecycle event, but leaves the
/// license (and so [`StatusListStore::status_epoch`]) as it is; the log entry carries the
/// version's current status, pledge and credential hash.
#[async_trait]
pub trait WalletStore: Send + Sync {
    /// Stores a new account. A username another account has is `UsernameTaken`
    /// (`account.username_taken`); an id in use is `Duplicate`.
    async fn put_account(&self, a: AccountRecord) -> Result<()>;
    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>>;
    async fn account(&self, id: &str) -> Result<Option<AccountRecord>>;
    /// Inserts or replaces the binding for (identifier, jkt), then keeps only the
    /// [`MAX_BINDINGS`] newest bindings of the identifier (the oldest are dropped), in one
    /// transaction.
    async fn put_binding(&self, b: BindingRecord) -> Result<()>;
    async fn binding(&self, identifier: &str, jkt: &str) -> Result<Option<BindingRecord>>;
    /// Stores a new (prepared) presentation (an id in use is `Duplicate`).
    async fn put_presentation(&self, p: PresentationRecord) -> Result<()>;
    /// Completes a prepared presentation: stores the whole `presentation`, `completed_at = at`
    /// and the new `expires_at`, and appends `event` (`present`) and its log entry, in one
    /// transaction. `NotFound` if there is no such id, `Conflict` if it was completed already
    /// (nothing is written then).
    async fn complete_presentation(
        &self,
        id: &str,
        presentation: &str,
        at: i64,
        expires_at: i64,
        event: EventRecord,
    ) -> Result<EventRecord>;
    /// Records the first opening of a completed presentation: sets `opened_at = at` and
    /// appends `event` (`verify`) in one transaction, if it was never opened; `Ok(None)` (and
    /// nothing written) if it was. `NotFound` if there is no such id.
    async fn open_presentation(
        &self,
        id: &str,
        at: i64,
        event: EventRecord,
    ) -> Result<Option<EventRecord>>;
    /// A presentation by id, expired or not (until purged).
    async fn presentation(&self, id: &str) -> Result<Option<PresentationRecord>>;
    /// Deletes presentations that expired before `before`; returns how many.
    async fn purge_presentations(&self, before: i64) -> Result<u64>;
    /// Stores a new authorization and appends `event` (kind e.g. `authorize`, about the
    /// license version `a.identifier`) and its log entry in one transaction. `NotFound` if
    /// the event's license does not exist, `Duplicate` if the id is in use. Returns the stored
    /// event.
    async fn put_authorization(
        &self,
        a: AuthorizationRecord,
        event: EventRecord,
    ) -> Result<EventRecord>;
    /// Authorizations of every version of a lineage, newest first (withdrawn ones too).
    async fn authorizations(&self, lineage: &str) -> Result<Vec<AuthorizationRecord>>;
    /// Authorizations granted to an agent (by keyed hash), newest first (withdrawn ones too).
    async fn authorizations_for_agent(&self, agent_key: &str) -> Result<Vec<AuthorizationRecord>>;
    /// Marks an authorization withdrawn at `at` and appends `event` (`authorize_withdraw`)
    /// and its log entry in one transaction. `NotFound` if there is no such id, `Conflict` if
    /// it was withdrawn already (nothing is written then).
    async fn withdraw_authorization(
        &self,
        id: &str,
        at: i64,
        event: EventRecord,
    ) -> Result<EventRecord>;
    /// Records a use of a license version (kind e.g. `present`, `verify`, `face_download`):
    /// appends the event and its log entry in one transaction; the license is unchanged.
    /// `NotFound` if the license does not exist.
    async fn record_use(&self, event: EventRecord) -> Result<EventRecord>;
}

/// Wallet sessions and the record of failed sign-ins. Sessions are rows so that they can be
/// ended at once (sign-out, a disabled account) and time out when idle.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session; an id in use is `Duplicate`.
    async fn put_session(&self, s: SessionRecord) -> Result<()>;
    async fn session(&self, id: &str) -> Result<Option<SessionRecord>>;
    /// Moves `last_seen` of an open session forward to `at` (never back); an ended or unknown
    /// session is left as it is.
    async fn touch_session(&self, id: &str, at: i64) -> Result<()>;
    /// Ends an open session at `at`; `false` when it was ended already or does not exist.
    async fn end_session(&self, id: &str, at: i64) -> Result<bool>;
    /// Deletes sessions started before `before`; returns how many.
    async fn purge_sessions(&self, before: i64) -> Result<u64>;
    async fn record_sign_in_failure(&self, f: SignInFailureRecord) -> Result<()>;
    /// Failed sign-ins of one account, newest first (insertion order breaks ties), at most
    /// `limit`.
    async fn sign_in_failures(&self, account: &str, limit: u32)
        -> Result<Vec<SignInFailureRecord>>;
    /// Deletes failed sign-ins recorded before `before`; returns how many.
    async fn purge_sign_in_failures(&self, before: i64) -> Result<u64>;
}

/// Relying institutions, their API keys and their sharing requests. Like authorizations, a
/// request and its decision are uses of a license: each write stores the row and appends its
/// events (`share_query`, `consent`, `refusal`, `annotated_copy`) with their log entries in
/// one transaction, leaving the license (and [`StatusListStore::status_epoch`]) as it is.
#[async_trait]
pub trait InstitutionStore: Send + Sync {
    /// Inserts an institution or replaces its name, area and matters. The first `created_at`
    /// and the stored `disabled_at` stay: only an operator event
    /// ([`OperatorChange::InstitutionDisabled`]) changes whether an institution is disabled,
    /// so re-registering never enables one (a new institution is stored with the record's
    /// `disabled_at`).
    async fn put_institution(&self, i: InstitutionRecord) -> Result<()>;
    async fn institution(&self, code: &str) -> Result<Option<InstitutionRecord>>;
    /// Every institution, ordered by code.
    async fn institutions(&self) -> Result<Vec<InstitutionRecord>>;
    /// Stores an API key of an institution (`key.issuer` is the institution's code).
    /// `NotFound` if the institution does not exist, `Duplicate` if the id is in use.
    async fn put_institution_key(&self, key: ApiKeyRecord) -> Result<()>;
    async fn institution_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
    /// Inserts a staff member or replaces their name and matters; the first `created_at`
    /// stays, and so does `disabled_at` (changed only by [`Self::set_staff_disabled`]).
    /// `NotFound` if the institution does not exist.
    async fn put_staff(&self, s: StaffRecord) -> Result<()>;
    /// Inserts or replaces an institution's form for a matter. `NotFound` if the institution
    /// does not exist.
    async fn put_form(&self, f: FormRecord) -> Result<()>;
    async fn form(&self, institution: &str, matter: &str) -> Result<Option<FormRecord>>;
    async fn staff(&self, institution: &str, username: &str) -> Result<Option<StaffRecord>>;
    /// An institution's staff, by username.
    async fn staff_of(&self, institution: &str) -> Result<Vec<StaffRecord>>;
    /// The staff records (of any institution) a person is, by the keyed hash of their
    /// resident ID, by institution and username.
    async fn staff_by_person(&self, person_key: &str) -> Result<Vec<StaffRecord>>;
    /// Sets (`Some`) or clears (`None`) a staff member's `disabled_at`; false if there is no
    /// such staff member.
    async fn set_staff_disabled(
        &self,
        institution: &str,
        username: &str,
        disabled_at: Option<i64>,
    ) -> Result<bool>;
    /// Stores a new request and appends `events` (in order; `share_query`, and for a legal
    /// basis also `annotated_copy`) in one transaction. `NotFound` if an event's license does
    /// not exist, `Duplicate` if the id is in use. Returns the stored events.
    async fn put_share(&self, s: ShareRecord, events: Vec<EventRecord>)
        -> Result<Vec<EventRecord>>;
    async fn share(&self, id: &str) -> Result<Option<ShareRecord>>;
    /// Requests about licenses of these holders (keyed hashes), newest first.
    async fn shares_for_holders(&self, holder_keys: &[String]) -> Result<Vec<ShareRecord>>;
    /// Requests of one institution, newest first, at most `limit`.
    async fn shares_of_institution(
        &self,
        institution: &str,
        limit: u32,
    ) -> Result<Vec<ShareRecord>>;
    /// Decides a pending request: sets `state`, `decided_at`, `copy` and `copy_until` and
    /// appends `events` in one transaction. `NotFound` if there is no such id, `Conflict` if
    /// it is no longer `pending` (nothing is written then). Returns the stored events.
    async fn decide_share(
        &self,
        id: &str,
        state: &str,
        at: i64,
        copy: Option<(String, i64)>,
        events: Vec<EventRecord>,
    ) -> Result<Vec<EventRecord>>;
}

/// The region operator's keys and events. Every operator event is written with the change it
/// makes and its log leaf (and, for an action on a party, its opening) in one transaction.
#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Stores an operator API key (`key.issuer` is not used); `Duplicate` if the id is in use.
    async fn put_operator_key(&self, key: ApiKeyRecord) -> Result<()>;
    /// An operator key by id (`issuer` is empty).
    async fn operator_key(&self, id: &str) -> Result<Option<ApiKeyRecord>>;
    /// Applies `change`, stores `event` (its `seq` assigned) and appends its leaf, in one
    /// transaction. `NotFound` if the change's subject does not exist, `Conflict` if the
    /// change would change nothing (then nothing is written), `Invalid` if the event cannot
    /// be logged (unknown action). Returns the stored event and its leaf index.
    async fn apply_operator(
        &self,
        change: OperatorChange,
        event: OperatorEventRecord,
    ) -> Result<(OperatorEventRecord, u64)>;
    /// Operator events with number above `after`, oldest first, at most `limit`.
    async fn operator_events(&self, after: i64, limit: u32) -> Result<Vec<OperatorEventRecord>>;
    /// The operator events with these numbers (those that exist), by number.
    async fn operator_events_by_seq(&self, seqs: Vec<i64>) -> Result<Vec<OperatorEventRecord>>;
    /// The stored openings of the committed operator events with these numbers.
    async fn operator_openings(
        &self,
        seqs: Vec<i64>,
    ) -> Result<Vec<crate::log::OperatorOpeningRecord>>;
}

/// Witnessing (C2SP tlog-witness): the logs this node co-signs as a parent, the forks it saw,
/// and, as a child, its own checkpoints co-signed by its parent.
#[async_trait]
pub trait WitnessStore: Send + Sync {
    /// Admits a log (or, for a known origin, replaces its keys and URL; its head stays).
    async fn witness_admit(
        &self,
        origin: &str,
        vkeys: Vec<String>,
        url: &str,
        at: i64,
    ) -> Result<()>;
    /// A witnessed log by origin.
    async fn witnessed_log(&self, origin: &str) -> Result<Option<WitnessedLogRecord>>;
    /// Every witnessed log, by origin.
    async fn witnessed_logs(&self) -> Result<Vec<WitnessedLogRecord>>;
    /// Stores a new head atomically if the stored size is still `old_size`, else answers
    /// `Moved` with the stored size and writes nothing. `NotFound` for an unknown origin,
    /// `Invalid` if `new_size < old_size`.
    async fn witness_advance(&self, advance: WitnessAdvance) -> Result<WitnessSwap>;
    /// Records a fork report; returns its number.
    async fn put_fork_report(&self, report: ForkReportRecord) -> Result<i64>;
    /// Fork reports numbered above `after`, oldest first, at most `limit`.
    async fn fork_reports(&self, after: i64, limit: u32) -> Result<Vec<ForkReportRecord>>;
    /// Stores (or replaces, for the same size) one of this node's co-signed checkpoints.
    async fn put_cosigned_checkpoint(&self, c: CosignedCheckpointRecord) -> Result<()>;
    /// This node's co-signed checkpoint of `size`, if any.
    async fn cosigned_checkpoint(&self, size: u64) -> Result<Option<CosignedCheckpointRecord>>;
    /// This node's largest co-signed checkpoint, if any.
    async fn latest_cosigned_checkpoint(&self) -> Result<Option<CosignedCheckpointRecord>>;
}

/// Everything a node needs from storage.
pub trait Store:
    CatalogueStore
    + IssuerStore
    + ApiKeyStore
    + LicenseStore
    + StatusListStore
    + ImportJournal
    + WalletStore
    + SessionStore
    + InstitutionStore
    + OperatorStore
    + crate::federation::FederationStore
    + WitnessStore
    + crate::trust::TrustStore
    + crate::oidc::OidcStore
    + crate::vp::PresentationRequestStore
    + crate::vci::VciStore
    + crate::seals::SealStore
    + crate::log::EventLogStore
{
}

impl<T> Store for T where
    T: CatalogueStore
        + IssuerStore
        + ApiKeyStore
        + LicenseStore
        + StatusListStore
        + ImportJournal
        + WalletStore
        + SessionStore
        + InstitutionStore
        + OperatorStore
        + crate::federation::FederationStore
        + WitnessStore
        + crate::trust::TrustStore
        + crate::oidc::OidcStore
        + crate::vp::PresentationRequestStore
        + crate::vci::VciStore
        + crate::seals::SealStore
        + crate::log::EventLogStore
{
}
