//! The credential setters of `used_insight_options`: a token from Microsoft
//! Entra ID got, cached and renewed by the library, so a C program never
//! writes OAuth. The setters only copy their arguments; the credential is
//! made by `used_insight_client_new` (which reads files and the
//! environment then and reports what is wrong, in core's words, as
//! `USED_INSIGHT_STATUS_INVALID_CONFIG`), so setters may come in any order.

use std::ffi::c_char;
use std::path::PathBuf;

use used_insight_core::credentials::{
    CertificateCredential, ClientSecretCredential, DefaultAzureCredential, EnvironmentCredential,
    ManagedIdentityCredential, Secret, WorkloadIdentityCredential,
};
use used_insight_core::{ClientBuilder, Error};

use crate::error::{used_insight_error, Failure};
use crate::options::used_insight_options;
use crate::status::used_insight_status;

/// A credential chosen with a `used_insight_options_set_*_credential`
/// setter, as given (secrets kept as core's `Secret`: wiped when dropped).
#[derive(Clone)]
pub(crate) enum CredentialChoice {
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: Secret,
    },
    CertificateFile {
        tenant_id: String,
        client_id: String,
        path: PathBuf,
    },
    CertificatePem {
        tenant_id: String,
        client_id: String,
        pem: Secret,
    },
    WorkloadIdentity {
        tenant_id: Option<String>,
        client_id: Option<String>,
        token_file: Option<PathBuf>,
    },
    ManagedIdentity {
        client_id: Option<String>,
    },
    Environment,
    Default,
}

impl CredentialChoice {
    /// The setter that chose it, for messages.
    fn setter(&self) -> &'static str {
        match self {
            Self::ClientSecret { .. } => "used_insight_options_set_client_secret_credential",
            Self::CertificateFile { .. } => "used_insight_options_set_certificate_credential_file",
            Self::CertificatePem { .. } => "used_insight_options_set_certificate_credential_pem",
            Self::WorkloadIdentity { .. } => {
                "used_insight_options_set_workload_identity_credential"
            }
            Self::ManagedIdentity { .. } => "used_insight_options_set_managed_identity_credential",
            Self::Environment => "used_insight_options_set_environment_credential",
            Self::Default => "used_insight_options_set_default_credential",
        }
    }

    /// Refuses an authority host for a credential that does not ask Entra
    /// ID itself.
    fn takes_no_authority(&self, authority: Option<&str>) -> Result<(), Failure> {
        match authority {
            Some(_) => Err(invalid_config(format!(
                "an authority host was set, but the credential of {} takes none \
                 (it reads AZURE_AUTHORITY_HOST, or asks the host's managed identity \
                 endpoint)",
                self.setter()
            ))),
            None => Ok(()),
        }
    }

    /// `builder` with the credential made by core, from the authority host
    /// if one was set (only the credentials that ask Entra ID themselves
    /// take one).
    fn apply(
        &self,
        builder: ClientBuilder,
        authority: Option<&str>,
    ) -> Result<ClientBuilder, Failure> {
        fn at<C>(
            credential: Result<C, Error>,
            authority: Option<&str>,
            with: fn(C, &str) -> Result<C, Error>,
        ) -> Result<C, Error> {
            match authority {
                Some(host) => with(credential?, host),
                None => credential,
            }
        }
        let builder = match self.clone() {
            Self::ClientSecret {
                tenant_id,
                client_id,
                secret,
            } => builder.credential(at(
                ClientSecretCredential::new(tenant_id, client_id, secret),
                authority,
                ClientSecretCredential::authority,
            )?),
            Self::CertificateFile {
                tenant_id,
                client_id,
                path,
            } => builder.credential(at(
                CertificateCredential::from_file(tenant_id, client_id, path),
                authority,
                CertificateCredential::authority,
            )?),
            Self::CertificatePem {
                tenant_id,
                client_id,
                pem,
            } => builder.credential(at(
                CertificateCredential::from_pem(tenant_id, client_id, pem.secret()),
                authority,
                CertificateCredential::authority,
            )?),
            Self::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => builder.credential(at(
                WorkloadIdentityCredential::from_env_or(
                    tenant_id.as_deref(),
                    client_id.as_deref(),
                    token_file.as_deref(),
                ),
                authority,
                WorkloadIdentityCredential::authority,
            )?),
            Self::ManagedIdentity { client_id } => {
                self.takes_no_authority(authority)?;
                let mut credential = ManagedIdentityCredential::new();
                if let Some(client_id) = client_id {
                    credential = credential.client_id(client_id);
                }
                builder.credential(credential)
            }
            Self::Environment => {
                self.takes_no_authority(authority)?;
                builder.credential(EnvironmentCredential::new())
            }
            Self::Default => {
                self.takes_no_authority(authority)?;
                builder.credential(DefaultAzureCredential::new())
            }
        };
        Ok(builder)
    }
}

