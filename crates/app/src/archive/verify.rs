//! Checking a bag offline: nothing but the bag itself is trusted (keys included: the reader
//! compares them with the ones the node publishes).

use std::collections::BTreeSet;
use std::path::Path;

use elicense_crypto::{jws, Jwk};
use elicense_log::checkpoint::VerifiedCheckpoint;
use elicense_log::note::{VerifierKey, Verifiers};
use elicense_log::{leaf_hash, verify_inclusion, Checkpoint};
use elicense_store::log::{commitment, UseEvent};
use elicense_store::LogEntry;
use serde_json::Value;

use super::{sha256_hex, VerifyReport};

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

/// Checks the bag at `bag`.
pub fn verify(bag: &Path) -> VerifyReport {
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
    match std::fs::read(bag.join("bagit.txt")) {
        Ok(b) if String::from_utf8_lossy(&b).starts_with("BagIt-Version: 1.") => {}
        _ => problems.push("bagit.txt missing or not BagIt 1.x".into()),
    }
    report.files = check_manifests(bag, &mut problems);
    let cp = checkpoint(bag, &mut problems);
    report.tree_size = cp.as_ref().map(|c| c.size());

    // Each license: proofs, entries, credential.
    let ids: Vec<String> = std::fs::read_dir(bag.join("data/licenses"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    report.licenses = ids.len();
    for id in &ids {
        let dir = format!("data/licenses/{id}");
        let credential = match std::fs::read(bag.join(format!("{dir}/credential.txt"))) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(_) => {
                problems.push(format!("{dir}: no credential.txt"));
                continue;
            }
        };
        let cred_hash = sha256_hex(credential.as_bytes());
        let mut proofs = Vec::new();
        if let Ok(rd) = std::fs::read_dir(bag.join(&dir).join("log")) {
            proofs.extend(rd.filter_map(|e| e.ok()).map(|e| e.path()));
        }
        if proofs.is_empty() {
            problems.push(format!("{dir}: no log proof"));
        }
        for p in proofs {
            let name = p.display().to_string();
            let Some(v) = std::fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            else {
                problems.push(format!("{name}: not JSON"));
                continue;
            };
            let entry = v["entry"].as_str().unwrap_or_default();
            if let Err(why) = check_entry(entry, &v["opening"], id, &cred_hash) {
                problems.push(format!("{name}: {why}"));
            }
            match check_proof(&v, entry, cp.as_ref()) {
                Ok(true) => report.proofs += 1,
                Ok(false) => {} // already reported: no trusted checkpoint
                Err(why) => problems.push(format!("{name}: {why}")),
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

/// Checks the tag manifest and the payload manifest; returns the number of payload files.
fn check_manifests(bag: &Path, problems: &mut Vec<String>) -> usize {
    let mut files = 0;
    for (manifest, required) in [
        ("tagmanifest-sha256.txt", false),
        ("manifest-sha256.txt", true),
    ] {
        let text = match std::fs::read(bag.join(manifest)) {
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
            match std::fs::read(bag.join(rel)) {
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
            files = present.len();
        }
    }
    files
}

/// The bag's checkpoint, opened with the bag's log keys.
fn checkpoint(bag: &Path, problems: &mut Vec<String>) -> Option<Checkpoint> {
    let keys: Value = std::fs::read(bag.join("data/log-keys.json"))
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
    match Verifiers::new(verifiers) {
        Ok(known) => match std::fs::read(bag.join("data/checkpoint.txt"))
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
    }
}

/// A logged entry names license `id` and its credential hash; a use's entry is the
/// commitment to the bag's opening, which names them.
fn check_entry(entry: &str, opening: &Value, id: &str, cred_hash: &str) -> Result<(), String> {
    let leaf = LogEntry::parse(entry.as_bytes()).map_err(|e| e.to_string())?;
    let (identifier, hash) = match &leaf {
        LogEntry::Use(u) => {
            let salt = opening["salt"]
                .as_str()
                .and_then(|s| hex::decode(s).ok())
                .ok_or("a use's entry without its opening")?;
            let event = opening["event"].as_str().unwrap_or_default();
            if commitment(&salt, event.as_bytes()) != u.commitment {
                return Err("the opening does not match the entry's commitment".into());
            }
            let used = UseEvent::parse(event.as_bytes()).map_err(|e| e.to_string())?;
            if used.event != u.event {
                return Err(format!("the opening is of event {}", used.event));
            }
            (used.identifier, used.credential_sha256)
        }
        other => (
            other.identifier().unwrap_or_default().to_string(),
            other.credential_sha256().unwrap_or_default().to_string(),
        ),
    };
    if identifier != id {
        return Err(format!("entry is about {identifier}"));
    }
    if hash != cred_hash {
        return Err("entry's credential hash is not that of credential.txt".into());
    }
    Ok(())
}

/// `Ok(true)` when the entry's inclusion proof leads to the checkpoint's root; `Ok(false)`
/// when there is no trusted checkpoint to check it against.
fn check_proof(v: &Value, entry: &str, cp: Option<&Checkpoint>) -> Result<bool, String> {
    let hashes: Vec<String> = serde_json::from_value(v["hashes"].clone()).unwrap_or_default();
    let (Some(index), Some(size)) = (v["index"].as_u64(), v["tree_size"].as_u64()) else {
        return Err("no index or tree_size".into());
    };
    let Some(cp) = cp else {
        return Ok(false);
    };
    let h = crate::log::hashes_from_b64(&hashes).ok_or("hashes are not base64")?;
    if cp.size() != size {
        return Err("proof is for another tree size".into());
    }
    verify_inclusion(&leaf_hash(entry.as_bytes()), index, size, &h, &cp.root())
        .map(|()| true)
        .map_err(|e| format!("inclusion proof: {e}"))
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
