//! Every wire rule, proven against a real graph-emulator over loopback. Each
//! test asserts what the emulator received, not only what the client says.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{builder, client, emulator, fault, header, insight, paths_of, TOKEN};
use serde_json::json;
use used_insight::{ApiVersion, Client, Error, RetryPolicy, TransportErrorKind, UsedInsight};

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
fn wrong_token_gives_401_from_the_emulator() {
    let emu = emulator();
    let c = builder(&emu).token("not-the-token").build().unwrap();
    let err = c.create("alice", &insight()).unwrap_err();
    let Error::Graph(g) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (g.status, g.code.as_deref()),
        (401, Some("InvalidAuthenticationToken"))
    );
    assert!(!format!("{err} {err:?}").contains("not-the-token"));
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

fn elapsed_between(emu: &graph_emulator::Emulator, a: usize, b: usize) -> f64 {
    let r = emu.requests();
    r[b].elapsed_ms - r[a].elapsed_ms
}

#[test]
fn retry_after_fractional_seconds_is_honoured_with_the_same_client_request_id() {
    let emu = emulator();
    emu.push_faults([fault(json!({"status": 429, "retry_after": "0.6"}))]);
    let created = client(&emu).create("alice", &insight()).unwrap();
    assert!(created.id.is_some());
    let r = emu.requests();
    assert_eq!(r.len(), 2);
    assert!(
        elapsed_between(&emu, 0, 1) >= 600.0,
        "waited {} ms",
        elapsed_between(&emu, 0, 1)
    );
    assert_eq!(
        r[0].headers["client-request-id"],
        r[1].headers["client-request-id"]
    );
    assert_eq!(header(&r[1], "retry-attempt"), Some("1"));
    assert_eq!(emu.stored("alice").len(), 1, "created exactly once");
}

#[test]
fn retry_after_whole_seconds_and_http_date_are_honoured() {
    let emu = emulator();
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    emu.push_faults([
        fault(json!({"status": 504, "retry_after": date})),
        fault(json!({"status": 503, "retry_after": "1"})),
    ]);
    client(&emu).create("alice", &insight()).unwrap();
    assert_eq!(emu.requests().len(), 3);
    // An HTTP-date has whole-second resolution: at least one second remains.
    let first = elapsed_between(&emu, 0, 1);
    assert!(first >= 900.0, "{first}");
    assert!(elapsed_between(&emu, 1, 2) >= 1000.0);
    assert_eq!(header(&emu.requests()[2], "retry-attempt"), Some("2"));
}

#[test]
fn without_retry_after_the_wait_backs_off_exponentially() {
    let emu = emulator();
    emu.push_faults([fault(json!({"status": 503, "times": 3}))]);
    let c = builder(&emu)
        .retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(100)))
        .build()
        .unwrap();
    c.create("alice", &insight()).unwrap();
    assert_eq!(emu.requests().len(), 4);
    // Equal jitter: each wait lies in [d/2, d] for d = 100, 200, 400 ms.
    for (i, full) in [100.0, 200.0, 400.0].into_iter().enumerate() {
        let waited = elapsed_between(&emu, i, i + 1);
        assert!(waited >= full / 2.0, "wait {i}: {waited} ms");
    }
}

#[test]
fn only_429_503_504_are_retried() {
    for status in [400, 401, 403, 404, 409, 500, 502] {
        let emu = emulator();
        emu.push_faults([fault(json!({"status": status}))]);
        let err = client(&emu).create("alice", &insight()).unwrap_err();
        assert_eq!(err.http_status(), Some(status));
        assert_eq!(emu.requests().len(), 1, "HTTP {status} was retried");
    }
}

