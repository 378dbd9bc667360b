//! Microsoft Entra ID played locally: the v2.0 token endpoint for registered
//! apps (client secret, certificate assertion, federated assertion), the two
//! managed-identity endpoints (App Service and the VM metadata service), and
//! the bookkeeping of issued access tokens that Graph routes can require.
//!
//! Wire shapes follow the real services so credentials can be tested end to
//! end over loopback; see the crate README, "Entra ID and managed identity".

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::graph::{json_resp, Ctx, Resp};
use crate::Fault;

mod assertion;
mod error;
mod issued;
mod managed;
mod params;
mod token;

use error::EntraError;
pub(crate) use issued::BearerCheck;

/// Token lifetime when none is configured: what Entra usually grants (one
/// hour minus a second).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// Client id of the system-assigned managed identity, which exists whenever
/// [`crate::EmulatorConfig::managed_identity`] is set. Requests without a
/// `client_id` get a token for it.
pub const SYSTEM_ASSIGNED_CLIENT_ID: &str = "5a1e0000-5157-4e4d-a551-9ed000000000";

/// An application registered with the emulated Entra ID: a tenant, a client id
/// and one or more credentials the token endpoint accepts for it.
///
/// Registering an app whose tenant and client id (compared case-insensitively,
/// as Entra compares GUIDs) match an existing one replaces it.
///
/// ```
/// use graph_emulator::EntraApp;
///
/// let app = EntraApp {
///     tenant: "contoso-tenant".into(),
///     client_id: "11111111-2222-3333-4444-555555555555".into(),
///     secret: Some("s3cret".into()),
///     ..EntraApp::default()
/// };
/// assert!(app.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntraApp {
    /// Tenant id or name as it appears in the token URL
    /// (`/{tenant}/oauth2/v2.0/token`). A tenant exists as long as one app
    /// is registered in it.
    pub tenant: String,
    /// The application (client) id.
    pub client_id: String,
    /// Accept `client_secret` equal to this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Accept a JWT `client_assertion` signed with the key of this RSA
    /// certificate (PEM text; other PEM blocks, such as a private key, are
    /// ignored). See the README for the checks made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_pem: Option<String>,
    /// Accept a `client_assertion` equal to this string (workload identity:
    /// the federated token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated_assertion: Option<String>,
}

impl EntraApp {
    /// Checks the app can be registered: tenant and client id non-empty and
    /// free of `/`, whitespace and `:`; at least one credential; a
    /// certificate that parses and holds an RSA key.
    pub fn validate(&self) -> Result<(), String> {
        for (what, value) in [("tenant", &self.tenant), ("client_id", &self.client_id)] {
            if value.is_empty() {
                return Err(format!("{what} must not be empty"));
            }
            if value
                .chars()
                .any(|c| c == '/' || c == ':' || c.is_whitespace())
            {
                return Err(format!(
                    "{what} {value:?} must not contain '/', ':' or whitespace"
                ));
            }
        }
        if self.secret.is_none()
            && self.certificate_pem.is_none()
            && self.federated_assertion.is_none()
        {
            return Err(format!(
                "app {} has no credential: give a secret, a certificate_pem or a federated_assertion",
                self.client_id
            ));
        }
        if let Some(pem) = &self.certificate_pem {
            assertion::Certificate::from_pem(pem)
                .map_err(|e| format!("app {}: certificate_pem: {e}", self.client_id))?;
        }
        Ok(())
    }
}

/// Managed identity settings: the emulator then answers the App Service /
/// Functions endpoint (`GET /msi/token`) and the VM metadata endpoint
/// (`GET /metadata/identity/oauth2/token`).
///
/// ```
/// use graph_emulator::ManagedIdentity;
///
/// let mi = ManagedIdentity {
///     identity_header: "secret-header-value".into(),
///     client_ids: vec!["77777777-0000-0000-0000-000000000001".into()],
/// };
/// # let _ = mi;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedIdentity {
    /// The value App Service puts in `IDENTITY_HEADER`; requests to
    /// `/msi/token` must send it as `X-IDENTITY-HEADER`.
    pub identity_header: String,
    /// Client ids of the user-assigned identities. The system-assigned one
    /// ([`SYSTEM_ASSIGNED_CLIENT_ID`]) always exists.
    #[serde(default)]
    pub client_ids: Vec<String>,
}

