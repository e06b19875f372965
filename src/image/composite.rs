//! Overlays (watermarks) drawn over the resized image with the "over" operator.

use super::decode;
use super::error::{ImageError, Result};
use super::geometry::embed_position;
use super::limits;
use super::metadata;
use super::options::{Overlay, ResizeOptions};
use super::pixels::Pixels;

pub fn apply(mut base: Pixels, overlays: &[Overlay], options: &ResizeOptions) -> Result<Pixels> {
    for overlay in overlays {
        let header = metadata::read(&overlay.input)?;
        limits::check(header.width, header.height, options.limit_input_pixels)?;
        let mut top = decode::decode(&overlay.input, &header, decode::LoadScale::Full, false)?;
        if options.auto_orient {
            top = super::orient::apply(top, header.orientation);
        }
        if top.width > base.width || top.height > base.height {
            return Err(ImageError::invalid(format!(
                "the composite input ({}×{}) must not be larger than the image ({}×{})",
                top.width, top.height, base.width, base.height
            )));
        }
        let (left, tp) = match (overlay.left, overlay.top) {
            (Some(l), Some(t)) => (l, t),
            _ => {
                let (l, t) = embed_position(
                    top.width,
                    top.height,
                    base.width,
                    base.height,
                    overlay.gravity,
                );
                (l as i64, t as i64)
            }
        };
        base = over(
            base,
            &top.to_colour().with_alpha(),
            left,
            tp,
            overlay.opacity,
        );
    }
    Ok(base)
}

fn over(base: Pixels, top: &Pixels, left: i64, tp: i64, opacity: f32) -> Pixels {
    let base_alpha = base.has_alpha();
    let mut base = base.to_colour();
    let c = base.channels as usize;
    debug_assert!((0.0..=1.0).contains(&opacity));
    for y in 0..top.height as i64 {
        let by = tp + y;
        if by < 0 || by >= base.height as i64 {
            continue;
        }
        for x in 0..top.width as i64 {
            let bx = left + x;
            if bx < 0 || bx >= base.width as i64 {
                continue;
            }
            let t = ((y * top.width as i64 + x) * 4) as usize;
            let src = &top.data[t..t + 4];
            let a = src[3] as f32 / 255.0 * opacity;
            if a <= 0.0 {
                continue;
            }
            let b = ((by * base.width as i64 + bx) as usize) * c;
            let dst = &mut base.data[b..b + c];
            let da = if base_alpha {
                dst[3] as f32 / 255.0
            } else {
                1.0
            };
            let oa = a + da * (1.0 - a);
            for i in 0..3 {
                let v = (src[i] as f32 * a + dst[i] as f32 * da * (1.0 - a)) / oa;
                dst[i] = v.round().clamp(0.0, 255.0) as u8;
            }
            if base_alpha {
                dst[3] = (oa * 255.0).round() as u8;
            }
        }
    }
    base
}
