//! A create as Graph receives it and as the caller gets it back, proven
//! against a real graph-emulator over loopback: the path (the `usersId` as
//! one segment, the API version, https or loopback only), the headers and
//! body, the created insight, and error answers parsed into typed errors.
//! Each test asserts what the emulator received, not only what the client
//! says.

mod common;

use std::time::{Duration, Instant};

use common::{builder, client, emulator, fault, header, insight, TOKEN};
use serde_json::json;
use used_insight::{ApiVersion, Client, Error, UsedInsight};

#[test]
fn create_returns_what_graph_stored_with_a_new_id() {
    let emu = emulator();
    let sent = insight();
    let created = client(&emu).create("alice@contoso.com", &sent).unwrap();
    let id = created.id.clone().expect("an id");
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    assert_eq!(
        created.last_used, sent.last_used,
        "7 fractional digits survive"
    );
    assert_eq!(created.resource_visualization, sent.resource_visualization);
    assert_eq!(created.resource_reference, sent.resource_reference);
    assert!(created.additional_data.contains_key("@odata.context"));
    let stored = emu.stored("alice@contoso.com");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], id.as_str());
}

#[test]
fn upn_user_id_is_one_path_segment() {
    let emu = emulator();
    client(&emu)
        .create("alice@contoso.com", &insight())
        .unwrap();
    assert_eq!(
        emu.requests()[0].path,
        "/v1.0/users/alice@contoso.com/insights/used"
    );
}

#[test]
fn traversal_in_user_id_cannot_change_the_path() {
    let emu = emulator();
    let nasty = "../../me?x#y";
    client(&emu).create(nasty, &insight()).unwrap();
    let requests = emu.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].path,
        "/v1.0/users/..%2F..%2Fme%3Fx%23y/insights/used"
    );
    assert_eq!(emu.stored(nasty).len(), 1, "stored under the literal id");
}

#[test]
fn beta_version_is_in_the_path() {
    let emu = emulator();
    let c = builder(&emu).api_version(ApiVersion::Beta).build().unwrap();
    c.create("bob", &insight()).unwrap();
    assert_eq!(emu.requests()[0].path, "/beta/users/bob/insights/used");
}

#[test]
fn plain_http_is_refused_for_remote_hosts() {
    let err = Client::builder()
        .token("t")
        .base_url("http://graph.microsoft.com")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err}");
}

#[test]
fn request_carries_graph_headers_and_a_fresh_client_request_id_per_call() {
    let emu = emulator();
    let c = builder(&emu)
        .user_agent("contoso-sync/2.1")
        .build()
        .unwrap();
    c.create("alice", &insight()).unwrap();
    c.create("alice", &insight()).unwrap();
    let requests = emu.requests();
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        header(r, "authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(header(r, "content-type"), Some("application/json"));
    assert_eq!(header(r, "accept"), Some("application/json"));
    let version = format!("used-insight/{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(header(r, "sdkversion"), Some(version.as_str()));
    assert_eq!(
        header(r, "user-agent"),
        Some(format!("contoso-sync/2.1 {version}").as_str())
    );
    assert_eq!(header(r, "retry-attempt"), None, "first attempt");
    let ids: Vec<_> = requests
        .iter()
        .map(|r| uuid::Uuid::parse_str(header(r, "client-request-id").unwrap()).unwrap())
        .collect();
    assert!(ids.iter().all(|id| id.get_version_num() == 4));
    assert_ne!(ids[0], ids[1]);
    // The body is the canonical wire shape, @odata.type on every object.
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["@odata.type"], "#microsoft.graph.usedInsight");
    assert_eq!(
        body["lastUsed"]["@odata.type"],
        "microsoft.graph.usageDetails"
    );
    assert_eq!(
        body["lastUsed"]["lastAccessedDateTime"],
        "2026-11-28T10:00:00.1234567+01:00"
    );
}

#[test]
fn create_json_returns_the_created_insight_with_unknown_properties() {
    let emu = emulator();
    let mut text = insight().to_json();
    text.insert_str(1, r#""futureProperty":{"a":[1,2]},"#);
    let created = client(&emu).create_json("alice", &text).unwrap();
    let created = UsedInsight::from_json(&created).unwrap();
    assert!(created.id.is_some());
    assert_eq!(
        created.additional_data["futureProperty"].as_str(),
        r#"{"a":[1,2]}"#
    );
    let sent: serde_json::Value = serde_json::from_str(&emu.requests()[0].body).unwrap();
    assert_eq!(sent["futureProperty"], json!({"a": [1, 2]}));
}

#[test]
fn graph_error_is_parsed_with_all_its_fields() {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"status": 400, "code": "invalidRequest", "message": "bad thing"}),
    )]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    let Error::Graph(g) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(g.status, 400);
    assert_eq!(g.code.as_deref(), Some("invalidRequest"));
    assert_eq!(g.message.as_deref(), Some("bad thing"));
    let sent_id = emu.requests()[0].headers["client-request-id"].clone();
    assert_eq!(g.client_request_id.as_deref(), Some(sent_id.as_str()));
    assert!(g.request_id.as_deref().is_some_and(|id| !id.is_empty()));
    assert!(g.date.is_some());
    assert_eq!(g.attempts, 1);
    assert_eq!(emu.requests().len(), 1, "400 is not retried");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 400 invalidRequest: bad thing"),
        "{text}"
    );
}

