//! EXIF orientation, applied after the resize so it moves a small image, not a large one.

use super::pixels::Pixels;

/// Whether orientation `o` swaps width and height.
pub fn swaps_axes(o: u8) -> bool {
    (5..=8).contains(&o)
}

/// Turns a stored image upright. For each output pixel (x, y) we compute which stored
/// pixel lands there; EXIF's eight cases are the eight symmetries of the rectangle.
pub fn apply(img: Pixels, orientation: u8) -> Pixels {
    if !(2..=8).contains(&orientation) {
        return img;
    }
    let (w, h) = (img.width as usize, img.height as usize);
    let c = img.channels as usize;
    let (ow, oh) = if swaps_axes(orientation) {
        (h, w)
    } else {
        (w, h)
    };
    let mut out = vec![0u8; img.data.len()];
    for y in 0..oh {
        for x in 0..ow {
            let (sx, sy) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                8 => (w - 1 - y, x),
                _ => (x, y),
            };
            let s = (sy * w + sx) * c;
            let d = (y * ow + x) * c;
            out[d..d + c].copy_from_slice(&img.data[s..s + c]);
        }
    }
    Pixels::new(ow as u32, oh as u32, img.channels, out)
}
