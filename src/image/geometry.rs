//! Output geometry with sharp's rules, so that the same options give the same dimensions:
//! one shrink factor per axis from the fit mode, rounded output sizes, then a crop (cover)
//! or a canvas (contain). All sizes here are of the upright (auto-oriented) image.

use super::options::{Fit, Gravity};

/// Shrink factors (input / output) per axis, as sharp's `ResolveShrink`.
pub fn resolve_shrink(
    width: u32,
    height: u32,
    target_width: Option<u32>,
    target_height: Option<u32>,
    fit: Fit,
    without_enlargement: bool,
) -> (f64, f64) {
    let (w, h) = (width as f64, height as f64);
    let (mut hshrink, mut vshrink) = (1.0f64, 1.0f64);
    match (target_width, target_height) {
        (Some(tw), Some(th)) => {
            hshrink = w / tw as f64;
            vshrink = h / th as f64;
            match fit {
                Fit::Cover | Fit::Outside => {
                    let s = hshrink.min(vshrink);
                    hshrink = s;
                    vshrink = s;
                }
                Fit::Contain | Fit::Inside => {
                    let s = hshrink.max(vshrink);
                    hshrink = s;
                    vshrink = s;
                }
                Fit::Fill => {}
            }
        }
        (Some(tw), None) => {
            hshrink = w / tw as f64;
            if fit != Fit::Fill {
                vshrink = hshrink;
            }
        }
        (None, Some(th)) => {
            vshrink = h / th as f64;
            if fit != Fit::Fill {
                hshrink = vshrink;
            }
        }
        (None, None) => {}
    }
    if without_enlargement {
        hshrink = hshrink.max(1.0);
        vshrink = vshrink.max(1.0);
    }
    // Never shrink an axis below one pixel.
    (hshrink.min(w), vshrink.min(h))
}

/// The DCT-domain scale libjpeg should decode at (1, 2, 4 or 8), as sharp picks it: the
/// largest power of two the common shrink allows, one step lower when the shrink is exactly
/// that power (libjpeg's rounding would otherwise leave the image a pixel short).
pub fn jpeg_shrink_on_load(hshrink: f64, vshrink: f64) -> u32 {
    let shrink = hshrink.min(vshrink);
    let mut factor = if shrink >= 8.0 {
        8
    } else if shrink >= 4.0 {
        4
    } else if shrink >= 2.0 {
        2
    } else {
        1
    };
    if factor > 1 && shrink as u32 == factor {
        factor /= 2;
    }
    factor
}

/// Round half away from zero, never below one pixel.
fn size(len: u32, shrink: f64) -> u32 {
    ((len as f64 / shrink).round() as u32).max(1)
}

/// Where the resized image goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// The size to resize to (upright).
    pub resize_width: u32,
    pub resize_height: u32,
    /// Source pixels per resized pixel (upright); 1 on an axis that is not resized.
    pub hshrink: f64,
    pub vshrink: f64,
    /// The final size.
    pub width: u32,
    pub height: u32,
    /// Cover: the kept window of the resized image.
    pub crop: Option<Rect>,
    /// Contain: where the resized image sits on the final canvas.
    pub embed: Option<(u32, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

/// The plan for an upright `width`×`height` image.
pub fn plan(
    width: u32,
    height: u32,
    target_width: Option<u32>,
    target_height: Option<u32>,
    fit: Fit,
    position: Gravity,
    without_enlargement: bool,
) -> Plan {
    let (hshrink, vshrink) = resolve_shrink(
        width,
        height,
        target_width,
        target_height,
        fit,
        without_enlargement,
    );
    let rw = if hshrink == 1.0 {
        width
    } else {
        size(width, hshrink)
    };
    let rh = if vshrink == 1.0 {
        height
    } else {
        size(height, vshrink)
    };
    let tw = target_width.unwrap_or(rw);
    let th = target_height.unwrap_or(rh);
    let mut out = Plan {
        resize_width: rw,
        resize_height: rh,
        hshrink,
        vshrink,
        width: rw,
        height: rh,
        crop: None,
        embed: None,
    };
    if rw == tw && rh == th {
        return out;
    }
    match fit {
        Fit::Contain => {
            let (left, top) = embed_position(rw, rh, tw, th, position);
            out.width = rw.max(tw);
            out.height = rh.max(th);
            out.embed = Some((left, top));
        }
        Fit::Cover => {
            let cw = tw.min(rw);
            let ch = th.min(rh);
            let (left, top) = crop_position(rw, rh, cw, ch, position);
            out.width = cw;
            out.height = ch;
            out.crop = Some(Rect {
                left,
                top,
                width: cw,
                height: ch,
            });
        }
        Fit::Fill | Fit::Inside | Fit::Outside => {}
    }
    out
}

/// sharp's `CalculateCrop`: the window of `out` inside `inp` (the centre
/// rounds up).
pub fn crop_position(in_w: u32, in_h: u32, out_w: u32, out_h: u32, g: Gravity) -> (u32, u32) {
    let (dx, dy) = (in_w - out_w, in_h - out_h);
    place(dx, dy, (dx.div_ceil(2), dy.div_ceil(2)), g)
}

/// sharp's `CalculateEmbedPosition`: where `inp` sits on an `out` canvas (the
/// centre rounds down).
pub fn embed_position(in_w: u32, in_h: u32, out_w: u32, out_h: u32, g: Gravity) -> (u32, u32) {
    let dx = out_w.saturating_sub(in_w);
    let dy = out_h.saturating_sub(in_h);
    place(dx, dy, (dx / 2, dy / 2), g)
}

/// The offset for gravity `g` within a slack of `dx` × `dy`.
fn place(dx: u32, dy: u32, (cx, cy): (u32, u32), g: Gravity) -> (u32, u32) {
    match g {
        Gravity::North => (cx, 0),
        Gravity::East => (dx, cy),
        Gravity::South => (cx, dy),
        Gravity::West => (0, cy),
        Gravity::NorthEast => (dx, 0),
        Gravity::SouthEast => (dx, dy),
        Gravity::SouthWest => (0, dy),
        Gravity::NorthWest => (0, 0),
        Gravity::Centre => (cx, cy),
    }
}
