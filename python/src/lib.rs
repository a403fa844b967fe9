//! Python bindings of qshade (module `qshade._native`; the `qshade` Python package wraps it).
//!
//! Every qshade [`qshade::Error`] becomes a `qshade.QShadeError` (a `ValueError`) carrying the
//! Rust message. Arrays cross as whole numpy buffers; the GIL is released while qshade runs.

mod backend;
mod circuit;
mod gates;

use pyo3::prelude::*;

pyo3::create_exception!(
    qshade,
    QShadeError,
    pyo3::exceptions::PyValueError,
    "An error reported by qshade (bad input, out of memory, no GPU adapter, ...); the message \
     says what to do."
);

/// A qshade error as a Python exception with the same message.
pub(crate) fn qerr(e: qshade::Error) -> PyErr {
    QShadeError::new_err(e.to_string())
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("QShadeError", m.py().get_type::<QShadeError>())?;
    m.add_class::<circuit::PyAngle>()?;
    m.add_class::<circuit::PyCircuit>()?;
    m.add_class::<circuit::PyObservable>()?;
    m.add_class::<backend::PyBackend>()?;
    m.add_class::<backend::PyState>()?;
    m.add_class::<backend::PyGradients>()?;
    m.add_function(wrap_pyfunction!(circuit::gate_table, m)?)?;
    m.add_function(wrap_pyfunction!(backend::cpu, m)?)?;
    m.add_function(wrap_pyfunction!(backend::reference, m)?)?;
    m.add_function(wrap_pyfunction!(backend::gpu, m)?)?;
    m.add_function(wrap_pyfunction!(backend::choose_backend, m)?)?;
    Ok(())
}
