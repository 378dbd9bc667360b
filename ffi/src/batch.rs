//! `used_insight_create_many`: many creates in Graph JSON batches. Reads and
//! checks the caller's array, converts each item, and hands them all to the
//! core's `create_many_json`, which validates, batches, retries and returns
//! one result per input in input order.

use std::borrow::Cow;
use std::ffi::{c_char, c_void};
use std::mem::{align_of, size_of};

use used_insight_core::{bindings, BatchOptions, CancelToken, Client};

use crate::batch_results::used_insight_batch_results;
use crate::cancel::used_insight_cancel_token;
use crate::client::used_insight_client;
use crate::error::{used_insight_error, Failure};
use crate::fields::{check_fields, read_fields, used_insight_fields};
use crate::ptr::{boxed, check_struct_size, null_parameter, read_struct_size, try_str, Extensible};
use crate::result::used_insight_result;
use crate::status::used_insight_status;

/// One create for `used_insight_create_many`: a user and the usedInsight,
/// given either as JSON text (`insight_json`, as for `used_insight_create`)
/// or as plain C strings (`fields`, as for `used_insight_create_fields`).
/// Exactly one of the two must be set.
///
/// Extensible: always initialise it with `USED_INSIGHT_BATCH_ITEM_INIT` (or
/// zero it and set `struct_size = sizeof(used_insight_batch_item)`), then set
/// members. Later versions only add members at the end; a library older than
/// your header accepts a larger `struct_size` as long as the members it does
/// not know are zero, and refuses it otherwise. The library steps through
/// the array by `items[0].struct_size`, so every element must carry the same
/// `struct_size`.
///
/// The library only reads the items, the fields and the strings during the
/// call and keeps no pointer to them; they stay the caller's.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct used_insight_batch_item {
    /// `sizeof(used_insight_batch_item)` as the caller compiled it.
    pub struct_size: usize,
    /// The user's object id or user principal name (required).
    pub user_id: *const c_char,
    /// The usedInsight as JSON in Graph's wire shape, or NULL when `fields`
    /// is set.
    pub insight_json: *const c_char,
    /// The usedInsight as C strings, or NULL when `insight_json` is set. Its
    /// own `struct_size` must be valid (`USED_INSIGHT_FIELDS_INIT`).
    pub fields: *const used_insight_fields,
}

/// Reports progress of `used_insight_create_many`: called once each time an
/// input gets its final result, with how many inputs have one so far
/// (`done`, counting from one) and how many there are (`total`); the last
/// call has `done == total`. Invalid inputs get their result first, before
/// anything is sent.
///
/// `user_data` is the pointer given to `used_insight_batch_options_set_progress`.
///
/// Thread-safety: with a concurrency above 1 it is called from the
/// library's worker threads, possibly at the same time, so it (and
/// `user_data`) must be thread-safe; `done` values may then arrive out of
/// order. It should return quickly (sending waits for it), must not call
/// back into the same `used_insight_create_many`, and must not unwind out
/// of the call (a C++ exception or a `longjmp` across the library is
/// undefined behaviour).
pub type used_insight_progress_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, done: usize, total: usize)>;

/// A progress callback and its `user_data`, callable from any thread.
#[derive(Clone, Copy)]
struct ProgressCallback {
    callback: unsafe extern "C" fn(*mut c_void, usize, usize),
    user_data: *mut c_void,
}

// SAFETY: `used_insight_batch_options_set_progress` requires the callback and
// its `user_data` to be usable from any thread at the same time; the pointer
// is only ever passed back to that callback.
unsafe impl Send for ProgressCallback {}
// SAFETY: as for `Send`: the caller promised thread-safe concurrent calls.
unsafe impl Sync for ProgressCallback {}

impl ProgressCallback {
    fn call(&self, done: usize, total: usize) {
        // SAFETY: the callback and `user_data` are the caller's, used as
        // documented on `used_insight_progress_callback`.
        unsafe { (self.callback)(self.user_data, done, total) }
    }
}

