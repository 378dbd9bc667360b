//! What reaches the `log` facade: the deprecation notice once per client, and
//! never the token. Its own test binary, since a logger is process-global.

mod common;

use std::sync::Mutex;

use common::{client, emulator, fault, insight, TOKEN};
use serde_json::json;

static RECORDS: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        RECORDS
            .lock()
            .unwrap()
            .push((record.level(), record.args().to_string()));
    }
    fn flush(&self) {}
}

#[test]
fn deprecation_is_warned_once_and_the_token_is_never_logged() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let emu = emulator();
    emu.push_faults([
        fault(json!({"status": 429, "retry_after": "0", "headers": {"Deprecation": "Mon, 01 Jan 2024 00:00:00 GMT"}})),
        fault(json!({"times": 3, "headers": {"Deprecation": "Mon, 01 Jan 2024 00:00:00 GMT", "Sunset": "Sat, 01 Jan 2028 00:00:00 GMT"}})),
    ]);
    let c = client(&emu);
    for _ in 0..3 {
        c.create("alice", &insight()).unwrap();
    }
    let records = RECORDS.lock().unwrap().clone();
    let deprecation: Vec<_> = records
        .iter()
        .filter(|(level, text)| *level == log::Level::Warn && text.contains("deprecated"))
        .collect();
    assert_eq!(deprecation.len(), 1, "{records:#?}");
    assert!(
        records.iter().any(|(_, t)| t.contains("retry 1")),
        "the retry is logged"
    );
    assert!(
        records.len() > 5,
        "debug records were captured: {records:#?}"
    );
    for (_, text) in &records {
        assert!(!text.contains(TOKEN), "token leaked into: {text}");
    }
}
