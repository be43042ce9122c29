//! The executable itself: JSON logs, `--check-health`, `--version`, and SIGTERM ending the
//! process cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

const EXE: &str = env!("CARGO_BIN_EXE_server");

#[test]
fn version_and_help_name_the_product() {
    let out = Command::new(EXE).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("record-meet "));
    let out = Command::new(EXE).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--addr",
        "--check-health",
        "--public-origin",
        "--trusted-proxies",
        "--log-format",
        "--state-dir",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    assert!(
        !help.contains("--embed-site"),
        "packaging flags stay hidden"
    );
}

#[test]
fn json_logs_health_check_and_a_clean_exit_on_sigterm() {
    let state = std::env::temp_dir().join(format!("record-meet-bin-{}", std::process::id()));
    // Run from an empty folder of its own: the recordings folder defaults to ./recordings.
    let cwd = state.join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut child = Command::new(EXE)
        .current_dir(&cwd)
        .env_clear()
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RECORD_MEET_LOG_FORMAT", "json")
        .env("RECORD_MEET_STATE_DIR", &state)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let event: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        assert!(
            event["level"].is_string() && event["timestamp"].is_string(),
            "{line}"
        );
        if event["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("listening on"))
        {
            addr = event["addr"].as_str().map(str::to_owned);
            break;
        }
    }
    let addr = addr.expect("a listening event with its address");
    let check = |addr: &str| {
        Command::new(EXE)
            .env_clear()
            .args(["--check-health", "--addr", addr])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(check(&addr), "healthy server");

    let sigterm = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    println!("exit after SIGTERM: {} ms", sigterm.elapsed().as_millis());
    assert!(status.success(), "{status:?}");
    for line in lines {
        let line = line.unwrap();
        assert!(
            serde_json::from_str::<serde_json::Value>(&line).is_ok(),
            "not JSON: {line}"
        );
    }
    assert!(!check(&addr), "nothing listens any more");
    // No one was in a room: the handoff is empty but written.
    let handoff = std::fs::read_to_string(state.join("handoff.json")).unwrap();
    assert!(handoff.contains("\"rooms\":[]"), "{handoff}");
    let _ = std::fs::remove_dir_all(&state);
}
