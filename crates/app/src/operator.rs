//! The region operator's switches (issue 16, finding 8): revoke an API key, disable or enable
//! an institution or a wallet account, make a wallet account or reset its password, retire
//! or revoke an issuer's signing key. The command
//! line (`elicense apikey revoke`, `institution disable|enable`,
//! `account add|disable|enable|reset-password`,
//! `keygen --retire|--revoke`) and the operator API (`/api/v1/operator/...`, authenticated by
//! an operator key `elo_<id>_<secret>`) both call these functions and nothing else.
//!
//! Invariants:
//! - Every operation is one store transaction: the change, its operator event
//!   (`core::OperatorAction`, actor `operator:cli` or `operator:<key id>`) and the event's log
//!   leaf ([`elicense_store::LogEntry::operator`]). Facts about keys (an API key's random id,
//!   an issuer key's kid and `since`) are in clear in the public log; which institution or
//!   account was disabled or enabled is only a salted commitment there, its opening kept by
//!   the node (issue 16, finding 5: no institution code and no username in a public leaf).
//! - An operation that would change nothing (a key revoked twice, an enabled institution
//!   enabled) is refused with a stable code and writes nothing, so every event in the log
//!   changed something.
//! - Effect on a running node: API keys, institutions and accounts are read from the store on
//!   every request, so a revocation or a disabling is refused from the next request on, in
//!   this process or another. Issuer keys are cached by [`crate::keys::KeyRing`]: this process
//!   drops its caches at once ([`crate::keys::KeyRing::invalidate`]); a node in another
//!   process (the CLI next to a running node) stops signing with a retired or revoked key and
//!   applies a revocation's `since` to verification within [`crate::cache::TTL`] (1 s).
//! - Retiring a key at `t` sets its `not_after` to `t + 1` (times are whole seconds, the end
//!   exclusive): it signs nothing from then on ([`crate::keys::may_sign`] asks for validity
//!   at the next second), and what it signed before, in that second too, keeps verifying
//!   (its `iat` is before `not_after`). Revoking a key since a
//!   time `since` (at most now) sets `revoked_at = since`: a credential it signed with
//!   `iat >= since` is invalid (`issuer.key_revoked`), one with `iat < since` verifies. A
//!   revocation may later move `since` earlier, never later. Note that whoever holds a
//!   compromised key can write any `iat`: choose `since` no later than the earliest moment the
//!   key may have leaked; the issue leaves of the log (credential hashes) tell the genuine
//!   credentials before it.

use std::sync::Arc;

use elicense_core::gb32100::Uscc;
use elicense_core::{OperatorAction, OperatorActor};
use elicense_store::{ApiKeyOwner, ApiKeyRecord, OperatorChange, OperatorEventRecord, StoreError};
use serde::{Deserialize, Serialize};

use crate::apikeys::{self, INSTITUTION_PREFIX, ISSUER_PREFIX};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::wallet::identity::{self, Identity, NewAccount};

/// Prefix of operator keys.
pub const OPERATOR_PREFIX: &str = "elo";

/// Most events one page of [`events`] returns.
pub const MAX_EVENTS_PAGE: u32 = 500;

/// An operator event as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OperatorEvent {
    /// The operator event's number (its leaf names it as `op`).
    pub op: i64,
    #[schema(value_type = String)]
    pub action: OperatorAction,
    /// What it acted on: an API key id, a kid, an institution code, an account id, or
    /// `OLD>NEW` (two USCCs) for a succession.
    pub subject: String,
    /// `operator:cli` or `operator:<operator key id>`.
    pub actor: String,
    /// Unix seconds.
    pub at: i64,
    /// For a key revocation: unix seconds from which the key's signatures are invalid.
    pub since: Option<i64>,
}

impl TryFrom<&OperatorEventRecord> for OperatorEvent {
    type Error = AppError;

    fn try_from(r: &OperatorEventRecord) -> Result<Self> {
        let action = OperatorAction::parse(&r.action)
            .map_err(|e| crate::stored::corrupt(format_args!("operator event {}", r.seq), e))?;
        Ok(OperatorEvent {
            op: r.seq,
            action,
            subject: r.subject.clone(),
            actor: r.actor.clone(),
            at: r.at,
            since: r.since,
        })
    }
}

