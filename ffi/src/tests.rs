//! Rust tests of the C ABI: the exported functions called directly, with
//! NULL, bytes that are not UTF-8, and inputs that fail before any request.
//! Success and the remote statuses are proven by the C tests (tests/c/)
//! against graph-emulator.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};

use used_insight_core::{FieldKind, Model, ModelInfo, RateLimit, TransportErrorKind, UsedInsight};

use crate::batch::*;
use crate::batch_results::*;
use crate::client::*;
use crate::error::*;
use crate::fields::{used_insight_fields, PATHS};
use crate::options::*;
use crate::result::*;
use crate::status::*;
use crate::version::*;

const OK: used_insight_status = used_insight_status::Ok;
const NULL_PARAMETER: used_insight_status = used_insight_status::NullParameter;
const INVALID_UTF8: used_insight_status = used_insight_status::InvalidUtf8;

/// `café` in Latin-1: not UTF-8.
const NOT_UTF8: &CStr = c"caf\xe9";

fn text(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: the library returned a NUL-terminated string that is still live.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// An error written by a call, freed when dropped.
struct ErrSlot(*mut used_insight_error);

impl ErrSlot {
    fn new() -> Self {
        ErrSlot(null_mut())
    }

    fn slot(&mut self) -> *mut *mut used_insight_error {
        &mut self.0
    }

    fn get(&self) -> &used_insight_error {
        // SAFETY: written by the library, freed only on drop.
        unsafe { self.0.as_ref() }.expect("an error was written")
    }

    fn problems(&self) -> Vec<(String, String)> {
        // SAFETY: `self.0` is a live error.
        let n = unsafe { used_insight_error_problem_count(self.0) };
        (0..n)
            .map(|i| {
                // SAFETY: as above, `i` in range.
                unsafe {
                    (
                        text(used_insight_error_problem_path(self.0, i)),
                        text(used_insight_error_problem_reason(self.0, i)),
                    )
                }
            })
            .collect()
    }
}

impl Drop for ErrSlot {
    fn drop(&mut self) {
        // SAFETY: NULL or a live error from the library.
        unsafe { used_insight_error_free(self.0) }
    }
}

/// A port on loopback where nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// The URL of a [`closed_port`].
fn closed_port_url() -> String {
    format!("http://127.0.0.1:{}", closed_port())
}

fn options(base_url: &str) -> *mut used_insight_options {
    let base_url = std::ffi::CString::new(base_url).unwrap();
    let o = used_insight_options_new();
    // SAFETY: `o` is live; the strings are NUL-terminated.
    unsafe {
        assert_eq!(used_insight_options_set_base_url(o, base_url.as_ptr()), OK);
        assert_eq!(used_insight_options_set_token(o, c"T".as_ptr()), OK);
        assert_eq!(used_insight_options_set_max_retries(o, 0), OK);
    }
    o
}

fn client_for(o: *const used_insight_options) -> *mut used_insight_client {
    let mut client = null_mut();
    let mut err = ErrSlot::new();
    // SAFETY: `o` is live; the out-parameters are writable.
    let status = unsafe { used_insight_client_new(o, &mut client, err.slot()) };
    assert_eq!(status, OK, "{}", err.0.is_null());
    client
}

fn fields() -> used_insight_fields {
    // SAFETY: every member is a `usize` or a raw pointer, for which zero
    // (NULL) is valid; as `USED_INSIGHT_FIELDS_INIT` does, so a new member
    // needs no change here.
    let mut f: used_insight_fields = unsafe { std::mem::zeroed() };
    f.struct_size = std::mem::size_of::<used_insight_fields>();
    f.title = c"Quarterly report".as_ptr();
    f.r#type = c"Word".as_ptr();
    f.web_url = c"https://contoso.sharepoint.com/report.docx".as_ptr();
    f.last_accessed = c"2026-11-28T10:00:00Z".as_ptr();
    f
}

// ---------------------------------------------------------------- the boundary

/// Every `extern "C" fn` in src/ is `#[no_mangle]`, named `used_insight_*`,
/// and its whole body is one `ffi_panic_boundary! { ... }` (rustls-ffi
/// issue 286: an export without the boundary was found by a user).
#[test]
fn every_export_runs_inside_the_panic_boundary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut exports = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "tests.rs" {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let no_mangle = source.matches("#[no_mangle]").count();
        let mut found = 0;
        let mut rest = source.as_str();
        while let Some(at) = rest.find("extern \"C\" fn ") {
            let after = &rest[at + "extern \"C\" fn ".len()..];
            rest = after;
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found += 1;
            assert!(
                name.starts_with("used_insight_"),
                "{}: export `{name}` lacks the used_insight_ prefix",
                path.display()
            );
            let open = after.find('{').unwrap();
            let body = matching_block(&after[open..]);
            let inner = body[1..body.len() - 1].trim();
            assert!(
                inner.starts_with("ffi_panic_boundary! {")
                    && matching_block(&inner["ffi_panic_boundary! ".len()..]).len()
                        == inner.len() - "ffi_panic_boundary! ".len(),
                "{}: the body of `{name}` is not exactly one ffi_panic_boundary! {{ ... }}",
                path.display()
            );
            exports.push(name);
        }
        assert_eq!(
            found,
            no_mangle,
            "{}: every #[no_mangle] item must be an extern \"C\" fn and vice versa",
            path.display()
        );
    }
    assert!(exports.len() > 30, "found only {exports:?}");
    let header = include_str!("../../include/used_insight.h");
    for name in &exports {
        assert!(
            header.contains(&format!(" {name}(")) || header.contains(&format!("*{name}(")),
            "{name} is missing from include/used_insight.h: regenerate it (scripts/gen-header.sh)"
        );
    }
}

/// The text of the `{ ... }` block `text` starts with, braces included.
fn matching_block(text: &str) -> &str {
    assert!(text.starts_with('{'));
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces");
}

#[test]
fn a_panic_becomes_the_panic_status_null_or_a_neutral_number() {
    fn status() -> used_insight_status {
        ffi_panic_boundary! { panic!("boom") }
    }
    fn pointer() -> *const c_char {
        ffi_panic_boundary! { panic!("boom") }
    }
    fn retry_after() -> i64 {
        ffi_panic_boundary! { panic!("boom") }
    }
    fn count() -> usize {
        ffi_panic_boundary! { panic!("boom") }
    }
    fn kind() -> used_insight_transport_kind {
        ffi_panic_boundary! { panic!("boom") }
    }
    assert_eq!(status(), used_insight_status::Panic);
    assert!(pointer().is_null());
    assert_eq!(retry_after(), -1);
    assert_eq!(count(), 0);
    assert_eq!(kind(), used_insight_transport_kind::None);
}

// ------------------------------------------------------------- status, version

#[test]
fn status_values_are_stable_and_all_in_the_header() {
    use used_insight_status::*;
    let expected = [
        (Ok, 0),
        (NullParameter, 100),
        (InvalidUtf8, 101),
        (InvalidArgument, 102),
        (ValidationFailed, 103),
        (InvalidConfig, 104),
        (GraphApiError, 200),
        (Transport, 201),
        (Timeout, 202),
        (UndecodableResponse, 203),
        (TokenProviderFailed, 300),
        (Cancelled, 400),
        (Panic, 900),
        (Internal, 901),
    ];
    assert_eq!(used_insight_status::ALL.len(), expected.len());
    let header = include_str!("../../include/used_insight.h");
    let in_header = header.matches("  USED_INSIGHT_STATUS_").count();
    assert_eq!(in_header, expected.len(), "ALL is missing a status");
    for (status, value) in expected {
        assert_eq!(status as u32, value);
        assert_eq!(used_insight_status::from_u32(value), Some(status));
        let name = text(used_insight_status_name(value));
        assert!(header.contains(&format!("  {name} = {value},")), "{name}");
    }
}

