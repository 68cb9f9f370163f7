//! Reading the signatures of any PDF and what happened to the document after each.
//!
//! For every signature field with a value: its /ByteRange must be `[0 a b c]` with the gap
//! `[a, b)` exactly the signature dictionary's /Contents hex string, and `b + c` the end of
//! a revision (an `%%EOF`). The revisions after it are compared with the one before each,
//! and every change is named ([`Change`]); anything beyond adding signatures (a new page,
//! changed page content, other annotations, catalog changes) is a problem for every
//! signature before it. `ETSI.CAdES.detached` and `adbe.pkcs7.detached` CMS are checked
//! fully; for other SubFilters (a GB/T 38540 `SES_Signature`) the caller gets the contents
//! and the signed bytes' SHA-256 and SM3.
//!
//! Invariants: `Err` only when the file cannot be read as a PDF at all; everything found
//! wrong with a signature is a [`Problem`] in its [`SignatureReport`].

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::doc::Doc;
use crate::error::PdfError;
use crate::object::{decode_text, write_object, Dict, Lexer, Object, Ref, MAX_DEPTH};

/// SHA-256 and SM3 of the signed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digests {
    /// SHA-256.
    pub sha256: [u8; 32],
    /// SM3 (GB/T 32905).
    pub sm3: [u8; 32],
}

impl Digests {
    pub(crate) fn of(parts: &[&[u8]]) -> Self {
        let mut a = Sha256::new();
        let mut b = sm3::Sm3::new();
        for p in parts {
            a.update(p);
            b.update(p);
        }
        Digests {
            sha256: a.finalize().into(),
            sm3: b.finalize().into(),
        }
    }
}

/// Something found wrong with one signature.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// /ByteRange is missing, not four non-negative integers `[0 a b c]`, or outside the file.
    #[error("malformed /ByteRange: {0}")]
    ByteRangeMalformed(String),
    /// The bytes left out are not exactly the /Contents hex string.
    #[error("the unsigned gap is not exactly the /Contents string")]
    ByteRangeGap,
    /// The signed bytes do not end at the end of a revision (`%%EOF`).
    #[error("the signed bytes do not end at a revision's %%EOF")]
    ByteRangeNotRevision,
    /// /Contents is missing or empty.
    #[error("no signature contents")]
    ContentsMissing,
    /// The CMS does not parse or lacks a required part.
    #[error("malformed CMS: {0}")]
    CmsMalformed(String),
    /// The message-digest attribute is not the hash of the signed bytes.
    #[error("the signed bytes do not match the signed digest")]
    DigestMismatch,
    /// The signature over the signed attributes does not verify with the signer's key.
    #[error("the signature does not verify")]
    SignatureInvalid,
    /// The signer's certificate is not among the CMS certificates.
    #[error("the signer's certificate is not in the CMS")]
    CertificateMissing,
    /// No ESS signing-certificate-v2 attribute (PAdES requires it).
    #[error("no ESS signing-certificate-v2 attribute")]
    SigningCertificateMissing,
    /// The ESS attribute names another certificate.
    #[error("the ESS signing-certificate-v2 attribute names another certificate")]
    SigningCertificateMismatch,
    /// A digest or signature algorithm other than SHA-256 / ECDSA P-256.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// A later revision changed more than signatures (see the listed changes).
    #[error("the document was modified after signing: {}", .0.iter().map(Change::code).collect::<Vec<_>>().join(", "))]
    ModifiedAfterSigning(Vec<Change>),
}

impl Problem {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::ByteRangeMalformed(_) => "pdf.byte_range_malformed",
            Problem::ByteRangeGap => "pdf.byte_range_gap",
            Problem::ByteRangeNotRevision => "pdf.byte_range_not_revision",
            Problem::ContentsMissing => "pdf.contents_missing",
            Problem::CmsMalformed(_) => "cms.malformed",
            Problem::DigestMismatch => "cms.digest_mismatch",
            Problem::SignatureInvalid => "cms.signature_invalid",
            Problem::CertificateMissing => "cms.certificate_missing",
            Problem::SigningCertificateMissing => "cms.ess_missing",
            Problem::SigningCertificateMismatch => "cms.ess_mismatch",
            Problem::UnsupportedAlgorithm(_) => "cms.unsupported_algorithm",
            Problem::ModifiedAfterSigning(_) => "pdf.modified_after_signing",
        }
    }
}

