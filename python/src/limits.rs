//! `used_insight.RateLimit`: core's `RateLimit` as a frozen Python class,
//! and `Client`'s `rate_limit=` argument (a `RateLimit`, or `None` for off).
//! Converting only: the rules on the values are core's
//! (`bindings::rate_limit`), raised as `ConfigurationError` in its words.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert::type_name;
use crate::errors;

/// The limits a Client keeps to: at most max_concurrent requests in flight
/// and at most `requests` requests in any `per` seconds (a sliding window),
/// shared by every thread using the client; each create_many batch item
/// counts as one request. The default is Graph's published limit for
/// usedInsight: 4 in flight, 10,000 per 600 s.
///
/// Requests wait for a free slot (at most the client's timeout: a create
/// that gets none raises RequestTimeout and was not sent), and a 429 — or
/// any answer with Retry-After — pauses every request of the client until
/// Graph's wait has passed. Pass Client(rate_limit=None) to turn both off.
///
/// Raises ConfigurationError for a count below 1, a window that is not more
/// than zero or is longer than a day.
#[pyclass(frozen, eq, hash, module = "used_insight", name = "RateLimit")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct RateLimit {
    pub(crate) limit: used_insight::RateLimit,
}

#[pymethods]
impl RateLimit {
    #[new]
    #[pyo3(signature = (max_concurrent=4, requests=10_000, per=600.0))]
    #[pyo3(text_signature = "(max_concurrent=4, requests=10000, per=600.0)")]
    fn new(py: Python<'_>, max_concurrent: i128, requests: i128, per: f64) -> PyResult<Self> {
        used_insight::bindings::rate_limit(max_concurrent, requests, per)
            .map(|limit| RateLimit { limit })
            .map_err(|e| errors::configuration_error(py, e.message))
    }

    /// Requests in flight at once.
    #[getter]
    fn max_concurrent(&self) -> u32 {
        self.limit.max_concurrent
    }

    /// Requests in any window of `per` seconds.
    #[getter]
    fn requests(&self) -> u32 {
        self.limit.requests
    }

    /// The window, in seconds.
    #[getter]
    fn per(&self) -> f64 {
        self.limit.per.as_secs_f64()
    }

    fn __repr__(&self) -> String {
        shown(&self.limit)
    }

    /// Pickles by its three values.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (u32, u32, f64))> {
        let limit = slf.get().limit;
        Ok((
            slf.get_type().into_any(),
            (
                limit.max_concurrent,
                limit.requests,
                limit.per.as_secs_f64(),
            ),
        ))
    }
}

/// A core limit as the Python value `rate_limit=` takes: a `RateLimit`, or
/// `None` (off).
pub(crate) fn to_py(
    py: Python<'_>,
    limit: Option<used_insight::RateLimit>,
) -> PyResult<Bound<'_, PyAny>> {
    match limit {
        Some(limit) => Ok(Bound::new(py, RateLimit { limit })?.into_any()),
        None => Ok(py.None().into_bound(py)),
    }
}

/// `RateLimit(max_concurrent=4, requests=10000, per=600.0)`.
pub(crate) fn shown(limit: &used_insight::RateLimit) -> String {
    format!(
        "RateLimit(max_concurrent={}, requests={}, per={:?})",
        limit.max_concurrent,
        limit.requests,
        limit.per.as_secs_f64()
    )
}

/// `Client(rate_limit=...)`: a `RateLimit`, or `None` (off). Not given:
/// Graph's limits.
pub(crate) struct LimitArg(pub(crate) Option<used_insight::RateLimit>);

impl LimitArg {
    pub(crate) const GRAPH: LimitArg = LimitArg(Some(used_insight::RateLimit::GRAPH_INSIGHTS));
}

impl<'a, 'py> FromPyObject<'a, 'py> for LimitArg {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if value.is_none() {
            return Ok(LimitArg(None));
        }
        match value.cast::<RateLimit>() {
            Ok(limit) => Ok(LimitArg(Some(limit.get().limit))),
            Err(_) => Err(PyTypeError::new_err(format!(
                "rate_limit must be a RateLimit or None (no limit), not {}",
                type_name(&value.to_owned())
            ))),
        }
    }
}
