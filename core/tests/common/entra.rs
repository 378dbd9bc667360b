//! Set-up for the credential tests: an emulator playing Entra ID (and
//! Graph) with the test apps registered, and what it recorded.

use std::time::Duration;

use graph_emulator::{Emulator, EmulatorConfig, EntraApp, ManagedIdentity, RecordedRequest};
use used_insight::{Client, ClientBuilder, RetryPolicy};

pub const TENANT: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const CLIENT: &str = "cccccccc-0000-4000-8000-000000000001";
pub const CERT_CLIENT: &str = "cccccccc-0000-4000-8000-000000000002";
pub const FEDERATED_CLIENT: &str = "cccccccc-0000-4000-8000-000000000003";
pub const SECRET: &str = "test-only-secret~value";
pub const FEDERATED: &str = "eyJhbGciOiJSUzI1NiJ9.test-only-federated-token.sig";
pub const IDENTITY_HEADER: &str = "test-only-identity-header";
pub const USER_ASSIGNED: &str = "77777777-0000-0000-0000-000000000001";

pub const APP_PEM: &str = include_str!("../certs/entra-test-app.pem");
pub const APP_PKCS1_PEM: &str = include_str!("../certs/entra-test-app-pkcs1.pem");
pub const OTHER_APP_PEM: &str = include_str!("../certs/entra-test-other-app.pem");

pub fn certs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/certs")
}

/// The test apps: one with a secret, one with the test certificate, one
/// trusting a federated token.
pub fn apps() -> Vec<EntraApp> {
    vec![
        EntraApp {
            tenant: TENANT.into(),
            client_id: CLIENT.into(),
            secret: Some(SECRET.into()),
            ..EntraApp::default()
        },
        EntraApp {
            tenant: TENANT.into(),
            client_id: CERT_CLIENT.into(),
            certificate_pem: Some(APP_PEM.into()),
            ..EntraApp::default()
        },
        EntraApp {
            tenant: TENANT.into(),
            client_id: FEDERATED_CLIENT.into(),
            federated_assertion: Some(FEDERATED.into()),
            ..EntraApp::default()
        },
    ]
}

/// Entra with the test apps and a managed identity; Graph accepts only
/// unexpired tokens it issued.
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        entra_apps: apps(),
        managed_identity: Some(ManagedIdentity {
            identity_header: IDENTITY_HEADER.into(),
            client_ids: vec![USER_ASSIGNED.into()],
        }),
        require_issued_tokens: true,
        ..EmulatorConfig::default()
    }
}

pub fn entra() -> Emulator {
    Emulator::start(config()).expect("emulator starts")
}

/// A client for the emulator's Graph, without a credential yet; fast retries.
pub fn builder(emu: &Emulator) -> ClientBuilder {
    Client::builder()
        .base_url(emu.base_url())
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(20)))
}

/// The requests that went to Graph (everything but token requests).
pub fn graph_requests(emu: &Emulator) -> Vec<RecordedRequest> {
    let token_paths = ["/oauth2/v2.0/token", "/msi/token", "/metadata/identity/"];
    emu.requests()
        .into_iter()
        .filter(|r| !token_paths.iter().any(|p| r.path.contains(p)))
        .collect()
}

/// A form body's value for `name`, decoded.
pub fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}
