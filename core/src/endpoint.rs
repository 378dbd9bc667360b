//! Where requests go: the checked, versioned root every URL starts with
//! (`Endpoint`), the `usersId` percent-encoded as exactly one path segment,
//! and `check_target`, the rule that a request goes only over https, or over
//! plain http to loopback.

use percent_encoding::{utf8_percent_encode, AsciiSet, PercentEncode, NON_ALPHANUMERIC};
use ureq::http::Uri;

use crate::error::ConfigError;

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
pub(crate) fn encode_segment(segment: &str) -> PercentEncode<'_> {
    utf8_percent_encode(segment, SEGMENT)
}

/// `/users/{id}/insights/used`, relative to the versioned root (the form
/// JSON batching uses too).
pub(crate) fn create_path(user_id: &str) -> String {
    let mut path = String::new();
    push_create_path(&mut path, user_id);
    path
}

/// Appends [`create_path`] (without fmt: every create writes one).
fn push_create_path(out: &mut String, user_id: &str) {
    out.reserve("/users//insights/used".len() + user_id.len());
    out.push_str("/users/");
    out.extend(encode_segment(user_id));
    out.push_str("/insights/used");
}

/// The checked, versioned root every request URL starts with.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// e.g. `https://graph.microsoft.com/v1.0`
    versioned_root: String,
    /// The checked Graph root, e.g. `https://graph.microsoft.com`: the
    /// host the proxy choice is made for.
    root: Uri,
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
            root: uri,
        })
    }

    /// The checked Graph root, without the version.
    pub(crate) fn root(&self) -> &Uri {
        &self.root
    }

    pub(crate) fn create_url(&self, user_id: &str) -> String {
        let mut url = String::with_capacity(
            self.versioned_root.len() + "/users//insights/used".len() + user_id.len(),
        );
        url.push_str(&self.versioned_root);
        push_create_path(&mut url, user_id);
        url
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
}
