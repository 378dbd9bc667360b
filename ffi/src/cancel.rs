//! `used_insight_cancel_token`: a handle to stop calls early, and the create
//! calls that take one. The rules (what stops, what is reported) are core's
//! `CancelToken`; this layer hands it out and passes it on.

use std::ffi::c_char;

use used_insight_core::CancelToken;

use crate::client::used_insight_client;
use crate::error::used_insight_error;
use crate::fields::{read_fields, used_insight_fields};
use crate::ptr::{boxed, into_c_string};
use crate::result::used_insight_result;
use crate::status::used_insight_status;

/// A handle to stop calls early, from another thread or from a signal
/// handler: pass it to `used_insight_create_cancellable`,
/// `used_insight_create_fields_cancellable` or (through
/// `used_insight_batch_options_set_cancel`) `used_insight_create_many`, then
/// call `used_insight_cancel_token_cancel`.
///
/// Once cancelled, every call using the token returns within about 20 ms
/// with `USED_INSIGHT_STATUS_CANCELLED`: waits for a retry, for a free slot
/// under the client's rate limit, for a token, for a connection or for an
/// answer end at once, and no new request starts. A request already sent
/// is abandoned (its connection closed): Graph may still carry it out, and
/// `used_insight_error_request_may_have_been_processed` then says true.
/// `used_insight_create_many` still returns one result per item: those
/// known before the cancel, and `USED_INSIGHT_STATUS_CANCELLED` for the
/// others: "may have been processed" for the items of a batch in flight,
/// not for items never sent.
///
/// A token stays cancelled; use a new one for new work. Thread-safe: one
/// token may be used by many calls and threads at once.
pub struct used_insight_cancel_token {
    inner: CancelToken,
}

impl used_insight_cancel_token {
    /// The core token, for the batch options.
    pub(crate) fn inner(&self) -> &CancelToken {
        &self.inner
    }
}

/// Creates a cancel token, not cancelled.
///
/// Returns a new token owned by the caller, to be freed with
/// `used_insight_cancel_token_free`; NULL only if memory ran out.
/// Thread-safe. Not async-signal-safe (it allocates): create tokens before
/// installing a signal handler that cancels them.
#[no_mangle]
pub extern "C" fn used_insight_cancel_token_new() -> *mut used_insight_cancel_token {
    ffi_panic_boundary! {
        boxed(used_insight_cancel_token { inner: CancelToken::new() })
    }
}

/// Cancels every call using `token`, now and later. NULL is a no-op.
///
/// Async-signal-safe: it is one atomic store (no lock, no allocation, no
/// system call), so a `SIGINT` or `SIGTERM` handler may call it (keep the
/// token in a variable the handler can read, e.g. a static pointer set
/// before the handler is installed). Thread-safe.
///
/// # Safety
/// `token` must be NULL or a live token.
#[no_mangle]
pub unsafe extern "C" fn used_insight_cancel_token_cancel(token: *const used_insight_cancel_token) {
    ffi_panic_boundary! {
        // SAFETY: per this function's contract.
        if let Some(token) = unsafe { token.as_ref() } {
            token.inner.cancel();
        }
    }
}

/// Whether `token` was cancelled; false for NULL. Async-signal-safe (one
/// atomic load). Thread-safe.
///
/// # Safety
/// `token` must be NULL or a live token.
#[no_mangle]
pub unsafe extern "C" fn used_insight_cancel_token_is_cancelled(
    token: *const used_insight_cancel_token,
) -> bool {
    ffi_panic_boundary! {
        let token = ref_or_default!(token);
        token.inner.is_cancelled()
    }
}

/// Frees a token. NULL is a no-op. Batch options that were given the token
/// keep their own reference to it, so they stay valid; but once it is freed
/// nothing can cancel the calls made with them.
///
/// # Safety
/// `token` must be NULL or from `used_insight_cancel_token_new`, not freed
/// before, not in use by a running call or a signal handler, and not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn used_insight_cancel_token_free(token: *mut used_insight_cancel_token) {
    ffi_panic_boundary! {
        free!(token)
    }
}

/// `used_insight_create` that stops early once `cancel` is cancelled,
/// failing with `USED_INSIGHT_STATUS_CANCELLED`; see
/// `used_insight_cancel_token`. `cancel` may be NULL (the call is then
/// `used_insight_create`). Arguments, ownership, validation, retries and
/// the other statuses are those of `used_insight_create`.
///
/// When cancelled, `used_insight_error_request_may_have_been_processed`
/// says whether the request had been sent (and its answer abandoned): then
/// the insight may have been created. False means Graph did not process it.
///
/// Blocks until done or cancelled. Thread-safe.
///
/// # Safety
/// As for `used_insight_create`; `cancel` must be NULL or a live token,
/// kept alive until the call returns.
#[no_mangle]
pub unsafe extern "C" fn used_insight_create_cancellable(
    client: *const used_insight_client,
    user_id: *const c_char,
    insight_json: *const c_char,
    cancel: *const used_insight_cancel_token,
    out_json: *mut *mut c_char,
    err: *mut *mut used_insight_error,
) -> used_insight_status {
    ffi_panic_boundary! {
        deliver!(out_json, err, {
            let client = try_ref!(client);
            let user_id = try_str!(user_id);
            let insight_json = try_str!(insight_json);
            check_out!(out_json);
            // SAFETY: per this function's contract.
            let created = match unsafe { cancel.as_ref() } {
                Some(cancel) => client.inner().create_json_with_cancel(user_id, insight_json, &cancel.inner),
                None => client.inner().create_json(user_id, insight_json),
            };
            Ok(into_c_string(created?).into_raw())
        })
    }
}

/// `used_insight_create_fields` that stops early once `cancel` is
/// cancelled, failing with `USED_INSIGHT_STATUS_CANCELLED`, as
/// `used_insight_create_cancellable` does. `cancel` may be NULL.
/// Arguments, ownership and the other statuses are those of
/// `used_insight_create_fields`.
///
/// Blocks until done or cancelled. Thread-safe.
///
/// # Safety
/// As for `used_insight_create_fields`; `cancel` must be NULL or a live
/// token, kept alive until the call returns.
#[no_mangle]
pub unsafe extern "C" fn used_insight_create_fields_cancellable(
    client: *const used_insight_client,
    user_id: *const c_char,
    fields: *const used_insight_fields,
    cancel: *const used_insight_cancel_token,
    out_result: *mut *mut used_insight_result,
    err: *mut *mut used_insight_error,
) -> used_insight_status {
    ffi_panic_boundary! {
        deliver!(out_result, err, {
            let client = try_ref!(client);
            let user_id = try_str!(user_id);
            let fields = try_arg!(read_fields, fields);
            check_out!(out_result);
            let insight = fields.validated(user_id)?;
            // SAFETY: per this function's contract.
            let created = match unsafe { cancel.as_ref() } {
                Some(cancel) => client.inner().create_with_cancel(user_id, &insight, &cancel.inner),
                None => client.inner().create(user_id, &insight),
            };
            Ok(boxed(used_insight_result::new(&created?)))
        })
    }
}
