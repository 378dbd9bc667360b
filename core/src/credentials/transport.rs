//! How credentials reach their token endpoints: through the client's own
//! ureq agent (its trusted roots and timeouts), the proxy the client's
//! setting picks for the endpoint's host (never one for managed identity
//! endpoints, which are on the machine itself), with the client's retry
//! policy for 429 and 5xx (`Retry-After` honoured). Outside a client — a
//! credential's own `get_token` — the same with default settings.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use ureq::http::Uri;
use zeroize::{Zeroize, Zeroizing};

use super::answer::{read_refusal, read_token};
use super::AccessToken;
use crate::error::{CredentialFailure, TokenProviderError};
use crate::headers::SDK_VERSION;
use crate::proxy::ProxyChoice;
use crate::response::Answer;
use crate::retry::RetryBudget;
use crate::transport::{AgentSettings, Pool};
use crate::{Error, RetryPolicy};

/// What token requests are sent with.
pub(crate) struct TokenTransport {
    /// The client's pool: this process's agent (a forked child makes its own).
    pub(crate) pool: Arc<Pool>,
    pub(crate) proxy: ProxyChoice,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent: String,
    pub(crate) timeout: Duration,
}

impl std::fmt::Debug for TokenTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenTransport")
            .field("proxy", &self.proxy)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Connect timeout of a managed identity probe: off Azure the metadata
/// address does not answer, and a chain should move on quickly (as
/// azure-identity does).
const PROBE_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// One token request.
pub(crate) struct TokenRequest<'a> {
    /// The credential's type name, for errors and logs.
    pub(crate) credential: &'static str,
    /// `None`: GET. `Some`: POST of this form (it holds secrets).
    pub(crate) form: Option<Zeroizing<String>>,
    pub(crate) url: String,
    /// Extra headers; the values may be secrets and are never logged.
    pub(crate) headers: Vec<(&'static str, &'a str)>,
    /// A managed identity endpoint: never through a proxy.
    pub(crate) direct: bool,
    /// Statuses retried besides 429 and 5xx.
    pub(crate) also_retry: &'static [u16],
    /// A short connect timeout and no retries (a chain's first look).
    pub(crate) probe: bool,
}

impl TokenTransport {
    /// The transport of credentials used on their own: Mozilla's roots,
    /// the environment's proxy, 10 s to connect, 60 s per attempt, the
    /// default retry policy. One for the process, so its pool is shared.
    pub(crate) fn standalone() -> Arc<Self> {
        static STANDALONE: OnceLock<Arc<TokenTransport>> = OnceLock::new();
        STANDALONE
            .get_or_init(|| {
                let timeout = Duration::from_secs(60);
                Arc::new(TokenTransport {
                    pool: Arc::new(Pool::new(AgentSettings {
                        connect_timeout: Duration::from_secs(10),
                        timeout,
                        max_idle: 4,
                        roots: ureq::tls::RootCerts::WebPki,
                        proxy: None,
                    })),
                    proxy: ProxyChoice::Environment,
                    retry: RetryPolicy::default(),
                    user_agent: SDK_VERSION.to_owned(),
                    timeout,
                })
            })
            .clone()
    }

    /// The longest one token request can take, retries and their waits
    /// included: how long other threads wait for it.
    pub(crate) fn longest_request(&self) -> Duration {
        self.timeout
            .saturating_mul(self.retry.max_retries.saturating_add(1))
            .saturating_add(self.retry.max_total_wait)
    }

