//! For language bindings only — this project's C and Python layers, or
//! anyone else's. Rust callers have everything they need in the crate root.
//!
//! A binding converts its own values (C strings, Python dicts and objects)
//! into core's models and settings; every rule stays here. What a binding
//! finds while converting (bytes that are not UTF-8, a Python `set`, a naive
//! `datetime`) it reports as [`Problem`]s with their JSON paths, and core
//! merges them with its own so every entry point reports problems in one
//! order and one wording.

use crate::validation::{check_user_id, Problems};
use std::time::Duration;

use crate::{
    BatchOptions, Client, ClientBuilder, ConfigError, Error, Model, Problem, RateLimit,
    RetryPolicy, UsedInsight, ValidationErrors,
};

/// Validates one create as core's own entry points do: the `usersId`, then
/// the problems the binding found converting its input (in its order), then
/// Graph's rules on the model. A property the binding already reported
/// (and so could not convert) is not also reported as required, nor the
/// user id checked again when the binding reported it (`usersId`).
///
/// ```
/// use used_insight::{bindings, Problem, UsedInsight};
/// let found = vec![Problem { path: "lastUsed".into(), reason: "expected a dict, found set".into() }];
/// let errors = bindings::validate_create("", &UsedInsight::default(), found).unwrap_err();
/// let paths: Vec<&str> = errors.problems().iter().map(|p| p.path.as_str()).collect();
/// assert_eq!(paths, ["usersId", "lastUsed", "resourceVisualization", "resourceReference"]);
/// ```
pub fn validate_create(
    user_id: &str,
    insight: &UsedInsight,
    found: Vec<Problem>,
) -> Result<(), ValidationErrors> {
    let mut problems = Problems::default();
    if !found.iter().any(|p| p.path == "usersId") {
        check_user_id(user_id, &mut problems);
    }
    problems.extend(found);
    insight.check("", &mut problems);
    problems.into_result()
}

/// Reads a model from any serde deserializer (e.g. one over a Python dict)
/// with core's own reader: what could be read (a value with a problem is
/// left absent, so [`validate_create`] can still check the rest), and the
/// problems of shape with the paths (relative to the object read) and
/// wording of [`UsedInsight::from_json`]. Unknown properties are kept:
/// verbatim when the deserializer hands them over as serde_json does its
/// `RawValue`, as compact JSON otherwise. `Err` only when the deserializer
/// itself fails.
///
/// ```
/// use used_insight::{bindings, UsageDetails};
/// let value = serde_json::json!({"lastAccessedDateTime": "yesterday", "n": 1});
/// let (read, problems) = bindings::read_model::<UsageDetails, _>(value)?;
/// assert_eq!(problems[0].path, "lastAccessedDateTime");
/// assert_eq!(read.additional_data["n"].as_str(), "1");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn read_model<'de, T: Model, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<(T, Vec<Problem>), D::Error> {
    T::read_with(deserializer)
}

/// Builds a usedInsight from text values at wire paths
/// (`resourceVisualization.title`, `lastUsed.lastAccessedDateTime`…), for
/// bindings whose callers hand over plain strings. A nested object exists
/// once any of its members is given; date-times are parsed by core, and
/// those that do not parse are returned as problems (in the order given),
/// as is a path the model does not have.
///
/// ```
/// use used_insight::bindings;
/// let (insight, problems) = bindings::insight_from_texts([
///     ("resourceVisualization.title", "Quarterly report"),
///     ("lastUsed.lastAccessedDateTime", "yesterday"),
/// ]);
/// assert_eq!(insight.resource_visualization.unwrap().title.as_deref(), Some("Quarterly report"));
/// assert!(insight.last_used.is_some());
/// assert_eq!(problems[0].path, "lastUsed.lastAccessedDateTime");
/// ```
pub fn insight_from_texts<'a>(
    values: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (UsedInsight, Vec<Problem>) {
    let mut insight = UsedInsight::default();
    let mut problems = Problems::default();
    for (path, text) in values {
        if !insight.set_text_at(path, text, path, &mut problems) {
            problems.push(path, "is not a text property of a usedInsight");
        }
    }
    (insight, problems.into_vec())
}

/// The number of batches in flight for `create_many`, as any binding takes
/// it: 1 or more. Core's [`BatchOptions`] refuses 0
/// the same way.
///
/// ```
/// assert_eq!(used_insight::bindings::concurrency(3).unwrap(), 3);
/// let err = used_insight::bindings::concurrency(-3).unwrap_err();
/// assert_eq!(err.to_string(), "concurrency must be 1 or more, not -3");
/// ```
pub fn concurrency(value: i128) -> Result<usize, ConfigError> {
    match usize::try_from(value) {
        Ok(n) if n >= 1 => Ok(n),
        _ if value >= 1 => Ok(usize::MAX),
        _ => Err(crate::batch::bad_concurrency(value)),
    }
}

