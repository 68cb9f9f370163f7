//! The conformance suite on SQLite (a real file per test), plus SQLite-only checks.

mod suite;

use elicense_store::sqlite::SqliteOptions;
use elicense_store::*;

async fn fresh() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("db.sqlite"), SqliteOptions::default()).unwrap();
    (store, dir)
}

conformance_tests!(fresh);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_roll_over_at_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SqliteOptions {
        list_capacity: 4,
        ..Default::default()
    };
    let s = SqliteStore::open(dir.path().join("db.sqlite"), opts).unwrap();
    let r = s.reserve("T", "I", "sm2", 6).await.unwrap();
    assert_eq!(
        r.slots,
        vec![(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)]
    );
    // Another issuer gets lists of its own.
    let other = s.reserve("T", "J", "sm2", 1).await.unwrap();
    assert_eq!(other.slots, vec![(3, 0)]);
    let lists: Vec<_> = s
        .lists()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l.issuer, l.len))
        .collect();
    assert_eq!(
        lists,
        vec![(1, "I".into(), 4), (2, "I".into(), 2), (3, "J".into(), 1)]
    );
    assert_eq!(s.list(2).await.unwrap().unwrap().len, 2);
    assert!(s.list(9).await.unwrap().is_none());
}

/// A database from before lists had an algorithm (schema 15): the migration keeps its lists
/// without one, and new slots go to new lists of their algorithm, never to an old list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_from_before_algorithms_keep_none_and_get_no_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let s = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let old = s.reserve("T", "I", "sm2", 2).await.unwrap();
    drop(s);
    {
        // Back to schema 15, as the file was before the migration.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TABLE key_certificates; \
             DROP TABLE seal_uses; DROP TABLE seals; DROP TABLE seal_cas; \
             DROP TABLE vci_nonces; DROP TABLE vci_offers; \
             DROP INDEX staff_person; ALTER TABLE staff DROP COLUMN person_key; \
             DROP TABLE vp_requests; DROP TABLE forms; \
             DROP INDEX status_lists_issuer_alg; ALTER TABLE status_lists DROP COLUMN alg; \
             PRAGMA user_version = 15;",
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    suite::old_list_keeps_no_algorithm_and_gets_no_slots(&s, &old).await;
}

/// Two stores on one file (as a node and a CLI command would be) allocate concurrently
/// without handing out a slot or serial twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_on_one_file_never_collide() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let a = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let b = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let ta = tokio::spawn(async move {
        let mut v = Vec::new();
        for _ in 0..100 {
            v.push(a.reserve("T", "I", "sm2", 3).await.unwrap());
        }
        v
    });
    let tb = tokio::spawn(async move {
        let mut v = Vec::new();
        for _ in 0..100 {
            v.push(b.reserve("T", "I", "sm2", 2).await.unwrap());
        }
        v
    });
    let all: Vec<Reservation> = ta
        .await
        .unwrap()
        .into_iter()
        .chain(tb.await.unwrap())
        .collect();
    let mut serials: Vec<u64> = all
        .iter()
        .flat_map(|r| r.first_serial..r.first_serial + r.slots.len() as u64)
        .collect();
    let mut slots: Vec<(u32, u32)> = all.iter().flat_map(|r| r.slots.clone()).collect();
    let (ns, nl) = (serials.len(), slots.len());
    serials.sort();
    serials.dedup();
    slots.sort();
    slots.dedup();
    assert_eq!((serials.len(), slots.len()), (ns, nl));
    assert_eq!(ns, 500);
}

#[test]
fn refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    drop(SqliteStore::open(&path, SqliteOptions::default()).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path, SqliteOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.code(), "store.unavailable");
}

