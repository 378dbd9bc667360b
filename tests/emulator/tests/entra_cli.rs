//! The Entra options of the `graph-emulator` binary, as the C and Python
//! tests use them: apps, token lifetime, managed identity and
//! `--require-issued-tokens` from the command line, apps from the control
//! endpoint.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::entra::*;
use common::{agent, send, Reply};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_graph-emulator");

/// The running binary, stopped with SIGTERM when dropped.
struct Running {
    child: Child,
    url: String,
}

impl Running {
    fn start(args: &[String]) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn graph-emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("first line");
        let url = line
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Running { child, url }
    }

    fn token_request(&self, tenant: &str, pairs: &[(&str, &str)]) -> Reply {
        send(
            &agent(),
            "POST",
            &format!("{}/{tenant}/oauth2/v2.0/token", self.url),
            &[FORM],
            Some(&form(pairs)),
        )
    }

    fn create(&self, authorization: &str) -> Reply {
        send(
            &agent(),
            "POST",
            &format!("{}/v1.0/users/u/insights/used", self.url),
            &[("Authorization", authorization), common::JSON],
            Some(&common::insight().to_string()),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if started.elapsed() > Duration::from_secs(5) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.wait();
    }
}

fn secret_pairs<'a>(client_id: &'a str, secret: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", GRAPH_SCOPE),
    ]
}

#[test]
fn apps_lifetime_managed_identity_and_required_tokens_from_the_command_line() {
    let cert = cert_path("entra-test-app.pem");
    let emu = Running::start(&[
        "--entra-app".into(),
        format!("{TENANT}:{CLIENT}:se:cr:et"),
        "--entra-app-cert".into(),
        format!("{TENANT}:{CLIENT}:{}", cert.display()),
        "--entra-app-federated".into(),
        format!("{TENANT}:fed-app:federated-token"),
        "--token-lifetime".into(),
        "7200".into(),
        "--managed-identity".into(),
        "hdr:77777777-0000-4000-8000-000000000001".into(),
        "--require-issued-tokens".into(),
    ]);

    // Secret (containing ':'), with the configured lifetime.
    let reply = emu.token_request(TENANT, &secret_pairs(CLIENT, "se:cr:et"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["expires_in"], 7200);
    assert_eq!(v["refresh_in"], 3600);
    let token = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(emu.create(&bearer(&token)).status, 201);
    assert_eq!(emu.create("Bearer made-up").status, 401);

    // The same app also has the certificate.
    let key = TestKey::load("entra-test-app.pem");
    let now = unix_now();
    let claims = json!({
        "aud": format!("{}/{TENANT}/oauth2/v2.0/token", emu.url),
        "iss": CLIENT, "sub": CLIENT, "jti": "cli-1", "nbf": now, "exp": now + 600,
    });
    let assertion = key.sign(&key.header(), &claims);
    let reply = emu.token_request(
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion),
            ("scope", GRAPH_SCOPE),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    // The federated app.
    let reply = emu.token_request(
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "fed-app"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", "federated-token"),
            ("scope", GRAPH_SCOPE),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.text());

    // Managed identity, user-assigned.
    let reply = send(
        &agent(),
        "GET",
        &format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://graph.microsoft.com&client_id=77777777-0000-4000-8000-000000000001",
            emu.url
        ),
        &[("Metadata", "true")],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["expires_in"], "7200");

    // An app registered over the control endpoint, as C and Python tests do;
    // reset drops it and keeps the command line's.
    let reply = send(
        &agent(),
        "POST",
        &format!("{}/_emulator/entra/apps", emu.url),
        &[common::JSON],
        Some(r#"{"tenant":"t2","client_id":"app2","secret":"s2"}"#),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        emu.token_request("t2", &secret_pairs("app2", "s2")).status,
        200
    );
    let reply = send(
        &agent(),
        "POST",
        &format!("{}/_emulator/reset", emu.url),
        &[],
        Some(""),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        emu.token_request("t2", &secret_pairs("app2", "s2")).status,
        400
    );
    assert_eq!(
        emu.token_request(TENANT, &secret_pairs(CLIENT, "se:cr:et"))
            .status,
        200
    );
}

#[test]
fn bad_entra_options_exit_2_with_a_message() {
    for (args, needle) in [
        (vec!["--entra-app", "t:c"], "TENANT:CLIENT_ID:SECRET"),
        (
            vec!["--entra-app-cert", "t:c:/nonexistent/cert.pem"],
            "cannot read",
        ),
        (vec!["--token-lifetime", "soon"], "--token-lifetime"),
        (vec!["--managed-identity", ""], "--managed-identity"),
    ] {
        let out = Command::new(BIN).args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}
