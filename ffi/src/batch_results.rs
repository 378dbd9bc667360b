//! `used_insight_batch_results`: what `used_insight_create_many` returns,
//! one result per input, each the created usedInsight or an error.

use std::ffi::c_char;
use std::ptr::null;

use crate::error::{used_insight_error, Failure};
use crate::result::used_insight_result;
use crate::status::used_insight_status;

/// The results of `used_insight_create_many`: exactly one per input item, in
/// the items' order (index `i` is `items[i]`), each either the created
/// usedInsight (status `USED_INSIGHT_STATUS_OK`, with its `id` and JSON) or
/// an error.
///
/// Opaque: read it with the `used_insight_batch_results_*` accessors and
/// free it, with every string and error borrowed from it, with the one
/// call `used_insight_batch_results_free`. Immutable: the accessors may be
/// called from several threads at once.
pub struct used_insight_batch_results {
    items: Vec<Result<used_insight_result, Failure>>,
}

impl used_insight_batch_results {
    pub(crate) fn new(items: Vec<Result<used_insight_result, Failure>>) -> Self {
        Self { items }
    }

    /// The status of result `index`; `INVALID_ARGUMENT` when out of range.
    fn status(&self, index: usize) -> used_insight_status {
        match self.items.get(index) {
            Some(Ok(_)) => used_insight_status::Ok,
            Some(Err(e)) => e.status(),
            None => used_insight_status::InvalidArgument,
        }
    }

    /// Result `index` when it is a success.
    fn created(&self, index: usize) -> Option<&used_insight_result> {
        self.items.get(index)?.as_ref().ok()
    }

    /// Result `index` when it is a failure, or NULL.
    fn failed(&self, index: usize) -> *const used_insight_error {
        match self.items.get(index) {
            Some(Err(e)) => &**e,
            _ => null(),
        }
    }
}

/// How many results the set holds: the `count` given to
/// `used_insight_create_many`; 0 when `results` is NULL.
///
/// # Safety
/// `results` must be NULL or a result set from this library that was not
/// freed. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_results_count(
    results: *const used_insight_batch_results,
) -> usize {
    ffi_panic_boundary! {
        ref_or_default!(results).items.len()
    }
}

/// How many results are successes (status `USED_INSIGHT_STATUS_OK`); 0 when
/// `results` is NULL.
///
/// # Safety
/// `results` must be NULL or a result set from this library that was not
/// freed. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_results_created_count(
    results: *const used_insight_batch_results,
) -> usize {
    ffi_panic_boundary! {
        ref_or_default!(results).items.iter().filter(|i| i.is_ok()).count()
    }
}

/// The status of result `index` (0-based, below
/// `used_insight_batch_results_count`): `USED_INSIGHT_STATUS_OK` when that
/// item was created, otherwise the status of its error (the same as
/// `used_insight_error_status(used_insight_batch_results_error(results, index))`).
/// `USED_INSIGHT_STATUS_NULL_PARAMETER` when `results` is NULL,
/// `USED_INSIGHT_STATUS_INVALID_ARGUMENT` when `index` is out of range.
///
/// # Safety
/// `results` must be NULL or a result set from this library that was not
/// freed. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_results_status(
    results: *const used_insight_batch_results,
    index: usize,
) -> used_insight_status {
    ffi_panic_boundary! {
        ref_or_default!(results).status(index)
    }
}

/// The `id` Graph gave the usedInsight created for item `index`; NULL when
/// that item failed, the answer had no id, `index` is out of range or
/// `results` is NULL.
///
/// The string belongs to `results`: valid until
/// `used_insight_batch_results_free(results)`, never freed by the caller.
///
/// # Safety
/// `results` must be NULL or a result set from this library that was not
/// freed. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_results_id(
    results: *const used_insight_batch_results,
    index: usize,
) -> *const c_char {
    ffi_panic_boundary! {
        ref_or_default!(results).created(index).map_or(null(), used_insight_result::id_ptr)
    }
}

/// The usedInsight created for item `index`, as compact JSON in Graph's
/// wire shape (with its new `id`, unknown properties kept); NULL when that
/// item failed, `index` is out of range or `results` is NULL.
///
/// The string belongs to `results`: valid until
/// `used_insight_batch_results_free(results)`, never freed by the caller.
///
/// # Safety
/// `results` must be NULL or a result set from this library that was not
/// freed. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_results_json(
    results: *const used_insight_batch_results,
    index: usize,
) -> *const c_char {
    ffi_panic_boundary! {
        ref_or_default!(results).created(index).map_or(null(), used_insight_result::json_ptr)
    }
}

/// Why item `index` failed, as an error object read with the
/// `used_insight_error_*` accessors (status, message, problems with their
/// paths, HTTP status, Graph code, request ids, Retry-After,
/// may-have-been-processed); NULL when that item was created, `index` is
/// out of range or `results` is NULL.
///
/// The error is borrowed: it belongs to `results` and is valid until
/// `used_insight_batch_results_free(results)`. Never pass it to
/// `used_insight_error_free`.
///
/// # Safety
/// `results` must be NULL or a result set from this library that was not
/// freed. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_results_error(
    results: *const used_insight_batch_results,
    index: usize,
) -> *const used_insight_error {
    ffi_panic_boundary! {
        ref_or_default!(results).failed(index)
    }
}

/// Frees a result set with every result, string and error borrowed from it.
/// NULL is a no-op.
///
/// # Safety
/// `results` must be NULL or a result set from this library that was not
/// freed yet; it (and anything borrowed from it) must not be used
/// afterwards, nor be freed while another thread reads it.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_results_free(results: *mut used_insight_batch_results) {
    ffi_panic_boundary! {
        free!(results)
    }
}
