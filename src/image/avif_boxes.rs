//! A check of an AVIF's box structure before anything sizes memory by it.
//!
//! avif-parse reserves memory by what the file claims: a box's size for its contents,
//! `iinf`'s entry count, `iloc`'s item count. A 580-byte file whose `ftyp` claimed 4 GiB
//! made it ask for 4 GiB (found by the fuzzer). After [`check`], every box the parser
//! descends into fits in the box that holds it (the file, at the top), and those counts
//! fit in their box, so no claim is larger than the input.
//!
//! Only sizes are checked: what the boxes say is left to avif-parse.

use super::error::ImageError;

/// What is wrong, for the `ERR_OFFLOAD_IMAGE_CORRUPT` message.
pub type Problem = &'static str;

/// Boxes inside boxes past this depth are not an image.
const MAX_DEPTH: u32 = 16;
/// The fewest bytes an `infe` box takes: a box header and a full-box header.
const MIN_INFE: usize = 8 + 4;
/// The fewest bytes an `iloc` item takes: id, data reference index and extent count.
const MIN_ILOC_ITEM: usize = 2 + 2 + 2;

/// Checks the boxes of `data`, a whole AVIF file.
pub fn check(data: &[u8]) -> Result<(), Problem> {
    boxes(data, 0)
}

/// [`check`], as the error offload reports.
pub fn ensure_sound(data: &[u8]) -> Result<(), ImageError> {
    check(data).map_err(|problem| ImageError::corrupt(format!("cannot read the AVIF: {problem}")))
}

fn boxes(mut data: &[u8], depth: u32) -> Result<(), Problem> {
    if depth > MAX_DEPTH {
        return Err("its boxes nest too deeply");
    }
    // Fewer bytes than a box header left over: padding, not a box.
    while data.len() >= 8 {
        let (kind, body, rest) = next_box(data)?;
        match kind {
            b"meta" | b"iref" => boxes(full_box_body(body)?, depth + 1)?,
            b"iprp" | b"ipco" | b"dinf" => boxes(body, depth + 1)?,
            b"iinf" => iinf(body, depth)?,
            b"iloc" => iloc(body)?,
            _ => {}
        }
        data = rest;
    }
    Ok(())
}

/// A box at the start of some bytes: its type, its contents, and what follows it.
type Split<'a> = (&'a [u8; 4], &'a [u8], &'a [u8]);

fn next_box(data: &[u8]) -> Result<Split<'_>, Problem> {
    let size = be(&data[0..4]);
    let kind: &[u8; 4] = data[4..8].try_into().expect("four bytes");
    let (size, mut header) = match size {
        // To the end of what holds it.
        0 => (data.len() as u64, 8),
        1 => (be(data.get(8..16).ok_or(TRUNCATED)?), 16),
        n => (n, 8),
    };
    if kind == b"uuid" {
        header += 16;
    }
    if size < header as u64 {
        return Err("a box is smaller than its own header");
    }
    if size > data.len() as u64 {
        return Err(TRUNCATED);
    }
    let (whole, rest) = data.split_at(size as usize);
    let body = whole.get(header..).ok_or(TRUNCATED)?;
    Ok((kind, body, rest))
}

const TRUNCATED: Problem = "a box is larger than what holds it (a truncated or damaged file)";

fn full_box_body(body: &[u8]) -> Result<&[u8], Problem> {
    body.get(4..).ok_or(TRUNCATED)
}

fn iinf(body: &[u8], depth: u32) -> Result<(), Problem> {
    let version = *body.first().ok_or(TRUNCATED)?;
    let (count, entries) = if version == 0 {
        (be(body.get(4..6).ok_or(TRUNCATED)?), &body[6..])
    } else {
        (be(body.get(4..8).ok_or(TRUNCATED)?), &body[8..])
    };
    if count.saturating_mul(MIN_INFE as u64) > entries.len() as u64 {
        return Err("its item list (iinf) counts more items than it holds");
    }
    boxes(entries, depth + 1)
}

