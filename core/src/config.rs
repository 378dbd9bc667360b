//! How a [`Client`] is configured: every option with its default, its getter and the rules `build` checks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::credentials::TokenCredential;
use crate::error::ConfigError;
use crate::limit::RateLimit;
use crate::proxy::ProxyChoice;
use crate::trust::{PemSource, Trust};
use crate::{Client, Error};

/// A national cloud, each with its own Graph endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Cloud {
    /// `https://graph.microsoft.com` (the default).
    #[default]
    Global,
    /// US Government L4: `https://graph.microsoft.us`.
    UsGov,
    /// US Government L5 (DoD): `https://dod-graph.microsoft.us`.
    UsGovDod,
    /// Microsoft Graph operated by 21Vianet: `https://microsoftgraph.chinacloudapi.cn`.
    China,
}

impl Cloud {
    /// The cloud's Graph root, without version.
    pub fn base_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// The cloud's Microsoft Entra ID authority, where credentials get
    /// tokens (China's is also known as `login.partner.microsoftonline.cn`).
    ///
    /// ```
    /// use used_insight::Cloud;
    /// assert_eq!(Cloud::UsGovDod.authority_host(), "https://login.microsoftonline.us");
    /// ```
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The scope a client asks tokens for: the cloud's Graph root with
    /// `/.default` (the app's granted permissions).
    ///
    /// ```
    /// use used_insight::Cloud;
    /// assert_eq!(Cloud::Global.graph_scope(), "https://graph.microsoft.com/.default");
    /// ```
    pub fn graph_scope(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com/.default",
            Cloud::UsGov => "https://graph.microsoft.us/.default",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us/.default",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn/.default",
        }
    }
}

impl std::str::FromStr for Cloud {
    type Err = ConfigError;
    /// Accepts `global`, `us_gov` / `usgov`, `us_gov_dod` / `usgovdod` / `dod`,
    /// `china`, in any case, with `-` or `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_lowercase();
        match key.as_str() {
            "global" => Ok(Cloud::Global),
            "usgov" => Ok(Cloud::UsGov),
            "usgovdod" | "dod" => Ok(Cloud::UsGovDod),
            "china" => Ok(Cloud::China),
            _ => Err(ConfigError::new(format!(
                "unknown cloud `{s}`; expected global, us_gov, us_gov_dod or china"
            ))),
        }
    }
}

/// The Graph API version in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `v1.0` (the default).
    #[default]
    V1,
    /// `beta`.
    Beta,
}

impl ApiVersion {
    /// As written in the URL: `v1.0` or `beta`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = ConfigError;
    /// Accepts `v1.0` and `beta`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v1.0" => Ok(ApiVersion::V1),
            "beta" => Ok(ApiVersion::Beta),
            _ => Err(ConfigError::new(format!(
                "unknown API version `{s}`; expected v1.0 or beta"
            ))),
        }
    }
}

