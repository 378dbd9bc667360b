//! `ManagedIdentityCredential`: the identity Azure gives the host the code
//! runs on, from an endpoint on that host — App Service and Functions
//! (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`) or the instance metadata
//! service (IMDS) of VMs, scale sets and AKS nodes. These endpoints are
//! local to the machine, so they are never reached through a proxy.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ureq::http::Uri;

use super::confidential::check_scopes;
use super::transport::TokenRequest;
use super::vars::{self, Vars};
use super::{
    form_encode, AccessToken, Secret, StandaloneCache, TokenCredential, TokenRequestContext,
};
use crate::endpoint::check_target;
use crate::error::{ConfigError, TokenProviderError};
use crate::headers::check_header_value;
use crate::{CredentialKind, Error};

/// The instance metadata service's address: plain http to a link-local
/// address, the one non-loopback `http://` target allowed.
const IMDS_HOST: &str = "169.254.169.254";
const IMDS_DEFAULT: &str = "http://169.254.169.254";
const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
const IMDS_API_VERSION: &str = "2018-02-01";
const APP_SERVICE_API_VERSION: &str = "2019-08-01";
const NAME: &str = "ManagedIdentityCredential";

/// Tokens for the managed identity of the Azure host, as azure-identity's
/// `ManagedIdentityCredential`: system-assigned by default, user-assigned
/// with [`client_id`](Self::client_id).
///
/// With `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` set (App Service,
/// Functions) it asks that endpoint (api-version 2019-08-01, header
/// `X-IDENTITY-HEADER`); otherwise the instance metadata service at
/// `http://169.254.169.254` (api-version 2018-02-01, header
/// `Metadata: true`), whose address `AZURE_POD_IDENTITY_AUTHORITY_HOST` or
/// [`imds_endpoint`](Self::imds_endpoint) replace. Managed identities take
/// a resource, not scopes: a client's `https://graph.microsoft.com/.default`
/// is sent as `https://graph.microsoft.com`.
///
/// ```no_run
/// use used_insight::credentials::ManagedIdentityCredential;
/// let credential = ManagedIdentityCredential::new().client_id("00000000-0000-0000-0000-000000000002");
/// let client = used_insight::Client::builder().credential(credential).build()?;
/// # Ok::<(), used_insight::Error>(())
/// ```
#[derive(Clone)]
pub struct ManagedIdentityCredential {
    source: Result<Source, ConfigError>,
    client_id: Option<String>,
    /// In a chain, the metadata service's first answer is awaited briefly
    /// and not retried: off Azure nothing answers there.
    probe_first: bool,
    answered: Arc<AtomicBool>,
    cache: Arc<StandaloneCache>,
}

#[derive(Clone)]
enum Source {
    AppService { endpoint: String, header: Secret },
    Imds { base: String },
}

impl Default for ManagedIdentityCredential {
    fn default() -> Self {
        Self::new()
    }
}

impl ManagedIdentityCredential {
    /// The host's system-assigned identity, from the endpoint the
    /// environment names (read now). A variable holding an unusable URL is
    /// reported when a client is built or a token asked for.
    pub fn new() -> Self {
        Self::from_vars(&vars::process)
    }

    pub(crate) fn from_vars(vars: Vars<'_>) -> Self {
        Self {
            source: source_from(vars),
            client_id: None,
            probe_first: false,
            answered: Arc::default(),
            cache: Arc::default(),
        }
    }

    /// A user-assigned identity, by its client id.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Asks the instance metadata service at this root (e.g.
    /// `http://127.0.0.1:8080` for a local stand-in) instead of
    /// `http://169.254.169.254` — and instead of App Service's endpoint.
    /// Plain `http://` only to loopback or the metadata address.
    pub fn imds_endpoint(mut self, base_url: &str) -> Result<Self, Error> {
        let base = imds_base(base_url, "the IMDS endpoint").map_err(Error::InvalidConfig)?;
        self.source = Ok(Source::Imds { base });
        Ok(self)
    }

    pub(crate) fn probing_first(mut self) -> Self {
        self.probe_first = true;
        self
    }

    /// Where it asks, for messages.
    pub(crate) fn endpoint_shown(&self) -> String {
        match &self.source {
            Ok(Source::AppService { endpoint, .. }) => endpoint.clone(),
            Ok(Source::Imds { base }) => format!("{base}{IMDS_PATH}"),
            Err(_) => "(unusable)".to_owned(),
        }
    }
}

