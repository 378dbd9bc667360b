//! Token endpoint errors in Entra's shape: an OAuth `error` string, an
//! `AADSTS…` description with trace and correlation ids, and the same ids as
//! fields.

use hyper::body::Bytes;
use serde::Serialize;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::body::Payload;
use crate::graph::{Ctx, Resp};

/// An error the token endpoint answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntraError {
    pub(crate) status: u16,
    /// OAuth error: `invalid_request`, `invalid_client`, `unauthorized_client`…
    pub(crate) error: String,
    /// The AADSTS number.
    pub(crate) code: u32,
    /// The description after `AADSTS{code}: `.
    pub(crate) message: String,
}

/// The body; a struct so the keys keep Entra's order.
#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: String,
    error_codes: [u32; 1],
    timestamp: &'a str,
    trace_id: &'a str,
    correlation_id: &'a str,
    error_uri: String,
}

impl EntraError {
    pub(crate) fn new(status: u16, error: &str, code: u32, message: impl Into<String>) -> Self {
        EntraError {
            status,
            error: error.to_owned(),
            code,
            message: message.into(),
        }
    }

    /// Replaces the OAuth `error` string.
    pub(crate) fn with_error(mut self, error: String) -> Self {
        self.error = error;
        self
    }

    /// `400 invalid_request`.
    pub(crate) fn invalid_request(code: u32, message: impl Into<String>) -> Self {
        EntraError::new(400, "invalid_request", code, message)
    }

    /// `401 invalid_client`.
    pub(crate) fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        EntraError::new(401, "invalid_client", code, message)
    }

    /// AADSTS900144, a required parameter missing from the body.
    pub(crate) fn missing_parameter(name: &str) -> Self {
        EntraError::invalid_request(
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// The answer: trace id = the request's `request-id`, correlation id =
    /// the client's `client-request-id` (as Entra echoes it), or a fresh one.
    pub(crate) fn into_resp(self, ctx: &Ctx<'_>) -> Resp {
        let timestamp = OffsetDateTime::now_utc()
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]Z"
            ))
            .unwrap_or_default();
        let trace_id = ctx.request_id.as_str();
        let correlation_id = ctx.client_request_id.as_str();
        let body = Body {
            error: &self.error,
            error_description: format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.message
            ),
            error_codes: [self.code],
            timestamp: &timestamp,
            trace_id,
            correlation_id,
            error_uri: format!("https://login.microsoftonline.com/error?code={}", self.code),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = Resp::new(self.status, Payload::Bytes(Bytes::from(bytes)));
        set_token_headers(&mut resp, trace_id);
        resp
    }
}

/// Headers every token endpoint answer carries.
pub(crate) fn set_token_headers(resp: &mut Resp, trace_id: &str) {
    resp.set_header("Content-Type", "application/json; charset=utf-8");
    resp.set_header("Cache-Control", "no-store, no-cache");
    resp.set_header("Pragma", "no-cache");
    resp.set_header("x-ms-request-id", trace_id);
}
