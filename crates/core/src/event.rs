//! What happened to a license: the kind of an event in its history and in the event log.
//!
//! Invariants:
//! - [`EventKind::as_str`] gives the stable code stored with every event (`issue`, an
//!   [`Action`] code such as `revoke`, or a use such as `present`), and [`EventKind::parse`]
//!   accepts exactly those codes: `parse(k.as_str()) == Ok(k)` for every kind, and no two
//!   kinds share a code. Stored data keeps these strings; serde uses them too.
//! - Every kind is either a lifecycle fact (issue or an action: public, in clear in the log)
//!   or a use of the license ([`EventKind::is_use`]: who used whose license and why, the
//!   holder's business: it enters the public log only as a commitment). Nothing is both.
//! - [`EventKind::sets_status`] is the one place that says which events set the status a
//!   version shows (the issue and the actions that change or re-affirm it by decision);
//!   uses never do.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::lifecycle::Action;
use crate::macros::text_type;

/// The kind of an event about one license version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum EventKind {
    /// 签发: the version was issued (a first issue, or the next version after a change,
    /// extension or transfer).
    Issue,
    /// A lifecycle action on the version (变更, 暂扣, 撤销, ...).
    Lifecycle(Action),
    /// 出示: the holder (or an agent) presented it.
    Present,
    /// 核验: a verifier checked it (a presentation opened, an institution's verification).
    Verify,
    /// 授权代办: the holder authorized an agent for one matter.
    Authorize,
    /// 撤回代办授权: the holder withdrew an authorization.
    AuthorizeWithdraw,
    /// 调用请求: an institution asked for the license for a matter (with its purpose).
    ShareQuery,
    /// 同意: the holder consented to a sharing request.
    Consent,
    /// 拒绝: the holder refused a sharing request.
    Refusal,
    /// 加注件: an annotated copy was made for an institution.
    AnnotatedCopy,
    /// 下载照面: the face was downloaded.
    FaceDownload,
    /// 跨区域查看: the holder's home node showed it in the holder's wallet (one wallet
    /// across regions); the actor is that node.
    RemoteView,
    /// 导出: the holder took a copy to another wallet (an OpenID4VCI credential offer was
    /// redeemed; the copy is bound to that wallet's key).
    Exported,
}

impl EventKind {
    /// Every use kind.
    pub const USES: [EventKind; 11] = [
        Self::Present,
        Self::Verify,
        Self::Authorize,
        Self::AuthorizeWithdraw,
        Self::ShareQuery,
        Self::Consent,
        Self::Refusal,
        Self::AnnotatedCopy,
        Self::FaceDownload,
        Self::RemoteView,
        Self::Exported,
    ];

    /// Every kind: issue, every action, every use.
    pub fn all() -> impl Iterator<Item = EventKind> {
        std::iter::once(Self::Issue)
            .chain(Action::ALL.into_iter().map(Self::Lifecycle))
            .chain(Self::USES)
    }

    /// The stable code: `issue`, the action's code, or the use's (`present`, `verify`,
    /// `authorize`, `authorize_withdraw`, `share_query`, `consent`, `refusal`,
    /// `annotated_copy`, `face_download`, `remote_view`, `export`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Lifecycle(a) => a.code(),
            Self::Present => "present",
            Self::Verify => "verify",
            Self::Authorize => "authorize",
            Self::AuthorizeWithdraw => "authorize_withdraw",
            Self::ShareQuery => "share_query",
            Self::Consent => "consent",
            Self::Refusal => "refusal",
            Self::AnnotatedCopy => "annotated_copy",
            Self::FaceDownload => "face_download",
            Self::RemoteView => "remote_view",
            Self::Exported => "export",
        }
    }

    /// Parses an [`EventKind::as_str`] code.
    pub fn parse(code: &str) -> Result<Self, UnknownEventKind> {
        if code == "issue" {
            return Ok(Self::Issue);
        }
        if let Some(a) = Action::parse(code) {
            return Ok(Self::Lifecycle(a));
        }
        Self::USES
            .into_iter()
            .find(|k| k.as_str() == code)
            .ok_or_else(|| UnknownEventKind(code.to_owned()))
    }

    /// True for a use of the license (presentation, verification, sharing, authorization):
    /// the log carries it only as a commitment.
    pub fn is_use(&self) -> bool {
        !matches!(self, Self::Issue | Self::Lifecycle(_))
    }

    /// True for the events that set the status a version shows: its issue and the actions
    /// for which [`Action::sets_status`] holds.
    pub fn sets_status(&self) -> bool {
        match self {
            Self::Issue => true,
            Self::Lifecycle(a) => a.sets_status(),
            _ => false,
        }
    }

    /// The lifecycle action, for a lifecycle event.
    pub fn action(&self) -> Option<Action> {
        match self {
            Self::Lifecycle(a) => Some(*a),
            _ => None,
        }
    }
}

