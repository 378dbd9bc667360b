//! Input: a user id (any UTF-8).
//!
//! Checks: the id becomes exactly one path segment of
//! `/users/{id}/insights/used` that percent-decodes back to it, and a
//! valid id gives a URL the HTTP layer accepts with exactly that path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use used_insight::fuzzing::{create_path, create_url};
use used_insight::validate_user_id;

fuzz_target!(|data: &[u8]| {
    let Ok(user_id) = std::str::from_utf8(data) else {
        return;
    };
    let valid = validate_user_id(user_id).is_ok();
    let path = create_path(user_id);
    let segment = path
        .strip_prefix("/users/")
        .and_then(|p| p.strip_suffix("/insights/used"))
        .expect("the path's fixed parts");
    assert!(
        !segment.contains(['/', '?', '#']) && !segment.chars().any(|c| c.is_control() || c == ' '),
        "the user id is not one clean segment: {segment}"
    );
    assert!(segment.is_ascii(), "a segment that is not ASCII: {segment}");
    assert_eq!(decode(segment), user_id.as_bytes(), "does not decode back");
    if !valid {
        return;
    }
    assert!(
        segment != "." && segment != ".." && !segment.is_empty(),
        "a dot segment or an empty one for a valid id"
    );
    let url = create_url("https://graph.microsoft.com", user_id).expect("the base URL is valid");
    let uri: http::Uri = url.parse().expect("the HTTP layer takes the URL");
    assert_eq!(uri.path(), format!("/v1.0{path}"));
    assert_eq!(uri.query(), None);
});

/// Percent-decoding, written out so the check does not share code with
/// what it checks.
fn decode(segment: &str) -> Vec<u8> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("two hex digits");
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
