//! The C token callback, adapted to the core's token provider.

use std::ffi::{c_char, c_int, c_void, CStr};

use used_insight_core::TokenProviderResult;

/// Size in bytes of the buffer handed to a `used_insight_token_callback`:
/// the longest token it can return is one byte less (the NUL). Access tokens
/// from Microsoft Entra ID are a few kilobytes.
pub const USED_INSIGHT_TOKEN_BUFFER_SIZE: usize = 16384;

/// Supplies a bearer token before every request (retries included), so a
/// program can refresh tokens that expire.
///
/// Called with the `user_data` given to `used_insight_options_set_token_callback`
/// and a zeroed buffer `buf` of `buf_len` bytes
/// (`USED_INSIGHT_TOKEN_BUFFER_SIZE`).
///
/// - On success, write the token as a NUL-terminated string into `buf` and
///   return 0.
/// - On failure, return any non-zero value, after optionally writing a
///   NUL-terminated message into `buf`; the call then fails with
///   `USED_INSIGHT_STATUS_TOKEN_PROVIDER_FAILED`, the message quoted in the
///   error, and nothing is sent.
///
/// Each call gets a fresh buffer; the library copies the token out of it
/// and then zeroes it. The token is never logged.
///
/// Thread-safety: a client shared between threads calls the callback from
/// any of them, possibly at the same time, so it (and `user_data`) must be
/// thread-safe. It must not unwind out of the call (a C++ exception or a
/// `longjmp` across the library is undefined behaviour).
pub type used_insight_token_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, buf: *mut c_char, buf_len: usize) -> c_int>;

/// The core's token provider that asks `callback` (with `user_data`) for
/// the token.
pub(crate) fn token_provider(
    callback: unsafe extern "C" fn(*mut c_void, *mut c_char, usize) -> c_int,
    user_data: *mut c_void,
) -> impl Fn() -> TokenProviderResult + Send + Sync + 'static {
    let callback = TokenCallback {
        callback,
        user_data,
    };
    move || callback.token().map_err(Into::into)
}

/// A callback and its `user_data`, callable from any thread.
#[derive(Clone, Copy)]
struct TokenCallback {
    callback: unsafe extern "C" fn(*mut c_void, *mut c_char, usize) -> c_int,
    user_data: *mut c_void,
}

// SAFETY: `used_insight_options_set_token_callback` requires the callback and
// its `user_data` to be usable from any thread at the same time; the pointer
// is only ever passed back to that callback.
unsafe impl Send for TokenCallback {}
// SAFETY: as for `Send`: the caller promised thread-safe concurrent calls.
unsafe impl Sync for TokenCallback {}

impl TokenCallback {
    /// Asks the callback for a token; the error text becomes the core's
    /// token-provider failure message.
    fn token(&self) -> Result<String, String> {
        let mut buf = vec![0u8; USED_INSIGHT_TOKEN_BUFFER_SIZE];
        // SAFETY: `buf` is a writable buffer of exactly `buf.len()` bytes that
        // outlives the call; the callback and `user_data` are the caller's,
        // used as documented on `used_insight_token_callback`.
        let rc = unsafe { (self.callback)(self.user_data, buf.as_mut_ptr().cast(), buf.len()) };
        let result = read_answer(rc, &buf);
        // The buffer held a secret; wipe it before it is freed (`black_box`
        // keeps the compiler from dropping the dead store).
        buf.fill(0);
        std::hint::black_box(&buf);
        result
    }
}

fn read_answer(rc: c_int, buf: &[u8]) -> Result<String, String> {
    let text = CStr::from_bytes_until_nul(buf).map(CStr::to_bytes);
    if rc != 0 {
        let message = match text {
            Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(bytes).into_owned(),
            _ => "(no message)".to_owned(),
        };
        return Err(format!("the token callback returned {rc}: {message}"));
    }
    let bytes = text.map_err(|_| {
        format!(
            "the token callback returned 0 but wrote no NUL-terminated token within {} bytes",
            buf.len()
        )
    })?;
    match std::str::from_utf8(bytes) {
        Ok(token) => Ok(token.to_owned()),
        Err(e) => Err(crate::ptr::not_utf8("the token from the callback", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_quotes_the_callbacks_message_or_says_there_was_none() {
        assert_eq!(
            read_answer(7, b"vault locked\0junk"),
            Err("the token callback returned 7: vault locked".into())
        );
        assert_eq!(
            read_answer(-1, &[0; 8]),
            Err("the token callback returned -1: (no message)".into())
        );
        assert_eq!(
            read_answer(1, b"unterminated"),
            Err("the token callback returned 1: (no message)".into())
        );
    }

    #[test]
    fn a_token_must_be_nul_terminated_utf8() {
        assert_eq!(read_answer(0, b"tok\0en"), Ok("tok".into()));
        assert!(read_answer(0, b"token").unwrap_err().contains("no NUL"));
        assert!(read_answer(0, b"t\xffk\0")
            .unwrap_err()
            .contains("not valid UTF-8"));
    }
}
