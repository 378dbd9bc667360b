//! A credential bound to a client: the client's scope, its network
//! settings and cloud, and the cache its tokens are kept in.

use std::fmt;
use std::sync::Arc;

use super::cache::TokenCache;
use super::{AccessToken, TokenCredential, TokenRequestContext};
use crate::cancel::Cancel;
use crate::error::TokenProviderError;
use crate::headers::check_header_value;
use crate::Error;

/// What a client asks for tokens.
pub(crate) struct Binding {
    credential: Arc<dyn TokenCredential>,
    scopes: Vec<String>,
    context: TokenRequestContext,
    cache: TokenCache,
}

impl Binding {
    pub(crate) fn new(
        credential: Arc<dyn TokenCredential>,
        scope: String,
        context: TokenRequestContext,
    ) -> Self {
        Self {
            credential,
            scopes: vec![scope],
            context,
            cache: TokenCache::default(),
        }
    }

    /// The cached token, or a new one when it is due (one request at a
    /// time; other threads wait for it, unless their call is cancelled).
    pub(crate) fn token(&self, cancel: Cancel<'_>) -> Result<AccessToken, Error> {
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let wait_limit = self.context.transport.longest_request();
        self.cache.get(wait_limit, cancel, || {
            let token = self.credential.request_token(&scopes, &self.context)?;
            // A credential of the caller's own may return anything.
            check_header_value(token.token.secret()).map_err(|why| {
                Error::TokenProvider(TokenProviderError::new(format!(
                    "the token the credential returned {why}"
                )))
            })?;
            Ok(token)
        })
    }

    /// Graph refused the token: the next call gets a new one.
    pub(crate) fn forget_token(&self) {
        self.cache.forget();
    }
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("kind", &self.credential.kind())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}
