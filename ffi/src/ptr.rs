//! Every check of a pointer or a string coming from C, in one place: NULL
//! becomes `NULL_PARAMETER`, bytes that are not UTF-8 become `INVALID_UTF8`
//! (never a lossy conversion), and results reach the caller only through
//! [`deliver`].
//!
//! The macros below are what export bodies are written with, in the manner
//! of rustls-ffi's `try_ref_from_ptr!`: each names the argument in its
//! message with `stringify!`, and each holds the `unsafe` block (and its
//! `SAFETY` comment) that every export would otherwise repeat. They are used
//! only inside an export's `ffi_panic_boundary!`, on the export's own
//! arguments, whose `# Safety` section is what the blocks rely on.

use std::ffi::{c_char, CStr, CString};

use crate::error::{used_insight_error, Failure};
use crate::status::used_insight_status;

/// `try_arg!(check, arg)` is `check(arg, "arg")?`: an unsafe reader of a C
/// argument that names it in its messages (e.g. `try_arg!(read_fields,
/// fields)`), its failure returned with `?` from the enclosing `deliver!` or
/// `set!` body.
macro_rules! try_arg {
    ($check:path, $arg:ident) => {
        // SAFETY: used only on an export's own argument, which the export's
        // `# Safety` section requires to be NULL or what `$check` reads.
        unsafe { $check($arg, stringify!($arg)) }?
    };
}

/// A handle argument that must not be NULL, borrowed ([`try_ref`]).
macro_rules! try_ref {
    ($arg:ident) => {
        try_arg!($crate::ptr::try_ref, $arg)
    };
}

/// A handle argument that must not be NULL, borrowed mutably ([`try_mut`]).
macro_rules! try_mut {
    ($arg:ident) => {
        try_arg!($crate::ptr::try_mut, $arg)
    };
}

/// A string argument that must not be NULL and must be UTF-8 ([`try_str`]).
macro_rules! try_str {
    ($arg:ident) => {
        try_arg!($crate::ptr::try_str, $arg)
    };
}

/// A callback argument (an `Option` of a function pointer) that must not be
/// NULL.
macro_rules! try_callback {
    ($arg:ident) => {
        $arg.ok_or_else(|| $crate::ptr::null_parameter(stringify!($arg)))?
    };
}

/// An out-parameter that must not be NULL ([`check_out`]); checked after the
/// other arguments, before any work.
macro_rules! check_out {
    ($arg:ident) => {
        $crate::ptr::check_out($arg, stringify!($arg))?
    };
}

/// The object argument of an accessor, borrowed; when it is NULL the export
/// returns at once its "nothing" value (`PanicValue::null_value`: NULL, 0,
/// -1, `false` or `USED_INSIGHT_STATUS_NULL_PARAMETER`). It `return`s, so it
/// is used only at the top level of an export's body.
macro_rules! ref_or_default {
    ($arg:ident) => {
        // SAFETY: used only on an export's own argument, which the export's
        // `# Safety` section requires to be NULL or a live object from this
        // library.
        match unsafe { $arg.as_ref() } {
            ::std::option::Option::Some(object) => object,
            ::std::option::Option::None => return $crate::panic::PanicValue::null_value(),
        }
    };
}

/// The body of an export that returns a status, writes `*out` only on
/// success and `*err` only on failure: `$body` is a block returning
/// `Result<T, Failure>` in which `?` fails the call. The body checks `$out`
/// with `check_out!` after the other arguments and before any work.
macro_rules! deliver {
    ($out:ident, $err:ident, $body:block) => {{
        let result = (|| -> ::std::result::Result<_, $crate::error::Failure> { $body })();
        // SAFETY: the body checked `$out` with `check_out!` before it could
        // succeed; `$err` is NULL or writable per the export's `# Safety`
        // section.
        unsafe { $crate::ptr::deliver(result, $out, $err) }
    }};
}

/// The body of a setter, which returns only a status (setters have no
/// `err`). `set!(options.field.method(value))` replaces `options->field` by
/// `field.method(value)`; `set!(options.field = value)` assigns it;
/// `set!(options.field => |copy| Ok(new))` replaces it by what the closure
/// makes of a copy of it ([`updated`]). The handle is checked first (NULL is
/// `NULL_PARAMETER`), then `value` (or the closure) is evaluated, where `?`
/// fails the call, so the object is unchanged on failure.
macro_rules! set {
    ($handle:ident . $field:ident . $method:ident ( $value:expr )) => {
        $crate::ptr::status((|| -> ::std::result::Result<(), $crate::error::Failure> {
            let handle = try_mut!($handle);
            let value = $value;
            handle.$field = ::std::mem::take(&mut handle.$field).$method(value);
            Ok(())
        })())
    };
    ($handle:ident . $field:ident = $value:expr) => {
        $crate::ptr::status((|| -> ::std::result::Result<(), $crate::error::Failure> {
            let handle = try_mut!($handle);
            handle.$field = $value;
            Ok(())
        })())
    };
    ($handle:ident . $field:ident => $update:expr) => {
        $crate::ptr::status((|| -> ::std::result::Result<(), $crate::error::Failure> {
            let handle = try_mut!($handle);
            handle.$field = $crate::ptr::updated(handle.$field.clone(), $update)?;
            Ok(())
        })())
    };
}

