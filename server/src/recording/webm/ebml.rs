//! EBML, the binary format under WebM: element ids, variable-length sizes, and the few element
//! kinds the finalizer reads and writes. Hand-written because the finalizer needs exactly two
//! things no crate offers together: reading Chrome's unknown-size elements from a stream that may
//! stop anywhere, and writing fixed-width fields it can patch in place afterwards.

use std::io::{self, Read};

/// The EBML header (DocType `webm`).
pub const EBML: u32 = 0x1A45_DFA3;
/// The Segment: everything after the header.
pub const SEGMENT: u32 = 0x1853_8067;
/// Index of the level-1 elements.
pub const SEEK_HEAD: u32 = 0x114D_9B74;
/// One index entry.
pub const SEEK: u32 = 0x4DBB;
/// The id an index entry points to.
pub const SEEK_ID: u32 = 0x53AB;
/// Where it is, from the start of the Segment's data.
pub const SEEK_POSITION: u32 = 0x53AC;
/// Segment information.
pub const INFO: u32 = 0x1549_A966;
/// Nanoseconds per timestamp tick (default 1 000 000: milliseconds).
pub const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
/// The length, a float in ticks: what live WebM lacks.
pub const DURATION: u32 = 0x4489;
/// The tracks.
pub const TRACKS: u32 = 0x1654_AE6B;
/// One track.
pub const TRACK_ENTRY: u32 = 0xAE;
/// Its number, as blocks name it.
pub const TRACK_NUMBER: u32 = 0xD7;
/// 1 video, 2 audio.
pub const TRACK_TYPE: u32 = 0x83;
/// A group of blocks sharing a base timestamp.
pub const CLUSTER: u32 = 0x1F43_B675;
/// The cluster's base timestamp.
pub const TIMESTAMP: u32 = 0xE7;
/// A frame with its keyframe flag.
pub const SIMPLE_BLOCK: u32 = 0xA3;
/// A frame with extra fields.
pub const BLOCK_GROUP: u32 = 0xA0;
/// The frame inside a BlockGroup.
pub const BLOCK: u32 = 0xA1;
/// Present in a BlockGroup when its frame is not a keyframe.
pub const REFERENCE_BLOCK: u32 = 0xFB;
/// The seek index.
pub const CUES: u32 = 0x1C53_BB6B;
/// One seek point.
pub const CUE_POINT: u32 = 0xBB;
/// Its time in ticks.
pub const CUE_TIME: u32 = 0xB3;
/// Where, for one track.
pub const CUE_TRACK_POSITIONS: u32 = 0xB7;
/// The track.
pub const CUE_TRACK: u32 = 0xF7;
/// The cluster's position from the start of the Segment's data.
pub const CUE_CLUSTER_POSITION: u32 = 0xF1;
/// Padding.
pub const VOID: u32 = 0xEC;
/// Tags.
pub const TAGS: u32 = 0x1254_C367;
/// Chapters.
pub const CHAPTERS: u32 = 0x1043_A770;
/// Attachments.
pub const ATTACHMENTS: u32 = 0x1941_A469;

/// Level-1 ids (and the header ids): one of these ends an unknown-size Cluster.
pub fn is_top_level(id: u32) -> bool {
    matches!(
        id,
        EBML | SEGMENT | SEEK_HEAD | INFO | TRACKS | CLUSTER | CUES | TAGS | CHAPTERS | ATTACHMENTS
    )
}

/// An element's id and size as read; `size` is `None` for "unknown" (live streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The element id, with its length marker (as the constants above).
    pub id: u32,
    /// The body length, or `None` when unknown.
    pub size: Option<u64>,
}

/// Why reading stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The input ended inside an element: the rest was never written (or not yet uploaded).
    Truncated,
    /// Bytes that cannot be EBML here.
    Invalid(&'static str),
    /// The underlying reader failed.
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ReadError::Truncated
        } else {
            ReadError::Io(e)
        }
    }
}

/// A stream of EBML elements that knows its byte position.
pub struct Reader<R> {
    /// The bytes.
    inner: R,
    /// Bytes consumed so far.
    pos: u64,
}