fn source_from(vars: Vars<'_>) -> Result<Source, ConfigError> {
    if let (Some(endpoint), Some(header)) = (vars("IDENTITY_ENDPOINT"), vars("IDENTITY_HEADER")) {
        if vars("IDENTITY_SERVER_THUMBPRINT").is_some() {
            return Err(ConfigError::new(
                "ManagedIdentityCredential: Service Fabric's managed identity \
                 (IDENTITY_SERVER_THUMBPRINT is set) is not supported",
            ));
        }
        let uri: Uri = endpoint.parse().map_err(|_| {
            ConfigError::new(format!("IDENTITY_ENDPOINT `{endpoint}` is not a URL"))
        })?;
        check_target(&uri)
            .map_err(|why| ConfigError::new(format!("IDENTITY_ENDPOINT `{endpoint}` {why}")))?;
        // Sent as `X-IDENTITY-HEADER`; never echoed (it is a secret).
        check_header_value(&header)
            .map_err(|why| ConfigError::new(format!("IDENTITY_HEADER {why}")))?;
        return Ok(Source::AppService {
            endpoint,
            header: Secret::new(header),
        });
    }
    let base = match vars("AZURE_POD_IDENTITY_AUTHORITY_HOST") {
        Some(host) => imds_base(&host, "AZURE_POD_IDENTITY_AUTHORITY_HOST")?,
        None => IMDS_DEFAULT.to_owned(),
    };
    Ok(Source::Imds { base })
}

/// A metadata service root: core's target rule, or plain http to the
/// metadata address itself.
fn imds_base(text: &str, source: &str) -> Result<String, ConfigError> {
    let base = text.trim().trim_end_matches('/').to_owned();
    let uri: Uri = base
        .parse()
        .map_err(|_| ConfigError::new(format!("{source} `{text}` is not a URL")))?;
    let metadata_address = uri.scheme_str() == Some("http") && uri.host() == Some(IMDS_HOST);
    if !metadata_address {
        check_target(&uri).map_err(|why| ConfigError::new(format!("{source} `{text}` {why}")))?;
    }
    if uri.query().is_some() || base.contains('#') {
        return Err(ConfigError::new(format!(
            "{source} `{text}` must not have a query or fragment"
        )));
    }
    Ok(base)
}

impl TokenCredential for ManagedIdentityCredential {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
        self.cache
            .get(scopes, |context| self.request_token(scopes, context))
    }

    fn request_token(
        &self,
        scopes: &[&str],
        context: &TokenRequestContext,
    ) -> Result<AccessToken, Error> {
        let source = self
            .source
            .as_ref()
            .map_err(|e| Error::InvalidConfig(e.clone()))?;
        check_scopes(scopes)?;
        let [scope] = scopes else {
            return Err(Error::InvalidConfig(ConfigError::new(format!(
                "a managed identity gets a token for one resource; {} scopes were given",
                scopes.len()
            ))));
        };
        let resource = scope.strip_suffix("/.default").unwrap_or(scope);
        let (api_version, base_url, header, also_retry, is_imds): (_, _, _, &'static [u16], _) =
            match source {
                Source::AppService { endpoint, header } => (
                    APP_SERVICE_API_VERSION,
                    endpoint.clone(),
                    ("X-IDENTITY-HEADER", header.secret()),
                    &[],
                    false,
                ),
                // IMDS answers 404 and 410 while it is being updated.
                Source::Imds { base } => (
                    IMDS_API_VERSION,
                    format!("{base}{IMDS_PATH}"),
                    ("Metadata", "true"),
                    &[404, 410],
                    true,
                ),
            };
        let mut query = vec![("api-version", api_version), ("resource", resource)];
        if let Some(client_id) = &self.client_id {
            query.push(("client_id", client_id));
        }
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{separator}{}", form_encode(&query).as_str());
        let probe = is_imds && self.probe_first && !self.answered.load(Ordering::Relaxed);
        let result = context.transport.fetch(&TokenRequest {
            credential: NAME,
            form: None,
            url,
            headers: vec![header],
            direct: true,
            also_retry,
            probe,
        });
        match result {
            Ok(token) => {
                self.answered.store(true, Ordering::Relaxed);
                Ok(token)
            }
            Err(Error::TokenProvider(e)) if probe => Err(Error::TokenProvider(probe_failure(e))),
            Err(e) => Err(e),
        }
    }

    fn kind(&self) -> CredentialKind {
        CredentialKind::ManagedIdentity
    }

    fn check_configuration(&self) -> Result<(), ConfigError> {
        self.source.as_ref().map(drop).map_err(Clone::clone)
    }
}

