//! Checks a finalized file before the raw chunks may be trusted to it: a known-size Segment that
//! fills the file, a SeekHead, Info with a Duration, Tracks, Cues, and clusters whose blocks
//! never go back in time.

use std::collections::HashMap;
use std::io::Read;

use super::ebml::{self, Reader};

/// What a verified file holds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Verified {
    /// The Duration, in ticks of the TimestampScale.
    pub duration: f64,
    /// Clusters.
    pub clusters: u64,
    /// Blocks.
    pub blocks: u64,
    /// Cue points.
    pub cues: u64,
}

/// Walks a seekable WebM of `len` bytes.
///
/// # Errors
/// A description of the first thing wrong.
pub fn verify<R: Read>(input: R, len: u64) -> Result<Verified, String> {
    let mut r = Reader::new(input);
    let next = |r: &mut Reader<R>| -> Result<(u32, u64), String> {
        let h = r
            .header()
            .map_err(|e| format!("bad element at {}: {e:?}", r.pos()))?
            .ok_or("unexpected end")?;
        Ok((h.id, h.size.ok_or("unknown size in a finalized file")?))
    };
    let (id, size) = next(&mut r)?;
    if id != ebml::EBML {
        return Err("no EBML header".into());
    }
    r.skip(size).map_err(|_| "short EBML header")?;
    let (id, size) = next(&mut r)?;
    if id != ebml::SEGMENT || r.pos() + size != len {
        return Err(format!(
            "the Segment must fill the file ({} + {size} != {len})",
            r.pos()
        ));
    }
    let mut v = Verified::default();
    let (mut seek_head, mut tracks, mut duration) = (false, false, None);
    let mut last: HashMap<u64, i64> = HashMap::new();
    let mut last_base = 0i64;
    while r.pos() < len {
        let (id, size) = next(&mut r)?;
        let body = r
            .body(size, 64 << 20)
            .map_err(|e| format!("short element: {e:?}"))?;
        let children = ebml::children(&body).ok_or("malformed children")?;
        match id {
            ebml::SEEK_HEAD => seek_head = true,
            ebml::TRACKS => tracks = true,
            ebml::INFO => {
                duration = children
                    .iter()
                    .find(|(id, _)| *id == ebml::DURATION)
                    .and_then(|(_, b)| ebml::read_float(b));
            }
            ebml::CUES => {
                v.cues = children
                    .iter()
                    .filter(|(id, _)| *id == ebml::CUE_POINT)
                    .count() as u64
            }
            ebml::CLUSTER => {
                v.clusters += 1;
                let mut base = None;
                for (id, child) in children {
                    match id {
                        ebml::TIMESTAMP => {
                            let t = ebml::read_uint(child).ok_or("bad cluster timestamp")? as i64;
                            if t < last_base {
                                return Err("cluster timestamps go backwards".into());
                            }
                            last_base = t;
                            base = Some(t);
                        }
                        ebml::SIMPLE_BLOCK | ebml::BLOCK_GROUP => {
                            let block = if id == ebml::SIMPLE_BLOCK {
                                child
                            } else {
                                ebml::children(child)
                                    .and_then(|c| c.into_iter().find(|(id, _)| *id == ebml::BLOCK))
                                    .map(|(_, b)| b)
                                    .ok_or("BlockGroup without Block")?
                            };
                            let mut pos = 0;
                            let track = ebml::vint(block, &mut pos).ok_or("bad block")?;
                            let rel = block.get(pos..pos + 2).ok_or("short block")?;
                            let time = base.ok_or("block before cluster timestamp")?
                                + i64::from(i16::from_be_bytes([rel[0], rel[1]]));
                            let prev = last.insert(track, time).unwrap_or(i64::MIN);
                            if time < prev {
                                return Err(format!("track {track} goes back in time at {time}"));
                            }
                            v.blocks += 1;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    v.duration = duration.ok_or("no Duration")?;
    if !seek_head || !tracks || v.cues == 0 {
        return Err("missing SeekHead, Tracks or Cues".into());
    }
    Ok(v)
}
