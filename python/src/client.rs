//! `used_insight.Client`: a core `Client` behind a Python class.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::RwLock;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyList, PySequence, PyString, PyType};
use used_insight::{
    bindings, ApiVersion, ClientBuilder, Cloud, Error, Problem, RetryPolicy, UsedInsight,
};

use crate::convert::{self, type_name, Problems};
use crate::errors::{self, to_py_err};
use crate::pickling::MadeWith;
use crate::reader;

/// A Microsoft Graph client for creating usedInsights.
///
/// Safe to share between threads; the GIL is released while a request is
/// on the network. Use it as a context manager, or call close(), to drop
/// its connection pool.
///
/// The bearer token comes from token, token_provider (a callable called
/// before every attempt) or credential: one of this package's credentials
/// (ClientSecretCredential…) or any azure-core credential, whose tokens the
/// client keeps and renews; exactly one of them.
///
/// max_retries: how often a throttled (429) or unavailable (503, 504)
/// answer is retried. retry_delay: the first wait before such a retry when
/// Graph sends no Retry-After, in seconds (0 to 60), doubled for each
/// further retry, with jitter; a Retry-After is always honoured instead.
///
/// ca_file (a path or a sequence of paths) and ca_pem (PEM text) add roots
/// to those trusted for HTTPS: Mozilla's, or the system's store with
/// system_roots=True. proxy=None uses the environment's proxy as curl reads
/// it, False never a proxy, a str that http(s) proxy.
///
/// rate_limit: the limits the client keeps to, shared by its threads (see
/// RateLimit); by default Graph's for usedInsight, None for none.
#[pyclass(frozen, module = "used_insight", name = "Client")]
pub(crate) struct Client {
    /// `None` once closed. Calls clone the core client out (an `Arc`), so a
    /// close never waits for, or breaks, a request in flight.
    inner: RwLock<Option<used_insight::Client>>,
    /// The settings, read back through core's getters for `repr` (which
    /// never shows the token), also once closed.
    config: ClientBuilder,
    /// The arguments, for pickling (see `pickling`).
    made_with: MadeWith,
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (
        token=None,
        *,
        token_provider=None,
        credential=None,
        base_url=None,
        cloud=String::from("global"),
        api_version=String::from("v1.0"),
        timeout=60.0,
        max_retries=3,
        retry_delay=1.0,
        user_agent=None,
        ca_file=None,
        ca_pem=None,
        system_roots=false,
        proxy=None,
        rate_limit=crate::limits::LimitArg::GRAPH,
    ))]
    #[pyo3(
        text_signature = "(token=None, *, token_provider=None, credential=None, base_url=None, \
                          cloud='global', \
                          api_version='v1.0', timeout=60.0, max_retries=3, retry_delay=1.0, \
                          user_agent=None, \
                          ca_file=None, ca_pem=None, system_roots=False, proxy=None, \
                          rate_limit=...)"
    )]
    #[allow(clippy::too_many_arguments)] // the Python signature
    fn new(
        py: Python<'_>,
        token: Option<String>,
        token_provider: Option<Bound<'_, PyAny>>,
        credential: Option<Bound<'_, PyAny>>,
        base_url: Option<String>,
        cloud: String,
        api_version: String,
        timeout: f64,
        max_retries: i64,
        retry_delay: f64,
        user_agent: Option<String>,
        ca_file: Option<Bound<'_, PyAny>>,
        ca_pem: Option<String>,
        system_roots: bool,
        proxy: Option<Bound<'_, PyAny>>,
        rate_limit: crate::limits::LimitArg,
    ) -> PyResult<Self> {
        let made_with = made_with(
            py,
            [
                (
                    "token",
                    token.as_deref().map(|t| PyString::new(py, t).into_any()),
                ),
                ("token_provider", token_provider.clone()),
                ("credential", credential.clone()),
                (
                    "base_url",
                    base_url.as_deref().map(|u| PyString::new(py, u).into_any()),
                ),
                ("cloud", Some(PyString::new(py, &cloud).into_any())),
                (
                    "api_version",
                    Some(PyString::new(py, &api_version).into_any()),
                ),
                ("timeout", Some(timeout.into_pyobject(py)?.into_any())),
                (
                    "max_retries",
                    Some(max_retries.into_pyobject(py)?.into_any()),
                ),
                (
                    "retry_delay",
                    Some(retry_delay.into_pyobject(py)?.into_any()),
                ),
                (
                    "user_agent",
                    user_agent
                        .as_deref()
                        .map(|u| PyString::new(py, u).into_any()),
                ),
                ("ca_file", ca_file.clone()),
                (
                    "ca_pem",
                    ca_pem.as_deref().map(|p| PyString::new(py, p).into_any()),
                ),
                (
                    "system_roots",
                    Some(PyBool::new(py, system_roots).to_owned().into_any()),
                ),
                ("proxy", proxy.clone()),
                ("rate_limit", Some(crate::limits::to_py(py, rate_limit.0)?)),
            ],
        )?;
        let config = |message: String| errors::configuration_error(py, message);
        let cloud = Cloud::from_str(&cloud).map_err(|e| to_py_err(py, Error::InvalidConfig(e)))?;
        let api_version = ApiVersion::from_str(&api_version)
            .map_err(|e| to_py_err(py, Error::InvalidConfig(e)))?;
        // Converting is this layer's job; the rules (not zero…) are core's.
        let timeout_duration = Duration::try_from_secs_f64(timeout).ok().ok_or_else(|| {
            config(format!(
                "timeout must be a positive number of seconds, not {timeout}"
            ))
        })?;
        let max_retries = u32::try_from(max_retries)
            .map_err(|_| config(format!("max_retries must be 0 or more, not {max_retries}")))?;
        let retry_policy = bindings::retry_delay_seconds(
            &RetryPolicy::default().with_max_retries(max_retries),
            retry_delay,
        )
        .map_err(|e| config(e.message))?;

        let builder = used_insight::Client::builder()
            .cloud(cloud)
            .api_version(api_version)
            .timeout(timeout_duration)
            .retry_policy(retry_policy)
            .rate_limit(rate_limit.0);
        let mut builder =
            crate::credentials::with_token_source(py, builder, token, token_provider, credential)?;
        if let Some(url) = base_url {
            builder = builder.base_url(url);
        }
        if let Some(agent) = user_agent {
            builder = builder.user_agent(agent);
        }
        // Networks: only converted here; core reads the files, checks the
        // PEM and the proxy URL when building, and names what it refuses.
        if let Some(files) = ca_file {
            for path in root_files(&files)? {
                builder = builder.add_root_certificates_file(path);
            }
        }
        if let Some(pem) = ca_pem {
            builder = builder.add_root_certificates_pem(pem);
        }
        builder = builder.system_roots(system_roots);
        match proxy {
            None => {} // the environment's, core's default
            Some(proxy) => {
                if let Ok(url) = proxy.cast::<PyString>() {
                    let url = url.to_cow().map_err(|_| {
                        config(
                            "proxy is not valid Unicode text (it holds a lone surrogate)"
                                .to_owned(),
                        )
                    })?;
                    builder = builder.proxy(url.into_owned());
                } else if proxy.cast::<PyBool>().is_ok_and(|b| !b.is_true()) {
                    builder = builder.no_proxy();
                } else {
                    let found = match proxy.cast::<PyBool>() {
                        Ok(_) => "True".to_owned(),
                        Err(_) => type_name(&proxy),
                    };
                    return Err(PyTypeError::new_err(format!(
                        "proxy must be a proxy URL str, False (never a proxy) or None (the \
                         environment's), not {found}"
                    )));
                }
            }
        }
        let client = builder.clone().build().map_err(|e| to_py_err(py, e))?;
        crate::logging::install(py)?;
        Ok(Client {
            inner: RwLock::new(Some(client)),
            config: builder,
            made_with,
        })
    }

    /// Pickles by the arguments it was made with: the copy in the other
    /// process is a new client with the same settings (no connections, no
    /// cached token), open even if this one was closed. A token_provider
    /// or credential must itself be picklable; TypeError names it if not.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, pyo3::types::PyTuple>)> {
        slf.get().made_with.reduce(slf.as_any())
    }

    /// Create a usedInsight for a user (object id or user principal name)
    /// and return it as Graph stored it, with its new id.
    ///
    /// `insight` is a UsedInsight or a dict in Graph's camelCase wire shape.
    /// Everything is validated before a byte is sent: ValidationError lists
    /// every problem. Throttling (429) and unavailability (503, 504) are
    /// retried; a request whose answer was lost is never resent.
    ///
    /// Ctrl+C (or another signal handler that raises) stops the call within
    /// 0.2 s, whatever it waits for, and that exception is raised with
    /// attribute used_insight_result: the created UsedInsight if the answer
    /// came first, otherwise a Cancelled whose
    /// request_may_have_been_processed says whether Graph may create it.
    /// Cancelling the cancel token (from any thread) raises Cancelled, with
    /// the same attribute.
    #[pyo3(signature = (user_id, insight, *, cancel=None))]
    fn create<'py>(
        &self,
        py: Python<'py>,
        user_id: String,
        insight: &Bound<'py, PyAny>,
        cancel: Option<PyRef<'py, crate::cancel::PyCancelToken>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.core()?;
        let model = read_insight(insight, "insight", &user_id, Vec::new())?
            .map_err(|problems| errors::validation_error(py, problems))?;
        // Ctrl+C (any signal handler that raises) or the caller's token
        // stops the call: see `cancel`.
        let stop = crate::cancel::Interruptible::new(py, cancel.as_deref())?;
        let created = py.detach(|| client.create_with_cancel(&user_id, &model, stop.token()));
        report_logging_failure(py);
        let created = created
            .map_err(|e| to_py_err(py, e))
            .and_then(|created| convert::insight_to_py(py, &created, None));
        match stop.take() {
            Some(stop) => {
                let outcome = match &created {
                    Ok(created) => created.clone(),
                    Err(error) => error.value(py).clone().into_any(),
                };
                Err(crate::cancel::with_outcome(
                    py,
                    stop,
                    "used_insight_result",
                    &outcome,
                ))
            }
            None => created,
        }
    }

    /// Create many usedInsights, each a (user_id, insight) pair as create()
    /// takes them, in Graph JSON batches of up to 20. Returns one result per
    /// input, in input order: the created UsedInsight, or the exception
    /// create() would have raised for it (returned, not raised).
    ///
    /// Raises only for misuse, before anything is sent: TypeError when items
    /// is not iterable, an item is not a 2-tuple, a user id is not a str or
    /// an insight neither a UsedInsight nor a dict; ValueError when
    /// concurrency < 1; TypeError when progress is not callable.
    ///
    /// concurrency: batches in flight at once (keep it low: Graph throttles
    /// per user, app and tenant). Under the client's rate_limit a batch never
    /// puts more items in flight than it allows: below max_concurrent
    /// batches in flight, each holds max_concurrent items that Graph runs
    /// together; with concurrency >= max_concurrent, each is a dependsOn
    /// chain of up to 20, one item in flight at a time.
    ///
    /// progress(done, total) is called once per input as its result is
    /// known, with the GIL held, done counting up by one. If it raises an Exception, that goes to sys.unraisablehook, it is
    /// not called again, and the results are returned as usual; a
    /// KeyboardInterrupt or other BaseException stops the call as Ctrl+C
    /// does. The GIL is released for the whole network wait.
    ///
    /// Ctrl+C (or another signal handler that raises) stops the call within
    /// a fraction of a second: no batch is sent after it, the batch in
    /// flight is abandoned, and that exception is raised with attribute
    /// used_insight_results, one result per input as above. Inputs without
    /// a result get a Cancelled: request_may_have_been_processed is True
    /// for those of the abandoned batch, False for those never sent.
    #[pyo3(signature = (items, *, concurrency=1, progress=None, cancel=None))]
    fn create_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        concurrency: i64,
        progress: Option<Bound<'py, PyAny>>,
        cancel: Option<PyRef<'py, crate::cancel::PyCancelToken>>,
    ) -> PyResult<Bound<'py, PyList>> {
        crate::batch::create_many(
            py,
            || self.core(),
            items,
            concurrency,
            progress,
            cancel.as_deref(),
        )
    }

    /// Drop the connection pool. Later calls to create() and create_many()
    /// raise RuntimeError; requests already in flight finish normally.
    fn close(&self) {
        self.inner.write().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Whether close() was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (exc_type, exc_value, traceback))]
    fn __exit__(
        &self,
        exc_type: Option<&Bound<'_, PyType>>,
        exc_value: Option<&Bound<'_, PyAny>>,
        traceback: Option<&Bound<'_, PyAny>>,
    ) {
        let _ = (exc_type, exc_value, traceback);
        self.close();
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let quote = |s: &str| -> PyResult<String> {
            Ok(PyString::new(py, s).repr()?.to_cow()?.into_owned())
        };
        let c = &self.config;
        let credential = c.credential_kind().map_or("none", |kind| kind.as_str());
        let mut out = format!(
            "Client(base_url={}, api_version={}, credential={}, timeout={:?}, max_retries={}",
            quote(c.get_base_url())?,
            quote(c.get_api_version().as_str())?,
            quote(credential)?,
            c.get_timeout().as_secs_f64(),
            c.get_retry_policy().max_retries
        );
        let retry_delay = c.get_retry_policy().initial_delay;
        if retry_delay != RetryPolicy::default().initial_delay {
            out.push_str(&format!(", retry_delay={:?}", retry_delay.as_secs_f64()));
        }
        if let Some(agent) = c.get_user_agent() {
            out.push_str(&format!(", user_agent={}", quote(agent)?));
        }
        if c.get_system_roots() {
            out.push_str(", system_roots=True");
        }
        let extra_roots = c.get_extra_root_sources();
        if extra_roots > 0 {
            out.push_str(&format!(", extra_root_sources={extra_roots}"));
        }
        // Core's words: `environment` (the default, not shown), `none`
        // (shown as the argument that asks for it), or the proxy's
        // `scheme://host:port`, never its credentials.
        match c.get_proxy_shown().as_str() {
            "environment" => {}
            "none" => out.push_str(", proxy=False"),
            shown => out.push_str(&format!(", proxy={}", quote(shown)?)),
        }
        match c.get_rate_limit() {
            Some(limit) if limit == used_insight::RateLimit::GRAPH_INSIGHTS => {}
            Some(limit) => out.push_str(&format!(", rate_limit={}", crate::limits::shown(&limit))),
            None => out.push_str(", rate_limit=None"),
        }
        if self.closed() {
            out.push_str(", closed=True");
        }
        out.push(')');
        Ok(out)
    }
}

