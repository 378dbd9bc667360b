//! Input: NUL-separated pieces — a user id, a usedInsight as JSON, then the
//! members of `used_insight_fields` in order (title, type, …) — handed to
//! the C entry points `used_insight_create` and
//! `used_insight_create_fields` as C strings; a piece that is the one byte
//! 0xFF is passed as NULL, a missing member is NULL.
//!
//! The client points at a closed loopback port, so nothing is ever sent.
//! Checks: every call fails (nothing listens) with a status that fits the
//! input — NULL → `NULL_PARAMETER`, not UTF-8 → `INVALID_UTF8`, invalid →
//! `VALIDATION_FAILED` with problems, valid → `TRANSPORT` — and an error
//! that says the request was not processed; the out-parameter is left
//! alone; every string the error hands out reads as UTF-8. (With
//! `-s address`, leaks are found too.)
#![no_main]
// The handles are opaque to C (declared, never defined, in the header)
// and only ever passed by pointer, as C passes them.
#![allow(improper_ctypes)]

use std::ffi::{c_char, CStr, CString};
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use used_insight_c_abi::{
    used_insight_client, used_insight_error, used_insight_fields, used_insight_options,
    used_insight_result, used_insight_status,
};

extern "C" {
    fn used_insight_options_new() -> *mut used_insight_options;
    fn used_insight_options_free(options: *mut used_insight_options);
    fn used_insight_options_set_base_url(
        options: *mut used_insight_options,
        base_url: *const c_char,
    ) -> used_insight_status;
    fn used_insight_options_set_token(
        options: *mut used_insight_options,
        token: *const c_char,
    ) -> used_insight_status;
    fn used_insight_options_set_max_retries(
        options: *mut used_insight_options,
        max_retries: u32,
    ) -> used_insight_status;
    fn used_insight_options_disable_rate_limit(
        options: *mut used_insight_options,
    ) -> used_insight_status;
    fn used_insight_client_new(
        options: *const used_insight_options,
        out_client: *mut *mut used_insight_client,
        err: *mut *mut used_insight_error,
    ) -> used_insight_status;
    fn used_insight_create(
        client: *const used_insight_client,
        user_id: *const c_char,
        insight_json: *const c_char,
        out_json: *mut *mut c_char,
        err: *mut *mut used_insight_error,
    ) -> used_insight_status;
    fn used_insight_create_fields(
        client: *const used_insight_client,
        user_id: *const c_char,
        fields: *const used_insight_fields,
        out_result: *mut *mut used_insight_result,
        err: *mut *mut used_insight_error,
    ) -> used_insight_status;
    fn used_insight_error_status(err: *const used_insight_error) -> used_insight_status;
    fn used_insight_error_message(err: *const used_insight_error) -> *const c_char;
    fn used_insight_error_request_may_have_been_processed(err: *const used_insight_error) -> bool;
    fn used_insight_error_problem_count(err: *const used_insight_error) -> usize;
    fn used_insight_error_problem_path(
        err: *const used_insight_error,
        index: usize,
    ) -> *const c_char;
    fn used_insight_error_problem_reason(
        err: *const used_insight_error,
        index: usize,
    ) -> *const c_char;
    fn used_insight_error_free(err: *mut used_insight_error);
}

/// The client every run uses, built once.
struct Client(*mut used_insight_client);
// SAFETY: the library documents clients as thread-safe.
unsafe impl Send for Client {}
// SAFETY: as above.
unsafe impl Sync for Client {}

fn client() -> *const used_insight_client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // A port that was just free: connections to it are refused.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let base_url = CString::new(format!("http://127.0.0.1:{port}")).unwrap();
            // SAFETY: valid strings and out-pointers; the options are freed once used.
            unsafe {
                let options = used_insight_options_new();
                assert_eq!(
                    used_insight_options_set_base_url(options, base_url.as_ptr()),
                    used_insight_status::Ok
                );
                assert_eq!(
                    used_insight_options_set_token(options, c"fuzz".as_ptr()),
                    used_insight_status::Ok
                );
                assert_eq!(
                    used_insight_options_set_max_retries(options, 0),
                    used_insight_status::Ok
                );
                // Graph's 10,000 requests per 10 minutes would otherwise
                // hold a long run's valid inputs (refused connections count:
                // the limiter cannot know Graph did not see them) until its
                // window frees, a minute at a time: a hang to libFuzzer.
                assert_eq!(
                    used_insight_options_disable_rate_limit(options),
                    used_insight_status::Ok
                );
                let mut client = ptr::null_mut();
                let mut err = ptr::null_mut();
                let status = used_insight_client_new(options, &mut client, &mut err);
                used_insight_options_free(options);
                assert_eq!(status, used_insight_status::Ok);
                Client(client)
            }
        })
        .0
}

