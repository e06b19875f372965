//! What a resize asks for. `lib/image.js` validates and fills the defaults; the engine
//! trusts these values.

/// Image formats offload knows, in input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Avif,
    Gif,
    Tiff,
    Bmp,
    /// Uncompressed 8-bit interleaved pixels, no header (sharp's `raw`): written as the
    /// pipeline holds them, read only when the caller gives the geometry (`RawInput`).
    Raw,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Avif => "avif",
            Format::Gif => "gif",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
            Format::Raw => "raw",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "jpeg" | "jpg" => Format::Jpeg,
            "png" => Format::Png,
            "webp" => Format::Webp,
            "avif" => Format::Avif,
            "gif" => Format::Gif,
            "tiff" | "tif" => Format::Tiff,
            "bmp" => Format::Bmp,
            "raw" => Format::Raw,
            _ => return None,
        })
    }

    /// What the bytes are, from their magic numbers; `None` for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let starts = |magic: &[u8]| bytes.len() >= magic.len() && &bytes[..magic.len()] == magic;
        if starts(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if starts(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if starts(b"GIF87a") || starts(b"GIF89a") {
            Some(Format::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else if starts(b"II*\0") || starts(b"MM\0*") {
            Some(Format::Tiff)
        } else if starts(b"BM") && bytes.len() >= 26 {
            Some(Format::Bmp)
        } else if bytes.len() >= 12
            && &bytes[4..8] == b"ftyp"
            && (&bytes[8..12] == b"avif" || &bytes[8..12] == b"avis")
        {
            Some(Format::Avif)
        } else {
            None
        }
    }

    pub fn can_write(self) -> bool {
        matches!(
            self,
            Format::Jpeg | Format::Png | Format::Webp | Format::Avif | Format::Gif | Format::Raw
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    #[default]
    Cover,
    Contain,
    Fill,
    Inside,
    Outside,
}

impl Fit {
    pub fn from_name(name: &str) -> Option<Fit> {
        Some(match name {
            "cover" => Fit::Cover,
            "contain" => Fit::Contain,
            "fill" => Fit::Fill,
            "inside" => Fit::Inside,
            "outside" => Fit::Outside,
            _ => return None,
        })
    }
}

/// Where the kept part sits (cover) or where the image sits on the canvas (contain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gravity {
    #[default]
    Centre,
    North,
    NorthEast,
    East,
    SouthEast,
    South,
    SouthWest,
    West,
    NorthWest,
}

impl Gravity {
    pub fn from_name(name: &str) -> Option<Gravity> {
        Some(match name {
            "centre" | "center" => Gravity::Centre,
            "north" | "top" => Gravity::North,
            "northeast" | "right top" => Gravity::NorthEast,
            "east" | "right" => Gravity::East,
            "southeast" | "right bottom" => Gravity::SouthEast,
            "south" | "bottom" => Gravity::South,
            "southwest" | "left bottom" => Gravity::SouthWest,
            "west" | "left" => Gravity::West,
            "northwest" | "left top" => Gravity::NorthWest,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernel {
    Nearest,
    Linear,
    Cubic,
    Mitchell,
    Lanczos2,
    #[default]
    Lanczos3,
}

impl Kernel {
    pub fn from_name(name: &str) -> Option<Kernel> {
        Some(match name {
            "nearest" => Kernel::Nearest,
            "linear" => Kernel::Linear,
            "cubic" => Kernel::Cubic,
            "mitchell" => Kernel::Mitchell,
            "lanczos2" => Kernel::Lanczos2,
            "lanczos3" => Kernel::Lanczos3,
            _ => return None,
        })
    }
}

/// A watermark or overlay drawn over the resized image.
#[derive(Debug, Clone)]
pub struct Overlay {
    /// The overlay's encoded bytes (any readable format).
    pub input: Vec<u8>,
    pub gravity: Gravity,
    /// Offsets from the top-left corner, in pixels; they win over `gravity`.
    pub top: Option<i64>,
    pub left: Option<i64>,
    /// 0.0..=1.0, multiplied into the overlay's alpha.
    pub opacity: f32,
}

#[derive(Debug, Clone)]
pub struct ResizeOptions {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub position: Gravity,
    pub kernel: Kernel,
    pub without_enlargement: bool,
    /// RGBA, 8 bits each.
    pub background: [u8; 4],
    /// `None`: the input's format (or PNG when offload cannot write the input's).
    pub format: Option<Format>,
    /// 1..=100.
    pub quality: u8,
    pub jpeg_progressive: bool,
    /// `true` for 4:4:4 (no chroma subsampling); sharp's default is 4:2:0.
    pub jpeg_chroma_444: bool,
    /// 0..=9, zlib's levels.
    pub png_compression_level: u8,
    pub webp_lossless: bool,
    /// 0..=6, libwebp's `method`.
    pub webp_effort: u8,
    /// 0..=9.
    pub avif_effort: u8,
    pub auto_orient: bool,
    pub keep_metadata: bool,
    pub composite: Vec<Overlay>,
    /// `None`: no limit.
    pub limit_input_pixels: Option<u64>,
    /// Keep every frame of an animated GIF or WebP (for GIF and WebP output).
    pub animated: bool,
    /// Give back what a damaged file holds instead of failing.
    pub allow_partial: bool,
}

/// The geometry of a raw pixel input, which has no header to read it from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawInput {
    pub width: u32,
    pub height: u32,
    /// 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
    pub channels: u8,
}

/// sharp's default pixel limit: 0x3FFF × 0x3FFF.
pub const DEFAULT_LIMIT_INPUT_PIXELS: u64 = 268_402_689;

impl Default for ResizeOptions {
    fn default() -> Self {
        ResizeOptions {
            width: None,
            height: None,
            fit: Fit::Cover,
            position: Gravity::Centre,
            kernel: Kernel::Lanczos3,
            without_enlargement: false,
            background: [0, 0, 0, 255],
            format: None,
            quality: 80,
            jpeg_progressive: false,
            jpeg_chroma_444: false,
            png_compression_level: 6,
            webp_lossless: false,
            webp_effort: 4,
            avif_effort: 4,
            auto_orient: true,
            keep_metadata: false,
            composite: Vec::new(),
            limit_input_pixels: Some(DEFAULT_LIMIT_INPUT_PIXELS),
            animated: false,
            allow_partial: false,
        }
    }
}
