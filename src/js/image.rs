//! `resize`, `metadata` and the number of image threads. Each call becomes one job on the
//! image threads (`crate::image::threads`, never libuv's threadpool); its promise is settled
//! from that thread through a deferred. Failures resolve with `errorCode`/`errorMessage` and
//! `lib/image.js` turns them into `Error`s with `code`, so the stack points at the call.
//!
//! Options cross as spawn's do: numbers in one `Float64Array` at the `ImageSlot` positions
//! (booleans as `ImageFlag` bits, names as indices into the `ImageName` lists), the input,
//! the overlays' inputs and the output path beside it. lib/image.js has checked every value
//! against `ImageRange` and filled the `ImageDefault`s; this side only `debug_assert!`s.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Either, Env, Float64ArraySlice, Object};
use napi::JsDeferred;
use napi_derive::napi;

use super::spawn::whole;

use crate::image::{
    self, threads, Fit, Format, Gravity, Header, ImageError, Kernel, Overlay, RawInput,
    ResizeOptions,
};

/// Positions in the `numbers` array of [`image_resize`]; the overlays' numbers follow from
/// `LEN`, `ImageOverlaySlot.LEN` each. Absent `WIDTH`, `HEIGHT`, `FORMAT` (the input's) and
/// `RAW_*` (not raw) are `NOT_SET`, as in spawn's and a pool's numbers; `LIMIT_INPUT_PIXELS`
/// is 0 for no limit, as sharp's `limitInputPixels: 0`.
/// Exported to JS as `ImageSlot`.
#[napi(js_name = "ImageSlot")]
pub mod at {
    #[napi]
    pub const FLAGS: u32 = 0;
    #[napi]
    pub const WIDTH: u32 = 1;
    #[napi]
    pub const HEIGHT: u32 = 2;
    #[napi]
    pub const FIT: u32 = 3;
    #[napi]
    pub const POSITION: u32 = 4;
    #[napi]
    pub const KERNEL: u32 = 5;
    #[napi]
    pub const FORMAT: u32 = 6;
    /// `0xRRGGBBAA`.
    #[napi]
    pub const BACKGROUND: u32 = 7;
    #[napi]
    pub const QUALITY: u32 = 8;
    #[napi]
    pub const PNG_COMPRESSION_LEVEL: u32 = 9;
    #[napi]
    pub const WEBP_EFFORT: u32 = 10;
    #[napi]
    pub const AVIF_EFFORT: u32 = 11;
    #[napi]
    pub const LIMIT_INPUT_PIXELS: u32 = 12;
    #[napi]
    pub const RAW_WIDTH: u32 = 13;
    #[napi]
    pub const RAW_HEIGHT: u32 = 14;
    #[napi]
    pub const RAW_CHANNELS: u32 = 15;
    #[napi]
    pub const LEN: u32 = 16;
}

/// Positions of one overlay's numbers; absent `TOP` and `LEFT` (placed by `GRAVITY`) are
/// NaN. Exported to JS as `ImageOverlaySlot`.
#[napi(js_name = "ImageOverlaySlot")]
pub mod overlay_at {
    #[napi]
    pub const GRAVITY: u32 = 0;
    #[napi]
    pub const TOP: u32 = 1;
    #[napi]
    pub const LEFT: u32 = 2;
    #[napi]
    pub const OPACITY: u32 = 3;
    #[napi]
    pub const LEN: u32 = 4;
}

/// Bits of `numbers[FLAGS]`. Exported to JS as `ImageFlag`.
#[napi(js_name = "ImageFlag")]
pub mod flag {
    #[napi]
    pub const WITHOUT_ENLARGEMENT: u32 = 1;
    #[napi]
    pub const JPEG_PROGRESSIVE: u32 = 2;
    #[napi]
    pub const JPEG_CHROMA_444: u32 = 4;
    #[napi]
    pub const WEBP_LOSSLESS: u32 = 8;
    #[napi]
    pub const AUTO_ORIENT: u32 = 16;
    #[napi]
    pub const KEEP_METADATA: u32 = 32;
    #[napi]
    pub const ANIMATED: u32 = 64;
    #[napi]
    pub const ALLOW_PARTIAL: u32 = 128;
}

