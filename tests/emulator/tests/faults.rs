//! Fault injection, through the library and through `POST /_emulator/faults`.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use graph_emulator::Fault;
use serde_json::{json, Value};

fn fault() -> Fault {
    Fault::default()
}

fn raw_post(port: u16, path: &str) -> Vec<u8> {
    raw_exchange(
        port,
        &raw_request(
            "POST",
            path,
            &[AUTH, JSON, ("Connection", "close")],
            &insight().to_string(),
        ),
    )
}

#[test]
fn status_with_retry_after() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    emu.push_faults([Fault {
        status: Some(429),
        retry_after: Some("2".into()),
        ..fault()
    }]);
    let reply = post_json(&agent, &url, &insight());
    let msg = reply.assert_graph_error(429, "TooManyRequests");
    assert!(msg.contains("nject"), "{msg}");
    assert_eq!(reply.header("retry-after"), Some("2"));
    assert_eq!(emu.stored_count(), 0, "a fault answer is not processed");
    // Used up: the next request is normal.
    assert_eq!(post_json(&agent, &url, &insight()).status, 201);
    assert_eq!(emu.requests().len(), 2);
}

#[test]
fn status_codes_map_to_graph_codes() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    let cases = [
        (400, "BadRequest"),
        (401, "InvalidAuthenticationToken"),
        (403, "Forbidden"),
        (404, "ResourceNotFound"),
        (429, "TooManyRequests"),
        (500, "generalException"),
        (503, "serviceNotAvailable"),
        (504, "gatewayTimeout"),
        (502, "error"),
    ];
    emu.push_faults(cases.iter().map(|(s, _)| Fault {
        status: Some(*s),
        retry_after: Some("0.6".into()),
        ..fault()
    }));
    for (status, code) in cases {
        let reply = post_json(&agent, &url, &insight());
        reply.assert_graph_error(status, code);
        assert_eq!(reply.header("retry-after"), Some("0.6"));
    }
    // Code and message overrides, and an HTTP-date Retry-After.
    emu.push_faults([Fault {
        status: Some(503),
        code: Some("UnknownError".into()),
        message: Some("try later".into()),
        retry_after: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
        ..fault()
    }]);
    let reply = post_json(&agent, &url, &insight());
    assert_eq!(reply.assert_graph_error(503, "UnknownError"), "try later");
    assert_eq!(
        reply.header("retry-after"),
        Some("Wed, 21 Oct 2026 07:28:00 GMT")
    );
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn redirect_without_body() {
    let emu = start();
    let target = format!("{}/v1.0/users/moved/insights/used", emu.base_url());
    emu.push_faults([Fault {
        status: Some(307),
        headers: BTreeMap::from([("Location".to_owned(), target.clone())]),
        ..fault()
    }]);
    let reply = parse_raw(&raw_post(emu.port(), "/v1.0/users/u/insights/used"));
    assert_eq!(reply.status, 307);
    assert_eq!(reply.header("location"), Some(target.as_str()));
    assert_eq!(reply.header("content-length"), Some("0"));
    assert!(reply.body.is_empty());
    assert!(reply.header("request-id").is_some());
}

