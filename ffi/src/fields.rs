//! `used_insight_fields`: a usedInsight as plain C strings, so a C caller
//! never writes JSON. Converted into the core's model; the core validates.

use std::ffi::c_char;
use std::mem::size_of;

use used_insight_core::{
    DateTimeOffset, Problem, ResourceReference, ResourceVisualization, UsageDetails, UsedInsight,
};

use crate::error::{used_insight_error, Failure};
use crate::ptr::{not_utf8, null_parameter};
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

/// A `struct_size` above this is certainly not a `sizeof`: refuse it before
/// reading that many bytes.
const MAX_STRUCT_SIZE: usize = 4096;

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

/// Reads `*fields` into the core's model.
///
/// # Safety
/// `fields` is NULL or points to at least `fields->struct_size` readable
/// bytes holding a `used_insight_fields` whose non-NULL members are
/// NUL-terminated strings.
pub(crate) unsafe fn read_fields(
    fields: *const used_insight_fields,
) -> Result<ReadFields, Failure> {
    if fields.is_null() {
        return Err(null_parameter("fields"));
    }
    // SAFETY: not NULL; every version's struct starts with `struct_size`.
    let struct_size = unsafe { std::ptr::addr_of!((*fields).struct_size).read_unaligned() };
    // SAFETY: the caller guarantees `struct_size` readable bytes.
    unsafe { check_struct_size(fields.cast(), struct_size) }?;
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

/// A `struct_size` smaller than this version's struct cannot be read; a
/// larger one (a newer header) is accepted only if the members this version
/// does not know are all zero, so nothing the caller set is silently ignored.
///
/// # Safety
/// When `struct_size` is at most [`MAX_STRUCT_SIZE`], `struct_size` bytes at
/// `fields` are readable.
unsafe fn check_struct_size(fields: *const u8, struct_size: usize) -> Result<(), Failure> {
    let known = size_of::<used_insight_fields>();
    let invalid = |message: String| {
        Err(used_insight_error::new(
            used_insight_status::InvalidArgument,
            message,
        ))
    };
    if struct_size < known || struct_size > MAX_STRUCT_SIZE {
        return invalid(format!(
            "fields->struct_size is {struct_size}; set it to sizeof(used_insight_fields) \
             (this library's is {known}), e.g. with USED_INSIGHT_FIELDS_INIT"
        ));
    }
    if struct_size > known {
        // SAFETY: `struct_size` is in bounds here, so per this function's
        // contract those bytes are readable.
        let tail = unsafe { std::slice::from_raw_parts(fields.add(known), struct_size - known) };
        if tail.iter().any(|b| *b != 0) {
            return invalid(format!(
                "fields sets members that this library version ({}) does not know \
                 (struct_size {struct_size} > {known}); link a newer libused_insight",
                env!("CARGO_PKG_VERSION")
            ));
        }
    }
    Ok(())
}
