//! Rendering a filled SVG to PNG (resvg) and PDF (svg2pdf), and the font database both use.
//!
//! A split template ([`crate::layers`]) renders as its cached fixed layer with the data
//! layer over it: in PDF two form XObjects on one page, in PNG the data layer drawn on a
//! copy of the fixed layer's pixmap.
//!
//! Invariants: the font database is built once per process (bundled font first, then the
//! system fonts as a fallback for characters outside the bundled subset) and shared through
//! an `Arc`; a system font that claims the bundled family name is renamed so the bundled
//! font always wins and output does not depend on the machine for GB 2312 text. The parser
//! never reads files: external `href`s resolve to nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use pdf_writer::{Chunk, Content, Finish, Name, Pdf, Rect, Ref, TextStr};
use resvg::tiny_skia::{Color, Pixmap, Transform};
use usvg::fontdb::{self, Database, Source};

use crate::{FaceError, FONT_FAMILY, MAX_PNG_SIDE};

/// The bundled font (Noto Sans CJK SC, GB 2312 subset, TrueType outlines: see fonts/README.md).
const BUNDLED_FONT: &[u8] = include_bytes!("../fonts/NotoSansSC-Regular-GB2312.ttf");

/// The process-wide font database.
pub(crate) fn font_database() -> Arc<Database> {
    static DB: OnceLock<Arc<Database>> = OnceLock::new();
    Arc::clone(DB.get_or_init(|| Arc::new(build_database())))
}

fn build_database() -> Database {
    let mut db = Database::new();
    let bundled = db.load_font_source(Source::Binary(Arc::new(BUNDLED_FONT)));
    db.load_system_fonts();
    let clashing: Vec<fontdb::FaceInfo> = db
        .faces()
        .filter(|f| {
            !bundled.contains(&f.id) && f.families.iter().any(|(name, _)| name == FONT_FAMILY)
        })
        .cloned()
        .collect();
    for mut face in clashing {
        db.remove_face(face.id);
        for (name, _) in &mut face.families {
            if name == FONT_FAMILY {
                name.push_str(" (system)");
            }
        }
        db.push_face_info(face);
    }
    // Generic families resolve to the bundled font too: same output on every machine.
    db.set_serif_family(FONT_FAMILY);
    db.set_sans_serif_family(FONT_FAMILY);
    db.set_monospace_family(FONT_FAMILY);
    db.set_cursive_family(FONT_FAMILY);
    db.set_fantasy_family(FONT_FAMILY);
    db
}

/// Parser options: our font database and default family, no file access.
fn options(fontdb: &Arc<Database>) -> usvg::Options<'static> {
    usvg::Options {
        font_family: FONT_FAMILY.to_owned(),
        languages: vec!["zh-CN".to_owned(), "en".to_owned()],
        fontdb: Arc::clone(fontdb),
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    }
}

/// Parses a filled SVG into a render tree (text laid out with our fonts).
pub(crate) fn tree(svg: &str, fontdb: &Arc<Database>) -> Result<usvg::Tree, FaceError> {
    usvg::Tree::from_str(svg, &options(fontdb)).map_err(|e| FaceError::RenderFailed {
        stage: "svg",
        reason: e.to_string(),
    })
}

