//! The SQLite back-end: one file in WAL mode, one writer thread with group commit
//! (see `writer`), and a small pool of read-only connections used from blocking tasks.
//!
//! Several processes may open the same file (a node and a CLI command): SQLite's locks
//! serialise their writers, and `busy_timeout` makes them wait instead of failing.
//!
//! The database file is its owner's only (mode 0600), whatever the umask: it is created so
//! before SQLite opens it, and an existing one that others could read is tightened (with a
//! warning). SQLite creates the `-wal` and `-shm` files with the database file's mode, so they
//! follow; any left over from a looser past are tightened too.

mod federation;
mod impls;
mod institutions;
mod log;
mod oidc;
pub(crate) mod operator;
pub mod schema;
mod seals;
mod sessions;
mod trust;
mod vci;
mod vp;
mod wallet;
pub(crate) mod witness;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};
use writer::Writer;

/// Slots per status list: 2^20 entries of 2 bits = 256 KiB before compression.
pub const DEFAULT_LIST_CAPACITY: u32 = 1 << 20;

/// How durable a commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=NORMAL`: a commit survives the process being killed (the WAL is in the
    /// OS), not a power cut. SQLite's recommendation for WAL mode; the default.
    Process,
    /// `synchronous=FULL`: every group commit is fsynced.
    Power,
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub durability: Durability,
    pub list_capacity: u32,
    pub readers: usize,
    /// WAL frames (pages) beyond which the checkpointer makes the WAL start over (see
    /// [`WAL_RESTART_FRAMES`], the default).
    pub wal_restart_frames: i64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            durability: Durability::Process,
            list_capacity: DEFAULT_LIST_CAPACITY,
            readers: 8,
            wal_restart_frames: WAL_RESTART_FRAMES,
        }
    }
}

/// How often the checkpointer copies the WAL back into the database (`PASSIVE`: it never
/// waits for readers or the writer, and copies what it can).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// WAL frames (pages) beyond which the checkpointer makes the WAL start over, by default.
///
/// A `PASSIVE` checkpoint never resets the WAL: SQLite starts writing at its beginning again
/// only when a checkpoint has copied every frame and no reader still uses them, and under
/// steady writes new frames arrive while each checkpoint copies. So the WAL of a busy node
/// grew without end (1.8 GB after 120,000 issues), and every frame appended to a growing file
/// made the kernel allocate and zero a new page: a tenth of the writer's time. Past this many
/// frames (256 MiB of 4 KiB pages) a `RESTART` checkpoint copies the few frames written since
/// the last `PASSIVE` one while holding the writer back, and the next commit writes from the
/// WAL's beginning again, over pages the kernel already has. Holding the writer back has its
/// price, so it should be rare: with 64 MiB (a restart about every second under load) issuing
/// ran 5–15% slower than with 256 MiB, which was as fast as never restarting at the start
/// of a run and faster once that WAL had grown (`elicense bench issue`, alternating runs).
const WAL_RESTART_FRAMES: i64 = 65_536;

/// The size (bytes) a WAL that starts over is cut back to (`journal_size_limit`), so that one
/// burst does not keep its disk space.
const WAL_KEEP_BYTES: i64 = 512 << 20;

/// Starts the thread that checkpoints the WAL of the store `inner` every
/// [`CHECKPOINT_EVERY`] on a connection of its own, until the store is dropped (and a last
/// time then).
fn checkpointer(path: &Path, inner: std::sync::Weak<Inner>, restart_frames: i64) -> Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_millis(50))?;
    std::thread::Builder::new()
        // Names fit Linux's 15 characters, so `top -H` and `perf` tell the two threads apart.
        .name("sqlite-ckpt".into())
        .spawn(move || loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            let alive = inner.strong_count() > 0;
            if let Err(e) = checkpoint(&conn, restart_frames) {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
            if !alive {
                return;
            }
        })
        .map_err(|e| StoreError::Unavailable(format!("checkpoint thread: {e}")))?;
    Ok(())
}

