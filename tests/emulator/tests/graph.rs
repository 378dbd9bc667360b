//! Graph behaviour: create, read back, the checks Graph makes, routing.

mod common;

use common::*;
use graph_emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Value};

#[test]
fn create_then_get_back() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "alice%40contoso.com");
    let mut payload = insight();
    payload["unknownProperty"] = json!({"kept": true});
    let reply = post_json(&agent, &url, &payload);
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let created = reply.json();
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    assert_eq!(created["@odata.type"], "#microsoft.graph.usedInsight");
    assert_eq!(created["unknownProperty"], json!({"kept": true}));
    assert_eq!(created["lastUsed"], payload["lastUsed"]);
    assert_eq!(created["resourceReference"], payload["resourceReference"]);
    assert_eq!(
        created["@odata.context"],
        format!(
            "{}/v1.0/$metadata#users('alice%40contoso.com')/insights/used/$entity",
            emu.base_url()
        )
    );
    assert_eq!(
        reply.header("location"),
        Some(format!("{url}/{id}").as_str())
    );

    // Stored without @odata.context, visible through the library…
    let stored = emu.stored("alice@contoso.com");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], id.as_str());
    assert!(stored[0].get("@odata.context").is_none());
    assert_eq!(emu.stored_count(), 1);

    // …and through GET of the collection and of the item.
    let list = get(&agent, &url);
    assert_eq!(list.status, 200);
    let list = list.json();
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    assert_eq!(list["value"][0], stored[0]);
    assert!(list["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("$metadata#users('alice%40contoso.com')/insights/used"));
    let one = get(&agent, &format!("{url}/{id}"));
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["id"], id.as_str());
    assert_eq!(one.json()["unknownProperty"]["kept"], true);

    get(&agent, &format!("{url}/no-such-id")).assert_graph_error(404, "ResourceNotFound");
}

#[test]
fn ids_are_kept_and_order_is_creation_order() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "bob");
    let mut first = insight();
    first["id"] = json!("client-chosen");
    first["@odata.type"] = json!("microsoft.graph.usedInsight");
    assert_eq!(post_json(&agent, &url, &first).status, 201);
    let second = post_json(&agent, &url, &insight()).json();
    let stored = emu.stored("bob");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["id"], "client-chosen");
    assert_eq!(stored[0]["@odata.type"], "#microsoft.graph.usedInsight");
    assert_eq!(stored[1]["id"], second["id"]);
    assert_ne!(second["id"], "client-chosen");
    assert_eq!(get(&agent, &format!("{url}/client-chosen")).status, 200);
}

#[test]
fn user_ids_are_percent_decoded() {
    let emu = start();
    let agent = agent();
    for raw in [
        "alice%40contoso.com",
        "alice@contoso.com",
        "alice%40contoso%2Ecom",
    ] {
        assert_eq!(
            post_json(&agent, &used_url(&emu, raw), &insight()).status,
            201
        );
    }
    assert_eq!(
        post_json(&agent, &used_url(&emu, "a%2Fb"), &insight()).status,
        201
    );
    assert_eq!(emu.stored("alice@contoso.com").len(), 3);
    assert_eq!(emu.stored("a/b").len(), 1);
    assert_eq!(emu.stored("a%2Fb").len(), 0);
    assert_eq!(emu.stored_count(), 4);
    // The raw path is recorded as sent.
    let paths: Vec<String> = emu.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths[0], "/v1.0/users/alice%40contoso.com/insights/used");
    assert_eq!(paths[3], "/v1.0/users/a%2Fb/insights/used");
    // GET through either spelling sees the same user.
    let list = get(&agent, &used_url(&emu, "alice@contoso.com")).json();
    assert_eq!(list["value"].as_array().unwrap().len(), 3);
    // A bare slash is a path separator, not part of the id.
    post_json(&agent, &used_url(&emu, "a/b"), &insight()).assert_graph_error(400, "BadRequest");
    // Invalid UTF-8 after decoding is rejected.
    post_json(&agent, &used_url(&emu, "%FF"), &insight()).assert_graph_error(400, "BadRequest");
}

