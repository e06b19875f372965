//! Header-only metadata: walks the container's chunks and markers, decodes no pixels.
//! The decode stage uses the same header for the size check and the EXIF orientation.

use std::io::Cursor;

use image::ImageDecoder;

use super::error::{ImageError, Result};
use super::header::Header;
use super::options::Format;
use super::webp_container::{self, Chunk};

fn corrupt(what: &str) -> ImageError {
    ImageError::corrupt(format!("the {what} header is damaged or cut off"))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        0,
    ]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The first directory (IFD0) of a TIFF-structured EXIF block: where its entries are, and
/// the byte order to read them in.
struct Ifd0 {
    little: bool,
    start: usize,
    count: usize,
}

impl Ifd0 {
    fn of(tiff: &[u8]) -> Option<Ifd0> {
        let little = match tiff.get(..2)? {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let start = if little {
            le32(tiff, 4)?
        } else {
            be32(tiff, 4)?
        } as usize;
        let count = if little {
            le16(tiff, start)?
        } else {
            be16(tiff, start)?
        };
        Some(Ifd0 {
            little,
            start,
            count: count.min(512) as usize,
        })
    }

    fn u16_at(&self, tiff: &[u8], at: usize) -> Option<u16> {
        if self.little {
            le16(tiff, at)
        } else {
            be16(tiff, at)
        }
    }

    fn u32_at(&self, tiff: &[u8], at: usize) -> Option<u32> {
        if self.little {
            le32(tiff, at)
        } else {
            be32(tiff, at)
        }
    }

    /// Where the 12-byte entry of `tag` starts.
    fn entry(&self, tiff: &[u8], tag: u16) -> Option<usize> {
        (0..self.count)
            .map(|i| self.start + 2 + i * 12)
            .find(|&entry| self.u16_at(tiff, entry) == Some(tag))
    }

    /// A SHORT value held in the entry itself.
    fn short(&self, tiff: &[u8], tag: u16) -> Option<u16> {
        self.u16_at(tiff, self.entry(tiff, tag)? + 8)
    }

    /// A RATIONAL value, stored at the offset the entry gives.
    fn rational(&self, tiff: &[u8], tag: u16) -> Option<f64> {
        let at = self.u32_at(tiff, self.entry(tiff, tag)? + 8)? as usize;
        let (num, den) = (self.u32_at(tiff, at)?, self.u32_at(tiff, at + 4)?);
        (den != 0).then(|| num as f64 / den as f64)
    }
}

/// The orientation tag (0x0112) of IFD0 of a TIFF-structured EXIF block.
pub fn exif_orientation(tiff: &[u8]) -> Option<u8> {
    let value = Ifd0::of(tiff)?.short(tiff, 0x0112)?;
    (1..=8).contains(&value).then_some(value as u8)
}

/// Pixels per inch from XResolution (0x011A) and ResolutionUnit (0x0128: 2 inch, the
/// default; 3 centimetre), for files that say it only in EXIF.
pub fn exif_density(tiff: &[u8]) -> Option<f64> {
    let ifd = Ifd0::of(tiff)?;
    let x = ifd.rational(tiff, 0x011A)?;
    match ifd.short(tiff, 0x0128).unwrap_or(2) {
        2 => Some(x),
        3 => Some(x * 2.54),
        _ => None,
    }
    .filter(|d| *d > 0.0)
}

/// Rewrites the orientation tag to 1 (the pixels are upright now), keeping the rest.
pub fn exif_reset_orientation(tiff: &mut [u8]) {
    let Some(ifd) = Ifd0::of(tiff) else { return };
    if let Some(entry) = ifd.entry(tiff, 0x0112).filter(|e| e + 10 <= tiff.len()) {
        let one = if ifd.little { [1, 0] } else { [0, 1] };
        tiff[entry + 8..entry + 10].copy_from_slice(&one);
    }
}

/// Why AVIF input fails in a build without libdav1d, and what to do about it.
#[cfg(not(feature = "avif-input"))]
pub const NO_AVIF_DECODER: &str =
    "this build of offload reads no AVIF (it writes it): AVIF input needs libdav1d, which \
     the build compiles from source with meson, ninja and nasm; install them (Debian/Ubuntu: \
     apt-get install meson ninja-build nasm) and run `npm run build` in offload's folder";

/// The message for input whose first bytes are no format offload knows: it names the ones
/// this build reads (as lib/image.js's `formats` does, from the same list).
fn not_an_image() -> ImageError {
    let readable: Vec<&str> = Format::INPUTS
        .iter()
        .filter(|&&f| f != Format::Raw)
        .map(|f| f.title())
        .collect();
    ImageError::unsupported(format!(
        "the input is not an image offload can read ({})",
        readable.join(", ")
    ))
}

/// Reads the header of any supported format.
pub fn read(bytes: &[u8]) -> Result<Header> {
    let format = Format::sniff(bytes).ok_or_else(not_an_image)?;
    let mut header = match format {
        Format::Jpeg => jpeg(bytes)?,
        Format::Png => png(bytes)?,
        Format::Gif => gif(bytes)?,
        Format::Webp => webp(bytes)?,
        Format::Tiff | Format::Bmp => generic(bytes, format)?,
        #[cfg(feature = "avif-input")]
        Format::Avif => super::avif_decode::header(bytes)?,
        // A damaged file is called damaged even where it could not be decoded.
        #[cfg(not(feature = "avif-input"))]
        Format::Avif => {
            super::avif_boxes::ensure_sound(bytes)?;
            return Err(ImageError::unsupported(NO_AVIF_DECODER));
        }
        Format::Raw => unreachable!("raw pixels carry no magic number to sniff"),
    };
    header.format = Some(format);
    if header.orientation == 0 {
        header.orientation = header
            .exif
            .as_deref()
            .and_then(exif_orientation)
            .unwrap_or(1);
    }
    if header.density.is_none() {
        header.density = header.exif.as_deref().and_then(exif_density);
    }
    // Whole pixels per inch, as sharp reports it (3780 px/m is 96, not 96.01).
    header.density = header.density.map(f64::round);
    if header.pages == 0 {
        header.pages = 1;
    }
    Ok(header)
}

fn jpeg(b: &[u8]) -> Result<Header> {
    let mut h = Header {
        bits_per_sample: 8,
        ..Header::default()
    };
    let mut icc_parts: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut at = 2;
    loop {
        // Markers may be padded with any number of 0xFF.
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if b.get(at) != Some(&0xFF) {
            return Err(corrupt("JPEG"));
        }
        let marker = *b.get(at + 1).ok_or_else(|| corrupt("JPEG"))?;
        at += 2;
        if marker == 0x01 || (0xD0..=0xD8).contains(&marker) {
            continue;
        }
        let len = be16(b, at).ok_or_else(|| corrupt("JPEG"))? as usize;
        if len < 2 {
            return Err(corrupt("JPEG"));
        }
        let data = b.get(at + 2..at + len).ok_or_else(|| corrupt("JPEG"))?;
        match marker {
            0xC0..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => {
                if data.len() < 6 {
                    return Err(corrupt("JPEG"));
                }
                h.height = be16(data, 1).unwrap_or(0) as u32;
                h.width = be16(data, 3).unwrap_or(0) as u32;
                h.channels = data[5];
                h.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                h.space = match h.channels {
                    1 => "b-w",
                    4 => "cmyk",
                    _ => "srgb",
                };
                // Everything the header can tell is known once the frame starts.
                break;
            }
            0xE0 if data.starts_with(b"JFIF\0") && data.len() >= 12 => {
                let (unit, x) = (data[7], be16(data, 8).unwrap_or(0) as f64);
                h.density = match unit {
                    1 => Some(x),
                    2 => Some(x * 2.54),
                    _ => None,
                };
            }
            0xE1 if data.starts_with(b"Exif\0\0") => h.exif = Some(data[6..].to_vec()),
            0xE2 if data.starts_with(b"ICC_PROFILE\0") && data.len() > 14 => {
                icc_parts.push((data[12], data[14..].to_vec()));
            }
            0xEE if data.starts_with(b"Adobe") && data.len() >= 12 => {
                // transform 0 with 4 components: Adobe stored the CMYK inverted.
                h.adobe_inverted = true;
            }
            0xDA | 0xD9 => return Err(corrupt("JPEG")),
            _ => {}
        }
        at += len;
    }
    if !icc_parts.is_empty() {
        icc_parts.sort_by_key(|(seq, _)| *seq);
        h.icc = Some(icc_parts.into_iter().flat_map(|(_, d)| d).collect());
    }
    Ok(h)
}

fn png(b: &[u8]) -> Result<Header> {
    let mut h = Header::default();
    if b.get(12..16) != Some(b"IHDR") {
        return Err(corrupt("PNG"));
    }
    h.width = be32(b, 16).ok_or_else(|| corrupt("PNG"))?;
    h.height = be32(b, 20).ok_or_else(|| corrupt("PNG"))?;
    let depth = *b.get(24).ok_or_else(|| corrupt("PNG"))?;
    let colour = *b.get(25).ok_or_else(|| corrupt("PNG"))?;
    h.bits_per_sample = depth;
    (h.channels, h.has_alpha) = match colour {
        0 => (1, false),
        2 => (3, false),
        3 => (3, false),
        4 => (2, true),
        6 => (4, true),
        _ => return Err(corrupt("PNG")),
    };
    let mut at = 8;
    while let (Some(len), Some(kind)) = (be32(b, at), b.get(at + 4..at + 8)) {
        let data = b.get(at + 8..at + 8 + len as usize);
        match kind {
            b"IDAT" | b"IEND" => break,
            b"tRNS" => {
                h.has_alpha = true;
                h.channels += 1;
            }
            b"pHYs" => {
                if let Some(d) = data.filter(|d| d.len() >= 9 && d[8] == 1) {
                    let ppm = be32(d, 0).unwrap_or(0) as f64;
                    h.density = Some((ppm * 0.0254 * 100.0).round() / 100.0);
                }
            }
            b"eXIf" => h.exif = data.map(|d| d.to_vec()),
            b"acTL" => h.pages = data.and_then(|d| be32(d, 0)).unwrap_or(1),
            _ => {}
        }
        at += 12 + len as usize;
    }
    h.space = match (h.channels <= 2, depth == 16) {
        (true, true) => "grey16",
        (true, false) => "b-w",
        (false, true) => "rgb16",
        (false, false) => "srgb",
    };
    Ok(h)
}

/// Skips GIF data sub-blocks starting at `at`; returns the offset after the terminator.
fn skip_sub_blocks(b: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let n = *b.get(at)? as usize;
        at += 1 + n;
        if n == 0 {
            return Some(at);
        }
    }
}