/// What an operation did: its event and the index of its leaf in the node's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Done {
    pub event: OperatorEvent,
    pub leaf_index: u64,
}

pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Conflict, code, message)
}

/// Makes an operator key; returns the key (shown once) and its id.
pub async fn create_key(node: &Arc<Node>, label: &str) -> Result<(String, String)> {
    let (token, record) = apikeys::random_key(OPERATOR_PREFIX, "", label, node.now());
    let id = record.id.clone();
    node.store.put_operator_key(record).await?;
    Ok((token, id))
}

/// Who a presented operator key is: `auth.invalid_key` for anything but a known operator key
/// that is not revoked (an issuer's or an institution's key included).
pub async fn authenticate(node: &Arc<Node>, token: &str) -> Result<OperatorActor> {
    let id = apikeys::key_id(OPERATOR_PREFIX, token)?;
    let rec = node
        .store
        .operator_key(id)
        .await?
        .ok_or_else(apikeys::invalid_key)?;
    apikeys::check(token, &rec, node.now())?;
    Ok(OperatorActor::Key(rec.id))
}

/// An API key named on the command line or in a URL: its hex id, optionally with the
/// prefix that says whose it is (`elk_<id>`, `eli_<id>`, `elo_<id>`; a whole key is accepted
/// too, only its id is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub owner: Option<ApiKeyOwner>,
    pub id: String,
}

/// Length of an API key's id in hex digits.
const KEY_ID_LEN: usize = 12;

impl KeyRef {
    /// Parses a key reference; `apikey.bad_id` unless it is 12 lowercase hex digits, with or
    /// without a known prefix.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let (owner, rest) = match s.split_once('_') {
            Some((ISSUER_PREFIX, rest)) => (Some(ApiKeyOwner::Issuer), rest),
            Some((INSTITUTION_PREFIX, rest)) => (Some(ApiKeyOwner::Institution), rest),
            Some((OPERATOR_PREFIX, rest)) => (Some(ApiKeyOwner::Operator), rest),
            Some(_) => return Err(bad_key_id(s)),
            None => (None, s),
        };
        let id = rest.split('_').next().unwrap_or_default();
        let hex = id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if id.len() != KEY_ID_LEN || !hex {
            return Err(bad_key_id(s));
        }
        Ok(KeyRef {
            owner,
            id: id.to_owned(),
        })
    }
}

fn bad_key_id(s: &str) -> AppError {
    let shown: String = s.chars().take(20).collect();
    invalid(
        "apikey.bad_id",
        format!("{shown:?} is not an API key id (12 hex digits, optionally elk_/eli_/elo_ first)"),
    )
}

async fn find_key(node: &Node, owner: ApiKeyOwner, id: &str) -> Result<Option<ApiKeyRecord>> {
    Ok(match owner {
        ApiKeyOwner::Issuer => node.store.api_key(id).await?,
        ApiKeyOwner::Institution => node.store.institution_key(id).await?,
        ApiKeyOwner::Operator => node.store.operator_key(id).await?,
    })
}

