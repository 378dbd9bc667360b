//! The C error object and the one place where a core error becomes a status.

use std::ffi::{c_char, CString};
use std::ptr::null;

use used_insight_core::{Error, TransportErrorKind};

use crate::entra_error::EntraDetails;
use crate::ptr::into_c_string;
use crate::status::used_insight_status;

/// Details of a failed call: a status, a message and, depending on the
/// status, the HTTP status, Graph's error code, request ids, Retry-After,
/// the list of validation problems, or what Microsoft Entra ID said when a
/// credential could not get a token.
///
/// Opaque: read it with the `used_insight_error_*` accessors and free it with
/// `used_insight_error_free`. Strings returned by the accessors are owned by
/// the error and stay valid until it is freed. An error is immutable: its
/// accessors may be called from several threads at once.
pub struct used_insight_error {
    status: used_insight_status,
    message: CString,
    http_status: u16,
    graph_code: Option<CString>,
    request_id: Option<CString>,
    client_request_id: Option<CString>,
    retry_after_ms: i64,
    may_have_been_processed: bool,
    transport_kind: used_insight_transport_kind,
    problems: Vec<(CString, CString)>,
    /// A credential's failure: which one, what Entra ID said.
    entra: Option<Box<EntraDetails>>,
}

/// What kind of failure a `USED_INSIGHT_STATUS_TRANSPORT` error is, from
/// `used_insight_error_transport_kind`. The values are stable across
/// versions; new ones may be added, so treat an unknown value as
/// `USED_INSIGHT_TRANSPORT_KIND_OTHER`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum used_insight_transport_kind {
    /// Not a transport error (any other status), or `err` is NULL.
    None = 0,
    /// Could not connect: refused, unreachable, the host name did not
    /// resolve, or the proxy in the way could not be reached (the message
    /// then names it). Nothing was sent.
    Connect = 1,
    /// The TLS handshake failed: a certificate that is not trusted (see
    /// `used_insight_options_add_root_certificates_file`), expired or for
    /// another name. The message gives the reason; nothing was sent.
    Tls = 2,
    /// The connection broke after the request was (maybe) sent: reset,
    /// closed early, or a malformed HTTP answer. See
    /// `used_insight_error_request_may_have_been_processed`.
    ConnectionLost = 3,
    /// A redirect refused for safety, or one that loops.
    Redirect = 4,
    /// The proxy refused the tunnel (`CONNECT`), e.g. it wants credentials
    /// or does not allow the host. Nothing was sent to Graph.
    Proxy = 5,
    /// Any other failure below HTTP.
    Other = 6,
}

impl used_insight_transport_kind {
    /// The one place where core's kind becomes the C enum.
    pub(crate) fn from_core(kind: TransportErrorKind) -> Self {
        match kind {
            TransportErrorKind::Connect => Self::Connect,
            TransportErrorKind::Tls => Self::Tls,
            TransportErrorKind::ConnectionLost => Self::ConnectionLost,
            TransportErrorKind::Redirect => Self::Redirect,
            TransportErrorKind::Proxy => Self::Proxy,
            TransportErrorKind::Other => Self::Other,
            // `TransportErrorKind` is non_exhaustive: a kind added to the
            // core later is OTHER until this layer names it.
            _ => Self::Other,
        }
    }
}

/// An error on its way to the caller.
pub(crate) type Failure = Box<used_insight_error>;

impl used_insight_error {
    /// A failure detected by this layer (arguments), with a message.
    pub(crate) fn new(status: used_insight_status, message: impl Into<String>) -> Failure {
        Box::new(Self {
            status,
            message: into_c_string(message.into()),
            http_status: 0,
            graph_code: None,
            request_id: None,
            client_request_id: None,
            retry_after_ms: -1,
            may_have_been_processed: false,
            transport_kind: used_insight_transport_kind::None,
            problems: Vec::new(),
            entra: None,
        })
    }