fn gif(b: &[u8]) -> Result<Header> {
    let mut h = Header {
        width: le16(b, 6).ok_or_else(|| corrupt("GIF"))? as u32,
        height: le16(b, 8).ok_or_else(|| corrupt("GIF"))? as u32,
        channels: 4,
        has_alpha: true,
        space: "srgb",
        bits_per_sample: 8,
        ..Header::default()
    };
    let packed = *b.get(10).ok_or_else(|| corrupt("GIF"))?;
    let mut at = 13;
    if packed & 0x80 != 0 {
        at += 3 << ((packed & 7) + 1);
    }
    let mut frames = 0;
    // Count frames by walking the blocks; image data is skipped, never decompressed.
    while let Some(&block) = b.get(at) {
        match block {
            0x21 => match skip_sub_blocks(b, at + 2) {
                Some(next) => at = next,
                None => break,
            },
            0x2C => {
                frames += 1;
                let local = *b.get(at + 9).unwrap_or(&0);
                let mut next = at + 10;
                if local & 0x80 != 0 {
                    next += 3 << ((local & 7) + 1);
                }
                match skip_sub_blocks(b, next + 1) {
                    Some(n) => at = n,
                    None => break,
                }
            }
            _ => break,
        }
    }
    h.pages = frames.max(1);
    Ok(h)
}

