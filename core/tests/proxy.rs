//! Proxies proven against a real CONNECT proxy: tinyproxy, from the
//! distribution's packages (`scripts/test-rust.sh` installs it; these tests
//! fail, saying so, when it is missing). ureq tunnels with `CONNECT
//! host:port` for http and https targets alike, so the emulator's plain
//! http goes through the tunnel as Graph's https would. An environment proxy
//! is never used for loopback, so every test names its proxy explicitly
//! (env_proxy.rs covers the environment's). Each test asserts what the proxy
//! logged and what the emulator received. An `https://` proxy (TLS to the
//! proxy itself) is graph-emulator's `TunnelProxy`, which tinyproxy cannot
//! be.

mod common;

use std::fs;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{builder, emulator, header, insight, TOKEN};
use graph_emulator::{Emulator, EmulatorConfig, TlsOptions, TunnelConfig, TunnelProxy};
use used_insight::{Client, Error, RetryPolicy, TransportErrorKind, UsedInsight};

const PASSWORD: &str = "pr0xy-pa55-9d1e";

/// Which CONNECT targets the proxy accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tunnels {
    /// No `ConnectPort` line: every port.
    AnyPort,
    /// `ConnectPort 443` only: the emulator's port is refused with 403.
    Only443,
}

/// A tinyproxy in the foreground (`tinyproxy -d -c CONFIG`) on a free
/// loopback port, its config and log in a temporary directory; killed when
/// dropped.
struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    fn start(tunnels: Tunnels) -> Tinyproxy {
        Tinyproxy::start_with(tunnels, "")
    }

    /// `extra` is appended to the config (e.g. `BasicAuth user password`).
    fn start_with(tunnels: Tunnels, extra: &str) -> Tinyproxy {
        match Command::new("tinyproxy").arg("-v").output() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => panic!(
                "tinyproxy is not installed, and the proxy tests need it: run \
                 scripts/test-rust.sh (it installs tinyproxy), or install the \
                 `tinyproxy` package (apt-get install tinyproxy)"
            ),
            Err(e) => panic!("cannot run tinyproxy: {e}"),
        }
        // The free port is found by binding and releasing it; another
        // process may take it in between, so a failed start is tried again.
        let mut last_failure = String::new();
        for _ in 0..5 {
            match Tinyproxy::try_start(tunnels, extra) {
                Ok(proxy) => return proxy,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("tinyproxy did not start: {last_failure}");
    }

    fn try_start(tunnels: Tunnels, extra: &str) -> Result<Tinyproxy, String> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let log = dir.path().join("tinyproxy.log");
        // No `User`/`Group`: tinyproxy 1.11 then stays the user it was
        // started as (root included, with a warning in its log). No
        // `PidFile`: nothing is written outside the temporary directory.
        let mut config = format!(
            "Listen 127.0.0.1\n\
             Port {port}\n\
             Allow 127.0.0.1\n\
             LogFile \"{}\"\n\
             LogLevel Info\n\
             MaxClients 64\n\
             Timeout 30\n",
            log.display()
        );
        if tunnels == Tunnels::Only443 {
            config.push_str("ConnectPort 443\n");
        }
        config.push_str(extra);
        let config_path = dir.path().join("tinyproxy.conf");
        fs::write(&config_path, config).expect("the config is written");
        let output = dir.path().join("tinyproxy.out");
        let out = fs::File::create(&output).expect("an output file");
        let child = Command::new("tinyproxy")
            .arg("-d")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("a second handle"))
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot run tinyproxy: {e}"))?;
        let mut proxy = Tinyproxy {
            child,
            port,
            log,
            _dir: dir,
        };
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = proxy.child.try_wait().expect("tinyproxy's status") {
                return Err(format!(
                    "tinyproxy exited ({status}) on port {port}:\n{}\n{}",
                    fs::read_to_string(&output).unwrap_or_default(),
                    proxy.log()
                ));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(proxy);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "tinyproxy does not accept connections on port {port}:\n{}",
                    proxy.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:PORT`, as errors name it.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The proxy's URL with credentials.
    fn url_with_password(&self) -> String {
        format!("http://proxyuser:{PASSWORD}@127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The targets of the CONNECT requests the proxy received, in order
    /// (`Request (file descriptor 5): CONNECT 127.0.0.1:8080 HTTP/1.1`).
    fn tunnels(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|line| line.split_once("): CONNECT ").map(|(_, rest)| rest))
            .map(|rest| rest.split(' ').next().unwrap_or(rest).to_owned())
            .collect()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn items(n: usize) -> Vec<(String, UsedInsight)> {
    (0..n)
        .map(|i| {
            let mut insight = insight();
            insight.resource_visualization.as_mut().unwrap().title = Some(format!("doc {i}"));
            (format!("user{}@contoso.com", i % 3), insight)
        })
        .collect()
}

#[test]
fn an_explicit_proxy_tunnels_to_the_emulator_and_never_sees_the_token() {
    let emu = emulator();
    let proxy = Tinyproxy::start(Tunnels::AnyPort);
    let client = builder(&emu).proxy(proxy.url()).build().unwrap();
    assert!(format!("{client:?}").contains(&proxy.url()), "{client:?}");

    let created = client.create("alice@contoso.com", &insight()).unwrap();

    assert!(created.id.is_some());
    let log = proxy.log();
    assert_eq!(
        proxy.tunnels(),
        [format!("127.0.0.1:{}", emu.port())],
        "one tunnel, to the emulator:\n{log}"
    );
    assert!(
        !log.contains(TOKEN),
        "the token is inside the tunnel:\n{log}"
    );
    let requests = emu.requests();
    assert_eq!(requests.len(), 1, "exactly one create");
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1.0/users/alice@contoso.com/insights/used");
    assert_eq!(
        header(r, "authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(header(r, "proxy-authorization"), None);
    assert_eq!(emu.stored("alice@contoso.com").len(), 1);
}

#[test]
fn proxy_credentials_work_and_never_show_in_debug_or_errors() {
    let emu = emulator();
    let proxy = Tinyproxy::start(Tunnels::AnyPort);
    let b = builder(&emu).proxy(proxy.url_with_password());
    assert!(!format!("{b:?}").contains(PASSWORD), "{b:?}");
    assert_eq!(b.get_proxy_shown(), proxy.url());
    let client = b.build().unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains(PASSWORD) && !shown.contains("proxyuser") && shown.contains(&proxy.url()),
        "{shown}"
    );

    // Without BasicAuth, tinyproxy ignores Proxy-Authorization.
    client.create("alice", &insight()).unwrap();
    assert_eq!(proxy.tunnels(), [format!("127.0.0.1:{}", emu.port())]);
    assert!(!proxy.log().contains(PASSWORD));
    let requests = emu.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].headers.values().all(|v| !v.contains(PASSWORD)),
        "the credentials are for the proxy, not Graph: {:?}",
        requests[0].headers
    );

    // A failure through the same credentials names the proxy without them.
    let refusing = Tinyproxy::start(Tunnels::Only443);
    let err = builder(&emu)
        .proxy(refusing.url_with_password())
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(
            !text.contains(PASSWORD) && !text.contains("proxyuser"),
            "{text}"
        );
        assert!(text.contains(&refusing.url()), "{text}");
    }
    assert_eq!(emu.requests().len(), 1, "the refused create never arrived");
}

#[test]
fn a_proxy_refusing_the_tunnel_is_a_proxy_error_and_nothing_is_sent() {
    let emu = emulator();
    let proxy = Tinyproxy::start(Tunnels::Only443);
    let err = builder(&emu)
        .proxy(proxy.url())
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();

    let Error::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind, TransportErrorKind::Proxy, "{err}");
    assert!(!transport.request_may_have_been_sent, "{err}");
    assert!(!err.request_may_have_been_processed());
    let message = err.to_string();
    assert!(
        message.contains(&proxy.url())
            && message.contains("403")
            && message.contains("nothing was sent"),
        "{message}"
    );
    assert_eq!(
        proxy.tunnels(),
        [format!("127.0.0.1:{}", emu.port())],
        "asked once, not retried:\n{}",
        proxy.log()
    );
    assert!(emu.requests().is_empty(), "the emulator received nothing");
    assert_eq!(emu.stored_count(), 0);
}

#[test]
fn no_proxy_after_an_explicit_proxy_goes_direct() {
    let emu = emulator();
    let proxy = Tinyproxy::start(Tunnels::AnyPort);
    let b = builder(&emu).proxy(proxy.url()).no_proxy();
    assert_eq!(b.get_proxy_shown(), "none");
    let created = b.build().unwrap().create("alice", &insight()).unwrap();

    assert!(created.id.is_some());
    assert_eq!(emu.requests().len(), 1);
    assert_eq!(emu.stored("alice").len(), 1);
    assert!(
        proxy.tunnels().is_empty(),
        "no CONNECT went through the proxy:\n{}",
        proxy.log()
    );
}

#[test]
fn create_many_goes_through_the_proxy() {
    let emu = emulator();
    let proxy = Tinyproxy::start(Tunnels::AnyPort);
    let inputs = items(45);
    let results = builder(&emu)
        .proxy(proxy.url())
        .build()
        .unwrap()
        .create_many(&inputs);

    assert_eq!(results.len(), 45);
    for (i, result) in results.iter().enumerate() {
        let created = result.as_ref().unwrap_or_else(|e| panic!("item {i}: {e}"));
        let title = created
            .resource_visualization
            .as_ref()
            .unwrap()
            .title
            .as_deref();
        assert_eq!(title, Some(&*format!("doc {i}")));
    }
    assert_eq!(emu.stored_count(), 45, "every item created");
    let requests = emu.requests();
    assert!(
        requests.len() >= 3 && requests.iter().all(|r| r.path == "/v1.0/$batch"),
        "batches of at most 20: {:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    let tunnels = proxy.tunnels();
    let emulator = format!("127.0.0.1:{}", emu.port());
    assert!(
        !tunnels.is_empty() && tunnels.iter().all(|t| *t == emulator),
        "every batch through a tunnel to the emulator:\n{}",
        proxy.log()
    );
    assert!(tunnels.len() <= requests.len());
    assert!(!proxy.log().contains(TOKEN));
}

#[test]
fn a_proxy_asking_for_credentials_gets_them_from_the_url() {
    let emu = emulator();
    let auth = format!("BasicAuth proxyuser {PASSWORD}\n");
    let proxy = Tinyproxy::start_with(Tunnels::AnyPort, &auth);

    builder(&emu)
        .proxy(proxy.url_with_password())
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap();
    assert_eq!(emu.stored("alice").len(), 1);

    // Without them (or with a wrong password), the tunnel is refused.
    for url in [
        proxy.url(),
        format!("http://proxyuser:wrong@127.0.0.1:{}", proxy.port),
    ] {
        let err = builder(&emu)
            .proxy(url)
            .build()
            .unwrap()
            .create("alice", &insight())
            .unwrap_err();
        let Error::Transport(transport) = &err else {
            panic!("expected a transport error, got {err:?}");
        };
        assert_eq!(transport.kind, TransportErrorKind::Proxy, "{err}");
        assert!(!transport.request_may_have_been_sent, "{err}");
        let message = err.to_string();
        assert!(message.contains(&proxy.url()), "{message}");
        assert!(!message.contains("wrong"), "{message}");
    }
    assert_eq!(
        emu.requests().len(),
        1,
        "only the authorised create arrived"
    );
    assert_eq!(proxy.tunnels().len(), 3);
}

/// An HTTPS emulator, and a proxy serving `https://` with its own CA whose
/// every tunnel leads to it.
fn https_emulator_behind_an_https_proxy() -> (Emulator, TunnelProxy) {
    let emu = Emulator::start(EmulatorConfig {
        token: Some(TOKEN.into()),
        tls: Some(TlsOptions::default()),
        ..Default::default()
    })
    .expect("the emulator starts with TLS");
    let mut config = TunnelConfig::to(SocketAddr::from((Ipv4Addr::LOCALHOST, emu.port())));
    config.tls = true;
    let proxy = TunnelProxy::start(config).expect("the proxy starts with TLS");
    assert!(proxy.url().starts_with("https://"), "{}", proxy.url());
    (emu, proxy)
}

#[test]
fn an_https_proxy_is_reached_over_tls_and_tunnels_tls_to_the_emulator() {
    let (emu, proxy) = https_emulator_behind_an_https_proxy();
    let client = Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .add_root_certificates_pem(emu.ca_pem().unwrap())
        .add_root_certificates_pem(proxy.ca_pem().unwrap())
        .proxy(proxy.url())
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(format!("{client:?}").contains(proxy.url()), "{client:?}");

    let created = client.create("alice@contoso.com", &insight()).unwrap();

    assert!(created.id.is_some());
    assert_eq!(proxy.connects(), [format!("127.0.0.1:{}", emu.port())]);
    assert_eq!(emu.stored("alice@contoso.com").len(), 1);
}

#[test]
fn an_https_proxy_with_an_untrusted_certificate_is_a_tls_error_and_nothing_is_sent() {
    let (emu, proxy) = https_emulator_behind_an_https_proxy();
    // The emulator's CA only: the proxy's certificate has an unknown issuer.
    let err = Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .add_root_certificates_pem(emu.ca_pem().unwrap())
        .proxy(proxy.url())
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
        .create("alice@contoso.com", &insight())
        .unwrap_err();

    let Error::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind, TransportErrorKind::Tls, "{err}");
    assert!(!transport.request_may_have_been_sent, "{err}");
    assert!(!err.request_may_have_been_processed());
    let message = err.to_string();
    assert!(
        message.contains("nothing was sent")
            && message.contains("certificate is refused")
            && message.contains(&format!("TLS with the proxy {}", proxy.url())),
        "{message}"
    );
    assert!(
        proxy.requests().is_empty(),
        "no CONNECT before the handshake"
    );
    assert!(emu.requests().is_empty());
}

#[test]
fn a_proxy_that_cannot_be_reached_is_a_connect_error_naming_it_and_nothing_is_sent() {
    let emu = emulator();
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let closed = format!("http://127.0.0.1:{port}");
    let err = builder(&emu)
        .proxy(format!("http://proxyuser:{PASSWORD}@127.0.0.1:{port}"))
        .build()
        .unwrap()
        .create("alice", &insight())
        .unwrap_err();

    let Error::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind, TransportErrorKind::Connect, "{err}");
    assert!(!transport.request_may_have_been_sent, "{err}");
    assert!(!err.request_may_have_been_processed());
    let message = err.to_string();
    assert!(
        message.contains(&format!("cannot reach the proxy {closed}"))
            && message.contains("nothing was sent")
            && !message.contains(PASSWORD),
        "{message}"
    );
    assert!(emu.requests().is_empty());
}