/// Settings for `used_insight_create_many`. Create with
/// `used_insight_batch_options_new`, change with the
/// `used_insight_batch_options_set_*` functions, free with
/// `used_insight_batch_options_free`. Passing NULL instead of options means
/// every default.
///
/// `used_insight_create_many` only reads the options during the call: free
/// or reuse them as soon as it returns. Not thread-safe while a setter runs;
/// otherwise several calls may read the same options at once.
pub struct used_insight_batch_options {
    concurrency: usize,
    progress: Option<ProgressCallback>,
    /// The options' own reference to the caller's token.
    cancel: Option<CancelToken>,
}

/// Creates batch options with every default: one batch in flight at a time,
/// no progress callback, no cancel token.
///
/// Returns a new object owned by the caller, to be freed with
/// `used_insight_batch_options_free`; NULL only if memory ran out.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn used_insight_batch_options_new() -> *mut used_insight_batch_options {
    ffi_panic_boundary! {
        boxed(used_insight_batch_options {
            concurrency: BatchOptions::default().concurrency,
            progress: None,
            cancel: None,
        })
    }
}

/// Frees batch options. NULL is a no-op.
///
/// # Safety
/// `options` must be NULL or from `used_insight_batch_options_new`, not
/// freed before, not in use by a running `used_insight_create_many`, and not
/// used afterwards.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_options_free(options: *mut used_insight_batch_options) {
    ffi_panic_boundary! {
        free!(options)
    }
}

/// Sets how many batches (of up to 20 creates each) are in flight at once,
/// on the client's connection pool: 1 (the default, one at a time) or more.
/// Graph throttles per user, app and tenant and counts every create inside
/// a batch. Under the client's rate limit (on by default) no batch puts more
/// items in flight than it allows: below its `max_concurrent` batches in
/// flight, each batch holds that many items (4), which Graph runs together;
/// at `max_concurrent` or more, each batch is a `dependsOn` chain of up to
/// 20 items, one in flight at a time. Without a rate limit, keep it low
/// (2–4 at most) and let the library back off on 429.
///
/// Returns `USED_INSIGHT_STATUS_INVALID_ARGUMENT` for 0 (as every layer of
/// this library refuses it), `USED_INSIGHT_STATUS_NULL_PARAMETER` if
/// `options` is NULL; the options are unchanged on failure.
///
/// # Safety
/// `options` must be NULL or live batch options. Not thread-safe for the
/// same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_options_set_concurrency(
    options: *mut used_insight_batch_options,
    concurrency: usize,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.concurrency = checked_concurrency(concurrency)?)
    }
}

/// A concurrency as core takes it (1 or more), or core's refusal
/// ("concurrency must be 1 or more, not 0") as `INVALID_ARGUMENT`.
pub(crate) fn checked_concurrency(value: usize) -> Result<usize, Failure> {
    bindings::concurrency(value as i128).map_err(|e| invalid_argument(e.message))
}

/// Sets a callback told of each input's final result (see
/// `used_insight_progress_callback` for its contract), replacing one set
/// earlier; a NULL `callback` removes it. `user_data` is passed to it
/// unchanged and may be NULL.
///
/// Ownership: `user_data` stays the caller's; it must stay valid, and the
/// callback callable, until every `used_insight_create_many` using these
/// options has returned. Thread-safety: the callback may be called from the
/// library's worker threads, concurrently.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` must be NULL or live batch options. Not thread-safe for the
/// same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_options_set_progress(
    options: *mut used_insight_batch_options,
    callback: used_insight_progress_callback,
    user_data: *mut c_void,
) -> used_insight_status {
    ffi_panic_boundary! {
        set!(options.progress = callback.map(|callback| ProgressCallback { callback, user_data }))
    }
}

