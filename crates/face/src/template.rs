//! Face templates: checking an SVG template once and compiling it into segments that
//! [`crate::fill`] turns into a filled SVG without parsing XML again.
//!
//! Invariants of a compiled [`Template`]:
//! - the source is well-formed XML without a DTD, its root is `<svg>` in the SVG namespace
//!   with a `viewBox`, and it has no `<script>`, `<foreignObject>`, `on*` attribute or
//!   `href` other than a local `#id` or a `data:` URL;
//! - every `{{key}}` sits in text content or in an attribute value (placeholders in
//!   comments and processing instructions are left alone, in CDATA they are an error), and
//!   every `{{` there starts a well-formed placeholder;
//! - `data-wrap` elements are `<text>` holding text only; `data-slot` elements have numeric
//!   `x`, `y`, `width`, `height`; both are replaced whole when filling.

use std::collections::HashMap;

use usvg::roxmltree::{self, Node};

use crate::layers::Layers;
use crate::lexer::{collapse_whitespace, push_lit, snippet, split_placeholders, tag_len, Lexer};
use crate::FaceError;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// Largest template source accepted, in bytes.
pub(crate) const MAX_TEMPLATE_BYTES: usize = 2 * 1024 * 1024;

/// A checked, compiled template.
#[derive(Debug)]
pub(crate) struct Template {
    /// The whole template (for [`crate::Faces::svg`]).
    pub(crate) segs: Vec<Seg>,
    /// The same template as a fixed layer and a data layer, for rendering; `None` when the
    /// template cannot be split (see [`crate::layers`]).
    pub(crate) layers: Option<Layers>,
    /// Root `viewBox`: min-x, min-y, width, height.
    pub(crate) view_box: [f32; 4],
    /// The page size of the rendered PDF, points: the root's `width` and `height` (a
    /// viewBox user unit being a CSS pixel when they are missing or in pixels).
    pub(crate) page_pt: [f32; 2],
    /// Length of the source, a good first guess of the filled size.
    pub(crate) source_len: usize,
}

/// One piece of a compiled template.
#[derive(Debug)]
pub(crate) enum Seg {
    /// Source text copied as is.
    Lit(String),
    /// `{{key}}`: the value, XML-escaped; empty when the caller gave none.
    Field(String),
    /// A `<text data-wrap=..>` element.
    Wrap(Box<Wrap>),
    /// A `data-slot` element.
    Slot(Slot),
    /// Where the watermark goes: just before the root's end tag.
    Watermark,
}

/// A text element whose content is split into lines.
#[derive(Debug)]
pub(crate) struct Wrap {
    /// The start tag, with placeholders in its attribute values.
    pub(crate) start_tag: Vec<Seg>,
    /// The content: literal text (unescaped, whitespace collapsed) and fields.
    pub(crate) content: Vec<Piece>,
    pub(crate) end_tag: String,
    pub(crate) x: String,
    pub(crate) line_height: String,
    pub(crate) columns: usize,
    pub(crate) max_lines: Option<usize>,
}

/// Content of a wrapped text: literal text or a field value, both unescaped.
#[derive(Debug)]
pub(crate) enum Piece {
    Lit(String),
    Field(String),
}

/// A box that receives generated content.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) kind: SlotKind,
    pub(crate) x: f32,
    pub(crate) y: f32,
    pub(crate) width: f32,
    pub(crate) height: f32,
    /// Font size of the `items` slot.
    pub(crate) font_size: f32,
    /// Label colour of the `items` slot (`data-label-fill`).
    pub(crate) label_fill: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotKind {
    /// The QR code of `FaceInput::qr`.
    Qr,
    /// The issuer's seal.
    Seal,
    /// Every `FaceInput::items` entry as a label/value row.
    Items,
}

