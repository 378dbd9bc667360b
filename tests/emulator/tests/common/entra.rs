//! Helpers for the Entra ID tests: apps, token requests, Entra-shaped error
//! checks, and certificate assertions signed with ring.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use graph_emulator::{Emulator, EmulatorConfig, EntraApp};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA256};
use serde_json::{json, Value};

use super::{agent, send, Reply};

pub const TENANT: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const CLIENT: &str = "cccccccc-0000-4000-8000-000000000001";
pub const SECRET: &str = "test-only-secret~value";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

pub fn secret_app() -> EntraApp {
    EntraApp {
        tenant: TENANT.into(),
        client_id: CLIENT.into(),
        secret: Some(SECRET.into()),
        ..EntraApp::default()
    }
}

pub fn start_with(apps: Vec<EntraApp>) -> Emulator {
    Emulator::start(EmulatorConfig {
        entra_apps: apps,
        ..EmulatorConfig::default()
    })
    .expect("emulator starts")
}

pub fn token_url(emu: &Emulator, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", emu.base_url())
}

pub fn encode(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// POSTs a form to the tenant's token endpoint.
pub fn token_request(emu: &Emulator, tenant: &str, pairs: &[(&str, &str)]) -> Reply {
    send(
        &agent(),
        "POST",
        &token_url(emu, tenant),
        &[FORM],
        Some(&form(pairs)),
    )
}

pub fn secret_request(emu: &Emulator, secret: &str) -> Reply {
    token_request(
        emu,
        TENANT,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", secret),
            ("scope", GRAPH_SCOPE),
        ],
    )
}

/// Asserts an Entra-shaped error; returns the description.
pub fn assert_entra_error(reply: &Reply, status: u16, error: &str, code: u32) -> String {
    assert_eq!(reply.status, status, "body: {}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let v = reply.json();
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["error_codes"], json!([code]), "{v}");
    let description = v["error_description"].as_str().expect("error_description");
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    let trace = v["trace_id"].as_str().expect("trace_id");
    let correlation = v["correlation_id"].as_str().expect("correlation_id");
    let timestamp = v["timestamp"].as_str().expect("timestamp");
    assert!(description.ends_with(&format!(
        "\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"
    )));
    assert_eq!(timestamp.len(), 20, "{timestamp}"); // 2026-01-09 02:02:12Z
    assert_eq!(reply.header("x-ms-request-id"), Some(trace));
    assert_eq!(
        v["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
    description.to_owned()
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub fn create_with(emu: &Emulator, authorization: &str) -> Reply {
    send(
        &agent(),
        "POST",
        &super::used_url(emu, "alice%40contoso.com"),
        &[("Authorization", authorization), super::JSON],
        Some(&super::insight().to_string()),
    )
}

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A test-only PEM of `core/tests/certs/`.
pub fn cert_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../core/tests/certs")
        .join(name)
}

/// A test key and its certificate, from one of the `entra-test-*.pem` files.
pub struct TestKey {
    key_pair: RsaKeyPair,
    cert_der: Vec<u8>,
    /// The whole PEM text (key and certificate).
    pub pem: String,
}

impl TestKey {
    pub fn load(name: &str) -> TestKey {
        let pem = std::fs::read_to_string(cert_path(name)).expect("read test PEM");
        let mut key = None;
        let mut cert = None;
        for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
            let block = block.expect("PEM block");
            match block.label.as_str() {
                "PRIVATE KEY" => key = Some(block.contents),
                "CERTIFICATE" => cert = Some(block.contents),
                _ => {}
            }
        }
        TestKey {
            key_pair: RsaKeyPair::from_pkcs8(&key.expect("a PRIVATE KEY block"))
                .expect("RSA PKCS#8 key"),
            cert_der: cert.expect("a CERTIFICATE block"),
            pem,
        }
    }

    /// base64url SHA-256 of the certificate DER.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &self.cert_der))
    }

    /// base64url SHA-1 of the certificate DER (the legacy `x5t`).
    pub fn x5t_sha1(&self) -> String {
        URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            &self.cert_der,
        ))
    }

    /// The header a correct credential sends: PS256, JWT, x5t#S256.
    pub fn header(&self) -> Value {
        json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256() })
    }

    /// Signs `header.claims` with this key (RS256 when the header says so,
    /// else PS256).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let padding: &'static dyn ring::signature::RsaEncoding = if header["alg"] == "RS256" {
            &RSA_PKCS1_SHA256
        } else {
            &RSA_PSS_SHA256
        };
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                padding,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("sign");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The claims a correct credential sends: aud = the token URL, iss = sub =
/// client id, a fresh jti, valid from now for 10 minutes.
pub fn claims(emu: &Emulator, tenant: &str, client_id: &str) -> Value {
    let now = unix_now();
    json!({
        "aud": token_url(emu, tenant),
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    })
}

/// A token request authenticated by this client assertion.
pub fn assertion_request(emu: &Emulator, tenant: &str, client_id: &str, assertion: &str) -> Reply {
    token_request(
        emu,
        tenant,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
            ("scope", GRAPH_SCOPE),
        ],
    )
}

/// An app authenticating with the certificate of `entra-test-app.pem`.
pub fn cert_app() -> EntraApp {
    EntraApp {
        tenant: TENANT.into(),
        client_id: CLIENT.into(),
        certificate_pem: Some(TestKey::load("entra-test-app.pem").pem),
        ..EntraApp::default()
    }
}