/// One thing a revision changed compared with the revision before it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A signature field got a signature (new field or an empty one filled).
    SignatureAdded {
        /// The field's full name.
        field: String,
    },
    /// Pages were added.
    PagesAdded {
        /// How many.
        count: usize,
    },
    /// Pages were removed.
    PagesRemoved {
        /// How many.
        count: usize,
    },
    /// A page's content, resources or boxes changed.
    PageContentChanged {
        /// The 0-based page.
        page: usize,
    },
    /// A page's annotations changed other than by a signature widget.
    AnnotationsChanged {
        /// The 0-based page.
        page: usize,
    },
    /// The catalog changed other than in its form or page tree (e.g. /OpenAction, /Names).
    CatalogChanged,
}

impl Change {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Change::SignatureAdded { .. } => "pdf.update.signature_added",
            Change::PagesAdded { .. } => "pdf.update.pages_added",
            Change::PagesRemoved { .. } => "pdf.update.pages_removed",
            Change::PageContentChanged { .. } => "pdf.update.page_content_changed",
            Change::AnnotationsChanged { .. } => "pdf.update.annotations_changed",
            Change::CatalogChanged => "pdf.update.catalog_changed",
        }
    }
}

/// A revision: the file up to one `%%EOF`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The byte just past the revision's `%%EOF` line.
    pub end: usize,
    /// What it changed compared with the revision before (empty for the first).
    pub changes: Vec<Change>,
}

/// One signature and what was found about it.
#[derive(Clone, Debug)]
pub struct SignatureReport {
    /// The field's full name.
    pub field: String,
    /// The /SubFilter name.
    pub sub_filter: String,
    /// /ByteRange as written.
    pub byte_range: Vec<i64>,
    /// /Contents without its zero padding.
    pub contents: Vec<u8>,
    /// /M as written (`D:YYYYMMDDHHmmSS…`).
    pub signing_time: Option<String>,
    /// /Name, /Reason, /Location.
    pub name: Option<String>,
    /// The reason.
    pub reason: Option<String>,
    /// The location.
    pub location: Option<String>,
    /// The widget's page (0-based) and rectangle, when it has one.
    pub page: Option<usize>,
    /// The widget's /Rect.
    pub rect: Option<[f64; 4]>,
    /// Which revision the signature signs (index into [`Report::revisions`]).
    pub revision: Option<usize>,
    /// The signed bytes run to the end of the file.
    pub covers_whole_file: bool,
    /// Digests of the signed bytes (when /ByteRange is usable).
    pub digests: Option<Digests>,
    /// The revisions after this signature's (indices into [`Report::revisions`]).
    pub later_revisions: Vec<usize>,
    /// For CMS SubFilters: the signer certificate (DER) found in the CMS.
    pub signer_certificate: Option<Vec<u8>>,
    /// Empty when the signature is sound and nothing but signatures came after it.
    pub problems: Vec<Problem>,
}

