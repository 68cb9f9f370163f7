//! The catalogue as a node serves it: definitions are stored versioned, parsed once per
//! process and cached by (code, version). Loading a file stores its issuers and every type;
//! a type whose definition changed gets a new catalogue version, an unchanged one keeps its.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use elicense_core::catalogue::{Catalogue, LicenseType};
use elicense_core::ident::TypeCode;
use elicense_store::{IssuerRecord, Store};
use serde::Serialize;

use crate::cache::TtlCache;
use crate::error::{AppError, ErrorKind, Result};

/// Parsed catalogue definitions, by code and version.
pub struct CatalogueCache {
    store: Arc<dyn Store>,
    types: RwLock<HashMap<(String, u32), Arc<LicenseType>>>,
    /// Latest version per code.
    latest: TtlCache<String, u32>,
    /// The latest version of every code, as `all` lists them (same lifetime as `latest`: a
    /// catalogue loaded by another process is seen within the cache's TTL, one loaded here
    /// at once).
    listing: TtlCache<(), Arc<Vec<(String, u32)>>>,
}

/// What loading a catalogue did, per type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Loaded {
    pub code: String,
    pub name: String,
    pub version: u32,
}

impl CatalogueCache {
    pub fn new(store: Arc<dyn Store>) -> Self {
        CatalogueCache {
            store,
            types: RwLock::new(HashMap::new()),
            latest: TtlCache::default(),
            listing: TtlCache::default(),
        }
    }

    /// Stores the issuers and types of `catalogue`.
    pub async fn load(&self, catalogue: &Catalogue, now: i64) -> Result<Vec<Loaded>> {
        self.latest.clear();
        self.listing.clear();
        for i in &catalogue.issuers {
            self.store
                .put_issuer(IssuerRecord {
                    code: i.code.to_string(),
                    name: i.name.clone(),
                    area: i.area.to_string(),
                    successor: None,
                    ended_at: None,
                })
                .await?;
        }
        let mut out = Vec::new();
        for t in &catalogue.types {
            let version = self
                .store
                .put_type(t.code.as_str(), &definition_json(t), now)
                .await?;
            out.push(Loaded {
                code: t.code.to_string(),
                name: t.name.clone(),
                version,
            });
        }
        Ok(out)
    }

    /// Loads a catalogue file: `.json` as JSON, anything else as TOML.
    pub async fn load_file(&self, path: &std::path::Path, now: i64) -> Result<Vec<Loaded>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AppError::new(
                ErrorKind::Invalid,
                "catalogue.io",
                format!("{}: {e}", path.display()),
            )
        })?;
        let catalogue = if path.extension().is_some_and(|e| e == "json") {
            Catalogue::from_json_str(&text)
        } else {
            Catalogue::from_toml_str(&text)
        }
        .map_err(AppError::invalid)?;
        self.load(&catalogue, now).await
    }

    /// One type, at a version or the latest.
    pub async fn get(&self, code: &str, version: Option<u32>) -> Result<Arc<LicenseType>> {
        let asked_latest = version.is_none();
        let version = version.or_else(|| self.latest.get(&code.to_string()));
        if let Some(v) = version {
            if let Some(t) = self
                .types
                .read()
                .expect("catalogue lock")
                .get(&(code.to_string(), v))
            {
                return Ok(t.clone());
            }
        }
        let entry = self
            .store
            .type_version(code, version)
            .await?
            .ok_or_else(|| {
                let what = match version {
                    Some(v) => format!("license type {code} version {v} is not in the catalogue"),
                    None => format!("license type {code} is not in the catalogue"),
                };
                AppError::not_found("catalogue.unknown_type", what)
            })?;
        let key = (entry.code.clone(), entry.version);
        if asked_latest {
            self.latest.put(entry.code.clone(), entry.version);
        }
        if let Some(t) = self.types.read().expect("catalogue lock").get(&key) {
            return Ok(t.clone());
        }
        let t = Arc::new(parse_definition(&entry.definition, entry.version)?);
        self.types
            .write()
            .expect("catalogue lock")
            .insert(key, t.clone());
        Ok(t)
    }

    /// The latest version of every type.
    pub async fn all(&self) -> Result<Vec<Arc<LicenseType>>> {
        let listing = match self.listing.get(&()) {
            Some(l) => l,
            None => {
                let l: Arc<Vec<(String, u32)>> = Arc::new(
                    self.store
                        .types()
                        .await?
                        .into_iter()
                        .map(|e| (e.code, e.version))
                        .collect(),
                );
                self.listing.put((), l.clone());
                l
            }
        };
        let mut out = Vec::with_capacity(listing.len());
        for (code, version) in listing.iter() {
            out.push(self.get(code, Some(*version)).await?);
        }
        Ok(out)
    }
}

/// The stored form of a definition: canonical JSON without the version, so that re-loading an
/// unchanged definition is recognised.
pub fn definition_json(t: &LicenseType) -> String {
    let mut t = t.clone();
    t.version = 0;
    serde_json::to_string(&t).expect("a license type serialises")
}

fn parse_definition(json: &str, version: u32) -> Result<LicenseType> {
    let mut t: LicenseType = serde_json::from_str(json).map_err(|e| {
        AppError::new(
            ErrorKind::Internal,
            "store.corrupt",
            format!("stored catalogue definition does not parse: {e}"),
        )
    })?;
    t.version = version;
    Ok(t)
}

/// The public view of a type, as `elicense catalogue --json` and the API list it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TypeView {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub version: u32,
    pub defining_body: String,
    pub issuers: Vec<String>,
    pub holder_kind: String,
    #[schema(value_type = Object)]
    pub validity: serde_json::Value,
    pub face_template: String,
    pub items: Vec<ItemView>,
    /// Matters that ask for this type and the fields each needs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matters: Vec<MatterView>,
}

/// A matter (事项) and the fields it needs of a type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatterView {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub fields: Vec<String>,
}

/// One data item of a type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    #[schema(value_type = Object)]
    pub item_type: serde_json::Value,
    pub required: bool,
    pub max_length: Option<u32>,
    pub pattern: Option<String>,
    #[schema(value_type = String)]
    pub disclosure: serde_json::Value,
    pub example: String,
}

impl TypeView {
    pub fn of(t: &LicenseType) -> TypeView {
        TypeView {
            code: t.code.to_string(),
            name: t.name.clone(),
            name_en: t.name_en.clone(),
            version: t.version,
            defining_body: t.defining_body.clone(),
            issuers: t.issuers.iter().map(|i| i.to_string()).collect(),
            holder_kind: t.holder_kind.code().to_string(),
            validity: serde_json::to_value(t.validity).unwrap_or_default(),
            face_template: t.face_template.clone(),
            items: t
                .items
                .iter()
                .map(|i| ItemView {
                    name: i.name.clone(),
                    label: i.label.clone(),
                    item_type: serde_json::to_value(&i.item_type).unwrap_or_default(),
                    required: i.required,
                    max_length: i.max_length,
                    pattern: i.pattern.clone(),
                    disclosure: serde_json::to_value(i.disclosure).unwrap_or_default(),
                    example: i.example.clone(),
                })
                .collect(),
            matters: t
                .matters
                .iter()
                .map(|m| MatterView {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    name_en: m.name_en.clone(),
                    fields: m.fields.clone(),
                })
                .collect(),
        }
    }
}

/// Parses a type code given by a caller.
pub fn type_code(code: &str) -> Result<TypeCode> {
    TypeCode::parse(code).map_err(AppError::invalid)
}
