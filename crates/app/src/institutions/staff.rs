//! An institution's staff (工作人员): its administrator (whoever holds its API key) registers
//! each staff member with the matters they may handle; a sharing request names the staff
//! member asking, and is accepted only for a matter assigned to them while they are not
//! disabled (`elicense_core::share::Staff::may_ask`). The holder's history and the annotated
//! copy name the registered person (`name（username）`), never free text.

use std::sync::Arc;

use elicense_core::error::ErrorCode;
use elicense_core::share::Staff;
use elicense_store::{InstitutionRecord, StaffRecord};
use serde::{Deserialize, Serialize};

use super::invalid;
use crate::error::{AppError, Result};
use crate::node::Node;

/// Longest username and name, characters.
const MAX_LEN: usize = 64;

/// A staff member to register, or new name and matters for a registered one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    /// The person's name, as holders see it (1 to 64 characters).
    pub name: String,
    /// Matter codes assigned to them, each in the institution's scope (at least one).
    pub matters: Vec<String>,
    /// The person's resident ID (GB 11643): whoever signs in to the node as that person (a
    /// local account made at a counter, or through the region's OpenID Connect provider)
    /// works at the counter page as this staff member. Kept only as a keyed hash. Without it
    /// nobody signs in as them (the institution's own system asks in their name).
    #[serde(default)]
    pub resident_id: Option<String>,
}

/// A staff member as the institution sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub username: String,
    pub name: String,
    pub matters: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, when disabled.
    pub disabled_at: Option<i64>,
    /// Whether a person signs in as them (a resident ID was given).
    pub signs_in: bool,
}

impl From<StaffRecord> for StaffView {
    fn from(s: StaffRecord) -> Self {
        StaffView {
            username: s.username,
            name: s.name,
            matters: s.matters,
            created_at: s.created_at,
            disabled_at: s.disabled_at,
            signs_in: s.person_key.is_some(),
        }
    }
}

/// Checks a username: 1 to 64 of `a-z 0-9 . _ -` (`staff.bad_username`).
fn check_username(username: &str) -> Result<()> {
    let ok = !username.is_empty()
        && username.len() <= MAX_LEN
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b));
    if !ok {
        return Err(invalid(
            "staff.bad_username",
            "a staff username is 1 to 64 of a-z, 0-9, '.', '_' and '-'",
        ));
    }
    Ok(())
}

/// Registers a staff member of `inst`, or replaces the name and matters of a registered one
/// (a disabled one stays disabled). `staff.bad_username`, `staff.bad_name`,
/// `staff.no_matters`, `staff.out_of_scope` (a matter outside the institution's scope).
pub async fn put(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    username: &str,
    input: StaffInput,
) -> Result<StaffView> {
    check_username(username)?;
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_LEN {
        return Err(invalid(
            "staff.bad_name",
            "a staff member's name is 1 to 64 characters",
        ));
    }
    let mut matters: Vec<String> = input.matters.iter().map(|m| m.trim().to_owned()).collect();
    matters.sort();
    matters.dedup();
    if matters.is_empty() {
        return Err(invalid(
            "staff.no_matters",
            "a staff member handles at least one matter",
        ));
    }
    if let Some(m) = matters.iter().find(|m| !inst.matters.contains(m)) {
        return Err(AppError::forbidden(
            "staff.out_of_scope",
            format!(
                "the matter {m} is not in the business scope of {}",
                inst.code
            ),
        ));
    }
    let person_key = match input.resident_id.as_deref().map(str::trim) {
        Some(id) => Some(
            node.holder_key(
                &elicense_core::holder::HolderCode::parse(
                    elicense_core::holder::HolderCodeType::ResidentId,
                    id,
                )
                .map_err(|e| invalid("staff.bad_resident_id", e.to_string()))?,
            ),
        ),
        None => None,
    };
    let rec = StaffRecord {
        institution: inst.code.clone(),
        username: username.to_owned(),
        name,
        matters,
        created_at: node.now(),
        disabled_at: None,
        person_key,
    };
    node.store.put_staff(rec).await?;
    get(node, inst, username).await
}

