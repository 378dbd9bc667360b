//! Input: an HTTP answer to a create, written as text — the status on the
//! first line, `Name: value` header lines, an empty line, the body:
//!
//! ```text
//! 429
//! Retry-After: 2.128
//!
//! {"error":{"code":"TooManyRequests"}}
//! ```
//!
//! Checks what the client makes of it: a created insight only from a 2xx;
//! a 2xx it cannot use is an undecodable answer that says the create may
//! have been processed; an error status is a Graph error with that status;
//! a redirect from https stays on https, and keeps the token only on the
//! same origin; a `Retry-After` is never more than a day; every error
//! displays.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use used_insight::fuzzing::{read_create_answer, retry_after, CreateAnswer};
use used_insight::Error;

const DAY: Duration = Duration::from_secs(24 * 3600);

fuzz_target!(|data: &[u8]| {
    let (head, body) = split_at(data, b"\n\n").unwrap_or((data, b""));
    let mut lines = head.split(|b| *b == b'\n');
    let Some(status) = lines
        .next()
        .and_then(|l| std::str::from_utf8(l).ok())
        .and_then(|l| l.trim().parse::<u16>().ok())
    else {
        return;
    };
    let headers: Vec<(&[u8], &[u8])> = lines
        .filter_map(|line| split_at(line, b":"))
        .map(|(name, value)| (name, value.strip_prefix(b" ").unwrap_or(value)))
        .collect();
    for (_, value) in &headers {
        if let Ok(text) = std::str::from_utf8(value) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
            assert!(retry_after(text, now).is_none_or(|wait| wait <= DAY));
        }
    }
    let Some((outcome, wait)) = read_create_answer(status, &headers, body) else {
        return;
    };
    assert!(
        wait.is_none_or(|wait| wait <= DAY),
        "Retry-After over a day: {wait:?}"
    );
    let success = (200..300).contains(&status);
    match outcome {
        CreateAnswer::Created(created) => {
            assert!(success, "created from HTTP {status}");
            let _ = created.to_json();
        }
        CreateAnswer::Redirect(target) => {
            assert!(matches!(status, 301 | 302 | 303 | 307 | 308));
            if let Ok((url, keep_token)) = target {
                let uri: http::Uri = url.parse().expect("a redirect target is a URL");
                assert_eq!(uri.scheme_str(), Some("https"), "https redirected to {url}");
                if keep_token {
                    // Host names compare without case (graph.micrOsoft.com
                    // is the same origin).
                    assert_eq!(
                        uri.host().map(str::to_ascii_lowercase).as_deref(),
                        Some("graph.microsoft.com"),
                        "token sent to {url}"
                    );
                    assert_eq!(uri.port_u16().unwrap_or(443), 443, "token sent to {url}");
                }
            }
        }
        CreateAnswer::Failed(error) => {
            let _ = error.to_string();
            match &error {
                Error::Decode(e) if success => {
                    assert_eq!(e.status, Some(status));
                    assert!(error.request_may_have_been_processed());
                }
                // Too large or not UTF-8, whatever the status.
                Error::Decode(e) => assert_eq!(e.status, Some(status)),
                Error::Graph(e) => {
                    assert!(!success, "a Graph error for HTTP {status}");
                    assert_eq!(e.status, status);
                    assert!(!error.request_may_have_been_processed());
                }
                other => panic!("HTTP {status} read as {other:?}"),
            }
        }
    }
});

/// The bytes before and after the first `separator`.
fn split_at<'a>(data: &'a [u8], separator: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let at = data.windows(separator.len()).position(|w| w == separator)?;
    Some((&data[..at], &data[at + separator.len()..]))
}