fn invalid_config(message: String) -> Failure {
    used_insight_error::new(used_insight_status::InvalidConfig, message)
}

/// The builder a client is made from: the options' settings, with the
/// credential chosen (if any) made now.
pub(crate) fn client_builder(
    builder: ClientBuilder,
    credential: Option<&CredentialChoice>,
    authority: Option<&str>,
) -> Result<ClientBuilder, Failure> {
    match (credential, authority) {
        (Some(credential), authority) => credential.apply(builder, authority),
        (None, Some(_)) => Err(invalid_config(
            "an authority host was set, but no credential that takes one: set a client \
             secret, certificate or workload identity credential, or leave the authority host \
             out"
            .to_owned(),
        )),
        (None, None) => Ok(builder),
    }
}

/// Reads a string argument that may be NULL, and owns it.
///
/// # Safety
/// As `crate::ptr::try_opt_str`.
unsafe fn owned_opt(p: *const c_char, name: &str) -> Result<Option<String>, Failure> {
    // SAFETY: forwarded from the caller.
    Ok(unsafe { crate::ptr::try_opt_str(p, name) }?.map(str::to_owned))
}

/// Gets tokens for an app registration with a client secret (the OAuth
/// client credentials grant), replacing a token, token callback or other
/// credential set earlier. `tenant_id` is the directory's GUID or domain
/// (`contoso.onmicrosoft.com`); `client_id` the app's (client) id.
///
/// The client asks `https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token`
/// (its cloud's authority, or `used_insight_options_set_authority_host`)
/// for a token for its cloud's Graph (`https://graph.microsoft.com/.default`),
/// through its own roots, proxy, timeouts and retries; it keeps the token
/// until fewer than min(5 minutes, half its lifetime) remain, and renews it
/// with one request however many threads are waiting. Each client made from
/// these options has its own token.
///
/// The strings are copied (the secret into memory that is wiped when the
/// options and clients are freed; it is never logged or shown). An empty
/// id or secret, or a tenant id that is not one, is reported by
/// `used_insight_client_new` (`USED_INSIGHT_STATUS_INVALID_CONFIG`). When
/// Entra ID refuses (a wrong secret…), calls fail with
/// `USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED`, nothing sent to Graph; see
/// `used_insight_error_aadsts_code`.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` / `USED_INSIGHT_STATUS_INVALID_UTF8`
/// for a NULL or non-UTF-8 argument; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; the strings NULL or
/// NUL-terminated. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_client_secret_credential(
    options: *mut used_insight_options,
    tenant_id: *const c_char,
    client_id: *const c_char,
    client_secret: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.credential = Some(CredentialChoice::ClientSecret {
            tenant_id: try_str!(tenant_id).to_owned(),
            client_id: try_str!(client_id).to_owned(),
            secret: Secret::new(try_str!(client_secret)),
        }))
    }
}

/// Gets tokens for an app registration with a certificate, replacing a
/// token, token callback or other credential set earlier: each token
/// request carries an assertion signed with the certificate's private key
/// (RSASSA-PSS SHA-256), so the key never leaves the process.
///
/// `pem_path` names a PEM file holding the private key — PKCS#8
/// (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`), RSA, without
/// a password — and the certificate uploaded to the app registration, in
/// any order. The file is read by `used_insight_client_new`, which returns
/// `USED_INSIGHT_STATUS_INVALID_CONFIG` naming it if it cannot be read,
/// holds no RSA key or no certificate for it, or its key is
/// password-protected (the message gives the `openssl` command that removes
/// the password). Caching, renewal and errors as
/// `used_insight_options_set_client_secret_credential`.
///
/// The strings are copied. Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` /
/// `USED_INSIGHT_STATUS_INVALID_UTF8` for a NULL or non-UTF-8 argument; the
/// options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; the strings NULL or
/// NUL-terminated. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_certificate_credential_file(
    options: *mut used_insight_options,
    tenant_id: *const c_char,
    client_id: *const c_char,
    pem_path: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.credential = Some(CredentialChoice::CertificateFile {
            tenant_id: try_str!(tenant_id).to_owned(),
            client_id: try_str!(client_id).to_owned(),
            path: PathBuf::from(try_str!(pem_path)),
        }))
    }
}

