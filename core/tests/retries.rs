//! Graph's retry rules against a real emulator: only 429, 503 and 504 are
//! retried, with the same `client-request-id`; `Retry-After` is honoured as
//! fractional seconds, whole seconds or an HTTP-date, otherwise the wait
//! backs off exponentially; and the policy's limits stop retrying.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{builder, client, emulator, fault, header, insight};
use serde_json::json;
use used_insight::{Error, RetryPolicy};

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