#[test]
fn an_unknown_status_number_is_named_unknown_never_transmuted() {
    for value in [1, 99, 105, 299, 999, u32::MAX] {
        assert_eq!(used_insight_status::from_u32(value), None);
        assert_eq!(text(used_insight_status_name(value)), "unknown");
    }
}

#[test]
fn version_macros_match_the_crate_version() {
    assert_eq!(text(used_insight_version()), env!("CARGO_PKG_VERSION"));
    assert_eq!(
        USED_INSIGHT_VERSION_MAJOR.to_string(),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        USED_INSIGHT_VERSION_MINOR.to_string(),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        USED_INSIGHT_VERSION_PATCH.to_string(),
        env!("CARGO_PKG_VERSION_PATCH")
    );
}

// ------------------------------------------------------------------------ NULL

#[test]
fn every_free_function_accepts_null() {
    // SAFETY: NULL is documented as a no-op for each.
    unsafe {
        used_insight_options_free(null_mut());
        used_insight_client_free(null_mut());
        used_insight_error_free(null_mut());
        used_insight_result_free(null_mut());
        used_insight_string_free(null_mut());
        used_insight_batch_options_free(null_mut());
        used_insight_batch_results_free(null_mut());
    }
}

#[test]
fn every_accessor_accepts_a_null_object() {
    // SAFETY: NULL is allowed for every accessor.
    unsafe {
        assert_eq!(used_insight_error_status(null()), NULL_PARAMETER);
        assert!(used_insight_error_message(null()).is_null());
        assert_eq!(used_insight_error_http_status(null()), 0);
        assert!(used_insight_error_graph_code(null()).is_null());
        assert!(used_insight_error_request_id(null()).is_null());
        assert!(used_insight_error_client_request_id(null()).is_null());
        assert_eq!(used_insight_error_retry_after_ms(null()), -1);
        assert!(!used_insight_error_request_may_have_been_processed(null()));
        assert_eq!(
            used_insight_error_transport_kind(null()),
            used_insight_transport_kind::None
        );
        assert_eq!(used_insight_error_problem_count(null()), 0);
        assert!(used_insight_error_problem_path(null(), 0).is_null());
        assert!(used_insight_error_problem_reason(null(), 0).is_null());
        assert!(used_insight_result_id(null()).is_null());
        assert!(used_insight_result_json(null()).is_null());
        assert_eq!(used_insight_batch_results_count(null()), 0);
        assert_eq!(used_insight_batch_results_created_count(null()), 0);
        assert_eq!(used_insight_batch_results_status(null(), 0), NULL_PARAMETER);
        assert!(used_insight_batch_results_id(null(), 0).is_null());
        assert!(used_insight_batch_results_json(null(), 0).is_null());
        assert!(used_insight_batch_results_error(null(), 0).is_null());
        assert_eq!(
            used_insight_batch_options_set_concurrency(null_mut(), 2),
            NULL_PARAMETER
        );
        assert_eq!(
            used_insight_batch_options_set_progress(null_mut(), Some(count_progress), null_mut()),
            NULL_PARAMETER
        );
    }
}

#[test]
fn every_setter_reports_null_options_and_null_values() {
    let o = used_insight_options_new();
    // SAFETY: `o` is NULL or live; strings are NUL-terminated.
    unsafe {
        let n = null_mut();
        let s = c"x".as_ptr();
        assert_eq!(used_insight_options_set_base_url(n, s), NULL_PARAMETER);
        assert_eq!(used_insight_options_set_cloud(n, 0), NULL_PARAMETER);
        assert_eq!(used_insight_options_set_cloud_name(n, s), NULL_PARAMETER);
        assert_eq!(used_insight_options_set_api_version(n, s), NULL_PARAMETER);
        assert_eq!(used_insight_options_set_token(n, s), NULL_PARAMETER);
        assert_eq!(
            used_insight_options_set_token_callback(n, Some(failing_callback), null_mut()),
            NULL_PARAMETER
        );
        assert_eq!(used_insight_options_set_timeout_ms(n, 1), NULL_PARAMETER);
        assert_eq!(
            used_insight_options_set_connect_timeout_ms(n, 1),
            NULL_PARAMETER
        );
        assert_eq!(used_insight_options_set_max_retries(n, 1), NULL_PARAMETER);
        assert_eq!(
            used_insight_options_set_rate_limit(n, 4, 10, 1.0),
            NULL_PARAMETER
        );
        assert_eq!(used_insight_options_disable_rate_limit(n), NULL_PARAMETER);
        assert_eq!(used_insight_options_set_user_agent(n, s), NULL_PARAMETER);
        assert_eq!(
            used_insight_options_add_root_certificates_file(n, s),
            NULL_PARAMETER
        );
        assert_eq!(
            used_insight_options_add_root_certificates_pem(n, s),
            NULL_PARAMETER
        );
        assert_eq!(
            used_insight_options_set_system_roots(n, true),
            NULL_PARAMETER
        );
        assert_eq!(used_insight_options_set_proxy(n, s), NULL_PARAMETER);
        assert_eq!(used_insight_options_set_no_proxy(n), NULL_PARAMETER);

        assert_eq!(used_insight_options_set_base_url(o, null()), NULL_PARAMETER);
        assert_eq!(
            used_insight_options_set_cloud_name(o, null()),
            NULL_PARAMETER
        );
        assert_eq!(
            used_insight_options_set_api_version(o, null()),
            NULL_PARAMETER
        );
        assert_eq!(used_insight_options_set_token(o, null()), NULL_PARAMETER);
        assert_eq!(
            used_insight_options_set_token_callback(o, None, null_mut()),
            NULL_PARAMETER
        );
        assert_eq!(
            used_insight_options_set_user_agent(o, null()),
            NULL_PARAMETER
        );
        assert_eq!(
            used_insight_options_add_root_certificates_file(o, null()),
            NULL_PARAMETER
        );
        assert_eq!(
            used_insight_options_add_root_certificates_pem(o, null()),
            NULL_PARAMETER
        );
        assert_eq!(used_insight_options_set_proxy(o, null()), NULL_PARAMETER);
        // Nothing was added or changed by the refused calls.
        let builder = (*o).to_builder();
        assert_eq!(builder.get_extra_root_sources(), 0);
        assert_eq!(builder.get_proxy_shown(), "environment");
        used_insight_options_free(o);
    }
}

#[test]
fn client_new_reports_null_arguments_and_leaves_out_untouched() {
    let o = options("http://127.0.0.1:9");
    let sentinel = 0x1 as *mut used_insight_client;
    // SAFETY: live options; writable out-parameters.
    unsafe {
        let mut err = ErrSlot::new();
        assert_eq!(
            used_insight_client_new(null(), &mut null_mut(), err.slot()),
            NULL_PARAMETER
        );
        assert_eq!(err.get().message_str(), "options is NULL");

        let mut err = ErrSlot::new();
        assert_eq!(
            used_insight_client_new(o, null_mut(), err.slot()),
            NULL_PARAMETER
        );
        assert_eq!(err.get().message_str(), "out_client is NULL");

        // err itself may be NULL: the status alone is returned.
        let mut out = sentinel;
        assert_eq!(
            used_insight_client_new(null(), &mut out, null_mut()),
            NULL_PARAMETER
        );
        assert_eq!(out, sentinel);
        used_insight_options_free(o);
    }
}

