//! Live WebM in, seekable WebM out.
//!
//! Chrome's MediaRecorder with a timeslice writes "live" WebM: a Segment and Clusters of unknown
//! size, no Duration, no Cues. That plays from the start but cannot seek. This rewrites it in one
//! pass, holding one cluster in memory: the EBML header and Tracks verbatim, Info with a
//! Duration, a SeekHead, every complete block (clusters kept as recorded, split only if a block
//! would be more than 32 s from its cluster's base), and Cues on video keyframes. It stops at
//! the last complete block: input cut anywhere (a crashed tab) still gives a valid file.
//! Timestamps are clamped so they never go backwards, per track and per cluster.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::ebml::{self, ReadError, Reader};

/// Most bytes of one header element (EBML header, Info, Tracks) we hold in memory.
const MAX_HEADER_ELEMENT: u64 = 1 << 20;
/// Most bytes of one block: a 4K keyframe is well under this.
const MAX_BLOCK: u64 = 32 << 20;
/// Largest relative timestamp a block may carry (an `i16`), with margin.
const MAX_RELATIVE: i64 = 30_000;

/// What a finalize produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// The Duration written, in milliseconds.
    pub duration_ms: u64,
    /// Blocks (frames) written.
    pub blocks: u64,
    /// Clusters written.
    pub clusters: u64,
    /// Cue points written.
    pub cues: u64,
    /// Size of the output.
    pub bytes: u64,
}

/// Why there is no file.
#[derive(Debug)]
pub enum FinalizeError {
    /// The input ends (or breaks) before its header, Info and Tracks are complete.
    NoHeader,
    /// Not one complete block: nothing to play.
    NoMedia,
    /// Reading the input or writing the output failed.
    Io(io::Error),
}

impl std::fmt::Display for FinalizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FinalizeError::NoHeader => write!(f, "no complete WebM header"),
            FinalizeError::NoMedia => write!(f, "no complete frame"),
            FinalizeError::Io(e) => write!(f, "i/o: {e}"),
        }
    }
}

impl From<io::Error> for FinalizeError {
    fn from(e: io::Error) -> Self {
        FinalizeError::Io(e)
    }
}

/// Header errors: truncation or garbage means no header; a failing reader is an I/O error.
fn header_err(e: ReadError) -> FinalizeError {
    match e {
        ReadError::Io(e) => FinalizeError::Io(e),
        _ => FinalizeError::NoHeader,
    }
}