#[test]
fn delay_then_normal_answer() {
    let emu = start();
    let agent = agent();
    emu.push_faults([Fault {
        delay_ms: 300,
        ..fault()
    }]);
    let started = Instant::now();
    let reply = post_json(&agent, &used_url(&emu, "u"), &insight());
    let took = started.elapsed();
    assert_eq!(reply.status, 201);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert_eq!(emu.stored_count(), 1);
    // A delay combined with a status.
    emu.push_faults([Fault {
        delay_ms: 100,
        status: Some(503),
        ..fault()
    }]);
    let started = Instant::now();
    post_json(&agent, &used_url(&emu, "u"), &insight())
        .assert_graph_error(503, "serviceNotAvailable");
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[test]
fn drop_connection_sends_nothing_and_stores_nothing() {
    let emu = start();
    emu.push_faults([Fault {
        drop_connection: true,
        ..fault()
    }]);
    let received = raw_post(emu.port(), "/v1.0/users/u/insights/used");
    assert!(
        received.is_empty(),
        "got {:?}",
        String::from_utf8_lossy(&received)
    );
    assert_eq!(emu.stored_count(), 0);
    let recorded = emu.requests();
    assert_eq!(recorded.len(), 1, "recorded exactly once");
    assert_eq!(recorded[0].body, insight().to_string());
    // The next request is served normally.
    let reply = parse_raw(&raw_post(emu.port(), "/v1.0/users/u/insights/used"));
    assert_eq!(reply.status, 201);
}

#[test]
fn drop_connection_on_a_keep_alive_connection() {
    use std::io::{Read, Write};
    let emu = start();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", emu.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let req = raw_request("GET", "/v1.0/users/u/insights/used", &[AUTH], "");
    // First request on the connection is answered…
    stream.write_all(&req).unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // …the second, faulted, gets the connection closed without a byte.
    emu.push_faults([Fault {
        drop_connection: true,
        ..fault()
    }]);
    stream.write_all(&req).unwrap();
    match stream.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
    assert_eq!(emu.requests().len(), 2);
}

#[test]
fn truncate_sends_half_the_body_with_full_length() {
    let emu = start();
    emu.push_faults([Fault {
        truncate: true,
        ..fault()
    }]);
    let reply = parse_raw(&raw_post(emu.port(), "/v1.0/users/u/insights/used"));
    assert_eq!(reply.status, 201);
    let declared: usize = reply.header("content-length").unwrap().parse().unwrap();
    assert!(declared > 100);
    assert_eq!(reply.body.len(), declared / 2);
    assert!(serde_json::from_slice::<Value>(&reply.body).is_err());
    // It was processed: the insight is stored, and the half matches it.
    let stored = emu.stored("u");
    assert_eq!(stored.len(), 1);
    let id = stored[0]["id"].as_str().unwrap();
    assert!(reply.header("location").unwrap().ends_with(id));
    assert_eq!(emu.requests().len(), 1);
}

#[test]
fn non_json_body() {
    let emu = start();
    let agent = agent();
    emu.push_faults([
        Fault {
            status: Some(502),
            body: Some("<html><body>Bad Gateway</body></html>".into()),
            ..fault()
        },
        Fault {
            body: Some("oops".into()),
            content_type: Some("text/plain".into()),
            ..fault()
        },
    ]);
    let url = used_url(&emu, "u");
    let reply = post_json(&agent, &url, &insight());
    assert_eq!(reply.status, 502);
    assert_eq!(reply.header("content-type"), Some("text/html"));
    assert_eq!(reply.text(), "<html><body>Bad Gateway</body></html>");
    let reply = post_json(&agent, &url, &insight());
    assert_eq!(reply.status, 500);
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    assert_eq!(reply.text(), "oops");
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn body_bytes_streams_a_large_body() {
    use std::io::Read;
    let emu = start();
    let size: u64 = 64 * 1024 * 1024;
    emu.push_faults([Fault {
        body_bytes: Some(size),
        ..fault()
    }]);
    let agent = agent();
    let url = used_url(&emu, "u");
    let resp = agent
        .post(&url)
        .header("Authorization", "Bearer t")
        .content_type("application/json")
        .send(insight().to_string())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(
        resp.headers()
            .get("content-length")
            .unwrap()
            .to_str()
            .unwrap(),
        size.to_string()
    );
    let mut reader = resp.into_body().into_reader();
    let mut head = [0u8; 8];
    reader.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"{\"pad\":\"");
    let rest = std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
    assert_eq!(rest + 8, size);
    assert_eq!(emu.stored_count(), 0);

    // A small one is valid JSON, with the status asked for.
    emu.push_faults([Fault {
        body_bytes: Some(100),
        status: Some(200),
        ..fault()
    }]);
    let reply = post_json(&agent, &url, &insight());
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), 100);
    assert_eq!(reply.json()["pad"].as_str().unwrap().len(), 90);
}

