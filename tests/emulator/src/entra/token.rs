//! `POST /{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`:
//! checks the form as Entra does, authenticates the app (secret,
//! certificate assertion or federated assertion) and issues an access token.

use hyper::body::Bytes;
use serde::Serialize;
use time::format_description::well_known::Iso8601;
use time::OffsetDateTime;

use super::assertion::{self, Failure};
use super::error::{set_token_headers, EntraError};
use super::issued::{self, Issued, Owner};
use super::params::Params;
use super::{unix_now, Entra, EntraReq, RegisteredApp};
use crate::body::Payload;
use crate::graph::{Ctx, Resp};

/// The only `client_assertion_type` Entra accepts.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Where the certificate errors send people, as Entra's messages do.
const CERT_DOCS: &str = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .";

/// The success body; a struct so the keys keep Entra's order.
#[derive(Serialize)]
struct TokenBody<'a> {
    token_type: &'static str,
    expires_in: u64,
    ext_expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_in: Option<u64>,
    access_token: &'a str,
}

/// The resource of a client-credentials scope: exactly one scope, ending in
/// `/.default`.
fn scope_resource(scope: &str) -> Result<String, EntraError> {
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let invalid = |extra: &str| {
        EntraError::new(
            400,
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.{extra}"
            ),
        )
    };
    match scopes.as_slice() {
        [one] => match one.strip_suffix("/.default") {
            Some(resource) if !resource.is_empty() => Ok(resource.to_owned()),
            _ => Err(invalid(
                " Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
            )),
        },
        _ => Err(invalid(
            " Client credential flows take exactly one scope, the resource's /.default.",
        )),
    }
}

/// The URLs an assertion's `aud` may name: the token URL as the client
/// addressed it (its `Host` header) and as the emulator announces it.
fn token_urls(entra: &Entra, req: &EntraReq<'_>) -> Vec<String> {
    let scheme = entra.base_url.split("://").next().unwrap_or("http");
    let mut urls = vec![format!("{}{}", entra.base_url, req.path)];
    if let Some(host) = req.header("host") {
        let url = format!("{scheme}://{host}{}", req.path);
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

fn iso(unix: f64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos((unix * 1e9) as i128)
        .ok()
        .and_then(|t| t.format(&Iso8601::DEFAULT).ok())
        .unwrap_or_default()
}

/// Entra's answer to a refused certificate assertion.
fn assertion_error(failure: Failure, client_id: &str, now: f64) -> EntraError {
    match failure {
        Failure::Malformed(detail) => EntraError::invalid_client(
            50027,
            format!("JWT token is invalid or malformed. [Reason - {detail}.]"),
        ),
        Failure::Algorithm(alg) => EntraError::invalid_client(
            50027,
            format!("JWT token is invalid or malformed. [Reason - unsupported signing algorithm '{alg}'; use PS256 (or RS256).]"),
        ),
        Failure::UnknownKey { thumbprint } => EntraError::invalid_client(
            700027,
            format!("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"),
        ),
        Failure::Signature => EntraError::invalid_client(
            700027,
            format!("Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.] {CERT_DOCS}"),
        ),
        Failure::Audience { presented } => EntraError::invalid_client(
            700023,
            format!("Client assertion audience claim does not match Realm issuer. [Reason - aud '{presented}' is not this token endpoint's URL.] {CERT_DOCS}"),
        ),
        Failure::ClientId => EntraError::invalid_client(
            700021,
            format!("Client assertion application identifier doesn't match 'client_id' parameter. {CERT_DOCS}"),
        ),
        Failure::TimeRange { nbf, exp, reason } => EntraError::invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. [Reason - {reason}.] {CERT_DOCS}",
                iso(now),
                iso(nbf.unwrap_or(0.0)),
                iso(exp)
            ),
        ),
    }
}

/// AADSTS70021, a federated assertion that matches no federated credential;
/// names the presented issuer, subject and audience when it is a JWT.
fn federated_mismatch(assertion: &str) -> EntraError {
    let claims = assertion::peek_claims(assertion).unwrap_or_default();
    let claim = |name: &str| match claims.get(name) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    EntraError::invalid_request(
        70021,
        format!(
            "No matching federated identity record found for presented assertion. Assertion Issuer: '{}'. Assertion Subject: '{}'. Assertion Audience: '{}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
            claim("iss"),
            claim("sub"),
            claim("aud")
        ),
    )
}

/// What a successful authentication leaves to record: an assertion id.
struct Authenticated {
    jti: Option<String>,
}

