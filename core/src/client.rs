//! `Client` and the path of one create: `prepare` validates the input and
//! writes the body (batches use it too), then one logical POST is made —
//! retried per the policy, redirects followed with the token only where it
//! may go, the token fetched per attempt — and the answer is decoded.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use uuid::Uuid;

use crate::cancel::{self, Cancel};
use crate::config::{ClientBuilder, Credential, TokenProviderFn};
use crate::credentials::{Binding, TokenRequestContext, TokenTransport};
use crate::decode::decode_document;
use crate::endpoint::Endpoint;
use crate::error::{
    CancelledError, ConfigError, TokenProviderError, TransportError, TransportErrorKind,
};
use crate::headers::{check_header_value, SDK_VERSION};
use crate::limit::{back_off, Cost, Limiter, SlotWait};
use crate::redirect::follow_redirect;
use crate::response::Answer;
use crate::retry::{is_retryable_status, RetryBudget};
use crate::validation::{check_user_id, Problems, MAX_BODY_BYTES};
use crate::{CancelToken, Error, RetryPolicy, UsedInsight};

/// Redirects followed for one request before giving up.
const MAX_REDIRECTS: u32 = 5;

/// A Graph client for creating usedInsights.
///
/// Cheap to clone (clones share one connection pool and configuration),
/// `Send + Sync`: build one and share it between threads.
///
/// ```no_run
/// use used_insight::{Client, UsedInsight};
/// let client = Client::builder().token("eyJ0eXAi.example").build()?;
/// let insight = UsedInsight::from_json(r#"{
///     "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
///     "resourceVisualization": {"title": "Quarterly report", "type": "Word"},
///     "resourceReference": {"webUrl": "https://contoso.sharepoint.com/report.docx"}
/// }"#)?;
/// let created = client.create("alice@contoso.com", &insight)?;
/// println!("created {}", created.id.unwrap_or_default());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Arc<crate::transport::Pool>,
    endpoint: Endpoint,
    tokens: TokenSource,
    retry: RetryPolicy,
    user_agent: String,
    /// Header names and fixed values, made once.
    request_headers: crate::headers::RequestHeaders,
    /// The proxy in use, as it may be shown (no credentials).
    proxy_shown: Option<String>,
    deprecation_logged: AtomicBool,
    /// Graph's limits, kept by every clone and thread; `None` when off.
    limiter: Option<Limiter>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("credential", &self.inner.tokens)
            .field("retry", &self.inner.retry)
            .field("user_agent", &self.inner.user_agent)
            .field("proxy", &self.inner.proxy_shown)
            .field(
                "rate_limit",
                &self.inner.limiter.as_ref().map(Limiter::limit),
            )
            .finish_non_exhaustive()
    }
}

/// Where a client's tokens come from.
enum TokenSource {
    Static(String),
    Provider(TokenProviderFn),
    /// A credential, its cache and the client's settings for it.
    Credential(Box<Binding>),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token itself.
        match self {
            TokenSource::Static(_) => f.write_str("Static(<redacted>)"),
            TokenSource::Provider(_) => f.write_str("Provider(..)"),
            TokenSource::Credential(binding) => binding.fmt(f),
        }
    }
}

