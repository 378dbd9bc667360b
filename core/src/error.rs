//! `Error`, the one error type every call returns, and the types it
//! carries: what went wrong, the ids to quote to Microsoft, whether the
//! request may have been processed, and a one-line `Display` that never
//! includes the token.

use std::fmt;
use std::time::Duration;

use crate::ValidationErrors;

/// Everything that can go wrong creating a usedInsight.
///
/// Match on the variant to decide what to do; every variant's `Display`
/// says what happened in one line. The token never appears in any of them.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The input breaks a rule; nothing was sent. Lists every problem.
    InvalidInput(ValidationErrors),
    /// The client's configuration is unusable (bad base URL, plain `http://`
    /// to a remote host, a token with bytes a header cannot carry…).
    InvalidConfig(ConfigError),
    /// Graph answered with an error status.
    Graph(Box<GraphError>),
    /// The connection failed, broke, or was redirected somewhere unsafe.
    Transport(TransportError),
    /// No answer in time.
    Timeout(TimeoutError),
    /// An answer arrived but is not what Graph sends (not JSON, not a
    /// usedInsight, too large). Boxed, like `Graph`, to keep `Error` small.
    Decode(Box<DecodeError>),
    /// The token provider failed; nothing was sent.
    TokenProvider(TokenProviderError),
}

impl Error {
    /// The HTTP status of the answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Graph(e) => Some(e.status),
            Error::Decode(e) => e.status,
            _ => None,
        }
    }

    /// The `client-request-id` sent with the request, when a request was made;
    /// quote it (with the request-id) when asking Microsoft about a failure.
    pub fn client_request_id(&self) -> Option<&str> {
        match self {
            Error::Graph(e) => e.client_request_id.as_deref(),
            Error::Transport(e) => Some(&e.client_request_id),
            Error::Timeout(e) => Some(&e.client_request_id),
            Error::Decode(e) => Some(&e.client_request_id),
            _ => None,
        }
    }

    /// Whether the request may have reached Graph and been carried out even
    /// though no answer came back. Such a create is never resent
    /// automatically, since a create is not idempotent.
    pub fn request_may_have_been_processed(&self) -> bool {
        match self {
            Error::Transport(e) => e.request_may_have_been_sent,
            Error::Timeout(e) => e.request_may_have_been_sent,
            // A mangled 2xx answer means Graph did the work.
            Error::Decode(e) => e.status.is_some_and(|s| (200..300).contains(&s)),
            _ => false,
        }
    }
}

impl Error {
    /// A copy for each item that shared one failed batch request. A token
    /// provider's own error object cannot be cloned; its message is kept.
    pub(crate) fn replicate(&self) -> Error {
        match self {
            Error::InvalidInput(e) => Error::InvalidInput(e.clone()),
            Error::InvalidConfig(e) => Error::InvalidConfig(e.clone()),
            Error::Graph(e) => Error::Graph(e.clone()),
            Error::Transport(e) => Error::Transport(e.clone()),
            Error::Timeout(e) => Error::Timeout(e.clone()),
            Error::Decode(e) => Error::Decode(e.clone()),
            Error::TokenProvider(e) => Error::TokenProvider(TokenProviderError {
                message: e.message.clone(),
                source: None,
            }),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(e) => write!(f, "invalid input: {e}"),
            Error::InvalidConfig(e) => write!(f, "invalid configuration: {e}"),
            Error::Graph(e) => write!(f, "{e}"),
            Error::Transport(e) => write!(f, "{e}"),
            Error::Timeout(e) => write!(f, "{e}"),
            Error::Decode(e) => write!(f, "{e}"),
            Error::TokenProvider(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidInput(e) => Some(e),
            Error::TokenProvider(e) => e.source.as_deref().map(|s| s as _),
            _ => None,
        }
    }
}

impl From<ValidationErrors> for Error {
    fn from(value: ValidationErrors) -> Self {
        Error::InvalidInput(value)
    }
}

/// Why a client could not be built or used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// What is wrong and with which setting.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An error answer from Graph, with everything Graph said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphError {
    /// HTTP status, e.g. 400, 401, 429.
    pub status: u16,
    /// Graph's error `code`, e.g. `InvalidAuthenticationToken`.
    pub code: Option<String>,
    /// Graph's error `message`.
    pub message: Option<String>,
    /// Graph's `request-id` (from `innerError` or the response header).
    pub request_id: Option<String>,
    /// The `client-request-id` this library sent (echoed by Graph).
    pub client_request_id: Option<String>,
    /// The `date` from `innerError`, as Graph wrote it.
    pub date: Option<String>,
    /// How long Graph asked the caller to wait (`Retry-After`), if it did.
    pub retry_after: Option<Duration>,
    /// The start of the body when it was not a Graph error object.
    pub body_snippet: Option<String>,
    /// How many requests were made, counting retries.
    pub attempts: u32,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph answered HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        } else if let Some(snippet) = &self.body_snippet {
            write!(f, ": {snippet:?}")?;
        }
        if let Some(wait) = self.retry_after {
            write!(f, " (retry after {:.3} s)", wait.as_secs_f64())?;
        }
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request-id {id}]")?;
        }
        Ok(())
    }
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect: refused, unreachable, or the host name did not resolve.
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    /// The connection broke after the request was (maybe) sent: reset, closed
    /// early, or a malformed HTTP answer.
    ConnectionLost,
    /// A redirect that is refused for safety or that loops.
    Redirect,
    /// The proxy refused the tunnel (nothing was sent to Graph).
    Proxy,
    /// Anything else below HTTP.
    Other,
}

