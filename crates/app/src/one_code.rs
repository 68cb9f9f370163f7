//! One code (一码通): the wallet shows one rotating code for the person; a counter that scans
//! it gets a short-lived handle with which it may start presentation requests addressed to
//! that person, for its own matters. Every such request still waits for the person's consent
//! in their wallet, and only a license they hold or represent answers it.
//!
//! Both are sealed tokens, not store rows: AES-256-GCM under a key derived from the node's
//! secret, the purpose as associated data, over the keyed hash of the person's resident ID
//! and an end of validity. So a code says nothing to whoever reads it, cannot be made or
//! changed without the node's secret, and is useless after [`CODE_SECS`]; the wallet shows a
//! fresh one every [`ROTATE_SECS`]. A handle is bound to the institution that scanned.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::wallet::Identity;
use elicense_store::InstitutionRecord;

/// How long a shown code can be scanned, seconds.
pub const CODE_SECS: i64 = 60;
/// How often the wallet shows a new code, seconds.
pub const ROTATE_SECS: i64 = 30;
/// How long a counter's handle can start requests, seconds.
pub const HANDLE_SECS: i64 = 300;
/// What a code's QR text starts with.
pub const PREFIX: &str = "elicense-code:";

const CODE: &[u8] = b"elicense one code v1";
const HANDLE: &[u8] = b"elicense counter handle v1";

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, code, message)
}

fn cipher(node: &Node) -> aes_gcm::Aes256Gcm {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&node.config.holder_secret)
        .expect("HMAC takes any key length");
    mac.update(b"elicense one code key v1");
    aes_gcm::Aes256Gcm::new(&mac.finalize().into_bytes())
}

fn seal(node: &Node, purpose: &[u8], value: &Value) -> Result<String> {
    let nonce = aes_gcm::Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher(node)
        .encrypt(
            &nonce,
            Payload {
                msg: value.to_string().as_bytes(),
                aad: purpose,
            },
        )
        .map_err(|_| AppError::internal("sealing a one-code token failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(elicense_crypto::b64::encode(&out))
}

fn open(node: &Node, purpose: &[u8], token: &str) -> Option<Value> {
    let bytes = elicense_crypto::b64::decode(token.trim()).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(12);
    let plain = cipher(node)
        .decrypt(
            aes_gcm::Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: purpose,
            },
        )
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

/// A code as the wallet shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OneCode {
    /// `elicense-code:…`, what the QR code carries.
    pub code: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A fresh code for the signed-in person.
pub fn code_for(node: &Node, id: &Identity) -> Result<OneCode> {
    let expires_at = node.now() + CODE_SECS;
    let token = seal(node, CODE, &json!({"p": id.person_key, "e": expires_at}))?;
    Ok(OneCode {
        code: format!("{PREFIX}{token}"),
        expires_at,
    })
}

/// What a counter gets for a scanned code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Handle {
    /// Give it as `handle` when starting a presentation request.
    pub handle: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The person's key and the end of validity in a sealed token, if it opens.
fn person_of(value: &Value) -> Option<(String, i64)> {
    Some((value["p"].as_str()?.to_owned(), value["e"].as_i64()?))
}

/// An institution's staff member `staff` scans a code: `code.invalid` for anything the node
/// did not make, `code.expired` for a code older than a minute; the staff member must be
/// registered and enabled (`share.unknown_staff`, `share.staff_disabled`).
pub async fn scan(
    node: &Node,
    inst: &InstitutionRecord,
    code: &str,
    staff: &str,
) -> Result<Handle> {
    let s = node
        .store
        .staff(&inst.code, staff.trim())
        .await?
        .ok_or_else(|| {
            invalid(
                "share.unknown_staff",
                format!("{} has no staff member {staff:?}", inst.code),
            )
        })?;
    if s.disabled_at.is_some() {
        return Err(AppError::forbidden(
            "share.staff_disabled",
            format!("the staff member {staff} is disabled"),
        ));
    }
    let token = code.trim();
    let token = token.strip_prefix(PREFIX).unwrap_or(token);
    let (person, until) = open(node, CODE, token)
        .as_ref()
        .and_then(person_of)
        .ok_or_else(|| invalid("code.invalid", "this is not a one code of this node"))?;
    let now = node.now();
    if now >= until {
        return Err(invalid(
            "code.expired",
            "the code has expired: ask the holder to show it again",
        ));
    }
    let expires_at = now + HANDLE_SECS;
    let handle = seal(
        node,
        HANDLE,
        &json!({"i": inst.code, "p": person, "e": expires_at}),
    )?;
    Ok(Handle { handle, expires_at })
}

/// The person a counter's handle names: `code.bad_handle` for a handle of another
/// institution or one the node did not make, `code.handle_expired` after five minutes.
pub fn person_of_handle(node: &Node, inst: &InstitutionRecord, handle: &str) -> Result<String> {
    let value = open(node, HANDLE, handle)
        .filter(|v| v["i"].as_str() == Some(inst.code.as_str()))
        .ok_or_else(|| {
            invalid(
                "code.bad_handle",
                "this is not a handle of this institution",
            )
        })?;
    let (person, until) = person_of(&value).ok_or_else(|| {
        invalid(
            "code.bad_handle",
            "this is not a handle of this institution",
        )
    })?;
    if node.now() >= until {
        return Err(invalid(
            "code.handle_expired",
            "the handle has expired: scan the holder's code again",
        ));
    }
    Ok(person)
}
