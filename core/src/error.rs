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
    /// The call was stopped through its [`CancelToken`](crate::CancelToken)
    /// before it had an answer; says whether the request may have been
    /// processed.
    Cancelled(CancelledError),
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
            Error::Cancelled(e) => e.client_request_id.as_deref(),
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
            Error::Cancelled(e) => e.request_may_have_been_sent,
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
            Error::TokenProvider(e) => Error::TokenProvider(e.replicate()),
            Error::Cancelled(e) => Error::Cancelled(e.clone()),
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
            Error::Cancelled(e) => write!(f, "{e}"),
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

/// The call was cancelled (see [`CancelToken`](crate::CancelToken)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CancelledError {
    /// What the call was doing, e.g. `while waiting for the answer`.
    pub phase: &'static str,
    /// `true` when the request had been sent (and its answer was then
    /// abandoned): Graph may have carried it out. `false`: Graph did not
    /// process it — never sent, or sent and refused (429, 503, 504) before
    /// the cancel came during the wait for its retry.
    pub request_may_have_been_sent: bool,
    /// The `client-request-id` of the request, once the call had one.
    pub client_request_id: Option<String>,
}

impl CancelledError {
    pub(crate) fn new(phase: &'static str, sent: bool, client_request_id: Option<&str>) -> Self {
        Self {
            phase,
            request_may_have_been_sent: sent,
            client_request_id: client_request_id.map(str::to_owned),
        }
    }
}

impl fmt::Display for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cancelled {}", self.phase)?;
        if self.request_may_have_been_sent {
            f.write_str(" (the request may have been processed; its answer was abandoned)")?;
        } else {
            f.write_str("; not processed by Graph")?;
        }
        if let Some(id) = &self.client_request_id {
            write!(f, " [client-request-id {id}]")?;
        }
        Ok(())
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

/// No token: the configured token provider or credential failed, or
/// returned an unusable token. Nothing was sent to Graph.
///
/// When a credential of [`crate::credentials`] asked Microsoft Entra ID and
/// was refused, the accessors give what Entra said: [`error`](Self::error)
/// (`invalid_client`…), [`error_description`](Self::error_description)
/// (starting with the `AADSTS…` code), [`correlation_id`](Self::correlation_id)
/// and [`trace_id`](Self::trace_id) — quote those when asking Microsoft.
#[derive(Debug)]
#[non_exhaustive]
pub struct TokenProviderError {
    /// What went wrong.
    pub message: String,
    /// The provider's own error, when it returned one.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// Set when a credential failed; boxed to keep `Error` small.
    pub(crate) details: Option<Box<CredentialFailure>>,
}

/// What a credential's failure adds to a [`TokenProviderError`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CredentialFailure {
    /// The credential's type name, e.g. `ClientSecretCredential`.
    pub(crate) credential: &'static str,
    /// The token endpoint's HTTP status, when it answered.
    pub(crate) status: Option<u16>,
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) trace_id: Option<String>,
    /// The credential cannot work here at all (not configured, no managed
    /// identity endpoint): a chain moves on to its next link.
    pub(crate) unavailable: bool,
}

impl TokenProviderError {
    /// A failure with this message, for implementations of
    /// [`TokenCredential`](crate::credentials::TokenCredential).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
            details: None,
        }
    }

    /// A failure caused by `source`, whose `Display` becomes the message.
    pub fn from_source(source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Self {
            message: source.to_string(),
            source: Some(source),
            details: None,
        }
    }

    pub(crate) fn credential_failure(message: String, details: CredentialFailure) -> Self {
        Self {
            message,
            source: None,
            details: Some(Box::new(details)),
        }
    }

    /// The built-in credential that failed (`ClientSecretCredential`,
    /// `ManagedIdentityCredential`…), or `None` for a token provider or a
    /// credential of your own.
    pub fn credential(&self) -> Option<&str> {
        self.details.as_ref().map(|d| d.credential)
    }

    /// The HTTP status of the token endpoint's answer, when it answered.
    pub fn status(&self) -> Option<u16> {
        self.details.as_ref()?.status
    }

    /// Entra's `error`, e.g. `invalid_client` or `unauthorized_client`.
    pub fn error(&self) -> Option<&str> {
        self.details.as_ref()?.error.as_deref()
    }

    /// Entra's `error_description` as sent, starting with the `AADSTS…` code.
    pub fn error_description(&self) -> Option<&str> {
        self.details.as_ref()?.error_description.as_deref()
    }

    /// The `AADSTS…` code at the start of the description, e.g.
    /// `AADSTS7000215` for a wrong client secret.
    pub fn aadsts_code(&self) -> Option<&str> {
        let description = self.error_description()?;
        let digits = description.strip_prefix("AADSTS")?;
        let len = 6 + digits.bytes().take_while(u8::is_ascii_digit).count();
        (len > 6).then(|| &description[..len])
    }

    /// Entra's `correlation_id` for the token request.
    pub fn correlation_id(&self) -> Option<&str> {
        self.details.as_ref()?.correlation_id.as_deref()
    }

    /// Entra's `trace_id` for the token request.
    pub fn trace_id(&self) -> Option<&str> {
        self.details.as_ref()?.trace_id.as_deref()
    }

    /// A copy without the source (which cannot be cloned), for each item of a
    /// failed batch and each thread waiting on one token request.
    pub(crate) fn replicate(&self) -> Self {
        Self {
            message: self.message.clone(),
            source: None,
            details: self.details.clone(),
        }
    }

    pub(crate) fn is_unavailable(&self) -> bool {
        self.details.as_ref().is_some_and(|d| d.unavailable)
    }
}

impl fmt::Display for TokenProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.credential() {
            Some(credential) => write!(
                f,
                "{credential} could not get a token: {}; nothing was sent to Graph",
                self.message
            ),
            None => write!(
                f,
                "token provider failed: {}; nothing was sent to Graph",
                self.message
            ),
        }
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
