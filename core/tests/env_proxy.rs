//! The proxy taken from the environment, end to end, for Graph's own host.
//!
//! Core never uses an environment proxy for a loopback target, and tests
//! send traffic only to loopback. So the client here keeps the default
//! cloud, `https://graph.microsoft.com`, and trusts the CA of an HTTPS
//! emulator whose certificate names that host; the environment names a
//! [`TunnelProxy`], which answers `CONNECT graph.microsoft.com:443` by
//! joining the client to the emulator. The create succeeds only if it went
//! through the proxy the environment named (a direct connection would leave
//! loopback, and none is ever attempted to a Graph host here), and the
//! proxy records what was asked.
//!
//! `NO_PROXY` is proven two ways: for Graph's host by the decision the
//! client shows (a direct create to graph.microsoft.com would leave
//! loopback), and end to end with `https://[::ffff:127.0.0.1]:PORT`, the
//! IPv4-mapped form of 127.0.0.1: traffic to it is loopback, yet it is not
//! one of the names core's loopback rule exempts from the environment.
//!
//! The environment is process-wide: every test sets it under one lock, only
//! while the client is built (when the environment is read), so tests in
//! this binary never see each other's variables.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::Duration;

use common::{header, insight, TOKEN};
use graph_emulator::{
    Emulator, EmulatorConfig, ProxyCredentials, ProxyRequest, TlsOptions, TunnelConfig, TunnelProxy,
};
use used_insight::{Client, ClientBuilder, Error, RetryPolicy, TransportErrorKind};

/// Every variable core reads for a proxy.
const VARIABLES: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

const GRAPH: &str = "graph.microsoft.com:443";
const MAPPED: &str = "::ffff:127.0.0.1";
const PASSWORD: &str = "env-pr0xy-pa55";

static ENVIRONMENT: Mutex<()> = Mutex::new(());

/// Builds `builder` with exactly `vars` among the proxy variables (the
/// others removed), then puts the environment back as it was.
fn build_in(vars: &[(&str, &str)], builder: ClientBuilder) -> Result<Client, Error> {
    let _only_us = ENVIRONMENT.lock().unwrap_or_else(|e| e.into_inner());
    let saved: Vec<_> = VARIABLES
        .iter()
        .map(|name| (name, std::env::var_os(name)))
        .collect();
    for name in VARIABLES {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let built = builder.build();
    for (name, value) in saved {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
    built
}

/// An HTTPS emulator whose certificate names Graph's host and the mapped
/// loopback address.
fn graph_emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(TOKEN.into()),
        tls: Some(TlsOptions {
            names: vec!["graph.microsoft.com".into(), MAPPED.into()],
            ..Default::default()
        }),
        ..Default::default()
    })
    .expect("the emulator starts with TLS")
}

/// A proxy leading every tunnel to `emu`.
fn tunnel_to(emu: &Emulator) -> TunnelProxy {
    tunnel_with(emu, |_| {})
}

fn tunnel_with(emu: &Emulator, configure: impl FnOnce(&mut TunnelConfig)) -> TunnelProxy {
    let mut config = TunnelConfig::to(SocketAddr::from((Ipv4Addr::LOCALHOST, emu.port())));
    configure(&mut config);
    TunnelProxy::start(config).expect("the tunnel proxy starts")
}

/// The default cloud (no base URL), trusting the emulator's CA.
fn graph_client(emu: &Emulator) -> ClientBuilder {
    Client::builder()
        .token(TOKEN)
        .add_root_certificates_pem(emu.ca_pem().unwrap())
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
}

/// `https://[::ffff:127.0.0.1]:PORT`: the emulator, by an address core
/// does not count as loopback.
fn mapped_client(emu: &Emulator) -> ClientBuilder {
    graph_client(emu).base_url(format!("https://[{MAPPED}]:{}", emu.port()))
}

fn closed_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The proxy the client shows it decided on (`None`: direct).
fn shown_proxy(client: &Client) -> String {
    let shown = format!("{client:?}");
    let at = shown.find("proxy: ").expect("Debug shows the proxy");
    shown[at + "proxy: ".len()..]
        .split([',', ' ', '}'])
        .next()
        .unwrap()
        .to_owned()
}