/// Rewrites live WebM from `input` into a seekable WebM in `out` (written from its start).
///
/// # Errors
/// [`FinalizeError`] when no playable file can be made, or on I/O failure. Bad or cut input
/// after the first block is not an error: the output ends at the last complete block.
pub fn finalize<R: Read, W: Write + Seek>(input: R, out: W) -> Result<Summary, FinalizeError> {
    let mut r = Reader::new(input);
    let h = r
        .header()
        .map_err(header_err)?
        .ok_or(FinalizeError::NoHeader)?;
    if h.id != ebml::EBML {
        return Err(FinalizeError::NoHeader);
    }
    let ebml_body = r
        .body(h.size.ok_or(FinalizeError::NoHeader)?, MAX_HEADER_ELEMENT)
        .map_err(header_err)?;
    let h = r
        .header()
        .map_err(header_err)?
        .ok_or(FinalizeError::NoHeader)?;
    if h.id != ebml::SEGMENT {
        return Err(FinalizeError::NoHeader);
    }
    let seg_end = h.size.map(|s| r.pos().saturating_add(s));

    // Everything before the first Cluster: Info and Tracks are needed, the rest is dropped (a
    // live stream has no SeekHead or Cues worth keeping).
    let (mut info, mut tracks) = (None, None);
    let first_cluster = loop {
        let h = r
            .header()
            .map_err(header_err)?
            .ok_or(FinalizeError::NoHeader)?;
        match (h.id, h.size) {
            (ebml::CLUSTER, _) => break h,
            (ebml::INFO, Some(size)) => {
                info = Some(r.body(size, MAX_HEADER_ELEMENT).map_err(header_err)?);
            }
            (ebml::TRACKS, Some(size)) => {
                tracks = Some(r.body(size, MAX_HEADER_ELEMENT).map_err(header_err)?);
            }
            (_, Some(size)) => r.skip(size).map_err(header_err)?,
            (_, None) => return Err(FinalizeError::NoHeader),
        }
    };
    let (Some(info), Some(tracks)) = (info, tracks) else {
        return Err(FinalizeError::NoHeader);
    };
    let video_tracks = video_tracks(&tracks).ok_or(FinalizeError::NoHeader)?;
    let scale = ebml::children(&info)
        .and_then(|c| c.into_iter().find(|(id, _)| *id == ebml::TIMESTAMP_SCALE))
        .and_then(|(_, b)| ebml::read_uint(b))
        .filter(|&s| s > 0)
        .unwrap_or(1_000_000);

    let mut w = Output::start(out, &ebml_body, &info, &tracks)?;
    let mut muxer = Muxer::new(video_tracks);
    let mut pending = Some(first_cluster);
    // Level 1: clusters (and anything else, skipped) until the input ends or breaks.
    'segment: loop {
        let h = match pending.take() {
            Some(h) => h,
            None => match r.header() {
                Ok(Some(h)) => h,
                Ok(None) | Err(ReadError::Truncated | ReadError::Invalid(_)) => break,
                Err(ReadError::Io(e)) => return Err(e.into()),
            },
        };
        if seg_end.is_some_and(|end| r.pos() > end) {
            break;
        }
        if h.id != ebml::CLUSTER {
            match h.size {
                Some(size) if r.skip(size).is_ok() => continue,
                _ => break,
            }
        }
        let cluster_end = h.size.map(|s| r.pos().saturating_add(s));
        muxer.flush(&mut w)?;
        loop {
            if cluster_end.is_some_and(|end| r.pos() >= end) {
                break;
            }
            let child = match r.header() {
                Ok(Some(c)) => c,
                Ok(None) | Err(ReadError::Truncated | ReadError::Invalid(_)) => break 'segment,
                Err(ReadError::Io(e)) => return Err(e.into()),
            };
            if cluster_end.is_none() && ebml::is_top_level(child.id) {
                pending = Some(child);
                break;
            }
            let Some(size) = child.size else {
                break 'segment;
            };
            let body = match child.id {
                ebml::TIMESTAMP | ebml::SIMPLE_BLOCK | ebml::BLOCK_GROUP => {
                    match r.body(size, MAX_BLOCK) {
                        Ok(body) => body,
                        Err(ReadError::Io(e)) => return Err(e.into()),
                        Err(_) => break 'segment,
                    }
                }
                _ => match r.skip(size) {
                    Ok(()) => continue,
                    Err(ReadError::Io(e)) => return Err(e.into()),
                    Err(_) => break 'segment,
                },
            };
            let ok = match child.id {
                ebml::TIMESTAMP => ebml::read_uint(&body)
                    .and_then(|t| i64::try_from(t).ok())
                    .map(|t| muxer.cluster_timestamp(t))
                    .is_some(),
                _ => muxer.block(&mut w, child.id, body)?,
            };
            if !ok {
                break 'segment;
            }
        }
    }
    muxer.flush(&mut w)?;
    if muxer.blocks == 0 {
        return Err(FinalizeError::NoMedia);
    }
    if muxer.cues.is_empty() {
        // No video keyframe (audio only, or cut early): players still need one cue.
        muxer.cues.extend(muxer.fallback_cue);
    }
    let duration_ticks = muxer.end.max(0) as u64;
    let bytes = w.finish(&muxer.cues, duration_ticks as f64)?;
    Ok(Summary {
        duration_ms: duration_ticks.saturating_mul(scale) / 1_000_000,
        blocks: muxer.blocks,
        clusters: muxer.clusters,
        cues: muxer.cues.len() as u64,
        bytes,
    })
}