fn webp(b: &[u8]) -> Result<Header> {
    let mut h = Header {
        channels: 3,
        space: "srgb",
        bits_per_sample: 8,
        ..Header::default()
    };
    let mut frames = 0;
    for Chunk { kind, data, .. } in webp_container::chunks(b) {
        match kind {
            b"VP8 " if h.width == 0 => {
                if data.get(3..6) != Some(&[0x9d, 0x01, 0x2a]) {
                    return Err(corrupt("WebP"));
                }
                h.width = (le16(data, 6).unwrap_or(0) & 0x3fff) as u32;
                h.height = (le16(data, 8).unwrap_or(0) & 0x3fff) as u32;
            }
            b"VP8L" if h.width == 0 => {
                if data.first() != Some(&0x2f) {
                    return Err(corrupt("WebP"));
                }
                let bits = le32(data, 1).ok_or_else(|| corrupt("WebP"))?;
                h.width = (bits & 0x3fff) + 1;
                h.height = ((bits >> 14) & 0x3fff) + 1;
                if bits >> 28 & 1 == 1 {
                    h.has_alpha = true;
                }
            }
            b"VP8X" => {
                let flags = *data.first().ok_or_else(|| corrupt("WebP"))?;
                h.has_alpha = flags & 0x10 != 0;
                h.width = le24(data, 4).ok_or_else(|| corrupt("WebP"))? + 1;
                h.height = le24(data, 7).ok_or_else(|| corrupt("WebP"))? + 1;
            }
            b"ALPH" => h.has_alpha = true,
            b"ANMF" => frames += 1,
            b"EXIF" => {
                let d = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                h.exif = Some(d.to_vec());
            }
            b"ICCP" => h.icc = Some(data.to_vec()),
            _ => {}
        }
    }
    if h.width == 0 {
        return Err(corrupt("WebP"));
    }
    if h.has_alpha {
        h.channels = 4;
    }
    h.pages = frames.max(1);
    Ok(h)
}

