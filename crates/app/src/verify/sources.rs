//! Where verification gets issuer keys and status-list values: the two seams that let one
//! verification core ([`super::verify_with`]) serve a running node and an offline verifier.
//!
//! Invariants:
//! - A [`KeySource`] answers an [`IssuerKey`]: the verifier, the issuer's code, the `iss`
//!   its credentials must carry, and the key's validity (`not_before`, retirement,
//!   revocation), so that the one standing rule ([`crate::keys::standing_of`]) decides for
//!   local keys and trust-listed keys alike.
//! - A node asks its own key ring first and the trust list it holds second
//!   ([`NodeSources`]); a kid neither knows is no key (`issuer.unknown_key` in the verdict).
//! - A [`StatusSource`] answers a list value with where it came from ([`StatusOrigin`]), or
//!   the status problem that prevents reading it; `Err` only when the node itself fails.
//! - A node reads its own lists from memory; a list under the base URL of a trust-listed
//!   node is fetched from that node and cached ([`super::remote::RemoteStatus`]); any other
//!   list is `status.foreign_list`.

use std::sync::Arc;

use async_trait::async_trait;
use elicense_crypto::{CryptoError, Verifier};
use serde::Serialize;

use super::{problem, status_view, Category, Problem, StatusView};
use crate::error::{AppError, Result};
use crate::federation::trust_list::{TrustList, TrustedKey};
use crate::keys::{standing_of, KeyStanding};
use crate::node::Node;

/// Where an issuer key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyOrigin {
    /// The verifying node's own key ring.
    Local,
    /// The signed trust list.
    TrustList,
}

/// An issuer key ready to verify, with its validity.
#[derive(Clone)]
pub struct IssuerKey {
    /// The issuing authority's code (USCC).
    pub issuer: String,
    /// The `iss` its credentials carry: `{node base URL}/issuers/{code}`.
    pub iss: String,
    pub verifier: Arc<dyn Verifier>,
    pub not_before: i64,
    /// Retired: signs nothing from this time on.
    pub not_after: Option<i64>,
    /// Compromised: what claims to be signed from this time on is invalid.
    pub revoked_at: Option<i64>,
    pub origin: KeyOrigin,
    /// The public key (to match an outside CA's certificate in the credential's `x5c`).
    pub jwk: elicense_crypto::Jwk,
}

impl IssuerKey {
    /// What the key was at `t` (see [`crate::keys::standing_of`]).
    pub fn standing_at(&self, t: i64) -> KeyStanding {
        standing_of(self.not_before, self.not_after, self.revoked_at, t)
    }

    /// The key `kid` of a trust-listed issuer, if the list names one.
    pub fn from_trust_list(list: &TrustList, kid: &str) -> Result<Option<IssuerKey>> {
        Self::trust_listed(list, kid, |key| key.jwk.verifier(None).map(Arc::from))
    }

    /// [`IssuerKey::from_trust_list`] with the verifier from `verifier` (a cache).
    fn trust_listed(
        list: &TrustList,
        kid: &str,
        verifier: impl FnOnce(&TrustedKey) -> std::result::Result<Arc<dyn Verifier>, CryptoError>,
    ) -> Result<Option<IssuerKey>> {
        let Some((issuer, key)) = list.issuer_key(kid) else {
            return Ok(None);
        };
        let verifier = verifier(key).map_err(AppError::crypto)?;
        Ok(Some(IssuerKey {
            issuer: issuer.code.clone(),
            iss: issuer_url(&issuer.node, &issuer.code),
            verifier,
            not_before: key.not_before,
            not_after: key.retired_at,
            revoked_at: key.revoked_since,
            origin: KeyOrigin::TrustList,
            jwk: key.jwk.clone(),
        }))
    }
}

/// The `iss` of credentials signed for issuer `code` at the node `base_url`.
pub fn issuer_url(base_url: &str, code: &str) -> String {
    format!("{}/issuers/{code}", base_url.trim_end_matches('/'))
}

/// Issuer keys by `kid`.
#[async_trait]
pub trait KeySource: Send + Sync {
    async fn issuer_key(&self, kid: &str) -> Result<Option<IssuerKey>>;

    /// The outside certification authorities this verifier trusts for the certificates in a
    /// credential's `x5c`, and their CRLs (DER each): none by default, and then an `x5c` is
    /// not judged.
    fn outside_cas(&self) -> (&[Vec<u8>], &[Vec<u8>]) {
        (&[], &[])
    }
}

