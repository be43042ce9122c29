//! Connect rate and RSS per idle connection, with the client sockets spread over child
//! processes.
//!
//! One process may hold only as many sockets as its open-file limit allows (20 000 here, a hard
//! limit that cannot be raised), and the server needs the same number on its side. So the
//! client sockets live in `--procs` worker processes (this same binary, scenario
//! `idle-worker`), each holding its share until the parent has read the server's RSS: the
//! client side is then never the limit, only the server's own.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

use crate::{client, proc, MAX_SECS};

/// Handshakes in flight per worker.
const IN_FLIGHT: usize = 256;
/// Longest a single connection may take to be upgraded and welcomed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One worker holding a share of the connections.
struct Worker {
    /// The child; its stdin is the "keep holding" signal.
    child: Child,
    /// Its report line.
    out: BufReader<ChildStdout>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin tells the worker to drop its sockets and exit.
        drop(self.child.stdin.take());
        proc::reap(&mut self.child, Duration::from_secs(10));
    }
}

/// Opens connections up to each count in `counts` (cumulative), over `procs` worker processes
/// per step, and prints connect rate and server RSS per connection after each step. Blocking:
/// run it off the async runtime.
///
/// # Errors
/// A worker that fails to start or to open its share.
pub fn measure(
    server: &proc::Server,
    counts: &[usize],
    procs: usize,
    base_kib: u64,
) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut workers: Vec<Worker> = Vec::new();
    let mut held = 0;
    for &count in counts {
        let want = count.saturating_sub(held);
        if want == 0 {
            continue;
        }
        let t0 = Instant::now();
        let mut step = Vec::new();
        let per = want.div_ceil(procs);
        let mut first = held;
        while first < held + want {
            let n = per.min(held + want - first);
            step.push(spawn(&exe, server.addr, first, n)?);
            first += n;
        }
        let mut opened = 0;
        for w in &mut step {
            let mut line = String::new();
            w.out.read_line(&mut line).map_err(|e| e.to_string())?;
            match line.trim().strip_prefix("ready ") {
                Some(n) => opened += n.parse::<usize>().map_err(|e| e.to_string())?,
                None => return Err(format!("idle worker: {}", line.trim())),
            }
        }
        let took = t0.elapsed();
        workers.extend(step);
        held += opened;
        // Let the allocator and the kernel settle before reading RSS.
        std::thread::sleep(Duration::from_secs(2));
        let rss = proc::rss_kib(server.pid()).map_err(|e| e.to_string())?;
        let per_conn = rss.saturating_sub(base_kib) as f64 / held.max(1) as f64;
        println!(
            "| {held} | {procs} | {:.0} | {rss} | {per_conn:.1} KiB |",
            opened as f64 / took.as_secs_f64(),
        );
        if opened < want {
            return Err(format!("only {opened} of {want} connections opened"));
        }
    }
    drop(workers);
    Ok(())
}

/// Starts a worker for connections `first .. first + count`.
fn spawn(
    exe: &std::path::Path,
    addr: SocketAddr,
    first: usize,
    count: usize,
) -> Result<Worker, String> {
    let mut child = Command::new(exe)
        .args(["idle-worker", "--addr", &addr.to_string()])
        .args(["--first", &first.to_string(), "--conns", &count.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("start idle worker: {e}"))?;
    let out = child
        .stdout
        .take()
        .map(BufReader::new)
        .ok_or("idle worker without stdout")?;
    Ok(Worker { child, out })
}

/// The worker side: opens `count` idle clients numbered from `first` (rooms of two), reports
/// `ready N` on stdout, and holds them until stdin closes (at most [`MAX_SECS`]).
///
/// # Errors
/// A connection that fails.
pub async fn worker(addr: SocketAddr, first: usize, count: usize) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(MAX_SECS);
    let results: Vec<_> = stream::iter(first..first + count)
        .map(|n| async move {
            let room = format!("idle-{}", n / 2);
            let peer = format!("p{}", n % 2);
            // A server out of file descriptors completes the TCP handshake in the kernel but
            // never answers the upgrade: bound each connection instead of waiting forever.
            match tokio::time::timeout(CONNECT_TIMEOUT, client::connect(addr, &room, &peer, n))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(io::Error::other(format!(
                    "no upgrade answer within {CONNECT_TIMEOUT:?}"
                ))),
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .take_while(|_| std::future::ready(Instant::now() < deadline))
        .collect()
        .await;
    let mut held = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(ws) => held.push(ws),
            Err(e) => {
                println!("error: connect #{}: {e}", first + held.len());
                return Err(format!("connect: {e}"));
            }
        }
    }
    println!("ready {}", held.len());
    io::stdout().flush().map_err(|e| e.to_string())?;
    // Hold until the parent closes our stdin (or the time bound passes).
    let wait = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while io::stdin().lock().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    let _ = tokio::time::timeout(Duration::from_secs(MAX_SECS), wait).await;
    drop(held);
    Ok(())
}