/// The names lib/image.js accepts; a name crosses as its index in its list (`FORMATS`
/// for formats, `POSITIONS` or `POSITION_ALIASES` for positions). Results name their
/// format by its index in `FORMATS` too. Exported to JS as `ImageName`.
#[napi(js_name = "ImageName")]
pub mod names {
    use crate::image::{Fit, Format, Gravity, Kernel};

    const fn format_names<const N: usize>(formats: [Format; N]) -> [&'static str; N] {
        let mut names = [""; N];
        let mut i = 0;
        while i < N {
            names[i] = formats[i].name();
            i += 1;
        }
        names
    }

    #[napi]
    pub const FORMATS: [&str; Format::ALL.len()] = Format::NAMES;
    /// What offload writes.
    #[napi]
    pub const OUTPUT_FORMATS: [&str; Format::OUTPUTS.len()] = format_names(Format::OUTPUTS);
    /// What this build reads (AVIF only with libdav1d).
    #[napi]
    pub const INPUT_FORMATS: [&str; Format::INPUTS.len()] = format_names(Format::INPUTS);
    #[napi]
    pub const FITS: [&str; Fit::ALL.len()] = Fit::NAMES;
    #[napi]
    pub const POSITIONS: [&str; Gravity::ALL.len()] = Gravity::NAMES;
    /// sharp's other name for each of `POSITIONS`, in the same order.
    #[napi]
    pub const POSITION_ALIASES: [&str; Gravity::ALL.len()] = Gravity::ALIASES;
    #[napi]
    pub const KERNELS: [&str; Kernel::ALL.len()] = Kernel::NAMES;
}

/// The engine's defaults for what a resize leaves out (`image::options::defaults`).
/// Exported to JS as `ImageDefault`.
#[napi(js_name = "ImageDefault")]
pub mod defaults {
    use crate::image::options::defaults;

    #[napi]
    pub const FIT: &str = defaults::FIT.name();
    #[napi]
    pub const POSITION: &str = defaults::POSITION.name();
    #[napi]
    pub const KERNEL: &str = defaults::KERNEL.name();
    /// `[r, g, b, alpha]`, 0 to 255 each.
    #[napi]
    pub const BACKGROUND: [u32; 4] = {
        let [r, g, b, a] = defaults::BACKGROUND;
        [r as u32, g as u32, b as u32, a as u32]
    };
    #[napi]
    pub const QUALITY: u32 = defaults::QUALITY as u32;
    #[napi]
    pub const PNG_COMPRESSION_LEVEL: u32 = defaults::PNG_COMPRESSION_LEVEL as u32;
    #[napi]
    pub const WEBP_EFFORT: u32 = defaults::WEBP_EFFORT as u32;
    #[napi]
    pub const AVIF_EFFORT: u32 = defaults::AVIF_EFFORT as u32;
    #[napi]
    pub const AUTO_ORIENT: bool = defaults::AUTO_ORIENT;
    #[napi]
    pub const LIMIT_INPUT_PIXELS: f64 = defaults::LIMIT_INPUT_PIXELS as f64;
}

/// What each option may be, as `[min, max]` whole numbers (`image::options::ranges`, and
/// the image threads' `SIZES` for `THREADS`). Exported to JS as `ImageRange`.
#[napi(js_name = "ImageRange")]
pub mod ranges {
    use std::ops::RangeInclusive;

    use crate::image::options::ranges;
    use crate::image::threads;

    const fn u8s(r: RangeInclusive<u8>) -> [f64; 2] {
        [*r.start() as f64, *r.end() as f64]
    }

    const fn u32s(r: RangeInclusive<u32>) -> [f64; 2] {
        [*r.start() as f64, *r.end() as f64]
    }

