//! The credentials that read the environment — `EnvironmentCredential`,
//! `WorkloadIdentityCredential::from_env`, `ManagedIdentityCredential` (App
//! Service's `IDENTITY_ENDPOINT`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`) and
//! `DefaultAzureCredential` — against the emulator. A binary of their own,
//! since they change the process environment; within it each test holds
//! [`Env`], which serializes them, starts from a clean slate and always
//! points the metadata endpoint at loopback, so nothing is ever sent to
//! `169.254.169.254`.

mod common;

use std::sync::{Mutex, MutexGuard};

use common::entra::*;
use common::{header, insight};
use graph_emulator::{Emulator, EmulatorConfig};
use used_insight::credentials::{
    DefaultAzureCredential, EnvironmentCredential, ManagedIdentityCredential,
    WorkloadIdentityCredential,
};
use used_insight::Error;

/// Every variable a credential reads.
const VARIABLES: [&str; 12] = [
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "MSI_ENDPOINT",
];

static ENVIRONMENT: Mutex<()> = Mutex::new(());

/// The process environment, owned by one test at a time.
struct Env {
    _turn: MutexGuard<'static, ()>,
}

impl Env {
    /// Only `vars` set, plus a metadata endpoint nobody answers on unless
    /// `vars` names one.
    fn with(vars: &[(&str, &str)]) -> Env {
        let turn = ENVIRONMENT.lock().unwrap_or_else(|e| e.into_inner());
        for name in VARIABLES {
            std::env::remove_var(name);
        }
        std::env::set_var("AZURE_POD_IDENTITY_AUTHORITY_HOST", closed_port());
        for (name, value) in vars {
            std::env::set_var(name, value);
        }
        Env { _turn: turn }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for name in VARIABLES {
            std::env::remove_var(name);
        }
    }
}

/// `http://127.0.0.1:PORT` where nothing listens.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

fn app_env<'a>(emu: &'a Emulator, client: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", client),
        ("AZURE_AUTHORITY_HOST", emu.base_url()),
    ]
}

#[test]
fn environment_with_a_client_secret() {
    let emu = entra();
    let mut vars = app_env(&emu, CLIENT);
    vars.push(("AZURE_CLIENT_SECRET", SECRET));
    let _env = Env::with(&vars);
    let client = builder(&emu)
        .credential(EnvironmentCredential::new())
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        form_value(&tokens[0].body, "client_secret").as_deref(),
        Some(SECRET)
    );
    let shown = format!("{client:?} {:?}", EnvironmentCredential::new());
    assert!(!shown.contains(SECRET), "{shown}");
}

#[test]
fn environment_with_a_certificate_file() {
    let emu = entra();
    let path = certs_dir().join("entra-test-app.pem");
    let mut vars = app_env(&emu, CERT_CLIENT);
    vars.push(("AZURE_CLIENT_CERTIFICATE_PATH", path.to_str().unwrap()));
    let _env = Env::with(&vars);
    let client = builder(&emu)
        .credential(EnvironmentCredential::new())
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    let body = &emu.token_requests()[0].body;
    assert!(form_value(body, "client_assertion").is_some());
}

#[test]
fn environment_and_workload_identity_with_a_federated_token_file() {
    let emu = entra();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, FEDERATED).unwrap();
    let mut vars = app_env(&emu, FEDERATED_CLIENT);
    vars.push(("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap()));
    let _env = Env::with(&vars);
    let environment = builder(&emu)
        .credential(EnvironmentCredential::new())
        .build()
        .unwrap();
    environment.create("alice", &insight()).unwrap();
    let workload = builder(&emu)
        .credential(WorkloadIdentityCredential::from_env().unwrap())
        .build()
        .unwrap();
    workload.create("alice", &insight()).unwrap();
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 2);
    for request in tokens {
        assert_eq!(
            form_value(&request.body, "client_assertion").as_deref(),
            Some(FEDERATED)
        );
    }
}

#[test]
fn an_environment_that_describes_no_credential_is_refused_when_the_client_is_built() {
    let emu = entra();
    let _env = Env::with(&[("AZURE_TENANT_ID", TENANT)]);
    let err = builder(&emu)
        .credential(EnvironmentCredential::new())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid configuration: EnvironmentCredential: AZURE_CLIENT_ID and one of \
         AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE \
         are not set"
    );
    let err = WorkloadIdentityCredential::from_env().unwrap_err();
    assert!(
        err.to_string()
            .contains("AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE are not set"),
        "{err}"
    );
    drop(_env);

    let path = certs_dir().join("entra-test-app.pem");
    let mut vars = app_env(&emu, CERT_CLIENT);
    vars.push(("AZURE_CLIENT_CERTIFICATE_PATH", path.to_str().unwrap()));
    vars.push(("AZURE_CLIENT_CERTIFICATE_PASSWORD", "test-only-password"));
    let _env = Env::with(&vars);
    let err = builder(&emu)
        .credential(EnvironmentCredential::new())
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("AZURE_CLIENT_CERTIFICATE_PASSWORD is set"),
        "{err}"
    );
    assert!(emu.requests().is_empty());
}