/// What the emulator starts with; [`Entra::reset`] returns to it.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) apps: Vec<EntraApp>,
    pub(crate) token_lifetime: Duration,
    pub(crate) managed_identity: Option<ManagedIdentity>,
    pub(crate) require_issued_tokens: bool,
}

/// An app with its certificate parsed once.
struct RegisteredApp {
    app: EntraApp,
    certificate: Option<assertion::Certificate>,
}

/// Mutable Entra state.
struct Registry {
    apps: Vec<RegisteredApp>,
    token_lifetime: Duration,
    issued: HashMap<String, issued::Issued>,
    /// `client_id` (lowercase) and `jti` of every accepted certificate assertion.
    used_jtis: HashSet<(String, String)>,
}

impl Registry {
    fn new(setup: &Setup) -> Registry {
        let mut registry = Registry {
            apps: Vec::new(),
            token_lifetime: setup.token_lifetime,
            issued: HashMap::new(),
            used_jtis: HashSet::new(),
        };
        for app in &setup.apps {
            // Checked by `Emulator::start`.
            let _ = registry.register(app.clone());
        }
        registry
    }

    fn register(&mut self, app: EntraApp) -> Result<(), String> {
        app.validate()?;
        let certificate = match &app.certificate_pem {
            Some(pem) => Some(assertion::Certificate::from_pem(pem)?),
            None => None,
        };
        self.apps.retain(|r| {
            !(r.app.tenant.eq_ignore_ascii_case(&app.tenant)
                && r.app.client_id.eq_ignore_ascii_case(&app.client_id))
        });
        self.apps.push(RegisteredApp { app, certificate });
        Ok(())
    }

    fn tenant_exists(&self, tenant: &str) -> bool {
        self.apps
            .iter()
            .any(|r| r.app.tenant.eq_ignore_ascii_case(tenant))
    }

    fn app(&self, tenant: &str, client_id: &str) -> Option<&RegisteredApp> {
        self.apps.iter().find(|r| {
            r.app.tenant.eq_ignore_ascii_case(tenant)
                && r.app.client_id.eq_ignore_ascii_case(client_id)
        })
    }
}

/// The emulated Entra ID shared by the server tasks and the
/// [`crate::Emulator`] handle.
pub(crate) struct Entra {
    setup: Setup,
    base_url: String,
    registry: Mutex<Registry>,
}

impl Entra {
    pub(crate) fn new(setup: Setup, base_url: String) -> Entra {
        let registry = Mutex::new(Registry::new(&setup));
        Entra {
            setup,
            base_url,
            registry,
        }
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers (or replaces) an app.
    pub(crate) fn register(&self, app: EntraApp) -> Result<(), String> {
        self.registry().register(app)
    }

    /// Lifetime of the tokens issued from now on.
    pub(crate) fn set_token_lifetime(&self, lifetime: Duration) {
        self.registry().token_lifetime = lifetime;
    }

    /// Back to the start-up apps and token lifetime; issued tokens and used
    /// assertion ids are forgotten.
    pub(crate) fn reset(&self) {
        *self.registry() = Registry::new(&self.setup);
    }

    /// What a Graph route makes of this bearer token.
    pub(crate) fn check_bearer(&self, token: &str) -> BearerCheck {
        issued::check(&self.registry().issued, token, &self.base_url)
    }

    /// Whether Graph routes accept only tokens this emulator issued.
    pub(crate) fn require_issued_tokens(&self) -> bool {
        self.setup.require_issued_tokens
    }
}

/// The Entra endpoints, told apart by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `/{tenant}/oauth2/v2.0/token`
    Token { tenant: String },
    /// `/msi/token` (App Service, Functions)
    AppService,
    /// `/metadata/identity/oauth2/token` (VM metadata service)
    Imds,
}

