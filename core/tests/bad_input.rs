//! The README's "Bad input" table, Rust's column, row by row against real
//! emulators: what each class of bad input gets, and whether anything was
//! sent. (Header values have their own file, header_values.rs; NULL
//! pointers and invalid UTF-8 cannot reach Rust's `&str`.)

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use common::{builder, client, emulator, fault, insight, paths_of, TOKEN};
use graph_emulator::{
    Emulator, EmulatorConfig, ProxyCredentials, TlsOptions, TunnelConfig, TunnelProxy,
};
use serde_json::json;
use used_insight::{Client, Error, RetryPolicy, TransportErrorKind, UsedInsight};

/// A valid insight as JSON, with `patch` merged over its top level.
fn insight_json(patch: serde_json::Value) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&insight().to_json()).unwrap();
    for (key, v) in patch.as_object().unwrap() {
        value[key] = v.clone();
    }
    value.to_string()
}

/// `create_json` is refused as invalid input with problems at `paths`, each
/// reason containing the matching `reason`, and nothing is sent.
fn refused(emu: &Emulator, user_id: &str, json: &str, expected: &[(&str, &str)]) {
    let err = client(emu).create_json(user_id, json).unwrap_err();
    let Error::InvalidInput(v) = &err else {
        panic!("{json}: {err:?}")
    };
    assert_eq!(
        paths_of(v),
        expected.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        "{err}"
    );
    for (problem, (_, reason)) in v.problems().iter().zip(expected) {
        assert!(problem.reason.contains(reason), "{problem:?}");
    }
    assert!(!err.request_may_have_been_processed());
    assert!(emu.requests().is_empty(), "nothing sent for {json}");
}

#[test]
fn json_that_is_not_json_or_not_an_object_is_invalid_input() {
    let emu = emulator();
    refused(&emu, "alice", "not json", &[("", "not valid JSON")]);
    refused(
        &emu,
        "alice",
        r#"{"lastUsed": {"#,
        &[("", "not valid JSON")],
    );
    // Half a UTF-16 surrogate pair: not Unicode text, in a known string or
    // in an unknown property (kept as raw JSON and sent verbatim).
    let title = insight_json(json!({"resourceVisualization": {"title": "@", "type": "Word"}}));
    refused(
        &emu,
        "alice",
        &title.replace(r#""@""#, r#""\ud800""#),
        &[("", "not valid JSON")],
    );
    refused(
        &emu,
        "alice",
        &insight_json(json!({"note": "@"})).replace(r#""@""#, r#""a\udc00""#),
        &[("note", "lone surrogate")],
    );
    refused(&emu, "alice", "[1, 2]", &[("", "expected an object")]);
}

#[test]
fn wrong_types_are_invalid_input_at_their_path() {
    let emu = emulator();
    refused(
        &emu,
        "alice",
        &insight_json(json!({"resourceVisualization": {"title": 5, "type": "Word"}})),
        &[("resourceVisualization.title", "expected a string")],
    );
    refused(
        &emu,
        "alice",
        &insight_json(json!({"lastUsed": []})),
        &[("lastUsed", "expected an object")],
    );
}

#[test]
fn missing_objects_are_each_named() {
    let emu = emulator();
    refused(
        &emu,
        "alice",
        "{}",
        &[
            ("lastUsed", "is required"),
            ("resourceVisualization", "is required"),
            ("resourceReference", "is required"),
        ],
    );
}

#[test]
fn bad_dates_are_invalid_input_at_their_path() {
    let emu = emulator();
    for date in [
        "2026-11-28 10:00",
        "2026-11-28T10:00:00",
        "2026-02-30T10:00:00Z",
        "tomorrow",
    ] {
        refused(
            &emu,
            "alice",
            &insight_json(json!({"lastUsed": {"lastAccessedDateTime": date}})),
            &[("lastUsed.lastAccessedDateTime", "date-time")],
        );
    }
}

#[test]
fn bad_urls_are_invalid_input_or_invalid_config() {
    let emu = emulator();
    for url in [
        "javascript:alert(1)",
        "/relative/report.docx",
        "ftp://contoso.com/report.docx",
    ] {
        refused(
            &emu,
            "alice",
            &insight_json(json!({"resourceReference": {"webUrl": url}})),
            &[("resourceReference.webUrl", "http or https")],
        );
    }
    for base in [
        "not a url",
        "ftp://graph.example.com",
        "http://graph.example.com",
    ] {
        let err = Client::builder()
            .token(TOKEN)
            .base_url(base)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "{base}: {err:?}");
        assert!(err.to_string().contains(&format!("`{base}`")), "{err}");
    }
}

#[test]
fn bad_user_ids_are_invalid_input_at_users_id() {
    let emu = emulator();
    let long = "a".repeat(1025);
    for (user_id, reason) in [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("..", "`.` or `..`"),
        (long.as_str(), "at most 1024"),
        ("alice\r\nX-Injected: 1", "control characters"),
        ("alice\u{0}", "control characters"),
    ] {
        refused(&emu, user_id, &insight().to_json(), &[("usersId", reason)]);
    }
}

#[test]
fn a_body_over_4_mib_is_invalid_input() {
    let emu = emulator();
    refused(
        &emu,
        "alice",
        &insight_json(json!({"pad": "a".repeat(4 * 1024 * 1024)})),
        &[("", "at most 4194304")],
    );
}

/// Answers that are not what Graph sends: a 2xx means Graph did the work,
/// so the error says it may have been processed; an error status is a Graph
/// error whatever its body.
#[test]
fn answers_that_are_not_json_not_a_used_insight_or_oversized() {
    let emu = emulator();
    let c = client(&emu);
    for (answer, what) in [
        (
            json!({"status": 201, "body": "<html>ok</html>"}),
            "not JSON",
        ),
        (
            json!({"status": 201, "body": "{\"lastUsed\": 5}", "content_type": "application/json"}),
            "not a usedInsight",
        ),
        (json!({"body_bytes": 5u64 * 1024 * 1024}), "over 4 MiB"),
    ] {
        emu.push_faults([fault(answer)]);
        let err = c.create("alice", &insight()).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{what}: {err:?}");
        assert!(err.request_may_have_been_processed(), "{what}");
    }
    emu.push_faults([fault(
        json!({"status": 502, "body": "<html>Bad gateway</html>"}),
    )]);
    let err = c.create("alice", &insight()).unwrap_err();
    let Error::Graph(g) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(g.status, 502);
    assert!(g.body_snippet.as_deref().unwrap().contains("Bad gateway"));
    assert!(!err.request_may_have_been_processed());
    // Cut short after Graph stored it: the connection was lost, processed.
    emu.push_faults([fault(json!({"truncate": true}))]);
    let err = c.create("alice", &insight()).unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::ConnectionLost);
    assert!(err.request_may_have_been_processed());
}

