//! The `graph-emulator` binary as other languages' tests use it.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_graph-emulator");

/// Spawns the binary and returns it with the URL from its first stdout line.
fn spawn(args: &[&str]) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn graph-emulator");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("first line");
    let url = line
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix("listening on "))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url, stdout)
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("graph-emulator did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn prints_listening_line_serves_and_exits_on_sigterm() {
    let started = Instant::now();
    let (mut child, url, mut stdout) = spawn(&["--port", "0"]);
    assert!(started.elapsed() < Duration::from_secs(2));
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    let agent = agent();
    let reply = post_json(
        &agent,
        &format!("{url}/v1.0/users/u/insights/used"),
        &insight(),
    );
    assert_eq!(reply.status, 201);
    let requests = send(
        &agent,
        "GET",
        &format!("{url}/_emulator/requests"),
        &[],
        None,
    )
    .json();
    assert_eq!(requests["requests"].as_array().unwrap().len(), 1);
    // An idle keep-alive connection (the agent's pool) must not delay the exit.
    signal(&child, "TERM");
    let status = wait_with_timeout(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "nothing else on stdout");
}

#[test]
fn exits_on_sigint_and_enforces_token() {
    let (mut child, url, _stdout) = spawn(&["--token", "s3cret", "--host", "127.0.0.1"]);
    let agent = agent();
    let used = format!("{url}/v1.0/users/u/insights/used");
    send(
        &agent,
        "POST",
        &used,
        &[AUTH, JSON],
        Some(&insight().to_string()),
    )
    .assert_graph_error(401, "InvalidAuthenticationToken");
    let ok = send(
        &agent,
        "POST",
        &used,
        &[("Authorization", "Bearer s3cret"), JSON],
        Some(&insight().to_string()),
    );
    assert_eq!(ok.status, 201);
    signal(&child, "INT");
    assert_eq!(
        wait_with_timeout(&mut child, Duration::from_secs(5)).code(),
        Some(0)
    );
}

#[test]
fn bad_arguments_exit_2_and_help_exits_0() {
    for args in [
        &["--port", "abc"][..],
        &["--port"],
        &["--bogus"],
        &["--host", "nowhere"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("graph-emulator:") && err.contains("Usage"),
            "{err}"
        );
    }
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Usage: graph-emulator"));
}

#[test]
fn port_in_use_is_an_error() {
    let emu = start();
    let out = Command::new(BIN)
        .args(["--port", &emu.port().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.is_empty());
}