    /// Sends the request, retrying 429 and 5xx within the policy, and
    /// reads the token. Every failure is a [`Error::TokenProvider`] naming
    /// the credential, since nothing reaches Graph without a token.
    pub(crate) fn fetch(&self, request: &TokenRequest<'_>) -> Result<AccessToken, Error> {
        let client_request_id = crate::request_id::new().to_string();
        let policy = if request.probe {
            RetryPolicy::none()
        } else {
            self.retry.clone()
        };
        let mut budget = RetryBudget::new(&policy);
        loop {
            let attempt = budget.retries_done();
            let mut answer = self.attempt(request, &client_request_id, attempt)?;
            let received = SystemTime::now();
            if answer.is_success() {
                let token = read_token(&answer.body, received);
                answer.body.zeroize();
                return token.map_err(|message| {
                    let message = format!("{message} [client-request-id {client_request_id}]");
                    failure(request, message, None)
                });
            }
            let retryable = answer.status == 429
                || (500..600).contains(&answer.status)
                || request.also_retry.contains(&answer.status);
            if retryable {
                if let Some(wait) = budget.next_wait(answer.retry_after) {
                    log::warn!(
                        "{}: the token endpoint answered HTTP {} (client-request-id \
                         {client_request_id}); retry {} in {:.3} s",
                        request.credential,
                        answer.status,
                        attempt + 1,
                        wait.as_secs_f64()
                    );
                    // The waits of the call this token is for (a token
                    // request runs on that call's thread).
                    let current = crate::cancel::current();
                    if !crate::cancel::Cancel::new(current.as_ref()).sleep(wait) {
                        return Err(cancelled());
                    }
                    continue;
                }
            }
            let (mut message, details) =
                read_refusal(request.credential, answer.status, &answer.body);
            answer.body.zeroize();
            if attempt > 0 {
                message.push_str(&format!(" after {} attempts", attempt + 1));
            }
            return Err(Error::TokenProvider(
                TokenProviderError::credential_failure(message, details),
            ));
        }
    }

    fn attempt(
        &self,
        request: &TokenRequest<'_>,
        client_request_id: &str,
        attempt: u32,
    ) -> Result<Answer, Error> {
        let uri: Uri = request.url.parse().map_err(|_| {
            failure(
                request,
                format!("`{}` is not a valid URL", request.url),
                None,
            )
        })?;
        let proxy = if request.direct {
            None
        } else {
            crate::proxy::resolve(&self.proxy, &uri)
                .map_err(|e| failure(request, e.message, None))?
        };
        let proxy_shown = proxy
            .as_ref()
            .map(|p| crate::proxy::redact(&p.uri().to_string()));
        let method = if request.form.is_some() {
            "POST"
        } else {
            "GET"
        };
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("Accept", "application/json")
            .header("client-request-id", client_request_id)
            .header("return-client-request-id", "true")
            .header("User-Agent", &self.user_agent);
        for (name, value) in &request.headers {
            builder = builder.header(*name, *value);
        }
        if attempt > 0 {
            builder = builder.header("Retry-Attempt", attempt.to_string());
        }
        let body: &[u8] = match &request.form {
            Some(form) => {
                builder = builder.header("Content-Type", "application/x-www-form-urlencoded");
                form.as_bytes()
            }
            None => &[],
        };
        let built = builder.body(body).map_err(|e| {
            failure(
                request,
                format!("could not build the token request: {e}"),
                None,
            )
        })?;
        let agent = self.pool.agent();
        let mut config = agent.configure_request(built).proxy(proxy);
        if request.probe {
            let connect = agent
                .config()
                .timeouts()
                .connect
                .map_or(PROBE_CONNECT_TIMEOUT, |t| t.min(PROBE_CONNECT_TIMEOUT));
            config = config.timeout_connect(Some(connect));
        }
        log::debug!(
            "{method} {} for {} (client-request-id {client_request_id}, attempt {})",
            request.url,
            request.credential,
            attempt + 1
        );
        crate::wire_trace::warn_if_recorded();
        crate::cancel::begin_attempt();
        let response = agent.run(config.build()).map_err(|e| {
            let cause = crate::transport::failure(e, client_request_id, proxy_shown.as_deref());
            if let Error::Cancelled(_) = cause {
                return cancelled();
            }
            failure(
                request,
                format!("the token request to {} failed: {cause}", request.url),
                Some(cause),
            )
        })?;
        Answer::read(response, client_request_id).map_err(|cause| {
            if let Error::Cancelled(_) = cause {
                return cancelled();
            }
            failure(
                request,
                format!("the token endpoint's answer could not be read: {cause}"),
                Some(cause),
            )
        })
    }
}

/// The call this token was for was cancelled: nothing went to Graph
/// (whatever went to the token endpoint).
fn cancelled() -> Error {
    Error::Cancelled(crate::error::CancelledError::new(
        super::cache::TOKEN_WAIT,
        false,
        None,
    ))
}

/// A token request that got no usable answer.
fn failure(request: &TokenRequest<'_>, message: String, cause: Option<Error>) -> Error {
    let mut error = TokenProviderError::credential_failure(
        message,
        CredentialFailure {
            credential: request.credential,
            ..CredentialFailure::default()
        },
    );
    error.source = cause.map(|c| Box::new(c) as _);
    Error::TokenProvider(error)
}
