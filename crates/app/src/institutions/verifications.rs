//! An institution's verification of a credential, recorded as a use of the license.

use std::sync::Arc;

use elicense_store::{EventRecord, InstitutionRecord};
use serde_json::json;

use super::*;
use crate::error::Result;
use crate::node::Node;

/// Records that an institution verified a credential of a license stored here (event
/// `verify`, actor the institution). A credential of an unknown license is not recorded,
/// nor one whose status came from another node's list: it is another node's license, even
/// if an identifier of this node's store happens to be the same.
pub async fn record_verification(
    node: &Arc<Node>,
    inst: &InstitutionRecord,
    verdict: &crate::verify::Verdict,
) -> Result<()> {
    let Some(identifier) = verdict.identifier.as_deref() else {
        return Ok(());
    };
    if verdict
        .status_source
        .as_ref()
        .is_some_and(|o| o.from != crate::verify::StatusFrom::Local)
    {
        return Ok(());
    }
    if node.store.license(identifier).await?.is_none() {
        return Ok(());
    }
    let copy_of = verdict
        .annotation
        .as_ref()
        .and_then(|a| a.get("share"))
        .cloned();
    node.store
        .record_use(EventRecord {
            seq: 0,
            identifier: identifier.to_string(),
            kind: elicense_core::EventKind::Verify.to_string(),
            actor: institution_actor(&inst.code),
            at: node.now(),
            reason: None,
            reason_category: None,
            detail: json!({
                "institution": inst.code,
                "institution_name": inst.name,
                "valid": verdict.valid,
                "annotated_copy": copy_of,
            })
            .to_string(),
        })
        .await?;
    Ok(())
}
