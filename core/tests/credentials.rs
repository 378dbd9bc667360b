//! Each credential end to end against the emulator playing Entra ID: the
//! token request on the wire, the token Graph then accepts (the emulator
//! requires tokens it issued), caching and renewal, and Entra's refusals as
//! token-provider errors with nothing sent to Graph. Credentials that read
//! the environment are in `credentials_env.rs`, a binary of their own.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use common::entra::*;
use common::{fault, header, insight};
use serde_json::json;
use used_insight::credentials::{
    AccessToken, CertificateCredential, ClientSecretCredential, ManagedIdentityCredential,
    TokenCredential, WorkloadIdentityCredential,
};
use used_insight::{Client, Cloud, CredentialKind, Error, TokenProviderError};

fn secret_credential(emu: &graph_emulator::Emulator) -> ClientSecretCredential {
    ClientSecretCredential::new(TENANT, CLIENT, SECRET)
        .unwrap()
        .authority(emu.base_url())
        .unwrap()
}

fn token_provider_error(err: &Error) -> &TokenProviderError {
    match err {
        Error::TokenProvider(e) => e,
        other => panic!("expected a token provider error, got {other:?}"),
    }
}

/// The bearer tokens Graph received, in order.
fn bearers(emu: &graph_emulator::Emulator) -> Vec<String> {
    graph_requests(emu)
        .iter()
        .map(|r| header(r, "authorization").unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn client_secret_three_creates_one_token_request() {
    let emu = entra();
    let client = builder(&emu)
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    for _ in 0..3 {
        client.create("alice@contoso.com", &insight()).unwrap();
    }
    assert_eq!(emu.stored_count(), 3);
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 1, "one token for three creates");
    let request = &tokens[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(
        header(request, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = |name| form_value(&request.body, name);
    assert_eq!(form("grant_type").as_deref(), Some("client_credentials"));
    assert_eq!(form("client_id").as_deref(), Some(CLIENT));
    assert_eq!(form("client_secret").as_deref(), Some(SECRET));
    assert_eq!(
        form("scope").as_deref(),
        Some("https://graph.microsoft.com/.default")
    );
    assert!(header(request, "client-request-id").is_some());
    // Graph saw the issued token three times (it accepts only issued ones).
    let seen = bearers(&emu);
    assert_eq!(seen.len(), 3);
    assert!(seen
        .iter()
        .all(|b| b == &seen[0] && b.starts_with("Bearer ey")));
    // Neither the secret nor the token shows in Debug.
    let shown = format!("{client:?}");
    assert!(
        !shown.contains(SECRET) && !shown.contains(&seen[0][7..]),
        "{shown}"
    );
    assert!(shown.contains("ClientSecret"), "{shown}");
}

#[test]
fn certificate_from_file_and_from_pem_sign_assertions_entra_verifies() {
    let emu = entra();
    let from_file = CertificateCredential::from_file(
        TENANT,
        CERT_CLIENT,
        certs_dir().join("entra-test-app.pem"),
    )
    .unwrap()
    .authority(emu.base_url())
    .unwrap();
    let from_pkcs1 = CertificateCredential::from_pem(TENANT, CERT_CLIENT, APP_PKCS1_PEM)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    for credential in [from_file, from_pkcs1] {
        let client = builder(&emu).credential(credential).build().unwrap();
        client.create("alice", &insight()).unwrap();
        client.create("alice", &insight()).unwrap();
    }
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 2, "one token per client");
    let mut ids = Vec::new();
    for request in &tokens {
        let form = |name| form_value(&request.body, name);
        assert_eq!(form("client_secret"), None);
        assert_eq!(
            form("client_assertion_type").as_deref(),
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        );
        let assertion = form("client_assertion").unwrap();
        assert_eq!(assertion.split('.').count(), 3);
        ids.push(assertion);
    }
    assert_ne!(ids[0], ids[1], "every token request signs a new assertion");
    assert_eq!(emu.stored_count(), 4);
}

#[test]
fn credential_kinds_are_reported() {
    let emu = entra();
    let kinds = [
        (
            builder(&emu).credential(secret_credential(&emu)),
            "client_secret",
        ),
        (
            builder(&emu).credential(CertificateCredential::from_pem("t", "c", APP_PEM).unwrap()),
            "certificate",
        ),
        (
            builder(&emu).credential(
                ManagedIdentityCredential::new()
                    .imds_endpoint(emu.base_url())
                    .unwrap(),
            ),
            "managed_identity",
        ),
        (
            builder(&emu).credential(WorkloadIdentityCredential::new("t", "c", "/x").unwrap()),
            "workload_identity",
        ),
        (
            builder(&emu).credential(Counting::new(Duration::ZERO)),
            "custom",
        ),
    ];
    for (b, expected) in kinds {
        assert_eq!(b.credential_kind().unwrap().as_str(), expected);
    }
    assert_eq!(
        builder(&emu)
            .credential(Counting::new(Duration::ZERO))
            .credential_kind(),
        Some(CredentialKind::Custom)
    );
}

#[test]
fn workload_identity_reads_the_token_file_for_every_token_request() {
    let emu = entra();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(&file, format!("{FEDERATED}\n")).unwrap();
    let credential = WorkloadIdentityCredential::new(TENANT, FEDERATED_CLIENT, &file)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    let client = builder(&emu)
        .credential(credential.clone())
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    let first = &emu.token_requests()[0];
    assert_eq!(
        form_value(&first.body, "client_assertion").as_deref(),
        Some(FEDERATED),
        "the file's token, without its newline"
    );
    // The platform renews the token: the app now trusts the new one only,
    // and the next token request (a new client, so a new cache) sends it.
    let renewed = "eyJhbGciOiJSUzI1NiJ9.renewed-federated-token.sig";
    std::fs::write(&file, renewed).unwrap();
    emu.register_app(graph_emulator::EntraApp {
        tenant: TENANT.into(),
        client_id: FEDERATED_CLIENT.into(),
        federated_assertion: Some(renewed.into()),
        ..Default::default()
    });
    let again = builder(&emu).credential(credential).build().unwrap();
    again.create("alice", &insight()).unwrap();
    let second = &emu.token_requests()[1];
    assert_eq!(
        form_value(&second.body, "client_assertion").as_deref(),
        Some(renewed)
    );
    // A token file that disappears is refused when a client is built.
    let gone =
        WorkloadIdentityCredential::new(TENANT, FEDERATED_CLIENT, dir.path().join("gone")).unwrap();
    let err = builder(&emu).credential(gone).build().unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("cannot read the federated token file"),
        "{err}"
    );
}

#[test]
fn managed_identity_from_the_metadata_endpoint_system_and_user_assigned() {
    let emu = entra();
    let system = ManagedIdentityCredential::new()
        .imds_endpoint(emu.base_url())
        .unwrap();
    builder(&emu)
        .credential(system)
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap();
    let user = ManagedIdentityCredential::new()
        .client_id(USER_ASSIGNED)
        .imds_endpoint(emu.base_url())
        .unwrap();
    builder(&emu)
        .credential(user)
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap();
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 2);
    for request in &tokens {
        assert_eq!(request.method, "GET");
        assert_eq!(header(request, "metadata"), Some("true"));
        assert!(
            request.path.starts_with(
                "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fgraph.microsoft.com"
            ),
            "the resource, without /.default: {}",
            request.path
        );
    }
    assert!(!tokens[0].path.contains("client_id"));
    assert!(tokens[1]
        .path
        .ends_with(&format!("&client_id={USER_ASSIGNED}")));
    assert_eq!(emu.stored_count(), 2);
    // An identity the host does not have: the metadata service's refusal.
    let unknown = ManagedIdentityCredential::new()
        .client_id("99999999-0000-0000-0000-000000000009")
        .imds_endpoint(emu.base_url())
        .unwrap();
    let err = builder(&emu)
        .credential(unknown)
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    let e = token_provider_error(&err);
    assert_eq!(e.credential(), Some("ManagedIdentityCredential"));
    assert_eq!(
        (e.status(), e.error()),
        (Some(400), Some("invalid_request"))
    );
    assert!(err.to_string().contains("Identity not found"), "{err}");
    assert_eq!(emu.stored_count(), 2);
}

#[test]
fn a_short_lived_token_is_renewed_before_graph_would_refuse_it() {
    let emu = entra();
    emu.set_token_lifetime(Duration::from_secs(4));
    let client = builder(&emu)
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    // Renewed when fewer than min(5 min, half of 4 s) = 2 s remain.
    client.create("alice", &insight()).unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    client.create("alice", &insight()).unwrap();
    assert_eq!(emu.token_requests().len(), 1, "still fresh after 1 s");
    std::thread::sleep(Duration::from_millis(1500));
    client.create("alice", &insight()).unwrap();
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 2, "renewed after 2.5 s");
    assert!(
        tokens[1].elapsed_ms - tokens[0].elapsed_ms < 4000.0,
        "renewed before the first token expired"
    );
    let seen = bearers(&emu);
    assert_eq!(
        seen.len(),
        3,
        "no 401 round trip: three creates, three requests"
    );
    assert_eq!(seen[0], seen[1]);
    assert_ne!(seen[1], seen[2]);
    assert_eq!(emu.stored_count(), 3);
}

