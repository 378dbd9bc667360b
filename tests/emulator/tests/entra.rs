//! The emulated Entra ID token endpoint: client secret and federated
//! assertion apps, Entra-shaped errors, token lifetime, faults, the control
//! endpoints and what Graph routes make of the tokens.

mod common;

use std::time::Duration;

use common::entra::*;
use common::{agent, send};
use graph_emulator::{Emulator, EmulatorConfig, EntraApp, Fault};
use serde_json::{json, Value};

#[test]
fn client_secret_gets_a_bearer_token_graph_accepts() {
    let emu = start_with(vec![secret_app()]);
    let reply = secret_request(&emu, SECRET);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store, no-cache"));
    let v = reply.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    assert_eq!(v["ext_expires_in"], 3599);
    assert!(v.get("refresh_in").is_none(), "{v}");
    let token = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token.split('.').count(), 3, "JWT-shaped: {token}");

    // A second request gets a different token.
    let other = secret_request(&emu, SECRET).json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(token, other);

    let created = create_with(&emu, &bearer(&token));
    assert_eq!(created.status, 201, "{}", created.text());

    // Token requests are recorded like Graph requests, and told apart.
    let requests = emu.requests();
    assert_eq!(requests.len(), 3);
    let token_requests = emu.token_requests();
    assert_eq!(token_requests.len(), 2);
    assert_eq!(token_requests[0].method, "POST");
    assert_eq!(
        token_requests[0].path,
        format!("/{TENANT}/oauth2/v2.0/token")
    );
    assert!(token_requests[0]
        .body
        .contains(&format!("client_id={}", encode(CLIENT))));
}

#[test]
fn tenant_and_client_id_compare_case_insensitively() {
    let emu = start_with(vec![secret_app()]);
    let reply = token_request(
        &emu,
        &TENANT.to_uppercase(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &CLIENT.to_uppercase()),
            ("client_secret", SECRET),
            ("scope", GRAPH_SCOPE),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[test]
fn wrong_secret_is_invalid_client_7000215() {
    let emu = start_with(vec![secret_app()]);
    let reply = secret_request(&emu, "not-the-secret");
    let description = assert_entra_error(&reply, 401, "invalid_client", 7000215);
    assert!(description.contains("Invalid client secret provided"));
    assert!(description.contains(&format!("app '{CLIENT}'")));
    assert!(!reply.text().contains("not-the-secret"));
}

#[test]
fn correlation_id_echoes_the_client_request_id() {
    let emu = start_with(vec![secret_app()]);
    let reply = send(
        &agent(),
        "POST",
        &token_url(&emu, TENANT),
        &[FORM, ("client-request-id", "1234-corr")],
        Some(&form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", "wrong"),
            ("scope", GRAPH_SCOPE),
        ])),
    );
    assert_entra_error(&reply, 401, "invalid_client", 7000215);
    assert_eq!(reply.json()["correlation_id"], "1234-corr");
}

#[test]
fn unknown_app_is_unauthorized_client_700016() {
    let emu = start_with(vec![secret_app()]);
    let reply = token_request(
        &emu,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "dddddddd-0000-4000-8000-000000000009"),
            ("client_secret", SECRET),
            ("scope", GRAPH_SCOPE),
        ],
    );
    let description = assert_entra_error(&reply, 400, "unauthorized_client", 700016);
    assert!(description.contains("Application with identifier 'dddddddd-0000-4000-8000-000000000009' was not found in the directory"));
}

#[test]
fn unknown_tenant_is_invalid_request_90002() {
    let emu = start_with(vec![secret_app()]);
    let reply = token_request(
        &emu,
        "other-tenant",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", GRAPH_SCOPE),
        ],
    );
    let description = assert_entra_error(&reply, 400, "invalid_request", 90002);
    assert!(description.contains("Tenant 'other-tenant' not found"));
}

#[test]
fn bad_scopes_are_invalid_scope_70011() {
    let emu = start_with(vec![secret_app()]);
    for scope in [
        "User.Read",
        "https://graph.microsoft.com/User.Read",
        "https://graph.microsoft.com/.default openid",
        "/.default",
    ] {
        let reply = token_request(
            &emu,
            TENANT,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
                ("scope", scope),
            ],
        );
        let description = assert_entra_error(&reply, 400, "invalid_scope", 70011);
        assert!(
            description.contains(&format!("The scope {scope} is not valid")),
            "{description}"
        );
    }
}