/// Checks the client's credential against the app registration.
fn authenticate(
    app: &RegisteredApp,
    form: &Params,
    token_urls: &[String],
    now: f64,
) -> Result<Authenticated, EntraError> {
    let client_id = &app.app.client_id;
    let secret = form.get("client_secret");
    let assertion = form.get("client_assertion");
    match (secret, assertion) {
        (Some(_), Some(_)) => Err(EntraError::invalid_request(
            9002313,
            "Invalid request. Request is malformed or invalid. [Reason - both client_secret and client_assertion were sent; send one.]",
        )),
        (None, None) => Err(EntraError::invalid_client(
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        )),
        (Some(secret), None) => {
            if app.app.secret.as_deref() == Some(secret) {
                Ok(Authenticated { jti: None })
            } else {
                Err(EntraError::invalid_client(
                    7000215,
                    format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
                ))
            }
        }
        (None, Some(assertion)) => {
            match form.get("client_assertion_type") {
                None => return Err(EntraError::missing_parameter("client_assertion_type")),
                Some(JWT_BEARER) => {}
                Some(other) => {
                    return Err(EntraError::invalid_request(
                        9002313,
                        format!("Invalid request. Request is malformed or invalid. [Reason - client_assertion_type '{other}' is not '{JWT_BEARER}'.]"),
                    ))
                }
            }
            if app.app.federated_assertion.as_deref() == Some(assertion) {
                return Ok(Authenticated { jti: None });
            }
            match &app.certificate {
                Some(certificate) => {
                    assertion::verify(assertion, certificate, client_id, token_urls, now)
                        .map(|accepted| Authenticated {
                            jti: Some(accepted.jti),
                        })
                        .map_err(|f| assertion_error(f, client_id, now))
                }
                None if app.app.federated_assertion.is_some() => {
                    Err(federated_mismatch(assertion))
                }
                None => Err(assertion_error(
                    Failure::UnknownKey {
                        thumbprint: assertion::peek_thumbprint(assertion).unwrap_or_default(),
                    },
                    client_id,
                    now,
                )),
            }
        }
    }
}

/// Answers a token request for `tenant` (as it appears in the path).
pub(crate) fn handle(
    ctx: &Ctx<'_>,
    entra: &Entra,
    tenant: &str,
    req: &EntraReq<'_>,
) -> Result<Resp, EntraError> {
    if req.method != "POST" {
        return Err(EntraError::invalid_request(
            900561,
            format!(
                "The endpoint only accepts POST, OPTIONS requests. Received a {} request.",
                req.method
            ),
        ));
    }
    let form = Params::form(req.header("content-type"), req.body);
    let urls = token_urls(entra, req);
    let now = unix_now();
    let mut registry = entra.registry();
    if !registry.tenant_exists(tenant) {
        return Err(EntraError::invalid_request(
            90002,
            format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
        ));
    }
    let grant_type = form.require("grant_type")?;
    if grant_type != "client_credentials" {
        return Err(EntraError::new(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    let client_id = form.require("client_id")?;
    let audience = scope_resource(form.require("scope")?)?;
    let Some(app) = registry.app(tenant, client_id) else {
        return Err(EntraError::new(
            400,
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."),
        ));
    };
    let authenticated = authenticate(app, &form, &urls, now)?;
    let owner = Owner::App {
        tenant: app.app.tenant.clone(),
        client_id: app.app.client_id.clone(),
    };
    if let Some(jti) = authenticated.jti {
        let key = (app.app.client_id.to_ascii_lowercase(), jti);
        if registry.used_jtis.contains(&key) {
            return Err(EntraError::invalid_client(
                50027,
                format!("JWT token is invalid or malformed. [Reason - the client assertion's jti '{}' was already used; make a new assertion (with a new jti) for each request.]", key.1),
            ));
        }
        registry.used_jtis.insert(key);
    }
    let lifetime = registry.token_lifetime.as_secs();
    let access_token = issued::mint(&owner, &audience, now, lifetime);
    registry.issued.insert(
        access_token.clone(),
        Issued {
            owner,
            audience,
            not_before: now.floor(),
            expires_at: now + lifetime as f64,
        },
    );
    drop(registry);
    let body = TokenBody {
        token_type: "Bearer",
        expires_in: lifetime,
        ext_expires_in: lifetime,
        // Entra tells clients to refresh early for long-lived tokens.
        refresh_in: (lifetime >= 7200).then_some(lifetime / 2),
        access_token: &access_token,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = Resp::new(200, Payload::Bytes(Bytes::from(bytes)));
    set_token_headers(&mut resp, &ctx.request_id);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(
            scope_resource("https://graph.microsoft.com/.default").unwrap(),
            "https://graph.microsoft.com"
        );
        for bad in [
            "User.Read",
            "/.default",
            "https://graph.microsoft.com/.default openid",
        ] {
            let e = scope_resource(bad).unwrap_err();
            assert_eq!(
                (e.status, e.error.as_str(), e.code),
                (400, "invalid_scope", 70011)
            );
        }
    }
}
