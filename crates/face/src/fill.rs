//! Filling a compiled template with one license's data.
//!
//! Invariants: every value reaches the output through [`escape_into`]; a key the caller did
//! not give renders as empty text; slots are replaced by nested `<svg>` boxes sized to the
//! slot, so generated content never leaks outside its box except the seal's ink.

use std::fmt::Write as _;

use crate::qr::{self, Modules, SLOT_EC_LEVEL, SLOT_QUIET_ZONE};
use crate::template::{Piece, Seg, Slot, SlotKind, Template, Wrap};
use crate::text::{display_width, escape, escape_into, wrap};
use crate::{FaceError, FaceInput};

/// Watermark red.
const WATERMARK_FILL: &str = "#d40000";

struct Ctx<'a> {
    input: &'a FaceInput,
    qr: Modules,
    view_box: [f32; 4],
}

impl Ctx<'_> {
    fn field(&self, key: &str) -> &str {
        self.input.fields.get(key).map_or("", String::as_str)
    }
}

/// The filled SVG of `template` for `input`.
pub(crate) fn fill(template: &Template, input: &FaceInput) -> Result<String, FaceError> {
    fill_with(template, &template.segs, input)
}

/// `segs` (the whole of `template` or its data layer) filled for `input`.
pub(crate) fn fill_with(
    template: &Template,
    segs: &[Seg],
    input: &FaceInput,
) -> Result<String, FaceError> {
    let ctx = Ctx {
        input,
        qr: qr::encode(&input.qr, SLOT_EC_LEVEL)?,
        view_box: template.view_box,
    };
    let mut out = String::with_capacity(template.source_len + 8 * 1024);
    fill_segs(segs, &ctx, &mut out);
    Ok(out)
}

fn fill_segs(segs: &[Seg], ctx: &Ctx, out: &mut String) {
    for seg in segs {
        match seg {
            Seg::Lit(s) => out.push_str(s),
            Seg::Field(key) => escape_into(out, ctx.field(key)),
            Seg::Wrap(w) => fill_wrap(w, ctx, out),
            Seg::Slot(slot) => fill_slot(slot, ctx, out),
            Seg::Watermark => watermark(ctx, out),
        }
    }
}

fn fill_wrap(w: &Wrap, ctx: &Ctx, out: &mut String) {
    fill_segs(&w.start_tag, ctx, out);
    let mut text = String::new();
    for piece in &w.content {
        match piece {
            Piece::Lit(s) => text.push_str(s),
            Piece::Field(key) => text.push_str(ctx.field(key)),
        }
    }
    if !text.trim().is_empty() {
        tspans(
            out,
            &w.x,
            &w.line_height,
            &wrap(&text, w.columns, w.max_lines),
        );
    }
    out.push_str(&w.end_tag);
}

/// One `<tspan>` per line, all starting at `x`, each a line height below the previous.
fn tspans(out: &mut String, x: &str, line_height: &str, lines: &[String]) {
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            let _ = write!(out, r#"<tspan x="{x}">"#);
        } else {
            let _ = write!(out, r#"<tspan x="{x}" dy="{line_height}">"#);
        }
        escape_into(out, line);
        out.push_str("</tspan>");
    }
}

fn fill_slot(slot: &Slot, ctx: &Ctx, out: &mut String) {
    let Slot {
        x,
        y,
        width,
        height,
        ..
    } = *slot;
    match slot.kind {
        SlotKind::Qr => {
            let side = ctx.qr.side(SLOT_QUIET_ZONE);
            let _ = write!(
                out,
                r#"<svg x="{x}" y="{y}" width="{width}" height="{height}" viewBox="0 0 {side} {side}" shape-rendering="crispEdges">{}</svg>"#,
                ctx.qr.elements(SLOT_QUIET_ZONE)
            );
        }
        // A face that will carry the issuer's electronic seal has no drawn one: the seal's
        // own picture goes in this box (`Faces::seal_rect`).
        SlotKind::Seal if ctx.input.seal.name.is_empty() => {}
        SlotKind::Seal => {
            let _ = write!(
                out,
                r#"<svg x="{x}" y="{y}" width="{width}" height="{height}" viewBox="0 0 200 200" overflow="visible">{}</svg>"#,
                ctx.input.seal.elements()
            );
        }
        SlotKind::Items => items(slot, ctx, out),
    }
}

/// Every item as a row: the label in the first column (as wide as the longest label, at
/// most 40 % of the slot), the value wrapped in the rest. Rows that do not fit in the slot
/// are cut, the last kept value ending with `…`.
fn items(slot: &Slot, ctx: &Ctx, out: &mut String) {
    let fs = slot.font_size;
    let line = fs * 1.45;
    let gap = fs * 0.45;
    let longest = ctx
        .input
        .items
        .iter()
        .map(|(l, _)| display_width(l))
        .max()
        .unwrap_or(0) as f32;
    let label_w = (longest * fs / 2.0 + fs).min(slot.width * 0.4);
    let columns = (((slot.width - label_w) / (fs / 2.0)) as usize).max(2);
    let bottom = slot.y + slot.height;
    let value_x = slot.x + label_w;
    let _ = write!(out, r#"<g font-size="{fs}">"#);
    let mut top = slot.y;
    for (label, value) in &ctx.input.items {
        let room = ((bottom - top) / line).floor();
        if room < 1.0 {
            break;
        }
        let lines = wrap(value, columns, Some(room as usize));
        let baseline = top + fs;
        let _ = write!(
            out,
            r#"<text x="{}" y="{baseline}" fill="{}">{}</text>"#,
            slot.x,
            slot.label_fill,
            escape(label)
        );
        let _ = write!(out, r#"<text x="{value_x}" y="{baseline}">"#);
        tspans(out, &value_x.to_string(), &line.to_string(), &lines);
        out.push_str("</text>");
        let rule = top + lines.len() as f32 * line + gap * 0.5;
        let _ = write!(
            out,
            r##"<path d="M{} {rule}H{}" stroke="#d9cbbd" stroke-width="1" stroke-dasharray="3 3"/>"##,
            slot.x,
            slot.x + slot.width
        );
        top += lines.len() as f32 * line + gap;
    }
    out.push_str("</g>");
}

/// The watermark text, large, semi-transparent red, along the diagonal of the view box.
fn watermark(ctx: &Ctx, out: &mut String) {
    let Some(text) = ctx
        .input
        .watermark
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return;
    };
    let [vx, vy, vw, vh] = ctx.view_box;
    let (cx, cy) = (vx + vw / 2.0, vy + vh / 2.0);
    let diagonal = (vw * vw + vh * vh).sqrt();
    let columns = display_width(text).max(1) as f32;
    let size = (diagonal * 0.75 / (columns * 0.5)).min(vh * 0.16);
    let angle = -(vh / vw).atan().to_degrees();
    let _ = write!(
        out,
        r#"<text x="{cx:.1}" y="{:.1}" transform="rotate({angle:.2} {cx:.1} {cy:.1})" text-anchor="middle" font-size="{size:.1}" fill="{WATERMARK_FILL}" fill-opacity="0.28" stroke="{WATERMARK_FILL}" stroke-opacity="0.28" stroke-width="{:.1}" letter-spacing="{:.1}">"#,
        cy + size * 0.36,
        size * 0.02,
        size * 0.05
    );
    escape_into(out, text);
    out.push_str("</text>");
}