#[test]
fn eight_threads_on_a_fresh_client_make_one_token_request() {
    let emu = entra();
    // A slow token endpoint, so that all eight need the token at once.
    emu.push_faults([fault(
        json!({"path_contains": "/oauth2/v2.0/token", "delay_ms": 300}),
    )]);
    let client = builder(&emu)
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (client, start) = (client.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                client.create(&format!("user{i}"), &insight())
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(emu.token_requests().len(), 1);
    assert_eq!(emu.stored_count(), 8);
}

#[test]
fn a_wrong_secret_is_entra_s_refusal_with_its_code_and_nothing_reaches_graph() {
    let emu = entra();
    let wrong = ClientSecretCredential::new(TENANT, CLIENT, "not-the-secret")
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    let client = builder(&emu).credential(wrong).build().unwrap();
    let err = client.create("alice", &insight()).unwrap_err();
    let e = token_provider_error(&err);
    assert_eq!(e.credential(), Some("ClientSecretCredential"));
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.error(), Some("invalid_client"));
    assert_eq!(e.aadsts_code(), Some("AADSTS7000215"));
    assert!(e
        .error_description()
        .unwrap()
        .starts_with("AADSTS7000215: Invalid client secret"));
    let token_request = &emu.token_requests()[0];
    assert_eq!(
        e.correlation_id(),
        header(token_request, "client-request-id"),
        "Entra echoes the client-request-id as the correlation id"
    );
    assert!(e.trace_id().is_some_and(|t| !t.is_empty()));
    let text = err.to_string();
    assert!(
        text.starts_with("ClientSecretCredential could not get a token: the token endpoint answered HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."),
        "{text}"
    );
    assert!(
        text.contains(&format!("[correlation-id {}", e.correlation_id().unwrap())),
        "{text}"
    );
    assert!(text.ends_with("; nothing was sent to Graph"), "{text}");
    assert!(!text.contains("not-the-secret") && !format!("{err:?}").contains("not-the-secret"));
    assert!(!err.request_may_have_been_processed());
    assert!(graph_requests(&emu).is_empty(), "nothing sent to Graph");
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn an_assertion_signed_by_another_key_is_refused_with_its_code() {
    let emu = entra();
    let other = CertificateCredential::from_pem(TENANT, CERT_CLIENT, OTHER_APP_PEM)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    let err = builder(&emu)
        .credential(other)
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    let e = token_provider_error(&err);
    assert_eq!(e.credential(), Some("CertificateCredential"));
    assert_eq!(e.aadsts_code(), Some("AADSTS700027"));
    assert!(err.to_string().contains("AADSTS700027"), "{err}");
    assert!(!err.request_may_have_been_processed());
    assert!(graph_requests(&emu).is_empty());
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn an_unknown_tenant_or_app_is_named_by_entra() {
    let emu = entra();
    let cases = [
        (
            "bbbbbbbb-0000-4000-8000-000000000009",
            CLIENT,
            "AADSTS90002",
        ),
        (
            TENANT,
            "dddddddd-0000-4000-8000-000000000009",
            "AADSTS700016",
        ),
    ];
    for (tenant, client_id, code) in cases {
        let credential = ClientSecretCredential::new(tenant, client_id, SECRET)
            .unwrap()
            .authority(emu.base_url())
            .unwrap();
        let err = credential
            .get_token(&["https://graph.microsoft.com/.default"])
            .unwrap_err();
        assert_eq!(
            token_provider_error(&err).aadsts_code(),
            Some(code),
            "{err}"
        );
    }
}

#[test]
fn throttling_and_unavailability_of_the_token_endpoint_are_retried() {
    let emu = entra();
    emu.push_faults([
        fault(json!({"path_contains": "/oauth2/v2.0/token", "status": 429, "retry_after": "0.1"})),
        fault(json!({"path_contains": "/oauth2/v2.0/token", "status": 500})),
    ]);
    let client = builder(&emu)
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    let tokens = emu.token_requests();
    assert_eq!(tokens.len(), 3);
    let ids: Vec<_> = tokens
        .iter()
        .map(|r| header(r, "client-request-id"))
        .collect();
    assert!(
        ids.iter().all(|id| id.is_some() && *id == ids[0]),
        "one logical request"
    );
    assert_eq!(header(&tokens[1], "retry-attempt"), Some("1"));
    assert_eq!(header(&tokens[2], "retry-attempt"), Some("2"));
    assert!(
        tokens[1].elapsed_ms - tokens[0].elapsed_ms >= 100.0,
        "Retry-After honoured"
    );

    // Past the policy: Entra's last answer, saying how many attempts.
    let emu = entra();
    emu.push_faults([fault(
        json!({"path_contains": "/oauth2/v2.0/token", "status": 503, "retry_after": "0", "times": 4}),
    )]);
    let client = builder(&emu)
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    let err = client.create("alice", &insight()).unwrap_err();
    let e = token_provider_error(&err);
    assert_eq!(
        (e.status(), e.error()),
        (Some(503), Some("temporarily_unavailable"))
    );
    assert!(err.to_string().contains("after 4 attempts"), "{err}");
    assert_eq!(emu.token_requests().len(), 4);
    assert!(graph_requests(&emu).is_empty());
}

#[test]
fn a_lost_connection_or_a_timeout_while_getting_a_token_is_not_sent_to_graph() {
    let emu = entra();
    emu.push_faults([fault(
        json!({"path_contains": "/oauth2/v2.0/token", "drop_connection": true}),
    )]);
    let client = builder(&emu)
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    let err = client.create("alice", &insight()).unwrap_err();
    let e = token_provider_error(&err);
    assert_eq!(e.status(), None);
    let cause = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<Error>())
        .expect("the transport error is the source");
    assert!(matches!(cause, Error::Transport(_)), "{cause:?}");
    assert!(
        cause.request_may_have_been_processed(),
        "the token request may have"
    );
    assert!(
        !err.request_may_have_been_processed(),
        "but nothing reached Graph"
    );
    assert!(
        err.to_string().contains("/oauth2/v2.0/token failed"),
        "{err}"
    );

    emu.push_faults([fault(
        json!({"path_contains": "/oauth2/v2.0/token", "delay_ms": 1500}),
    )]);
    let impatient = builder(&emu)
        .timeout(Duration::from_millis(500))
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    let err = impatient.create("alice", &insight()).unwrap_err();
    let cause = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<Error>());
    assert!(matches!(cause, Some(Error::Timeout(_))), "{err:?}");
    assert!(!err.request_may_have_been_processed());
    assert!(graph_requests(&emu).is_empty());
}

