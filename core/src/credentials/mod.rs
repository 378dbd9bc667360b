//! Tokens from Microsoft Entra ID, so callers never write OAuth: give a
//! client a credential and it gets, caches and renews Graph tokens itself.
//!
//! The credentials and their names follow azure-identity:
//!
//! | credential | gets tokens with |
//! |---|---|
//! | [`ClientSecretCredential`] | an app's client secret |
//! | [`CertificateCredential`] | an app's certificate (a signed assertion) |
//! | [`WorkloadIdentityCredential`] | a federated token file (Kubernetes workload identity) |
//! | [`ManagedIdentityCredential`] | the Azure host's managed identity (App Service, Functions, VMs) |
//! | [`EnvironmentCredential`] | whichever of the first three `AZURE_*` variables describe |
//! | [`DefaultAzureCredential`] | environment → workload identity → managed identity |
//!
//! ```no_run
//! use used_insight::credentials::ClientSecretCredential;
//! use used_insight::Client;
//!
//! let credential = ClientSecretCredential::new(
//!     "contoso.onmicrosoft.com",
//!     "00000000-0000-0000-0000-000000000001",
//!     std::env::var("AZURE_CLIENT_SECRET")?,
//! )?;
//! let client = Client::builder().credential(credential).build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A client asks its credential for a token for its cloud's Graph scope
//! (`https://graph.microsoft.com/.default`, or
//! [`ClientBuilder::scope`](crate::ClientBuilder::scope)) from its cloud's
//! authority (`https://login.microsoftonline.com`…, or the credential's
//! `authority`), through its own trusted roots, proxy, timeouts and retry
//! policy. It keeps the token until fewer than min(5 minutes, half its
//! lifetime) remain, and only one request for a new one is made at a time
//! however many threads need it. Secrets, assertions and tokens never
//! appear in `Debug`, errors or logs and are wiped from memory when
//! dropped. When Entra refuses, the error is [`Error::TokenProvider`] with
//! Entra's `AADSTS…` code and ids, and nothing was sent to Graph.
//!
//! Any type can be a credential by implementing [`TokenCredential`]; the
//! client caches its tokens the same way.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

mod access_token;
mod answer;
mod authority;
mod binding;
mod cache;
mod certificate;
mod client_secret;
mod confidential;
mod default_chain;
mod environment;
mod managed_identity;
mod signed_assertion;
mod transport;
mod vars;
mod workload_identity;

pub use access_token::{AccessToken, Secret};
pub use certificate::CertificateCredential;
pub use client_secret::ClientSecretCredential;
pub use default_chain::DefaultAzureCredential;
pub use environment::EnvironmentCredential;
pub use managed_identity::ManagedIdentityCredential;
pub use workload_identity::WorkloadIdentityCredential;

pub(crate) use answer::{read_refusal, read_token};
pub(crate) use binding::Binding;
pub(crate) use transport::TokenTransport;
pub(crate) use workload_identity::read_token_file;

use crate::error::ConfigError;
use crate::{Cloud, CredentialKind, Error};
use cache::TokenCache;

/// Something that gets bearer tokens: the built-in credentials of this
/// module, or your own (a binding's bridge to another language's
/// credential objects, a secret store…).
///
/// Implement [`get_token`](TokenCredential::get_token); a client calls
/// [`request_token`](TokenCredential::request_token) when its cached token
/// is due for renewal, which by default calls `get_token`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use used_insight::credentials::{AccessToken, TokenCredential};
/// use used_insight::{Client, Error};
///
/// struct FromVault;
/// impl TokenCredential for FromVault {
///     fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
///         assert_eq!(scopes, ["https://graph.microsoft.com/.default"]);
///         Ok(AccessToken::new("eyJ0eXAi.example", SystemTime::now() + Duration::from_secs(3600)))
///     }
/// }
/// let client = Client::builder().credential(FromVault).build()?;
/// # Ok::<(), Error>(())
/// ```
pub trait TokenCredential: Send + Sync {
    /// A token for these scopes. The built-in credentials keep one per set
    /// of scopes and renew it as a client does, using default network
    /// settings (Mozilla's roots, the environment's proxy). An error is
    /// best an [`Error::TokenProvider`] (see
    /// [`TokenProviderError::new`](crate::TokenProviderError::new)).
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error>;

