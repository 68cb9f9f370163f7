//! The seal picture of an electronic seal, decoded and looked at: a red ring, a transparent
//! background, the number drawn along the bottom, and real glyphs for a Chinese name.

use elicense_face::{seal_png, seal_svg, FaceInput, Faces, Seal};
use image::RgbaImage;

const NAME: &str = "北京市朝阳区市场监督管理局";
const NUMBER: &str = "1101050012345";

fn decode(png: &[u8]) -> RgbaImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .unwrap()
        .to_rgba8()
}

fn is_red(p: &image::Rgba<u8>) -> bool {
    let [r, g, b, a] = p.0;
    a > 200 && r > 180 && g < 90 && b < 90
}

#[test]
fn ring_is_red_and_corners_are_transparent() {
    let png = seal_png(NAME, NUMBER, 400).unwrap();
    // SEAL_PNG_DUMP=path keeps the picture for a look.
    if let Ok(path) = std::env::var("SEAL_PNG_DUMP") {
        std::fs::write(path, &png).unwrap();
    }
    let img = decode(&png);
    assert_eq!(img.dimensions(), (400, 400));
    // The ring is radius 94 of 200, 6 wide: at 400 px, 188 px from the centre.
    for (x, y) in [(388, 200), (12, 200), (200, 12), (200, 388)] {
        assert!(
            is_red(img.get_pixel(x, y)),
            "ring at {x},{y}: {:?}",
            img.get_pixel(x, y)
        );
    }
    // The star's centre.
    assert!(is_red(img.get_pixel(200, 200)));
    for (x, y) in [(0, 0), (399, 0), (0, 399), (399, 399), (30, 30)] {
        assert_eq!(
            img.get_pixel(x, y).0[3],
            0,
            "corner {x},{y} is not transparent"
        );
    }
    // Between ring and star, away from any text: transparent too.
    assert_eq!(img.get_pixel(200, 120).0[3], 0);
}

#[test]
fn the_number_is_drawn_along_the_bottom() {
    let red_in_bottom = |png: &[u8]| {
        let img = decode(png);
        // Just inside the ring at the bottom, where only the number goes.
        (330..372)
            .flat_map(|y| (160..240).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0[3] > 0)
            .count()
    };
    let with = red_in_bottom(&seal_png(NAME, NUMBER, 400).unwrap());
    let without = red_in_bottom(&seal_png(NAME, "", 400).unwrap());
    assert_eq!(without, 0, "nothing but the number belongs in that band");
    assert!(with > 50, "the number left {with} pixels");
    let svg = seal_svg(NAME, NUMBER);
    assert!(svg.contains(">朝<") && svg.contains(">5<"));
}

#[test]
fn chinese_name_and_number_have_glyphs() {
    let input = FaceInput {
        seal: Seal { name: NAME.into() },
        watermark: Some(NUMBER.into()),
        ..FaceInput::default()
    };
    assert_eq!(Faces::new().missing_glyphs(&input), Vec::<char>::new());
    // The check can fail: a character outside GB 2312 is reported (unless a system font has it).
    let rare = FaceInput {
        seal: Seal {
            name: "\u{2A6D6}".into(),
        },
        ..FaceInput::default()
    };
    let missing = Faces::new().missing_glyphs(&rare);
    assert!(missing.is_empty() || missing == ['\u{2A6D6}']);
}

#[test]
fn bad_sizes_are_refused() {
    for size in [0, 20_000] {
        assert_eq!(
            seal_png(NAME, NUMBER, size).unwrap_err().code(),
            "face.invalid_scale"
        );
    }
}