#[test]
fn token_requests_go_through_the_client_s_proxy_but_managed_identity_never_does() {
    let emu = entra();
    // A proxy nobody listens on: what goes through it fails to connect.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_proxy = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let err = builder(&emu)
        .proxy(&dead_proxy)
        .credential(secret_credential(&emu))
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    assert!(err.to_string().contains("cannot reach the proxy"), "{err}");
    token_provider_error(&err);
    assert!(emu.requests().is_empty(), "nothing reached the emulator");

    let managed = ManagedIdentityCredential::new()
        .imds_endpoint(emu.base_url())
        .unwrap();
    let err = builder(&emu)
        .proxy(&dead_proxy)
        .credential(managed)
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    assert_eq!(
        emu.token_requests().len(),
        1,
        "the metadata endpoint was asked directly"
    );
    assert!(
        matches!(&err, Error::Transport(t) if t.message.contains("cannot reach the proxy")),
        "the create itself went to the proxy: {err}"
    );
}

#[test]
fn the_client_s_cloud_chooses_the_scope_and_the_builder_can_replace_it() {
    let emu = entra();
    let us = builder(&emu)
        .cloud(Cloud::UsGov)
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    us.create("alice", &insight()).unwrap();
    let explicit = builder(&emu)
        .scope(format!("{}/.default", emu.base_url()))
        .credential(secret_credential(&emu))
        .build()
        .unwrap();
    explicit.create("alice", &insight()).unwrap();
    let scopes: Vec<_> = emu
        .token_requests()
        .iter()
        .map(|r| form_value(&r.body, "scope").unwrap())
        .collect();
    assert_eq!(
        scopes,
        [
            "https://graph.microsoft.us/.default".to_owned(),
            format!("{}/.default", emu.base_url())
        ]
    );
    let err = builder(&emu)
        .scope("a b")
        .credential(secret_credential(&emu))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("scope `a b`"), "{err}");
}

