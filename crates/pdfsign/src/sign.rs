//! Sealing in two steps: [`prepare`] appends one incremental update holding the seal's
//! picture, a signature field and a signature dictionary with a zero-filled /Contents;
//! the caller signs [`Prepared::signed_ranges`] (locally, in an HSM or remotely) and
//! [`Prepared::complete`] writes the signature into the reserved space.
//!
//! Invariants: the bytes of the input are kept as they are (an update only appends), so
//! every earlier signature stays valid; the update is one revision ending in `%%EOF`, its
//! cross-reference section is of the same kind as the file's last one and chains to it by
//! /Prev; /ByteRange is patched in place with the same length, so no offset moves after
//! `prepare` and the signed ranges are final.
//!
//! The update is written by hand rather than through a PDF library's writer: only then do
//! we know the exact offsets of /ByteRange and /Contents, can leave every byte of the
//! original untouched and keep the old objects' numbers and generations.

use std::io::Read;

use time::OffsetDateTime;

use crate::doc::{Doc, XrefKind};
use crate::error::{bad_object, PdfError};
use crate::object::{
    text_string, write_dict, write_hex_string, write_object, Dict, Object, Ref, Stream,
};
use crate::picture::{decode_png_cached, deflate};
use crate::verify::Digests;

/// The /SubFilter of a signature: what /Contents holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubFilter {
    /// `ETSI.CAdES.detached`: a PAdES CMS SignedData over the byte ranges.
    CadesDetached,
    /// A name chosen by the caller (for example for a GB/T 38540 `SES_Signature`); letters,
    /// digits, `.`, `_` and `-` only.
    Other(String),
}

impl SubFilter {
    /// The name as written after the slash.
    pub fn as_str(&self) -> &str {
        match self {
            SubFilter::CadesDetached => "ETSI.CAdES.detached",
            SubFilter::Other(s) => s,
        }
    }
}

/// Where and how a seal goes on the document.
#[derive(Clone, Debug)]
pub struct SealPlacement {
    /// The 0-based page.
    pub page: usize,
    /// `[llx, lly, urx, ury]` in PDF points in the page's default user space.
    pub rect: [f64; 4],
    /// The seal picture, a PNG (RGBA gives a transparent background).
    pub picture: Vec<u8>,
    /// The signature field's name (/T); unique in the document, without periods.
    pub field_name: String,
    /// The signer's name (/Name).
    pub name: Option<String>,
    /// The reason for signing (/Reason).
    pub reason: Option<String>,
    /// Where it was signed (/Location).
    pub location: Option<String>,
    /// The claimed signing time (/M).
    pub signing_time: OffsetDateTime,
    /// What /Contents will hold.
    pub sub_filter: SubFilter,
    /// Bytes reserved for /Contents (written as twice as many hex digits).
    pub contents_capacity: usize,
}

/// A document with its seal update appended and /Contents still empty.
#[derive(Clone, Debug)]
pub struct Prepared {
    bytes: Vec<u8>,
    byte_range: [usize; 4],
    capacity: usize,
}

const BYTE_RANGE_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

impl Prepared {
    /// `[0, a, b, c]`: the signed bytes are `a` bytes from 0 and `c` bytes from `b`.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    /// The bytes to be signed: the whole update except the /Contents hex string.
    pub fn signed_ranges(&self) -> impl Read + '_ {
        let [_, a, b, _] = self.byte_range;
        (&self.bytes[..a]).chain(&self.bytes[b..])
    }

    /// SHA-256 and SM3 of [`Self::signed_ranges`].
    pub fn digests(&self) -> Digests {
        let [_, a, b, _] = self.byte_range;
        Digests::of(&[&self.bytes[..a], &self.bytes[b..]])
    }

    /// The bytes reserved for the signature contents.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Writes `contents` (e.g. a DER CMS) into the reserved space, zero-padded, and
    /// returns the finished document; `pdf.contents_too_large` when it does not fit.
    pub fn complete(mut self, contents: &[u8]) -> Result<Vec<u8>, PdfError> {
        if contents.len() > self.capacity {
            return Err(PdfError::ContentsTooLarge {
                len: contents.len(),
                capacity: self.capacity,
            });
        }
        let [_, a, _, _] = self.byte_range;
        let hex = &mut self.bytes[a + 1..a + 1 + 2 * contents.len()];
        for (pair, b) in hex.chunks_exact_mut(2).zip(contents) {
            pair.copy_from_slice(format!("{b:02X}").as_bytes());
        }
        Ok(self.bytes)
    }
}

fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

fn real(v: f64) -> Object {
    Object::Real(num(v))
}

