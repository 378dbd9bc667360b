//! Certificate client assertions: the JWT an app signs with its certificate's
//! private key to authenticate at the token endpoint. Checked as Entra checks
//! them: thumbprint, signature, audience, issuer/subject, time range, `jti`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::digest;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::{Map, Value};
use x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
use x509_parser::pem::Pem;

/// Clock skew allowed on `nbf` (seconds).
pub(crate) const SKEW_SECS: f64 = 60.0;
/// Longest assertion lifetime (`exp` − `nbf`) accepted, skew included (seconds).
pub(crate) const MAX_LIFETIME_SECS: f64 = 3600.0 + SKEW_SECS;

/// A registered certificate, parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    /// PKCS#1 `RSAPublicKey` DER, as ring wants it.
    public_key: Vec<u8>,
    /// base64url SHA-256 of the DER: what `x5t#S256` must be.
    x5t_s256: String,
    /// base64url SHA-1 of the DER: what a legacy `x5t` must be.
    x5t_sha1: String,
}

impl Certificate {
    /// Takes the first `CERTIFICATE` block of a PEM text (other blocks, e.g.
    /// the private key, are skipped); its key must be RSA.
    pub(crate) fn from_pem(pem: &str) -> Result<Certificate, String> {
        let mut blocks = 0;
        for block in Pem::iter_from_buffer(pem.as_bytes()) {
            let block = block.map_err(|e| format!("not valid PEM: {e}"))?;
            blocks += 1;
            if block.label != "CERTIFICATE" {
                continue;
            }
            let cert = block
                .parse_x509()
                .map_err(|e| format!("the CERTIFICATE block is not an X.509 certificate: {e}"))?;
            let spki = cert.public_key();
            if spki.algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
                return Err(format!(
                    "the certificate's key is not RSA (algorithm {})",
                    spki.algorithm.algorithm
                ));
            }
            return Ok(Certificate {
                public_key: spki.subject_public_key.data.to_vec(),
                x5t_s256: URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &block.contents)),
                x5t_sha1: URL_SAFE_NO_PAD.encode(digest::digest(
                    &digest::SHA1_FOR_LEGACY_USE_ONLY,
                    &block.contents,
                )),
            });
        }
        Err(if blocks == 0 {
            "no PEM block found (expected -----BEGIN CERTIFICATE-----)".into()
        } else {
            "no CERTIFICATE block among the PEM blocks".into()
        })
    }
}

/// Why an assertion was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// Not a JWT, or a claim missing or of the wrong type.
    Malformed(String),
    /// `alg` other than PS256 / RS256.
    Algorithm(String),
    /// The thumbprint names no registered certificate.
    UnknownKey { thumbprint: String },
    /// The signature does not verify with the certificate's key.
    Signature,
    /// `aud` is not the token URL.
    Audience { presented: String },
    /// `iss` or `sub` is not the client id.
    ClientId,
    /// Expired, not yet valid, or valid for too long.
    TimeRange {
        nbf: Option<f64>,
        exp: f64,
        reason: String,
    },
}

/// An assertion that passed every check but the replay one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Accepted {
    pub(crate) jti: String,
}

fn decode_part(part: &str, what: &str) -> Result<Vec<u8>, Failure> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Failure::Malformed(format!("the {what} is not unpadded base64url")))
}

fn decode_json(part: &str, what: &str) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice(&decode_part(part, what)?) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Failure::Malformed(format!(
            "the {what} is not a JSON object"
        ))),
    }
}

/// The claims of a JWT-shaped string, without any check (for messages).
pub(crate) fn peek_claims(jwt: &str) -> Option<Map<String, Value>> {
    let mut parts = jwt.split('.');
    let _header = parts.next()?;
    decode_json(parts.next()?, "payload").ok()
}

/// The thumbprint a JWT-shaped string's header names, if any (for messages).
pub(crate) fn peek_thumbprint(jwt: &str) -> Option<String> {
    let header = decode_json(jwt.split('.').next()?, "header").ok()?;
    ["x5t#S256", "x5t"]
        .iter()
        .find_map(|k| header.get(*k).and_then(Value::as_str).map(str::to_owned))
}

