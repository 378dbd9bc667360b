//! Python values → JSON text, for the `additional_data` of the models and
//! the unknown properties of a dict in Graph's wire shape. Every value that
//! has no JSON form is reported with its path (and written as `null`, so
//! core can still check the rest); what the JSON must *mean* is core's
//! business.

use pyo3::prelude::*;
use pyo3::types::dict::BoundDictIterator;
use pyo3::types::{
    PyBool, PyBytes, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple,
};

use crate::convert::{datetime_from_py, join_path, type_name, Problems};

/// Deeper nesting than this is refused: serde_json (and so core) stops at
/// 128 levels, and a container that holds itself would recurse forever.
const MAX_DEPTH: usize = 100;

/// Where a value sits, written out as a JSON path (`a.b[2]`) only when a
/// problem is reported there: a good value costs no allocation.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    /// A whole path, as written (`""` for the top level).
    Whole(&'a str),
    /// Property `key` of the value at the parent path.
    Key(&'a Path<'a>, &'a str),
    /// Item `index` of the array at the parent path.
    Index(&'a Path<'a>, usize),
    /// Property `key`, as Python's UTF-8 encoding of it, read only when a
    /// problem is reported there.
    KeyUtf8(&'a Path<'a>, &'a [u8]),
}

impl Path<'_> {
    pub(crate) fn render(&self) -> String {
        match self {
            Path::Whole(path) => (*path).to_owned(),
            Path::Key(parent, key) => join_path(&parent.render(), key),
            Path::Index(parent, index) => format!("{}[{index}]", parent.render()),
            Path::KeyUtf8(parent, key) => {
                join_path(&parent.render(), &String::from_utf8_lossy(key))
            }
        }
    }
}

/// One value as JSON text, e.g. an entry of `additional_data`; `depth` is
/// how deep inside the containers of its document it sits.
pub(crate) fn value_to_json(
    value: &Bound<'_, PyAny>,
    path: Path<'_>,
    depth: usize,
    problems: &mut Problems,
) -> PyResult<String> {
    let mut out = String::new();
    write_value(value, path, &mut out, problems, depth)?;
    Ok(out)
}

/// A property name of a mapping: a `str` holding valid Unicode. Anything
/// else is reported (at the parent `path`, the key's `repr` appended) and
/// `None` returned: the property is left out.
pub(crate) fn property_name(
    key: &Bound<'_, PyAny>,
    path: Path<'_>,
    problems: &mut Problems,
) -> PyResult<Option<String>> {
    Ok(property_name_utf8(key, path, problems)?.map(|name| utf8(&name).to_owned()))
}

/// [`property_name`] as Python's UTF-8 encoding of it, read with [`utf8`]:
/// a name is compared with the known ones without a copy.
pub(crate) fn property_name_utf8<'py>(
    key: &Bound<'py, PyAny>,
    path: Path<'_>,
    problems: &mut Problems,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    if let Some(name) = key
        .cast::<PyString>()
        .ok()
        .and_then(|k| k.encode_utf8().ok())
    {
        return Ok(Some(name));
    }
    problems.push(
        join_path(&path.render(), &key.repr()?.to_cow()?),
        format!("property names must be str, found {}", type_name(key)),
    );
    Ok(None)
}

/// The text of a `str` encoded by Python as UTF-8 (`PyString::encode_utf8`,
/// which refuses lone surrogates, so the check here always passes).
pub(crate) fn utf8<'a>(encoded: &'a Bound<'_, PyBytes>) -> &'a str {
    std::str::from_utf8(encoded.as_bytes()).unwrap_or_default()
}

