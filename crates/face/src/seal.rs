//! The issuer's round official seal (公章), drawn from its name: a red ring, a five-pointed
//! star in the middle and the name along the upper arc, each character upright towards the
//! rim, squeezed horizontally as on a real seal.
//!
//! A seal picture for electronic seals ([`seal_svg`], [`crate::seal_png`]) adds the seal
//! number written small along the lower arc, read left to right with each character's top
//! towards the centre, as numbered official seals carry it.
//!
//! Invariant: the drawing is pure vector in a 200×200 box; characters are `<text>` (so the
//! PDF keeps them as text) and are XML-escaped.

use std::f32::consts::PI;
use std::fmt::Write as _;

use crate::text::{char_width, escape};

/// Seal red.
const RED: &str = "#d7261e";

/// The issuer's seal as drawn on a face.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seal {
    /// Issuer name, written along the upper arc of the seal.
    pub name: String,
}

impl Seal {
    /// The seal as SVG elements in a 200×200 user space (centre 100,100).
    pub(crate) fn elements(&self) -> String {
        self.elements_with_number("")
    }

    /// The seal with `number` along the lower arc (nothing when it is empty).
    pub(crate) fn elements_with_number(&self, number: &str) -> String {
        let mut out = String::with_capacity(2048);
        let _ = write!(
            out,
            r#"<g opacity="0.9" fill="{RED}" stroke="none"><circle cx="100" cy="100" r="94" fill="none" stroke="{RED}" stroke-width="6"/><path d="{}"/>"#,
            star_path(100.0, 100.0, 34.0)
        );
        let chars: Vec<char> = self.name.chars().filter(|c| !c.is_whitespace()).collect();
        if !chars.is_empty() {
            // Angular step per character: a long name spreads over up to 250° (210° when
            // the number takes the bottom), a short one keeps 30° between characters,
            // centred on the top.
            let n = chars.len() as f32;
            let span = if number.trim().is_empty() {
                250.0
            } else {
                210.0
            };
            let step = (span / n).min(32.0);
            let radius = 68.0;
            // Character size: as wide as the arc allows (after the horizontal squeeze),
            // never taller than the ring leaves room for.
            let arc = radius * step * PI / 180.0;
            let size = (arc / 0.78).clamp(8.0, 34.0);
            let _ = write!(
                out,
                r#"<g font-size="{size:.2}" text-anchor="middle" stroke="{RED}" stroke-width="{:.2}">"#,
                size * 0.06
            );
            for (i, c) in chars.iter().enumerate() {
                let angle = (i as f32 - (n - 1.0) / 2.0) * step;
                let rad = angle * PI / 180.0;
                let x = 100.0 + radius * rad.sin();
                let y = 100.0 - radius * rad.cos();
                // A half-width character is narrower: do not squeeze it further.
                let squeeze = if char_width(*c) == 2 { 0.78 } else { 1.0 };
                let mut buf = [0u8; 4];
                let _ = write!(
                    out,
                    r#"<text transform="translate({x:.2} {y:.2}) rotate({angle:.2}) scale({squeeze} 1)" y="{:.2}">{}</text>"#,
                    size * 0.38,
                    escape(c.encode_utf8(&mut buf))
                );
            }
            out.push_str("</g>");
        }
        number_arc(&mut out, number);
        out.push_str("</g>");
        out
    }
}

/// The seal number along the lower arc inside the ring: small characters, centred on the
/// bottom, each rotated so its top faces the centre.
fn number_arc(out: &mut String, number: &str) {
    let chars: Vec<char> = number.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() {
        return;
    }
    let n = chars.len() as f32;
    // A 13- to 18-character number fits 100° at radius 80, clear of the name's ends.
    let radius = 80.0;
    let step = (100.0 / n).min(8.0);
    let arc = radius * step * PI / 180.0;
    let size = (arc * 1.5).clamp(5.0, 11.0);
    let _ = write!(out, r#"<g font-size="{size:.2}" text-anchor="middle">"#);
    for (i, c) in chars.iter().enumerate() {
        // Positive angles lie left of the bottom point; the first character is leftmost.
        let angle = ((n - 1.0) / 2.0 - i as f32) * step;
        let rad = angle * PI / 180.0;
        let x = 100.0 - radius * rad.sin();
        let y = 100.0 + radius * rad.cos();
        let mut buf = [0u8; 4];
        let _ = write!(
            out,
            r#"<text transform="translate({x:.2} {y:.2}) rotate({angle:.2})" y="{:.2}">{}</text>"#,
            size * 0.36,
            escape(c.encode_utf8(&mut buf))
        );
    }
    out.push_str("</g>");
}

/// A standalone seal picture: a 200×200 SVG document with the ring, the star, `name` along
/// the upper arc and `number` along the lower arc, on a transparent background; text is in
/// [`crate::FONT_FAMILY`].
pub fn seal_svg(name: &str, number: &str) -> String {
    let seal = Seal {
        name: name.to_owned(),
    };
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 200 200" font-family="{}">{}</svg>"#,
        crate::FONT_FAMILY,
        seal.elements_with_number(number)
    )
}

/// A five-pointed star with one point up, centred on `cx,cy`, outer radius `r`.
fn star_path(cx: f32, cy: f32, r: f32) -> String {
    let inner = r * 0.382;
    let mut d = String::with_capacity(160);
    for i in 0..10 {
        let rr = if i % 2 == 0 { r } else { inner };
        let a = (i as f32) * PI / 5.0;
        let x = cx + rr * a.sin();
        let y = cy - rr * a.cos();
        let _ = write!(d, "{}{x:.2} {y:.2}", if i == 0 { 'M' } else { 'L' });
    }
    d.push('Z');
    d
}
