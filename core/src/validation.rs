//! What a request must satisfy before any byte is sent. Every rule lives
//! here once; the bindings call it, they do not re-implement it.

use std::fmt;

use crate::bytes::{every_byte, find_byte, find_either};
use crate::decode::At;
use crate::error::snippet;
use crate::model::UsedInsight;

/// Longest `usersId` accepted, in bytes. A UPN is at most 113 characters and
/// an object id 36; anything near this bound is a mistake, not a user.
pub const MAX_USER_ID_BYTES: usize = 1024;
/// Longest text property accepted, in bytes (titles, types, preview text…).
pub const MAX_TEXT_BYTES: usize = 4096;
/// Longest URL accepted, in bytes. SharePoint paths stay far below it.
pub const MAX_URL_BYTES: usize = 8192;
/// Largest JSON request body accepted, in bytes (Graph refuses bodies over 4 MB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// One thing wrong with the input: where (a JSON path such as
/// `resourceReference.webUrl`, `usersId`, or empty for the whole body) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the offending property, in Graph's camelCase.
    pub path: String,
    /// What is wrong, in words meant for the person who wrote the input.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

/// Every problem found in one input, in the order found; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    problems: Vec<Problem>,
}

impl ValidationErrors {
    /// The problems, each with its path and reason.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{n} problem{} with the input: ",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Collects problems while walking an input.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub(crate) fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            reason: reason.into(),
        });
    }

    /// Adds a problem unless one is already reported at `path`: a property
    /// that is present but malformed is not also "required".
    pub(crate) fn push_if_new(&mut self, path: &str, reason: &str) {
        if !self.0.iter().any(|p| p.path == path) {
            self.push(path, reason);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn extend(&mut self, found: impl IntoIterator<Item = Problem>) {
        self.0.extend(found);
    }

    pub(crate) fn into_vec(self) -> Vec<Problem> {
        self.0
    }

    pub(crate) fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors { problems: self.0 })
        }
    }
}

/// Checks a `usersId` (an object id or a user principal name).
///
/// ```
/// assert!(used_insight::validate_user_id("alice@contoso.com").is_ok());
/// assert!(used_insight::validate_user_id("..").is_err());
/// ```
pub fn validate_user_id(user_id: &str) -> Result<(), ValidationErrors> {
    let mut problems = Problems::default();
    check_user_id(user_id, &mut problems);
    problems.into_result()
}

pub(crate) fn check_user_id(user_id: &str, problems: &mut Problems) {
    const PATH: &str = "usersId";
    if user_id.trim().is_empty() {
        problems.push(PATH, "must not be empty");
    } else if user_id == "." || user_id == ".." {
        // A dot segment would be normalised away by servers and proxies,
        // addressing a different resource than the caller meant.
        problems.push(PATH, "must not be `.` or `..`");
    }
    if user_id.len() > MAX_USER_ID_BYTES {
        problems.push(
            PATH,
            format!(
                "is {} bytes long; at most {MAX_USER_ID_BYTES} allowed",
                user_id.len()
            ),
        );
    }
    if has_control_chars(user_id) {
        problems.push(PATH, "must not contain control characters");
    }
}

impl UsedInsight {
    /// Checks everything Graph requires of a create request, returning all
    /// problems at once.
    ///
    /// ```
    /// let empty = used_insight::UsedInsight::default();
    /// let errors = empty.validate().unwrap_err();
    /// assert_eq!(errors.problems().len(), 3); // the three required objects
    /// ```
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut problems = Problems::default();
        self.check("", &mut problems);
        problems.into_result()
    }
}

/// Paths are written out only for a problem: validation of a good insight
/// allocates nothing.
pub(crate) fn check_text(value: &str, at: At<'_>, problems: &mut Problems) {
    if value.len() > MAX_TEXT_BYTES {
        problems.push(
            at.path(),
            format!(
                "is {} bytes long; at most {MAX_TEXT_BYTES} allowed",
                value.len()
            ),
        );
    }
}

/// An identifier: text that holds no control characters.
pub(crate) fn check_id(value: &str, at: At<'_>, problems: &mut Problems) {
    check_text(value, at, problems);
    if has_control_chars(value) {
        problems.push(at.path(), "must not contain control characters");
    }
}

/// Whether the text holds a control character (Unicode's Cc: C0, DEL and
/// C1). Text of visible ASCII and spaces, nearly all of it, is told so
/// sixteen bytes at a time; anything else is decoded character by
/// character.
fn has_control_chars(text: &str) -> bool {
    let visible_ascii = every_byte(text.as_bytes(), b'a', |b| in_range(b, 0x20, 0x7e));
    !visible_ascii && text.chars().any(char::is_control)
}

pub(crate) fn check_url(url: &str, at: At<'_>, problems: &mut Problems) {
    if url.len() > MAX_URL_BYTES {
        problems.push(
            at.path(),
            format!(
                "is {} bytes long; at most {MAX_URL_BYTES} allowed",
                url.len()
            ),
        );
        return;
    }
    if let Err(reason) = absolute_http_url(url) {
        problems.push(at.path(), reason);
    }
}

