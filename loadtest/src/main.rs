//! Load tool for the signaling hub (issue 3's benchmark).
//!
//! Drives a server over 127.0.0.1 only, with real WebSocket clients, bounded in count (at most
//! [`MAX_CONNS`]) and time (each measurement at most [`MAX_SECS`] seconds):
//!
//! ```text
//! loadtest all     --server-bin target/release/server   # everything below, one report
//! loadtest latency --server-bin … --rate 20000 [--secs 8] [--rooms 500] [--payload 1024]
//! loadtest idle    --server-bin … --conns 19900 [--procs 2]
//! loadtest churn   --server-bin … [--secs 8] [--rooms 200]   # vs the floor relay, same run
//! loadtest engines --server-bin … [--redis-bin redis-server] [--rate 5000]  # memory vs Redis
//! # any of them with the server pinned to CPU 0 and the tool to CPU 1:
//! taskset -c 1 loadtest all --server-bin … --server-cpu 0 [--priority -10]
//! ```
//!
//! `--priority` runs the tool and the server in their own scheduler autogroup at that nice
//! value, so concurrent builds on a shared machine preempt them less; the report shows how
//! much CPU everything else used during each rate.
//!
//! The server is started as a child with the rate limit lifted, and its CPU time and RSS are
//! read from `/proc/<pid>`. Latency is measured twice: end to end (client send → server →
//! client receive, one process, one clock), which includes the client's own scheduling, and by
//! the server itself (its `signaling_relay_latency_seconds` histogram, arrival → written to
//! the recipient's socket, scraped from `/metrics` before and after each rate).

mod churn;
mod client;
mod engines;
mod floor;
mod idle;
mod proc;
mod relay;
mod scrape;

use std::net::SocketAddr;
use std::time::Duration;

/// Most connections the tool opens (over all its worker processes).
const MAX_CONNS: usize = 60_000;
/// Most idle-worker processes.
const MAX_PROCS: usize = 16;
/// Longest single measurement.
pub(crate) const MAX_SECS: u64 = 60;
/// Port the server child listens on (loopback only).
const PORT: u16 = 39_471;

