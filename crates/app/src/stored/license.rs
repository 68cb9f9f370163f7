//! A stored license version as the app reads it.
//!
//! Invariant: a [`License`] has a strict identifier, a known status, metadata that parse and
//! are of this very version (`meta.identifier == identifier`), and a known signature
//! algorithm; any other stored value is `store.corrupt`.

use std::sync::Arc;

use elicense_core::catalogue::LicenseType;
use elicense_core::license::LicenseMeta;
use elicense_core::lifecycle::Status;
use elicense_core::Identifier;
use elicense_crypto::Alg;
use elicense_store::LicenseRecord;

use super::corrupt;
use crate::error::{AppError, Result};
use crate::node::Node;

/// One stored license version, its text fields parsed.
#[derive(Debug, Clone)]
pub struct License {
    pub identifier: Identifier,
    pub status: Status,
    /// GB/T 36903 metadata.
    pub meta: LicenseMeta,
    /// The algorithm its credential is signed with.
    pub alg: Alg,
    /// The record as stored; its remaining fields (lineage, issuer, holder key, credential,
    /// status-list slot, …) are plain values that need no parsing.
    pub record: LicenseRecord,
}

impl TryFrom<LicenseRecord> for License {
    type Error = AppError;

    fn try_from(record: LicenseRecord) -> Result<License> {
        let what = format!("license {}", record.identifier);
        let what = what.as_str();
        let identifier = super::identifier(what, &record.identifier)?;
        let status = Status::parse(&record.status).ok_or_else(|| {
            corrupt(
                what,
                format_args!("status {:?} is not known", record.status),
            )
        })?;
        let meta: LicenseMeta = serde_json::from_str(&record.meta)
            .map_err(|e| corrupt(what, format_args!("metadata do not parse: {e}")))?;
        if meta.identifier != identifier {
            return Err(corrupt(
                what,
                format_args!("metadata are of {}", meta.identifier),
            ));
        }
        let alg = record.alg.parse::<Alg>().map_err(|_| {
            corrupt(
                what,
                format_args!("algorithm {:?} is not known", record.alg),
            )
        })?;
        Ok(License {
            identifier,
            status,
            meta,
            alg,
            record,
        })
    }
}

impl TryFrom<&LicenseRecord> for License {
    type Error = AppError;

    fn try_from(record: &LicenseRecord) -> Result<License> {
        License::try_from(record.clone())
    }
}

impl License {
    /// The stored version `identifier`, parsed; `license.not_found` when there is none.
    pub async fn load(node: &Node, identifier: &Identifier) -> Result<License> {
        let record = node
            .store
            .license(identifier.as_str())
            .await?
            .ok_or_else(|| {
                AppError::not_found("license.not_found", format!("no license {identifier}"))
            })?;
        License::try_from(record)
    }

    /// Its license type as issued (the catalogue version it was issued under).
    pub async fn type_as_issued(&self, node: &Node) -> Result<Arc<LicenseType>> {
        node.catalogue
            .get(&self.record.type_code, Some(self.record.catalogue_version))
            .await
    }
}
