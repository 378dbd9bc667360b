//! The token: refused before sending when it is not a valid header value,
//! fetched from a provider on every attempt (a failing provider reported,
//! nothing sent), refused by Graph when wrong, and never printed in `Debug`,
//! `Display` or errors.

mod common;

use common::{builder, client, emulator, fault, insight, TOKEN};
use serde_json::json;
use used_insight::{Client, Error};

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
