//! Not part of the API: hidden from the docs, and may change in any
//! release without notice.
//!
//! The crate's private parsers, reachable from the fuzz targets under
//! `fuzz/` (and the property tests), each the very function the client
//! uses — no copy of a rule lives here. Every function takes what a
//! hostile peer or caller controls (text, bytes, a status and headers) and
//! runs the code that reads it.

use std::path::Path;
use std::time::{Duration, SystemTime};

use ureq::http::Response;
use ureq::Body;

use crate::client::{prepare, Input};
use crate::decode::{decode_document, read_document};
use crate::error::TokenProviderError;
use crate::response::Answer;
use crate::scan::scan_document;
use crate::validation::Problems;
use crate::{ConfigError, Error, Problem, UsedInsight};

/// What each of the crate's readers makes of a document (see [`read_insight`]).
#[derive(Debug)]
pub struct Readings {
    /// The quick reader's value; `None` when it leaves the text to serde.
    pub quick: Option<UsedInsight>,
    /// The serde reader's value and problems.
    pub serde: (Option<UsedInsight>, Vec<Problem>),
    /// What `UsedInsight::from_json` and every create read: the quick
    /// reader when it takes the text, serde's otherwise.
    pub decoded: (Option<UsedInsight>, Vec<Problem>),
}

/// Reads `json` as a usedInsight with the quick reader, the serde reader,
/// and the two together as the crate reads documents.
pub fn read_insight(json: &str) -> Readings {
    let read = |reader: fn(&str, &mut Problems) -> Option<UsedInsight>| {
        let mut problems = Problems::default();
        let value = reader(json, &mut problems);
        (value, problems.into_vec())
    };
    Readings {
        quick: scan_document::<UsedInsight>(json),
        serde: read(read_document::<UsedInsight>),
        decoded: read(decode_document::<UsedInsight>),
    }
}

/// What a create does before sending: validates the user id and the JSON
/// and writes the wire body (`Client::create_json` up to the network).
pub fn prepare_create(user_id: &str, insight_json: &str) -> Result<String, Error> {
    prepare(user_id, Input::Json(insight_json))
}

/// `/users/{id}/insights/used` for a user id, percent-encoded as the
/// client sends it.
pub fn create_path(user_id: &str) -> String {
    crate::endpoint::create_path(user_id)
}

/// The URL a client built with this base URL (and `v1.0`) posts a create
/// to, or why the base URL is refused.
pub fn create_url(base_url: &str, user_id: &str) -> Result<String, ConfigError> {
    crate::endpoint::Endpoint::new(base_url, "v1.0").map(|e| e.create_url(user_id))
}

/// A `Retry-After` value as the client reads it, at `now`.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    crate::retry::parse_retry_after(value, now)
}

/// An answer to a create as the client reads it: `None` when `status` and
/// `headers` cannot form an HTTP response at all (the HTTP layer would have
/// refused them), else what the client makes of it: the created insight, a
/// redirect to follow (its URL and whether the token goes along, or why it
/// is refused), or the error the caller gets. `Retry-After` is returned as
/// read.
pub fn read_create_answer(
    status: u16,
    headers: &[(&[u8], &[u8])],
    body: &[u8],
) -> Option<(CreateAnswer, Option<Duration>)> {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = builder.body(Body::builder().data(body.to_vec())).ok()?;
    let answer = match Answer::read(response, CLIENT_REQUEST_ID) {
        Ok(answer) => answer,
        Err(e) => return Some((CreateAnswer::Failed(e), None)),
    };
    let retry_after = answer.retry_after;
    let outcome = if answer.is_redirect() {
        let location = answer.location.as_deref().unwrap_or_default();
        CreateAnswer::Redirect(
            crate::redirect::follow_redirect(ANSWERED_URL, location)
                .map(|target| (target.url, target.keep_authorization)),
        )
    } else if answer.is_success() {
        match answer.created(CLIENT_REQUEST_ID) {
            Ok(created) => CreateAnswer::Created(Box::new(created)),
            Err(e) => CreateAnswer::Failed(e),
        }
    } else {
        CreateAnswer::Failed(answer.into_graph_error(CLIENT_REQUEST_ID, 1))
    };
    Some((outcome, retry_after))
}