#[test]
fn retries_stop_after_the_policy_and_report_retry_after() {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"status": 429, "retry_after": "0.01", "times": 10}),
    )]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    let Error::Graph(g) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((g.status, g.attempts), (429, 4));
    assert_eq!(g.retry_after, Some(Duration::from_millis(10)));
    assert_eq!(emu.requests().len(), 4, "1 attempt + 3 retries");
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn a_retry_after_beyond_the_single_wait_cap_is_returned_not_slept() {
    let emu = emulator();
    emu.push_faults([fault(json!({"status": 429, "retry_after": "3600"}))]);
    let started = Instant::now();
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    let Error::Graph(g) = &err else { panic!() };
    assert_eq!(g.retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(emu.requests().len(), 1);
}

#[test]
fn total_wait_cap_stops_retrying() {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"status": 503, "retry_after": "0.3", "times": 3}),
    )]);
    let c = builder(&emu)
        .retry_policy(RetryPolicy::default().with_max_total_wait(Duration::from_millis(500)))
        .build()
        .unwrap();
    let err = c.create("alice", &insight()).unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(emu.requests().len(), 2, "0.3 + 0.3 > 0.5: one retry only");
}

#[test]
fn dropped_connection_is_reported_and_not_resent() {
    let emu = emulator();
    emu.push_faults([fault(json!({"drop_connection": true}))]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::ConnectionLost);
    assert!(t.request_may_have_been_sent);
    assert!(err.request_may_have_been_processed());
    assert_eq!(
        emu.requests().len(),
        1,
        "exactly one request reached the server"
    );
    assert_eq!(
        err.client_request_id(),
        Some(emu.requests()[0].headers["client-request-id"].as_str())
    );
}

#[test]
fn timeout_after_sending_is_reported_and_not_resent() {
    let emu = emulator();
    emu.push_faults([fault(json!({"delay_ms": 1500}))]);
    let c = builder(&emu)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c.create("alice", &insight()).unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(1200));
    let Error::Timeout(t) = &err else {
        panic!("{err:?}")
    };
    assert!(t.request_may_have_been_sent);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(emu.requests().len(), 1, "not resent");
}

#[test]
fn truncated_answer_is_a_lost_connection_after_processing() {
    let emu = emulator();
    emu.push_faults([fault(json!({"truncate": true}))]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::ConnectionLost);
    assert!(t.message.contains("201"), "{t}");
    assert_eq!(emu.requests().len(), 1);
    assert_eq!(emu.stored_count(), 1, "Graph did create it");
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
fn same_origin_redirect_is_followed_with_the_token() {
    let emu = emulator();
    let target = format!("{}/v1.0/users/alice/insights/used", emu.base_url());
    emu.push_faults([fault(
        json!({"status": 307, "headers": {"Location": target}}),
    )]);
    let created = client(&emu).create("alice", &insight()).unwrap();
    assert!(created.id.is_some());
    let r = emu.requests();
    assert_eq!(r.len(), 2);
    assert_eq!(
        header(&r[1], "authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(r[1].body, r[0].body, "307 resends the same body");
}

#[test]
fn redirect_to_another_port_drops_the_token() {
    let emu = emulator();
    let other = emulator();
    let target = format!("{}/v1.0/users/alice/insights/used", other.base_url());
    emu.push_faults([fault(
        json!({"status": 308, "headers": {"Location": target}}),
    )]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    assert_eq!(
        err.http_status(),
        Some(401),
        "the other origin got no token"
    );
    let r = other.requests();
    assert_eq!(r.len(), 1);
    assert_eq!(header(&r[0], "authorization"), None);
}

#[test]
fn redirect_loops_stop_after_five() {
    let emu = emulator();
    let target = format!("{}/v1.0/users/alice/insights/used", emu.base_url());
    emu.push_faults([fault(
        json!({"status": 302, "headers": {"Location": target}, "times": 10}),
    )]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Redirect);
    assert_eq!(emu.requests().len(), 6, "the request and five redirects");
}

#[test]
fn redirect_to_plain_http_elsewhere_is_refused() {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"status": 307, "headers": {"Location": "http://graph.example.com/v1.0/x"}}),
    )]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Redirect);
    assert!(t.message.contains("only https"), "{t}");
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
fn a_token_with_crlf_is_refused_before_sending() {
    let err = Client::builder()
        .token("abc\r\nX-Injected: 1")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)));
    assert!(
        !err.to_string().contains("X-Injected"),
        "the token is not echoed"
    );
    let emu = emulator();
    let c = builder(&emu)
        .token_provider(|| Ok("abc\r\nX-Injected: 1".into()))
        .build()
        .unwrap();
    let err = c.create("alice", &insight()).unwrap_err();
    assert!(matches!(err, Error::TokenProvider(_)), "{err:?}");
    assert!(emu.requests().is_empty());
}

