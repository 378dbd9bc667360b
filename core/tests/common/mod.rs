//! Shared set-up for the integration tests: a real emulator on loopback and
//! a client pointed at it.
#![allow(dead_code)]

pub mod entra;

use std::time::Duration;

use graph_emulator::{Emulator, EmulatorConfig, Fault, RecordedRequest};
use used_insight::{Client, ClientBuilder, RetryPolicy, UsedInsight};

pub const TOKEN: &str = "test-token-5f2c";

pub fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        token: Some(TOKEN.into()),
        ..Default::default()
    })
    .expect("emulator starts")
}

/// Fast retries and short timeouts so the suite stays quick.
pub fn builder(emulator: &Emulator) -> ClientBuilder {
    Client::builder()
        .token(TOKEN)
        .base_url(emulator.base_url())
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(20)))
}

pub fn client(emulator: &Emulator) -> Client {
    builder(emulator).build().expect("client builds")
}

pub fn fault(json: serde_json::Value) -> Fault {
    serde_json::from_value(json).expect("fault JSON matches the emulator's protocol")
}

pub fn insight() -> UsedInsight {
    UsedInsight::from_json(
        r#"{
            "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00.1234567+01:00",
                         "lastModifiedDateTime": "0001-01-01T00:00:00Z"},
            "resourceVisualization": {"title": "Quarterly report", "type": "Word", "previewText": ""},
            "resourceReference": {"webUrl": "https://contoso.sharepoint.com/sites/finance/report.docx",
                                  "id": "drives/b!abc/items/01XYZ", "type": "microsoft.graph.driveItem"}
        }"#,
    )
    .unwrap()
}

pub fn header<'a>(request: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    request.headers.get(name).map(String::as_str)
}

/// The paths of a validation failure's problems, in order.
pub fn paths_of(errors: &used_insight::ValidationErrors) -> Vec<&str> {
    errors.problems().iter().map(|p| p.path.as_str()).collect()
}