/// A database of schema version 2 (before the wallet) upgrades in place: its events keep
/// counting for the status epoch, and the wallet works on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_2_database_upgrades_to_the_wallet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let s = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let issued = s.insert(suite::new_license("W1", (1, 0))).await.unwrap();
    drop(s);
    // Undo the later migrations (key certificates, seals, OpenID4VCI, staff sign-in, presentation requests, forms, list algorithms, staff, representatives, OIDC, trust list, witness, federation, operator, leaf format 2, sessions, 4 and 3) by hand: what a
    // build of version 2 left.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE key_certificates;
         DROP TABLE seal_uses; DROP TABLE seals; DROP TABLE seal_cas;
         DROP TABLE vci_nonces; DROP TABLE vci_offers; DROP INDEX staff_person;
         DROP TABLE vp_requests; DROP TABLE forms;
         DROP INDEX status_lists_issuer_alg; ALTER TABLE status_lists DROP COLUMN alg;
         DROP TABLE staff; DROP INDEX licenses_representative;
         ALTER TABLE licenses DROP COLUMN representative_key;
         DROP TABLE oidc_links; DROP TABLE oidc_logins;
         DROP TABLE recognition_lists; DROP TABLE trust_publication;
         DROP TABLE cosigned_checkpoints; DROP TABLE witness_forks; DROP TABLE witness_logs;
         ALTER TABLE issuers DROP COLUMN successor; ALTER TABLE issuers DROP COLUMN ended_at;
         DROP TABLE fed_nodes; DROP TABLE fed_children; DROP TABLE fed_outbox; DROP TABLE fed_issuers;
         DROP TABLE fed_push; DROP TABLE hub_licenses; DROP TABLE hub_status_changes; DROP TABLE hub_holders;
         DROP TABLE operator_openings; DROP TABLE operator_events; DROP TABLE operator_keys;
         DROP TABLE sign_in_failures; DROP TABLE sessions;
         DROP TABLE shares; DROP TABLE institution_keys; DROP TABLE institutions;
         DROP TABLE accounts; DROP TABLE bindings; DROP TABLE presentations;
         DROP TABLE authorizations; DROP INDEX events_status_seq;
         ALTER TABLE events DROP COLUMN affects_status;
         DROP TABLE log_openings; ALTER TABLE events DROP COLUMN reason_category;
         PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(conn);
    let s = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(s.status_epoch().await.unwrap(), issued.seq);
    let used = s.record_use(suite::event("W1", "verify")).await.unwrap();
    assert!(used.seq > issued.seq);
    assert_eq!(s.status_epoch().await.unwrap(), issued.seq);
    assert_eq!(s.events("L-W1").await.unwrap().len(), 2);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        version as usize,
        elicense_store::sqlite::schema::SCHEMA_VERSION
    );
    // The epoch and the wallet's lists are index lookups.
    for (sql, index) in [
        (
            "SELECT seq FROM events WHERE affects_status = 1 ORDER BY seq DESC LIMIT 1",
            "events_status_seq",
        ),
        (
            "SELECT * FROM authorizations WHERE agent_key = 'a' \
             ORDER BY created_at DESC, rowid DESC",
            "authorizations_agent",
        ),
        (
            "SELECT * FROM authorizations WHERE lineage = 'a' \
             ORDER BY created_at DESC, rowid DESC",
            "authorizations_lineage",
        ),
        (
            "DELETE FROM presentations WHERE expires_at < 5",
            "presentations_expiry",
        ),
        (
            "SELECT * FROM shares WHERE institution = 'b' \
             ORDER BY created_at DESC, id DESC LIMIT 5",
            "shares_institution",
        ),
        (
            "SELECT * FROM shares WHERE holder_key = 'h' ORDER BY created_at DESC, id DESC",
            "shares_holder",
        ),
    ] {
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = st
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(
            plan.iter().any(|p| p.contains(index))
                && !plan.iter().any(|p| p.contains("TEMP B-TREE")),
            "{sql}: {plan:?}"
        );
    }
}