/// Sets a cancel token for `used_insight_create_many` calls made with these
/// options, replacing one set earlier; NULL removes it. Once the token is
/// cancelled no new batch is sent, the batch in flight is abandoned and
/// the call returns within about 20 ms, with one result per item as always
/// (see `used_insight_cancel_token`).
///
/// Ownership: the options keep their own reference to the token (freed
/// with the options); the token stays the caller's, who cancels it through
/// its own pointer and frees it with `used_insight_cancel_token_free`.
///
/// Returns `USED_INSIGHT_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` must be NULL or live batch options, `cancel` NULL or a live
/// token. Not thread-safe for the same `options`.
#[no_mangle]
pub unsafe extern "C" fn used_insight_batch_options_set_cancel(
    options: *mut used_insight_batch_options,
    cancel: *const used_insight_cancel_token,
) -> used_insight_status {
    ffi_panic_boundary! {
        // SAFETY: per this function's contract.
        set!(options.cancel = unsafe { cancel.as_ref() }.map(|t| t.inner().clone()))
    }
}

/// The caller's array, its shape checked: every element can be read.
struct Items {
    base: *const u8,
    stride: usize,
    count: usize,
}

impl Items {
    /// A copy of element `index` (below `count`): only the members this
    /// version knows. `read_unaligned`, so no alignment is assumed.
    ///
    /// # Safety
    /// The array is live and its `stride` and size were checked by
    /// [`check_items`].
    unsafe fn get(&self, index: usize) -> used_insight_batch_item {
        debug_assert!(index < self.count);
        // SAFETY: in bounds (`index < count`, the size was checked not to
        // overflow) and at least `size_of::<used_insight_batch_item>()`
        // bytes long (checked `stride`).
        unsafe {
            self.base
                .add(index * self.stride)
                .cast::<used_insight_batch_item>()
                .read_unaligned()
        }
    }
}

fn invalid_argument(message: String) -> Failure {
    used_insight_error::new(used_insight_status::InvalidArgument, message)
}

/// Checks every item's shape before anything is converted or sent: its
/// `struct_size`, a user id, exactly one of `insight_json` / `fields`, and
/// the `fields`' own `struct_size`. A failure here fails the whole call.
///
/// # Safety
/// `items` is NULL or an array of `count` items each `items[0].struct_size`
/// bytes long, whose `fields` pointers are NULL or point to readable
/// `used_insight_fields` of their own `struct_size`.
unsafe fn check_items(
    items: *const used_insight_batch_item,
    count: usize,
) -> Result<Items, Failure> {
    let known = size_of::<used_insight_batch_item>();
    if count == 0 {
        return Ok(Items {
            base: items.cast(),
            stride: known,
            count: 0,
        });
    }
    if items.is_null() {
        return Err(null_parameter("items"));
    }
    let base = items.cast::<u8>();
    // SAFETY: not NULL, and every version's item starts with `struct_size`.
    let stride = unsafe { read_struct_size(base) };
    // A real `sizeof` is a multiple of the alignment (anything else would
    // step to misplaced elements), and a real array fits in the address space.
    let too_big = match count.checked_mul(stride) {
        Some(bytes) => bytes > isize::MAX as usize,
        None => true,
    };
    if stride % align_of::<used_insight_batch_item>() != 0 || too_big {
        return Err(invalid_argument(format!(
            "items[0].struct_size is {stride}; set it to sizeof(used_insight_batch_item) \
             (this library's is {known}), e.g. with USED_INSIGHT_BATCH_ITEM_INIT"
        )));
    }
    let checked = Items {
        base,
        stride,
        count,
    };
    for index in 0..count {
        let name = || format!("items[{index}]");
        // SAFETY: `index < count` and the caller guarantees `count` elements
        // of `stride` bytes (no overflow: checked above).
        let at = unsafe { base.add(index * stride) };
        // SAFETY: as above; every element starts with `struct_size`.
        let struct_size = unsafe { read_struct_size(at) };
        if struct_size != stride {
            return Err(invalid_argument(format!(
                "{}.struct_size is {struct_size} but items[0].struct_size is {stride}: \
                 every item needs the same sizeof(used_insight_batch_item)",
                name()
            )));
        }
        let what = Extensible {
            name: &name(),
            is_pointer: false,
            type_name: "used_insight_batch_item",
            init: "USED_INSIGHT_BATCH_ITEM_INIT",
            known,
        };
        // SAFETY: `struct_size` bytes at `at` are readable per the contract.
        unsafe { check_struct_size(at, struct_size, &what) }?;
        // SAFETY: the array is live; `stride` and the bounds are checked.
        let item = unsafe { checked.get(index) };
        if item.user_id.is_null() {
            return Err(null_parameter(&format!("{}.user_id", name())));
        }
        match (item.insight_json.is_null(), item.fields.is_null()) {
            (true, true) => {
                return Err(used_insight_error::new(
                    used_insight_status::NullParameter,
                    format!(
                        "{0}.insight_json and {0}.fields are both NULL; set one",
                        name()
                    ),
                ))
            }
            (false, false) => {
                return Err(invalid_argument(format!(
                    "{0}.insight_json and {0}.fields are both set; set only one",
                    name()
                )))
            }
            (true, false) => {
                // SAFETY: per the contract, `fields` is readable.
                unsafe { check_fields(item.fields, &format!("{}.fields", name())) }?;
            }
            (false, true) => {}
        }
    }
    Ok(checked)
}

