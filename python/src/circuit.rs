//! Python classes for circuits, angles and observables.

use crate::gates;
use crate::qerr;
use num_complex::Complex64;
use numpy::PyReadonlyArray2;
use pyo3::prelude::*;
use pyo3::types::PyList;
use qshade::{Angle, Circuit, GateKind, Observable, Pauli};

/// A gate angle: a constant, a trainable parameter `theta[i]` or an input feature `x[i]`, in
/// the affine form `scale * value + offset`. Plain floats are constants wherever an angle goes.
#[pyclass(name = "Angle", module = "qshade", frozen)]
#[derive(Clone)]
pub struct PyAngle {
    /// The Rust angle.
    pub inner: Angle,
}

// `.clone()` on Angle: it is `Copy` today and loses `Copy` when it becomes an expression type.
#[allow(clippy::clone_on_copy)]
#[pymethods]
impl PyAngle {
    /// The trainable parameter theta[index].
    #[staticmethod]
    fn theta(index: usize) -> Self {
        PyAngle {
            inner: Angle::theta(index),
        }
    }

    /// The input feature x[index].
    #[staticmethod]
    fn input(index: usize) -> Self {
        PyAngle {
            inner: Angle::input(index),
        }
    }

    /// A constant angle in radians.
    #[staticmethod]
    fn constant(value: f64) -> Self {
        PyAngle {
            inner: Angle::Const(value),
        }
    }

    /// This angle times `a` (offset included).
    fn times(&self, a: f64) -> Self {
        PyAngle {
            inner: self.inner.clone().times(a),
        }
    }

    /// This angle plus `b`.
    fn plus(&self, b: f64) -> Self {
        PyAngle {
            inner: self.inner.clone().plus(b),
        }
    }

    fn __mul__(&self, a: f64) -> Self {
        self.times(a)
    }

    fn __rmul__(&self, a: f64) -> Self {
        self.times(a)
    }

    fn __add__(&self, b: f64) -> Self {
        self.plus(b)
    }

    fn __radd__(&self, b: f64) -> Self {
        self.plus(b)
    }

    fn __repr__(&self) -> String {
        format!("Angle({:?})", self.inner)
    }
}

/// A float or an [`PyAngle`] as a Rust angle.
#[allow(clippy::clone_on_copy)]
fn to_angle(obj: &Bound<'_, PyAny>) -> PyResult<Angle> {
    if let Ok(a) = obj.cast::<PyAngle>() {
        return Ok(a.get().inner.clone());
    }
    match obj.extract::<f64>() {
        Ok(v) => Ok(Angle::Const(v)),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "an angle must be a float or a qshade.Angle, got {}",
            obj.get_type().name()?
        ))),
    }
}

/// A quantum circuit on a fixed number of qubits (qubit 0 is the least significant bit of a
/// basis index, as in Qiskit). Gates are added by name with [`PyCircuit::add`] or with the
/// per-gate methods (`c.h(0)`, `c.rx(1, qshade.theta(0))`, ...), which return the circuit.
#[pyclass(name = "Circuit", module = "qshade", subclass)]
#[derive(Clone)]
pub struct PyCircuit {
    /// The Rust circuit.
    pub inner: Circuit,
}

#[pymethods]
impl PyCircuit {
    #[new]
    fn new(num_qubits: usize) -> PyResult<Self> {
        Ok(PyCircuit {
            inner: Circuit::new(num_qubits).map_err(qerr)?,
        })
    }

    /// Number of qubits.
    #[getter]
    fn num_qubits(&self) -> usize {
        self.inner.num_qubits()
    }

    /// Number of trainable parameters theta a binding must supply.
    #[getter]
    fn num_params(&self) -> usize {
        self.inner.num_params()
    }

    /// Number of input features x a binding must supply.
    #[getter]
    fn num_inputs(&self) -> usize {
        self.inner.num_inputs()
    }

    /// Number of gates.
    fn __len__(&self) -> usize {
        self.inner.gates().len()
    }