#[test]
fn unsupported_grant_is_70003_and_missing_parameters_900144() {
    let emu = start_with(vec![secret_app()]);
    let reply = token_request(
        &emu,
        TENANT,
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", GRAPH_SCOPE),
        ],
    );
    let description = assert_entra_error(&reply, 400, "unsupported_grant_type", 70003);
    assert!(description.contains("'password'"));

    let full = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("scope", GRAPH_SCOPE),
    ];
    for missing in ["grant_type", "client_id", "scope"] {
        let pairs: Vec<(&str, &str)> = full
            .iter()
            .copied()
            .filter(|(n, _)| *n != missing)
            .chain([("client_secret", SECRET)])
            .collect();
        let reply = token_request(&emu, TENANT, &pairs);
        let description = assert_entra_error(&reply, 400, "invalid_request", 900144);
        assert!(
            description.contains(&format!("following parameter: '{missing}'")),
            "{description}"
        );
    }

    // No credential at all.
    let reply = token_request(&emu, TENANT, &full);
    assert_entra_error(&reply, 401, "invalid_client", 7000216);

    // Both a secret and an assertion.
    let mut both = full.to_vec();
    both.extend([
        ("client_secret", SECRET),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", "a.b.c"),
    ]);
    let reply = token_request(&emu, TENANT, &both);
    assert_entra_error(&reply, 400, "invalid_request", 9002313);

    // A JSON body is not a form: grant_type is missing.
    let reply = send(
        &agent(),
        "POST",
        &token_url(&emu, TENANT),
        &[common::JSON],
        Some(r#"{"grant_type":"client_credentials"}"#),
    );
    assert_entra_error(&reply, 400, "invalid_request", 900144);

    // GET is refused.
    let reply = send(&agent(), "GET", &token_url(&emu, TENANT), &[], None);
    let description = assert_entra_error(&reply, 400, "invalid_request", 900561);
    assert!(description.contains("Received a GET request"));
}

#[test]
fn federated_assertion_must_match_the_registered_one() {
    let federated = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2s4cyIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpkZWZhdWx0Ondvcmtsb2FkIiwiYXVkIjoiYXBpOi8vQXp1cmVBRFRva2VuRXhjaGFuZ2UifQ.c2ln";
    let emu = start_with(vec![EntraApp {
        tenant: TENANT.into(),
        client_id: CLIENT.into(),
        federated_assertion: Some(federated.into()),
        ..EntraApp::default()
    }]);
    let request = |assertion: &str, assertion_type: &str| {
        token_request(
            &emu,
            TENANT,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_assertion_type", assertion_type),
                ("client_assertion", assertion),
                ("scope", GRAPH_SCOPE),
            ],
        )
    };
    const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let ok = request(federated, JWT_BEARER);
    assert_eq!(ok.status, 200, "{}", ok.text());
    // The same assertion can be presented again (it is a file re-read by
    // the workload, not a one-time assertion).
    assert_eq!(request(federated, JWT_BEARER).status, 200);

    // Another JWT: no matching federated identity record, naming its claims.
    let other = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL290aGVyIiwic3ViIjoic29tZW9uZSIsImF1ZCI6ImFwaTovL0F6dXJlQURUb2tlbkV4Y2hhbmdlIn0.c2ln";
    let reply = request(other, JWT_BEARER);
    let description = assert_entra_error(&reply, 400, "invalid_request", 70021);
    assert!(description.contains("No matching federated identity record found"));
    assert!(description.contains("Assertion Issuer: 'https://other'"));
    assert!(description.contains("Assertion Subject: 'someone'"));

    let reply = request(federated, "urn:other");
    assert_entra_error(&reply, 400, "invalid_request", 9002313);
    let reply = token_request(
        &emu,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_assertion", federated),
            ("scope", GRAPH_SCOPE),
        ],
    );
    let description = assert_entra_error(&reply, 400, "invalid_request", 900144);
    assert!(description.contains("'client_assertion_type'"));

    // A secret on an app without one.
    let reply = secret_request(&emu, "anything");
    assert_entra_error(&reply, 401, "invalid_client", 7000215);
}

