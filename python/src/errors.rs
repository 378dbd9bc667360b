//! Core's `used_insight::Error` → the Python exceptions of
//! `used_insight._errors`: the one place where that mapping is made.

use pyo3::call::PyCallArgs;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};
use used_insight::Error;

use crate::convert::Problems;

/// `used_insight._errors`, imported on first use.
fn module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("used_insight._errors")?.unbind())
        })
        .map(|m| m.bind(py))
}

/// An instance of the named exception class, as a `PyErr` to raise. Should
/// building it fail, that failure is raised instead.
fn raise<'py>(
    py: Python<'py>,
    class: &str,
    args: impl PyCallArgs<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyErr {
    let built = module(py)
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call(args, kwargs));
    match built {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// `ValidationError` listing every problem as a (path, reason) tuple.
pub(crate) fn validation_error(py: Python<'_>, problems: Problems) -> PyErr {
    match PyList::new(py, problems.0) {
        Ok(list) => raise(py, "ValidationError", (list,), None),
        Err(e) => e,
    }
}

/// The exception for a core error.
///
/// | core                   | Python                                          |
/// |------------------------|-------------------------------------------------|
/// | `InvalidInput`         | `ValidationError` (also `ValueError`)           |
/// | `InvalidConfig`        | `ConfigurationError` (also `ValueError`)        |
/// | `Graph`                | `GraphApiError`                                 |
/// | `Transport`            | `TransportError` (also `ConnectionError`)       |
/// | `Timeout`              | `RequestTimeout` (also `TimeoutError`)          |
/// | `Decode`               | `InvalidResponseError`                          |
/// | `TokenProvider`        | `TokenProviderError`, the provider's exception as `__cause__`, Entra's answer as attributes |
/// | `Cancelled`            | `Cancelled`                                     |
/// | anything newer         | `UsedInsightError`                              |
pub(crate) fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    let text = err.to_string();
    let may_have_been_processed = err.request_may_have_been_processed();
    let built = (|| -> PyResult<PyErr> {
        let kw = PyDict::new(py);
        kw.set_item("client_request_id", err.client_request_id())?;
        kw.set_item("request_may_have_been_processed", may_have_been_processed)?;
        let exception = match err {
            Error::InvalidInput(errors) => {
                let problems = errors
                    .problems()
                    .iter()
                    .map(|p| (p.path.clone(), p.reason.clone()))
                    .collect();
                return Ok(validation_error(py, Problems(problems)));
            }
            Error::InvalidConfig(_) => raise(py, "ConfigurationError", (text,), None),
            Error::Graph(e) => {
                kw.set_item("status", e.status)?;
                kw.set_item("code", e.code)?;
                kw.set_item("message", e.message)?;
                kw.set_item("request_id", e.request_id)?;
                kw.set_item("date", e.date)?;
                kw.set_item("retry_after", e.retry_after.map(|d| d.as_secs_f64()))?;
                kw.set_item("body_snippet", e.body_snippet)?;
                kw.set_item("attempts", e.attempts)?;
                raise(py, "GraphApiError", (text,), Some(&kw))
            }
            Error::Transport(e) => {
                kw.set_item("kind", e.kind.as_str())?;
                raise(py, "TransportError", (text,), Some(&kw))
            }
            Error::Timeout(e) => {
                kw.set_item("phase", e.phase)?;
                raise(py, "RequestTimeout", (text,), Some(&kw))
            }
            Error::Decode(e) => {
                kw.set_item("status", e.status)?;
                kw.set_item("body_snippet", e.body_snippet)?;
                kw.set_item("request_id", e.request_id)?;
                raise(py, "InvalidResponseError", (text,), Some(&kw))
            }
            Error::TokenProvider(e) => {
                // What a credential was told by Entra ID (None otherwise).
                kw.set_item("credential", e.credential())?;
                kw.set_item("status", e.status())?;
                kw.set_item("error", e.error())?;
                kw.set_item("error_description", e.error_description())?;
                kw.set_item("aadsts_code", e.aadsts_code())?;
                kw.set_item("correlation_id", e.correlation_id())?;
                kw.set_item("trace_id", e.trace_id())?;
                let exception = raise(py, "TokenProviderError", (text,), Some(&kw));
                // The provider's own exception, when it raised one.
                if let Some(cause) = e.source.and_then(|s| s.downcast::<PyErr>().ok()) {
                    exception.set_cause(py, Some(*cause));
                }
                exception
            }
            Error::Cancelled(e) => {
                kw.set_item("phase", e.phase)?;
                raise(py, "Cancelled", (text,), Some(&kw))
            }
            _ => raise(py, "UsedInsightError", (text,), Some(&kw)),
        };
        Ok(exception)
    })();
    built.unwrap_or_else(|e| e)
}

/// `ConfigurationError` for a setting this layer checks itself (a Python
/// type or range); core's own checks arrive as `Error::InvalidConfig`.
pub(crate) fn configuration_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "ConfigurationError", (message,), None)
}

/// A failure of this layer itself (a bug), never of the input or Graph.
pub(crate) fn internal(message: impl Into<String>) -> PyErr {
    PyRuntimeError::new_err(message.into())
}
