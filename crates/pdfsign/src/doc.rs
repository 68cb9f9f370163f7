//! A read-only view of a PDF: the cross-reference chain (classic tables, xref streams,
//! hybrid files), object lookup including compressed objects in object streams, and the
//! page tree.
//!
//! Invariants: the view is of exactly the bytes given, so a view of a prefix ending at a
//! revision's `%%EOF` is that revision as its signer saw it; the newest section of the
//! /Prev chain wins for each object number; loops in /Prev, in references and in the page
//! tree are cut, never followed forever; nothing here panics on hostile input.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::rc::Rc;

use crate::error::{bad_object, PdfError};
use crate::object::{find, rfind, Dict, Lexer, Object, Ref, Stream, MAX_DEPTH};

/// The kind of a cross-reference section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefKind {
    /// A classic `xref` table with a `trailer` dictionary.
    Table,
    /// A cross-reference stream (PDF 1.5).
    Stream,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry {
    Free,
    Offset(usize),
    Compressed { stream: u32, index: usize },
}

/// One cross-reference section as found in the file (newest last once parsed).
#[derive(Debug)]
pub(crate) struct Section {
    /// The end of the revision this section closes: just past its `%%EOF` line.
    pub end: Option<usize>,
}

pub(crate) struct Doc<'a> {
    pub bytes: &'a [u8],
    pub xref: HashMap<u32, Entry>,
    pub trailer: Dict,
    pub last_kind: XrefKind,
    pub last_offset: usize,
    pub sections: Vec<Section>,
    objstm: RefCell<HashMap<u32, Rc<HashMap<u32, Object>>>>,
}

