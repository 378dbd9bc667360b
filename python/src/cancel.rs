//! Ctrl+C during a call: the GIL is released while core waits, so Python
//! cannot run its signal handlers; core's `CancelToken` check runs them
//! instead (at most every 20 ms, between the slices of core's waits, on the
//! calling thread). A handler that raises — `KeyboardInterrupt` from
//! Ctrl+C, `SystemExit` from a SIGTERM handler calling `sys.exit` — cancels
//! the call, which returns within a slice, and its exception is raised
//! once the call has returned. Handlers that do not raise just run, on
//! time.
//!
//! Python runs signal handlers only on its main thread, so a call made from
//! another thread gets a token without a check: nothing to run there, and
//! no GIL taken every 20 ms. Its token still serves `create_many`'s
//! progress callback, whose `KeyboardInterrupt` stops the call the same
//! way.

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use used_insight::CancelToken;

/// A call's cancel token and the exception that cancelled it.
pub(crate) struct Interruptible {
    token: CancelToken,
    raised: Arc<Mutex<Option<PyErr>>>,
}

impl Interruptible {
    /// A token for a call starting on this thread (which holds the GIL),
    /// also cancelled when the caller's `cancel` token is.
    pub(crate) fn new(py: Python<'_>, cancel: Option<&PyCancelToken>) -> PyResult<Self> {
        let raised: Arc<Mutex<Option<PyErr>>> = Arc::default();
        let given = cancel.map(|c| c.token.clone());
        // The caller's token is looked at by the check, at most every
        // slice; one cancelled already stops the call before it starts.
        let cancelled_already = given.as_ref().is_some_and(CancelToken::is_cancelled);
        let token = match (on_main_thread(py)?, given) {
            (true, given) => {
                let caller = std::thread::current().id();
                let slot = raised.clone();
                CancelToken::with_check(move || {
                    given.as_ref().is_some_and(CancelToken::is_cancelled)
                        || run_signal_handlers(caller, &slot)
                })
            }
            (false, Some(given)) => CancelToken::with_check(move || given.is_cancelled()),
            (false, None) => CancelToken::new(),
        };
        if cancelled_already {
            token.cancel();
        }
        Ok(Self { token, raised })
    }

    pub(crate) fn token(&self) -> &CancelToken {
        &self.token
    }

    /// Stops the call because of `error` (a `BaseException` a callback
    /// raised), to be raised when it returns; the first one wins.
    pub(crate) fn interrupt(&self, error: PyErr) {
        store(&self.raised, error);
        self.token.cancel();
    }

    /// The exception that stopped the call, if one did.
    pub(crate) fn take(self) -> Option<PyErr> {
        self.raised.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

fn store(slot: &Mutex<Option<PyErr>>, error: PyErr) {
    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
    if slot.is_none() {
        *slot = Some(error);
    }
}

/// The token's check: on the thread that made the call, takes the GIL and
/// runs the pending signal handlers; `true` (cancel) when one raised.
fn run_signal_handlers(caller: ThreadId, raised: &Mutex<Option<PyErr>>) -> bool {
    if std::thread::current().id() != caller {
        return false; // create_many's workers: only the caller's thread
    }
    Python::attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(error) => {
            store(raised, error);
            true
        }
    })
}

/// `used_insight.CancelToken`: stops the calls it is given to (`cancel=`)
/// from any thread — an asyncio task being cancelled, a GUI's Cancel
/// button, a shutdown handler.
///
/// cancel() ends every wait of those calls within about 20 ms; nothing is
/// sent after it. A request already sent is abandoned: the call raises
/// Cancelled (create) or returns Cancelled for the unfinished inputs
/// (create_many), with request_may_have_been_processed saying whether
/// Graph may still create it. A token stays cancelled; use a new one per
/// operation.
#[pyclass(frozen, module = "used_insight", name = "CancelToken")]
pub(crate) struct PyCancelToken {
    token: CancelToken,
}

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        Self {
            token: CancelToken::new(),
        }
    }

    /// Cancel the calls using this token, now and later. Safe from any
    /// thread; never blocks.
    fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether cancel() was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    fn __repr__(&self) -> String {
        format!(
            "CancelToken(cancelled={})",
            if self.token.is_cancelled() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// Whether this is Python's main thread, the one signal handlers run on.
fn on_main_thread(py: Python<'_>) -> PyResult<bool> {
    static IDENTS: PyOnceLock<(Py<PyAny>, u64)> = PyOnceLock::new();
    let (get_ident, main) = IDENTS.get_or_try_init(py, || -> PyResult<_> {
        let threading = py.import("threading")?;
        let main: u64 = threading
            .call_method0("main_thread")?
            .getattr("ident")?
            .extract()?;
        Ok((threading.getattr("get_ident")?.unbind(), main))
    })?;
    Ok(get_ident.bind(py).call0()?.extract::<u64>()? == *main)
}

/// The exception that stopped a call, carrying the call's outcome as
/// attribute `name` (`used_insight_result` for `create`,
/// `used_insight_results` for `create_many`), so the caller can tell what
/// was created. An exception that takes no attributes is raised as it is.
pub(crate) fn with_outcome(
    py: Python<'_>,
    stop: PyErr,
    name: &str,
    outcome: &Bound<'_, PyAny>,
) -> PyErr {
    let _ = stop.value(py).setattr(name, outcome);
    stop
}
