//! azure-identity's credential classes over core's credentials, and where a
//! `Client`'s token comes from: `token`, `token_provider`, or `credential` —
//! one of these classes or any object with azure-core's `get_token`.
//!
//! Every rule (which variables are read, what a tenant id is, the token
//! request, caching and renewal, Entra's errors) is core's; this module
//! converts Python arguments and answers, nothing more.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};
use pyo3::PyClass;
use used_insight::credentials::{self as core, AccessToken, TokenCredential};
use used_insight::{ClientBuilder, Error, TokenProviderError, TokenProviderResult};

use crate::convert::type_name;
use crate::errors::{self, to_py_err};
use crate::pickling::MadeWith;

/// `used_insight._credentials.AccessToken`, imported on first use.
fn access_token_class(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    CLASS.import(py, "used_insight._credentials", "AccessToken")
}

/// What every credential class holds: the core credential, shared with the
/// clients it is given to (each keeps its own token cache), and how it is
/// shown — never a secret.
#[pyclass(frozen, subclass, module = "used_insight", name = "_Credential")]
pub(crate) struct Credential {
    credential: Arc<dyn TokenCredential>,
    shown: String,
    /// The arguments, for pickling (see `pickling`).
    made_with: MadeWith,
}

impl Credential {
    fn new(credential: impl TokenCredential + 'static, shown: String, made_with: MadeWith) -> Self {
        Self {
            credential: Arc::new(credential),
            shown,
            made_with,
        }
    }

    /// The initializer of a class of credentials based on this one.
    fn with<S: PyClass<BaseType = Credential>>(self, class: S) -> PyClassInitializer<S> {
        PyClassInitializer::from(self).add_subclass(class)
    }
}

/// A constructor's text argument as `MadeWith` takes it.
fn text<'py>(py: Python<'py>, value: Option<&str>) -> Option<Bound<'py, PyAny>> {
    value.map(|v| PyString::new(py, v).into_any())
}

/// A constructor's path argument as `MadeWith` takes it.
fn path<'py>(py: Python<'py>, value: Option<&PathBuf>) -> PyResult<Option<Bound<'py, PyAny>>> {
    value
        .map(|p| Ok(p.into_pyobject(py)?.into_any()))
        .transpose()
}

#[pymethods]
impl Credential {
    /// Pickles by the arguments it was made with (the secret or key among
    /// them, as given); the copy has no token yet.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, pyo3::types::PyTuple>)> {
        slf.get().made_with.reduce(slf.as_any())
    }

    /// A token for these scopes (e.g. "https://graph.microsoft.com/.default"),
    /// kept and renewed by the credential as a Client does; the GIL is
    /// released while it is requested.
    ///
    /// Raises TokenProviderError when the token endpoint refuses or cannot
    /// be reached, ConfigurationError when no scope is given or the
    /// credential is not configured.
    #[pyo3(signature = (*scopes, claims=None, tenant_id=None, enable_cae=false, **kwargs))]
    fn get_token<'py>(
        &self,
        py: Python<'py>,
        scopes: &Bound<'py, PyTuple>,
        claims: Option<String>,
        tenant_id: Option<String>,
        enable_cae: bool,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // azure-core's other keywords are hints for its own pipeline; a
        // token from this credential is right whatever they say. (Not
        // asking for a CAE token is always allowed.)
        let _ = (enable_cae, kwargs);
        if claims.is_some_and(|c| !c.is_empty()) {
            return Err(errors::configuration_error(
                py,
                "claims= (a claims challenge) is not supported by this credential".into(),
            ));
        }
        if tenant_id.is_some() {
            return Err(errors::configuration_error(
                py,
                "tenant_id= is not supported: make a credential for that tenant".into(),
            ));
        }
        let scopes = scopes
            .iter()
            .map(|scope| {
                scope.extract::<String>().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "each scope must be a str, not {}",
                        type_name(&scope)
                    ))
                })
            })
            .collect::<PyResult<Vec<String>>>()?;
        let credential = Arc::clone(&self.credential);
        let token = py.detach(move || {
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            credential.get_token(&scopes)
        });
        crate::client::report_logging_failure(py);
        let token = token.map_err(|e| to_py_err(py, e))?;
        let expires_on = token
            .expires_on
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        access_token_class(py)?.call1((token.token.secret(), expires_on))
    }

    /// Nothing to release: token requests share the library's connection
    /// pool. Kept so that code written for azure-identity runs unchanged;
    /// the credential stays usable.
    fn close(&self) {}

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (exc_type, exc_value, traceback))]
    fn __exit__(
        &self,
        exc_type: Option<&Bound<'_, PyAny>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        traceback: Option<&Bound<'_, PyAny>>,
    ) {
        let _ = (exc_type, exc_value, traceback);
        self.close();
    }

    fn __repr__(&self) -> String {
        self.shown.clone()
    }
}

