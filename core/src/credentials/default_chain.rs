//! `DefaultAzureCredential`: environment → workload identity → managed
//! identity, the first that works.

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::vars::{self, EnvProblem, Vars};
use super::{
    AccessToken, EnvironmentCredential, ManagedIdentityCredential, StandaloneCache,
    TokenCredential, TokenRequestContext, WorkloadIdentityCredential,
};
use crate::error::{ConfigError, CredentialFailure, TokenProviderError};
use crate::{CredentialKind, Error};

/// The credential that works wherever the code runs, as azure-identity's
/// `DefaultAzureCredential` (its non-interactive part): the first of
///
/// 1. [`EnvironmentCredential`] — an app described by `AZURE_*` variables;
/// 2. [`WorkloadIdentityCredential`] — `AZURE_FEDERATED_TOKEN_FILE` with
///    `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`;
/// 3. [`ManagedIdentityCredential`] — the host's managed identity
///    (user-assigned when `AZURE_CLIENT_ID` is set).
///
/// A link that is not configured, or a managed identity endpoint that does
/// not answer (waited for one second), is skipped; once a link has given
/// a token, that link is used from then on. A link that is configured but
/// refused (a wrong secret) ends the search with its error. When no link
/// works, the error says why each failed.
///
/// ```no_run
/// let credential = used_insight::credentials::DefaultAzureCredential::new();
/// let client = used_insight::Client::builder().credential(credential).build()?;
/// # Ok::<(), used_insight::Error>(())
/// ```
#[derive(Clone)]
pub struct DefaultAzureCredential {
    environment: EnvironmentCredential,
    workload: Result<WorkloadIdentityCredential, EnvProblem>,
    managed: ManagedIdentityCredential,
    /// The link that gave a token.
    chosen: Arc<OnceLock<usize>>,
    cache: Arc<StandaloneCache>,
}

const NAME: &str = "DefaultAzureCredential";
const LINKS: [&str; 3] = [
    "EnvironmentCredential",
    "WorkloadIdentityCredential",
    "ManagedIdentityCredential",
];

impl Default for DefaultAzureCredential {
    fn default() -> Self {
        Self::new()
    }
}

impl DefaultAzureCredential {
    /// Reads the environment now.
    pub fn new() -> Self {
        Self::from_vars(&vars::process)
    }

    pub(crate) fn from_vars(vars: Vars<'_>) -> Self {
        let mut managed = ManagedIdentityCredential::from_vars(vars).probing_first();
        if let Some(client_id) = vars("AZURE_CLIENT_ID") {
            managed = managed.client_id(client_id);
        }
        Self {
            environment: EnvironmentCredential::from_vars(vars),
            workload: WorkloadIdentityCredential::from_vars(vars),
            managed,
            chosen: Arc::default(),
            cache: Arc::default(),
        }
    }

    fn link(&self, index: usize) -> Result<&dyn TokenCredential, &EnvProblem> {
        match index {
            0 => self
                .environment
                .problem()
                .map_or(Ok(&self.environment as _), Err),
            1 => self.workload.as_ref().map(|c| c as _),
            _ => Ok(&self.managed),
        }
    }
}

impl TokenCredential for DefaultAzureCredential {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
        self.cache
            .get(scopes, |context| self.request_token(scopes, context))
    }

    fn request_token(
        &self,
        scopes: &[&str],
        context: &TokenRequestContext,
    ) -> Result<AccessToken, Error> {
        if let Some(&index) = self.chosen.get() {
            if let Ok(link) = self.link(index) {
                return link.request_token(scopes, context);
            }
        }
        let mut reasons = Vec::new();
        for (index, name) in LINKS.iter().enumerate() {
            let link = match self.link(index) {
                Ok(link) => link,
                Err(EnvProblem::Invalid(e)) => {
                    return Err(Error::InvalidConfig(ConfigError::new(format!(
                        "{NAME}: {}",
                        e.message
                    ))))
                }
                Err(missing) => {
                    reasons.push(format!("{name}: {}", missing.describe()));
                    continue;
                }
            };
            match link.request_token(scopes, context) {
                Ok(token) => {
                    log::info!("{NAME}: using {name}");
                    let _ = self.chosen.set(index);
                    return Ok(token);
                }
                Err(Error::TokenProvider(e)) if e.is_unavailable() => {
                    reasons.push(format!("{name}: {}", e.message));
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::TokenProvider(
            TokenProviderError::credential_failure(
                format!("no credential in the chain works: {}", reasons.join("; ")),
                CredentialFailure {
                    credential: NAME,
                    unavailable: true,
                    ..CredentialFailure::default()
                },
            ),
        ))
    }

    fn kind(&self) -> CredentialKind {
        CredentialKind::Default
    }

    /// The link that would be tried first is checked; a link configured
    /// wrongly is an error too. Links not configured at all are skipped.
    fn check_configuration(&self) -> Result<(), ConfigError> {
        for (index, name) in LINKS.iter().enumerate() {
            match self.link(index) {
                Err(EnvProblem::Invalid(e)) => {
                    return Err(ConfigError::new(format!("{NAME}: {}", e.message)))
                }
                Err(_missing) => continue,
                Ok(link) => {
                    return link
                        .check_configuration()
                        .map_err(|e| ConfigError::new(format!("{NAME}: {name}: {}", e.message)))
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for DefaultAzureCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultAzureCredential")
            .field("environment", &self.environment)
            .field(
                "workload_identity",
                &self.workload.as_ref().map_err(EnvProblem::describe),
            )
            .field("managed_identity", &self.managed)
            .field("chosen", &self.chosen.get().map(|&i| LINKS[i]))
            .finish_non_exhaustive()
    }
}
