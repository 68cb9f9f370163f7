//! License faces (证照照面): the printable picture of a license.
//!
//! A face is an SVG template from the catalogue filled with the license's data, with a QR
//! code of its verification link and the issuer's round seal, exported as SVG
//! ([`Faces::svg`]), PNG ([`Faces::png`]) and PDF ([`Faces::pdf`]). Text stays text: the
//! SVG names the font family [`FONT_FAMILY`] (pages serve [`WEB_FONT_WOFF2`] under that
//! name), the PDF embeds a subset of the bundled font so text can be selected and
//! extracted. [`qr_svg`] draws a standalone QR code for the web pages.
//!
//! # Fields
//! The caller formats every value (dates, validity) and passes it in [`FaceInput::fields`].
//! Standard keys: `type_name`, `type_name_en`, `identifier`, `license_number`,
//! `holder_name`, `holder_code`, `issuer_name`, `issue_date`, `valid_from`, `valid_until`,
//! `validity` (e.g. `2024年01月01日 至 长期`), `area_code`, and every data item as
//! `item.<name>` (e.g. `item.address`). A key the template uses but the caller did not
//! give renders as empty text, never as the raw placeholder.
//!
//! # Template format
//! A template is an SVG 1.1 document (UTF-8, no DTD) whose root `<svg>` has a `viewBox`;
//! its `width`/`height` (e.g. `297mm`) give the physical size of the PDF page and of the
//! PNG at scale 1 (96 dpi). It is checked when loaded (well-formed XML, SVG root, safe
//! content, well-formed placeholders and slots) and a bad one fails with
//! `face.template_invalid`, naming the line and column. Extensions:
//! - `{{key}}` in text content and in attribute values is replaced by the field's value,
//!   XML-escaped (`& < > " '`; characters XML forbids are dropped), so a value can never
//!   add markup. Spaces inside the braces are allowed; keys are `[A-Za-z0-9_.-]`. A `{{`
//!   that does not start a placeholder is an error (write `&#123;{` for a literal one).
//!   Placeholders in comments are ignored, in CDATA sections they are an error.
//! - `<text x=".." y=".." data-wrap="N" data-max-lines="M" data-line-height="1.4em">`:
//!   the text (placeholders and literal text; no child elements) is split into `<tspan>`
//!   lines of at most N display columns, a hanzi or full-width character counting 2 and
//!   anything else 1. Lines break anywhere between hanzi, between words in Latin text,
//!   never before closing punctuation (it hangs) nor after opening punctuation; a `\n` in
//!   a value forces a break. After M lines (optional) the text is cut and ends with `…`.
//!   The line height (default `1.4em`) is a number or a length with a unit.
//! - An element with `data-slot="qr|seal|items"` and numeric `x`, `y`, `width`, `height`
//!   (user units) is replaced by generated content fitted to that box: `qr` the QR code of
//!   [`FaceInput::qr`] (level L, on white with a 2-module quiet zone, centred), `seal` the
//!   issuer's seal ([`Seal`]), `items` every [`FaceInput::items`] entry as a label/value
//!   row (optional `font-size`, default 24; values wrap; rows that do not fit are cut with
//!   `…`).
//! - The watermark ([`FaceInput::watermark`]) is drawn last, across the `viewBox`
//!   diagonal.
//!
//! Drawing order: for PNG and PDF a template is split into a fixed layer (everything that
//! no placeholder or slot touches: borders, ornaments, titles, labels), rendered once and
//! cached, and a data layer drawn over it; definitions (`<defs>`, gradients, patterns,
//! clip paths, `<style>`) belong to both. So data is always drawn over fixed artwork, and
//! an element that a data element references by `href` must sit in `<defs>`. A template
//! whose root `<svg>` or definitions hold placeholders renders in one piece.
//!
//! Not allowed: `<script>`, `<foreignObject>`, `on*` attributes, `href`s other than
//! `#id` and `data:` URLs. Raster images are not drawn; templates are vector only.
//!
//! Built-in templates (`templates/faces/`): `faces/business_license.svg` (营业执照),
//! `faces/food_business_license.svg` (食品经营许可证), `faces/resident_id_card.svg`
//! (居民身份证), `faces/driving_license.svg` (机动车驾驶证) and `faces/generic.svg`, which
//! any other reference gets. [`Faces::with_template_dir`] lets a node override or add
//! templates.
//!
//! # Missing glyphs
//! The bundled font covers GB 2312 (6,763 hanzi) plus Latin and CJK punctuation. Other
//! characters are drawn with a system font that has them, if any; otherwise they render
//! as the bundled font's missing-glyph box (in PNG and PDF alike) and no error is raised.
//! [`Faces::missing_glyphs`] lists such characters so a caller can warn.

