//! The lifecycle of one license version (GB/T 36903 status, Chinese status codes).
//!
//! Invariants: [`transition`] is the only place that decides whether an action is allowed;
//! a terminal status (撤销, 注销, 吊销, 变更/superseded) accepts no action; an action that
//! creates a version (change, extend, transfer) leaves *this* version superseded, and the
//! caller creates the next version as valid. `pledged` only changes through pledge and
//! release; a pledged license cannot be cancelled or transferred.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// Status of one license version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 有效: in force.
    Valid,
    /// 暂扣: suspended, may be reinstated.
    Suspended,
    /// 撤销: revoked (issued in error or obtained improperly).
    Revoked,
    /// 注销: cancelled (the holder gave it up, the entity ceased to exist).
    Cancelled,
    /// 吊销: withdrawn as a penalty.
    Withdrawn,
    /// 过期: past its validity; may still be extended.
    Expired,
    /// 变更: replaced by a newer version.
    Superseded,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 7] = [
        Self::Valid,
        Self::Suspended,
        Self::Revoked,
        Self::Cancelled,
        Self::Withdrawn,
        Self::Expired,
        Self::Superseded,
    ];

    /// Stable code: `valid`, `suspended`, `revoked`, `cancelled`, `withdrawn`, `expired`,
    /// `superseded`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
            Self::Cancelled => "cancelled",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
            Self::Superseded => "superseded",
        }
    }

    /// Chinese status name.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::Valid => "有效",
            Self::Suspended => "暂扣",
            Self::Revoked => "撤销",
            Self::Cancelled => "注销",
            Self::Withdrawn => "吊销",
            Self::Expired => "过期",
            Self::Superseded => "变更",
        }
    }

    /// Value in an IETF Token Status List: 0 valid, 2 suspended, 1 for every other status.
    pub fn status_list_value(&self) -> u8 {
        match self {
            Self::Valid => 0,
            Self::Suspended => 2,
            _ => 1,
        }
    }

    /// True when no action is accepted any more.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Revoked | Self::Cancelled | Self::Withdrawn | Self::Superseded
        )
    }

    /// Parses a [`Status::code`].
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A lifecycle action on a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 变更: change data; creates a new version.
    Change,
    /// 暂扣: suspend.
    Suspend,
    /// 恢复 (发还): end a suspension.
    Reinstate,
    /// 撤销: revoke.
    Revoke,
    /// 注销: cancel.
    Cancel,
    /// 吊销: withdraw as a penalty.
    Withdraw,
    /// 延续: extend validity; creates a new version.
    Extend,
    /// 年检: record an annual inspection.
    AnnualInspection,
    /// 质押: record a pledge.
    Pledge,
    /// 解押: release a pledge.
    Release,
    /// 转让: transfer to another holder; creates a new version.
    Transfer,
    /// 过期: mark as past its validity.
    Expire,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 12] = [
        Self::Change,
        Self::Suspend,
        Self::Reinstate,
        Self::Revoke,
        Self::Cancel,
        Self::Withdraw,
        Self::Extend,
        Self::AnnualInspection,
        Self::Pledge,
        Self::Release,
        Self::Transfer,
        Self::Expire,
    ];

    /// Stable code, e.g. `annual_inspection`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Change => "change",
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
            Self::Revoke => "revoke",
            Self::Cancel => "cancel",
            Self::Withdraw => "withdraw",
            Self::Extend => "extend",
            Self::AnnualInspection => "annual_inspection",
            Self::Pledge => "pledge",
            Self::Release => "release",
            Self::Transfer => "transfer",
            Self::Expire => "expire",
        }
    }

    /// Chinese name of the action.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::Change => "变更",
            Self::Suspend => "暂扣",
            Self::Reinstate => "恢复",
            Self::Revoke => "撤销",
            Self::Cancel => "注销",
            Self::Withdraw => "吊销",
            Self::Extend => "延续",
            Self::AnnualInspection => "年检",
            Self::Pledge => "质押",
            Self::Release => "解押",
            Self::Transfer => "转让",
            Self::Expire => "过期",
        }
    }

    /// True for the actions after which the caller issues a new version.
    pub fn creates_version(&self) -> bool {
        matches!(self, Self::Change | Self::Extend | Self::Transfer)
    }

    /// Parses an [`Action::code`].
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// True for the actions that set the status a version shows (the one the public
    /// verification names with its reason and date): every action but annual inspection,
    /// pledge and release, which record a fact and leave the status as it was.
    pub fn sets_status(&self) -> bool {
        !matches!(self, Self::AnnualInspection | Self::Pledge | Self::Release)
    }

    /// The statuses from which this action is allowed (pledge conditions aside).
    pub fn allowed_from(&self) -> &'static [Status] {
        use Status::*;
        match self {
            Self::Change | Self::Suspend | Self::AnnualInspection | Self::Pledge => &[Valid],
            Self::Transfer => &[Valid],
            Self::Extend => &[Valid, Expired],
            Self::Reinstate => &[Suspended],
            Self::Revoke | Self::Withdraw | Self::Cancel | Self::Expire => &[Valid, Suspended],
            Self::Release => &[Valid, Suspended, Expired],
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Error for an unknown status or action code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lifecycle code {0:?}")]
pub struct UnknownCode(pub String);

impl ErrorCode for UnknownCode {
    fn code(&self) -> &'static str {
        "lifecycle.unknown_code"
    }
}

