//! PDF objects (ISO 32000-1 §7.3): the model, a parser over a byte slice and a serializer.
//!
//! Invariants: parsing never panics and never reads past the slice; every recursion is
//! bounded by [`MAX_DEPTH`]. Reals keep their source text so that a dictionary copied into
//! an incremental update says exactly what the original said. Strings are held decoded
//! (escapes and hex resolved) and always written back as hex strings, which need no escaping.

use crate::error::{bad_object, PdfError};

/// Nesting deeper than this is refused (arrays and dictionaries inside each other).
pub(crate) const MAX_DEPTH: usize = 64;

/// An indirect reference `num gen R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Ref {
    pub num: u32,
    pub gen: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Object {
    Null,
    Bool(bool),
    Int(i64),
    /// The real's source text (e.g. `595.28`).
    Real(String),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Array(Vec<Object>),
    Dict(Dict),
    Ref(Ref),
    Stream(Stream),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Dict(pub Vec<(Vec<u8>, Object)>);

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stream {
    pub dict: Dict,
    /// The raw (still encoded) data.
    pub data: Vec<u8>,
}

impl Dict {
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn set(&mut self, key: &[u8], value: Object) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_vec(), value)),
        }
    }
    pub fn remove(&mut self, key: &[u8]) {
        self.0.retain(|(k, _)| k != key);
    }
    pub fn name(&self, key: &[u8]) -> Option<&[u8]> {
        match self.get(key) {
            Some(Object::Name(n)) => Some(n),
            _ => None,
        }
    }
}

impl Object {
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Object::Int(i) => Some(*i as f64),
            Object::Real(r) => r.parse().ok(),
            _ => None,
        }
    }
    pub fn name(n: &str) -> Object {
        Object::Name(n.as_bytes().to_vec())
    }
}

pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

pub(crate) fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

