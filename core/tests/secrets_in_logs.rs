//! No secret reaches the `log` facade: every record of every crate (ours,
//! ureq, rustls) is captured at TRACE through whole creates — first tries,
//! retries after 503 and 429, refusals (401, 403), Entra refusing a secret
//! — with a static token, a token provider, a client secret credential and
//! a certificate credential, all through a proxy that requires a user name
//! and password; then every secret is searched for in the records' text.
//!
//! One crate's TRACE records are the exception, and this test pins it:
//! ureq-proto (under ureq) dumps every HTTP exchange byte by byte at TRACE
//! under `ureq_proto::util`, tokens included. A library cannot filter
//! another crate's records, so core warns once when the installed logger
//! would record them (`wire_trace`), and the capture here, like the
//! application's should, keeps `ureq_proto` below TRACE — except in the
//! second part, which lets the dumps in to prove the warning and the
//! hazard it names (a dump shows 16 bytes a line, so the search puts the
//! lines back together first). Its own test binary, since a logger is
//! process-global.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use common::entra::{APP_PEM, CERT_CLIENT, TENANT};
use common::{fault, insight};
use graph_emulator::{
    Emulator, EmulatorConfig, EntraApp, ProxyCredentials, TunnelConfig, TunnelProxy,
};
use serde_json::json;
use used_insight::credentials::{CertificateCredential, ClientSecretCredential};
use used_insight::{Client, ClientBuilder, Error, RetryPolicy};

/// Every secret is made for this test, long and unlike anything else, so a
/// match is a leak and not a coincidence.
const STATIC_TOKEN: &str = "static-7Qm2Vx9Lr4Tz8Kp1Wd6Hs3";
const PROVIDED_TOKEN: &str = "provided-3Jf8Nc5Bq2Xy7Gv4Rt9Ue1";
const REFUSED_TOKEN: &str = "refused-8Dk4Mw1Pz6Ls9Hy3Cv7Qn2";
const CLIENT_SECRET: &str = "secret-5Yt2Gq8Wm4Zx1Nr7Kb3Pf9";
const WRONG_SECRET: &str = "wrong-secret-2Hc6Tv9Lq3Sj8Wd1Rx5";
const PROXY_USER: &str = "proxy-user";
const PROXY_PASSWORD: &str = "pw-4Rn8Ks1Vb6Qz3Xm9Jt2Lc7";

/// An app of its own for the secret: common::entra's secret holds a `~`,
/// which the token request's form escapes, so a plain search would miss it.
const SECRET_CLIENT: &str = "cccccccc-0000-4000-8000-00000000000a";

static RECORDS: Mutex<Vec<Captured>> = Mutex::new(Vec::new());

/// Whether ureq-proto's TRACE dumps are let in (the second part only).
static ACCEPT_WIRE_DUMPS: AtomicBool = AtomicBool::new(false);

#[derive(Clone, Debug)]
struct Captured {
    level: log::Level,
    target: String,
    text: String,
}

/// Takes every record of every crate at every level, but ureq-proto's
/// TRACE dumps only when [`ACCEPT_WIRE_DUMPS`] says so.
struct CaptureAll;

fn is_wire_dump(metadata: &log::Metadata) -> bool {
    metadata.level() == log::Level::Trace && metadata.target().starts_with("ureq_proto")
}

impl log::Log for CaptureAll {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        !is_wire_dump(metadata) || ACCEPT_WIRE_DUMPS.load(Ordering::SeqCst)
    }
    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        RECORDS.lock().unwrap().push(Captured {
            level: record.level(),
            target: record.target().to_owned(),
            text: record.args().to_string(),
        });
    }
    fn flush(&self) {}
}

fn capture() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&CaptureAll).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// An emulator that accepts the static token and the tokens it issues to
/// the two test apps; any other token is refused with 401.
fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(STATIC_TOKEN.into()),
        entra_apps: vec![
            EntraApp {
                tenant: TENANT.into(),
                client_id: SECRET_CLIENT.into(),
                secret: Some(CLIENT_SECRET.into()),
                ..EntraApp::default()
            },
            EntraApp {
                tenant: TENANT.into(),
                client_id: CERT_CLIENT.into(),
                certificate_pem: Some(APP_PEM.into()),
                ..EntraApp::default()
            },
        ],
        ..EmulatorConfig::default()
    })
    .expect("emulator starts")
}

