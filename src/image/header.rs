//! What an image's header says, before any pixel is decoded. metadata.rs reads it for every
//! format (avif_decode.rs for AVIF); the later stages plan from it.

use super::options::Format;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Header {
    pub format: Option<Format>,
    /// As stored (before orientation).
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1..=8 (1 when absent).
    pub orientation: u8,
    pub channels: u8,
    pub has_alpha: bool,
    /// libvips' interpretation names: "srgb", "b-w", "cmyk", "rgb16", "grey16".
    pub space: &'static str,
    /// Pixels per inch, when the file says.
    pub density: Option<f64>,
    pub pages: u32,
    pub bits_per_sample: u8,
    pub progressive: bool,
    /// JPEG: CMYK values are stored inverted (Adobe APP14).
    pub adobe_inverted: bool,
    /// Raw EXIF (the TIFF structure, without the "Exif\0\0" prefix).
    pub exif: Option<Vec<u8>>,
    pub icc: Option<Vec<u8>>,
}