/// A [`RateLimit`] from the values a binding holds — whole numbers of any
/// width and a float of seconds — with core's rules and words: counts of 1
/// or more that fit in 32 bits, a window more than zero and at most a day.
///
/// ```
/// use std::time::Duration;
/// let limit = used_insight::bindings::rate_limit(4, 20, 2.5).unwrap();
/// assert_eq!(limit.per, Duration::from_millis(2500));
/// let err = used_insight::bindings::rate_limit(0, 20, 2.5).unwrap_err();
/// assert_eq!(err.to_string(), "rate_limit.max_concurrent must be 1 or more, not 0");
/// ```
pub fn rate_limit(
    max_concurrent: i128,
    requests: i128,
    per_seconds: f64,
) -> Result<RateLimit, ConfigError> {
    RateLimit::from_parts(max_concurrent, requests, per_seconds)
}

/// `policy` with its first back-off wait set — the wait before retrying a
/// 429, 503 or 504 that has no `Retry-After`, doubled (with jitter) for each
/// further retry — as bindings call the setting: `retry_delay`, after the
/// `Delay` of Microsoft Graph SDKs' retry handler option. 0 retries at
/// once; more than the policy's `max_delay` (60 s by default) is refused,
/// the error naming `retry_delay` and the value.
///
/// ```
/// use std::time::Duration;
/// use used_insight::{bindings, RetryPolicy};
/// let policy = bindings::retry_delay(&RetryPolicy::default(), Duration::from_millis(20)).unwrap();
/// assert_eq!(policy.initial_delay, Duration::from_millis(20));
/// let err = bindings::retry_delay(&policy, Duration::from_secs(61)).unwrap_err();
/// assert_eq!(err.to_string(), "retry_delay must be at most 60 s (the longest single wait), not 61 s");
/// ```
pub fn retry_delay(policy: &RetryPolicy, delay: Duration) -> Result<RetryPolicy, ConfigError> {
    let policy = policy.clone().with_initial_delay(delay);
    policy.check_initial_delay(RETRY_DELAY)?;
    Ok(policy)
}

/// [`retry_delay`] from a float of seconds, for bindings whose callers
/// give one: also refused are a negative number, NaN and the infinities.
///
/// ```
/// use std::time::Duration;
/// use used_insight::{bindings, RetryPolicy};
/// let policy = bindings::retry_delay_seconds(&RetryPolicy::default(), 0.25).unwrap();
/// assert_eq!(policy.initial_delay, Duration::from_millis(250));
/// let err = bindings::retry_delay_seconds(&policy, f64::NAN).unwrap_err();
/// assert_eq!(err.to_string(), "retry_delay must be a number of seconds, 0 or more, not NaN");
/// ```
pub fn retry_delay_seconds(policy: &RetryPolicy, seconds: f64) -> Result<RetryPolicy, ConfigError> {
    policy
        .clone()
        .with_initial_delay_seconds(RETRY_DELAY, seconds)
}

/// What bindings call [`RetryPolicy::initial_delay`].
const RETRY_DELAY: &str = "retry_delay";

/// Checks the rules on a builder's values alone (a zero timeout…), as
/// [`ClientBuilder::build`] does first, without building a client: for
/// bindings whose setters refuse a bad value at once. Apply the new value to
/// a clone and keep the clone only when this accepts it. What needs the
/// whole configuration (a credential, the base URL's scheme and host, header
/// values) is still checked by `build` only.
///
/// ```
/// use std::time::Duration;
/// use used_insight::{bindings, Client};
/// let builder = Client::builder();
/// assert!(bindings::check_settings(&builder).is_ok());
/// let err = bindings::check_settings(&builder.timeout(Duration::ZERO)).unwrap_err();
/// assert_eq!(err.to_string(), "timeout must be more than zero");
/// ```
pub fn check_settings(builder: &ClientBuilder) -> Result<(), ConfigError> {
    builder.check_values()
}

/// [`Client::create_many_json`] for bindings that refuse some inputs
/// themselves (e.g. bytes that are not UTF-8): a `None` input is not sent
/// and gets a `None` result, but still counts towards progress, so results
/// and batch request ids stay aligned with the caller's indexes.
pub fn create_many_json_partial<U: AsRef<str>, J: AsRef<str>>(
    client: &Client,
    items: &[Option<&(U, J)>],
    options: &BatchOptions<'_>,
) -> Vec<Option<Result<String, Error>>> {
    client.create_many_json_partial(items, options)
}