/// An absolute `http`/`https` URL with a host, as Graph's `webUrl` properties are.
fn absolute_http_url(url: &str) -> Result<(), String> {
    const WANT: &str = "must be an absolute http or https URL";
    if plainly_absolute_http(url) {
        return Ok(());
    }
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| format!("{WANT}; `{}` is not a valid URL", snippet(url, 80)))?;
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {}
        Some(other) => return Err(format!("{WANT}, not a `{other}:` URL")),
        None => return Err(format!("{WANT}; `{}` has no scheme", snippet(url, 80))),
    }
    match uri.host() {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err(format!("{WANT}; `{}` has no host", snippet(url, 80))),
    }
}

/// Bytes a plain host may hold: letters, digits, `-`, `.`.
#[cfg(test)] // the set `host_byte` tests by ranges
const HOST_BYTES: [bool; 256] = byte_set(b"-.");
/// Bytes a plain path and query may hold besides `%XX`: letters, digits,
/// RFC 3986's other unreserved characters, and its reserved ones but for
/// `#`, `[` and `]`.
const TAIL_BYTES: [bool; 256] = byte_set(b"-._~!$&'()*+,;=:@/?");

/// Letters and digits, and `extra`, as a lookup table.
const fn byte_set(extra: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut b = 0;
    while b < 256 {
        set[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        set[extra[i] as usize] = true;
        i += 1;
    }
    set
}

/// `lo..=hi`, without a branch (so a chunk of bytes is tested at once).
fn in_range(b: u8, lo: u8, hi: u8) -> bool {
    b.wrapping_sub(lo) <= hi - lo
}

/// [`HOST_BYTES`] as ranges, which vector compares can test.
fn host_byte(b: u8) -> bool {
    in_range(b, b'a', b'z') | in_range(b, b'A', b'Z') | in_range(b, b'-', b'9') & (b != b'/')
}

/// [`TAIL_BYTES`] as ranges, which vector compares can test.
fn tail_byte_but_percent(b: u8) -> bool {
    // `&`..=`;` is `&'()*+,-./`, the digits, `:` and `;`; `?`..=`Z` is `?@`
    // and the capitals.
    in_range(b, b'a', b'z')
        | in_range(b, b'?', b'Z')
        | in_range(b, b'&', b';')
        | (b == b'!')
        | (b == b'$')
        | (b == b'=')
        | (b == b'_')
        | (b == b'~')
}

/// A fast yes for the URLs every create carries: `http(s)://` (any case),
/// a host of letters, digits, `-` and `.` with an optional port, then only
/// RFC 3986's unreserved and reserved characters (no `#`, `[`, `]`) and
/// well-formed `%XX` escapes. Everything it accepts, `http::Uri` accepts
/// too (a unit test holds it there); anything else goes to the full parse,
/// which also words the problem. It spares the parse's allocations, three
/// URLs per create.
fn plainly_absolute_http(url: &str) -> bool {
    let bytes = url.as_bytes();
    let rest = ["https://", "http://"].iter().find_map(|scheme| {
        let n = scheme.len();
        (bytes.len() >= n && bytes[..n].eq_ignore_ascii_case(scheme.as_bytes()))
            .then(|| &bytes[n..])
    });
    let Some(rest) = rest else { return false };
    let end = find_either(rest, b'/', b'?').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match find_either(authority, b':', b':') {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    };
    let host_ok = !host.is_empty() && every_byte(host, b'a', host_byte);
    let port_ok = match port {
        None => true,
        Some(p) => (1..=5).contains(&p.len()) && p.iter().all(u8::is_ascii_digit),
    };
    if !host_ok || !port_ok {
        return false;
    }
    // Most paths and queries hold no `%XX` escape: one pass over the lot.
    if every_byte(tail, b'a', tail_byte_but_percent) {
        return true;
    }
    let mut i = 0;
    while i < tail.len() {
        match tail[i] {
            b'%' => {
                let hex = tail.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            b if TAIL_BYTES[usize::from(b)] => i += 1,
            _ => return false,
        }
    }
    true
}

/// An unknown property must not carry a known property's name: it would be
/// written twice and the server would take either. Nor may its value (kept
/// as raw JSON, sent verbatim) escape half a UTF-16 surrogate pair: JSON
/// parsers accept `"\ud800"`, but it is no Unicode text and Graph's reader
/// refuses it.
pub(crate) fn check_shadowing(
    additional: &std::collections::BTreeMap<String, crate::RawJson>,
    path: &str,
    known: &[&str],
    problems: &mut Problems,
) {
    for (key, value) in additional {
        if key == "@odata.type" || known.contains(&key.as_str()) {
            problems.push(
                crate::json::join_path(path, key),
                "is a known property; set the field, not additional_data",
            );
        }
        if let Some(escape) = lone_surrogate(value.as_str()) {
            problems.push(
                crate::json::join_path(path, key),
                format!("holds a lone surrogate (`{escape}`), which is not Unicode text"),
            );
        }
    }
}

/// The first `\uXXXX` escape in JSON text that is half a surrogate pair
/// without its other half. Backslashes occur in JSON only inside strings,
/// as escapes, so the text is read escape by escape.
fn lone_surrogate(json: &str) -> Option<&str> {
    let bytes = json.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let hex = json.get(at + 2..at + 6)?;
        (bytes.get(at + 1) == Some(&b'u'))
            .then(|| u16::from_str_radix(hex, 16).ok())
            .flatten()
    };
    let mut at = find_byte(bytes, b'\\')?;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        match unit(at) {
            Some(0xD800..=0xDBFF) => match unit(at + 6) {
                Some(0xDC00..=0xDFFF) if bytes[at + 6] == b'\\' => at += 12,
                _ => return json.get(at..at + 6),
            },
            Some(0xDC00..=0xDFFF) => return json.get(at..at + 6),
            Some(_) => at += 6,
            None => at += 2,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_are_found_and_pairs_and_other_escapes_are_not() {
        for (json, found) in [
            (r#""\ud800""#, Some(r"\ud800")),
            (r#""a\uDBFFb""#, Some(r"\uDBFF")),
            (r#""\udc00""#, Some(r"\udc00")),
            (r#"["\ud83d\ude00", "\ud800\u0041"]"#, Some(r"\ud800")),
            (r#"{"k": "\\ud800"}"#, None),
            (r#""\ud83d\ude00 \u00e9 \n \"""#, None),
            (r#"{"a": [1, 2.5, "x"]}"#, None),
        ] {
            assert_eq!(lone_surrogate(json), found, "{json}");
        }
    }

    #[test]
    fn user_id_rules() {
        assert!(validate_user_id("alice@contoso.com").is_ok());
        assert!(validate_user_id("2f8bf448-f448-2f8b-48f4-8b2f48f48b2f").is_ok());
        for bad in ["", "   ", ".", "..", "a\nb", "a\u{7f}b"] {
            assert!(validate_user_id(bad).is_err(), "{bad:?} accepted");
        }
        let long = "a".repeat(MAX_USER_ID_BYTES + 1);
        let err = validate_user_id(&long).unwrap_err();
        assert!(err.to_string().contains("at most 1024"), "{err}");
    }

    #[test]
    fn the_fast_yes_for_urls_is_one_the_full_parse_agrees_with() {
        let mut samples: Vec<String> = [
            "https://contoso.sharepoint.com/sites/finance/report.docx",
            "HTTP://contoso.com",
            "https://contoso.com:8443/a/b?c=d&e=f%20g",
            "http://127.0.0.1/x",
            "https://a/",
            "https://a?b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every byte in the path and in the query, alone.
        for b in 0x20u8..0x7f {
            let c = b as char;
            samples.push(format!("https://contoso.com/p{c}q"));
            samples.push(format!("https://contoso.com/p?q{c}r"));
            samples.push(format!("https://con{c}toso.com/"));
        }
        let mut fast = 0;
        for url in &samples {
            if plainly_absolute_http(url) {
                fast += 1;
                let uri: Result<ureq::http::Uri, _> = url.parse();
                let uri = uri.unwrap_or_else(|e| panic!("{url}: fast yes, full parse: {e}"));
                assert!(uri.host().is_some_and(|h| !h.is_empty()), "{url}");
            }
        }
        assert!(fast > 150, "the fast path takes the plain URLs ({fast})");
        for slow in [
            "https://a b",
            "https://[::1]/",
            "https://u@h/",
            "https://h/#f",
            "https://h/%zz",
        ] {
            assert!(!plainly_absolute_http(slow), "{slow}");
        }
    }

    #[test]
    fn control_characters_are_found_as_char_is_control_finds_them() {
        let mut samples: Vec<String> = ["", "alice@contoso.com", "tökén", "a\u{85}b", "✓\u{9f}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for c in (0u32..0x200).filter_map(char::from_u32) {
            samples.push(format!("{c}"));
            samples.push(format!("{}{c}{}", "x".repeat(17), "é".repeat(3)));
        }
        for text in &samples {
            assert_eq!(
                has_control_chars(text),
                text.chars().any(char::is_control),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_byte_ranges_are_the_byte_sets() {
        for b in 0..=255u8 {
            assert_eq!(host_byte(b), HOST_BYTES[usize::from(b)], "{b:#x}");
            assert_eq!(
                tail_byte_but_percent(b),
                TAIL_BYTES[usize::from(b)],
                "{b:#x}"
            );
        }
        assert!(!TAIL_BYTES[usize::from(b'%')], "escapes go the slow way");
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(absolute_http_url("https://contoso.sharepoint.com/a b").is_err());
        assert!(absolute_http_url("https://contoso.sharepoint.com/x.docx").is_ok());
        assert!(absolute_http_url("HTTP://contoso.com").is_ok());
        for bad in [
            "ftp://x/y",
            "/relative",
            "contoso.com/x",
            "https://",
            "mailto:a@b.c",
        ] {
            assert!(absolute_http_url(bad).is_err(), "{bad} accepted");
        }
    }
}
