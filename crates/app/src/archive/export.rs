//! Writing a bag: every version of every license in scope, with its events, the log entries
//! of its events with their inclusion proofs (and the openings of its uses), the checkpoint
//! and the keys to check them offline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use elicense_core::holder::HolderCode;
use elicense_core::ident::Identifier;
use elicense_store::{LicenseRecord, LogEntry};
use serde_json::{json, Value};

use super::{io, sha256_hex, ExportSummary, Scope};
use crate::error::{AppError, ErrorKind};
use crate::node::Node;

fn pretty(v: &Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).expect("json");
    s.push(b'\n');
    s
}

/// Every license version in scope, by identifier.
async fn select(node: &Node, scope: &Scope) -> Result<BTreeMap<String, LicenseRecord>, AppError> {
    let mut lineages = BTreeSet::new();
    match scope {
        Scope::License(id) => {
            let rec = node.store.license(id.as_str()).await?.ok_or_else(|| {
                AppError::not_found("license.not_found", format!("no license {id}"))
            })?;
            lineages.insert(rec.lineage);
        }
        Scope::Holder(code) => {
            let holder = HolderCode::detect(code).map_err(AppError::invalid)?;
            for rec in node.store.by_holder(&node.holder_key(&holder)).await? {
                lineages.insert(rec.lineage);
            }
        }
        Scope::Issuer(uscc) => {
            // Every license the node issued has an issue leaf, which names it: walk the
            // log's identifiers (a use's commitment names none).
            let size = node.store.log_frontier().await?.size();
            let mut start = 0;
            while start < size {
                for e in node.store.log_entries(start, start + 4096).await? {
                    let entry = LogEntry::parse(&e.data)?;
                    let Some(identifier) = entry.identifier() else {
                        continue;
                    };
                    let of_issuer = Identifier::parse(identifier)
                        .map(|i| i.issuer().as_str() == uscc)
                        .unwrap_or(false);
                    if of_issuer {
                        if let Some(rec) = node.store.license(identifier).await? {
                            lineages.insert(rec.lineage);
                        }
                    }
                }
                start += 4096;
            }
        }
    }
    let mut out = BTreeMap::new();
    for lineage in lineages {
        for v in node.store.versions(&lineage).await? {
            out.insert(v.identifier.clone(), v);
        }
    }
    if out.is_empty() {
        return Err(AppError::not_found(
            "archive.empty",
            "no license in the scope given",
        ));
    }
    Ok(out)
}