/// `name(arg=value, ...)` with each value as Python's `repr` shows it,
/// leaving out those not given.
fn shown(py: Python<'_>, name: &str, args: &[(&str, Option<&str>)]) -> PyResult<String> {
    let mut parts = Vec::new();
    for (arg, value) in args {
        if let Some(value) = value {
            let quoted = PyString::new(py, value).repr()?;
            parts.push(format!("{arg}={}", quoted.to_cow()?));
        }
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

/// Core's result as the constructor's: its `InvalidConfig` (a missing
/// variable, an unreadable file, a bad tenant id) is `ConfigurationError`.
fn made<T>(py: Python<'_>, result: Result<T, Error>) -> PyResult<T> {
    result.map_err(|e| to_py_err(py, e))
}

/// `ClientSecretCredential(tenant_id, client_id, client_secret, *, authority=None)`.
#[pyclass(frozen, extends = Credential, module = "used_insight", name = "ClientSecretCredential")]
pub(crate) struct ClientSecretCredential {}

#[pymethods]
impl ClientSecretCredential {
    #[new]
    #[pyo3(signature = (tenant_id, client_id, client_secret, *, authority=None))]
    fn new(
        py: Python<'_>,
        tenant_id: String,
        client_id: String,
        client_secret: String,
        authority: Option<String>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let shown = shown(
            py,
            "ClientSecretCredential",
            &[
                ("tenant_id", Some(&tenant_id)),
                ("client_id", Some(&client_id)),
                ("authority", authority.as_deref()),
            ],
        )?;
        let made_with = MadeWith::new(
            py,
            &[
                ("tenant_id", text(py, Some(&tenant_id))),
                ("client_id", text(py, Some(&client_id))),
                ("client_secret", text(py, Some(&client_secret))),
                ("authority", text(py, authority.as_deref())),
            ],
        )?;
        let mut credential = made(
            py,
            core::ClientSecretCredential::new(tenant_id, client_id, client_secret),
        )?;
        if let Some(authority) = authority {
            credential = made(py, credential.authority(&authority))?;
        }
        Ok(Credential::new(credential, shown, made_with).with(Self {}))
    }
}

/// `CertificateCredential(tenant_id, client_id, certificate_path=None, *,
/// certificate_data=None, password=None, authority=None)`.
#[pyclass(frozen, extends = Credential, module = "used_insight", name = "CertificateCredential")]
pub(crate) struct CertificateCredential {}

#[pymethods]
impl CertificateCredential {
    #[new]
    #[pyo3(signature = (
        tenant_id, client_id, certificate_path=None, *, certificate_data=None, password=None,
        authority=None,
    ))]
    fn new(
        py: Python<'_>,
        tenant_id: String,
        client_id: String,
        certificate_path: Option<PathBuf>,
        certificate_data: Option<&Bound<'_, PyAny>>,
        password: Option<&Bound<'_, PyAny>>,
        authority: Option<String>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let path_shown = certificate_path.as_ref().map(|p| p.display().to_string());
        let shown = shown(
            py,
            "CertificateCredential",
            &[
                ("tenant_id", Some(&tenant_id)),
                ("client_id", Some(&client_id)),
                ("certificate_path", path_shown.as_deref()),
                ("authority", authority.as_deref()),
            ],
        )?;
        let made_with = MadeWith::new(
            py,
            &[
                ("tenant_id", text(py, Some(&tenant_id))),
                ("client_id", text(py, Some(&client_id))),
                ("certificate_path", path(py, certificate_path.as_ref())?),
                ("certificate_data", certificate_data.cloned()),
                ("password", password.cloned()),
                ("authority", text(py, authority.as_deref())),
            ],
        )?;
        // Core reads and checks the PEM; an encrypted key is refused there,
        // with the command that removes its password.
        let mut credential = match (certificate_path, certificate_data) {
            (Some(path), None) => made(
                py,
                core::CertificateCredential::from_file(tenant_id, client_id, path),
            )?,
            (None, Some(data)) => {
                let data = data.cast::<PyBytes>().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "certificate_data must be bytes (PEM), not {}",
                        type_name(data)
                    ))
                })?;
                made(
                    py,
                    core::CertificateCredential::from_pem(tenant_id, client_id, data.as_bytes()),
                )?
            }
            (Some(_), Some(_)) => {
                return Err(errors::configuration_error(
                    py,
                    "give certificate_path or certificate_data, not both".into(),
                ))
            }
            (None, None) => {
                return Err(errors::configuration_error(
                    py,
                    "certificate_path or certificate_data is required".into(),
                ))
            }
        };
        // The key was read without a password, so it has none to remove;
        // the password given is never shown, never kept.
        if password.is_some_and(|p| !p.is_none()) {
            return Err(errors::configuration_error(
                py,
                "password was given, but the certificate's key is not password-protected \
                 (password-protected keys are not supported): leave password out"
                    .into(),
            ));
        }
        if let Some(authority) = authority {
            credential = made(py, credential.authority(&authority))?;
        }
        Ok(Credential::new(credential, shown, made_with).with(Self {}))
    }
}

