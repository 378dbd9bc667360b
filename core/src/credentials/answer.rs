//! Reading a token endpoint's answer: the token with its lifetime
//! (Entra's `expires_in`/`refresh_in`, or a managed identity endpoint's
//! `expires_on` — numbers or numeric strings, as each sends them), and a
//! refusal with what Entra said (`error`, `error_description`,
//! `correlation_id`, `trace_id`) or what App Service said (`message`,
//! `correlationId`).

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::Value;

use super::{AccessToken, Secret};
use crate::error::{snippet, CredentialFailure};
use crate::headers::check_header_value;

/// A successful answer's body.
#[derive(Deserialize)]
struct TokenBody {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<Value>,
    expires_on: Option<Value>,
    refresh_in: Option<Value>,
}

/// The token in a 2xx answer received at `now`, or what is wrong with it
/// (never quoting the body, which may hold a token).
pub(crate) fn read_token(body: &str, now: SystemTime) -> Result<AccessToken, String> {
    let parsed: TokenBody = serde_json::from_str(body)
        .map_err(|_| "the token endpoint's answer is not the JSON of a token".to_owned())?;
    let Some(token) = parsed.access_token.map(Secret::new) else {
        return Err("the token endpoint's answer has no access_token".to_owned());
    };
    if let Some(kind) = parsed.token_type {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(format!(
                "the token endpoint gave a `{kind}` token, not a bearer token"
            ));
        }
    }
    check_header_value(token.secret())
        .map_err(|why| format!("the access_token in the answer {why}"))?;
    let expires_on = if let Some(at) = parsed.expires_on.as_ref().and_then(seconds) {
        SystemTime::UNIX_EPOCH + Duration::from_secs(at)
    } else if let Some(within) = parsed.expires_in.as_ref().and_then(seconds) {
        now + Duration::from_secs(within)
    } else {
        return Err("the token endpoint's answer has neither expires_in nor expires_on".to_owned());
    };
    let mut access = AccessToken::new(token, expires_on);
    if let Some(within) = parsed.refresh_in.as_ref().and_then(seconds) {
        access = access.with_refresh_on(now + Duration::from_secs(within));
    }
    Ok(access)
}

/// Whole seconds from a JSON number or a numeric string (`"3599"`).
fn seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An error answer's body: Entra's fields, and App Service's.
#[derive(Deserialize, Default)]
struct RefusalBody {
    error: Option<Value>,
    error_description: Option<String>,
    correlation_id: Option<String>,
    trace_id: Option<String>,
    // App Service / Functions managed identity.
    message: Option<String>,
    #[serde(rename = "correlationId")]
    correlation_id_camel: Option<String>,
}