/// The numbers of the video tracks (cues point at their keyframes); `None` if Tracks is malformed.
fn video_tracks(tracks: &[u8]) -> Option<Vec<u64>> {
    let mut video = Vec::new();
    for (id, entry) in ebml::children(tracks)? {
        if id != ebml::TRACK_ENTRY {
            continue;
        }
        let fields = ebml::children(entry)?;
        let field = |want| {
            fields
                .iter()
                .find(|(id, _)| *id == want)
                .and_then(|(_, b)| ebml::read_uint(b))
        };
        if field(ebml::TRACK_TYPE) == Some(1) {
            video.extend(field(ebml::TRACK_NUMBER));
        }
    }
    Some(video)
}

/// A cue: the time of a keyframe, its track and its cluster's position in the Segment.
#[derive(Debug, Clone, Copy)]
struct Cue {
    time: i64,
    track: u64,
    cluster_pos: u64,
}

/// Re-times blocks and groups them into output clusters.
struct Muxer {
    /// Video track numbers.
    video: Vec<u64>,
    /// The input cluster's base timestamp.
    in_base: i64,
    /// Set when an input cluster starts: the next block opens an output cluster at its base.
    new_input_cluster: bool,
    /// The open output cluster's base and its encoded blocks.
    open: Option<(i64, Vec<u8>)>,
    /// The cue of the open cluster, if it has a keyframe yet (position filled on flush).
    open_cue: Option<(i64, u64)>,
    /// The last output cluster's base: bases never decrease.
    last_base: i64,
    /// Per track: last time and last gap (to estimate the final frame's length).
    tracks: HashMap<u64, (i64, i64)>,
    /// The end of the last frame: the Duration.
    end: i64,
    blocks: u64,
    clusters: u64,
    cues: Vec<Cue>,
    /// The first block of the open cluster: a cue for the first cluster if no keyframe comes.
    open_first: Option<(i64, u64)>,
    /// That cue for the file's first cluster.
    fallback_cue: Option<Cue>,
}

impl Muxer {
    fn new(video: Vec<u64>) -> Self {
        Muxer {
            video,
            in_base: 0,
            new_input_cluster: true,
            open: None,
            open_cue: None,
            last_base: 0,
            tracks: HashMap::new(),
            end: 0,
            blocks: 0,
            clusters: 0,
            cues: Vec::new(),
            open_first: None,
            fallback_cue: None,
        }
    }

    fn cluster_timestamp(&mut self, t: i64) {
        self.in_base = t;
        self.new_input_cluster = true;
    }

