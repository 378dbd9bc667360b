//! Managed identity endpoints: App Service / Functions (`GET /msi/token`,
//! `X-IDENTITY-HEADER`, api-version 2019-08-01) and the VM metadata service
//! (`GET /metadata/identity/oauth2/token`, `Metadata: true`). Both take a
//! `resource` (a URL, not a scope) and an optional user-assigned `client_id`.

use serde_json::{json, Value};

use super::issued::{self, Issued, Owner};
use super::params::Params;
use super::{unix_now, Entra, EntraReq, SYSTEM_ASSIGNED_CLIENT_ID};
use crate::graph::{json_resp, Resp};

/// Which managed identity endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// App Service / Functions: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`.
    AppService,
    /// The VM instance metadata service.
    Imds,
}

/// The api-version App Service's `X-IDENTITY-HEADER` protocol uses.
pub(crate) const APP_SERVICE_API_VERSION: &str = "2019-08-01";

/// A managed identity error: `{"error", "error_description"}`.
pub(crate) fn error(status: u16, error: &str, description: &str) -> Resp {
    json_resp(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

fn identity_not_found() -> Resp {
    error(400, "invalid_request", "Identity not found")
}

/// Selectors of a user-assigned identity other than `client_id`; the
/// emulator knows identities by client id only.
const OTHER_SELECTORS: [&str; 4] = ["object_id", "principal_id", "mi_res_id", "msi_res_id"];

/// Answers a managed identity token request.
pub(crate) fn handle(entra: &Entra, style: Style, req: &EntraReq<'_>) -> Resp {
    let Some(identity) = &entra.setup.managed_identity else {
        return identity_not_found();
    };
    if req.method != "GET" {
        let mut resp = error(
            405,
            "invalid_request",
            &format!("The method {} is not allowed; use GET.", req.method),
        );
        resp.set_header("Allow", "GET");
        return resp;
    }
    match style {
        Style::Imds => {
            // IMDS refuses anything that went through a proxy.
            if req.header("x-forwarded-for").is_some() {
                return error(
                    400,
                    "invalid_request",
                    "Request contains X-Forwarded-For header; the metadata service must be called directly, not through a proxy",
                );
            }
            if !req
                .header("metadata")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            {
                return error(
                    400,
                    "invalid_request",
                    "Required metadata header not specified",
                );
            }
        }
        Style::AppService => {
            if req.header("x-identity-header") != Some(identity.identity_header.as_str()) {
                return error(
                    401,
                    "unauthorized_client",
                    "The X-IDENTITY-HEADER request header is missing or does not match IDENTITY_HEADER.",
                );
            }
        }
    }
    let query = Params::parse(req.query.unwrap_or(""));
    let Some(api_version) = query.get("api-version") else {
        return error(
            400,
            "invalid_request",
            "Required query variable 'api-version' is missing",
        );
    };
    if style == Style::AppService && api_version != APP_SERVICE_API_VERSION {
        return error(
            400,
            "invalid_request",
            &format!("api-version '{api_version}' is not supported with X-IDENTITY-HEADER; use {APP_SERVICE_API_VERSION}"),
        );
    }
    let Some(resource) = query.get("resource") else {
        return error(
            400,
            "invalid_request",
            "Required audience parameter not specified",
        );
    };
    if !resource.contains("://")
        || resource.ends_with("/.default")
        || resource.chars().any(char::is_whitespace)
    {
        return error(
            400,
            "invalid_resource",
            &format!("AADSTS500011: The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant. [Reason - managed identity takes a resource URL such as https://graph.microsoft.com, not a scope.]", issued::MANAGED_IDENTITY_TENANT),
        );
    }
    if OTHER_SELECTORS.iter().any(|s| query.get(s).is_some()) {
        return identity_not_found();
    }
    let client_id = match query.get("client_id") {
        None => SYSTEM_ASSIGNED_CLIENT_ID.to_owned(),
        Some(id) => match identity
            .client_ids
            .iter()
            .find(|known| known.eq_ignore_ascii_case(id))
        {
            Some(known) => known.clone(),
            None => return identity_not_found(),
        },
    };

    let now = unix_now();
    let mut registry = entra.registry();
    let lifetime = registry.token_lifetime.as_secs();
    let owner = Owner::ManagedIdentity {
        client_id: client_id.clone(),
    };
    let access_token = issued::mint(&owner, resource, now, lifetime);
    registry.issued.insert(
        access_token.clone(),
        Issued {
            owner,
            audience: resource.to_owned(),
            not_before: now.floor(),
            expires_at: now + lifetime as f64,
        },
    );
    drop(registry);
    let not_before = now.floor() as u64;
    let expires_on = (not_before + lifetime).to_string();
    let body: Value = match style {
        Style::AppService => json!({
            "access_token": access_token,
            "expires_on": expires_on,
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id,
        }),
        Style::Imds => json!({
            "access_token": access_token,
            "client_id": client_id,
            "expires_in": lifetime.to_string(),
            "expires_on": expires_on,
            "ext_expires_in": lifetime.to_string(),
            "not_before": not_before.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
    };
    json_resp(200, &body)
}