/// For `set!(options.field => |copy| ...)`: the closure's new value for a
/// field, made from a copy of the current one, or its failure (the field is
/// then left as it was).
pub(crate) fn updated<T>(
    copy: T,
    update: impl FnOnce(T) -> Result<T, Failure>,
) -> Result<T, Failure> {
    update(copy)
}

/// The body of a `_free` export: `free!(p)` frees an object handed out
/// boxed ([`free_box`]), `free!(p, free_c_string)` a string
/// ([`free_c_string`]).
macro_rules! free {
    ($arg:ident) => {
        free!($arg, free_box)
    };
    ($arg:ident, $free:ident) => {
        // SAFETY: used only in a `_free` export, whose `# Safety` section
        // requires `$arg` to be NULL or handed out by this library in the
        // way `$free` takes back, not freed before and not used after.
        unsafe { $crate::ptr::$free($arg) }
    };
}

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

/// The status of a call that has no `err` (the setters): the failure's
/// message is dropped.
pub(crate) fn status(result: Result<(), Failure>) -> used_insight_status {
    match result {
        Ok(()) => used_insight_status::Ok,
        Err(failure) => failure.status(),
    }
}

/// Hands a new object to the caller, who frees it with its `_free`
/// function ([`free_box`]).
pub(crate) fn boxed<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
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

/// A `struct_size` above this is certainly not a `sizeof`: refuse it before
/// reading that many bytes.
pub(crate) const MAX_STRUCT_SIZE: usize = 4096;

/// An extensible struct the caller passes in: it starts with `struct_size`.
pub(crate) struct Extensible<'a> {
    /// How the argument is named in messages, e.g. `fields` or `items[3]`.
    pub(crate) name: &'a str,
    /// Whether `name` is a pointer (`fields->struct_size`) rather than a
    /// struct (`items[3].struct_size`).
    pub(crate) is_pointer: bool,
    /// The C type, e.g. `used_insight_fields`.
    pub(crate) type_name: &'a str,
    /// The initialiser macro that sets `struct_size`.
    pub(crate) init: &'a str,
    /// This version's `sizeof`.
    pub(crate) known: usize,
}

/// Reads the `struct_size` member every extensible struct starts with.
///
/// # Safety
/// `p` is not NULL and points to at least `size_of::<usize>()` readable bytes.
pub(crate) unsafe fn read_struct_size(p: *const u8) -> usize {
    // SAFETY: per the contract; `read_unaligned` needs no alignment.
    unsafe { p.cast::<usize>().read_unaligned() }
}

/// Checks the `struct_size` of an extensible struct at `p`: one smaller than
/// this version's struct cannot be read; a larger one (a newer header) is
/// accepted only if the members this version does not know are all zero, so
/// nothing the caller set is silently ignored. Refusals are
/// `INVALID_ARGUMENT`.
///
/// # Safety
/// When `struct_size` is at most [`MAX_STRUCT_SIZE`], `struct_size` bytes at
/// `p` are readable.
pub(crate) unsafe fn check_struct_size(
    p: *const u8,
    struct_size: usize,
    what: &Extensible<'_>,
) -> Result<(), Failure> {
    let Extensible {
        name,
        is_pointer,
        type_name,
        init,
        known,
    } = *what;
    let member = if is_pointer { "->" } else { "." };
    let invalid = |message: String| {
        Err(used_insight_error::new(
            used_insight_status::InvalidArgument,
            message,
        ))
    };
    if struct_size < known || struct_size > MAX_STRUCT_SIZE {
        return invalid(format!(
            "{name}{member}struct_size is {struct_size}; set it to sizeof({type_name}) \
             (this library's is {known}), e.g. with {init}"
        ));
    }
    if struct_size > known {
        // SAFETY: `struct_size` is in bounds here, so per this function's
        // contract those bytes are readable.
        let tail = unsafe { std::slice::from_raw_parts(p.add(known), struct_size - known) };
        if tail.iter().any(|b| *b != 0) {
            return invalid(format!(
                "{name} sets members that this library version ({}) does not know \
                 (struct_size {struct_size} > {known}); link a newer libused_insight",
                env!("CARGO_PKG_VERSION")
            ));
        }
    }
    Ok(())
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

/// Frees a string handed out with `CString::into_raw`; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or came from `CString::into_raw` and is not used again.
pub(crate) unsafe fn free_c_string(p: *mut c_char) {
    if !p.is_null() {
        // SAFETY: per the contract, `p` owns a `CString` that is freed once.
        drop(unsafe { CString::from_raw(p) });
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
