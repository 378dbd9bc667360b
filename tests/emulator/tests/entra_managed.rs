//! Managed identity: the App Service / Functions endpoint (`/msi/token`,
//! `X-IDENTITY-HEADER`) and the VM metadata endpoint
//! (`/metadata/identity/oauth2/token`, `Metadata: true`).

mod common;

use std::time::Duration;

use common::entra::{bearer, create_with, unix_now};
use common::{agent, send, Reply};
use graph_emulator::{Emulator, EmulatorConfig, Fault, ManagedIdentity, SYSTEM_ASSIGNED_CLIENT_ID};

const HEADER: &str = "test-only-identity-header";
const USER_ASSIGNED: &str = "77777777-0000-4000-8000-000000000001";
const GRAPH: &str = "https://graph.microsoft.com";

fn start() -> Emulator {
    Emulator::start(EmulatorConfig {
        managed_identity: Some(ManagedIdentity {
            identity_header: HEADER.into(),
            client_ids: vec![USER_ASSIGNED.into()],
        }),
        ..EmulatorConfig::default()
    })
    .expect("emulator starts")
}

fn app_service(emu: &Emulator, query: &str, headers: &[(&str, &str)]) -> Reply {
    send(
        &agent(),
        "GET",
        &format!("{}/msi/token?{query}", emu.base_url()),
        headers,
        None,
    )
}

fn imds(emu: &Emulator, query: &str, headers: &[(&str, &str)]) -> Reply {
    send(
        &agent(),
        "GET",
        &format!("{}/metadata/identity/oauth2/token?{query}", emu.base_url()),
        headers,
        None,
    )
}

const APP_SERVICE_QUERY: &str = "api-version=2019-08-01&resource=https://graph.microsoft.com";
const IMDS_QUERY: &str = "api-version=2018-02-01&resource=https%3A%2F%2Fgraph.microsoft.com";

/// Asserts `{"error", "error_description"}` with this status; returns the description.
fn assert_mi_error(reply: &Reply, status: u16, error: &str) -> String {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let v = reply.json();
    assert_eq!(v["error"], error, "{v}");
    v["error_description"].as_str().unwrap().to_owned()
}

fn unix_string(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number in {v}"))
}

#[test]
fn app_service_issues_tokens_for_the_system_and_user_assigned_identities() {
    let emu = start();
    let before = unix_now();
    let reply = app_service(&emu, APP_SERVICE_QUERY, &[("X-IDENTITY-HEADER", HEADER)]);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["resource"], GRAPH);
    assert_eq!(v["client_id"], SYSTEM_ASSIGNED_CLIENT_ID);
    let expires_on = unix_string(&v, "expires_on");
    assert!(
        (before + 3599..=unix_now() + 3599).contains(&expires_on),
        "{expires_on}"
    );
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(create_with(&emu, &bearer(token)).status, 201);

    let query = format!(
        "{APP_SERVICE_QUERY}&client_id={}",
        USER_ASSIGNED.to_uppercase()
    );
    let reply = app_service(&emu, &query, &[("X-IDENTITY-HEADER", HEADER)]);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["client_id"], USER_ASSIGNED);
    assert_eq!(emu.token_requests().len(), 2);
    assert_eq!(emu.requests().len(), 3);
}

#[test]
fn app_service_requires_the_identity_header_and_its_api_version() {
    let emu = start();
    let description = assert_mi_error(
        &app_service(&emu, APP_SERVICE_QUERY, &[]),
        401,
        "unauthorized_client",
    );
    assert!(description.contains("X-IDENTITY-HEADER"));
    assert_mi_error(
        &app_service(&emu, APP_SERVICE_QUERY, &[("X-IDENTITY-HEADER", "wrong")]),
        401,
        "unauthorized_client",
    );
    let with_header = [("X-IDENTITY-HEADER", HEADER)];
    let description = assert_mi_error(
        &app_service(&emu, "resource=https://graph.microsoft.com", &with_header),
        400,
        "invalid_request",
    );
    assert!(description.contains("api-version"));
    let description = assert_mi_error(
        &app_service(
            &emu,
            "api-version=2017-09-01&resource=https://graph.microsoft.com",
            &with_header,
        ),
        400,
        "invalid_request",
    );
    assert!(description.contains("2019-08-01"));
}

#[test]
fn imds_issues_tokens_with_string_numbers() {
    let emu = start();
    let before = unix_now();
    let reply = imds(&emu, IMDS_QUERY, &[("Metadata", "true")]);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["resource"], GRAPH);
    assert_eq!(v["client_id"], SYSTEM_ASSIGNED_CLIENT_ID);
    assert_eq!(v["expires_in"], "3599");
    assert_eq!(v["ext_expires_in"], "3599");
    let not_before = unix_string(&v, "not_before");
    assert!((before..=unix_now()).contains(&not_before));
    assert_eq!(unix_string(&v, "expires_on"), not_before + 3599);
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(create_with(&emu, &bearer(token)).status, 201);

    let query = format!("{IMDS_QUERY}&client_id={USER_ASSIGNED}");
    let reply = imds(&emu, &query, &[("Metadata", "True")]);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["client_id"], USER_ASSIGNED);
}