impl<'a> Doc<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PdfError> {
        if find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_none() {
            return Err(PdfError::NotAPdf("no %PDF- header".into()));
        }
        let tail_start = bytes.len().saturating_sub(2048);
        let tail = &bytes[tail_start..];
        let Some(sx) = rfind(tail, b"startxref") else {
            return Err(PdfError::Truncated("no startxref at the end".into()));
        };
        if rfind(&tail[sx..], b"%%EOF").is_none() {
            return Err(PdfError::Truncated("no %%EOF after startxref".into()));
        }
        let mut lx = Lexer::new(bytes, tail_start + sx + 9);
        let start = lx
            .unsigned()
            .ok_or_else(|| PdfError::BadXref("startxref without an offset".into()))?
            as usize;
        if start >= bytes.len() {
            return Err(PdfError::Truncated(format!(
                "startxref {start} lies beyond the end of the file"
            )));
        }
        let mut doc = Doc {
            bytes,
            xref: HashMap::new(),
            trailer: Dict::default(),
            last_kind: XrefKind::Table,
            last_offset: start,
            sections: Vec::new(),
            objstm: RefCell::new(HashMap::new()),
        };
        let mut next = Some(start);
        let mut seen = HashSet::new();
        let mut first = true;
        while let Some(off) = next {
            if !seen.insert(off) || seen.len() > 10_000 {
                return Err(PdfError::BadXref("the /Prev chain loops".into()));
            }
            if off >= bytes.len() {
                return Err(PdfError::BadXref(format!("/Prev {off} beyond the file")));
            }
            let (kind, trailer, entries, end) = doc.read_section(off)?;
            if trailer.get(b"Encrypt").is_some() {
                return Err(PdfError::Encrypted);
            }
            // Hybrid files: the table's XRefStm adds compressed objects to the same section.
            let mut entries = entries;
            if let Some(xs) = trailer.get(b"XRefStm").and_then(Object::as_int) {
                if let Ok((_, _, extra, _)) = doc.read_section(xs as usize) {
                    for (num, e) in extra {
                        let slot = entries.entry(num).or_insert(Entry::Free);
                        if matches!(slot, Entry::Free) {
                            *slot = e;
                        }
                    }
                }
            }
            for (num, e) in entries {
                doc.xref.entry(num).or_insert(e);
            }
            next = trailer
                .get(b"Prev")
                .and_then(Object::as_int)
                .map(|p| p.max(0) as usize);
            if first {
                doc.trailer = trailer;
                doc.last_kind = kind;
                first = false;
            }
            let eof = find(&bytes[end.min(bytes.len())..], b"%%EOF").map(|i| {
                let mut e = end + i + 5;
                if bytes.get(e) == Some(&b'\r') {
                    e += 1;
                }
                if bytes.get(e) == Some(&b'\n') {
                    e += 1;
                }
                e
            });
            doc.sections.push(Section { end: eof });
        }
        doc.sections.reverse();
        if doc.trailer.get(b"Root").is_none() {
            return Err(PdfError::BadXref("the trailer has no /Root".into()));
        }
        Ok(doc)
    }

    #[allow(clippy::type_complexity)]
    fn read_section(
        &self,
        off: usize,
    ) -> Result<(XrefKind, Dict, HashMap<u32, Entry>, usize), PdfError> {
        let mut lx = Lexer::new(self.bytes, off);
        lx.skip_ws();
        if self.bytes[lx.pos..].starts_with(b"xref") {
            lx.pos += 4;
            let mut entries = HashMap::new();
            loop {
                let save = lx.pos;
                let (Some(first), Some(count)) = (lx.unsigned(), lx.unsigned()) else {
                    lx.pos = save;
                    break;
                };
                lx.skip_ws();
                for k in 0..count {
                    let line = self
                        .bytes
                        .get(lx.pos..lx.pos + 18)
                        .ok_or_else(|| PdfError::Truncated("inside an xref table".into()))?;
                    let bad = || PdfError::BadXref(format!("bad xref entry at byte {}", lx.pos));
                    let field = |r: std::ops::Range<usize>| -> Option<u64> {
                        std::str::from_utf8(&line[r]).ok()?.trim().parse().ok()
                    };
                    let offset = field(0..10).ok_or_else(bad)?;
                    let kind = line[17];
                    let num = u32::try_from(first + k).map_err(|_| bad())?;
                    let e = match kind {
                        b'n' => Entry::Offset(offset as usize),
                        b'f' => Entry::Free,
                        _ => return Err(bad()),
                    };
                    entries.insert(num, e);
                    lx.pos += 18;
                    lx.skip_ws();
                }
            }
            lx.expect_keyword(b"trailer")
                .map_err(|_| PdfError::BadXref("no trailer after the xref table".into()))?;
            let trailer = match lx.object(0)? {
                Object::Dict(d) => d,
                _ => return Err(PdfError::BadXref("the trailer is not a dictionary".into())),
            };
            Ok((XrefKind::Table, trailer, entries, lx.pos))
        } else {
            let (_, obj) = lx
                .indirect(&|o| o.as_int().map(|i| i.max(0) as usize))
                .map_err(|e| PdfError::BadXref(format!("at startxref {off}: {e}")))?;
            let Object::Stream(s) = obj else {
                return Err(PdfError::BadXref(format!("no xref at byte {off}")));
            };
            if s.dict.name(b"Type") != Some(b"XRef") {
                return Err(PdfError::BadXref(format!("no xref stream at byte {off}")));
            }
            let entries = xref_stream_entries(&s)?;
            Ok((XrefKind::Stream, s.dict, entries, lx.pos))
        }
    }

    /// The object `r` as the newest section defines it (`Null` when free or absent).
    pub fn get(&self, r: Ref) -> Result<Object, PdfError> {
        match self.xref.get(&r.num) {
            None | Some(Entry::Free) => Ok(Object::Null),
            Some(Entry::Offset(off)) => {
                if *off >= self.bytes.len() {
                    return Err(PdfError::Truncated(format!(
                        "object {} at byte {off} lies beyond the end",
                        r.num
                    )));
                }
                let mut lx = Lexer::new(self.bytes, *off);
                let length = |o: &Object| -> Option<usize> {
                    match o {
                        Object::Int(i) => usize::try_from(*i).ok(),
                        Object::Ref(l) if *l != r => self
                            .get_direct_length(*l)
                            .and_then(|i| usize::try_from(i).ok()),
                        _ => None,
                    }
                };
                let (found, obj) = lx.indirect(&length)?;
                if found.num != r.num {
                    return Err(PdfError::BadXref(format!(
                        "xref says object {} is at byte {off}, found {}",
                        r.num, found.num
                    )));
                }
                Ok(obj)
            }
            Some(Entry::Compressed { stream, index }) => {
                let objs = self.object_stream(*stream)?;
                let _ = index;
                Ok(objs.get(&r.num).cloned().unwrap_or(Object::Null))
            }
        }
    }

    fn get_direct_length(&self, r: Ref) -> Option<i64> {
        match self.xref.get(&r.num)? {
            Entry::Offset(off) => {
                let mut lx = Lexer::new(self.bytes, *off);
                lx.unsigned()?;
                lx.unsigned()?;
                lx.expect_keyword(b"obj").ok()?;
                lx.object(0).ok()?.as_int()
            }
            _ => self.get(r).ok()?.as_int(),
        }
    }

    fn object_stream(&self, num: u32) -> Result<Rc<HashMap<u32, Object>>, PdfError> {
        if let Some(m) = self.objstm.borrow().get(&num) {
            return Ok(m.clone());
        }
        let Object::Stream(s) = self.get(Ref { num, gen: 0 })? else {
            return Err(bad_object(format!("object stream {num} is not a stream")));
        };
        let data = decode_stream(&s)?;
        let n = s.dict.get(b"N").and_then(Object::as_int).unwrap_or(0);
        let first = s.dict.get(b"First").and_then(Object::as_int).unwrap_or(0) as usize;
        let mut lx = Lexer::new(&data, 0);
        let mut map = HashMap::new();
        let mut headers = Vec::new();
        for _ in 0..n.clamp(0, 1_000_000) {
            let (Some(obj), Some(off)) = (lx.unsigned(), lx.unsigned()) else {
                return Err(bad_object(format!("bad header in object stream {num}")));
            };
            headers.push((obj as u32, off as usize));
        }
        for (obj, off) in headers {
            let Some(at) = first.checked_add(off).filter(|a| *a < data.len()) else {
                return Err(bad_object(format!("bad offset in object stream {num}")));
            };
            let mut lx = Lexer::new(&data, at);
            map.insert(obj, lx.object(0)?);
        }
        let rc = Rc::new(map);
        self.objstm.borrow_mut().insert(num, rc.clone());
        Ok(rc)
    }

    /// Follows references until a direct object (depth-limited).
    pub fn resolve(&self, o: &Object) -> Result<Object, PdfError> {
        let mut cur = o.clone();
        for _ in 0..MAX_DEPTH {
            match cur {
                Object::Ref(r) => cur = self.get(r)?,
                other => return Ok(other),
            }
        }
        Err(bad_object("reference chain too long"))
    }

    pub fn resolve_dict(&self, o: Option<&Object>) -> Result<Option<Dict>, PdfError> {
        match o {
            None => Ok(None),
            Some(o) => Ok(self.resolve(o)?.as_dict().cloned()),
        }
    }

    pub fn root_ref(&self) -> Result<Ref, PdfError> {
        match self.trailer.get(b"Root") {
            Some(Object::Ref(r)) => Ok(*r),
            _ => Err(PdfError::BadXref("/Root is not a reference".into())),
        }
    }

    pub fn catalog(&self) -> Result<Dict, PdfError> {
        self.resolve_dict(Some(&Object::Ref(self.root_ref()?)))?
            .ok_or_else(|| bad_object("the catalog is not a dictionary"))
    }

    /// The leaf pages, in order, as references.
    pub fn pages(&self) -> Result<Vec<Ref>, PdfError> {
        let cat = self.catalog()?;
        let Some(Object::Ref(root)) = cat.get(b"Pages") else {
            return Err(bad_object("the catalog's /Pages is not a reference"));
        };
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.walk_pages(*root, &mut out, &mut seen, 0)?;
        Ok(out)
    }

    fn walk_pages(
        &self,
        node: Ref,
        out: &mut Vec<Ref>,
        seen: &mut HashSet<Ref>,
        depth: usize,
    ) -> Result<(), PdfError> {
        if depth > MAX_DEPTH || !seen.insert(node) {
            return Err(bad_object("the page tree loops or is too deep"));
        }
        let obj = self.get(node)?;
        let Some(d) = obj.as_dict() else {
            return Err(bad_object(format!(
                "page tree node {} is not a dictionary",
                node.num
            )));
        };
        match d.get(b"Kids") {
            Some(kids) if d.name(b"Type") != Some(b"Page") => {
                let Object::Array(kids) = self.resolve(kids)? else {
                    return Err(bad_object("/Kids is not an array"));
                };
                for k in kids {
                    if let Object::Ref(r) = k {
                        self.walk_pages(r, out, seen, depth + 1)?;
                    }
                }
            }
            _ => out.push(node),
        }
        Ok(())
    }
}

