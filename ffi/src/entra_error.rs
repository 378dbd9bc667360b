//! What a `USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED` error adds when a
//! credential failed: which one, and what Microsoft Entra ID said — the
//! accessors of `used_insight_error` for it.

use std::ffi::{c_char, CString};
use std::ptr::null;

use used_insight_core::TokenProviderError;

use crate::error::used_insight_error;
use crate::ptr::into_c_string;

/// Core's `TokenProviderError` details, as C strings owned by the error.
pub(crate) struct EntraDetails {
    credential: Option<CString>,
    status: u16,
    error: Option<CString>,
    error_description: Option<CString>,
    aadsts_code: Option<CString>,
    correlation_id: Option<CString>,
    trace_id: Option<CString>,
}

impl EntraDetails {
    /// The details of a credential's failure; `None` for a token callback's.
    pub(crate) fn from_core(e: &TokenProviderError) -> Option<Box<Self>> {
        let c = |s: Option<&str>| s.map(into_c_string);
        Some(Box::new(Self {
            credential: Some(into_c_string(e.credential()?)),
            status: e.status().unwrap_or(0),
            error: c(e.error()),
            error_description: c(e.error_description()),
            aadsts_code: c(e.aadsts_code()),
            correlation_id: c(e.correlation_id()),
            trace_id: c(e.trace_id()),
        }))
    }
}

/// A string of the details, or NULL.
fn detail(
    err: &used_insight_error,
    pick: impl Fn(&EntraDetails) -> &Option<CString>,
) -> *const c_char {
    err.entra()
        .and_then(|d| pick(d).as_ref())
        .map_or(null(), |s| s.as_ptr())
}

/// The credential that could not get a token, e.g.
/// `"ClientSecretCredential"`, `"ManagedIdentityCredential"` or
/// `"DefaultAzureCredential"`, for `USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED`;
/// NULL for a token callback's failure, other statuses, or when `err` is
/// NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_credential(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        detail(ref_or_default!(err), |d| &d.credential)
    }
}

/// The HTTP status of the token endpoint's answer (e.g. 400, 401) when a
/// credential's token request was refused; 0 when it did not answer, for
/// other failures and statuses, or when `err` is NULL. (Graph's own status
/// is `used_insight_error_http_status`; Graph was not asked.)
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_token_endpoint_status(
    err: *const used_insight_error,
) -> u16 {
    ffi_panic_boundary! {
        ref_or_default!(err).entra().map_or(0, |d| d.status)
    }
}

/// Entra ID's `error` for a refused token request, e.g. `"invalid_client"`
/// or `"unauthorized_client"`; NULL when it gave none, for other failures,
/// or when `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_entra_error(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        detail(ref_or_default!(err), |d| &d.error)
    }
}

/// Entra ID's `error_description` as sent, starting with the `AADSTS…`
/// code (`"AADSTS7000215: Invalid client secret provided. …"`); NULL when
/// it gave none, for other failures, or when `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_entra_error_description(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        detail(ref_or_default!(err), |d| &d.error_description)
    }
}

/// The `AADSTS…` code that starts Entra ID's description, e.g.
/// `"AADSTS7000215"` (a wrong client secret) or `"AADSTS700027"` (an
/// assertion its certificate does not verify); NULL when there is none,
/// for other failures, or when `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_aadsts_code(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        detail(ref_or_default!(err), |d| &d.aadsts_code)
    }
}

/// Entra ID's `correlation_id` for the refused token request (quote it,
/// with the trace id, when asking Microsoft); NULL when it gave none, for
/// other failures, or when `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_correlation_id(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        detail(ref_or_default!(err), |d| &d.correlation_id)
    }
}

/// Entra ID's `trace_id` for the refused token request; NULL when it gave
/// none, for other failures, or when `err` is NULL.
///
/// The string belongs to `err`: valid until `used_insight_error_free(err)`.
///
/// # Safety
/// `err` must be NULL or an error from this library that was not freed.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn used_insight_error_trace_id(
    err: *const used_insight_error,
) -> *const c_char {
    ffi_panic_boundary! {
        detail(ref_or_default!(err), |d| &d.trace_id)
    }
}