#[test]
fn imds_requires_the_metadata_header_and_no_proxy() {
    let emu = start();
    for headers in [vec![], vec![("Metadata", "false")]] {
        let description =
            assert_mi_error(&imds(&emu, IMDS_QUERY, &headers), 400, "invalid_request");
        assert_eq!(description, "Required metadata header not specified");
    }
    let description = assert_mi_error(
        &imds(
            &emu,
            IMDS_QUERY,
            &[("Metadata", "true"), ("X-Forwarded-For", "10.0.0.1")],
        ),
        400,
        "invalid_request",
    );
    assert!(description.contains("X-Forwarded-For"));
    let description = assert_mi_error(
        &imds(
            &emu,
            "resource=https://graph.microsoft.com",
            &[("Metadata", "true")],
        ),
        400,
        "invalid_request",
    );
    assert!(description.contains("api-version"));
}

#[test]
fn resource_and_identity_errors_are_the_same_for_both_styles() {
    let emu = start();
    type Call = fn(&Emulator, &str, &[(&str, &str)]) -> Reply;
    let styles: [(Call, &str, (&str, &str)); 2] = [
        (
            app_service,
            "api-version=2019-08-01",
            ("X-IDENTITY-HEADER", HEADER),
        ),
        (imds, "api-version=2018-02-01", ("Metadata", "true")),
    ];
    for (call, version, header) in styles {
        let description = assert_mi_error(&call(&emu, version, &[header]), 400, "invalid_request");
        assert_eq!(description, "Required audience parameter not specified");
        for resource in ["https://graph.microsoft.com/.default", "graph"] {
            let query = format!("{version}&resource={resource}");
            let description =
                assert_mi_error(&call(&emu, &query, &[header]), 400, "invalid_resource");
            assert!(
                description.starts_with(&format!(
                    "AADSTS500011: The resource principal named {resource} was not found"
                )),
                "{description}"
            );
        }
        let graph = format!("{version}&resource={GRAPH}");
        for selector in [
            "client_id=99999999-0000-4000-8000-000000000009",
            "object_id=x",
            "mi_res_id=/subscriptions/x",
        ] {
            let query = format!("{graph}&{selector}");
            let description =
                assert_mi_error(&call(&emu, &query, &[header]), 400, "invalid_request");
            assert_eq!(description, "Identity not found", "{selector}");
        }
        let reply = send(
            &agent(),
            "POST",
            &format!(
                "{}{}?{graph}",
                emu.base_url(),
                if version.ends_with("2019-08-01") {
                    "/msi/token"
                } else {
                    "/metadata/identity/oauth2/token"
                }
            ),
            &[header],
            Some(""),
        );
        assert_mi_error(&reply, 405, "invalid_request");
        assert_eq!(reply.header("allow"), Some("GET"));
    }
}

#[test]
fn without_managed_identity_there_is_no_identity() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let description = assert_mi_error(
        &imds(&emu, IMDS_QUERY, &[("Metadata", "true")]),
        400,
        "invalid_request",
    );
    assert_eq!(description, "Identity not found");
    assert_mi_error(
        &app_service(&emu, APP_SERVICE_QUERY, &[("X-IDENTITY-HEADER", HEADER)]),
        400,
        "invalid_request",
    );
}

#[test]
fn lifetime_audience_and_expiry_apply_to_managed_identity_tokens() {
    let emu = start();
    emu.set_token_lifetime(Duration::from_secs(1));
    let v = imds(&emu, IMDS_QUERY, &[("Metadata", "true")]).json();
    assert_eq!(v["expires_in"], "1");
    let token = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(create_with(&emu, &bearer(&token)).status, 201);
    std::thread::sleep(Duration::from_millis(1100));
    let message =
        create_with(&emu, &bearer(&token)).assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(message, "Access token has expired or is not yet valid.");

    emu.set_token_lifetime(Duration::from_secs(60));
    let query = "api-version=2019-08-01&resource=https://vault.azure.net";
    let v = app_service(&emu, query, &[("X-IDENTITY-HEADER", HEADER)]).json();
    let token = v["access_token"].as_str().unwrap();
    let message =
        create_with(&emu, &bearer(token)).assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(
        message,
        "Access token validation failure. Invalid audience."
    );
}

#[test]
fn faults_apply_to_managed_identity_requests() {
    let emu = start();
    emu.push_faults([
        Fault {
            path_contains: Some("/metadata/identity/".into()),
            status: Some(503),
            retry_after: Some("2".into()),
            ..Fault::default()
        },
        Fault {
            path_contains: Some("/msi/token".into()),
            status: Some(429),
            message: Some("slow down".into()),
            ..Fault::default()
        },
    ]);
    let reply = imds(&emu, IMDS_QUERY, &[("Metadata", "true")]);
    let description = assert_mi_error(&reply, 503, "temporarily_unavailable");
    assert!(description.contains("Injected fault"));
    assert_eq!(reply.header("retry-after"), Some("2"));
    let reply = app_service(&emu, APP_SERVICE_QUERY, &[("X-IDENTITY-HEADER", HEADER)]);
    assert_eq!(
        assert_mi_error(&reply, 429, "temporarily_unavailable"),
        "slow down"
    );
    assert_eq!(imds(&emu, IMDS_QUERY, &[("Metadata", "true")]).status, 200);
    assert_eq!(emu.token_requests().len(), 3);
}