    #[napi]
    pub const SIDE: [f64; 2] = u32s(ranges::SIDE);
    #[napi]
    pub const QUALITY: [f64; 2] = u8s(ranges::QUALITY);
    #[napi]
    pub const PNG_COMPRESSION_LEVEL: [f64; 2] = u8s(ranges::PNG_COMPRESSION_LEVEL);
    #[napi]
    pub const WEBP_EFFORT: [f64; 2] = u8s(ranges::WEBP_EFFORT);
    #[napi]
    pub const AVIF_EFFORT: [f64; 2] = u8s(ranges::AVIF_EFFORT);
    #[napi]
    pub const OVERLAY_OFFSET: [f64; 2] = [
        *ranges::OVERLAY_OFFSET.start() as f64,
        *ranges::OVERLAY_OFFSET.end() as f64,
    ];
    #[napi]
    pub const RAW_SIDE: [f64; 2] = u32s(ranges::RAW_SIDE);
    #[napi]
    pub const RAW_CHANNELS: [f64; 2] = u8s(ranges::RAW_CHANNELS);
    #[napi]
    pub const THREADS: [f64; 2] = [*threads::SIZES.start() as f64, *threads::SIZES.end() as f64];
}

#[napi(object)]
pub struct NativeImageResult {
    pub data: Option<Buffer>,
    /// An index in `ImageName.FORMATS`.
    pub format: u32,
    pub width: u32,
    pub height: u32,
    pub channels: u32,
    pub size: f64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_os: Option<NativeOsError>,
}

#[napi(object)]
pub struct NativeMetadata {
    /// An index in `ImageName.FORMATS`; absent after a failure.
    pub format: Option<u32>,
    pub width: u32,
    pub height: u32,
    pub orientation: u32,
    pub channels: u32,
    pub has_alpha: bool,
    pub space: String,
    pub density: Option<f64>,
    pub pages: u32,
    pub bits_per_sample: u32,
    pub is_progressive: bool,
    pub has_profile: bool,
    pub size: f64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_os: Option<NativeOsError>,
}

/// A failed file operation; `lib/errors.js` makes it the Error `fs` would give.
#[napi(object)]
pub struct NativeOsError {
    /// Positive, as the OS gives it.
    pub errno: i32,
    pub syscall: String,
    pub path: Option<String>,
}

/// The flag an AbortSignal sets; the job polls it between stages.
#[napi]
pub struct ImageAbort {
    flag: Arc<AtomicBool>,
}

#[napi]
impl ImageAbort {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        ImageAbort {
            flag: Arc::new(AtomicBool::new(false)),
        }
    }

    #[napi]
    pub fn abort(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }
}

/// A number of `numbers` that lib/image.js has kept to `range`.
fn small(numbers: &[f64], at: u32, range: RangeInclusive<u8>) -> u8 {
    let v = numbers[at as usize];
    debug_assert!(
        v.fract() == 0.0 && range.contains(&(v as u8)),
        "slot {at}: {v}"
    );
    v as u8
}

/// The variant whose index lib/image.js sent (an index past `all` is a bug there, and panics).
fn named<T: Copy>(all: &[T], index: f64) -> T {
    debug_assert!(index.fract() == 0.0 && index >= 0.0, "{index}");
    all[index as usize]
}

