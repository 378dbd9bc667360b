//! What reaches the `log` facade: the deprecation notice once per client, a
//! failed token renewal, and never a token, secret or assertion. Its own
//! test binary, since a logger is process-global.

mod common;

use std::sync::Mutex;

use common::{client, emulator, fault, insight, TOKEN};
use serde_json::json;

static RECORDS: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

/// Everything but ureq-proto's TRACE hex dumps of the wire, which carry the
/// token and which an application must filter out (core warns when it
/// does not; secrets_in_logs.rs covers both).
impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        !(metadata.level() == log::Level::Trace && metadata.target().starts_with("ureq_proto"))
    }
    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        RECORDS
            .lock()
            .unwrap()
            .push((record.level(), record.args().to_string()));
    }
    fn flush(&self) {}
}

/// Installs the capturing logger (once for the binary's tests).
fn capture() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

#[test]
fn deprecation_is_warned_once_and_the_token_is_never_logged() {
    capture();
    let emu = emulator();
    emu.push_faults([
        fault(json!({"status": 429, "retry_after": "0", "headers": {"Deprecation": "Mon, 01 Jan 2024 00:00:00 GMT"}})),
        fault(json!({"times": 3, "headers": {"Deprecation": "Mon, 01 Jan 2024 00:00:00 GMT", "Sunset": "Sat, 01 Jan 2028 00:00:00 GMT"}})),
    ]);
    let c = client(&emu);
    for _ in 0..3 {
        c.create("alice", &insight()).unwrap();
    }
    let records = RECORDS.lock().unwrap().clone();
    let deprecation: Vec<_> = records
        .iter()
        .filter(|(level, text)| {
            *level == log::Level::Warn
                && text.contains("deprecated")
                && text.contains("usedInsight")
        })
        .collect();
    assert_eq!(deprecation.len(), 1, "{records:#?}");
    assert!(
        records
            .iter()
            .any(|(_, t)| t.starts_with("Graph answered HTTP 429") && t.contains("retry 1")),
        "the retry is logged"
    );
    assert!(
        records.len() > 5,
        "debug records were captured: {records:#?}"
    );
    for (_, text) in &records {
        assert!(!text.contains(TOKEN), "token leaked into: {text}");
    }
}

#[test]
fn a_failed_renewal_is_warned_and_no_secret_assertion_or_token_is_ever_logged() {
    use common::entra::*;
    use std::time::Duration;
    use used_insight::credentials::{CertificateCredential, ClientSecretCredential};

    capture();
    let emu = entra();
    emu.set_token_lifetime(Duration::from_secs(4));
    let secret = ClientSecretCredential::new(TENANT, CLIENT, SECRET)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    let certificate = CertificateCredential::from_pem(TENANT, CERT_CLIENT, APP_PEM)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    let client = builder(&emu).credential(secret).build().unwrap();
    client.create("alice", &insight()).unwrap();
    builder(&emu)
        .credential(certificate)
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap();
    // Due for renewal (under 2 s left), still valid; the renewal fails
    // after its retries, and the valid token carries on.
    std::thread::sleep(Duration::from_millis(2300));
    emu.push_faults([fault(json!({
        "path_contains": "/oauth2/v2.0/token", "status": 500, "times": 4, "retry_after": "0"
    }))]);
    client.create("alice", &insight()).unwrap();
    assert_eq!(emu.stored_count(), 3);
    let records = RECORDS.lock().unwrap().clone();
    assert!(
        records
            .iter()
            .any(|(level, text)| *level == log::Level::Warn
                && text.contains("renewing the token failed")
                && text.contains("is used meanwhile")),
        "{records:#?}"
    );
    let mut secrets = vec![SECRET.to_owned()];
    for request in emu.requests() {
        if let Some(bearer) = common::header(&request, "authorization") {
            secrets.push(bearer.trim_start_matches("Bearer ").to_owned());
        }
        if let Some(assertion) = form_value(&request.body, "client_assertion") {
            secrets.push(assertion);
        }
    }
    assert!(
        secrets.len() >= 5,
        "secret, tokens and an assertion: {secrets:?}"
    );
    for (_, text) in &records {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into: {text}"
            );
        }
    }
}
