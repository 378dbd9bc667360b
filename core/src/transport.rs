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
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::Agent;

use crate::error::{TimeoutError, TransportError, TransportErrorKind};
use crate::Error;

/// The agent every clone of a client shares: one connection pool.
pub(crate) fn agent(connect_timeout: Duration, timeout: Duration, max_idle: usize) -> Agent {
    let config = Agent::config_builder()
        // Graph's error body and Retry-After are needed, so error statuses
        // come back as answers, not as ureq errors.
        .http_status_as_error(false)
        // Redirects are followed by `Client` itself, which decides where the
        // token may go (see redirect::follow_redirect).
        .max_redirects(0)
        .timeout_connect(Some(connect_timeout))
        .timeout_global(Some(timeout))
        .max_idle_connections(max_idle)
        .max_idle_connections_per_host(max_idle)
        .user_agent(ureq::config::AutoHeaderValue::None)
        .build();
    Agent::with_parts(config, DefaultConnector::new(), CachingResolver::default())
}

/// How long a host's addresses are reused. They matter only when a new
/// connection is opened; a minute is well inside the TTLs Graph's front
/// doors publish and keeps a failover from being missed for long.
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
        let resolved = self.lookup.resolve(uri, config, timeout)?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (Instant::now(), resolved.iter().copied().collect()));
        Ok(resolved)
    }
}

/// Maps a ureq failure, deciding conservatively whether the request may have
/// reached the server: only failures before a connection exists are "not sent".
pub(crate) fn failure(error: ureq::Error, client_request_id: &str) -> Error {
    use ureq::Error as U;
    use TransportErrorKind as K;
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
        U::HostNotFound => transport(K::Connect, false, "host not found".to_owned()),
        U::ConnectionFailed => transport(K::Connect, false, "connection failed".to_owned()),
        U::Io(e) => {
            use std::io::ErrorKind as IO;
            match e.kind() {
                IO::ConnectionRefused
                | IO::AddrNotAvailable
                | IO::NetworkUnreachable
                | IO::HostUnreachable
                | IO::NotFound => transport(K::Connect, false, e.to_string()),
                IO::TimedOut | IO::WouldBlock => Error::Timeout(TimeoutError {
                    phase: "the request",
                    request_may_have_been_sent: true,
                    client_request_id: client_request_id.to_owned(),
                }),
                _ => transport(K::ConnectionLost, true, e.to_string()),
            }
        }
        U::Tls(_) | U::Rustls(_) | U::Pem(_) => transport(K::Tls, false, error.to_string()),
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
