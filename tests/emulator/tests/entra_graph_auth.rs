//! `require_issued_tokens`: Graph routes (create, GET, `$batch`) accept only
//! unexpired tokens the emulated Entra ID issued for Graph.

mod common;

use std::time::Duration;

use common::entra::*;
use common::{agent, send, Reply};
use graph_emulator::{Emulator, EmulatorConfig, ManagedIdentity};
use serde_json::json;

fn start(token: Option<&str>) -> Emulator {
    Emulator::start(EmulatorConfig {
        token: token.map(str::to_owned),
        entra_apps: vec![secret_app()],
        managed_identity: Some(ManagedIdentity {
            identity_header: "h".into(),
            client_ids: Vec::new(),
        }),
        require_issued_tokens: true,
        ..EmulatorConfig::default()
    })
    .expect("emulator starts")
}

fn issued_token(emu: &Emulator) -> String {
    let reply = secret_request(emu, SECRET);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

fn list(emu: &Emulator, authorization: &str) -> Reply {
    send(
        &agent(),
        "GET",
        &common::used_url(emu, "alice%40contoso.com"),
        &[("Authorization", authorization)],
        None,
    )
}

fn batch(emu: &Emulator, authorization: &str) -> Reply {
    let body = json!({"requests": [{
        "id": "1", "method": "POST", "url": "/users/alice@contoso.com/insights/used",
        "headers": {"Content-Type": "application/json"}, "body": common::insight()
    }]});
    send(
        &agent(),
        "POST",
        &format!("{}/v1.0/$batch", emu.base_url()),
        &[("Authorization", authorization), common::JSON],
        Some(&body.to_string()),
    )
}

#[test]
fn only_issued_tokens_open_graph_routes() {
    let emu = start(None);
    for authorization in ["Bearer made-up", "Bearer a.b.c"] {
        for reply in [
            create_with(&emu, authorization),
            list(&emu, authorization),
            batch(&emu, authorization),
        ] {
            let message = reply.assert_graph_error(401, "InvalidAuthenticationToken");
            assert_eq!(message, "Access token validation failure.");
        }
    }
    assert_eq!(
        create_with(&emu, "Bearer ").assert_graph_error(401, "InvalidAuthenticationToken"),
        "Access token is empty."
    );
    assert_eq!(emu.stored_count(), 0);

    let token = bearer(&issued_token(&emu));
    assert_eq!(create_with(&emu, &token).status, 201);
    assert_eq!(list(&emu, &token).status, 200);
    let reply = batch(&emu, &token);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["responses"][0]["status"], 201);
    assert_eq!(emu.stored_count(), 2);
}

#[test]
fn managed_identity_tokens_count_as_issued() {
    let emu = start(None);
    let reply = send(
        &agent(),
        "GET",
        &format!(
            "{}/msi/token?api-version=2019-08-01&resource=https://graph.microsoft.com",
            emu.base_url()
        ),
        &[("X-IDENTITY-HEADER", "h")],
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(create_with(&emu, &bearer(&token)).status, 201);
}

#[test]
fn expired_issued_tokens_are_refused_and_reset_forgets_tokens() {
    let emu = start(None);
    emu.set_token_lifetime(Duration::from_secs(1));
    let token = bearer(&issued_token(&emu));
    assert_eq!(create_with(&emu, &token).status, 201);
    std::thread::sleep(Duration::from_millis(1100));
    for reply in [
        create_with(&emu, &token),
        list(&emu, &token),
        batch(&emu, &token),
    ] {
        let message = reply.assert_graph_error(401, "InvalidAuthenticationToken");
        assert_eq!(message, "Access token has expired or is not yet valid.");
    }
    let fresh = bearer(&issued_token(&emu));
    assert_eq!(create_with(&emu, &fresh).status, 201);
    emu.reset();
    let message = create_with(&emu, &fresh).assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(message, "Access token validation failure.");
}

#[test]
fn the_configured_token_keeps_working() {
    let emu = start(Some("static-token"));
    assert_eq!(create_with(&emu, "Bearer static-token").status, 201);
    assert_eq!(create_with(&emu, &bearer(&issued_token(&emu))).status, 201);
    create_with(&emu, "Bearer other").assert_graph_error(401, "InvalidAuthenticationToken");
}

#[test]
fn control_config_reports_require_issued_tokens() {
    let emu = start(None);
    let v = send(
        &agent(),
        "GET",
        &format!("{}/_emulator/entra/config", emu.base_url()),
        &[],
        None,
    )
    .json();
    assert_eq!(v["require_issued_tokens"], true);
    assert_eq!(v["managed_identity"]["identity_header"], "h");
    assert_eq!(v["token_lifetime_secs"], 3599);
}