mod error;
mod fill;
mod layers;
mod lexer;
mod library;
mod qr;
mod render;
mod seal;
mod template;
mod text;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use error::FaceError;
pub use qr::qr_svg;
pub use seal::{seal_svg, Seal};

/// The seal picture of an electronic seal as a square PNG of `size_px` pixels on a
/// transparent background: red ring, star, `name` along the upper arc, `number` small along
/// the lower arc, drawn with the bundled CJK font (see [`seal_svg`]).
///
/// # Errors
/// `face.invalid_scale` when `size_px` is 0 or over [`MAX_PNG_SIDE`]; `face.render_failed`
/// if the renderer fails.
pub fn seal_png(name: &str, number: &str, size_px: u32) -> Result<Vec<u8>, FaceError> {
    let scale = size_px as f32 / 200.0;
    if size_px == 0 || size_px > MAX_PNG_SIDE {
        return Err(FaceError::InvalidScale { scale });
    }
    let tree = render::tree(&seal_svg(name, number), &render::font_database())?;
    render::png_transparent(&tree, scale)
}

/// The web font of the pages (WOFF2 of the bundled font), to be served under
/// [`FONT_FAMILY`].
pub const WEB_FONT_WOFF2: &[u8] = include_bytes!("../fonts/NotoSansSC-Regular-GB2312.woff2");

/// Family name inside the bundled font.
pub const FONT_FAMILY: &str = "Noto Sans CJK SC";

/// Largest PNG side, in pixels.
pub const MAX_PNG_SIDE: u32 = 16_384;

/// What a face shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaceInput {
    /// Catalogue reference of the template, e.g. `faces/business_license.svg`; a reference
    /// with no template gets the generic one.
    pub template: String,
    /// Placeholder values, already formatted (see the crate docs for the keys).
    pub fields: BTreeMap<String, String>,
    /// (label, value) of every data item in display order (the generic template lists them).
    pub items: Vec<(String, String)>,
    /// Content of the QR code: the verification URL.
    pub qr: String,
    /// The issuer's seal.
    pub seal: Seal,
    /// Text drawn diagonally across the face in semi-transparent red, e.g. `已吊销 REVOKED`.
    pub watermark: Option<String>,
}

/// The face renderer: templates and the font database (bundled font, then system fonts),
/// both loaded once per process. Cheap to clone into an `Arc` and share between threads.
#[derive(Debug)]
pub struct Faces {
    fontdb: Arc<usvg::fontdb::Database>,
    library: library::Library,
}

impl Default for Faces {
    fn default() -> Faces {
        Faces::new()
    }
}

impl Faces {
    /// Built-in templates, the bundled font and the system fonts as a fallback.
    pub fn new() -> Faces {
        Faces {
            fontdb: render::font_database(),
            library: library::Library::new(),
        }
    }

    /// Looks templates referenced as `faces/x.svg` up in `dir/faces/x.svg` first, then
    /// among the built-ins. A file is checked on first use and again when it changes.
    pub fn with_template_dir(self, dir: &Path) -> Faces {
        Faces {
            library: library::Library::with_dir(dir),
            ..self
        }
    }

    /// The filled SVG: text stays text in [`FONT_FAMILY`].
    ///
    /// # Errors
    /// `face.template_invalid` / `face.template_unreadable` for a bad template from the
    /// template directory, `face.qr_too_long` when the QR content does not fit.
    pub fn svg(&self, input: &FaceInput) -> Result<String, FaceError> {
        let template = self.library.get(&input.template)?;
        fill::fill(&template, input)
    }

