//! The pinned CONNECT proxy: the library (`TunnelProxy`) and the
//! `tunnel-proxy` binary, driven by ureq (which tunnels plain http with
//! `CONNECT` too) and by raw requests. Every tunnel leads to the emulator,
//! whatever host the client named, so nothing here leaves loopback.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use graph_emulator::{Emulator, ProxyCredentials, ProxyRequest, TunnelConfig, TunnelProxy};

const BIN: &str = env!("CARGO_BIN_EXE_tunnel-proxy");

/// An agent going through `proxy` (a URL), trusting `ca_pem` alone when
/// given.
fn proxied_agent(proxy: &str, ca_pem: Option<&str>) -> ureq::Agent {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .proxy(Some(ureq::Proxy::new(proxy).expect("a proxy URL")));
    if let Some(pem) = ca_pem {
        let ca = Certificate::from_pem(pem.as_bytes()).expect("CA PEM parses");
        config = config.tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(&[ca]))
                .build(),
        );
    }
    config.build().into()
}

fn to(emu: &Emulator) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, emu.port()))
}

/// A create for Graph's host (plain http: no certificate to fake), which
/// only the tunnel can take to the emulator.
fn create_via(agent: &ureq::Agent) -> Result<Reply, ureq::Error> {
    try_send(
        agent,
        "POST",
        "http://graph.microsoft.com/v1.0/users/u/insights/used",
        &[AUTH, JSON],
        Some(&insight().to_string()),
    )
}

fn connect(target: &str, user: Option<&str>, status: u16) -> ProxyRequest {
    ProxyRequest {
        method: "CONNECT".into(),
        target: target.into(),
        user: user.map(str::to_owned),
        status,
    }
}

#[test]
fn every_tunnel_leads_to_the_pinned_address_whatever_the_host() {
    let emu = start();
    let proxy = TunnelProxy::start(TunnelConfig::to(to(&emu))).unwrap();
    assert!(proxy.url().starts_with("http://127.0.0.1:"));
    assert_eq!(proxy.ca_pem(), None);

    let reply = create_via(&proxied_agent(&proxy.url_with("someone", "pw"), None)).unwrap();

    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(emu.stored("u").len(), 1);
    assert_eq!(
        emu.requests()[0].headers["host"],
        "graph.microsoft.com",
        "the request is the client's, unchanged"
    );
    // Without required credentials, any sent are ignored; the user is kept.
    assert_eq!(
        proxy.requests(),
        [connect("graph.microsoft.com:80", Some("someone"), 200)]
    );
    assert_eq!(proxy.connects(), ["graph.microsoft.com:80"]);
}

#[test]
fn required_credentials_are_checked_and_the_password_never_kept() {
    let emu = start();
    let mut config = TunnelConfig::to(to(&emu));
    config.credentials = Some(ProxyCredentials {
        user: "u".into(),
        password: "s3cret".into(),
    });
    assert!(!format!("{config:?}").contains("s3cret"));
    let proxy = TunnelProxy::start(config).unwrap();

    for url in [proxy.url().to_owned(), proxy.url_with("u", "wrong")] {
        let err = create_via(&proxied_agent(&url, None)).unwrap_err();
        assert!(
            matches!(&err, ureq::Error::ConnectProxyFailed(r) if r.contains("407")),
            "{err:?}"
        );
    }
    let reply = create_via(&proxied_agent(&proxy.url_with("u", "s3cret"), None)).unwrap();
    assert_eq!(reply.status, 201);

    let target = "graph.microsoft.com:80";
    assert_eq!(
        proxy.requests(),
        [
            connect(target, None, 407),
            connect(target, Some("u"), 407),
            connect(target, Some("u"), 200),
        ]
    );
    assert!(!format!("{:?}", proxy.requests()).contains("s3cret"));
    assert_eq!(
        emu.requests().len(),
        1,
        "only the authorised create arrived"
    );
}

#[test]
fn other_methods_bad_heads_and_a_closed_destination_are_answered_and_recorded() {
    let emu = start();
    let proxy = TunnelProxy::start(TunnelConfig::to(to(&emu))).unwrap();
    let get = raw_exchange(
        proxy.port(),
        b"GET http://graph.microsoft.com/ HTTP/1.1\r\nHost: graph.microsoft.com\r\n\r\n",
    );
    let reply = parse_raw(&get);
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("CONNECT"));
    assert_eq!(
        parse_raw(&raw_exchange(proxy.port(), b"nonsense\r\n\r\n")).status,
        400
    );
    assert!(emu.requests().is_empty(), "neither reached the emulator");

    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .unwrap();
    let nowhere = TunnelProxy::start(TunnelConfig::to(closed)).unwrap();
    let reply = parse_raw(&raw_exchange(
        nowhere.port(),
        b"CONNECT graph.microsoft.com:443 HTTP/1.1\r\n\r\n",
    ));
    assert_eq!(reply.status, 502);

    let statuses: Vec<_> = proxy
        .requests()
        .iter()
        .chain(&nowhere.requests())
        .map(|r| (r.method.clone(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("GET".to_owned(), 405),
            (String::new(), 400),
            ("CONNECT".to_owned(), 502)
        ]
    );
}