/// The engine's options (overlays without their bytes, which are read on the image thread)
/// and the raw input's geometry, from `numbers`.
fn engine_options(s: &[f64]) -> (ResizeOptions, Option<RawInput>) {
    debug_assert!(s.len() >= at::LEN as usize);
    let flags = s[at::FLAGS as usize] as u32;
    let has = |bit: u32| flags & bit != 0;
    let side = |at: u32| whole(s[at as usize]).map(|v| v as u32);
    let format = s[at::FORMAT as usize];
    let mut options = ResizeOptions {
        width: side(at::WIDTH),
        height: side(at::HEIGHT),
        fit: named(&Fit::ALL, s[at::FIT as usize]),
        position: named(&Gravity::ALL, s[at::POSITION as usize]),
        kernel: named(&Kernel::ALL, s[at::KERNEL as usize]),
        without_enlargement: has(flag::WITHOUT_ENLARGEMENT),
        background: (s[at::BACKGROUND as usize] as u32).to_be_bytes(),
        format: whole(format).map(|_| named(&Format::ALL, format)),
        quality: small(s, at::QUALITY, image::options::ranges::QUALITY),
        jpeg_progressive: has(flag::JPEG_PROGRESSIVE),
        jpeg_chroma_444: has(flag::JPEG_CHROMA_444),
        png_compression_level: small(
            s,
            at::PNG_COMPRESSION_LEVEL,
            image::options::ranges::PNG_COMPRESSION_LEVEL,
        ),
        webp_lossless: has(flag::WEBP_LOSSLESS),
        webp_effort: small(s, at::WEBP_EFFORT, image::options::ranges::WEBP_EFFORT),
        avif_effort: small(s, at::AVIF_EFFORT, image::options::ranges::AVIF_EFFORT),
        auto_orient: has(flag::AUTO_ORIENT),
        keep_metadata: has(flag::KEEP_METADATA),
        composite: Vec::new(),
        limit_input_pixels: whole(s[at::LIMIT_INPUT_PIXELS as usize]).filter(|&v| v != 0),
        animated: has(flag::ANIMATED),
        allow_partial: has(flag::ALLOW_PARTIAL),
    };
    let offset = |v: f64| (!v.is_nan()).then_some(v as i64);
    options.composite = s[at::LEN as usize..]
        .chunks_exact(overlay_at::LEN as usize)
        .map(|o| {
            let opacity = o[overlay_at::OPACITY as usize];
            debug_assert!((0.0..=1.0).contains(&opacity));
            Overlay {
                input: Vec::new(),
                gravity: named(&Gravity::ALL, o[overlay_at::GRAVITY as usize]),
                top: offset(o[overlay_at::TOP as usize]),
                left: offset(o[overlay_at::LEFT as usize]),
                opacity: opacity as f32,
            }
        })
        .collect();
    let raw = whole(s[at::RAW_CHANNELS as usize]).map(|_| RawInput {
        width: s[at::RAW_WIDTH as usize] as u32,
        height: s[at::RAW_HEIGHT as usize] as u32,
        channels: small(s, at::RAW_CHANNELS, image::options::ranges::RAW_CHANNELS),
    });
    (options, raw)
}

/// A Buffer, or a file read on the image thread.
enum Input {
    Bytes(Buffer),
    File(PathBuf),
}

impl Input {
    fn from_js(input: Either<Buffer, String>) -> Input {
        match input {
            Either::A(bytes) => Input::Bytes(bytes),
            Either::B(path) => Input::File(PathBuf::from(path)),
        }
    }

    fn with_bytes<T>(&self, f: impl FnOnce(&[u8]) -> image::Result<T>) -> image::Result<T> {
        match self {
            Input::Bytes(b) => f(b),
            Input::File(p) => f(&image::read_input(p)?),
        }
    }

    fn into_vec(self) -> image::Result<Vec<u8>> {
        match self {
            Input::Bytes(b) => Ok(b.to_vec()),
            Input::File(p) => image::read_input(&p),
        }
    }
}

type Settle<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// `error_code`, `error_message` and `error_os` of a failed job.
fn failed(e: ImageError) -> (Option<String>, Option<String>, Option<NativeOsError>) {
    let code = e.code().to_owned();
    let os = e.os.map(|os| NativeOsError {
        errno: os.errno,
        syscall: os.syscall.to_owned(),
        path: os.path,
    });
    (Some(code), Some(e.message), os)
}

