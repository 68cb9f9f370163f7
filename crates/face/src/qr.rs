//! QR codes as SVG: dark modules as one path of unit squares in module coordinates, on a
//! white background that includes the quiet zone. Error correction is level M for a
//! standalone code ([`qr_svg`], shown on screens and in wallets) and level L in a face's slot
//! ([`SLOT_EC_LEVEL`]): a face's code holds about 200 characters (the verification link and
//! the issuer's face token), and level L keeps its modules about as large as the level-M code
//! of the link alone was, so a face still reads at its printed size and in its PNG.
//!
//! Invariant: the output is pure vector (no raster), draws with `shape-rendering="crispEdges"`
//! so module edges stay sharp at any scale, and scales to its container (a `viewBox`, no
//! fixed size).

use std::fmt::Write as _;

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::types::QrError;
use qrcode::EcLevel;

use crate::FaceError;

/// Quiet zone of the standalone QR code, in modules (ISO/IEC 18004 asks for 4).
const QUIET_ZONE: usize = 4;

/// Quiet zone of a QR code placed in a face slot, in modules. Faces put the code on its own
/// white square; 2 modules keep it decodable (tested) while leaving room for the data.
pub(crate) const SLOT_QUIET_ZONE: usize = 2;

/// Error correction of a QR code placed in a face slot (see the module header).
pub(crate) const SLOT_EC_LEVEL: EcLevel = EcLevel::L;

/// Error correction of a standalone QR code.
const STANDALONE_EC_LEVEL: EcLevel = EcLevel::M;

/// The QR code modules: (width in modules, dark flags row by row).
pub(crate) struct Modules {
    width: usize,
    dark: Vec<bool>,
}

/// Encodes `data` (as bytes, error correction `ec`, smallest version).
///
/// Same code as `QrCode::with_error_correction_level`, but the mask is chosen with
/// [`penalty`], a direct implementation of the ISO/IEC 18004 rules that is an order of
/// magnitude faster than the crate's own scoring (which dominated a face's fill time).
pub(crate) fn encode(data: &str, ec: EcLevel) -> Result<Modules, FaceError> {
    let failed = |e: QrError| match e {
        QrError::DataTooLong => FaceError::QrTooLong { len: data.len() },
        other => FaceError::RenderFailed {
            stage: "qr",
            reason: other.to_string(),
        },
    };
    let bits = qrcode::bits::encode_auto(data.as_bytes(), ec).map_err(failed)?;
    let version = bits.version();
    let (codewords, ec_codewords) =
        qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec).map_err(failed)?;
    let mut canvas = Canvas::new(version, ec);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&codewords, &ec_codewords);
    let width = version.width() as usize;
    let dark = MASKS
        .iter()
        .map(|mask| {
            let mut masked = canvas.clone();
            masked.apply_mask(*mask);
            masked
                .into_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect::<Vec<bool>>()
        })
        .min_by_key(|dark| penalty(dark, width))
        .expect("eight masks");
    Ok(Modules { width, dark })
}

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// Mask penalty of a symbol (ISO/IEC 18004:2015 7.8.3): runs of five or more modules of
/// one colour, 2×2 blocks, finder-like 1:1:3:1:1 patterns with four light modules on a
/// side, and the distance of the dark proportion from 50 %.
fn penalty(dark: &[bool], width: usize) -> u32 {
    let mut score = 0;
    let mut line = vec![false; width];
    for transpose in [false, true] {
        for a in 0..width {
            for (b, cell) in line.iter_mut().enumerate() {
                *cell = if transpose {
                    dark[b * width + a]
                } else {
                    dark[a * width + b]
                };
            }
            score += line_penalty(&line);
        }
    }
    // N2: 2×2 blocks of one colour.
    for y in 0..width - 1 {
        let (row, next) = (
            &dark[y * width..(y + 1) * width],
            &dark[(y + 1) * width..(y + 2) * width],
        );
        for x in 0..width - 1 {
            let c = row[x];
            if row[x + 1] == c && next[x] == c && next[x + 1] == c {
                score += 3;
            }
        }
    }
    // N4: proportion of dark modules.
    let percent = dark.iter().filter(|d| **d).count() * 100 / dark.len();
    score + (percent.abs_diff(50) / 5) as u32 * 10
}

/// N1 and N3 of one row or column.
fn line_penalty(line: &[bool]) -> u32 {
    const FINDER: [bool; 7] = [true, false, true, true, true, false, true];
    let mut score = 0;
    let mut run = 1;
    for b in 1..line.len() {
        if line[b] == line[b - 1] {
            run += 1;
        } else {
            if run >= 5 {
                score += run - 2;
            }
            run = 1;
        }
    }
    if run >= 5 {
        score += run - 2;
    }
    // Outside the symbol counts as light.
    let light = |from: usize, to: usize| {
        line[from.min(line.len())..to.min(line.len())]
            .iter()
            .all(|d| !d)
    };
    for b in 0..line.len().saturating_sub(6) {
        if line[b..b + 7] == FINDER && (light(b.saturating_sub(4), b) || light(b + 7, b + 11)) {
            score += 40;
        }
    }
    score
}

impl Modules {
    /// Side of the code including a quiet zone of `quiet` modules on each side.
    pub(crate) fn side(&self, quiet: usize) -> usize {
        self.width + 2 * quiet
    }

    /// Path data of the dark modules, offset by `quiet`: one `M x y h n v1 h-n z` per
    /// horizontal run.
    pub(crate) fn path_data(&self, quiet: usize) -> String {
        let mut d = String::with_capacity(self.width * self.width * 2);
        for y in 0..self.width {
            let row = &self.dark[y * self.width..(y + 1) * self.width];
            let mut x = 0;
            while x < self.width {
                if !row[x] {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && row[x] {
                    x += 1;
                }
                let _ = write!(
                    d,
                    "M{} {}h{}v1h-{}z",
                    start + quiet,
                    y + quiet,
                    x - start,
                    x - start
                );
            }
        }
        d
    }

    /// The code as SVG elements in module units: a white square of [`Self::side`] and the
    /// dark path.
    pub(crate) fn elements(&self, quiet: usize) -> String {
        let side = self.side(quiet);
        format!(
            r##"<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{}"/>"##,
            self.path_data(quiet)
        )
    }
}

/// A standalone SVG document with the QR code of `data`: error correction M, a quiet zone of
/// four modules, a `viewBox` in module units and no fixed size, so it scales crisply to
/// whatever box the page gives it.
///
/// # Errors
/// [`FaceError::QrTooLong`] when `data` does not fit in a version 40 code.
pub fn qr_svg(data: &str) -> Result<String, FaceError> {
    let modules = encode(data, STANDALONE_EC_LEVEL)?;
    let side = modules.side(QUIET_ZONE);
    Ok(format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges" role="img" aria-label="QR code">{}</svg>"#,
        modules.elements(QUIET_ZONE)
    ))
}
