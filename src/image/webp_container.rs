//! The WebP container (RIFF): its chunks, read for the header (metadata.rs) and edited
//! after libwebp's encoders (encode.rs). libwebp's simple encoder writes the plain form
//! ("RIFF", "WEBP", one VP8/VP8L chunk, or VP8X + ALPH + VP8 for lossy alpha); metadata
//! needs the extended one: a VP8X chunk whose flags announce it, and an EXIF chunk.

const EXIF_FLAG: u8 = 0x08;
const ALPHA_FLAG: u8 = 0x10;

/// One chunk: its type, where its data starts in the file, and the data (cut short if the
/// file is).
pub struct Chunk<'a> {
    pub kind: &'a [u8],
    pub offset: usize,
    pub data: &'a [u8],
}

/// The chunks after the 12-byte file header, in order, until the bytes run out.
pub fn chunks(webp: &[u8]) -> impl Iterator<Item = Chunk<'_>> {
    let mut at = 12;
    std::iter::from_fn(move || {
        let kind = webp.get(at..at + 4)?;
        let len = u32::from_le_bytes(webp.get(at + 4..at + 8)?.try_into().ok()?) as usize;
        let offset = at + 8;
        let end = offset.saturating_add(len);
        let data = webp.get(offset..end.min(webp.len())).unwrap_or(&[]);
        // Chunks are padded to an even length.
        at = end.saturating_add(len & 1);
        Some(Chunk { kind, offset, data })
    })
}

/// `webp` with `exif` (a TIFF structure, no "Exif\0\0" prefix) added.
pub fn add_exif(webp: &[u8], exif: &[u8], width: u32, height: u32, has_alpha: bool) -> Vec<u8> {
    let body = &webp[12.min(webp.len())..];
    let mut out = Vec::with_capacity(webp.len() + exif.len() + 40);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    if body.starts_with(b"VP8X") && body.len() >= 18 {
        out.extend_from_slice(body);
        out[20] |= EXIF_FLAG; // the flags byte: 12 (file header) + 8 (chunk header)
    } else {
        let mut vp8x = [0u8; 10];
        vp8x[0] = EXIF_FLAG | if has_alpha { ALPHA_FLAG } else { 0 };
        vp8x[4..7].copy_from_slice(&(width - 1).to_le_bytes()[..3]);
        vp8x[7..10].copy_from_slice(&(height - 1).to_le_bytes()[..3]);
        put_chunk(&mut out, b"VP8X", &vp8x);
        out.extend_from_slice(body);
    }
    put_chunk(&mut out, b"EXIF", exif);
    let riff_size = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    out
}

/// Sets the duration (ms, 24 bits) of the last frame (ANMF chunk) of an animated WebP.
pub fn set_last_frame_duration(webp: &mut [u8], ms: u32) {
    let last = chunks(webp)
        .filter(|c| c.kind == b"ANMF" && c.data.len() >= 16)
        .last()
        .map(|c| c.offset);
    if let Some(at) = last {
        let ms = ms.min(0xFF_FFFF).to_le_bytes();
        webp[at + 12..at + 15].copy_from_slice(&ms[..3]);
    }
}

/// A RIFF chunk: its type, its size, its data, padded to an even length.
fn put_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}