impl SignatureReport {
    /// No problems were found.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Every signature of a document and its revisions.
#[derive(Clone, Debug)]
pub struct Report {
    /// In field order.
    pub signatures: Vec<SignatureReport>,
    /// Oldest first.
    pub revisions: Vec<Revision>,
}

/// Reads `pdf` and checks every signature in it; see the module documentation.
pub fn verify(pdf: &[u8]) -> Result<Report, PdfError> {
    let doc = Doc::parse(pdf)?;
    let mut ends: Vec<usize> = doc.sections.iter().filter_map(|s| s.end).collect();
    ends.sort_unstable();
    ends.dedup();
    // Each prefix that parses on its own is a revision; the last is the whole file.
    let mut views: Vec<(usize, Doc)> = Vec::new();
    for e in ends {
        if e >= pdf.len() {
            continue;
        }
        if let Ok(d) = Doc::parse(&pdf[..e]) {
            views.push((e, d));
        }
    }
    let mut revisions = vec![Revision {
        end: views.first().map_or(pdf.len(), |v| v.0),
        changes: Vec::new(),
    }];
    for (k, (_, view)) in views.iter().enumerate() {
        let next = views.get(k + 1).map_or(&doc, |v| &v.1);
        let next_end = views.get(k + 1).map_or(pdf.len(), |v| v.0);
        revisions.push(Revision {
            end: next_end,
            changes: diff(view, next),
        });
    }
    let pages = doc.pages().unwrap_or_default();
    let mut signatures = Vec::new();
    for (name, field) in signature_fields(&doc) {
        signatures.push(check_signature(&doc, pdf, &pages, name, &field, &revisions));
    }
    Ok(Report {
        signatures,
        revisions,
    })
}

/// Signature fields with a value, walking /Kids, with /FT inherited.
fn signature_fields(doc: &Doc) -> Vec<(String, Dict)> {
    let mut out = Vec::new();
    let Ok(cat) = doc.catalog() else { return out };
    let Ok(Some(form)) = doc.resolve_dict(cat.get(b"AcroForm")) else {
        return out;
    };
    let Ok(Object::Array(fields)) = form
        .get(b"Fields")
        .map_or(Ok(Object::Null), |f| doc.resolve(f))
    else {
        return out;
    };
    let mut seen = HashSet::new();
    walk_fields(doc, &fields, "", None, 0, &mut seen, &mut out);
    out
}

fn walk_fields(
    doc: &Doc,
    fields: &[Object],
    prefix: &str,
    ft: Option<&[u8]>,
    depth: usize,
    seen: &mut HashSet<Ref>,
    out: &mut Vec<(String, Dict)>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for f in fields {
        if let Object::Ref(r) = f {
            if !seen.insert(*r) {
                continue;
            }
        }
        let Ok(Some(mut d)) = doc.resolve_dict(Some(f)) else {
            continue;
        };
        let name = match d.get(b"T") {
            Some(Object::Str(t)) if prefix.is_empty() => decode_text(t),
            Some(Object::Str(t)) => format!("{prefix}.{}", decode_text(t)),
            _ => prefix.to_string(),
        };
        let ft = d.name(b"FT").map(<[u8]>::to_vec).or(ft.map(<[u8]>::to_vec));
        if ft.as_deref() == Some(b"Sig") && d.get(b"V").is_some() {
            if let Object::Ref(r) = f {
                d.set(b"__self", Object::Ref(*r));
            }
            out.push((name.clone(), d.clone()));
        }
        if let Some(Ok(Object::Array(kids))) = d.get(b"Kids").map(|k| doc.resolve(k)) {
            walk_fields(doc, &kids, &name, ft.as_deref(), depth + 1, seen, out);
        }
    }
}

fn text(d: &Dict, key: &[u8]) -> Option<String> {
    match d.get(key) {
        Some(Object::Str(s)) => Some(decode_text(s)),
        _ => None,
    }
}

fn check_signature(
    doc: &Doc,
    pdf: &[u8],
    pages: &[Ref],
    field: String,
    fd: &Dict,
    revisions: &[Revision],
) -> SignatureReport {
    let sig = doc
        .resolve_dict(fd.get(b"V"))
        .ok()
        .flatten()
        .unwrap_or_default();
    // The widget: the field itself, or its first kid.
    let widget = match fd.get(b"Kids") {
        Some(k) => match doc.resolve(k) {
            Ok(Object::Array(a)) => a
                .first()
                .and_then(|w| doc.resolve_dict(Some(w)).ok().flatten()),
            _ => None,
        },
        None => Some(fd.clone()),
    };
    let rect = widget.as_ref().and_then(|w| match w.get(b"Rect") {
        Some(Object::Array(a)) if a.len() == 4 => {
            let v: Option<Vec<f64>> = a.iter().map(Object::as_f64).collect();
            v.map(|v| [v[0], v[1], v[2], v[3]])
        }
        _ => None,
    });
    let page = widget
        .as_ref()
        .and_then(|w| match w.get(b"P") {
            Some(Object::Ref(p)) => pages.iter().position(|x| x == p),
            _ => None,
        })
        .or_else(|| {
            let Some(Object::Ref(me)) = fd.get(b"__self") else { return None };
            pages.iter().position(|p| {
                doc.get(*p).ok().and_then(|o| o.as_dict().cloned()).is_some_and(|pd| {
                    matches!(pd.get(b"Annots").map(|a| doc.resolve(a)), Some(Ok(Object::Array(a))) if a.contains(&Object::Ref(*me)))
                })
            })
        });
    let raw_contents = match sig.get(b"Contents") {
        Some(Object::Str(s)) => s.clone(),
        _ => Vec::new(),
    };
    let contents = match crate::cms::der_len(&raw_contents) {
        Some(n) => raw_contents[..n].to_vec(),
        None => {
            let n = raw_contents
                .iter()
                .rposition(|b| *b != 0)
                .map_or(0, |i| i + 1);
            raw_contents[..n].to_vec()
        }
    };
    let byte_range: Vec<i64> = match sig.get(b"ByteRange") {
        Some(Object::Array(a)) => a.iter().map(|o| o.as_int().unwrap_or(-1)).collect(),
        _ => Vec::new(),
    };
    let mut r = SignatureReport {
        field,
        sub_filter: sig
            .name(b"SubFilter")
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default(),
        byte_range: byte_range.clone(),
        contents,
        signing_time: text(&sig, b"M"),
        name: text(&sig, b"Name"),
        reason: text(&sig, b"Reason"),
        location: text(&sig, b"Location"),
        page,
        rect,
        revision: None,
        covers_whole_file: false,
        digests: None,
        later_revisions: Vec::new(),
        signer_certificate: None,
        problems: Vec::new(),
    };
    if r.contents.is_empty() {
        r.problems.push(Problem::ContentsMissing);
    }
    let [0, a, b, c] = byte_range[..] else {
        r.problems
            .push(Problem::ByteRangeMalformed(format!("{byte_range:?}")));
        return r;
    };
    let (Ok(a), Ok(b), Ok(c)) = (usize::try_from(a), usize::try_from(b), usize::try_from(c)) else {
        r.problems
            .push(Problem::ByteRangeMalformed(format!("{byte_range:?}")));
        return r;
    };
    let Some(end) = b.checked_add(c).filter(|e| a < b && *e <= pdf.len()) else {
        r.problems.push(Problem::ByteRangeMalformed(format!(
            "{byte_range:?} in a file of {} bytes",
            pdf.len()
        )));
        return r;
    };
    // The gap must be one hex string holding exactly the dictionary's /Contents.
    let mut lx = Lexer::new(&pdf[..b], a);
    let gap_ok = pdf[a] == b'<'
        && matches!(lx.object(0), Ok(Object::Str(s)) if s == raw_contents)
        && lx.pos == b;
    if !gap_ok {
        r.problems.push(Problem::ByteRangeGap);
    }
    r.covers_whole_file = end == pdf.len();
    r.revision = revisions.iter().position(|rev| {
        end <= rev.end
            && rev.end - end <= 2
            && pdf[end..rev.end].iter().all(|b| *b == b'\r' || *b == b'\n')
    });
    match r.revision {
        None => r.problems.push(Problem::ByteRangeNotRevision),
        Some(k) => {
            r.later_revisions = (k + 1..revisions.len()).collect();
            let bad: Vec<Change> = r
                .later_revisions
                .iter()
                .flat_map(|i| revisions[*i].changes.iter())
                .filter(|c| !matches!(c, Change::SignatureAdded { .. }))
                .cloned()
                .collect();
            if !bad.is_empty() {
                r.problems.push(Problem::ModifiedAfterSigning(bad));
            }
        }
    }
    let digests = Digests::of(&[&pdf[..a], &pdf[b..end]]);
    r.digests = Some(digests);
    if matches!(
        r.sub_filter.as_str(),
        "ETSI.CAdES.detached" | "adbe.pkcs7.detached"
    ) && !r.contents.is_empty()
    {
        let v = crate::cms::check(&r.contents, &digests.sha256);
        r.signer_certificate = v.signer_certificate;
        r.problems.extend(v.problems);
    }
    r
}

/// A content hash of an object with references followed (cycles and depth cut), skipping
/// the keys that only link back (/Parent, /P) or that are compared separately (/Annots).
struct Hasher<'d, 'a> {
    doc: &'d Doc<'a>,
    memo: HashMap<Ref, [u8; 32]>,
    stack: HashSet<Ref>,
}

impl Hasher<'_, '_> {
    fn hash(&mut self, o: &Object, depth: usize) -> [u8; 32] {
        let mut h = Sha256::new();
        self.feed(&mut h, o, depth);
        h.finalize().into()
    }