/// `WorkloadIdentityCredential(*, tenant_id=None, client_id=None,
/// token_file_path=None, authority=None)`; what is not given is read from
/// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE` and
/// `AZURE_AUTHORITY_HOST`.
#[pyclass(frozen, extends = Credential, module = "used_insight", name = "WorkloadIdentityCredential")]
pub(crate) struct WorkloadIdentityCredential {}

#[pymethods]
impl WorkloadIdentityCredential {
    #[new]
    #[pyo3(signature = (*, tenant_id=None, client_id=None, token_file_path=None, authority=None))]
    fn new(
        py: Python<'_>,
        tenant_id: Option<String>,
        client_id: Option<String>,
        token_file_path: Option<PathBuf>,
        authority: Option<String>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let path_shown = token_file_path.as_ref().map(|p| p.display().to_string());
        let shown = shown(
            py,
            "WorkloadIdentityCredential",
            &[
                ("tenant_id", tenant_id.as_deref()),
                ("client_id", client_id.as_deref()),
                ("token_file_path", path_shown.as_deref()),
                ("authority", authority.as_deref()),
            ],
        )?;
        let made_with = MadeWith::new(
            py,
            &[
                ("tenant_id", text(py, tenant_id.as_deref())),
                ("client_id", text(py, client_id.as_deref())),
                ("token_file_path", path(py, token_file_path.as_ref())?),
                ("authority", text(py, authority.as_deref())),
            ],
        )?;
        let mut credential = made(
            py,
            core::WorkloadIdentityCredential::from_env_or(
                tenant_id.as_deref(),
                client_id.as_deref(),
                token_file_path.as_deref(),
            ),
        )?;
        if let Some(authority) = authority {
            credential = made(py, credential.authority(&authority))?;
        }
        Ok(Credential::new(credential, shown, made_with).with(Self {}))
    }
}

/// `ManagedIdentityCredential(*, client_id=None)`.
#[pyclass(frozen, extends = Credential, module = "used_insight", name = "ManagedIdentityCredential")]
pub(crate) struct ManagedIdentityCredential {}

#[pymethods]
impl ManagedIdentityCredential {
    #[new]
    #[pyo3(signature = (*, client_id=None))]
    fn new(py: Python<'_>, client_id: Option<String>) -> PyResult<PyClassInitializer<Self>> {
        let shown = shown(
            py,
            "ManagedIdentityCredential",
            &[("client_id", client_id.as_deref())],
        )?;
        let made_with = MadeWith::new(py, &[("client_id", text(py, client_id.as_deref()))])?;
        let mut credential = core::ManagedIdentityCredential::new();
        if let Some(client_id) = client_id {
            credential = credential.client_id(client_id);
        }
        Ok(Credential::new(credential, shown, made_with).with(Self {}))
    }
}

/// `EnvironmentCredential()`.
#[pyclass(frozen, extends = Credential, module = "used_insight", name = "EnvironmentCredential")]
pub(crate) struct EnvironmentCredential {}

#[pymethods]
impl EnvironmentCredential {
    #[new]
    fn new(py: Python<'_>) -> PyResult<PyClassInitializer<Self>> {
        let credential = core::EnvironmentCredential::new();
        let made_with = MadeWith::new(py, &[])?;
        Ok(Credential::new(credential, "EnvironmentCredential()".into(), made_with).with(Self {}))
    }
}

/// `DefaultAzureCredential()`.
#[pyclass(frozen, extends = Credential, module = "used_insight", name = "DefaultAzureCredential")]
pub(crate) struct DefaultAzureCredential {}

#[pymethods]
impl DefaultAzureCredential {
    #[new]
    fn new(py: Python<'_>) -> PyResult<PyClassInitializer<Self>> {
        let credential = core::DefaultAzureCredential::new();
        let made_with = MadeWith::new(py, &[])?;
        Ok(Credential::new(credential, "DefaultAzureCredential()".into(), made_with).with(Self {}))
    }
}

