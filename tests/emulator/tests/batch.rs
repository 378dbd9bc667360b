//! `POST /{version}/$batch` (Graph JSON batching).

mod common;

use std::collections::HashMap;

use common::*;
use graph_emulator::Fault;
use serde_json::{json, Value};

fn batch_url(emu: &graph_emulator::Emulator) -> String {
    format!("{}/v1.0/$batch", emu.base_url())
}

fn create_item(id: &str, user: &str) -> Value {
    json!({
        "id": id,
        "method": "POST",
        "url": format!("/users/{user}/insights/used"),
        "headers": {"Content-Type": "application/json"},
        "body": insight(),
    })
}

fn by_id(reply: &Reply) -> HashMap<String, Value> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

#[test]
fn batch_of_creates_answers_out_of_order() {
    let emu = start();
    let agent = agent();
    let items: Vec<Value> = (1..=3)
        .map(|i| create_item(&i.to_string(), "alice%40contoso.com"))
        .collect();
    let reply = post_json(&agent, &batch_url(&emu), &json!({ "requests": items }));
    let order: Vec<String> = reply.json()["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        order,
        ["3", "2", "1"],
        "answered in a different order than asked"
    );
    let responses = by_id(&reply);
    let stored = emu.stored("alice@contoso.com");
    assert_eq!(stored.len(), 3);
    for (i, id) in ["1", "2", "3"].iter().enumerate() {
        let r = &responses[*id];
        assert_eq!(r["status"], 201);
        assert_eq!(r["headers"]["Content-Type"], "application/json");
        // Items are processed in request order.
        assert_eq!(r["body"]["id"], stored[i]["id"]);
        assert_eq!(r["body"]["@odata.type"], "#microsoft.graph.usedInsight");
        let location = r["headers"]["Location"].as_str().unwrap();
        assert!(location.ends_with(stored[i]["id"].as_str().unwrap()));
    }
    // Only the outer request is recorded.
    let recorded = emu.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].path, "/v1.0/$batch");
}

