//! `used_insight._native`: the private native module behind the pure-Python
//! package `used_insight`.
//!
//! This crate converts and nothing else: Python objects to core types and
//! back (`convert` for the model classes, `mapping` for dicts in Graph's
//! wire shape, `json` for values kept verbatim), core errors to Python
//! exceptions (`errors`, the one mapping), and the client wrapper (`client`,
//! and `batch` for its `create_many`). Every Graph rule — validation, wire shape, date-times,
//! retries, batching, error parsing — lives in the core crate and is called
//! from here.
#![deny(unsafe_code)]

use pyo3::prelude::*;

mod batch;
mod client;
mod convert;
mod errors;
mod json;
mod logging;
mod mapping;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::Client>()?;
    m.add_function(wrap_pyfunction!(convert::to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(convert::from_dict, m)?)?;
    m.add_function(wrap_pyfunction!(logging::reset_logging_cache, m)?)?;
    Ok(())
}
