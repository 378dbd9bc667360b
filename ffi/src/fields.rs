//! `used_insight_fields`: a usedInsight as plain C strings, so a C caller
//! never writes JSON. Converted into the core's model; the core validates.

use std::ffi::c_char;
use std::mem::size_of;

use used_insight_core::{
    validate_user_id, DateTimeOffset, Error, Problem, ResourceReference, ResourceVisualization,
    UsageDetails, UsedInsight, ValidationErrors,
};

use crate::error::{used_insight_error, Failure};
use crate::ptr::{check_struct_size, not_utf8, null_parameter, read_struct_size, Extensible};
use crate::status::used_insight_status;

/// A usedInsight as NUL-terminated UTF-8 strings, for
/// `used_insight_create_fields`. NULL means "absent". Each member names the
/// Graph property it sets.
///
/// Graph requires the three objects `lastUsed`, `resourceVisualization` and
/// `resourceReference`: an object is sent when at least one of its members is
/// set, and a missing one is reported as a validation problem. Date-times are
/// RFC 3339 with an offset, e.g. `"2026-11-28T10:00:00Z"`.
///
/// Extensible: always initialise it with `USED_INSIGHT_FIELDS_INIT` (or
/// zero it and set `struct_size = sizeof(used_insight_fields)`), then set
/// members. Later versions only add members at the end; a library older than
/// your header accepts a larger `struct_size` as long as the members it does
/// not know are NULL, and refuses it otherwise
/// (`USED_INSIGHT_STATUS_INVALID_ARGUMENT`) rather than ignore them.
///
/// The library only reads the struct and the strings during the call and
/// keeps no pointer to them; they stay the caller's.
#[repr(C)]
pub struct used_insight_fields {
    /// `sizeof(used_insight_fields)` as the caller compiled it.
    pub struct_size: usize,
    /// `resourceVisualization.title`: the item's title.
    pub title: *const c_char,
    /// `resourceVisualization.type`: the item's kind, e.g. `"Word"`, `"Excel"`, `"Web"`.
    pub r#type: *const c_char,
    /// `resourceVisualization.mediaType`: e.g. `"application/vnd.openxmlformats-officedocument.wordprocessingml.document"`.
    pub media_type: *const c_char,
    /// `resourceVisualization.previewImageUrl`: an absolute http(s) URL.
    pub preview_image_url: *const c_char,
    /// `resourceVisualization.previewText`: a text preview.
    pub preview_text: *const c_char,
    /// `resourceVisualization.containerWebUrl`: an absolute http(s) URL of the folder or site.
    pub container_web_url: *const c_char,
    /// `resourceVisualization.containerDisplayName`: the container's name.
    pub container_display_name: *const c_char,
    /// `resourceVisualization.containerType`: e.g. `"OneDriveBusiness"`, `"Site"`.
    pub container_type: *const c_char,
    /// `resourceReference.webUrl`: an absolute http(s) URL that opens the item.
    pub web_url: *const c_char,
    /// `resourceReference.id`: the item's Graph id, e.g. `"drives/b!abc/items/01XYZ"`.
    pub resource_id: *const c_char,
    /// `resourceReference.type`: the item's Graph type, e.g. `"microsoft.graph.driveItem"`.
    pub resource_type: *const c_char,
    /// `lastUsed.lastAccessedDateTime`: when the user last accessed the item.
    pub last_accessed: *const c_char,
    /// `lastUsed.lastModifiedDateTime`: when the user last modified the item.
    pub last_modified: *const c_char,
}

/// The fields read from C: the model, and the date-times that did not parse
/// (path, reason), which the caller reports with the core's problems.
pub(crate) struct ReadFields {
    pub(crate) insight: UsedInsight,
    pub(crate) date_problems: Vec<Problem>,
}

/// Collects each string member, noting every one that is not UTF-8.
#[derive(Default)]
struct Reader {
    not_utf8: Vec<(String, String)>,
}

impl Reader {
    /// # Safety
    /// `p` is NULL or a NUL-terminated string live for `'a`.
    unsafe fn text<'a>(&mut self, p: *const c_char, path: &str) -> Option<&'a str> {
        if p.is_null() {
            return None;
        }
        // SAFETY: not NULL and, per the contract, a live NUL-terminated string.
        let bytes = unsafe { std::ffi::CStr::from_ptr(p) };
        match bytes.to_str() {
            Ok(text) => Some(text),
            Err(e) => {
                self.not_utf8
                    .push((path.to_owned(), not_utf8("the value", &e)));
                None
            }
        }
    }
}

impl ReadFields {
    /// The insight to send for `user_id`, or every problem in the order
    /// `used_insight_create` reports them for the equivalent JSON: the user
    /// id, what did not parse, then the core's rules (worded by the core).
    pub(crate) fn validated(self, user_id: &str) -> Result<UsedInsight, Failure> {
        let owned = |errors: ValidationErrors| errors.problems().to_vec();
        let mut problems = Vec::new();
        problems.extend(
            validate_user_id(user_id)
                .err()
                .map(owned)
                .unwrap_or_default(),
        );
        problems.extend(self.date_problems);
        problems.extend(self.insight.validate().err().map(owned).unwrap_or_default());
        match ValidationErrors::from_problems(problems) {
            Some(invalid) => Err(used_insight_error::from_core(&Error::InvalidInput(invalid))),
            None => Ok(self.insight),
        }
    }
}