impl Template {
    /// Checks and compiles `source`; `name` is used in error messages.
    pub(crate) fn compile(name: &str, source: &str) -> Result<Template, FaceError> {
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(FaceError::template(
                name,
                format!("larger than {MAX_TEMPLATE_BYTES} bytes"),
            ));
        }
        let options = roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: 100_000,
        };
        let doc = roxmltree::Document::parse_with_options(source, options)
            .map_err(|e| FaceError::template(name, format!("not well-formed XML: {e}")))?;
        let c = Compiler { name, src: source };
        let root = doc.root_element();
        if root.tag_name().name() != "svg" || root.tag_name().namespace() != Some(SVG_NS) {
            return Err(c.err(
                root.range().start,
                "the root element must be <svg xmlns=\"http://www.w3.org/2000/svg\">",
            ));
        }
        let view_box = root
            .attribute("viewBox")
            .and_then(parse_view_box)
            .ok_or_else(|| {
                c.err(
                    root.range().start,
                    "the root <svg> needs a viewBox with a positive width and height",
                )
            })?;
        let mut specials = HashMap::new();
        for node in root.descendants().filter(Node::is_element) {
            c.check_safe(node)?;
            if let Some(kind) = node.attribute("data-slot") {
                specials.insert(
                    node.range().start,
                    (node, Special::Slot(c.slot(node, kind)?)),
                );
            } else if node.has_attribute("data-wrap") {
                specials.insert(node.range().start, (node, Special::Wrap));
            }
        }
        let root_range = root.range();
        let end_tag = source[..root_range.end]
            .rfind("</")
            .filter(|&p| {
                p > root_range.start
                    && !source[root_range.start..root_range.end]
                        .trim_end()
                        .ends_with("/>")
            })
            .ok_or_else(|| c.err(root_range.start, "the root <svg> is empty"))?;

        let lexer = Lexer {
            c: &c,
            specials: &specials,
            end_tag,
        };
        let segs = lexer.lex(&HashMap::new(), true)?;
        let layers = match crate::layers::split(root, &specials) {
            None => None,
            Some((fixed_skip, data_skip)) => {
                let fixed = lexer.lex(&fixed_skip, false)?;
                let data = lexer.lex(&data_skip, true)?;
                Layers::new(fixed, data)
            }
        };
        let page_pt = [
            length_pt(root.attribute("width"), view_box[2]),
            length_pt(root.attribute("height"), view_box[3]),
        ];
        Ok(Template {
            segs,
            layers,
            view_box,
            page_pt,
            source_len: source.len(),
        })
    }
}

#[derive(Debug)]
pub(crate) enum Special {
    Slot(Slot),
    Wrap,
}

/// Checks and compiles one template source; `name` is used in error messages.
pub(crate) struct Compiler<'a> {
    pub(crate) name: &'a str,
    pub(crate) src: &'a str,
}

