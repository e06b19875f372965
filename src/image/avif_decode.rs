//! AVIF input: avif-parse finds the AV1 data of the primary item (and of its alpha item),
//! libdav1d decodes it, and the YCbCr planes become RGB here by the matrix and range the
//! AV1 sequence header names. libdav1d is built from source and linked statically
//! (libdav1d-sys) when the `avif-input` feature is on, as scripts/ensure-built.js chooses
//! (always for a release); without it AVIF input is refused with a message that names the
//! tools to install.
//!
//! The container's rotation and mirror (irot/imir) become the equivalent EXIF orientation,
//! and its ICC profile is applied, both after the resize as for a JPEG (avif_boxes.rs).
//!
//! Caveats: the first image only (no AVIF sequences); without an ICC profile colour is
//! taken as sRGB (nclx primaries other than BT.709 are not converted); subsampled chroma
//! is upsampled by repeating samples.

use std::io::Cursor;
use std::mem::MaybeUninit;
use std::ptr;

use libdav1d_sys as sys;
use sys::Dav1dMatrixCoefficients as Matrix;
use sys::Dav1dPixelLayout as Layout;

use super::error::{ImageError, Result};
use super::header::Header;
use super::pixels::Pixels;

fn corrupt(what: impl std::fmt::Display) -> ImageError {
    ImageError::corrupt(format!("cannot decode the AVIF: {what}"))
}

fn parse(bytes: &[u8]) -> Result<avif_parse::AvifData> {
    // avif-parse sizes allocations by what the boxes claim: make sure no claim is
    // larger than the file first.
    super::avif_boxes::ensure_sound(bytes)?;
    // avif-parse checks its own state with assertions that a damaged file can trip
    // (found by the fuzzer): a panic there is a corrupt file, not a crash.
    let parsed = std::panic::catch_unwind(|| avif_parse::read_avif(&mut Cursor::new(bytes)))
        .map_err(|_| corrupt("its boxes are inconsistent"))?;
    parsed.map_err(|e| match e {
        avif_parse::Error::Unsupported(what) => {
            ImageError::unsupported(format!("this AVIF is not supported: {what}"))
        }
        other => corrupt(other),
    })
}

/// The header, from the container and the AV1 sequence header (no pixels decoded).
pub fn header(bytes: &[u8]) -> Result<Header> {
    let avif = parse(bytes)?;
    let colour = avif.primary_item_metadata().map_err(corrupt)?;
    let alpha = avif.alpha_item.is_some();
    let item = super::avif_boxes::primary_item(bytes);
    let channels = if colour.monochrome { 1 } else { 3 } + alpha as u8;
    Ok(Header {
        width: colour.max_frame_width.get(),
        height: colour.max_frame_height.get(),
        channels,
        has_alpha: alpha,
        space: if colour.monochrome { "b-w" } else { "srgb" },
        orientation: item.orientation,
        icc: item.icc,
        bits_per_sample: 8,
        ..Header::default()
    })
}

/// A decoded AV1 picture, released on drop.
struct Picture(sys::Dav1dPicture);

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: the picture came from dav1d_get_picture and is released once.
        unsafe { sys::dav1d_picture_unref(&mut self.0) };
    }
}

impl Picture {
    fn size(&self) -> (usize, usize) {
        (self.0.p.w as usize, self.0.p.h as usize)
    }

    /// Sample `(x, y)` of `plane` (0 = Y, 1 = U, 2 = V) scaled to 0.0..=1.0.
    fn sample(&self, plane: usize, x: usize, y: usize) -> f32 {
        let stride = self.0.stride[plane.min(1)];
        let max = ((1u32 << self.0.p.bpc) - 1) as f32;
        // SAFETY: (x, y) lies inside the plane (callers scale chroma coordinates by the
        // layout's subsampling), and dav1d keeps the planes alive until the unref.
        unsafe {
            let row = (self.0.data[plane] as *const u8).offset(y as isize * stride);
            if self.0.p.bpc == 8 {
                *row.add(x) as f32 / max
            } else {
                *(row as *const u16).add(x) as f32 / max
            }
        }
    }

