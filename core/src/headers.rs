//! What request headers may carry: this library's `SDK_VERSION` (sent in
//! `SdkVersion` and `User-Agent`) and `check_header_value`, which keeps a
//! token or user agent from smuggling in headers of its own.

/// This library's name and version, as sent in `SdkVersion` and `User-Agent`.
pub const SDK_VERSION: &str = concat!("used-insight/", env!("CARGO_PKG_VERSION"));

/// A header value must be visible ASCII (and spaces); CR or LF would let a
/// value smuggle in headers of its own.
pub(crate) fn check_header_value(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("is empty");
    }
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(())
    } else {
        Err("contains bytes a header cannot carry (control characters such as CR/LF, or non-ASCII)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_refuse_crlf() {
        assert!(check_header_value("abc.def-ghi").is_ok());
        assert!(check_header_value("abc\r\nX-Evil: 1").is_err());
        assert!(check_header_value("").is_err());
        assert!(check_header_value("tökén").is_err());
    }
}
