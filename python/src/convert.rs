//! The Python models (`used_insight._models`, plain Python classes) ↔ the
//! core models, and aware `datetime` ↔ core's `DateTimeOffset`.
//!
//! Only type conversion happens here: a value of the wrong Python type is
//! reported with its JSON path; whether a value is *valid* (required
//! objects, URLs, lengths, `@odata.type`…) is decided by core.

use std::collections::BTreeMap;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyDateAccess, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyMapping, PyString, PyTimeAccess,
    PyType, PyTzInfo,
};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};
use used_insight::{
    DateTimeOffset, RawJson, ResourceReference, ResourceVisualization, UsageDetails, UsedInsight,
    ValidationErrors,
};

use crate::errors;
use crate::json::Path;
use crate::mapping::{self, Wire};

/// Problems found while converting, as (JSON path, reason), in order.
#[derive(Debug, Default)]
pub(crate) struct Problems(pub(crate) Vec<(String, String)>);

impl Problems {
    pub(crate) fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push((path.into(), reason.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds core's verdict on the (partly converted) input. A value this
    /// layer could not convert reaches core as absent, so core's problems at
    /// or under a path already reported are dropped rather than repeated.
    /// `strip` removes a wrapper property from core's paths (see `from_dict`).
    pub(crate) fn add_core(&mut self, verdict: Result<(), ValidationErrors>, strip: Option<&str>) {
        let Err(errors) = verdict else { return };
        let reported: Vec<String> = self.0.iter().map(|(path, _)| path.clone()).collect();
        for problem in errors.problems() {
            let path = match strip {
                Some(prefix) if problem.path == prefix => String::new(),
                Some(prefix) => problem
                    .path
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .unwrap_or(&problem.path)
                    .to_owned(),
                None => problem.path.clone(),
            };
            let covered = reported.iter().any(|done| {
                !done.is_empty()
                    && (path == *done
                        || path
                            .strip_prefix(done.as_str())
                            .is_some_and(|r| r.starts_with('.')))
            });
            if !covered {
                self.0.push((path, problem.reason.clone()));
            }
        }
    }
}

/// `parent.key`, or `key` at the top level, as core writes paths.
pub(crate) fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `str`, `datetime.datetime`…, for messages.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    let ty = value.get_type();
    let name = ty
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    match ty.module().map(|m| m.to_string()) {
        Ok(module) if module != "builtins" => format!("{module}.{name}"),
        _ => name,
    }
}

/// The four model classes, imported from `used_insight._models` on first use.
pub(crate) struct Models {
    pub(crate) used_insight: Py<PyType>,
    usage_details: Py<PyType>,
    resource_visualization: Py<PyType>,
    resource_reference: Py<PyType>,
}

static MODELS: PyOnceLock<Models> = PyOnceLock::new();

pub(crate) fn models(py: Python<'_>) -> PyResult<&'static Models> {
    MODELS.get_or_try_init(py, || {
        let module = py.import("used_insight._models")?;
        let class = |name: &str| -> PyResult<Py<PyType>> {
            Ok(module.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok(Models {
            used_insight: class("UsedInsight")?,
            usage_details: class("UsageDetails")?,
            resource_visualization: class("ResourceVisualization")?,
            resource_reference: class("ResourceReference")?,
        })
    })
}

/// Which model a class or an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    UsedInsight,
    UsageDetails,
    ResourceVisualization,
    ResourceReference,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::UsedInsight,
        Kind::UsageDetails,
        Kind::ResourceVisualization,
        Kind::ResourceReference,
    ];

    fn class<'py>(self, py: Python<'py>, m: &Models) -> Bound<'py, PyType> {
        match self {
            Kind::UsedInsight => m.used_insight.bind(py).clone(),
            Kind::UsageDetails => m.usage_details.bind(py).clone(),
            Kind::ResourceVisualization => m.resource_visualization.bind(py).clone(),
            Kind::ResourceReference => m.resource_reference.bind(py).clone(),
        }
    }

    fn of_instance(value: &Bound<'_, PyAny>) -> PyResult<Option<Kind>> {
        let py = value.py();
        let m = models(py)?;
        for kind in Kind::ALL {
            if value.is_instance(&kind.class(py, m))? {
                return Ok(Some(kind));
            }
        }
        Ok(None)
    }

    fn of_class(cls: &Bound<'_, PyType>) -> PyResult<Option<Kind>> {
        let py = cls.py();
        let m = models(py)?;
        for kind in Kind::ALL {
            if cls.is_subclass(&kind.class(py, m))? {
                return Ok(Some(kind));
            }
        }
        Ok(None)
    }
}

