//! The task channel of workers that call `serve()` (`lib/worker.js`): binary
//! frames on a socket pair at the worker's fd 4, so raw bytes cross as bytes and
//! nothing needs a JSON scan to be routed.
//!
//! Every frame, both ways, little-endian, at these offsets (the `*_AT`
//! constants below):
//!
//! ```text
//!  0  u32  length of what follows
//!  4  u8   kind
//!  5  u32  task id
//!  9  u16  number of byte buffers (n)
//! 11  u16  length of the handler name
//! 13  u32  × n  length of each buffer
//! ...      handler name (UTF-8), then the JSON text, then the buffers, in order
//! ```
//!
//! The JSON text is the rest once the name and buffers are accounted for. A
//! buffer appears in the JSON as `{"$offload:bytes":index}` ([`BYTES_KEY`]).
//!
//! The JavaScript side is `lib/task-frame.js`, in the worker, which does not
//! load the addon: it keeps its own copy of these numbers, and
//! `__test__/contracts.test.mjs` holds it to the ones src/js exports.

/// Parent → worker: run a task.
pub const TASK: u8 = 1;
/// Parent → worker: abort the task's `AbortSignal` (cancelled, or timed out).
pub const CANCEL: u8 = 2;
/// Worker → parent: `serve()` is listening; JSON `{"concurrency":n}`.
pub const HELLO: u8 = 16;
/// Worker → parent: the handler's value.
pub const RESULT: u8 = 17;
/// Worker → parent: the handler threw; JSON `{name, message, stack, code, ...}`.
pub const ERROR: u8 = 18;

pub const KIND_AT: usize = 4;
pub const ID_AT: usize = 5;
pub const COUNT_AT: usize = 9;
pub const NAME_LEN_AT: usize = 11;
/// Where the buffer lengths start: the header before them is this long.
pub const LENGTHS_AT: usize = 13;
/// What follows the length field in every frame, at least.
const FIXED: usize = LENGTHS_AT - KIND_AT;

/// The key by which a task's or an answer's JSON text refers to its raw
/// buffers: `{"$offload:bytes":index}` (lib/codec.js writes and reads it).
pub const BYTES_KEY: &str = "$offload:bytes";
/// A frame past this is a broken or hostile worker, not a task.
pub const MAX_FRAME: usize = 1 << 31;

/// One decoded frame of a task channel.
#[derive(Debug, PartialEq, Eq)]
pub struct TaskFrame {
    pub kind: u8,
    pub id: u32,
    pub name: String,
    pub json: String,
    pub bytes: Bytes,
}

/// A frame's raw buffers: one allocation that holds them, and where each is,
/// so a large one reaches JavaScript without another copy.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Bytes {
    pub data: Vec<u8>,
    /// `(start, len)` in `data`, in order.
    pub ranges: Vec<(usize, usize)>,
}

impl Bytes {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let (start, len) = self.ranges[i];
        &self.data[start..start + len]
    }
}

