//! HTTPS: a throwaway certificate authority and a server certificate signed by
//! it, both made at start-up (ECDSA P-256 keys: a millisecond, not RSA's
//! hundreds), and the CA certificate's PEM file.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::TlsOptions;

/// The names the server certificate covers unless [`TlsOptions::names`] says otherwise.
pub(crate) const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// What start-up made: the acceptor for the server and the CA certificate.
pub(crate) struct Made {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) ca_pem: String,
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("TLS set-up: {e}"))
}

/// Makes the CA and the server certificate. `host` is the announced address:
/// added to the default names when it is not loopback.
pub(crate) fn make(options: &TlsOptions, host: IpAddr) -> io::Result<Made> {
    let now = OffsetDateTime::now_utc();

    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "graph-emulator throwaway CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - Duration::days(1);
    ca_params.not_after = now + Duration::days(365);
    let ca_key = KeyPair::generate().map_err(invalid)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(invalid)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let names: Vec<String> = if options.names.is_empty() {
        let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| n.to_string()).collect();
        if !host.is_loopback() && !host.is_unspecified() {
            names.push(host.to_string());
        }
        names
    } else {
        options.names.clone()
    };
    // IP addresses become IP SANs, anything else a DNS name.
    let mut params = CertificateParams::new(names).map_err(invalid)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "graph-emulator");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    if options.expired {
        params.not_before = now - Duration::days(30);
        params.not_after = now - Duration::days(1);
    } else {
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
    }
    let key = KeyPair::generate().map_err(invalid)?;
    let cert = params.signed_by(&key, &issuer).map_err(invalid)?;

    let mut config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(invalid)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Made {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem: ca_cert.pem(),
    })
}

/// The CA certificate's file. A file in a temporary directory of our own is
/// removed, with the directory, when this is dropped; a chosen path is kept.
pub(crate) struct CaFile {
    pub(crate) path: PathBuf,
    temp_dir: Option<PathBuf>,
}

impl CaFile {
    /// Writes `pem` to `out` (made absolute), or to `ca.pem` in a fresh
    /// directory under the system's temporary directory.
    pub(crate) fn write(pem: &str, out: Option<&Path>) -> io::Result<CaFile> {
        let ca_file = match out {
            Some(path) => CaFile {
                path: std::path::absolute(path)?,
                temp_dir: None,
            },
            None => {
                let dir = std::env::temp_dir().join(format!(
                    "graph-emulator-{}-{}",
                    std::process::id(),
                    uuid::Uuid::new_v4().simple()
                ));
                std::fs::create_dir(&dir)?;
                let dir = std::path::absolute(dir)?;
                CaFile {
                    path: dir.join("ca.pem"),
                    temp_dir: Some(dir),
                }
            }
        };
        // On failure, dropping `ca_file` removes the directory made above.
        std::fs::write(&ca_file.path, pem).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "writing the CA certificate to {}: {e}",
                    ca_file.path.display()
                ),
            )
        })?;
        Ok(ca_file)
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
