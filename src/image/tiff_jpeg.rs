//! JPEG-compressed TIFF (compression 7: what libvips, and so sharp, write by default).
//! Each strip or tile is a JPEG stream whose tables may sit once in the JPEGTables tag.
//! The `image` crate refuses these when they are stored as YCbCr (the usual case), so
//! offload splices each piece with the tables, decodes it with libjpeg (jpeg.rs) and
//! places it.

use std::io::Cursor;

use tiff::decoder::Decoder;
use tiff::tags::Tag;

use super::error::{ImageError, Result};
use super::jpeg;
use super::pixels::Pixels;

const COMPRESSION_JPEG: u16 = 7;

/// Where the pieces of a JPEG-compressed TIFF's first image are.
#[derive(Debug)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    /// 1 (grey) or 3 (colour).
    pub channels: u8,
    pub orientation: u8,
    /// The size of every piece: a strip (full width) or a tile.
    piece_width: u32,
    piece_height: u32,
    /// (offset, length) of each piece in the file, left to right, top to bottom.
    pieces: Vec<(u64, u64)>,
    tables: Option<Vec<u8>>,
}

fn corrupt(e: impl std::fmt::Display) -> ImageError {
    ImageError::corrupt(format!("cannot read the TIFF: {e}"))
}

/// The layout of the first image when it is JPEG-compressed; `None` otherwise.
pub fn layout(bytes: &[u8]) -> Result<Option<Layout>> {
    let mut d = Decoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    let compression: u16 = d
        .find_tag_unsigned(Tag::Compression)
        .map_err(corrupt)?
        .unwrap_or(1);
    if compression != COMPRESSION_JPEG {
        return Ok(None);
    }
    let (width, height) = d.dimensions().map_err(corrupt)?;
    let samples: u16 = d
        .find_tag_unsigned(Tag::SamplesPerPixel)
        .map_err(corrupt)?
        .unwrap_or(1);
    let planar: u16 = d
        .find_tag_unsigned(Tag::PlanarConfiguration)
        .map_err(corrupt)?
        .unwrap_or(1);
    if !(samples == 1 || samples == 3) || planar != 1 {
        return Err(ImageError::unsupported(format!(
            "JPEG-compressed TIFF with {samples} samples per pixel{} is not supported \
             (grey or RGB/YCbCr, interleaved, are)",
            if planar != 1 {
                " in separate planes"
            } else {
                ""
            }
        )));
    }
    let orientation: u16 = d
        .find_tag_unsigned(Tag::Orientation)
        .map_err(corrupt)?
        .unwrap_or(1);
    let tiled = d.find_tag(Tag::TileOffsets).map_err(corrupt)?.is_some();
    let (piece_width, piece_height, offsets, counts) = if tiled {
        (
            d.get_tag_u32(Tag::TileWidth).map_err(corrupt)?,
            d.get_tag_u32(Tag::TileLength).map_err(corrupt)?,
            d.get_tag_u64_vec(Tag::TileOffsets).map_err(corrupt)?,
            d.get_tag_u64_vec(Tag::TileByteCounts).map_err(corrupt)?,
        )
    } else {
        let rows: u32 = d
            .find_tag_unsigned(Tag::RowsPerStrip)
            .map_err(corrupt)?
            .unwrap_or(height);
        (
            width,
            rows.clamp(1, height.max(1)),
            d.get_tag_u64_vec(Tag::StripOffsets).map_err(corrupt)?,
            d.get_tag_u64_vec(Tag::StripByteCounts).map_err(corrupt)?,
        )
    };
    if piece_width == 0 || piece_height == 0 || offsets.len() != counts.len() {
        return Err(corrupt("its strip or tile tables disagree"));
    }
    let across = width.div_ceil(piece_width) as usize;
    let down = height.div_ceil(piece_height) as usize;
    if offsets.len() < across * down {
        return Err(corrupt(format!(
            "{} pieces listed where a {width}×{height} image needs {}",
            offsets.len(),
            across * down
        )));
    }
    let tables = d.get_tag_u8_vec(Tag::JPEGTables).ok();
    Ok(Some(Layout {
        width,
        height,
        channels: if samples == 1 { 1 } else { 3 },
        orientation: if (1..=8).contains(&orientation) {
            orientation as u8
        } else {
            1
        },
        piece_width,
        piece_height,
        pieces: offsets.into_iter().zip(counts).collect(),
        tables,
    }))
}

/// One piece as a whole JPEG stream: the tables (without their end marker) followed by the
/// piece (without its start marker).
fn spliced(tables: Option<&[u8]>, piece: &[u8]) -> Vec<u8> {
    match tables {
        Some(t)
            if t.len() >= 4 && t.ends_with(&[0xFF, 0xD9]) && piece.starts_with(&[0xFF, 0xD8]) =>
        {
            let mut out = Vec::with_capacity(t.len() + piece.len());
            out.extend_from_slice(&t[..t.len() - 2]);
            out.extend_from_slice(&piece[2..]);
            out
        }
        _ => piece.to_vec(),
    }
}

/// Decodes the first image of a JPEG-compressed TIFF.
pub fn decode(bytes: &[u8], layout: &Layout) -> Result<Pixels> {
    let c = layout.channels as usize;
    let (width, height) = (layout.width as usize, layout.height as usize);
    let mut data = vec![0u8; width * height * c];
    let across = width.div_ceil(layout.piece_width as usize);
    for (index, &(offset, len)) in layout.pieces.iter().enumerate() {
        let (col, row) = (index % across, index / across);
        let (left, top) = (
            col * layout.piece_width as usize,
            row * layout.piece_height as usize,
        );
        if top >= height {
            break;
        }
        let piece = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(at, len)| bytes.get(at..at.checked_add(len)?))
            .ok_or_else(|| ImageError::corrupt("the TIFF data ends early (truncated file)"))?;
        let jpeg = spliced(layout.tables.as_deref(), piece);
        // A piece is at most a strip or a tile: a larger one claimed by a hostile file is
        // refused before libjpeg allocates for it.
        let (claimed_width, claimed_height) = jpeg::dimensions(&jpeg)?;
        if claimed_width > layout.piece_width || claimed_height > layout.piece_height {
            return Err(corrupt(format!(
                "a {claimed_width}×{claimed_height} piece in an image of {}×{} pieces",
                layout.piece_width, layout.piece_height
            )));
        }
        let tile = jpeg::decode(&jpeg, 1, false, None, false)?;
        if tile.channels as usize != c {
            return Err(corrupt(format!(
                "a piece has {} channels where the image has {c}",
                tile.channels
            )));
        }
        // A piece may be padded past the image's right or bottom edge.
        let w = (tile.width as usize).min(width - left);
        let h = (tile.height as usize).min(height - top);
        let stride = tile.width as usize * c;
        for y in 0..h {
            let from = &tile.data[y * stride..y * stride + w * c];
            let at = ((top + y) * width + left) * c;
            data[at..at + w * c].copy_from_slice(from);
        }
    }
    Ok(Pixels::new(
        layout.width,
        layout.height,
        layout.channels,
        data,
    ))
}
