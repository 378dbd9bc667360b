//! The panic boundary. Unwinding out of an `extern "C"` function aborts the
//! caller's process, so every export runs its body inside
//! [`ffi_panic_boundary!`], which turns a panic into a value the C caller
//! can handle. `tests::every_export_runs_inside_the_panic_boundary` keeps
//! all exports covered.

use std::ptr::{null, null_mut};

use crate::error::used_insight_transport_kind;
use crate::status::used_insight_status;

/// What an export returns when its body panicked, and (`null_value`) what an
/// accessor returns when its object argument is NULL (see `ref_or_default!`).
pub(crate) trait PanicValue: Sized {
    fn panic_value() -> Self;

    /// The same "nothing" value, except for a status.
    fn null_value() -> Self {
        Self::panic_value()
    }
}

impl PanicValue for used_insight_status {
    fn panic_value() -> Self {
        used_insight_status::Panic
    }

    fn null_value() -> Self {
        used_insight_status::NullParameter
    }
}

impl PanicValue for used_insight_transport_kind {
    fn panic_value() -> Self {
        used_insight_transport_kind::None
    }
}

impl<T> PanicValue for *mut T {
    fn panic_value() -> Self {
        null_mut()
    }
}

impl<T> PanicValue for *const T {
    fn panic_value() -> Self {
        null()
    }
}

impl PanicValue for () {
    fn panic_value() -> Self {}
}

impl PanicValue for bool {
    fn panic_value() -> Self {
        false
    }
}

impl PanicValue for u16 {
    fn panic_value() -> Self {
        0
    }
}

impl PanicValue for usize {
    fn panic_value() -> Self {
        0
    }
}

impl PanicValue for i64 {
    /// The only `int64_t` export is a retry-after, where -1 means "none".
    fn panic_value() -> Self {
        -1
    }
}

/// Runs an export's body, returning [`PanicValue::panic_value`] if it panics.
///
/// `AssertUnwindSafe`: after a panic the caller only gets an error value; the
/// handles it passed stay memory-safe (Rust's own invariants hold), at worst
/// with a setting not applied.
macro_rules! ffi_panic_boundary {
    ( $($body:tt)* ) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            ::std::result::Result::Ok(value) => value,
            ::std::result::Result::Err(_) => $crate::panic::PanicValue::panic_value(),
        }
    };
}
