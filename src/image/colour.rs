//! Embedded ICC profiles to sRGB (moxcms, pure Rust), as sharp does with lcms: an image
//! tagged with Adobe RGB or a camera profile would otherwise come out dull or shifted.
//! RGB images are converted after the resize (fewer pixels, same transform); CMYK right
//! after decoding, since everything downstream is RGB.

use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

use super::pixels::Pixels;

fn parse(icc: &[u8]) -> Option<ColorProfile> {
    ColorProfile::new_from_slice(icc).ok()
}

/// RGB(A) pixels tagged with `icc`, converted to sRGB. Unusable profiles leave the
/// pixels as they are, as libvips does ("invalid embedded profile" is a warning).
pub fn rgb_to_srgb(img: Pixels, icc: &[u8]) -> Pixels {
    if img.channels < 3 {
        return img;
    }
    let Some(profile) = parse(icc) else {
        return img;
    };
    if profile.color_space != DataColorSpace::Rgb {
        return img;
    }
    let layout = if img.channels == 4 {
        Layout::Rgba
    } else {
        Layout::Rgb
    };
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        profile.create_transform_8bit(layout, &srgb, layout, TransformOptions::default())
    else {
        return img;
    };
    let mut out = vec![0u8; img.data.len()];
    if transform.transform(&img.data, &mut out).is_err() {
        return img;
    }
    Pixels { data: out, ..img }
}

/// CMYK (4 channels, 0 = no ink) to sRGB through `icc`; the plain formula without one.
pub fn cmyk_to_srgb(cmyk: &[u8], width: u32, height: u32, icc: Option<&[u8]>) -> Pixels {
    if let Some(profile) = icc.and_then(parse) {
        if profile.color_space == DataColorSpace::Cmyk {
            let srgb = ColorProfile::new_srgb();
            if let Ok(t) = profile.create_transform_8bit(
                Layout::Rgba,
                &srgb,
                Layout::Rgb,
                TransformOptions::default(),
            ) {
                let mut out = vec![0u8; cmyk.len() / 4 * 3];
                if t.transform(cmyk, &mut out).is_ok() {
                    return Pixels::new(width, height, 3, out);
                }
            }
        }
    }
    let mut data = Vec::with_capacity(cmyk.len() / 4 * 3);
    for p in cmyk.chunks_exact(4) {
        let k = 255 - p[3] as u32;
        for v in &p[..3] {
            data.push((((255 - *v as u32) * k + 127) / 255) as u8);
        }
    }
    Pixels::new(width, height, 3, data)
}
