//! EXIF in a WebP file. libwebp's simple encoder writes the plain container ("RIFF",
//! "WEBP", one VP8/VP8L chunk, or VP8X + ALPH + VP8 for lossy alpha); metadata needs the
//! extended one: a VP8X chunk whose flags announce it, and an EXIF chunk at the end.

const EXIF_FLAG: u8 = 0x08;
const ALPHA_FLAG: u8 = 0x10;

/// `webp` with `exif` (a TIFF structure, no "Exif\0\0" prefix) added.
pub fn add_exif(webp: &[u8], exif: &[u8], width: u32, height: u32, has_alpha: bool) -> Vec<u8> {
    let chunks = &webp[12.min(webp.len())..];
    let mut out = Vec::with_capacity(webp.len() + exif.len() + 40);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    if chunks.starts_with(b"VP8X") && chunks.len() >= 18 {
        out.extend_from_slice(chunks);
        out[20] |= EXIF_FLAG; // the flags byte: 12 (file header) + 8 (chunk header)
    } else {
        let mut vp8x = [0u8; 10];
        vp8x[0] = EXIF_FLAG | if has_alpha { ALPHA_FLAG } else { 0 };
        vp8x[4..7].copy_from_slice(&(width - 1).to_le_bytes()[..3]);
        vp8x[7..10].copy_from_slice(&(height - 1).to_le_bytes()[..3]);
        chunk(&mut out, b"VP8X", &vp8x);
        out.extend_from_slice(chunks);
    }
    chunk(&mut out, b"EXIF", exif);
    let riff_size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    out
}

/// A RIFF chunk: its type, its size, its data, padded to an even length.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}