    /// A failure with a list of (path, reason) problems.
    pub(crate) fn with_problems(
        status: used_insight_status,
        message: impl Into<String>,
        problems: impl IntoIterator<Item = (String, String)>,
    ) -> Failure {
        let mut error = Self::new(status, message);
        error.problems = problems
            .into_iter()
            .map(|(path, reason)| (into_c_string(path), into_c_string(reason)))
            .collect();
        error
    }

    /// A credential's failure, for the accessors of `entra_error`.
    pub(crate) fn entra(&self) -> Option<&EntraDetails> {
        self.entra.as_deref()
    }

    pub(crate) fn status(&self) -> used_insight_status {
        self.status
    }

    /// The message, for tests.
    #[cfg(test)]
    pub(crate) fn message_str(&self) -> &str {
        self.message.to_str().unwrap_or_default()
    }

    /// Converts a core error: the status for its kind and every detail the
    /// core gives. The message is the core's `Display`, which never contains
    /// the token.
    pub(crate) fn from_core(error: &Error) -> Failure {
        let status = match error {
            Error::InvalidInput(_) => used_insight_status::ValidationFailed,
            Error::InvalidConfig(_) => used_insight_status::InvalidConfig,
            Error::Graph(_) => used_insight_status::GraphApiError,
            Error::Transport(_) => used_insight_status::Transport,
            Error::Timeout(_) => used_insight_status::Timeout,
            Error::Decode(_) => used_insight_status::UndecodableResponse,
            Error::TokenProvider(_) => used_insight_status::TokenProviderFailed,
            Error::Cancelled(_) => used_insight_status::Cancelled,
            // `Error` is non_exhaustive: a kind added to the core later.
            _ => used_insight_status::Internal,
        };
        let problems = match error {
            Error::InvalidInput(v) => v
                .problems()
                .iter()
                .map(|p| (p.path.clone(), p.reason.clone()))
                .collect(),
            _ => Vec::new(),
        };
        let mut out = Self::with_problems(status, error.to_string(), problems);
        out.http_status = error.http_status().unwrap_or(0);
        out.client_request_id = error.client_request_id().map(into_c_string);
        out.may_have_been_processed = error.request_may_have_been_processed();
        match error {
            Error::Graph(g) => {
                out.graph_code = g.code.as_deref().map(into_c_string);
                out.request_id = g.request_id.as_deref().map(into_c_string);
                out.retry_after_ms = g
                    .retry_after
                    .map_or(-1, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            }
            Error::Decode(d) => {
                out.request_id = d.request_id.as_deref().map(into_c_string);
            }
            Error::Transport(t) => {
                out.transport_kind = used_insight_transport_kind::from_core(t.kind);
            }
            Error::TokenProvider(t) => {
                out.entra = EntraDetails::from_core(t);
            }
            _ => {}
        }
        out
    }
}

/// So that `?` turns a core error into a failure ([`used_insight_error::from_core`]).
impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        used_insight_error::from_core(&error)
    }
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(null(), |s| s.as_ptr())
}

/// The status of the failed call, `USED_INSIGHT_STATUS_NULL_PARAMETER` when
/// `err` is NULL.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_status(
    err: *const used_insight_error,
) -> used_insight_status {
    ffi_panic_boundary! {
        ref_or_default!(err).status
    }
}

/// A one-line description of what went wrong, in English, for logs and
/// people (never contains the token). NULL when `err` is NULL; otherwise
/// never NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`,
/// never freed by the caller.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_message(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        ref_or_default!(err).message.as_ptr()
    }
}

/// The HTTP status of Graph's answer (e.g. 400, 429, or 201 for an
/// undecodable success), or 0 when there was no answer or `err` is NULL.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_http_status(err: *const used_insight_error) -> u16 {
    ffi_panic_boundary! {
        ref_or_default!(err).http_status
    }
}