/// TIFF and BMP through the image crate's decoders, which read only the header here
/// (JPEG-compressed TIFF from its tags, which that decoder may refuse).
fn generic(b: &[u8], format: Format) -> Result<Header> {
    if format == Format::Tiff {
        if let Some(layout) = super::tiff_jpeg::layout(b)? {
            return Ok(Header {
                width: layout.width,
                height: layout.height,
                orientation: layout.orientation,
                channels: layout.channels,
                space: if layout.channels == 1 { "b-w" } else { "srgb" },
                bits_per_sample: 8,
                ..Header::default()
            });
        }
    }
    let fmt = match format {
        Format::Tiff => image::ImageFormat::Tiff,
        _ => image::ImageFormat::Bmp,
    };
    let mut decoder = image::ImageReader::with_format(Cursor::new(b), fmt)
        .into_decoder()
        .map_err(ImageError::from)?;
    let (width, height) = decoder.dimensions();
    let colour = decoder.color_type();
    let channels = colour.channel_count();
    let orientation = decoder.orientation().map(|o| o.to_exif()).unwrap_or(1);
    let sixteen = colour.bytes_per_pixel() / channels >= 2;
    Ok(Header {
        width,
        height,
        orientation,
        channels,
        has_alpha: colour.has_alpha(),
        space: match (channels <= 2, sixteen) {
            (true, true) => "grey16",
            (true, false) => "b-w",
            (false, true) => "rgb16",
            (false, false) => "srgb",
        },
        bits_per_sample: if sixteen { 16 } else { 8 },
        icc: decoder.icc_profile().ok().flatten(),
        ..Header::default()
    })
}
