//! The PostgreSQL back-end, for a region's production node: a deadpool-postgres pool whose
//! connections all use one schema (`search_path`), migrations applied at connect, and the
//! storage traits with the same semantics and error codes as the SQLite back-end.
//!
//! Concurrency (several nodes and CLI commands may share one database):
//! - every write is one transaction on one pooled connection; an `Ok` means it committed;
//! - `reserve` takes the `(type, issuer)` serials row by `INSERT .. ON CONFLICT DO UPDATE ..
//!   RETURNING` (a row lock), then a transaction-scoped advisory lock per issuer and a row lock
//!   on the issuer's current status list; a new list id (max + 1) is chosen under a lock of its
//!   own, so no slot or serial is ever handed out twice;
//! - writers that append events hold a shared advisory "event order" lock until they commit;
//!   `status_epoch` reads `max(seq)` of the events that may change a status and then takes
//!   that lock exclusively for an instant, so it only answers once every event numbered below
//!   its answer has committed or rolled back (sequence numbers are handed out in start order,
//!   not commit order; without this, a status-list cache could record an epoch that a slower,
//!   lower-numbered commit never moves). Wallet events (uses, authorizations) take the lock
//!   too, as every event writer does, but are not counted by the epoch; so do the events of
//!   institutions' sharing requests and their decisions;
//! - an event that leaves its license as it is locks the license row `FOR SHARE` while it
//!   reads the status its log entry carries, so a concurrent transition is wholly before or
//!   after it in the log.
//!
//! The schema layout (hash partitions, claim tables, indexes) is described in [`schema`]; the
//! layout on a Citus cluster (`distributed`) in `distributed`.

mod batch;
mod distributed;
mod errors;
mod federation;
mod impls;
mod institutions;
mod licenses;
mod log;
mod oidc;
mod operator;
pub mod queries;
mod rows;
pub mod schema;
mod seals;
mod sessions;
mod trust;
mod vci;
mod vp;
mod wallet;
mod witness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::error::{Result, StoreError};
use distributed::Layout;
pub use schema::{MigrationStatus, SCHEMA_VERSION};

/// Slots per status list, as in the SQLite back-end.
pub const DEFAULT_LIST_CAPACITY: u32 = crate::sqlite::DEFAULT_LIST_CAPACITY;

/// The schema used when neither the options nor the URL name one.
pub const DEFAULT_SCHEMA: &str = "elicense";

/// Options for connecting a store.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Schema holding the tables; overrides a `?schema=` in the URL. Created if missing.
    /// A lowercase SQL identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes).
    pub schema: Option<String>,
    /// Connections in the pool.
    pub pool_size: usize,
    pub list_capacity: u32,
    /// How long to try to open one connection.
    pub connect_timeout: Duration,
    /// How long a caller waits for a free (or new) pooled connection.
    pub wait_timeout: Duration,
    /// How long sent data may stay unacknowledged (`TCP_USER_TIMEOUT`), and roughly how soon
    /// TCP keepalives find a silent peer, before a connection to a server that vanished (host
    /// down, cable cut: no RST ever arrives) fails with `store.unavailable` instead of
    /// hanging for the kernel's ~15 minutes of retransmissions. A URL's own `tcp_user_timeout`
    /// or `keepalives_idle` wins.
    pub io_timeout: Duration,
    /// On a Citus coordinator: spread the license tables over the workers at migration (a
    /// province's store; see docs/SCALE.md). A URL's `distributed=true` sets it too. Fails
    /// with `store.unavailable` without the `citus` extension. A schema distributed once stays
    /// so, whatever later stores ask.
    pub distributed: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: None,
            pool_size: 16,
            list_capacity: DEFAULT_LIST_CAPACITY,
            connect_timeout: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(30),
            distributed: false,
        }
    }
}

/// A store in one schema of a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    schema: String,
    options: PgOptions,
    /// New licenses waiting for the next group commit (`batch`).
    group: batch::GroupState,
    /// Whether the schema's license tables are distributed (set by `migrate`).
    distributed: AtomicBool,
}