/// Checks that `fields` is not NULL and that its `struct_size` is one this
/// library can read (see [`check_struct_size`]). `name` names the argument
/// in messages, e.g. `fields` or `items[3].fields`.
///
/// # Safety
/// `fields` is NULL or points to at least `fields->struct_size` readable
/// bytes.
pub(crate) unsafe fn check_fields(
    fields: *const used_insight_fields,
    name: &str,
) -> Result<(), Failure> {
    if fields.is_null() {
        return Err(null_parameter(name));
    }
    // SAFETY: not NULL; every version's struct starts with `struct_size`.
    let struct_size = unsafe { read_struct_size(fields.cast()) };
    let what = Extensible {
        name,
        is_pointer: true,
        type_name: "used_insight_fields",
        init: "USED_INSIGHT_FIELDS_INIT",
        known: size_of::<used_insight_fields>(),
    };
    // SAFETY: the caller guarantees `struct_size` readable bytes.
    unsafe { check_struct_size(fields.cast(), struct_size, &what) }
}

/// Reads `*fields` into the core's model, after [`check_fields`]. Members
/// that are not UTF-8 fail with `INVALID_UTF8`, each listed as a problem.
///
/// # Safety
/// `fields` is NULL or points to at least `fields->struct_size` readable
/// bytes holding a `used_insight_fields` whose non-NULL members are
/// NUL-terminated strings.
pub(crate) unsafe fn read_fields(
    fields: *const used_insight_fields,
    name: &str,
) -> Result<ReadFields, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { check_fields(fields, name) }?;
    // SAFETY: at least `size_of::<used_insight_fields>()` bytes are readable
    // (checked above) and the caller guarantees the layout.
    let f = unsafe { &*fields };

    let mut r = Reader::default();
    // SAFETY: members are NULL or live NUL-terminated strings, per this
    // function's contract.
    let mut text = |p: *const c_char, path: &str| unsafe { r.text(p, path) };
    let mut string = |p, path: &str| text(p, path).map(str::to_owned);
    let visualization = ResourceVisualization {
        title: string(f.title, "resourceVisualization.title"),
        r#type: string(f.r#type, "resourceVisualization.type"),
        media_type: string(f.media_type, "resourceVisualization.mediaType"),
        preview_image_url: string(f.preview_image_url, "resourceVisualization.previewImageUrl"),
        preview_text: string(f.preview_text, "resourceVisualization.previewText"),
        container_web_url: string(f.container_web_url, "resourceVisualization.containerWebUrl"),
        container_display_name: string(
            f.container_display_name,
            "resourceVisualization.containerDisplayName",
        ),
        container_type: string(f.container_type, "resourceVisualization.containerType"),
        ..Default::default()
    };
    let reference = ResourceReference {
        web_url: string(f.web_url, "resourceReference.webUrl"),
        id: string(f.resource_id, "resourceReference.id"),
        r#type: string(f.resource_type, "resourceReference.type"),
        ..Default::default()
    };
    const ACCESSED: &str = "lastUsed.lastAccessedDateTime";
    const MODIFIED: &str = "lastUsed.lastModifiedDateTime";
    let accessed = text(f.last_accessed, ACCESSED);
    let modified = text(f.last_modified, MODIFIED);

    if !r.not_utf8.is_empty() {
        let paths: Vec<&str> = r.not_utf8.iter().map(|(p, _)| p.as_str()).collect();
        let message = format!("not valid UTF-8: {}", paths.join(", "));
        return Err(used_insight_error::with_problems(
            used_insight_status::InvalidUtf8,
            message,
            r.not_utf8,
        ));
    }

    let mut date_problems = Vec::new();
    let mut date = |text: Option<&str>, path: &str| {
        text.and_then(|t| match DateTimeOffset::parse(t) {
            Ok(d) => Some(d),
            Err(e) => {
                date_problems.push(Problem {
                    path: path.to_owned(),
                    reason: e.to_string(),
                });
                None
            }
        })
    };
    let usage = UsageDetails {
        last_accessed_date_time: date(accessed, ACCESSED),
        last_modified_date_time: date(modified, MODIFIED),
        ..Default::default()
    };

    let insight = UsedInsight {
        last_used: (!f.last_accessed.is_null() || !f.last_modified.is_null()).then_some(usage),
        resource_visualization: (visualization != ResourceVisualization::default())
            .then_some(visualization),
        resource_reference: (reference != ResourceReference::default()).then_some(reference),
        ..Default::default()
    };
    Ok(ReadFields {
        insight,
        date_problems,
    })
}
