//! The in-memory image the stages pass along: 8-bit, interleaved, 1 to 4 channels
//! (grey, grey+alpha, RGB, RGBA).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub data: Vec<u8>,
}

impl Pixels {
    pub fn new(width: u32, height: u32, channels: u8, data: Vec<u8>) -> Pixels {
        debug_assert_eq!(
            data.len(),
            width as usize * height as usize * channels as usize
        );
        Pixels {
            width,
            height,
            channels,
            data,
        }
    }

    pub fn has_alpha(&self) -> bool {
        self.channels == 2 || self.channels == 4
    }

    /// Alpha that changes something: an alpha channel with any value below 255.
    pub fn has_real_alpha(&self) -> bool {
        if !self.has_alpha() {
            return false;
        }
        let c = self.channels as usize;
        self.data.chunks_exact(c).any(|p| p[c - 1] != 255)
    }

    pub fn is_grey(&self) -> bool {
        self.channels <= 2
    }

    /// Drops an alpha channel that is opaque everywhere, so that an RGB resize does 3
    /// channels of work instead of 4 and JPEG output needs no flattening.
    pub fn drop_opaque_alpha(self) -> Pixels {
        if self.has_alpha() && !self.has_real_alpha() {
            self.without_alpha()
        } else {
            self
        }
    }

    fn without_alpha(self) -> Pixels {
        let c = self.channels as usize;
        let data = self
            .data
            .chunks_exact(c)
            .flat_map(|p| p[..c - 1].iter().copied())
            .collect();
        Pixels::new(self.width, self.height, self.channels - 1, data)
    }

    /// Each `hf`×`vf` block averaged into one pixel (rounded to nearest). A partial block
    /// at the right or bottom edge repeats the edge pixels, so the size rounds up.
    pub fn box_shrink(&self, hf: u32, vf: u32) -> Pixels {
        let c = self.channels as usize;
        let (w, h) = (self.width as usize, self.height as usize);
        let (hf, vf) = (hf as usize, vf as usize);
        let (ow, oh) = (w.div_ceil(hf), h.div_ceil(vf));
        let count = (hf * vf) as u32;
        let mut sums = vec![0u32; ow * c];
        let mut data = Vec::with_capacity(ow * oh * c);
        for oy in 0..oh {
            sums.iter_mut().for_each(|s| *s = 0);
            for dy in 0..vf {
                let y = (oy * vf + dy).min(h - 1);
                let row = &self.data[y * w * c..(y + 1) * w * c];
                for (ox, sum) in sums.chunks_exact_mut(c).enumerate() {
                    let x0 = ox * hf;
                    let full = (w - x0).min(hf);
                    for px in row[x0 * c..(x0 + full) * c].chunks_exact(c) {
                        sum.iter_mut().zip(px).for_each(|(s, &v)| *s += v as u32);
                    }
                    // The edge pixel stands in for the columns past the edge.
                    let edge = &row[(w - 1) * c..w * c];
                    let missing = (hf - full) as u32;
                    sum.iter_mut()
                        .zip(edge)
                        .for_each(|(s, &v)| *s += v as u32 * missing);
                }
            }
            data.extend(sums.iter().map(|&s| ((s + count / 2) / count) as u8));
        }
        Pixels::new(ow as u32, oh as u32, self.channels, data)
    }

    /// The image grown by `right` columns and `bottom` rows repeating its edge pixels.
    pub fn extend_edges(&self, right: u32, bottom: u32) -> Pixels {
        let c = self.channels as usize;
        let (w, h) = (self.width as usize, self.height as usize);
        let (nw, nh) = (w + right as usize, h + bottom as usize);
        let mut data = Vec::with_capacity(nw * nh * c);
        for y in 0..nh {
            let row = &self.data[y.min(h - 1) * w * c..(y.min(h - 1) + 1) * w * c];
            data.extend_from_slice(row);
            for _ in w..nw {
                data.extend_from_slice(&row[(w - 1) * c..]);
            }
        }
        Pixels::new(nw as u32, nh as u32, self.channels, data)
    }

