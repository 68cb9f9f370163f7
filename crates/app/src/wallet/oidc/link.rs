//! From a provider's verified claims to the account they sign in to.
//!
//! Invariants: the person is known by the provider's (issuer, `sub`), never by a name or a
//! number the person typed; the first sign-in creates the account and its link in one store
//! transaction (a profile like `identity::create_account`'s: the keyed hash of the resident
//! ID, the masked number, the codes sealed to the account), so two first sign-ins at once
//! make one account; a later sign-in writes the profile again only when the provider's name
//! or resident ID changed; a disabled account is refused (`oidc.account_disabled`) and its
//! owner sees the refusal among the failed sign-ins. An account made here has no password:
//! its hash field holds a marker no password matches.

use elicense_core::holder::{HolderCode, HolderCodeType, HolderName};
use elicense_store::{AccountRecord, OidcLinkRecord, StoreError};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::id_token::{refused, Claims};
use super::settings::OidcSettings;
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::wallet::identity::{identity_of, mask, seal_codes, Profile};
use crate::wallet::security::{record_failure, FailureReason};
use crate::wallet::{ClientAddr, Identity};

/// What an account made by OpenID Connect keeps as its password hash: not a PHC string, so
/// no password verifies against it.
pub const NO_PASSWORD: &str = "!oidc";

/// The person the claims name.
#[derive(Debug, Clone)]
pub struct Person {
    pub code: HolderCode,
    pub name: String,
}

impl Person {
    /// Reads the configured resident-ID and name claims.
    pub fn from_claims(s: &OidcSettings, c: &Claims) -> Result<Person> {
        let id = match c.all.get(&s.resident_id_claim) {
            Some(Value::String(v)) if !v.trim().is_empty() => v.trim(),
            _ => {
                return Err(refused(
                    "oidc.no_resident_id",
                    format!(
                        "the identity provider did not say the person's resident ID (claim {:?})",
                        s.resident_id_claim
                    ),
                ))
            }
        };
        let code = HolderCode::parse(HolderCodeType::ResidentId, id).map_err(|e| {
            refused(
                "oidc.bad_resident_id",
                format!("the provider's resident ID is not a valid GB 11643 number: {e}"),
            )
        })?;
        let name = c
            .all
            .get(&s.name_claim)
            .and_then(Value::as_str)
            .and_then(HolderName::parse)
            .ok_or_else(|| {
                refused(
                    "oidc.no_name",
                    format!(
                        "the identity provider did not say the person's name (claim {:?})",
                        s.name_claim
                    ),
                )
            })?;
        Ok(Person {
            code,
            name: name.as_str().to_owned(),
        })
    }
}

/// The username of the account linked to (issuer, subject): stable, unique, not personal.
fn username(issuer: &str, subject: &str) -> String {
    let mut h = Sha256::new();
    h.update(issuer.as_bytes());
    h.update([0]);
    h.update(subject.as_bytes());
    format!("oidc:{}", &hex::encode(h.finalize())[..32])
}

/// The profile of the person's account. The enterprises they represent are not kept: they
/// come from the licenses in force at each request (`identity::represented`).
fn profile(node: &Node, account: &str, p: &Person) -> Result<Profile> {
    Ok(Profile {
        name: p.name.clone(),
        person_masked: mask(p.code.value()),
        person_key: node.holder_key(&p.code),
        sealed_codes: Some(seal_codes(node, account, std::slice::from_ref(&p.code))?),
    })
}

fn keys(p: &Profile) -> Vec<String> {
    vec![p.person_key.clone()]
}

fn to_json(p: &Profile) -> Result<String> {
    serde_json::to_string(p).map_err(|e| AppError::internal(e.to_string()))
}

/// Signs `person` in as the account linked to (issuer, subject), creating or updating it.
pub async fn sign_in(
    node: &Node,
    issuer: &str,
    subject: &str,
    person: Person,
    client: ClientAddr,
) -> Result<Identity> {
    for _ in 0..2 {
        if let Some(rec) = node.store.oidc_account(issuer, subject).await? {
            return existing(node, rec, &person, client).await;
        }
        let id = crate::wallet::random_id();
        let p = profile(node, &id, &person)?;
        let rec = AccountRecord {
            id: id.clone(),
            username: username(issuer, subject),
            password_hash: NO_PASSWORD.into(),
            profile: to_json(&p)?,
            holder_keys: keys(&p),
            created_at: node.now(),
            disabled_at: None,
        };
        let link = OidcLinkRecord {
            issuer: issuer.into(),
            subject: subject.into(),
            account: id,
            created_at: node.now(),
        };
        match node.store.put_oidc_account(link, rec.clone()).await {
            Ok(()) => {
                return identity_of(node.store.as_ref(), rec)
                    .await?
                    .ok_or_else(|| AppError::internal("new account"))
            }
            // Another sign-in of the same person linked it meanwhile: use that account.
            Err(StoreError::Duplicate(_) | StoreError::UsernameTaken(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::new(
        ErrorKind::Conflict,
        "oidc.link_conflict",
        "the account of this person changed during sign-in; try again",
    ))
}

async fn existing(
    node: &Node,
    rec: AccountRecord,
    person: &Person,
    client: ClientAddr,
) -> Result<Identity> {
    if rec.disabled_at.is_some() {
        record_failure(
            node.store.as_ref(),
            &rec.id,
            node.now(),
            client,
            FailureReason::AccountDisabled,
        )
        .await?;
        return Err(AppError::new(
            ErrorKind::Forbidden,
            "oidc.account_disabled",
            "this account is disabled; ask the operator",
        ));
    }
    let old: Profile = serde_json::from_str(&rec.profile)
        .map_err(|e| AppError::internal(format!("account profile: {e}")))?;
    let rec = if old.name != person.name || old.person_key != node.holder_key(&person.code) {
        let p = profile(node, &rec.id, person)?;
        let (json, holder_keys) = (to_json(&p)?, keys(&p));
        node.store
            .update_account_profile(&rec.id, json.clone(), holder_keys.clone())
            .await?;
        AccountRecord {
            profile: json,
            holder_keys,
            ..rec
        }
    } else {
        rec
    };
    identity_of(node.store.as_ref(), rec)
        .await?
        .ok_or_else(|| AppError::internal("enabled account"))
}
