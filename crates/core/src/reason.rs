//! Why a lifecycle action was taken, as the public may know it: a category from a fixed list.
//!
//! Invariants: the public log and the public verification show a reason only as a
//! [`ReasonCategory`], never as the issuer's free text (which may name people, offences or
//! court cases: it stays with the holder and the issuer). [`ReasonCategory::parse`] accepts
//! exactly the codes [`ReasonCategory::as_str`] gives; stored data and serde use them.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::lifecycle::Action;
use crate::macros::text_type;

/// The public category of a lifecycle action's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ReasonCategory {
    /// 依申请: the holder asked for it (a change, an extension, giving a license up).
    OnRequest,
    /// 信息有误: the data was wrong and is corrected.
    DataError,
    /// 违法准予: the authority granted it in error (no entitlement, wrong procedure).
    IssuedInError,
    /// 以不正当手段取得: obtained by deception, bribery or other improper means.
    ImproperlyObtained,
    /// 违法违规: a violation by the holder (the ground of a suspension or penalty).
    Violation,
    /// 司法或行政决定: a court's or another authority's decision.
    CourtOrder,
    /// 主体终止: the holder died or ceased to exist.
    HolderEnded,
    /// 有效期届满: the validity ended.
    Expiry,
    /// 转让: transferred to another holder.
    Transfer,
    /// 其他: none of the above.
    Other,
}

impl ReasonCategory {
    /// Every category.
    pub const ALL: [ReasonCategory; 10] = [
        Self::OnRequest,
        Self::DataError,
        Self::IssuedInError,
        Self::ImproperlyObtained,
        Self::Violation,
        Self::CourtOrder,
        Self::HolderEnded,
        Self::Expiry,
        Self::Transfer,
        Self::Other,
    ];

    /// Stable code, e.g. `court_order`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::OnRequest => "on_request",
            Self::DataError => "data_error",
            Self::IssuedInError => "issued_in_error",
            Self::ImproperlyObtained => "improperly_obtained",
            Self::Violation => "violation",
            Self::CourtOrder => "court_order",
            Self::HolderEnded => "holder_ended",
            Self::Expiry => "expiry",
            Self::Transfer => "transfer",
            Self::Other => "other",
        }
    }

    /// Chinese name of the category.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::OnRequest => "依申请",
            Self::DataError => "信息有误",
            Self::IssuedInError => "违法准予",
            Self::ImproperlyObtained => "以不正当手段取得",
            Self::Violation => "违法违规",
            Self::CourtOrder => "司法或行政决定",
            Self::HolderEnded => "主体终止",
            Self::Expiry => "有效期届满",
            Self::Transfer => "转让",
            Self::Other => "其他",
        }
    }

    /// Parses an [`ReasonCategory::as_str`] code.
    pub fn parse(code: &str) -> Result<Self, UnknownReasonCategory> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == code)
            .ok_or_else(|| UnknownReasonCategory(code.to_owned()))
    }

    /// The category an action is logged with: the one given; else the one the action
    /// implies (expiry, transfer); else `other` when the issuer wrote a reason; else none.
    pub fn for_action(action: Action, given: Option<Self>, has_text: bool) -> Option<Self> {
        given
            .or(match action {
                Action::Expire => Some(Self::Expiry),
                Action::Transfer => Some(Self::Transfer),
                _ => None,
            })
            .or(has_text.then_some(Self::Other))
    }
}

text_type!(ReasonCategory, UnknownReasonCategory);

/// A reason category that is not one of [`ReasonCategory::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reason category {0:?} (one of on_request, data_error, issued_in_error, improperly_obtained, violation, court_order, holder_ended, expiry, transfer, other)")]
pub struct UnknownReasonCategory(pub String);

impl ErrorCode for UnknownReasonCategory {
    fn code(&self) -> &'static str {
        "lifecycle.unknown_reason_category"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_round_trip() {
        for c in ReasonCategory::ALL {
            assert_eq!(ReasonCategory::parse(c.as_str()), Ok(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
            assert_eq!(
                serde_json::from_str::<ReasonCategory>(&format!("\"{c}\"")).unwrap(),
                c
            );
        }
        let e = ReasonCategory::parse("骗取许可").unwrap_err();
        assert_eq!(e.code(), "lifecycle.unknown_reason_category");
    }

    #[test]
    fn the_category_an_action_is_logged_with() {
        use ReasonCategory as R;
        assert_eq!(
            R::for_action(Action::Revoke, Some(R::CourtOrder), true),
            Some(R::CourtOrder)
        );
        assert_eq!(R::for_action(Action::Revoke, None, true), Some(R::Other));
        assert_eq!(R::for_action(Action::Revoke, None, false), None);
        assert_eq!(R::for_action(Action::Expire, None, true), Some(R::Expiry));
        assert_eq!(
            R::for_action(Action::Transfer, None, false),
            Some(R::Transfer)
        );
        assert_eq!(
            R::for_action(Action::Transfer, Some(R::CourtOrder), false),
            Some(R::CourtOrder)
        );
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_codes(s in "[a-z_]{0,20}|\\PC{0,12}") {
            match ReasonCategory::parse(&s) {
                Ok(c) => prop_assert_eq!(c.as_str(), s.as_str()),
                Err(_) => prop_assert!(ReasonCategory::ALL.iter().all(|c| c.as_str() != s)),
            }
        }
    }
}