impl From<Action> for EventKind {
    fn from(a: Action) -> Self {
        Self::Lifecycle(a)
    }
}

text_type!(EventKind, UnknownEventKind);

/// A stored or sent event kind that is not one of [`EventKind`]'s codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind {0:?}")]
pub struct UnknownEventKind(pub String);

impl ErrorCode for UnknownEventKind {
    fn code(&self) -> &'static str {
        "event.unknown_kind"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_kind_round_trips_and_codes_are_distinct() {
        let all: Vec<EventKind> = EventKind::all().collect();
        assert_eq!(all.len(), 1 + Action::ALL.len() + EventKind::USES.len());
        let mut codes = std::collections::BTreeSet::new();
        for k in &all {
            assert_eq!(EventKind::parse(k.as_str()), Ok(*k));
            assert_eq!(k.to_string(), k.as_str());
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
            assert_eq!(
                serde_json::from_str::<EventKind>(&format!("\"{k}\"")).unwrap(),
                *k
            );
            assert!(codes.insert(k.as_str()), "{k} twice");
        }
    }

    #[test]
    fn the_stored_strings_are_kept() {
        for (code, kind) in [
            ("issue", EventKind::Issue),
            ("revoke", EventKind::Lifecycle(Action::Revoke)),
            (
                "annual_inspection",
                EventKind::Lifecycle(Action::AnnualInspection),
            ),
            ("present", EventKind::Present),
            ("verify", EventKind::Verify),
            ("authorize", EventKind::Authorize),
            ("authorize_withdraw", EventKind::AuthorizeWithdraw),
            ("share_query", EventKind::ShareQuery),
            ("consent", EventKind::Consent),
            ("refusal", EventKind::Refusal),
            ("annotated_copy", EventKind::AnnotatedCopy),
            ("face_download", EventKind::FaceDownload),
        ] {
            assert_eq!(EventKind::parse(code), Ok(kind));
        }
        let e = EventKind::parse("flip").unwrap_err();
        assert_eq!(e.code(), "event.unknown_kind");
        assert!(serde_json::from_str::<EventKind>("\"Issue\"").is_err());
    }

    #[test]
    fn uses_and_status_setters() {
        for k in EventKind::all() {
            assert!(!(k.is_use() && k.sets_status()), "{k}");
            assert_eq!(k.is_use(), EventKind::USES.contains(&k));
        }
        assert!(EventKind::Issue.sets_status());
        assert!(EventKind::Lifecycle(Action::Revoke).sets_status());
        assert!(EventKind::Lifecycle(Action::Expire).sets_status());
        for a in [Action::AnnualInspection, Action::Pledge, Action::Release] {
            assert!(!EventKind::Lifecycle(a).sets_status(), "{a}");
            assert!(!EventKind::Lifecycle(a).is_use(), "{a}");
        }
    }

    #[test]
    fn an_action_that_sets_no_status_leaves_it_as_it_was() {
        use crate::lifecycle::{transition, LifecycleState, Status};
        for status in Status::ALL {
            for pledged in [false, true] {
                let state = LifecycleState { status, pledged };
                for a in Action::ALL.into_iter().filter(|a| !a.sets_status()) {
                    if let Ok(next) = transition(state, a) {
                        assert_eq!(next.status, status, "{a} from {status}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_codes(s in "[a-z_]{0,20}|\\PC{0,12}") {
            match EventKind::parse(&s) {
                Ok(k) => prop_assert_eq!(k.as_str(), s.as_str()),
                Err(e) => {
                    prop_assert!(EventKind::all().all(|k| k.as_str() != s));
                    prop_assert_eq!(e.0, s);
                }
            }
        }

        #[test]
        fn as_str_then_parse_is_identity(i in 0usize..22) {
            let k = EventKind::all().nth(i).unwrap();
            prop_assert_eq!(EventKind::parse(k.as_str()).unwrap(), k);
        }
    }
}
