//! Which proxy a client goes through: one given explicitly, none, or —
//! by default — the one the environment names, read as curl reads it
//! (`https_proxy`/`HTTPS_PROXY`, `all_proxy`/`ALL_PROXY`, `http_proxy` for
//! plain http, `no_proxy`/`NO_PROXY` with trimmed entries, domain-suffix
//! matching, `*`, IP literals and CIDR blocks). Decided once, when the
//! client is built, for the Graph host it talks to. A proxy's credentials
//! never appear in `Debug`, errors or logs.

use std::net::IpAddr;

use ureq::http::Uri;
use ureq::{Proxy, ProxyProtocol};

use crate::error::ConfigError;

/// How the proxy is chosen.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum ProxyChoice {
    /// As the environment says (the default).
    #[default]
    Environment,
    /// Never a proxy.
    Direct,
    /// This proxy URL.
    Url(String),
}

impl std::fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyChoice::Environment => f.write_str("Environment"),
            ProxyChoice::Direct => f.write_str("Direct"),
            ProxyChoice::Url(url) => f.debug_tuple("Url").field(&redact(url)).finish(),
        }
    }
}

/// The proxy to use for `target` (the Graph root), if any.
pub(crate) fn resolve(choice: &ProxyChoice, target: &Uri) -> Result<Option<Proxy>, ConfigError> {
    let url = match choice {
        ProxyChoice::Direct => return Ok(None),
        ProxyChoice::Url(url) => url.clone(),
        ProxyChoice::Environment => {
            match from_environment(|name| std::env::var(name).ok(), target) {
                Some(url) => url,
                None => return Ok(None),
            }
        }
    };
    parse(&url).map(Some)
}

/// A proxy URL as ureq takes it; `http://` is assumed without a scheme,
/// as curl does. SOCKS is refused: this build cannot speak it, and a
/// silent direct connection is the one thing a proxy setting must not get.
pub(crate) fn parse(url: &str) -> Result<Proxy, ConfigError> {
    let with_scheme = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let proxy = Proxy::new(&with_scheme).map_err(|_| {
        ConfigError::new(format!("proxy `{}` is not a valid proxy URL", redact(url)))
    })?;
    match proxy.protocol() {
        ProxyProtocol::Http | ProxyProtocol::Https => {}
        _ => {
            return Err(ConfigError::new(format!(
                "proxy `{}`: only http:// and https:// proxies are supported (not SOCKS)",
                redact(url)
            )))
        }
    }
    // Basic credentials "MUST NOT contain any control characters" (RFC
    // 7617); ureq decodes `%0D%0A` into the user name or password.
    let decoded = [proxy.username(), proxy.password()];
    if decoded
        .into_iter()
        .flatten()
        .any(|part| part.chars().any(char::is_control))
    {
        return Err(ConfigError::new(format!(
            "proxy `{}`: its user name or password holds control characters (such as CR/LF), \
             which proxy credentials cannot carry",
            redact(url)
        )));
    }
    Ok(proxy)
}

/// The proxy the environment names for `target`, curl's way. Loopback
/// targets (the emulator) never go through an environment proxy.
pub(crate) fn from_environment(
    var: impl Fn(&str) -> Option<String>,
    target: &Uri,
) -> Option<String> {
    let host = target.host()?.trim_start_matches('[').trim_end_matches(']');
    if is_loopback(host) {
        return None;
    }
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    // curl reads only the lowercase http_proxy (an HTTP_PROXY variable can
    // be set by a request header in CGI programs).
    let specific = match target.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => {
            set("https_proxy").or_else(|| set("HTTPS_PROXY"))
        }
        _ => set("http_proxy"),
    };
    let url = specific.or_else(|| set("all_proxy").or_else(|| set("ALL_PROXY")))?;
    let no_proxy = set("no_proxy")
        .or_else(|| set("NO_PROXY"))
        .unwrap_or_default();
    (!bypasses(&no_proxy, host)).then(|| url.trim().to_owned())
}

/// Whether a `NO_PROXY` list names `host`: `*`; a domain, matching itself
/// and its subdomains (`example.com`, `.example.com`); an IP address; or a
/// CIDR block (`10.0.0.0/8`). Entries are trimmed, case does not matter, a
/// `:port` on a name entry is ignored.
pub(crate) fn bypasses(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches('[');
            if let Some((net, bits)) = entry.split_once('/') {
                return match (
                    net.trim_end_matches(']').parse::<IpAddr>(),
                    bits.parse(),
                    host_ip,
                ) {
                    (Ok(net), Ok(bits), Some(ip)) => in_block(ip, net, bits),
                    _ => false,
                };
            }
            let entry = entry.split(']').next().unwrap_or(entry);
            if let (Ok(ip), Some(host_ip)) = (entry.parse::<IpAddr>(), host_ip) {
                return ip == host_ip;
            }
            let name = entry
                .rsplit_once(':')
                .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
                .map_or(entry, |(name, _)| name);
            let name = name.trim_start_matches('.').trim_end_matches('.');
            let name = name.to_ascii_lowercase();
            !name.is_empty()
                && (host == name
                    || host
                        .strip_suffix(name.as_str())
                        .is_some_and(|rest| rest.ends_with('.')))
        })
}