    /// Adds one SimpleBlock or BlockGroup. Returns false if it is malformed (stop there).
    fn block<W: Write + Seek>(
        &mut self,
        w: &mut Output<W>,
        id: u32,
        mut body: Vec<u8>,
    ) -> io::Result<bool> {
        // Where the frame header (track, timecode, flags) sits, and the keyframe flag.
        let (frame, keyframe) = if id == ebml::SIMPLE_BLOCK {
            (
                0..body.len(),
                body.get(frame_flags_at(&body).unwrap_or(usize::MAX))
                    .map(|f| f & 0x80 != 0),
            )
        } else {
            let Some(children) = ebml::children(&body) else {
                return Ok(false);
            };
            let key = !children.iter().any(|(id, _)| *id == ebml::REFERENCE_BLOCK);
            let Some((_, block)) = children.iter().find(|(id, _)| *id == ebml::BLOCK) else {
                return Ok(false);
            };
            let start = block.as_ptr() as usize - body.as_ptr() as usize;
            (start..start + block.len(), Some(key))
        };
        let Some(keyframe) = keyframe else {
            return Ok(false);
        };
        let slice = &body[frame.clone()];
        let mut pos = 0;
        let Some(track) = ebml::vint(slice, &mut pos) else {
            return Ok(false);
        };
        let Some(rel) = slice.get(pos..pos + 2) else {
            return Ok(false);
        };
        let rel = i64::from(i16::from_be_bytes([rel[0], rel[1]]));
        let tc_at = frame.start + pos;

        let (last, gap) = self.tracks.get(&track).copied().unwrap_or((i64::MIN, 0));
        let mut time = (self.in_base + rel).max(last);
        let needs_new = match &self.open {
            None => true,
            Some((base, _)) => self.new_input_cluster || time - base > MAX_RELATIVE,
        };
        if needs_new {
            self.flush(w)?;
            let base = if self.new_input_cluster {
                self.in_base
            } else {
                time
            };
            self.open = Some((base.max(self.last_base), Vec::new()));
            self.new_input_cluster = false;
        }
        let Some((base, buf)) = self.open.as_mut() else {
            return Ok(false);
        };
        time = time.max(*base);
        let Ok(rel) = i16::try_from((time - *base).min(i64::from(i16::MAX))) else {
            return Ok(false);
        };
        body[tc_at..tc_at + 2].copy_from_slice(&rel.to_be_bytes());
        ebml::put_element(buf, id, &body);

        let gap = if last == i64::MIN {
            gap
        } else {
            (time - last).min(1000)
        };
        self.tracks.insert(track, (time, gap));
        self.end = self.end.max(time + gap);
        self.blocks += 1;
        let cue_worthy = if self.video.is_empty() {
            true
        } else {
            keyframe && self.video.contains(&track)
        };
        self.open_first.get_or_insert((time, track));
        if cue_worthy && self.open_cue.is_none() {
            self.open_cue = Some((time, track));
        }
        Ok(true)
    }

    /// Writes the open cluster, if it has blocks.
    fn flush<W: Write + Seek>(&mut self, w: &mut Output<W>) -> io::Result<()> {
        let Some((base, blocks)) = self.open.take() else {
            return Ok(());
        };
        let cue = self.open_cue.take();
        let first = self.open_first.take();
        if blocks.is_empty() {
            return Ok(());
        }
        let cluster_pos = w.segment_pos()?;
        let mut body = Vec::with_capacity(blocks.len() + 16);
        ebml::put_uint(&mut body, ebml::TIMESTAMP, base as u64);
        body.extend_from_slice(&blocks);
        let mut el = Vec::with_capacity(body.len() + 12);
        ebml::put_element(&mut el, ebml::CLUSTER, &body);
        w.out.write_all(&el)?;
        self.last_base = base;
        self.clusters += 1;
        if let Some((time, track)) = cue {
            self.cues.push(Cue {
                time,
                track,
                cluster_pos,
            });
        }
        if self.fallback_cue.is_none() {
            self.fallback_cue = first.map(|(time, track)| Cue {
                time,
                track,
                cluster_pos,
            });
        }
        Ok(())
    }
}

/// Where a SimpleBlock's flags byte is: after the track vint and the 2-byte timecode.
fn frame_flags_at(body: &[u8]) -> Option<usize> {
    let mut pos = 0;
    ebml::vint(body, &mut pos)?;
    Some(pos + 2)
}

/// The output file and the places to patch once the end is known.
struct Output<W> {
    out: W,
    /// Offset of the Segment's 8-byte size.
    segment_size_at: u64,
    /// Offset of the Segment's data (positions in SeekHead and Cues count from here).
    segment_data: u64,
    /// Offset of the Duration's 8 float bytes.
    duration_at: u64,
    /// Positions of Info and Tracks within the Segment.
    info_pos: u64,
    tracks_pos: u64,
}

