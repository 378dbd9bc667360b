//! Every string that ends up in a request header — a static token, a token
//! provider's, a credential's (the caller's own, or Entra's answer), the
//! user agent, the proxy's user name and password — is refused when it
//! holds CR, LF or another byte a header cannot carry, with an error naming
//! the setting, never echoing the value, and before anything is sent.
//! (`IDENTITY_HEADER` is checked the same way; see managed_identity.rs.)

mod common;

use std::time::{Duration, SystemTime};

use common::entra::{self, form_value, graph_requests, CLIENT, SECRET, TENANT};
use common::{builder, emulator, fault, insight};
use serde_json::json;
use used_insight::credentials::{AccessToken, ClientSecretCredential, TokenCredential};
use used_insight::{Client, Error};

/// What each value is, and the value: CR/LF (header injection), each
/// alone, NUL, DEL, another control character, a tab, non-ASCII.
const BAD: [(&str, &str); 8] = [
    ("CR LF", "abc\r\nX-Injected: 1"),
    ("LF", "abc\nX-Injected: 1"),
    ("CR", "abc\rX-Injected: 1"),
    ("NUL", "abc\0X-Injected"),
    ("DEL", "abc\x7fX-Injected"),
    ("form feed", "abc\x0cX-Injected"),
    ("tab", "abc\tX-Injected"),
    ("non-ASCII", "abc-X-Injected-tökén"),
];

/// The message names what is wrong and shows nothing of the value.
fn check_message(err: &Error, names: &str, what: &str) {
    let shown = err.to_string();
    assert!(shown.contains(names), "{what}: {shown}");
    assert!(
        shown.contains("cannot carry") || shown.contains("is empty"),
        "{what}: {shown}"
    );
    assert!(
        !shown.contains("Injected"),
        "{what}: the value is echoed: {shown}"
    );
}

#[test]
fn a_static_token_that_is_not_a_header_value_is_refused_by_build() {
    for (what, token) in BAD.into_iter().chain([("empty", "")]) {
        let err = Client::builder().token(token).build().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "{what}: {err:?}");
        check_message(&err, "the token", what);
    }
}

#[test]
fn a_user_agent_that_is_not_a_header_value_is_refused_by_build() {
    for (what, user_agent) in BAD.into_iter().chain([("empty", "")]) {
        let err = Client::builder()
            .token("t")
            .user_agent(user_agent)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "{what}: {err:?}");
        check_message(&err, "the user agent", what);
    }
}

#[test]
fn a_token_provider_s_bad_token_is_refused_and_nothing_is_sent() {
    let emu = emulator();
    for (what, token) in BAD.into_iter().chain([("empty", "")]) {
        let client = builder(&emu)
            .token_provider(move || Ok(token.to_owned()))
            .build()
            .unwrap();
        let err = client.create("alice", &insight()).unwrap_err();
        assert!(matches!(err, Error::TokenProvider(_)), "{what}: {err:?}");
        check_message(&err, "token provider", what);
        assert!(
            err.to_string().contains("nothing was sent to Graph"),
            "{err}"
        );
        assert!(!err.request_may_have_been_processed());
    }
    assert!(emu.requests().is_empty(), "nothing reached the emulator");
}

/// A `TokenCredential` of the caller's own that returns a fixed token.
struct Fixed(&'static str);

impl TokenCredential for Fixed {
    fn get_token(&self, _: &[&str]) -> Result<AccessToken, Error> {
        Ok(AccessToken::new(
            self.0,
            SystemTime::now() + Duration::from_secs(3600),
        ))
    }
}

#[test]
fn a_credential_s_bad_token_is_refused_and_nothing_is_sent() {
    let emu = emulator();
    for (what, token) in BAD {
        let client = builder(&emu).credential(Fixed(token)).build().unwrap();
        let err = client.create("alice", &insight()).unwrap_err();
        assert!(matches!(err, Error::TokenProvider(_)), "{what}: {err:?}");
        check_message(&err, "the token the credential returned", what);
        assert!(!err.request_may_have_been_processed());
    }
    assert!(emu.requests().is_empty(), "nothing reached the emulator");
}

/// Entra (or whatever answers as it) handing out an access token with CR/LF
/// in it: refused as it is read, so Graph never sees a request.
#[test]
fn an_access_token_from_entra_with_crlf_is_refused_and_graph_gets_nothing() {
    let emu = entra::entra();
    let credential = ClientSecretCredential::new(TENANT, CLIENT, SECRET)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    let client = entra::builder(&emu).credential(credential).build().unwrap();
    for (what, token) in BAD {
        let body = json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token});
        emu.push_faults([fault(json!({
            "path_contains": "/oauth2/v2.0/token", "status": 200,
            "body": body.to_string(), "content_type": "application/json"
        }))]);
        let err = client.create("alice", &insight()).unwrap_err();
        assert!(matches!(err, Error::TokenProvider(_)), "{what}: {err:?}");
        check_message(&err, "the access_token in the answer", what);
        assert!(
            err.to_string().contains("nothing was sent to Graph"),
            "{err}"
        );
    }
    assert_eq!(emu.token_requests().len(), BAD.len(), "Entra was asked");
    assert!(
        graph_requests(&emu).is_empty(),
        "Graph got nothing: {:?}",
        graph_requests(&emu)
    );
    // The client secret went in the form, where it is encoded, not a header.
    let request = &emu.token_requests()[0];
    assert_eq!(
        form_value(&request.body, "client_secret").as_deref(),
        Some(SECRET)
    );
}

/// A proxy's user name or password becomes `Proxy-Authorization: Basic
/// base64(user:password)`; base64 cannot carry CR/LF into the header, but
/// Basic credentials must not hold control characters (RFC 7617), and a
/// raw CR/LF makes the URL invalid. Either way: refused by `build()`,
/// naming the proxy without its credentials.
#[test]
fn proxy_credentials_with_control_characters_are_refused_by_build() {
    for (what, url) in [
        (
            "encoded CR LF in the password",
            "http://user:Zq%0D%0AX-Injected:1@127.0.0.1:3128",
        ),
        (
            "encoded LF in the user name",
            "http://Zq%0Aer-Injected:pw@127.0.0.1:3128",
        ),
        (
            "encoded NUL in the password",
            "http://user:Zq%00Injected@127.0.0.1:3128",
        ),
        (
            "raw CR LF in the password",
            "http://user:Zq\r\nX-Injected:1@127.0.0.1:3128",
        ),
    ] {
        let err = Client::builder().token("t").proxy(url).build().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "{what}: {err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains("proxy `http://127.0.0.1:3128`"),
            "{what}: {shown}"
        );
        assert!(
            !shown.contains("Injected") && !shown.contains("Zq"),
            "{what}: {shown}"
        );
    }
    // Encoded characters that are not control characters are fine.
    Client::builder()
        .token("t")
        .proxy("http://us%40er:p%3Ass%20w@127.0.0.1:3128")
        .build()
        .unwrap();
}
