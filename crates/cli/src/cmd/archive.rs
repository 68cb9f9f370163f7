//! `elicense archive export|verify`: BagIt (RFC 8493) bags of licenses, checkable offline.
//!
//! Bag layout (payload under `data/`):
//! ```text
//! bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
//! data/checkpoint.txt                 the node's signed checkpoint (C2SP signed note)
//! data/log-keys.json                  {"origin","verifier_keys"} to open it
//! data/issuers/<USCC>/jwks.json       issuer keys (+ SM2 signer IDs) for the credentials
//! data/licenses/<identifier>/credential.txt   the SD-JWT VC as issued
//! data/licenses/<identifier>/meta.json        GB/T 36903 metadata, status
//! data/licenses/<identifier>/events.json      the version's events as stored
//! data/licenses/<identifier>/face.pdf         the face (照面), CJK font embedded
//! data/licenses/<identifier>/log/<index>.json {"index","tree_size","entry","hashes"}
//! ```
//! `verify` checks: bagit.txt; every tag-manifest and manifest line; that every payload
//! file is listed (completeness) and Payload-Oxum; the checkpoint's signatures with the
//! bag's keys; every inclusion proof against the checkpoint root; that each logged entry
//! names its directory's license and the SHA-256 of its credential; each credential's
//! issuer signature with the bag's issuer keys. Exit 0 when all hold, 1 otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use elicense_app::{AppError, ErrorKind, Node};
use elicense_core::holder::HolderCode;
use elicense_core::ident::Identifier;
use elicense_crypto::{jws, Jwk};
use elicense_log::checkpoint::VerifiedCheckpoint;
use elicense_log::note::{VerifierKey, Verifiers};
use elicense_log::{leaf_hash, verify_inclusion};
use elicense_store::{LicenseRecord, LogEntry};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::cli::{ArchiveCommand, DataArgs};
use crate::output;

pub async fn run(command: ArchiveCommand) -> i32 {
    match command {
        ArchiveCommand::Export {
            data,
            issuer,
            holder,
            license,
            out,
        } => {
            let scope = match (issuer, holder, license) {
                (Some(i), None, None) => Scope::Issuer(i),
                (None, Some(h), None) => Scope::Holder(h),
                (None, None, Some(l)) => Scope::License(l),
                _ => {
                    return output::error(
                        &AppError::new(
                            ErrorKind::Invalid,
                            "archive.scope",
                            "give exactly one of --issuer, --holder, --license",
                        ),
                        false,
                    )
                }
            };
            match export(&data, scope, &out).await {
                Ok(summary) => {
                    output::json(&summary);
                    0
                }
                Err(e) => output::error(&e, false),
            }
        }
        ArchiveCommand::Verify { bag } => {
            let report = verify(&bag);
            for p in &report.problems {
                eprintln!("PROBLEM: {p}");
            }
            let ok = report.ok;
            output::json(&report);
            if ok {
                0
            } else {
                1
            }
        }
    }
}

enum Scope {
    Issuer(String),
    Holder(String),
    License(String),
}

#[derive(Debug, Serialize)]
struct ExportSummary {
    bag: String,
    licenses: usize,
    events: usize,
    tree_size: u64,
    files: usize,
}