#[test]
fn headers_on_the_normal_answer() {
    let emu = start();
    let agent = agent();
    emu.push_faults([Fault {
        headers: BTreeMap::from([
            ("Deprecation".to_owned(), "@1798675200".to_owned()),
            (
                "Sunset".to_owned(),
                "Sat, 01 Jan 2028 00:00:00 GMT".to_owned(),
            ),
        ]),
        ..fault()
    }]);
    let reply = post_json(&agent, &used_url(&emu, "u"), &insight());
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("deprecation"), Some("@1798675200"));
    assert_eq!(
        reply.header("sunset"),
        Some("Sat, 01 Jan 2028 00:00:00 GMT")
    );
    assert!(reply.json()["id"].is_string());
    assert_eq!(emu.stored_count(), 1);
    // retry_after alone is also added to the normal answer.
    emu.push_faults([Fault {
        retry_after: Some("5".into()),
        ..fault()
    }]);
    let reply = post_json(&agent, &used_url(&emu, "u"), &insight());
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("retry-after"), Some("5"));
}

#[test]
fn times_counts_down() {
    let emu = start();
    let agent = agent();
    let url = used_url(&emu, "u");
    emu.push_faults([Fault {
        status: Some(503),
        times: 3,
        ..fault()
    }]);
    for left in [2, 1] {
        assert_eq!(post_json(&agent, &url, &insight()).status, 503);
        assert_eq!(emu.pending_faults()[0].times, left);
    }
    assert_eq!(post_json(&agent, &url, &insight()).status, 503);
    assert!(emu.pending_faults().is_empty());
    assert_eq!(post_json(&agent, &url, &insight()).status, 201);
    // times 0 behaves like 1.
    emu.push_faults([Fault {
        status: Some(500),
        times: 0,
        ..fault()
    }]);
    assert_eq!(post_json(&agent, &url, &insight()).status, 500);
    assert_eq!(post_json(&agent, &url, &insight()).status, 201);
}

#[test]
fn matching_by_method_and_path_in_fifo_order() {
    let emu = start();
    let agent = agent();
    emu.push_faults([
        Fault {
            method: Some("GET".into()),
            status: Some(404),
            ..fault()
        },
        Fault {
            path_contains: Some("users/bob".into()),
            status: Some(503),
            ..fault()
        },
        Fault {
            method: Some("post".into()),
            status: Some(429),
            ..fault()
        },
        Fault {
            status: Some(500),
            ..fault()
        },
    ]);
    // POST to alice: skips the GET fault and the bob fault, takes the 429.
    post_json(&agent, &used_url(&emu, "alice"), &insight())
        .assert_graph_error(429, "TooManyRequests");
    // POST to bob: the bob fault comes first in the queue.
    post_json(&agent, &used_url(&emu, "bob"), &insight())
        .assert_graph_error(503, "serviceNotAvailable");
    // GET: the GET fault.
    get(&agent, &used_url(&emu, "bob")).assert_graph_error(404, "ResourceNotFound");
    // The unfiltered one is left.
    let pending = emu.pending_faults();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, Some(500));
    // path_contains sees the raw (encoded) path, query included.
    emu.reset();
    emu.push_faults([Fault {
        path_contains: Some("alice%40".into()),
        status: Some(503),
        ..fault()
    }]);
    assert_eq!(
        post_json(&agent, &used_url(&emu, "alice@contoso.com"), &insight()).status,
        201
    );
    assert_eq!(
        post_json(&agent, &used_url(&emu, "alice%40contoso.com"), &insight()).status,
        503
    );
    // Faults with batch_item never match plain requests.
    emu.push_faults([Fault {
        batch_item: Some(0),
        status: Some(503),
        ..fault()
    }]);
    assert_eq!(
        post_json(&agent, &used_url(&emu, "u"), &insight()).status,
        201
    );
    assert_eq!(emu.pending_faults().len(), 1);
}

