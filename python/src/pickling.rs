//! Pickling by the arguments an object was made with, so that a `Client`
//! (and the credentials and `RateLimit` it holds) can be handed to a
//! `spawn` or `forkserver` worker, which builds its own from them. Nothing
//! else crosses: no connection, no cached token, no limiter state.
//!
//! The pickle holds the arguments as given — a `token=` or a
//! `client_secret=` included — as any pickle of the settings would.

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString, PyTuple};

use crate::convert::type_name;

/// The keyword arguments an object was made with (those given as `None`
/// left out: `None` is every optional argument's default).
pub(crate) struct MadeWith {
    kwargs: Py<PyDict>,
}

impl MadeWith {
    pub(crate) fn new<'py>(
        py: Python<'py>,
        arguments: &[(&str, Option<Bound<'py, PyAny>>)],
    ) -> PyResult<Self> {
        let kwargs = PyDict::new(py);
        for (name, value) in arguments {
            if let Some(value) = value {
                kwargs.set_item(name, value)?;
            }
        }
        Ok(Self {
            kwargs: kwargs.unbind(),
        })
    }

    /// `__reduce__`: `copyreg.__newobj_ex__(type(obj), (), kwargs)`, which
    /// pickle writes as "make this class with these keywords". An argument
    /// that cannot itself be pickled (a lambda as token provider, a foreign
    /// credential holding a lock) is named in a TypeError, with pickle's
    /// own reason as its cause.
    pub(crate) fn reduce<'py>(
        &self,
        obj: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = obj.py();
        let kwargs = self.kwargs.bind(py);
        let dumps = py
            .import(intern!(py, "pickle"))?
            .getattr(intern!(py, "dumps"))?;
        for (name, value) in kwargs.iter() {
            let plain = value.is_instance_of::<PyString>()
                || value.is_instance_of::<PyBool>()
                || value.is_instance_of::<PyInt>()
                || value.is_instance_of::<PyFloat>();
            if plain {
                continue;
            }
            if let Err(why) = dumps.call1((&value,)) {
                let class = obj.get_type().name()?;
                let error = PyTypeError::new_err(format!(
                    "cannot pickle this {class}: its {name} ({}) cannot be pickled; give one \
                     that can (a module-level function, a credential of this package) or \
                     make a new {class} in the other process",
                    type_name(&value)
                ));
                error.set_cause(py, Some(why));
                return Err(error);
            }
        }
        let newobj_ex = py
            .import(intern!(py, "copyreg"))?
            .getattr(intern!(py, "__newobj_ex__"))?;
        let args = PyTuple::new(
            py,
            [
                obj.get_type().into_any(),
                PyTuple::empty(py).into_any(),
                kwargs.copy()?.into_any(),
            ],
        )?;
        Ok((newobj_ex, args))
    }
}