// ---------------------------------------------------------------- to core

/// Reads a `UsedInsight` model into core's type.
pub(crate) fn insight_from_py(
    obj: &Bound<'_, PyAny>,
    problems: &mut Problems,
) -> PyResult<UsedInsight> {
    let py = obj.py();
    let m = models(py)?;
    Ok(UsedInsight {
        id: string_attr(obj, intern!(py, "id"), "id", problems)?,
        last_used: nested_attr(
            obj,
            intern!(py, "last_used"),
            "lastUsed",
            m.usage_details.bind(py),
            usage_from_py,
            problems,
        )?,
        resource_visualization: nested_attr(
            obj,
            intern!(py, "resource_visualization"),
            "resourceVisualization",
            m.resource_visualization.bind(py),
            visualization_from_py,
            problems,
        )?,
        resource_reference: nested_attr(
            obj,
            intern!(py, "resource_reference"),
            "resourceReference",
            m.resource_reference.bind(py),
            reference_from_py,
            problems,
        )?,
        additional_data: additional_from_py(obj, "", problems)?,
    })
}

fn usage_from_py(
    obj: &Bound<'_, PyAny>,
    path: &str,
    problems: &mut Problems,
) -> PyResult<UsageDetails> {
    let py = obj.py();
    let datetime = |name: &Bound<'_, PyString>, key: &str, problems: &mut Problems| {
        datetime_from_py(&obj.getattr(name)?, &join_path(path, key), problems)
    };
    Ok(UsageDetails {
        last_accessed_date_time: datetime(
            intern!(py, "last_accessed_date_time"),
            "lastAccessedDateTime",
            problems,
        )?,
        last_modified_date_time: datetime(
            intern!(py, "last_modified_date_time"),
            "lastModifiedDateTime",
            problems,
        )?,
        additional_data: additional_from_py(obj, path, problems)?,
    })
}

fn visualization_from_py(
    obj: &Bound<'_, PyAny>,
    path: &str,
    problems: &mut Problems,
) -> PyResult<ResourceVisualization> {
    let py = obj.py();
    let text = |name: &Bound<'_, PyString>, key: &str, problems: &mut Problems| {
        string_attr(obj, name, &join_path(path, key), problems)
    };
    Ok(ResourceVisualization {
        title: text(intern!(py, "title"), "title", problems)?,
        r#type: text(intern!(py, "type"), "type", problems)?,
        media_type: text(intern!(py, "media_type"), "mediaType", problems)?,
        preview_image_url: text(
            intern!(py, "preview_image_url"),
            "previewImageUrl",
            problems,
        )?,
        preview_text: text(intern!(py, "preview_text"), "previewText", problems)?,
        container_web_url: text(
            intern!(py, "container_web_url"),
            "containerWebUrl",
            problems,
        )?,
        container_display_name: text(
            intern!(py, "container_display_name"),
            "containerDisplayName",
            problems,
        )?,
        container_type: text(intern!(py, "container_type"), "containerType", problems)?,
        additional_data: additional_from_py(obj, path, problems)?,
    })
}

fn reference_from_py(
    obj: &Bound<'_, PyAny>,
    path: &str,
    problems: &mut Problems,
) -> PyResult<ResourceReference> {
    let py = obj.py();
    let text = |name: &Bound<'_, PyString>, key: &str, problems: &mut Problems| {
        string_attr(obj, name, &join_path(path, key), problems)
    };
    Ok(ResourceReference {
        web_url: text(intern!(py, "web_url"), "webUrl", problems)?,
        id: text(intern!(py, "id"), "id", problems)?,
        r#type: text(intern!(py, "type"), "type", problems)?,
        additional_data: additional_from_py(obj, path, problems)?,
    })
}