/// The builder with the token source given to `Client`: exactly one of
/// `token`, `token_provider` and `credential` (none: core says what is
/// missing when the client is built).
pub(crate) fn with_token_source(
    py: Python<'_>,
    builder: ClientBuilder,
    token: Option<String>,
    token_provider: Option<Bound<'_, PyAny>>,
    credential: Option<Bound<'_, PyAny>>,
) -> PyResult<ClientBuilder> {
    let given: Vec<&str> = [
        ("token", token.is_some()),
        ("token_provider", token_provider.is_some()),
        ("credential", credential.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| name)
    .collect();
    let too_many = match given.as_slice() {
        [a, b] => Some(format!("both {a} and {b}")),
        [_, _, _] => Some("all three".to_owned()),
        _ => None,
    };
    if let Some(too_many) = too_many {
        return Err(errors::configuration_error(
            py,
            format!("give one of token, token_provider and credential, not {too_many}"),
        ));
    }
    if let Some(token) = token {
        return Ok(builder.token(token));
    }
    if let Some(provider) = token_provider {
        if !provider.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "token_provider must be a callable returning a token str, not {}",
                type_name(&provider)
            )));
        }
        let provider = provider.unbind();
        return Ok(builder.token_provider(move || call_provider(&provider)));
    }
    let Some(credential) = credential else {
        return Ok(builder);
    };
    if let Ok(ours) = credential.cast::<Credential>() {
        return Ok(builder.credential(Arc::clone(&ours.get().credential)));
    }
    let has_get_token = credential
        .getattr_opt(intern!(py, "get_token"))?
        .is_some_and(|m| m.is_callable());
    if !has_get_token {
        return Err(PyTypeError::new_err(format!(
            "credential must be a credential of used_insight or azure-identity, or any object \
             with azure-core's get_token(*scopes), not {}",
            type_name(&credential)
        )));
    }
    Ok(builder.credential(ForeignCredential {
        object: credential.unbind(),
    }))
}

/// Calls a Python token provider from core (on the thread that called
/// `create`, which has released the GIL, so it is taken back here).
fn call_provider(provider: &Py<PyAny>) -> TokenProviderResult {
    Python::attach(|py| {
        let token = provider.bind(py).call0()?;
        match token.cast::<PyString>() {
            Ok(token) => Ok(token.to_cow()?.into_owned()),
            Err(_) => Err(PyTypeError::new_err(format!(
                "the token provider returned {}, not str",
                type_name(&token)
            ))),
        }
    })
    .map_err(|e: PyErr| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
}

/// An azure-core credential (azure-identity's, or any object with its
/// `get_token(*scopes)` returning something with `token` and `expires_on`)
/// as a core credential: the client caches and renews its tokens as it
/// does its own. Its exception stays the error's source, so Python sees it
/// as `TokenProviderError.__cause__`.
struct ForeignCredential {
    object: Py<PyAny>,
}

impl TokenCredential for ForeignCredential {
    fn get_token(&self, scopes: &[&str]) -> Result<AccessToken, Error> {
        // Called by core on a thread that released the GIL.
        Python::attach(|py| -> PyResult<AccessToken> {
            let answer = self
                .object
                .bind(py)
                .call_method1(intern!(py, "get_token"), PyTuple::new(py, scopes)?)?;
            read_access_token(&answer)
        })
        .map_err(|e| Error::TokenProvider(TokenProviderError::from_source(Box::new(e))))
    }
}

/// azure-core's `AccessToken` (or anything with its `token: str` and
/// `expires_on: int`, seconds since the epoch).
fn read_access_token(answer: &Bound<'_, PyAny>) -> PyResult<AccessToken> {
    let py = answer.py();
    let wrong = |what: &str| {
        PyTypeError::new_err(format!(
            "get_token returned {}, whose {what}; expected azure-core's AccessToken \
             (token: str, expires_on: int)",
            type_name(answer)
        ))
    };
    let token = answer
        .getattr_opt(intern!(py, "token"))?
        .ok_or_else(|| wrong("has no token"))?;
    let token = token
        .cast::<PyString>()
        .map_err(|_| wrong("token is not a str"))?
        .to_cow()?
        .into_owned();
    let expires_on = answer
        .getattr_opt(intern!(py, "expires_on"))?
        .ok_or_else(|| wrong("has no expires_on"))?;
    let expires_on: u64 = expires_on
        .extract::<i64>()
        .map_err(|_| wrong("expires_on is not an int"))?
        .try_into()
        .map_err(|_| PyValueError::new_err("get_token returned a negative expires_on"))?;
    let expires_on: SystemTime = UNIX_EPOCH
        .checked_add(Duration::from_secs(expires_on))
        .ok_or_else(|| PyValueError::new_err("get_token returned an expires_on out of range"))?;
    Ok(AccessToken::new(token, expires_on))
}
