//! One HTTP exchange over ureq, and ureq's failures in this library's terms.

use std::time::Duration;

use ureq::Agent;

use crate::error::{TimeoutError, TransportError, TransportErrorKind};
use crate::Error;

/// The agent every clone of a client shares: one connection pool.
pub(crate) fn agent(connect_timeout: Duration, timeout: Duration, max_idle: usize) -> Agent {
    Agent::config_builder()
        // Graph's error body and Retry-After are needed, so error statuses
        // come back as answers, not as ureq errors.
        .http_status_as_error(false)
        // Redirects are followed by `Client` itself, which decides where the
        // token may go (see wire::follow_redirect).
        .max_redirects(0)
        .timeout_connect(Some(connect_timeout))
        .timeout_global(Some(timeout))
        .max_idle_connections(max_idle)
        .max_idle_connections_per_host(max_idle)
        .user_agent(ureq::config::AutoHeaderValue::None)
        .build()
        .new_agent()
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
