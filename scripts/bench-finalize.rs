//! Finalize time per recorded minute: the finalizer alone (the server's own source, std only),
//! best of 5, live WebM from memory to a file. Input: a recording made by
//! scripts/make-recording-fixture.py, e.g. target/bench/rec-bench (see scripts/bench-recording.sh).
//!
//!     rustc --edition 2021 -O scripts/bench-finalize.rs -o target/bench/bench-finalize && target/bench/bench-finalize target/bench/rec-bench
#[path = "../server/src/recording/webm/mod.rs"]
#[allow(dead_code, unused)]
mod webm;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut all = Vec::new();
    let mut i = 0;
    while let Ok(b) = std::fs::read(format!("{dir}/chunk-{i:03}.webm")) { all.extend(b); i += 1; }
    let mut best = f64::MAX;
    let mut s = None;
    for _ in 0..5 {
        let path = std::env::temp_dir().join("bench-finalize-out.webm");
        let f = std::fs::File::create(&path).unwrap();
        let t = std::time::Instant::now();
        let sum = webm::finalize(std::io::BufReader::new(&all[..]), std::io::BufWriter::new(f)).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        s = Some(sum);
    }
    let s = s.unwrap();
    println!("{} chunks, {} bytes, {:?}; best {:.2} ms => {:.2} ms per recorded minute", i, all.len(), s, best*1e3, best*1e3 / (s.duration_ms as f64 / 60000.0));
}