/// Stores `event` with `change`; a store `Conflict` becomes `conflict_code`, `NotFound`
/// becomes `missing_code`.
pub(crate) async fn apply(
    node: &Node,
    change: OperatorChange,
    event: OperatorEventRecord,
    missing_code: &'static str,
    conflict_code: &'static str,
) -> Result<Done> {
    match node.store.apply_operator(change, event).await {
        Ok((stored, leaf_index)) => Ok(Done {
            event: OperatorEvent::try_from(&stored)?,
            leaf_index,
        }),
        Err(StoreError::Conflict(m)) => Err(conflict(conflict_code, m)),
        Err(StoreError::NotFound(m)) => Err(AppError::not_found(missing_code, m)),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn event(
    node: &Node,
    actor: &OperatorActor,
    action: OperatorAction,
    subject: &str,
    since: Option<i64>,
) -> OperatorEventRecord {
    OperatorEventRecord {
        seq: 0,
        action: action.as_str().to_owned(),
        subject: subject.to_owned(),
        actor: actor.code(),
        at: node.now(),
        since,
    }
}

/// Revokes an issuer's, an institution's or an operator's API key by its id: it is refused
/// from the next request on. `apikey.unknown` (not found), `apikey.ambiguous` (a bare id
/// that two kinds of key have: name it with its prefix), `apikey.already_revoked`.
pub async fn revoke_api_key(node: &Arc<Node>, actor: &OperatorActor, key: &str) -> Result<Done> {
    let key = KeyRef::parse(key)?;
    let owners = match key.owner {
        Some(o) => vec![o],
        None => vec![
            ApiKeyOwner::Issuer,
            ApiKeyOwner::Institution,
            ApiKeyOwner::Operator,
        ],
    };
    let mut found = Vec::new();
    for owner in owners {
        if let Some(rec) = find_key(node, owner, &key.id).await? {
            found.push((owner, rec));
        }
    }
    let (owner, rec) = match found.len() {
        0 => {
            return Err(AppError::not_found(
                "apikey.unknown",
                format!("no API key has the id {}", key.id),
            ))
        }
        1 => found.remove(0),
        _ => {
            return Err(invalid(
                "apikey.ambiguous",
                format!(
                    "more than one kind of API key has the id {}: name it as elk_, eli_ or elo_{}",
                    key.id, key.id
                ),
            ))
        }
    };
    if rec.revoked_at.is_some() {
        return Err(conflict(
            "apikey.already_revoked",
            format!("API key {} is revoked already", key.id),
        ));
    }
    let change = OperatorChange::RevokeApiKey {
        owner,
        id: key.id.clone(),
        at: node.now(),
    };
    let ev = event(node, actor, OperatorAction::ApiKeyRevoke, &key.id, None);
    apply(node, change, ev, "apikey.unknown", "apikey.already_revoked").await
}

/// Disables (`true`) or enables an institution. A disabled institution's keys are refused
/// (`institution.disabled`) and no key is made for it; registering it again does not enable
/// it. `institution.unknown`, `institution.already_disabled`, `institution.not_disabled`.
pub async fn set_institution_disabled(
    node: &Arc<Node>,
    actor: &OperatorActor,
    code: &str,
    disabled: bool,
) -> Result<Done> {
    let code = Uscc::parse(code.trim())
        .map_err(AppError::invalid)?
        .to_string();
    let (action, conflict_code) = if disabled {
        (
            OperatorAction::InstitutionDisable,
            "institution.already_disabled",
        )
    } else {
        (
            OperatorAction::InstitutionEnable,
            "institution.not_disabled",
        )
    };
    let change = OperatorChange::InstitutionDisabled {
        code: code.clone(),
        disabled_at: disabled.then(|| node.now()),
    };
    let ev = event(node, actor, action, &code, None);
    apply(node, change, ev, "institution.unknown", conflict_code).await
}

/// Disables (`true`) or enables the wallet account with this username. Disabling ends every
/// session of the account at once, also for a node running on the same store; enabling does
/// not bring them back. The event names the account's id, never its username.
/// `account.not_found`, `account.already_disabled`, `account.not_disabled`.
pub async fn set_account_disabled(
    node: &Arc<Node>,
    actor: &OperatorActor,
    username: &str,
    disabled: bool,
) -> Result<Done> {
    let rec = account_named(node, username).await?;
    let (action, conflict_code) = if disabled {
        (OperatorAction::AccountDisable, "account.already_disabled")
    } else {
        (OperatorAction::AccountEnable, "account.not_disabled")
    };
    let change = OperatorChange::AccountDisabled {
        account: rec.id.clone(),
        disabled_at: disabled.then(|| node.now()),
    };
    let ev = event(node, actor, action, &rec.id, None);
    apply(node, change, ev, "account.not_found", conflict_code).await
}

/// Makes a password account for a person whose resident ID the operator checked at a
/// counter (a node without an identity provider, or a person who cannot use it). The account
/// and its `account_create` event (naming the account's id, never the username or the ID)
/// are written together. `account.invalid`, `account.username_taken`.
pub async fn create_account(
    node: &Arc<Node>,
    actor: &OperatorActor,
    account: NewAccount,
) -> Result<(Done, Identity)> {
    let (rec, identity) = identity::account_record(node, account).await?;
    let ev = event(node, actor, OperatorAction::AccountCreate, &rec.id, None);
    match node
        .store
        .apply_operator(OperatorChange::CreateAccount(rec), ev)
        .await
    {
        Ok((stored, leaf_index)) => Ok((
            Done {
                event: OperatorEvent::try_from(&stored)?,
                leaf_index,
            },
            identity,
        )),
        Err(e) => Err(identity::username_taken(e, &identity.username)),
    }
}

/// Replaces the password of the account with this username (after the operator checked the
/// person's ID) and ends every session of the account, in one transaction with its
/// `account_password_reset` event. A disabled account stays disabled. `account.not_found`,
/// `account.invalid` (a password under [`identity::MIN_PASSWORD`] characters).
pub async fn reset_password(
    node: &Arc<Node>,
    actor: &OperatorActor,
    username: &str,
    password: &str,
) -> Result<Done> {
    identity::check_password(password)?;
    let rec = account_named(node, username).await?;
    let change = OperatorChange::ResetPassword {
        account: rec.id.clone(),
        password_hash: identity::hash_off_thread(password).await?,
        at: node.now(),
    };
    let ev = event(
        node,
        actor,
        OperatorAction::AccountPasswordReset,
        &rec.id,
        None,
    );
    apply(node, change, ev, "account.not_found", "account.not_found").await
}

/// A password the operator hands to the person (shown once): 16 characters from an alphabet
/// without look-alikes (no 0/O, 1/l/I), about 90 bits.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

async fn account_named(node: &Node, username: &str) -> Result<elicense_store::AccountRecord> {
    node.store
        .account_by_username(username.trim())
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "account.not_found",
                format!("no account has the username {:?}", username.trim()),
            )
        })
}

