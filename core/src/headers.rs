//! What request headers may carry: this library's `SDK_VERSION` (sent in
//! `SdkVersion` and `User-Agent`) and `check_header_value`, which keeps a
//! token or user agent from smuggling in headers of its own; and
//! `RequestHeaders`, which puts a request together from the header names
//! and fixed values made once per client rather than parsed per request.

use ureq::http::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT,
};
use ureq::http::{Method, Request, Uri};

/// This library's name and version, as sent in `SdkVersion` and `User-Agent`.
pub const SDK_VERSION: &str = concat!("used-insight/", env!("CARGO_PKG_VERSION"));

/// A header value must be visible ASCII (and spaces); CR or LF would let a
/// value smuggle in headers of its own.
pub(crate) fn check_header_value(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("is empty");
    }
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(())
    } else {
        Err("contains bytes a header cannot carry (control characters such as CR/LF, or non-ASCII)")
    }
}

const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");
const SDK_VERSION_HEADER: HeaderName = HeaderName::from_static("sdkversion");
const RETRY_ATTEMPT: HeaderName = HeaderName::from_static("retry-attempt");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const SDK_VERSION_VALUE: HeaderValue = HeaderValue::from_static(SDK_VERSION);

/// Builds the requests of one client: every header name is a constant and
/// the user agent is checked and made into a header value once, so a
/// request costs only its per-request values (URL, `client-request-id`,
/// the token, the attempt). The usual request — a first attempt, POST,
/// with the token — starts from a copy of its headers made in advance.
#[derive(Clone)]
pub(crate) struct RequestHeaders {
    user_agent: HeaderValue,
    /// The usual request's headers, in order, `client-request-id` and
    /// `Authorization` holding placeholders to be replaced in place.
    usual: HeaderMap,
}

impl RequestHeaders {
    /// For a client whose `User-Agent` is `user_agent` (already checked
    /// with [`check_header_value`]).
    pub(crate) fn new(user_agent: &str) -> Result<Self, ureq::http::Error> {
        let user_agent = if user_agent == SDK_VERSION {
            SDK_VERSION_VALUE
        } else {
            HeaderValue::try_from(user_agent)?
        };
        let placeholder = HeaderValue::from_static("");
        let usual = in_order(&user_agent, placeholder.clone(), Some(placeholder), 0, true);
        Ok(Self { user_agent, usual })
    }

    /// One request: a POST of `body` as JSON, or (after a 303) a GET;
    /// `Authorization` only when `token` is given, `Retry-Attempt` from the
    /// first retry on. Fails only on a URL that is not a valid URI, with
    /// the error `http`'s request builder gives.
    pub(crate) fn request<'b>(
        &self,
        post: bool,
        url: &str,
        client_request_id: &str,
        token: Option<&str>,
        attempt: u32,
        body: &'b [u8],
    ) -> Result<Request<&'b [u8]>, ureq::http::Error> {
        let uri = Uri::try_from(url.to_owned())?;
        let client_request_id = HeaderValue::try_from(client_request_id)?;
        let authorization = match token {
            Some(token) => {
                let mut value = String::with_capacity("Bearer ".len() + token.len());
                value.push_str("Bearer ");
                value.push_str(token);
                Some(HeaderValue::try_from(value)?)
            }
            None => None,
        };
        let headers = match authorization {
            Some(authorization) if post && attempt == 0 => {
                // Replaced in place: the order stays that of `in_order`.
                let mut headers = self.usual.clone();
                headers.insert(CLIENT_REQUEST_ID, client_request_id);
                headers.insert(AUTHORIZATION, authorization);
                headers
            }
            authorization => in_order(
                &self.user_agent,
                client_request_id,
                authorization,
                attempt,
                post,
            ),
        };
        let (method, body) = if post {
            (Method::POST, body)
        } else {
            (Method::GET, &[][..])
        };
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

/// A request's headers, in the order they are written (as the request
/// builder wrote them).
fn in_order(
    user_agent: &HeaderValue,
    client_request_id: HeaderValue,
    authorization: Option<HeaderValue>,
    attempt: u32,
    post: bool,
) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(7);
    headers.append(ACCEPT, APPLICATION_JSON);
    headers.append(CLIENT_REQUEST_ID, client_request_id);
    headers.append(SDK_VERSION_HEADER, SDK_VERSION_VALUE);
    headers.append(USER_AGENT, user_agent.clone());
    if let Some(authorization) = authorization {
        headers.append(AUTHORIZATION, authorization);
    }
    if attempt > 0 {
        headers.append(RETRY_ATTEMPT, HeaderValue::from(attempt));
    }
    if post {
        headers.append(CONTENT_TYPE, APPLICATION_JSON);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `RequestHeaders` must build: the request as `http`'s builder
    /// made it from header names given as text.
    fn built_by_the_request_builder<'b>(
        post: bool,
        url: &str,
        client_request_id: &str,
        user_agent: &str,
        token: Option<&str>,
        attempt: u32,
        body: &'b [u8],
    ) -> Result<Request<&'b [u8]>, ureq::http::Error> {
        let mut request = Request::builder()
            .method(if post { "POST" } else { "GET" })
            .uri(url)
            .header("Accept", "application/json")
            .header("client-request-id", client_request_id)
            .header("SdkVersion", SDK_VERSION)
            .header("User-Agent", user_agent);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if attempt > 0 {
            request = request.header("Retry-Attempt", attempt.to_string());
        }
        let payload: &[u8] = if post {
            request = request.header("Content-Type", "application/json");
            body
        } else {
            &[]
        };
        request.body(payload)
    }

    /// Method, URI, headers in order, body.
    type Parts = (String, String, Vec<(String, Vec<u8>)>, Vec<u8>);

    fn parts(request: &Request<&[u8]>) -> Parts {
        (
            request.method().to_string(),
            request.uri().to_string(),
            request
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
            request.body().to_vec(),
        )
    }

    #[test]
    fn requests_are_what_the_request_builder_made() {
        let body = br#"{"a":1}"#;
        for user_agent in [SDK_VERSION.to_owned(), format!("app/1.0 {SDK_VERSION}")] {
            let headers = RequestHeaders::new(&user_agent).unwrap();
            for (post, token, attempt) in [
                (true, Some("eyJ0.abc"), 0),
                (true, None, 3),
                (false, Some("t"), 1),
                (false, None, 0),
            ] {
                let url = "https://graph.microsoft.com/v1.0/users/a@b.c/insights/used";
                let id = "83355c67-152a-4a06-a5a3-83f03c6ff785";
                let ours = headers
                    .request(post, url, id, token, attempt, body)
                    .unwrap();
                let theirs =
                    built_by_the_request_builder(post, url, id, &user_agent, token, attempt, body)
                        .unwrap();
                assert_eq!(parts(&ours), parts(&theirs));
                assert_eq!(ours.version(), theirs.version());
            }
            let bad = headers.request(true, "http://a b/", "id", None, 0, body);
            let theirs =
                built_by_the_request_builder(true, "http://a b/", "id", "ua", None, 0, body);
            assert_eq!(
                bad.unwrap_err().to_string(),
                theirs.unwrap_err().to_string()
            );
        }
    }

    #[test]
    fn header_values_refuse_crlf() {
        assert!(check_header_value("abc.def-ghi").is_ok());
        assert!(check_header_value("abc\r\nX-Evil: 1").is_err());
        assert!(check_header_value("").is_err());
        assert!(check_header_value("tökén").is_err());
    }
}
