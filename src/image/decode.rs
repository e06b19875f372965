//! Decoding to `Pixels`. JPEG goes through libjpeg with DCT scaling (jpeg.rs), a WebP to be
//! shrunk through libwebp's scaling decoder (webp_scaled.rs), JPEG-compressed TIFF piece by
//! piece through libjpeg (tiff_jpeg.rs); the other formats through
//! the `image` crate, with its allocation limit as a second guard behind the header check
//! in limits.rs.

use std::io::Cursor;

use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat};

use super::error::{ImageError, Result};
use super::header::Header;
use super::jpeg;
use super::options::Format;
use super::pixels::Pixels;
use super::tiff_jpeg;
use super::webp_scaled;

/// How much smaller than stored a decoder delivers the image ("shrink-on-load").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadScale {
    Full,
    /// JPEG: 1/2, 1/4 or 1/8 in the DCT domain.
    JpegDct(u32),
    /// WebP: rescaled by libwebp to this size (stored orientation).
    WebpTo(u32, u32),
}

/// One frame of an animation, with its delay in milliseconds.
pub struct Frame {
    pub pixels: Pixels,
    pub delay_ms: u32,
}

fn reader(bytes: &[u8], format: Format, max_alloc: u64) -> image::ImageReader<Cursor<&[u8]>> {
    let fmt = match format {
        Format::Png => ImageFormat::Png,
        Format::Gif => ImageFormat::Gif,
        Format::Webp => ImageFormat::WebP,
        Format::Tiff => ImageFormat::Tiff,
        Format::Bmp => ImageFormat::Bmp,
        // decode() hands these to their own decoders, and a header is never Raw.
        Format::Jpeg | Format::Avif | Format::Raw => {
            unreachable!("no image-crate decode of {format:?}")
        }
    };
    let mut r = image::ImageReader::with_format(Cursor::new(bytes), fmt);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_alloc);
    r.limits(limits);
    r
}

/// The bytes a decode of this header may allocate: the pixels at 16 bits per sample, plus
/// the decoders' own buffers.
fn max_alloc(header: &Header) -> u64 {
    header.width as u64 * header.height as u64 * header.pages.max(1) as u64 * 8 + (64 << 20)
}

pub fn from_dynamic(img: DynamicImage) -> Pixels {
    let (w, h) = (img.width(), img.height());
    match img {
        DynamicImage::ImageLuma8(b) => Pixels::new(w, h, 1, b.into_raw()),
        DynamicImage::ImageLumaA8(b) => Pixels::new(w, h, 2, b.into_raw()),
        DynamicImage::ImageRgb8(b) => Pixels::new(w, h, 3, b.into_raw()),
        DynamicImage::ImageRgba8(b) => Pixels::new(w, h, 4, b.into_raw()),
        DynamicImage::ImageLuma16(_) => Pixels::new(w, h, 1, img.to_luma8().into_raw()),
        DynamicImage::ImageLumaA16(_) => Pixels::new(w, h, 2, img.to_luma_alpha8().into_raw()),
        other if other.color().has_alpha() => Pixels::new(w, h, 4, other.to_rgba8().into_raw()),
        other => Pixels::new(w, h, 3, other.to_rgb8().into_raw()),
    }
}

/// Decodes the first (or only) frame, at `scale`.
pub fn decode(
    bytes: &[u8],
    header: &Header,
    scale: LoadScale,
    allow_partial: bool,
) -> Result<Pixels> {
    let format = header.format.expect("metadata::read sets the format");
    if format == Format::Jpeg {
        let shrink = match scale {
            LoadScale::JpegDct(shrink) => shrink,
            _ => 1,
        };
        return jpeg::decode(
            bytes,
            shrink,
            header.adobe_inverted,
            header.icc.as_deref(),
            allow_partial,
        );
    }
    if let (Format::Webp, LoadScale::WebpTo(width, height)) = (format, scale) {
        return webp_scaled::decode(bytes, width, height, header.has_alpha);
    }
    if format == Format::Tiff {
        if let Some(layout) = tiff_jpeg::layout(bytes)? {
            return tiff_jpeg::decode(bytes, &layout);
        }
    }
    #[cfg(feature = "avif-input")]
    if format == Format::Avif {
        let pixels = header.width.saturating_mul(header.height);
        return super::avif_decode::decode(bytes, pixels);
    }
    let decoder = reader(bytes, format, max_alloc(header))
        .into_decoder()
        .map_err(ImageError::from)?;
    let img = DynamicImage::from_decoder(decoder).map_err(ImageError::from)?;
    Ok(from_dynamic(img))
}

/// Every frame of an animated GIF or WebP, as RGBA.
pub fn decode_frames(bytes: &[u8], header: &Header) -> Result<Vec<Frame>> {
    let format = header.format;
    let frames = match format {
        Some(Format::Gif) => {
            let d = image::codecs::gif::GifDecoder::new(Cursor::new(bytes))
                .map_err(ImageError::from)?;
            d.into_frames().collect_frames()
        }
        Some(Format::Webp) => {
            let mut d = image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
                .map_err(ImageError::from)?;
            let mut limits = image::Limits::default();
            limits.max_alloc = Some(max_alloc(header));
            d.set_limits(limits).map_err(ImageError::from)?;
            d.into_frames().collect_frames()
        }
        other => unreachable!("resize() decodes frames of GIF and WebP only, not {other:?}"),
    }
    .map_err(ImageError::from)?;
    Ok(frames
        .into_iter()
        .map(|f| {
            let (num, den) = f.delay().numer_denom_ms();
            let delay_ms = num.checked_div(den).unwrap_or(0);
            let buffer = f.into_buffer();
            let (w, h) = buffer.dimensions();
            Frame {
                pixels: Pixels::new(w, h, 4, buffer.into_raw()),
                delay_ms,
            }
        })
        .collect())
}
