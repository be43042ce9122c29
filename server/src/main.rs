//! The record-meet server binary: parses configuration, starts logging, runs the server until
//! SIGINT or SIGTERM.

use clap::Parser;
use server::{config::Config, shutdown, telemetry};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A missing .env is normal; values from the real environment win over it.
    let _ = dotenvy::dotenv();
    let config = Config::parse();
    telemetry::init();
    if let Err(e) = config.check() {
        eprintln!("record-meet: cannot start: {e}");
        return std::process::ExitCode::from(2);
    }

    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(addr = %config.addr, error = %e, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    let shutdown = shutdown::on_signal();
    match server::run(listener, config, shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}
