//! `EnvironmentCredential`: an app credential described by `AZURE_*`
//! variables, as azure-identity reads them.

use std::fmt;

use super::vars::{self, EnvProblem, Vars};
use super::{
    AccessToken, CertificateCredential, ClientSecretCredential, TokenCredential,
    TokenRequestContext, WorkloadIdentityCredential,
};
use crate::error::ConfigError;
use crate::{CredentialKind, Error};

/// Tokens for the app the environment describes, as azure-identity's
/// `EnvironmentCredential`. With `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`,
/// the first of:
///
/// 1. `AZURE_CLIENT_SECRET` — a [`ClientSecretCredential`];
/// 2. `AZURE_CLIENT_CERTIFICATE_PATH` — a [`CertificateCredential`] from
///    that PEM file (`AZURE_CLIENT_CERTIFICATE_PASSWORD` is refused:
///    password-protected keys are not supported);
/// 3. `AZURE_FEDERATED_TOKEN_FILE` — a [`WorkloadIdentityCredential`].
///
/// `AZURE_AUTHORITY_HOST`, when set, is the authority (a host or URL).
/// The variables are read by [`new`](Self::new); a client built with a
/// credential they do not describe fails with an
/// [`Error::InvalidConfig`] naming what is missing.
///
/// ```no_run
/// let credential = used_insight::credentials::EnvironmentCredential::new();
/// let client = used_insight::Client::builder().credential(credential).build()?;
/// # Ok::<(), used_insight::Error>(())
/// ```
#[derive(Clone)]
pub struct EnvironmentCredential {
    found: Result<Found, EnvProblem>,
}

#[derive(Clone)]
enum Found {
    Secret(ClientSecretCredential),
    Certificate(CertificateCredential),
    Workload(WorkloadIdentityCredential),
}

impl Default for EnvironmentCredential {
    fn default() -> Self {
        Self::new()
    }
}

impl EnvironmentCredential {
    /// Reads the variables now.
    pub fn new() -> Self {
        Self::from_vars(&vars::process)
    }

    pub(crate) fn from_vars(vars: Vars<'_>) -> Self {
        Self { found: read(vars) }
    }

    /// Why the variables describe no credential, if they do not: `Missing`
    /// when they are simply not set (a chain moves on), `Invalid` when set
    /// wrongly.
    pub(crate) fn problem(&self) -> Option<&EnvProblem> {
        self.found.as_ref().err()
    }

    fn credential(&self) -> Result<&dyn TokenCredential, ConfigError> {
        match &self.found {
            Ok(Found::Secret(c)) => Ok(c),
            Ok(Found::Certificate(c)) => Ok(c),
            Ok(Found::Workload(c)) => Ok(c),
            Err(problem) => Err(problem.clone().into_config_error("EnvironmentCredential")),
        }
    }
}

fn read(vars: Vars<'_>) -> Result<Found, EnvProblem> {
    let proofs = [
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
    ];
    let [tenant, client] = match vars::require(vars, ["AZURE_TENANT_ID", "AZURE_CLIENT_ID"]) {
        Ok(ids) => ids,
        Err(EnvProblem::Missing(mut missing)) => {
            if proofs.iter().all(|name| vars(name).is_none()) {
                missing.push("one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE");
            }
            return Err(EnvProblem::Missing(missing));
        }
        Err(invalid) => return Err(invalid),
    };
    let authority = |credential: Result<Found, Error>| -> Result<Found, EnvProblem> {
        let found = credential.map_err(invalid)?;
        let Some(host) = vars("AZURE_AUTHORITY_HOST") else {
            return Ok(found);
        };
        const NAME: &str = "AZURE_AUTHORITY_HOST";
        Ok(match found {
            Found::Secret(c) => Found::Secret(c.authority_from(&host, NAME).map_err(invalid)?),
            Found::Certificate(c) => {
                Found::Certificate(c.authority_from(&host, NAME).map_err(invalid)?)
            }
            Found::Workload(c) => Found::Workload(c.authority_from(&host, NAME).map_err(invalid)?),
        })
    };
    if let Some(secret) = vars("AZURE_CLIENT_SECRET") {
        return authority(ClientSecretCredential::new(tenant, client, secret).map(Found::Secret));
    }
    if let Some(path) = vars("AZURE_CLIENT_CERTIFICATE_PATH") {
        if vars("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some() {
            return Err(EnvProblem::Invalid(ConfigError::new(
                "EnvironmentCredential: AZURE_CLIENT_CERTIFICATE_PASSWORD is set, but \
                 password-protected keys are not supported; export the key without a password",
            )));
        }
        return authority(
            CertificateCredential::from_file(tenant, client, path).map(Found::Certificate),
        );
    }
    if let Some(file) = vars("AZURE_FEDERATED_TOKEN_FILE") {
        return authority(
            WorkloadIdentityCredential::new(tenant, client, file).map(Found::Workload),
        );
    }
    Err(EnvProblem::Missing(vec![
        "AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE (one of them)",
    ]))
}

