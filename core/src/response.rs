//! Reading one HTTP answer (`Answer`): the body under a size bound, the
//! headers that matter (`Retry-After`, `request-id`, `Location`,
//! deprecation), and what cannot be used turned into an `Error`: an error
//! status into `Graph` with Graph's error object, an oversized or undecodable
//! body into `Decode`, a body cut off into a lost connection.

use std::time::SystemTime;

use serde::Deserialize;
use ureq::http::header::{HeaderMap, HeaderValue};
use ureq::http::Response;
use ureq::Body;

use crate::decode::decode_document;
use crate::error::{snippet, DecodeError, GraphError, TransportError, TransportErrorKind};
use crate::retry::parse_retry_after;
use crate::validation::Problems;
use crate::{Error, UsedInsight};

/// Largest answer read, in bytes. A usedInsight is a few KiB and a full
/// `$batch` answer well under 1 MiB; anything larger is refused before it is
/// read, so a hostile or broken server cannot exhaust memory.
pub(crate) const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// The answer's headers that matter: the first value of each, as text
/// (absent when it is not visible ASCII).
struct Headers<'r> {
    request_id: Option<&'r str>,
    retry_after: Option<&'r str>,
    location: Option<&'r str>,
    deprecation: Option<&'r str>,
    sunset: Option<&'r str>,
}

impl<'r> Headers<'r> {
    /// One pass over the answer's few headers: cheaper than a lookup per
    /// name, which hashes the name and mostly finds nothing.
    fn find(headers: &'r HeaderMap) -> Self {
        let mut first: [Option<&HeaderValue>; 5] = [None; 5];
        for (name, value) in headers {
            let slot = match name.as_str() {
                "request-id" => 0,
                "retry-after" => 1,
                "location" => 2,
                "deprecation" => 3,
                "sunset" => 4,
                _ => continue,
            };
            first[slot].get_or_insert(value);
        }
        let [request_id, retry_after, location, deprecation, sunset] =
            first.map(|value| value.and_then(|v| v.to_str().ok()));
        Self {
            request_id,
            retry_after,
            location,
            deprecation,
            sunset,
        }
    }
}

/// Most of an announced length reserved before reading: enough for any
/// answer to a create, while a server announcing megabytes it never sends
/// does not get them reserved.
const PRESIZE_BYTES: u64 = 64 * 1024;

/// How much of an unexpected body is quoted in errors.
const SNIPPET_CHARS: usize = 200;

