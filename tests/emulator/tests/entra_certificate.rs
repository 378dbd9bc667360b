//! Certificate client assertions at the emulated Entra ID token endpoint:
//! assertions signed with ring, checked for thumbprint, signature, audience,
//! issuer/subject, time range and replay.

mod common;

use common::entra::*;
use common::{agent, send};
use graph_emulator::EntraApp;
use serde_json::{json, Value};

fn access_token(reply: &common::Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn a_ps256_assertion_gets_a_token_graph_accepts() {
    let emu = start_with(vec![cert_app()]);
    let key = TestKey::load("entra-test-app.pem");
    let assertion = key.sign(&key.header(), &claims(&emu, TENANT, CLIENT));
    let reply = assertion_request(&emu, TENANT, CLIENT, &assertion);
    let v = reply.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    let token = access_token(&reply);
    assert_eq!(create_with(&emu, &bearer(&token)).status, 201);
    assert_eq!(emu.token_requests().len(), 1);
}

#[test]
fn rs256_and_a_legacy_sha1_x5t_are_accepted_too() {
    let emu = start_with(vec![cert_app()]);
    let key = TestKey::load("entra-test-app.pem");
    let header = json!({ "alg": "RS256", "typ": "JWT", "x5t#S256": key.x5t_s256() });
    let reply = assertion_request(
        &emu,
        TENANT,
        CLIENT,
        &key.sign(&header, &claims(&emu, TENANT, CLIENT)),
    );
    access_token(&reply);
    let header = json!({ "alg": "RS256", "x5t": key.x5t_sha1() });
    let reply = assertion_request(
        &emu,
        TENANT,
        CLIENT,
        &key.sign(&header, &claims(&emu, TENANT, CLIENT)),
    );
    access_token(&reply);
}

#[test]
fn the_registered_certificate_alone_is_enough() {
    // Only the CERTIFICATE block, registered through the control endpoint.
    let emu = start_with(Vec::new());
    let key = TestKey::load("entra-test-app.pem");
    let begin = key.pem.find("-----BEGIN CERTIFICATE-----").unwrap();
    let app =
        json!({ "tenant": TENANT, "client_id": CLIENT, "certificate_pem": &key.pem[begin..] });
    let reply = send(
        &agent(),
        "POST",
        &format!("{}/_emulator/entra/apps", emu.base_url()),
        &[common::JSON],
        Some(&app.to_string()),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let assertion = key.sign(&key.header(), &claims(&emu, TENANT, CLIENT));
    access_token(&assertion_request(&emu, TENANT, CLIENT, &assertion));
}

#[test]
fn a_non_rsa_certificate_is_refused_at_registration() {
    let emu = start_with(Vec::new());
    let ec = std::fs::read_to_string(cert_path("two_roots.pem")).unwrap();
    let app = json!({ "tenant": TENANT, "client_id": CLIENT, "certificate_pem": ec });
    let reply = send(
        &agent(),
        "POST",
        &format!("{}/_emulator/entra/apps", emu.base_url()),
        &[common::JSON],
        Some(&app.to_string()),
    );
    assert_eq!(reply.status, 400);
    assert!(reply.text().contains("not RSA"), "{}", reply.text());
}

#[test]
fn signed_with_another_key_fails_signature_validation_700027() {
    let emu = start_with(vec![cert_app()]);
    let app_key = TestKey::load("entra-test-app.pem");
    let other = TestKey::load("entra-test-other-app.pem");
    // The registered certificate's thumbprint, another key's signature.
    let assertion = other.sign(&app_key.header(), &claims(&emu, TENANT, CLIENT));
    let reply = assertion_request(&emu, TENANT, CLIENT, &assertion);
    let description = assert_entra_error(&reply, 401, "invalid_client", 700027);
    assert!(
        description.contains("Client assertion failed signature validation."),
        "{description}"
    );
}

#[test]
fn an_unregistered_certificate_is_key_not_found_700027() {
    let emu = start_with(vec![cert_app()]);
    let other = TestKey::load("entra-test-other-app.pem");
    let assertion = other.sign(&other.header(), &claims(&emu, TENANT, CLIENT));
    let reply = assertion_request(&emu, TENANT, CLIENT, &assertion);
    let description = assert_entra_error(&reply, 401, "invalid_client", 700027);
    assert!(description.contains("not registered on application"));
    assert!(description.contains(&other.x5t_s256()), "{description}");

    // An app with only a secret has no key at all.
    let emu = start_with(vec![secret_app()]);
    let reply = assertion_request(&emu, TENANT, CLIENT, &assertion);
    assert_entra_error(&reply, 401, "invalid_client", 700027);
}

#[test]
fn a_tampered_payload_fails_signature_validation() {
    let emu = start_with(vec![cert_app()]);
    let key = TestKey::load("entra-test-app.pem");
    let assertion = key.sign(&key.header(), &claims(&emu, TENANT, CLIENT));
    let parts: Vec<&str> = assertion.split('.').collect();
    let mut forged = claims(&emu, TENANT, CLIENT);
    forged["exp"] = json!(unix_now() + 3000);
    let payload = base64_url(&forged.to_string());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    let reply = assertion_request(&emu, TENANT, CLIENT, &tampered);
    assert_entra_error(&reply, 401, "invalid_client", 700027);
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// Sends an assertion whose claims are the correct ones changed by `change`.
fn with_claims(change: impl FnOnce(&mut Value)) -> (common::Reply, graph_emulator::Emulator) {
    let emu = start_with(vec![cert_app()]);
    let key = TestKey::load("entra-test-app.pem");
    let mut c = claims(&emu, TENANT, CLIENT);
    change(&mut c);
    let reply = assertion_request(&emu, TENANT, CLIENT, &key.sign(&key.header(), &c));
    (reply, emu)
}

#[test]
fn the_audience_must_be_the_token_url_700023() {
    for aud in [
        json!("https://login.microsoftonline.com/aaaaaaaa-0000-4000-8000-000000000001/oauth2/v2.0/token"),
        json!("http://127.0.0.1:1/aaaaaaaa-0000-4000-8000-000000000001/oauth2/v2.0/token"),
        json!(format!("{TENANT}")),
    ] {
        let (reply, _emu) = with_claims(|c| c["aud"] = aud.clone());
        let description = assert_entra_error(&reply, 401, "invalid_client", 700023);
        assert!(
            description.contains("Client assertion audience claim does not match Realm issuer"),
            "{description}"
        );
    }
    let (reply, _emu) = with_claims(|c| {
        c.as_object_mut().unwrap().remove("aud");
    });
    assert_entra_error(&reply, 401, "invalid_client", 50027);
}

#[test]
fn the_audience_may_name_the_host_the_client_used() {
    let emu = start_with(vec![cert_app()]);
    let key = TestKey::load("entra-test-app.pem");
    let localhost_url = format!("http://localhost:{}/{TENANT}/oauth2/v2.0/token", emu.port());
    let mut c = claims(&emu, TENANT, CLIENT);
    c["aud"] = json!(localhost_url);
    let assertion = key.sign(&key.header(), &c);
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &assertion),
        ("scope", GRAPH_SCOPE),
    ]);
    // Through localhost: accepted (the Host header names it).
    let reply = send(&agent(), "POST", &localhost_url, &[FORM], Some(&body));
    access_token(&reply);
    // The same aud sent to 127.0.0.1 is another URL (and a new jti is needed).
    c["jti"] = json!("second");
    let assertion = key.sign(&key.header(), &c);
    let reply = assertion_request(&emu, TENANT, CLIENT, &assertion);
    assert_entra_error(&reply, 401, "invalid_client", 700023);
}