    /// The face as PNG, `scale` pixels per CSS pixel (scale 1 is 96 dpi), on white.
    ///
    /// # Errors
    /// As [`Faces::svg`], plus `face.invalid_scale` and `face.render_failed`.
    pub fn png(&self, input: &FaceInput, scale: f32) -> Result<Vec<u8>, FaceError> {
        let template = self.library.get(&input.template)?;
        match &template.layers {
            Some(layers) => {
                let (fixed, data) = self.layered(&template, layers, input)?;
                fixed.png_with(&data, scale)
            }
            None => render::png(
                &render::tree(&fill::fill(&template, input)?, &self.fontdb)?,
                scale,
            ),
        }
    }

    /// Where the seal slot of `input`'s template lies on its PDF page: `[x1, y1, x2, y2]` in
    /// points from the bottom left (what a PDF signature widget takes), or `None` when the
    /// template has no seal slot. A face rendered with an empty seal name leaves that box
    /// empty, for the issuer's electronic seal.
    ///
    /// # Errors
    /// As [`Faces::svg`] for a bad template.
    pub fn seal_rect(&self, input: &FaceInput) -> Result<Option<[f64; 4]>, FaceError> {
        let template = self.library.get(&input.template)?;
        let Some(slot) = template.segs.iter().find_map(|s| match s {
            template::Seg::Slot(slot) if slot.kind == template::SlotKind::Seal => Some(slot),
            _ => None,
        }) else {
            return Ok(None);
        };
        let [vx, vy, vw, vh] = template.view_box;
        let [pw, ph] = template.page_pt;
        let (sx, sy) = (f64::from(pw / vw), f64::from(ph / vh));
        let x1 = f64::from(slot.x - vx) * sx;
        let top = f64::from(slot.y - vy) * sy;
        let (w, h) = (f64::from(slot.width) * sx, f64::from(slot.height) * sy);
        let page_h = f64::from(ph);
        Ok(Some([x1, page_h - top - h, x1 + w, page_h - top]))
    }

    /// The face as a one-page PDF of the template's physical size, text selectable, fonts
    /// embedded as subsets.
    ///
    /// # Errors
    /// As [`Faces::svg`], plus `face.render_failed`.
    pub fn pdf(&self, input: &FaceInput) -> Result<Vec<u8>, FaceError> {
        let template = self.library.get(&input.template)?;
        match &template.layers {
            Some(layers) => {
                let (fixed, data) = self.layered(&template, layers, input)?;
                let title = input.fields.get("type_name").map_or("", String::as_str);
                fixed.pdf_with(&data, title)
            }
            None => render::pdf(&render::tree(&fill::fill(&template, input)?, &self.fontdb)?),
        }
    }

    /// The cached fixed layer of a split template and the parsed data layer of one face.
    fn layered<'t>(
        &self,
        template: &template::Template,
        layers: &'t layers::Layers,
        input: &FaceInput,
    ) -> Result<(&'t render::FixedLayer, usvg::Tree), FaceError> {
        let fixed = self.fixed_layer(layers)?;
        let data = render::tree(
            &fill::fill_with(template, &layers.data, input)?,
            &self.fontdb,
        )?;
        Ok((fixed, data))
    }

    /// The fixed layer of a split template, parsed on first use.
    fn fixed_layer<'t>(
        &self,
        layers: &'t layers::Layers,
    ) -> Result<&'t render::FixedLayer, FaceError> {
        layers
            .fixed
            .get_or_init(|| {
                render::FixedLayer::new(&layers.fixed_svg, &self.fontdb).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|reason| FaceError::RenderFailed {
                stage: "svg",
                reason: reason.clone(),
            })
    }

    /// Characters of the input's fields, items, seal name and watermark that no available
    /// font can draw (they would show as a missing-glyph box), in order of appearance.
    pub fn missing_glyphs(&self, input: &FaceInput) -> Vec<char> {
        let mut text = String::new();
        for v in input.fields.values() {
            text.push_str(v);
        }
        for (l, v) in &input.items {
            text.push_str(l);
            text.push_str(v);
        }
        text.push_str(&input.seal.name);
        text.push_str(input.watermark.as_deref().unwrap_or(""));
        render::missing_chars(&self.fontdb, &text)
    }
}