fn iloc(body: &[u8]) -> Result<(), Problem> {
    let version = *body.first().ok_or(TRUNCATED)?;
    let (count, items) = if version < 2 {
        (be(body.get(6..8).ok_or(TRUNCATED)?), body.get(8..))
    } else {
        (be(body.get(6..10).ok_or(TRUNCATED)?), body.get(10..))
    };
    let items = items.ok_or(TRUNCATED)?;
    if count.saturating_mul(MIN_ILOC_ITEM as u64) > items.len() as u64 {
        return Err("its item locations (iloc) count more items than they hold");
    }
    Ok(())
}

/// A big-endian unsigned number of up to 8 bytes.
fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |n, &b| n << 8 | b as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn ftyp() -> Vec<u8> {
        boxed(b"ftyp", b"avif\0\0\0\0mif1avif")
    }

    fn file(meta_children: &[u8]) -> Vec<u8> {
        let mut meta = vec![0; 4];
        meta.extend_from_slice(meta_children);
        [ftyp(), boxed(b"meta", &meta), boxed(b"mdat", b"\x12\0")].concat()
    }

    #[test]
    fn a_well_formed_file_passes() {
        let mut iinf = vec![0, 0, 0, 0, 0, 1];
        iinf.extend(boxed(
            b"infe",
            &[2, 0, 0, 0, 0, 1, 0, 0, b'a', b'v', b'0', b'1'],
        ));
        let iloc = [
            0, 0, 0, 0, 0x44, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
        ];
        let meta = [boxed(b"iinf", &iinf), boxed(b"iloc", &iloc)].concat();
        assert_eq!(check(&file(&meta)), Ok(()));
        // A box that runs to the end of the file, and stray padding after the last box.
        let mut open = ftyp();
        open.extend_from_slice(&[0, 0, 0, 0, b'm', b'd', b'a', b't', 1, 2, 3]);
        assert_eq!(check(&open), Ok(()));
        assert_eq!(check(&[ftyp(), vec![0, 0]].concat()), Ok(()));
    }

    #[test]
    fn a_4_gib_ftyp_in_a_580_byte_file_is_refused() {
        // The fuzzer's find: avif-parse reserved the claimed size for the brand list.
        let mut data = ftyp();
        data[0..4].copy_from_slice(&0xff07_001c_u32.to_be_bytes());
        data.resize(580, 0);
        assert_eq!(check(&data), Err(TRUNCATED));
    }

    #[test]
    fn a_box_larger_than_its_parent_is_refused() {
        let mut meta = vec![0; 4];
        meta.extend(boxed(b"iprp", &boxed(b"ipco", &boxed(b"ispe", &[0; 12]))));
        let mut data = [ftyp(), boxed(b"meta", &meta)].concat();
        // ispe now claims more than ipco holds.
        let at = data.windows(4).position(|w| w == b"ispe").unwrap() - 4;
        data[at..at + 4].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(check(&data), Err(TRUNCATED));
        // A 64-bit size past the end, and a size smaller than a header.
        let large = [&[0, 0, 0, 1][..], b"mdat", &u64::MAX.to_be_bytes()].concat();
        assert_eq!(check(&[ftyp(), large].concat()), Err(TRUNCATED));
        let tiny = [&[0, 0, 0, 4][..], b"free"].concat();
        assert!(check(&[ftyp(), tiny].concat()).is_err());
    }

    #[test]
    fn counts_larger_than_their_box_are_refused() {
        let iinf = boxed(b"iinf", &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(check(&file(&iinf)).unwrap_err().contains("iinf"));
        let iloc = boxed(b"iloc", &[2, 0, 0, 0, 0x44, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(check(&file(&iloc)).unwrap_err().contains("iloc"));
    }

    #[test]
    fn boxes_nested_without_end_are_refused() {
        let mut data = boxed(b"dinf", &[]);
        for _ in 0..40 {
            data = boxed(b"dinf", &data);
        }
        let mut meta = vec![0; 4];
        meta.extend(data);
        assert!(check(&[ftyp(), boxed(b"meta", &meta)].concat())
            .unwrap_err()
            .contains("deeply"));
    }
}