impl FromStr for Status {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

impl FromStr for Action {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

/// Lifecycle state of one license version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LifecycleState {
    /// Its status.
    pub status: Status,
    /// True while a pledge is recorded.
    pub pledged: bool,
}

impl LifecycleState {
    /// The state of a newly issued version: valid, not pledged.
    pub const ISSUED: LifecycleState = LifecycleState {
        status: Status::Valid,
        pledged: false,
    };
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// The action is not allowed from the current status.
    #[error("不能对状态为「{}」的证照执行「{}」 (cannot {} a license whose status is {})",
        from.label_zh(), action.label_zh(), action.code().replace('_', " "), from.code())]
    IllegalTransition {
        /// The current status.
        from: Status,
        /// The action refused.
        action: Action,
    },
    /// The license is pledged: it cannot be cancelled, transferred or pledged again.
    #[error("证照已质押，不能执行「{}」 (the license is pledged; cannot {})",
        action.label_zh(), action.code().replace('_', " "))]
    Pledged {
        /// The action refused.
        action: Action,
    },
    /// A release was asked for a license that is not pledged.
    #[error("证照未质押，不能解押 (the license is not pledged; nothing to release)")]
    NotPledged,
}

impl ErrorCode for TransitionError {
    fn code(&self) -> &'static str {
        match self {
            Self::IllegalTransition { .. } => "lifecycle.illegal_transition",
            Self::Pledged { .. } => "lifecycle.pledged",
            Self::NotPledged => "lifecycle.not_pledged",
        }
    }
}

/// Applies `action` to a version in `state`; returns the state of this same version
/// afterwards. For change, extend and transfer that is `Superseded`: the caller issues the
/// next version as valid, with `pledged` carried over (a transfer requires no pledge).
pub fn transition(
    state: LifecycleState,
    action: Action,
) -> Result<LifecycleState, TransitionError> {
    let from = state.status;
    if !action.allowed_from().contains(&from) {
        return Err(TransitionError::IllegalTransition { from, action });
    }
    let pledged = state.pledged;
    let status = match action {
        Action::Cancel | Action::Transfer | Action::Pledge if pledged => {
            return Err(TransitionError::Pledged { action })
        }
        Action::Release if !pledged => return Err(TransitionError::NotPledged),
        Action::Change | Action::Extend | Action::Transfer => Status::Superseded,
        Action::Suspend => Status::Suspended,
        Action::Reinstate | Action::AnnualInspection => Status::Valid,
        Action::Revoke => Status::Revoked,
        Action::Withdraw => Status::Withdrawn,
        Action::Cancel => Status::Cancelled,
        Action::Expire => Status::Expired,
        Action::Pledge | Action::Release => from,
    };
    let pledged = match action {
        Action::Pledge => true,
        Action::Release => false,
        _ => pledged,
    };
    Ok(LifecycleState { status, pledged })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bilingual() {
        let revoked = LifecycleState {
            status: Status::Revoked,
            pledged: false,
        };
        let e = transition(revoked, Action::Suspend).unwrap_err();
        assert_eq!(e.code(), "lifecycle.illegal_transition");
        assert_eq!(
            e.to_string(),
            "不能对状态为「撤销」的证照执行「暂扣」 (cannot suspend a license whose status is revoked)"
        );
    }

    #[test]
    fn codes_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.code().parse::<Status>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.code())
            );
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.code()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.code())
            );
        }
        assert!("deleted".parse::<Status>().is_err());
    }
}