#[test]
fn token_provider_is_called_per_attempt_and_its_failure_reported() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    let emu = emulator();
    emu.push_faults([fault(json!({"status": 429, "retry_after": "0"}))]);
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let c = builder(&emu)
        .token_provider(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            Ok(TOKEN.to_owned())
        })
        .build()
        .unwrap();
    c.create("alice", &insight()).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    let failing = builder(&emu)
        .token_provider(|| Err("vault sealed".into()))
        .build()
        .unwrap();
    let before = emu.requests().len();
    let err = failing.create("alice", &insight()).unwrap_err();
    let Error::TokenProvider(t) = &err else {
        panic!("{err:?}")
    };
    assert!(t.message.contains("vault sealed"));
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(emu.requests().len(), before, "nothing sent");
}

#[test]
fn the_token_never_appears_in_debug_or_errors() {
    let emu = emulator();
    let c = client(&emu);
    assert!(!format!("{c:?}").contains(TOKEN));
    emu.push_faults([
        fault(json!({"status": 401})),
        fault(json!({"drop_connection": true})),
    ]);
    for _ in 0..2 {
        let err = c.create("alice", &insight()).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(TOKEN));
    }
}

#[test]
fn invalid_input_lists_every_problem_and_sends_nothing() {
    let emu = emulator();
    let mut bad = insight();
    bad.resource_reference.as_mut().unwrap().web_url = Some("javascript:alert(1)".into());
    bad.last_used = None;
    let err = client(&emu).create("bad\nuser", &bad).unwrap_err();
    let Error::InvalidInput(v) = &err else {
        panic!("{err:?}")
    };
    let paths = paths_of(v);
    assert_eq!(paths, ["usersId", "lastUsed", "resourceReference.webUrl"]);
    let err = client(&emu)
        .create_json("", r#"{"lastUsed": {"lastAccessedDateTime": "tomorrow"}}"#)
        .unwrap_err();
    let Error::InvalidInput(v) = &err else {
        panic!("{err:?}")
    };
    let paths = paths_of(v);
    assert_eq!(
        paths,
        [
            "usersId",
            "lastUsed.lastAccessedDateTime",
            "resourceVisualization",
            "resourceReference"
        ]
    );
    assert!(emu.requests().is_empty(), "nothing was sent");
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
fn connection_refused_is_a_connect_error_not_sent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = Client::builder()
        .token("t")
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let err = c.create("alice", &insight()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Connect);
    assert!(!err.request_may_have_been_processed());
}

#[test]
fn eight_threads_share_one_client() {
    let emu = emulator();
    let c = client(&emu);
    std::thread::scope(|s| {
        for t in 0..8 {
            let c = c.clone();
            s.spawn(move || {
                for _ in 0..10 {
                    c.create(&format!("user{t}"), &insight()).unwrap();
                }
            });
        }
    });
    assert_eq!(emu.stored_count(), 80);
    let ids: std::collections::HashSet<_> = emu
        .requests()
        .iter()
        .map(|r| r.headers["client-request-id"].clone())
        .collect();
    assert_eq!(ids.len(), 80);
}

#[test]
fn a_host_name_is_resolved_and_reused_across_creates() {
    let emu = emulator();
    let by_name = emu.base_url().replace("127.0.0.1", "localhost");
    let c = builder(&emu).base_url(by_name).build().unwrap();
    for _ in 0..3 {
        c.create("alice", &insight()).unwrap();
    }
    assert_eq!(emu.stored("alice").len(), 3);
}