pub(crate) async fn existing_key(node: &Node, kid: &str) -> Result<elicense_store::KeyRecord> {
    node.store
        .all_keys()
        .await?
        .into_iter()
        .find(|k| k.kid == kid.trim())
        .ok_or_else(|| {
            AppError::not_found("key.unknown", format!("no issuer key has the kid {kid:?}"))
        })
}

/// Retires an issuer key: it signs nothing from now on; what it signed keeps verifying.
/// `key.unknown`, `key.already_retired`.
pub async fn retire_key(node: &Arc<Node>, actor: &OperatorActor, kid: &str) -> Result<Done> {
    let key = existing_key(node, kid).await?;
    let now = node.now();
    // `not_after` is exclusive and times are whole seconds: what the key signed in this
    // second, before its retirement, stays valid (`keys::may_sign`).
    let not_after = now + 1;
    if key.not_after.is_some_and(|t| t <= not_after) {
        return Err(conflict(
            "key.already_retired",
            format!("issuer key {} is retired already", key.kid),
        ));
    }
    let change = OperatorChange::RetireKey {
        kid: key.kid.clone(),
        not_after,
    };
    let ev = event(node, actor, OperatorAction::KeyRetire, &key.kid, None);
    let done = apply(node, change, ev, "key.unknown", "key.already_retired").await;
    node.keys.invalidate().await;
    done
}

