//! Where tokens come from: an authority given as a host or a URL, checked
//! by core's one rule for targets (https, or plain http to loopback), and
//! the tenant and client ids that go into its URLs and forms.

use ureq::http::Uri;

use crate::endpoint::check_target;
use crate::error::ConfigError;

/// A checked authority root, e.g. `https://login.microsoftonline.com`,
/// without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authority(String);

impl Authority {
    /// `host_or_url` as azure-identity takes it: a host
    /// (`login.microsoftonline.us`, https assumed) or a URL
    /// (`https://login.microsoftonline.us/`, `http://127.0.0.1:8080`).
    /// `source` names the setting in errors.
    pub(crate) fn parse(host_or_url: &str, source: &str) -> Result<Self, ConfigError> {
        let text = host_or_url.trim();
        let url = if text.contains("://") {
            text.trim_end_matches('/').to_owned()
        } else {
            format!("https://{}", text.trim_end_matches('/'))
        };
        let uri: Uri = url.parse().map_err(|_| {
            ConfigError::new(format!("{source} `{host_or_url}` is not a host or URL"))
        })?;
        check_target(&uri)
            .map_err(|why| ConfigError::new(format!("{source} `{host_or_url}` {why}")))?;
        if uri.query().is_some() || url.contains('#') {
            return Err(ConfigError::new(format!(
                "{source} `{host_or_url}` must not have a query or fragment"
            )));
        }
        Ok(Self(url))
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub(crate) fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.0)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant id as azure-identity accepts it: a GUID, a domain name
/// (`contoso.onmicrosoft.com`) or `organizations`; letters, digits, `-`
/// and `.` only, since it becomes a path segment.
pub(crate) fn check_tenant(tenant: &str, source: &str) -> Result<(), ConfigError> {
    if tenant.is_empty() {
        return Err(ConfigError::new(format!("{source} is empty")));
    }
    if !tenant.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err(ConfigError::new(format!(
            "{source} `{tenant}` is not a tenant id or domain"
        )));
    }
    if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(ConfigError::new(format!(
            "{source} `{tenant}` may hold only letters, digits, `-` and `.`"
        )));
    }
    Ok(())
}

/// A client (application) id: anything but empty or blank.
pub(crate) fn check_client_id(client_id: &str, source: &str) -> Result<(), ConfigError> {
    if client_id.trim().is_empty() {
        return Err(ConfigError::new(format!("{source} is empty")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_urls_are_both_accepted() {
        let host = Authority::parse("login.microsoftonline.us", "authority").unwrap();
        assert_eq!(host.as_str(), "https://login.microsoftonline.us");
        let url = Authority::parse("https://login.microsoftonline.us/", "authority").unwrap();
        assert_eq!(url, host);
        let local = Authority::parse("http://127.0.0.1:8080/", "authority").unwrap();
        assert_eq!(
            local.token_url("contoso.onmicrosoft.com"),
            "http://127.0.0.1:8080/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let err = Authority::parse("http://login.example", "AZURE_AUTHORITY_HOST").unwrap_err();
        assert!(
            err.message
                .starts_with("AZURE_AUTHORITY_HOST `http://login.example`")
                && err.message.contains("only https"),
            "{err}"
        );
        for bad in ["ftp://x", "https://x?a=1", "https://x/#f", "http://", "a b"] {
            assert!(Authority::parse(bad, "authority").is_err(), "{bad}");
        }
    }

    #[test]
    fn tenants_are_path_safe() {
        for good in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "contoso.onmicrosoft.com",
        ] {
            check_tenant(good, "tenant id").unwrap();
        }
        for bad in ["", "..", "a/b", "a b", "..%2f", "x?y"] {
            assert!(check_tenant(bad, "tenant id").is_err(), "{bad:?}");
        }
        assert!(check_client_id("  ", "client id").is_err());
    }
}
