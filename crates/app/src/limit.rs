//! Limits kept in memory per key, on node time: the bounded map that sign-in throttling
//! (`wallet::throttle`, failure [`Counter`](crate::wallet::throttle::Counter)s) and the
//! institutions' limits (`institutions::guard`, [`Bucket`]s) share, and the token bucket.
//!
//! Invariants:
//! - Every state is plain data changed by pure functions of the node's time (the `Clock`
//!   port), so tests move a `ManualClock` instead of sleeping.
//! - A [`Keyed`] map holds at most its capacity of keys: when a new key would go beyond it,
//!   stale states (whose loss changes no later answer) are dropped first, then the one of
//!   lowest [`Kept::rank`].
//! - A [`Bucket`] under a [`Rate`] allows at most `burst + refill · ⌊t / per_secs⌋` takes in
//!   any `t` seconds (whole tokens, integer arithmetic: one token is `per_secs` ticks and
//!   `refill` ticks come back each second), and a take refused with `retry_after = w` at `now`
//!   succeeds at `now + w` when nothing was taken meanwhile (property-tested).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// A per-key state a [`Keyed`] map keeps.
pub trait Kept: Copy + Default {
    /// What governs its changes (a failure policy, a rate).
    type Rule: Copy;
    /// Nothing left to remember at `now`: dropping it (back to the default) changes no answer.
    fn is_stale(&self, rule: &Self::Rule, now: i64) -> bool;
    /// Among live states of a full map, the one of lowest rank is dropped first.
    fn rank(&self, rule: &Self::Rule) -> i64;
}

/// States by key under one rule, at most `capacity` keys.
pub struct Keyed<K, S: Kept> {
    rule: S::Rule,
    capacity: usize,
    map: Mutex<HashMap<K, S>>,
}

impl<K: Hash + Eq + Clone, S: Kept> Keyed<K, S> {
    pub fn new(rule: S::Rule, capacity: usize) -> Self {
        Keyed {
            rule,
            capacity: capacity.max(1),
            map: Mutex::new(HashMap::new()),
        }
    }

    pub fn rule(&self) -> &S::Rule {
        &self.rule
    }

    /// The key's state (the default when none is kept).
    pub fn get(&self, key: &K) -> S {
        let map = self.map.lock().expect("limit lock");
        map.get(key).copied().unwrap_or_default()
    }

    /// Replaces the key's state by `f`'s, atomically, and returns `f`'s answer. A new key in
    /// a full map first makes room (stale states, then the lowest rank).
    pub fn update<R>(&self, key: &K, now: i64, f: impl FnOnce(S, &S::Rule) -> (S, R)) -> R {
        let mut map = self.map.lock().expect("limit lock");
        if map.len() >= self.capacity && !map.contains_key(key) {
            let rule = self.rule;
            map.retain(|_, s| !s.is_stale(&rule, now));
            if map.len() >= self.capacity {
                if let Some(k) = map
                    .iter()
                    .min_by_key(|(_, s)| s.rank(&rule))
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&k);
                }
            }
        }
        let state = map.entry(key.clone()).or_default();
        let (next, answer) = f(*state, &self.rule);
        *state = next;
        answer
    }

    /// Forgets the key.
    pub fn remove(&self, key: &K) {
        self.map.lock().expect("limit lock").remove(key);
    }
}

/// How many takes a bucket allows: `burst` at once, then `refill` tokens every `per_secs`
/// seconds. Every field is at least 1 ([`Rate::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    burst: u32,
    refill: u32,
    per_secs: u32,
}

impl Rate {
    /// `None` when any of the three is 0 (a bucket that never allows or never refills).
    pub fn new(burst: u32, refill: u32, per_secs: u32) -> Option<Rate> {
        (burst > 0 && refill > 0 && per_secs > 0).then_some(Rate {
            burst,
            refill,
            per_secs,
        })
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    pub fn refill(&self) -> u32 {
        self.refill
    }

    pub fn per_secs(&self) -> u32 {
        self.per_secs
    }

    /// Ticks of one token.
    fn cost(&self) -> i64 {
        i64::from(self.per_secs)
    }

    /// Ticks of a full bucket.
    fn capacity(&self) -> i64 {
        i64::from(self.burst) * self.cost()
    }
}

/// A token bucket, kept as what was taken and not yet given back (its debt, in ticks), so
/// that the default is a full bucket. `reported` marks a dry spell already reported (an
/// alert); it lapses when the bucket is full again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    debt: i64,
    at: i64,
    reported: bool,
}

impl Bucket {
    /// The debt at `now` (time never runs backwards for a bucket).
    fn debt_at(&self, rate: &Rate, now: i64) -> i64 {
        let elapsed = now.saturating_sub(self.at).max(0);
        self.debt
            .saturating_sub(elapsed.saturating_mul(i64::from(rate.refill)))
            .max(0)
    }

    /// Seconds until a take succeeds, while none would.
    pub fn retry_after(&self, rate: &Rate, now: i64) -> Option<i64> {
        let over = self.debt_at(rate, now) + rate.cost() - rate.capacity();
        (over > 0).then(|| ceil_div(over, i64::from(rate.refill)))
    }

