//! Loading a catalogue from TOML or JSON, and the rules a loaded catalogue must meet.
//!
//! Invariant: both loaders end in [`Catalogue::check`], so no unchecked catalogue comes out
//! of them.

use std::collections::{BTreeMap, BTreeSet};

use super::item::{compile_pattern, Derived, SEX_FEMALE, SEX_MALE};
use super::{Catalogue, CatalogueError, DataItem, ItemType, LicenseType, ValidityRule};
use crate::holder::HolderCodeType;

impl Catalogue {
    /// Loads and checks a TOML catalogue.
    pub fn from_toml_str(s: &str) -> Result<Self, CatalogueError> {
        let catalogue: Self = toml::from_str(s)
            .map_err(|e| CatalogueError::from_parser(e.message(), e.to_string()))?;
        catalogue.check()?;
        Ok(catalogue)
    }

    /// Loads and checks a JSON catalogue.
    pub fn from_json_str(s: &str) -> Result<Self, CatalogueError> {
        let catalogue: Self = serde_json::from_str(s)
            .map_err(|e| CatalogueError::from_parser(&e.to_string(), e.to_string()))?;
        catalogue.check()?;
        Ok(catalogue)
    }

    /// Checks the rules of the module header of [`crate::catalogue`]; the loaders call it,
    /// and so should code that builds or edits a catalogue in memory.
    pub fn check(&self) -> Result<(), CatalogueError> {
        let mut issuers = BTreeSet::new();
        for issuer in &self.issuers {
            if !issuers.insert(&issuer.code) {
                return Err(CatalogueError::invalid(format!(
                    "issuer {} is declared twice",
                    issuer.code
                )));
            }
            if issuer.name.trim().is_empty() {
                return Err(CatalogueError::invalid(format!(
                    "issuer {} has no name",
                    issuer.code
                )));
            }
        }
        let mut versions = BTreeSet::new();
        for ty in &self.types {
            if !versions.insert((&ty.code, ty.version)) {
                return Err(CatalogueError::invalid(format!(
                    "license type {} version {} is defined twice",
                    ty.code, ty.version
                )));
            }
            check_type(ty).map_err(|e| match e {
                CatalogueError::Invalid { message } => CatalogueError::invalid(format!(
                    "license type {} ({}) version {}: {message}",
                    ty.code, ty.name, ty.version
                )),
                other => other,
            })?;
            if let Some(undeclared) = ty.issuers.iter().find(|i| !issuers.contains(i)) {
                return Err(CatalogueError::invalid(format!(
                    "license type {} ({}) names issuer {undeclared}, which is not declared",
                    ty.code, ty.name
                )));
            }
        }
        check_joint_matters(&self.types)
    }
}

/// The parts of a joint matter (the same matter code under several types, latest versions
/// only) agree on what the holder and the institution are shown: name, English name and
/// legal basis.
fn check_joint_matters(types: &[LicenseType]) -> Result<(), CatalogueError> {
    let mut latest: BTreeMap<&str, &LicenseType> = BTreeMap::new();
    for ty in types {
        let e = latest.entry(ty.code.as_str()).or_insert(ty);
        if ty.version > e.version {
            *e = ty;
        }
    }
    let mut first: BTreeMap<&str, (&LicenseType, &super::MatterNeed)> = BTreeMap::new();
    for ty in latest.values() {
        for m in &ty.matters {
            let Some((other, o)) = first.get(m.code.as_str()) else {
                first.insert(m.code.as_str(), (ty, m));
                continue;
            };
            if o.name != m.name || o.name_en != m.name_en || o.legal_basis != m.legal_basis {
                return Err(CatalogueError::invalid(format!(
                    "matter {} is named differently by license types {} and {}: a joint \
                     matter's parts share its name, English name and legal basis",
                    m.code, other.code, ty.code
                )));
            }
        }
    }
    Ok(())
}