impl TransportErrorKind {
    /// `connect`, `tls`, `connection_lost`, `redirect`, `proxy` or `other`,
    /// as the bindings name it.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Tls => "tls",
            TransportErrorKind::ConnectionLost => "connection_lost",
            TransportErrorKind::Redirect => "redirect",
            TransportErrorKind::Proxy => "proxy",
            TransportErrorKind::Other => "other",
        }
    }
}

/// The request did not get a usable HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// What the transport said.
    pub message: String,
    /// `true` when bytes of the request may have reached the server, so the
    /// insight may or may not have been created.
    pub request_may_have_been_sent: bool,
    /// The `client-request-id` of the request.
    pub client_request_id: String,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Tls => "TLS failure",
            TransportErrorKind::ConnectionLost => "connection lost",
            TransportErrorKind::Redirect => "redirect refused",
            TransportErrorKind::Proxy => "proxy failure",
            TransportErrorKind::Other => "transport failure",
        };
        write!(f, "{kind}: {}", self.message)?;
        if self.request_may_have_been_sent {
            f.write_str(" (the request may have been processed; it was not resent)")?;
        }
        write!(f, " [client-request-id {}]", self.client_request_id)
    }
}

/// No answer within the configured time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeoutError {
    /// Which step ran out of time, e.g. `connect` or `response`.
    pub phase: &'static str,
    /// `true` when the request may have reached the server.
    pub request_may_have_been_sent: bool,
    /// The `client-request-id` of the request.
    pub client_request_id: String,
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out during {}", self.phase)?;
        if self.request_may_have_been_sent {
            f.write_str(" (the request may have been processed; it was not resent)")?;
        }
        write!(f, " [client-request-id {}]", self.client_request_id)
    }
}

/// An answer that is not what Graph sends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status of the answer, when the status line was read.
    pub status: Option<u16>,
    /// What is wrong with it.
    pub message: String,
    /// The start of the body, for diagnosis.
    pub body_snippet: String,
    /// Graph's `request-id` header, if present.
    pub request_id: Option<String>,
    /// The `client-request-id` of the request.
    pub client_request_id: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("undecodable answer")?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        write!(f, ": {}", self.message)?;
        if !self.body_snippet.is_empty() {
            write!(f, "; body starts {:?}", self.body_snippet)?;
        }
        write!(f, " [client-request-id {}]", self.client_request_id)
    }
}

/// The configured token provider failed or returned an unusable token.
#[derive(Debug)]
#[non_exhaustive]
pub struct TokenProviderError {
    /// What went wrong.
    pub message: String,
    /// The provider's own error, when it returned one.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for TokenProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token provider failed: {}", self.message)
    }
}

/// The first `limit` characters of `text`, for error messages.
pub(crate) fn snippet(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As ureq does: an `Error` travels in every `Result`, so keep it small.
    /// The large payloads (`GraphError`, `DecodeError`) are boxed.
    #[test]
    fn error_stays_under_100_bytes() {
        let size = std::mem::size_of::<Error>();
        assert!(size < 100, "Error is {size} bytes");
    }
}
