//! What a credential produces: an [`AccessToken`], whose text is a
//! [`Secret`] — never shown by `Debug`, wiped from memory when dropped.

use std::fmt;
use std::time::SystemTime;

use zeroize::Zeroizing;

/// Text that must not leak: a token, a client secret, an assertion.
/// `Debug` shows `Secret(<redacted>)`; the bytes are overwritten with zeros
/// when the last copy is dropped.
///
/// ```
/// use used_insight::credentials::Secret;
/// let secret = Secret::new("s3cr3t");
/// assert_eq!(secret.secret(), "s3cr3t");
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps the text (taking ownership, so no copy is left behind).
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The text itself, for where it must go (a header, a form).
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

/// A bearer token and when it stops being accepted.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use used_insight::credentials::AccessToken;
/// let token = AccessToken::new("eyJ0eXAi.example", SystemTime::now() + Duration::from_secs(3600));
/// assert!(token.refresh_on.is_none());
/// assert!(!format!("{token:?}").contains("eyJ0eXAi"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessToken {
    /// The token, as sent in `Authorization: Bearer …`.
    pub token: Secret,
    /// When it expires.
    pub expires_on: SystemTime,
    /// When the issuer suggests getting a new one (Entra's `refresh_in`),
    /// if it said.
    pub refresh_on: Option<SystemTime>,
}

impl AccessToken {
    /// A token valid until `expires_on`.
    pub fn new(token: impl Into<Secret>, expires_on: SystemTime) -> Self {
        Self {
            token: token.into(),
            expires_on,
            refresh_on: None,
        }
    }

    /// Sets [`AccessToken::refresh_on`].
    pub fn with_refresh_on(mut self, refresh_on: SystemTime) -> Self {
        self.refresh_on = Some(refresh_on);
        self
    }
}