/// One item as the core's JSON input, or the failure that is its result:
/// the error `used_insight_create` / `used_insight_create_fields` would
/// report for it alone (bad UTF-8, the fields' validation problems).
///
/// # Safety
/// `item` came from a checked array; its strings are NULL or NUL-terminated
/// and live for `'a`.
unsafe fn convert<'a>(
    item: &used_insight_batch_item,
) -> Result<(Cow<'a, str>, Cow<'a, str>), Failure> {
    // SAFETY: per this function's contract.
    let user_id = unsafe { try_str(item.user_id, "user_id") }?;
    if item.insight_json.is_null() {
        // SAFETY: per this function's contract (`fields` checked, not NULL).
        let read = unsafe { read_fields(item.fields, "fields") }?;
        let insight = read.validated(user_id)?;
        Ok((Cow::Borrowed(user_id), Cow::Owned(insight.to_json())))
    } else {
        // SAFETY: per this function's contract.
        let json = unsafe { try_str(item.insight_json, "insight_json") }?;
        Ok((Cow::Borrowed(user_id), Cow::Borrowed(json)))
    }
}

/// The work of `used_insight_create_many` once its arguments are checked:
/// converts the items, sends the valid ones through the core and pairs each
/// input with its result.
///
/// # Safety
/// `items` was checked by [`check_items`] and the array and its strings stay
/// live and unchanged during the call.
unsafe fn create_many(
    client: &Client,
    items: &Items,
    options: Option<&used_insight_batch_options>,
) -> Result<used_insight_batch_results, Failure> {
    let count = items.count;
    // Items that already failed here are skipped by the core (not
    // sent, but counted for progress), so batch ids stay the input
    // indexes; their own failure is their result.
    let mut inputs = Vec::with_capacity(count);
    let mut failed = Vec::with_capacity(count);
    for index in 0..count {
        // SAFETY: the array was checked; its strings are live per
        // this function's contract.
        match unsafe { convert(&items.get(index)) } {
            Ok(input) => {
                inputs.push(Some(input));
                failed.push(None);
            }
            Err(failure) => {
                inputs.push(None);
                failed.push(Some(failure));
            }
        }
    }
    let inputs: Vec<_> = inputs.iter().map(Option::as_ref).collect();

    let progress = options.and_then(|o| o.progress);
    let report = |done: usize, total: usize| {
        if let Some(p) = &progress {
            p.call(done, total);
        }
    };
    let mut batch_options = BatchOptions::default();
    if let Some(options) = options {
        batch_options = batch_options.with_concurrency(options.concurrency);
        if let Some(cancel) = &options.cancel {
            batch_options = batch_options.with_cancel(cancel);
        }
    }
    if progress.is_some() {
        batch_options = batch_options.with_progress(&report);
    }
    let created =
        used_insight_core::bindings::create_many_json_partial(client, &inputs, &batch_options);
    if created.len() != count {
        return Err(used_insight_error::new(
            used_insight_status::Internal,
            format!(
                "the core returned {} results for {count} items",
                created.len()
            ),
        ));
    }
    let results = created
        .into_iter()
        .zip(failed)
        .map(|(created, failed)| match (created, failed) {
            (_, Some(failure)) => Err(failure),
            (Some(created), None) => created
                .map(used_insight_result::from_created_json)
                .map_err(Failure::from),
            (None, None) => Err(used_insight_error::new(
                used_insight_status::Internal,
                "the core skipped an item that was sent".to_owned(),
            )),
        })
        .collect();
    Ok(used_insight_batch_results::new(results))
}