/// A CONNECT proxy in front of the emulator that requires the proxy
/// credentials (407 without them).
fn proxy_for(emu: &Emulator) -> TunnelProxy {
    let mut config = TunnelConfig::to(SocketAddr::from((Ipv4Addr::LOCALHOST, emu.port())));
    config.credentials = Some(ProxyCredentials {
        user: PROXY_USER.into(),
        password: PROXY_PASSWORD.into(),
    });
    TunnelProxy::start(config).expect("the proxy starts")
}

fn builder(emu: &Emulator, proxy: &TunnelProxy) -> ClientBuilder {
    Client::builder()
        .base_url(emu.base_url())
        .proxy(proxy.url_with(PROXY_USER, PROXY_PASSWORD))
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(10)))
}

/// Runs a success, a retried success (503 then 429) and a refusal (403)
/// through `client`.
fn create_retry_and_fail(emu: &Emulator, client: &Client) {
    client.create("alice@contoso.com", &insight()).unwrap();
    emu.push_faults([
        fault(json!({"path_contains": "/insights/used", "status": 503, "retry_after": "0"})),
        fault(json!({"path_contains": "/insights/used", "status": 429, "retry_after": "0"})),
    ]);
    client.create("alice@contoso.com", &insight()).unwrap();
    emu.push_faults([fault(json!({
        "path_contains": "/insights/used", "status": 403,
        "code": "ErrorAccessDenied", "message": "Access is denied."
    }))]);
    let err = client.create("alice@contoso.com", &insight()).unwrap_err();
    assert_eq!(err.http_status(), Some(403), "{err}");
}

/// The bytes of ureq-proto's hex dumps, in the order they were logged:
/// each dump line is 16 bytes as hex (`7465 7374 ...`, `--` past the end)
/// followed by the same bytes as text.
fn dumped_bytes(records: &[Captured]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for record in records
        .iter()
        .filter(|r| r.target.starts_with("ureq_proto"))
    {
        let groups: Vec<&str> = record.text.split(' ').take(8).collect();
        if groups.len() < 8 || !groups.iter().all(|g| is_hex_group(g)) {
            continue;
        }
        for group in groups {
            for pair in [&group[..2], &group[2..]] {
                if let Ok(byte) = u8::from_str_radix(pair, 16) {
                    bytes.push(byte);
                }
            }
        }
    }
    bytes
}

