//! `used_insight_batch_results`: what `used_insight_create_many` returns,
//! one result per input, each the created usedInsight or an error.

use std::ffi::c_char;
use std::ptr::null;

use crate::error::{used_insight_error, Failure};
use crate::ptr::free_box;
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
}

/// Borrows result `index` of the set behind a pointer the caller passed, or
/// `None` for NULL or an index out of range.
///
/// # Safety
/// `results` is NULL or a live result set from this library.
unsafe fn item<'a>(
    results: *const used_insight_batch_results,
    index: usize,
) -> Option<&'a Result<used_insight_result, Failure>> {
    // SAFETY: the caller guarantees `results` is NULL or live.
    unsafe { results.as_ref() }.and_then(|r| r.items.get(index))
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
        // SAFETY: per this function's contract.
        unsafe { results.as_ref() }.map_or(0, |r| r.items.len())
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
        // SAFETY: per this function's contract.
        unsafe { results.as_ref() }.map_or(0, |r| r.items.iter().filter(|i| i.is_ok()).count())
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
        if results.is_null() {
            return used_insight_status::NullParameter;
        }
        // SAFETY: per this function's contract.
        match unsafe { item(results, index) } {
            Some(Ok(_)) => used_insight_status::Ok,
            Some(Err(e)) => e.status(),
            None => used_insight_status::InvalidArgument,
        }
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
        // SAFETY: per this function's contract.
        match unsafe { item(results, index) } {
            Some(Ok(created)) => created.id_ptr(),
            _ => null(),
        }
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
        // SAFETY: per this function's contract.
        match unsafe { item(results, index) } {
            Some(Ok(created)) => created.json_ptr(),
            _ => null(),
        }
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
        // SAFETY: per this function's contract.
        match unsafe { item(results, index) } {
            Some(Err(e)) => &**e,
            _ => null(),
        }
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
        // SAFETY: per this function's contract, `results` came from
        // `Box::into_raw` in `used_insight_create_many` and is freed once.
        unsafe { free_box(results) }
    }
}
