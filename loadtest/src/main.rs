//! Load tool for the signaling hub (issue 3's benchmark).
//!
//! Drives a server over 127.0.0.1 only, with real WebSocket clients, bounded in count (at most
//! [`MAX_CONNS`]) and time (each measurement at most [`MAX_SECS`] seconds):
//!
//! ```text
//! loadtest all     --server-bin target/release/server   # everything below, one report
//! loadtest latency --server-bin … --rate 20000 [--secs 8] [--rooms 500] [--payload 1024]
//! loadtest idle    --server-bin … --conns 20000
//! ```
//!
//! The server is started as a child with the rate limit lifted, and its CPU time and RSS are
//! read from `/proc/<pid>`. Latency is measured end to end (client send → server → client
//! receive, one process, one clock), so it includes the client's own scheduling on the same
//! machine: an upper bound of the server's relay latency.

mod client;
mod proc;
mod relay;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

/// Most connections the tool opens.
const MAX_CONNS: usize = 25_000;
/// Longest single measurement.
const MAX_SECS: u64 = 60;
/// Port the server child listens on (loopback only).
const PORT: u16 = 39_471;

/// Command-line options (hand-parsed: `--key value`).
struct Args {
    scenario: String,
    server_bin: String,
    rate: u64,
    secs: u64,
    rooms: usize,
    payload: usize,
    conns: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let scenario = it
        .next()
        .ok_or("usage: loadtest <all|latency|idle> --server-bin PATH …")?;
    let mut args = Args {
        scenario,
        server_bin: "target/release/server".into(),
        rate: 20_000,
        secs: 8,
        rooms: 500,
        payload: 1024,
        conns: 20_000,
    };
    while let Some(key) = it.next() {
        let value = it.next().ok_or(format!("{key} needs a value"))?;
        let num = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{key}: not a number"))
        };
        match key.as_str() {
            "--server-bin" => args.server_bin = value.clone(),
            "--rate" => args.rate = num()?,
            "--secs" => args.secs = num()?.clamp(1, MAX_SECS),
            "--rooms" => args.rooms = (num()? as usize).clamp(1, MAX_CONNS / 2),
            "--payload" => args.payload = (num()? as usize).clamp(64, 60_000),
            "--conns" => args.conns = (num()? as usize).clamp(1, MAX_CONNS),
            _ => return Err(format!("unknown option {key}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let nofile = proc::raise_nofile(65_536);
    println!("open-file limit: {nofile} (the server child inherits it)");
    let result = match args.scenario.as_str() {
        "latency" => latency(&args, &[args.rate], false).await,
        "all" => {
            let fixed = [5_000, 20_000, 50_000];
            let ramp = [75_000, 100_000, 150_000];
            let rates: Vec<u64> = fixed.iter().chain(ramp.iter()).copied().collect();
            match latency(&args, &rates, true).await {
                Ok(()) => idle(&args, &[10_000, 20_000]).await,
                Err(e) => Err(e),
            }
        }
        "idle" => idle(&args, &[args.conns]).await,
        other => Err(format!("unknown scenario {other}")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Relay latency and CPU per message at each rate; with `ramp`, also the highest sustained rate.
async fn latency(args: &Args, rates: &[u64], ramp: bool) -> Result<(), String> {
    let server = proc::Server::start(&args.server_bin, PORT).map_err(|e| e.to_string())?;
    let pairs = relay::Pairs::connect(server.addr, args.rooms).await?;
    println!(
        "\n## relay: {} rooms x 2 peers, {} B payloads, {} s per rate",
        args.rooms, args.payload, args.secs
    );
    println!("| offered msg/s | delivered msg/s | p50 | p99 | p99.9 | max | server CPU µs/msg | server CPU % |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut best = 0;
    for &rate in rates {
        let cpu0 = proc::cpu_time(server.pid()).map_err(|e| e.to_string())?;
        let run = pairs
            .run(rate, Duration::from_secs(args.secs), args.payload)
            .await;
        let cpu = proc::cpu_time(server.pid()).map_err(|e| e.to_string())? - cpu0;
        let per_msg = cpu.as_secs_f64() * 1e6 / run.delivered.max(1) as f64;
        let share = cpu.as_secs_f64() * 100.0 / run.elapsed.as_secs_f64();
        let rate_got = run.delivered as f64 / run.elapsed.as_secs_f64();
        println!(
            "| {rate} | {rate_got:.0} | {} | {} | {} | {} | {per_msg:.1} | {share:.0} |",
            us(run.p(0.50)),
            us(run.p(0.99)),
            us(run.p(0.999)),
            us(run.p(1.0)),
        );
        // Sustained: (almost) everything offered arrived and no backlog built up.
        let sustained = rate_got >= rate as f64 * 0.97 && run.p(0.99) < Duration::from_millis(50);
        if sustained {
            best = best.max(rate);
        } else if ramp && rate > 50_000 {
            break;
        }
    }
    if ramp {
        println!(
            "\nhighest sustained rate: {best} msg/s (delivered >= 97% of offered, p99 < 50 ms)"
        );
    }
    Ok(())
}

/// Formats a duration in µs or ms.
fn us(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Connect rate and RSS per idle connection at each count.
async fn idle(args: &Args, counts: &[usize]) -> Result<(), String> {
    let server = proc::Server::start(&args.server_bin, PORT + 1).map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = proc::rss_kib(server.pid()).map_err(|e| e.to_string())?;
    println!("\n## idle connections (rooms of 2; server RSS before: {base} KiB)");
    println!("| connections | connect rate /s | server RSS KiB | RSS per connection |");
    println!("| --- | --- | --- | --- |");
    let mut held = Vec::new();
    for &count in counts {
        let start = held.len();
        let t0 = Instant::now();
        let opened = open_many(server.addr, start, count.saturating_sub(start)).await?;
        let took = t0.elapsed();
        held.extend(opened);
        // Let allocator and kernel settle before reading RSS.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = proc::rss_kib(server.pid()).map_err(|e| e.to_string())?;
        let per = (rss.saturating_sub(base)) as f64 * 1024.0 / held.len() as f64;
        println!(
            "| {} | {:.0} | {rss} | {:.1} KiB |",
            held.len(),
            (count - start) as f64 / took.as_secs_f64(),
            per / 1024.0
        );
    }
    drop(held);
    Ok(())
}

/// Opens `count` idle clients (numbered from `first`), 256 handshakes at a time.
async fn open_many(
    addr: SocketAddr,
    first: usize,
    count: usize,
) -> Result<Vec<client::Ws>, String> {
    let deadline = Instant::now() + Duration::from_secs(MAX_SECS);
    let results: Vec<_> = stream::iter(first..first + count)
        .map(|n| async move {
            let room = format!("idle-{}", n / 2);
            let peer = format!("p{}", n % 2);
            client::connect(addr, &room, &peer, n).await
        })
        .buffer_unordered(256)
        .take_while(|_| std::future::ready(Instant::now() < deadline))
        .collect()
        .await;
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        out.push(r.map_err(|e| format!("connect: {e}"))?);
    }
    Ok(out)
}