type FromPy<T> = fn(&Bound<'_, PyAny>, &str, &mut Problems) -> PyResult<T>;

fn nested_attr<T>(
    obj: &Bound<'_, PyAny>,
    name: &Bound<'_, PyString>,
    path: &str,
    class: &Bound<'_, PyType>,
    convert: FromPy<T>,
    problems: &mut Problems,
) -> PyResult<Option<T>> {
    let value = obj.getattr(name)?;
    if value.is_none() {
        return Ok(None);
    }
    if value.is_instance(class)? {
        return convert(&value, path, problems).map(Some);
    }
    problems.push(
        path,
        format!(
            "expected a {} or None, found {}",
            class.name()?,
            type_name(&value)
        ),
    );
    Ok(None)
}

fn string_attr(
    obj: &Bound<'_, PyAny>,
    name: &Bound<'_, PyString>,
    path: &str,
    problems: &mut Problems,
) -> PyResult<Option<String>> {
    let value = obj.getattr(name)?;
    if value.is_none() {
        return Ok(None);
    }
    match value.cast::<PyString>() {
        Ok(text) => match text.to_cow() {
            Ok(text) => Ok(Some(text.into_owned())),
            Err(_) => {
                problems.push(
                    path,
                    "is not valid Unicode text (it holds a lone surrogate)",
                );
                Ok(None)
            }
        },
        Err(_) => {
            problems.push(
                path,
                format!("expected a str or None, found {}", type_name(&value)),
            );
            Ok(None)
        }
    }
}

/// `additional_data`: a mapping of property name to any JSON-compatible value.
fn additional_from_py(
    obj: &Bound<'_, PyAny>,
    path: &str,
    problems: &mut Problems,
) -> PyResult<BTreeMap<String, RawJson>> {
    let py = obj.py();
    let value = obj.getattr(intern!(py, "additional_data"))?;
    let mut out = BTreeMap::new();
    if value.is_none() {
        return Ok(out);
    }
    let Ok(mapping) = value.cast::<PyMapping>() else {
        problems.push(
            path,
            format!(
                "additional_data must be a dict of property name to JSON value, found {}",
                type_name(&value)
            ),
        );
        return Ok(out);
    };
    for item in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let key = match key.cast::<PyString>().ok().map(|k| k.to_cow()) {
            Some(Ok(key)) => key.into_owned(),
            _ => {
                problems.push(
                    join_path(path, &key.repr()?.to_cow()?),
                    format!(
                        "additional_data keys must be str, found {}",
                        type_name(&key)
                    ),
                );
                continue;
            }
        };
        let parent = Path::Whole(path);
        let at = Path::Key(&parent, &key);
        let text = crate::json::value_to_json(&value, at, 0, problems)?;
        match RawJson::new(text) {
            Ok(raw) => {
                out.insert(key, raw);
            }
            Err(e) => problems.push(at.render(), e.to_string()),
        }
    }
    Ok(out)
}

/// An aware `datetime` → core's `DateTimeOffset`, keeping the UTC offset it
/// has at that instant (a `zoneinfo` zone works as well as a fixed offset).
pub(crate) fn datetime_from_py(
    value: &Bound<'_, PyAny>,
    path: &str,
    problems: &mut Problems,
) -> PyResult<Option<DateTimeOffset>> {
    if value.is_none() {
        return Ok(None);
    }
    let Ok(dt) = value.cast::<PyDateTime>() else {
        problems.push(
            path,
            format!(
                "expected an aware datetime.datetime or None, found {}",
                type_name(value)
            ),
        );
        return Ok(None);
    };
    let offset = dt.call_method0(intern!(value.py(), "utcoffset"))?;
    if offset.is_none() {
        problems.push(
            path,
            "is a naive datetime (no tzinfo), which names no instant; give it a time zone, \
             e.g. datetime.now(timezone.utc) or value.replace(tzinfo=timezone.utc)",
        );
        return Ok(None);
    }
    let offset = offset.cast::<PyDelta>()?;
    if offset.get_microseconds() != 0 {
        problems.push(path, "has a UTC offset with a fraction of a second");
        return Ok(None);
    }
    let offset_seconds = i64::from(offset.get_days()) * 86_400 + i64::from(offset.get_seconds());
    // The wall-clock fields, read as if UTC, then moved by the offset.
    let wall = Month::try_from(dt.get_month())
        .ok()
        .and_then(|month| Date::from_calendar_date(dt.get_year(), month, dt.get_day()).ok())
        .zip(
            Time::from_hms_micro(
                dt.get_hour(),
                dt.get_minute(),
                dt.get_second(),
                dt.get_microsecond(),
            )
            .ok(),
        )
        .map(|(date, time)| PrimitiveDateTime::new(date, time).assume_utc());
    let Some(wall) = wall else {
        problems.push(path, "is not a representable date-time");
        return Ok(None);
    };
    let nanos = wall.unix_timestamp_nanos() - i128::from(offset_seconds) * 1_000_000_000;
    let offset_seconds = i32::try_from(offset_seconds).unwrap_or(i32::MAX);
    match DateTimeOffset::from_unix_nanos(nanos, offset_seconds) {
        Ok(instant) => Ok(Some(instant)),
        Err(e) => {
            problems.push(path, e.to_string());
            Ok(None)
        }
    }
}

