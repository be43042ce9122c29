//! `loadtest engines`: the same relay load against the three ways to run the hub, one after the
//! other in one run — the in-memory engine, one node with Redis, and three nodes sharing Redis
//! (each pair's two peers on different nodes, so every relay crosses nodes). Server-side CPU
//! per message counts every server process and `redis-server` (all pinned to the server CPU).

use std::io;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::proc::{self, Server};
use crate::relay::Pairs;
use crate::scrape::Histogram;
use crate::{us, Args};

/// First port of the servers (loopback only); Redis takes the one before.
const BASE_PORT: u16 = 39_481;

/// A `redis-server` child without persistence, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(bin: &str, port: u16, cpu: Option<usize>) -> io::Result<Self> {
        let mut command = Command::new(bin);
        if let Some(cpu) = cpu {
            // SAFETY: only a stack-local bit set and one syscall between fork and exec.
            unsafe {
                command.pre_exec(move || proc::pin_to(cpu));
            }
        }
        let child = command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(io::Error::other("redis-server did not start"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Redis { child, port })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the relay load at `args.rate` against each setup and prints one table.
pub async fn run(args: &Args) -> Result<(), String> {
    println!(
        "\n## engines: {} rooms x 2 peers, {} B payloads, {} msg/s for {} s each; server CPUs: {}",
        args.rooms,
        args.payload,
        args.rate,
        args.secs,
        args.server_cpu
            .map_or("not pinned".into(), |c| format!("pinned to {c}")),
    );
    println!(
        "| setup | delivered msg/s | join (mean) | e2e p50 | e2e p99 | server p50 | server p99 \
         | nodes CPU µs/msg | redis CPU µs/msg | others CPU % |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, nodes, redis) in [
        ("in-memory, 1 node", 1, false),
        ("Redis, 1 node", 1, true),
        ("Redis, 3 nodes", 3, true),
    ] {
        let redis = if redis {
            let port = BASE_PORT - 1;
            Some(Redis::start(&args.redis_bin, port, args.server_cpu).map_err(|e| e.to_string())?)
        } else {
            None
        };
        let env: Vec<(&str, String)> = redis
            .iter()
            .map(|r| {
                (
                    "RECORD_MEET_REDIS_URL",
                    format!("redis://127.0.0.1:{}", r.port),
                )
            })
            .collect();
        let servers: Vec<Server> = (0..nodes)
            .map(|i| {
                Server::start_with(&args.server_bin, BASE_PORT + i, args.server_cpu, &env, &[])
            })
            .collect::<io::Result<_>>()
            .map_err(|e| e.to_string())?;
        let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
        let joined = Instant::now();
        let pairs = Pairs::connect_spread(&addrs, args.rooms).await?;
        let join = joined.elapsed() / (2 * args.rooms as u32);
        let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
        let cpu = |pids: &[u32]| -> Result<Duration, String> {
            pids.iter()
                .map(|p| proc::cpu_time(*p).map_err(|e| e.to_string()))
                .sum()
        };
        let redis_pid: Vec<u32> = redis.iter().map(|r| r.child.id()).collect();
        let scrape = || -> Result<Histogram, String> {
            let mut total: Option<Histogram> = None;
            for addr in &addrs {
                let h = Histogram::scrape(*addr).map_err(|e| e.to_string())?;
                total = Some(match total {
                    None => h,
                    Some(t) => t.plus(&h),
                });
            }
            total.ok_or_else(|| "no server".to_owned())
        };
        let hist0 = scrape()?;
        let (nodes0, redis0) = (cpu(&pids)?, cpu(&redis_pid)?);
        let tool0 = proc::cpu_time(std::process::id()).map_err(|e| e.to_string())?;
        let busy0 = proc::machine_busy().map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        let run = pairs
            .run(args.rate, Duration::from_secs(args.secs), args.payload)
            .await;
        let wall = t0.elapsed().as_secs_f64();
        let nodes_cpu = cpu(&pids)? - nodes0;
        let redis_cpu = cpu(&redis_pid)? - redis0;
        let tool = proc::cpu_time(std::process::id()).map_err(|e| e.to_string())? - tool0;
        let busy = proc::machine_busy().map_err(|e| e.to_string())? - busy0;
        let hist = scrape()?.since(&hist0);
        let n = hist.count().max(1) as f64;
        let others = (busy.as_secs_f64()
            - nodes_cpu.as_secs_f64()
            - redis_cpu.as_secs_f64()
            - tool.as_secs_f64())
        .max(0.0)
            * 100.0
            / wall;
        let server_q = |q| hist.quantile(q).map_or("-".into(), us);
        println!(
            "| {name} | {:.0} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {others:.0} |",
            run.delivered as f64 / run.elapsed.as_secs_f64(),
            us(join),
            us(run.p(0.50)),
            us(run.p(0.99)),
            server_q(0.50),
            server_q(0.99),
            nodes_cpu.as_secs_f64() * 1e6 / n,
            redis_cpu.as_secs_f64() * 1e6 / n,
        );
        drop(pairs);
        drop(servers);
    }
    Ok(())
}