impl Client {
    fn core(&self) -> PyResult<used_insight::Client> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| PyRuntimeError::new_err("this Client is closed"))
    }
}

/// `ca_file` as paths: one `str` or `os.PathLike[str]`, or a sequence of
/// them (`os.fspath` converts each; core reads them when building).
fn root_files(value: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    let wrong = |found: &Bound<'_, PyAny>| {
        PyTypeError::new_err(format!(
            "ca_file must be a path (str or os.PathLike[str]) or a sequence of them, not {}",
            type_name(found)
        ))
    };
    let path = |item: &Bound<'_, PyAny>| -> PyResult<Option<PathBuf>> {
        if item.is_instance_of::<PyString>() || item.hasattr(intern!(item.py(), "__fspath__"))? {
            // os.fspath's own errors (bytes from __fspath__…) stand.
            return item.extract::<PathBuf>().map(Some);
        }
        Ok(None)
    };
    if let Some(one) = path(value)? {
        return Ok(vec![one]);
    }
    let is_bytes = value.is_instance_of::<PyBytes>() || value.is_instance_of::<PyByteArray>();
    match value.cast::<PySequence>() {
        Ok(many) if !is_bytes => many
            .try_iter()?
            .map(|item| {
                let item = item?;
                path(&item)?.ok_or_else(|| wrong(&item))
            })
            .collect(),
        _ => Err(wrong(value)),
    }
}

