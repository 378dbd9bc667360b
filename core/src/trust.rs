//! Which certificate authorities a client trusts for HTTPS: Mozilla's roots
//! compiled in (the default), with extra PEM roots *added* to them (a
//! corporate proxy that inspects TLS signs with its own root), or the
//! operating system's store instead (which follows `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` on Linux). Certificate verification cannot be turned off.

use std::path::PathBuf;
use std::sync::Arc;

use ureq::tls::{parse_pem, Certificate, PemItem, RootCerts};

use crate::error::ConfigError;

/// Where extra roots come from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PemSource {
    Text(String),
    File(PathBuf),
}

impl PemSource {
    fn name(&self) -> String {
        match self {
            PemSource::Text(_) => "the PEM text given".to_owned(),
            PemSource::File(path) => format!("`{}`", path.display()),
        }
    }

    /// Every certificate in the source; an unreadable source, bad PEM or
    /// one without a certificate is refused, naming the source.
    fn certificates(&self) -> Result<Vec<Certificate<'static>>, ConfigError> {
        let bytes = match self {
            PemSource::Text(text) => text.as_bytes().to_vec(),
            PemSource::File(path) => std::fs::read(path).map_err(|e| {
                ConfigError::new(format!(
                    "cannot read root certificates from {}: {e}",
                    self.name()
                ))
            })?,
        };
        let mut certs = Vec::new();
        for item in parse_pem(&bytes) {
            match item {
                Ok(PemItem::Certificate(cert)) => certs.push(cert),
                Ok(_) => {} // keys and other items beside the certificates
                Err(e) => {
                    return Err(ConfigError::new(format!(
                        "{} is not valid PEM: {e}",
                        self.name()
                    )))
                }
            }
        }
        if certs.is_empty() {
            return Err(ConfigError::new(format!(
                "{} holds no certificate (expected -----BEGIN CERTIFICATE-----)",
                self.name()
            )));
        }
        Ok(certs)
    }
}

impl std::fmt::Debug for PemSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PemSource::Text(text) => write!(f, "Text({} bytes)", text.len()),
            PemSource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// The roots a client trusts, as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Trust {
    pub(crate) extra: Vec<PemSource>,
    pub(crate) system: bool,
}

impl Trust {
    /// The roots for ureq, reading every PEM source and, if asked, the
    /// system store now (when the client is built), so a bad file is a
    /// configuration error rather than a failed request.
    pub(crate) fn root_certs(&self) -> Result<RootCerts, ConfigError> {
        if self.extra.is_empty() && !self.system {
            return Ok(RootCerts::WebPki);
        }
        let mut certs = if self.system {
            system_roots()?
        } else {
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned())
                .collect()
        };
        for source in &self.extra {
            certs.extend(source.certificates()?);
        }
        Ok(RootCerts::Specific(Arc::new(certs)))
    }
}

/// The operating system's trust store.
fn system_roots() -> Result<Vec<Certificate<'static>>, ConfigError> {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        log::warn!("reading the system trust store: {error}");
    }
    if found.certs.is_empty() {
        let detail = found
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(ConfigError::new(format!(
            "the system trust store holds no certificate (SSL_CERT_FILE, SSL_CERT_DIR or the \
             distribution's bundle){detail}"
        )));
    }
    Ok(found
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_mozilla_s_roots_as_compiled_in() {
        assert!(matches!(
            Trust::default().root_certs().unwrap(),
            RootCerts::WebPki
        ));
    }

    #[test]
    fn extra_roots_are_added_to_mozilla_s() {
        let pem = include_str!("../tests/certs/two_roots.pem");
        let trust = Trust {
            extra: vec![PemSource::Text(pem.to_owned())],
            system: false,
        };
        let RootCerts::Specific(certs) = trust.root_certs().unwrap() else {
            panic!("specific roots");
        };
        let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS.len();
        assert_eq!(
            certs.len(),
            mozilla + 2,
            "both certificates of the file, and Mozilla's"
        );
    }

    #[test]
    fn bad_sources_are_configuration_errors_naming_them() {
        let missing = PemSource::File("/nonexistent/corp-root.pem".into());
        let err = missing.certificates().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/corp-root.pem"), "{err}");
        let empty = PemSource::Text("no certificates here\n".into());
        let err = empty.certificates().unwrap_err().to_string();
        assert!(err.contains("holds no certificate"), "{err}");
    }
}