/// As `used_insight_options_set_certificate_credential_file`, from the PEM
/// text itself (key and certificate). The text is copied into memory that
/// is wiped when the options and clients are freed; the caller may wipe
/// and free its own copy as soon as this returns. Checked by
/// `used_insight_client_new`.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` / `USED_INSIGHT_STATUS_INVALID_UTF8`
/// for a NULL or non-UTF-8 argument; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; the strings NULL or
/// NUL-terminated. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_certificate_credential_pem(
    options: *mut used_insight_options,
    tenant_id: *const c_char,
    client_id: *const c_char,
    pem: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.credential = Some(CredentialChoice::CertificatePem {
            tenant_id: try_str!(tenant_id).to_owned(),
            client_id: try_str!(client_id).to_owned(),
            pem: Secret::new(try_str!(pem)),
        }))
    }
}

/// Gets tokens for an app that trusts a federated identity (Kubernetes
/// workload identity), replacing a token, token callback or other
/// credential set earlier: the token in `token_file` is the assertion,
/// re-read for every token request so the platform's renewals are picked
/// up.
///
/// Each argument may be NULL: it is then read from `AZURE_TENANT_ID`,
/// `AZURE_CLIENT_ID` or `AZURE_FEDERATED_TOKEN_FILE` (as the AKS webhook
/// sets them), by `used_insight_client_new`, which also takes
/// `AZURE_AUTHORITY_HOST` as the authority unless
/// `used_insight_options_set_authority_host` set one, and returns
/// `USED_INSIGHT_STATUS_INVALID_CONFIG` naming what is missing or the file
/// that cannot be read.
///
/// The strings are copied. Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if
/// `options` is NULL, `USED_INSIGHT_STATUS_INVALID_UTF8` for a non-UTF-8
/// argument; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; the strings NULL or
/// NUL-terminated. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_workload_identity_credential(
    options: *mut used_insight_options,
    tenant_id: *const c_char,
    client_id: *const c_char,
    token_file: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.credential = Some(CredentialChoice::WorkloadIdentity {
            tenant_id: try_arg!(owned_opt, tenant_id),
            client_id: try_arg!(owned_opt, client_id),
            token_file: try_arg!(owned_opt, token_file).map(PathBuf::from),
        }))
    }
}

/// Gets tokens for the managed identity of the Azure host the program runs
/// on, replacing a token, token callback or other credential set earlier:
/// system-assigned when `client_id` is NULL, else the user-assigned identity
/// with that client id.
///
/// `used_insight_client_new` reads the environment: with `IDENTITY_ENDPOINT`
/// and `IDENTITY_HEADER` (App Service, Functions) that endpoint is asked;
/// otherwise the instance metadata service at `http://169.254.169.254`, or
/// at `AZURE_POD_IDENTITY_AUTHORITY_HOST` when set. These endpoints are
/// local to the machine and never reached through a proxy. An unusable
/// `IDENTITY_ENDPOINT` is `USED_INSIGHT_STATUS_INVALID_CONFIG`.
///
/// The string is copied. Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if
/// `options` is NULL, `USED_INSIGHT_STATUS_INVALID_UTF8` for a non-UTF-8
/// `client_id`; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `client_id` NULL or
/// NUL-terminated. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_managed_identity_credential(
    options: *mut used_insight_options,
    client_id: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.credential = Some(CredentialChoice::ManagedIdentity {
            client_id: try_arg!(owned_opt, client_id),
        }))
    }
}

/// Gets tokens for the app that the environment describes, as
/// azure-identity's `EnvironmentCredential`, replacing a token, token
/// callback or other credential set earlier: with `AZURE_TENANT_ID` and
/// `AZURE_CLIENT_ID`, the first of `AZURE_CLIENT_SECRET`,
/// `AZURE_CLIENT_CERTIFICATE_PATH` (a PEM file as
/// `used_insight_options_set_certificate_credential_file` takes;
/// `AZURE_CLIENT_CERTIFICATE_PASSWORD` is refused) and
/// `AZURE_FEDERATED_TOKEN_FILE`; `AZURE_AUTHORITY_HOST` as the authority.
///
/// The variables are read by `used_insight_client_new`, which returns
/// `USED_INSIGHT_STATUS_INVALID_CONFIG` naming those missing.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_environment_credential(
    options: *mut used_insight_options,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.credential = Some(CredentialChoice::Environment))
    }
}

