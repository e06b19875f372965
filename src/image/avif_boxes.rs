//! A check of an AVIF's box structure before anything sizes memory by it.
//!
//! avif-parse reserves memory by what the file claims: a box's size for its contents,
//! `iinf`'s entry count, `iloc`'s item count. A 580-byte file whose `ftyp` claimed 4 GiB
//! made it ask for 4 GiB (found by the fuzzer). After [`check`], every box the parser
//! descends into fits in the box that holds it (the file, at the top), and those counts
//! fit in their box, so no claim is larger than the input.
//!
//! Only sizes are checked: what the boxes say is left to avif-parse, except for the
//! primary item's rotation and mirror (`irot`, `imir`) and ICC profile, which
//! avif-parse does not report: [`primary_item`] reads the first two as the EXIF
//! orientation that does the same, and the profile.

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

/// The boxes directly inside `data`: `(type, contents)`; stops at the first that
/// does not fit (a file [`check`] passed has none).
fn children(mut data: &[u8]) -> impl Iterator<Item = (&[u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        if data.len() < 8 {
            return None;
        }
        let (kind, body, rest) = next_box(data).ok()?;
        data = rest;
        Some((kind, body))
    })
}

fn child<'a>(data: &'a [u8], wanted: &[u8; 4]) -> Option<&'a [u8]> {
    children(data)
        .find(|(kind, _)| *kind == wanted)
        .map(|(_, body)| body)
}

/// What offload takes from the primary item's properties itself.
#[cfg_attr(not(feature = "avif-input"), allow(dead_code))]
pub struct PrimaryItem {
    /// The EXIF orientation (1–8) that shows the image as its `irot` and `imir`
    /// properties say, applied in the order the item lists them (as HEIF readers,
    /// libheif and so sharp among them, do); 1 when it has neither.
    pub orientation: u8,
    /// Its ICC profile (a `colr` of type `prof` or `rICC`), which offload applies
    /// after the resize as for any other format.
    pub icc: Option<Vec<u8>>,
}

/// The primary item's orientation and ICC profile, in one walk of its properties.
#[cfg_attr(not(feature = "avif-input"), allow(dead_code))]
pub fn primary_item(data: &[u8]) -> PrimaryItem {
    let mut icc = None;
    // As (r, f): the image is shown turned r quarter turns clockwise after a
    // left-right flip when f. A left-right flip after turning by r is a flip
    // then a turn by -r; a top-bottom flip is a left-right one, then a half turn.
    let (mut r, mut f) = (0u8, false);
    for (kind, body) in primary_properties(data).unwrap_or_default() {
        match (kind, body.first()) {
            // Quarter turns anticlockwise.
            (b"irot", Some(&angle)) => r = (r + 4 - (angle & 3)) % 4,
            // Mode 1 exchanges left and right, mode 0 top and bottom. (The first HEIF
            // text called the field `axis` and read 0 as "a vertical axis"; the current
            // text, libheif, libavif and so sharp read 0 as top-to-bottom.)
            (b"imir", Some(&mode)) => {
                r = if mode & 1 == 1 {
                    (4 - r) % 4
                } else {
                    (6 - r) % 4
                };
                f = !f;
            }
            (b"colr", _) if icc.is_none() => {
                if let Some(b"prof" | b"rICC") = body.get(..4) {
                    icc = Some(body[4..].to_vec());
                }
            }
            _ => {}
        }
    }
    let orientation = match (r, f) {
        (0, false) => 1,
        (0, true) => 2,
        (2, false) => 3,
        (2, true) => 4,
        (3, true) => 5,
        (1, false) => 6,
        (1, true) => 7,
        _ => 8,
    };
    PrimaryItem { orientation, icc }
}