/// Rasterises `tree` at `scale` CSS pixels per user pixel, on white.
pub(crate) fn png(tree: &usvg::Tree, scale: f32) -> Result<Vec<u8>, FaceError> {
    let mut pixmap = blank(tree, scale)?;
    resvg::render(
        tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    encode_png(&pixmap)
}

/// Rasterises `tree` at `scale` on a transparent background (seal pictures).
pub(crate) fn png_transparent(tree: &usvg::Tree, scale: f32) -> Result<Vec<u8>, FaceError> {
    let mut pixmap = blank(tree, scale)?;
    pixmap.fill(Color::TRANSPARENT);
    resvg::render(
        tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    encode_png(&pixmap)
}

/// A white pixmap for `tree` at `scale`.
fn blank(tree: &usvg::Tree, scale: f32) -> Result<Pixmap, FaceError> {
    let bad_scale = || FaceError::InvalidScale { scale };
    if !scale.is_finite() || scale <= 0.0 {
        return Err(bad_scale());
    }
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil(),
        (size.height() * scale).ceil(),
    );
    if w > MAX_PNG_SIDE as f32 || h > MAX_PNG_SIDE as f32 {
        return Err(bad_scale());
    }
    let mut pixmap = Pixmap::new((w as u32).max(1), (h as u32).max(1)).ok_or_else(bad_scale)?;
    pixmap.fill(Color::WHITE);
    Ok(pixmap)
}

fn encode_png(pixmap: &Pixmap) -> Result<Vec<u8>, FaceError> {
    pixmap.encode_png().map_err(|e| FaceError::RenderFailed {
        stage: "png",
        reason: e.to_string(),
    })
}

fn pdf_failed(e: svg2pdf::ConversionError) -> FaceError {
    FaceError::RenderFailed {
        stage: "pdf",
        reason: e.to_string(),
    }
}

/// Converts `tree` to a one-page PDF whose page has the SVG's physical size (96 dpi), text
/// as text with the fonts embedded as subsets.
pub(crate) fn pdf(tree: &usvg::Tree) -> Result<Vec<u8>, FaceError> {
    svg2pdf::to_pdf(
        tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: 96.0 },
    )
    .map_err(pdf_failed)
}

/// Conversion of the data layer: its content stream (a few hundred glyph runs, the QR code)
/// stays uncompressed. Deflating it took a quarter of a face's PDF time for about 25 KB of
/// file size; fonts and the cached fixed layer are still compressed.
const DATA_LAYER_OPTIONS: svg2pdf::ConversionOptions = svg2pdf::ConversionOptions {
    compress: false,
    raster_scale: 1.5,
    embed_text: true,
    pdfa: false,
};

// Object numbers of the page around the two layers; the fixed layer's objects follow.
const CATALOG: Ref = Ref::new(1);
const PAGES: Ref = Ref::new(2);
const PAGE: Ref = Ref::new(3);
const CONTENT: Ref = Ref::new(4);
const INFO: Ref = Ref::new(5);
const FIRST_FIXED: i32 = 6;

/// The fixed layer of a template, parsed once, converted to PDF and rasterised on demand.
pub(crate) struct FixedLayer {
    tree: usvg::Tree,
    pdf: OnceLock<Result<FixedPdf, String>>,
    /// The last raster: (scale bits, pixmap).
    png: Mutex<Option<(u32, Arc<Pixmap>)>>,
}

struct FixedPdf {
    chunk: Chunk,
    xobject: Ref,
    /// First object number free after the fixed layer's objects.
    next: Ref,
}

impl std::fmt::Debug for FixedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedLayer").finish_non_exhaustive()
    }
}

impl FixedLayer {
    pub(crate) fn new(svg: &str, fontdb: &Arc<Database>) -> Result<FixedLayer, FaceError> {
        Ok(FixedLayer {
            tree: tree(svg, fontdb)?,
            pdf: OnceLock::new(),
            png: Mutex::new(None),
        })
    }

    fn pdf(&self) -> Result<&FixedPdf, FaceError> {
        let built = self.pdf.get_or_init(|| {
            let (chunk, xobject) =
                svg2pdf::to_chunk(&self.tree, svg2pdf::ConversionOptions::default())
                    .map_err(|e| e.to_string())?;
            let mut next = Ref::new(FIRST_FIXED);
            let mut map = HashMap::new();
            let chunk = chunk.renumber(|old| *map.entry(old).or_insert_with(|| next.bump()));
            Ok(FixedPdf {
                chunk,
                xobject: map[&xobject],
                next,
            })
        });
        built.as_ref().map_err(|reason| FaceError::RenderFailed {
            stage: "pdf",
            reason: reason.clone(),
        })
    }