fn check_type(ty: &LicenseType) -> Result<(), CatalogueError> {
    let invalid = |m: String| Err(CatalogueError::invalid(m));
    if ty.name.trim().is_empty() || ty.name_en.trim().is_empty() {
        return invalid("name and name_en must not be empty".to_owned());
    }
    if ty.version == 0 {
        return invalid("version starts at 1".to_owned());
    }
    if ty.issuers.is_empty() {
        return invalid("no issuer may issue it".to_owned());
    }
    if matches!(
        ty.validity,
        ValidityRule::FixedYears(0) | ValidityRule::FixedMonths(0)
    ) {
        return invalid("a fixed validity must be at least one year or month".to_owned());
    }
    if ty.items.is_empty() {
        return invalid("it has no data items".to_owned());
    }
    let mut names = BTreeSet::new();
    let mut derived = BTreeSet::new();
    let mut representative = None;
    for item in &ty.items {
        if !names.insert(item.name.as_str()) {
            return invalid(format!("item name {} is used twice", item.name));
        }
        if let Some(d) = item.derives {
            check_derived(ty, item, d, &mut derived)?;
        }
        if item.represents {
            check_representative(ty, item, &mut representative)?;
        }
        check_item(item).map_err(|e| match e {
            CatalogueError::Invalid { message } => {
                CatalogueError::invalid(format!("item {}: {message}", item.name))
            }
            other => CatalogueError::invalid(format!(
                "item {}: example {:?} does not validate: {other}",
                item.name, item.example
            )),
        })?;
    }
    if ty.issues_seals && representative.is_none() {
        return invalid(
            "issues_seals = true needs holders with USCCs and an item naming the legal \
             representative (represents = true)"
                .into(),
        );
    }
    let mut matters = BTreeSet::new();
    for m in &ty.matters {
        if !is_claim_name(&m.code) || !matters.insert(m.code.as_str()) {
            return invalid(format!(
                "matter code {:?} is not a unique claim-style name",
                m.code
            ));
        }
        if m.fields.is_empty() {
            return invalid(format!("matter {} needs no field", m.code));
        }
        if let Some(f) = m
            .fields
            .iter()
            .find(|f| !names.contains(f.as_str()) && !super::HOLDER_CLAIMS.contains(&f.as_str()))
        {
            return invalid(format!("matter {} needs unknown field {f}", m.code));
        }
    }
    Ok(())
}

/// `derives`: holders with resident IDs only, an item type that can hold the fact, one item
/// per fact.
fn check_derived(
    ty: &LicenseType,
    item: &DataItem,
    d: Derived,
    seen: &mut BTreeSet<Derived>,
) -> Result<(), CatalogueError> {
    let what = d.as_str();
    if ty.holder_kind != HolderCodeType::ResidentId {
        return Err(CatalogueError::invalid(format!(
            "item {}: derives = {what:?} needs holders with resident IDs (holder_kind = \"111\")",
            item.name
        )));
    }
    if !d.fits(&item.item_type) {
        let need = match d {
            Derived::BirthDate => "a date item".to_owned(),
            Derived::Sex => format!("an enum item with the values {SEX_MALE} and {SEX_FEMALE}"),
        };
        return Err(CatalogueError::invalid(format!(
            "item {}: derives = {what:?} needs {need}",
            item.name
        )));
    }
    if !seen.insert(d) {
        return Err(CatalogueError::invalid(format!(
            "item {}: another item already derives {what:?}",
            item.name
        )));
    }
    Ok(())
}

/// `represents`: a resident-ID item, holders with USCCs, one item per type.
fn check_representative<'a>(
    ty: &LicenseType,
    item: &'a DataItem,
    seen: &mut Option<&'a str>,
) -> Result<(), CatalogueError> {
    if ty.holder_kind != HolderCodeType::Uscc {
        return Err(CatalogueError::invalid(format!(
            "item {}: represents = true needs holders with USCCs (holder_kind = \"049\")",
            item.name
        )));
    }
    if item.item_type != ItemType::ResidentId {
        return Err(CatalogueError::invalid(format!(
            "item {}: represents = true needs a resident_id item",
            item.name
        )));
    }
    if let Some(other) = seen.replace(&item.name) {
        return Err(CatalogueError::invalid(format!(
            "item {}: item {other} already names the representative",
            item.name
        )));
    }
    Ok(())
}

fn is_claim_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check_item(item: &DataItem) -> Result<(), CatalogueError> {
    let invalid = |m: String| Err(CatalogueError::invalid(m));
    if !is_claim_name(&item.name) {
        return invalid("name must match [a-z][a-z0-9_]*".to_owned());
    }
    if item.label.trim().is_empty() {
        return invalid("label must not be empty".to_owned());
    }
    if item.max_length == Some(0) {
        return invalid("max_length must be at least 1".to_owned());
    }
    if let ItemType::Enum(values) = &item.item_type {
        let distinct: BTreeSet<&String> = values.iter().collect();
        if values.is_empty() || distinct.len() != values.len() {
            return invalid("enum values must be non-empty and distinct".to_owned());
        }
    }
    if let Some(pattern) = &item.pattern {
        if let Err(e) = compile_pattern(pattern) {
            return invalid(format!("bad pattern {pattern:?}: {e}"));
        }
    }
    if item.example.is_empty() {
        return invalid("every item needs an example".to_owned());
    }
    item.check(&item.example).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_names() {
        assert!(is_claim_name("a") && is_claim_name("birth_date") && is_claim_name("x2"));
        assert!(!is_claim_name("") && !is_claim_name("2x") && !is_claim_name("Name"));
        assert!(!is_claim_name("_x") && !is_claim_name("a-b"));
    }
}