/// A cursor over PDF bytes.
pub(crate) struct Lexer<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(buf: &'a [u8], pos: usize) -> Self {
        Lexer { buf, pos }
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A run of regular characters (a keyword or a number), after whitespace.
    pub fn token(&mut self) -> &'a [u8] {
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(is_regular) {
            self.pos += 1;
        }
        &self.buf[start..self.pos]
    }

    pub fn expect_keyword(&mut self, kw: &[u8]) -> Result<(), PdfError> {
        let at = self.pos;
        let t = self.token();
        if t == kw {
            Ok(())
        } else {
            Err(bad_object(format!(
                "expected `{}` at byte {at}",
                String::from_utf8_lossy(kw)
            )))
        }
    }

    pub fn unsigned(&mut self) -> Option<u64> {
        let save = self.pos;
        let t = self.token();
        if t.is_empty() || t.len() > 19 || !t.iter().all(u8::is_ascii_digit) {
            self.pos = save;
            return None;
        }
        std::str::from_utf8(t).ok()?.parse().ok()
    }

    /// Reads `num gen obj` and the object after it; a stream's data is located with
    /// `length` (which resolves an indirect /Length) or, failing that, by `endstream`.
    pub fn indirect(
        &mut self,
        length: &dyn Fn(&Object) -> Option<usize>,
    ) -> Result<(Ref, Object), PdfError> {
        let at = self.pos;
        let num = self.unsigned();
        let gen = self.unsigned();
        let (Some(num), Some(gen)) = (num, gen) else {
            return Err(bad_object(format!("no object header at byte {at}")));
        };
        self.expect_keyword(b"obj")?;
        let r = Ref {
            num: u32::try_from(num).map_err(|_| bad_object("object number too large"))?,
            gen: u16::try_from(gen).map_err(|_| bad_object("generation too large"))?,
        };
        let obj = self.object(0)?;
        let save = self.pos;
        if let Object::Dict(dict) = &obj {
            if self.token() == b"stream" {
                // The keyword is followed by CRLF or LF (a lone CR is tolerated).
                if self.buf.get(self.pos) == Some(&b'\r') {
                    self.pos += 1;
                }
                if self.buf.get(self.pos) == Some(&b'\n') {
                    self.pos += 1;
                }
                let start = self.pos;
                let declared = dict.get(b"Length").and_then(length);
                let end = match declared {
                    Some(n) if self.length_fits(start, n) => start + n,
                    _ => self.find_endstream(start)?,
                };
                self.pos = end;
                self.skip_ws();
                if self.buf[self.pos..].starts_with(b"endstream") {
                    self.pos += 9;
                }
                return Ok((
                    r,
                    Object::Stream(Stream {
                        dict: dict.clone(),
                        data: self.buf[start..end].to_vec(),
                    }),
                ));
            }
        }
        self.pos = save;
        Ok((r, obj))
    }

    fn length_fits(&self, start: usize, n: usize) -> bool {
        let Some(end) = start.checked_add(n) else {
            return false;
        };
        if end > self.buf.len() {
            return false;
        }
        let mut l = Lexer::new(self.buf, end);
        l.skip_ws();
        self.buf[l.pos..].starts_with(b"endstream")
    }

    fn find_endstream(&self, start: usize) -> Result<usize, PdfError> {
        let rest = &self.buf[start..];
        let i = find(rest, b"endstream").ok_or_else(|| bad_object("stream without endstream"))?;
        let mut end = start + i;
        // The EOL before `endstream` is not part of the data.
        if end > start && self.buf[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        Ok(end)
    }

    pub fn object(&mut self, depth: usize) -> Result<Object, PdfError> {
        if depth > MAX_DEPTH {
            return Err(bad_object("objects nested too deeply"));
        }
        self.skip_ws();
        let at = self.pos;
        let Some(b) = self.peek() else {
            return Err(bad_object("unexpected end of data"));
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.name_body()))
            }
            b'(' => self.literal_string(),
            b'<' if self.buf.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut dict = Dict::default();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'>') if self.buf.get(self.pos + 1) == Some(&b'>') => {
                            self.pos += 2;
                            return Ok(Object::Dict(dict));
                        }
                        Some(b'/') => {
                            self.pos += 1;
                            let key = self.name_body();
                            let value = self.object(depth + 1)?;
                            // A null value is the same as an absent key (§7.3.7).
                            if value != Object::Null {
                                dict.set(&key, value);
                            }
                        }
                        _ => return Err(bad_object(format!("bad dictionary at byte {at}"))),
                    }
                }
            }
            b'<' => self.hex_string(),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        None => return Err(bad_object("unterminated array")),
                        _ => items.push(self.object(depth + 1)?),
                    }
                }
            }
            _ => {
                let t = self.token();
                match t {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    _ => self.number(t, at),
                }
            }
        }
    }

    fn number(&mut self, t: &[u8], at: usize) -> Result<Object, PdfError> {
        let bad = || bad_object(format!("unexpected token at byte {at}"));
        let s = std::str::from_utf8(t).map_err(|_| bad())?;
        if s.is_empty() {
            return Err(bad());
        }
        if let Ok(i) = s.parse::<i64>() {
            // `num gen R`?
            if i >= 0 && !s.starts_with('+') {
                let save = self.pos;
                if let Some(gen) = self.unsigned() {
                    if self.token() == b"R" {
                        if let (Ok(num), Ok(gen)) = (u32::try_from(i), u16::try_from(gen)) {
                            return Ok(Object::Ref(Ref { num, gen }));
                        }
                    }
                }
                self.pos = save;
            }
            return Ok(Object::Int(i));
        }
        let valid = s
            .bytes()
            .enumerate()
            .all(|(k, c)| c.is_ascii_digit() || c == b'.' || (k == 0 && (c == b'-' || c == b'+')));
        if valid && s.bytes().any(|c| c.is_ascii_digit()) {
            Ok(Object::Real(s.to_string()))
        } else {
            Err(bad())
        }
    }

    fn name_body(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = self.peek().filter(|b| is_regular(*b)) {
            self.pos += 1;
            if b == b'#' {
                let hex = self.buf.get(self.pos..self.pos + 2);
                if let Some(v) =
                    hex.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
                {
                    out.push(v);
                    self.pos += 2;
                    continue;
                }
            }
            out.push(b);
        }
        out
    }

    fn hex_string(&mut self) -> Result<Object, PdfError> {
        self.pos += 1;
        let mut digits = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(bad_object("unterminated hex string"));
            };
            self.pos += 1;
            match b {
                b'>' => break,
                b if b.is_ascii_hexdigit() => digits.push(hex_value(b)),
                b if is_whitespace(b) => {}
                _ => return Err(bad_object("bad character in hex string")),
            }
        }
        if digits.len() % 2 == 1 {
            digits.push(0);
        }
        Ok(Object::Str(
            digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect(),
        ))
    }

    fn literal_string(&mut self) -> Result<Object, PdfError> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut nesting = 0usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(bad_object("unterminated string"));
            };
            self.pos += 1;
            match b {
                b'(' => {
                    nesting += 1;
                    out.push(b);
                }
                b')' if nesting == 0 => break,
                b')' => {
                    nesting -= 1;
                    out.push(b);
                }
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(bad_object("unterminated string"));
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        other => out.push(other),
                    }
                }
                b'\r' => {
                    // An end of line inside a string reads as a single LF (§7.3.4.2).
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
        Ok(Object::Str(out))
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Writes `obj` in PDF syntax. Streams are written with their dictionary's /Length set to
/// the data's length.
pub(crate) fn write_object(out: &mut Vec<u8>, obj: &Object) {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(r.as_bytes()),
        Object::Name(n) => write_name(out, n),
        Object::Str(s) => write_hex_string(out, s),
        Object::Array(items) => {
            out.push(b'[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dict(d) => write_dict(out, d),
        Object::Ref(r) => out.extend_from_slice(format!("{} {} R", r.num, r.gen).as_bytes()),
        Object::Stream(s) => {
            let mut dict = s.dict.clone();
            dict.set(b"Length", Object::Int(s.data.len() as i64));
            write_dict(out, &dict);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.data);
            out.extend_from_slice(b"\nendstream");
        }
    }
}

pub(crate) fn write_dict(out: &mut Vec<u8>, d: &Dict) {
    out.extend_from_slice(b"<<");
    for (k, v) in &d.0 {
        write_name(out, k);
        out.push(b' ');
        write_object(out, v);
    }
    out.extend_from_slice(b">>");
}

fn write_name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &b in n {
        if b > b' ' && b < 0x7f && is_regular(b) && b != b'#' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

pub(crate) fn write_hex_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'<');
    for b in s {
        out.extend_from_slice(format!("{b:02X}").as_bytes());
    }
    out.push(b'>');
}

