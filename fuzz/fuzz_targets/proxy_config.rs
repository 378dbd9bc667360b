//! Input: four lines — a proxy URL, a `NO_PROXY` list, a host name, a base
//! URL — read as a client reads its configuration.
//!
//! Checks: a proxy URL is taken (as http or https) or refused; as
//! messages show it, it is a scheme and what came after the last `@`, so
//! never a user name or password; the environment's proxy is never used for loopback; a
//! base URL is taken only as https, or http to loopback.
#![no_main]

use libfuzzer_sys::fuzz_target;
use used_insight::fuzzing::{
    create_url, no_proxy_bypasses, parse_proxy, proxy_from_environment, redact_proxy,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let mut next = || lines.next().unwrap_or("");
    let (proxy, no_proxy, host, base_url) = (next(), next(), next(), next());

    if let Ok(uri) = parse_proxy(proxy) {
        let uri: http::Uri = uri.parse().expect("a taken proxy is a URI");
        assert!(
            matches!(uri.scheme_str(), Some("http" | "https")),
            "proxy {uri}"
        );
    }
    let shown = redact_proxy(proxy);
    let (shown_scheme, shown_host) = shown.split_once("://").expect("shown as scheme://host");
    assert!(
        shown_scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)),
        "`{proxy}` is shown as `{shown}`"
    );
    if let Some((_, after)) = proxy.rsplit_once('@') {
        assert!(
            after.contains(shown_host),
            "`{proxy}` is shown as `{shown}`"
        );
    }

    let _ = no_proxy_bypasses(no_proxy, host);
    if no_proxy.split(',').any(|entry| entry.trim() == "*") {
        assert!(no_proxy_bypasses(no_proxy, host), "`*` bypasses every host");
    }

    let vars = [
        ("https_proxy", proxy),
        ("http_proxy", proxy),
        ("no_proxy", no_proxy),
    ];
    for base in [
        base_url,
        "http://127.0.0.1:1",
        "http://[::1]:1",
        "http://localhost:1",
    ] {
        let chosen = proxy_from_environment(&vars, base);
        if base != base_url {
            assert_eq!(chosen, None, "the environment's proxy for loopback {base}");
        }
    }

    if let Ok(url) = create_url(base_url, "a@b.c") {
        let uri: http::Uri = url.parse().expect("a create URL is a URL");
        let host = uri
            .host()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']');
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") => assert!(
                host.eq_ignore_ascii_case("localhost")
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback()),
                "plain http to {host}"
            ),
            other => panic!("scheme {other:?} in {url}"),
        }
    }
});
