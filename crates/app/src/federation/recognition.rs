//! Mutual-recognition lists on the node: kept by the hub's operator (`elicense recognition
//! add|remove|list`, `/api/v1/operator/recognition/{id}`), published in the trust list, and
//! enforced where a node accepts a license from another region ([`check`]).
//!
//! Invariants:
//! - Only the national hub stores lists (`recognition.not_hub` elsewhere); a stored list has
//!   an id of 1–32 lowercase letters, digits, `-` or `_`, a name, at least one GB/T 2260
//!   member area and at least one type code (`recognition.invalid` otherwise). A change makes
//!   the hub republish its trust list.
//! - Every other node knows the lists from the trust list it holds.
//! - [`check`] asks `elicense_core::recognition::covers` with the node's own area and the
//!   area of the license's issuer (positions 3–8 of its USCC); a standalone node checks
//!   nothing. Refused: `recognition.not_listed` (403), naming the pair and the type. It runs
//!   where this node accepts a license for a matter: an institution's sharing request and a
//!   holder's presentation prepared for a matter.

use elicense_core::recognition::{applying_to, covers, RecognitionList};
use elicense_core::{AreaCode, ErrorCode};
use elicense_store::RecognitionRecord;

use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;

fn bad(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, "recognition.invalid", msg.into())
}

fn hub_only(node: &Node) -> Result<()> {
    if super::trust::is_hub(node) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorKind::Invalid,
            "recognition.not_hub",
            "mutual-recognition lists are kept by the national hub; this node reads them \
             from the trust list",
        ))
    }
}

/// The lists the hub stores, as the trust list carries them.
pub async fn stored(node: &Node) -> Result<Vec<RecognitionList>> {
    Ok(node
        .store
        .recognition_lists()
        .await?
        .into_iter()
        .map(|r| RecognitionList {
            id: r.id,
            name: r.name,
            areas: r.areas,
            types: r.types,
        })
        .collect())
}

/// Checks and stores `list` (replacing the one with its id) on the hub.
pub async fn put(node: &Node, list: RecognitionList) -> Result<RecognitionList> {
    hub_only(node)?;
    let id = list.id.trim().to_owned();
    if id.is_empty()
        || id.len() > 32
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(bad(format!(
            "id {id:?}: 1 to 32 lowercase letters, digits, - or _"
        )));
    }
    let name = list.name.trim().to_owned();
    if name.is_empty() {
        return Err(bad("a list has a name"));
    }
    let mut areas = Vec::new();
    for a in &list.areas {
        let a = AreaCode::parse(a.trim())
            .map_err(|e| bad(format!("area {a:?}: {e} [{}]", e.code())))?;
        if !areas.contains(&a.as_str().to_owned()) {
            areas.push(a.as_str().to_owned());
        }
    }
    let mut types: Vec<String> = Vec::new();
    for t in &list.types {
        let t = t.trim();
        if t.is_empty() || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad(format!("type code {t:?}: letters and digits")));
        }
        if !types.iter().any(|x| x == t) {
            types.push(t.to_owned());
        }
    }
    if areas.is_empty() || types.is_empty() {
        return Err(bad("a list has at least one member area and one type"));
    }
    let out = RecognitionList {
        id,
        name,
        areas,
        types,
    };
    node.store
        .put_recognition(RecognitionRecord {
            id: out.id.clone(),
            name: out.name.clone(),
            areas: out.areas.clone(),
            types: out.types.clone(),
            updated_at: node.now(),
        })
        .await?;
    node.trust_inputs.changed();
    Ok(out)
}

/// Deletes the list `id` on the hub (`recognition.not_found` if there is none).
pub async fn remove(node: &Node, id: &str) -> Result<()> {
    hub_only(node)?;
    if !node.store.delete_recognition(id.trim()).await? {
        return Err(AppError::not_found(
            "recognition.not_found",
            format!("no recognition list {:?}", id.trim()),
        ));
    }
    node.trust_inputs.changed();
    Ok(())
}

/// The lists this node knows (the hub: stored; others: from the trust list held), those
/// that apply to `area` when given (a member covering it or lying under it).
pub async fn applying(node: &Node, area: Option<&str>) -> Result<Vec<RecognitionList>> {
    let all = if super::trust::is_hub(node) {
        stored(node).await?
    } else {
        node.trust
            .current()
            .map(|l| l.recognition.clone())
            .unwrap_or_default()
    };
    Ok(match area {
        None => all,
        Some(a) => {
            let a = a.trim();
            AreaCode::parse(a).map_err(|e| bad(format!("area {a:?}: {e}")))?;
            applying_to(&all, a).cloned().collect()
        }
    })
}

/// Whether this node may accept a license of `type_code` issued by the authority with USCC
/// `issuer` (see the module invariants).
pub fn check(node: &Node, issuer: &str, type_code: &str) -> Result<()> {
    let Some(me) = node.config.federation.identity() else {
        return Ok(());
    };
    let license_area = issuer.get(2..8).unwrap_or_default();
    let lists = node
        .trust
        .current()
        .map(|l| l.recognition.clone())
        .unwrap_or_default();
    covers(&lists, me.area().as_str(), license_area, type_code)
        .map(|_| ())
        .map_err(|e| AppError::new(ErrorKind::Forbidden, e.code(), e.to_string()))
}