/// Command-line options (hand-parsed: `--key value`).
pub(crate) struct Args {
    scenario: String,
    server_bin: String,
    /// `redis-server` for the `engines` scenario.
    redis_bin: String,
    rate: u64,
    secs: u64,
    rooms: usize,
    payload: usize,
    conns: usize,
    /// CPU to pin the server child to (`--server-cpu`).
    server_cpu: Option<usize>,
    /// Autogroup nice value to run at (`--priority`), see [`proc::prioritise`].
    priority: Option<i32>,
    /// Worker processes holding the idle connections.
    procs: usize,
    /// For `idle-worker`: the server to connect to, and the first connection's number.
    addr: Option<SocketAddr>,
    first: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let scenario = it
        .next()
        .ok_or("usage: loadtest <all|latency|idle|churn|engines> --server-bin PATH …")?;
    let mut args = Args {
        scenario,
        server_bin: "target/release/server".into(),
        redis_bin: "redis-server".into(),
        rate: 20_000,
        secs: 8,
        rooms: 500,
        payload: 1024,
        conns: 19_900,
        server_cpu: None,
        priority: None,
        procs: 2,
        addr: None,
        first: 0,
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
            "--redis-bin" => args.redis_bin = value.clone(),
            "--rate" => args.rate = num()?,
            "--secs" => args.secs = num()?.clamp(1, MAX_SECS),
            "--rooms" => args.rooms = (num()? as usize).clamp(1, MAX_CONNS / 2),
            "--payload" => args.payload = (num()? as usize).clamp(64, 60_000),
            "--conns" => args.conns = (num()? as usize).clamp(1, MAX_CONNS),
            "--server-cpu" => args.server_cpu = Some(num()? as usize),
            "--priority" => {
                let nice: i32 = value.parse().map_err(|_| "--priority: not a number")?;
                args.priority = Some(nice.clamp(-20, 19));
            }
            "--procs" => args.procs = (num()? as usize).clamp(1, MAX_PROCS),
            "--first" => args.first = (num()? as usize).min(MAX_CONNS),
            "--addr" => {
                let addr: SocketAddr = value.parse().map_err(|_| "--addr: not an address")?;
                if !addr.ip().is_loopback() {
                    return Err("--addr must be a loopback address".into());
                }
                args.addr = Some(addr);
            }
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
    if args.scenario == "idle-worker" {
        let Some(addr) = args.addr else {
            eprintln!("idle-worker needs --addr");
            return std::process::ExitCode::FAILURE;
        };
        let done = idle::worker(addr, args.first, args.conns).await;
        // Exit at once: a blocking stdin read may still be pending.
        std::process::exit(i32::from(done.is_err()));
    }
    if args.scenario == "floor-server" {
        let Some(addr) = args.addr else {
            eprintln!("floor-server needs --addr");
            return std::process::ExitCode::FAILURE;
        };
        if let Err(e) = floor::serve(addr).await {
            eprintln!("floor-server: {e}");
        }
        return std::process::ExitCode::FAILURE;
    }
    println!("open-file limit: {nofile} per process (the server child inherits it)");
    if let Some(nice) = args.priority {
        println!("priority: {}", proc::prioritise(nice));
    }
    let result = match args.scenario.as_str() {
        "latency" => latency(&args, &[args.rate], false).await,
        "all" => {
            let fixed = [5_000, 20_000, 50_000];
            let ramp = [75_000, 100_000, 150_000];
            let rates: Vec<u64> = fixed.iter().chain(ramp.iter()).copied().collect();
            match latency(&args, &rates, true).await {
                Ok(()) => idle(&args, &[10_000, args.conns]).await,
                Err(e) => Err(e),
            }
        }
        "idle" => idle(&args, &[args.conns]).await,
        "churn" => churn(&args).await,
        "engines" => engines::run(&args).await,
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

/// Relay latency (end to end and server-side) and CPU per message at each rate; with `ramp`,
/// also the highest sustained rate.
async fn latency(args: &Args, rates: &[u64], ramp: bool) -> Result<(), String> {
    let server =
        proc::Server::start(&args.server_bin, PORT, args.server_cpu).map_err(|e| e.to_string())?;
    let pairs = relay::Pairs::connect(server.addr, args.rooms).await?;
    println!(
        "\n## relay: {} rooms x 2 peers, {} B payloads, {} s per rate; server CPUs: {}",
        args.rooms,
        args.payload,
        args.secs,
        args.server_cpu
            .map_or("not pinned".into(), |c| format!("pinned to {c}")),
    );
    println!(
        "| offered msg/s | delivered msg/s | e2e p50 | e2e p99 | e2e p99.9 | e2e max \
         | server p50 | server p99 | server ≤ 1 ms | server CPU µs/msg | server CPU % \
         | tool CPU % | others CPU % |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut best = 0;
    for &rate in rates {
        let hist0 = scrape::Histogram::scrape(server.addr).map_err(|e| e.to_string())?;
        let cpu0 = proc::cpu_time(server.pid()).map_err(|e| e.to_string())?;
        let tool0 = proc::cpu_time(std::process::id()).map_err(|e| e.to_string())?;
        let busy0 = proc::machine_busy().map_err(|e| e.to_string())?;
        let t0 = std::time::Instant::now();
        let run = pairs
            .run(rate, Duration::from_secs(args.secs), args.payload)
            .await;
        let wall = t0.elapsed().as_secs_f64();
        let cpu = proc::cpu_time(server.pid()).map_err(|e| e.to_string())? - cpu0;
        let tool = proc::cpu_time(std::process::id()).map_err(|e| e.to_string())? - tool0;
        let busy = proc::machine_busy().map_err(|e| e.to_string())? - busy0;
        // Everything else the machine did meanwhile (other users' builds and browsers), in %
        // of one core: the measurement is only clean when this stays near 0.
        let others =
            (busy.as_secs_f64() - cpu.as_secs_f64() - tool.as_secs_f64()).max(0.0) * 100.0 / wall;
        let tool_share = tool.as_secs_f64() * 100.0 / wall;
        let hist = scrape::Histogram::scrape(server.addr)
            .map_err(|e| e.to_string())?
            .since(&hist0);
        // Both over the whole run (warm-up and settling included), like the CPU time: the
        // histogram counts every frame the server relayed between the two scrapes.
        let per_msg = cpu.as_secs_f64() * 1e6 / hist.count().max(1) as f64;
        let share = cpu.as_secs_f64() * 100.0 / wall;
        let rate_got = run.delivered as f64 / run.elapsed.as_secs_f64();
        let server_q = |q| hist.quantile(q).map_or("-".into(), us);
        let within = hist
            .share_within(0.001)
            .map_or("-".into(), |s| format!("{:.2} %", s * 100.0));
        println!(
            "| {rate} | {rate_got:.0} | {} | {} | {} | {} | {} | {} | {within} | {per_msg:.1} | {share:.0} \
             | {tool_share:.0} | {others:.0} |",
            us(run.p(0.50)),
            us(run.p(0.99)),
            us(run.p(0.999)),
            us(run.p(1.0)),
            server_q(0.50),
            server_q(0.99),
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
            "\nhighest sustained rate: {best} msg/s (delivered >= 97% of offered, e2e p99 < 50 ms)"
        );
    }
    Ok(())
}

/// Formats a duration in µs or ms.
pub(crate) fn us(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Connect rate and RSS per idle connection at each count, the client sockets held by
/// `--procs` worker processes.
async fn idle(args: &Args, counts: &[usize]) -> Result<(), String> {
    let server = proc::Server::start(&args.server_bin, PORT + 1, args.server_cpu)
        .map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = proc::rss_kib(server.pid()).map_err(|e| e.to_string())?;
    println!("\n## idle connections (rooms of 2; server RSS before: {base} KiB)");
    println!("| connections | client processes | connect rate /s | server RSS KiB | RSS per connection |");
    println!("| --- | --- | --- | --- | --- |");
    let counts = counts.to_vec();
    let procs = args.procs;
    tokio::task::spawn_blocking(move || idle::measure(&server, &counts, procs, base))
        .await
        .map_err(|e| e.to_string())?
}

/// Join/leave churn against the real server and against the floor relay (this tool's own
/// `floor-server`), alternating twice, each for `--secs` with `--rooms` rooms at once.
async fn churn(args: &Args) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let me = me.to_string_lossy();
    println!(
        "\n## churn: {} rooms, a pair joining and leaving in each, {} s per run",
        args.rooms, args.secs
    );
    println!("| server | joins/s | inverted joins | failed rounds | server CPU µs/join |");
    println!("| --- | --- | --- | --- | --- |");
    let mut totals = [(0.0f64, 0u32); 2];
    for run in 0..4 {
        let floor = run % 2 == 1;
        let server = if floor {
            proc::Server::start_with(
                &me,
                PORT + 3,
                args.server_cpu,
                &[],
                &["floor-server", "--addr", "{addr}"],
            )
        } else {
            proc::Server::start(&args.server_bin, PORT + 2, args.server_cpu)
        }
        .map_err(|e| e.to_string())?;
        let cpu0 = proc::cpu_time(server.pid()).map_err(|e| e.to_string())?;
        let out = churn::run(
            server.addr,
            args.rooms,
            Duration::from_secs(args.secs),
            &run.to_string(),
        )
        .await;
        let cpu = proc::cpu_time(server.pid()).map_err(|e| e.to_string())? - cpu0;
        let rate = out.joins as f64 / out.elapsed.as_secs_f64();
        let per_join = cpu.as_secs_f64() * 1e6 / out.joins.max(1) as f64;
        let name = if floor {
            "floor (tokio-tungstenite relay)"
        } else {
            "record-meet"
        };
        println!(
            "| {name} | {rate:.0} | {} | {} | {per_join:.0} |",
            out.inverted, out.failed
        );
        totals[usize::from(floor)].0 += rate;
        totals[usize::from(floor)].1 += 1;
    }
    let ours = totals[0].0 / f64::from(totals[0].1);
    let floor = totals[1].0 / f64::from(totals[1].1);
    println!(
        "\nchurn throughput, record-meet / floor: {:.2} ({ours:.0} vs {floor:.0} joins/s)",
        ours / floor
    );
    Ok(())
}