/// Which Entra endpoint a raw path (without the query) is, if any.
pub(crate) fn route(path: &str) -> Option<Endpoint> {
    match path {
        "/msi/token" => return Some(Endpoint::AppService),
        "/metadata/identity/oauth2/token" => return Some(Endpoint::Imds),
        _ => {}
    }
    let segs: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    match segs.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] if !tenant.is_empty() => Some(Endpoint::Token {
            tenant: (*tenant).to_owned(),
        }),
        _ => None,
    }
}

/// Whether a raw path (query allowed) is one of the Entra endpoints.
pub(crate) fn is_entra_path(raw_path: &str) -> bool {
    let path = raw_path.split_once('?').map_or(raw_path, |(p, _)| p);
    route(path).is_some()
}

/// What the Entra handlers need from a request.
pub(crate) struct EntraReq<'a> {
    pub(crate) method: &'a str,
    /// Raw path without the query.
    pub(crate) path: &'a str,
    /// Raw query string, if any.
    pub(crate) query: Option<&'a str>,
    /// Headers with lowercase names.
    pub(crate) headers: &'a BTreeMap<String, String>,
    pub(crate) body: &'a [u8],
}

impl EntraReq<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Answers a request to an Entra endpoint.
pub(crate) fn handle(ctx: &Ctx<'_>, endpoint: &Endpoint, req: &EntraReq<'_>) -> Resp {
    let entra = &ctx.shared.entra;
    match endpoint {
        Endpoint::Token { tenant } => match token::handle(ctx, entra, tenant, req) {
            Ok(resp) => resp,
            Err(e) => e.into_resp(ctx),
        },
        Endpoint::AppService => managed::handle(entra, managed::Style::AppService, req),
        Endpoint::Imds => managed::handle(entra, managed::Style::Imds, req),
    }
}

/// The answer of a fault with this status on an Entra endpoint: an Entra
/// error for the token endpoint, a managed-identity error otherwise. `code`
/// replaces the OAuth `error` string, `message` the description.
pub(crate) fn fault_error(ctx: &Ctx<'_>, endpoint: &Endpoint, f: &Fault, status: u16) -> Resp {
    let error = f.code.clone().unwrap_or_else(|| {
        match status {
            400 => "invalid_request",
            401 => "invalid_client",
            429 | 503 | 504 => "temporarily_unavailable",
            _ => "server_error",
        }
        .to_owned()
    });
    let default_message = format!("Injected fault: the emulator was told to answer {status}.");
    let message = f.message.clone().unwrap_or(default_message);
    match endpoint {
        Endpoint::Token { .. } => {
            // AADSTS90033: "A transient error has occurred. Please try again."
            let code = if status == 429 || status >= 500 {
                90033
            } else {
                9002313
            };
            EntraError::new(status, "", code, message)
                .with_error(error)
                .into_resp(ctx)
        }
        Endpoint::AppService | Endpoint::Imds => managed::error(status, &error, &message),
    }
}

/// Settings changed through `POST /_emulator/entra/config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigChange {
    token_lifetime_secs: Option<u64>,
}

