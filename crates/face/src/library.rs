//! Finding a face template by its catalogue reference (`faces/x.svg`): the template
//! directory first, then the built-in templates, then the generic template.
//!
//! Invariants: a reference is a relative path of `[A-Za-z0-9_.-]` segments ending in
//! `.svg` (no `..`, no absolute path), so lookups never leave the template directory;
//! built-in templates are compiled once per process; a directory template is compiled on
//! first use and again when its file's modification time or length changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::SystemTime;

use crate::template::{Template, MAX_TEMPLATE_BYTES};
use crate::FaceError;

/// Reference of the generic template, used for any reference without a template.
pub(crate) const GENERIC: &str = "faces/generic.svg";

/// The built-in templates: (reference, source).
pub(crate) const BUILT_IN: [(&str, &str); 5] = [
    (
        "faces/business_license.svg",
        include_str!("../templates/faces/business_license.svg"),
    ),
    (
        "faces/food_business_license.svg",
        include_str!("../templates/faces/food_business_license.svg"),
    ),
    (
        "faces/resident_id_card.svg",
        include_str!("../templates/faces/resident_id_card.svg"),
    ),
    (
        "faces/driving_license.svg",
        include_str!("../templates/faces/driving_license.svg"),
    ),
    (GENERIC, include_str!("../templates/faces/generic.svg")),
];

fn built_ins() -> &'static HashMap<&'static str, Arc<Template>> {
    static BUILT: OnceLock<HashMap<&'static str, Arc<Template>>> = OnceLock::new();
    BUILT.get_or_init(|| {
        BUILT_IN
            .iter()
            .map(|(name, src)| {
                let t = Template::compile(name, src)
                    .unwrap_or_else(|e| panic!("built-in template: {e}"));
                (*name, Arc::new(t))
            })
            .collect()
    })
}

/// Templates of one [`crate::Faces`].
#[derive(Debug, Default)]
pub(crate) struct Library {
    dir: Option<PathBuf>,
    cache: RwLock<HashMap<String, Cached>>,
}

#[derive(Debug)]
struct Cached {
    modified: Option<SystemTime>,
    len: u64,
    template: Arc<Template>,
}

impl Library {
    pub(crate) fn new() -> Library {
        built_ins();
        Library::default()
    }

    pub(crate) fn with_dir(dir: &Path) -> Library {
        Library {
            dir: Some(dir.to_owned()),
            ..Library::new()
        }
    }

    /// The template for `reference`.
    pub(crate) fn get(&self, reference: &str) -> Result<Arc<Template>, FaceError> {
        let reference = reference.trim();
        if !reference.is_empty() && !is_safe_reference(reference) {
            return Err(FaceError::template(
                reference,
                "a template reference is a relative path like faces/x.svg (letters, digits, _ - . and /)",
            ));
        }
        if let (Some(dir), false) = (&self.dir, reference.is_empty()) {
            if let Some(t) = self.in_dir(dir, reference)? {
                return Ok(t);
            }
        }
        let built = built_ins();
        Ok(Arc::clone(
            built.get(reference).unwrap_or_else(|| &built[GENERIC]),
        ))
    }

    fn in_dir(&self, dir: &Path, reference: &str) -> Result<Option<Arc<Template>>, FaceError> {
        let path = dir.join(reference);
        let unreadable = |source| FaceError::TemplateUnreadable {
            template: reference.to_owned(),
            source,
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unreadable(e)),
        };
        let modified = meta.modified().ok();
        if let Some(c) = self
            .cache
            .read()
            .expect("template cache poisoned")
            .get(reference)
        {
            if c.modified == modified && c.len == meta.len() {
                return Ok(Some(Arc::clone(&c.template)));
            }
        }
        if meta.len() > MAX_TEMPLATE_BYTES as u64 {
            return Err(FaceError::template(
                reference,
                format!("larger than {MAX_TEMPLATE_BYTES} bytes"),
            ));
        }
        let source = std::fs::read_to_string(&path).map_err(unreadable)?;
        let template = Arc::new(Template::compile(reference, &source)?);
        let cached = Cached {
            modified,
            len: meta.len(),
            template: Arc::clone(&template),
        };
        self.cache
            .write()
            .expect("template cache poisoned")
            .insert(reference.to_owned(), cached);
        Ok(Some(template))
    }
}

fn is_safe_reference(r: &str) -> bool {
    r.len() <= 200
        && r.ends_with(".svg")
        && r.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert!(is_safe_reference("faces/business_license.svg"));
        assert!(!is_safe_reference("../faces/x.svg"));
        assert!(!is_safe_reference("/etc/x.svg"));
        assert!(!is_safe_reference("faces//x.svg"));
        assert!(!is_safe_reference("faces/x.png"));
        assert!(!is_safe_reference("faces\\x.svg"));
    }
}
