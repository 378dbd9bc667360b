//! `ClientSecretCredential`: an app proving itself with a client secret.

use std::fmt;
use std::sync::Arc;

use super::confidential::EntraApp;
use super::{AccessToken, Secret, StandaloneCache, TokenCredential, TokenRequestContext};
use crate::error::ConfigError;
use crate::{CredentialKind, Error};

/// Tokens for an app registration with a client secret (the client
/// credentials grant), as azure-identity's `ClientSecretCredential`.
///
/// ```no_run
/// use used_insight::credentials::ClientSecretCredential;
/// let credential = ClientSecretCredential::new(
///     "72f988bf-86f1-41af-91ab-2d7cd011db47",
///     "00000000-0000-0000-0000-000000000001",
///     std::env::var("AZURE_CLIENT_SECRET")?,
/// )?
/// .authority("login.microsoftonline.us")?;
/// let client = used_insight::Client::builder()
///     .credential(credential)
///     .cloud(used_insight::Cloud::UsGov)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ClientSecretCredential {
    app: EntraApp,
    secret: Secret,
    cache: Arc<StandaloneCache>,
}

impl ClientSecretCredential {
    /// The app `client_id` in tenant `tenant_id` (a GUID or a domain) with
    /// its secret. An empty id or secret, or a tenant id that is not one,
    /// is an [`Error::InvalidConfig`].
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Result<Self, Error> {
        let app =
            EntraApp::new(tenant_id.into(), client_id.into()).map_err(Error::InvalidConfig)?;
        let secret = secret.into();
        if secret.secret().is_empty() {
            return Err(Error::InvalidConfig(ConfigError::new(
                "the client secret is empty",
            )));
        }
        Ok(Self {
            app,
            secret,
            cache: Arc::default(),
        })
    }

    /// Gets tokens from this authority — a host (`login.microsoftonline.us`)
    /// or a URL — instead of the client's cloud's. Plain `http://` only to
    /// loopback.
    pub fn authority(self, host_or_url: &str) -> Result<Self, Error> {
        self.authority_from(host_or_url, "the authority")
    }

    /// [`authority`](Self::authority), naming `source` in errors.
    pub(crate) fn authority_from(mut self, host_or_url: &str, source: &str) -> Result<Self, Error> {
        self.app.set_authority(host_or_url, source)?;
        Ok(self)
    }
}

impl TokenCredential for ClientSecretCredential {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
        self.cache
            .get(scopes, |context| self.request_token(scopes, context))
    }

    fn request_token(
        &self,
        scopes: &[&str],
        context: &TokenRequestContext,
    ) -> Result<AccessToken, Error> {
        let url = self.app.token_url(context);
        self.app.request(
            "ClientSecretCredential",
            url,
            scopes,
            &[("client_secret", self.secret.secret())],
            context,
        )
    }

    fn kind(&self) -> CredentialKind {
        CredentialKind::ClientSecret
    }
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretCredential")
            .field("tenant_id", &self.app.tenant_id)
            .field("client_id", &self.app.client_id)
            .field(
                "authority",
                &self.app.authority.as_ref().map(|a| a.as_str()),
            )
            .field("secret", &self.secret)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_refused_and_the_secret_never_shown() {
        let err = ClientSecretCredential::new("a/b", "c", "s").unwrap_err();
        assert!(err.to_string().contains("tenant id `a/b`"), "{err}");
        let err = ClientSecretCredential::new("t", "", "s").unwrap_err();
        assert!(err.to_string().contains("client id is empty"), "{err}");
        let err = ClientSecretCredential::new("t", "c", "").unwrap_err();
        assert!(err.to_string().contains("secret is empty"), "{err}");
        let err = ClientSecretCredential::new("t", "c", "s")
            .unwrap()
            .authority("http://login.example")
            .unwrap_err();
        assert!(err.to_string().contains("only https"), "{err}");
        let shown = format!(
            "{:?}",
            ClientSecretCredential::new("t", "c", "hunter2-secret").unwrap()
        );
        assert!(
            !shown.contains("hunter2") && shown.contains("redacted"),
            "{shown}"
        );
    }
}
