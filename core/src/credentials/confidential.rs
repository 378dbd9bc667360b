//! The client credentials grant every app credential shares: an app
//! (tenant, client id, optional authority) posting
//! `grant_type=client_credentials` with its proof — a secret, a signed
//! assertion or a federated token — to `{authority}/{tenant}/oauth2/v2.0/token`.

use zeroize::Zeroizing;

use super::authority::{check_client_id, check_tenant, Authority};
use super::transport::TokenRequest;
use super::{form_encode, AccessToken, TokenRequestContext};
use crate::error::ConfigError;
use crate::Error;

/// `client_assertion_type` for a JWT assertion.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An app registration in a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntraApp {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    /// `None`: the client's cloud's authority.
    pub(crate) authority: Option<Authority>,
}

impl EntraApp {
    pub(crate) fn new(tenant_id: String, client_id: String) -> Result<Self, ConfigError> {
        check_tenant(&tenant_id, "the tenant id")?;
        check_client_id(&client_id, "the client id")?;
        Ok(Self {
            tenant_id,
            client_id,
            authority: None,
        })
    }

    /// Sets the authority from a host or URL.
    pub(crate) fn set_authority(&mut self, host_or_url: &str, source: &str) -> Result<(), Error> {
        self.authority = Some(Authority::parse(host_or_url, source).map_err(Error::InvalidConfig)?);
        Ok(())
    }

    /// The token URL: the app's authority, or the cloud's.
    pub(crate) fn token_url(&self, context: &TokenRequestContext) -> String {
        match &self.authority {
            Some(authority) => authority.token_url(&self.tenant_id),
            None => format!(
                "{}/{}/oauth2/v2.0/token",
                context.cloud.authority_host(),
                self.tenant_id
            ),
        }
    }

    /// Posts the grant with `proof` (the form fields proving who the app is).
    pub(crate) fn request(
        &self,
        credential: &'static str,
        token_url: String,
        scopes: &[&str],
        proof: &[(&str, &str)],
        context: &TokenRequestContext,
    ) -> Result<AccessToken, Error> {
        check_scopes(scopes)?;
        let scope = Zeroizing::new(scopes.join(" "));
        let mut fields: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("scope", &scope),
        ];
        fields.extend_from_slice(proof);
        context.transport.fetch(&TokenRequest {
            credential,
            form: Some(form_encode(&fields)),
            url: token_url,
            headers: Vec::new(),
            direct: false,
            also_retry: &[],
            probe: false,
        })
    }
}

/// At least one scope, none empty or with spaces (they separate scopes).
pub(crate) fn check_scopes(scopes: &[&str]) -> Result<(), Error> {
    if scopes.is_empty() {
        return Err(Error::InvalidConfig(ConfigError::new(
            "no scope: ask for at least one, e.g. https://graph.microsoft.com/.default",
        )));
    }
    if let Some(bad) = scopes
        .iter()
        .find(|s| s.is_empty() || s.chars().any(char::is_whitespace))
    {
        return Err(Error::InvalidConfig(ConfigError::new(format!(
            "scope `{bad}` is empty or holds spaces; give each scope separately"
        ))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cloud;

    #[test]
    fn the_authority_follows_the_client_s_cloud_unless_set() {
        let mut app = EntraApp::new("contoso.onmicrosoft.com".into(), "c".into()).unwrap();
        let mut context = TokenRequestContext::standalone();
        let expected = [
            (Cloud::Global, "https://login.microsoftonline.com"),
            (Cloud::UsGov, "https://login.microsoftonline.us"),
            (Cloud::UsGovDod, "https://login.microsoftonline.us"),
            (Cloud::China, "https://login.chinacloudapi.cn"),
        ];
        for (cloud, host) in expected {
            context.cloud = cloud;
            assert_eq!(
                app.token_url(&context),
                format!("{host}/contoso.onmicrosoft.com/oauth2/v2.0/token")
            );
        }
        app.set_authority("login.partner.microsoftonline.cn", "the authority")
            .unwrap();
        assert_eq!(
            app.token_url(&context),
            "https://login.partner.microsoftonline.cn/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
    }

    #[test]
    fn scopes_are_checked_before_anything_is_sent() {
        assert!(check_scopes(&["https://graph.microsoft.com/.default"]).is_ok());
        for bad in [&[][..], &[""], &["a b"]] {
            let err = check_scopes(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig(_)), "{bad:?}");
        }
    }
}