#[test]
fn lowercase_innererror_is_accepted() {
    let emu = emulator();
    emu.push_faults([fault(json!({
        "status": 403, "content_type": "application/json",
        "body": r#"{"error":{"code":"Forbidden","message":"no","innererror":{"request-id":"rid-1","date":"2026-11-28T10:00:00","client-request-id":"cid-1"}}}"#
    }))]);
    let Error::Graph(g) = client(&emu).create("alice", &insight()).unwrap_err() else {
        panic!()
    };
    assert_eq!(g.request_id.as_deref(), Some("rid-1"));
    assert_eq!(g.client_request_id.as_deref(), Some("cid-1"));
    assert_eq!(g.date.as_deref(), Some("2026-11-28T10:00:00"));
}

#[test]
fn non_json_error_body_still_gives_status_and_snippet() {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"status": 502, "body": "<html><h1>Bad gateway</h1></html>"}),
    )]);
    let Error::Graph(g) = client(&emu).create("alice", &insight()).unwrap_err() else {
        panic!()
    };
    assert_eq!(g.status, 502);
    assert_eq!(g.code, None);
    assert!(g.body_snippet.as_deref().unwrap().contains("Bad gateway"));
}

#[test]
fn non_json_success_body_is_a_decode_error() {
    let emu = emulator();
    emu.push_faults([fault(json!({"status": 201, "body": "<html>ok</html>"}))]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    let Error::Decode(d) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(d.status, Some(201));
    assert!(d.body_snippet.contains("<html>ok"));
    assert!(err.request_may_have_been_processed());
    assert_eq!(emu.requests().len(), 1);
}

#[test]
fn a_64_mib_answer_fails_fast() {
    let emu = emulator();
    emu.push_faults([fault(json!({"body_bytes": 64u64 * 1024 * 1024}))]);
    let started = Instant::now();
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let Error::Decode(d) = &err else {
        panic!("{err:?}")
    };
    assert!(d.message.contains("67108864"), "{d}");
}

#[test]
fn an_answer_of_exactly_the_bound_is_read_whole() {
    // 4 MiB: far more than is reserved up front, so the body is read in
    // many reads and the buffer grows; nothing is lost or refused.
    const BOUND: u64 = 4 * 1024 * 1024;
    let emu = emulator();
    emu.push_faults([fault(json!({"body_bytes": BOUND}))]);
    let created = client(&emu).create("alice", &insight()).unwrap();
    let pad = created.additional_data["pad"].as_str();
    assert_eq!(pad.len() as u64, BOUND - r#"{"pad":}"#.len() as u64);
    assert!(pad.trim_matches('"').bytes().all(|b| b == b'a'));
    // One byte more is refused from the announced length, before reading.
    emu.push_faults([fault(json!({"body_bytes": BOUND + 1}))]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    let Error::Decode(d) = &err else {
        panic!("{err:?}")
    };
    assert!(d.message.contains("announces 4194305 bytes"), "{d}");
}
