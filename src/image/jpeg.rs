//! JPEG through libjpeg (mozjpeg's build of libjpeg-turbo, SIMD when nasm was there at
//! build time): decode at 1/2, 1/4 or 1/8 scale in the DCT domain ("shrink-on-load"), and
//! encode with libjpeg-turbo's defaults plus optimised Huffman tables, as sharp does.
//!
//! libjpeg reports fatal errors through `error_exit`, which must not return; ours unwinds
//! a Rust panic through the C frames (`C-unwind`) and `guarded` catches it. Warnings
//! (a truncated file, garbage between markers) are counted per thread, because libjpeg
//! still hands out pixels for them: grey rows for missing data.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mozjpeg::{ColorSpace, Compress, Decompress, Marker};
use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr, jpeg_std_error};

use super::colour;
use super::error::{ImageError, Result};
use super::pixels::Pixels;

thread_local! {
    static WARNINGS: Cell<u32> = const { Cell::new(0) };
    static FIRST_WARNING: Cell<i32> = const { Cell::new(0) };
}

fn message(cinfo: &mut jpeg_common_struct) -> String {
    // SAFETY: libjpeg hands us its live struct; format_message writes at most 80 bytes.
    unsafe {
        let err = &*cinfo.err;
        let mut buffer = [0u8; 80];
        if let Some(format) = err.format_message {
            let format: unsafe extern "C-unwind" fn(&mut jpeg_common_struct, &mut [u8; 80]) =
                std::mem::transmute(format);
            format(cinfo, &mut buffer);
        }
        let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
        String::from_utf8_lossy(&buffer[..end]).into_owned()
    }
}

extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    let text = message(cinfo);
    std::panic::resume_unwind(Box::new(text));
}

extern "C-unwind" fn emit_message(cinfo: &mut jpeg_common_struct, level: std::os::raw::c_int) {
    if level < 0 {
        WARNINGS.with(|w| w.set(w.get() + 1));
        // SAFETY: the error manager libjpeg is using.
        let code = unsafe { (*cinfo.err).msg_code };
        FIRST_WARNING.with(|f| {
            if f.get() == 0 {
                f.set(code)
            }
        });
    }
}

fn error_manager() -> jpeg_error_mgr {
    // SAFETY: jpeg_std_error fills every field of a zeroed manager.
    unsafe {
        let mut err: jpeg_error_mgr = std::mem::zeroed();
        jpeg_std_error(&mut err);
        err.error_exit = Some(error_exit);
        err.emit_message = Some(emit_message);
        err
    }
}

/// Runs libjpeg work, turning its fatal errors into `Corrupt`.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "libjpeg failed".into());
            Err(ImageError::corrupt(format!("{what}: {text}")))
        }
    }
}

fn io_error(e: std::io::Error) -> ImageError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ImageError::corrupt("the JPEG data ends early (truncated file)")
    } else {
        ImageError::corrupt(format!("cannot decode the JPEG: {e}"))
    }
}

/// The size the JPEG's frame header gives, read by libjpeg without decoding (nor
/// allocating for) any pixel.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32)> {
    guarded("cannot decode the JPEG", || {
        let d = Decompress::with_err(error_manager())
            .from_mem(bytes)
            .map_err(io_error)?;
        let (width, height) = d.size();
        Ok((width as u32, height as u32))
    })
}