/// Writes the bag of `scope` to `out` (which must not exist or be empty).
pub async fn export(node: &Arc<Node>, scope: Scope, out: &Path) -> Result<ExportSummary, AppError> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| io(out, e))?
            .next()
            .is_some()
    {
        return Err(AppError::new(
            ErrorKind::Invalid,
            "archive.out_not_empty",
            format!("{} exists and is not empty", out.display()),
        ));
    }
    let licenses = select(node, &scope).await?;
    let cp = crate::log::checkpoint(node).await?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("data/checkpoint.txt".into(), cp.note.clone().into_bytes());
    let keys: Vec<String> = node
        .log
        .verifier_keys()?
        .iter()
        .map(|k| k.to_string())
        .collect();
    files.insert(
        "data/log-keys.json".into(),
        pretty(&json!({"origin": node.log.origin(), "verifier_keys": keys})),
    );
    let mut issuers = BTreeSet::new();
    let mut events_total = 0;
    let mut lineage_events: BTreeMap<String, Vec<elicense_store::EventRecord>> = BTreeMap::new();
    for (id, rec) in &licenses {
        issuers.insert(rec.issuer.clone());
        if !lineage_events.contains_key(&rec.lineage) {
            lineage_events.insert(rec.lineage.clone(), node.store.events(&rec.lineage).await?);
        }
        let events: Vec<_> = lineage_events[&rec.lineage]
            .iter()
            .filter(|e| &e.identifier == id)
            .cloned()
            .collect();
        let dir = format!("data/licenses/{id}");
        files.insert(
            format!("{dir}/credential.txt"),
            rec.credential.clone().into_bytes(),
        );
        let license = crate::stored::License::try_from(rec)?;
        let meta = serde_json::to_value(&license.meta).expect("metadata serialise");
        files.insert(
            format!("{dir}/meta.json"),
            pretty(&json!({
                "identifier": rec.identifier, "lineage": rec.lineage, "version": rec.version,
                "type_code": rec.type_code, "issuer": rec.issuer, "status": rec.status,
                "pledged": rec.pledged, "alg": rec.alg, "kid": rec.kid,
                "issued_at": rec.issued_at, "valid_until": rec.valid_until, "meta": meta,
            })),
        );
        let face =
            crate::face::render_identifier(node, &license.identifier, crate::face::FaceFormat::Pdf)
                .await?;
        files.insert(format!("{dir}/face.pdf"), face);
        files.insert(
            format!("{dir}/events.json"),
            pretty(&serde_json::to_value(&events).expect("events serialise")),
        );
        let openings = node
            .store
            .log_openings(events.iter().map(|e| e.seq).collect())
            .await?;
        for ev in &events {
            events_total += 1;
            let Some(index) = node.store.log_index(ev.seq).await? else {
                continue; // an event from before the log existed
            };
            if index >= cp.size {
                continue; // appended after the checkpoint was read
            }
            let entry = node.store.log_entries(index, index + 1).await?;
            let proof = crate::log::inclusion_proof(node, index, cp.size).await?;
            let mut logged = json!({
                "index": index,
                "tree_size": cp.size,
                "entry": String::from_utf8_lossy(&entry[0].data),
                "hashes": crate::log::hashes_b64(&proof),
            });
            if let Some(o) = openings.iter().find(|o| o.seq == ev.seq) {
                logged["opening"] = json!({
                    "salt": hex::encode(&o.salt),
                    "event": String::from_utf8_lossy(&o.event),
                });
            }
            files.insert(format!("{dir}/log/{index}.json"), pretty(&logged));
        }
    }
    for uscc in &issuers {
        let jwks = node.keys.jwks(uscc).await?;
        let mut ids = serde_json::Map::new();
        for k in node.store.keys(uscc).await? {
            if let Some(id) = k.sm2_signer_id {
                ids.insert(k.kid, Value::String(id));
            }
        }
        files.insert(
            format!("data/issuers/{uscc}/jwks.json"),
            pretty(&json!({"keys": jwks.keys, "sm2_signer_ids": ids})),
        );
    }
    write_bag(out, &files, node)?;
    Ok(ExportSummary {
        bag: out.display().to_string(),
        licenses: licenses.len(),
        events: events_total,
        tree_size: cp.size,
        files: files.len(),
    })
}

fn write_file(root: &Path, rel: &str, bytes: &[u8]) -> Result<(), AppError> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    std::fs::write(&path, bytes).map_err(|e| io(&path, e))
}

fn write_bag(out: &Path, files: &BTreeMap<String, Vec<u8>>, node: &Node) -> Result<(), AppError> {
    let mut manifest = String::new();
    let mut octets = 0usize;
    for (rel, bytes) in files {
        write_file(out, rel, bytes)?;
        manifest.push_str(&format!("{}  {rel}\n", sha256_hex(bytes)));
        octets += bytes.len();
    }
    let bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_string();
    let date = time::OffsetDateTime::from_unix_timestamp(node.now())
        .map(|t| t.date().to_string())
        .unwrap_or_default();
    let info = format!(
        "Source-Organization: {}\nBagging-Date: {date}\nPayload-Oxum: {octets}.{}\n\
         External-Description: elicense archive: licenses, events, event-log proofs\n",
        node.config.base_url,
        files.len()
    );
    let mut tags = String::new();
    for (name, text) in [
        ("bagit.txt", &bagit),
        ("bag-info.txt", &info),
        ("manifest-sha256.txt", &manifest),
    ] {
        write_file(out, name, text.as_bytes())?;
        tags.push_str(&format!("{}  {name}\n", sha256_hex(text.as_bytes())));
    }
    write_file(out, "tagmanifest-sha256.txt", tags.as_bytes())
}