impl Compiler<'_> {
    pub(crate) fn err(&self, pos: usize, reason: &str) -> FaceError {
        let before = &self.src[..pos.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.chars().count(), |p| before[p + 1..].chars().count())
            + 1;
        FaceError::template(self.name, format!("{reason} (line {line}, column {col})"))
    }

    fn check_safe(&self, node: Node) -> Result<(), FaceError> {
        let pos = node.range().start;
        if matches!(node.tag_name().name(), "script" | "foreignObject") {
            return Err(self.err(pos, "<script> and <foreignObject> are not allowed"));
        }
        for a in node.attributes() {
            if a.name().starts_with("on") {
                return Err(self.err(pos, "event handler attributes (on*) are not allowed"));
            }
            if a.name() == "href" {
                let v = a.value().trim_start();
                if !(v.starts_with('#') || v.starts_with("data:")) {
                    return Err(self.err(pos, "href must be a local #id or a data: URL"));
                }
            }
        }
        Ok(())
    }

    fn number(&self, node: Node, attr: &str) -> Result<f32, FaceError> {
        node.attribute(attr)
            .and_then(|v| v.trim().parse::<f32>().ok())
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                self.err(
                    node.range().start,
                    &format!("`{attr}` must be a number in user units"),
                )
            })
    }

    fn slot(&self, node: Node, kind: &str) -> Result<Slot, FaceError> {
        let kind = match kind {
            "qr" => SlotKind::Qr,
            "seal" => SlotKind::Seal,
            "items" => SlotKind::Items,
            _ => return Err(self.err(node.range().start, "data-slot must be qr, seal or items")),
        };
        let (width, height) = (self.number(node, "width")?, self.number(node, "height")?);
        if width <= 0.0 || height <= 0.0 {
            return Err(self.err(
                node.range().start,
                "a slot needs a positive width and height",
            ));
        }
        let font_size = if node.has_attribute("font-size") {
            self.number(node, "font-size")?
        } else {
            24.0
        };
        let label_fill = node
            .attribute("data-label-fill")
            .unwrap_or("#5b4636")
            .trim()
            .to_owned();
        if label_fill.is_empty()
            || !label_fill
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"#(),.% ".contains(&b))
        {
            return Err(self.err(
                node.range().start,
                "data-label-fill must be a colour such as #5b4636",
            ));
        }
        Ok(Slot {
            kind,
            x: self.number(node, "x")?,
            y: self.number(node, "y")?,
            width,
            height,
            font_size,
            label_fill,
        })
    }

    pub(crate) fn wrap(&self, node: Node) -> Result<Seg, FaceError> {
        let pos = node.range().start;
        if node.tag_name().name() != "text" {
            return Err(self.err(pos, "data-wrap belongs on a <text> element"));
        }
        if node.children().any(|n| n.is_element()) {
            return Err(self.err(pos, "a data-wrap <text> must hold text only"));
        }
        let columns = node
            .attribute("data-wrap")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| (2..=1000).contains(n))
            .ok_or_else(|| self.err(pos, "data-wrap must be a column count from 2 to 1000"))?;
        let max_lines = match node.attribute("data-max-lines") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| self.err(pos, "data-max-lines must be a positive integer"))?,
            ),
        };
        let line_height = node
            .attribute("data-line-height")
            .unwrap_or("1.4em")
            .trim()
            .to_owned();
        if !is_length(&line_height) {
            return Err(self.err(pos, "data-line-height must be a length such as 1.4em or 30"));
        }
        let x = match node.attribute("x") {
            None => "0".to_owned(),
            Some(v) => {
                self.number(node, "x")?;
                v.trim().to_owned()
            }
        };
        let range = node.range();
        let tag = &self.src[range.start..range.start + tag_len(&self.src[range.start..])];
        let qname: String = tag[1..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
            .collect();
        let mut start_tag = Vec::new();
        let self_closing = tag.ends_with("/>");
        let open = if self_closing {
            range.start..range.start + tag.len() - 2
        } else {
            range.start..range.start + tag.len() - 1
        };
        self.zones(open, true, &mut start_tag)?;
        push_lit(&mut start_tag, ">");
        let text: String = node.children().filter_map(|n| n.text()).collect();
        let mut content = Vec::new();
        for (lit, key) in split_placeholders(&text).map_err(|off| {
            self.err(
                pos,
                &format!("malformed placeholder near `{}`", snippet(&text, off)),
            )
        })? {
            let lit = collapse_whitespace(lit);
            if !lit.is_empty() {
                content.push(Piece::Lit(lit));
            }
            if let Some(key) = key {
                content.push(Piece::Field(key.to_owned()));
            }
        }
        // Literal text at the very start or end of the content is trimmed like XML does.
        if let Some(Piece::Lit(l)) = content.first_mut() {
            *l = l.trim_start().to_owned();
        }
        if let Some(Piece::Lit(l)) = content.last_mut() {
            *l = l.trim_end().to_owned();
        }
        Ok(Seg::Wrap(Box::new(Wrap {
            start_tag,
            content,
            end_tag: format!("</{qname}>"),
            x,
            line_height,
            columns,
            max_lines,
        })))
    }
}

fn is_length(v: &str) -> bool {
    let num = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &v[num.len()..];
    matches!(
        unit,
        "" | "em" | "ex" | "px" | "mm" | "cm" | "in" | "pt" | "pc"
    ) && num.parse::<f32>().is_ok_and(|n| n.is_finite() && n > 0.0)
}

/// A root `width`/`height` in PDF points (72 per inch, a CSS pixel is 0.75 pt); `user` (the
/// viewBox length, in CSS pixels) when absent or not understood, as renderers do.
fn length_pt(v: Option<&str>, user: f32) -> f32 {
    let Some(v) = v.map(str::trim) else {
        return user * 0.75;
    };
    let split = v
        .find(|c: char| c.is_ascii_alphabetic() || c == '%')
        .unwrap_or(v.len());
    let Ok(n) = v[..split].trim().parse::<f32>() else {
        return user * 0.75;
    };
    match &v[split..] {
        "mm" => n * 72.0 / 25.4,
        "cm" => n * 72.0 / 2.54,
        "in" => n * 72.0,
        "pt" => n,
        "pc" => n * 12.0,
        "" | "px" => n * 0.75,
        _ => user * 0.75,
    }
}

fn parse_view_box(v: &str) -> Option<[f32; 4]> {
    let n: Vec<f32> = v
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect::<Option<_>>()?;
    match n[..] {
        [x, y, w, h] if w > 0.0 && h > 0.0 && [x, y, w, h].iter().all(|v| v.is_finite()) => {
            Some([x, y, w, h])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert!(is_length("1.4em") && is_length("30") && is_length("12px"));
        assert!(!is_length("em") && !is_length("-1") && !is_length("1e"));
    }
}