/// One create's insight, as the caller holds it.
pub(crate) enum Input<'a> {
    Model(&'a UsedInsight),
    Json(&'a str),
}

/// Validates one create — the user id, the JSON's shape when given as text,
/// Graph's rules, the body's size — and writes the wire body. Every entry
/// point (single, JSON, batched) goes through here, so all problems are
/// reported together and nothing invalid is ever sent.
pub(crate) fn prepare(user_id: &str, input: Input<'_>) -> Result<String, Error> {
    let mut problems = Problems::default();
    check_user_id(user_id, &mut problems);
    let decoded;
    let insight = match input {
        Input::Model(insight) => Some(insight),
        Input::Json(text) => {
            decoded = decode_document::<UsedInsight>(text, &mut problems);
            decoded.as_ref()
        }
    };
    let Some(insight) = insight else {
        return Err(problems
            .into_result()
            .expect_err("an undecodable body has problems")
            .into());
    };
    insight.check("", &mut problems);
    problems.into_result()?;
    let body = insight.to_json();
    if body.len() > MAX_BODY_BYTES {
        let mut problems = Problems::default();
        problems.push(
            "",
            format!(
                "the body is {} bytes; at most {MAX_BODY_BYTES} allowed",
                body.len()
            ),
        );
        problems.into_result()?;
    }
    Ok(body)
}

impl Client {
    /// Starts configuring a client; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_builder(b: ClientBuilder) -> Result<Self, ConfigError> {
        let scope = b.get_scope().to_owned();
        let credential = b.credential.ok_or_else(|| {
            ConfigError::new("no token: set a token, a token provider or a credential")
        })?;
        if let Credential::Static(token) = &credential {
            check_header_value(token)
                .map_err(|why| ConfigError::new(format!("the token {why}")))?;
        }
        if let Credential::Object(credential) = &credential {
            credential.check_configuration()?;
            if scope.is_empty() || scope.chars().any(char::is_whitespace) {
                return Err(ConfigError::new(format!(
                    "scope `{scope}` is empty or holds spaces"
                )));
            }
        }
        let base = b.base_url.as_deref().unwrap_or(b.cloud.base_url());
        let endpoint = Endpoint::new(base, b.api_version.as_str())?;
        let proxy = crate::proxy::resolve(&b.proxy, endpoint.root())?;
        let user_agent = match b.user_agent {
            Some(ua) => {
                check_header_value(&ua)
                    .map_err(|why| ConfigError::new(format!("the user agent {why}")))?;
                format!("{ua} {SDK_VERSION}")
            }
            None => SDK_VERSION.to_owned(),
        };
        let pool = Arc::new(crate::transport::Pool::new(
            crate::transport::AgentSettings {
                connect_timeout: b.connect_timeout,
                timeout: b.timeout,
                max_idle: b.max_idle_connections,
                roots: b.trust.root_certs()?,
                proxy: proxy.clone(),
            },
        ));
        let tokens = match credential {
            Credential::Static(token) => TokenSource::Static(token),
            Credential::Provider(provider) => TokenSource::Provider(provider),
            // Token requests share the client's pool (its roots and
            // timeouts); the proxy is chosen per token endpoint.
            Credential::Object(credential) => TokenSource::Credential(Box::new(Binding::new(
                credential,
                scope,
                TokenRequestContext {
                    transport: Arc::new(TokenTransport {
                        pool: pool.clone(),
                        proxy: b.proxy.clone(),
                        retry: b.retry.clone(),
                        user_agent: user_agent.clone(),
                        timeout: b.timeout,
                    }),
                    cloud: b.cloud,
                },
            ))),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                proxy_shown: proxy.map(|p| crate::proxy::redact(&p.uri().to_string())),
                endpoint,
                tokens,
                retry: b.retry,
                request_headers: crate::headers::RequestHeaders::new(&user_agent)
                    .map_err(|e| ConfigError::new(format!("the user agent: {e}")))?,
                user_agent,
                deprecation_logged: AtomicBool::new(false),
                limiter: b.rate_limit.map(|limit| Limiter::new(limit, b.timeout)),
            }),
        })
    }

    /// Creates a usedInsight for a user (object id or user principal name)
    /// and returns it as Graph stored it, with its new `id`.
    ///
    /// The input is validated first; on any problem nothing is sent and
    /// [`Error::InvalidInput`] lists them all. Throttling (429) and
    /// unavailability (503, 504) are retried per the [`RetryPolicy`]; a
    /// request whose answer was lost is never resent.
    pub fn create(&self, user_id: &str, insight: &UsedInsight) -> Result<UsedInsight, Error> {
        let body = prepare(user_id, Input::Model(insight))?;
        self.send_create(user_id, body, Cancel::NONE)
    }

    /// [`Client::create`] that stops early once `cancel` is cancelled,
    /// failing with [`Error::Cancelled`]: at once during the waits (for a
    /// retry, a slot under the [`RateLimit`](crate::RateLimit), a token, a
    /// connection), and by abandoning the answer when the request was
    /// already sent — then
    /// [`request_may_have_been_processed`](Error::request_may_have_been_processed)
    /// is `true`. See [`CancelToken`].
    ///
    /// ```no_run
    /// # let client = used_insight::Client::builder().token("t").build()?;
    /// # let insight = used_insight::UsedInsight::default();
    /// let cancel = used_insight::CancelToken::new();
    /// // Elsewhere (a thread, a Cancel button): cancel.cancel();
    /// let created = client.create_with_cancel("alice@contoso.com", &insight, &cancel)?;
    /// # Ok::<(), used_insight::Error>(())
    /// ```
    pub fn create_with_cancel(
        &self,
        user_id: &str,
        insight: &UsedInsight,
        cancel: &CancelToken,
    ) -> Result<UsedInsight, Error> {
        let body = prepare(user_id, Input::Model(insight))?;
        self.send_create(user_id, body, Cancel::new(Some(cancel)))
    }

    /// [`Client::create`] with JSON text in and out, for callers that hold
    /// JSON already (a service passing on what it received; the C layer's
    /// `used_insight_create`). Shape problems in the JSON
    /// and rule violations are reported together. Returns the created
    /// usedInsight as compact JSON, unknown properties kept.
    pub fn create_json(&self, user_id: &str, insight_json: &str) -> Result<String, Error> {
        let body = prepare(user_id, Input::Json(insight_json))?;
        self.send_create(user_id, body, Cancel::NONE)
            .map(|created| created.to_json())
    }

    /// [`Client::create_json`] that stops early once `cancel` is cancelled,
    /// as [`Client::create_with_cancel`] does.
    pub fn create_json_with_cancel(
        &self,
        user_id: &str,
        insight_json: &str,
        cancel: &CancelToken,
    ) -> Result<String, Error> {
        let body = prepare(user_id, Input::Json(insight_json))?;
        self.send_create(user_id, body, Cancel::new(Some(cancel)))
            .map(|created| created.to_json())
    }

    fn send_create(
        &self,
        user_id: &str,
        body: String,
        cancel: Cancel<'_>,
    ) -> Result<UsedInsight, Error> {
        let url = self.inner.endpoint.create_url(user_id);
        let mut id_text = Uuid::encode_buffer(); // the id's text, without fmt
        let client_request_id = &*crate::request_id::new()
            .hyphenated()
            .encode_lower(&mut id_text);
        let answer =
            self.post_with_retries(&url, body.as_bytes(), client_request_id, Cost::ONE, cancel)?;
        answer.created(client_request_id)
    }

    /// One logical POST: the same `client-request-id` on every attempt,
    /// retried on 429/503/504 within the policy, never resent after a lost
    /// answer (transport and timeout errors are returned at once). Every
    /// attempt, retries included, takes `cost` from the client's limits
    /// while it is in flight. A cancel ends every wait and starts no new
    /// attempt; the transport sees it through the thread's current token.
    pub(crate) fn post_with_retries(
        &self,
        url: &str,
        body: &[u8],
        client_request_id: &str,
        cost: Cost,
        cancel: Cancel<'_>,
    ) -> Result<Answer, Error> {
        let _current = cancel::enter(cancel);
        let mut budget = RetryBudget::new(&self.inner.retry);
        let mut slot = SlotWait::starting_now(self.limiter());
        loop {
            let attempt = budget.retries_done();
            if cancel.poll() {
                // Earlier attempts, if any, were refused (429/503/504).
                return Err(Error::Cancelled(CancelledError::new(
                    if attempt == 0 {
                        "before the request was sent"
                    } else {
                        "while waiting to retry"
                    },
                    false,
                    Some(client_request_id),
                )));
            }
            let permit = slot.acquire(self.limiter(), cost, client_request_id, cancel)?;
            let answer =
                self.post_following_redirects(url, body, client_request_id, attempt, cancel);
            drop(permit);
            let answer = answer?;
            self.log_deprecation(&answer);
            if answer.is_success() {
                return Ok(answer);
            }
            if is_retryable_status(answer.status) {
                let wait = budget.next_wait(answer.retry_after);
                if let Some(wait) = wait {
                    log::warn!(
                        "Graph answered HTTP {} (client-request-id {client_request_id}); retry {} in {:.3} s",
                        answer.status,
                        attempt + 1,
                        wait.as_secs_f64()
                    );
                }
                let waited = back_off(
                    self.limiter(),
                    answer.status,
                    answer.retry_after,
                    wait,
                    cancel,
                );
                if !waited {
                    return Err(Error::Cancelled(CancelledError::new(
                        "while waiting to retry",
                        false,
                        Some(client_request_id),
                    )));
                }
                if let Some(wait) = wait {
                    slot.retry_after(wait);
                    continue;
                }
            }
            if answer.status == 401 {
                // A token Graph refuses (revoked, or its clock disagrees)
                // is not offered again: the next call gets a new one.
                if let TokenSource::Credential(binding) = &self.inner.tokens {
                    binding.forget_token();
                }
            }
            return Err(answer.into_graph_error(client_request_id, attempt + 1));
        }
    }

    /// One attempt, following up to [`MAX_REDIRECTS`] redirects. The token
    /// is dropped for good once a redirect leaves the original origin.
    fn post_following_redirects(
        &self,
        url: &str,
        body: &[u8],
        client_request_id: &str,
        attempt: u32,
        cancel: Cancel<'_>,
    ) -> Result<Answer, Error> {
        let token = self.token(cancel).map_err(|e| match e {
            Error::Cancelled(mut e) => {
                e.client_request_id = Some(client_request_id.to_owned());
                Error::Cancelled(e)
            }
            e => e,
        })?;
        let mut url = url.to_owned();
        let mut send_token = true;
        let mut method_post = true;
        // A redirect answer means the create was not carried out — except
        // 303 See Other, which says it was, and where its result is.
        let refused = |message: String, carried_out: bool| {
            Error::Transport(TransportError {
                kind: TransportErrorKind::Redirect,
                message: if carried_out {
                    format!("{message}; Graph answered 303 See Other, so the create was carried out, but its result was not fetched")
                } else {
                    format!("{message}; a redirect answer means the create was not carried out")
                },
                request_may_have_been_sent: carried_out,
                client_request_id: client_request_id.to_owned(),
            })
        };
        for _ in 0..=MAX_REDIRECTS {
            let method = if method_post { "POST" } else { "GET" };
            let token_sent = send_token.then_some(token.as_str());
            let request = self.inner.request_headers.request(
                method_post,
                &url,
                client_request_id,
                token_sent,
                attempt,
                body,
            );
            let request = request.map_err(|e| {
                Error::Transport(TransportError {
                    kind: TransportErrorKind::Other,
                    message: format!("could not build the request: {e}"),
                    request_may_have_been_sent: false,
                    client_request_id: client_request_id.to_owned(),
                })
            })?;
            log::debug!(
                "{method} {url} (client-request-id {client_request_id}, attempt {})",
                attempt + 1
            );
            crate::wire_trace::warn_if_recorded();
            cancel::begin_attempt();
            let sent = self.inner.pool.agent().run(request);
            let proxy = self.inner.proxy_shown.as_deref();
            let fetching_after_303 = !method_post;
            let answer = sent
                .map_err(|e| crate::transport::failure(e, client_request_id, proxy))
                .and_then(|response| Answer::read(response, client_request_id))
                .map_err(|e| {
                    if fetching_after_303 {
                        carried_out(e)
                    } else {
                        e
                    }
                })?;
            log::debug!(
                "HTTP {} for client-request-id {client_request_id}",
                answer.status
            );
            if !answer.is_redirect() {
                if !method_post && !answer.is_success() {
                    // Never handed back as an answer: a 503 here must not
                    // have the create sent again.
                    return Err(refused(
                        format!(
                            "fetching the result from {url} answered HTTP {}",
                            answer.status
                        ),
                        true,
                    ));
                }
                return Ok(answer);
            }
            let location = answer.location.as_deref().unwrap_or_default();
            let target = follow_redirect(&url, location).map_err(|why| {
                refused(
                    format!("HTTP {}: {why}", answer.status),
                    !method_post || answer.status == 303,
                )
            })?;
            send_token &= target.keep_authorization;
            // 303 See Other means "the result is over there": fetch it.
            method_post &= answer.status != 303;
            url = target.url;
        }
        Err(refused(
            format!("more than {MAX_REDIRECTS} redirects"),
            !method_post,
        ))
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    pub(crate) fn limiter(&self) -> Option<&Limiter> {
        self.inner.limiter.as_ref()
    }

    fn token(&self, cancel: Cancel<'_>) -> Result<String, Error> {
        match &self.inner.tokens {
            TokenSource::Static(token) => Ok(token.clone()),
            TokenSource::Credential(binding) => {
                binding.token(cancel).map(|t| t.token.secret().to_owned())
            }
            TokenSource::Provider(provider) => {
                let token = provider().map_err(|source| {
                    Error::TokenProvider(TokenProviderError::from_source(source))
                })?;
                check_header_value(&token).map_err(|why| {
                    Error::TokenProvider(TokenProviderError::new(format!(
                        "the token it returned {why}"
                    )))
                })?;
                Ok(token)
            }
        }
    }

    /// usedInsight is deprecated (removal planned for 2028-01-01): say so
    /// once per client when Graph starts announcing it.
    fn log_deprecation(&self, answer: &Answer) {
        if let Some(notice) = &answer.deprecation {
            if !self.inner.deprecation_logged.swap(true, Ordering::Relaxed) {
                log::warn!("Graph marks the usedInsight API as {notice}; plan a migration");
            }
        }
    }
}

/// A failure while fetching the result a 303 See Other pointed to: the
/// create itself was carried out, whatever happened to the fetch.
fn carried_out(mut error: Error) -> Error {
    match &mut error {
        Error::Transport(e) => e.request_may_have_been_sent = true,
        Error::Timeout(e) => e.request_may_have_been_sent = true,
        Error::Cancelled(e) => e.request_may_have_been_sent = true,
        _ => {}
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Client>();
        let a = Client::builder().token("t").build().unwrap();
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.inner, &b.inner), "clones share one pool");
    }

    #[test]
    fn a_client_needs_a_credential() {
        let err = Client::builder().build().unwrap_err();
        assert!(err.to_string().contains("no token"), "{err}");
    }
}