/// A PDF text string (§7.9.2.2): ASCII stays as it is, anything else is UTF-16BE with a BOM.
pub(crate) fn text_string(s: &str) -> Object {
    if s.is_ascii() {
        Object::Str(s.as_bytes().to_vec())
    } else {
        let mut v = vec![0xFE, 0xFF];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        Object::Str(v)
    }
}

/// Decodes a PDF text string: UTF-16BE with a BOM, UTF-8 with a BOM, else bytes as Latin-1
/// (close enough to PDFDocEncoding for names and reasons).
pub(crate) fn decode_text(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        b.iter().map(|&c| c as char).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Object {
        Lexer::new(s, 0).object(0).unwrap()
    }

    #[test]
    fn parses_the_kinds_of_objects() {
        let o = parse(b"<< /A 1 0 R /B [1 -2 3.5 (a\\(b\\)\\101) <41 42>] /C#20d /x /N null >>");
        let d = o.as_dict().unwrap();
        assert_eq!(d.get(b"A"), Some(&Object::Ref(Ref { num: 1, gen: 0 })));
        assert_eq!(
            d.get(b"B"),
            Some(&Object::Array(vec![
                Object::Int(1),
                Object::Int(-2),
                Object::Real("3.5".into()),
                Object::Str(b"a(b)A".to_vec()),
                Object::Str(b"AB".to_vec()),
            ]))
        );
        assert_eq!(d.get(b"C d"), Some(&Object::Name(b"x".to_vec())));
        assert_eq!(d.get(b"N"), None);
    }

    #[test]
    fn round_trips_through_the_writer() {
        let o = parse(b"<</Type/Page/MediaBox[0 0 595.28 841.89]/T(\xfe\xff\x4e\x2d)/K 3 0 R>>");
        let mut out = Vec::new();
        write_object(&mut out, &o);
        assert_eq!(parse(&out), o);
    }

    #[test]
    fn deep_nesting_and_garbage_are_errors_not_panics() {
        let deep = vec![b'['; 10_000];
        assert!(Lexer::new(&deep, 0).object(0).is_err());
        for junk in [
            &b"<<"[..],
            b"(",
            b"<4",
            b"]",
            b"/",
            b"<< /A",
            b"1 0",
            b"\xff",
        ] {
            let _ = Lexer::new(junk, 0).object(0);
        }
    }

    #[test]
    fn text_strings_round_trip() {
        for s in ["Reason", "北京市市场监督管理局"] {
            let Object::Str(b) = text_string(s) else {
                panic!()
            };
            assert_eq!(decode_text(&b), s);
        }
    }
}
