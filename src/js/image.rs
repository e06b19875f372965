//! `resize`, `metadata` and the image pool's size. Each call becomes one job on the image
//! pool (`crate::image::pool`, never libuv's threadpool); its promise is settled from that
//! thread through a deferred. Failures resolve with `errorCode`/`errorMessage` and
//! `lib/image.js` turns them into `Error`s with `code`, so the stack points at the call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Env, Object};
use napi::{Error, JsDeferred, Status};
use napi_derive::napi;

use crate::image::{
    self, pool, Fit, Format, Gravity, Header, ImageError, Kernel, Overlay, RawInput, ResizeOptions,
};

/// Checked and defaulted by `lib/image.js`.
#[napi(object)]
pub struct NativeImageOptions {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: String,
    pub position: String,
    pub kernel: String,
    pub without_enlargement: bool,
    /// `[r, g, b, alpha]`, 0..=255 each.
    pub background: Vec<u32>,
    pub format: Option<String>,
    pub quality: u32,
    pub jpeg_progressive: bool,
    pub jpeg_chroma444: bool,
    pub png_compression_level: u32,
    pub webp_lossless: bool,
    pub webp_effort: u32,
    pub avif_effort: u32,
    pub auto_orient: bool,
    pub keep_metadata: bool,
    pub composite: Vec<NativeOverlay>,
    /// Absent: no limit.
    pub limit_input_pixels: Option<f64>,
    pub animated: bool,
    pub allow_partial: bool,
    /// Present when the input Buffer holds raw pixels of this geometry.
    pub raw: Option<NativeRawInput>,
}

#[napi(object)]
pub struct NativeRawInput {
    pub width: u32,
    pub height: u32,
    pub channels: u32,
}

#[napi(object)]
pub struct NativeOverlay {
    pub input: Option<Buffer>,
    pub file: Option<String>,
    pub gravity: String,
    pub top: Option<i64>,
    pub left: Option<i64>,
    pub opacity: f64,
}

#[napi(object)]
pub struct NativeImageResult {
    pub data: Option<Buffer>,
    pub format: String,
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
    pub format: String,
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

fn invalid(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, message.into())
}

/// The engine's options, the overlays still to be read, and the raw input's geometry.
type EngineOptions = (ResizeOptions, Vec<NativeOverlay>, Option<RawInput>);

fn engine_options(o: NativeImageOptions) -> napi::Result<EngineOptions> {
    let bg = |i: usize| o.background.get(i).copied().unwrap_or(255).min(255) as u8;
    let options = ResizeOptions {
        width: o.width,
        height: o.height,
        fit: Fit::from_name(&o.fit).ok_or_else(|| invalid("unknown fit"))?,
        position: Gravity::from_name(&o.position).ok_or_else(|| invalid("unknown position"))?,
        kernel: Kernel::from_name(&o.kernel).ok_or_else(|| invalid("unknown kernel"))?,
        without_enlargement: o.without_enlargement,
        background: [bg(0), bg(1), bg(2), bg(3)],
        format: match o.format {
            Some(f) => Some(Format::from_name(&f).ok_or_else(|| invalid("unknown format"))?),
            None => None,
        },
        quality: o.quality.clamp(1, 100) as u8,
        jpeg_progressive: o.jpeg_progressive,
        jpeg_chroma_444: o.jpeg_chroma444,
        png_compression_level: o.png_compression_level.min(9) as u8,
        webp_lossless: o.webp_lossless,
        webp_effort: o.webp_effort.min(6) as u8,
        avif_effort: o.avif_effort.min(9) as u8,
        auto_orient: o.auto_orient,
        keep_metadata: o.keep_metadata,
        composite: Vec::new(),
        limit_input_pixels: o.limit_input_pixels.map(|l| l as u64),
        animated: o.animated,
        allow_partial: o.allow_partial,
    };
    let raw = o.raw.map(|r| RawInput {
        width: r.width,
        height: r.height,
        channels: r.channels.min(u8::MAX as u32) as u8,
    });
    Ok((options, o.composite, raw))
}

/// A Buffer, or a file read on the image thread.
enum Input {
    Bytes(Buffer),
    File(PathBuf),
}

impl Input {
    fn from_js(input: Option<Buffer>, file: Option<String>) -> napi::Result<Input> {
        match (input, file) {
            (Some(b), None) => Ok(Input::Bytes(b)),
            (None, Some(f)) => Ok(Input::File(PathBuf::from(f))),
            _ => Err(invalid("give exactly one of a buffer and a file")),
        }
    }

    fn with_bytes<T>(&self, f: impl FnOnce(&[u8]) -> image::Result<T>) -> image::Result<T> {
        match self {
            Input::Bytes(b) => f(b),
            Input::File(p) => f(&image::read_input(p)?),
        }
    }
}

fn overlays(list: Vec<NativeOverlay>) -> image::Result<Vec<Overlay>> {
    list.into_iter()
        .map(|o| {
            let input = match (o.input, o.file) {
                (Some(b), _) => b.to_vec(),
                (None, Some(f)) => image::read_input(&PathBuf::from(f))?,
                (None, None) => return Err(ImageError::invalid("composite input is missing")),
            };
            Ok(Overlay {
                input,
                gravity: Gravity::from_name(&o.gravity).unwrap_or_default(),
                top: o.top,
                left: o.left,
                opacity: o.opacity as f32,
            })
        })
        .collect()
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

/// Resizes `input` (or the file `file`); with `outputPath` the result is written there
/// instead of returned.
#[napi(ts_return_type = "Promise<NativeImageResult>")]
#[allow(clippy::too_many_arguments)]
pub fn image_resize<'env>(
    env: &'env Env,
    input: Option<Buffer>,
    file: Option<String>,
    options: NativeImageOptions,
    output_path: Option<String>,
    abort: &ImageAbort,
) -> napi::Result<Object<'env>> {
    let input = Input::from_js(input, file)?;
    let (mut options, composite, raw) = engine_options(options)?;
    let flag = abort.flag.clone();
    let (deferred, promise) =
        env.create_deferred::<NativeImageResult, Settle<NativeImageResult>>()?;
    let deferred: JsDeferred<NativeImageResult, Settle<NativeImageResult>> = deferred;
    pool::global().submit(move || {
        let aborted = || flag.load(Ordering::Relaxed);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            options.composite = overlays(composite)?;
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
                    format: out.format.name().to_string(),
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
                        format: String::new(),
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
        format: header.format.map_or("", |f| f.name()).to_string(),
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

/// The header of `input` (or of the file `file`), read on the image pool.
#[napi(ts_return_type = "Promise<NativeMetadata>")]
pub fn image_metadata<'env>(
    env: &'env Env,
    input: Option<Buffer>,
    file: Option<String>,
) -> napi::Result<Object<'env>> {
    let input = Input::from_js(input, file)?;
    let (deferred, promise) = env.create_deferred::<NativeMetadata, Settle<NativeMetadata>>()?;
    pool::global().submit(move || {
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

#[napi]
pub fn image_set_concurrency(threads: u32) {
    pool::global().set_size(threads.max(1) as usize);
}

#[napi]
pub fn image_get_concurrency() -> u32 {
    pool::global().size() as u32
}

/// Whether this build reads AVIF: libdav1d was compiled in (feature `avif-input`, see
/// scripts/ensure-built.js).
#[napi]
pub fn avif_input_supported() -> bool {
    cfg!(feature = "avif-input")
}
