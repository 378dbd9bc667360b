//! `CertificateCredential`: an app proving itself with a certificate — a
//! client assertion signed by its private key.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use super::confidential::{EntraApp, JWT_BEARER};
use super::signed_assertion::ClientCertificate;
use super::{AccessToken, StandaloneCache, TokenCredential, TokenRequestContext};
use crate::error::{ConfigError, CredentialFailure, TokenProviderError};
use crate::{CredentialKind, Error};

/// Tokens for an app registration with a certificate, as azure-identity's
/// `CertificateCredential`: each token request carries a fresh assertion
/// (a JWT signed RSASSA-PSS SHA-256, with the certificate's SHA-256
/// thumbprint), so the private key never leaves the process.
///
/// The PEM holds the private key — PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
/// (`BEGIN RSA PRIVATE KEY`), RSA, without a password — and the
/// certificate uploaded to the app registration, in any order (other
/// certificates of a chain may be there too).
///
/// ```no_run
/// use used_insight::credentials::CertificateCredential;
/// let credential = CertificateCredential::from_file(
///     "contoso.onmicrosoft.com",
///     "00000000-0000-0000-0000-000000000001",
///     "/etc/contoso/app.pem",
/// )?;
/// let client = used_insight::Client::builder().credential(credential).build()?;
/// # Ok::<(), used_insight::Error>(())
/// ```
#[derive(Clone)]
pub struct CertificateCredential {
    app: EntraApp,
    certificate: Arc<ClientCertificate>,
    cache: Arc<StandaloneCache>,
}

impl CertificateCredential {
    /// From PEM text holding the key and the certificate. Text without an
    /// RSA key, without its certificate, or with a password-protected key
    /// is an [`Error::InvalidConfig`] saying which.
    pub fn from_pem(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        pem: impl AsRef<[u8]>,
    ) -> Result<Self, Error> {
        let certificate = ClientCertificate::from_pem(pem.as_ref(), "the PEM text given")
            .map_err(Error::InvalidConfig)?;
        Self::with(tenant_id.into(), client_id.into(), certificate)
    }

    /// From a PEM file, read now. An unreadable file, or one that
    /// [`from_pem`](Self::from_pem) would refuse, is an
    /// [`Error::InvalidConfig`] naming the file.
    pub fn from_file(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let name = format!("`{}`", path.display());
        let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| {
            Error::InvalidConfig(ConfigError::new(format!(
                "cannot read the certificate {name}: {e}"
            )))
        })?);
        let certificate =
            ClientCertificate::from_pem(&bytes, &name).map_err(Error::InvalidConfig)?;
        Self::with(tenant_id.into(), client_id.into(), certificate)
    }

    fn with(
        tenant_id: String,
        client_id: String,
        certificate: ClientCertificate,
    ) -> Result<Self, Error> {
        Ok(Self {
            app: EntraApp::new(tenant_id, client_id).map_err(Error::InvalidConfig)?,
            certificate: Arc::new(certificate),
            cache: Arc::default(),
        })
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
}

impl TokenCredential for CertificateCredential {
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
        let assertion = self
            .certificate
            .assertion(&url, &self.app.client_id, SystemTime::now())
            .map_err(|message| {
                Error::TokenProvider(TokenProviderError::credential_failure(
                    message,
                    CredentialFailure {
                        credential: "CertificateCredential",
                        ..CredentialFailure::default()
                    },
                ))
            })?;
        self.app.request(
            "CertificateCredential",
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
        CredentialKind::Certificate
    }
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("tenant_id", &self.app.tenant_id)
            .field("client_id", &self.app.client_id)
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

    #[test]
    fn files_are_read_at_once_and_named_in_errors() {
        let err = CertificateCredential::from_file("t", "c", "/nonexistent/app.pem").unwrap_err();
        assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
        assert!(
            err.to_string()
                .contains("cannot read the certificate `/nonexistent/app.pem`"),
            "{err}"
        );
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/certs/ec-test-app.pem");
        let err = CertificateCredential::from_file("t", "c", path).unwrap_err();
        assert!(
            err.to_string()
                .contains("ec-test-app.pem` holds a private key that is not RSA"),
            "{err}"
        );
        let pem = include_str!("../../tests/certs/entra-test-app.pem");
        let credential = CertificateCredential::from_pem("t", "c", pem).unwrap();
        let shown = format!("{credential:?}");
        assert!(
            !shown.contains("PRIVATE") && shown.contains("tenant_id"),
            "{shown}"
        );
    }
}
