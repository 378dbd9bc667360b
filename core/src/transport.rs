//! The HTTP layer under `Client`: the ureq agent all clones share (one
//! pool, error statuses returned as answers, no automatic redirects), a
//! resolver that caches host addresses, and ureq's failures mapped to this
//! library's errors, deciding conservatively whether the request was sent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;
use ureq::Agent;

use crate::error::{CancelledError, TimeoutError, TransportError, TransportErrorKind};
use crate::fork::ForkLocal;
use crate::Error;

/// What the agent is built from (kept, so a forked child can build its own).
#[derive(Clone)]
pub(crate) struct AgentSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_idle: usize,
    pub(crate) roots: ureq::tls::RootCerts,
    /// `None`: a direct connection (ureq's own reading of the environment
    /// is never used; see `proxy`).
    pub(crate) proxy: Option<ureq::Proxy>,
}

/// The agent every clone of a client shares: one connection pool, per
/// process — a forked child starts with an empty pool of its own and never
/// touches the parent's sockets (see `fork`).
pub(crate) struct Pool {
    settings: AgentSettings,
    agent: ForkLocal<Agent>,
}

impl Pool {
    pub(crate) fn new(settings: AgentSettings) -> Self {
        Self {
            agent: ForkLocal::new(agent(&settings)),
            settings,
        }
    }

    /// This process's agent.
    pub(crate) fn agent(&self) -> std::borrow::Cow<'_, Agent> {
        self.agent.get(|| agent(&self.settings))
    }
}

fn agent(settings: &AgentSettings) -> Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(settings.roots.clone())
        .build();
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(settings.connect_timeout))
        .timeout_global(Some(settings.timeout))
        .max_idle_connections(settings.max_idle)
        .max_idle_connections_per_host(settings.max_idle)
        .user_agent(ureq::config::AutoHeaderValue::None)
        .tls_config(tls)
        .proxy(settings.proxy.clone())
        .build();
    Agent::with_parts(
        config,
        crate::cancel_io::connector(),
        CachingResolver::default(),
    )
}

const RESOLVE_TTL: Duration = Duration::from_secs(60);

/// ureq resolves the host before every request — pooled connection or not —
/// and, once a timeout is configured, does so on a freshly spawned thread.
/// Measured (bench/): that cost the core over 90 % of its throughput on a
/// keep-alive connection. This resolver answers IP literals at once and
/// reuses a host's addresses for [`RESOLVE_TTL`]; lookups themselves still
/// go through ureq's resolver, so they keep honouring the timeout.
#[derive(Debug, Default)]
struct CachingResolver {
    lookup: DefaultResolver,
    cache: Mutex<HashMap<String, (Instant, Vec<SocketAddr>)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let default_port = match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        };
        let (Some(host), Some(port)) = (uri.host(), uri.port_u16().or(default_port)) else {
            return self.lookup.resolve(uri, config, timeout);
        };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
            let mut addrs = self.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{}:{port}", host.to_ascii_lowercase());
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .get(&key)
                .filter(|(at, _)| at.elapsed() < RESOLVE_TTL)
                .map(|(_, addrs)| addrs.clone())
        };
        if let Some(found) = cached {
            let mut addrs = self.empty();
            found.into_iter().for_each(|a| addrs.push(a));
            return Ok(addrs);
        }
        let resolved = if crate::cancel::active() {
            crate::cancel_io::resolve_cancellable(DefaultResolver::default(), uri, config, timeout)?
        } else {
            self.lookup.resolve(uri, config, timeout)?
        };
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (Instant::now(), resolved.iter().copied().collect()));
        Ok(resolved)
    }
}