/// Advisory-lock classes (first key); the second key is a hash of the schema (and issuer or
/// type code), so stores in different schemas of one database never wait for each other.
const LOCK_EVENT_ORDER: i32 = 0x454c_0002;
const LOCK_LIST_IDS: i32 = 0x454c_0003;
const LOCK_ISSUER_LISTS: i32 = 0x454c_0004;
const LOCK_CATALOGUE: i32 = 0x454c_0005;

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db?schema=name`, or a key=value string
    /// with `schema=name`), creates the schema if needed and applies pending migrations.
    pub async fn connect(url: &str, options: PgOptions) -> Result<PgStore> {
        let store = PgStore::connect_unmigrated(url, options).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Like [`PgStore::connect`] but leaves the schema as it is (`elicense db status`); the
    /// pool connects lazily, so this succeeds even while the server is down.
    pub async fn connect_unmigrated(url: &str, mut options: PgOptions) -> Result<PgStore> {
        options.distributed |= url_distributed(url)?;
        let (conninfo, url_schema) = split_schema(url);
        let schema = options
            .schema
            .clone()
            .or(url_schema)
            .unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
        check_schema_name(&schema)?;
        let mut config: tokio_postgres::Config = conninfo
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
        config.connect_timeout(options.connect_timeout);
        apply_io_timeout(&mut config, options.io_timeout);
        let search_path = format!("-c search_path={schema}");
        let pg_options = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} {search_path}"),
            _ => search_path,
        };
        config.options(pg_options);
        if config.get_application_name().is_none() {
            config.application_name("elicense");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| StoreError::Unavailable(format!("PostgreSQL pool: {e}")))?;
        let store = PgStore {
            inner: Arc::new(Inner {
                pool,
                schema,
                options,
                group: Default::default(),
                distributed: AtomicBool::new(false),
            }),
        };
        Ok(store)
    }

    /// Applies pending migrations (idempotent); returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        let mut client = self.client().await?;
        let (applied, layout) = schema::migrate(
            &mut client,
            &self.inner.schema,
            self.inner.options.distributed,
        )
        .await?;
        self.inner
            .distributed
            .store(layout == Layout::Distributed, Ordering::Relaxed);
        if applied > 0 {
            tracing::info!(schema = %self.inner.schema, applied, "PostgreSQL schema migrated");
        }
        Ok(applied)
    }

    /// Where the schema stands: applied migrations and what this build would apply.
    pub async fn status(&self) -> Result<MigrationStatus> {
        let client = self.client().await?;
        schema::status(&client, &self.inner.schema).await
    }

    /// The schema this store uses.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// Whether the schema's license tables are distributed over a Citus cluster (known once
    /// the store has migrated: `connect` does).
    pub fn is_distributed(&self) -> bool {
        self.layout() == Layout::Distributed
    }

    fn layout(&self) -> Layout {
        if self.inner.distributed.load(Ordering::Relaxed) {
            Layout::Distributed
        } else {
            Layout::Partitioned
        }
    }

    /// A pooled connection (its `search_path` is the store's schema).
    async fn client(&self) -> Result<Object> {
        Ok(self.inner.pool.get().await?)
    }

    /// The second key of a scoped advisory lock.
    fn lock_key(&self, scope: &str) -> String {
        format!("{}/{scope}", self.inner.schema)
    }
}

/// Takes the `schema` parameter out of a connection string (tokio-postgres rejects unknown
/// parameters): a `postgres://` URL's query or a keyword/value string. The store's other
/// parameter, `distributed` (see [`url_distributed`]), is taken out too.
pub fn split_schema(url: &str) -> (String, Option<String>) {
    let ours = |kv: &str| kv.starts_with("distributed=");
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return (url.to_owned(), None);
        };
        let mut schema = None;
        let rest: Vec<&str> = query
            .split('&')
            .filter(|kv| match kv.strip_prefix("schema=") {
                Some(s) => {
                    schema = Some(s.to_owned());
                    false
                }
                None => !kv.is_empty() && !ours(kv),
            })
            .collect();
        let conninfo = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        (conninfo, schema)
    } else {
        let mut schema = None;
        let rest: Vec<&str> = url
            .split_whitespace()
            .filter(|kv| match kv.strip_prefix("schema=") {
                Some(s) => {
                    schema = Some(s.to_owned());
                    false
                }
                None => !ours(kv),
            })
            .collect();
        (rest.join(" "), schema)
    }
}

