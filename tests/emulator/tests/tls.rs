//! HTTPS: the throwaway CA, deliberately bad certificates, and faults, the
//! control protocol and `$batch` over TLS.

mod common;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use graph_emulator::{Emulator, EmulatorConfig, Fault, TlsOptions};
use serde_json::json;

fn start_tls(options: TlsOptions) -> Emulator {
    Emulator::start(EmulatorConfig {
        tls: Some(options),
        ..EmulatorConfig::default()
    })
    .expect("emulator starts with TLS")
}

/// The create request, expected to fail before any HTTP exchange; returns
/// ureq's error in Debug form (it names rustls' certificate error).
fn create_error(agent: &ureq::Agent, emu: &Emulator) -> String {
    match try_send(
        agent,
        "POST",
        &used_url(emu, "u"),
        &[AUTH, JSON],
        Some(&insight().to_string()),
    ) {
        Ok(reply) => panic!("expected a TLS error, got {}", reply.status),
        Err(e) => format!("{e:?}"),
    }
}

#[test]
fn create_succeeds_with_the_ca_trusted() {
    let emu = start_tls(TlsOptions::default());
    let port = emu.port();
    assert_eq!(emu.base_url(), format!("https://127.0.0.1:{port}"));
    let pem = emu.ca_pem().expect("a CA with TLS");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let path = emu.ca_path().expect("a CA file with TLS");
    assert!(path.is_absolute(), "{path:?}");
    assert_eq!(std::fs::read_to_string(path).unwrap(), pem);

    let agent = tls_agent(pem);
    let reply = post_json(&agent, &used_url(&emu, "alice%40contoso.com"), &insight());
    assert_eq!(reply.status, 201, "{}", reply.text());
    let location = reply.header("location").unwrap();
    assert!(
        location.starts_with(&format!("https://127.0.0.1:{port}/v1.0/users/")),
        "{location}"
    );
    assert_eq!(
        reply.json()["@odata.context"],
        format!(
            "https://127.0.0.1:{port}/v1.0/$metadata#users('alice%40contoso.com')/insights/used/$entity"
        )
    );
    // Keep-alive: a second request on the pooled TLS connection, and the
    // library's own calls, which read the in-process state.
    let listed = get(&agent, &used_url(&emu, "alice@contoso.com"));
    assert_eq!(listed.json()["value"].as_array().unwrap().len(), 1);
    assert_eq!(emu.stored("alice@contoso.com").len(), 1);
    assert_eq!(emu.requests().len(), 2);
    assert_eq!(
        emu.requests()[0].headers["authorization"],
        "Bearer test-token"
    );
}

#[test]
fn plain_http_has_no_ca() {
    let emu = start();
    assert!(emu.base_url().starts_with("http://"));
    assert_eq!(emu.ca_pem(), None);
    assert_eq!(emu.ca_path(), None);
}

#[test]
fn without_the_ca_the_certificate_is_rejected() {
    let emu = start_tls(TlsOptions::default());
    // The default roots (webpki-roots) do not include the throwaway CA.
    let err = create_error(&agent(), &emu);
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert_eq!(emu.requests().len(), 0, "no HTTP request got through");
    // The server carries on after a failed handshake.
    let ok = post_json(
        &tls_agent(emu.ca_pem().unwrap()),
        &used_url(&emu, "u"),
        &insight(),
    );
    assert_eq!(ok.status, 201);
}

#[test]
fn plain_http_to_the_tls_port_fails() {
    let emu = start_tls(TlsOptions::default());
    let url = used_url(&emu, "u").replacen("https://", "http://", 1);
    let sent = try_send(
        &agent(),
        "POST",
        &url,
        &[AUTH, JSON],
        Some(&insight().to_string()),
    );
    assert!(sent.is_err(), "{:?}", sent.map(|r| r.status));
    assert_eq!(emu.requests().len(), 0);
}

#[test]
fn a_certificate_for_other_names_is_a_name_mismatch() {
    let emu = start_tls(TlsOptions {
        names: vec!["wrong.example".into()],
        ..TlsOptions::default()
    });
    let err = create_error(&tls_agent(emu.ca_pem().unwrap()), &emu);
    assert!(err.contains("NotValidForName"), "{err}");
    assert_eq!(emu.requests().len(), 0);
}

#[test]
fn an_expired_certificate_is_rejected() {
    let emu = start_tls(TlsOptions {
        expired: true,
        ..TlsOptions::default()
    });
    let err = create_error(&tls_agent(emu.ca_pem().unwrap()), &emu);
    assert!(err.contains("Expired"), "{err}");
    assert_eq!(emu.requests().len(), 0);
}