    /// Makes bindings supply at least `count` trainable parameters.
    fn declare_params(mut slf: PyRefMut<'_, Self>, count: usize) -> PyRefMut<'_, Self> {
        slf.inner.declare_params(count);
        slf
    }

    /// Makes bindings supply at least `count` input features.
    fn declare_inputs(mut slf: PyRefMut<'_, Self>, count: usize) -> PyRefMut<'_, Self> {
        slf.inner.declare_inputs(count);
        slf
    }

    /// Adds the gate `name` (Qiskit's name: "h", "rx", "cx", "crz", "u", "rzz", "ccx", "mcx",
    /// ...) on `qubits` (controls first) with `angles` (floats or `qshade.Angle`s).
    #[pyo3(signature = (name, qubits, angles = None))]
    fn add<'py>(
        mut slf: PyRefMut<'py, Self>,
        name: &str,
        qubits: Vec<usize>,
        angles: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let angles: Vec<Angle> = match angles {
            None => Vec::new(),
            Some(seq) => seq
                .try_iter()?
                .map(|a| to_angle(&a?))
                .collect::<PyResult<_>>()?,
        };
        if name.eq_ignore_ascii_case("mcx") {
            if qubits.len() < 2 || !angles.is_empty() {
                return Err(bad_arity(
                    name,
                    "at least 2 qubits (controls, then target)",
                    0,
                    &qubits,
                    angles.len(),
                ));
            }
            let (target, controls) = qubits.split_last().unwrap_or((&0, &[]));
            slf.inner
                .multi_controlled(GateKind::X, controls, *target)
                .map_err(qerr)?;
            return Ok(slf);
        }
        let spec = gates::find(name).ok_or_else(|| {
            crate::QShadeError::new_err(format!(
                "unknown gate {name:?}; known gates: {}, mcx",
                gate_names().join(", ")
            ))
        })?;
        if qubits.len() != spec.qubits || angles.len() != spec.angles {
            return Err(bad_arity(
                name,
                &format!("{} qubits", spec.qubits),
                spec.angles,
                &qubits,
                angles.len(),
            ));
        }
        (spec.build)(&mut slf.inner, &qubits, &angles).map_err(qerr)?;
        Ok(slf)
    }

    /// Adds an arbitrary unitary on one qubit (2x2) or two qubits (4x4; basis index
    /// `bit(qubits[0]) + 2 * bit(qubits[1])`); errors if it is not unitary within 1e-8.
    fn unitary<'py>(
        mut slf: PyRefMut<'py, Self>,
        qubits: Vec<usize>,
        matrix: PyReadonlyArray2<'py, Complex64>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let m = matrix.as_array();
        let entries: Vec<Complex64> = m.iter().copied().collect();
        match (qubits.as_slice(), m.shape()) {
            ([q], [2, 2]) => {
                let mut a = [Complex64::default(); 4];
                a.copy_from_slice(&entries);
                slf.inner.unitary1(*q, a).map_err(qerr)?;
            }
            ([q0, q1], [4, 4]) => {
                let mut a = [Complex64::default(); 16];
                a.copy_from_slice(&entries);
                slf.inner.unitary2(*q0, *q1, a).map_err(qerr)?;
            }
            _ => {
                return Err(crate::QShadeError::new_err(format!(
                    "unitary takes 1 qubit and a 2x2 matrix or 2 qubits and a 4x4 matrix, got \
                     {} qubits and a {:?} matrix",
                    qubits.len(),
                    m.shape()
                )))
            }
        }
        Ok(slf)
    }

    /// Appends all gates of `other` (same width).
    fn append<'py>(
        mut slf: PyRefMut<'py, Self>,
        other: PyRef<'py, PyCircuit>,
    ) -> PyResult<PyRefMut<'py, Self>> {
        let other = other.inner.clone();
        slf.inner.append(&other).map_err(qerr)?;
        Ok(slf)
    }

    /// A copy of this circuit.
    fn copy(&self) -> Self {
        self.clone()
    }

    /// The gates as (label) strings, for printing.
    fn gate_labels(&self) -> Vec<String> {
        self.inner.gates().iter().map(|g| g.label()).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Circuit(num_qubits={}, gates={}, num_params={}, num_inputs={})",
            self.inner.num_qubits(),
            self.inner.gates().len(),
            self.inner.num_params(),
            self.inner.num_inputs()
        )
    }
}

/// The error of a gate called with the wrong number of qubits or angles.
fn bad_arity(name: &str, qubits: &str, angles: usize, got_q: &[usize], got_a: usize) -> PyErr {
    crate::QShadeError::new_err(format!(
        "gate {name:?} takes {qubits} and {angles} angle(s), got {} qubit(s) and {got_a} angle(s)",
        got_q.len()
    ))
}

