//! Password hashing (Argon2id, default parameters: 19 MiB and two passes per hash), and the
//! gate through which sign-ins check passwords off the async threads, a few at once.
//!
//! Invariants: through a [`HashGate`], at most `permits` checks run at a time (one per core by default), so parallel
//! sign-ins cannot take the node's memory; at most `max_waiting` more wait for a turn, and any
//! further one is refused at once with `signin.busy` (503) instead of queueing without bound.
//! A waiter that gives up (its request dropped) leaves the queue.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::Zeroizing;

use crate::error::{AppError, ErrorKind, Result};

/// Argon2id (default parameters) PHC string of a password.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("password hash: {e}")))
}

/// Whether `password` matches the PHC string `hash` (a malformed hash matches nothing).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Bounds the password hashes running and waiting.
pub struct HashGate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Leaves the queue however the waiter ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for HashGate {
    /// One hash per core; sixteen waiting per core.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        HashGate::new(cores, 16 * cores)
    }
}

impl HashGate {
    pub fn new(permits: usize, max_waiting: usize) -> Self {
        HashGate {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// A turn to hash: at once if one is free, else after the ones waiting before it;
    /// `signin.busy` when the queue is full.
    async fn turn(&self) -> Result<OwnedSemaphorePermit> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::new(
                ErrorKind::Unavailable,
                "signin.busy",
                "too many sign-ins at once; try again in a moment",
            ));
        }
        let _queued = Waiting(&self.waiting);
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::internal(e.to_string()))
    }

    /// Checks a password against a PHC string, in its turn.
    pub async fn verify(&self, hash: String, password: Zeroizing<String>) -> Result<bool> {
        let permit = self.turn().await?;
        tokio::task::spawn_blocking(move || {
            let ok = verify_password(&hash, &password);
            drop(permit);
            ok
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_verify_and_differ() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert_ne!(a, b, "salted");
        assert!(verify_password(&a, "correct horse"));
        assert!(!verify_password(&a, "wrong"));
        assert!(!verify_password("not a phc string", "correct horse"));
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_and_a_freed_turn_is_taken() {
        let gate = HashGate::new(1, 1);
        let hash = hash_password("pw-123456").unwrap();
        let held = gate.turn().await.unwrap();
        // One may wait ...
        let waiter = {
            let gate = &gate;
            let hash = hash.clone();
            async move { gate.verify(hash, Zeroizing::new("pw-123456".into())).await }
        };
        tokio::pin!(waiter);
        assert!(
            futures::poll!(waiter.as_mut()).is_pending(),
            "waits for the held turn"
        );
        // ... the next is refused at once.
        let e = gate
            .verify(hash.clone(), Zeroizing::new("pw-123456".into()))
            .await
            .unwrap_err();
        assert_eq!((e.kind, e.code), (ErrorKind::Unavailable, "signin.busy"));
        drop(held);
        assert!(
            waiter.await.unwrap(),
            "the waiter hashes once the turn is free"
        );
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 0);
    }
}