/// Graph's error code (e.g. `"BadRequest"`, `"TooManyRequests"`) for
/// `USED_INSIGHT_STATUS_GRAPH_API_ERROR`; NULL when Graph gave none, for
/// other statuses, or when `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_graph_code(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        opt_ptr(&ref_or_default!(err).graph_code)
    }
}

/// Graph's `request-id` for the failed request (quote it with the
/// client-request-id when asking Microsoft about a failure); NULL when Graph
/// gave none or `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_request_id(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        opt_ptr(&ref_or_default!(err).request_id)
    }
}

/// The `client-request-id` this library sent (a UUID, the same on every
/// retry of one call); NULL when no request was made (validation, token
/// callback failure) or `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_client_request_id(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        opt_ptr(&ref_or_default!(err).client_request_id)
    }
}

/// How long Graph asked the caller to wait before trying again (its
/// `Retry-After`), in milliseconds; -1 when it did not say or `err` is NULL.
/// Set on a throttled (429) or unavailable (503) answer once the retries the
/// options allow are used up.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_retry_after_ms(err: *const used_insight_error) -> i64 {
    ffi_panic_boundary! {
        ref_or_default!(err).retry_after_ms
    }
}

/// Whether the failed create may nevertheless have happened: the request may
/// have reached Graph but its answer was lost (connection dropped, timeout
/// after sending) or was a mangled success. Such a create is never resent by
/// the library; check before creating it again. `false` when `err` is NULL.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_request_may_have_been_processed(
    err: *const used_insight_error,
) -> bool {
    ffi_panic_boundary! {
        ref_or_default!(err).may_have_been_processed
    }
}

/// What kind of transport failure a `USED_INSIGHT_STATUS_TRANSPORT` error
/// is: `USED_INSIGHT_TRANSPORT_KIND_CONNECT`, `_TLS`, `_CONNECTION_LOST`,
/// `_REDIRECT`, `_PROXY` or `_OTHER`. `USED_INSIGHT_TRANSPORT_KIND_NONE` (0)
/// for every other status and when `err` is NULL.
///
/// `CONNECT`, `TLS` and `PROXY` failures happen before anything reaches
/// Graph: `used_insight_error_request_may_have_been_processed` is `false`
/// for them, and the create may simply be tried again.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_transport_kind(
    err: *const used_insight_error,
) -> used_insight_transport_kind {
    ffi_panic_boundary! {
        ref_or_default!(err).transport_kind
    }
}

/// How many problems the error lists: every rule the input broke for
/// `USED_INSIGHT_STATUS_VALIDATION_FAILED`, every non-UTF-8 field for
/// `USED_INSIGHT_STATUS_INVALID_UTF8` from `used_insight_create_fields`;
/// 0 otherwise or when `err` is NULL.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_problem_count(err: *const used_insight_error) -> usize {
    ffi_panic_boundary! {
        ref_or_default!(err).problems.len()
    }
}

/// The JSON path of problem `index` (0-based, below
/// `used_insight_error_problem_count`), in Graph's camelCase, e.g.
/// `"resourceReference.webUrl"` or `"usersId"`; `""` for the body as a
/// whole. NULL when `index` is out of range or `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_problem_path(
    err: *const used_insight_error,
    index: usize,
) -> *const c_char {
    ffi_panic_boundary! {
        ref_or_default!(err).problems.get(index).map_or(null(), |(path, _)| path.as_ptr())
    }
}

/// Why problem `index` is a problem, in English, e.g. `"is required"`.
/// NULL when `index` is out of range or `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_problem_reason(
    err: *const used_insight_error,
    index: usize,
) -> *const c_char {
    ffi_panic_boundary! {
        ref_or_default!(err).problems.get(index).map_or(null(), |(_, reason)| reason.as_ptr())
    }
}

/// Frees an error and every string borrowed from it. NULL is a no-op.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed yet;
/// it must not be used afterwards. Not to be called while another thread
/// still reads the same error.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_free(err: *mut used_insight_error) {
    ffi_panic_boundary! {
        free!(err)
    }
}
