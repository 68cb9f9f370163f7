//! Every built-in template, and the generic one, renders the sample catalogue's example
//! values to SVG, PNG and PDF. With `ELICENSE_FACE_DUMP=<dir>` the three files of each face
//! are written there for a human to look at.

mod common;

use elicense_face::Faces;

#[test]
fn every_built_in_template_renders_the_samples() {
    let faces = Faces::new();
    let dump = std::env::var_os("ELICENSE_FACE_DUMP").map(std::path::PathBuf::from);
    let mut generic = common::sample("faces/business_license.svg");
    generic.template = "faces/not_in_catalogue.svg".to_owned();
    let inputs = common::TEMPLATES
        .iter()
        .map(|t| common::sample(t))
        .chain([generic]);
    for input in inputs {
        let svg = faces.svg(&input).unwrap();
        assert!(
            !svg.contains("{{"),
            "{}: placeholder left in the SVG",
            input.template
        );
        // Cards are small: draw them at twice the scale of the A4 faces.
        let scale = if svg.contains("width=\"297mm\"") || svg.contains("width=\"210mm\"") {
            1.5
        } else {
            3.0
        };
        let png = faces.png(&input, scale).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let pdf = faces.pdf(&input).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            faces.missing_glyphs(&input).is_empty(),
            "{}",
            input.template
        );
        if let Some(dir) = &dump {
            std::fs::create_dir_all(dir).unwrap();
            let stem = input
                .template
                .trim_start_matches("faces/")
                .trim_end_matches(".svg")
                .to_owned();
            std::fs::write(dir.join(format!("{stem}.png")), &png).unwrap();
            std::fs::write(dir.join(format!("{stem}.pdf")), &pdf).unwrap();
            std::fs::write(dir.join(format!("{stem}.svg")), &svg).unwrap();
        }
    }
}
