//! Sign-in throttling: how many password guesses one username and one client may make.
//!
//! Invariants:
//! - One pure function decides ([`Counter::after_failure`], [`Counter::retry_after`]) over
//!   node time (the `Clock` port), so tests move a `ManualClock` instead of sleeping.
//! - A counter allows [`Policy::free`] failures; the failure that reaches that number and every
//!   later one lock it for `base · 2^(failures − free)` seconds, at most [`Policy::max_secs`]
//!   (the lockout). While locked, every attempt is refused before its password is looked at
//!   (the right password too), so a guesser learns nothing during a lock.
//! - Failures are forgotten [`Policy::forget_secs`] after the last one, never while locked.
//! - Two counters gate an attempt: its username (as typed, trimmed and lowercased, whether an
//!   account has it or not, so a lock does not tell which usernames exist) and its client
//!   ([`ClientAddr`]: the IPv4 address, or the /64 of an IPv6 address). A success resets the
//!   username's counter, never the client's: signing in to one's own account between guesses
//!   does not buy more guesses.
//! - The counters live in memory, per process, at most [`MAX_KEYS`] of each kind (stale ones
//!   are dropped first, then the one whose lock ends first). Failed sign-ins of existing
//!   accounts are also recorded durably for their owner (`wallet::security`).

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};

use crate::error::{AppError, ErrorKind};
use crate::limit::{Kept, Keyed};

/// Most counters kept per kind (about 100 bytes each).
pub const MAX_KEYS: usize = 100_000;

/// How many failures a counter allows and how long it then locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before the first lock.
    pub free: u32,
    /// The first lock, seconds; each further failure doubles it.
    pub base_secs: i64,
    /// The longest lock (the lockout), seconds.
    pub max_secs: i64,
    /// Failures are forgotten this long after the last one.
    pub forget_secs: i64,
}

impl Policy {
    /// Per username: 5 failures, then 1 s, 2 s, 4 s ... up to a 15-minute lockout.
    pub const ACCOUNT: Policy = Policy {
        free: 5,
        base_secs: 1,
        max_secs: 15 * 60,
        forget_secs: 3600,
    };
    /// Per client: 20 failures over any usernames (an office behind one address), then the same
    /// back-off.
    pub const CLIENT: Policy = Policy {
        free: 20,
        base_secs: 1,
        max_secs: 15 * 60,
        forget_secs: 3600,
    };

    /// The lock after the `failures`-th failure (0 below `free`).
    pub fn lock_secs(&self, failures: u32) -> i64 {
        if failures < self.free {
            return 0;
        }
        let doublings = (failures - self.free).min(40);
        self.base_secs
            .saturating_mul(1i64 << doublings)
            .min(self.max_secs)
    }
}

/// The failures of one username or client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    pub failures: u32,
    pub last_failure: i64,
    pub locked_until: i64,
}

impl Counter {
    /// Seconds until an attempt may be made, while locked.
    pub fn retry_after(&self, now: i64) -> Option<i64> {
        (now < self.locked_until).then(|| self.locked_until - now)
    }

    /// Nothing left to remember: unlocked and the last failure forgotten.
    pub fn is_stale(&self, p: &Policy, now: i64) -> bool {
        now >= self.locked_until && now - self.last_failure >= p.forget_secs
    }

    /// The counter after one more failure at `now`.
    pub fn after_failure(self, p: &Policy, now: i64) -> Counter {
        let failures = if self.is_stale(p, now) {
            1
        } else {
            self.failures.saturating_add(1)
        };
        let lock = p.lock_secs(failures);
        Counter {
            failures,
            last_failure: now,
            locked_until: if lock > 0 {
                self.locked_until.max(now + lock)
            } else {
                self.locked_until
            },
        }
    }
}

/// A client as far as throttling and failure records know it: an IPv4 address, or the /64
/// network of an IPv6 address (one subscriber); `None` when the server could not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(Option<IpAddr>);

impl ClientAddr {
    pub fn new(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(mask_v6(v6, 4)),
            },
            v4 => v4,
        };
        ClientAddr(Some(ip))
    }

    /// A client whose address is not known (a server without connection info).
    pub fn unknown() -> Self {
        ClientAddr(None)
    }

    /// What a failure record keeps: the /24 of an IPv4 address, the /48 of an IPv6 one.
    pub fn network(&self) -> String {
        match self.0 {
            Some(IpAddr::V4(v4)) => {
                let [a, b, c, _] = v4.octets();
                format!("{a}.{b}.{c}.0/24")
            }
            Some(IpAddr::V6(v6)) => format!("{}/48", mask_v6(v6, 3)),
            None => "unknown".into(),
        }
    }
}

/// The first `groups` 16-bit groups of an IPv6 address, the rest zero.
fn mask_v6(v6: Ipv6Addr, groups: usize) -> Ipv6Addr {
    let mut s = v6.segments();
    s.iter_mut().skip(groups).for_each(|g| *g = 0);
    Ipv6Addr::from(s)
}

impl Kept for Counter {
    type Rule = Policy;

    fn is_stale(&self, p: &Policy, now: i64) -> bool {
        Counter::is_stale(self, p, now)
    }

    /// The one whose lock ends first.
    fn rank(&self, _: &Policy) -> i64 {
        self.locked_until
    }
}

/// Counters by key under one policy (the shared bounded map of `crate::limit`).
struct Counters<K>(Keyed<K, Counter>);