fn in_block(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A proxy URL without its credentials, for messages: `scheme://host:port`.
/// The credentials end at the last `@` anywhere in the text — a password
/// may hold `/`, `?` or `#` — and only a real scheme is shown (`http`
/// otherwise), so a malformed URL shows no part of them either.
pub(crate) fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => (scheme, rest),
        _ => ("http", url),
    };
    let after_credentials = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = after_credentials
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(after_credentials);
    format!("{scheme}://{host}")
}

/// RFC 3986's `scheme`: a letter, then letters, digits, `+`, `-` or `.`.
pub(crate) fn is_scheme(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const GRAPH: &str = "https://graph.microsoft.com";

    #[test]
    fn https_targets_read_https_proxy_then_all_proxy_as_curl_does() {
        let uri: Uri = GRAPH.parse().unwrap();
        let both = [("HTTPS_PROXY", "http://a:1"), ("ALL_PROXY", "http://b:2")];
        assert_eq!(
            from_environment(env(&both), &uri).as_deref(),
            Some("http://a:1")
        );
        let lower = [("https_proxy", "http://c:3"), ("HTTPS_PROXY", "http://a:1")];
        assert_eq!(
            from_environment(env(&lower), &uri).as_deref(),
            Some("http://c:3")
        );
        let all = [("ALL_PROXY", "http://b:2")];
        assert_eq!(
            from_environment(env(&all), &uri).as_deref(),
            Some("http://b:2")
        );
        // HTTP_PROXY is for plain http targets, and only in lowercase.
        let http = [("HTTP_PROXY", "http://d:4"), ("http_proxy", "http://e:5")];
        assert_eq!(from_environment(env(&http), &uri), None);
        let plain: Uri = "http://graph.example/".parse().unwrap();
        assert_eq!(
            from_environment(env(&http), &plain).as_deref(),
            Some("http://e:5")
        );
    }

    #[test]
    fn loopback_never_goes_through_an_environment_proxy() {
        let vars = [("HTTPS_PROXY", "http://a:1"), ("http_proxy", "http://a:1")];
        for target in [
            "http://127.0.0.1:8080",
            "https://localhost/",
            "http://[::1]:1/",
        ] {
            let uri: Uri = target.parse().unwrap();
            assert_eq!(from_environment(env(&vars), &uri), None, "{target}");
        }
    }

    #[test]
    fn no_proxy_entries_are_trimmed_and_match_domains_and_their_subdomains() {
        let list =
            "a.example, 127.0.0.1 , example.com,.contoso.com, 10.0.0.0/8,[::2],intranet:8080";
        for host in [
            "a.example",
            "example.com",
            "graph.example.com",
            "contoso.com",
            "x.contoso.com",
            "127.0.0.1",
            "10.1.2.3",
            "::2",
            "INTRANET",
            "example.com.",
        ] {
            assert!(bypasses(list, host), "{host} should bypass");
        }
        for host in [
            "b.example",
            "notexample.com",
            "11.0.0.1",
            "::3",
            "graph.microsoft.com",
        ] {
            assert!(!bypasses(list, host), "{host} should use the proxy");
        }
        assert!(bypasses(" * ", "anything.at.all"));
        assert!(!bypasses("", "graph.microsoft.com"));
        let uri: Uri = GRAPH.parse().unwrap();
        let vars = [
            ("HTTPS_PROXY", "http://a:1"),
            ("NO_PROXY", "foo, microsoft.com"),
        ];
        assert_eq!(from_environment(env(&vars), &uri), None);
    }

    #[test]
    fn proxies_parse_and_socks_is_refused_by_name() {
        assert_eq!(
            parse("http://user:secret@proxy.corp:3128").unwrap().port(),
            3128
        );
        assert_eq!(parse("proxy.corp:3128").unwrap().host(), "proxy.corp");
        let err = parse("socks5://user:secret@proxy.corp:1080")
            .unwrap_err()
            .to_string();
        assert!(err.contains("SOCKS") && !err.contains("secret"), "{err}");
    }

    #[test]
    fn credentials_never_show() {
        assert_eq!(
            redact("http://user:secret@proxy.corp:3128/x"),
            "http://proxy.corp:3128"
        );
        let shown = format!("{:?}", ProxyChoice::Url("https://u:p@h:1".into()));
        assert!(!shown.contains(":p@") && shown.contains("h:1"), "{shown}");
    }

    /// Found by the `proxy_config` fuzz target (fuzz/): a password holding
    /// `/` showed in part, and a malformed URL showed what stood before
    /// its `://` as the scheme.
    #[test]
    fn malformed_urls_show_no_part_of_their_credentials() {
        for (url, shown) in [
            (
                "http://user:pa/ss@proxy.corp:3128",
                "http://proxy.corp:3128",
            ),
            (
                "http://user:p?a#s@proxy.corp:3128/x",
                "http://proxy.corp:3128",
            ),
            ("user:secret@proxy.corp://x", "http://proxy.corp:"),
            ("#ocks5://pr//example.com", "http://"),
            ("socks5h://proxy:1080", "socks5h://proxy:1080"),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
        let shown = format!("{:?}", ProxyChoice::Url("http://user:pa/ss@h:1".into()));
        assert!(!shown.contains("pa") && !shown.contains("user"), "{shown}");
    }
}
