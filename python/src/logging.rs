//! Core's `log` records, forwarded to Python's `logging`.
//!
//! Core logs under targets such as `used_insight::client`, which become the
//! Python loggers `used_insight.client`: configuring `used_insight` covers
//! them all. Records of other crates (ureq, rustls) are not forwarded.
//!
//! pyo3-log caches each Python logger and its effective level the first
//! time a target logs, so that disabled records (core's per-request debug
//! lines) cost no GIL acquisition on the network path. The cache is cleared
//! whenever a `Client` is created and by `reset_logging_cache()`; a level
//! changed after a client has logged takes effect from then on.

use log::{LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3_log::{Caching, Logger, ResetHandle};

/// The `log` target of core's records, and of all its modules'.
const CORE: &str = "used_insight";

/// Installed lazily (on the first `Client`), so `import used_insight` does
/// not import Python's `logging`.
static HANDLE: PyOnceLock<Option<ResetHandle>> = PyOnceLock::new();

/// Installs the forwarding logger once, then clears its cache so the
/// current Python logging configuration is read afresh.
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let handle = HANDLE.get_or_try_init(py, || -> PyResult<_> {
        let logger = Logger::new(py, Caching::LoggersAndLevels)?
            .filter(LevelFilter::Off)
            .filter_target(CORE.to_owned(), LevelFilter::Debug);
        let handle = logger.reset_handle();
        // Fails only if this module's `log` already has a logger, which
        // nothing else here installs; logging is then simply not forwarded.
        Ok(log::set_boxed_logger(Box::new(CoreOnly(logger)))
            .ok()
            .map(|()| {
                log::set_max_level(LevelFilter::Debug);
                handle
            }))
    })?;
    if let Some(handle) = handle {
        handle.reset();
    }
    Ok(())
}

/// pyo3-log, handed core's records only. Other crates' records at or above
/// the debug level (ureq writes several per request) would be dropped by
/// pyo3-log's own target filter, but only after it looked each one up in its
/// cache and its filters, which cost more per create than converting the
/// insight does; a prefix check drops them here.
struct CoreOnly(Logger);

fn is_core(target: &str) -> bool {
    target
        .strip_prefix(CORE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

impl Log for CoreOnly {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        is_core(metadata.target()) && self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if is_core(record.target()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Forget the cached Python loggers and levels: call after changing the
/// level of a `used_insight` logger at run time.
#[pyfunction]
pub(crate) fn reset_logging_cache(py: Python<'_>) {
    if let Some(Some(handle)) = HANDLE.get(py) {
        handle.reset();
    }
}