#[test]
fn control_endpoint_queues_faults() {
    let emu = start();
    let agent = agent();
    let faults_url = format!("{}/_emulator/faults", emu.base_url());
    // One object…
    let reply = send(
        &agent,
        "POST",
        &faults_url,
        &[JSON],
        Some(r#"{"status":503,"retry_after":"1","times":2,"path_contains":"/insights/used"}"#),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({"queued": 1}));
    // …or an array, no content type needed.
    let reply = send(
        &agent,
        "POST",
        &faults_url,
        &[],
        Some(r#"[{"drop_connection":true},{"delay_ms":10,"headers":{"X-Test":"1"}}]"#),
    );
    assert_eq!(reply.json(), json!({"queued": 2}));
    let listed = send(&agent, "GET", &faults_url, &[], None).json();
    assert_eq!(listed["faults"].as_array().unwrap().len(), 3);
    assert_eq!(listed["faults"][0]["times"], 2);
    let pending = emu.pending_faults();
    assert_eq!(pending[0].retry_after.as_deref(), Some("1"));
    assert!(pending[1].drop_connection);
    assert_eq!(pending[2].headers["X-Test"], "1");

    // Malformed ones are refused with a message, and nothing is queued.
    for bad in [
        "not json",
        "42",
        r#"{"status":"503"}"#,
        r#"{"stauts":503}"#,
        r#"[{"status":503},{"status":42}]"#,
        r#"{"headers":{"bad header":"x"}}"#,
    ] {
        let reply = send(&agent, "POST", &faults_url, &[], Some(bad));
        assert_eq!(reply.status, 400, "{bad}");
        assert!(!reply.json()["error"].as_str().unwrap().is_empty());
    }
    assert_eq!(emu.pending_faults().len(), 3);

    // Control requests are not recorded and do not consume faults.
    assert!(emu.requests().is_empty());
    let reply = send(
        &agent,
        "GET",
        &format!("{}/_emulator/nope", emu.base_url()),
        &[],
        None,
    );
    assert_eq!(reply.status, 404);
    let reply = send(
        &agent,
        "GET",
        &format!("{}/_emulator/reset", emu.base_url()),
        &[],
        None,
    );
    assert_eq!(reply.status, 405);
}

#[test]
fn control_endpoint_lists_requests_and_resets() {
    let emu = start();
    let agent = agent();
    let base = emu.base_url().to_owned();
    post_json(&agent, &used_url(&emu, "alice%40contoso.com"), &insight());
    get(&agent, &used_url(&emu, "x"));
    let listed = send(
        &agent,
        "GET",
        &format!("{base}/_emulator/requests"),
        &[],
        None,
    );
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    let requests = listed["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["method"], "POST");
    assert_eq!(
        requests[0]["path"],
        "/v1.0/users/alice%40contoso.com/insights/used"
    );
    assert_eq!(requests[0]["headers"]["authorization"], "Bearer test-token");
    assert_eq!(requests[0]["body"], insight().to_string());
    assert!(requests[0]["elapsed_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(requests[1]["method"], "GET");
    // Same as the library's view.
    let typed: Vec<graph_emulator::RecordedRequest> =
        serde_json::from_value(listed["requests"].clone()).unwrap();
    let direct = emu.requests();
    assert_eq!(typed.len(), direct.len());
    for (a, b) in typed.iter().zip(&direct) {
        assert_eq!(
            (&a.method, &a.path, &a.headers, &a.body),
            (&b.method, &b.path, &b.headers, &b.body)
        );
        assert!((a.elapsed_ms - b.elapsed_ms).abs() < 1e-6);
    }

    emu.push_faults([Fault {
        status: Some(500),
        ..fault()
    }]);
    let reply = send(
        &agent,
        "POST",
        &format!("{base}/_emulator/reset"),
        &[],
        None,
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({}));
    assert!(emu.requests().is_empty());
    assert!(emu.pending_faults().is_empty());
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn fault_json_round_trips() {
    let f = Fault {
        method: Some("POST".into()),
        status: Some(429),
        retry_after: Some("2".into()),
        batch_item: Some(1),
        ..fault()
    };
    let text = serde_json::to_string(&f).unwrap();
    assert_eq!(
        text,
        r#"{"method":"POST","times":1,"status":429,"retry_after":"2","batch_item":1}"#
    );
    assert_eq!(serde_json::from_str::<Fault>(&text).unwrap(), f);
    let defaults: Fault = serde_json::from_str("{}").unwrap();
    assert_eq!(defaults, Fault::default());
    assert_eq!(defaults.times, 1);
}