fn io(path: &Path, e: std::io::Error) -> AppError {
    AppError::new(
        ErrorKind::Invalid,
        "archive.io",
        format!("{}: {e}", path.display()),
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
            let rec = node.store.license(id).await?.ok_or_else(|| {
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
            // Every license the node issued is in its log: walk the log's identifiers.
            let size = node.store.log_frontier().await?.size();
            let mut start = 0;
            while start < size {
                for e in node.store.log_entries(start, start + 4096).await? {
                    let entry = LogEntry::parse(&e.data)?;
                    let of_issuer = Identifier::parse(&entry.identifier)
                        .map(|i| i.issuer().as_str() == uscc)
                        .unwrap_or(false);
                    if of_issuer {
                        if let Some(rec) = node.store.license(&entry.identifier).await? {
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

async fn export(data: &DataArgs, scope: Scope, out: &Path) -> Result<ExportSummary, AppError> {
    let node = super::open_node(data)?;
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
    let licenses = select(&node, &scope).await?;
    let cp = elicense_app::log::checkpoint(&node).await?;
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
        let meta: Value = serde_json::from_str(&rec.meta).unwrap_or(Value::Null);
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
            elicense_app::face::render_identifier(&node, id, elicense_app::face::FaceFormat::Pdf)
                .await?;
        files.insert(format!("{dir}/face.pdf"), face);
        files.insert(
            format!("{dir}/events.json"),
            pretty(&serde_json::to_value(&events).expect("events serialise")),
        );
        for ev in &events {
            events_total += 1;
            let Some(index) = node.store.log_index(ev.seq).await? else {
                continue; // an event from before the log existed
            };
            if index >= cp.size {
                continue; // appended after the checkpoint was read
            }
            let entry = node.store.log_entries(index, index + 1).await?;
            let proof = elicense_app::log::inclusion_proof(&node, index, cp.size).await?;
            files.insert(
                format!("{dir}/log/{index}.json"),
                pretty(&json!({
                    "index": index,
                    "tree_size": cp.size,
                    "entry": String::from_utf8_lossy(&entry[0].data),
                    "hashes": elicense_app::log::hashes_b64(&proof),
                })),
            );
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
    write_bag(out, &files, &node)?;
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

#[derive(Debug, Serialize)]
struct VerifyReport {
    bag: String,
    files: usize,
    licenses: usize,
    proofs: usize,
    credentials_verified: usize,
    tree_size: Option<u64>,
    problems: Vec<String>,
    ok: bool,
}

/// Parses a manifest: `<hex>  <path>` lines.
fn manifest_lines(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once(' ')
                .map(|(h, p)| (h.to_lowercase(), p.trim_start().to_string()))
                .ok_or_else(|| format!("bad manifest line {l:?}"))
        })
        .collect()
}

fn safe_rel(p: &str) -> bool {
    !p.starts_with('/') && !p.split('/').any(|c| c == ".." || c.is_empty())
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            walk(root, &p, out)?;
        } else {
            out.push(
                p.strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
    Ok(())
}

fn verify(bag: &Path) -> VerifyReport {
    let mut problems = Vec::new();
    let mut report = VerifyReport {
        bag: bag.display().to_string(),
        files: 0,
        licenses: 0,
        proofs: 0,
        credentials_verified: 0,
        tree_size: None,
        problems: Vec::new(),
        ok: false,
    };
    let read = |rel: &str| std::fs::read(bag.join(rel));
    match read("bagit.txt") {
        Ok(b) if String::from_utf8_lossy(&b).starts_with("BagIt-Version: 1.") => {}
        _ => problems.push("bagit.txt missing or not BagIt 1.x".into()),
    }
    // Tag manifest, then payload manifest.
    for (manifest, required) in [
        ("tagmanifest-sha256.txt", false),
        ("manifest-sha256.txt", true),
    ] {
        let text = match read(manifest) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(_) => {
                if required {
                    problems.push(format!("{manifest} missing"));
                }
                continue;
            }
        };
        let lines = match manifest_lines(&text) {
            Ok(l) => l,
            Err(e) => {
                problems.push(format!("{manifest}: {e}"));
                continue;
            }
        };
        for (hash, rel) in &lines {
            if !safe_rel(rel) {
                problems.push(format!("{manifest}: unsafe path {rel:?}"));
                continue;
            }
            match read(rel) {
                Ok(bytes) if &sha256_hex(&bytes) == hash => {}
                Ok(_) => problems.push(format!("{rel}: SHA-256 does not match {manifest}")),
                Err(_) => problems.push(format!("{rel}: listed in {manifest} but missing")),
            }
        }
        if required {
            let listed: BTreeSet<&str> = lines.iter().map(|(_, p)| p.as_str()).collect();
            let mut present = Vec::new();
            if let Err(e) = walk(bag, &bag.join("data"), &mut present) {
                problems.push(format!("data/: {e}"));
            }
            for p in &present {
                if !listed.contains(p.as_str()) {
                    problems.push(format!("{p}: in the payload but not in the manifest"));
                }
            }
            report.files = present.len();
        }
    }

    // The checkpoint, with the bag's log keys.
    let keys: Value = read("data/log-keys.json")
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let origin = keys["origin"].as_str().unwrap_or_default().to_string();
    let verifiers = keys["verifier_keys"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().and_then(|k| VerifierKey::parse(k).ok()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let cp = match Verifiers::new(verifiers) {
        Ok(known) => match read("data/checkpoint.txt")
            .map_err(|e| e.to_string())
            .and_then(|b| VerifiedCheckpoint::open(&b, &origin, &known).map_err(|e| e.to_string()))
        {
            Ok(v) => Some(v.checkpoint().clone()),
            Err(e) => {
                problems.push(format!("data/checkpoint.txt: {e}"));
                None
            }
        },
        Err(e) => {
            problems.push(format!("data/log-keys.json: {e}"));
            None
        }
    };
    report.tree_size = cp.as_ref().map(|c| c.size());

    // Each license: proofs, entries, credential.
    let licenses_dir = bag.join("data/licenses");
    let ids: Vec<String> = std::fs::read_dir(&licenses_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    report.licenses = ids.len();
    for id in &ids {
        let dir = format!("data/licenses/{id}");
        let credential = match read(&format!("{dir}/credential.txt")) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(_) => {
                problems.push(format!("{dir}: no credential.txt"));
                continue;
            }
        };
        let cred_hash = sha256_hex(credential.as_bytes());
        let mut proofs = Vec::new();
        if let Ok(rd) = std::fs::read_dir(bag.join(&dir).join("log")) {
            for e in rd.filter_map(|e| e.ok()) {
                proofs.push(e.path());
            }
        }
        if proofs.is_empty() {
            problems.push(format!("{dir}: no log proof"));
        }
        for p in proofs {
            let name = p.display().to_string();
            let v: Value = match std::fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                Some(v) => v,
                None => {
                    problems.push(format!("{name}: not JSON"));
                    continue;
                }
            };
            let entry = v["entry"].as_str().unwrap_or_default();
            match LogEntry::parse(entry.as_bytes()) {
                Ok(e) => {
                    if &e.identifier != id {
                        problems.push(format!("{name}: entry is about {}", e.identifier));
                    }
                    if e.credential_sha256 != cred_hash {
                        problems.push(format!(
                            "{name}: entry's credential hash is not that of credential.txt"
                        ));
                    }
                }
                Err(e) => problems.push(format!("{name}: {e}")),
            }
            let hashes: Vec<String> =
                serde_json::from_value(v["hashes"].clone()).unwrap_or_default();
            let (Some(index), Some(size)) = (v["index"].as_u64(), v["tree_size"].as_u64()) else {
                problems.push(format!("{name}: no index or tree_size"));
                continue;
            };
            match (&cp, elicense_app::log::hashes_from_b64(&hashes)) {
                (Some(cp), Some(h)) if cp.size() == size => {
                    match verify_inclusion(
                        &leaf_hash(entry.as_bytes()),
                        index,
                        size,
                        &h,
                        &cp.root(),
                    ) {
                        Ok(()) => report.proofs += 1,
                        Err(e) => problems.push(format!("{name}: inclusion proof: {e}")),
                    }
                }
                (Some(_), Some(_)) => {
                    problems.push(format!("{name}: proof is for another tree size"))
                }
                (None, _) => {} // already reported: no trusted checkpoint
                (_, None) => problems.push(format!("{name}: hashes are not base64")),
            }
        }
        match check_credential(bag, &credential) {
            Ok(()) => report.credentials_verified += 1,
            Err(e) => problems.push(format!("{dir}/credential.txt: {e}")),
        }
    }
    report.ok = problems.is_empty();
    report.problems = problems;
    report
}

/// Checks the issuer signature of an SD-JWT VC with the bag's keys of its issuer.
fn check_credential(bag: &Path, credential: &str) -> Result<(), String> {
    let jwt = credential.split('~').next().unwrap_or_default();
    let parsed = jws::parse(jwt).map_err(|e| e.to_string())?;
    let iss = parsed.issuer().ok_or("no iss")?;
    let uscc = iss.rsplit('/').next().unwrap_or_default();
    let jwks: Value = std::fs::read(bag.join(format!("data/issuers/{uscc}/jwks.json")))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| format!("no keys of issuer {uscc} in the bag"))?;
    let kid = parsed.header.kid.clone().ok_or("no kid")?;
    let jwk: Jwk = jwks["keys"]
        .as_array()
        .and_then(|a| a.iter().find(|k| k["kid"] == kid.as_str()))
        .and_then(|k| serde_json::from_value(k.clone()).ok())
        .ok_or_else(|| format!("key {kid} not in the bag"))?;
    let signer_id = jwks["sm2_signer_ids"][&kid].as_str();
    let verifier = jwk.verifier(signer_id).map_err(|e| e.to_string())?;
    parsed
        .verify_with(verifier.as_ref())
        .map_err(|e| format!("issuer signature: {e}"))
}
