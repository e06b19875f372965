//! AVIF encoding through ravif (rav1e, pure Rust, built without its nasm assembly so the
//! crate compiles wherever Rust does). One thread per image: offload's image threads are the
//! parallelism, as for the other encoders.
//!
//! sharp's options map onto ravif's: `quality` 1..=100 is passed through (ravif's scale is
//! libavif's, as sharp's is), for colour and alpha alike; `effort` 0 (fastest) ..= 9
//! (slowest) becomes rav1e's speed preset `10 - effort` (10 fastest ..= 1 slowest), so
//! sharp's default effort 4 is speed 6. 8-bit AV1, 4:4:4 YCbCr, as sharp writes by default.

use super::error::{ImageError, Result};
use super::options::ranges;
use super::pixels::Pixels;

/// rav1e's speed preset for sharp's `effort`.
pub fn speed(effort: u8) -> u8 {
    debug_assert!(ranges::AVIF_EFFORT.contains(&effort));
    10 - effort
}

pub fn encode(img: Pixels, quality: u8, effort: u8) -> Result<Vec<u8>> {
    let img = img.to_colour();
    let (w, h) = (img.width as usize, img.height as usize);
    debug_assert!(ranges::QUALITY.contains(&quality));
    let quality = quality as f32;
    let encoder = ravif::Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(quality)
        .with_speed(speed(effort))
        .with_bit_depth(ravif::BitDepth::Eight)
        .with_num_threads(Some(1));
    let fail = |e: ravif::Error| ImageError::invalid(format!("AVIF encoder: {e}"));
    let encoded = if img.channels == 4 {
        let px: Vec<ravif::RGBA8> = img
            .data
            .chunks_exact(4)
            .map(|p| ravif::RGBA8::new(p[0], p[1], p[2], p[3]))
            .collect();
        encoder
            .encode_rgba(ravif::Img::new(px.as_slice(), w, h))
            .map_err(fail)?
    } else {
        let px: Vec<ravif::RGB8> = img
            .data
            .chunks_exact(3)
            .map(|p| ravif::RGB8::new(p[0], p[1], p[2]))
            .collect();
        encoder
            .encode_rgb(ravif::Img::new(px.as_slice(), w, h))
            .map_err(fail)?
    };
    Ok(encoded.avif_file)
}
