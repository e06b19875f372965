//! The image engine: decode, resize, orient, composite and encode, on offload's own
//! threads (threads.rs). Plain Rust, alone: it uses neither the process nor the pool
//! engine, nor their runtime; `src/js/image.rs` binds it.
//!
//! The model, stage by stage (each stage checks the abort flag before it starts):
//! 1. The header (header.rs) is read without decoding (metadata.rs) and its size checked
//!    against the pixel limit (limits.rs) before anything large is allocated.
//! 2. The output geometry follows sharp's rules (geometry.rs). JPEG is decoded at 1/2, 1/4
//!    or 1/8 scale in the DCT domain when the target allows it, as sharp picks the factor.
//! 3. A SIMD convolution resize (resize.rs), premultiplied only when alpha is real.
//! 4. EXIF orientation is applied to the small, resized image (orient.rs).
//! 5. Cover crops and contain embeds, then overlays (composite.rs), then encoding.
//!
//! Caveats: everything is 8 bits per sample after decoding (16-bit PNG comes out 8-bit);
//! embedded ICC profiles are converted to sRGB after the resize (colour.rs); CMYK without
//! a profile uses the plain formula (sharp has a built-in CMYK profile);
//! AVIF is read only where libdav1d was found at build time (avif_decode.rs, the
//! `avif-input` feature); only JPEG supports a partial decode.
//!
//! Raw pixels (`Format::Raw`) skip stages 1–2 on input (`resize_raw`: the caller gives the
//! geometry) and the encoder on output: the buffer is the pipeline's pixels as RGB, or
//! RGBA when there is alpha (grey is widened, as sharp does).

pub mod avif;
mod avif_boxes;
#[cfg(feature = "avif-input")]
pub mod avif_decode;
pub mod colour;
pub mod composite;
pub mod decode;
pub mod encode;
pub mod error;
pub mod geometry;
pub mod header;
pub mod jpeg;
pub mod limits;
pub mod metadata;
pub mod options;
pub mod orient;
pub mod pixels;
pub mod resize;
pub mod threads;
pub mod tiff_jpeg;
pub mod webp_container;
pub mod webp_scaled;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::{ErrorKind, ImageError, Result};
pub use header::Header;
pub use options::{Fit, Format, Gravity, Kernel, Overlay, RawInput, ResizeOptions};

use decode::LoadScale;
use encode::Carry;
use pixels::Pixels;

/// An encoded result.
#[derive(Debug, Clone)]
pub struct Output {
    pub data: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub channels: u8,
}

fn check(abort: &dyn Fn() -> bool) -> Result<()> {
    if abort() {
        Err(ImageError::aborted())
    } else {
        Ok(())
    }
}

/// sharp's shrink-on-load: a JPEG decodes at the largest DCT scale the common shrink of
/// both axes allows; a still WebP that shrinks at all is decoded by libwebp straight at
/// that shrink (sizes rounded half to even, as libvips' `rint`).
fn load_scale(header: &Header, upright: (u32, u32), o: &ResizeOptions) -> LoadScale {
    if o.width.is_none() && o.height.is_none() {
        return LoadScale::Full;
    }
    let (hs, vs) = geometry::resolve_shrink(
        upright.0,
        upright.1,
        o.width,
        o.height,
        o.fit,
        o.without_enlargement,
    );
    match header.format {
        Some(Format::Jpeg) => match geometry::jpeg_shrink_on_load(hs, vs) {
            1 => LoadScale::Full,
            shrink => LoadScale::JpegDct(shrink),
        },
        Some(Format::Webp) if header.pages <= 1 && hs.min(vs) > 1.0 => {
            let shrink = hs.min(vs);
            let size = |len: u32| ((len as f64 / shrink).round_ties_even() as u32).max(1);
            LoadScale::WebpTo(size(header.width), size(header.height))
        }
        _ => LoadScale::Full,
    }
}

/// The format written when `options.format` is absent.
pub fn default_output(input: Format) -> Format {
    if input.can_write() {
        input
    } else {
        Format::Png
    }
}

