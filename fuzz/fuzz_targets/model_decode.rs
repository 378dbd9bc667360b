//! Input: any bytes, read as a usedInsight document.
//!
//! Differential: the quick reader (plain documents) and the serde reader
//! (everything) must agree — whatever the quick reader takes, serde reads
//! to the same value without a problem, and the two together (what
//! `UsedInsight::from_json` and every create use) give exactly serde's
//! value and problems. A document read without a problem validates without
//! a panic and round-trips through `to_json` unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use used_insight::fuzzing::read_insight;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let read = read_insight(json);
    if let Some(quick) = &read.quick {
        assert!(
            read.serde.1.is_empty(),
            "the quick reader took what serde finds problems in: {:?}",
            read.serde.1
        );
        assert_eq!(read.serde.0.as_ref(), Some(quick), "the readers disagree");
    }
    assert_eq!(
        read.decoded, read.serde,
        "decode_document differs from serde's reader"
    );
    let (value, problems) = read.decoded;
    if !problems.is_empty() {
        for problem in &problems {
            assert!(!problem.reason.is_empty(), "a problem without a reason");
        }
        return;
    }
    let value = value.expect("no problem, so a value");
    let _ = value.validate();
    let written = value.to_json();
    let again = read_insight(&written);
    assert_eq!(
        again.decoded.1,
        [],
        "what to_json wrote does not read: {written}"
    );
    assert_eq!(
        again.decoded.0.as_ref(),
        Some(&value),
        "changed in a round trip: {written}"
    );
    assert_eq!(again.decoded.0.map(|v| v.to_json()), Some(written));
});