/// Resizes `input` (a Buffer, or a file path); with `outputPath` the result is written
/// there instead of returned. `overlays` are the composite inputs, in the order of their
/// numbers in `numbers`; without `abort` the job cannot be aborted.
#[napi(ts_return_type = "Promise<NativeImageResult>")]
pub fn image_resize<'env>(
    env: &'env Env,
    input: Either<Buffer, String>,
    numbers: Float64ArraySlice<'_>,
    overlays: Option<Vec<Either<Buffer, String>>>,
    output_path: Option<String>,
    abort: Option<&ImageAbort>,
) -> napi::Result<Object<'env>> {
    let input = Input::from_js(input);
    let (mut options, raw) = engine_options(&numbers);
    let overlays: Vec<Input> = overlays
        .unwrap_or_default()
        .into_iter()
        .map(Input::from_js)
        .collect();
    debug_assert_eq!(overlays.len(), options.composite.len());
    let flag = abort.map(|a| a.flag.clone());
    let (deferred, promise) =
        env.create_deferred::<NativeImageResult, Settle<NativeImageResult>>()?;
    let deferred: JsDeferred<NativeImageResult, Settle<NativeImageResult>> = deferred;
    threads::global().submit(move || {
        let aborted = || flag.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for (overlay, input) in options.composite.iter_mut().zip(overlays) {
                overlay.input = input.into_vec()?;
            }
            let out = input.with_bytes(|bytes| match raw {
                Some(raw) => image::resize_raw(bytes, raw, &options, &aborted),
                None => image::resize(bytes, &options, &aborted),
            })?;
            if let Some(path) = &output_path {
                if aborted() {
                    return Err(ImageError::aborted());
                }
                image::write_atomically(std::path::Path::new(path), &out.data)?;
            }
            Ok(out)
        }))
        .unwrap_or_else(|_| {
            Err(ImageError::corrupt(
                "internal error while processing the image",
            ))
        });
        let write_to_file = output_path.is_some();
        deferred.resolve(Box::new(move |_env| {
            Ok(match run {
                Ok(out) => NativeImageResult {
                    size: out.data.len() as f64,
                    data: (!write_to_file).then(|| Buffer::from(out.data)),
                    format: out.format as u32,
                    width: out.width,
                    height: out.height,
                    channels: out.channels as u32,
                    error_code: None,
                    error_message: None,
                    error_os: None,
                },
                Err(e) => {
                    let (error_code, error_message, error_os) = failed(e);
                    NativeImageResult {
                        data: None,
                        format: 0,
                        width: 0,
                        height: 0,
                        channels: 0,
                        size: 0.0,
                        error_code,
                        error_message,
                        error_os,
                    }
                }
            })
        }));
    });
    Ok(promise)
}

fn metadata_result(header: Header, size: usize) -> NativeMetadata {
    NativeMetadata {
        format: header.format.map(|f| f as u32),
        width: header.width,
        height: header.height,
        orientation: header.orientation as u32,
        channels: header.channels as u32,
        has_alpha: header.has_alpha,
        space: header.space.to_string(),
        density: header.density,
        pages: header.pages,
        bits_per_sample: header.bits_per_sample as u32,
        is_progressive: header.progressive,
        has_profile: header.icc.is_some(),
        size: size as f64,
        error_code: None,
        error_message: None,
        error_os: None,
    }
}

/// The header of `input` (a Buffer, or a file path), read on the image threads.
#[napi(ts_return_type = "Promise<NativeMetadata>")]
pub fn image_metadata<'env>(
    env: &'env Env,
    input: Either<Buffer, String>,
) -> napi::Result<Object<'env>> {
    let input = Input::from_js(input);
    let (deferred, promise) = env.create_deferred::<NativeMetadata, Settle<NativeMetadata>>()?;
    threads::global().submit(move || {
        let run = input.with_bytes(|bytes| Ok((image::metadata(bytes)?, bytes.len())));
        deferred.resolve(Box::new(move |_env| {
            Ok(match run {
                Ok((header, size)) => metadata_result(header, size),
                Err(e) => {
                    let (error_code, error_message, error_os) = failed(e);
                    NativeMetadata {
                        error_code,
                        error_message,
                        error_os,
                        ..metadata_result(Header::default(), 0)
                    }
                }
            })
        }));
    });
    Ok(promise)
}

/// `count` is in `ImageRange.THREADS`.
#[napi]
pub fn image_set_concurrency(count: u32) {
    threads::global().set_size(count as usize);
}

#[napi]
pub fn image_get_concurrency() -> u32 {
    threads::global().size() as u32
}

/// Whether this build reads AVIF: libdav1d was compiled in (feature `avif-input`, see
/// scripts/ensure-built.js).
#[napi]
pub fn avif_input_supported() -> bool {
    cfg!(feature = "avif-input")
}