/// A refusal (`status`, `body`) as the failure's details and a one-line
/// message: `HTTP 401 invalid_client: AADSTS7000215: Invalid client secret
/// provided. [correlation-id …, trace-id …]`.
pub(crate) fn read_refusal(
    credential: &'static str,
    status: u16,
    body: &str,
) -> (String, CredentialFailure) {
    let parsed: RefusalBody = serde_json::from_str(body).unwrap_or_default();
    // IMDS has sent `error` as an object ({"code": …, "message": …}).
    let (error, nested_message) = match parsed.error {
        Some(Value::String(code)) => (Some(code), None),
        Some(Value::Object(object)) => (
            object
                .get("code")
                .and_then(Value::as_str)
                .map(str::to_owned),
            object
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned),
        ),
        _ => (None, None),
    };
    let details = CredentialFailure {
        credential,
        status: Some(status),
        error,
        error_description: parsed
            .error_description
            .or(parsed.message)
            .or(nested_message),
        correlation_id: parsed.correlation_id.or(parsed.correlation_id_camel),
        trace_id: parsed.trace_id,
        unavailable: false,
    };
    let mut message = format!("the token endpoint answered HTTP {status}");
    if let Some(error) = &details.error {
        message.push(' ');
        message.push_str(error);
    }
    match &details.error_description {
        // Entra appends "Trace ID: …", "Correlation ID: …" and a timestamp
        // on lines of their own; the ids are shown once, below.
        Some(description) => {
            let first_line = description.lines().next().unwrap_or_default().trim();
            message.push_str(": ");
            message.push_str(first_line);
        }
        None if details.error.is_none() && !body.trim().is_empty() => {
            message.push_str(&format!(": body starts {:?}", snippet(body, 200)));
        }
        None => {}
    }
    let ids: Vec<String> = [
        ("correlation-id", &details.correlation_id),
        ("trace-id", &details.trace_id),
    ]
    .into_iter()
    .filter_map(|(name, id)| id.as_ref().map(|id| format!("{name} {id}")))
    .collect();
    if !ids.is_empty() {
        message.push_str(&format!(" [{}]", ids.join(", ")));
    }
    (message, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_answers_give_the_lifetime_and_refresh_hint() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let body = r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,
                       "refresh_in":1800,"access_token":"eyJ0eXAi.x.y"}"#;
        let token = read_token(body, now).unwrap();
        assert_eq!(token.token.secret(), "eyJ0eXAi.x.y");
        assert_eq!(token.expires_on, now + Duration::from_secs(3599));
        assert_eq!(token.refresh_on, Some(now + Duration::from_secs(1800)));
    }

    #[test]
    fn managed_identity_answers_use_expires_on_as_a_string() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let body = r#"{"access_token":"abc","expires_on":"1800003600","expires_in":"3600",
                       "resource":"https://graph.microsoft.com","token_type":"Bearer"}"#;
        let token = read_token(body, now).unwrap();
        assert_eq!(token.expires_on, now + Duration::from_secs(3600));
        assert_eq!(token.refresh_on, None);
    }

    #[test]
    fn unusable_answers_are_named_without_quoting_the_token() {
        let now = SystemTime::now();
        let cases = [
            ("not json", "not the JSON of a token"),
            (r#"{"expires_in":1}"#, "no access_token"),
            (
                r#"{"access_token":"secret-x","token_type":"pop","expires_in":1}"#,
                "`pop`",
            ),
            (
                r#"{"access_token":"secret\r\nx","expires_in":1}"#,
                "cannot carry",
            ),
            (r#"{"access_token":"secret-x"}"#, "neither expires_in"),
        ];
        for (body, expected) in cases {
            let err = read_token(body, now).unwrap_err();
            assert!(
                err.contains(expected) && !err.contains("secret"),
                "{body}: {err}"
            );
        }
    }

    #[test]
    fn entra_refusals_keep_every_id_and_show_the_first_line() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2026-01-01 00:00:00Z","error_codes":[7000215],"timestamp":"2026-01-01 00:00:00Z","trace_id":"t-1","correlation_id":"c-1","error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#;
        let (message, details) = read_refusal("ClientSecretCredential", 401, body);
        assert_eq!(
            message,
            "the token endpoint answered HTTP 401 invalid_client: AADSTS7000215: Invalid client \
             secret provided. [correlation-id c-1, trace-id t-1]"
        );
        assert_eq!(details.error.as_deref(), Some("invalid_client"));
        assert!(details.error_description.unwrap().contains("Timestamp"));
        assert_eq!(details.status, Some(401));
    }

    #[test]
    fn app_service_and_imds_and_unknown_refusals() {
        let app =
            r#"{"statusCode":400,"message":"No managed identity found","correlationId":"c-2"}"#;
        let (message, _) = read_refusal("ManagedIdentityCredential", 400, app);
        assert_eq!(
            message,
            "the token endpoint answered HTTP 400: No managed identity found [correlation-id c-2]"
        );
        let imds = r#"{"error":"invalid_request","error_description":"Identity not found"}"#;
        let (message, _) = read_refusal("ManagedIdentityCredential", 400, imds);
        assert!(
            message.ends_with("HTTP 400 invalid_request: Identity not found"),
            "{message}"
        );
        let (message, details) = read_refusal("ClientSecretCredential", 502, "<html>bad gateway");
        assert!(
            message.ends_with(r#"HTTP 502: body starts "<html>bad gateway""#),
            "{message}"
        );
        assert_eq!(details.error, None);
    }
}