impl<W: Write + Seek> Output<W> {
    /// Writes the EBML header, the Segment header, a SeekHead placeholder, Info and Tracks.
    fn start(mut out: W, ebml_body: &[u8], info: &[u8], tracks: &[u8]) -> io::Result<Self> {
        out.seek(SeekFrom::Start(0))?;
        let mut head = Vec::new();
        ebml::put_element(&mut head, ebml::EBML, ebml_body);
        ebml::put_id(&mut head, ebml::SEGMENT);
        let segment_size_at = head.len() as u64;
        ebml::put_size8(&mut head, 0);
        let segment_data = head.len() as u64;
        head.extend_from_slice(&seek_head(0, 0, 0));
        let info_pos = head.len() as u64 - segment_data;
        let mut info_body = Vec::new();
        for (id, body) in ebml::children(info).unwrap_or_default() {
            if id != ebml::DURATION && id != ebml::VOID {
                ebml::put_element(&mut info_body, id, body);
            }
        }
        ebml::put_float(&mut info_body, ebml::DURATION, 0.0);
        ebml::put_element(&mut head, ebml::INFO, &info_body);
        let duration_at = head.len() as u64 - 8;
        let tracks_pos = head.len() as u64 - segment_data;
        ebml::put_element(&mut head, ebml::TRACKS, tracks);
        out.write_all(&head)?;
        Ok(Output {
            out,
            segment_size_at,
            segment_data,
            duration_at,
            info_pos,
            tracks_pos,
        })
    }

    /// The current position relative to the Segment's data.
    fn segment_pos(&mut self) -> io::Result<u64> {
        Ok(self.out.stream_position()? - self.segment_data)
    }

    /// Writes the Cues, then patches the Segment size, SeekHead and Duration. Returns the size.
    fn finish(mut self, cues: &[Cue], duration: f64) -> io::Result<u64> {
        let cues_pos = self.segment_pos()?;
        let mut body = Vec::new();
        for cue in cues {
            let mut positions = Vec::new();
            ebml::put_uint(&mut positions, ebml::CUE_TRACK, cue.track);
            ebml::put_uint(&mut positions, ebml::CUE_CLUSTER_POSITION, cue.cluster_pos);
            let mut point = Vec::new();
            ebml::put_uint(&mut point, ebml::CUE_TIME, cue.time.max(0) as u64);
            ebml::put_element(&mut point, ebml::CUE_TRACK_POSITIONS, &positions);
            ebml::put_element(&mut body, ebml::CUE_POINT, &point);
        }
        let mut el = Vec::new();
        ebml::put_element(&mut el, ebml::CUES, &body);
        self.out.write_all(&el)?;
        let end = self.out.stream_position()?;

        let mut size = Vec::new();
        ebml::put_size8(&mut size, end - self.segment_data);
        self.out.seek(SeekFrom::Start(self.segment_size_at))?;
        self.out.write_all(&size)?;
        self.out
            .write_all(&seek_head(self.info_pos, self.tracks_pos, cues_pos))?;
        self.out.seek(SeekFrom::Start(self.duration_at))?;
        self.out.write_all(&duration.to_be_bytes())?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(end)
    }
}

/// The SeekHead, always the same length (8-byte positions) so it can be written twice.
fn seek_head(info: u64, tracks: u64, cues: u64) -> Vec<u8> {
    let mut body = Vec::new();
    for (id, pos) in [
        (ebml::INFO, info),
        (ebml::TRACKS, tracks),
        (ebml::CUES, cues),
    ] {
        let mut seek = Vec::new();
        let mut id_bytes = Vec::new();
        ebml::put_id(&mut id_bytes, id);
        ebml::put_element(&mut seek, ebml::SEEK_ID, &id_bytes);
        ebml::put_uint8(&mut seek, ebml::SEEK_POSITION, pos);
        ebml::put_element(&mut body, ebml::SEEK, &seek);
    }
    let mut el = Vec::new();
    ebml::put_element(&mut el, ebml::SEEK_HEAD, &body);
    el
}
