//! One wallet across regions: a holder signed in at their home node sees their licenses held
//! at every other node of the network.
//!
//! The home node hashes the holder's codes with the network's holder key (the hub's, the
//! same hash the directory keeps), asks the hub which licenses the national directory has
//! for those hashes ([`HOLDERS_PATH`]), then asks each owning node for them
//! ([`WALLET_PATH`]); both requests are signed with the home node's key (RFC 9421) and
//! accepted only from a node of the trust list.
//!
//! Invariants:
//! - No plaintext code leaves the home node: only keyed hashes travel.
//! - An owning node shows a license only when the holder of that very version hashes to one
//!   of the hashes asked, and only what the wallet list shows (no credential, no data
//!   items); each license it shows is recorded in the holder's history as a use
//!   (`remote_view`, actor `node:<home node>`).
//! - The home node keeps an account's answer [`CACHE_SECS`], so that reloading the wallet does
//!   not ask (and record) again; a node that cannot be reached is named, never fatal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use elicense_core::holder::{HolderCode, HolderCodeType};
use elicense_core::lifecycle::Status;
use elicense_core::EventKind;
use elicense_core::Identifier;
use elicense_store::EventRecord;
use serde::{Deserialize, Serialize};

use super::{directory, peer, sync};
use crate::error::{AppError, ErrorKind, Result};
use crate::node::Node;
use crate::wallet::identity::{self, Identity};

/// The hub's endpoint: licenses of keyed holder hashes in the national directory.
pub const HOLDERS_PATH: &str = "/federation/v1/holders";
/// The owning node's endpoint: a holder's licenses, for their home node.
pub const WALLET_PATH: &str = "/federation/v1/wallet";
/// How long the home node keeps an account's licenses from other nodes.
pub const CACHE_SECS: i64 = 60;
/// Most holder hashes in one request (a person and the enterprises they represent).
pub const MAX_HOLDERS: usize = 16;
/// Most identifiers in one request to an owning node.
pub const MAX_IDENTIFIERS: usize = 200;

/// `POST /federation/v1/holders`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldersRequest {
    /// Keyed holder hashes (hex of 32 bytes), 1 to 16.
    pub holders: Vec<String>,
}

/// A license the national directory has for a holder hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeldLicense {
    pub identifier: String,
    /// The owning node's base URL.
    pub node: String,
    pub type_code: String,
    /// The issuer's USCC.
    pub issuer: String,
    #[schema(value_type = String)]
    pub status: Status,
    /// The keyed holder hash it was found under (hex).
    pub holder: String,
}

/// The answer of `POST /federation/v1/holders`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HoldersAnswer {
    /// The current version of each license, at most one per lineage.
    pub licenses: Vec<HeldLicense>,
}

/// `POST /federation/v1/wallet`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalletRequest {
    /// The holder's keyed hashes (hex of 32 bytes), 1 to 16.
    pub holders: Vec<String>,
    /// The licenses asked for, 1 to 200.
    pub identifiers: Vec<String>,
}

/// A license shown in a wallet at another node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RemoteLicense {
    pub identifier: String,
    /// The owning node's base URL.
    pub node: String,
    pub type_code: String,
    pub type_name: String,
    pub type_name_en: String,
    pub holder_name: String,
    pub issuer_name: String,
    pub license_number: String,
    /// Lifecycle status code.
    pub status: String,
    /// `YYYY-MM-DD`, none for a license without end.
    pub valid_until: Option<String>,
}

/// The answer of `POST /federation/v1/wallet`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WalletAnswer {
    pub licenses: Vec<RemoteLicense>,
}

/// What the home node shows of a holder's licenses at other nodes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemoteWallet {
    pub licenses: Vec<RemoteLicense>,
    /// Nodes (or the hub) that could not be asked: their licenses are missing.
    pub unreachable: Vec<String>,
}

/// Accounts' answers, with when they were made.
#[derive(Default)]
pub struct RemoteWalletCache(Mutex<HashMap<String, (RemoteWallet, i64)>>);