#[test]
fn item_urls_and_methods() {
    let emu = start();
    let agent = agent();
    let reply = post_json(
        &agent,
        &batch_url(&emu),
        &json!({"requests": [
            // Without a leading slash, with a query.
            {"id": "a", "method": "post", "url": "users/bob/insights/used?x=1",
             "headers": {"content-type": "application/json; charset=utf-8"}, "body": insight()},
            {"id": "b", "method": "GET", "url": "/users/bob/insights/used"},
            // Body without Content-Type: 400 like Graph.
            {"id": "c", "method": "POST", "url": "/users/bob/insights/used", "body": insight()},
            // Item-level validation error.
            {"id": "d", "method": "POST", "url": "/users/bob/insights/used",
             "headers": {"Content-Type": "application/json"}, "body": {"lastUsed": {}}},
            // Item-level routing error, wrong method, absolute URL, nested batch.
            {"id": "e", "method": "GET", "url": "/me/insights/used"},
            {"id": "f", "method": "DELETE", "url": "/users/bob/insights/used"},
            {"id": "g", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users/bob/insights/used"},
            {"id": "h", "method": "POST", "url": "/$batch", "headers": {"Content-Type": "application/json"}, "body": {"requests": []}},
            // A text/plain body goes through as text: 415 from the handler.
            {"id": "i", "method": "POST", "url": "/users/bob/insights/used",
             "headers": {"Content-Type": "text/plain"}, "body": "hello"},
        ]}),
    );
    let r = by_id(&reply);
    assert_eq!(r["a"]["status"], 201);
    assert_eq!(r["b"]["status"], 200);
    assert_eq!(r["b"]["body"]["value"].as_array().unwrap().len(), 1);
    assert_eq!(r["c"]["status"], 400);
    assert_eq!(r["c"]["body"]["error"]["code"], "BadRequest");
    assert_eq!(r["d"]["status"], 400);
    assert_eq!(r["d"]["body"]["error"]["code"], "invalidRequest");
    assert_eq!(r["e"]["status"], 400);
    assert_eq!(r["f"]["status"], 405);
    assert_eq!(r["g"]["status"], 400);
    assert_eq!(r["h"]["status"], 400);
    assert_eq!(r["i"]["status"], 415);
    // Item errors carry the outer request's ids.
    let rid = reply.header("request-id").unwrap();
    assert_eq!(r["c"]["body"]["error"]["innerError"]["request-id"], rid);
    assert_eq!(emu.stored_count(), 1);
}

#[test]
fn outer_request_checks() {
    let emu = start();
    let agent = agent();
    let url = batch_url(&emu);
    let body = json!({"requests": [create_item("1", "u")]}).to_string();
    send(&agent, "POST", &url, &[JSON], Some(&body))
        .assert_graph_error(401, "InvalidAuthenticationToken");
    send(&agent, "POST", &url, &[AUTH], Some(&body))
        .assert_graph_error(415, "UnsupportedMediaType");
    send(&agent, "POST", &url, &[AUTH, JSON], Some("nope")).assert_graph_error(400, "BadRequest");
    assert_eq!(emu.stored_count(), 0);
    // beta works too.
    let reply = post_json(
        &agent,
        &format!("{}/beta/$batch", emu.base_url()),
        &json!({"requests": [create_item("1", "u")]}),
    );
    assert_eq!(by_id(&reply)["1"]["status"], 201);
    assert!(by_id(&reply)["1"]["headers"]["Location"]
        .as_str()
        .unwrap()
        .contains("/beta/users/u/"));
}

#[test]
fn envelope_validation() {
    let emu = start();
    let agent = agent();
    let url = batch_url(&emu);
    let too_many: Vec<Value> = (0..21).map(|i| create_item(&i.to_string(), "u")).collect();
    let msg = post_json(&agent, &url, &json!({ "requests": too_many }))
        .assert_graph_error(400, "BadRequest");
    assert!(msg.contains("20"), "{msg}");
    let twenty: Vec<Value> = (0..20).map(|i| create_item(&i.to_string(), "u")).collect();
    assert_eq!(
        by_id(&post_json(&agent, &url, &json!({ "requests": twenty }))).len(),
        20
    );
    assert_eq!(emu.stored_count(), 20);
    for bad in [
        json!({}),
        json!({"requests": {}}),
        json!({"requests": []}),
        json!({"requests": [{"method": "GET", "url": "/users/u/insights/used"}]}),
        json!({"requests": [{"id": 1, "method": "GET", "url": "/users/u/insights/used"}]}),
        json!({"requests": [{"id": "1", "url": "/users/u/insights/used"}]}),
        json!({"requests": [{"id": "1", "method": "GET"}]}),
        json!({"requests": [create_item("1", "u"), create_item("1", "v")]}),
        json!({"requests": [42]}),
    ] {
        post_json(&agent, &url, &bad).assert_graph_error(400, "BadRequest");
    }
    // A rejected envelope processes nothing.
    assert_eq!(emu.stored_count(), 20);
    assert!(emu.stored("v").is_empty());
}

#[test]
fn item_fault_hits_only_that_item() {
    let emu = start();
    let agent = agent();
    emu.push_faults([Fault {
        batch_item: Some(1),
        status: Some(429),
        retry_after: Some("3".into()),
        ..Fault::default()
    }]);
    let items: Vec<Value> = ["a", "b", "c"]
        .iter()
        .map(|id| create_item(id, "u"))
        .collect();
    let reply = post_json(&agent, &batch_url(&emu), &json!({ "requests": items }));
    let r = by_id(&reply);
    assert_eq!(r["a"]["status"], 201);
    assert_eq!(r["c"]["status"], 201);
    assert_eq!(r["b"]["status"], 429);
    assert_eq!(r["b"]["headers"]["Retry-After"], "3");
    assert_eq!(r["b"]["headers"]["Content-Type"], "application/json");
    assert_eq!(r["b"]["body"]["error"]["code"], "TooManyRequests");
    assert_eq!(emu.stored_count(), 2);
    assert!(emu.pending_faults().is_empty());

    // A batch_item past the end does not match (the fault stays queued);
    // via the control endpoint, with a code override.
    let reply = send(
        &agent,
        "POST",
        &format!("{}/_emulator/faults", emu.base_url()),
        &[],
        Some(r#"{"batch_item":5,"status":503,"code":"Throttled"}"#),
    );
    assert_eq!(reply.status, 200);
    let reply = post_json(
        &agent,
        &batch_url(&emu),
        &json!({"requests": [create_item("x", "u")]}),
    );
    assert_eq!(by_id(&reply)["x"]["status"], 201);
    assert_eq!(emu.pending_faults().len(), 1);
    let six: Vec<Value> = (0..6).map(|i| create_item(&i.to_string(), "w")).collect();
    let r = by_id(&post_json(
        &agent,
        &batch_url(&emu),
        &json!({ "requests": six }),
    ));
    assert_eq!(r["5"]["status"], 503);
    assert_eq!(r["5"]["body"]["error"]["code"], "Throttled");
    assert!(r["5"]["headers"].get("Retry-After").is_none());
    assert_eq!(emu.stored("w").len(), 5);
}

#[test]
fn whole_request_faults_apply_to_batches_too() {
    let emu = start();
    let agent = agent();
    emu.push_faults([Fault {
        path_contains: Some("$batch".into()),
        status: Some(503),
        ..Fault::default()
    }]);
    let body = json!({"requests": [create_item("1", "u")]});
    post_json(&agent, &batch_url(&emu), &body).assert_graph_error(503, "serviceNotAvailable");
    assert_eq!(emu.stored_count(), 0);
    assert_eq!(
        by_id(&post_json(&agent, &batch_url(&emu), &body))["1"]["status"],
        201
    );
}

#[test]
fn items_inherit_the_outer_authorization() {
    let emu = graph_emulator::Emulator::start(graph_emulator::EmulatorConfig {
        token: Some("s3cret".into()),
        ..Default::default()
    })
    .unwrap();
    let agent = agent();
    let mut item = create_item("1", "u");
    item["headers"]["Authorization"] = json!("Bearer wrong");
    let body = json!({ "requests": [item] }).to_string();
    let url = batch_url(&emu);
    let ok = send(
        &agent,
        "POST",
        &url,
        &[("Authorization", "Bearer s3cret"), JSON],
        Some(&body),
    );
    assert_eq!(by_id(&ok)["1"]["status"], 201);
    let mut item = create_item("1", "u");
    item["headers"]["Authorization"] = json!("Bearer s3cret");
    let body = json!({ "requests": [item] }).to_string();
    send(
        &agent,
        "POST",
        &url,
        &[("Authorization", "Bearer wrong"), JSON],
        Some(&body),
    )
    .assert_graph_error(401, "InvalidAuthenticationToken");
    assert_eq!(emu.stored_count(), 1);
}

#[test]
fn body_contains_and_batch_items_pick_one_batch_and_several_items() {
    let emu = start();
    let agent = agent();
    emu.push_faults([Fault {
        body_contains: Some("\"id\":\"x2\"".into()),
        batch_items: vec![0, 2],
        status: Some(503),
        ..Fault::default()
    }]);
    let first: Vec<Value> = ["a", "b", "c"]
        .iter()
        .map(|id| create_item(id, "u"))
        .collect();
    let reply = post_json(&agent, &batch_url(&emu), &json!({ "requests": first }));
    assert!(
        by_id(&reply).values().all(|r| r["status"] == 201),
        "no match: untouched"
    );
    assert_eq!(emu.pending_faults().len(), 1);

    let second: Vec<Value> = ["x1", "x2", "x3"]
        .iter()
        .map(|id| create_item(id, "u"))
        .collect();
    let reply = post_json(&agent, &batch_url(&emu), &json!({ "requests": second }));
    let r = by_id(&reply);
    assert_eq!(r["x1"]["status"], 503);
    assert_eq!(r["x2"]["status"], 201);
    assert_eq!(r["x3"]["status"], 503);
    assert_eq!(emu.stored_count(), 4);
    assert!(emu.pending_faults().is_empty());
}
