//! Whether a redirect may be followed, and with the token or without:
//! same origin keeps it, anywhere else drops it, https never leads to http.

use ureq::http::Uri;

use crate::endpoint::check_target;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
