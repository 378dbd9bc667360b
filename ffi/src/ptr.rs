//! Every check of a pointer or a string coming from C, in one place: NULL
//! becomes `NULL_PARAMETER`, bytes that are not UTF-8 become `INVALID_UTF8`
//! (never a lossy conversion), and results reach the caller only through
//! [`deliver`].

use std::ffi::{c_char, CStr, CString};

use crate::error::{used_insight_error, Failure};
use crate::status::used_insight_status;

/// Reads a NUL-terminated string argument that must be present.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn try_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { try_opt_str(p, name) }?.ok_or_else(|| null_parameter(name))
}

/// Reads a NUL-terminated string argument where NULL means "absent".
///
/// # Safety
/// As [`try_str`].
pub(crate) unsafe fn try_opt_str<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, and the caller guarantees a live NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(p) };
    bytes
        .to_str()
        .map(Some)
        .map_err(|e| used_insight_error::new(used_insight_status::InvalidUtf8, not_utf8(name, &e)))
}

/// The message for a string argument that is not UTF-8.
pub(crate) fn not_utf8(name: &str, e: &std::str::Utf8Error) -> String {
    format!(
        "{name} is not valid UTF-8 (bad byte at offset {})",
        e.valid_up_to()
    )
}

/// Borrows the object behind a handle argument that must be present.
///
/// # Safety
/// `p` is NULL or points to a live `T` that is not mutated for `'a`.
pub(crate) unsafe fn try_ref<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { p.as_ref() }.ok_or_else(|| null_parameter(name))
}

/// Borrows mutably the object behind a handle argument that must be present.
///
/// # Safety
/// `p` is NULL or points to a live `T` that nothing else uses for `'a`.
pub(crate) unsafe fn try_mut<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { p.as_mut() }.ok_or_else(|| null_parameter(name))
}

/// Checks an out-parameter before any work is done, so a call whose result
/// could not be returned does nothing.
pub(crate) fn check_out<T>(p: *mut T, name: &str) -> Result<(), Failure> {
    if p.is_null() {
        Err(null_parameter(name))
    } else {
        Ok(())
    }
}

pub(crate) fn null_parameter(name: &str) -> Failure {
    used_insight_error::new(
        used_insight_status::NullParameter,
        format!("{name} is NULL"),
    )
}

/// Hands a result to the caller: on success writes `*out` (never `*err`), on
/// failure writes `*err` when `err` is not NULL (never `*out`). Returns the
/// status.
///
/// # Safety
/// `out` was checked with [`check_out`] when `result` is `Ok`; `err` is NULL
/// or writable.
pub(crate) unsafe fn deliver<T>(
    result: Result<T, Failure>,
    out: *mut T,
    err: *mut *mut used_insight_error,
) -> used_insight_status {
    match result {
        Ok(value) => {
            // SAFETY: `out` is non-NULL (checked before the work) and writable
            // per the export's contract. `write` does not drop the old value,
            // which belongs to the caller.
            unsafe { out.write(value) };
            used_insight_status::Ok
        }
        Err(failure) => {
            let status = failure.status();
            // SAFETY: per the export's contract `err` is NULL or writable.
            if let Some(slot) = unsafe { err.as_mut() } {
                *slot = Box::into_raw(failure);
            }
            status
        }
    }
}

/// Frees a boxed object handed out with `Box::into_raw`; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or came from `Box::<T>::into_raw` and is not used again.
pub(crate) unsafe fn free_box<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: per the contract, `p` owns a `Box<T>` that is freed once.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// A C string from text that may contain NUL (e.g. an escaped `\u0000` in
/// JSON quoted by an error message): such bytes are written as `\0` so the
/// rest of the text is not cut off.
pub(crate) fn into_c_string(text: impl Into<String>) -> CString {
    let text = text.into();
    let text = if text.contains('\0') {
        text.replace('\0', "\\0")
    } else {
        text
    };
    // No NUL is left, so this cannot fail; an empty string is the harmless fallback.
    CString::new(text).unwrap_or_default()
}