#[test]
fn token_lifetime_is_configurable_and_refresh_in_comes_with_long_ones() {
    let emu = Emulator::start(EmulatorConfig {
        entra_apps: vec![secret_app()],
        token_lifetime: Duration::from_secs(7200),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let v = secret_request(&emu, SECRET).json();
    assert_eq!(v["expires_in"], 7200);
    assert_eq!(v["ext_expires_in"], 7200);
    assert_eq!(v["refresh_in"], 3600);

    emu.set_token_lifetime(Duration::from_secs(5));
    let v = secret_request(&emu, SECRET).json();
    assert_eq!(v["expires_in"], 5);
    assert!(v.get("refresh_in").is_none());

    // Through the control endpoint.
    let config_url = format!("{}/_emulator/entra/config", emu.base_url());
    let reply = send(
        &agent(),
        "POST",
        &config_url,
        &[common::JSON],
        Some(r#"{"token_lifetime_secs": 2}"#),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["token_lifetime_secs"], 2);
    assert_eq!(secret_request(&emu, SECRET).json()["expires_in"], 2);
    let reply = send(
        &agent(),
        "POST",
        &config_url,
        &[common::JSON],
        Some(r#"{"token_lifetime": 2}"#),
    );
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("token_lifetime"), "{}", reply.text());

    // reset() returns to the configured lifetime.
    emu.reset();
    assert_eq!(secret_request(&emu, SECRET).json()["expires_in"], 7200);
    let reply = send(&agent(), "GET", &config_url, &[], None);
    assert_eq!(reply.json()["token_lifetime_secs"], 7200);
}

#[test]
fn graph_refuses_an_expired_issued_token_without_a_round_trip_to_entra() {
    let emu = Emulator::start(EmulatorConfig {
        entra_apps: vec![secret_app()],
        token_lifetime: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let token = secret_request(&emu, SECRET).json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(create_with(&emu, &bearer(&token)).status, 201);
    std::thread::sleep(Duration::from_millis(1100));
    let reply = create_with(&emu, &bearer(&token));
    let message = reply.assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(message, "Access token has expired or is not yet valid.");
    // Any other (non-issued) token is still accepted without
    // require_issued_tokens and without a configured token.
    assert_eq!(create_with(&emu, "Bearer whatever").status, 201);
}

#[test]
fn a_token_for_another_resource_is_an_invalid_audience_for_graph() {
    let emu = start_with(vec![secret_app()]);
    let reply = token_request(
        &emu,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", "https://management.azure.com/.default"),
        ],
    );
    assert_eq!(reply.status, 200);
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    let message =
        create_with(&emu, &bearer(&token)).assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(
        message,
        "Access token validation failure. Invalid audience."
    );

    // The emulator's own base URL counts as Graph.
    let scope = format!("{}/.default", emu.base_url());
    let reply = token_request(
        &emu,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", &scope),
        ],
    );
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(create_with(&emu, &bearer(&token)).status, 201);
}

#[test]
fn with_a_configured_token_issued_tokens_are_accepted_too() {
    let emu = Emulator::start(EmulatorConfig {
        token: Some("static".into()),
        entra_apps: vec![secret_app()],
        ..EmulatorConfig::default()
    })
    .unwrap();
    let token = secret_request(&emu, SECRET).json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(create_with(&emu, &bearer(&token)).status, 201);
    assert_eq!(create_with(&emu, "Bearer static").status, 201);
    create_with(&emu, "Bearer other").assert_graph_error(401, "InvalidAuthenticationToken");
}

#[test]
fn faults_apply_to_token_requests_with_entra_shaped_errors() {
    let emu = start_with(vec![secret_app()]);
    emu.push_faults([
        Fault {
            path_contains: Some("/oauth2/v2.0/token".into()),
            status: Some(429),
            retry_after: Some("1".into()),
            ..Fault::default()
        },
        Fault {
            path_contains: Some("/oauth2/v2.0/token".into()),
            status: Some(503),
            ..Fault::default()
        },
    ]);
    let reply = secret_request(&emu, SECRET);
    let description = assert_entra_error(&reply, 429, "temporarily_unavailable", 90033);
    assert!(description.contains("Injected fault"));
    assert_eq!(reply.header("retry-after"), Some("1"));
    let reply = secret_request(&emu, SECRET);
    assert_entra_error(&reply, 503, "temporarily_unavailable", 90033);
    assert_eq!(secret_request(&emu, SECRET).status, 200);
    assert_eq!(emu.token_requests().len(), 3);

    // A Graph-path fault does not catch token requests, and the other way round.
    emu.push_faults([Fault {
        path_contains: Some("/insights/used".into()),
        status: Some(500),
        ..Fault::default()
    }]);
    assert_eq!(secret_request(&emu, SECRET).status, 200);
    assert_eq!(emu.pending_faults().len(), 1);

    // A dropped connection on the token endpoint.
    emu.reset();
    emu.push_faults([Fault {
        path_contains: Some("/oauth2/".into()),
        drop_connection: true,
        ..Fault::default()
    }]);
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
        ("scope", GRAPH_SCOPE),
    ]);
    let raw = common::raw_exchange(
        emu.port(),
        &common::raw_request(
            "POST",
            &format!("/{TENANT}/oauth2/v2.0/token"),
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Connection", "close"),
            ],
            &body,
        ),
    );
    assert!(raw.is_empty(), "{}", String::from_utf8_lossy(&raw));
    assert_eq!(emu.token_requests().len(), 1);

    // code and message override the OAuth error and the description.
    emu.push_faults([Fault {
        path_contains: Some("/oauth2/".into()),
        status: Some(400),
        code: Some("invalid_grant".into()),
        message: Some("custom".into()),
        ..Fault::default()
    }]);
    let reply = secret_request(&emu, SECRET);
    let description = assert_entra_error(&reply, 400, "invalid_grant", 9002313);
    assert!(description.starts_with("AADSTS9002313: custom\r\n"));
}

#[test]
fn apps_are_registered_through_the_library_and_the_control_endpoint() {
    let emu = start_with(Vec::new());
    // No app: no tenant.
    assert_entra_error(&secret_request(&emu, SECRET), 400, "invalid_request", 90002);
    emu.register_app(secret_app());
    assert_eq!(secret_request(&emu, SECRET).status, 200);
    // Registering again replaces.
    emu.register_app(EntraApp {
        secret: Some("rotated".into()),
        ..secret_app()
    });
    assert_eq!(secret_request(&emu, SECRET).status, 401);
    assert_eq!(secret_request(&emu, "rotated").status, 200);
    // reset() forgets apps registered at run time.
    emu.reset();
    assert_eq!(secret_request(&emu, "rotated").status, 400);

    let apps_url = format!("{}/_emulator/entra/apps", emu.base_url());
    let reply = send(
        &agent(),
        "POST",
        &apps_url,
        &[common::JSON],
        Some(&json!({"tenant": TENANT, "client_id": CLIENT, "secret": SECRET}).to_string()),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["registered"], 1);
    assert_eq!(secret_request(&emu, SECRET).status, 200);
    let listed = send(&agent(), "GET", &apps_url, &[], None).json();
    assert_eq!(listed["apps"][0]["client_id"], CLIENT);
    // Control requests are not recorded.
    assert_eq!(emu.requests().len(), emu.token_requests().len());

    for (body, needle) in [
        (
            json!({"tenant": TENANT, "client_id": CLIENT}),
            "no credential",
        ),
        (
            json!({"tenant": "", "client_id": CLIENT, "secret": "s"}),
            "tenant",
        ),
        (
            json!({"tenant": TENANT, "client_id": CLIENT, "secret": "s", "colour": 1}),
            "colour",
        ),
        (
            json!({"tenant": TENANT, "client_id": CLIENT, "certificate_pem": "x"}),
            "certificate_pem",
        ),
        (json!([{"tenant": TENANT}]), "app [0]"),
        (json!("x"), "expected an app object"),
    ] {
        let reply = send(
            &agent(),
            "POST",
            &apps_url,
            &[common::JSON],
            Some(&body.to_string()),
        );
        assert_eq!(reply.status, 400, "{body}");
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(needle), "{error} should mention {needle}");
    }
    let reply = send(&agent(), "DELETE", &apps_url, &[], None);
    assert_eq!(reply.status, 405);
}

#[test]
#[should_panic(expected = "invalid Entra app")]
fn register_app_panics_on_an_invalid_app() {
    let emu = start_with(Vec::new());
    emu.register_app(EntraApp {
        tenant: TENANT.into(),
        client_id: CLIENT.into(),
        ..EntraApp::default()
    });
}

#[test]
fn start_refuses_an_invalid_app() {
    let err = Emulator::start(EmulatorConfig {
        entra_apps: vec![EntraApp {
            secret: None,
            ..secret_app()
        }],
        ..EmulatorConfig::default()
    })
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("no credential"), "{err}");
}

#[test]
fn entra_errors_are_json_values_clients_can_parse() {
    // The whole body, as a client's JSON parser sees it.
    let emu = start_with(vec![secret_app()]);
    let v: Value = secret_request(&emu, "wrong").json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    ] {
        assert!(keys.contains(&key), "{key} missing from {v}");
    }
}