#[test]
fn create_reports_each_null_argument_by_name() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let json = c"{}".as_ptr();
    let user = c"alice@contoso.com".as_ptr();
    let mut out: *mut c_char = null_mut();
    let cases: [(
        *const used_insight_client,
        *const c_char,
        *const c_char,
        bool,
        &str,
    ); 4] = [
        (null(), user, json, true, "client is NULL"),
        (client, null(), json, true, "user_id is NULL"),
        (client, user, null(), true, "insight_json is NULL"),
        (client, user, json, false, "out_json is NULL"),
    ];
    for (c, u, j, with_out, message) in cases {
        let mut err = ErrSlot::new();
        let out_ptr: *mut *mut c_char = if with_out { &mut out } else { null_mut() };
        // SAFETY: NULL or live arguments.
        let status = unsafe { used_insight_create(c, u, j, out_ptr, err.slot()) };
        assert_eq!(status, NULL_PARAMETER);
        assert_eq!(err.get().message_str(), message);
        assert!(out.is_null(), "out_json written on failure");
    }
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn create_fields_reports_each_null_argument_by_name() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let f = fields();
    let user = c"alice@contoso.com".as_ptr();
    let mut out: *mut used_insight_result = null_mut();
    let cases: [(
        *const used_insight_client,
        *const c_char,
        *const used_insight_fields,
        bool,
        &str,
    ); 4] = [
        (null(), user, &f, true, "client is NULL"),
        (client, null(), &f, true, "user_id is NULL"),
        (client, user, null(), true, "fields is NULL"),
        (client, user, &f, false, "out_result is NULL"),
    ];
    for (c, u, fp, with_out, message) in cases {
        let mut err = ErrSlot::new();
        let out_ptr: *mut *mut used_insight_result = if with_out { &mut out } else { null_mut() };
        // SAFETY: NULL or live arguments.
        let status = unsafe { used_insight_create_fields(c, u, fp, out_ptr, err.slot()) };
        assert_eq!(status, NULL_PARAMETER);
        assert_eq!(err.get().message_str(), message);
        assert!(out.is_null());
    }
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

// ------------------------------------------------------------- not UTF-8

#[test]
fn setters_refuse_strings_that_are_not_utf8() {
    let o = used_insight_options_new();
    let bad = NOT_UTF8.as_ptr();
    // SAFETY: live options, NUL-terminated strings.
    unsafe {
        assert_eq!(used_insight_options_set_base_url(o, bad), INVALID_UTF8);
        assert_eq!(used_insight_options_set_cloud_name(o, bad), INVALID_UTF8);
        assert_eq!(used_insight_options_set_api_version(o, bad), INVALID_UTF8);
        assert_eq!(used_insight_options_set_token(o, bad), INVALID_UTF8);
        assert_eq!(used_insight_options_set_user_agent(o, bad), INVALID_UTF8);
        assert_eq!(
            used_insight_options_add_root_certificates_file(o, bad),
            INVALID_UTF8
        );
        assert_eq!(
            used_insight_options_add_root_certificates_pem(o, bad),
            INVALID_UTF8
        );
        assert_eq!(used_insight_options_set_proxy(o, bad), INVALID_UTF8);
        let builder = (*o).to_builder();
        assert_eq!(builder.get_extra_root_sources(), 0);
        assert_eq!(builder.get_proxy_shown(), "environment");
        used_insight_options_free(o);
    }
}

#[test]
fn create_refuses_user_id_and_json_that_are_not_utf8() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let mut out: *mut c_char = null_mut();
    // SAFETY: live arguments.
    unsafe {
        let mut err = ErrSlot::new();
        let status = used_insight_create(
            client,
            NOT_UTF8.as_ptr(),
            c"{}".as_ptr(),
            &mut out,
            err.slot(),
        );
        assert_eq!(status, INVALID_UTF8);
        assert_eq!(
            err.get().message_str(),
            "user_id is not valid UTF-8 (bad byte at offset 3)"
        );

        let mut err = ErrSlot::new();
        let json = c"{\"resourceVisualization\":{\"title\":\"caf\xe9\"}}";
        let status =
            used_insight_create(client, c"a".as_ptr(), json.as_ptr(), &mut out, err.slot());
        assert_eq!(status, INVALID_UTF8);
        assert!(err
            .get()
            .message_str()
            .starts_with("insight_json is not valid UTF-8"));
        assert!(out.is_null());
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn create_fields_lists_every_member_that_is_not_utf8() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let mut f = fields();
    f.title = NOT_UTF8.as_ptr();
    f.resource_type = NOT_UTF8.as_ptr();
    f.last_modified = NOT_UTF8.as_ptr();
    let mut out = null_mut();
    let mut err = ErrSlot::new();
    // SAFETY: live arguments.
    let status =
        unsafe { used_insight_create_fields(client, c"a".as_ptr(), &f, &mut out, err.slot()) };
    assert_eq!(status, INVALID_UTF8);
    let paths: Vec<String> = err.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "resourceVisualization.title",
            "resourceReference.type",
            "lastUsed.lastModifiedDateTime"
        ]
    );
    assert!(out.is_null());
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

/// The leaf paths of a model (`lastUsed.lastAccessedDateTime`…), walked
/// from core's own table.
fn leaf_paths(model: &ModelInfo, parent: &str, out: &mut Vec<String>) {
    for field in model.fields {
        let path = match parent {
            "" => field.wire_name.to_owned(),
            _ => format!("{parent}.{}", field.wire_name),
        };
        match field.kind {
            FieldKind::Object(inner) => leaf_paths(inner, &path, out),
            FieldKind::Text | FieldKind::Id | FieldKind::Url | FieldKind::DateTime => {
                out.push(path)
            }
            other => panic!("{path} is a {other:?}, a kind used_insight_fields cannot carry yet"),
        }
    }
}

/// A property added to core's model fails here until `used_insight_fields`
/// has a member for it (and the table in src/fields.rs its path); the
/// top-level `id` is Graph's to assign.
#[test]
fn every_text_property_of_core_has_one_member() {
    let mut leaves = Vec::new();
    leaf_paths(UsedInsight::MODEL, "", &mut leaves);
    leaves.retain(|path| path != "id");
    for leaf in &leaves {
        let members = PATHS.iter().filter(|path| *path == leaf).count();
        assert_eq!(
            members, 1,
            "core's usedInsight has {leaf}: used_insight_fields needs exactly one member for it \
             (add it at the end of the struct and to the table in ffi/src/fields.rs)"
        );
    }
    for path in PATHS {
        assert!(
            leaves.iter().any(|leaf| leaf == path),
            "{path} is not a property of core's usedInsight"
        );
    }
    let members = (std::mem::size_of::<used_insight_fields>() - std::mem::size_of::<usize>())
        / std::mem::size_of::<*const c_char>();
    assert_eq!(PATHS.len(), members);
}

// ------------------------------------------------ failures before any request

