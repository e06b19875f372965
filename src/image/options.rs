//! What a resize asks for, the names and defaults of its options, and the ranges they keep
//! to. `lib/image.js` checks the options against these (the binding exports them) and
//! fills the defaults; the engine trusts what it gets.

/// An enum whose variants each have the one name lib/image.js accepts for them. A name
/// crosses the binding as its variant's index (`ALL[i]`, declaration order); src/js/image.rs
/// exports `NAMES` for lib/image.js to look the index up in.
macro_rules! named {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];
            pub const NAMES: [&'static str; [$($text),+].len()] = [$($text),+];

            pub const fn name(self) -> &'static str {
                Self::NAMES[self as usize]
            }
        }
    };
}

named! {
    /// Image formats offload knows, in input or output.
    pub enum Format {
        Jpeg = "jpeg",
        Png = "png",
        Webp = "webp",
        Avif = "avif",
        Gif = "gif",
        Tiff = "tiff",
        Bmp = "bmp",
        /// Uncompressed 8-bit interleaved pixels, no header (sharp's `raw`): written as the
        /// pipeline holds them, read only when the caller gives the geometry (`RawInput`).
        Raw = "raw",
    }
}

impl Format {
    /// What offload writes.
    pub const OUTPUTS: [Format; 6] = [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Avif,
        Format::Gif,
        Format::Raw,
    ];

    /// What this build reads: AVIF only with libdav1d (the `avif-input` feature).
    #[cfg(feature = "avif-input")]
    pub const INPUTS: [Format; 8] = Format::ALL;
    #[cfg(not(feature = "avif-input"))]
    pub const INPUTS: [Format; 7] = [
        Format::Jpeg,
        Format::Png,
        Format::Webp,
        Format::Gif,
        Format::Tiff,
        Format::Bmp,
        Format::Raw,
    ];

    /// The name people write (in messages).
    pub fn title(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Webp => "WebP",
            Format::Png => "PNG",
            Format::Avif => "AVIF",
            Format::Gif => "GIF",
            Format::Tiff => "TIFF",
            Format::Bmp => "BMP",
            Format::Raw => "raw pixels",
        }
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
        Format::OUTPUTS.contains(&self)
    }
}

named! {
    /// How the image fills the box (sharp's `fit`).
    pub enum Fit {
        Cover = "cover",
        Contain = "contain",
        Fill = "fill",
        Inside = "inside",
        Outside = "outside",
    }
}

named! {
    /// Where the kept part sits (cover) or where the image sits on the canvas (contain).
    pub enum Gravity {
        Centre = "centre",
        North = "north",
        NorthEast = "northeast",
        East = "east",
        SouthEast = "southeast",
        South = "south",
        SouthWest = "southwest",
        West = "west",
        NorthWest = "northwest",
    }
}

impl Gravity {
    /// sharp's other name for each, in the order of `ALL`.
    pub const ALIASES: [&'static str; 9] = [
        "center",
        "top",
        "right top",
        "right",
        "right bottom",
        "bottom",
        "left bottom",
        "left",
        "left top",
    ];
}