fn xref_stream_entries(s: &Stream) -> Result<HashMap<u32, Entry>, PdfError> {
    let data = decode_stream(s)?;
    let bad = |m: &str| PdfError::BadXref(m.to_string());
    let w: Vec<usize> = match s.dict.get(b"W") {
        Some(Object::Array(a)) => a
            .iter()
            .map(|o| {
                o.as_int()
                    .filter(|i| (0..=8).contains(i))
                    .map(|i| i as usize)
            })
            .collect::<Option<_>>()
            .ok_or_else(|| bad("bad /W"))?,
        _ => return Err(bad("xref stream without /W")),
    };
    if w.len() != 3 {
        return Err(bad("/W must have three widths"));
    }
    let size = s.dict.get(b"Size").and_then(Object::as_int).unwrap_or(0);
    let index: Vec<i64> = match s.dict.get(b"Index") {
        Some(Object::Array(a)) => a.iter().filter_map(Object::as_int).collect(),
        _ => vec![0, size],
    };
    let row = w.iter().sum::<usize>();
    if row == 0 {
        return Err(bad("empty xref rows"));
    }
    let mut rows = data.chunks_exact(row);
    let mut out = HashMap::new();
    for pair in index.chunks(2) {
        let [first, count] = pair else {
            return Err(bad("odd /Index"));
        };
        for k in 0..(*count).clamp(0, 10_000_000) {
            let Some(r) = rows.next() else {
                return Err(bad("xref stream shorter than its /Index"));
            };
            let field = |i: usize, default: u64| -> u64 {
                let start: usize = w[..i].iter().sum();
                if w[i] == 0 {
                    return default;
                }
                r[start..start + w[i]]
                    .iter()
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
            };
            let num = u32::try_from(first + k).map_err(|_| bad("object number too large"))?;
            let e = match field(0, 1) {
                0 => Entry::Free,
                1 => Entry::Offset(field(1, 0) as usize),
                2 => Entry::Compressed {
                    stream: field(1, 0) as u32,
                    index: field(2, 0) as usize,
                },
                _ => continue,
            };
            out.insert(num, e);
        }
    }
    Ok(out)
}