#[test]
fn options_refuse_out_of_range_values() {
    let o = used_insight_options_new();
    let invalid = used_insight_status::InvalidArgument;
    // SAFETY: live options, NUL-terminated strings.
    unsafe {
        assert_eq!(used_insight_options_set_cloud(o, 3), OK);
        assert_eq!(used_insight_options_set_cloud(o, 4), invalid);
        assert_eq!(used_insight_options_set_cloud(o, u32::MAX), invalid);
        assert_eq!(
            used_insight_options_set_cloud_name(o, c"US-Gov".as_ptr()),
            OK
        );
        assert_eq!(
            used_insight_options_set_cloud_name(o, c"mars".as_ptr()),
            invalid
        );
        assert_eq!(
            used_insight_options_set_api_version(o, c"beta".as_ptr()),
            OK
        );
        assert_eq!(
            used_insight_options_set_api_version(o, c"v2".as_ptr()),
            invalid
        );
        assert_eq!(used_insight_options_set_timeout_ms(o, 0), invalid);
        assert_eq!(used_insight_options_set_connect_timeout_ms(o, 0), invalid);
        assert_eq!(used_insight_options_set_timeout_ms(o, 1500), OK);
        for (max, requests, per) in [
            (0, 10, 1.0),
            (4, 0, 1.0),
            (4, 10, 0.0),
            (4, 10, -1.0),
            (4, 10, f64::NAN),
            (4, 10, f64::INFINITY),
            (4, 10, 86_401.0),
        ] {
            assert_eq!(
                used_insight_options_set_rate_limit(o, max, requests, per),
                invalid,
                "{max} {requests} {per}"
            );
        }
        assert_eq!(
            (*o).to_builder().get_rate_limit(),
            Some(RateLimit::default())
        );
        assert_eq!(used_insight_options_set_rate_limit(o, 2, 20, 2.5), OK);
        let set = (*o).to_builder().get_rate_limit().unwrap();
        assert_eq!((set.max_concurrent, set.requests), (2, 20));
        assert_eq!(set.per, std::time::Duration::from_millis(2500));
        assert_eq!(used_insight_options_disable_rate_limit(o), OK);
        assert_eq!((*o).to_builder().get_rate_limit(), None);
        used_insight_options_free(o);
    }
}

/// The setters' rules on values are core's, in core's words.
#[test]
fn setters_refuse_what_core_refuses_in_its_words() {
    use std::time::Duration;
    use used_insight_core::ClientBuilder;
    let zero = [
        ClientBuilder::default().timeout(Duration::ZERO),
        ClientBuilder::default().connect_timeout(Duration::ZERO),
    ];
    let messages: Vec<String> = zero
        .into_iter()
        .map(|b| checked(b).err().unwrap().message_str().to_owned())
        .collect();
    assert_eq!(
        messages,
        [
            "timeout must be more than zero",
            "connect_timeout must be more than zero"
        ]
    );
    assert!(checked(ClientBuilder::default().timeout(Duration::from_millis(1))).is_ok());
}

/// The first retry delay: set in milliseconds on core's policy, the rest of
/// the policy kept; more than core's longest single wait refused, leaving
/// the options as they were.
#[test]
fn retry_delay_sets_the_policys_first_wait_within_cores_rule() {
    use std::time::Duration;
    use used_insight_core::{bindings, RetryPolicy};
    let o = used_insight_options_new();
    // SAFETY: live options, freed once; NULL is checked.
    unsafe {
        assert_eq!(used_insight_options_set_max_retries(o, 5), OK);
        assert_eq!(used_insight_options_set_retry_delay_ms(o, 20), OK);
        let expected = RetryPolicy::default()
            .with_max_retries(5)
            .with_initial_delay(Duration::from_millis(20));
        assert_eq!(*(*o).to_builder().get_retry_policy(), expected);
        for refused in [60_001, u32::MAX] {
            assert_eq!(
                used_insight_options_set_retry_delay_ms(o, refused),
                used_insight_status::InvalidArgument,
                "{refused}"
            );
        }
        assert_eq!(*(*o).to_builder().get_retry_policy(), expected);
        assert_eq!(used_insight_options_set_retry_delay_ms(o, 60_000), OK);
        assert_eq!(used_insight_options_set_retry_delay_ms(o, 0), OK);
        assert_eq!(
            (*o).to_builder().get_retry_policy().initial_delay,
            Duration::ZERO
        );
        assert_eq!(
            used_insight_options_set_retry_delay_ms(null_mut(), 20),
            NULL_PARAMETER
        );
        used_insight_options_free(o);
    }
    // What the setter's INVALID_ARGUMENT stands for, in core's words.
    let err =
        bindings::retry_delay(&RetryPolicy::default(), Duration::from_millis(60_001)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "retry_delay must be at most 60 s (the longest single wait), not 60.001 s"
    );
}

/// A refused value leaves the options as they were; max_retries changes
/// only the number of retries of core's policy.
#[test]
fn setters_keep_the_options_on_failure_and_the_rest_of_the_policy() {
    use std::time::Duration;
    let o = used_insight_options_new();
    // SAFETY: live options, freed once.
    unsafe {
        assert_eq!(used_insight_options_set_timeout_ms(o, 1500), OK);
        assert_eq!(
            used_insight_options_set_timeout_ms(o, 0),
            used_insight_status::InvalidArgument
        );
        assert_eq!(used_insight_options_set_max_retries(o, 7), OK);
        let builder = (*o).to_builder();
        assert_eq!(builder.get_timeout(), Duration::from_millis(1500));
        let policy = used_insight_core::RetryPolicy::default().with_max_retries(7);
        assert_eq!(*builder.get_retry_policy(), policy);
        used_insight_options_free(o);
    }
}

#[test]
fn client_new_reports_unusable_options_as_invalid_config() {
    let no_token = used_insight_options_new();
    let remote_http = options("http://graph.example.com");
    for (o, needle) in [(no_token, "no token"), (remote_http, "https")] {
        let mut client = null_mut();
        let mut err = ErrSlot::new();
        // SAFETY: live options; writable out-parameters.
        let status = unsafe { used_insight_client_new(o, &mut client, err.slot()) };
        assert_eq!(status, used_insight_status::InvalidConfig);
        assert!(client.is_null());
        assert!(
            err.get().message_str().contains(needle),
            "{}",
            err.get().message_str()
        );
        // SAFETY: live options, freed once.
        unsafe { used_insight_options_free(o) };
    }
}