// -------------------------------------------------------------- from core

/// Core's `UsedInsight` → a model instance (of `class`, default `UsedInsight`).
pub(crate) fn insight_to_py<'py>(
    py: Python<'py>,
    value: &UsedInsight,
    class: Option<&Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    let m = models(py)?;
    let kw = PyDict::new(py);
    kw.set_item(intern!(py, "id"), value.id.as_deref())?;
    kw.set_item(
        intern!(py, "last_used"),
        value
            .last_used
            .as_ref()
            .map(|v| usage_to_py(py, v, None))
            .transpose()?,
    )?;
    kw.set_item(
        intern!(py, "resource_visualization"),
        value
            .resource_visualization
            .as_ref()
            .map(|v| visualization_to_py(py, v, None))
            .transpose()?,
    )?;
    kw.set_item(
        intern!(py, "resource_reference"),
        value
            .resource_reference
            .as_ref()
            .map(|v| reference_to_py(py, v, None))
            .transpose()?,
    )?;
    kw.set_item(
        intern!(py, "additional_data"),
        additional_to_py(py, &value.additional_data)?,
    )?;
    class.unwrap_or(m.used_insight.bind(py)).call((), Some(&kw))
}

fn usage_to_py<'py>(
    py: Python<'py>,
    value: &UsageDetails,
    class: Option<&Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    let kw = PyDict::new(py);
    kw.set_item(
        intern!(py, "last_accessed_date_time"),
        value
            .last_accessed_date_time
            .as_ref()
            .map(|v| datetime_to_py(py, v))
            .transpose()?,
    )?;
    kw.set_item(
        intern!(py, "last_modified_date_time"),
        value
            .last_modified_date_time
            .as_ref()
            .map(|v| datetime_to_py(py, v))
            .transpose()?,
    )?;
    kw.set_item(
        intern!(py, "additional_data"),
        additional_to_py(py, &value.additional_data)?,
    )?;
    class
        .unwrap_or(models(py)?.usage_details.bind(py))
        .call((), Some(&kw))
}

fn visualization_to_py<'py>(
    py: Python<'py>,
    value: &ResourceVisualization,
    class: Option<&Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    let kw = PyDict::new(py);
    kw.set_item(intern!(py, "title"), value.title.as_deref())?;
    kw.set_item(intern!(py, "type"), value.r#type.as_deref())?;
    kw.set_item(intern!(py, "media_type"), value.media_type.as_deref())?;
    kw.set_item(
        intern!(py, "preview_image_url"),
        value.preview_image_url.as_deref(),
    )?;
    kw.set_item(intern!(py, "preview_text"), value.preview_text.as_deref())?;
    kw.set_item(
        intern!(py, "container_web_url"),
        value.container_web_url.as_deref(),
    )?;
    kw.set_item(
        intern!(py, "container_display_name"),
        value.container_display_name.as_deref(),
    )?;
    kw.set_item(
        intern!(py, "container_type"),
        value.container_type.as_deref(),
    )?;
    kw.set_item(
        intern!(py, "additional_data"),
        additional_to_py(py, &value.additional_data)?,
    )?;
    class
        .unwrap_or(models(py)?.resource_visualization.bind(py))
        .call((), Some(&kw))
}

fn reference_to_py<'py>(
    py: Python<'py>,
    value: &ResourceReference,
    class: Option<&Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    let kw = PyDict::new(py);
    kw.set_item(intern!(py, "web_url"), value.web_url.as_deref())?;
    kw.set_item(intern!(py, "id"), value.id.as_deref())?;
    kw.set_item(intern!(py, "type"), value.r#type.as_deref())?;
    kw.set_item(
        intern!(py, "additional_data"),
        additional_to_py(py, &value.additional_data)?,
    )?;
    class
        .unwrap_or(models(py)?.resource_reference.bind(py))
        .call((), Some(&kw))
}

fn additional_to_py<'py>(
    py: Python<'py>,
    values: &BTreeMap<String, RawJson>,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (key, raw) in values {
        let text = raw.as_str();
        // Strings (such as Graph's `@odata.context`) and literals are read
        // here; numbers, arrays and objects by Python's own reader.
        match text {
            "null" => out.set_item(key, py.None())?,
            "true" => out.set_item(key, true)?,
            "false" => out.set_item(key, false)?,
            _ if text.starts_with('"') => match serde_json::from_str::<String>(text) {
                Ok(string) => out.set_item(key, string)?,
                Err(_) => out.set_item(key, json_loads(py, text)?)?,
            },
            _ => out.set_item(key, json_loads(py, text)?)?,
        }
    }
    Ok(out)
}