#[test]
fn app_service_managed_identity_from_identity_endpoint_and_header() {
    let emu = entra();
    let endpoint = format!("{}/msi/token", emu.base_url());
    let _env = Env::with(&[
        ("IDENTITY_ENDPOINT", endpoint.as_str()),
        ("IDENTITY_HEADER", IDENTITY_HEADER),
    ]);
    let client = builder(&emu)
        .credential(ManagedIdentityCredential::new().client_id(USER_ASSIGNED))
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    client.create("alice", &insight()).unwrap();
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        header(&tokens[0], "x-identity-header"),
        Some(IDENTITY_HEADER)
    );
    assert_eq!(
        tokens[0].path,
        format!(
            "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fgraph.microsoft.com&client_id={USER_ASSIGNED}"
        )
    );
    drop(_env);

    let _env = Env::with(&[
        ("IDENTITY_ENDPOINT", endpoint.as_str()),
        ("IDENTITY_HEADER", "not-the-header"),
    ]);
    let err = builder(&emu)
        .credential(ManagedIdentityCredential::new())
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    let Error::TokenProvider(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (e.status(), e.error()),
        (Some(401), Some("unauthorized_client"))
    );
    assert!(!err.to_string().contains("not-the-header"), "{err}");
    assert_eq!(emu.stored_count(), 2);
}

#[test]
fn pod_identity_host_replaces_the_metadata_address() {
    let emu = entra();
    let _env = Env::with(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.base_url())]);
    let client = builder(&emu)
        .credential(ManagedIdentityCredential::new())
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    let tokens = emu.token_requests();
    assert!(
        tokens[0]
            .path
            .starts_with("/metadata/identity/oauth2/token?"),
        "{}",
        tokens[0].path
    );
}

#[test]
fn the_default_chain_takes_the_environment_first() {
    let emu = entra();
    let mut vars = app_env(&emu, CLIENT);
    vars.push(("AZURE_CLIENT_SECRET", SECRET));
    vars.push(("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.base_url()));
    let _env = Env::with(&vars);
    let client = builder(&emu)
        .credential(DefaultAzureCredential::new())
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].path.ends_with("/oauth2/v2.0/token"));
}

#[test]
fn the_default_chain_falls_back_to_managed_identity_and_stays_with_it() {
    let emu = entra();
    let _env = Env::with(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.base_url())]);
    let credential = DefaultAzureCredential::new();
    let client = builder(&emu)
        .credential(credential.clone())
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    // Another client with the same credential goes straight to the link
    // that worked.
    let again = builder(&emu).credential(credential).build().unwrap();
    again.create("alice", &insight()).unwrap();
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 2);
    assert!(tokens
        .iter()
        .all(|r| r.path.starts_with("/metadata/identity/")));
    assert_eq!(emu.stored_count(), 2);
}

#[test]
fn when_no_link_works_the_error_says_why_for_each() {
    // Nothing answers at the metadata address.
    let emu = entra();
    let _env = Env::with(&[]);
    let client = builder(&emu)
        .credential(DefaultAzureCredential::new())
        .build()
        .unwrap();
    let err = client.create("alice", &insight()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "DefaultAzureCredential could not get a token: no credential in the chain works: \
             EnvironmentCredential: AZURE_TENANT_ID, AZURE_CLIENT_ID and one of"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "; WorkloadIdentityCredential: AZURE_TENANT_ID, AZURE_CLIENT_ID and \
             AZURE_FEDERATED_TOKEN_FILE are not set; ManagedIdentityCredential: the token \
             request to http://127.0.0.1:"
        ),
        "{text}"
    );
    assert!(
        text.contains("connection failed") || text.contains("refused"),
        "{text}"
    );
    assert!(!err.request_may_have_been_processed());
    drop(_env);

    // A metadata service that has no identity for this host.
    let bare = Emulator::start(EmulatorConfig {
        entra_apps: apps(),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let _env = Env::with(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", bare.base_url())]);
    let err = builder(&bare)
        .credential(DefaultAzureCredential::new())
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("ManagedIdentityCredential: no managed identity is assigned: the token endpoint answered HTTP 400 invalid_request: Identity not found"),
        "{err}"
    );
    assert_eq!(bare.stored_count(), 0);
    assert!(graph_requests(&bare).is_empty());
}

#[test]
fn a_configured_link_that_is_refused_ends_the_chain() {
    let emu = entra();
    let mut vars = app_env(&emu, CLIENT);
    vars.push(("AZURE_CLIENT_SECRET", "not-the-secret"));
    vars.push(("AZURE_POD_IDENTITY_AUTHORITY_HOST", emu.base_url()));
    let _env = Env::with(&vars);
    let err = builder(&emu)
        .credential(DefaultAzureCredential::new())
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    let Error::TokenProvider(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.aadsts_code(), Some("AADSTS7000215"));
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 1, "the managed identity was not tried");
    assert!(graph_requests(&emu).is_empty());
}
