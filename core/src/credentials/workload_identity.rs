//! `WorkloadIdentityCredential`: an app proving itself with a federated
//! token that the platform (Kubernetes workload identity) writes to a file
//! and renews.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::confidential::{EntraApp, JWT_BEARER};
use super::vars::{self, EnvProblem, Vars};
use super::{AccessToken, Secret, StandaloneCache, TokenCredential, TokenRequestContext};
use crate::error::{ConfigError, CredentialFailure, TokenProviderError};
use crate::{CredentialKind, Error};

/// Tokens for an app that trusts a federated identity, as azure-identity's
/// `WorkloadIdentityCredential`: the token in `token_file` is the client
/// assertion. The file is read for every token request, so the
/// platform's renewals (every hour or so) are always picked up.
///
/// ```no_run
/// use used_insight::credentials::WorkloadIdentityCredential;
/// // AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE, as
/// // the AKS workload identity webhook sets them.
/// let credential = WorkloadIdentityCredential::from_env()?;
/// let client = used_insight::Client::builder().credential(credential).build()?;
/// # Ok::<(), used_insight::Error>(())
/// ```
#[derive(Clone)]
pub struct WorkloadIdentityCredential {
    app: EntraApp,
    token_file: PathBuf,
    cache: Arc<StandaloneCache>,
}

impl WorkloadIdentityCredential {
    /// The app `client_id` in `tenant_id`, with the federated token in
    /// `token_file` (read when a token is needed; a client being built
    /// checks that it can be read).
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        token_file: impl Into<PathBuf>,
    ) -> Result<Self, Error> {
        Ok(Self {
            app: EntraApp::new(tenant_id.into(), client_id.into()).map_err(Error::InvalidConfig)?,
            token_file: token_file.into(),
            cache: Arc::default(),
        })
    }

    /// From `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
    /// `AZURE_FEDERATED_TOKEN_FILE`, with `AZURE_AUTHORITY_HOST` as the
    /// authority when set. A missing variable is an
    /// [`Error::InvalidConfig`] naming it.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(&vars::process).map_err(|problem| {
            Error::InvalidConfig(problem.into_config_error("WorkloadIdentityCredential"))
        })
    }

    /// As azure-identity's `WorkloadIdentityCredential(tenant_id=None,
    /// client_id=None, token_file_path=None)`: each value given is used, each
    /// one not given is read from its variable (`AZURE_TENANT_ID`,
    /// `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`), and
    /// `AZURE_AUTHORITY_HOST` is the authority when set. For bindings whose
    /// callers may leave any of them out; values neither given nor set are an
    /// [`Error::InvalidConfig`] naming their variables.
    ///
    /// ```
    /// use used_insight::credentials::WorkloadIdentityCredential;
    /// let credential = WorkloadIdentityCredential::from_env_or(
    ///     Some("contoso.onmicrosoft.com"),
    ///     Some("00000000-0000-0000-0000-000000000001"),
    ///     Some("/var/run/secrets/azure/tokens/azure-identity-token".as_ref()),
    /// )?;
    /// # Ok::<(), used_insight::Error>(())
    /// ```
    pub fn from_env_or(
        tenant_id: Option<&str>,
        client_id: Option<&str>,
        token_file: Option<&Path>,
    ) -> Result<Self, Error> {
        Self::from_vars_or(&vars::process, tenant_id, client_id, token_file).map_err(|problem| {
            Error::InvalidConfig(problem.into_config_error("WorkloadIdentityCredential"))
        })
    }

    fn from_vars_or(
        vars: Vars<'_>,
        tenant_id: Option<&str>,
        client_id: Option<&str>,
        token_file: Option<&Path>,
    ) -> Result<Self, EnvProblem> {
        let given = |name: &str| {
            match name {
                "AZURE_TENANT_ID" => tenant_id.map(str::to_owned),
                "AZURE_CLIENT_ID" => client_id.map(str::to_owned),
                // Only its presence matters here: the path itself is set below.
                "AZURE_FEDERATED_TOKEN_FILE" => token_file.map(|p| p.display().to_string()),
                _ => None,
            }
            .or_else(|| vars(name))
        };
        let mut credential = Self::from_vars(&given)?;
        if let Some(path) = token_file {
            // As given, even when it is not UTF-8.
            credential.token_file = path.to_owned();
        }
        Ok(credential)
    }

    pub(crate) fn from_vars(vars: Vars<'_>) -> Result<Self, EnvProblem> {
        let [tenant, client, file] = vars::require(
            vars,
            [
                "AZURE_TENANT_ID",
                "AZURE_CLIENT_ID",
                "AZURE_FEDERATED_TOKEN_FILE",
            ],
        )?;
        let mut credential = Self::new(tenant, client, file).map_err(env_error)?;
        if let Some(host) = vars("AZURE_AUTHORITY_HOST") {
            credential
                .app
                .set_authority(&host, "AZURE_AUTHORITY_HOST")
                .map_err(env_error)?;
        }
        Ok(credential)
    }

    /// Gets tokens from this authority — a host or a URL — instead of the
    /// client's cloud's. Plain `http://` only to loopback.
    pub fn authority(self, host_or_url: &str) -> Result<Self, Error> {
        self.authority_from(host_or_url, "the authority")
    }

    /// [`authority`](Self::authority), naming `source` in errors.
    pub(crate) fn authority_from(mut self, host_or_url: &str, source: &str) -> Result<Self, Error> {
        self.app.set_authority(host_or_url, source)?;
        Ok(self)
    }

    /// The federated token as the file holds it now.
    fn read_assertion(&self) -> Result<Secret, ConfigError> {
        read_token_file(&self.token_file)
    }
}

