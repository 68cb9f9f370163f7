//! The seal picture: a PNG decoded to 8-bit RGB plus an 8-bit alpha channel, which the
//! PDF draws as an image XObject whose /SMask is the alpha (so the seal's transparent
//! background shows the page beneath).
//!
//! Invariant: the picture is decoded fully before anything is written, so a bad PNG fails
//! `prepare` without touching the document; sizes are bounded before decoding.
//!
//! A seal uses the same picture every time: [`decode_png_cached`] keeps the last
//! [`CACHED_PICTURES`] decoded pictures by the SHA-256 of their PNG, so a seal's picture is
//! decoded and compressed once per process (decoding is a pure function of the bytes).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

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

/// How many decoded pictures [`decode_png_cached`] keeps (a node's busiest seals).
const CACHED_PICTURES: usize = 256;

/// [`decode_png`], from a process-wide cache of the recently used pictures. Refusals are not
/// cached.
pub(crate) fn decode_png_cached(data: &[u8]) -> Result<Arc<Picture>, PdfError> {
    static CACHE: Mutex<Option<HashMap<[u8; 32], Arc<Picture>>>> = Mutex::new(None);
    let key: [u8; 32] = Sha256::digest(data).into();
    if let Some(p) = CACHE
        .lock()
        .expect("picture cache lock")
        .as_ref()
        .and_then(|m| m.get(&key))
    {
        return Ok(p.clone());
    }
    let picture = Arc::new(decode_png(data)?);
    let mut cache = CACHE.lock().expect("picture cache lock");
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() >= CACHED_PICTURES {
        // Simpler than an LRU and enough: the working set is a node's seals in use.
        map.clear();
    }
    map.insert(key, picture.clone());
    Ok(picture)
}

pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w`×`h` RGBA PNG, red with a transparent corner.
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut px = Vec::new();
        for i in 0..w * h {
            px.extend_from_slice(&[200, 0, 0, if i == 0 { 0 } else { 255 }]);
        }
        let mut writer = enc.write_header().unwrap();
        writer.write_image_data(&px).unwrap();
        drop(writer);
        out
    }

    #[test]
    fn a_picture_is_decoded_once_and_a_bad_one_never_kept() {
        let a = png(64, 64);
        let first = decode_png_cached(&a).unwrap();
        let again = decode_png_cached(&a).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "served from the cache");
        let fresh = decode_png(&a).unwrap();
        assert_eq!(
            (first.width, first.height, &first.rgb, &first.alpha),
            (fresh.width, fresh.height, &fresh.rgb, &fresh.alpha)
        );
        // Another picture is another entry.
        let b = decode_png_cached(&png(65, 64)).unwrap();
        assert_eq!(b.width, 65);
        assert!(!Arc::ptr_eq(&first, &b));
        // A truncated PNG is refused every time.
        for _ in 0..2 {
            assert!(matches!(
                decode_png_cached(&a[..a.len() / 2]),
                Err(PdfError::BadPicture(_))
            ));
        }
    }
}
