//! The seal picture: a PNG decoded to 8-bit RGB plus an 8-bit alpha channel, which the
//! PDF draws as an image XObject whose /SMask is the alpha (so the seal's transparent
//! background shows the page beneath).
//!
//! Invariant: the picture is decoded fully before anything is written, so a bad PNG fails
//! `prepare` without touching the document; sizes are bounded before decoding.

use std::io::Write;

use crate::error::PdfError;

/// Pictures larger than this (in pixels) are refused before decoding.
const MAX_PIXELS: u64 = 16 << 20;

pub(crate) struct Picture {
    pub width: u32,
    pub height: u32,
    /// Flate-compressed RGB samples.
    pub rgb: Vec<u8>,
    /// Flate-compressed alpha samples.
    pub alpha: Vec<u8>,
}

fn bad(e: impl std::fmt::Display) -> PdfError {
    PdfError::BadPicture(e.to_string())
}

pub(crate) fn decode_png(data: &[u8]) -> Result<Picture, PdfError> {
    let mut decoder = png::Decoder::new(data);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(bad)?;
    let (width, height) = (reader.info().width, reader.info().height);
    if u64::from(width) * u64::from(height) > MAX_PIXELS || width == 0 || height == 0 {
        return Err(bad(format!(
            "{width}×{height} pixels is not a seal picture"
        )));
    }
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(bad)?;
    let buf = &buf[..frame.buffer_size()];
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(bad("palette not expanded")),
    };
    if frame.bit_depth != png::BitDepth::Eight {
        return Err(bad("unsupported bit depth"));
    }
    let n = (width * height) as usize;
    let mut rgb = Vec::with_capacity(n * 3);
    let mut alpha = Vec::with_capacity(n);
    for px in buf.chunks_exact(channels) {
        match channels {
            1 => {
                rgb.extend_from_slice(&[px[0]; 3]);
                alpha.push(255);
            }
            2 => {
                rgb.extend_from_slice(&[px[0]; 3]);
                alpha.push(px[1]);
            }
            3 => {
                rgb.extend_from_slice(px);
                alpha.push(255);
            }
            _ => {
                rgb.extend_from_slice(&px[..3]);
                alpha.push(px[3]);
            }
        }
    }
    Ok(Picture {
        width,
        height,
        rgb: deflate(&rgb),
        alpha: deflate(&alpha),
    })
}

pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}