/// In a chain, a metadata service that does not answer, or answers that no
/// identity is assigned (400), means "not here": the chain moves on.
fn probe_failure(mut error: TokenProviderError) -> TokenProviderError {
    let status = error.status();
    if let Some(details) = error.details.as_mut() {
        match status {
            None => details.unavailable = true,
            Some(400) => {
                details.unavailable = true;
                error.message = format!("no managed identity is assigned: {}", error.message);
            }
            Some(_) => {}
        }
    }
    error
}

impl fmt::Debug for ManagedIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Ok(Source::AppService { .. }) => "app_service",
            Ok(Source::Imds { .. }) => "imds",
            Err(_) => "unusable",
        };
        f.debug_struct("ManagedIdentityCredential")
            .field("source", &source)
            .field("endpoint", &self.endpoint_shown())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::vars::table;

    #[test]
    fn the_environment_picks_the_endpoint() {
        let imds = ManagedIdentityCredential::from_vars(&table(&[]));
        assert_eq!(
            imds.endpoint_shown(),
            "http://169.254.169.254/metadata/identity/oauth2/token"
        );
        let pod = ManagedIdentityCredential::from_vars(&table(&[(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            "http://127.0.0.1:9/",
        )]));
        assert_eq!(
            pod.endpoint_shown(),
            "http://127.0.0.1:9/metadata/identity/oauth2/token"
        );
        let app = ManagedIdentityCredential::from_vars(&table(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/MSI/token/"),
            ("IDENTITY_HEADER", "header-secret"),
        ]));
        assert_eq!(app.endpoint_shown(), "http://127.0.0.1:41741/MSI/token/");
        let shown = format!("{app:?}");
        assert!(
            shown.contains("app_service") && !shown.contains("header-secret"),
            "{shown}"
        );
        // The builder's endpoint wins over the environment.
        let local = app.imds_endpoint("http://[::1]:8080").unwrap();
        assert_eq!(
            local.endpoint_shown(),
            "http://[::1]:8080/metadata/identity/oauth2/token"
        );
    }

    #[test]
    fn unusable_endpoints_are_configuration_errors() {
        let remote = ManagedIdentityCredential::from_vars(&table(&[(
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            "http://imds.example",
        )]));
        let err = remote.check_configuration().unwrap_err();
        assert!(
            err.message
                .contains("AZURE_POD_IDENTITY_AUTHORITY_HOST `http://imds.example`"),
            "{err}"
        );
        let fabric = ManagedIdentityCredential::from_vars(&table(&[
            (
                "IDENTITY_ENDPOINT",
                "https://10.0.0.4:2377/metadata/identity/oauth2/token",
            ),
            ("IDENTITY_HEADER", "h"),
            ("IDENTITY_SERVER_THUMBPRINT", "AB12"),
        ]));
        assert!(fabric
            .check_configuration()
            .unwrap_err()
            .message
            .contains("Service Fabric"));
        for header in ["h\r\nX-Injected: 1", "h\n", "tök"] {
            let injected = ManagedIdentityCredential::from_vars(&table(&[
                ("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/MSI/token/"),
                ("IDENTITY_HEADER", header),
            ]));
            let err = injected.check_configuration().unwrap_err();
            assert!(err.message.starts_with("IDENTITY_HEADER "), "{err}");
            assert!(!err.message.contains("Injected"), "not echoed: {err}");
        }
        let err = ManagedIdentityCredential::new()
            .imds_endpoint("http://10.0.0.1")
            .unwrap_err();
        assert!(err.to_string().contains("only https"), "{err}");
        assert!(imds_base("http://169.254.169.254/", "x").is_ok());
    }

    #[test]
    fn one_scope_becomes_the_resource() {
        // Port 9 (discard) on loopback: nothing is sent anywhere else.
        let credential = ManagedIdentityCredential::from_vars(&table(&[]))
            .imds_endpoint("http://127.0.0.1:9")
            .unwrap();
        let context = TokenRequestContext::standalone();
        let err = credential
            .request_token(&["a/.default", "b/.default"], &context)
            .unwrap_err();
        assert!(err.to_string().contains("one resource; 2 scopes"), "{err}");
    }
}