#[test]
fn common_headers_on_every_answer() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    let reply = send(
        &agent,
        "POST",
        &url,
        &[AUTH, JSON, ("client-request-id", "my-correlation-id")],
        Some(&insight().to_string()),
    );
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("client-request-id"), Some("my-correlation-id"));
    let rid = reply.header("request-id").unwrap();
    assert_eq!(uuid::Uuid::parse_str(rid).unwrap().get_version_num(), 4);
    assert!(reply.header("date").is_some());

    // Errors too; without a client-request-id one is generated.
    let reply = send(&agent, "POST", &url, &[JSON], Some("{}"));
    reply.assert_graph_error(401, "InvalidAuthenticationToken");
    assert!(uuid::Uuid::parse_str(reply.header("client-request-id").unwrap()).is_ok());
    assert_ne!(reply.header("request-id"), Some(rid));
    assert!(reply.header("date").is_some());
}

#[test]
fn authorization_checks() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    let body = insight().to_string();
    let msg = send(&agent, "POST", &url, &[JSON], Some(&body))
        .assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(msg, "Access token is empty.");
    let msg = send(
        &agent,
        "POST",
        &url,
        &[JSON, ("Authorization", "Bearer ")],
        Some(&body),
    )
    .assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(msg, "Access token is empty.");
    let msg = send(
        &agent,
        "POST",
        &url,
        &[JSON, ("Authorization", "Basic dTpw")],
        Some(&body),
    )
    .assert_graph_error(401, "InvalidAuthenticationToken");
    assert!(msg.starts_with("Access token validation failure"), "{msg}");
    // GET is checked too, and auth comes before routing.
    get_no_auth(&agent, &url).assert_graph_error(401, "InvalidAuthenticationToken");
    get_no_auth(&agent, &format!("{}/nowhere", emu.base_url()))
        .assert_graph_error(401, "InvalidAuthenticationToken");
    // Auth comes before the content type check.
    send(
        &agent,
        "POST",
        &url,
        &[("Content-Type", "text/plain")],
        Some(&body),
    )
    .assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(emu.stored_count(), 0);
    // Any non-empty token is fine without --token.
    let reply = send(
        &agent,
        "POST",
        &url,
        &[JSON, ("Authorization", "Bearer whatever")],
        Some(&body),
    );
    assert_eq!(reply.status, 201);
}

fn get_no_auth(agent: &ureq::Agent, url: &str) -> Reply {
    send(agent, "GET", url, &[], None)
}

#[test]
fn configured_token_must_match_exactly() {
    let emu = Emulator::start(EmulatorConfig {
        token: Some("s3cret".into()),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let agent = agent();
    let url = used_url(&emu, "u");
    let body = insight().to_string();
    let msg = send(
        &agent,
        "POST",
        &url,
        &[JSON, ("Authorization", "Bearer other")],
        Some(&body),
    )
    .assert_graph_error(401, "InvalidAuthenticationToken");
    assert!(msg.starts_with("Access token validation failure"), "{msg}");
    let ok = send(
        &agent,
        "POST",
        &url,
        &[JSON, ("Authorization", "Bearer s3cret")],
        Some(&body),
    );
    assert_eq!(ok.status, 201);
}

#[test]
fn content_type_checks() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    let body = insight().to_string();
    send(&agent, "POST", &url, &[AUTH], Some(&body))
        .assert_graph_error(415, "UnsupportedMediaType");
    send(
        &agent,
        "POST",
        &url,
        &[AUTH, ("Content-Type", "text/plain")],
        Some(&body),
    )
    .assert_graph_error(415, "UnsupportedMediaType");
    // Content type comes before the body check.
    send(
        &agent,
        "POST",
        &url,
        &[AUTH, ("Content-Type", "text/plain")],
        Some("not json"),
    )
    .assert_graph_error(415, "UnsupportedMediaType");
    for ct in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;odata.metadata=minimal",
    ] {
        let reply = send(
            &agent,
            "POST",
            &url,
            &[AUTH, ("Content-Type", ct)],
            Some(&body),
        );
        assert_eq!(reply.status, 201, "{ct}: {}", reply.text());
    }
}