/// Core's `DateTimeOffset` → an aware `datetime` with the same UTC offset.
/// Python keeps microseconds: a 7th to 9th fractional digit is dropped
/// (truncated, as Graph's own SDKs do). UTC, what Graph answers with, is
/// `datetime.timezone.utc` itself; another offset is a fixed-offset
/// `datetime.timezone`.
fn datetime_to_py<'py>(py: Python<'py>, value: &DateTimeOffset) -> PyResult<Bound<'py, PyAny>> {
    let out_of_range = || PyRuntimeError::new_err(format!("date-time {value} is out of range"));
    let offset_seconds = value.offset_seconds();
    let offset = UtcOffset::from_whole_seconds(offset_seconds).map_err(|_| out_of_range())?;
    let local = OffsetDateTime::from_unix_timestamp_nanos(value.unix_nanos())
        .ok()
        .and_then(|utc| utc.checked_to_offset(offset))
        .ok_or_else(out_of_range)?;
    let tzinfo = if offset_seconds == 0 {
        PyTzInfo::utc(py)?.to_owned()
    } else {
        PyTzInfo::fixed_offset(py, PyDelta::new(py, 0, offset_seconds, 0, true)?)?
    };
    let (date, time) = (local.date(), local.time());
    Ok(PyDateTime::new(
        py,
        date.year(),
        u8::from(date.month()),
        date.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.microsecond(),
        Some(&tzinfo),
    )?
    .into_any())
}

/// `json.loads`, for properties kept verbatim: Python's own reader keeps
/// integers of any size exact. Imported on first use.
fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let loads = LOADS.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads.bind(py).call1((text,))
}

// ---------------------------------------------------------- module functions

/// A model as a dict in Graph's wire shape (camelCase, `@odata.type`).
#[pyfunction]
pub(crate) fn to_dict<'py>(model: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = model.py();
    let mut problems = Problems::default();
    let text = match Kind::of_instance(model)? {
        Some(Kind::UsedInsight) => insight_from_py(model, &mut problems)?.to_json(),
        Some(Kind::UsageDetails) => to_json(&usage_from_py(model, "", &mut problems)?)?,
        Some(Kind::ResourceVisualization) => {
            to_json(&visualization_from_py(model, "", &mut problems)?)?
        }
        Some(Kind::ResourceReference) => to_json(&reference_from_py(model, "", &mut problems)?)?,
        None => {
            return Err(PyTypeError::new_err(format!(
                "expected a used_insight model, found {}",
                type_name(model)
            )))
        }
    };
    if !problems.is_empty() {
        return Err(errors::validation_error(py, problems));
    }
    json_loads(py, &text)
}

fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// A model read from a dict in Graph's wire shape; every problem of shape
/// is reported (by core) with its path.
#[pyfunction]
pub(crate) fn from_dict<'py>(
    cls: &Bound<'py, PyType>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let Some(kind) = Kind::of_class(cls)? else {
        return Err(PyTypeError::new_err(format!(
            "{} is not a used_insight model class",
            cls.name()?
        )));
    };
    let Some(data) = mapping::as_mapping(data) else {
        return Err(PyTypeError::new_err(format!(
            "from_dict() expects a dict in Graph's wire shape, found {}",
            type_name(data)
        )));
    };
    match kind {
        Kind::UsedInsight => insight_to_py(py, &read_checked(data)?, Some(cls)),
        Kind::UsageDetails => usage_to_py(py, &read_checked(data)?, Some(cls)),
        Kind::ResourceVisualization => visualization_to_py(py, &read_checked(data)?, Some(cls)),
        Kind::ResourceReference => reference_to_py(py, &read_checked(data)?, Some(cls)),
    }
}

/// A mapping read as a `T`, or ValidationError listing this layer's
/// problems, then core's on its shape (with paths relative to the object:
/// a nested type is judged by core as that property of a usedInsight, and
/// the wrapper is stripped).
fn read_checked<T: Wire>(data: &Bound<'_, PyMapping>) -> PyResult<T> {
    let mut problems = Problems::default();
    let (value, shape) = mapping::read::<T>(data, &mut problems)?;
    problems.add_core(shape, T::PROPERTY);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(errors::validation_error(data.py(), problems))
    }
}