/// The items of a mapping (a dict or any `collections.abc.Mapping`), read
/// from a snapshot: Python code run while converting (a tzinfo's
/// `utcoffset`, another thread) may change the mapping meanwhile. A plain
/// dict is copied (one allocation, nothing else can reach the copy); any
/// other mapping is read through its own `items()`.
pub(crate) fn mapping_items<'py>(mapping: &Bound<'py, PyMapping>) -> PyResult<Items<'py>> {
    if let Ok(dict) = mapping.as_any().cast_exact::<PyDict>() {
        return Ok(Items::Dict(dict.copy()?.into_iter()));
    }
    let items = mapping.items()?;
    let mut pairs = Vec::with_capacity(items.len());
    for item in items.iter() {
        pairs.push(item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?);
    }
    Ok(Items::Listed(pairs.into_iter()))
}

/// See [`mapping_items`].
pub(crate) enum Items<'py> {
    Dict(BoundDictIterator<'py>),
    Listed(std::vec::IntoIter<(Bound<'py, PyAny>, Bound<'py, PyAny>)>),
}

impl<'py> Iterator for Items<'py> {
    type Item = (Bound<'py, PyAny>, Bound<'py, PyAny>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Items::Dict(items) => items.next(),
            Items::Listed(items) => items.next(),
        }
    }
}

fn write_value(
    value: &Bound<'_, PyAny>,
    path: Path<'_>,
    out: &mut String,
    problems: &mut Problems,
    depth: usize,
) -> PyResult<()> {
    if depth > MAX_DEPTH {
        problems.push(
            path.render(),
            format!("is nested more than {MAX_DEPTH} levels deep (or contains itself)"),
        );
        out.push_str("null");
        return Ok(());
    }
    if value.is_none() {
        out.push_str("null");
    } else if let Ok(text) = value.cast::<PyString>() {
        match text.to_cow() {
            Ok(text) => write_string(&text, out),
            Err(_) => {
                problems.push(
                    path.render(),
                    "is not valid Unicode text (it holds a lone surrogate)",
                );
                out.push_str("null");
            }
        }
    } else if let Ok(flag) = value.cast::<PyBool>() {
        out.push_str(if flag.is_true() { "true" } else { "false" });
    } else if value.is_instance_of::<PyInt>() {
        // Python's own decimal text: exact for any size. A subclass (an
        // IntEnum…) is written as the plain int it is.
        let plain = if value.is_exact_instance_of::<PyInt>() {
            value.clone()
        } else {
            value.py().get_type::<PyInt>().call1((value,))?
        };
        out.push_str(&plain.str()?.to_cow()?);
    } else if value.is_instance_of::<PyFloat>() {
        let number: f64 = value.extract()?;
        if number.is_finite() {
            // Shortest text that reads back as the same float, like `repr`.
            out.push_str(&serde_json::to_string(&number).unwrap_or_else(|_| "null".into()));
        } else {
            problems.push(
                path.render(),
                format!("is {number}, which JSON cannot represent"),
            );
            out.push_str("null");
        }
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        out.push('[');
        for (i, item) in value.try_iter()?.enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_value(&item?, Path::Index(&path, i), out, problems, depth + 1)?;
        }
        out.push(']');
    } else if value.is_instance_of::<PyDateTime>() {
        // An aware datetime is an Edm.DateTimeOffset; core writes the text.
        match datetime_from_py(value, path, problems)? {
            Some(instant) => write_string(&instant.to_string(), out),
            None => out.push_str("null"),
        }
    } else if let Ok(mapping) = value.cast::<PyMapping>() {
        out.push('{');
        let mut first = true;
        for (key, value) in mapping_items(mapping)? {
            let Some(key) = property_name(&key, path, problems)? else {
                continue;
            };
            if !first {
                out.push(',');
            }
            first = false;
            write_string(&key, out);
            out.push(':');
            write_value(&value, Path::Key(&path, &key), out, problems, depth + 1)?;
        }
        out.push('}');
    } else {
        problems.push(
            path.render(),
            format!(
                "expected a JSON value (dict, list, str, int, float, bool or None), found {}",
                type_name(value)
            ),
        );
        out.push_str("null");
    }
    Ok(())
}

/// A JSON string literal.
pub(crate) fn write_string(text: &str, out: &mut String) {
    // Serializing a str cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
}
