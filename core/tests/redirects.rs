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

/// A redirect to anything but http or https is refused, saying so and that
/// Graph did not carry the create out (it answered with a redirect).
#[test]
fn redirects_to_other_schemes_are_refused_and_said_not_processed() {
    let emu = emulator();
    let c = client(&emu);
    for location in [
        "ftp://files.example.com/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<b>hi</b>",
    ] {
        emu.reset();
        emu.push_faults([fault(
            json!({"status": 302, "headers": {"Location": location}}),
        )]);
        let err = c.create("alice", &insight()).unwrap_err();
        let Error::Transport(t) = &err else {
            panic!("{location}: {err:?}")
        };
        let scheme = location.split(':').next().unwrap();
        assert_eq!(t.kind, TransportErrorKind::Redirect, "{location}");
        let shown = err.to_string();
        assert!(
            shown.contains("HTTP 302")
                && shown.contains(&format!("`{scheme}:`"))
                && shown.contains("only http and https")
                && shown.contains("not carried out"),
            "{shown}"
        );
        assert!(!err.request_may_have_been_processed(), "{location}");
        assert_eq!(emu.requests().len(), 1, "{location}: nothing followed");
        assert_eq!(emu.stored_count(), 0);
    }
}

#[test]
fn a_redirect_without_location_is_refused() {
    let emu = emulator();
    emu.push_faults([fault(json!({"status": 307}))]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    assert!(err.to_string().contains("no Location"), "{err}");
    assert!(!err.request_may_have_been_processed());
}

/// A relative `Location` is resolved against the URL that answered, and
/// stays on the same origin, so the token goes along.
#[test]
fn a_relative_location_is_resolved_against_the_request_url() {
    let emu = emulator();
    emu.push_faults([fault(
        json!({"status": 307, "headers": {"Location": "../../bob/insights/./used#ignored"}}),
    )]);
    client(&emu).create("alice", &insight()).unwrap();
    let r = emu.requests();
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].path, "/v1.0/users/bob/insights/used");
    assert_eq!(
        header(&r[1], "authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(emu.stored("bob").len(), 1);
}

/// 303 See Other says the create was carried out: a failure fetching its
/// result says the request may have been processed, and is never retried
/// (the 503 here would otherwise send the create again).
#[test]
fn after_a_303_a_failure_says_processed_and_nothing_is_resent() {
    let emu = emulator();
    let result = format!("{}/v1.0/users/alice/insights/used", emu.base_url());
    emu.push_faults([
        fault(json!({"status": 303, "headers": {"Location": result}})),
        fault(json!({"method": "GET", "status": 503, "retry_after": "0"})),
    ]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    assert!(err.request_may_have_been_processed(), "{err}");
    assert!(err.to_string().contains("303 See Other"), "{err}");
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    let methods: Vec<_> = emu.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "GET"], "the create is not sent again");

    emu.reset();
    emu.push_faults([fault(
        json!({"status": 303, "headers": {"Location": "ftp://files.example.com/x"}}),
    )]);
    let err = client(&emu).create("alice", &insight()).unwrap_err();
    assert!(err.request_may_have_been_processed(), "{err}");
    assert!(err.to_string().contains("was carried out"), "{err}");
}
