//! The system trust store follows SSL_CERT_FILE: pointed at graph-emulator's
//! throwaway CA, a client with `system_roots(true)` creates over TLS. Its own
//! test binary, as it sets a process-wide variable before any client reads it.

mod common;

use graph_emulator::{Emulator, EmulatorConfig, TlsOptions};
use used_insight::{Client, Error, TransportErrorKind};

#[test]
fn system_roots_follow_ssl_cert_file() {
    let emu = Emulator::start(EmulatorConfig {
        token: Some(common::TOKEN.into()),
        tls: Some(TlsOptions::default()),
        ..Default::default()
    })
    .unwrap();
    std::env::set_var("SSL_CERT_FILE", emu.ca_path().unwrap());
    std::env::remove_var("SSL_CERT_DIR");
    let client = Client::builder()
        .token(common::TOKEN)
        .base_url(emu.base_url())
        .system_roots(true)
        .build()
        .unwrap();
    client
        .create("alice@contoso.com", &common::insight())
        .unwrap();

    // The compiled-in roots alone do not know the emulator's CA.
    let mozilla_only = Client::builder()
        .token(common::TOKEN)
        .base_url(emu.base_url())
        .build()
        .unwrap();
    match mozilla_only.create("alice@contoso.com", &common::insight()) {
        Err(Error::Transport(t)) => assert_eq!(t.kind, TransportErrorKind::Tls),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}