#[test]
fn issuer_and_subject_must_be_the_client_id_700021() {
    for claim in ["iss", "sub"] {
        let (reply, _emu) = with_claims(|c| c[claim] = json!("someone-else"));
        let description = assert_entra_error(&reply, 401, "invalid_client", 700021);
        assert!(description.contains("doesn't match 'client_id' parameter"));
    }
}

#[test]
fn the_time_range_is_checked_700024() {
    let now = unix_now();
    // (nbf, iat, exp, what the message says)
    let cases = [
        (now - 900, now - 900, now - 300, "expired"),
        (now + 600, now, now + 1200, "not valid yet"),
        (now, now, now + 2 * 3600, "more than an hour"),
    ];
    for (nbf, iat, exp, reason) in cases {
        let (reply, _emu) = with_claims(|c| {
            c["nbf"] = json!(nbf);
            c["iat"] = json!(iat);
            c["exp"] = json!(exp);
        });
        let description = assert_entra_error(&reply, 401, "invalid_client", 700024);
        assert!(
            description
                .contains("Client assertion is not within its valid time range. Current time: "),
            "{description}"
        );
        assert!(description.contains(reason), "{reason}: {description}");
    }
    // A small clock skew is tolerated.
    let (reply, _emu) = with_claims(|c| c["nbf"] = json!(now + 30));
    access_token(&reply);
    // Without nbf, iat starts the lifetime.
    let (reply, _emu) = with_claims(|c| {
        c.as_object_mut().unwrap().remove("nbf");
    });
    access_token(&reply);
    let (reply, _emu) = with_claims(|c| {
        c.as_object_mut().unwrap().remove("exp");
    });
    assert_entra_error(&reply, 401, "invalid_client", 50027);
}

