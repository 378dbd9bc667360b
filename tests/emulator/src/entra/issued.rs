//! Access tokens the emulator issues: JWT-shaped (so clients that peek at the
//! claims find `tid`, `appid`, `aud`, `exp`), unique, and remembered with
//! their expiry, audience and owner so Graph routes can check them.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;

/// Who a token was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    /// An app, through the token endpoint.
    App { tenant: String, client_id: String },
    /// A managed identity, through `/msi/token` or the metadata endpoint.
    ManagedIdentity { client_id: String },
}

/// What the emulator remembers of a token it issued.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    #[allow(dead_code)] // kept for debugging and future checks (e.g. roles)
    pub(crate) owner: Owner,
    /// The resource: the scope without `/.default`, or the managed identity
    /// `resource`.
    pub(crate) audience: String,
    /// Unix seconds (fractional).
    pub(crate) not_before: f64,
    pub(crate) expires_at: f64,
}

/// Tenant claim of managed identity tokens.
pub(crate) const MANAGED_IDENTITY_TENANT: &str = "managed-identity-tenant";

/// Makes a new token string for an owner and audience, valid from `now` for
/// `lifetime_secs`.
pub(crate) fn mint(owner: &Owner, audience: &str, now: f64, lifetime_secs: u64) -> String {
    let (tenant, client_id) = match owner {
        Owner::App { tenant, client_id } => (tenant.as_str(), client_id.as_str()),
        Owner::ManagedIdentity { client_id } => (MANAGED_IDENTITY_TENANT, client_id.as_str()),
    };
    let iat = now.floor() as u64;
    let header = json!({ "typ": "JWT", "alg": "RS256", "kid": "graph-emulator" });
    let claims = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": iat,
        "nbf": iat,
        "exp": iat + lifetime_secs,
        "appid": client_id,
        "tid": tenant,
        "idtyp": "app",
        "uti": uuid::Uuid::new_v4().simple().to_string(),
        "ver": "1.0",
    });
    // Not a signature: nobody but the emulator checks these tokens, and it
    // looks them up. Random bytes keep the shape.
    let mut signature = Vec::with_capacity(64);
    for _ in 0..4 {
        signature.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// What a Graph route makes of a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BearerCheck {
    /// Issued here, unexpired, for Graph.
    Valid,
    /// Issued here, but expired (or not yet valid).
    Expired,
    /// Issued here for another resource.
    WrongAudience,
    /// Not issued by this emulator.
    Unknown,
}

/// Audiences Graph accepts: each cloud's Graph URL, Graph's app id, and the
/// emulator's own base URL (compared without a trailing `/`,
/// case-insensitively).
pub(crate) fn is_graph_audience(audience: &str, base_url: &str) -> bool {
    const GRAPH: [&str; 5] = [
        "https://graph.microsoft.com",
        "https://graph.microsoft.us",
        "https://dod-graph.microsoft.us",
        "https://microsoftgraph.chinacloudapi.cn",
        "00000003-0000-0000-c000-000000000000",
    ];
    let audience = audience.trim_end_matches('/');
    GRAPH
        .iter()
        .chain(std::iter::once(&base_url))
        .any(|g| g.eq_ignore_ascii_case(audience))
}

/// Looks a bearer token up among the issued ones.
pub(crate) fn check(issued: &HashMap<String, Issued>, token: &str, base_url: &str) -> BearerCheck {
    let Some(found) = issued.get(token) else {
        return BearerCheck::Unknown;
    };
    let now = super::unix_now();
    if now >= found.expires_at || now < found.not_before - 1.0 {
        BearerCheck::Expired
    } else if !is_graph_audience(&found.audience, base_url) {
        BearerCheck::WrongAudience
    } else {
        BearerCheck::Valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_jwt_shaped() {
        let owner = Owner::App {
            tenant: "t".into(),
            client_id: "c".into(),
        };
        let a = mint(&owner, "https://graph.microsoft.com", 1000.5, 60);
        let b = mint(&owner, "https://graph.microsoft.com", 1000.5, 60);
        assert_ne!(a, b);
        let parts: Vec<&str> = a.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["tid"], "t");
        assert_eq!(claims["appid"], "c");
        assert_eq!(claims["exp"], 1060);
    }

    #[test]
    fn graph_audiences() {
        let base = "http://127.0.0.1:1234";
        assert!(is_graph_audience("https://graph.microsoft.com/", base));
        assert!(is_graph_audience("https://GRAPH.microsoft.us", base));
        assert!(is_graph_audience("http://127.0.0.1:1234/", base));
        assert!(!is_graph_audience("https://management.azure.com", base));
        assert!(!is_graph_audience("https://graph.microsoft.com.evil", base));
    }
}