/// The `/_emulator/entra/*` control endpoints; `None` for other paths.
pub(crate) fn control(entra: &Entra, method: &str, path: &str, body: &[u8]) -> Option<Resp> {
    let bad = |message: String| json_resp(400, &json!({ "error": message }));
    let resp = match (method, path) {
        ("POST", "/_emulator/entra/apps") => {
            let apps: Vec<EntraApp> = match serde_json::from_slice::<Value>(body) {
                Ok(Value::Array(items)) => {
                    match items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            serde_json::from_value(v).map_err(|e| format!("app [{i}]: {e}"))
                        })
                        .collect::<Result<_, _>>()
                    {
                        Ok(apps) => apps,
                        Err(e) => return Some(bad(e)),
                    }
                }
                Ok(v @ Value::Object(_)) => match serde_json::from_value(v) {
                    Ok(app) => vec![app],
                    Err(e) => return Some(bad(format!("app: {e}"))),
                },
                Ok(_) => {
                    return Some(bad(
                        "expected an app object or an array of app objects".into()
                    ))
                }
                Err(e) => return Some(bad(format!("body is not valid JSON: {e}"))),
            };
            if let Some(e) = apps.iter().find_map(|a| a.validate().err()) {
                return Some(bad(e));
            }
            let n = apps.len();
            for app in apps {
                if let Err(e) = entra.register(app) {
                    return Some(bad(e));
                }
            }
            json_resp(200, &json!({ "registered": n }))
        }
        ("GET", "/_emulator/entra/apps") => {
            let apps: Vec<EntraApp> = entra
                .registry()
                .apps
                .iter()
                .map(|r| r.app.clone())
                .collect();
            json_resp(200, &json!({ "apps": apps }))
        }
        ("POST", "/_emulator/entra/config") => {
            let change: ConfigChange = match serde_json::from_slice(body) {
                Ok(c) => c,
                Err(e) => return Some(bad(format!("config: {e}"))),
            };
            if let Some(secs) = change.token_lifetime_secs {
                entra.set_token_lifetime(Duration::from_secs(secs));
            }
            config_json(entra)
        }
        ("GET", "/_emulator/entra/config") => config_json(entra),
        (_, "/_emulator/entra/apps" | "/_emulator/entra/config") => json_resp(
            405,
            &json!({ "error": format!("method {method} not allowed on {path}") }),
        ),
        _ => return None,
    };
    Some(resp)
}

fn config_json(entra: &Entra) -> Resp {
    let lifetime = entra.registry().token_lifetime.as_secs();
    json_resp(
        200,
        &json!({
            "token_lifetime_secs": lifetime,
            "require_issued_tokens": entra.setup.require_issued_tokens,
            "managed_identity": entra.setup.managed_identity,
        }),
    )
}

/// Seconds since the Unix epoch, now.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/contoso/oauth2/v2.0/token"),
            Some(Endpoint::Token {
                tenant: "contoso".into()
            })
        );
        assert_eq!(route("/msi/token"), Some(Endpoint::AppService));
        assert_eq!(
            route("/metadata/identity/oauth2/token"),
            Some(Endpoint::Imds)
        );
        assert_eq!(route("//oauth2/v2.0/token"), None);
        assert_eq!(route("/contoso/oauth2/token"), None);
        assert_eq!(route("/v1.0/users/x/insights/used"), None);
        assert!(is_entra_path("/t/oauth2/v2.0/token?x=1"));
        assert!(is_entra_path(
            "/msi/token?api-version=2019-08-01&resource=r"
        ));
        assert!(!is_entra_path("/v1.0/$batch"));
    }

    #[test]
    fn app_validation_names_the_problem() {
        let app = EntraApp {
            tenant: "t".into(),
            client_id: "c".into(),
            secret: Some("s".into()),
            ..EntraApp::default()
        };
        assert_eq!(app.validate(), Ok(()));
        let e = EntraApp {
            tenant: String::new(),
            ..app.clone()
        };
        assert!(e.validate().unwrap_err().contains("tenant"));
        let e = EntraApp {
            client_id: "a/b".into(),
            ..app.clone()
        };
        assert!(e.validate().unwrap_err().contains("client_id"));
        let e = EntraApp {
            secret: None,
            ..app.clone()
        };
        assert!(e.validate().unwrap_err().contains("no credential"));
        let e = EntraApp {
            certificate_pem: Some("not a pem".into()),
            ..app
        };
        assert!(e.validate().unwrap_err().contains("certificate_pem"));
    }
}