/// The decoded data of a stream: no filter, or FlateDecode with or without a PNG/TIFF
/// predictor (what xref and object streams use).
pub(crate) fn decode_stream(s: &Stream) -> Result<Vec<u8>, PdfError> {
    let filter = match s.dict.get(b"Filter") {
        None => None,
        Some(Object::Name(n)) => Some(n.clone()),
        Some(Object::Array(a)) if a.is_empty() => None,
        Some(Object::Array(a)) if a.len() == 1 => match &a[0] {
            Object::Name(n) => Some(n.clone()),
            _ => return Err(PdfError::UnsupportedFilter("bad /Filter".into())),
        },
        Some(_) => return Err(PdfError::UnsupportedFilter("filter chains".into())),
    };
    let Some(filter) = filter else {
        return Ok(s.data.clone());
    };
    if filter != b"FlateDecode" {
        return Err(PdfError::UnsupportedFilter(
            String::from_utf8_lossy(&filter).into_owned(),
        ));
    }
    let mut out = Vec::new();
    let mut z = flate2::read::ZlibDecoder::new(&s.data[..]).take(256 << 20);
    if z.read_to_end(&mut out).is_err() && out.is_empty() {
        return Err(bad_object("a stream does not inflate"));
    }
    let parms = match s.dict.get(b"DecodeParms") {
        Some(Object::Dict(d)) => Some(d.clone()),
        Some(Object::Array(a)) => a.first().and_then(|o| o.as_dict().cloned()),
        _ => None,
    };
    let Some(p) = parms else {
        return Ok(out);
    };
    let predictor = p.get(b"Predictor").and_then(Object::as_int).unwrap_or(1);
    if predictor < 10 {
        if predictor == 1 {
            return Ok(out);
        }
        return Err(PdfError::UnsupportedFilter(format!(
            "predictor {predictor}"
        )));
    }
    let colors = p
        .get(b"Colors")
        .and_then(Object::as_int)
        .unwrap_or(1)
        .clamp(1, 32) as usize;
    let bpc = p
        .get(b"BitsPerComponent")
        .and_then(Object::as_int)
        .unwrap_or(8)
        .clamp(1, 16) as usize;
    let columns = p
        .get(b"Columns")
        .and_then(Object::as_int)
        .unwrap_or(1)
        .clamp(1, 1 << 20) as usize;
    let bpp = (colors * bpc).div_ceil(8);
    let row = (colors * bpc * columns).div_ceil(8);
    let mut res = Vec::with_capacity(out.len());
    let mut prev = vec![0u8; row];
    for chunk in out.chunks(row + 1) {
        if chunk.len() < row + 1 {
            break;
        }
        let kind = chunk[0];
        let mut cur = chunk[1..].to_vec();
        for i in 0..row {
            let left = if i >= bpp { cur[i - bpp] } else { 0 };
            let up = prev[i];
            let ul = if i >= bpp { prev[i - bpp] } else { 0 };
            let add = match kind {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, ul),
                _ => return Err(bad_object("bad PNG predictor row")),
            };
            cur[i] = cur[i].wrapping_add(add);
        }
        res.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(res)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