#[test]
fn token_requests_trust_the_client_s_roots() {
    let emu = graph_emulator::Emulator::start(graph_emulator::EmulatorConfig {
        tls: Some(Default::default()),
        ..config()
    })
    .unwrap();
    let credential = secret_credential(&emu);
    let client = builder(&emu)
        .add_root_certificates_pem(emu.ca_pem().unwrap())
        .credential(credential.clone())
        .build()
        .unwrap();
    client.create("alice", &insight()).unwrap();
    assert_eq!(emu.token_requests().len(), 1);
    // On its own the credential trusts Mozilla's roots only.
    let err = credential
        .get_token(&["https://graph.microsoft.com/.default"])
        .unwrap_err();
    assert!(err.to_string().contains("does not trust"), "{err}");
    assert_eq!(emu.token_requests().len(), 1, "refused in the handshake");
}

#[test]
fn a_credential_used_on_its_own_caches_per_scope() {
    let emu = entra();
    let credential = secret_credential(&emu);
    let graph = "https://graph.microsoft.com/.default";
    let first = credential.get_token(&[graph]).unwrap();
    let clone = credential.clone();
    let again = clone.get_token(&[graph]).unwrap();
    assert_eq!(first, again, "clones share the cache");
    let lifetime = first.expires_on.duration_since(SystemTime::now()).unwrap();
    assert!(lifetime > Duration::from_secs(3500), "{lifetime:?}");
    assert_eq!(emu.token_requests().len(), 1);
    let other = format!("{}/.default", emu.base_url());
    credential.get_token(&[&other]).unwrap();
    assert_eq!(
        emu.token_requests().len(),
        2,
        "another scope, another token"
    );
    let err = credential.get_token(&[]).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
}

