//! `used_insight_client` and the create calls.

use std::ffi::c_char;

use used_insight_core::Client;

use crate::cancel::{used_insight_create_cancellable, used_insight_create_fields_cancellable};
use crate::error::used_insight_error;
use crate::fields::used_insight_fields;
use crate::options::used_insight_options;
use crate::ptr::boxed;
use crate::result::used_insight_result;
use crate::status::used_insight_status;

/// A Graph client: configuration, credential and a connection pool.
///
/// Thread-safe: one client is meant to be shared by every thread of a
/// program, and calls on it may run concurrently. Create it with
/// `used_insight_client_new`, free it with `used_insight_client_free` once no
/// call on it is running.
pub struct used_insight_client {
    inner: Client,
}

impl used_insight_client {
    /// The core client, for the calls defined in other modules.
    pub(crate) fn inner(&self) -> &Client {
        &self.inner
    }
}

/// Creates a client from `options` (which are copied: free or reuse them
/// right after).
///
/// On success writes a new client to `*out_client` (the caller owns it and
/// frees it with `used_insight_client_free`) and returns
/// `USED_INSIGHT_STATUS_OK`. On failure leaves `*out_client` untouched and,
/// when `err` is not NULL, writes an error to `*err` (the caller frees it
/// with `used_insight_error_free`):
/// `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` or `out_client` is NULL,
/// `USED_INSIGHT_STATUS_INVALID_CONFIG` if the options cannot make a client
/// (no token or token callback, a malformed base URL, plain `http://` to a
/// host that is not loopback, a token that is not a valid header value, a
/// root certificate file or text that cannot be read or holds no
/// certificate, a malformed or SOCKS proxy URL), with a message saying which.
///
/// Reads the root certificate files and, if asked, the system's store, and
/// decides the proxy (reading the environment unless one was set). Makes no
/// network request. Thread-safe.
///
/// # Safety
/// `options` must be NULL or live options not being changed by another
/// thread; `out_client` and `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn used_insight_client_new(
    options: *const used_insight_options,
    out_client: *mut *mut used_insight_client,
    err: *mut *mut used_insight_error,
) -> used_insight_status {
    ffi_panic_boundary! {
        deliver!(out_client, err, {
            let options = try_ref!(options);
            check_out!(out_client);
            Ok(boxed(used_insight_client { inner: options.client_builder()?.build()? }))
        })
    }
}

/// Frees a client and closes its idle connections. NULL is a no-op.
///
/// # Safety
/// `client` must be NULL or from `used_insight_client_new`, not freed
/// before, with no call on it still running in any thread; it must not be
/// used afterwards.
#[no_mangle]
pub unsafe extern "C" fn used_insight_client_free(client: *mut used_insight_client) {
    ffi_panic_boundary! {
        free!(client)
    }
}

/// Creates a usedInsight for a user from JSON text and returns what Graph
/// stored, as JSON.
///
/// `user_id` is the user's object id or user principal name (e.g.
/// `"alice@contoso.com"`); `insight_json` is a usedInsight in Graph's wire
/// shape (`lastUsed`, `resourceVisualization`, `resourceReference`; the
/// `@odata.type` properties are optional; unknown properties are passed on).
/// Both are validated first: on any problem nothing is sent and the error
/// lists every problem with its JSON path. Throttling (429) and
/// unavailability (503, 504) are retried as the options allow; a request
/// whose answer was lost is never resent.
///
/// On success writes to `*out_json` the created usedInsight (with its new
/// `id`) as a NUL-terminated compact JSON string owned by the caller, to be
/// freed with `used_insight_string_free`, and returns
/// `USED_INSIGHT_STATUS_OK`. On failure leaves `*out_json` untouched and,
/// when `err` is not NULL, writes an error to `*err` (freed by the caller
/// with `used_insight_error_free`). Statuses: `NULL_PARAMETER` (`client`,
/// `user_id`, `insight_json` or `out_json` is NULL), `INVALID_UTF8`,
/// `VALIDATION_FAILED`, `GRAPH_API_ERROR`, `TRANSPORT`, `TIMEOUT`,
/// `UNDECODABLE_RESPONSE`, `TOKEN_PROVIDER_FAILED`.
///
/// Blocks until done. Thread-safe: may be called on one client from many
/// threads at once.
///
/// # Safety
/// `client` must be NULL or a live client; `user_id` and `insight_json` NULL
/// or NUL-terminated strings; `out_json` and `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn used_insight_create(
    client: *const used_insight_client,
    user_id: *const c_char,
    insight_json: *const c_char,
    out_json: *mut *mut c_char,
    err: *mut *mut used_insight_error,
) -> used_insight_status {
    ffi_panic_boundary! {
        // SAFETY: per this function's contract; a NULL token is allowed.
        unsafe {
            used_insight_create_cancellable(
                client, user_id, insight_json, std::ptr::null(), out_json, err,
            )
        }
    }
}

/// Creates a usedInsight for a user from plain C strings (see
/// `used_insight_fields`), so no JSON needs to be written, and returns the
/// created usedInsight with its `id` readable without a JSON parser.
///
/// Validation, retries and statuses are those of `used_insight_create`. In
/// addition: an invalid date-time is a validation problem at its path (e.g.
/// `lastUsed.lastAccessedDateTime`), reported with every other problem;
/// members that are not UTF-8 fail with `USED_INSIGHT_STATUS_INVALID_UTF8`,
/// each listed as a problem with its path; a `fields->struct_size` this
/// library cannot accept fails with `USED_INSIGHT_STATUS_INVALID_ARGUMENT`.
///
/// On success writes to `*out_result` a result owned by the caller (read it
/// with `used_insight_result_id` / `used_insight_result_json`, free it with
/// `used_insight_result_free`). On failure leaves `*out_result` untouched
/// and, when `err` is not NULL, writes an error to `*err` (freed by the
/// caller with `used_insight_error_free`). `client`, `user_id`, `fields` and
/// `out_result` must not be NULL (`USED_INSIGHT_STATUS_NULL_PARAMETER`).
///
/// Blocks until done. Thread-safe: may be called on one client from many
/// threads at once.
///
/// # Safety
/// `client` must be NULL or a live client; `user_id` NULL or a
/// NUL-terminated string; `fields` NULL or a `used_insight_fields` with
/// `struct_size` readable bytes whose non-NULL members are NUL-terminated
/// strings; `out_result` and `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn used_insight_create_fields(
    client: *const used_insight_client,
    user_id: *const c_char,
    fields: *const used_insight_fields,
    out_result: *mut *mut used_insight_result,
    err: *mut *mut used_insight_error,
) -> used_insight_status {
    ffi_panic_boundary! {
        // SAFETY: per this function's contract; a NULL token is allowed.
        unsafe {
            used_insight_create_fields_cancellable(
                client, user_id, fields, std::ptr::null(), out_result, err,
            )
        }
    }
}

/// Frees a string this library handed out (`out_json` of
/// `used_insight_create`). NULL is a no-op.
///
/// Only for strings whose ownership the library gave to the caller: never
/// for strings borrowed from an error or a result, nor for
/// `used_insight_version()`.
///
/// Thread-safe (for different strings).
///
/// # Safety
/// `s` must be NULL or such a string, not freed before and not used after.
#[no_mangle]
pub unsafe extern "C" fn used_insight_string_free(s: *mut c_char) {
    ffi_panic_boundary! {
        free!(s, free_c_string)
    }
}