    /// Whole tokens left at `now`.
    pub fn tokens(&self, rate: &Rate, now: i64) -> u32 {
        ((rate.capacity() - self.debt_at(rate, now)) / rate.cost()) as u32
    }

    /// The bucket after taking a token at `now`, or `Err(seconds to wait)` (the bucket
    /// unchanged) when there is none.
    pub fn take(self, rate: &Rate, now: i64) -> Result<Bucket, i64> {
        if let Some(wait) = self.retry_after(rate, now) {
            return Err(wait);
        }
        Ok(Bucket {
            debt: self.debt_at(rate, now) + rate.cost(),
            at: now.max(self.at),
            reported: self.reported && self.debt_at(rate, now) > 0,
        })
    }

    /// Marks the current dry spell reported; `true` the first time in that spell (a spell
    /// ends when the bucket is full again).
    pub fn report(self, rate: &Rate, now: i64) -> (Bucket, bool) {
        let debt = self.debt_at(rate, now);
        let first = !(self.reported && debt > 0);
        let at = now.max(self.at);
        (
            Bucket {
                debt,
                at,
                reported: true,
            },
            first,
        )
    }
}

/// `⌈a / b⌉` for `a ≥ 0`, `b > 0`.
fn ceil_div(a: i64, b: i64) -> i64 {
    a / b + i64::from(a % b != 0)
}

impl Kept for Bucket {
    type Rule = Rate;

    fn is_stale(&self, rate: &Rate, now: i64) -> bool {
        self.debt_at(rate, now) == 0
    }

    /// When it is full again.
    fn rank(&self, rate: &Rate) -> i64 {
        self.at + ceil_div(self.debt, i64::from(rate.refill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let rate = Rate::new(3, 2, 60).unwrap(); // 3 at once, then 2 a minute
        let mut b = Bucket::default();
        for _ in 0..3 {
            b = b.take(&rate, 1000).unwrap();
        }
        assert_eq!(b.tokens(&rate, 1000), 0);
        assert_eq!(b.take(&rate, 1000), Err(30));
        assert_eq!(b.take(&rate, 1029), Err(1));
        b = b.take(&rate, 1030).unwrap();
        assert_eq!(b.take(&rate, 1030), Err(30));
        // Three minutes of quiet fill it up again, and no further.
        assert!(b.is_stale(&rate, 1030 + 90));
        assert_eq!(b.tokens(&rate, 1_000_000), 3);
        assert_eq!(Rate::new(0, 1, 1), None);
    }

    #[test]
    fn a_dry_spell_is_reported_once() {
        let rate = Rate::new(1, 1, 10).unwrap();
        let b = Bucket::default().take(&rate, 0).unwrap();
        let (b, first) = b.report(&rate, 0);
        assert!(first);
        let (b, first) = b.report(&rate, 5);
        assert!(!first, "the same spell");
        // Full again at 10: a new spell.
        let b = b.take(&rate, 10).unwrap();
        let (_, first) = b.report(&rate, 10);
        assert!(first);
    }

    #[test]
    fn a_full_map_drops_stale_states_first() {
        let rate = Rate::new(1, 1, 10).unwrap();
        let m: Keyed<u32, Bucket> = Keyed::new(rate, 2);
        let take = |k: u32, now: i64| m.update(&k, now, |b, r| (b.take(r, now).unwrap(), ()));
        take(1, 0);
        take(2, 5);
        // At 12, key 1 is full again (stale), key 2 is not: 1 goes.
        take(3, 12);
        assert_eq!(m.get(&1), Bucket::default());
        assert!(m.get(&2).retry_after(&rate, 12).is_some());
        // Nothing stale at 13: the one full soonest (2, at 15) goes.
        take(4, 13);
        assert_eq!(m.get(&2), Bucket::default());
        assert!(m.get(&3).retry_after(&rate, 13).is_some());
    }

    proptest! {
        /// Takes at random times: never more than the burst plus the refill in any window,
        /// and a refused take succeeds after its wait.
        #[test]
        fn a_bucket_never_exceeds_its_rate(
            burst in 1u32..6, refill in 1u32..4, per_secs in 1u32..90,
            gaps in proptest::collection::vec(0i64..40, 1..60),
        ) {
            let rate = Rate::new(burst, refill, per_secs).unwrap();
            let mut b = Bucket::default();
            let mut now = 0;
            let mut taken = Vec::new();
            for gap in gaps {
                now += gap;
                match b.take(&rate, now) {
                    Ok(next) => { b = next; taken.push(now); }
                    Err(wait) => {
                        prop_assert!(wait >= 1);
                        prop_assert!(b.take(&rate, now + wait - 1).is_err());
                        prop_assert!(b.take(&rate, now + wait).is_ok());
                    }
                }
            }
            for (i, &from) in taken.iter().enumerate() {
                for (j, &to) in taken.iter().enumerate().skip(i) {
                    let allowed = i64::from(burst)
                        + (to - from) * i64::from(refill) / i64::from(per_secs);
                    prop_assert!((j - i + 1) as i64 <= allowed,
                        "{} takes in [{from}, {to}] under {rate:?}", j - i + 1);
                }
            }
        }
    }
}