#[test]
fn create_fields_reports_every_problem_with_its_path() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let mut f = fields();
    f.title = null();
    f.r#type = null();
    f.web_url = null();
    f.preview_image_url = c"ftp://contoso.com/x.png".as_ptr();
    f.last_accessed = c"yesterday".as_ptr();
    let mut out = null_mut();
    let mut err = ErrSlot::new();
    // SAFETY: live arguments.
    let status =
        unsafe { used_insight_create_fields(client, c"..".as_ptr(), &f, &mut out, err.slot()) };
    assert_eq!(status, used_insight_status::ValidationFailed);
    let paths: Vec<String> = err.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "usersId",
            "lastUsed.lastAccessedDateTime",
            "resourceVisualization.previewImageUrl",
            "resourceReference",
        ]
    );
    assert!(err
        .get()
        .message_str()
        .starts_with("invalid input: 4 problems"));
    // SAFETY: a live error.
    unsafe {
        assert!(used_insight_error_client_request_id(err.0).is_null());
        assert_eq!(used_insight_error_http_status(err.0), 0);
        assert!(used_insight_error_problem_path(err.0, 4).is_null());
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn create_reports_json_problems_with_their_paths() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let mut out = null_mut();
    let mut err = ErrSlot::new();
    let json =
        cr#"{"lastUsed":{"lastAccessedDateTime":"2026-11-28"},"resourceReference":{"webUrl":"x"}}"#;
    // SAFETY: live arguments.
    let status = unsafe {
        used_insight_create(
            client,
            c"alice@contoso.com".as_ptr(),
            json.as_ptr(),
            &mut out,
            err.slot(),
        )
    };
    assert_eq!(status, used_insight_status::ValidationFailed);
    let paths: Vec<String> = err.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "lastUsed.lastAccessedDateTime",
            "resourceVisualization",
            "resourceReference.webUrl"
        ]
    );
    assert!(out.is_null());
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn struct_size_must_be_the_callers_sizeof() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    // A caller compiled against a newer header: known members, then one more.
    #[repr(C)]
    struct Newer {
        known: used_insight_fields,
        added: *const c_char,
    }
    let mut newer = Newer {
        known: fields(),
        added: c"set".as_ptr(),
    };
    newer.known.struct_size = std::mem::size_of::<Newer>();
    let mut small = fields();
    small.struct_size = 8;
    let mut out = null_mut();
    for f in [&small as *const used_insight_fields, &newer.known] {
        let mut err = ErrSlot::new();
        // SAFETY: live arguments; `struct_size` bytes are readable.
        let status =
            unsafe { used_insight_create_fields(client, c"a".as_ptr(), f, &mut out, err.slot()) };
        assert_eq!(status, used_insight_status::InvalidArgument);
        assert!(err.get().message_str().contains("struct_size"));
    }
    // The unknown member left NULL: accepted (fails later, at the closed port).
    newer.added = null();
    let mut err = ErrSlot::new();
    // SAFETY: as above.
    let status = unsafe {
        used_insight_create_fields(client, c"a".as_ptr(), &newer.known, &mut out, err.slot())
    };
    assert_eq!(status, used_insight_status::Transport);
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

unsafe extern "C" fn failing_callback(
    _user_data: *mut c_void,
    buf: *mut c_char,
    buf_len: usize,
) -> c_int {
    let message = b"vault is locked\0";
    assert!(buf_len >= message.len());
    // SAFETY: the library passes a writable buffer of `buf_len` bytes.
    unsafe { std::ptr::copy_nonoverlapping(message.as_ptr().cast(), buf, message.len()) };
    42
}