/// Maps a ureq failure, deciding conservatively whether the request may have
/// reached the server: only failures before a connection exists are "not sent".
pub(crate) fn failure(error: ureq::Error, client_request_id: &str, proxy: Option<&str>) -> Error {
    use ureq::Error as U;
    use TransportErrorKind as K;
    if let Some(cut) = crate::cancel_io::cancelled_by(&error) {
        return Error::Cancelled(CancelledError::new(
            cut.phase,
            cut.sent,
            Some(client_request_id),
        ));
    }
    let transport = |kind, sent: bool, message: String| {
        Error::Transport(TransportError {
            kind,
            message,
            request_may_have_been_sent: sent,
            client_request_id: client_request_id.to_owned(),
        })
    };
    match error {
        U::Timeout(phase) => {
            use ureq::Timeout as T;
            let (name, sent) = match phase {
                T::Resolve => ("name resolution", false),
                T::Connect => ("connect", false),
                T::SendRequest | T::SendBody => ("sending the request", true),
                T::RecvResponse => ("waiting for the answer", true),
                T::RecvBody => ("reading the answer", true),
                _ => ("the request", true),
            };
            Error::Timeout(TimeoutError {
                phase: name,
                request_may_have_been_sent: sent,
                client_request_id: client_request_id.to_owned(),
            })
        }
        U::HostNotFound => transport(K::Connect, false, via(proxy, "host not found")),
        U::ConnectionFailed => transport(K::Connect, false, via(proxy, "connection failed")),
        U::ConnectProxyFailed(reason) => transport(
            K::Proxy,
            false,
            format!(
                "the proxy {} refused the tunnel ({}); nothing was sent",
                proxy.unwrap_or("in use"),
                proxy_refusal(&reason)
            ),
        ),
        U::InvalidProxyUrl => transport(K::Proxy, false, "invalid proxy URL".to_owned()),
        U::Io(e) if tls_handshake_failure(&e).is_some() => {
            let reason = tls_handshake_failure(&e).unwrap_or_default();
            transport(K::Tls, false, tls_failure(&reason, proxy))
        }
        U::Io(e) => {
            use std::io::ErrorKind as IO;
            match e.kind() {
                IO::ConnectionRefused
                | IO::AddrNotAvailable
                | IO::NetworkUnreachable
                | IO::HostUnreachable
                | IO::NotFound => transport(K::Connect, false, via(proxy, &e.to_string())),
                IO::TimedOut | IO::WouldBlock => Error::Timeout(TimeoutError {
                    phase: "the request",
                    request_may_have_been_sent: true,
                    client_request_id: client_request_id.to_owned(),
                }),
                _ => transport(K::ConnectionLost, true, e.to_string()),
            }
        }
        U::Tls(_) | U::Rustls(_) | U::Pem(_) => {
            transport(K::Tls, false, tls_failure(&error.to_string(), proxy))
        }
        U::Protocol(_) | U::LargeResponseHeader(..) | U::BodyStalled => {
            transport(K::ConnectionLost, true, error.to_string())
        }
        U::TooManyRedirects | U::RedirectFailed | U::RequireHttpsOnly(_) => {
            transport(K::Redirect, false, error.to_string())
        }
        U::BadUri(_) | U::Http(_) => transport(K::Other, false, error.to_string()),
        other => transport(K::Other, true, other.to_string()),
    }
}

/// A handshake failure's message. Through an `https://` proxy there are two
/// handshakes (with the proxy, then with Graph inside the tunnel) and
/// rustls does not say which failed, so both are named.
fn tls_failure(reason: &str, proxy: Option<&str>) -> String {
    match proxy {
        Some(p) if p.starts_with("https://") => {
            format!("{reason} (TLS with the proxy {p}, or with Graph through it); nothing was sent")
        }
        _ => format!("{reason}; nothing was sent"),
    }
}

/// ureq's "proxy server responded 403/403" as "HTTP 403"; any other
/// reason (the proxy did not answer) as it is.
fn proxy_refusal(reason: &str) -> String {
    match reason
        .strip_prefix("proxy server responded ")
        .and_then(|rest| rest.split('/').next())
    {
        Some(status) if status.chars().all(|c| c.is_ascii_digit()) => format!("HTTP {status}"),
        _ => reason.to_owned(),
    }
}

/// A connect failure's message, naming the proxy when one is in the way
/// (then it is the proxy that could not be reached), and saying what the
/// error's flag says: no byte of the request left.
fn via(proxy: Option<&str>, what: &str) -> String {
    match proxy {
        Some(proxy) => format!("cannot reach the proxy {proxy}: {what}; nothing was sent"),
        None => format!("{what}; nothing was sent"),
    }
}

/// The reason, in words, when an I/O error is rustls failing the
/// handshake: certificate problems and handshake refusals, all before a
/// byte of the request is sent (early data is off). `None` otherwise.
fn tls_handshake_failure(e: &std::io::Error) -> Option<String> {
    use rustls::{CertificateError as C, Error as R};
    let tls = e.get_ref()?.downcast_ref::<R>()?;
    let reason = match tls {
        R::InvalidCertificate(C::UnknownIssuer) => {
            "the server's certificate is issued by an authority this client does not trust \
             (add that authority's root certificate to the trusted roots, or use the system's)"
                .to_owned()
        }
        R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "the server's certificate has expired".to_owned()
        }
        R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "the server's certificate is not valid for this host name".to_owned()
        }
        R::InvalidCertificate(other) => format!("the server's certificate is refused: {other:?}"),
        R::NoCertificatesPresented
        | R::PeerIncompatible(_)
        | R::PeerMisbehaved(_)
        | R::InappropriateHandshakeMessage { .. }
        | R::UnsupportedNameType => format!("the TLS handshake failed: {tls}"),
        R::AlertReceived(alert) => format!("the server ended the TLS handshake: {alert:?}"),
        _ => return None,
    };
    Some(reason)
}
