//! Lexing a checked template source into segments: literal text, `{{key}}` fields (only in
//! text content and attribute values), and the special elements compiled by
//! [`crate::template`].
//!
//! Invariant: the source was parsed by roxmltree first, so quotes, comments, CDATA and
//! tags are balanced and the scanner only has to find their ends.

use std::collections::HashMap;
use std::ops::Range;

use usvg::roxmltree::Node;

use crate::template::{Compiler, Seg, Special};
use crate::FaceError;

/// Walks the source, skipping the elements that start at a key of `skip` (to the value).
pub(crate) struct Lexer<'c, 'a, 'input> {
    pub(crate) c: &'c Compiler<'c>,
    pub(crate) specials: &'c HashMap<usize, (Node<'a, 'input>, Special)>,
    /// Start of the root's end tag.
    pub(crate) end_tag: usize,
}

impl Lexer<'_, '_, '_> {
    pub(crate) fn lex(
        &self,
        skip: &HashMap<usize, usize>,
        watermark: bool,
    ) -> Result<Vec<Seg>, FaceError> {
        let (c, source) = (self.c, self.c.src);
        let mut segs = Vec::new();
        let mut i = 0;
        while i < source.len() {
            if i == self.end_tag {
                if watermark {
                    segs.push(Seg::Watermark);
                }
                push_lit(&mut segs, &source[i..]);
                break;
            }
            if let Some(end) = skip.get(&i) {
                i = *end;
                continue;
            }
            if let Some((node, special)) = self.specials.get(&i) {
                match special {
                    Special::Slot(slot) => segs.push(Seg::Slot(slot.clone())),
                    Special::Wrap => segs.push(c.wrap(*node)?),
                }
                i = node.range().end;
                continue;
            }
            let rest = &source[i..];
            let end = if rest.starts_with("<!--") {
                let end = i + find(rest, "-->") + 3;
                push_lit(&mut segs, &source[i..end]);
                end
            } else if rest.starts_with("<![CDATA[") {
                let end = i + find(rest, "]]>") + 3;
                if source[i..end].contains("{{") {
                    return Err(c.err(i, "placeholders are not allowed in CDATA sections"));
                }
                push_lit(&mut segs, &source[i..end]);
                end
            } else if rest.starts_with("<?") || rest.starts_with("<!") {
                let end = i + find(rest, ">") + 1;
                push_lit(&mut segs, &source[i..end]);
                end
            } else if rest.starts_with('<') {
                let end = i + tag_len(rest);
                c.zones(i..end, true, &mut segs)?;
                end
            } else {
                let end = rest.find('<').map_or(source.len(), |p| i + p);
                c.zones(i..end, false, &mut segs)?;
                end
            };
            i = end;
        }
        Ok(segs)
    }
}

impl Compiler<'_> {
    /// Splits `range` of the source into literals and fields. In a tag (`in_tag`), only the
    /// quoted attribute values are searched for placeholders.
    pub(crate) fn zones(
        &self,
        range: Range<usize>,
        in_tag: bool,
        segs: &mut Vec<Seg>,
    ) -> Result<(), FaceError> {
        let s = &self.src[range.clone()];
        if !in_tag {
            return self.placeholders(range.start, s, segs);
        }
        let bytes = s.as_bytes();
        let mut lit_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let q = bytes[i];
            if q == b'"' || q == b'\'' {
                let end = i + 1 + s[i + 1..].find(q as char).unwrap_or(s.len() - i - 1);
                push_lit(segs, &s[lit_start..=i]);
                self.placeholders(range.start + i + 1, &s[i + 1..end], segs)?;
                lit_start = end;
                i = end + 1;
            } else {
                i += 1;
            }
        }
        push_lit(segs, &s[lit_start..]);
        Ok(())
    }

    fn placeholders(&self, offset: usize, s: &str, segs: &mut Vec<Seg>) -> Result<(), FaceError> {
        let parts = split_placeholders(s).map_err(|off| {
            self.err(
                offset + off,
                &format!("malformed placeholder near `{}`", snippet(s, off)),
            )
        })?;
        for (lit, key) in parts {
            push_lit(segs, lit);
            if let Some(key) = key {
                segs.push(Seg::Field(key.to_owned()));
            }
        }
        Ok(())
    }
}

/// Splits `s` at `{{key}}` placeholders: (literal before, key). A `{{` that does not start
/// a well-formed placeholder is an error at its byte offset.
pub(crate) fn split_placeholders(s: &str) -> Result<Vec<(&str, Option<&str>)>, usize> {
    let mut out = Vec::new();
    let mut rest = s;
    let mut offset = 0;
    while let Some(p) = rest.find("{{") {
        let after = &rest[p + 2..];
        let close = after.find("}}").ok_or(offset + p)?;
        let key = after[..close].trim();
        if !is_key(key) {
            return Err(offset + p);
        }
        out.push((&rest[..p], Some(key)));
        let consumed = p + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    out.push((rest, None));
    Ok(out)
}

/// A field key: ASCII letters, digits, `_`, `-` and `.`, 1 to 100 characters.
fn is_key(key: &str) -> bool {
    (1..=100).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

pub(crate) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            space = true;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    if space {
        out.push(' ');
    }
    out
}

/// Length of the tag that starts `s` (up to and including its `>`), quotes respected.
pub(crate) fn tag_len(s: &str) -> usize {
    let mut quote = None;
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// Position of `pat` in `s`, or the end (the XML parser already checked it is there).
fn find(s: &str, pat: &str) -> usize {
    s.find(pat).unwrap_or(s.len().saturating_sub(pat.len()))
}

pub(crate) fn push_lit(segs: &mut Vec<Seg>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(Seg::Lit(last)) = segs.last_mut() {
        last.push_str(s);
    } else {
        segs.push(Seg::Lit(s.to_owned()));
    }
}

pub(crate) fn snippet(s: &str, off: usize) -> String {
    s[off..].chars().take(24).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_split() {
        let parts = split_placeholders("a{{x}}b{{ y.z }}").unwrap();
        assert_eq!(parts, [("a", Some("x")), ("b", Some("y.z")), ("", None)]);
        assert_eq!(split_placeholders("a{{x"), Err(1));
        assert_eq!(split_placeholders("{{a b}}"), Err(0));
        assert_eq!(split_placeholders("{{}}"), Err(0));
    }
}