    /// Colours divided by their alpha (for input stored premultiplied).
    pub fn unpremultiplied(mut self) -> Pixels {
        if !self.has_alpha() {
            return self;
        }
        let c = self.channels as usize;
        for p in self.data.chunks_exact_mut(c) {
            let a = p[c - 1] as u32;
            if a > 0 && a < 255 {
                for v in &mut p[..c - 1] {
                    *v = ((*v as u32 * 255 + a / 2) / a).min(255) as u8;
                }
            }
        }
        self
    }

    /// Adds an opaque alpha channel.
    pub fn with_alpha(self) -> Pixels {
        if self.has_alpha() {
            return self;
        }
        let c = self.channels as usize;
        let mut data = Vec::with_capacity(self.data.len() / c * (c + 1));
        for p in self.data.chunks_exact(c) {
            data.extend_from_slice(p);
            data.push(255);
        }
        Pixels::new(self.width, self.height, self.channels + 1, data)
    }

    /// Grey to RGB (keeping alpha).
    pub fn to_colour(self) -> Pixels {
        if !self.is_grey() {
            return self;
        }
        let alpha = self.has_alpha();
        let c = self.channels as usize;
        let mut data = Vec::with_capacity(self.data.len() / c * (c + 2));
        for p in self.data.chunks_exact(c) {
            data.extend_from_slice(&[p[0], p[0], p[0]]);
            if alpha {
                data.push(p[1]);
            }
        }
        Pixels::new(self.width, self.height, self.channels + 2, data)
    }

    /// Composes alpha over an opaque background and drops the alpha channel.
    pub fn flatten(self, background: [u8; 4]) -> Pixels {
        if !self.has_alpha() {
            return self;
        }
        let c = self.channels as usize;
        let bg: [u32; 3] = if self.is_grey() {
            let l = luma(background[0], background[1], background[2]) as u32;
            [l, l, l]
        } else {
            [
                background[0] as u32,
                background[1] as u32,
                background[2] as u32,
            ]
        };
        let mut data = Vec::with_capacity(self.data.len() / c * (c - 1));
        for p in self.data.chunks_exact(c) {
            let a = p[c - 1] as u32;
            for (i, v) in p[..c - 1].iter().enumerate() {
                data.push(((*v as u32 * a + bg[i] * (255 - a) + 127) / 255) as u8);
            }
        }
        Pixels::new(self.width, self.height, self.channels - 1, data)
    }

    /// The window `left, top, width, height`.
    pub fn crop(&self, left: u32, top: u32, width: u32, height: u32) -> Pixels {
        let c = self.channels as usize;
        let row = self.width as usize * c;
        let mut data = Vec::with_capacity(width as usize * height as usize * c);
        for y in top..top + height {
            let start = y as usize * row + left as usize * c;
            data.extend_from_slice(&self.data[start..start + width as usize * c]);
        }
        Pixels::new(width, height, self.channels, data)
    }

    /// This image on a `width`×`height` canvas of `background`, at `left, top`.
    pub fn embed(
        &self,
        width: u32,
        height: u32,
        left: u32,
        top: u32,
        background: [u8; 4],
    ) -> Pixels {
        let c = self.channels as usize;
        let fill: Vec<u8> = match self.channels {
            1 => vec![luma(background[0], background[1], background[2])],
            2 => vec![
                luma(background[0], background[1], background[2]),
                background[3],
            ],
            3 => background[..3].to_vec(),
            _ => background.to_vec(),
        };
        let mut data = Vec::with_capacity(width as usize * height as usize * c);
        for _ in 0..width as usize * height as usize {
            data.extend_from_slice(&fill);
        }
        let row = width as usize * c;
        let src_row = self.width as usize * c;
        for y in 0..self.height as usize {
            let dst = (top as usize + y) * row + left as usize * c;
            data[dst..dst + src_row].copy_from_slice(&self.data[y * src_row..(y + 1) * src_row]);
        }
        Pixels::new(width, height, self.channels, data)
    }
}

/// Rec. 601 luma, as libvips uses for sRGB to B_W.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114 + 500) / 1000) as u8
}