/// /M: `D:YYYYMMDDHHmmSS` with the offset as `+HH'mm'` or `Z`.
pub(crate) fn pdf_date(t: OffsetDateTime) -> String {
    let off = t.offset();
    let zone = if off.is_utc() {
        "Z".to_string()
    } else {
        let (h, m, _) = off.as_hms();
        let sign = if off.is_negative() { '-' } else { '+' };
        format!("{sign}{:02}'{:02}'", h.unsigned_abs(), m.unsigned_abs())
    };
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn check_placement(spec: &SealPlacement) -> Result<(), PdfError> {
    let bad = |m: &str| Err(PdfError::BadPlacement(m.into()));
    let [x0, y0, x1, y1] = spec.rect;
    if !spec.rect.iter().all(|v| v.is_finite()) || x1 <= x0 || y1 <= y0 {
        return bad("the rectangle must be finite with llx < urx and lly < ury");
    }
    if spec.field_name.is_empty() || spec.field_name.contains('.') {
        return bad("the field name must be non-empty and without periods");
    }
    if spec.contents_capacity == 0 || spec.contents_capacity > 1 << 20 {
        return bad("the contents capacity must be 1 byte to 1 MiB");
    }
    if let SubFilter::Other(s) = &spec.sub_filter {
        let ok = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !ok {
            return bad("a SubFilter name is letters, digits, '.', '_' and '-'");
        }
    }
    Ok(())
}

/// Full names of every field in the form (`parent.child`), to keep new names unique.
fn field_names(doc: &Doc, fields: &[Object], prefix: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 32 {
        return;
    }
    for f in fields {
        let Ok(Some(d)) = doc.resolve_dict(Some(f)) else {
            continue;
        };
        let name = match d.get(b"T") {
            Some(Object::Str(t)) => {
                let t = crate::object::decode_text(t);
                if prefix.is_empty() {
                    t
                } else {
                    format!("{prefix}.{t}")
                }
            }
            _ => prefix.to_string(),
        };
        if !name.is_empty() {
            out.push(name.clone());
        }
        if let Some(Ok(Object::Array(kids))) = d.get(b"Kids").map(|k| doc.resolve(k)) {
            field_names(doc, &kids, &name, depth + 1, out);
        }
    }
}

fn resolved_array(doc: &Doc, o: Option<&Object>) -> Result<Vec<Object>, PdfError> {
    match o {
        None => Ok(Vec::new()),
        Some(o) => match doc.resolve(o)? {
            Object::Array(a) => Ok(a),
            Object::Null => Ok(Vec::new()),
            _ => Err(bad_object("expected an array")),
        },
    }
}

/// Appends the seal's incremental update to `pdf`; see the module documentation.
pub fn prepare(pdf: &[u8], spec: &SealPlacement) -> Result<Prepared, PdfError> {
    check_placement(spec)?;
    let doc = Doc::parse(pdf)?;
    let picture = decode_png_cached(&spec.picture)?;
    let pages = doc.pages()?;
    let page_ref = *pages.get(spec.page).ok_or(PdfError::NoSuchPage {
        page: spec.page,
        count: pages.len(),
    })?;
    let mut page = doc
        .get(page_ref)?
        .as_dict()
        .cloned()
        .ok_or_else(|| bad_object("the page is not a dictionary"))?;
    let root = doc.root_ref()?;
    let mut catalog = doc.catalog()?;
    let (acroform_ref, mut acroform) = match catalog.get(b"AcroForm") {
        Some(Object::Ref(r)) => (
            Some(*r),
            doc.resolve_dict(Some(&Object::Ref(*r)))?
                .unwrap_or_default(),
        ),
        Some(Object::Dict(d)) => (None, d.clone()),
        _ => (None, Dict::default()),
    };
    let mut fields = resolved_array(&doc, acroform.get(b"Fields"))?;
    let mut names = Vec::new();
    field_names(&doc, &fields, "", 0, &mut names);
    if names.contains(&spec.field_name) {
        return Err(PdfError::FieldExists(spec.field_name.clone()));
    }
    let size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_int)
        .filter(|s| *s > 0 && *s < i64::from(u32::MAX) - 16)
        .ok_or_else(|| PdfError::BadXref("the trailer has no usable /Size".into()))?
        as u32;
    let r = |k: u32| Ref {
        num: size + k,
        gen: 0,
    };
    let (img, smask, ap, sig, widget) = (r(0), r(1), r(2), r(3), r(4));
    let mut next_num = size + 5;

    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") && !out.ends_with(b"\r") {
        out.push(b'\n');
    }
    let mut offsets: Vec<(Ref, usize)> = Vec::new();
    let put = |out: &mut Vec<u8>, offsets: &mut Vec<(Ref, usize)>, r: Ref, obj: &Object| {
        offsets.push((r, out.len()));
        out.extend_from_slice(format!("{} {} obj\n", r.num, r.gen).as_bytes());
        write_object(out, obj);
        out.extend_from_slice(b"\nendobj\n");
    };

    // The picture: RGB samples with the alpha channel as a soft mask.
    let image_dict = |cs: &str, extra: Option<(&[u8], Object)>| {
        let mut d = Dict::default();
        d.set(b"Type", Object::name("XObject"));
        d.set(b"Subtype", Object::name("Image"));
        d.set(b"Width", Object::Int(i64::from(picture.width)));
        d.set(b"Height", Object::Int(i64::from(picture.height)));
        d.set(b"ColorSpace", Object::name(cs));
        d.set(b"BitsPerComponent", Object::Int(8));
        d.set(b"Filter", Object::name("FlateDecode"));
        if let Some((k, v)) = extra {
            d.set(k, v);
        }
        d
    };
    let smask_obj = Object::Stream(Stream {
        dict: image_dict("DeviceGray", None),
        data: picture.alpha.clone(),
    });
    let img_obj = Object::Stream(Stream {
        dict: image_dict("DeviceRGB", Some((b"SMask", Object::Ref(smask)))),
        data: picture.rgb.clone(),
    });
    put(&mut out, &mut offsets, smask, &smask_obj);
    put(&mut out, &mut offsets, img, &img_obj);

    // The appearance: the picture stretched over the field's rectangle.
    let [x0, y0, x1, y1] = spec.rect;
    let (w, h) = (x1 - x0, y1 - y0);
    let mut ap_dict = Dict::default();
    ap_dict.set(b"Type", Object::name("XObject"));
    ap_dict.set(b"Subtype", Object::name("Form"));
    ap_dict.set(
        b"BBox",
        Object::Array(vec![Object::Int(0), Object::Int(0), real(w), real(h)]),
    );
    let mut xobjects = Dict::default();
    xobjects.set(b"Seal", Object::Ref(img));
    let mut resources = Dict::default();
    resources.set(b"XObject", Object::Dict(xobjects));
    ap_dict.set(b"Resources", Object::Dict(resources));
    let ap_data = format!("q {} 0 0 {} 0 0 cm /Seal Do Q", num(w), num(h)).into_bytes();
    put(
        &mut out,
        &mut offsets,
        ap,
        &Object::Stream(Stream {
            dict: ap_dict,
            data: ap_data,
        }),
    );

    // The signature dictionary, written by hand to know where the placeholders are.
    offsets.push((sig, out.len()));
    out.extend_from_slice(
        format!(
            "{} 0 obj\n<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/",
            sig.num
        )
        .as_bytes(),
    );
    out.extend_from_slice(spec.sub_filter.as_str().as_bytes());
    out.extend_from_slice(b"/ByteRange");
    let br_at = out.len();
    out.extend_from_slice(BYTE_RANGE_PLACEHOLDER.as_bytes());
    out.extend_from_slice(b"/Contents");
    let contents_at = out.len();
    out.push(b'<');
    out.resize(out.len() + 2 * spec.contents_capacity, b'0');
    out.push(b'>');
    let contents_end = out.len();
    let mut rest = Dict::default();
    rest.set(b"M", Object::Str(pdf_date(spec.signing_time).into_bytes()));
    for (k, v) in [
        (&b"Name"[..], &spec.name),
        (b"Reason", &spec.reason),
        (b"Location", &spec.location),
    ] {
        if let Some(v) = v {
            rest.set(k, text_string(v));
        }
    }
    for (k, v) in &rest.0 {
        crate::object::write_object(&mut out, &Object::Name(k.clone()));
        match v {
            Object::Str(s) => write_hex_string(&mut out, s),
            other => write_object(&mut out, other),
        }
    }
    out.extend_from_slice(b">>\nendobj\n");

    // The field and its widget, merged into one dictionary.
    let mut wd = Dict::default();
    wd.set(b"Type", Object::name("Annot"));
    wd.set(b"Subtype", Object::name("Widget"));
    wd.set(b"FT", Object::name("Sig"));
    wd.set(b"T", text_string(&spec.field_name));
    wd.set(b"V", Object::Ref(sig));
    wd.set(
        b"Rect",
        Object::Array(vec![real(x0), real(y0), real(x1), real(y1)]),
    );
    wd.set(b"P", Object::Ref(page_ref));
    wd.set(b"F", Object::Int(4));
    let mut apd = Dict::default();
    apd.set(b"N", Object::Ref(ap));
    wd.set(b"AP", Object::Dict(apd));
    put(&mut out, &mut offsets, widget, &Object::Dict(wd));

    // The page with the widget added to its annotations (an indirect array is inlined).
    let mut annots = resolved_array(&doc, page.get(b"Annots"))?;
    annots.push(Object::Ref(widget));
    page.set(b"Annots", Object::Array(annots));
    put(&mut out, &mut offsets, page_ref, &Object::Dict(page));

    // The form: the new field appended, SigFlags SignaturesExist | AppendOnly.
    fields.push(Object::Ref(widget));
    acroform.set(b"Fields", Object::Array(fields));
    acroform.set(b"SigFlags", Object::Int(3));
    match acroform_ref {
        Some(r) => put(&mut out, &mut offsets, r, &Object::Dict(acroform)),
        None => {
            catalog.set(b"AcroForm", Object::Dict(acroform));
            put(&mut out, &mut offsets, root, &Object::Dict(catalog));
        }
    }

    // The cross-reference section, of the kind the file used last.
    let mut trailer = Dict::default();
    for key in [&b"Root"[..], b"Info", b"ID"] {
        if let Some(v) = doc.trailer.get(key) {
            trailer.set(key, v.clone());
        }
    }
    trailer.set(b"Prev", Object::Int(doc.last_offset as i64));
    match doc.last_kind {
        XrefKind::Table => {
            trailer.set(b"Size", Object::Int(i64::from(next_num)));
            let xref_at = out.len();
            out.extend_from_slice(b"xref\n");
            offsets.sort();
            for run in runs(&offsets) {
                out.extend_from_slice(format!("{} {}\n", run[0].0.num, run.len()).as_bytes());
                for (r, off) in run {
                    out.extend_from_slice(format!("{off:010} {:05} n\r\n", r.gen).as_bytes());
                }
            }
            out.extend_from_slice(b"trailer\n");
            let mut t = Vec::new();
            write_dict(&mut t, &trailer);
            out.extend_from_slice(&t);
            out.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        }
        XrefKind::Stream => {
            let xref_ref = Ref {
                num: next_num,
                gen: 0,
            };
            next_num += 1;
            let xref_at = out.len();
            offsets.push((xref_ref, xref_at));
            offsets.sort();
            let wide = out.len() > u32::MAX as usize;
            let ow = if wide { 8 } else { 4 };
            let mut data = Vec::new();
            let mut index = Vec::new();
            for run in runs(&offsets) {
                index.push(Object::Int(i64::from(run[0].0.num)));
                index.push(Object::Int(run.len() as i64));
                for (r, off) in run {
                    data.push(1);
                    data.extend_from_slice(&(*off as u64).to_be_bytes()[8 - ow..]);
                    data.extend_from_slice(&r.gen.to_be_bytes());
                }
            }
            trailer.set(b"Type", Object::name("XRef"));
            trailer.set(b"Size", Object::Int(i64::from(next_num)));
            trailer.set(b"Index", Object::Array(index));
            trailer.set(
                b"W",
                Object::Array(vec![Object::Int(1), Object::Int(ow as i64), Object::Int(2)]),
            );
            trailer.set(b"Filter", Object::name("FlateDecode"));
            out.extend_from_slice(format!("{} 0 obj\n", xref_ref.num).as_bytes());
            write_object(
                &mut out,
                &Object::Stream(Stream {
                    dict: trailer,
                    data: deflate(&data),
                }),
            );
            out.extend_from_slice(format!("\nendobj\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
        }
    }

    // Patch /ByteRange in place: same length, padded with spaces inside the brackets.
    let byte_range = [0, contents_at, contents_end, out.len() - contents_end];
    let text = format!("[0 {} {} {}", byte_range[1], byte_range[2], byte_range[3]);
    let mut patch = text.into_bytes();
    patch.resize(BYTE_RANGE_PLACEHOLDER.len() - 1, b' ');
    patch.push(b']');
    out[br_at..br_at + patch.len()].copy_from_slice(&patch);

    Ok(Prepared {
        bytes: out,
        byte_range,
        capacity: spec.contents_capacity,
    })
}

/// Consecutive object numbers grouped into xref subsections (input sorted).
fn runs(offsets: &[(Ref, usize)]) -> Vec<&[(Ref, usize)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=offsets.len() {
        if i == offsets.len() || offsets[i].0.num != offsets[i - 1].0.num + 1 {
            out.push(&offsets[start..i]);
            start = i;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_pdf_form() {
        let t = time::macros::datetime!(2025-03-01 09:05:07 +08:00);
        assert_eq!(pdf_date(t), "D:20250301090507+08'00'");
        let t = time::macros::datetime!(2025-03-01 09:05:07 UTC);
        assert_eq!(pdf_date(t), "D:20250301090507Z");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(100.0), "100");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(-0.0001), "0");
    }
}
