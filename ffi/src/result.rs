//! `used_insight_result`: what `used_insight_create_fields` returns, readable
//! without a JSON parser.

use std::ffi::{c_char, CString};
use std::ptr::null;

use used_insight_core::UsedInsight;

use crate::ptr::into_c_string;

/// The usedInsight Graph created: its `id` and the full JSON as Graph
/// returned it (unknown properties kept).
///
/// Opaque: read it with `used_insight_result_id` and
/// `used_insight_result_json`, free it with `used_insight_result_free`.
/// Strings returned by the accessors belong to the result and stay valid
/// until it is freed. Immutable: the accessors may be called from several
/// threads at once.
pub struct used_insight_result {
    id: Option<CString>,
    json: CString,
}

impl used_insight_result {
    pub(crate) fn new(created: &UsedInsight) -> Self {
        Self {
            id: created.id.as_deref().map(into_c_string),
            json: into_c_string(created.to_json()),
        }
    }

    /// A result from the created usedInsight as the core's compact JSON,
    /// kept as it is; the `id` is read from it.
    pub(crate) fn from_created_json(json: String) -> Self {
        let id = UsedInsight::from_json(&json)
            .ok()
            .and_then(|created| created.id);
        Self {
            id: id.map(into_c_string),
            json: into_c_string(json),
        }
    }

    /// The `id`, or NULL when the answer had none; borrowed from `self`.
    pub(crate) fn id_ptr(&self) -> *const c_char {
        self.id.as_ref().map_or(null(), |id| id.as_ptr())
    }

    /// The JSON; borrowed from `self`.
    pub(crate) fn json_ptr(&self) -> *const c_char {
        self.json.as_ptr()
    }
}

/// The `id` Graph assigned to the new usedInsight, or NULL if the answer had
/// none or `result` is NULL.
///
/// The string belongs to `result`: valid until `used_insight_result_free`.
///
/// # Safety
/// `result` must be NULL or a result from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_result_id(
    result: *const used_insight_result,
) -> *const c_char {
    ffi_panic_boundary! {
        ref_or_default!(result).id_ptr()
    }
}

/// The created usedInsight as compact JSON in Graph's wire shape; NULL when
/// `result` is NULL.
///
/// The string belongs to `result`: valid until `used_insight_result_free`.
///
/// # Safety
/// `result` must be NULL or a result from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_result_json(
    result: *const used_insight_result,
) -> *const c_char {
    ffi_panic_boundary! {
        ref_or_default!(result).json_ptr()
    }
}

/// Frees a result and the strings borrowed from it. NULL is a no-op.
///
/// # Safety
/// `result` must be NULL or a result from this library that was not freed
/// yet; it must not be used afterwards, nor be freed while another thread
/// reads it.
#[no_mangle]
pub unsafe extern "C" fn used_insight_result_free(result: *mut used_insight_result) {
    ffi_panic_boundary! {
        free!(result)
    }
}