/// Checks an assertion against the app's certificate, client id, the token
/// URLs the request may have meant (`aud`) and the current time.
pub(crate) fn verify(
    assertion: &str,
    certificate: &Certificate,
    client_id: &str,
    token_urls: &[String],
    now: f64,
) -> Result<Accepted, Failure> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(Failure::Malformed(format!(
            "a JWT has 3 dot-separated parts, this one has {}",
            parts.len()
        )));
    };
    let header = decode_json(header_b64, "header")?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let algorithm: &'static dyn VerificationAlgorithm = match alg {
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        other => return Err(Failure::Algorithm(other.to_owned())),
    };
    if let Some(typ) = header.get("typ") {
        if !typ.as_str().is_some_and(|t| t.eq_ignore_ascii_case("JWT")) {
            return Err(Failure::Malformed(format!(
                "header typ is {typ}, not \"JWT\""
            )));
        }
    }
    let thumbprint_ok = match (header.get("x5t#S256"), header.get("x5t")) {
        (Some(t), _) => t.as_str() == Some(certificate.x5t_s256.as_str()),
        (None, Some(t)) => t.as_str() == Some(certificate.x5t_sha1.as_str()),
        (None, None) => {
            return Err(Failure::Malformed(
                "the header has no x5t#S256 (base64url SHA-256 of the certificate)".into(),
            ))
        }
    };
    if !thumbprint_ok {
        return Err(Failure::UnknownKey {
            thumbprint: peek_thumbprint(assertion).unwrap_or_default(),
        });
    }
    let signature = decode_part(signature_b64, "signature")?;
    let signed = &assertion[..header_b64.len() + 1 + payload_b64.len()];
    UnparsedPublicKey::new(algorithm, &certificate.public_key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| Failure::Signature)?;

    let claims = decode_json(payload_b64, "payload")?;
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => a.clone(),
        Some(Value::Array(items)) if items.len() == 1 && items[0].is_string() => {
            items[0].as_str().unwrap_or_default().to_owned()
        }
        _ => return Err(Failure::Malformed("the aud claim is missing".into())),
    };
    if !token_urls.contains(&aud) {
        return Err(Failure::Audience { presented: aud });
    }
    for claim in ["iss", "sub"] {
        match claims.get(claim).and_then(Value::as_str) {
            Some(v) if v.eq_ignore_ascii_case(client_id) => {}
            _ => return Err(Failure::ClientId),
        }
    }
    let number = |name: &str| -> Result<Option<f64>, Failure> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| Failure::Malformed(format!("the {name} claim is not a number"))),
        }
    };
    let exp =
        number("exp")?.ok_or_else(|| Failure::Malformed("the exp claim is missing".into()))?;
    let nbf = number("nbf")?;
    let start = nbf.or(number("iat")?).unwrap_or(now);
    let time_range = |reason: &str| Failure::TimeRange {
        nbf,
        exp,
        reason: reason.to_owned(),
    };
    if exp <= now {
        return Err(time_range("the assertion has expired"));
    }
    if nbf.is_some_and(|nbf| nbf > now + SKEW_SECS) {
        return Err(time_range(
            "the assertion is not valid yet (nbf is in the future)",
        ));
    }
    if exp - start > MAX_LIFETIME_SECS {
        return Err(time_range(
            "the assertion is valid for more than an hour (exp - nbf); use about 10 minutes",
        ));
    }
    match claims.get("jti").and_then(Value::as_str) {
        Some(jti) if !jti.is_empty() => Ok(Accepted {
            jti: jti.to_owned(),
        }),
        _ => Err(Failure::Malformed("the jti claim is missing".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_parse_errors_say_what_is_wrong() {
        assert!(Certificate::from_pem("hello")
            .unwrap_err()
            .contains("no PEM block"));
        let key_only = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(Certificate::from_pem(key_only)
            .unwrap_err()
            .contains("no CERTIFICATE block"));
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(Certificate::from_pem(garbage)
            .unwrap_err()
            .contains("not an X.509 certificate"));
    }

    #[test]
    fn malformed_assertions() {
        let cert = Certificate {
            public_key: Vec::new(),
            x5t_s256: "x".into(),
            x5t_sha1: "y".into(),
        };
        let urls = ["http://h/t/oauth2/v2.0/token".to_owned()];
        let verify = |a: &str| verify(a, &cert, "c", &urls, 1000.0);
        assert!(
            matches!(verify("a.b"), Err(Failure::Malformed(m)) if m.contains("3 dot-separated"))
        );
        assert!(matches!(verify("!.b.c"), Err(Failure::Malformed(m)) if m.contains("header")));
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        assert_eq!(
            verify(&format!("{header}.e30.c")),
            Err(Failure::Algorithm("HS256".into()))
        );
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"PS256","typ":"JWT"}"#);
        assert!(
            matches!(verify(&format!("{header}.e30.c")), Err(Failure::Malformed(m)) if m.contains("x5t#S256"))
        );
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"PS256","x5t#S256":"z"}"#);
        assert_eq!(
            verify(&format!("{header}.e30.c")),
            Err(Failure::UnknownKey {
                thumbprint: "z".into()
            })
        );
    }
}
