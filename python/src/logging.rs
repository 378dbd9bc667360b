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

use log::LevelFilter;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3_log::{Caching, Logger, ResetHandle};

/// Installed lazily (on the first `Client`), so `import used_insight` does
/// not import Python's `logging`.
static HANDLE: PyOnceLock<Option<ResetHandle>> = PyOnceLock::new();

/// Installs the forwarding logger once, then clears its cache so the
/// current Python logging configuration is read afresh.
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let handle = HANDLE.get_or_try_init(py, || -> PyResult<_> {
        let logger = Logger::new(py, Caching::LoggersAndLevels)?
            .filter(LevelFilter::Off)
            .filter_target("used_insight".to_owned(), LevelFilter::Debug);
        // Fails only if this module's `log` already has a logger, which
        // nothing else here installs; logging is then simply not forwarded.
        Ok(logger.install().ok())
    })?;
    if let Some(handle) = handle {
        handle.reset();
    }
    Ok(())
}

/// Forget the cached Python loggers and levels: call after changing the
/// level of a `used_insight` logger at run time.
#[pyfunction]
pub(crate) fn reset_logging_cache(py: Python<'_>) {
    if let Some(Some(handle)) = HANDLE.get(py) {
        handle.reset();
    }
}