/// Creates one insight for `user`, once the client shows it goes `via`
/// that proxy (or direct, for `None`), and checks the emulator stored it,
/// having received it for `host`. The check comes first so that a client
/// deciding wrongly fails here instead of trying Graph's real host.
fn create_through(
    client: &Client,
    via: Option<&TunnelProxy>,
    emu: &Emulator,
    user: &str,
    host: &str,
) {
    let expected = via.map_or("None".to_owned(), |p| format!("Some({:?})", p.url()));
    assert_eq!(shown_proxy(client), expected, "the proxy decided on");
    assert!(
        via.is_some() || !host.starts_with("graph."),
        "never direct to Graph's own host"
    );
    let created = client.create(user, &insight()).unwrap_or_else(|e| {
        panic!("the create fails: {e}");
    });
    assert!(created.id.is_some());
    assert_eq!(emu.stored(user).len(), 1, "{user} stored");
    let requests = emu.requests();
    let last = requests.last().expect("the emulator received the create");
    assert_eq!(last.path, format!("/v1.0/users/{user}/insights/used"));
    assert_eq!(header(last, "host"), Some(host));
    assert_eq!(
        header(last, "authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(header(last, "proxy-authorization"), None);
}

#[test]
fn https_proxy_in_either_case_tunnels_graph_s_host_to_the_emulator() {
    let emu = graph_emulator();
    let proxy = tunnel_to(&emu);
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let cases: [&[(&str, &str)]; 3] = [
        &[("HTTPS_PROXY", proxy.url())],
        &[("https_proxy", proxy.url())],
        // Both set: the lowercase one wins, as with curl.
        &[("https_proxy", proxy.url()), ("HTTPS_PROXY", &closed)],
    ];
    for (i, vars) in cases.into_iter().enumerate() {
        let client = build_in(vars, graph_client(&emu)).unwrap();
        create_through(
            &client,
            Some(&proxy),
            &emu,
            &format!("user{i}"),
            "graph.microsoft.com",
        );
        assert_eq!(proxy.connects(), vec![GRAPH; i + 1], "{vars:?}");
    }
    assert!(proxy.requests().iter().all(|r| r.status == 200));
}

#[test]
fn all_proxy_is_the_fallback_and_http_proxy_is_not_for_https() {
    let emu = graph_emulator();
    let proxy = tunnel_to(&emu);
    let cases: [&[(&str, &str)]; 3] = [
        &[("ALL_PROXY", proxy.url())],
        &[("all_proxy", proxy.url())],
        // An empty HTTPS_PROXY counts as unset.
        &[("HTTPS_PROXY", " "), ("ALL_PROXY", proxy.url())],
    ];
    for (i, vars) in cases.into_iter().enumerate() {
        let client = build_in(vars, graph_client(&emu)).unwrap();
        create_through(
            &client,
            Some(&proxy),
            &emu,
            &format!("user{i}"),
            "graph.microsoft.com",
        );
        assert_eq!(proxy.connects(), vec![GRAPH; i + 1], "{vars:?}");
    }

    // http_proxy is for plain http targets: Graph's https goes direct. Not
    // tried: a direct create to graph.microsoft.com would leave loopback.
    let client = build_in(
        &[("http_proxy", proxy.url()), ("HTTP_PROXY", proxy.url())],
        graph_client(&emu),
    )
    .unwrap();
    assert_eq!(shown_proxy(&client), "None");
}

#[test]
fn credentials_in_the_environment_s_proxy_url_reach_the_proxy_and_nothing_else() {
    let emu = graph_emulator();
    let proxy = tunnel_with(&emu, |config| {
        config.credentials = Some(ProxyCredentials {
            user: "envuser".into(),
            password: PASSWORD.into(),
        });
    });
    let with_password = proxy.url_with("envuser", PASSWORD);
    let client = build_in(&[("HTTPS_PROXY", &with_password)], graph_client(&emu)).unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains(PASSWORD) && !shown.contains("envuser"),
        "{shown}"
    );
    create_through(&client, Some(&proxy), &emu, "alice", "graph.microsoft.com");
    assert_eq!(
        proxy.requests(),
        [ProxyRequest {
            method: "CONNECT".into(),
            target: GRAPH.into(),
            user: Some("envuser".into()),
            status: 200,
        }]
    );
    assert!(emu.requests()[0]
        .headers
        .values()
        .all(|v| !v.contains(PASSWORD)));

    // Without them the proxy answers 407: a proxy error, nothing sent.
    let client = build_in(&[("ALL_PROXY", proxy.url())], graph_client(&emu)).unwrap();
    assert_eq!(shown_proxy(&client), format!("Some({:?})", proxy.url()));
    let err = client.create("bob", &insight()).unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind, TransportErrorKind::Proxy, "{err}");
    assert!(!err.request_may_have_been_processed(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(proxy.url()) && message.contains("407"),
        "{message}"
    );
    assert_eq!(proxy.requests()[1].status, 407);
    assert_eq!(emu.requests().len(), 1, "the refused create never arrived");
}

#[test]
fn an_environment_proxy_that_cannot_be_reached_is_named_and_nothing_is_sent() {
    let emu = graph_emulator();
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let client = build_in(&[("HTTPS_PROXY", &closed)], graph_client(&emu)).unwrap();
    assert_eq!(shown_proxy(&client), format!("Some({closed:?})"));
    let err = client.create("alice", &insight()).unwrap_err();

    let Error::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind, TransportErrorKind::Connect, "{err}");
    assert!(!transport.request_may_have_been_sent, "{err}");
    assert!(!err.request_may_have_been_processed());
    let message = err.to_string();
    assert!(
        message.contains(&format!("cannot reach the proxy {closed}"))
            && message.contains("nothing was sent"),
        "{message}"
    );
    assert!(emu.requests().is_empty());
}

