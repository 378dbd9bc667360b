//! The status every fallible function returns. Numbers are ABI: never reuse
//! or renumber one; retire a value by leaving it here as a comment.

use std::ffi::c_char;

/// What a call did. `USED_INSIGHT_STATUS_OK` (0) is success; every other
/// value is a failure, grouped by who can fix it:
///
/// - 1xx: the caller's arguments or input (nothing was sent);
/// - 2xx: the remote side (Graph or the network);
/// - 3xx: the caller's token callback;
/// - 4xx: the caller stopped the call (a cancel token);
/// - 9xx: a bug in this library.
///
/// The values are stable across versions; new ones may be added, so treat an
/// unknown value as a failure (`used_insight_status_name` names it "unknown").
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum used_insight_status {
    /// Success.
    Ok = 0,

    /// A required pointer argument was NULL (the message names it).
    NullParameter = 100,
    /// A string argument was not valid UTF-8 (the message names it; for
    /// `used_insight_create_fields` every such field is listed as a problem).
    InvalidUtf8 = 101,
    /// An argument's value is out of range: an unknown cloud, a zero timeout,
    /// a `struct_size` this library cannot accept.
    InvalidArgument = 102,
    /// The insight or the user id breaks a rule; nothing was sent. The
    /// error's problem list names every offending field by its JSON path.
    ValidationFailed = 103,
    /// The options cannot make a client: no token, a malformed base URL, plain
    /// `http://` to a non-loopback host, a token that is not a header value,
    /// a root certificate file that cannot be read or holds no certificate,
    /// a malformed or SOCKS proxy URL.
    InvalidConfig = 104,

    /// Graph answered with an error status. The error carries the HTTP status,
    /// Graph's error code, request-id, client-request-id and Retry-After.
    GraphApiError = 200,
    /// The connection failed or broke, TLS or the proxy failed, or a
    /// redirect was refused; `used_insight_error_transport_kind` says which.
    /// When the request may have reached Graph it was not resent: see
    /// `used_insight_error_request_may_have_been_processed`.
    Transport = 201,
    /// No answer within the configured timeout.
    Timeout = 202,
    /// An answer arrived but is not what Graph sends (not JSON, not a
    /// usedInsight, truncated or too large).
    UndecodableResponse = 203,

    /// The token callback reported a failure or returned an unusable token;
    /// nothing was sent.
    TokenProviderFailed = 300,

    /// The call was cancelled through its `used_insight_cancel_token` before
    /// it had an answer. `used_insight_error_request_may_have_been_processed`
    /// says whether the request had been sent (its answer then abandoned):
    /// only then may the insight have been created.
    Cancelled = 400,

    /// A panic inside the library was caught at the boundary (a bug; please
    /// report it). The call had no effect that the caller can rely on.
    Panic = 900,
    /// The core reported an error this version of the C layer does not know
    /// (a bug; please report it).
    Internal = 901,
}

impl used_insight_status {
    /// Every status, for conversion from an integer. A unit test checks it
    /// against the enumerators in the header.
    pub(crate) const ALL: [used_insight_status; 14] = [
        Self::Ok,
        Self::NullParameter,
        Self::InvalidUtf8,
        Self::InvalidArgument,
        Self::ValidationFailed,
        Self::InvalidConfig,
        Self::GraphApiError,
        Self::Transport,
        Self::Timeout,
        Self::UndecodableResponse,
        Self::TokenProviderFailed,
        Self::Cancelled,
        Self::Panic,
        Self::Internal,
    ];

    /// Reads a status that came from C as a plain integer. Transmuting an
    /// out-of-range value into a Rust enum would be undefined behaviour.
    pub(crate) fn from_u32(value: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| *s as u32 == value)
    }

    /// The enumerator's name in the header, NUL-terminated.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ok => "USED_INSIGHT_STATUS_OK\0",
            Self::NullParameter => "USED_INSIGHT_STATUS_NULL_PARAMETER\0",
            Self::InvalidUtf8 => "USED_INSIGHT_STATUS_INVALID_UTF8\0",
            Self::InvalidArgument => "USED_INSIGHT_STATUS_INVALID_ARGUMENT\0",
            Self::ValidationFailed => "USED_INSIGHT_STATUS_VALIDATION_FAILED\0",
            Self::InvalidConfig => "USED_INSIGHT_STATUS_INVALID_CONFIG\0",
            Self::GraphApiError => "USED_INSIGHT_STATUS_GRAPH_API_ERROR\0",
            Self::Transport => "USED_INSIGHT_STATUS_TRANSPORT\0",
            Self::Timeout => "USED_INSIGHT_STATUS_TIMEOUT\0",
            Self::UndecodableResponse => "USED_INSIGHT_STATUS_UNDECODABLE_RESPONSE\0",
            Self::TokenProviderFailed => "USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED\0",
            Self::Cancelled => "USED_INSIGHT_STATUS_CANCELLED\0",
            Self::Panic => "USED_INSIGHT_STATUS_PANIC\0",
            Self::Internal => "USED_INSIGHT_STATUS_INTERNAL\0",
        }
    }
}

/// The name of a status as written in this header, e.g.
/// `"USED_INSIGHT_STATUS_TIMEOUT"`, or `"unknown"` for a value this version
/// does not define.
///
/// `status` is read as a plain integer, so any value is safe to pass.
/// Returns a static NUL-terminated string: never NULL, never freed.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn used_insight_status_name(status: u32) -> *const c_char {
    ffi_panic_boundary! {
        let name = match used_insight_status::from_u32(status) {
            Some(s) => s.name(),
            None => "unknown\0",
        };
        name.as_ptr().cast()
    }
}