/// Creates many usedInsights, each item a user and an insight (JSON or
/// fields), in Microsoft Graph JSON batches of up to 20, and returns one
/// result per item, in the items' order.
///
/// Each item is validated first exactly as `used_insight_create` (JSON) or
/// `used_insight_create_fields` (fields) would validate it; an invalid item
/// (problems, or strings that are not UTF-8) gets that error as its result
/// and is not sent, and the others go on. Items Graph throttles inside a
/// batch (429, 503, 504) are sent again after their `Retry-After`, as the
/// client's retry options allow. A batch whose answer is lost is not resent:
/// each of its items fails with `USED_INSIGHT_STATUS_TRANSPORT` (or
/// `TIMEOUT`) and `used_insight_error_request_may_have_been_processed` true.
/// An item is sent again only when Graph said it was not processed, so none
/// is created twice. With a cancel token in the options
/// (`used_insight_batch_options_set_cancel`), a cancel stops the call within
/// about 20 ms: items not yet sent fail with `USED_INSIGHT_STATUS_CANCELLED`
/// and `used_insight_error_request_may_have_been_processed` false, items of
/// the batch in flight with the same status and true.
///
/// `items` is an array of `count` items (see `used_insight_batch_item`);
/// with `count` 0 it may be NULL and the result set is empty. `options` may
/// be NULL for the defaults (one batch at a time, no progress callback).
///
/// On success (the call ran; any item may still have failed) writes to
/// `*out_results` a result set owned by the caller, with exactly `count`
/// results: read each with `used_insight_batch_results_status` and
/// `_id` / `_json` / `_error`, free them all with
/// `used_insight_batch_results_free`, and returns `USED_INSIGHT_STATUS_OK`.
///
/// Fails as a whole, before anything is sent, on a programmer error: leaves
/// `*out_results` untouched and, when `err` is not NULL, writes an error to
/// `*err` (freed by the caller with `used_insight_error_free`) naming the
/// argument, e.g. `items[3].user_id is NULL`:
/// `USED_INSIGHT_STATUS_NULL_PARAMETER` when `client` or `out_results` is
/// NULL, `items` is NULL with `count` > 0, an item's `user_id` is NULL, or
/// it has neither `insight_json` nor `fields`;
/// `USED_INSIGHT_STATUS_INVALID_ARGUMENT` when an item sets both, or an
/// item's or its fields' `struct_size` cannot be accepted.
///
/// Blocks until every item has its result. Thread-safe: may be called on one
/// client from many threads at once.
///
/// # Safety
/// `client` must be NULL or a live client; `items` NULL or `count` items of
/// `items[0].struct_size` bytes each, whose non-NULL strings are
/// NUL-terminated and whose non-NULL `fields` are valid
/// `used_insight_fields`; `options` NULL or live batch options;
/// `out_results` and `err` NULL or writable. All of them must stay valid and
/// unchanged until the call returns.
#[no_mangle]
pub unsafe extern "C" fn used_insight_create_many(
    client: *const used_insight_client,
    items: *const used_insight_batch_item,
    count: usize,
    options: *const used_insight_batch_options,
    out_results: *mut *mut used_insight_batch_results,
    err: *mut *mut used_insight_error,
) -> used_insight_status {
    ffi_panic_boundary! {
        deliver!(out_results, err, {
            let client = try_ref!(client);
            // SAFETY: per this function's contract.
            let items = unsafe { check_items(items, count) }?;
            check_out!(out_results);
            // SAFETY: per this function's contract, `options` is NULL or live
            // and the items' strings are live.
            Ok(boxed(unsafe { create_many(client.inner(), &items, options.as_ref()) }?))
        })
    }
}