    fn pixmap(&self, scale: f32) -> Result<Arc<Pixmap>, FaceError> {
        let mut last = self.png.lock().expect("raster cache poisoned");
        if let Some((bits, pixmap)) = last.as_ref() {
            if *bits == scale.to_bits() {
                return Ok(Arc::clone(pixmap));
            }
        }
        let mut pixmap = blank(&self.tree, scale)?;
        resvg::render(
            &self.tree,
            Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        let pixmap = Arc::new(pixmap);
        *last = Some((scale.to_bits(), Arc::clone(&pixmap)));
        Ok(pixmap)
    }

    /// The data layer `data` drawn over this layer, as PNG.
    pub(crate) fn png_with(&self, data: &usvg::Tree, scale: f32) -> Result<Vec<u8>, FaceError> {
        let mut pixmap = Pixmap::clone(&*self.pixmap(scale)?);
        resvg::render(
            data,
            Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        encode_png(&pixmap)
    }

    /// This layer and the data layer `data` on one PDF page (96 dpi), titled `title`.
    pub(crate) fn pdf_with(&self, data: &usvg::Tree, title: &str) -> Result<Vec<u8>, FaceError> {
        let fixed = self.pdf()?;
        let (chunk, xobject) = svg2pdf::to_chunk(data, DATA_LAYER_OPTIONS).map_err(pdf_failed)?;
        let mut next = fixed.next;
        let mut map = HashMap::new();
        let chunk = chunk.renumber(|old| *map.entry(old).or_insert_with(|| next.bump()));
        let data_xobject = map[&xobject];

        let size = self.tree.size();
        let (w, h) = (size.width() * 0.75, size.height() * 0.75);
        let mut pdf = Pdf::new();
        pdf.catalog(CATALOG).pages(PAGES);
        pdf.pages(PAGES).kids([PAGE]).count(1);
        let mut page = pdf.page(PAGE);
        page.media_box(Rect::new(0.0, 0.0, w, h));
        page.parent(PAGES);
        page.contents(CONTENT);
        page.group()
            .transparency()
            .isolated(true)
            .knockout(false)
            .color_space()
            .srgb();
        let mut resources = page.resources();
        resources
            .x_objects()
            .pair(Name(b"F"), fixed.xobject)
            .pair(Name(b"D"), data_xobject);
        resources.finish();
        page.finish();
        let mut content = Content::new();
        for layer in [Name(b"F"), Name(b"D")] {
            content
                .save_state()
                .transform([w, 0.0, 0.0, h, 0.0, 0.0])
                .x_object(layer)
                .restore_state();
        }
        pdf.stream(CONTENT, &content.finish());
        pdf.extend(&fixed.chunk);
        pdf.extend(&chunk);
        let mut info = pdf.document_info(INFO);
        info.producer(TextStr("elicense"));
        if !title.is_empty() {
            info.title(TextStr(title));
        }
        info.finish();
        Ok(pdf.finish())
    }
}

/// Characters of `text` that no font in `db` can draw (they render as the font's
/// "missing glyph" box), found by laying the text out exactly as a face would.
pub(crate) fn missing_chars(db: &Arc<Database>, text: &str) -> Vec<char> {
    let mut unique = std::collections::BTreeSet::new();
    let chars: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && unique.insert(*c))
        .collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><text>{}</text></svg>"#,
        crate::text::escape(&chars)
    );
    let mut missing = Vec::new();
    if let Ok(tree) = tree(&svg, db) {
        collect_notdef(tree.root(), &mut missing);
    }
    missing
}

fn collect_notdef(group: &usvg::Group, missing: &mut Vec<char>) {
    for node in group.children() {
        match node {
            usvg::Node::Group(g) => collect_notdef(g, missing),
            usvg::Node::Text(t) => {
                for glyph in t.layouted().iter().flat_map(|span| &span.positioned_glyphs) {
                    if glyph.id.0 == 0 {
                        missing.extend(glyph.text.chars());
                    }
                }
            }
            _ => {}
        }
    }
}