/// Which kind of source a status value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFrom {
    /// The verifying node's own list.
    Local,
    /// The owning node's list, fetched (or cached within its TTL).
    Remote,
    /// An offline cache (`elicense cache refresh`).
    Cache,
}

/// Where the status of a verdict came from, and how old it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusOrigin {
    pub from: StatusFrom,
    /// The status list's URI.
    pub uri: String,
    /// The base URL of the node that owns the list (remote and cache only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// When the list was last fetched or revalidated (Unix seconds; remote and cache only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<i64>,
    /// Seconds since then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_secs: Option<i64>,
    /// How long the list may be used without asking its owner again (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<i64>,
    /// Older than its TTL: a remote list whose owner could not be reached (its last valid
    /// copy was used), or an offline cache not refreshed in time.
    pub stale: bool,
}

impl StatusOrigin {
    /// A list of the verifying node itself.
    pub fn local(uri: &str) -> StatusOrigin {
        StatusOrigin {
            from: StatusFrom::Local,
            uri: uri.to_owned(),
            node: None,
            fetched_at: None,
            age_secs: None,
            ttl_secs: None,
            stale: false,
        }
    }
}

/// A status-list value and where it came from.
#[derive(Debug, Clone)]
pub struct StatusReading {
    /// 0 valid, 1 invalid, 2 suspended.
    pub value: u8,
    pub origin: StatusOrigin,
}

/// Status-list values by URI and index.
#[async_trait]
pub trait StatusSource: Send + Sync {
    /// The value of entry `idx` of list `uri`, or the problem that prevents reading it.
    async fn status(
        &self,
        uri: &str,
        idx: u64,
    ) -> Result<std::result::Result<StatusReading, Problem>>;

    /// What this source knows about a license not in force (the public reason category),
    /// given the reading that said so: only a node that holds the license knows it.
    async fn explain(
        &self,
        _identifier: &str,
        _reading: &StatusReading,
    ) -> Result<Option<StatusView>> {
        Ok(None)
    }
}

/// A running node as key and status source: its own keys and lists first, then the trust
/// list and the owning nodes' lists.
pub struct NodeSources(pub Arc<Node>);

#[async_trait]
impl KeySource for NodeSources {
    async fn issuer_key(&self, kid: &str) -> Result<Option<IssuerKey>> {
        let node = &self.0;
        if let Some(k) = node.keys.public_key(kid).await? {
            return Ok(Some(IssuerKey {
                issuer: k.record.issuer.clone(),
                iss: node.issuer_url(&k.record.issuer),
                verifier: k.verifier.clone(),
                not_before: k.record.not_before,
                not_after: k.record.not_after,
                revoked_at: k.record.revoked_at,
                origin: KeyOrigin::Local,
                jwk: k.jwk.clone(),
            }));
        }
        match node.trust.current() {
            Some(list) => IssuerKey::trust_listed(&list, kid, |key| node.trust.verifier(key)),
            None => Ok(None),
        }
    }

    fn outside_cas(&self) -> (&[Vec<u8>], &[Vec<u8>]) {
        (&self.0.config.seal_trust_anchors, &self.0.config.seal_crls)
    }
}

#[async_trait]
impl StatusSource for NodeSources {
    async fn status(
        &self,
        uri: &str,
        idx: u64,
    ) -> Result<std::result::Result<StatusReading, Problem>> {
        let node = &self.0;
        let Some(list) = node.status.list_id(uri) else {
            let trust = node.trust.current();
            return Ok(node
                .remote_status
                .value(trust.as_deref(), uri, idx, node.now())
                .await);
        };
        let unknown = || {
            problem(
                Category::Status,
                "status.unknown_entry",
                format!("no entry {idx} in {uri}"),
            )
        };
        let Ok(idx) = u32::try_from(idx) else {
            return Ok(Err(unknown()));
        };
        Ok(match node.status.value(list, idx).await? {
            Some(value) => Ok(StatusReading {
                value,
                origin: StatusOrigin::local(uri),
            }),
            None => Err(unknown()),
        })
    }

    async fn explain(
        &self,
        identifier: &str,
        reading: &StatusReading,
    ) -> Result<Option<StatusView>> {
        // Another node's license is not in this node's store (an identifier that happens to
        // exist here too would explain the wrong license).
        if reading.origin.from != StatusFrom::Local {
            return Ok(None);
        }
        // A credential from elsewhere may carry a foreign identifier: this node holds only
        // strict ones, so it has nothing to explain for any other.
        let Ok(id) = elicense_core::Identifier::parse(identifier) else {
            return Ok(None);
        };
        Ok(status_view(&self.0, &id).await?.map(StatusView::public))
    }
}