fn bad(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Invalid, "federation.bad_request", msg.into())
}

/// The keyed hashes of a request, checked (`federation.bad_request`).
fn hashes(given: &[String]) -> Result<HashSet<[u8; 32]>> {
    if given.is_empty() || given.len() > MAX_HOLDERS {
        return Err(bad(format!(
            "1 to {MAX_HOLDERS} holder hashes are required"
        )));
    }
    given
        .iter()
        .map(|h| {
            hex::decode(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| bad(format!("{h:?} is not the hex of 32 bytes")))
        })
        .collect()
}

/// At the hub (or any node with a directory): the current licenses of the holder hashes.
pub async fn holders(node: &Node, req: &HoldersRequest) -> Result<HoldersAnswer> {
    let mut newest: BTreeMap<String, HeldLicense> = BTreeMap::new();
    let mut versions: HashMap<String, i32> = HashMap::new();
    for h in hashes(&req.holders)? {
        for e in node.store.hub_holder_licenses(&h).await? {
            if versions.get(&e.lineage).is_some_and(|v| *v >= e.version) {
                continue;
            }
            versions.insert(e.lineage.clone(), e.version);
            newest.insert(
                e.lineage.clone(),
                HeldLicense {
                    identifier: e.identifier,
                    node: e.origin,
                    type_code: e.type_code,
                    issuer: e.issuer,
                    status: e.status,
                    holder: hex::encode(h),
                },
            );
        }
    }
    Ok(HoldersAnswer {
        licenses: newest
            .into_values()
            .filter(|l| l.status != Status::Superseded)
            .collect(),
    })
}

/// At the owning node: the licenses among those asked whose holder hashes to one of the
/// hashes, each shown recorded as a use by `sender` (see the module invariants).
pub async fn owned(node: &Arc<Node>, sender: &str, req: &WalletRequest) -> Result<WalletAnswer> {
    let wanted = hashes(&req.holders)?;
    if req.identifiers.is_empty() || req.identifiers.len() > MAX_IDENTIFIERS {
        return Err(bad(format!(
            "1 to {MAX_IDENTIFIERS} identifiers are required"
        )));
    }
    let key = sync::holder_key(node).await?;
    let me = node.config.base_url.trim_end_matches('/').to_owned();
    let mut out = Vec::new();
    for raw in &req.identifiers {
        let id = Identifier::parse(raw).map_err(|e| bad(format!("{raw:?}: {e}")))?;
        let Some(rec) = node.store.license(id.as_str()).await? else {
            continue;
        };
        let l = crate::stored::License::try_from(rec)?;
        if l.status == Status::Superseded
            || !wanted.contains(&sync::holder_hash(&key, &l.meta.holder.code))
        {
            continue;
        }
        let ty = l.type_as_issued(node).await?;
        node.store
            .record_use(EventRecord {
                seq: 0,
                identifier: id.as_str().to_owned(),
                kind: EventKind::RemoteView.to_string(),
                actor: format!("node:{sender}"),
                at: node.now(),
                reason: None,
                reason_category: None,
                detail: serde_json::json!({ "node": sender }).to_string(),
            })
            .await?;
        out.push(RemoteLicense {
            identifier: id.as_str().to_owned(),
            node: me.clone(),
            type_code: l.record.type_code.clone(),
            type_name: ty.name.clone(),
            type_name_en: ty.name_en.clone(),
            holder_name: l.meta.holder.name.clone(),
            issuer_name: l.meta.issuer_name.clone(),
            license_number: l.meta.license_number.clone(),
            status: l.status.code().to_owned(),
            valid_until: l.meta.valid_until.map(crate::timeutil::format),
        });
    }
    Ok(WalletAnswer { licenses: out })
}

/// Posts `body` to `url`, signed; the answer as `T` (non-200: `federation.unreachable`).
async fn post<T: serde::de::DeserializeOwned>(
    node: &Node,
    url: &str,
    body: &impl Serialize,
) -> Result<T> {
    let body = serde_json::to_vec(body).map_err(|e| AppError::internal(e.to_string()))?;
    let a = peer::send(node, "POST", url, Some(body)).await?;
    if a.status != 200 {
        return Err(peer::unreachable(
            url,
            format!("answered {} {:?}", a.status, a.error_code()),
        ));
    }
    a.json(url)
}

