//! PNG faces checked by decoding them: the QR code reads back as the verification URL, and
//! CJK text is drawn with real glyphs.

mod common;

use elicense_face::{qr_svg, Faces};

#[test]
fn qr_code_decodes_from_every_face() {
    let faces = Faces::new();
    let mut generic = common::sample("faces/driving_license.svg");
    generic.template = "faces/no_such_type.svg".to_owned();
    let inputs = common::TEMPLATES
        .iter()
        .map(|t| common::sample(t))
        .chain([generic]);
    for input in inputs {
        // An A4 face at scale 2 (2245 px wide), a card at scale 3 (1010 px wide, about a
        // phone screen): at least 4 px per module, where rqrr decodes reliably.
        let scale = if input.template.contains("card") || input.template.contains("driving") {
            3.0
        } else {
            2.0
        };
        let png = faces.png(&input, scale).unwrap();
        let codes = common::qr_codes_in_png(&png);
        assert_eq!(codes, std::slice::from_ref(&input.qr), "{}", input.template);
    }
}

#[test]
fn png_size_follows_the_physical_size_and_the_scale() {
    let faces = Faces::new();
    let input = common::sample("faces/business_license.svg");
    for scale in [1.0, 1.25, 1.5] {
        let png = faces.png(&input, scale).unwrap();
        let (w, h, _) = common::grey(&png);
        // A4 landscape at 96 dpi is 1122.5 × 793.7 px.
        assert_eq!(
            (w, h),
            (
                (1122.5 * scale).ceil() as u32,
                (793.7 * scale).ceil() as u32
            )
        );
    }
}

#[test]
fn standalone_qr_svg_scales_and_decodes() {
    let data = "https://verify.example.gov.cn/p/7Hq2-presentation-token?x=1&y=<2>";
    let svg = qr_svg(data).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 ") && svg.contains("crispEdges")
    );
    let root = &svg[..svg.find('>').unwrap()];
    assert!(
        !root.contains(" width="),
        "no fixed size: it scales to its box"
    );
    let tree = usvg::Tree::from_str(&svg, &usvg::Options::default()).unwrap();
    for px in [200u32, 400] {
        let scale = px as f32 / tree.size().width();
        let mut pixmap = resvg::tiny_skia::Pixmap::new(px, px).unwrap();
        resvg::render(
            &tree,
            resvg::tiny_skia::Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        let png = pixmap.encode_png().unwrap();
        assert_eq!(common::qr_codes_in_png(&png), [data], "at {px} px");
    }
}

/// One character alone, 80 units high, rendered as a 100×100 PNG; (grey levels, dark pixels).
fn glyph(faces: &Faces, c: char) -> (Vec<u8>, usize) {
    let input = common::input_for("glyph.svg", &[("c", &c.to_string())]);
    let (_, _, grey) = common::grey(&faces.png(&input, 1.0).unwrap());
    let ink = grey.iter().filter(|g| **g < 128).count();
    (grey, ink)
}

#[test]
fn cjk_characters_are_glyphs_not_boxes() {
    let source = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100"><text x="10" y="85" font-size="80">{{c}}</text></svg>"#;
    let dir = common::template_dir("glyph.svg", source);
    let faces = Faces::new().with_template_dir(dir.path());
    let (zheng, zheng_ink) = glyph(&faces, '证');
    let (zhao, zhao_ink) = glyph(&faces, '照');
    assert!(
        zheng_ink > 300 && zhao_ink > 300,
        "no ink: {zheng_ink} {zhao_ink}"
    );
    let differing = zheng
        .iter()
        .zip(&zhao)
        .filter(|(a, b)| a.abs_diff(**b) > 64)
        .count();
    assert!(
        differing > 300,
        "证 and 照 look alike: {differing} pixels differ"
    );

    // U+E000 (private use) is in no font here: it is drawn as the bundled font's
    // missing-glyph box and reported by missing_glyphs. Where a system font has it, it is
    // drawn with that font and not reported.
    let mut input = common::input_for("glyph.svg", &[("c", "\u{E000}")]);
    let missing = faces.missing_glyphs(&input);
    if missing == ['\u{E000}'] {
        let (tofu, tofu_ink) = glyph(&faces, '\u{E000}');
        assert!(tofu_ink > 0, "the missing-glyph box has ink");
        let like_zheng = zheng
            .iter()
            .zip(&tofu)
            .filter(|(a, b)| a.abs_diff(**b) > 64)
            .count();
        assert!(
            like_zheng > 300,
            "证 must not be drawn as the missing-glyph box"
        );
    } else {
        assert!(missing.is_empty());
    }
    input.fields.insert("c".to_owned(), "证照".to_owned());
    assert!(faces.missing_glyphs(&input).is_empty());
}
