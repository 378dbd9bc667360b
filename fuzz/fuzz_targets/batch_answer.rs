//! Input: the body of a `$batch` answer (any bytes).
//!
//! Checks each item's result as the client reads it: a created insight
//! only from a 2xx item; a 2xx item it cannot use says the create may have
//! been processed; any other status is a Graph error with that status that
//! says it was not. Every error displays.
#![no_main]

use libfuzzer_sys::fuzz_target;
use used_insight::fuzzing::read_batch_answer;
use used_insight::Error;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(items) = read_batch_answer(body) else {
        return;
    };
    for (_, status, result) in items {
        let success = (200..300).contains(&status);
        match result {
            Ok(created) => {
                assert!(success, "created from HTTP {status}");
                let _ = created.to_json();
            }
            Err(error) => {
                let _ = error.to_string();
                match &error {
                    Error::Decode(e) => {
                        assert!(success);
                        assert_eq!(e.status, Some(status));
                        assert!(error.request_may_have_been_processed());
                    }
                    Error::Graph(e) => {
                        assert!(!success);
                        assert_eq!(e.status, status);
                        assert!(!error.request_may_have_been_processed());
                    }
                    other => panic!("item HTTP {status} read as {other:?}"),
                }
            }
        }
    }
});