fn invalid(e: Error) -> EnvProblem {
    match e {
        Error::InvalidConfig(c) => EnvProblem::Invalid(ConfigError::new(format!(
            "EnvironmentCredential: {}",
            c.message
        ))),
        other => EnvProblem::Invalid(ConfigError::new(other.to_string())),
    }
}

impl TokenCredential for EnvironmentCredential {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
        self.credential()
            .map_err(Error::InvalidConfig)?
            .get_token(scopes)
    }

    fn request_token(
        &self,
        scopes: &[&str],
        context: &TokenRequestContext,
    ) -> Result<AccessToken, Error> {
        self.credential()
            .map_err(Error::InvalidConfig)?
            .request_token(scopes, context)
    }

    fn kind(&self) -> CredentialKind {
        CredentialKind::Environment
    }

    fn check_configuration(&self) -> Result<(), ConfigError> {
        self.credential()?.check_configuration()
    }
}

impl fmt::Debug for EnvironmentCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("EnvironmentCredential");
        match &self.found {
            Ok(Found::Secret(c)) => d.field("credential", c),
            Ok(Found::Certificate(c)) => d.field("credential", c),
            Ok(Found::Workload(c)) => d.field("credential", c),
            Err(problem) => d.field("unavailable", &problem.describe()),
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::vars::table;

    fn kind_of(vars: &[(&str, &str)]) -> Result<&'static str, String> {
        match EnvironmentCredential::from_vars(&table(vars)).found {
            Ok(Found::Secret(_)) => Ok("secret"),
            Ok(Found::Certificate(_)) => Ok("certificate"),
            Ok(Found::Workload(_)) => Ok("workload"),
            Err(problem) => Err(problem.describe()),
        }
    }

    const IDS: [(&str, &str); 2] = [("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_ID", "c")];

    #[test]
    fn secret_then_certificate_then_federated_token() {
        let cert = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/certs/entra-test-app.pem"
        );
        let all = [
            IDS[0],
            IDS[1],
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", cert),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ];
        assert_eq!(kind_of(&all), Ok("secret"));
        assert_eq!(
            kind_of(&[IDS[0], IDS[1], all[3], all[4]]),
            Ok("certificate")
        );
        assert_eq!(kind_of(&[IDS[0], IDS[1], all[4]]), Ok("workload"));
    }

    #[test]
    fn what_is_missing_or_wrong_is_named() {
        assert_eq!(
            kind_of(&[]).unwrap_err(),
            "AZURE_TENANT_ID, AZURE_CLIENT_ID and one of AZURE_CLIENT_SECRET, \
             AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE are not set"
        );
        assert_eq!(
            kind_of(&[("AZURE_CLIENT_SECRET", "s"), IDS[1]]).unwrap_err(),
            "AZURE_TENANT_ID is not set"
        );
        assert!(kind_of(&IDS)
            .unwrap_err()
            .contains("AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH"));
        let err = kind_of(&[
            IDS[0],
            IDS[1],
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/app.pem"),
        ])
        .unwrap_err();
        assert!(
            err.contains("cannot read the certificate `/nonexistent/app.pem`"),
            "{err}"
        );
        let cert = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/certs/entra-test-app.pem"
        );
        let err = kind_of(&[
            IDS[0],
            IDS[1],
            ("AZURE_CLIENT_CERTIFICATE_PATH", cert),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw"),
        ])
        .unwrap_err();
        assert!(
            err.contains("AZURE_CLIENT_CERTIFICATE_PASSWORD is set"),
            "{err}"
        );
        let err = kind_of(&[
            IDS[0],
            IDS[1],
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_AUTHORITY_HOST", "http://x.example"),
        ])
        .unwrap_err();
        assert!(
            err.contains("AZURE_AUTHORITY_HOST `http://x.example`"),
            "{err}"
        );
        let credential = EnvironmentCredential::from_vars(&table(&[IDS[0]]));
        let err = credential.check_configuration().unwrap_err();
        assert!(
            err.message
                .starts_with("EnvironmentCredential: AZURE_CLIENT_ID"),
            "{err}"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = EnvironmentCredential::from_vars(&table(&[
            IDS[0],
            IDS[1],
            ("AZURE_CLIENT_SECRET", "hunter2"),
        ]));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("ClientSecretCredential"),
            "{shown}"
        );
    }
}