/// The `distributed` parameter of a connection string (`true` or `false`; absent is false).
pub fn url_distributed(url: &str) -> Result<bool> {
    let params: Vec<&str> = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url.split_once('?')
            .map_or(vec![], |(_, q)| q.split('&').collect())
    } else {
        url.split_whitespace().collect()
    };
    let mut on = false;
    for v in params
        .iter()
        .filter_map(|kv| kv.strip_prefix("distributed="))
    {
        on = match v {
            "true" => true,
            "false" => false,
            _ => {
                return Err(StoreError::Unavailable(format!(
                    "bad PostgreSQL URL: distributed={v:?}, use true or false"
                )))
            }
        };
    }
    Ok(on)
}

/// Schema names are spliced into SQL and the connection's options: only plain lowercase
/// identifiers are accepted.
fn check_schema_name(schema: &str) -> Result<()> {
    let mut chars = schema.chars();
    let ok = schema.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Unavailable(format!(
            "bad schema name {schema:?}: use [a-z_][a-z0-9_]*, at most 63 bytes"
        )))
    }
}

/// Keepalives and `TCP_USER_TIMEOUT` from `io_timeout`, unless the URL chose its own.
fn apply_io_timeout(config: &mut tokio_postgres::Config, io_timeout: Duration) {
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(io_timeout);
    }
    config.keepalives(true);
    // The library's default idle time is two hours: a URL that set a shorter one keeps it.
    let idle = (io_timeout / 3).max(Duration::from_secs(1));
    if config.get_keepalives_idle() > idle {
        config.keepalives_idle(idle);
        config.keepalives_interval((io_timeout / 10).max(Duration::from_secs(1)));
        config.keepalives_retries(3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_peers_time_out_unless_the_url_says_otherwise() {
        let mut c: tokio_postgres::Config = "postgres://u@h/db".parse().unwrap();
        apply_io_timeout(&mut c, Duration::from_secs(30));
        assert_eq!(c.get_tcp_user_timeout(), Some(&Duration::from_secs(30)));
        assert!(c.get_keepalives());
        assert_eq!(c.get_keepalives_idle(), Duration::from_secs(10));
        let mut c: tokio_postgres::Config =
            "postgres://u@h/db?tcp_user_timeout=5&keepalives_idle=2"
                .parse()
                .unwrap();
        apply_io_timeout(&mut c, Duration::from_secs(30));
        assert_eq!(c.get_tcp_user_timeout(), Some(&Duration::from_secs(5)));
        assert_eq!(c.get_keepalives_idle(), Duration::from_secs(2));
    }

    #[test]
    fn schema_comes_out_of_the_url() {
        assert_eq!(
            split_schema("postgres://u@h:5/db?schema=t_1&connect_timeout=3"),
            (
                "postgres://u@h:5/db?connect_timeout=3".to_owned(),
                Some("t_1".to_owned())
            )
        );
        assert_eq!(
            split_schema("postgres://u@h/db?schema=a"),
            ("postgres://u@h/db".to_owned(), Some("a".to_owned()))
        );
        assert_eq!(
            split_schema("host=h dbname=d schema=x"),
            ("host=h dbname=d".to_owned(), Some("x".to_owned()))
        );
        assert_eq!(split_schema("postgres://h/db").1, None);
    }

    #[test]
    fn distributed_comes_out_of_the_url() {
        let url = "postgres://u@h/db?schema=p&distributed=true&connect_timeout=3";
        assert!(url_distributed(url).unwrap());
        assert_eq!(
            split_schema(url),
            (
                "postgres://u@h/db?connect_timeout=3".to_owned(),
                Some("p".to_owned())
            )
        );
        assert!(!url_distributed("postgres://u@h/db?schema=p").unwrap());
        assert!(!url_distributed("postgres://u@h/db?distributed=false").unwrap());
        assert!(url_distributed("host=h distributed=true").unwrap());
        assert_eq!(split_schema("host=h distributed=true").0, "host=h");
        assert_eq!(
            url_distributed("postgres://h/db?distributed=yes")
                .unwrap_err()
                .code(),
            "store.unavailable"
        );
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(check_schema_name("t_abc123").is_ok());
        assert!(check_schema_name("elicense").is_ok());
        for bad in ["", "1a", "A", "a-b", "a;drop", "a b", &"x".repeat(64)] {
            assert_eq!(
                check_schema_name(bad).unwrap_err().code(),
                "store.unavailable"
            );
        }
    }
}
