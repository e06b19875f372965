//! Encoding. JPEG through libjpeg (jpeg.rs); PNG written here with zlib-rs at the asked
//! level and no row filter (sharp's default: `adaptiveFiltering: false`); WebP through
//! libwebp (animations through its animation encoder); AVIF through ravif (avif.rs); GIF
//! through the `image` crate's quantiser.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;

use super::avif;
use super::decode::Frame;
use super::error::{ImageError, Result};
use super::jpeg::{self, JpegOptions};
use super::options::{Format, ResizeOptions};
use super::pixels::Pixels;
use super::webp_container;

/// Metadata carried over with `keepMetadata`.
#[derive(Default)]
pub struct Carry {
    pub exif: Option<Vec<u8>>,
    pub icc: Option<Vec<u8>>,
}

pub fn encode(img: Pixels, format: Format, o: &ResizeOptions, carry: Carry) -> Result<Vec<u8>> {
    match format {
        Format::Jpeg => {
            let img = img.flatten(o.background);
            let exif = carry.exif.map(|e| [b"Exif\0\0".as_slice(), &e].concat());
            jpeg::encode(
                &img,
                &JpegOptions {
                    quality: o.quality,
                    progressive: o.jpeg_progressive,
                    chroma_444: o.jpeg_chroma_444,
                    exif,
                    icc: carry.icc,
                },
            )
        }
        Format::Png => png(&img, o.png_compression_level, carry.exif.as_deref()),
        Format::Webp => {
            let (width, height, alpha) = (img.width, img.height, img.has_alpha());
            let data = webp(img, o)?;
            Ok(match carry.exif {
                Some(exif) => webp_container::add_exif(&data, &exif, width, height, alpha),
                None => data,
            })
        }
        Format::Gif => gif(&[Frame {
            pixels: img,
            delay_ms: 0,
        }]),
        Format::Avif => avif::encode(img, o.quality, o.avif_effort),
        Format::Raw => Ok(img.data),
        Format::Tiff | Format::Bmp => unreachable!("offload writes no {}", format.name()),
    }
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// PNG with no row filter; `exif` (a TIFF structure) goes in an eXIf chunk.
pub fn png(img: &Pixels, level: u8, exif: Option<&[u8]>) -> Result<Vec<u8>> {
    let colour_type = match img.channels {
        1 => 0,
        2 => 4,
        3 => 2,
        _ => 6,
    };
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&img.width.to_be_bytes());
    ihdr.extend_from_slice(&img.height.to_be_bytes());
    ihdr.extend_from_slice(&[8, colour_type, 0, 0, 0]);
    let row = img.width as usize * img.channels as usize;
    let mut z = ZlibEncoder::new(
        Vec::with_capacity(img.data.len() / 2),
        Compression::new(level as u32),
    );
    let write_err = |e: std::io::Error| ImageError::invalid(format!("PNG encoder: {e}"));
    for line in img.data.chunks_exact(row) {
        // Filter type 0 (None) for every row.
        z.write_all(&[0]).map_err(write_err)?;
        z.write_all(line).map_err(write_err)?;
    }
    let idat = z.finish().map_err(write_err)?;
    let mut out = Vec::with_capacity(idat.len() + 64);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    png_chunk(&mut out, b"IHDR", &ihdr);
    if let Some(exif) = exif {
        png_chunk(&mut out, b"eXIf", exif);
    }
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// libwebp's settings for `o`: sharp's meaning of quality, lossless and effort.
fn webp_config(o: &ResizeOptions) -> Result<webp::WebPConfig> {
    let mut config =
        webp::WebPConfig::new().map_err(|_| ImageError::invalid("libwebp: bad configuration"))?;
    config.lossless = o.webp_lossless as i32;
    config.quality = if o.webp_lossless {
        75.0
    } else {
        o.quality as f32
    };
    config.method = o.webp_effort as i32;
    config.alpha_compression = (!o.webp_lossless) as i32;
    Ok(config)
}

fn webp(img: Pixels, o: &ResizeOptions) -> Result<Vec<u8>> {
    let img = img.to_colour();
    let encoder = if img.channels == 4 {
        webp::Encoder::from_rgba(&img.data, img.width, img.height)
    } else {
        webp::Encoder::from_rgb(&img.data, img.width, img.height)
    };
    let memory = encoder
        .encode_advanced(&webp_config(o)?)
        .map_err(|e| ImageError::invalid(format!("libwebp: {e:?}")))?;
    Ok(memory.to_vec())
}

/// Every frame as one animated WebP (libwebp's animation encoder), looping forever.
pub fn animated_webp(frames: &[Frame], o: &ResizeOptions) -> Result<Vec<u8>> {
    let config = webp_config(o)?;
    let rgba: Vec<Pixels> = frames
        .iter()
        .map(|f| f.pixels.clone().to_colour().with_alpha())
        .collect();
    let (width, height) = rgba.first().map_or((1, 1), |p| (p.width, p.height));
    let mut encoder = webp::AnimEncoder::new(width, height, &config);
    encoder.set_loop_count(0);
    let mut at_ms = 0i32;
    for (pixels, frame) in rgba.iter().zip(frames) {
        encoder.add_frame(webp::AnimFrame::from_rgba(
            &pixels.data,
            pixels.width,
            pixels.height,
            at_ms,
        ));
        at_ms = at_ms.saturating_add(frame.delay_ms.min(i32::MAX as u32) as i32);
    }
    let memory = encoder
        .try_encode()
        .map_err(|e| ImageError::invalid(format!("libwebp animation: {e:?}")))?;
    let mut data = memory.to_vec();
    // The webp crate ends the animation at timestamp 0, so libwebp guesses the last
    // frame's duration; it is written here from the input instead.
    if let Some(last) = frames.last() {
        webp_container::set_last_frame_duration(&mut data, last.delay_ms);
    }
    Ok(data)
}

/// One frame or many (animated), looping forever.
pub fn gif(frames: &[Frame]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 10);
        if frames.len() > 1 {
            encoder
                .set_repeat(image::codecs::gif::Repeat::Infinite)
                .map_err(ImageError::from)?;
        }
        for f in frames {
            let rgba = f.pixels.clone().to_colour().with_alpha();
            let buffer = image::RgbaImage::from_raw(rgba.width, rgba.height, rgba.data)
                .expect("with_alpha() gives width × height × 4 bytes");
            let delay = image::Delay::from_numer_denom_ms(f.delay_ms, 1);
            encoder
                .encode_frame(image::Frame::from_parts(buffer, 0, 0, delay))
                .map_err(ImageError::from)?;
        }
    }
    Ok(out)
}