/// At the home node: the identity's licenses held at other nodes (see the module docs).
/// `None` on a standalone node, or for an account whose codes were not kept.
pub async fn list(node: &Arc<Node>, id: &Identity) -> Result<Option<RemoteWallet>> {
    if node.config.federation.identity().is_none() {
        return Ok(None);
    }
    let now = node.now();
    if let Some((w, at)) = node
        .federation
        .wallets
        .0
        .lock()
        .expect("lock")
        .get(&id.account)
    {
        if now - at < CACHE_SECS {
            return Ok(Some(w.clone()));
        }
    }
    let Some(mut codes) = identity::holder_codes(node, &id.account).await? else {
        return Ok(None);
    };
    // The person's own code, and those of the enterprises their licenses in force make them
    // represent (an older account's declared enterprises, sealed after it, are not asked).
    codes.truncate(1);
    codes.extend(
        id.enterprises
            .iter()
            .filter_map(|(e, _)| HolderCode::parse(HolderCodeType::Uscc, &e.uscc).ok()),
    );
    let me = node.config.base_url.trim_end_matches('/').to_owned();
    let mut out = RemoteWallet::default();
    let key = match sync::holder_key(node).await {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(code = e.code, error = %e.message, "no holder key: wallet is local");
            out.unreachable.push("hub".into());
            return Ok(Some(out));
        }
    };
    let holders: Vec<String> = codes
        .iter()
        .map(|c| hex::encode(sync::holder_hash(&key, c)))
        .collect();
    let req = HoldersRequest {
        holders: holders.clone(),
    };
    let held = match directory::hub_url(node).filter(|h| h.trim_end_matches('/') != me) {
        None => self::holders(node, &req).await,
        Some(hub) => post::<HoldersAnswer>(node, &format!("{hub}{HOLDERS_PATH}"), &req).await,
    };
    let held = match held {
        Ok(a) => a.licenses,
        Err(e) => {
            tracing::warn!(code = e.code, error = %e.message, "the hub was not asked");
            out.unreachable
                .push(directory::hub_url(node).unwrap_or_else(|| "hub".into()));
            return Ok(Some(out));
        }
    };
    let mut by_node: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in held {
        if l.node.trim_end_matches('/') != me {
            by_node.entry(l.node).or_default().push(l.identifier);
        }
    }
    let asks = by_node.into_iter().map(|(owner, ids)| {
        let holders = holders.clone();
        async move {
            let mut got = Vec::new();
            for chunk in ids.chunks(MAX_IDENTIFIERS) {
                let req = WalletRequest {
                    holders: holders.clone(),
                    identifiers: chunk.to_vec(),
                };
                let a: WalletAnswer = post(node, &format!("{owner}{WALLET_PATH}"), &req)
                    .await
                    .map_err(|e| (owner.clone(), e))?;
                got.extend(
                    a.licenses
                        .into_iter()
                        .filter(|l| l.node.trim_end_matches('/') == owner.trim_end_matches('/')),
                );
            }
            Ok::<_, (String, AppError)>(got)
        }
    });
    for r in futures::future::join_all(asks).await {
        match r {
            Ok(got) => out.licenses.extend(got),
            Err((owner, e)) => {
                tracing::warn!(code = e.code, error = %e.message, "an owning node was not asked");
                out.unreachable.push(owner);
            }
        }
    }
    out.licenses.sort_by(|a, b| {
        a.type_code
            .cmp(&b.type_code)
            .then_with(|| b.identifier.cmp(&a.identifier))
    });
    let mut cache = node.federation.wallets.0.lock().expect("lock");
    cache.retain(|_, (_, at)| now - *at < CACHE_SECS);
    cache.insert(id.account.clone(), (out.clone(), now));
    Ok(Some(out))
}
