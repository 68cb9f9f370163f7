//! The single writer thread with group commit.
//!
//! Every write is a job sent over a channel. The thread takes all jobs that are waiting (up to
//! `MAX_GROUP`), runs each inside its own SAVEPOINT of one transaction, commits once, and only
//! then answers each job. A job that fails is rolled back to its savepoint alone; a failed
//! commit fails every job of the group. So an answer `Ok` always means "committed".

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{Result, StoreError};

const MAX_GROUP: usize = 512;

/// What the writer calls once the group's fate is known.
type Finish = Box<dyn FnOnce(Option<StoreError>) + Send>;
/// A write job: runs on the writer's connection (or not at all, given `None`), says whether it
/// succeeded, and how to answer.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// Handle to the writer thread; cloning shares the thread.
#[derive(Clone)]
pub struct Writer {
    tx: crossbeam_channel::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn spawn(conn: Connection) -> Writer {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx))
            .expect("spawn writer thread");
        Writer { tx }
    }

    /// Runs `f` in the next group; resolves after the group committed (or failed).
    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let out = match conn {
                Some(conn) => f(conn),
                None => Err(StoreError::Unavailable("write not run".into())),
            };
            let ok = out.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                let _ = reply.send(match commit_error {
                    Some(e) => Err(e),
                    None => out,
                });
            });
            (ok, finish)
        });
        self.tx
            .send(job)
            .map_err(|_| StoreError::Unavailable("writer thread stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("writer thread stopped".into()))?
    }
}

fn run(conn: Connection, rx: crossbeam_channel::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut finishers = Vec::with_capacity(group.len());
        let begin = conn.execute_batch("BEGIN IMMEDIATE");
        if let Err(e) = begin {
            let e = StoreError::from(e);
            for job in group {
                let (_, finish) = job(None);
                finish(Some(e.clone()));
            }
            continue;
        }
        for job in group {
            let _ = conn.execute_batch("SAVEPOINT job");
            let (ok, finish) = job(Some(&conn));
            let end = if ok {
                "RELEASE job"
            } else {
                "ROLLBACK TO job; RELEASE job"
            };
            if let Err(e) = conn.execute_batch(end) {
                tracing::error!(error = %e, "savepoint end failed");
            }
            finishers.push(finish);
        }
        let commit_error = conn.execute_batch("COMMIT").err().map(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            StoreError::from(e)
        });
        for finish in finishers {
            finish(commit_error.clone());
        }
    }
}
