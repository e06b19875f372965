//! Decompression-bomb guard: the header's dimensions are checked against the pixel limit
//! before any pixel buffer exists, so a 1 MB file that claims 280 megapixels costs nothing.

use super::error::{ImageError, Result};

/// The largest side any decoder here is asked to handle, whatever the pixel limit: libjpeg
/// and libwebp stop at 65 535 anyway, and 32-bit offsets overflow past it.
pub const MAX_SIDE: u32 = 65_535;

pub fn check(width: u32, height: u32, limit: Option<u64>) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(ImageError::corrupt(format!(
            "the image header gives an empty size ({width}×{height})"
        )));
    }
    let pixels = width as u64 * height as u64;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(ImageError::too_large(format!(
            "the image is {width}×{height}; offload reads at most {MAX_SIDE} pixels a side"
        )));
    }
    if let Some(limit) = limit {
        if pixels > limit {
            return Err(ImageError::too_large(format!(
                "the image is {width}×{height} ({pixels} pixels), over limitInputPixels ({limit})"
            )));
        }
    }
    Ok(())
}