/// One piece of the input as a C string argument.
enum Arg {
    Null,
    Text(CString, bool),
}

impl Arg {
    fn new(piece: Option<&[u8]>) -> Self {
        match piece {
            None | Some([0xff]) => Arg::Null,
            Some(bytes) => Arg::Text(
                CString::new(bytes).expect("split at NUL"),
                std::str::from_utf8(bytes).is_ok(),
            ),
        }
    }

    fn ptr(&self) -> *const c_char {
        match self {
            Arg::Null => ptr::null(),
            Arg::Text(text, _) => text.as_ptr(),
        }
    }

    /// How the library refuses this argument, if it does: a string
    /// argument that is NULL or not UTF-8.
    fn refusal(&self) -> Option<used_insight_status> {
        match self {
            Arg::Null => Some(used_insight_status::NullParameter),
            Arg::Text(_, false) => Some(used_insight_status::InvalidUtf8),
            Arg::Text(_, true) => None,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut pieces = data.split(|b| *b == 0);
    let user_id = Arg::new(pieces.next());
    let json = Arg::new(pieces.next());
    let members: Vec<Arg> = (0..13).map(|_| Arg::new(pieces.next())).collect();
    let client = client();

    let mut out_json: *mut c_char = ptr::null_mut();
    let mut err = ptr::null_mut();
    // SAFETY: a live client, NULL or NUL-terminated strings, writable out-pointers.
    let status =
        unsafe { used_insight_create(client, user_id.ptr(), json.ptr(), &mut out_json, &mut err) };
    assert!(out_json.is_null(), "out_json written on failure");
    // Arguments are checked in order; the first refused one is reported.
    check(status, err, user_id.refusal().or(json.refusal()));

    let p = |i: usize| members[i].ptr();
    let fields = used_insight_fields {
        struct_size: std::mem::size_of::<used_insight_fields>(),
        title: p(0),
        r#type: p(1),
        media_type: p(2),
        preview_image_url: p(3),
        preview_text: p(4),
        container_web_url: p(5),
        container_display_name: p(6),
        container_type: p(7),
        web_url: p(8),
        resource_id: p(9),
        resource_type: p(10),
        last_accessed: p(11),
        last_modified: p(12),
    };
    let mut out_result = ptr::null_mut();
    let mut err = ptr::null_mut();
    // SAFETY: as above; the fields' members are NULL or NUL-terminated strings.
    let status = unsafe {
        used_insight_create_fields(client, user_id.ptr(), &fields, &mut out_result, &mut err)
    };
    assert!(out_result.is_null(), "out_result written on failure");
    // A NULL member is an absent one.
    let member_refusal = members
        .iter()
        .any(|m| matches!(m, Arg::Text(_, false)))
        .then_some(used_insight_status::InvalidUtf8);
    check(status, err, user_id.refusal().or(member_refusal));
});

/// Checks a failed call's status and error, then frees the error:
/// `refusal` is the status its arguments call for, if any.
fn check(
    status: used_insight_status,
    err: *mut used_insight_error,
    refusal: Option<used_insight_status>,
) {
    use used_insight_status as S;
    assert!(!err.is_null(), "{status:?} without an error");
    // SAFETY: `err` is the error the call just wrote; its strings live until it is freed.
    unsafe {
        assert_eq!(used_insight_error_status(err), status);
        let message = CStr::from_ptr(used_insight_error_message(err)).to_str();
        assert!(
            message.is_ok_and(|m| !m.is_empty()),
            "{status:?}: an unreadable message"
        );
        assert!(
            !used_insight_error_request_may_have_been_processed(err),
            "{status:?} says it may have been processed, but nothing listens"
        );
        let problems = used_insight_error_problem_count(err);
        for i in 0..problems {
            assert!(CStr::from_ptr(used_insight_error_problem_path(err, i))
                .to_str()
                .is_ok());
            assert!(CStr::from_ptr(used_insight_error_problem_reason(err, i))
                .to_str()
                .is_ok());
        }
        match (refusal, status) {
            (Some(expected), status) => assert_eq!(status, expected),
            (None, S::ValidationFailed) => assert!(problems > 0, "refused without a problem"),
            (None, S::Transport) => {}
            (None, other) => panic!("status {other:?}"),
        }
        used_insight_error_free(err);
    }
}