/// The `client-request-id` the answers are read for.
pub const CLIENT_REQUEST_ID: &str = "00000000-0000-0000-0000-00000000f022";

/// The URL the answers of [`read_create_answer`] answer (redirects are
/// resolved against it).
pub const ANSWERED_URL: &str = "https://graph.microsoft.com/v1.0/users/a%40b.c/insights/used";

/// What the client makes of one answer to a create.
#[derive(Debug)]
pub enum CreateAnswer {
    /// 2xx with a usedInsight.
    Created(Box<UsedInsight>),
    /// 3xx: the URL to follow and whether the token goes along, or why not.
    Redirect(Result<(String, bool), String>),
    /// Anything else.
    Failed(Error),
}

/// A `$batch` answer's body as the client reads it: `Err` when it is not
/// a batch answer (every item then fails as undecodable), else each
/// response's id and status and the item's result, decoded as a single
/// create's answer is.
pub fn read_batch_answer(body: &str) -> Result<Vec<BatchItem>, serde_json::Error> {
    let answer: crate::batch::BatchAnswer = serde_json::from_str(body)?;
    Ok(answer
        .responses
        .into_iter()
        .map(|item| {
            let id = item.id.clone();
            let reply = item.into_answer();
            let status = reply.status;
            let result = if reply.is_success() {
                reply.created(CLIENT_REQUEST_ID)
            } else {
                Err(reply.into_graph_error(CLIENT_REQUEST_ID, 1))
            };
            (id, status, result)
        })
        .collect())
}

/// One item of a `$batch` answer: its id, its status, and its result.
pub type BatchItem = (String, u16, Result<UsedInsight, Error>);

/// A token endpoint's 2xx answer (Entra's, or a managed identity
/// endpoint's) received at `now`: the token, or why it is unusable.
pub fn read_token_answer(
    body: &str,
    now: SystemTime,
) -> Result<crate::credentials::AccessToken, String> {
    crate::credentials::read_token(body, now)
}

/// A token endpoint's refusal, as the error a caller gets.
pub fn read_token_refusal(status: u16, body: &str) -> TokenProviderError {
    let (message, details) = crate::credentials::read_refusal("FuzzCredential", status, body);
    TokenProviderError::credential_failure(message, details)
}

/// A federated token file (workload identity) as the credential reads it.
pub fn read_federated_token_file(path: &Path) -> Result<String, ConfigError> {
    crate::credentials::read_token_file(path).map(|secret| secret.secret().to_owned())
}

/// The proxy the environment (`vars`) names for a client of `base_url`,
/// read as the client reads it; `None` for none (or a base URL that is not
/// a URL).
pub fn proxy_from_environment(vars: &[(&str, &str)], base_url: &str) -> Option<String> {
    let target: ureq::http::Uri = base_url.parse().ok()?;
    let var = |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    };
    crate::proxy::from_environment(var, &target)
}

/// Whether a `NO_PROXY` list names `host`.
pub fn no_proxy_bypasses(no_proxy: &str, host: &str) -> bool {
    crate::proxy::bypasses(no_proxy, host)
}

/// A proxy URL as a client takes it (`ClientBuilder::proxy`): the proxy's
/// URI, or why it is refused.
pub fn parse_proxy(url: &str) -> Result<String, ConfigError> {
    crate::proxy::parse(url).map(|proxy| proxy.uri().to_string())
}

/// A proxy URL as messages show it, without its credentials.
pub fn redact_proxy(url: &str) -> String {
    crate::proxy::redact(url)
}
