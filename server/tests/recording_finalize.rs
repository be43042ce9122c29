//! The finalizer on real Chrome output (the committed fixture): whole, and cut at random
//! offsets as a crashed tab or a lost upload would leave it.

mod recording_support;
mod signaling_support;

use std::io::Cursor;

use recording_support::*;
use server::recording::webm::{self, ebml};

/// Where each complete block of the live stream ends: an independent walk of the input that
/// says how many blocks a prefix of a given length holds.
fn block_ends(live: &[u8]) -> Vec<u64> {
    let mut r = ebml::Reader::new(live);
    let mut ends = Vec::new();
    while let Ok(Some(h)) = r.header() {
        match (h.id, h.size) {
            // Descend into the Segment and Clusters (their sizes are unknown).
            (ebml::SEGMENT | ebml::CLUSTER, _) => {}
            (id, Some(size)) => {
                if r.skip(size).is_err() {
                    break;
                }
                if id == ebml::SIMPLE_BLOCK || id == ebml::BLOCK_GROUP {
                    ends.push(r.pos());
                }
            }
            (_, None) => break,
        }
    }
    ends
}

fn live() -> Vec<u8> {
    chunks().concat()
}

fn finalize(input: &[u8]) -> Result<(webm::Summary, Vec<u8>), webm::FinalizeError> {
    let mut out = Cursor::new(Vec::new());
    let summary = webm::finalize(input, &mut out)?;
    Ok((summary, out.into_inner()))
}

#[test]
fn the_whole_fixture_becomes_a_seekable_file_with_every_frame() {
    let live = live();
    assert!(live.len() < 300 * 1024, "the fixture stays small");
    let ends = block_ends(&live);
    assert_eq!(ends.len(), 190);
    let (summary, out) = finalize(&live).unwrap();
    assert_eq!(summary.blocks, 190);
    assert_eq!(summary.clusters, 6);
    assert!(summary.cues >= 1);
    assert!(
        (5_900..=6_100).contains(&summary.duration_ms),
        "{summary:?}"
    );
    assert_eq!(summary.bytes, out.len() as u64);
    let verified = webm::verify(&out[..], out.len() as u64).unwrap();
    assert_eq!(verified.blocks, 190);
    assert!((verified.duration - 6000.0).abs() < 100.0);
    // Finalizing is a pure function of the chunks: running it again gives the same file.
    assert_eq!(finalize(&live).unwrap().1, out);
    if have_ffprobe() {
        let dir = TempDir::new();
        let path = dir.0.join("whole.webm");
        std::fs::write(&path, &out).unwrap();
        let (duration, packets) = ffprobe(&path);
        assert!((duration.expect("a Duration") - 6.0).abs() < 0.1);
        assert_eq!(packets.iter().sum::<u64>(), 190);
        assert!(ffmpeg_seeks(&path, 4.0));
    }
}

/// A small deterministic generator, so a failure names its offset and reproduces.
fn offsets(len: usize, n: usize) -> Vec<usize> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % len as u64) as usize
        })
        .collect()
}

#[test]
fn truncated_anywhere_it_keeps_every_complete_block_and_never_panics() {
    let live = live();
    let ends = block_ends(&live);
    let mut cuts = offsets(live.len(), 300);
    // The chunk boundaries: what a recorder that died between uploads leaves.
    let mut at = 0;
    for chunk in chunks() {
        at += chunk.len();
        cuts.push(at);
    }
    cuts.extend([0, 1, 35, 36, 200, live.len() - 1]);
    let mut checked_with_ffprobe = 0;
    let dir = TempDir::new();
    for cut in cuts {
        let complete = ends.iter().filter(|&&e| e <= cut as u64).count() as u64;
        match finalize(&live[..cut]) {
            Ok((summary, out)) => {
                assert_eq!(summary.blocks, complete, "cut at {cut}");
                let verified = webm::verify(&out[..], out.len() as u64)
                    .unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
                assert_eq!(verified.blocks, complete, "cut at {cut}");
                if checked_with_ffprobe < 8 && complete > 20 && have_ffprobe() {
                    checked_with_ffprobe += 1;
                    let path = dir.0.join(format!("cut-{cut}.webm"));
                    std::fs::write(&path, &out).unwrap();
                    let (duration, packets) = ffprobe(&path);
                    assert!(
                        duration.is_some_and(|d| d > 0.0),
                        "cut at {cut}: no duration"
                    );
                    assert_eq!(packets.iter().sum::<u64>(), complete, "cut at {cut}");
                }
            }
            Err(webm::FinalizeError::NoHeader | webm::FinalizeError::NoMedia) => {
                assert_eq!(
                    complete, 0,
                    "cut at {cut}: blocks were complete but no file"
                );
            }
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

#[test]
fn garbage_after_the_header_and_backward_timestamps_are_survived() {
    let live = live();
    let ends = block_ends(&live);
    // Garbage spliced in after the 50th block: the file ends there.
    let cut = ends[49] as usize;
    let mut spliced = live[..cut].to_vec();
    spliced.extend(std::iter::repeat_n(0u8, 64));
    spliced.extend_from_slice(&live[cut..]);
    let (summary, out) = finalize(&spliced).unwrap();
    assert_eq!(summary.blocks, 50);
    webm::verify(&out[..], out.len() as u64).unwrap();
    // Pure noise is refused, not a panic.
    let noise: Vec<u8> = offsets(255, 4096).into_iter().map(|b| b as u8).collect();
    assert!(finalize(&noise).is_err());
    // A second recording appended (as when a recorder restarts): its clusters start at 0 again,
    // yet the output's timestamps never go backwards (verify checks per track and cluster).
    let header_end = 188; // the first Cluster of this fixture
    let mut twice = live.clone();
    twice.extend_from_slice(&live[header_end..]);
    let (summary, out) = finalize(&twice).unwrap();
    assert_eq!(summary.blocks, 380);
    webm::verify(&out[..], out.len() as u64).unwrap();
}
