//! # used-insight-ffi: the C ABI of used-insight
//!
//! `libused_insight.so` / `libused_insight.a` and `include/used_insight.h`
//! (generated from this crate by cbindgen). This layer converts arguments and
//! errors and calls the core crate; every Graph rule (validation, wire shape,
//! retries) lives in the core.
//!
//! Conventions, true for every exported function:
//!
//! - Every symbol starts with `used_insight_`.
//! - Functions that can fail return a [`used_insight_status`]; on failure they
//!   write an error object to `*err` when `err` is not NULL. Out-parameters are
//!   written only on success and `*err` only on failure.
//! - Every object the library hands out has its own `_free` function, and
//!   every `_free(NULL)` does nothing.
//! - A NULL pointer or a string that is not UTF-8 is reported as a status,
//!   never a crash.
//! - No panic crosses the boundary: every export runs inside
//!   `ffi_panic_boundary!` (src/panic.rs) and a panic becomes
//!   `USED_INSIGHT_STATUS_PANIC` (or NULL / 0 where a pointer or a number is
//!   returned). A unit test checks that no export is missing it.
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
// The C names are the ABI: `used_insight_client`, not `UsedInsightClient`.
#![allow(non_camel_case_types)]

#[macro_use]
mod panic;
#[macro_use]
mod ptr;

mod batch;
mod batch_results;
mod cancel;
mod client;
mod credentials;
mod entra_error;
mod error;
mod fields;
mod options;
mod result;
mod status;
mod token;
mod version;

pub use batch::{
    used_insight_batch_item, used_insight_batch_options, used_insight_progress_callback,
};
pub use batch_results::used_insight_batch_results;
pub use cancel::used_insight_cancel_token;
pub use client::used_insight_client;
pub use error::{used_insight_error, used_insight_transport_kind};
pub use fields::used_insight_fields;
pub use options::{used_insight_cloud, used_insight_options};
pub use result::used_insight_result;
pub use status::used_insight_status;
pub use token::{used_insight_token_callback, USED_INSIGHT_TOKEN_BUFFER_SIZE};
pub use version::{
    USED_INSIGHT_VERSION_MAJOR, USED_INSIGHT_VERSION_MINOR, USED_INSIGHT_VERSION_PATCH,
};

#[cfg(test)]
mod tests;
