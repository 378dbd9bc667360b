//! Answers that never arrive whole — a dropped connection, a timeout after
//! sending, a truncated answer — are reported as possibly processed and
//! never resent, since a create is not idempotent. A refused connection, by
//! contrast, sent nothing.

mod common;

use std::time::{Duration, Instant};

use common::{builder, client, emulator, fault, insight};
use serde_json::json;
use used_insight::{Client, Error, TransportErrorKind};

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
