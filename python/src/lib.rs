//! `used_insight._native`: the private native module behind the pure-Python
//! package `used_insight`.
//!
//! This crate converts and nothing else: Python values to core's models
//! through core's own reader (`reader`, a serde deserializer over Python
//! objects; `json` writes the values core keeps verbatim), core's models
//! back to Python (`convert`), core errors to Python exceptions (`errors`,
//! the one mapping), the client wrapper (`client`, and `batch` for its
//! `create_many`), and azure-identity's credential classes over core's
//! (`credentials`). Every Graph rule — validation, wire shape, date-times,
//! retries, batching, error parsing — lives in the core crate and is called
//! from here.
#![deny(unsafe_code)]

use pyo3::prelude::*;

mod batch;
mod cancel;
mod classes;
mod client;
mod convert;
mod credentials;
mod errors;
mod json;
mod limits;
mod logging;
mod pickling;
mod reader;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::Client>()?;
    m.add_class::<limits::RateLimit>()?;
    m.add_class::<cancel::PyCancelToken>()?;
    m.add_class::<credentials::Credential>()?;
    m.add_class::<credentials::ClientSecretCredential>()?;
    m.add_class::<credentials::CertificateCredential>()?;
    m.add_class::<credentials::WorkloadIdentityCredential>()?;
    m.add_class::<credentials::ManagedIdentityCredential>()?;
    m.add_class::<credentials::EnvironmentCredential>()?;
    m.add_class::<credentials::DefaultAzureCredential>()?;
    m.add_function(wrap_pyfunction!(convert::to_dict, m)?)?;
    m.add_function(wrap_pyfunction!(convert::from_dict, m)?)?;
    m.add_function(wrap_pyfunction!(logging::reset_logging_cache, m)?)?;
    m.add_function(wrap_pyfunction!(reader::model_fields, m)?)?;
    Ok(())
}