/// A credential of the caller's own that counts its calls.
#[derive(Clone)]
struct Counting {
    calls: Arc<AtomicU32>,
    lifetime: Duration,
}

impl Counting {
    fn new(lifetime: Duration) -> Self {
        Self {
            calls: Arc::default(),
            lifetime,
        }
    }
}

impl TokenCredential for Counting {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
        assert_eq!(scopes, ["https://graph.microsoft.com/.default"]);
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.lifetime.is_zero() {
            return Err(Error::TokenProvider(TokenProviderError::new(format!(
                "vault sealed ({n})"
            ))));
        }
        Ok(AccessToken::new(
            common::TOKEN,
            SystemTime::now() + self.lifetime,
        ))
    }
}

#[test]
fn a_credential_of_the_caller_s_own_gets_the_same_cache() {
    let emu = common::emulator();
    let counting = Counting::new(Duration::from_secs(3600));
    let client = common::builder(&emu)
        .credential(counting.clone())
        .build()
        .unwrap();
    for _ in 0..3 {
        client.create("alice", &insight()).unwrap();
    }
    assert_eq!(counting.calls.load(Ordering::SeqCst), 1);
    // Graph refusing the token drops it: the next call asks again.
    emu.push_faults([fault(json!({"status": 401}))]);
    let err = client.create("alice", &insight()).unwrap_err();
    assert_eq!(err.http_status(), Some(401));
    client.create("alice", &insight()).unwrap();
    assert_eq!(counting.calls.load(Ordering::SeqCst), 2);

    let failing = Counting::new(Duration::ZERO);
    let client = common::builder(&emu).credential(failing).build().unwrap();
    let before = emu.requests().len();
    let err = client.create("alice", &insight()).unwrap_err();
    let e = token_provider_error(&err);
    assert_eq!(e.credential(), None);
    assert_eq!(
        err.to_string(),
        "token provider failed: vault sealed (0); nothing was sent to Graph"
    );
    assert_eq!(emu.requests().len(), before, "nothing sent");
}

#[test]
fn a_token_provider_and_a_fixed_token_still_work_beside_credentials() {
    let emu = common::emulator();
    let fixed = common::client(&emu);
    fixed.create("alice", &insight()).unwrap();
    let provider = common::builder(&emu)
        .token_provider(|| Ok(common::TOKEN.to_owned()))
        .build()
        .unwrap();
    provider.create("alice", &insight()).unwrap();
    assert_eq!(emu.stored_count(), 2);
    let c = Client::builder().build().unwrap_err();
    assert!(
        c.to_string()
            .contains("a token, a token provider or a credential"),
        "{c}"
    );
}
