//! PDF faces checked with a real PDF reader (`pdftotext` from poppler-utils): the text
//! stays text (holder name, identifier, labels of the fixed layer, watermark) and the font
//! is embedded.

mod common;

use elicense_face::Faces;

fn has(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn pdf_text_is_extractable_and_the_font_is_embedded() {
    let faces = Faces::new();
    for template in common::TEMPLATES {
        let input = common::sample(template);
        let pdf = faces.pdf(&input).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{template}");
        assert!(
            has(&pdf, b"/FontFile2") || has(&pdf, b"/FontFile3"),
            "{template}: no embedded font"
        );
        let text = common::pdftotext(&pdf);
        let holder = &input.fields["holder_name"];
        assert!(
            text.contains(holder.as_str()),
            "{template}: holder name {holder} not in\n{text}"
        );
        let identifier = &input.fields["identifier"];
        assert!(
            text.contains(identifier.as_str()),
            "{template}: identifier not in\n{text}"
        );
    }
}

#[test]
fn pdf_has_both_layers_the_physical_size_and_a_title() {
    let faces = Faces::new();
    let input = common::sample("faces/business_license.svg");
    let pdf = faces.pdf(&input).unwrap();
    let text = common::pdftotext(&pdf);
    // Fixed layer (labels, title) and data layer (values) are both there.
    for expected in [
        "营业执照",
        "法定代表人",
        "扫描二维码核验",
        "张伟",
        "91110101MA00000018",
    ] {
        assert!(text.contains(expected), "{expected} not in\n{text}");
    }
    // A4 landscape: 297 × 210 mm = 841.9 × 595.3 pt.
    assert!(
        has(&pdf, b"/MediaBox [0 0 841.88") && has(&pdf, b" 595.27"),
        "page is not A4 landscape"
    );
    assert!(has(&pdf, b"/Title"));
}

#[test]
fn watermark_is_drawn_as_text() {
    let faces = Faces::new();
    let mut input = common::sample("faces/resident_id_card.svg");
    input.watermark = Some("已吊销 REVOKED".to_owned());
    let text = common::pdftotext_raw(&faces.pdf(&input).unwrap());
    assert!(text.contains("已吊销REVOKED"), "{text}");
    assert!(faces.svg(&input).unwrap().contains("已吊销 REVOKED"));
}