/// Appends a frame's header, name and JSON to `out`; its buffers must follow,
/// in order.
pub fn encode_head<B: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    kind: u8,
    id: u32,
    name: &str,
    json: &[u8],
    buffers: &[B],
) {
    let bytes: usize = buffers.iter().map(|b| b.as_ref().len()).sum();
    let rest = FIXED + 4 * buffers.len() + name.len() + json.len() + bytes;
    out.reserve(4 + rest - bytes);
    out.extend_from_slice(&(rest as u32).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(buffers.len() as u16).to_le_bytes());
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    for b in buffers {
        out.extend_from_slice(&(b.as_ref().len() as u32).to_le_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(json);
}

/// Appends one whole frame to `out`.
pub fn encode<B: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    kind: u8,
    id: u32,
    name: &str,
    json: &[u8],
    buffers: &[B],
) {
    encode_head(out, kind, id, name, json, buffers);
    for b in buffers {
        out.extend_from_slice(b.as_ref());
    }
}

/// What is wrong with a frame: the worker is not speaking this protocol.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// How many bytes the frame at the start of `input` takes in all, once its
/// length is known; `Ok(None)` while even that is incomplete.
pub fn frame_len(input: &[u8]) -> Result<Option<usize>, Malformed> {
    if input.len() < 4 {
        return Ok(None);
    }
    let rest = u32_at(input, 0);
    if rest < FIXED {
        return Err(Malformed("a frame shorter than its header"));
    }
    if rest > MAX_FRAME {
        return Err(Malformed("a frame longer than 2 GiB"));
    }
    Ok(Some(4 + rest))
}

/// The parts of one complete frame: its buffers as ranges of `frame`.
fn parse(frame: &[u8]) -> Result<(TaskFrame, Vec<(usize, usize)>), Malformed> {
    let kind = frame[KIND_AT];
    let id = u32_at(frame, ID_AT) as u32;
    let count = u16_at(frame, COUNT_AT);
    let name_len = u16_at(frame, NAME_LEN_AT);
    let mut at = LENGTHS_AT;
    if frame.len() < at + 4 * count + name_len {
        return Err(Malformed("a frame shorter than its buffer table"));
    }
    let lengths: Vec<usize> = (0..count).map(|i| u32_at(frame, at + 4 * i)).collect();
    at += 4 * count;
    let bytes: usize = lengths.iter().sum();
    let Some(json_len) = frame.len().checked_sub(at + name_len + bytes) else {
        return Err(Malformed("buffers longer than their frame"));
    };
    let text =
        |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| Malformed("text that is not UTF-8"));
    let name = text(&frame[at..at + name_len])?;
    at += name_len;
    let json = text(&frame[at..at + json_len])?;
    at += json_len;
    let mut ranges = Vec::with_capacity(count);
    for len in lengths {
        ranges.push((at, len));
        at += len;
    }
    let frame = TaskFrame {
        kind,
        id,
        name,
        json,
        bytes: Bytes::default(),
    };
    Ok((frame, ranges))
}

/// Decodes one complete frame (`frame_len` bytes), copying its buffers out.
pub fn decode(frame: &[u8]) -> Result<TaskFrame, Malformed> {
    let (mut f, ranges) = parse(frame)?;
    if let (Some(first), Some(last)) = (ranges.first(), ranges.last()) {
        let (from, to) = (first.0, last.0 + last.1);
        f.bytes = Bytes {
            data: frame[from..to].to_vec(),
            ranges: ranges.iter().map(|&(at, len)| (at - from, len)).collect(),
        };
    }
    Ok(f)
}

/// Decodes one complete frame that has an allocation of its own: its buffers
/// stay where they are.
pub fn decode_owned(frame: Vec<u8>) -> Result<TaskFrame, Malformed> {
    let (mut f, ranges) = parse(&frame)?;
    if !ranges.is_empty() {
        f.bytes = Bytes {
            data: frame,
            ranges,
        };
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_with_its_name_and_buffers() {
        let mut out = Vec::new();
        let buffers = vec![vec![1, 2, 3], vec![], vec![0xff; 70_000]];
        encode(
            &mut out,
            TASK,
            7,
            "resize",
            br#"{"a":{"$offload:bytes":0}}"#,
            &buffers,
        );
        encode::<&[u8]>(&mut out, CANCEL, 8, "", b"", &[]);
        let first = frame_len(&out).unwrap().unwrap();
        for frame in [
            decode(&out[..first]).unwrap(),
            decode_owned(out[..first].to_vec()).unwrap(),
        ] {
            assert_eq!(frame.kind, TASK);
            assert_eq!(frame.id, 7);
            assert_eq!(frame.name, "resize");
            assert_eq!(frame.json, r#"{"a":{"$offload:bytes":0}}"#);
            let got: Vec<&[u8]> = (0..3).map(|i| frame.bytes.get(i)).collect();
            assert_eq!(got, buffers);
        }
        let second = decode(&out[first..]).unwrap();
        assert_eq!(
            (second.kind, second.id, second.json.as_str()),
            (CANCEL, 8, "")
        );
    }

    #[test]
    fn a_partial_frame_waits_and_garbage_is_refused() {
        let mut out = Vec::new();
        encode::<&[u8]>(&mut out, RESULT, 1, "", b"42", &[]);
        assert_eq!(frame_len(&out[..3]), Ok(None));
        assert_eq!(frame_len(&out), Ok(Some(out.len())));
        assert!(frame_len(&[1, 0, 0, 0, 0]).is_err());
        // A buffer table that claims more bytes than the frame holds.
        let mut bad = Vec::new();
        encode(&mut bad, RESULT, 1, "", b"", &[vec![0; 4]]);
        bad.truncate(bad.len() - 4);
        let rest = (bad.len() - 4) as u32;
        bad[..4].copy_from_slice(&rest.to_le_bytes());
        assert!(decode(&bad).is_err());
    }
}