/// The token file's text, trimmed; unreadable or empty is an error naming it.
pub(crate) fn read_token_file(path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(format!(
            "cannot read the federated token file `{}`: {e}",
            path.display()
        ))
    })?;
    let text = Secret::new(text);
    let trimmed = text.secret().trim();
    if trimmed.is_empty() {
        return Err(ConfigError::new(format!(
            "the federated token file `{}` is empty",
            path.display()
        )));
    }
    Ok(Secret::new(trimmed))
}

/// A configuration error met while reading variables.
fn env_error(e: Error) -> EnvProblem {
    match e {
        Error::InvalidConfig(c) => EnvProblem::Invalid(c),
        other => EnvProblem::Invalid(ConfigError::new(other.to_string())),
    }
}

impl TokenCredential for WorkloadIdentityCredential {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
        self.cache
            .get(scopes, |context| self.request_token(scopes, context))
    }

    fn request_token(
        &self,
        scopes: &[&str],
        context: &TokenRequestContext,
    ) -> Result<AccessToken, Error> {
        let assertion = self.read_assertion().map_err(|e| {
            Error::TokenProvider(TokenProviderError::credential_failure(
                e.message,
                CredentialFailure {
                    credential: "WorkloadIdentityCredential",
                    ..CredentialFailure::default()
                },
            ))
        })?;
        let url = self.app.token_url(context);
        self.app.request(
            "WorkloadIdentityCredential",
            url,
            scopes,
            &[
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion.secret()),
            ],
            context,
        )
    }

    fn kind(&self) -> CredentialKind {
        CredentialKind::WorkloadIdentity
    }

    fn check_configuration(&self) -> Result<(), ConfigError> {
        self.read_assertion().map(drop)
    }
}

impl fmt::Debug for WorkloadIdentityCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadIdentityCredential")
            .field("tenant_id", &self.app.tenant_id)
            .field("client_id", &self.app.client_id)
            .field("token_file", &self.token_file)
            .field(
                "authority",
                &self.app.authority.as_ref().map(|a| a.as_str()),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::vars::table;

    #[test]
    fn the_environment_names_what_is_missing_or_wrong() {
        let none = table(&[]);
        let err = WorkloadIdentityCredential::from_vars(&none).unwrap_err();
        assert_eq!(
            err.describe(),
            "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE are not set"
        );
        let http = table(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("AZURE_AUTHORITY_HOST", "http://login.example"),
        ]);
        let err = WorkloadIdentityCredential::from_vars(&http).unwrap_err();
        assert!(
            err.describe()
                .starts_with("AZURE_AUTHORITY_HOST `http://login.example`"),
            "{}",
            err.describe()
        );
    }

    #[test]
    fn values_given_come_first_and_the_rest_from_the_environment() {
        let vars = table(&[
            ("AZURE_TENANT_ID", "env-tenant"),
            ("AZURE_CLIENT_ID", "env-client"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/env/token"),
            ("AZURE_AUTHORITY_HOST", "login.microsoftonline.us"),
        ]);
        let file = Path::new("/given/token");
        let credential =
            WorkloadIdentityCredential::from_vars_or(&vars, None, Some("given-client"), Some(file))
                .unwrap();
        assert_eq!(credential.app.tenant_id, "env-tenant");
        assert_eq!(credential.app.client_id, "given-client");
        assert_eq!(credential.token_file, file);
        assert_eq!(
            credential.app.authority.as_ref().map(|a| a.as_str()),
            Some("https://login.microsoftonline.us")
        );
        let none = table(&[]);
        let err =
            WorkloadIdentityCredential::from_vars_or(&none, Some("t"), None, None).unwrap_err();
        assert_eq!(
            err.describe(),
            "AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE are not set"
        );
    }

    #[test]
    fn an_unreadable_or_empty_token_file_is_a_configuration_error() {
        let credential = WorkloadIdentityCredential::new("t", "c", "/nonexistent/token").unwrap();
        let err = credential.check_configuration().unwrap_err();
        assert!(err.message.contains("`/nonexistent/token`"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, " \n").unwrap();
        let err = WorkloadIdentityCredential::new("t", "c", &path)
            .unwrap()
            .check_configuration()
            .unwrap_err();
        assert!(err.message.ends_with("is empty"), "{err}");
        std::fs::write(&path, "eyJhbGciOi.federated\n").unwrap();
        let credential = WorkloadIdentityCredential::new("t", "c", &path).unwrap();
        assert_eq!(
            credential.read_assertion().unwrap().secret(),
            "eyJhbGciOi.federated"
        );
    }
}