/// The redirect statuses followed.
fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// One HTTP answer, fully read.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) retry_after: Option<std::time::Duration>,
    pub(crate) request_id: Option<String>,
    /// A redirect's `Location` (other answers' is not kept).
    pub(crate) location: Option<String>,
    /// Graph marks deprecated APIs with these (usedInsight goes in 2028).
    pub(crate) deprecation: Option<String>,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(crate) fn is_redirect(&self) -> bool {
        is_redirect(self.status)
    }

    /// Reads the status, headers and body, refusing oversized bodies up front
    /// when `Content-Length` announces them and after the bound otherwise.
    pub(crate) fn read(
        mut response: Response<Body>,
        client_request_id: &str,
    ) -> Result<Self, Error> {
        let status = response.status().as_u16();
        let found = Headers::find(response.headers());
        let request_id = found.request_id.map(str::to_owned);
        let retry_after = found
            .retry_after
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        // Only a redirect's is followed; a 201's (the new item) is not used.
        let location = found
            .location
            .filter(|_| is_redirect(status))
            .map(str::to_owned);
        let deprecation = match (found.deprecation, found.sunset) {
            (Some(d), Some(s)) => Some(format!("deprecated since {d}, sunset {s}")),
            (Some(d), None) => Some(format!("deprecated since {d}")),
            (None, Some(s)) => Some(format!("sunset {s}")),
            (None, None) => None,
        };
        let too_large = |what: String| {
            Error::Decode(Box::new(DecodeError {
                status: Some(status),
                message: format!("{what}; at most {MAX_ANSWER_BYTES} bytes are read"),
                body_snippet: String::new(),
                request_id: request_id.clone(),
                client_request_id: client_request_id.to_owned(),
            }))
        };
        let announced = response.body().content_length();
        if let Some(len) = announced {
            if len > MAX_ANSWER_BYTES {
                return Err(too_large(format!("the answer announces {len} bytes")));
            }
        }
        // Sized for the announced length, the body is read in one go and
        // the end found by one more read, not grown read by read (each read
        // passes through several layers of ureq).
        let mut bytes =
            Vec::with_capacity(announced.map_or(0, |len| len.min(PRESIZE_BYTES) as usize));
        let read = std::io::Read::read_to_end(
            &mut response
                .body_mut()
                .with_config()
                .limit(MAX_ANSWER_BYTES)
                .reader(),
            &mut bytes,
        )
        // As ureq's own read_to_vec turns I/O errors back into its errors.
        .map_err(ureq::Error::from);
        match read {
            Ok(_) => {}
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                return Err(too_large("the answer is larger".to_owned()))
            }
            Err(e) if crate::cancel_io::cancelled_by(&e).is_some() => {
                return Err(Error::Cancelled(crate::error::CancelledError::new(
                    "while reading the answer",
                    true,
                    Some(client_request_id),
                )))
            }
            Err(e) => {
                return Err(Error::Transport(TransportError {
                    kind: TransportErrorKind::ConnectionLost,
                    message: format!("while reading the HTTP {status} answer: {e}"),
                    request_may_have_been_sent: true,
                    client_request_id: client_request_id.to_owned(),
                }))
            }
        };
        let body = String::from_utf8(bytes).map_err(|e| {
            Error::Decode(Box::new(DecodeError {
                status: Some(status),
                message: "the answer is not UTF-8".to_owned(),
                body_snippet: snippet(&String::from_utf8_lossy(e.as_bytes()), SNIPPET_CHARS),
                request_id: request_id.clone(),
                client_request_id: client_request_id.to_owned(),
            }))
        })?;
        Ok(Self {
            status,
            body,
            retry_after,
            request_id,
            location,
            deprecation,
        })
    }

    /// A 2xx answer whose body is not what was expected.
    pub(crate) fn undecodable(&self, message: String, client_request_id: &str) -> Error {
        Error::Decode(Box::new(DecodeError {
            status: Some(self.status),
            message,
            body_snippet: snippet(&self.body, SNIPPET_CHARS),
            request_id: self.request_id.clone(),
            client_request_id: client_request_id.to_owned(),
        }))
    }

    /// A 2xx answer read as the usedInsight Graph created; anything else is
    /// [`Answer::undecodable`].
    pub(crate) fn created(&self, client_request_id: &str) -> Result<UsedInsight, Error> {
        let mut problems = Problems::default();
        let created = decode_document::<UsedInsight>(&self.body, &mut problems);
        match problems.into_result() {
            Ok(()) => Ok(created.unwrap_or_default()),
            Err(detail) => {
                Err(self.undecodable(format!("not a usedInsight: {detail}"), client_request_id))
            }
        }
    }

    /// An error answer as a typed Graph error: Graph's own error object when
    /// the body is one, the status and a snippet otherwise.
    pub(crate) fn into_graph_error(self, client_request_id: &str, attempts: u32) -> Error {
        let parsed = serde_json::from_str::<ErrorEnvelope>(&self.body)
            .ok()
            .and_then(|e| e.error);
        let (code, message, inner) = match parsed {
            Some(body) => (body.code, body.message, body.inner_error),
            None => (None, None, None),
        };
        let inner = inner.unwrap_or_default();
        let body_snippet = (code.is_none() && message.is_none() && !self.body.is_empty())
            .then(|| snippet(&self.body, SNIPPET_CHARS));
        Error::Graph(Box::new(GraphError {
            status: self.status,
            code,
            message,
            request_id: inner.request_id.or(self.request_id),
            client_request_id: inner
                .client_request_id
                .or_else(|| Some(client_request_id.to_owned())),
            date: inner.date,
            retry_after: self.retry_after,
            body_snippet,
            attempts,
        }))
    }
}

/// `{"error": {...}}`, Graph's error envelope.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
    /// Graph writes `innerError`; older services and docs `innererror`.
    #[serde(rename = "innerError", alias = "innererror")]
    inner_error: Option<InnerError>,
}

#[derive(Deserialize, Default)]
struct InnerError {
    #[serde(rename = "request-id")]
    request_id: Option<String>,
    #[serde(rename = "client-request-id")]
    client_request_id: Option<String>,
    date: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::http::header::HeaderName;

    /// What a lookup per name finds: the first value, as text.
    fn by_lookup<'r>(headers: &'r HeaderMap, name: &str) -> Option<&'r str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn one_pass_finds_what_a_lookup_per_name_finds() {
        let names = [
            "request-id",
            "retry-after",
            "location",
            "deprecation",
            "sunset",
            "content-type",
            "date",
        ];
        let values: [&[u8]; 4] = [b"a", b"b c", b"\xff non-ASCII", b""];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..2_000 {
            let mut headers = HeaderMap::new();
            for _ in 0..rng.usize(0..10) {
                let name = HeaderName::from_static(names[rng.usize(0..names.len())]);
                let value = HeaderValue::from_bytes(values[rng.usize(0..values.len())]).unwrap();
                headers.append(name, value);
            }
            let found = Headers::find(&headers);
            assert_eq!(found.request_id, by_lookup(&headers, "request-id"));
            assert_eq!(found.retry_after, by_lookup(&headers, "retry-after"));
            assert_eq!(found.location, by_lookup(&headers, "location"));
            assert_eq!(found.deprecation, by_lookup(&headers, "deprecation"));
            assert_eq!(found.sunset, by_lookup(&headers, "sunset"));
        }
    }
}
