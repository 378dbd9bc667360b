//! Whether a redirect may be followed, where it leads, and with the token
//! or without: only http and https are followed (`ftp:`, `file:`,
//! `data:`, `javascript:`… are refused), a relative `Location` is resolved
//! against the URL that answered (RFC 3986 §5.2, as RFC 9110 allows), same
//! origin keeps the token, anywhere else drops it, https never leads to
//! http.

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

/// Decides a redirect from `from` (an absolute http or https URL) to
/// `location` (the `Location` header: absolute, or a reference relative to
/// `from`). The error says why it is not followed.
pub(crate) fn follow_redirect(from: &str, location: &str) -> Result<RedirectTarget, String> {
    if location.is_empty() {
        return Err("the redirect has no Location".to_owned());
    }
    let shown = crate::error::snippet(location, 200);
    let from_uri: Uri = from.parse().map_err(|_| format!("bad URL `{from}`"))?;
    let url = match scheme_of(location) {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
        {
            without_fragment(location).to_owned()
        }
        Some(scheme) => {
            return Err(format!(
            "the redirect leads to a `{scheme}:` URL (`{shown}`); only http and https are followed"
        ))
        }
        None => resolve(&from_uri, location),
    };
    let to_uri: Uri = url
        .parse()
        .map_err(|_| format!("the redirect leads to an invalid location `{shown}`"))?;
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

/// The scheme of a URI reference, if it has one: `ALPHA *( ALPHA / DIGIT /
/// "+" / "-" / "." ) ":"` before any `/`, `?` or `#` (RFC 3986 §3.1).
fn scheme_of(reference: &str) -> Option<&str> {
    let scheme = &reference[..reference.find(':')?];
    crate::proxy::is_scheme(scheme).then_some(scheme)
}

/// A fragment is for the user agent, never sent.
fn without_fragment(reference: &str) -> &str {
    reference.split('#').next().unwrap_or_default()
}

/// Resolves a relative reference (no scheme) against `base` (RFC 3986
/// §5.2.2), dropping any fragment.
fn resolve(base: &Uri, reference: &str) -> String {
    let scheme = base.scheme_str().unwrap_or("https");
    let base_authority = base.authority().map_or("", |a| a.as_str());
    let reference = without_fragment(reference);
    let (reference, query) = match reference.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (reference, None),
    };
    let (authority, path, query) = if let Some(rest) = reference.strip_prefix("//") {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        (authority, remove_dot_segments(path), query)
    } else if reference.is_empty() {
        let query = query.or_else(|| base.query());
        (base_authority, base.path().to_owned(), query)
    } else if reference.starts_with('/') {
        (base_authority, remove_dot_segments(reference), query)
    } else {
        let merged = match base.path().rfind('/') {
            Some(slash) => format!("{}{reference}", &base.path()[..=slash]),
            None => format!("/{reference}"),
        };
        (base_authority, remove_dot_segments(&merged), query)
    };
    match query {
        Some(query) => format!("{scheme}://{authority}{path}?{query}"),
        None => format!("{scheme}://{authority}{path}"),
    }
}

/// RFC 3986 §5.2.4: `.` and `..` segments taken out of a path.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] };
            let cut = output.rfind('/').unwrap_or(0);
            output.truncate(cut);
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    output
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

    #[test]
    fn only_http_and_https_are_followed() {
        for location in [
            "ftp://a.com/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,<b>hi</b>",
            "mailto:a@b.com",
            "ws://a.com/x",
            "a.com:443/x",
        ] {
            let why = follow_redirect("https://a.com/v1.0/x", location).unwrap_err();
            let scheme = location.split(':').next().unwrap();
            assert!(
                why.contains(&format!("`{scheme}:`")) && why.contains("only http and https"),
                "{location}: {why}"
            );
        }
        let upper = follow_redirect("https://a.com/x", "HTTPS://a.com/y#frag").unwrap();
        assert_eq!(upper.url, "HTTPS://a.com/y");
        assert!(upper.keep_authorization, "the scheme is case-insensitive");
        let missing = follow_redirect("https://a.com/x", "").unwrap_err();
        assert!(missing.contains("no Location"), "{missing}");
    }

    /// RFC 3986 §5.4's examples (fragments are dropped: never sent).
    #[test]
    fn relative_locations_resolve_as_rfc_3986_says() {
        let base = "https://a/b/c/d;p?q";
        for (reference, resolved) in [
            ("g", "https://a/b/c/g"),
            ("./g", "https://a/b/c/g"),
            ("g/", "https://a/b/c/g/"),
            ("/g", "https://a/g"),
            ("//g", "https://g"),
            ("?y", "https://a/b/c/d;p?y"),
            ("g?y", "https://a/b/c/g?y"),
            ("#s", "https://a/b/c/d;p?q"),
            ("g#s", "https://a/b/c/g"),
            ("g?y#s", "https://a/b/c/g?y"),
            (";x", "https://a/b/c/;x"),
            ("g;x", "https://a/b/c/g;x"),
            (".", "https://a/b/c/"),
            ("./", "https://a/b/c/"),
            ("..", "https://a/b/"),
            ("../", "https://a/b/"),
            ("../g", "https://a/b/g"),
            ("../..", "https://a/"),
            ("../../", "https://a/"),
            ("../../g", "https://a/g"),
            ("../../../g", "https://a/g"),
            ("../../../../g", "https://a/g"),
            ("/./g", "https://a/g"),
            ("/../g", "https://a/g"),
            ("g.", "https://a/b/c/g."),
            (".g", "https://a/b/c/.g"),
            ("g..", "https://a/b/c/g.."),
            ("..g", "https://a/b/c/..g"),
            ("./../g", "https://a/b/g"),
            ("./g/.", "https://a/b/c/g/"),
            ("g/./h", "https://a/b/c/g/h"),
            ("g/../h", "https://a/b/c/h"),
            ("g;x=1/./y", "https://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "https://a/b/c/y"),
        ] {
            let target =
                follow_redirect(base, reference).unwrap_or_else(|e| panic!("{reference}: {e}"));
            assert_eq!(target.url, resolved, "{reference}");
            assert_eq!(target.keep_authorization, reference != "//g", "{reference}");
        }
    }
}