fn is_hex_group(group: &str) -> bool {
    group.len() == 4 && group.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Where `secret` shows in the captured records: whole in one record's
/// text, or in the dumped bytes put back together.
fn find_leak(records: &[Captured], dumped: &str, secret: &str) -> Option<String> {
    if let Some(record) = records.iter().find(|r| r.text.contains(secret)) {
        return Some(format!("record {record:?}"));
    }
    dumped.find(secret).map(|at| {
        let before: String = dumped[..at].chars().rev().take(40).collect();
        let before: String = before.chars().rev().collect();
        format!("ureq-proto's hex dump, after `{before}`")
    })
}

#[test]
fn no_token_secret_assertion_or_proxy_password_is_logged_at_any_level() {
    capture();
    let emu = emulator();
    let proxy = proxy_for(&emu);

    // A static token: success, retries, a 403.
    let client = builder(&emu, &proxy).token(STATIC_TOKEN).build().unwrap();
    create_retry_and_fail(&emu, &client);

    // A token Graph refuses (401), from a token provider.
    let client = builder(&emu, &proxy).token(REFUSED_TOKEN).build().unwrap();
    assert_eq!(
        client
            .create("alice", &insight())
            .unwrap_err()
            .http_status(),
        Some(401)
    );
    let client = builder(&emu, &proxy)
        .token_provider(|| Ok(PROVIDED_TOKEN.to_owned()))
        .build()
        .unwrap();
    assert_eq!(
        client
            .create("alice", &insight())
            .unwrap_err()
            .http_status(),
        Some(401)
    );

    // A client secret: its token request retried once (503), then Graph.
    emu.push_faults([fault(json!({
        "path_contains": "/oauth2/v2.0/token", "status": 503, "retry_after": "0"
    }))]);
    let secret = ClientSecretCredential::new(TENANT, SECRET_CLIENT, CLIENT_SECRET)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    create_retry_and_fail(
        &emu,
        &builder(&emu, &proxy).credential(secret).build().unwrap(),
    );

    // A certificate: a signed client assertion.
    let certificate = CertificateCredential::from_pem(TENANT, CERT_CLIENT, APP_PEM)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    create_retry_and_fail(
        &emu,
        &builder(&emu, &proxy)
            .credential(certificate)
            .build()
            .unwrap(),
    );

    // Entra refuses a wrong secret.
    let wrong = ClientSecretCredential::new(TENANT, SECRET_CLIENT, WRONG_SECRET)
        .unwrap()
        .authority(emu.base_url())
        .unwrap();
    let err = builder(&emu, &proxy)
        .credential(wrong)
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    assert!(matches!(err, Error::TokenProvider(_)), "{err:?}");

    // Every secret the wire carried, read back from what the emulator got.
    let mut secrets = vec![
        STATIC_TOKEN.to_owned(),
        PROVIDED_TOKEN.to_owned(),
        REFUSED_TOKEN.to_owned(),
        CLIENT_SECRET.to_owned(),
        WRONG_SECRET.to_owned(),
        PROXY_PASSWORD.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(format!("{PROXY_USER}:{PROXY_PASSWORD}")),
    ];
    let mut issued = 0;
    let mut assertions = 0;
    for request in emu.requests() {
        if let Some(bearer) = request.headers.get("authorization") {
            let token = bearer.trim_start_matches("Bearer ").to_owned();
            if !secrets.contains(&token) {
                issued += 1;
                secrets.push(token);
            }
        }
        if let Some(assertion) = common::entra::form_value(&request.body, "client_assertion") {
            assertions += 1;
            secrets.push(assertion);
        }
    }
    assert!(
        issued >= 2 && assertions >= 1,
        "issued tokens and an assertion were sent"
    );
    assert!(!proxy.requests().is_empty(), "the proxy was used");
    assert_eq!(
        proxy.requests().iter().filter(|r| r.status == 200).count(),
        proxy.requests().len(),
        "every tunnel was opened with the credentials"
    );

    let records = std::mem::take(&mut *RECORDS.lock().unwrap());
    assert!(
        records.iter().any(|r| r.target.starts_with("used_insight")),
        "our records were captured"
    );
    assert!(
        records
            .iter()
            .any(|r| r.target.starts_with("ureq") && r.level == log::Level::Debug),
        "ureq's records were captured"
    );
    assert!(
        !records.iter().any(is_wire_warning),
        "no warning while ureq-proto's dumps are filtered out"
    );
    let leaks = leaks_in(&records, &secrets);
    assert!(
        leaks.is_empty(),
        "secrets in the logs:\n{}",
        leaks.join("\n")
    );

    // Part two: a logger that lets ureq-proto's TRACE dumps in.
    ACCEPT_WIRE_DUMPS.store(true, Ordering::SeqCst);
    let client = builder(&emu, &proxy).token(STATIC_TOKEN).build().unwrap();
    client.create("alice", &insight()).unwrap();
    client.create("alice", &insight()).unwrap();
    let records = std::mem::take(&mut *RECORDS.lock().unwrap());
    let warnings: Vec<_> = records.iter().filter(|r| is_wire_warning(r)).collect();
    assert_eq!(warnings.len(), 1, "warned once: {warnings:#?}");
    assert_eq!(warnings[0].level, log::Level::Warn);
    assert!(
        warnings[0].text.contains("RUST_LOG=trace,ureq_proto=debug"),
        "{warnings:?}"
    );
    let (dumps, others): (Vec<_>, Vec<_>) = records.into_iter().partition(|r| {
        is_wire_dump(
            &log::Metadata::builder()
                .level(r.level)
                .target(&r.target)
                .build(),
        )
    });
    assert!(
        leaks_in(&others, &secrets).is_empty(),
        "only the dumps carry a secret"
    );
    assert_eq!(
        leaks_in(&dumps, &[STATIC_TOKEN.to_owned()]).len(),
        1,
        "the hazard the warning names: ureq-proto's dumps carry the token"
    );
}

/// Core's warning that ureq-proto's dumps are being recorded.
fn is_wire_warning(record: &Captured) -> bool {
    record.target.starts_with("used_insight") && record.text.contains("ureq_proto")
}

/// Each secret found in `records`, and where.
fn leaks_in(records: &[Captured], secrets: &[String]) -> Vec<String> {
    let dumped = String::from_utf8_lossy(&dumped_bytes(records)).into_owned();
    secrets
        .iter()
        .filter_map(|secret| {
            find_leak(records, &dumped, secret).map(|at| format!("{secret}: {at}"))
        })
        .collect()
}
