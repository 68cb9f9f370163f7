//! The storage traits, one per capability. The app layer depends on these, never on a back-end.

use async_trait::async_trait;

use crate::error::Result;
use crate::records::*;

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
    /// Reserves `n` serial numbers for (type, issuer) and `n` slots in the issuer's lists.
    async fn reserve(&self, type_code: &str, issuer: &str, n: u32) -> Result<Reservation>;
    /// Stores a new license version, its event and journal row in one transaction.
    async fn insert(&self, new: NewLicense) -> Result<EventRecord>;
    /// Applies a transition (and stores its successor) in one transaction.
    async fn transition(&self, t: TransitionRecord) -> Result<EventRecord>;
    async fn license(&self, identifier: &str) -> Result<Option<LicenseRecord>>;
    /// Every version of the license with this lineage, oldest first.
    async fn versions(&self, lineage: &str) -> Result<Vec<LicenseRecord>>;
    /// Licenses of one holder (by keyed hash), newest first.
    async fn by_holder(&self, holder_key: &str) -> Result<Vec<LicenseRecord>>;
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
    /// A number that changes whenever any status changes (the last event sequence).
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

/// Everything a node needs from storage.
pub trait Store:
    CatalogueStore
    + IssuerStore
    + ApiKeyStore
    + LicenseStore
    + StatusListStore
    + ImportJournal
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
        + crate::log::EventLogStore
{
}
