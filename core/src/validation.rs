//! What a request must satisfy before any byte is sent. Every rule lives
//! here once; the bindings call it, they do not re-implement it.

use std::fmt;

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
    /// Wraps problems found by a caller (e.g. a binding converting its own
    /// input) so they are reported like core's; `None` when there are none.
    pub fn from_problems(problems: Vec<Problem>) -> Option<Self> {
        (!problems.is_empty()).then_some(Self { problems })
    }

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
    if user_id.chars().any(char::is_control) {
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
    if value.chars().any(char::is_control) {
        problems.push(at.path(), "must not contain control characters");
    }
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

/// An unknown property must not carry a known property's name: it would be
/// written twice and the server would take either.
pub(crate) fn check_shadowing(
    additional: &std::collections::BTreeMap<String, crate::RawJson>,
    path: &str,
    known: &[&str],
    problems: &mut Problems,
) {
    for key in additional.keys() {
        if key == "@odata.type" || known.contains(&key.as_str()) {
            problems.push(
                crate::json::join_path(path, key),
                "is a known property; set the field, not additional_data",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