#[test]
fn the_temporary_ca_file_goes_at_shutdown_a_chosen_one_stays() {
    let emu = start_tls(TlsOptions::default());
    let temp = emu.ca_path().unwrap().to_owned();
    let temp_dir = temp.parent().unwrap().to_owned();
    assert!(temp.exists());
    emu.shutdown();
    assert!(!temp.exists() && !temp_dir.exists(), "{temp_dir:?}");

    let dir = std::env::temp_dir().join(format!("graph-emulator-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chosen = dir.join("chosen-ca.pem");
    let emu = start_tls(TlsOptions {
        ca_out: Some(chosen.clone()),
        ..TlsOptions::default()
    });
    assert_eq!(emu.ca_path(), Some(chosen.as_path()));
    let pem = emu.ca_pem().unwrap().to_owned();
    drop(emu);
    assert_eq!(std::fs::read_to_string(&chosen).unwrap(), pem);
    std::fs::remove_dir_all(&dir).unwrap();

    let err = Emulator::start(EmulatorConfig {
        tls: Some(TlsOptions {
            ca_out: Some(Path::new("/nonexistent-dir/ca.pem").into()),
            ..TlsOptions::default()
        }),
        ..EmulatorConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent-dir/ca.pem"), "{err}");
}

#[test]
fn faults_and_control_endpoints_work_over_tls() {
    let emu = start_tls(TlsOptions::default());
    let agent = tls_agent(emu.ca_pem().unwrap());
    let url = used_url(&emu, "u");
    let faults_url = format!("{}/_emulator/faults", emu.base_url());

    // Queued over HTTPS through the control protocol.
    let queued = send(
        &agent,
        "POST",
        &faults_url,
        &[],
        Some(r#"[{"status":429,"retry_after":"2"},{"delay_ms":300}]"#),
    );
    assert_eq!(queued.json(), json!({"queued": 2}));
    let reply = post_json(&agent, &url, &insight());
    reply.assert_graph_error(429, "TooManyRequests");
    assert_eq!(reply.header("retry-after"), Some("2"));
    let started = Instant::now();
    assert_eq!(post_json(&agent, &url, &insight()).status, 201);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Dropped connection: no HTTP answer, recorded once, nothing stored.
    emu.push_faults([Fault {
        drop_connection: true,
        ..Fault::default()
    }]);
    let before = emu.stored_count();
    let sent = try_send(
        &agent,
        "POST",
        &url,
        &[AUTH, JSON],
        Some(&insight().to_string()),
    );
    assert!(sent.is_err(), "{:?}", sent.map(|r| r.status));
    assert_eq!(emu.stored_count(), before);
    assert_eq!(emu.requests().len(), 3, "recorded exactly once");

    // Truncated body: the full Content-Length, then half the body and an error.
    emu.push_faults([Fault {
        body_bytes: Some(100_000),
        truncate: true,
        ..Fault::default()
    }]);
    let resp = agent
        .post(&url)
        .header(AUTH.0, AUTH.1)
        .header(JSON.0, JSON.1)
        .send(insight().to_string())
        .expect("the head arrives");
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["content-length"], "100000");
    let mut reader = resp.into_body().into_reader();
    let mut received = 0usize;
    let mut buf = [0u8; 16 * 1024];
    let failed = loop {
        match reader.read(&mut buf) {
            Ok(0) => break false,
            Ok(n) => received += n,
            Err(_) => break true,
        }
    };
    assert!(failed, "a truncated body must end in an error");
    assert_eq!(received, 50_000);

    let requests = send(
        &agent,
        "GET",
        &format!("{}/_emulator/requests", emu.base_url()),
        &[],
        None,
    )
    .json();
    assert_eq!(requests["requests"].as_array().unwrap().len(), 4);
    let reset = send(
        &agent,
        "POST",
        &format!("{}/_emulator/reset", emu.base_url()),
        &[],
        None,
    );
    assert_eq!(reset.status, 200);
    assert_eq!(emu.requests().len(), 0);
}

#[test]
fn batch_over_tls() {
    let emu = start_tls(TlsOptions::default());
    let agent = tls_agent(emu.ca_pem().unwrap());
    emu.push_faults([Fault {
        batch_item: Some(1),
        status: Some(429),
        ..Fault::default()
    }]);
    let item = |id: &str| {
        json!({"id": id, "method": "POST", "url": "/users/u/insights/used",
               "headers": {"Content-Type": "application/json"}, "body": insight()})
    };
    let body = json!({"requests": [item("1"), item("2")]});
    let reply = post_json(&agent, &format!("{}/v1.0/$batch", emu.base_url()), &body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let responses = reply.json()["responses"].as_array().unwrap().clone();
    let status = |id: &str| {
        responses
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["status"].clone())
    };
    assert_eq!(status("1"), Some(json!(201)));
    assert_eq!(status("2"), Some(json!(429)));
    assert_eq!(emu.stored_count(), 1);
}