#[test]
fn an_https_proxy_needs_its_ca_trusted() {
    let emu = start();
    let mut config = TunnelConfig::to(to(&emu));
    config.tls = true;
    let proxy = TunnelProxy::start(config).unwrap();
    assert!(proxy.url().starts_with("https://127.0.0.1:"));
    let pem = proxy.ca_pem().unwrap();
    assert_eq!(
        std::fs::read_to_string(proxy.ca_path().unwrap()).unwrap(),
        pem
    );

    let reply = create_via(&proxied_agent(proxy.url(), Some(pem))).unwrap();
    assert_eq!(reply.status, 201);

    // Another throwaway CA (same name, other key): the handshake with the
    // proxy fails, nothing is recorded.
    let other = Emulator::start(graph_emulator::EmulatorConfig {
        tls: Some(Default::default()),
        ..Default::default()
    })
    .unwrap();
    let err = create_via(&proxied_agent(proxy.url(), other.ca_pem())).unwrap_err();
    assert!(format!("{err:?}").contains("InvalidCertificate"), "{err:?}");
    assert_eq!(proxy.connects(), ["graph.microsoft.com:80"]);

    let path = proxy.ca_path().unwrap().to_owned();
    proxy.shutdown();
    assert!(!path.exists(), "the temporary CA file is removed");
}

/// Spawns the binary and reads its announcement (with `--tls`, the `ca`
/// line too).
fn spawn(args: &[&str]) -> (Child, String, Option<String>, BufReader<ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tunnel-proxy");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let url = read_line(&mut stdout)
        .strip_prefix("listening on ")
        .expect("the first line announces the URL")
        .to_owned();
    let ca = url.starts_with("https://").then(|| {
        read_line(&mut stdout)
            .strip_prefix("ca ")
            .unwrap()
            .to_owned()
    });
    (child, url, ca, stdout)
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).expect("a line");
    line.strip_suffix('\n')
        .unwrap_or_else(|| panic!("no whole line: {line:?}"))
        .to_owned()
}

fn stop(mut child: Child, stdout: BufReader<ChildStdout>) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "tunnel-proxy did not exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.into_inner().read_to_string(&mut rest).unwrap();
    rest
}

#[test]
fn the_binary_prints_each_request_before_answering_it() {
    let emu = start();
    let (child, url, ca, mut stdout) = spawn(&["--to", emu.base_url(), "--basic", "u:s3cret"]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(ca, None);

    let with = url.replacen("http://", "http://u:s3cret@", 1);
    assert_eq!(create_via(&proxied_agent(&with, None)).unwrap().status, 201);
    assert_eq!(
        read_line(&mut stdout),
        "CONNECT graph.microsoft.com:80 user=u status=200"
    );
    assert!(create_via(&proxied_agent(&url, None)).is_err());
    assert_eq!(
        read_line(&mut stdout),
        "CONNECT graph.microsoft.com:80 user=- status=407"
    );
    assert_eq!(stop(child, stdout), "", "nothing more, never the password");
}

#[test]
fn the_binary_serves_https_with_its_ca_file() {
    let emu = start();
    let (child, url, ca, mut stdout) = spawn(&["--tls", "--to", emu.base_url()]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ca = ca.unwrap();
    let pem = std::fs::read_to_string(&ca).unwrap();

    assert_eq!(
        create_via(&proxied_agent(&url, Some(&pem))).unwrap().status,
        201
    );
    assert_eq!(
        read_line(&mut stdout),
        "CONNECT graph.microsoft.com:80 user=- status=200"
    );
    assert_eq!(stop(child, stdout), "");
    assert!(!std::path::Path::new(&ca).exists(), "removed at exit");
}

#[test]
fn the_binary_refuses_bad_arguments() {
    for args in [
        &[][..],
        &["--to", "localhost:1"],
        &["--to", "192.0.2.1:443"],
    ] {
        let output = Command::new(BIN).args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
        assert!(output.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("tunnel-proxy: "), "{stderr}");
    }
}
