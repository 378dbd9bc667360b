//! `used_insight_fields`: a usedInsight as plain C strings, so a C caller
//! never writes JSON. Each member is a wire path; core builds the model
//! from the texts and validates it.

use std::ffi::{c_char, CStr};
use std::mem::size_of;

use used_insight_core::{bindings, Error, Problem, UsedInsight};

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

/// Each member of `used_insight_fields` and the wire path it sets, in member
/// order: the whole of what this layer knows about the model. Reading,
/// building and checking the usedInsight are core's
/// ([`bindings::insight_from_texts`], [`bindings::validate_create`]).
///
/// The struct pattern in `members` names every member, so a member added to
/// the struct and not here does not compile; a property added to core's
/// model and not here fails `every_text_property_of_core_has_one_member`.
macro_rules! members {
    ($($member:ident => $path:literal,)*) => {
        /// Each member's value and wire path, in member order.
        fn members(fields: &used_insight_fields) -> [(*const c_char, &'static str); PATHS.len()] {
            let used_insight_fields { struct_size: _, $($member),* } = *fields;
            [$(($member, $path)),*]
        }

        /// The wire path each member sets, in member order.
        pub(crate) const PATHS: &[&str] = &[$($path),*];
    };
}

members! {
    title => "resourceVisualization.title",
    r#type => "resourceVisualization.type",
    media_type => "resourceVisualization.mediaType",
    preview_image_url => "resourceVisualization.previewImageUrl",
    preview_text => "resourceVisualization.previewText",
    container_web_url => "resourceVisualization.containerWebUrl",
    container_display_name => "resourceVisualization.containerDisplayName",
    container_type => "resourceVisualization.containerType",
    web_url => "resourceReference.webUrl",
    resource_id => "resourceReference.id",
    resource_type => "resourceReference.type",
    last_accessed => "lastUsed.lastAccessedDateTime",
    last_modified => "lastUsed.lastModifiedDateTime",
}

/// The fields read from C: the model core built from them, and what it
/// found doing so (date-times that did not parse), which
/// [`ReadFields::validated`] reports with core's rules.
pub(crate) struct ReadFields {
    insight: UsedInsight,
    found: Vec<Problem>,
}

impl ReadFields {
    /// The insight to send for `user_id`, or every problem in the order
    /// `used_insight_create` reports them for the equivalent JSON (core's
    /// one merge: the user id, what did not parse, then Graph's rules).
    pub(crate) fn validated(self, user_id: &str) -> Result<UsedInsight, Failure> {
        match bindings::validate_create(user_id, &self.insight, self.found) {
            Ok(()) => Ok(self.insight),
            Err(invalid) => Err(Error::InvalidInput(invalid).into()),
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

    let mut texts = Vec::new();
    let mut bad = Vec::new();
    for (value, path) in members(f) {
        if value.is_null() {
            continue;
        }
        // SAFETY: not NULL and, per this function's contract, a live
        // NUL-terminated string.
        match unsafe { CStr::from_ptr(value) }.to_str() {
            Ok(text) => texts.push((path, text)),
            Err(e) => bad.push((path.to_owned(), not_utf8("the value", &e))),
        }
    }
    if !bad.is_empty() {
        let paths: Vec<&str> = bad.iter().map(|(p, _)| p.as_str()).collect();
        let message = format!("not valid UTF-8: {}", paths.join(", "));
        return Err(used_insight_error::with_problems(
            used_insight_status::InvalidUtf8,
            message,
            bad,
        ));
    }
    let (insight, found) = bindings::insight_from_texts(texts);
    Ok(ReadFields { insight, found })
}