/// Decodes, resizes and encodes `input`. `abort` is polled between stages.
pub fn resize(input: &[u8], o: &ResizeOptions, abort: &dyn Fn() -> bool) -> Result<Output> {
    check(abort)?;
    let header = metadata::read(input)?;
    let format = header.format.expect("read() sets the format");
    limits::check(header.width, header.height, o.limit_input_pixels)?;
    let out_format = o.format.unwrap_or_else(|| default_output(format));
    let orientation = if o.auto_orient { header.orientation } else { 1 };
    let swap = orient::swaps_axes(orientation);
    // An animated PNG is read as its first frame: only GIF and WebP frames are decoded.
    let frames = header.pages > 1 && matches!(format, Format::Gif | Format::Webp);
    if o.animated && frames && matches!(out_format, Format::Gif | Format::Webp) {
        return animated(input, &header, o, out_format, abort);
    }

    let (uw, uh) = if swap {
        (header.height, header.width)
    } else {
        (header.width, header.height)
    };
    let scale = load_scale(&header, (uw, uh), o);
    check(abort)?;
    let img = decode::decode(input, &header, scale, o.allow_partial)?;
    check(abort)?;
    let planned = match scale {
        // libjpeg rounds a scaled size up (450 rows at 1/8 give 57, the last one partial);
        // libvips counts it down, and sharp plans the output size from that count (600×450
        // inside 60×60 is 60×45, not 60×46). The reduction covers a window centred on the
        // counted size (resize::Window); the partial row only feeds the kernel's edge.
        LoadScale::JpegDct(shrink) => (
            (header.width / shrink).max(1),
            (header.height / shrink).max(1),
        ),
        LoadScale::WebpTo(..) | LoadScale::Full => (img.width, img.height),
    };
    let mut img = transform(img, orientation, planned, o)?;
    if let (Some(icc), false) = (header.icc.as_deref(), header.space == "cmyk") {
        img = colour::rgb_to_srgb(img, icc);
    }
    let carry = if o.keep_metadata {
        Carry {
            exif: header.exif.clone().map(|mut e| {
                metadata::exif_reset_orientation(&mut e);
                e
            }),
            // The pixels were converted to sRGB (colour.rs), so the input's profile
            // no longer describes them; untagged JPEG means sRGB.
            icc: None,
        }
    } else {
        Carry::default()
    };
    finish(img, out_format, o, carry, abort)
}

/// Resizes raw pixels (`data`: `raw.width × raw.height × raw.channels` bytes, interleaved,
/// 8 bits per sample). Without `o.format` the output is raw too, as in sharp.
pub fn resize_raw(
    data: &[u8],
    raw: RawInput,
    o: &ResizeOptions,
    abort: &dyn Fn() -> bool,
) -> Result<Output> {
    check(abort)?;
    debug_assert!(options::ranges::RAW_CHANNELS.contains(&raw.channels));
    debug_assert!(options::ranges::RAW_SIDE.contains(&raw.width));
    debug_assert!(options::ranges::RAW_SIDE.contains(&raw.height));
    // lib/image.js checks a Buffer's length; a file's is known only here.
    let expected = raw.width as u64 * raw.height as u64 * raw.channels as u64;
    if data.len() as u64 != expected {
        return Err(ImageError::invalid(format!(
            "raw input of {}×{}×{} needs {expected} bytes, the buffer has {}",
            raw.width,
            raw.height,
            raw.channels,
            data.len()
        )));
    }
    limits::check(raw.width, raw.height, o.limit_input_pixels)?;
    let img = Pixels::new(raw.width, raw.height, raw.channels, data.to_vec());
    let img = transform(img, 1, (raw.width, raw.height), o)?;
    finish(
        img,
        o.format.unwrap_or(Format::Raw),
        o,
        Carry::default(),
        abort,
    )
}

/// The stages after the geometry: overlays, then encoding.
fn finish(
    img: Pixels,
    format: Format,
    o: &ResizeOptions,
    carry: Carry,
    abort: &dyn Fn() -> bool,
) -> Result<Output> {
    let img = if o.composite.is_empty() {
        img
    } else {
        composite::apply(img, &o.composite, o)?
    };
    check(abort)?;
    let img = if format == Format::Raw {
        img.to_colour()
    } else {
        img
    };
    debug_assert!(
        format.can_write(),
        "lib/image.js asks only for a format offload writes"
    );
    // JPEG has no alpha: the encoder flattens it onto the background.
    let alpha_dropped = format == Format::Jpeg && img.has_alpha();
    let (width, height, channels) = (img.width, img.height, img.channels - alpha_dropped as u8);
    let data = encode::encode(img, format, o, carry)?;
    check(abort)?;
    Ok(Output {
        data,
        format,
        width,
        height,
        channels,
    })
}

