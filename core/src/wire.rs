//! Where requests go and what they carry: URLs, headers, redirect safety.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use ureq::http::Uri;

use crate::error::ConfigError;

/// This library's name and version, as sent in `SdkVersion` and `User-Agent`.
pub const SDK_VERSION: &str = concat!("used-insight/", env!("CARGO_PKG_VERSION"));

/// Characters kept literal in the `usersId` segment: RFC 3986 unreserved
/// plus `@`, which Graph documents unencoded in UPN paths. Everything else —
/// `/`, `?`, `#`, `%`, spaces — is percent-encoded, so a user id is always
/// exactly one path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// Percent-encodes one path segment.
pub(crate) fn encode_segment(segment: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(segment, SEGMENT)
}

/// `/users/{id}/insights/used`, relative to the versioned root (the form
/// JSON batching uses too).
pub(crate) fn create_path(user_id: &str) -> String {
    format!("/users/{}/insights/used", encode_segment(user_id))
}

/// The checked, versioned root every request URL starts with.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// e.g. `https://graph.microsoft.com/v1.0`
    versioned_root: String,
}

impl Endpoint {
    pub(crate) fn new(base_url: &str, version: &str) -> Result<Self, ConfigError> {
        let trimmed = base_url.trim_end_matches('/');
        let uri: Uri = trimmed
            .parse()
            .map_err(|_| ConfigError::new(format!("base URL `{base_url}` is not a valid URL")))?;
        check_target(&uri)
            .map_err(|reason| ConfigError::new(format!("base URL `{base_url}` {reason}")))?;
        if uri.query().is_some() || trimmed.contains('#') {
            return Err(ConfigError::new(format!(
                "base URL `{base_url}` must not have a query or fragment"
            )));
        }
        Ok(Self {
            versioned_root: format!("{trimmed}/{version}"),
        })
    }

    pub(crate) fn create_url(&self, user_id: &str) -> String {
        format!("{}{}", self.versioned_root, create_path(user_id))
    }

    /// Graph JSON batching: `{root}/{version}/$batch`.
    pub(crate) fn batch_url(&self) -> String {
        format!("{}/$batch", self.versioned_root)
    }
}

/// Whether a URL may be sent a request at all: http(s) with a host, and plain
/// http only to loopback (the emulator), so a token never crosses a network
/// in clear text.
pub(crate) fn check_target(uri: &Uri) -> Result<(), String> {
    let host = uri.host().filter(|h| !h.is_empty()).ok_or("has no host")?;
    match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => Err(format!(
            "uses plain http to `{host}`; only https is allowed except to loopback"
        )),
        _ => Err("must be an http or https URL".to_owned()),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// Scheme, host and port: what must match for credentials to follow a redirect.
fn origin(uri: &Uri) -> (String, String, u16) {
    let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
    let default_port = if scheme == "https" { 443 } else { 80 };
    (
        scheme,
        uri.host().unwrap_or("").to_ascii_lowercase(),
        uri.port_u16().unwrap_or(default_port),
    )
}

/// Where a redirect leads and whether the token may go along.
#[derive(Debug)]
pub(crate) struct RedirectTarget {
    pub(crate) url: String,
    pub(crate) keep_authorization: bool,
}

/// Decides a redirect from `from` to `location` (absolute, or an
/// absolute path on the same origin).
pub(crate) fn follow_redirect(from: &str, location: &str) -> Result<RedirectTarget, String> {
    let from_uri: Uri = from.parse().map_err(|_| format!("bad URL `{from}`"))?;
    let url = if location.starts_with('/') && !location.starts_with("//") {
        let authority = from_uri.authority().map(|a| a.as_str()).unwrap_or("");
        format!(
            "{}://{authority}{location}",
            from_uri.scheme_str().unwrap_or("https")
        )
    } else {
        location.to_owned()
    };
    let to_uri: Uri = url.parse().map_err(|_| {
        format!(
            "redirect to an invalid location `{}`",
            crate::error::snippet(location, 200)
        )
    })?;
    if to_uri.scheme().is_none() {
        return Err(format!(
            "redirect to a relative location `{location}` is not supported"
        ));
    }
    let (from_scheme, ..) = origin(&from_uri);
    let (to_scheme, ..) = origin(&to_uri);
    if from_scheme == "https" && to_scheme != "https" {
        return Err(format!(
            "refusing a redirect from https to `{to_scheme}`: {url}"
        ));
    }
    check_target(&to_uri).map_err(|reason| format!("redirect target {reason}"))?;
    Ok(RedirectTarget {
        keep_authorization: origin(&from_uri) == origin(&to_uri),
        url,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_is_one_segment() {
        assert_eq!(
            create_path("alice@contoso.com"),
            "/users/alice@contoso.com/insights/used"
        );
        assert_eq!(
            create_path("../../me?x#y"),
            "/users/..%2F..%2Fme%3Fx%23y/insights/used"
        );
        assert_eq!(create_path("a b%c"), "/users/a%20b%25c/insights/used");
        assert_eq!(create_path("é"), "/users/%C3%A9/insights/used");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(Endpoint::new("http://127.0.0.1:8080", "v1.0").is_ok());
        assert!(Endpoint::new("http://localhost:8080/", "v1.0").is_ok());
        assert!(Endpoint::new("http://[::1]:8080", "v1.0").is_ok());
        assert!(Endpoint::new("https://graph.microsoft.com", "v1.0").is_ok());
        let err = Endpoint::new("http://graph.microsoft.com", "v1.0").unwrap_err();
        assert!(err.message.contains("only https"), "{err}");
        assert!(Endpoint::new("ftp://x", "v1.0").is_err());
        assert!(Endpoint::new("https://x?y=1", "v1.0").is_err());
        assert!(Endpoint::new("not a url", "v1.0").is_err());
    }

    #[test]
    fn redirects_keep_the_token_only_on_the_same_origin() {
        let same = follow_redirect("https://a.com/v1.0/x", "/v1.0/y").unwrap();
        assert!(same.keep_authorization);
        assert_eq!(same.url, "https://a.com/v1.0/y");
        assert!(
            !follow_redirect("https://a.com/x", "https://b.com/x")
                .unwrap()
                .keep_authorization
        );
        assert!(
            !follow_redirect("https://a.com/x", "https://a.com:8443/x")
                .unwrap()
                .keep_authorization
        );
        assert!(
            !follow_redirect("http://127.0.0.1:1/x", "http://127.0.0.1:2/x")
                .unwrap()
                .keep_authorization
        );
        assert!(follow_redirect("https://a.com/x", "http://a.com/x").is_err());
        assert!(follow_redirect("https://a.com/x", "http://127.0.0.1/x").is_err());
        assert!(follow_redirect("http://127.0.0.1/x", "http://evil.com/x").is_err());
    }

    #[test]
    fn header_values_refuse_crlf() {
        assert!(check_header_value("abc.def-ghi").is_ok());
        assert!(check_header_value("abc\r\nX-Evil: 1").is_err());
        assert!(check_header_value("").is_err());
        assert!(check_header_value("tökén").is_err());
    }
}