named! {
    /// The resampling kernel (sharp's `kernel`).
    pub enum Kernel {
        Nearest = "nearest",
        Linear = "linear",
        Cubic = "cubic",
        Mitchell = "mitchell",
        Lanczos2 = "lanczos2",
        Lanczos3 = "lanczos3",
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
    /// In `ranges::QUALITY`.
    pub quality: u8,
    pub jpeg_progressive: bool,
    /// `true` for 4:4:4 (no chroma subsampling); sharp's default is 4:2:0.
    pub jpeg_chroma_444: bool,
    /// In `ranges::PNG_COMPRESSION_LEVEL`.
    pub png_compression_level: u8,
    pub webp_lossless: bool,
    /// In `ranges::WEBP_EFFORT`.
    pub webp_effort: u8,
    /// In `ranges::AVIF_EFFORT`.
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

/// sharp's defaults for what a resize leaves out. `ResizeOptions::default()` is made of them,
/// and src/js exports them (`ImageDefault`) for lib/image.js to fill in.
pub mod defaults {
    use super::{Fit, Gravity, Kernel};

    pub const FIT: Fit = Fit::Cover;
    pub const POSITION: Gravity = Gravity::Centre;
    pub const KERNEL: Kernel = Kernel::Lanczos3;
    /// Opaque black.
    pub const BACKGROUND: [u8; 4] = [0, 0, 0, 255];
    pub const QUALITY: u8 = 80;
    pub const PNG_COMPRESSION_LEVEL: u8 = 6;
    pub const WEBP_EFFORT: u8 = 4;
    pub const AVIF_EFFORT: u8 = 4;
    pub const AUTO_ORIENT: bool = true;
    /// 0x3FFF × 0x3FFF pixels.
    pub const LIMIT_INPUT_PIXELS: u64 = 268_402_689;
}

/// What the options may be. lib/image.js refuses anything outside (src/js exports these as
/// `ImageRange`); the engine trusts them and only `debug_assert!`s.
pub mod ranges {
    use std::ops::RangeInclusive;

    use crate::image::limits::MAX_SIDE;

    /// `width` and `height`: what the decoders and encoders handle.
    pub const SIDE: RangeInclusive<u32> = 1..=MAX_SIDE;
    pub const QUALITY: RangeInclusive<u8> = 1..=100;
    /// zlib's levels.
    pub const PNG_COMPRESSION_LEVEL: RangeInclusive<u8> = 0..=9;
    /// libwebp's `method`.
    pub const WEBP_EFFORT: RangeInclusive<u8> = 0..=6;
    /// sharp's scale, mapped onto rav1e's speed (avif.rs).
    pub const AVIF_EFFORT: RangeInclusive<u8> = 0..=9;
    /// An overlay's `top` and `left`: it may hang off any edge.
    pub const OVERLAY_OFFSET: RangeInclusive<i64> = -(MAX_SIDE as i64)..=MAX_SIDE as i64;
    /// A raw input's sides: anything a u32 holds comfortably; past `MAX_SIDE` the engine
    /// answers TooLarge, as for an image whose header claims it (limits.rs).
    pub const RAW_SIDE: RangeInclusive<u32> = 1..=0x3fff_ffff;
    /// Grey, grey + alpha, RGB, RGBA.
    pub const RAW_CHANNELS: RangeInclusive<u8> = 1..=4;
}

impl Default for ResizeOptions {
    fn default() -> Self {
        ResizeOptions {
            width: None,
            height: None,
            fit: defaults::FIT,
            position: defaults::POSITION,
            kernel: defaults::KERNEL,
            without_enlargement: false,
            background: defaults::BACKGROUND,
            format: None,
            quality: defaults::QUALITY,
            jpeg_progressive: false,
            jpeg_chroma_444: false,
            png_compression_level: defaults::PNG_COMPRESSION_LEVEL,
            webp_lossless: false,
            webp_effort: defaults::WEBP_EFFORT,
            avif_effort: defaults::AVIF_EFFORT,
            auto_orient: defaults::AUTO_ORIENT,
            keep_metadata: false,
            composite: Vec::new(),
            limit_input_pixels: Some(defaults::LIMIT_INPUT_PIXELS),
            animated: false,
            allow_partial: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // lib/image.js sends a name as its index in NAMES and the binding reads it from ALL.
    #[test]
    fn a_name_and_its_variant_share_an_index() {
        for (i, f) in Format::ALL.into_iter().enumerate() {
            assert_eq!((f as usize, Format::NAMES[i]), (i, f.name()));
        }
        assert_eq!(Gravity::ALL[4].name(), "southeast");
        assert_eq!(Gravity::ALIASES[4], "right bottom");
        assert_eq!(Kernel::ALL[5], Kernel::Lanczos3);
        assert!(Format::INPUTS.contains(&Format::Tiff) && !Format::Tiff.can_write());
    }
}
