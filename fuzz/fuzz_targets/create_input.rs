//! Input: a user id, a newline, then a usedInsight as JSON: what
//! `Client::create_json` (and the C `used_insight_create`) validate and
//! write before anything is sent.
//!
//! Checks: a body is written only for a valid user id and insight; it is
//! within the size bound, reads back without a problem to the insight the
//! input held, and validates. A refusal is a validation error with at least
//! one problem (nothing would have been sent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use used_insight::fuzzing::{prepare_create, read_insight};
use used_insight::{validate_user_id, Error, MAX_BODY_BYTES};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (user_id, json) = text.split_once('\n').unwrap_or((text, ""));
    match prepare_create(user_id, json) {
        Ok(body) => {
            assert!(
                validate_user_id(user_id).is_ok(),
                "sent for an invalid user id"
            );
            assert!(body.len() <= MAX_BODY_BYTES);
            let sent = read_insight(&body).decoded;
            assert_eq!(sent.1, [], "the body written does not read: {body}");
            let sent = sent.0.expect("no problem, so a value");
            sent.validate().expect("the body sent is valid");
            assert_eq!(
                Some(sent),
                read_insight(json).decoded.0,
                "the body is not the input"
            );
        }
        Err(Error::InvalidInput(errors)) => {
            assert!(!errors.problems().is_empty(), "refused without a problem");
            assert!(!errors.to_string().is_empty());
        }
        Err(other) => panic!("not a validation error: {other:?}"),
    }
});