#[test]
fn no_proxy_naming_graph_s_domain_leaves_the_environment_s_proxy_out() {
    let emu = graph_emulator();
    let proxy = tunnel_to(&emu);
    // Written as people write them: spaces, a parent domain, a leading dot,
    // another case, a port, `*`. Decided when the client is built; the
    // create is not tried, as it would go straight to graph.microsoft.com.
    for no_proxy in [
        " example.org , microsoft.com",
        "example.org,.microsoft.com",
        "GRAPH.Microsoft.com:443",
        "*",
    ] {
        for name in ["NO_PROXY", "no_proxy"] {
            let vars = [("HTTPS_PROXY", proxy.url()), (name, no_proxy)];
            let client = build_in(&vars, graph_client(&emu)).unwrap();
            assert_eq!(shown_proxy(&client), "None", "{name}={no_proxy:?}");
        }
    }
    // Near misses keep the proxy, and the create goes through it.
    let near = "example.org, soft.com, graph.microsoft.co, microsoft.com.example";
    let vars = [("HTTPS_PROXY", proxy.url()), ("NO_PROXY", near)];
    let client = build_in(&vars, graph_client(&emu)).unwrap();
    create_through(&client, Some(&proxy), &emu, "alice", "graph.microsoft.com");
    assert_eq!(proxy.connects(), [GRAPH]);
}

#[test]
fn no_proxy_naming_the_address_connects_directly() {
    let emu = graph_emulator();
    let proxy = tunnel_to(&emu);
    let authority = format!("[{MAPPED}]:{}", emu.port());

    // Without NO_PROXY, the environment's proxy is used for this address.
    let client = build_in(&[("HTTPS_PROXY", proxy.url())], mapped_client(&emu)).unwrap();
    create_through(&client, Some(&proxy), &emu, "via-proxy", &authority);
    assert_eq!(proxy.connects(), std::slice::from_ref(&authority));

    // Listed (trimmed, or as a CIDR block), it is reached directly.
    for (i, no_proxy) in [" example.org , ::ffff:127.0.0.1 ", "::ffff:127.0.0.0/104"]
        .into_iter()
        .enumerate()
    {
        let vars = [("HTTPS_PROXY", proxy.url()), ("NO_PROXY", no_proxy)];
        let client = build_in(&vars, mapped_client(&emu)).unwrap();
        create_through(&client, None, &emu, &format!("direct{i}"), &authority);
    }
    assert_eq!(
        proxy.connects().len(),
        1,
        "no tunnel for the listed address"
    );

    // A direct attempt that fails (nothing listens there) says so: a
    // connect error, not naming the proxy, nothing sent.
    let closed = closed_port();
    let vars = [("HTTPS_PROXY", proxy.url()), ("NO_PROXY", MAPPED)];
    let builder = graph_client(&emu).base_url(format!("https://[{MAPPED}]:{closed}"));
    let client = build_in(&vars, builder).unwrap();
    assert_eq!(shown_proxy(&client), "None");
    let err = client.create("alice", &insight()).unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind, TransportErrorKind::Connect, "{err}");
    assert!(!err.request_may_have_been_processed(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("nothing was sent") && !message.contains("proxy"),
        "{message}"
    );
    assert_eq!(proxy.connects().len(), 1);
}

#[test]
fn an_https_proxy_from_the_environment_is_reached_over_tls() {
    let emu = graph_emulator();
    let proxy = tunnel_with(&emu, |config| config.tls = true);
    assert!(proxy.url().starts_with("https://"));
    let client = build_in(
        &[("HTTPS_PROXY", proxy.url())],
        graph_client(&emu).add_root_certificates_pem(proxy.ca_pem().unwrap()),
    )
    .unwrap();
    create_through(&client, Some(&proxy), &emu, "alice", "graph.microsoft.com");
    assert_eq!(proxy.connects(), [GRAPH]);
}