impl<K: Hash + Eq + Clone> Counters<K> {
    fn new(policy: Policy) -> Self {
        Counters(Keyed::new(policy, MAX_KEYS))
    }

    fn retry_after(&self, key: &K, now: i64) -> Option<i64> {
        self.0.get(key).retry_after(now)
    }

    fn failed(&self, key: &K, now: i64) {
        self.0
            .update(key, now, |c, p| (c.after_failure(p, now), ()));
    }

    fn reset(&self, key: &K) {
        self.0.remove(key);
    }
}

/// The sign-in throttle of a process.
pub struct Throttle {
    usernames: Counters<String>,
    clients: Counters<ClientAddr>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(Policy::ACCOUNT, Policy::CLIENT)
    }
}

/// The key of a username: as typed, trimmed and lowercased.
fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl Throttle {
    pub fn new(account: Policy, client: Policy) -> Self {
        Throttle {
            usernames: Counters::new(account),
            clients: Counters::new(client),
        }
    }

    /// `signin.throttled` while the username or the client is locked.
    pub fn check(&self, username: &str, client: ClientAddr, now: i64) -> Result<(), AppError> {
        let wait = self
            .usernames
            .retry_after(&username_key(username), now)
            .max(self.clients.retry_after(&client, now));
        match wait {
            Some(secs) => Err(throttled(secs)),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt against the username and the client.
    pub fn failed(&self, username: &str, client: ClientAddr, now: i64) {
        self.usernames.failed(&username_key(username), now);
        self.clients.failed(&client, now);
    }

    /// Forgets the username's failures after a successful sign-in.
    pub fn succeeded(&self, username: &str) {
        self.usernames.reset(&username_key(username));
    }
}

/// The error of a throttled attempt.
pub fn throttled(secs: i64) -> AppError {
    AppError::new(
        ErrorKind::Throttled {
            retry_after_secs: secs.max(1) as u64,
        },
        "signin.throttled",
        format!(
            "too many failed sign-ins; try again in {} seconds",
            secs.max(1)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_from_the_free_limit_to_the_lockout() {
        let p = Policy::ACCOUNT;
        let locks: Vec<i64> = (1..=16).map(|n| p.lock_secs(n)).collect();
        assert_eq!(
            locks,
            [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(p.lock_secs(u32::MAX), 900);
    }

    #[test]
    fn a_counter_locks_then_forgets() {
        let p = Policy::ACCOUNT;
        let mut c = Counter::default();
        let now = 1_000_000;
        for _ in 0..4 {
            c = c.after_failure(&p, now);
            assert_eq!(c.retry_after(now), None);
        }
        c = c.after_failure(&p, now);
        assert_eq!(c.retry_after(now), Some(1));
        assert_eq!(c.retry_after(now + 1), None);
        c = c.after_failure(&p, now + 1);
        assert_eq!(c.retry_after(now + 1), Some(2));
        // An hour of quiet: back to the free failures.
        let later = now + 1 + p.forget_secs;
        assert!(c.is_stale(&p, later));
        c = c.after_failure(&p, later);
        assert_eq!((c.failures, c.retry_after(later)), (1, None));
    }

    #[test]
    fn a_lock_is_never_shortened_or_forgotten_early() {
        let p = Policy {
            forget_secs: 10,
            ..Policy::ACCOUNT
        };
        let c = Counter {
            failures: 20,
            last_failure: 0,
            locked_until: 900,
        };
        assert!(!c.is_stale(&p, 100), "locked");
        assert_eq!(c.after_failure(&p, 100).locked_until, 1000);
    }

    #[test]
    fn clients_are_keyed_by_address_and_recorded_by_network() {
        let v4 = ClientAddr::new("203.0.113.57".parse().unwrap());
        assert_eq!(v4.network(), "203.0.113.0/24");
        assert_ne!(v4, ClientAddr::new("203.0.113.58".parse().unwrap()));
        let a = ClientAddr::new("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientAddr::new("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b, "one /64 is one client");
        assert_eq!(a.network(), "2001:db8:1::/48");
        let mapped = ClientAddr::new("::ffff:203.0.113.57".parse().unwrap());
        assert_eq!(mapped, v4);
        assert_eq!(ClientAddr::unknown().network(), "unknown");
    }

    #[test]
    fn the_throttle_checks_both_keys_and_success_resets_only_the_username() {
        let t = Throttle::default();
        let me = ClientAddr::new("198.51.100.1".parse().unwrap());
        let now = 5_000;
        for _ in 0..5 {
            t.check("ZhangWei ", me, now).unwrap();
            t.failed(" zhangwei", me, now);
        }
        assert_eq!(
            t.check("zhangwei", me, now).unwrap_err().code,
            "signin.throttled"
        );
        let other = ClientAddr::new("198.51.100.2".parse().unwrap());
        assert!(t.check("zhangwei", other, now).is_err(), "per username");
        assert!(
            t.check("lina", me, now).is_ok(),
            "the client has failures to spare"
        );
        t.succeeded("zhangwei");
        assert!(t.check("zhangwei", me, now).is_ok());
        for i in 0..15 {
            t.failed(&format!("user{i}"), me, now);
        }
        let e = t.check("lina", me, now).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Throttled {
                retry_after_secs: 1
            }
        );
        assert!(t.check("lina", other, now).is_ok());
    }
}
