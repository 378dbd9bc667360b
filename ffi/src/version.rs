//! The library's version, as macros in the header and at run time.

use std::ffi::c_char;

// USED_INSIGHT_VERSION_STRING is made from these three by the header itself
// (cbindgen.toml's trailer): cbindgen cannot export a string constant.

/// Major version of the header (the library's is `used_insight_version()`).
pub const USED_INSIGHT_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const USED_INSIGHT_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const USED_INSIGHT_VERSION_PATCH: u32 = 0;

/// The version of the linked library, e.g. `"0.1.0"`: compare it with
/// `USED_INSIGHT_VERSION_STRING` to detect a header/library mismatch.
///
/// Returns a static NUL-terminated string: never NULL, never freed.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn used_insight_version() -> *const c_char {
    ffi_panic_boundary! {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    }
}