#[test]
fn a_failing_token_callback_is_reported_with_its_message_and_nothing_is_sent() {
    let o = options(&closed_port_url());
    // SAFETY: live options; the callback is thread-safe (no state).
    unsafe {
        assert_eq!(
            used_insight_options_set_token_callback(o, Some(failing_callback), null_mut()),
            OK
        );
    }
    let client = client_for(o);
    let f = fields();
    let mut out = null_mut();
    let mut err = ErrSlot::new();
    // SAFETY: live arguments.
    let status =
        unsafe { used_insight_create_fields(client, c"a".as_ptr(), &f, &mut out, err.slot()) };
    assert_eq!(status, used_insight_status::TokenProviderFailed);
    assert!(
        err.get()
            .message_str()
            .contains("returned 42: vault is locked"),
        "{}",
        err.get().message_str()
    );
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn a_closed_port_is_a_transport_error_that_was_not_processed() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let mut out = null_mut();
    let mut err = ErrSlot::new();
    let json = cr#"{"lastUsed":{"lastAccessedDateTime":"2026-11-28T10:00:00Z"},"resourceVisualization":{"title":"t"},"resourceReference":{"webUrl":"https://contoso.com/x"}}"#;
    // SAFETY: live arguments.
    let status =
        unsafe { used_insight_create(client, c"a".as_ptr(), json.as_ptr(), &mut out, err.slot()) };
    assert_eq!(status, used_insight_status::Transport);
    assert!(out.is_null());
    // SAFETY: a live error.
    unsafe {
        assert!(!used_insight_error_request_may_have_been_processed(err.0));
        assert_eq!(
            used_insight_error_transport_kind(err.0),
            used_insight_transport_kind::Connect
        );
        assert_eq!(text(used_insight_error_client_request_id(err.0)).len(), 36);
        assert_eq!(used_insight_error_retry_after_ms(err.0), -1);
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn a_nul_inside_an_error_text_is_kept_visible() {
    let e = used_insight_error::new(used_insight_status::Internal, "a\0b");
    assert_eq!(e.message_str(), "a\\0b");
}

// ---------------------------------------------------- networks: trust, proxies

fn c_string(text: &str) -> CString {
    CString::new(text).unwrap()
}

/// `used_insight_client_new` on options it must refuse: the status and the
/// error (no client is made).
fn refused_client(o: *const used_insight_options) -> (used_insight_status, ErrSlot) {
    let mut client = null_mut();
    let mut err = ErrSlot::new();
    // SAFETY: live options; writable out-parameters.
    let status = unsafe { used_insight_client_new(o, &mut client, err.slot()) };
    assert!(client.is_null(), "a client was made");
    (status, err)
}

/// `used_insight_create` of a valid insight; the status and the error.
fn create_valid(client: *const used_insight_client) -> (used_insight_status, ErrSlot) {
    let mut out = null_mut();
    let mut err = ErrSlot::new();
    // SAFETY: live arguments.
    let status = unsafe {
        used_insight_create(
            client,
            c"a".as_ptr(),
            VALID_JSON.as_ptr(),
            &mut out,
            err.slot(),
        )
    };
    assert!(out.is_null());
    (status, err)
}

#[test]
fn transport_kinds_are_stable_in_the_header_and_named_as_core_names_them() {
    use used_insight_transport_kind::*;
    let expected = [
        (None, 0),
        (Connect, 1),
        (Tls, 2),
        (ConnectionLost, 3),
        (Redirect, 4),
        (Proxy, 5),
        (Other, 6),
    ];
    let header = include_str!("../../include/used_insight.h");
    let in_header = header.matches("  USED_INSIGHT_TRANSPORT_KIND_").count();
    assert_eq!(in_header, expected.len());
    assert!(header.contains("  USED_INSIGHT_TRANSPORT_KIND_NONE = 0,"));
    for (core, c) in [
        (TransportErrorKind::Connect, Connect),
        (TransportErrorKind::Tls, Tls),
        (TransportErrorKind::ConnectionLost, ConnectionLost),
        (TransportErrorKind::Redirect, Redirect),
        (TransportErrorKind::Proxy, Proxy),
        (TransportErrorKind::Other, Other),
    ] {
        assert_eq!(used_insight_transport_kind::from_core(core), c);
        let value = expected.iter().find(|(k, _)| *k == c).unwrap().1;
        assert_eq!(c as u32, value);
        let name = format!(
            "  USED_INSIGHT_TRANSPORT_KIND_{} = {value},",
            core.as_str().to_ascii_uppercase()
        );
        assert!(header.contains(&name), "{name}");
    }
}

#[test]
fn trust_and_proxy_setters_change_only_their_setting() {
    let o = used_insight_options_new();
    let pem = c_string(include_str!("../../core/tests/certs/two_roots.pem"));
    // SAFETY: live options, NUL-terminated strings, freed once.
    unsafe {
        assert_eq!(
            used_insight_options_add_root_certificates_file(o, c"/etc/corp-root.pem".as_ptr()),
            OK
        );
        assert_eq!(
            used_insight_options_add_root_certificates_pem(o, pem.as_ptr()),
            OK
        );
        assert_eq!(
            used_insight_options_add_root_certificates_file(o, c"/etc/other.pem".as_ptr()),
            OK
        );
        assert_eq!(used_insight_options_set_system_roots(o, true), OK);
        let builder = (*o).to_builder();
        assert_eq!(builder.get_extra_root_sources(), 3, "each call adds");
        assert!(builder.get_system_roots());
        assert_eq!(used_insight_options_set_system_roots(o, false), OK);
        assert!(!(*o).to_builder().get_system_roots());

        assert_eq!((*o).to_builder().get_proxy_shown(), "environment");
        let proxy = c"http://user:s3cret@proxy.corp:3128";
        assert_eq!(used_insight_options_set_proxy(o, proxy.as_ptr()), OK);
        assert_eq!(
            (*o).to_builder().get_proxy_shown(),
            "http://proxy.corp:3128"
        );
        assert_eq!(used_insight_options_set_no_proxy(o), OK);
        assert_eq!((*o).to_builder().get_proxy_shown(), "none");
        assert_eq!(used_insight_options_set_proxy(o, proxy.as_ptr()), OK);
        assert_eq!(
            (*o).to_builder().get_proxy_shown(),
            "http://proxy.corp:3128"
        );
        used_insight_options_free(o);
    }
}

#[test]
fn an_unreadable_root_file_is_invalid_config_naming_the_file() {
    let missing = std::env::temp_dir()
        .join(format!("used-insight-ffi-{}-absent", std::process::id()))
        .join("corp-root.pem");
    let missing = missing.to_str().unwrap();
    let o = options(&closed_port_url());
    // SAFETY: live options, a NUL-terminated string.
    let status =
        unsafe { used_insight_options_add_root_certificates_file(o, c_string(missing).as_ptr()) };
    assert_eq!(status, OK, "the file is read by client_new, not here");
    let (status, err) = refused_client(o);
    assert_eq!(status, used_insight_status::InvalidConfig);
    let message = err.get().message_str();
    assert!(
        message.starts_with("invalid configuration: cannot read root certificates from `")
            && message.contains(missing),
        "{message}"
    );
    // SAFETY: a live error; live options, freed once.
    unsafe {
        assert_eq!(
            used_insight_error_transport_kind(err.0),
            used_insight_transport_kind::None
        );
        used_insight_options_free(o);
    }
}

#[test]
fn a_root_file_with_certificates_makes_a_client() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/certs/two_roots.pem"
    );
    let o = options(&closed_port_url());
    // SAFETY: live options, a NUL-terminated string.
    let status =
        unsafe { used_insight_options_add_root_certificates_file(o, c_string(file).as_ptr()) };
    assert_eq!(status, OK);
    let client = client_for(o);
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn pem_text_without_a_certificate_is_invalid_config() {
    for pem in [c"no certificates here\n", c""] {
        let o = options(&closed_port_url());
        // SAFETY: live options; a NUL-terminated string.
        let status = unsafe { used_insight_options_add_root_certificates_pem(o, pem.as_ptr()) };
        assert_eq!(status, OK, "the text is read by client_new, not here");
        let (status, err) = refused_client(o);
        assert_eq!(status, used_insight_status::InvalidConfig);
        let message = err.get().message_str();
        assert!(
            message.contains("the PEM text given holds no certificate"),
            "{message}"
        );
        // SAFETY: live options, freed once.
        unsafe { used_insight_options_free(o) };
    }
}

#[test]
fn a_socks_proxy_is_invalid_config_without_its_password() {
    let o = options(&closed_port_url());
    // SAFETY: live options; a NUL-terminated string.
    let status = unsafe {
        used_insight_options_set_proxy(o, c"socks5://user:s3cret@proxy.corp:1080".as_ptr())
    };
    assert_eq!(status, OK, "refused by client_new, not here");
    let (status, err) = refused_client(o);
    assert_eq!(status, used_insight_status::InvalidConfig);
    let message = err.get().message_str();
    assert!(
        message.contains("SOCKS")
            && message.contains("proxy.corp:1080")
            && !message.contains("s3cret"),
        "{message}"
    );
    // SAFETY: live options, freed once.
    unsafe { used_insight_options_free(o) };
}

/// The base URL is loopback and listening; the explicit proxy is a closed
/// loopback port. The proxy is not bypassed for loopback (only the
/// environment's proxy is): the create fails to connect to the proxy,
/// saying so, and nothing reaches the listener.
#[test]
fn an_explicit_proxy_on_a_closed_port_is_a_connect_error_naming_it() {
    let graph = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    graph.set_nonblocking(true).unwrap();
    let base_url = format!("http://{}", graph.local_addr().unwrap());
    let proxy_port = closed_port();
    let proxy = c_string(&format!("http://user:s3cret@127.0.0.1:{proxy_port}"));
    let o = options(&base_url);
    // SAFETY: live options; NUL-terminated strings.
    unsafe {
        // Were the proxy bypassed, the listener would accept the request and
        // never answer: a timeout, not a connect error.
        assert_eq!(used_insight_options_set_timeout_ms(o, 3000), OK);
        assert_eq!(used_insight_options_set_proxy(o, proxy.as_ptr()), OK);
    }
    let client = client_for(o);
    let (status, err) = create_valid(client);
    assert_eq!(
        status,
        used_insight_status::Transport,
        "{}",
        err.get().message_str()
    );
    let message = err.get().message_str();
    assert!(
        message.contains(&format!("proxy http://127.0.0.1:{proxy_port}")),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
    // SAFETY: a live error; live handles, freed once.
    unsafe {
        assert_eq!(
            used_insight_error_transport_kind(err.0),
            used_insight_transport_kind::Connect
        );
        assert!(!used_insight_error_request_may_have_been_processed(err.0));
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
    assert!(graph.accept().is_err(), "the request bypassed the proxy");
}

/// `set_no_proxy` replaces an explicit proxy: the create goes straight to
/// the (closed) base URL, and its error names no proxy.
#[test]
fn no_proxy_replaces_an_explicit_proxy() {
    let proxy = c_string(&format!("http://127.0.0.1:{}", closed_port()));
    let o = options(&closed_port_url());
    // SAFETY: live options; a NUL-terminated string.
    unsafe {
        assert_eq!(used_insight_options_set_proxy(o, proxy.as_ptr()), OK);
        assert_eq!(used_insight_options_set_no_proxy(o), OK);
    }
    let client = client_for(o);
    let (status, err) = create_valid(client);
    assert_eq!(status, used_insight_status::Transport);
    let message = err.get().message_str();
    assert!(
        message.starts_with("could not connect: ") && !message.contains("proxy"),
        "{message}"
    );
    // SAFETY: live handles, freed once.
    unsafe {
        assert_eq!(
            used_insight_error_transport_kind(err.0),
            used_insight_transport_kind::Connect
        );
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

// ------------------------------------------------------------------ create_many

fn json_item(user_id: &CStr, json: &CStr) -> used_insight_batch_item {
    used_insight_batch_item {
        struct_size: std::mem::size_of::<used_insight_batch_item>(),
        user_id: user_id.as_ptr(),
        insight_json: json.as_ptr(),
        fields: null(),
    }
}

fn fields_item(user_id: &CStr, fields: &used_insight_fields) -> used_insight_batch_item {
    used_insight_batch_item {
        struct_size: std::mem::size_of::<used_insight_batch_item>(),
        user_id: user_id.as_ptr(),
        insight_json: null(),
        fields,
    }
}

const VALID_JSON: &CStr = cr#"{"lastUsed":{"lastAccessedDateTime":"2026-11-28T10:00:00Z"},"resourceVisualization":{"title":"t"},"resourceReference":{"webUrl":"https://contoso.com/x"}}"#;

/// What the progress callback saw.
#[derive(Default)]
struct Progress {
    calls: AtomicUsize,
    last_done: AtomicUsize,
    total: AtomicUsize,
}

unsafe extern "C" fn count_progress(user_data: *mut c_void, done: usize, total: usize) {
    // SAFETY: the tests pass a live `Progress` (or NULL, never called then).
    let Some(p) = (unsafe { user_data.cast::<Progress>().as_ref() }) else {
        return;
    };
    p.calls.fetch_add(1, Ordering::SeqCst);
    p.last_done.fetch_max(done, Ordering::SeqCst);
    p.total.store(total, Ordering::SeqCst);
}

/// A result set returned by a call, freed when dropped.
struct Results(*mut used_insight_batch_results);

impl Results {
    fn status(&self, i: usize) -> used_insight_status {
        // SAFETY: NULL or a live result set.
        unsafe { used_insight_batch_results_status(self.0, i) }
    }

    fn message(&self, i: usize) -> String {
        // SAFETY: a live result set; the error is borrowed from it.
        unsafe {
            text(used_insight_error_message(
                used_insight_batch_results_error(self.0, i),
            ))
        }
    }

    fn problem_paths(&self, i: usize) -> Vec<String> {
        // SAFETY: a live result set; the error is borrowed from it.
        unsafe {
            let e = used_insight_batch_results_error(self.0, i);
            (0..used_insight_error_problem_count(e))
                .map(|p| text(used_insight_error_problem_path(e, p)))
                .collect()
        }
    }
}

impl Drop for Results {
    fn drop(&mut self) {
        // SAFETY: NULL or a live result set from the library.
        unsafe { used_insight_batch_results_free(self.0) }
    }
}

/// Runs `used_insight_create_many`; the result set (or NULL) and the status.
fn create_many(
    client: *const used_insight_client,
    items: &[used_insight_batch_item],
    options: *const used_insight_batch_options,
    err: &mut ErrSlot,
) -> (used_insight_status, Results) {
    let mut out = null_mut();
    // SAFETY: live arguments; `items` holds `items.len()` items.
    let status = unsafe {
        used_insight_create_many(
            client,
            items.as_ptr(),
            items.len(),
            options,
            &mut out,
            err.slot(),
        )
    };
    (status, Results(out))
}

#[test]
fn create_many_reports_each_null_argument_by_name_and_leaves_out_untouched() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let user = c"alice@contoso.com";
    let good = json_item(user, VALID_JSON);
    let mut no_user = good;
    no_user.user_id = null();
    let mut neither = good;
    neither.insight_json = null();
    let sentinel = 0x1 as *mut used_insight_batch_results;
    let mut out = sentinel;
    // SAFETY: NULL or live arguments; arrays hold `count` items.
    unsafe {
        let mut err = ErrSlot::new();
        let status = used_insight_create_many(null(), &good, 1, null(), &mut out, err.slot());
        assert_eq!(status, NULL_PARAMETER);
        assert_eq!(err.get().message_str(), "client is NULL");

        let mut err = ErrSlot::new();
        let status = used_insight_create_many(client, null(), 3, null(), &mut out, err.slot());
        assert_eq!(status, NULL_PARAMETER);
        assert_eq!(err.get().message_str(), "items is NULL");

        let mut err = ErrSlot::new();
        let status = used_insight_create_many(client, &good, 1, null(), null_mut(), err.slot());
        assert_eq!(status, NULL_PARAMETER);
        assert_eq!(err.get().message_str(), "out_results is NULL");

        let items = [good, no_user];
        let mut err = ErrSlot::new();
        let status =
            used_insight_create_many(client, items.as_ptr(), 2, null(), &mut out, err.slot());
        assert_eq!(status, NULL_PARAMETER);
        assert_eq!(err.get().message_str(), "items[1].user_id is NULL");

        let items = [good, good, neither];
        let mut err = ErrSlot::new();
        let status =
            used_insight_create_many(client, items.as_ptr(), 3, null(), &mut out, err.slot());
        assert_eq!(status, NULL_PARAMETER);
        assert_eq!(
            err.get().message_str(),
            "items[2].insight_json and items[2].fields are both NULL; set one"
        );

        // err itself may be NULL: the status alone is returned.
        assert_eq!(
            used_insight_create_many(null(), &good, 1, null(), &mut out, null_mut()),
            NULL_PARAMETER
        );
        assert_eq!(out, sentinel, "out_results written on failure");
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn create_many_with_no_items_returns_an_empty_set_and_reports_no_progress() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let progress = Progress::default();
    let batch = used_insight_batch_options_new();
    let mut out = null_mut();
    let mut err = ErrSlot::new();
    // SAFETY: live arguments; `items` may be NULL with count 0.
    unsafe {
        assert_eq!(
            used_insight_batch_options_set_progress(
                batch,
                Some(count_progress),
                &progress as *const Progress as *mut c_void
            ),
            OK
        );
        let status = used_insight_create_many(client, null(), 0, batch, &mut out, err.slot());
        assert_eq!(status, OK);
        assert!(err.0.is_null(), "*err written on success");
        let results = Results(out);
        assert!(!results.0.is_null());
        assert_eq!(used_insight_batch_results_count(results.0), 0);
        assert_eq!(used_insight_batch_results_created_count(results.0), 0);
        assert_eq!(results.status(0), used_insight_status::InvalidArgument);
        assert!(used_insight_batch_results_error(results.0, 0).is_null());
        assert_eq!(progress.calls.load(Ordering::SeqCst), 0);
        used_insight_batch_options_free(batch);
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn create_many_refuses_bad_struct_sizes_and_both_inputs_for_the_whole_call() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let user = c"a";
    let good = json_item(user, VALID_JSON);
    let mut zero = good;
    zero.struct_size = 0;
    let mut odd = good;
    odd.struct_size += 1;
    let mut both = good;
    let f = fields();
    both.fields = &f;
    let mut small_fields = fields();
    small_fields.struct_size = 8;
    let cases: [(Vec<used_insight_batch_item>, &str); 5] = [
        (
            vec![zero, good],
            "items[0].struct_size is 0; set it to sizeof(used_insight_batch_item)",
        ),
        (
            vec![good, zero],
            "items[1].struct_size is 0 but items[0].struct_size is",
        ),
        (vec![odd], "items[0].struct_size is"),
        (
            vec![good, both],
            "items[1].insight_json and items[1].fields are both set",
        ),
        (
            vec![good, fields_item(user, &small_fields)],
            "items[1].fields->struct_size is 8; set it to sizeof(used_insight_fields)",
        ),
    ];
    for (items, message) in cases {
        let mut err = ErrSlot::new();
        let (status, results) = create_many(client, &items, null(), &mut err);
        assert_eq!(status, used_insight_status::InvalidArgument, "{message}");
        assert!(results.0.is_null());
        assert!(
            err.get().message_str().starts_with(message),
            "{} does not start with {message}",
            err.get().message_str()
        );
    }

    // Callers compiled against a newer header: known members, then one more.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Newer {
        known: used_insight_batch_item,
        added: *const c_char,
    }
    let mut newer = [Newer {
        known: good,
        added: null(),
    }; 2];
    for n in &mut newer {
        n.known.struct_size = std::mem::size_of::<Newer>();
    }
    newer[1].added = c"set".as_ptr();
    let mut out = null_mut();
    let mut err = ErrSlot::new();
    // SAFETY: two items of `struct_size` bytes each.
    let status = unsafe {
        used_insight_create_many(client, &newer[0].known, 2, null(), &mut out, err.slot())
    };
    assert_eq!(status, used_insight_status::InvalidArgument);
    assert!(err.get().message_str().starts_with("items[1] sets members"));
    assert!(out.is_null());

    // The unknown member left zero: accepted and stepped through correctly
    // (both items reach the closed port).
    newer[1].added = null();
    let mut err = ErrSlot::new();
    // SAFETY: as above.
    let status = unsafe {
        used_insight_create_many(client, &newer[0].known, 2, null(), &mut out, err.slot())
    };
    assert_eq!(status, OK);
    let results = Results(out);
    // SAFETY: a live result set.
    assert_eq!(unsafe { used_insight_batch_results_count(results.0) }, 2);
    assert_eq!(results.status(0), used_insight_status::Transport);
    assert_eq!(results.status(1), used_insight_status::Transport);
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

/// 0 is refused as core and Python refuse it, in core's words.
#[test]
fn batch_concurrency_0_is_refused() {
    let batch = used_insight_batch_options_new();
    let invalid = used_insight_status::InvalidArgument;
    // SAFETY: live batch options, freed once.
    unsafe {
        assert_eq!(
            used_insight_batch_options_set_concurrency(batch, 0),
            invalid
        );
        assert_eq!(used_insight_batch_options_set_concurrency(batch, 1), OK);
        assert_eq!(used_insight_batch_options_set_concurrency(batch, 4), OK);
        assert_eq!(
            used_insight_batch_options_set_concurrency(batch, usize::MAX),
            OK
        );
        used_insight_batch_options_free(batch);
    }
    let refused = checked_concurrency(0).err().unwrap();
    assert_eq!(refused.status(), invalid);
    assert_eq!(
        refused.message_str(),
        "concurrency must be 1 or more, not 0"
    );
    assert!(matches!(checked_concurrency(3), Ok(3)));
}

#[test]
fn create_many_gives_bad_bytes_and_invalid_items_their_own_result() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let user = c"alice@contoso.com";
    let mut bad_title = fields();
    bad_title.title = NOT_UTF8.as_ptr();
    let mut bad_date = fields();
    bad_date.last_accessed = c"yesterday".as_ptr();
    let good_fields = fields();
    let items = [
        json_item(NOT_UTF8, VALID_JSON),
        json_item(user, c"{\"resourceVisualization\":{\"title\":\"caf\xe9\"}}"),
        fields_item(user, &bad_title),
        fields_item(c"..", &bad_date),
        json_item(user, c"{\"lastUsed\":[]}"),
        json_item(user, VALID_JSON),
        fields_item(user, &good_fields),
    ];
    let progress = Progress::default();
    let batch = used_insight_batch_options_new();
    // SAFETY: live options; `progress` outlives the call.
    unsafe {
        assert_eq!(used_insight_batch_options_set_concurrency(batch, 3), OK);
        assert_eq!(
            used_insight_batch_options_set_progress(
                batch,
                Some(count_progress),
                &progress as *const Progress as *mut c_void
            ),
            OK
        );
    }
    let mut err = ErrSlot::new();
    let (status, results) = create_many(client, &items, batch, &mut err);
    assert_eq!(status, OK);
    assert!(err.0.is_null());
    // SAFETY: a live result set.
    assert_eq!(unsafe { used_insight_batch_results_count(results.0) }, 7);

    assert_eq!(results.status(0), INVALID_UTF8);
    assert_eq!(
        results.message(0),
        "user_id is not valid UTF-8 (bad byte at offset 3)"
    );
    assert_eq!(results.status(1), INVALID_UTF8);
    assert!(results
        .message(1)
        .starts_with("insight_json is not valid UTF-8"));
    assert_eq!(results.status(2), INVALID_UTF8);
    assert_eq!(results.problem_paths(2), ["resourceVisualization.title"]);
    assert_eq!(results.status(3), used_insight_status::ValidationFailed);
    assert_eq!(
        results.problem_paths(3),
        ["usersId", "lastUsed.lastAccessedDateTime"]
    );
    assert_eq!(results.status(4), used_insight_status::ValidationFailed);
    assert_eq!(
        results.problem_paths(4),
        ["lastUsed", "resourceVisualization", "resourceReference"]
    );
    // The valid ones were sent (to the closed port) and failed there.
    for i in [5, 6] {
        assert_eq!(results.status(i), used_insight_status::Transport);
        // SAFETY: a live result set; the error is borrowed from it.
        unsafe {
            let e = used_insight_batch_results_error(results.0, i);
            assert!(!used_insight_error_request_may_have_been_processed(e));
            assert_eq!(text(used_insight_error_client_request_id(e)).len(), 36);
        }
    }
    // SAFETY: a live result set.
    unsafe {
        for i in 0..7 {
            assert!(used_insight_batch_results_id(results.0, i).is_null());
            assert!(used_insight_batch_results_json(results.0, i).is_null());
            assert!(!used_insight_batch_results_error(results.0, i).is_null());
        }
        assert_eq!(used_insight_batch_results_created_count(results.0), 0);
        assert_eq!(results.status(7), used_insight_status::InvalidArgument);
        assert!(used_insight_batch_results_error(results.0, 7).is_null());
        assert!(used_insight_batch_results_id(results.0, usize::MAX).is_null());
    }
    assert_eq!(progress.calls.load(Ordering::SeqCst), 7);
    assert_eq!(progress.last_done.load(Ordering::SeqCst), 7);
    assert_eq!(progress.total.load(Ordering::SeqCst), 7);

    // A fields item's error is the one used_insight_create_fields gives.
    let mut out = null_mut();
    let mut single = ErrSlot::new();
    // SAFETY: live arguments.
    let status = unsafe {
        used_insight_create_fields(client, c"..".as_ptr(), &bad_date, &mut out, single.slot())
    };
    assert_eq!(status, used_insight_status::ValidationFailed);
    assert_eq!(single.problems().len(), 2);
    assert_eq!(single.get().message_str(), results.message(3));
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_batch_options_free(batch);
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}

#[test]
fn a_progress_callback_can_be_removed() {
    let o = options(&closed_port_url());
    let client = client_for(o);
    let progress = Progress::default();
    let batch = used_insight_batch_options_new();
    // SAFETY: live options.
    unsafe {
        let p = &progress as *const Progress as *mut c_void;
        assert_eq!(
            used_insight_batch_options_set_progress(batch, Some(count_progress), p),
            OK
        );
        assert_eq!(used_insight_batch_options_set_progress(batch, None, p), OK);
    }
    let items = [json_item(c"", VALID_JSON)];
    let mut err = ErrSlot::new();
    let (status, results) = create_many(client, &items, batch, &mut err);
    assert_eq!(status, OK);
    assert_eq!(results.status(0), used_insight_status::ValidationFailed);
    assert_eq!(progress.calls.load(Ordering::SeqCst), 0);
    // SAFETY: live handles, freed once.
    unsafe {
        used_insight_batch_options_free(batch);
        used_insight_client_free(client);
        used_insight_options_free(o);
    }
}