/// One round of the checkpointer: copy what can be copied without waiting; then, if the WAL
/// has grown past `restart_frames`, make it start over. Returns the frames in the WAL after the
/// round (`PRAGMA wal_checkpoint`'s `log` column).
fn checkpoint(conn: &Connection, restart_frames: i64) -> rusqlite::Result<i64> {
    let run = |mode: &str| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            r.get::<_, i64>(1)
        })
    };
    let frames = run("PASSIVE")?;
    if frames < restart_frames {
        return Ok(frames);
    }
    // Waits (busy timeout) for the writer's current group and the readers, copies the rest
    // and leaves the WAL to be restarted by the next commit. If it cannot get its turn in
    // time it reports SQLITE_BUSY in the first column and the next round tries again.
    run("RESTART")
}

/// Creates the database file with mode 0600 if it is missing, and removes group and other
/// permissions from it and its `-wal` and `-shm` files when they exist (see the module header).
fn private_files(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io =
            |p: &Path, e: std::io::Error| StoreError::Unavailable(format!("{}: {e}", p.display()));
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| io(path, e))?;
        let companions = ["-wal", "-shm"].map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        });
        for p in std::iter::once(path.to_path_buf()).chain(companions) {
            let mode = match std::fs::metadata(&p) {
                Ok(meta) => meta.permissions().mode() & 0o7777,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&p, e)),
            };
            if mode & 0o077 != 0 {
                let tight = mode & 0o700;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(tight))
                    .map_err(|e| io(&p, e))?;
                tracing::warn!(
                    path = %p.display(),
                    was = format!("{mode:o}"),
                    now = format!("{tight:o}"),
                    "others could read this database file: permissions tightened"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The writer connection's page cache, in KiB (`PRAGMA cache_size` takes a negative KiB count).
const WRITER_CACHE_KIB: i64 = -65_536;

/// A store in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    /// One permit per reader connection: a read waits for a free connection instead of
    /// opening one more (opening parses the schema and starts with an empty statement
    /// cache; under many concurrent reads that churn cost more than the reads).
    reader_permits: Arc<tokio::sync::Semaphore>,
    options: SqliteOptions,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        private_files(&path)?;
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match options.durability {
            Durability::Process => "NORMAL",
            Durability::Power => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // The one writer's page cache: 64 MiB instead of SQLite's 2 MiB default, so that the
        // interior and leaf pages of the random-key indexes (the keyed holder hash) stay in
        // memory as the store grows instead of being read back for every insert.
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        // Each write job runs in its own SAVEPOINT (see `writer`), so SQLite copies every page
        // a job changes first into a statement journal, a temporary file by default: one
        // pwrite per page per job, an eighth of the writer's time in a bulk import. In memory
        // the copy is a memcpy, and it is dropped at RELEASE.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        schema::migrate(&mut conn)?;
        // The WAL is copied back into the database by a thread of its own (`checkpointer`),
        // not by whichever commit crosses SQLite's 1,000-page mark: in the writer that copy
        // was 6% of issuing's time, and every writer waited for it.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES)?;
        let store = SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Writer::spawn(conn),
                readers: Mutex::new(Vec::new()),
                reader_permits: Arc::new(tokio::sync::Semaphore::new(options.readers.max(1))),
                options,
            }),
        };
        checkpointer(
            &store.inner.path,
            Arc::downgrade(&store.inner),
            store.inner.options.wal_restart_frames,
        )?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn open_reader(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.inner.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    /// Runs `f` on a pooled read-only connection in a blocking task.
    async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let this = self.clone();
        let permit = this
            .inner
            .reader_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Unavailable(format!("reader pool closed: {e}")))?;
        (move || {
            let _permit = permit;
            let pooled = this.inner.readers.lock().expect("reader pool").pop();
            let conn = match pooled {
                Some(c) => c,
                None => this.open_reader()?,
            };
            let out = f(&conn);
            let mut pool = this.inner.readers.lock().expect("reader pool");
            if pool.len() < this.inner.options.readers {
                pool.push(conn);
            }
            out
        })()
    }

    async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }
}
