//! Input: the body of a token endpoint's answer (Entra's token endpoint,
//! App Service's or IMDS's managed identity endpoint), any bytes.
//!
//! Checks, read as a 2xx: a token is taken only when it can go in a header
//! (not empty, visible ASCII and spaces only), with an expiry; an unusable answer's
//! message never quotes the token. Read as a refusal (400): a message that
//! names the status.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use used_insight::fuzzing::{read_token_answer, read_token_refusal};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    match read_token_answer(body, now) {
        Ok(token) => {
            let secret = token.token.secret();
            assert!(
                !secret.is_empty() && secret.bytes().all(|b| (0x20..0x7f).contains(&b)),
                "a token a header cannot carry was taken"
            );
            let _ = format!("{token:?}");
        }
        Err(message) => {
            if let Some(token) = access_token(body) {
                if token.len() >= 12 {
                    assert!(
                        !message.contains(&token),
                        "the message quotes the token: {message}"
                    );
                }
            }
        }
    }
    let refusal = read_token_refusal(400, body);
    assert!(refusal.to_string().contains("HTTP 400"), "{refusal}");
});

/// The `access_token` the body holds, read independently of the reader.
fn access_token(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let token = value.get("access_token")?.as_str()?.to_owned();
    // A token_type quoting the same text is quoted as the token type.
    let token_type = value
        .get("token_type")
        .and_then(|t| t.as_str())
        .unwrap_or("");
    (!token_type.contains(&token)).then_some(token)
}
