//! The record-meet server binary: parses configuration, starts logging, runs the server until
//! SIGINT or SIGTERM. Two other modes: `--check-health` (the container's health probe) and the
//! hidden `--embed-site` of release packaging.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use server::{config::Config, embedded, shutdown, telemetry};

/// How long `--check-health` waits for the answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

fn main() -> ExitCode {
    // A missing .env is normal; values from the real environment win over it.
    let _ = dotenvy::dotenv();
    let mut config = Config::parse();
    if config.check_health {
        return check_health(config.addr);
    }
    if let (Some(site), Some(out)) = (&config.embed_site, &config.embed_into) {
        return embed(site, out);
    }
    if config.state_dir.is_none() {
        // systemd's StateDirectory= (several are separated by ':'; the first is ours).
        config.state_dir = std::env::var_os("STATE_DIRECTORY").and_then(|dirs| {
            dirs.to_str()
                .and_then(|d| d.split(':').next())
                .map(Into::into)
        });
    }
    telemetry::init(config.log_format);
    if let Err(e) = config.check() {
        eprintln!("record-meet: cannot start: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(serve(config));
    // Don't wait for idle blocking-pool threads: the server is done.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

async fn serve(config: Config) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(addr = %config.addr, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = shutdown::on_signal();
    match server::run(listener, config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// `GET /health` of the server listening on `addr` (a wildcard address means this machine):
/// exit 0 on 200, 1 otherwise.
fn check_health(addr: SocketAddr) -> ExitCode {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let target = SocketAddr::new(ip, addr.port());
    let answer = (|| -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&target, CHECK_TIMEOUT)?;
        stream.set_read_timeout(Some(CHECK_TIMEOUT))?;
        stream.set_write_timeout(Some(CHECK_TIMEOUT))?;
        write!(
            stream,
            "GET /health HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n"
        )?;
        let mut head = Vec::new();
        stream.take(64 * 1024).read_to_end(&mut head)?;
        Ok(String::from_utf8_lossy(&head).into_owned())
    })();
    match answer {
        Ok(text) if text.starts_with("HTTP/1.1 200") => {
            println!("healthy");
            ExitCode::SUCCESS
        }
        Ok(text) => {
            eprintln!("unhealthy: {}", text.lines().next().unwrap_or(""));
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {target}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Release packaging: this executable plus the site in `site`, written to `out`.
fn embed(site: &std::path::Path, out: &std::path::Path) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    match embedded::pack(site, &exe, out) {
        Ok(files) => {
            println!("{}: {files} files embedded", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot embed {}: {e}", site.display());
            ExitCode::FAILURE
        }
    }
}
