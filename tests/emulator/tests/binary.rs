//! The `graph-emulator` binary as other languages' tests use it.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_graph-emulator");

/// Spawns the binary and returns it with the URL from its first stdout line.
fn spawn(args: &[&str]) -> (Child, String, BufReader<std::process::ChildStdout>) {
    spawn_in(args, Path::new("."))
}

fn spawn_in(args: &[&str], dir: &Path) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
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
        &["--tls=1"],
        &["--tls-names", ""],
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

/// Reads the `ca PATH` line that follows the `listening on https://…` one.
fn read_ca_line(stdout: &mut BufReader<std::process::ChildStdout>) -> PathBuf {
    let mut line = String::new();
    stdout.read_line(&mut line).expect("second line");
    let path = line
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix("ca "))
        .unwrap_or_else(|| panic!("unexpected second line {line:?}"));
    PathBuf::from(path)
}

#[test]
fn tls_prints_the_https_url_and_the_ca_path() {
    let started = Instant::now();
    let (mut child, url, mut stdout) = spawn(&["--tls"]);
    let ca = read_ca_line(&mut stdout);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert!(ca.is_absolute(), "{ca:?}");
    let pem = std::fs::read_to_string(&ca).expect("the CA file exists");
    let reply = post_json(
        &tls_agent(&pem),
        &format!("{url}/v1.0/users/u/insights/used"),
        &insight(),
    );
    assert_eq!(reply.status, 201);
    signal(&child, "TERM");
    assert_eq!(
        wait_with_timeout(&mut child, Duration::from_secs(5)).code(),
        Some(0)
    );
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "nothing else on stdout");
    assert!(!ca.exists(), "the temporary CA file is removed at exit");
}

#[test]
fn ca_out_and_bad_certificate_flags() {
    let dir = std::env::temp_dir().join(format!("graph-emulator-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A relative --ca-out (it implies --tls) is announced as an absolute path.
    let (mut child, url, mut stdout) = spawn_in(
        &[
            "--ca-out",
            "ca.pem",
            "--tls-names",
            "wrong.example",
            "--tls-expired",
        ],
        &dir,
    );
    let ca = read_ca_line(&mut stdout);
    assert!(url.starts_with("https://"), "{url}");
    assert_eq!(ca, std::path::absolute(dir.join("ca.pem")).unwrap());
    let pem = std::fs::read_to_string(&ca).unwrap();
    let sent = try_send(
        &tls_agent(&pem),
        "POST",
        &format!("{url}/v1.0/users/u/insights/used"),
        &[AUTH, JSON],
        Some(&insight().to_string()),
    );
    assert!(sent.is_err(), "{:?}", sent.map(|r| r.status));
    signal(&child, "TERM");
    assert_eq!(
        wait_with_timeout(&mut child, Duration::from_secs(5)).code(),
        Some(0)
    );
    assert!(ca.exists(), "a chosen --ca-out file is kept");
    std::fs::remove_dir_all(&dir).unwrap();
}