/// `(name, num_qubits, num_angles)` of every gate `Circuit.add` knows (besides `mcx`).
#[pyfunction]
pub fn gate_table() -> Vec<(&'static str, usize, usize)> {
    gates::GATES
        .iter()
        .map(|g| (g.name, g.qubits, g.angles))
        .collect()
}

/// The gate names.
fn gate_names() -> Vec<&'static str> {
    gates::GATES.iter().map(|g| g.name).collect()
}

/// A Hermitian observable: a real-weighted sum of Pauli strings (and a constant).
#[pyclass(name = "Observable", module = "qshade", frozen)]
#[derive(Clone)]
pub struct PyObservable {
    /// The Rust observable.
    pub inner: Observable,
}

#[pymethods]
impl PyObservable {
    /// Parses text such as `"0.5 Z0 Z1 - 0.2 X2 + 1.0"`.
    #[new]
    fn new(text: &str) -> PyResult<Self> {
        Ok(PyObservable {
            inner: Observable::parse(text).map_err(qerr)?,
        })
    }

    /// A sum of terms `(coeff, paulis, qubits)`: e.g. `(0.5, "XZ", [0, 3])` is 0.5 X0 Z3;
    /// `(c, "", [])` is the constant c. `I` factors are skipped.
    #[staticmethod]
    fn from_terms(terms: &Bound<'_, PyList>) -> PyResult<Self> {
        let mut obs = Observable::constant(0.0);
        for item in terms.iter() {
            let (coeff, paulis, qubits): (f64, String, Vec<usize>) = item.extract()?;
            if paulis.chars().count() != qubits.len() {
                return Err(crate::QShadeError::new_err(format!(
                    "term {paulis:?} has {} Pauli letters but {} qubits",
                    paulis.chars().count(),
                    qubits.len()
                )));
            }
            let mut ops = Vec::with_capacity(qubits.len());
            for (ch, q) in paulis.chars().zip(qubits) {
                match ch.to_ascii_uppercase() {
                    'X' => ops.push((q, Pauli::X)),
                    'Y' => ops.push((q, Pauli::Y)),
                    'Z' => ops.push((q, Pauli::Z)),
                    'I' => {}
                    other => {
                        return Err(crate::QShadeError::new_err(format!(
                            "unknown Pauli letter {other:?} in {paulis:?}; use I, X, Y or Z"
                        )))
                    }
                }
            }
            obs.add_term(coeff, &ops).map_err(qerr)?;
        }
        Ok(PyObservable { inner: obs })
    }

    /// Z on `qubit`.
    #[staticmethod]
    fn z(qubit: usize) -> Self {
        PyObservable {
            inner: Observable::z(qubit),
        }
    }

    /// X on `qubit`.
    #[staticmethod]
    fn x(qubit: usize) -> Self {
        PyObservable {
            inner: Observable::x(qubit),
        }
    }

    /// Y on `qubit`.
    #[staticmethod]
    fn y(qubit: usize) -> Self {
        PyObservable {
            inner: Observable::y(qubit),
        }
    }

    /// Checks that every term acts on qubits below `num_qubits`.
    fn validate(&self, num_qubits: usize) -> PyResult<()> {
        self.inner.validate(num_qubits).map_err(qerr)
    }

    fn __repr__(&self) -> String {
        format!("Observable({:?})", self.inner)
    }
}

/// One observable or a list of them as Rust observables.
pub fn to_observables(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Observable>> {
    if let Ok(o) = obj.cast::<PyObservable>() {
        return Ok(vec![o.get().inner.clone()]);
    }
    if let Ok(text) = obj.extract::<String>() {
        return Ok(vec![Observable::parse(&text).map_err(qerr)?]);
    }
    obj.try_iter()?
        .map(|o| {
            let o = o?;
            if let Ok(o) = o.cast::<PyObservable>() {
                Ok(o.get().inner.clone())
            } else {
                let text: String = o.extract().map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err(
                        "observables must be qshade.Observable objects or strings",
                    )
                })?;
                Observable::parse(&text).map_err(qerr)
            }
        })
        .collect()
}