#[test]
fn body_must_be_a_json_object() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    for body in ["", "not json", "[1,2]", "\"text\"", "{\"lastUsed\":"] {
        let msg = send(&agent, "POST", &url, &[AUTH, JSON], Some(body))
            .assert_graph_error(400, "BadRequest");
        assert!(
            msg.starts_with("Unable to read JSON request payload"),
            "{msg}"
        );
    }
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn payload_validation_names_the_property() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "@odata.type",
            Box::new(|v| v["@odata.type"] = json!("#microsoft.graph.trending")),
        ),
        (
            "lastUsed",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("lastUsed");
            }),
        ),
        (
            "resourceVisualization",
            Box::new(|v| v["resourceVisualization"] = json!("nope")),
        ),
        (
            "resourceReference",
            Box::new(|v| v["resourceReference"] = Value::Null),
        ),
        (
            "lastUsed.@odata.type",
            Box::new(|v| v["lastUsed"]["@odata.type"] = json!("#microsoft.graph.other")),
        ),
        (
            "resourceReference.@odata.type",
            Box::new(|v| v["resourceReference"]["@odata.type"] = json!(3)),
        ),
        (
            "lastUsed.lastAccessedDateTime",
            Box::new(|v| v["lastUsed"]["lastAccessedDateTime"] = json!("2026-11-28T10:00:00")),
        ),
        (
            "lastUsed.lastModifiedDateTime",
            Box::new(|v| v["lastUsed"]["lastModifiedDateTime"] = json!("yesterday")),
        ),
        (
            "lastUsed.lastModifiedDateTime",
            Box::new(|v| v["lastUsed"]["lastModifiedDateTime"] = json!(1_700_000_000)),
        ),
    ];
    for (prop, mutate) in cases {
        let mut payload = insight();
        mutate(&mut payload);
        let msg = post_json(&agent, &url, &payload).assert_graph_error(400, "invalidRequest");
        assert!(msg.contains(&format!("'{prop}'")), "{prop}: {msg}");
    }
    assert_eq!(emu.stored_count(), 0);

    // Accepted variants of @odata.type.
    let mut payload = insight();
    payload["@odata.type"] = json!("#microsoft.graph.usedInsight");
    payload["lastUsed"]["@odata.type"] = json!("microsoft.graph.usageDetails");
    payload["resourceVisualization"]["@odata.type"] =
        json!("#microsoft.graph.resourceVisualization");
    payload["resourceReference"]["@odata.type"] = json!("microsoft.graph.resourceReference");
    assert_eq!(post_json(&agent, &url, &payload).status, 201);
    // Minimal payload: the three objects, empty.
    let minimal = json!({"lastUsed": {}, "resourceVisualization": {}, "resourceReference": {}});
    assert_eq!(post_json(&agent, &url, &minimal).status, 201);
}

#[test]
fn routing_errors() {
    let emu = start();
    let agent = agent();
    let base = emu.base_url();
    let body = insight();
    for (path, segment) in [
        ("/v2.0/users/u/insights/used", "v2.0"),
        ("/v1.0/users/u/insights/trending", "trending"),
        ("/v1.0/groups/u/insights/used", "groups"),
        ("/v1.0/users/u/insights/used/x/y", "y"),
        ("/v1.0/users/u/insights/used/", ""),
        ("/v1.0/users//insights/used", ""),
        ("/v1.0/users/u", "u"),
        ("/", ""),
    ] {
        let msg = post_json(&agent, &format!("{base}{path}"), &body)
            .assert_graph_error(400, "BadRequest");
        assert_eq!(
            msg,
            format!("Resource not found for the segment '{segment}'."),
            "{path}"
        );
    }
    // Both versions work.
    let beta = format!("{base}/beta/users/u/insights/used");
    let created = post_json(&agent, &beta, &body);
    assert_eq!(created.status, 201);
    assert!(created
        .header("location")
        .unwrap()
        .starts_with(&format!("{base}/beta/users/u/")));
    // Wrong methods on known paths.
    let reply = send(&agent, "DELETE", &used_url(&emu, "u"), &[AUTH], None);
    reply.assert_graph_error(405, "MethodNotAllowed");
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    let id = created.json()["id"].as_str().unwrap().to_owned();
    send(
        &agent,
        "PATCH",
        &format!("{beta}/{id}"),
        &[AUTH, JSON],
        Some("{}"),
    )
    .assert_graph_error(405, "MethodNotAllowed");
    get(&agent, &format!("{base}/v1.0/$batch")).assert_graph_error(405, "MethodNotAllowed");
    // Every one of those was recorded.
    assert_eq!(emu.requests().len(), 12);
}