/// The transport kind of a failed create, after checking that it says
/// nothing was sent and that nothing reached `emu`.
fn not_sent(emu: &Emulator, result: Result<UsedInsight, Error>) -> (TransportErrorKind, String) {
    let err = result.unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert!(!err.request_may_have_been_processed(), "{err}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    assert!(emu.requests().is_empty());
    (t.kind, err.to_string())
}

#[test]
fn tls_and_proxy_failures_are_transport_errors_and_nothing_is_sent() {
    let https = Emulator::start(EmulatorConfig {
        token: Some(TOKEN.into()),
        tls: Some(TlsOptions::default()),
        ..EmulatorConfig::default()
    })
    .unwrap();
    // Its throwaway CA is not trusted.
    let (kind, _) = not_sent(&https, client(&https).create("alice", &insight()));
    assert_eq!(kind, TransportErrorKind::Tls);

    let emu = emulator();
    let mut config = TunnelConfig::to(SocketAddr::from((Ipv4Addr::LOCALHOST, emu.port())));
    config.credentials = Some(ProxyCredentials {
        user: "user".into(),
        password: "right".into(),
    });
    let proxy = TunnelProxy::start(config).unwrap();
    let with = |url: String| {
        builder(&emu)
            .proxy(url)
            .retry_policy(RetryPolicy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
            .create("alice", &insight())
    };
    let (kind, shown) = not_sent(&emu, with(proxy.url_with("user", "wrong")));
    assert_eq!(kind, TransportErrorKind::Proxy, "{shown}");
    assert!(shown.contains("407") && !shown.contains("wrong"), "{shown}");

    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (kind, shown) = not_sent(&emu, with(format!("http://127.0.0.1:{closed}")));
    assert_eq!(kind, TransportErrorKind::Connect, "{shown}");
    assert!(shown.contains("proxy"), "{shown}");

    for url in ["socks5://127.0.0.1:1080", "http://[::1"] {
        let err = builder(&emu).proxy(url).build().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "{url}: {err:?}");
        assert!(err.to_string().contains("proxy"), "{err}");
    }
}
