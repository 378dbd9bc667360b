//! Creates over real TLS against graph-emulator's HTTPS mode (a throwaway
//! CA made at start-up): trusted → created; untrusted, wrong name or
//! expired → a TLS error that says nothing was sent, and nothing was.

mod common;

use std::time::Duration;

use graph_emulator::{Emulator, EmulatorConfig, TlsOptions};
use used_insight::{Client, ClientBuilder, Error, RetryPolicy, TransportErrorKind};

fn https_emulator(tls: TlsOptions) -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(common::TOKEN.into()),
        tls: Some(tls),
        ..Default::default()
    })
    .expect("emulator starts with TLS")
}

fn builder(emu: &Emulator) -> ClientBuilder {
    assert!(emu.base_url().starts_with("https://"), "{}", emu.base_url());
    Client::builder()
        .token(common::TOKEN)
        .base_url(emu.base_url())
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
}

/// A client that trusts the emulator's CA.
fn trusting(emu: &Emulator) -> Client {
    builder(emu)
        .add_root_certificates_pem(emu.ca_pem().unwrap())
        .build()
        .unwrap()
}

fn tls_failure(emu: &Emulator, client: &Client) -> String {
    let err = client
        .create("alice@contoso.com", &common::insight())
        .unwrap_err();
    match &err {
        Error::Transport(t) => {
            assert_eq!(t.kind, TransportErrorKind::Tls, "{err}");
            assert!(!t.request_may_have_been_sent, "{err}");
            assert!(!err.request_may_have_been_processed(), "{err}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert!(emu.requests().is_empty(), "nothing may reach the server");
    assert_eq!(emu.stored_count(), 0);
    err.to_string()
}

#[test]
fn an_extra_root_as_pem_text_is_trusted_and_the_create_goes_through() {
    let emu = https_emulator(TlsOptions::default());
    let client = trusting(&emu);
    let created = client
        .create("alice@contoso.com", &common::insight())
        .unwrap();
    assert!(created.id.is_some());
    assert_eq!(emu.stored("alice@contoso.com").len(), 1);
}

#[test]
fn an_extra_root_file_is_trusted_too() {
    let emu = https_emulator(TlsOptions::default());
    let client = builder(&emu)
        .add_root_certificates_file(emu.ca_path().unwrap())
        .build()
        .unwrap();
    client
        .create("alice@contoso.com", &common::insight())
        .unwrap();
}

#[test]
fn without_the_root_the_create_fails_as_tls_and_nothing_is_sent() {
    let emu = https_emulator(TlsOptions::default());
    let message = tls_failure(&emu, &builder(&emu).build().unwrap());
    assert!(
        message.contains("authority this client does not trust"),
        "{message}"
    );
    assert!(message.contains("nothing was sent"), "{message}");
}

#[test]
fn an_unrelated_root_does_not_help() {
    let emu = https_emulator(TlsOptions::default());
    let client = builder(&emu)
        .add_root_certificates_pem(include_str!("certs/two_roots.pem"))
        .build()
        .unwrap();
    let message = tls_failure(&emu, &client);
    assert!(message.contains("does not trust"), "{message}");
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let emu = https_emulator(TlsOptions {
        names: vec!["wrong.example".into()],
        ..Default::default()
    });
    let client = trusting(&emu);
    let message = tls_failure(&emu, &client);
    assert!(
        message.contains("not valid for this host name"),
        "{message}"
    );
}

#[test]
fn an_expired_certificate_is_refused() {
    let emu = https_emulator(TlsOptions {
        expired: true,
        ..Default::default()
    });
    let client = trusting(&emu);
    let message = tls_failure(&emu, &client);
    assert!(message.contains("expired"), "{message}");
}

#[test]
fn faults_and_retries_work_over_tls_too() {
    let emu = https_emulator(TlsOptions::default());
    emu.push_faults([common::fault(
        serde_json::json!({"status": 429, "retry_after": "0.1"}),
    )]);
    let client = builder(&emu)
        .add_root_certificates_pem(emu.ca_pem().unwrap())
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap();
    client
        .create("alice@contoso.com", &common::insight())
        .unwrap();
    assert_eq!(emu.requests().len(), 2, "one 429, then the create");
}