impl<R: Read> Reader<R> {
    /// Reads from `inner`, which should be buffered.
    pub fn new(inner: R) -> Self {
        Reader { inner, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// One byte, or `None` at the end of the input.
    fn byte(&mut self) -> Result<Option<u8>, ReadError> {
        let mut b = [0u8; 1];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.pos += 1;
                    return Ok(Some(b[0]));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The next element header; `Ok(None)` when the input ends cleanly between elements.
    ///
    /// # Errors
    /// [`ReadError::Truncated`] inside a header, [`ReadError::Invalid`] for a bad marker.
    pub fn header(&mut self) -> Result<Option<Header>, ReadError> {
        let Some(first) = self.byte()? else {
            return Ok(None);
        };
        let len = first.leading_zeros() as usize + 1;
        if len > 4 {
            return Err(ReadError::Invalid("element id longer than 4 bytes"));
        }
        let mut id = u32::from(first);
        for _ in 1..len {
            let b = self.byte()?.ok_or(ReadError::Truncated)?;
            id = (id << 8) | u32::from(b);
        }
        let first = self.byte()?.ok_or(ReadError::Truncated)?;
        let len = first.leading_zeros() as usize + 1;
        if len > 8 {
            return Err(ReadError::Invalid("element size longer than 8 bytes"));
        }
        let mut value = u64::from(first) & (0xFF >> len);
        let mut all_ones = value == (0xFF >> len);
        for _ in 1..len {
            let b = self.byte()?.ok_or(ReadError::Truncated)?;
            all_ones &= b == 0xFF;
            value = (value << 8) | u64::from(b);
        }
        Ok(Some(Header {
            id,
            size: (!all_ones).then_some(value),
        }))
    }

    /// The next `size` bytes, refusing more than `max` (a bound on memory for untrusted input).
    ///
    /// # Errors
    /// [`ReadError::Truncated`] when the input ends first; [`ReadError::Invalid`] above `max`.
    pub fn body(&mut self, size: u64, max: u64) -> Result<Vec<u8>, ReadError> {
        if size > max {
            return Err(ReadError::Invalid("element larger than allowed"));
        }
        let mut buf = vec![0u8; usize::try_from(size).map_err(|_| ReadError::Invalid("size"))?];
        self.inner.read_exact(&mut buf)?;
        self.pos += size;
        Ok(buf)
    }

    /// Skips `size` bytes.
    ///
    /// # Errors
    /// [`ReadError::Truncated`] when the input ends first.
    pub fn skip(&mut self, size: u64) -> Result<(), ReadError> {
        let copied = io::copy(&mut (&mut self.inner).take(size), &mut io::sink())?;
        self.pos += copied;
        if copied < size {
            return Err(ReadError::Truncated);
        }
        Ok(())
    }
}

/// Reads a variable-length integer (as in a block's track number) from `buf` at `*pos`.
pub fn vint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *buf.get(*pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let mut value = u64::from(first) & (0xFF >> len);
    for i in 1..len {
        value = (value << 8) | u64::from(*buf.get(*pos + i)?);
    }
    *pos += len;
    Some(value)
}

/// The children of a known-size master element's body, as `(id, body)`; `None` if malformed.
pub fn children(mut body: &[u8]) -> Option<Vec<(u32, &[u8])>> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let mut r = Reader::new(body);
        let h = r.header().ok()??;
        let start = usize::try_from(r.pos()).ok()?;
        let size = usize::try_from(h.size?).ok()?;
        let end = start.checked_add(size)?;
        out.push((h.id, body.get(start..end)?));
        body = &body[end..];
    }
    Some(out)
}

/// An unsigned integer element's value (big-endian, 0–8 bytes).
pub fn read_uint(body: &[u8]) -> Option<u64> {
    (body.len() <= 8).then(|| body.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
}

/// A float element's value (4 or 8 bytes).
pub fn read_float(body: &[u8]) -> Option<f64> {
    match body.len() {
        4 => Some(f64::from(f32::from_be_bytes(body.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(body.try_into().ok()?)),
        _ => None,
    }
}

/// Appends an element id.
pub fn put_id(out: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    out.extend_from_slice(&bytes[skip..]);
}

/// Appends a size in as few bytes as it needs.
pub fn put_size(out: &mut Vec<u8>, size: u64) {
    let mut len = 1;
    // All ones means "unknown", so the largest value of each length is skipped.
    while len < 8 && size >= (1u64 << (7 * len)) - 1 {
        len += 1;
    }
    put_size_len(out, size, len);
}

/// Appends a size in exactly 8 bytes, so it can be patched in place later.
pub fn put_size8(out: &mut Vec<u8>, size: u64) {
    put_size_len(out, size, 8);
}

fn put_size_len(out: &mut Vec<u8>, size: u64, len: usize) {
    let marked = size | (1u64 << (7 * len));
    out.extend_from_slice(&marked.to_be_bytes()[8 - len..]);
}

/// Appends a whole element.
pub fn put_element(out: &mut Vec<u8>, id: u32, body: &[u8]) {
    put_id(out, id);
    put_size(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// Appends an unsigned integer element in as few bytes as it needs.
pub fn put_uint(out: &mut Vec<u8>, id: u32, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    put_element(out, id, &bytes[skip..]);
}

/// Appends an unsigned integer element in exactly 8 bytes (patchable).
pub fn put_uint8(out: &mut Vec<u8>, id: u32, value: u64) {
    put_element(out, id, &value.to_be_bytes());
}

/// Appends an 8-byte float element.
pub fn put_float(out: &mut Vec<u8>, id: u32, value: f64) {
    put_element(out, id, &value.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_trip_and_unknown_is_recognised() {
        for size in [0u64, 1, 126, 127, 128, 16_382, 16_383, 1 << 40] {
            let mut buf = Vec::new();
            put_id(&mut buf, CLUSTER);
            put_size(&mut buf, size);
            let h = Reader::new(&buf[..]).header().unwrap().unwrap();
            assert_eq!(
                h,
                Header {
                    id: CLUSTER,
                    size: Some(size)
                },
                "{size}"
            );
        }
        let live = [
            0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        let h = Reader::new(&live[..]).header().unwrap().unwrap();
        assert_eq!(h.size, None);
    }

    #[test]
    fn truncation_and_garbage_are_errors_not_panics() {
        assert!(matches!(
            Reader::new(&[0x1F, 0x43][..]).header(),
            Err(ReadError::Truncated)
        ));
        assert!(matches!(
            Reader::new(&[0x00, 0x43][..]).header(),
            Err(ReadError::Invalid(_))
        ));
        assert!(Reader::new(&[][..]).header().unwrap().is_none());
        assert!(children(&[0xE7, 0x85, 0x00]).is_none());
        assert!(matches!(
            Reader::new(&[1u8, 2][..]).body(3, 10),
            Err(ReadError::Truncated)
        ));
    }
}