/// The properties (type, contents) of the primary item, in the order of its
/// associations.
fn primary_properties(data: &[u8]) -> Option<Vec<(&[u8; 4], &[u8])>> {
    let meta = child(data, b"meta")?.get(4..)?;
    let pitm = child(meta, b"pitm")?;
    let primary = match pitm.first()? {
        0 => be(pitm.get(4..6)?),
        _ => be(pitm.get(4..8)?),
    };
    let iprp = child(meta, b"iprp")?;
    let properties: Vec<_> = children(child(iprp, b"ipco")?).collect();
    let mut out = Vec::new();
    for (kind, ipma) in children(iprp) {
        if kind != b"ipma" {
            continue;
        }
        let (version, wide_index) = (*ipma.first()?, ipma.get(3)? & 1 == 1);
        let id_len = if version < 1 { 2 } else { 4 };
        let step = if wide_index { 2 } else { 1 };
        let mut at = 8;
        for _ in 0..be(ipma.get(4..8)?) {
            let item = be(ipma.get(at..at + id_len)?);
            let count = *ipma.get(at + id_len)? as usize;
            at += id_len + 1;
            if item == primary {
                for k in 0..count {
                    let raw = be(ipma.get(at + k * step..at + (k + 1) * step)?);
                    // The top bit says essential; the rest is a 1-based index.
                    let index = raw & ((1 << (8 * step - 1)) - 1);
                    if let Some(&property) = properties.get((index as usize).wrapping_sub(1)) {
                        out.push(property);
                    }
                }
            }
            at += count * step;
        }
    }
    Some(out)
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

    /// A file whose item 1 has `properties` (type, one-byte contents), in that order.
    fn with_properties(properties: &[(&[u8; 4], u8)], primary: u16) -> Vec<u8> {
        let bodies: Vec<_> = properties.iter().map(|(k, b)| (*k, vec![*b])).collect();
        with_property_bodies(&bodies, primary)
    }

    fn with_property_bodies(properties: &[(&[u8; 4], Vec<u8>)], primary: u16) -> Vec<u8> {
        let ipco: Vec<u8> = properties
            .iter()
            .flat_map(|(kind, body)| boxed(kind, body))
            .collect();
        let mut ipma = vec![0, 0, 0, 0, 0, 0, 0, 1, 0, 1, properties.len() as u8];
        ipma.extend((1..=properties.len() as u8).map(|i| 0x80 | i));
        let iprp = [boxed(b"ipco", &ipco), boxed(b"ipma", &ipma)].concat();
        let mut pitm = vec![0; 4];
        pitm.extend_from_slice(&primary.to_be_bytes());
        file(&[boxed(b"pitm", &pitm), boxed(b"iprp", &iprp)].concat())
    }

    #[test]
    fn irot_and_imir_become_the_exif_orientation_that_shows_the_same() {
        type Case<'a> = (&'a [(&'a [u8; 4], u8)], u8);
        let cases: [Case; 10] = [
            (&[], 1),
            (&[(b"irot", 0)], 1),
            // Anticlockwise quarter turns: 90° anticlockwise is EXIF 8.
            (&[(b"irot", 1)], 8),
            (&[(b"irot", 2)], 3),
            (&[(b"irot", 3)], 6),
            // imir mode 0 exchanges top and bottom, mode 1 left and right.
            (&[(b"imir", 0)], 4),
            (&[(b"imir", 1)], 2),
            // Turned 90° anticlockwise, then mirrored left-right: the transverse.
            (&[(b"irot", 1), (b"imir", 1)], 7),
            (&[(b"irot", 3), (b"imir", 1)], 5),
            (&[(b"irot", 1), (b"imir", 0)], 5),
        ];
        for (properties, want) in cases {
            let data = with_properties(properties, 1);
            assert_eq!(check(&data), Ok(()));
            assert_eq!(primary_item(&data).orientation, want, "{properties:?}");
        }
        // Properties of another item, and other properties, change nothing.
        assert_eq!(
            primary_item(&with_properties(&[(b"irot", 1)], 2)).orientation,
            1
        );
        assert_eq!(
            primary_item(&with_properties(&[(b"pixi", 1)], 1)).orientation,
            1
        );
    }

    #[test]
    fn the_icc_profile_is_the_primary_items_colr_of_type_prof_or_ricc() {
        let profile = b"an ICC profile".to_vec();
        for kind in [b"prof", b"rICC"] {
            let colr = [&kind[..], &profile].concat();
            let data = with_property_bodies(&[(b"ispe", vec![0; 12]), (b"colr", colr)], 1);
            let item = primary_item(&data);
            assert_eq!((item.icc, item.orientation), (Some(profile.clone()), 1));
        }
        let nclx = [&b"nclx"[..], &[0, 1, 0, 13, 0, 1, 0x80]].concat();
        assert_eq!(
            primary_item(&with_property_bodies(&[(b"colr", nclx)], 1)).icc,
            None
        );
        let theirs = [&b"prof"[..], &profile].concat();
        assert_eq!(
            primary_item(&with_property_bodies(&[(b"colr", theirs)], 2)).icc,
            None
        );
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
