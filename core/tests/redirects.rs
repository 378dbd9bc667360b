//! Redirects against real emulators: the token follows only to the same
//! scheme, host and port, plain http is refused except to loopback, and at
//! most five redirects are followed.

mod common;

use common::{client, emulator, fault, header, insight, TOKEN};
use serde_json::json;
use used_insight::{Error, TransportErrorKind};

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