/// Revokes an issuer key as compromised since `since` (unix seconds, at most now): it signs
/// nothing from now on, and a credential it signed with `iat >= since` is invalid
/// (`issuer.key_revoked`). `key.unknown`, `key.since_in_future`, `key.already_revoked` (it
/// is revoked since that time or earlier).
pub async fn revoke_key(
    node: &Arc<Node>,
    actor: &OperatorActor,
    kid: &str,
    since: Since,
) -> Result<Done> {
    let key = existing_key(node, kid).await?;
    let since = since.0;
    if since > node.now() {
        return Err(invalid(
            "key.since_in_future",
            "a key is revoked from a time that has come (use --retire to stop it signing)",
        ));
    }
    if key.revoked_at.is_some_and(|t| t <= since) {
        return Err(conflict(
            "key.already_revoked",
            format!("issuer key {} is revoked since then or earlier", key.kid),
        ));
    }
    let change = OperatorChange::RevokeKey {
        kid: key.kid.clone(),
        revoked_at: since,
    };
    let ev = event(
        node,
        actor,
        OperatorAction::KeyRevoke,
        &key.kid,
        Some(since),
    );
    let done = apply(node, change, ev, "key.unknown", "key.already_revoked").await;
    node.keys.invalidate().await;
    done
}

/// The time from which a revoked key's signatures are invalid: unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since(pub i64);

/// `since` as a client sends it: a `YYYY-MM-DD` date or unix seconds.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SinceInput {
    Unix(i64),
    Text(String),
}

impl Since {
    /// Parses `YYYY-MM-DD` (the start of that day in China Standard Time, like license dates)
    /// or unix seconds (digits); `key.bad_since` otherwise.
    pub fn parse(s: &str) -> Result<Since> {
        let s = s.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse::<i64>().map(Since).map_err(|_| bad_since(s));
        }
        crate::timeutil::parse(s)
            .map(|d| Since(crate::timeutil::day_start(d)))
            .ok_or_else(|| bad_since(s))
    }

    /// The time a client sent.
    pub fn from_input(input: &SinceInput) -> Result<Since> {
        match input {
            SinceInput::Unix(t) if *t >= 0 => Ok(Since(*t)),
            SinceInput::Unix(t) => Err(bad_since(&t.to_string())),
            SinceInput::Text(s) => Since::parse(s),
        }
    }
}

fn bad_since(s: &str) -> AppError {
    let shown: String = s.chars().take(30).collect();
    invalid(
        "key.bad_since",
        format!("{shown:?} is neither a YYYY-MM-DD date nor unix seconds"),
    )
}

/// Operator events with number above `after`, oldest first, at most `limit` (1 to
/// [`MAX_EVENTS_PAGE`]).
pub async fn events(node: &Node, after: i64, limit: u32) -> Result<Vec<OperatorEvent>> {
    let limit = limit.clamp(1, MAX_EVENTS_PAGE);
    node.store
        .operator_events(after, limit)
        .await?
        .iter()
        .map(OperatorEvent::try_from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_refs() {
        assert_eq!(
            KeyRef::parse("0123456789ab").unwrap(),
            KeyRef {
                owner: None,
                id: "0123456789ab".into()
            }
        );
        assert_eq!(
            KeyRef::parse("eli_0123456789ab").unwrap().owner,
            Some(ApiKeyOwner::Institution)
        );
        let whole = KeyRef::parse("elk_0123456789ab_00ff").unwrap();
        assert_eq!(
            (whole.owner, whole.id.as_str()),
            (Some(ApiKeyOwner::Issuer), "0123456789ab")
        );
        for bad in [
            "",
            "0123456789a",
            "0123456789AB",
            "xyz_0123456789ab",
            "0123456789abc",
        ] {
            assert_eq!(
                KeyRef::parse(bad).unwrap_err().code,
                "apikey.bad_id",
                "{bad}"
            );
        }
    }

    #[test]
    fn since_is_a_cst_day_or_unix_seconds() {
        // 2025-03-01 00:00 CST = 2025-02-28 16:00 UTC.
        assert_eq!(Since::parse("2025-03-01").unwrap(), Since(1_740_758_400));
        assert_eq!(Since::parse("1700000000").unwrap(), Since(1_700_000_000));
        for bad in ["", "2025-13-01", "yesterday", "-5", "2025/03/01"] {
            assert_eq!(
                Since::parse(bad).unwrap_err().code,
                "key.bad_since",
                "{bad}"
            );
        }
        assert_eq!(
            Since::from_input(&SinceInput::Unix(-1)).unwrap_err().code,
            "key.bad_since"
        );
    }
}