    fn full_range(&self) -> bool {
        // SAFETY: a decoded picture carries its sequence header.
        unsafe { (*self.0.seq_hdr).color_range != 0 }
    }

    /// The matrix code as coded (0..=255): libdav1d copies it from the bitstream unchecked,
    /// so it is read as the integer it is, never as the bindings' Rust enum.
    fn matrix(&self) -> u32 {
        // SAFETY: as above; the enum is `repr(u32)`, so its field is a u32 in memory.
        unsafe { ptr::addr_of!((*self.0.seq_hdr).mtrx).cast::<u32>().read() }
    }
}

/// One AV1 still decoded by libdav1d (one thread: an image is one job on offload's pool).
fn decode_av1(data: &[u8], max_pixels: u32) -> Result<Picture> {
    // SAFETY: the calls follow dav1d's API: default settings, open, feed a buffer dav1d
    // owns (dav1d_data_create), take the picture, close; each error path releases what
    // was made before it.
    unsafe {
        let mut settings = MaybeUninit::<sys::Dav1dSettings>::zeroed();
        sys::dav1d_default_settings(settings.as_mut_ptr());
        let mut settings = settings.assume_init();
        settings.n_threads = 1;
        settings.max_frame_delay = 1;
        settings.frame_size_limit = max_pixels;
        let mut ctx: *mut sys::Dav1dContext = ptr::null_mut();
        if sys::dav1d_open(&mut ctx, &settings) != 0 {
            return Err(ImageError::unsupported("libdav1d would not start"));
        }
        let mut input = MaybeUninit::<sys::Dav1dData>::zeroed().assume_init();
        let buffer = sys::dav1d_data_create(&mut input, data.len());
        if buffer.is_null() {
            sys::dav1d_close(&mut ctx);
            return Err(ImageError::too_large(
                "libdav1d could not allocate the AV1 data",
            ));
        }
        ptr::copy_nonoverlapping(data.as_ptr(), buffer, data.len());
        let eagain = -libc::EAGAIN;
        let mut picture = MaybeUninit::<sys::Dav1dPicture>::zeroed().assume_init();
        let mut result = Err(corrupt("the AV1 data holds no picture"));
        loop {
            if input.sz > 0 {
                let sent = sys::dav1d_send_data(ctx, &mut input);
                if sent < 0 && sent != eagain {
                    result = Err(corrupt(format!("libdav1d error {sent}")));
                    break;
                }
            }
            let got = sys::dav1d_get_picture(ctx, &mut picture);
            if got == 0 {
                result = Ok(Picture(picture));
                break;
            }
            if got != eagain {
                result = Err(corrupt(format!("libdav1d error {got}")));
                break;
            }
            if input.sz == 0 {
                // Everything sent and no picture yet: one more call drains the decoder.
                let got = sys::dav1d_get_picture(ctx, &mut picture);
                if got == 0 {
                    result = Ok(Picture(picture));
                }
                break;
            }
        }
        if input.sz > 0 {
            sys::dav1d_data_unref(&mut input);
        }
        sys::dav1d_close(&mut ctx);
        result
    }
}

/// (Kr, Kb) of a matrix; `None` for identity (the planes are G, B, R).
fn coefficients(matrix: u32) -> Option<(f32, f32)> {
    const IDENTITY: u32 = Matrix::DAV1D_MC_IDENTITY as u32;
    const BT709: u32 = Matrix::DAV1D_MC_BT709 as u32;
    const BT2020_NCL: u32 = Matrix::DAV1D_MC_BT2020_NCL as u32;
    const BT2020_CL: u32 = Matrix::DAV1D_MC_BT2020_CL as u32;
    const FCC: u32 = Matrix::DAV1D_MC_FCC as u32;
    const SMPTE240: u32 = Matrix::DAV1D_MC_SMPTE240 as u32;
    match matrix {
        IDENTITY => None,
        BT709 => Some((0.2126, 0.0722)),
        BT2020_NCL | BT2020_CL => Some((0.2627, 0.0593)),
        FCC => Some((0.30, 0.11)),
        SMPTE240 => Some((0.212, 0.087)),
        // BT.601 (470BG, 170M) and unspecified, as libavif and libheif read them.
        _ => Some((0.299, 0.114)),
    }
}

