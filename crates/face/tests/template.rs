//! The template format: escaping, missing keys, wrapping, slots, template lookup and the
//! errors a bad template or input gets.

mod common;

use std::sync::Arc;

use elicense_face::{FaceError, FaceInput, Faces};
use usvg::roxmltree;

const NASTY: &str =
    r#"</text><script>alert("x")</script> & "q" 'a' ]]> <![CDATA[ {{holder_name}} --> <!--"#;

fn faces_with(name: &str, body: &str) -> (tempfile::TempDir, Faces) {
    let dir = common::template_dir(name, &common::svg_template(body));
    let faces = Faces::new().with_template_dir(dir.path());
    (dir, faces)
}

fn code(result: Result<impl std::fmt::Debug, FaceError>) -> &'static str {
    result.expect_err("an error").code()
}

#[test]
fn values_cannot_break_out_of_text_or_attributes() {
    let (_dir, faces) = faces_with(
        "esc.svg",
        r#"<text id="t" x="1" y="20">{{v}}</text><rect id="r" width="1" height="1" data-v="{{v}}"/><text id="w" x="1" y="50" data-wrap="400">{{v}}</text>"#,
    );
    let input = common::input_for("esc.svg", &[("v", NASTY)]);
    let svg = faces.svg(&input).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the filled SVG is well-formed");
    assert!(doc.descendants().all(|n| n.tag_name().name() != "script"));
    let by_id = |id| {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap()
    };
    assert_eq!(by_id("t").text(), Some(NASTY));
    assert_eq!(by_id("r").attribute("data-v"), Some(NASTY));
    let wrapped: String = by_id("w")
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(
        wrapped,
        NASTY.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    // The value's own "{{holder_name}}" is text, not a placeholder.
    assert!(svg.contains("{{holder_name}}"));
    faces.png(&input, 1.0).unwrap();
    faces.pdf(&input).unwrap();

    // The same through a built-in template.
    let mut input = common::sample("faces/business_license.svg");
    input
        .fields
        .insert("item.name".to_owned(), NASTY.to_owned());
    input.seal.name = NASTY.to_owned();
    input.items.push(("<b>".to_owned(), NASTY.to_owned()));
    let svg = Faces::new().svg(&input).unwrap();
    roxmltree::Document::parse(&svg).expect("well-formed");
    assert!(!svg.contains("<script"));
}

#[test]
fn a_missing_key_renders_as_empty_text() {
    let (_dir, faces) = faces_with(
        "m.svg",
        r#"<text id="a" x="1" y="20">[{{item.absent}}]</text><text id="b" x="1" y="40" data-wrap="10">{{item.absent}}</text>"#,
    );
    let input = common::input_for("m.svg", &[]);
    let svg = faces.svg(&input).unwrap();
    assert!(!svg.contains("{{"), "{svg}");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let by_id = |id| {
        doc.descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap()
    };
    assert_eq!(by_id("a").text(), Some("[]"));
    assert_eq!(by_id("b").children().count(), 0);

    // Every built-in template with no fields at all.
    let faces = Faces::new();
    for template in common::TEMPLATES {
        let input = FaceInput {
            template: template.to_owned(),
            qr: "x".to_owned(),
            ..FaceInput::default()
        };
        let svg = faces.svg(&input).unwrap();
        assert!(!svg.contains("{{"), "{template}");
        faces.pdf(&input).unwrap();
    }
}

#[test]
fn long_values_wrap_by_display_width() {
    let (_dir, faces) = faces_with(
        "w.svg",
        r#"<text id="c" x="5" y="20" data-wrap="10" data-max-lines="3" data-line-height="1.5em">{{cjk}}</text><text id="l" x="7" y="90" data-wrap="12">{{latin}}</text>"#,
    );
    let input = common::input_for(
        "w.svg",
        &[
            ("cjk", "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸"),
            ("latin", "alpha beta gamma delta"),
        ],
    );
    let svg = faces.svg(&input).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let lines = |id| -> Vec<(String, Option<String>, Option<String>)> {
        let text = doc
            .descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap();
        text.children()
            .filter(|n| n.has_tag_name("tspan"))
            .map(|t| {
                (
                    t.text().unwrap_or_default().to_owned(),
                    t.attribute("x").map(str::to_owned),
                    t.attribute("dy").map(str::to_owned),
                )
            })
            .collect()
    };
    let cjk = lines("c");
    let texts: Vec<&str> = cjk.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(texts, ["一二三四五", "六七八九十", "甲乙丙丁…"]);
    assert!(cjk.iter().all(|l| l.1.as_deref() == Some("5")));
    assert_eq!(cjk[0].2, None);
    assert_eq!(cjk[1].2.as_deref(), Some("1.5em"));
    let latin: Vec<String> = lines("l").into_iter().map(|l| l.0).collect();
    assert_eq!(latin, ["alpha beta", "gamma delta"]);
}

#[test]
fn bad_templates_are_rejected_with_a_clear_error() {
    let cases = [
        (
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"><text>",
            "not well-formed XML",
        ),
        (
            "<html xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"><g/></html>",
            "root element",
        ),
        (
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><g/></svg>",
            "viewBox",
        ),
        (
            &common::svg_template("<text>{{ a b }}</text>"),
            "malformed placeholder",
        ),
        (
            &common::svg_template("<text>{{a</text>"),
            "malformed placeholder",
        ),
        (
            &common::svg_template("<script>alert(1)</script>"),
            "<script>",
        ),
        (
            &common::svg_template("<rect width=\"1\" height=\"1\" onclick=\"x()\"/>"),
            "on*",
        ),
        (
            &common::svg_template("<image href=\"file:///etc/passwd\" width=\"1\" height=\"1\"/>"),
            "href",
        ),
        (
            &common::svg_template("<g data-slot=\"qr\" x=\"1\" y=\"1\"/>"),
            "width",
        ),
        (
            &common::svg_template(
                "<g data-slot=\"photo\" x=\"1\" y=\"1\" width=\"1\" height=\"1\"/>",
            ),
            "qr, seal or items",
        ),
        (&common::svg_template("<rect data-wrap=\"10\"/>"), "<text>"),
        (
            &common::svg_template("<text data-wrap=\"x\">{{a}}</text>"),
            "column count",
        ),
        (
            &common::svg_template("<text><![CDATA[{{a}}]]></text>"),
            "CDATA",
        ),
    ];
    for (source, reason) in cases {
        let dir = common::template_dir("bad.svg", source);
        let faces = Faces::new().with_template_dir(dir.path());
        let input = common::input_for("bad.svg", &[]);
        let err = faces.svg(&input).unwrap_err();
        assert_eq!(err.code(), "face.template_invalid", "{source}");
        assert!(err.to_string().contains(reason), "{source}: {err}");
        assert!(err.to_string().contains("faces/bad.svg"), "{err}");
        assert_eq!(code(faces.pdf(&input)), "face.template_invalid");
    }
    let mut input = common::sample("faces/business_license.svg");
    input.template = "../../etc/passwd.svg".to_owned();
    assert_eq!(code(Faces::new().svg(&input)), "face.template_invalid");
}

#[test]
fn bad_input_gets_stable_error_codes() {
    let faces = Faces::new();
    let mut input = common::sample("faces/business_license.svg");
    for scale in [0.0, -1.0, f32::NAN, f32::INFINITY, 100.0] {
        assert_eq!(
            code(faces.png(&input, scale)),
            "face.invalid_scale",
            "{scale}"
        );
    }
    input.qr = "x".repeat(3000);
    assert_eq!(code(faces.svg(&input)), "face.qr_too_long");
    assert_eq!(code(faces.pdf(&input)), "face.qr_too_long");
    assert_eq!(code(elicense_face::qr_svg(&input.qr)), "face.qr_too_long");
}

#[test]
fn template_directory_overrides_built_ins_and_follows_changes() {
    let dir = common::template_dir(
        "business_license.svg",
        &common::svg_template("<text x=\"1\" y=\"20\">CUSTOM {{holder_name}}</text>"),
    );
    let faces = Faces::new().with_template_dir(dir.path());
    let input = common::sample("faces/business_license.svg");
    assert!(faces
        .svg(&input)
        .unwrap()
        .contains("CUSTOM 北京示例科技有限公司"));
    let path = dir.path().join("faces/business_license.svg");
    std::fs::write(
        &path,
        common::svg_template("<text x=\"1\" y=\"20\">CHANGED TEMPLATE {{holder_name}}</text>"),
    )
    .unwrap();
    assert!(faces.svg(&input).unwrap().contains("CHANGED TEMPLATE"));
    // Not in the directory: the built-in one; unknown anywhere: the generic one.
    let mut food = common::sample("faces/food_business_license.svg");
    assert!(faces.svg(&food).unwrap().contains("食品经营许可证"));
    food.template = "faces/unknown_type.svg".to_owned();
    let generic = faces.svg(&food).unwrap();
    assert!(
        generic.contains("食品经营许可证") && generic.contains("经营项目"),
        "the generic template lists type name and items"
    );
}

#[test]
fn slots_and_layers_follow_the_template() {
    let (_dir, faces) = faces_with(
        "s.svg",
        r##"<rect width="400" height="200" fill="#eee"/><g fill="#333"><text x="1" y="20">label</text><text x="100" y="20">{{v}}</text></g><g data-slot="qr" x="300" y="10" width="90" height="90"/><g data-slot="seal" x="300" y="100" width="90" height="90"/><g data-slot="items" x="10" y="40" width="250" height="150" font-size="12"/>"##,
    );
    let mut input = common::input_for("s.svg", &[("v", "value")]);
    input.items = vec![
        ("名称".to_owned(), "甲".to_owned()),
        ("住所".to_owned(), "乙".repeat(200)),
    ];
    input.seal.name = "测试市测试局".to_owned();
    let svg = faces.svg(&input).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let nested: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("svg") && n.parent_element().is_some())
        .collect();
    assert_eq!(nested.len(), 2, "QR code and seal are nested <svg> boxes");
    assert_eq!(nested[0].attribute("width"), Some("90"));
    for c in "测试市测试局".chars() {
        assert!(svg.contains(&format!(">{c}</text>")), "seal character {c}");
    }
    assert!(
        svg.contains(">名称</text>") && svg.contains("…"),
        "items listed, long value cut"
    );
    // The PNG and PDF (fixed and data layers) show the same.
    let png = faces.png(&input, 3.0).unwrap();
    assert_eq!(common::qr_codes_in_png(&png), [input.qr.clone()]);
    let text = common::pdftotext(&faces.pdf(&input).unwrap());
    assert!(
        text.contains("label") && text.contains("value") && text.contains("名称"),
        "{text}"
    );
}

#[test]
fn faces_are_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Faces>();
    let faces = Arc::new(Faces::new());
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let faces = Arc::clone(&faces);
            std::thread::spawn(move || {
                let mut input = common::sample(common::TEMPLATES[i % 4]);
                input.qr = format!("{}?n={i}", input.qr);
                (
                    faces.pdf(&input).unwrap().len(),
                    faces.png(&input, 1.0).unwrap().len(),
                )
            })
        })
        .collect();
    for t in threads {
        let (pdf, png) = t.join().unwrap();
        assert!(pdf > 1000 && png > 1000);
    }
}