/// The database and its WAL and shared-memory files are the owner's only (mode 0600), even
/// when the file existed with looser permissions (made by an older version).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let files = |path: &std::path::Path| {
        ["", "-wal", "-shm"].map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::path::PathBuf::from(name)
        })
    };
    let s = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    s.insert(suite::new_license("P1", (1, 0))).await.unwrap();
    for f in files(&path) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    drop(s);

    let old = dir.path().join("old.sqlite");
    drop(SqliteStore::open(&old, SqliteOptions::default()).unwrap());
    for f in files(&old).into_iter().filter(|f| f.exists()) {
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let s = SqliteStore::open(&old, SqliteOptions::default()).unwrap();
    s.insert(suite::new_license("P2", (1, 0))).await.unwrap();
    for f in files(&old) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

/// A salt changed with SQL behind the store's back: the leaf no longer matches the stored
/// opening, and the check of that leaf against the database says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_salt_changed_in_the_database_is_caught() {
    let (s, dir) = fresh().await;
    s.insert(suite::new_license("W1", (1, 0))).await.unwrap();
    let used = s.record_use(suite::event("W1", "present")).await.unwrap();
    suite::check_every_leaf(&s, 0, "L-W1").await;
    let conn = rusqlite::Connection::open(dir.path().join("db.sqlite")).unwrap();
    let changed = conn
        .execute(
            "UPDATE log_openings SET salt = zeroblob(32) WHERE seq = ?1",
            [used.seq],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    assert_eq!(
        suite::a_changed_salt_is_caught(&s, used.seq).await,
        log::LeafMismatch::Commitment { seq: used.seq }
    );
}

/// The WAL is copied back into the database file by the store's checkpointer while the store
/// is open, not only when a commit happens to cross SQLite's 1,000-page mark: a few writes
/// soon reach the main file (read here from a copy of that file alone, without its WAL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_while_the_store_is_open() {
    let (s, dir) = fresh().await;
    s.reserve("T", "I", "sm2", 3).await.unwrap();
    let main = dir.path().join("db.sqlite");
    let copy = dir.path().join("copy.sqlite");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        std::fs::copy(&main, &copy).unwrap();
        let lists = rusqlite::Connection::open(&copy).and_then(|c| {
            c.query_row("SELECT count(*) FROM status_lists", [], |r| {
                r.get::<_, i64>(0)
            })
        });
        if lists.as_ref().is_ok_and(|n| *n == 1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the main file still lacks the list: {lists:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(s);
}

/// Under writes that never pause, the WAL still starts over: a `PASSIVE` checkpoint alone
/// never resets it (new frames keep arriving while it copies), so before the checkpointer
/// restarted it the WAL grew by a frame or more for every commit, without end. Here one task
/// commits one reservation after another for over a second, with a WAL that is to start over
/// past 32 frames; the WAL file ends smaller than the frames those commits wrote, and every
/// reservation is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_starts_over_under_steady_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    let opts = SqliteOptions {
        wal_restart_frames: 32,
        ..Default::default()
    };
    let s = SqliteStore::open(&path, opts).unwrap();
    let start = std::time::Instant::now();
    let mut commits = 0u64;
    let mut last = 0;
    // Long enough for several checkpoint rounds (every 100 ms), bounded in count.
    while (start.elapsed() < std::time::Duration::from_millis(1500) || commits < 2_000)
        && commits < 200_000
    {
        last = s.reserve("T", "I", "sm2", 1).await.unwrap().first_serial;
        commits += 1;
    }
    // Each commit appends at least one frame (a 4 KiB page and its 24-byte header), so a
    // WAL that never starts over ends at least this long (the old checkpointer: about twice
    // as long, as a reservation changes two pages). One that starts over ends as long as the
    // most it held between two restarts: a few checkpoint rounds' worth (under a loaded
    // machine about half of this, when a restart must wait for its turn; idle, far less).
    let appended = commits * 4_120;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_len = std::fs::metadata(&wal).unwrap().len();
    assert!(
        wal_len < appended,
        "the WAL holds {wal_len} bytes after {commits} commits ({appended} bytes of frames)"
    );
    assert_eq!(last, commits, "a reservation was lost");
    let lists = s.lists().await.unwrap();
    assert_eq!(lists.iter().map(|l| u64::from(l.len)).sum::<u64>(), commits);
    drop(s);
}