/// A luma (or alpha) sample in 0..=1 from its coded range: limited range spans 16..=235
/// (scaled to the bit depth by `scale`, the depth's maximum ÷ 255).
fn expand_luma(v: f32, full: bool, scale: f32) -> f32 {
    if full {
        v
    } else {
        (v / scale * 255.0 - 16.0) / 219.0
    }
}

/// Decodes the primary image (and its alpha) of an AVIF file to 8-bit pixels.
pub fn decode(bytes: &[u8], max_pixels: u32) -> Result<Pixels> {
    let avif = parse(bytes)?;
    let colour = decode_av1(&avif.primary_item, max_pixels)?;
    let alpha = match &avif.alpha_item {
        Some(data) => Some(decode_av1(data, max_pixels)?),
        None => None,
    };
    let (w, h) = colour.size();
    if let Some(a) = &alpha {
        if a.size() != (w, h) {
            return Err(corrupt("its alpha plane is not the size of its image"));
        }
    }
    let grey = colour.0.p.layout == Layout::DAV1D_PIXEL_LAYOUT_I400;
    let (sx, sy) = match colour.0.p.layout {
        Layout::DAV1D_PIXEL_LAYOUT_I420 => (1, 1),
        Layout::DAV1D_PIXEL_LAYOUT_I422 => (1, 0),
        _ => (0, 0),
    };
    let bpc = colour.0.p.bpc as u32;
    let full = colour.full_range();
    let matrix = coefficients(colour.matrix());
    let scale = ((1u32 << bpc) - 1) as f32 / 255.0;
    let luma = |v: f32| expand_luma(v, full, scale);
    let chroma = |v: f32| {
        if full {
            v - (1u32 << (bpc - 1)) as f32 / ((1u32 << bpc) - 1) as f32
        } else {
            // Limited range: chroma spans 16..=240 around 128.
            (v / scale * 255.0 - 128.0) / 224.0
        }
    };
    let to8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
    let channels = if grey { 1 } else { 3 } + alpha.is_some() as usize;
    let mut data = Vec::with_capacity(w * h * channels);
    for y in 0..h {
        for x in 0..w {
            let yy = luma(colour.sample(0, x, y));
            if grey {
                data.push(to8(yy));
            } else {
                let (cx, cy) = (x >> sx, y >> sy);
                let (u, v) = (colour.sample(1, cx, cy), colour.sample(2, cx, cy));
                let (r, g, b) = match matrix {
                    // Identity: Y is G, U is B, V is R.
                    None => (luma(v), yy, luma(u)),
                    Some((kr, kb)) => {
                        let (cb, cr) = (chroma(u), chroma(v));
                        let r = yy + (2.0 - 2.0 * kr) * cr;
                        let b = yy + (2.0 - 2.0 * kb) * cb;
                        let g = (yy - kr * r - kb * b) / (1.0 - kr - kb);
                        (r, g, b)
                    }
                };
                data.extend_from_slice(&[to8(r), to8(g), to8(b)]);
            }
            if let Some(a) = &alpha {
                data.push(to8(expand_luma(a.sample(0, x, y), a.full_range(), scale)));
            }
        }
    }
    let mut img = Pixels::new(w as u32, h as u32, channels as u8, data);
    if avif.premultiplied_alpha && alpha.is_some() {
        img = img.unpremultiplied();
    }
    Ok(img)
}