#[test]
fn a_jti_is_required_and_used_once() {
    let emu = start_with(vec![cert_app()]);
    let key = TestKey::load("entra-test-app.pem");
    let assertion = key.sign(&key.header(), &claims(&emu, TENANT, CLIENT));
    access_token(&assertion_request(&emu, TENANT, CLIENT, &assertion));
    let reply = assertion_request(&emu, TENANT, CLIENT, &assertion);
    let description = assert_entra_error(&reply, 401, "invalid_client", 50027);
    assert!(description.contains("already used"), "{description}");
    // reset() forgets the assertion ids seen (and keeps start-up apps).
    emu.reset();
    access_token(&assertion_request(&emu, TENANT, CLIENT, &assertion));

    let mut c = claims(&emu, TENANT, CLIENT);
    c.as_object_mut().unwrap().remove("jti");
    let reply = assertion_request(&emu, TENANT, CLIENT, &key.sign(&key.header(), &c));
    let description = assert_entra_error(&reply, 401, "invalid_client", 50027);
    assert!(description.contains("jti"), "{description}");
}

#[test]
fn malformed_assertions_are_50027() {
    let emu = start_with(vec![cert_app()]);
    let key = TestKey::load("entra-test-app.pem");
    let c = claims(&emu, TENANT, CLIENT);
    for (assertion, needle) in [
        ("not-a-jwt".to_owned(), "3 dot-separated parts"),
        ("a.b.c.d".to_owned(), "3 dot-separated parts"),
        (
            key.sign(&json!({"alg": "HS256", "x5t#S256": key.x5t_s256()}), &c),
            "HS256",
        ),
        (
            key.sign(
                &json!({"alg": "PS256", "typ": "JWS", "x5t#S256": key.x5t_s256()}),
                &c,
            ),
            "typ",
        ),
        (
            key.sign(&json!({"alg": "PS256", "typ": "JWT"}), &c),
            "x5t#S256",
        ),
    ] {
        let reply = assertion_request(&emu, TENANT, CLIENT, &assertion);
        let description = assert_entra_error(&reply, 401, "invalid_client", 50027);
        assert!(description.contains(needle), "{needle}: {description}");
    }
}

#[test]
fn an_app_may_have_a_secret_and_a_certificate() {
    let emu = start_with(vec![EntraApp {
        secret: Some(SECRET.into()),
        ..cert_app()
    }]);
    let key = TestKey::load("entra-test-app.pem");
    access_token(&secret_request(&emu, SECRET));
    let assertion = key.sign(&key.header(), &claims(&emu, TENANT, CLIENT));
    access_token(&assertion_request(&emu, TENANT, CLIENT, &assertion));
}