/// Gets tokens from whichever credential works where the program runs, as
/// azure-identity's `DefaultAzureCredential`, replacing a token, token
/// callback or other credential set earlier: the environment (as
/// `used_insight_options_set_environment_credential`), then workload
/// identity (`AZURE_FEDERATED_TOKEN_FILE`), then the host's managed
/// identity (user-assigned when `AZURE_CLIENT_ID` is set). Links not
/// configured are skipped, as is a metadata service that does not answer
/// within a second; the link that gave a token is kept. When none works,
/// calls fail with `USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED`, the message
/// saying why each link failed.
///
/// The environment is read by `used_insight_client_new`.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` must be NULL or live options. Not thread-safe for the same
/// `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_default_credential(
    options: *mut used_insight_options,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.credential = Some(CredentialChoice::Default))
    }
}

/// Gets tokens from this Microsoft Entra ID authority instead of the
/// cloud's (`https://login.microsoftonline.com`; `login.microsoftonline.us`
/// for the US Government clouds; `login.chinacloudapi.cn` for China): a host
/// (`login.microsoftonline.us`) or a URL (`https://login.example.com`, or
/// `http://127.0.0.1:PORT` for a local stand-in; plain `http://` only to
/// loopback). Applies to the client secret, certificate and workload
/// identity credentials, whichever is set, before or after this call.
///
/// The string is copied and checked by `used_insight_client_new`
/// (`USED_INSIGHT_STATUS_INVALID_CONFIG`), which also refuses an authority
/// host with any other credential, token or token callback, rather than
/// ignore it.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` / `USED_INSIGHT_STATUS_INVALID_UTF8`
/// for a NULL or non-UTF-8 argument; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live options; `host_or_url` NULL or
/// NUL-terminated. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_options_set_authority_host(
    options: *mut used_insight_options,
    host_or_url: *const c_char,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.authority_host = Some(try_str!(host_or_url).to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;
    use std::ptr::{null, null_mut};

    use used_insight_core::CredentialKind;

    use super::*;
    use crate::options::{
        used_insight_options_free, used_insight_options_new, used_insight_options_set_token,
    };

    const OK: used_insight_status = used_insight_status::Ok;
    const NULL: used_insight_status = used_insight_status::NullParameter;
    const NOT_UTF8: &CStr = c"caf\xe9";

    /// Options freed when dropped.
    struct Options(*mut used_insight_options);

    impl Options {
        fn new() -> Self {
            Options(used_insight_options_new())
        }
        fn get(&self) -> &used_insight_options {
            // SAFETY: live until drop.
            unsafe { &*self.0 }
        }
        fn kind(&self) -> Option<CredentialKind> {
            self.get().client_builder().ok()?.credential_kind()
        }
        fn refusal(&self) -> String {
            match self.get().client_builder() {
                Err(failure) => {
                    assert_eq!(failure.status(), used_insight_status::InvalidConfig);
                    failure.message_str().to_owned()
                }
                Ok(_) => panic!("expected INVALID_CONFIG"),
            }
        }
    }

    impl Drop for Options {
        fn drop(&mut self) {
            // SAFETY: from used_insight_options_new, freed once.
            unsafe { used_insight_options_free(self.0) }
        }
    }

    #[test]
    fn null_and_non_utf8_arguments_leave_the_options_unchanged() {
        let o = Options::new();
        let (t, c, s) = (c"t".as_ptr(), c"c".as_ptr(), c"s".as_ptr());
        // SAFETY: NULL or live options; NULL or NUL-terminated strings.
        unsafe {
            assert_eq!(
                used_insight_options_set_client_secret_credential(null_mut(), t, c, s),
                NULL
            );
            assert_eq!(
                used_insight_options_set_client_secret_credential(o.0, t, c, null()),
                NULL
            );
            assert_eq!(
                used_insight_options_set_certificate_credential_file(o.0, null(), c, s),
                NULL
            );
            assert_eq!(
                used_insight_options_set_certificate_credential_pem(o.0, t, null(), s),
                NULL
            );
            assert_eq!(
                used_insight_options_set_certificate_credential_pem(o.0, t, c, NOT_UTF8.as_ptr()),
                used_insight_status::InvalidUtf8
            );
            assert_eq!(
                used_insight_options_set_workload_identity_credential(
                    null_mut(),
                    null(),
                    null(),
                    null()
                ),
                NULL
            );
            assert_eq!(
                used_insight_options_set_workload_identity_credential(
                    o.0,
                    NOT_UTF8.as_ptr(),
                    null(),
                    null()
                ),
                used_insight_status::InvalidUtf8
            );
            assert_eq!(
                used_insight_options_set_managed_identity_credential(null_mut(), null()),
                NULL
            );
            assert_eq!(
                used_insight_options_set_environment_credential(null_mut()),
                NULL
            );
            assert_eq!(
                used_insight_options_set_default_credential(null_mut()),
                NULL
            );
            assert_eq!(used_insight_options_set_authority_host(o.0, null()), NULL);
        }
        assert!(o.get().credential.is_none() && o.get().authority_host.is_none());
        // No credential yet: core's "no token" when the client is built.
        assert_eq!(o.kind(), None);
    }

    #[test]
    fn the_last_token_callback_or_credential_set_is_used() {
        let o = Options::new();
        // SAFETY: live options, NUL-terminated strings.
        unsafe {
            assert_eq!(used_insight_options_set_token(o.0, c"T".as_ptr()), OK);
            assert_eq!(
                used_insight_options_set_client_secret_credential(
                    o.0,
                    c"t".as_ptr(),
                    c"c".as_ptr(),
                    c"s".as_ptr()
                ),
                OK
            );
            assert_eq!(o.kind(), Some(CredentialKind::ClientSecret));
            assert_eq!(used_insight_options_set_token(o.0, c"T".as_ptr()), OK);
            assert_eq!(o.kind(), Some(CredentialKind::Token));
            assert_eq!(
                used_insight_options_set_managed_identity_credential(o.0, c"id".as_ptr()),
                OK
            );
            assert_eq!(o.kind(), Some(CredentialKind::ManagedIdentity));
            assert_eq!(used_insight_options_set_default_credential(o.0), OK);
            assert_eq!(o.kind(), Some(CredentialKind::Default));
            assert_eq!(
                used_insight_options_set_workload_identity_credential(
                    o.0,
                    c"t".as_ptr(),
                    c"c".as_ptr(),
                    c"/f".as_ptr()
                ),
                OK
            );
            // The token file is read when the client is built, not here.
            assert_eq!(o.kind(), Some(CredentialKind::WorkloadIdentity));
        }
    }

    #[test]
    fn core_refuses_what_is_wrong_when_the_client_is_made() {
        let o = Options::new();
        // SAFETY: live options, NUL-terminated strings.
        unsafe {
            used_insight_options_set_client_secret_credential(
                o.0,
                c"t".as_ptr(),
                c"c".as_ptr(),
                c"".as_ptr(),
            );
            assert!(o.refusal().contains("secret is empty"), "{}", o.refusal());
            used_insight_options_set_certificate_credential_file(
                o.0,
                c"t".as_ptr(),
                c"c".as_ptr(),
                c"/nonexistent/app.pem".as_ptr(),
            );
            assert!(
                o.refusal().contains("`/nonexistent/app.pem`"),
                "{}",
                o.refusal()
            );
            used_insight_options_set_certificate_credential_pem(
                o.0,
                c"t".as_ptr(),
                c"c".as_ptr(),
                c"no pem".as_ptr(),
            );
            assert!(
                o.refusal().contains("the PEM text given"),
                "{}",
                o.refusal()
            );
            used_insight_options_set_client_secret_credential(
                o.0,
                c"t".as_ptr(),
                c"c".as_ptr(),
                c"s".as_ptr(),
            );
            used_insight_options_set_authority_host(o.0, c"http://login.example".as_ptr());
            assert!(o.refusal().contains("only https"), "{}", o.refusal());
            used_insight_options_set_authority_host(o.0, c"login.microsoftonline.us".as_ptr());
            assert_eq!(o.kind(), Some(CredentialKind::ClientSecret));
        }
    }

    #[test]
    fn an_authority_host_without_a_credential_taking_one_is_refused() {
        let o = Options::new();
        // SAFETY: live options, NUL-terminated strings.
        unsafe {
            used_insight_options_set_authority_host(o.0, c"login.microsoftonline.us".as_ptr());
            assert!(
                o.refusal().contains("no credential that takes one"),
                "{}",
                o.refusal()
            );
            used_insight_options_set_token(o.0, c"T".as_ptr());
            assert!(o.refusal().contains("no credential that takes one"));
            used_insight_options_set_managed_identity_credential(o.0, null());
            assert!(
                o.refusal()
                    .contains("used_insight_options_set_managed_identity_credential takes none"),
                "{}",
                o.refusal()
            );
        }
    }
}