#[test]
fn query_strings_are_ignored_but_recorded() {
    let emu = start();
    let agent = agent();
    let url = format!("{}?$select=id", used_url(&emu, "u"));
    assert_eq!(post_json(&agent, &url, &insight()).status, 201);
    assert_eq!(
        emu.requests()[0].path,
        "/v1.0/users/u/insights/used?$select=id"
    );
}

#[test]
fn oversized_bodies_get_413() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    let big = format!("{{\"pad\":\"{}\"}}", "a".repeat(4 * 1024 * 1024));
    post_json_raw(&agent, &url, &big).assert_graph_error(413, "RequestEntityTooLarge");
    assert_eq!(emu.stored_count(), 0);
    assert_eq!(emu.requests().len(), 1);
    // Just under the limit is read (and then fails validation, not size).
    let fits = format!("{{\"pad\":\"{}\"}}", "a".repeat(4 * 1024 * 1024 - 20));
    post_json_raw(&agent, &url, &fits).assert_graph_error(400, "invalidRequest");
}

fn post_json_raw(agent: &ureq::Agent, url: &str, body: &str) -> Reply {
    send(agent, "POST", url, &[AUTH, JSON], Some(body))
}

#[test]
fn requests_are_recorded_with_raw_details() {
    let emu = start();
    let port = emu.port();
    let body = insight().to_string();
    let raw = raw_request(
        "POST",
        "/v1.0/users/alice%40contoso.com/insights/used",
        &[
            ("Authorization", "Bearer abc"),
            ("Content-Type", "application/json"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Connection", "close"),
        ],
        &body,
    );
    let reply = parse_raw(&raw_exchange(port, &raw));
    assert_eq!(reply.status, 201);
    let recorded = emu.requests();
    assert_eq!(recorded.len(), 1);
    let r = &recorded[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1.0/users/alice%40contoso.com/insights/used");
    assert_eq!(r.headers["authorization"], "Bearer abc");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["x-multi"], "one, two");
    assert_eq!(r.body, body);
    assert!(r.elapsed_ms > 0.0);
    // Newer requests have later timestamps.
    let agent = agent();
    get(&agent, &used_url(&emu, "x"));
    let recorded = emu.requests();
    assert!(recorded[1].elapsed_ms >= recorded[0].elapsed_ms);
}

#[test]
fn reset_clears_everything() {
    let emu = start();
    let agent = agent();
    post_json(&agent, &used_url(&emu, "u"), &insight());
    emu.push_faults([graph_emulator::Fault {
        status: Some(500),
        ..Default::default()
    }]);
    emu.reset();
    assert_eq!(emu.stored_count(), 0);
    assert!(emu.requests().is_empty());
    assert!(emu.pending_faults().is_empty());
    assert_eq!(
        post_json(&agent, &used_url(&emu, "u"), &insight()).status,
        201
    );
}

#[test]
fn start_and_shutdown_are_quick() {
    let started = std::time::Instant::now();
    let emu = start();
    let port = emu.port();
    assert_eq!(emu.base_url(), format!("http://127.0.0.1:{port}"));
    // An idle keep-alive connection must not hold up shutdown.
    let idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    emu.shutdown();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    drop(idle);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    // Drop shuts down as well.
    let emu = start();
    drop(emu);
}
