//! Core's models paired with their Python classes (`used_insight._models`)
//! and their attribute names as interned Python strings, made once from
//! core's field table: converting either way looks nothing up by hashing
//! and builds no attribute name.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};
use used_insight::{FieldKind, Model, ModelInfo, UsedInsight};

/// One model: its table, its class, and its fields' attribute names in the
/// table's order.
pub(crate) struct PyModel {
    pub(crate) info: &'static ModelInfo,
    pub(crate) class: Py<PyType>,
    pub(crate) attributes: Vec<Py<PyString>>,
}

/// Every model in core's table, the top level first, each once.
pub(crate) fn all_infos() -> Vec<&'static ModelInfo> {
    let mut out = vec![UsedInsight::MODEL];
    let mut next = 0;
    while next < out.len() {
        for field in out[next].fields {
            if let FieldKind::Object(nested) = field.kind {
                if !out.iter().any(|m| m.name == nested.name) {
                    out.push(nested);
                }
            }
        }
        next += 1;
    }
    out
}

/// Every model core declares, the top level first (a handful: a linear
/// search by name beats hashing).
pub(crate) fn all(py: Python<'_>) -> PyResult<&'static [PyModel]> {
    static MODELS: PyOnceLock<Vec<PyModel>> = PyOnceLock::new();
    MODELS
        .get_or_try_init(py, || {
            let module = py.import("used_insight._models")?;
            all_infos()
                .into_iter()
                .map(|info| {
                    Ok(PyModel {
                        info,
                        class: module.getattr(info.name)?.cast_into::<PyType>()?.unbind(),
                        attributes: info
                            .fields
                            .iter()
                            .map(|f| PyString::intern(py, f.name).unbind())
                            .collect(),
                    })
                })
                .collect::<PyResult<Vec<_>>>()
        })
        .map(Vec::as_slice)
}

/// Every wire name core's table knows (and `@odata.type`), as interned
/// Python strings, found by the string object's address: a dict key that
/// *is* one of them (Python interns the keys written in code) is handed to
/// core without encoding it.
pub(crate) struct WireNames {
    /// Open addressing by address; the interned strings are kept alive here.
    slots: Vec<Option<(Py<PyString>, &'static str)>>,
}

impl WireNames {
    fn slot(&self, address: usize) -> usize {
        // Objects are 16-byte aligned: the low bits say nothing.
        (address >> 4) % self.slots.len()
    }

    /// The wire name `key` is, when it is one of the interned strings.
    pub(crate) fn find(&self, key: &Bound<'_, PyAny>) -> Option<&'static str> {
        let address = key.as_ptr() as usize;
        let mut i = self.slot(address);
        loop {
            match &self.slots[i] {
                None => return None,
                Some((interned, name)) if interned.as_ptr() as usize == address => {
                    return Some(name)
                }
                Some(_) => i = (i + 1) % self.slots.len(),
            }
        }
    }
}

pub(crate) fn wire_names(py: Python<'_>) -> &'static WireNames {
    static NAMES: PyOnceLock<WireNames> = PyOnceLock::new();
    NAMES.get_or_init(py, || {
        let mut names: Vec<&'static str> = vec!["@odata.type"];
        for info in all_infos() {
            for field in info.fields {
                if !names.contains(&field.wire_name) {
                    names.push(field.wire_name);
                }
            }
        }
        // At most a quarter full, so a miss ends at the first empty slot.
        let mut table = WireNames {
            slots: (0..(names.len() * 4).next_power_of_two())
                .map(|_| None)
                .collect(),
        };
        for name in names {
            let interned = PyString::intern(py, name).unbind();
            let mut i = table.slot(interned.as_ptr() as usize);
            while table.slots[i].is_some() {
                i = (i + 1) % table.slots.len();
            }
            table.slots[i] = Some((interned, name));
        }
        table
    })
}

/// The Python side of one of core's models.
pub(crate) fn of(py: Python<'_>, info: &ModelInfo) -> PyResult<&'static PyModel> {
    // The same name is usually the very same literal: compare addresses
    // first, text only when they differ.
    all(py)?
        .iter()
        .find(|m| std::ptr::eq(m.info.name, info.name) || m.info.name == info.name)
        .ok_or_else(|| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("no Python class for {}", info.name))
        })
}

/// The model `class` is, or derives from.
pub(crate) fn of_class(class: &Bound<'_, PyType>) -> PyResult<Option<&'static PyModel>> {
    let py = class.py();
    for model in all(py)? {
        if class.is_subclass(model.class.bind(py).as_any())? {
            return Ok(Some(model));
        }
    }
    Ok(None)
}