    fn feed(&mut self, h: &mut Sha256, o: &Object, depth: usize) {
        if depth > MAX_DEPTH {
            h.update(b"!deep");
            return;
        }
        match o {
            Object::Ref(r) => {
                if let Some(v) = self.memo.get(r) {
                    h.update(v);
                } else if !self.stack.insert(*r) {
                    h.update(b"!cycle");
                } else {
                    let target = self.doc.get(*r).unwrap_or(Object::Null);
                    let v = self.hash(&target, depth + 1);
                    self.stack.remove(r);
                    self.memo.insert(*r, v);
                    h.update(v);
                }
            }
            Object::Array(a) => {
                h.update(b"[");
                for x in a {
                    self.feed(h, x, depth + 1);
                }
                h.update(b"]");
            }
            Object::Dict(d) => self.feed_dict(h, d, depth),
            Object::Stream(s) => {
                self.feed_dict(h, &s.dict, depth);
                h.update(b"stream");
                h.update((s.data.len() as u64).to_be_bytes());
                h.update(&s.data);
            }
            other => {
                let mut out = Vec::new();
                write_object(&mut out, other);
                h.update(&out);
                h.update(b" ");
            }
        }
    }

    fn feed_dict(&mut self, h: &mut Sha256, d: &Dict, depth: usize) {
        h.update(b"<<");
        let mut keys: Vec<&(Vec<u8>, Object)> = d.0.iter().collect();
        keys.sort_by(|x, y| x.0.cmp(&y.0));
        for (k, v) in keys {
            if matches!(k.as_slice(), b"Parent" | b"P" | b"Annots") {
                continue;
            }
            h.update((k.len() as u64).to_be_bytes());
            h.update(k);
            self.feed(h, v, depth + 1);
        }
        h.update(b">>");
    }
}

fn annots(doc: &Doc, page: Ref) -> Vec<Object> {
    let Ok(p) = doc.get(page) else {
        return Vec::new();
    };
    match p
        .as_dict()
        .and_then(|d| d.get(b"Annots"))
        .map(|a| doc.resolve(a))
    {
        Some(Ok(Object::Array(a))) => a,
        _ => Vec::new(),
    }
}

fn is_sig_widget(doc: &Doc, o: &Object) -> bool {
    let Ok(Some(d)) = doc.resolve_dict(Some(o)) else {
        return false;
    };
    let ft = d.name(b"FT").map(<[u8]>::to_vec).or_else(|| {
        doc.resolve_dict(d.get(b"Parent"))
            .ok()
            .flatten()
            .and_then(|p| p.name(b"FT").map(<[u8]>::to_vec))
    });
    ft.as_deref() == Some(b"Sig")
}

/// What `new` changed compared with `old`.
fn diff(old: &Doc, new: &Doc) -> Vec<Change> {
    let mut changes = Vec::new();
    let old_sigs: HashMap<String, Option<Object>> = signature_fields(old)
        .into_iter()
        .map(|(n, d)| (n, d.get(b"V").cloned()))
        .collect();
    for (name, d) in signature_fields(new) {
        if old_sigs.get(&name).and_then(Clone::clone) != d.get(b"V").cloned() {
            changes.push(Change::SignatureAdded { field: name });
        }
    }
    let (po, pn) = (
        old.pages().unwrap_or_default(),
        new.pages().unwrap_or_default(),
    );
    if pn.len() > po.len() {
        changes.push(Change::PagesAdded {
            count: pn.len() - po.len(),
        });
    } else if po.len() > pn.len() {
        changes.push(Change::PagesRemoved {
            count: po.len() - pn.len(),
        });
    }
    let mut ho = Hasher {
        doc: old,
        memo: HashMap::new(),
        stack: HashSet::new(),
    };
    let mut hn = Hasher {
        doc: new,
        memo: HashMap::new(),
        stack: HashSet::new(),
    };
    for (i, (a, b)) in po.iter().zip(&pn).enumerate() {
        if ho.hash(&Object::Ref(*a), 0) != hn.hash(&Object::Ref(*b), 0) {
            changes.push(Change::PageContentChanged { page: i });
        }
        let (ao, an) = (annots(old, *a), annots(new, *b));
        let kept_or_sig = ao.iter().all(|x| an.contains(x))
            && an
                .iter()
                .filter(|x| !ao.contains(x))
                .all(|x| is_sig_widget(new, x));
        let same_old = ao
            .iter()
            .filter(|x| !is_sig_widget(old, x))
            .all(|x| ho.hash(x, 0) == hn.hash(x, 0));
        if !kept_or_sig || !same_old {
            changes.push(Change::AnnotationsChanged { page: i });
        }
    }
    let strip = |d: &Doc| -> Object {
        let mut c = d.catalog().unwrap_or_default();
        c.remove(b"AcroForm");
        c.remove(b"Pages");
        // A /Version bump changes how nothing is drawn; writers (pyHanko) add it freely.
        c.remove(b"Version");
        Object::Dict(c)
    };
    if ho.hash(&strip(old), 0) != hn.hash(&strip(new), 0) {
        changes.push(Change::CatalogChanged);
    }
    changes
}