    /// A new token for these scopes, asked by a client whose cached token
    /// is due. `context` carries the client's network settings and cloud;
    /// the built-in credentials send their token requests with them. The
    /// default ignores it and calls [`get_token`](TokenCredential::get_token).
    fn request_token(
        &self,
        scopes: &[&str],
        context: &TokenRequestContext,
    ) -> Result<AccessToken, Error> {
        let _ = context;
        self.get_token(scopes)
    }

    /// What kind of credential this is, as
    /// [`ClientBuilder::credential_kind`](crate::ClientBuilder::credential_kind)
    /// reports it. Default [`CredentialKind::Custom`].
    fn kind(&self) -> CredentialKind {
        CredentialKind::Custom
    }

    /// Configuration problems known before any request (a missing
    /// environment variable, an unreadable token file), reported when a
    /// client is built. Default: none.
    fn check_configuration(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

impl<T: TokenCredential + ?Sized> TokenCredential for Arc<T> {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
        (**self).get_token(scopes)
    }
    fn request_token(
        &self,
        scopes: &[&str],
        context: &TokenRequestContext,
    ) -> Result<AccessToken, Error> {
        (**self).request_token(scopes, context)
    }
    fn kind(&self) -> CredentialKind {
        (**self).kind()
    }
    fn check_configuration(&self) -> Result<(), ConfigError> {
        (**self).check_configuration()
    }
}

/// What a client hands its credential with each token request: its
/// network settings (trusted roots, proxy, timeouts, retry policy) and its
/// cloud, whose authority is used unless the credential names one.
#[derive(Clone)]
pub struct TokenRequestContext {
    pub(crate) transport: Arc<TokenTransport>,
    pub(crate) cloud: Cloud,
}

impl TokenRequestContext {
    /// The context of a credential used on its own: Mozilla's roots, the
    /// environment's proxy, default timeouts and retries, the global cloud.
    pub fn standalone() -> Self {
        Self {
            transport: TokenTransport::standalone(),
            cloud: Cloud::Global,
        }
    }

    /// The cloud of the client asking.
    pub fn cloud(&self) -> Cloud {
        self.cloud
    }
}

impl fmt::Debug for TokenRequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequestContext")
            .field("cloud", &self.cloud)
            .field("transport", &self.transport)
            .finish()
    }
}

/// The caches of a built-in credential used on its own: one per set of
/// scopes, shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct StandaloneCache(Mutex<HashMap<String, Arc<TokenCache>>>);

impl StandaloneCache {
    pub(crate) fn get(
        &self,
        scopes: &[&str],
        fetch: impl FnOnce(&TokenRequestContext) -> Result<AccessToken, Error>,
    ) -> Result<AccessToken, Error> {
        let context = TokenRequestContext::standalone();
        let cache = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(scopes.join(" "))
            .or_default()
            .clone();
        cache.get(
            context.transport.longest_request(),
            crate::cancel::Cancel::NONE,
            || fetch(&context),
        )
    }
}

/// `application/x-www-form-urlencoded` (and query strings): every byte but
/// RFC 3986's unreserved ones percent-encoded.
pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> zeroize::Zeroizing<String> {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const FORM: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    // Reserved up front: growing would leave copies of secrets behind.
    let room = pairs
        .iter()
        .map(|(name, value)| 3 * (name.len() + value.len()) + 2)
        .sum();
    let mut out = zeroize::Zeroizing::new(String::with_capacity(room));
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(utf8_percent_encode(name, FORM));
        out.push('=');
        out.extend(utf8_percent_encode(value, FORM));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_encode_everything_but_unreserved() {
        let form = form_encode(&[
            ("scope", "https://graph.microsoft.com/.default"),
            ("client_secret", "a+b/c=d&e f~"),
        ]);
        assert_eq!(
            form.as_str(),
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_secret=a%2Bb%2Fc%3Dd%26e%20f~"
        );
    }
}
