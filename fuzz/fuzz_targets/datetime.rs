//! Input: a date-time text (any UTF-8); and the same bytes as an instant
//! (16 bytes of nanoseconds since the epoch, 4 of a UTC offset in seconds).
//!
//! Checks: a text that parses is written back (`Display`, JSON) as a text
//! that parses to the same instant and offset, and is written the same
//! again; the instant survives `unix_nanos`/`offset_seconds` and back. An
//! instant is taken or refused by `from_unix_nanos`, never a panic, and
//! one taken round-trips through its text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use used_insight::DateTimeOffset;

fuzz_target!(|data: &[u8]| {
    if let (Some(nanos), Some(offset)) = (data.get(..16), data.get(16..20)) {
        let nanos = i128::from_le_bytes(nanos.try_into().expect("16 bytes"));
        let offset = i32::from_le_bytes(offset.try_into().expect("4 bytes"));
        if let Ok(instant) = DateTimeOffset::from_unix_nanos(nanos, offset) {
            let written = instant.to_string();
            assert_eq!(
                DateTimeOffset::parse(&written).ok(),
                Some(instant),
                "{written}"
            );
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = DateTimeOffset::parse(text) else {
        return;
    };
    let written = parsed.to_string();
    let again = DateTimeOffset::parse(&written).unwrap_or_else(|e| {
        panic!("`{text}` was written as `{written}`, which does not parse: {e}")
    });
    assert_eq!(
        again, parsed,
        "`{text}` -> `{written}` is another instant or offset"
    );
    assert_eq!(again.to_string(), written);
    assert_eq!(
        serde_json::to_string(&parsed).expect("writes as JSON"),
        format!("\"{written}\"")
    );
    let rebuilt = DateTimeOffset::from_unix_nanos(parsed.unix_nanos(), parsed.offset_seconds())
        .unwrap_or_else(|e| panic!("`{written}` is not rebuilt from its instant: {e}"));
    assert_eq!(rebuilt, parsed);
});