/// When and how long to wait before retrying a throttled or unavailable
/// answer (429, 503, 504 — nothing else is retried).
///
/// `Retry-After` from Graph is honoured exactly (whole seconds, fractional
/// seconds or an HTTP-date); without it the wait doubles from
/// `initial_delay` with jitter. A wait longer than `max_delay`, or one that
/// would bring the total past `max_total_wait`, is not taken: the error is
/// returned with its `retry_after` instead.
///
/// ```
/// use std::time::Duration;
/// let policy = used_insight::RetryPolicy::default()
///     .with_max_retries(5)
///     .with_max_total_wait(Duration::from_secs(30));
/// assert_eq!(policy.max_retries, 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt. Default 3.
    pub max_retries: u32,
    /// First back-off wait when Graph gives no `Retry-After`. Default 1 s;
    /// at most `max_delay` ([`ClientBuilder::build`] refuses more).
    pub initial_delay: Duration,
    /// Longest single wait. Default 60 s.
    pub max_delay: Duration,
    /// Longest total of all waits for one call. Default 180 s.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets [`RetryPolicy::max_retries`].
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets [`RetryPolicy::initial_delay`].
    pub fn with_initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// Sets [`RetryPolicy::max_delay`].
    pub fn with_max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Sets [`RetryPolicy::max_total_wait`].
    pub fn with_max_total_wait(mut self, d: Duration) -> Self {
        self.max_total_wait = d;
        self
    }

    /// The rule on `initial_delay`, reported under the name the caller
    /// knows it by: at most `max_delay`. Every wait is capped at
    /// `max_delay` anyway, so a longer first delay is a mistake (often
    /// milliseconds given as seconds), not a wish.
    pub(crate) fn check_initial_delay(&self, name: &str) -> Result<(), ConfigError> {
        if self.initial_delay > self.max_delay {
            return Err(initial_delay_too_long(
                name,
                self.max_delay,
                self.initial_delay.as_secs_f64(),
            ));
        }
        Ok(())
    }

    /// This policy with its first back-off wait given as a number of
    /// seconds, as bindings hold it: finite, 0 or more, and within
    /// [`check_initial_delay`](Self::check_initial_delay)'s rule; errors
    /// name the setting `name` and the value given.
    pub(crate) fn with_initial_delay_seconds(
        self,
        name: &str,
        seconds: f64,
    ) -> Result<Self, ConfigError> {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(ConfigError::new(format!(
                "{name} must be a number of seconds, 0 or more, not {}",
                shown_seconds(seconds)
            )));
        }
        // Compared before converting: a huge finite value has no Duration.
        if seconds > self.max_delay.as_secs_f64() {
            return Err(initial_delay_too_long(name, self.max_delay, seconds));
        }
        Ok(self.with_initial_delay(Duration::from_secs_f64(seconds)))
    }
}

fn initial_delay_too_long(name: &str, max_delay: Duration, seconds: f64) -> ConfigError {
    ConfigError::new(format!(
        "{name} must be at most {} s (the longest single wait), not {} s",
        max_delay.as_secs_f64(),
        shown_seconds(seconds)
    ))
}

/// A float as an error shows it: as written for everyday sizes, in
/// exponent form when huge (`1e300`, not three hundred digits).
fn shown_seconds(seconds: f64) -> String {
    if seconds.abs() >= 1e16 {
        format!("{seconds:e}")
    } else {
        format!("{seconds}")
    }
}

/// The error a token provider may return; any error type converts into it.
pub type TokenProviderResult = Result<String, Box<dyn std::error::Error + Send + Sync>>;

pub(crate) type TokenProviderFn = Arc<dyn Fn() -> TokenProviderResult + Send + Sync>;

/// Where the bearer token comes from.
#[derive(Clone)]
pub(crate) enum Credential {
    Static(String),
    Provider(TokenProviderFn),
    /// A credential of [`crate::credentials`] or the caller's own.
    Object(Arc<dyn TokenCredential>),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token itself.
        match self {
            Credential::Static(_) => f.write_str("Static(<redacted>)"),
            Credential::Provider(_) => f.write_str("Provider(..)"),
            Credential::Object(c) => write!(f, "Credential({})", c.kind().as_str()),
        }
    }
}

/// Builds a [`Client`]. Every setting is optional except a token, token
/// provider or credential.
///
/// ```
/// use std::time::Duration;
/// use used_insight::{ApiVersion, Client, Cloud};
/// let client = Client::builder()
///     .token("eyJ0eXAi.example")
///     .cloud(Cloud::UsGov)
///     .api_version(ApiVersion::Beta)
///     .timeout(Duration::from_secs(20))
///     .build()?;
/// # Ok::<(), used_insight::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    pub(crate) credential: Option<Credential>,
    pub(crate) scope: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) cloud: Cloud,
    pub(crate) api_version: ApiVersion,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent: Option<String>,
    pub(crate) max_idle_connections: usize,
    pub(crate) trust: Trust,
    pub(crate) proxy: ProxyChoice,
    pub(crate) rate_limit: Option<RateLimit>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credential: None,
            scope: None,
            base_url: None,
            cloud: Cloud::Global,
            api_version: ApiVersion::V1,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            user_agent: None,
            max_idle_connections: 16,
            trust: Trust::default(),
            proxy: ProxyChoice::Environment,
            rate_limit: Some(RateLimit::GRAPH_INSIGHTS),
        }
    }
}