/// Resize (in stored orientation), orient, then crop or embed. The geometry is planned as
/// if the image (in stored orientation) were `planned` pixels, which differs from its real
/// size only after a shrink-on-load.
fn transform(
    img: Pixels,
    orientation: u8,
    planned: (u32, u32),
    o: &ResizeOptions,
) -> Result<Pixels> {
    let swap = orient::swaps_axes(orientation);
    let (w, h) = if swap {
        (planned.1, planned.0)
    } else {
        planned
    };
    let plan = geometry::plan(
        w,
        h,
        o.width,
        o.height,
        o.fit,
        o.position,
        o.without_enlargement,
    );
    let (rw, rh, shrink) = if swap {
        (
            plan.resize_height,
            plan.resize_width,
            (plan.vshrink, plan.hshrink),
        )
    } else {
        (
            plan.resize_width,
            plan.resize_height,
            (plan.hshrink, plan.vshrink),
        )
    };
    let window = resize::Window::centred(planned, (rw, rh), shrink);
    let img = resize::resize(img, rw, rh, o.kernel, window)?;
    let mut img = orient::apply(img, orientation);
    if let Some(r) = plan.crop {
        img = img.crop(r.left, r.top, r.width, r.height);
    }
    if let Some((left, top)) = plan.embed {
        if o.background[3] < 255 {
            img = img.with_alpha();
        }
        img = img.embed(plan.width, plan.height, left, top, o.background);
    }
    Ok(img)
}

/// Every frame resized the same way, written as an animated GIF or WebP.
fn animated(
    input: &[u8],
    header: &Header,
    o: &ResizeOptions,
    format: Format,
    abort: &dyn Fn() -> bool,
) -> Result<Output> {
    let total = header.width as u64 * header.height as u64 * header.pages as u64;
    if let Some(limit) = o.limit_input_pixels {
        if total > limit {
            return Err(ImageError::too_large(format!(
                "the animation has {total} pixels in {} frames, over limitInputPixels ({limit})",
                header.pages
            )));
        }
    }
    let frames = decode::decode_frames(input, header)?;
    let mut out = Vec::with_capacity(frames.len());
    for f in frames {
        check(abort)?;
        let size = (f.pixels.width, f.pixels.height);
        out.push(decode::Frame {
            pixels: transform(f.pixels, 1, size, o)?,
            delay_ms: f.delay_ms,
        });
    }
    let (width, height) = out
        .first()
        .map_or((0, 0), |f| (f.pixels.width, f.pixels.height));
    let data = if format == Format::Webp {
        encode::animated_webp(&out, o)?
    } else {
        encode::gif(&out)?
    };
    check(abort)?;
    Ok(Output {
        data,
        format,
        width,
        height,
        channels: 4,
    })
}

/// The header of `input`, without decoding pixels.
pub fn metadata(input: &[u8]) -> Result<Header> {
    metadata::read(input)
}

/// Reads a whole input file; its errors name the syscall and path as `fs.readFile`'s do.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| ImageError::io(&e, "open", Some(path)))?;
    let mut data = Vec::new();
    file.read_to_end(&mut data)
        .map_err(|e| ImageError::io(&e, "read", None))?;
    Ok(data)
}

/// Writes `data` to `path` through a temporary file in the same directory and a rename,
/// so that `path` is never seen half-written and a failure leaves nothing behind.
/// Errors are reported as `fs.writeFile(path)` would report them: the temporary
/// file is ours, not the caller's, so failing to create it or to rename it onto
/// `path` (EISDIR when `path` is a directory) is an `open` of `path`.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.offload-{}-{:x}.tmp",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let open = |e: std::io::Error| ImageError::io(&e, "open", Some(path));
    let mut file = std::fs::File::create(&tmp).map_err(open)?;
    let written = (|| {
        file.write_all(data)
            .and_then(|()| file.sync_data())
            .map_err(|e| ImageError::io(&e, "write", None))?;
        std::fs::rename(&tmp, path).map_err(open)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
