//! Per-institution limits on sharing requests, and the alerts they raise for the operator.
//!
//! A request under a legal basis needs no consent, so it is where an institution (or a stolen
//! institution key) could harvest personal data. Two token buckets per institution
//! ([`ShareLimits`], `crate::limit`) bound it:
//! - `legal`: every request under a legal basis takes a token before any license is looked
//!   at; without one it is `429 share.throttled` with `Retry-After`;
//! - `misses`: every request that reaches no license (an unknown holder and a wrong name
//!   alike, so the limit tells nothing about which IDs exist) takes a token; while none is
//!   left, every request of the institution, whatever its basis, is
//!   `429 share.too_many_misses`: guessing ID numbers or names stops quickly.
//!
//! Invariants:
//! - The decisions are the buckets' pure functions of node time; the state is in memory, per
//!   process (a restart forgets it, and each node of a cluster limits on its own).
//! - One alert per dry spell of a bucket (it ends when the bucket is full again):
//!   `share.alert.throttled` when the legal-basis rate first refuses a request,
//!   `share.alert.probing` when the miss that empties the misses bucket happens. An alert is
//!   a `tracing::warn!` with its `code` and the institution, a count in the Prometheus
//!   counter `elicense_share_alerts_total{kind}` (the kind only: the label set stays fixed),
//!   and an entry of the node's ring of the last [`ALERTS_KEPT`] alerts ([`Guard::alerts`],
//!   shown on `/metrics` as `elicense_share_alert_last_seconds{kind,institution}`).

use std::collections::VecDeque;
use std::sync::Mutex;

use elicense_core::share::Basis;
use serde::Serialize;

use crate::config::ShareLimits;
use crate::error::{AppError, ErrorKind, Result};
use crate::limit::{Bucket, Keyed};

/// Alerts kept in memory for the operator.
pub const ALERTS_KEPT: usize = 256;

/// Institutions whose buckets are kept (registered institutions only ever reach here).
const MAX_INSTITUTIONS: usize = 100_000;

/// What an alert reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The institution's legal-basis requests went beyond its rate.
    Throttled,
    /// The institution's requests reached no license too often (probing ID numbers).
    Probing,
}

impl AlertKind {
    /// The stable code in logs: `share.alert.throttled`, `share.alert.probing`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Throttled => "share.alert.throttled",
            Self::Probing => "share.alert.probing",
        }
    }

    /// The metrics label: `throttled`, `probing`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Throttled => "throttled",
            Self::Probing => "probing",
        }
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    /// The institution's code (USCC).
    pub institution: String,
    /// When (unix seconds, node time).
    pub at: i64,
    /// How long the institution is refused from then on, seconds.
    pub retry_after_secs: i64,
}

/// The limits of a node's institutions and its recent alerts.
pub struct Guard {
    legal: Keyed<String, Bucket>,
    misses: Keyed<String, Bucket>,
    alerts: Mutex<VecDeque<Alert>>,
}

impl Guard {
    pub fn new(limits: ShareLimits) -> Self {
        Guard {
            legal: Keyed::new(limits.legal, MAX_INSTITUTIONS),
            misses: Keyed::new(limits.misses, MAX_INSTITUTIONS),
            alerts: Mutex::new(VecDeque::new()),
        }
    }

    /// Whether `institution` may make a request under `basis` at `now`, before any license
    /// is looked at: `share.too_many_misses` while its misses are used up, and under a legal
    /// basis a token of its rate, else `share.throttled` (both `429` with `Retry-After`).
    pub fn admit(&self, institution: &str, basis: Basis, now: i64) -> Result<()> {
        let key = institution.to_owned();
        if let Some(wait) = self.misses.get(&key).retry_after(self.misses.rule(), now) {
            count_refusal(AlertKind::Probing);
            return Err(refused(
                "share.too_many_misses",
                "too many requests of this institution matched no license",
                wait,
            ));
        }
        if basis != Basis::Legal {
            return Ok(());
        }
        let taken = self
            .legal
            .update(&key, now, |b, rate| match b.take(rate, now) {
                Ok(b) => (b, Ok(())),
                Err(wait) => {
                    let (b, first) = b.report(rate, now);
                    (b, Err((wait, first)))
                }
            });
        match taken {
            Ok(()) => Ok(()),
            Err((wait, first)) => {
                if first {
                    self.raise(AlertKind::Throttled, institution, now, wait);
                }
                count_refusal(AlertKind::Throttled);
                Err(refused(
                    "share.throttled",
                    "too many requests under a legal basis from this institution",
                    wait,
                ))
            }
        }
    }

    /// A request of `institution` reached no license at `now`.
    pub fn missed(&self, institution: &str, now: i64) {
        let dry = self.misses.update(&institution.to_owned(), now, |b, rate| {
            // Without a token left (requests admitted together) the miss changes nothing.
            let b = b.take(rate, now).unwrap_or(b);
            match b.retry_after(rate, now) {
                None => (b, None),
                Some(wait) => {
                    let (b, first) = b.report(rate, now);
                    (b, first.then_some(wait))
                }
            }
        });
        if let Some(wait) = dry {
            self.raise(AlertKind::Probing, institution, now, wait);
        }
    }

    /// The recent alerts, oldest first (at most [`ALERTS_KEPT`]).
    pub fn alerts(&self) -> Vec<Alert> {
        self.alerts
            .lock()
            .expect("alerts lock")
            .iter()
            .cloned()
            .collect()
    }

    fn raise(&self, kind: AlertKind, institution: &str, at: i64, retry_after_secs: i64) {
        tracing::warn!(
            code = kind.code(),
            institution,
            retry_after_secs,
            "institution refused: {}",
            match kind {
                AlertKind::Throttled => "legal-basis requests beyond its rate",
                AlertKind::Probing => "too many requests matched no license (probing?)",
            }
        );
        metrics::counter!("elicense_share_alerts_total", "kind" => kind.label()).increment(1);
        let mut ring = self.alerts.lock().expect("alerts lock");
        if ring.len() >= ALERTS_KEPT {
            ring.pop_front();
        }
        ring.push_back(Alert {
            kind,
            institution: institution.to_owned(),
            at,
            retry_after_secs,
        });
    }
}

/// Every refused request, by the limit that refused it.
fn count_refusal(kind: AlertKind) {
    metrics::counter!("elicense_share_refused_total", "kind" => kind.label()).increment(1);
}

fn refused(code: &'static str, why: &str, wait: i64) -> AppError {
    let secs = wait.max(1);
    AppError::new(
        ErrorKind::Throttled {
            retry_after_secs: secs as u64,
        },
        code,
        format!("{why}; try again in {secs} seconds"),
    )
}