/// Reads `insight` — a `UsedInsight` or a mapping in Graph's wire shape —
/// into core's model with core's reader. When this layer (`found`, e.g. a
/// user id that is not valid text, then what it found inside the insight)
/// or core's reader found a problem, core validates the rest as well and
/// `Ok(Err(problems))` lists them all (user id, `found`, shape, Graph's
/// rules): nothing may be sent. Otherwise the model goes to core's create,
/// which validates it before sending. `Err` is a TypeError naming `what` when `insight` is neither,
/// or the failure of Python code run while reading it.
pub(crate) fn read_insight(
    insight: &Bound<'_, PyAny>,
    what: &str,
    user_id: &str,
    mut found: Vec<Problem>,
) -> PyResult<Result<UsedInsight, Problems>> {
    let Some(mut read) = reader::read_insight(insight)? else {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a UsedInsight or a dict in Graph's wire shape, not {}",
            type_name(insight)
        )));
    };
    found.extend(read.found());
    if found.is_empty() {
        // Core validates every create before sending it, with the same
        // checks in the same order: once is enough.
        return Ok(Ok(read.model));
    }
    // Something is wrong already: nothing will be sent, but core's verdict
    // on the rest is listed too, so every problem is reported at once.
    Ok(
        match bindings::validate_create(user_id, &read.model, found) {
            Ok(()) => Ok(read.model),
            Err(invalid) => Err(Problems::from(invalid.problems().to_vec())),
        },
    )
}

/// A logging handler or filter that raised while core logged leaves its
/// exception pending (the `log` facade cannot return it). The create's own
/// outcome stands; the logging failure goes to `sys.unraisablehook`, like
/// an exception in a `__del__`.
pub(crate) fn report_logging_failure(py: Python<'_>) {
    if let Some(error) = PyErr::take(py) {
        error.write_unraisable(py, None);
    }
}

/// `MadeWith` from the constructor's arguments (`None`: not given).
fn made_with<'py, const N: usize>(
    py: Python<'py>,
    arguments: [(&str, Option<Bound<'py, PyAny>>); N],
) -> PyResult<MadeWith> {
    MadeWith::new(py, &arguments)
}