impl ClientBuilder {
    /// A fixed bearer token. Replaces a token provider set earlier.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credential = Some(Credential::Static(token.into()));
        self
    }

    /// A function called before every request (retries included) for a
    /// bearer token, so it can refresh expiring tokens. It may be called from
    /// any thread. Replaces a token set earlier.
    pub fn token_provider<F>(mut self, provider: F) -> Self
    where
        F: Fn() -> TokenProviderResult + Send + Sync + 'static,
    {
        self.credential = Some(Credential::Provider(Arc::new(provider)));
        self
    }

    /// A credential that gets tokens from Microsoft Entra ID — one of
    /// [`crate::credentials`] or your own [`TokenCredential`]. The client
    /// asks it for a token for [`get_scope`](Self::get_scope), from the
    /// cloud's authority unless the credential names one, with this
    /// client's trusted roots, proxy, timeouts and retry policy; it keeps
    /// the token until it is nearly expired and asks again one request at
    /// a time. Replaces a token or token provider set earlier.
    ///
    /// ```no_run
    /// use used_insight::credentials::ManagedIdentityCredential;
    /// let client = used_insight::Client::builder()
    ///     .credential(ManagedIdentityCredential::new())
    ///     .build()?;
    /// # Ok::<(), used_insight::Error>(())
    /// ```
    pub fn credential(mut self, credential: impl TokenCredential + 'static) -> Self {
        self.credential = Some(Credential::Object(Arc::new(credential)));
        self
    }

    /// The scope tokens are asked for. Default: the cloud's
    /// ([`Cloud::graph_scope`]), e.g. `https://graph.microsoft.com/.default`.
    /// Used only with [`credential`](Self::credential).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// A national cloud. Default [`Cloud::Global`]. Its Graph root is
    /// ignored when a base URL is set; a [`credential`](Self::credential)
    /// still uses its authority and scope.
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = cloud;
        self
    }

    /// An explicit Graph root without the version, e.g.
    /// `http://127.0.0.1:8080` for the emulator. Must be `https://` unless the
    /// host is loopback. Default: the cloud's root.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// API version. Default [`ApiVersion::V1`] (`v1.0`).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// Longest time to establish a connection (DNS, TCP, TLS). Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest time for one attempt, from connecting to the last byte of the
    /// answer. Waits between retries are not included. Default 60 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retry policy. Default [`RetryPolicy::default`] (3 retries).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Your product's token, put before this library's in `User-Agent`
    /// (e.g. `contoso-sync/2.1`). Default: none.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Idle connections kept for reuse. Default 16.
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.max_idle_connections = n;
        self
    }

    /// Adds every certificate in this PEM text to the roots trusted for
    /// HTTPS, on top of the default ones — e.g. the root of a corporate
    /// proxy that inspects TLS. Text without a certificate is refused by
    /// [`build`](ClientBuilder::build).
    ///
    /// ```
    /// let pem = std::fs::read_to_string("corp-root.pem").unwrap_or_default();
    /// let builder = used_insight::Client::builder().add_root_certificates_pem(pem);
    /// ```
    pub fn add_root_certificates_pem(mut self, pem: impl Into<String>) -> Self {
        self.trust.extra.push(PemSource::Text(pem.into()));
        self
    }

    /// [`add_root_certificates_pem`](ClientBuilder::add_root_certificates_pem)
    /// from a file, read when the client is built: an unreadable file, or
    /// one without a certificate, is an [`Error::InvalidConfig`] naming it.
    pub fn add_root_certificates_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.trust.extra.push(PemSource::File(path.into()));
        self
    }

    /// Trusts the operating system's store instead of the compiled-in
    /// Mozilla roots (on Linux it follows `SSL_CERT_FILE`, `SSL_CERT_DIR`
    /// and the distribution's bundle), plus any added roots. Default
    /// `false`. Verification itself can never be turned off.
    pub fn system_roots(mut self, use_system_roots: bool) -> Self {
        self.trust.system = use_system_roots;
        self
    }

    /// Goes through this proxy: `http://` or `https://`, with
    /// `user:password@` if it needs them (`http://` is assumed without a
    /// scheme). SOCKS is refused when the client is built. Default: the
    /// environment's proxy, read as curl reads it (`HTTPS_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`…); loopback hosts never use that one.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// Never goes through a proxy, whatever the environment says.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Direct;
        self
    }

    /// The limits the client keeps to, shared by all its clones and threads
    /// (see [`RateLimit`]). Default: Graph's published Insights limits, 4
    /// requests in flight and 10,000 per 10 minutes. Requests wait for a
    /// slot (at most the [`timeout`](ClientBuilder::timeout); a create that
    /// gets none is not sent), and a 429 — or any answer with `Retry-After` —
    /// pauses every request of the client until Graph's wait has passed.
    /// `None` turns both off: requests go as fast as they are made and each
    /// backs off on its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use used_insight::{Client, RateLimit};
    /// let shared = RateLimit { max_concurrent: 2, requests: 5_000, per: Duration::from_secs(600) };
    /// let b = Client::builder().rate_limit(Some(shared));
    /// assert_eq!(b.get_rate_limit(), Some(shared));
    /// assert_eq!(b.rate_limit(None).get_rate_limit(), None);
    /// ```
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Checks the settings and builds the client. Refused: no token,
    /// token provider or credential, a credential whose configuration is
    /// unusable (a missing environment variable, an unreadable token
    /// file…), a scope with spaces, a zero timeout, a retry policy whose
    /// `initial_delay` is longer than its `max_delay`, a [`RateLimit`] with a zero, a base URL that is not `https://`
    /// (or `http://` to loopback), a token or user agent that is not a
    /// valid header value.
    pub fn build(self) -> Result<Client, Error> {
        self.check_values().map_err(Error::InvalidConfig)?;
        Client::from_builder(self).map_err(Error::InvalidConfig)
    }

    /// The rules on values alone (the rest is checked while building); see
    /// [`crate::bindings::check_settings`].
    pub(crate) fn check_values(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
        ] {
            if value.is_zero() {
                return Err(ConfigError::new(format!("{name} must be more than zero")));
            }
        }
        self.retry
            .check_initial_delay("retry_policy.initial_delay")?;
        if let Some(limit) = &self.rate_limit {
            limit.check()?;
        }
        Ok(())
    }

    // Getters, so bindings show and reuse settings without keeping copies.

    /// Where the token comes from, if set.
    pub fn credential_kind(&self) -> Option<CredentialKind> {
        self.credential.as_ref().map(|c| match c {
            Credential::Static(_) => CredentialKind::Token,
            Credential::Provider(_) => CredentialKind::TokenProvider,
            Credential::Object(c) => c.kind(),
        })
    }

    /// The scope a [`credential`](Self::credential) is asked tokens for:
    /// the one set, or the cloud's Graph scope.
    ///
    /// ```
    /// use used_insight::{Client, Cloud};
    /// let b = Client::builder().cloud(Cloud::UsGovDod);
    /// assert_eq!(b.get_scope(), "https://dod-graph.microsoft.us/.default");
    /// ```
    pub fn get_scope(&self) -> &str {
        self.scope.as_deref().unwrap_or(self.cloud.graph_scope())
    }

    /// The national cloud (ignored when [`ClientBuilder::get_base_url`] was set).
    pub fn get_cloud(&self) -> Cloud {
        self.cloud
    }

    /// The Graph root requests go to: the explicit base URL, or the cloud's.
    ///
    /// ```
    /// use used_insight::{Client, Cloud};
    /// let b = Client::builder().cloud(Cloud::China);
    /// assert_eq!(b.get_base_url(), "https://microsoftgraph.chinacloudapi.cn");
    /// assert_eq!(b.base_url("http://127.0.0.1:1").get_base_url(), "http://127.0.0.1:1");
    /// ```
    pub fn get_base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(self.cloud.base_url())
    }

    /// The API version. Default `v1.0`.
    pub fn get_api_version(&self) -> ApiVersion {
        self.api_version
    }

    /// The connect timeout. Default 10 s.
    pub fn get_connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The timeout of one attempt. Default 60 s.
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// The retry policy. Default [`RetryPolicy::default`].
    pub fn get_retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The caller's product token for `User-Agent`, if set.
    pub fn get_user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    /// Idle connections kept. Default 16.
    pub fn get_max_idle_connections(&self) -> usize {
        self.max_idle_connections
    }

    /// The limits the client keeps to; `None` when turned off. Default
    /// [`RateLimit::GRAPH_INSIGHTS`].
    pub fn get_rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    /// Whether the system's trust store is used. Default `false`.
    pub fn get_system_roots(&self) -> bool {
        self.trust.system
    }

    /// How many PEM sources of extra roots were added.
    pub fn get_extra_root_sources(&self) -> usize {
        self.trust.extra.len()
    }

    /// The proxy setting as it may be shown: `environment` (the default),
    /// `none`, or the proxy's `scheme://host:port` — never its credentials.
    pub fn get_proxy_shown(&self) -> String {
        match &self.proxy {
            ProxyChoice::Environment => "environment".to_owned(),
            ProxyChoice::Direct => "none".to_owned(),
            ProxyChoice::Url(url) => crate::proxy::redact(url),
        }
    }
}