/// Decodes at `1/shrink` scale (shrink is 1, 2, 4 or 8). Grey stays grey; CMYK (and YCCK)
/// becomes RGB; `adobe_inverted` says the CMYK values are stored inverted (Photoshop's APP14).
pub fn decode(
    bytes: &[u8],
    shrink: u32,
    adobe_inverted: bool,
    icc: Option<&[u8]>,
    allow_partial: bool,
) -> Result<Pixels> {
    WARNINGS.with(|w| w.set(0));
    FIRST_WARNING.with(|f| f.set(0));
    let pixels = guarded("cannot decode the JPEG", || {
        let mut d = Decompress::with_err(error_manager())
            .from_mem(bytes)
            .map_err(io_error)?;
        d.scale((8 / shrink.clamp(1, 8)) as u8);
        let colour = d.color_space();
        let (started, channels) = match colour {
            ColorSpace::JCS_GRAYSCALE => (d.grayscale(), 1),
            ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => {
                (d.to_colorspace(ColorSpace::JCS_CMYK), 4)
            }
            _ => (d.rgb(), 3),
        };
        let mut started = started.map_err(io_error)?;
        let (w, h) = (started.width(), started.height());
        let len = w * h * channels;
        // Decoded straight into uninitialised memory: zeroing 4.5 MB first costs ~1 ms.
        let mut data: Vec<u8> = Vec::with_capacity(len);
        let filled = started
            .read_scanlines_into_uninit(&mut data.spare_capacity_mut()[..len])
            .map_err(io_error)?
            .len();
        if filled != len {
            return Err(ImageError::corrupt(
                "the JPEG data ends early (truncated file)",
            ));
        }
        // SAFETY: the decoder initialised all `len` bytes (checked just above).
        unsafe { data.set_len(len) };
        started.finish().map_err(io_error)?;
        let img = Pixels::new(w as u32, h as u32, channels as u8, data);
        Ok(if channels == 4 {
            let mut cmyk = img.data;
            if adobe_inverted {
                // Adobe stores CMYK inverted (255 = no ink); ICC profiles expect 0 = no ink.
                cmyk.iter_mut().for_each(|v| *v = 255 - *v);
            }
            colour::cmyk_to_srgb(&cmyk, img.width, img.height, icc)
        } else {
            img
        })
    })?;
    let warnings = WARNINGS.with(|w| w.get());
    if warnings > 0 && !allow_partial {
        let code = FIRST_WARNING.with(|f| f.get());
        // JWRN_JPEG_EOF is libjpeg's "Premature end of JPEG file".
        let what = if code == mozjpeg_sys::JWRN_JPEG_EOF {
            "the JPEG data ends early (truncated file)".to_string()
        } else {
            format!("the JPEG data is damaged (libjpeg warning {code})")
        };
        return Err(ImageError::corrupt(format!(
            "{what}; pass failOn: 'none' to accept a partial image"
        )));
    }
    Ok(pixels)
}

pub struct JpegOptions {
    pub quality: u8,
    pub progressive: bool,
    pub chroma_444: bool,
    pub exif: Option<Vec<u8>>,
    pub icc: Option<Vec<u8>>,
}

/// Encodes grey or RGB (flatten alpha first).
pub fn encode(img: &Pixels, options: &JpegOptions) -> Result<Vec<u8>> {
    debug_assert!(img.channels == 1 || img.channels == 3);
    guarded("cannot encode the JPEG", || {
        let colour = if img.channels == 1 {
            ColorSpace::JCS_GRAYSCALE
        } else {
            ColorSpace::JCS_RGB
        };
        let mut c = Compress::new_err(Box::new(error_manager()), colour);
        // libjpeg-turbo's settings (no trellis, no scan optimisation), like sharp's
        // defaults, so sizes and speed compare like for like.
        c.set_fastest_defaults();
        c.set_size(img.width as usize, img.height as usize);
        c.set_quality(options.quality as f32);
        c.set_optimize_coding(true);
        if options.progressive {
            c.set_progressive_mode();
        }
        if img.channels == 3 {
            if options.chroma_444 {
                c.set_chroma_sampling_pixel_sizes((1, 1), (1, 1));
            } else {
                c.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
            }
        }
        let estimate = img.data.len() / 8 + 4096;
        let mut started = c
            .start_compress(Vec::with_capacity(estimate))
            .map_err(|e| ImageError::invalid(format!("JPEG encoder: {e}")))?;
        if let Some(exif) = &options.exif {
            if exif.len() <= 65533 {
                started.write_marker(Marker::APP(1), exif);
            }
        }
        if let Some(icc) = &options.icc {
            started.write_icc_profile(icc);
        }
        started
            .write_scanlines(&img.data)
            .map_err(|e| ImageError::invalid(format!("JPEG encoder: {e}")))?;
        started
            .finish()
            .map_err(|e| ImageError::invalid(format!("JPEG encoder: {e}")))
    })
}
