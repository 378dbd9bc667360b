//! An app certificate and the client assertion it signs: a JWT with header
//! `{"alg":"PS256","typ":"JWT","x5t#S256":…}` (base64url SHA-256 of the
//! certificate's DER) and claims `aud` (the token URL), `iss` = `sub` (the
//! client id), `jti` (a UUID), `nbf`, `iat` and `exp` (ten minutes on),
//! signed RSASSA-PSS with SHA-256 by ring. The key and certificate come
//! from PEM (PKCS#8 or PKCS#1 RSA key) read by rustls-pki-types.

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PSS_SHA256};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::Secret;
use crate::error::ConfigError;

/// How long an assertion is valid.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(10 * 60);

const NOT_RSA: &str =
    "holds a private key that is not RSA (EC?); certificate credentials need an RSA key";

/// An RSA key and the thumbprint of its certificate.
pub(crate) struct ClientCertificate {
    key: RsaKeyPair,
    /// base64url(SHA-256(certificate DER)), the header's `x5t#S256`.
    thumbprint: String,
}

impl ClientCertificate {
    /// Reads the private key and the certificate it belongs to from PEM;
    /// `source` names it in errors (a path, or "the PEM text given").
    pub(crate) fn from_pem(pem_bytes: &[u8], source: &str) -> Result<Self, ConfigError> {
        let refuse = |why: String| ConfigError::new(format!("{source} {why}"));
        if contains(pem_bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(refuse(
                "holds a password-protected key, which is not supported; export it without a \
                 password (openssl pkcs8 -in key.pem -out plain.pem)"
                    .to_owned(),
            ));
        }
        let key = match PrivateKeyDer::from_pem_slice(pem_bytes) {
            Ok(key) => key,
            Err(pem::Error::NoItemsFound) => {
                return Err(refuse(
                    "holds no private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN \
                     RSA PRIVATE KEY-----)"
                        .to_owned(),
                ))
            }
            Err(e) => return Err(refuse(format!("is not valid PEM: {e}"))),
        };
        let parsed = match &key {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err(refuse(NOT_RSA.to_owned())),
        };
        let key = parsed.map_err(|e| {
            if e.to_string() == "WrongAlgorithm" {
                refuse(NOT_RSA.to_owned())
            } else {
                refuse(format!(
                    "holds an RSA key that cannot sign ({e}; 2048 to 8192 bits are accepted)"
                ))
            }
        })?;
        let mut certificates = Vec::new();
        for item in CertificateDer::pem_slice_iter(pem_bytes) {
            certificates.push(item.map_err(|e| refuse(format!("is not valid PEM: {e}")))?);
        }
        if certificates.is_empty() {
            return Err(refuse(
                "holds no certificate (expected -----BEGIN CERTIFICATE----- beside the key)"
                    .to_owned(),
            ));
        }
        // The certificate whose subject public key is this key's: its
        // RSAPublicKey DER appears verbatim inside the certificate's
        // SubjectPublicKeyInfo, so no X.509 parser is needed to pick it
        // from a chain.
        let public = key.public().as_ref();
        let certificate = certificates
            .iter()
            .find(|cert| contains(cert.as_ref(), public))
            .ok_or_else(|| refuse("holds no certificate for its private key".to_owned()))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, certificate.as_ref());
        Ok(Self {
            key,
            thumbprint: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        })
    }

    /// A signed assertion for `audience` (the token URL), issued at `now`.
    pub(crate) fn assertion(
        &self,
        audience: &str,
        client_id: &str,
        now: SystemTime,
    ) -> Result<Secret, String> {
        let issued = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970".to_owned())?
            .as_secs();
        let header = serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.thumbprint});
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": issued,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME.as_secs(),
        });
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PSS_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing the client assertion failed".to_owned())?;
        let mut jwt = String::with_capacity(signed.len() + 1 + signature.len() * 4 / 3 + 4);
        jwt.push_str(&signed);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut jwt);
        Ok(Secret::new(jwt))
    }

    #[cfg(test)]
    pub(crate) fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    #[cfg(test)]
    pub(crate) fn public_key(&self) -> &[u8] {
        self.key.public().as_ref()
    }
}

impl std::fmt::Debug for ClientCertificate {
    /// The thumbprint only: it is public, the key is not.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, RSA_PSS_2048_8192_SHA256};

    const PKCS8: &str = include_str!("../../tests/certs/entra-test-app.pem");
    const PKCS1: &str = include_str!("../../tests/certs/entra-test-app-pkcs1.pem");

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn the_assertion_is_a_ps256_jwt_entra_accepts() {
        let cert = ClientCertificate::from_pem(PKCS8.as_bytes(), "test").unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let url = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
        let jwt = cert.assertion(url, "client-1", now).unwrap();
        let parts: Vec<&str> = jwt.secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["typ"], "JWT");
        // The thumbprint is of the certificate's DER, as openssl computes it.
        let der = CertificateDer::pem_slice_iter(PKCS8.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        let expected = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &der));
        assert_eq!(header["x5t#S256"], expected.as_str());
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], url);
        assert_eq!(
            (claims["iss"].as_str(), claims["sub"].as_str()),
            (Some("client-1"), Some("client-1"))
        );
        assert_eq!(claims["nbf"], 1_800_000_000u64);
        assert_eq!(claims["iat"], 1_800_000_000u64);
        assert_eq!(claims["exp"], 1_800_000_600u64);
        assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, cert.public_key());
        let signed = format!("{}.{}", parts[0], parts[1]);
        public
            .verify(signed.as_bytes(), &signature)
            .expect("the signature verifies");
        // Each assertion is new.
        let again = cert.assertion(url, "client-1", now).unwrap();
        assert_ne!(
            decode(again.secret().split('.').nth(1).unwrap())["jti"],
            claims["jti"]
        );
    }

    #[test]
    fn pkcs1_keys_and_certificates_in_either_order_read_the_same() {
        let a = ClientCertificate::from_pem(PKCS8.as_bytes(), "a").unwrap();
        let b = ClientCertificate::from_pem(PKCS1.as_bytes(), "b").unwrap();
        assert_eq!(a.thumbprint(), b.thumbprint());
    }

    /// The PEM blocks of `pem` whose BEGIN line contains `label`.
    fn blocks(pem: &str, label: &str) -> String {
        let mut out = String::new();
        let mut keep = false;
        for line in pem.lines() {
            if line.starts_with("-----BEGIN ") {
                keep = line.contains(label);
            }
            if keep {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn unusable_pem_is_refused_saying_why() {
        let other = include_str!("../../tests/certs/entra-test-other-app.pem");
        let mismatched = blocks(PKCS8, "PRIVATE KEY") + &blocks(other, "CERTIFICATE");
        let cases = [
            (
                include_str!("../../tests/certs/ec-test-app.pem"),
                "is not RSA",
            ),
            (mismatched.as_str(), "no certificate for its private key"),
            (
                include_str!("../../tests/certs/entra-test-app-encrypted.pem"),
                "password-protected",
            ),
            (
                include_str!("../../tests/certs/two_roots.pem"),
                "holds no private key",
            ),
        ];
        for (pem, expected) in cases {
            let err = ClientCertificate::from_pem(pem.as_bytes(), "`app.pem`").unwrap_err();
            assert!(
                err.message.starts_with("`app.pem` ") && err.message.contains(expected),
                "{err}"
            );
        }
        let key_only = blocks(PKCS8, "PRIVATE KEY");
        let err = ClientCertificate::from_pem(key_only.as_bytes(), "k").unwrap_err();
        assert!(err.message.contains("holds no certificate"), "{err}");
    }
}
