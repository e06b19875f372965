//! WebP decoded by libwebp straight to a smaller size ("shrink-on-load", as sharp does for
//! WebP): libwebp's rescaler averages each output pixel's area of the source while it
//! decodes rows, so the full-size image is never held in memory. Full-size WebP decodes
//! stay with the `image` crate (decode.rs), which also gives partial decodes when asked.

use libwebp_sys as sys;

use super::error::{ImageError, Result};
use super::pixels::Pixels;

/// Decodes a still WebP at `width`×`height` (smaller than stored), RGBA when `alpha`.
pub fn decode(bytes: &[u8], width: u32, height: u32, alpha: bool) -> Result<Pixels> {
    let channels: usize = if alpha { 4 } else { 3 };
    let stride = width as usize * channels;
    let mut data = vec![0u8; stride * height as usize];
    // SAFETY: the config is initialised by libwebp before use, and the output buffer it
    // writes to is `data`, which outlives the call and has `stride × height` bytes.
    let status = unsafe {
        let mut config: sys::WebPDecoderConfig = std::mem::zeroed();
        if !sys::WebPInitDecoderConfig(&mut config) {
            return Err(ImageError::unsupported(
                "libwebp refused its decoder configuration (version mismatch)",
            ));
        }
        config.options.use_scaling = 1;
        config.options.scaled_width = width as i32;
        config.options.scaled_height = height as i32;
        config.output.colorspace = if alpha {
            sys::WEBP_CSP_MODE::MODE_RGBA
        } else {
            sys::WEBP_CSP_MODE::MODE_RGB
        };
        config.output.is_external_memory = 1;
        config.output.u.RGBA = sys::WebPRGBABuffer {
            rgba: data.as_mut_ptr(),
            stride: stride as i32,
            size: data.len(),
        };
        let status = sys::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config);
        sys::WebPFreeDecBuffer(&mut config.output);
        status
    };
    match status {
        sys::VP8StatusCode::VP8_STATUS_OK => Ok(Pixels::new(width, height, channels as u8, data)),
        sys::VP8StatusCode::VP8_STATUS_NOT_ENOUGH_DATA => Err(ImageError::corrupt(
            "the WebP data ends early (truncated file)",
        )),
        other => Err(ImageError::corrupt(format!(
            "cannot decode the WebP: libwebp says {other:?}"
        ))),
    }
}