/// One staff member of `inst` (`staff.not_found`).
pub async fn get(node: &Arc<Node>, inst: &InstitutionRecord, username: &str) -> Result<StaffView> {
    Ok(registered(node, inst, username).await?.into())
}

async fn registered(node: &Node, inst: &InstitutionRecord, username: &str) -> Result<StaffRecord> {
    node.store
        .staff(&inst.code, username)
        .await?
        .ok_or_else(|| not_found(inst, username))
}

fn not_found(inst: &InstitutionRecord, username: &str) -> AppError {
    AppError::not_found(
        "staff.not_found",
        format!("{} has no staff member {username:?}", inst.code),
    )
}

/// Every staff member of `inst`, by username.
pub async fn list(node: &Arc<Node>, inst: &InstitutionRecord) -> Result<Vec<StaffView>> {
    Ok(node
        .store
        .staff_of(&inst.code)
        .await?
        .into_iter()
        .map(StaffView::from)
        .collect())
}

/// Disables (`true`) or enables a staff member: a disabled one's requests are refused from
/// the next one on. `staff.not_found`.
pub async fn set_disabled(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    username: &str,
    disabled: bool,
) -> Result<StaffView> {
    let at = disabled.then(|| node.now());
    if !node
        .store
        .set_staff_disabled(&inst.code, username, at)
        .await?
    {
        return Err(not_found(inst, username));
    }
    get(node, inst, username).await
}

/// The registered staff member asking for `matter`, as requests and copies name them
/// (`name（username）`): `share.unknown_staff` for no registered member of `inst`,
/// `share.staff_disabled`, `share.staff_not_assigned`.
pub(crate) async fn asking(
    node: &Node,
    inst: &InstitutionRecord,
    username: &str,
    matter: &str,
) -> Result<String> {
    let Some(s) = node.store.staff(&inst.code, username).await? else {
        return Err(invalid(
            "share.unknown_staff",
            format!("{} has no staff member {username:?}", inst.code),
        ));
    };
    Staff {
        matters: &s.matters,
        disabled: s.disabled_at.is_some(),
    }
    .may_ask(matter)
    .map_err(|e| AppError::forbidden(e.code(), e.to_string()))?;
    Ok(format!("{}（{}）", s.name, s.username))
}

/// A counter a signed-in person works at: the institution and their staff record there.
#[derive(Debug, Clone)]
pub struct Counter {
    pub institution: InstitutionRecord,
    pub staff: StaffRecord,
}

impl Counter {
    /// How the holder's history and the annotated copy name them.
    pub fn display(&self) -> String {
        format!("{}（{}）", self.staff.name, self.staff.username)
    }
}

/// The counters `id` works at: every staff record of their resident ID that is enabled, at an
/// institution that is not disabled, by institution and username.
pub async fn counters_of(node: &Node, id: &crate::wallet::Identity) -> Result<Vec<Counter>> {
    let mut out = Vec::new();
    for staff in node.store.staff_by_person(&id.person_key).await? {
        if staff.disabled_at.is_some() {
            continue;
        }
        let Some(institution) = node.store.institution(&staff.institution).await? else {
            continue;
        };
        if institution.disabled_at.is_some_and(|t| t <= node.now()) {
            continue;
        }
        out.push(Counter { institution, staff });
    }
    Ok(out)
}

/// The counter of `id` at institution `code` (`staff.not_yours`, forbidden, when they work
/// at none there).
pub async fn counter_of(node: &Node, id: &crate::wallet::Identity, code: &str) -> Result<Counter> {
    counters_of(node, id)
        .await?
        .into_iter()
        .find(|c| c.institution.code == code)
        .ok_or_else(|| {
            AppError::forbidden(
                "staff.not_yours",
                format!("you are not registered as staff of {code}"),
            )
        })
}