/// Where a client's bearer token comes from (see
/// [`ClientBuilder::credential_kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialKind {
    /// A fixed token ([`ClientBuilder::token`]).
    Token,
    /// A function called per attempt ([`ClientBuilder::token_provider`]).
    TokenProvider,
    /// [`ClientSecretCredential`](crate::credentials::ClientSecretCredential).
    ClientSecret,
    /// [`CertificateCredential`](crate::credentials::CertificateCredential).
    Certificate,
    /// [`WorkloadIdentityCredential`](crate::credentials::WorkloadIdentityCredential).
    WorkloadIdentity,
    /// [`ManagedIdentityCredential`](crate::credentials::ManagedIdentityCredential).
    ManagedIdentity,
    /// [`EnvironmentCredential`](crate::credentials::EnvironmentCredential).
    Environment,
    /// [`DefaultAzureCredential`](crate::credentials::DefaultAzureCredential).
    Default,
    /// A [`TokenCredential`] of the caller's own.
    Custom,
}

impl CredentialKind {
    /// `token`, `token_provider`, `client_secret`, `certificate`,
    /// `workload_identity`, `managed_identity`, `environment`, `default`
    /// or `custom`, as the bindings name them.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Token => "token",
            CredentialKind::TokenProvider => "token_provider",
            CredentialKind::ClientSecret => "client_secret",
            CredentialKind::Certificate => "certificate",
            CredentialKind::WorkloadIdentity => "workload_identity",
            CredentialKind::ManagedIdentity => "managed_identity",
            CredentialKind::Environment => "environment",
            CredentialKind::Default => "default",
            CredentialKind::Custom => "custom",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_retry_delay_longer_than_the_longest_wait_is_refused_by_build() {
        let policy = RetryPolicy::default().with_initial_delay(Duration::from_secs(90));
        let err = Client::builder()
            .token("t")
            .retry_policy(policy)
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: retry_policy.initial_delay must be at most 60 s \
             (the longest single wait), not 90 s"
        );
        let fits = RetryPolicy::default()
            .with_max_delay(Duration::from_secs(120))
            .with_initial_delay(Duration::from_secs(90));
        assert!(Client::builder()
            .token("t")
            .retry_policy(fits)
            .build()
            .is_ok());
    }

    #[test]
    fn retry_delay_seconds_are_finite_not_negative_and_within_max_delay() {
        let d = RetryPolicy::default();
        for (seconds, message) in [
            (
                -0.5,
                "retry_delay must be a number of seconds, 0 or more, not -0.5",
            ),
            (
                f64::NAN,
                "retry_delay must be a number of seconds, 0 or more, not NaN",
            ),
            (
                f64::INFINITY,
                "retry_delay must be a number of seconds, 0 or more, not inf",
            ),
            (
                60.5,
                "retry_delay must be at most 60 s (the longest single wait), not 60.5 s",
            ),
            (
                1e300,
                "retry_delay must be at most 60 s (the longest single wait), not 1e300 s",
            ),
        ] {
            let err = d
                .clone()
                .with_initial_delay_seconds("retry_delay", seconds)
                .unwrap_err();
            assert_eq!(err.to_string(), message);
        }
        for (seconds, expected) in [
            (0.0, Duration::ZERO),
            (0.02, Duration::from_millis(20)),
            (60.0, Duration::from_secs(60)),
        ] {
            let policy = d
                .clone()
                .with_initial_delay_seconds("retry_delay", seconds)
                .unwrap();
            assert_eq!(policy.initial_delay, expected);
        }
    }
}
