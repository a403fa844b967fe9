//! Python classes for circuits, angles and observables.

use crate::qerr;
use num_complex::Complex64;
use numpy::PyReadonlyArray2;
use pyo3::prelude::*;
use pyo3::types::PyList;
use qshade::{Angle, AngleFn, Bindings, Circuit, Observable, Pauli, Program, Var};
use std::sync::{Arc, Mutex};

/// A gate angle: a constant, a trainable parameter `theta[i]`, an input feature `x[i]`, or an
/// expression of them (`+ - * /`, unary `-`, `**`, and the functions of [`AngleFn`]), with
/// plain floats on either side of an operator. Gradients flow through the expression by the
/// chain rule in Rust.
#[pyclass(name = "Angle", module = "qshade", frozen)]
#[derive(Clone)]
pub struct PyAngle {
    /// The Rust angle.
    pub inner: Angle,
}

impl From<Angle> for PyAngle {
    fn from(inner: Angle) -> Self {
        PyAngle { inner }
    }
}

/// The names [`PyAngle::apply`] accepts (those of [`AngleFn::from_name`]).
const FUNCTION_NAMES: &str = "sin, cos, tan, exp, ln (log), sqrt, arcsin (asin), arccos (acos), \
                              arctan (atan)";

#[pymethods]
impl PyAngle {
    /// The trainable parameter theta[index].
    #[staticmethod]
    fn theta(index: usize) -> Self {
        Angle::theta(index).into()
    }

    /// The input feature x[index].
    #[staticmethod]
    fn input(index: usize) -> Self {
        Angle::input(index).into()
    }

    /// A constant angle in radians.
    #[staticmethod]
    fn constant(value: f64) -> Self {
        Angle::Const(value).into()
    }

    /// This angle times `a` (offset included).
    fn times(&self, a: f64) -> Self {
        (self.inner.clone() * a).into()
    }

    /// This angle plus `b`.
    fn plus(&self, b: f64) -> Self {
        (self.inner.clone() + b).into()
    }

    /// The function `name` (sin, cos, tan, exp, ln, sqrt, arcsin, arccos, arctan) of this
    /// angle.
    fn apply(&self, name: &str) -> PyResult<Self> {
        let f = AngleFn::from_name(name).ok_or_else(|| {
            crate::QShadeError::new_err(format!(
                "unknown angle function {name:?}; known: {FUNCTION_NAMES}"
            ))
        })?;
        Ok(self.inner.clone().func(f).into())
    }

    /// The value under `theta` and `inputs` (1-D arrays; missing ones are empty). Errors if
    /// the angle reads an index they lack.
    #[pyo3(signature = (theta = None, inputs = None))]
    fn value(&self, theta: Option<Vec<f64>>, inputs: Option<Vec<f64>>) -> PyResult<f64> {
        let (theta, inputs) = (theta.unwrap_or_default(), inputs.unwrap_or_default());
        self.check_bound(&theta, &inputs)?;
        Ok(self.inner.value(&Bindings::new(&theta, &inputs)))
    }

    /// `(d/dtheta, d/dinputs)` of the angle under `theta` and `inputs`, as lists of their
    /// lengths (the chain rule through the expression, in Rust).
    #[pyo3(signature = (theta = None, inputs = None))]
    fn gradient(
        &self,
        theta: Option<Vec<f64>>,
        inputs: Option<Vec<f64>>,
    ) -> PyResult<(Vec<f64>, Vec<f64>)> {
        let (theta, inputs) = (theta.unwrap_or_default(), inputs.unwrap_or_default());
        self.check_bound(&theta, &inputs)?;
        let (mut gt, mut gx) = (vec![0.0; theta.len()], vec![0.0; inputs.len()]);
        self.inner
            .gradient(&Bindings::new(&theta, &inputs), &mut |v, d| match v {
                Var::Theta(k) => gt[k] += d,
                Var::Input(i) => gx[i] += d,
            });
        Ok((gt, gx))
    }

    /// Whether the angle is a constant.
    fn is_const(&self) -> bool {
        self.inner.is_const()
    }

    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok((self.inner.clone() + to_angle(other)?).into())
    }

    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok((to_angle(other)? + self.inner.clone()).into())
    }

    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok((self.inner.clone() - to_angle(other)?).into())
    }

    fn __rsub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok((to_angle(other)? - self.inner.clone()).into())
    }

    fn __mul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok((self.inner.clone() * to_angle(other)?).into())
    }

    fn __rmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok((to_angle(other)? * self.inner.clone()).into())
    }

    fn __truediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok((self.inner.clone() / to_angle(other)?).into())
    }

    fn __rtruediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok((to_angle(other)? / self.inner.clone()).into())
    }

    fn __pow__(
        &self,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        if modulo.is_some() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "pow() with a modulus is not defined for angles",
            ));
        }
        Ok(self.inner.clone().pow(to_angle(other)?).into())
    }

    fn __rpow__(
        &self,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        if modulo.is_some() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "pow() with a modulus is not defined for angles",
            ));
        }
        Ok(to_angle(other)?.pow(self.inner.clone()).into())
    }

    fn __neg__(&self) -> Self {
        (-self.inner.clone()).into()
    }

    fn __pos__(&self) -> Self {
        self.clone()
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Angle({})", self.inner)
    }
}

impl PyAngle {
    /// Errors unless `theta` and `inputs` cover every index the angle reads.
    fn check_bound(&self, theta: &[f64], inputs: &[f64]) -> PyResult<()> {
        let mut missing = None;
        self.inner.for_each_variable(&mut |v| {
            let short = match v {
                Var::Theta(k) => k >= theta.len(),
                Var::Input(i) => i >= inputs.len(),
            };
            if short && missing.is_none() {
                missing = Some(v);
            }
        });
        match missing {
            None => Ok(()),
            Some(v) => Err(crate::QShadeError::new_err(format!(
                "angle {} reads {} but theta has {} and inputs {} value(s); pass longer arrays",
                self.inner,
                match v {
                    Var::Theta(k) => format!("theta[{k}]"),
                    Var::Input(i) => format!("x[{i}]"),
                },
                theta.len(),
                inputs.len()
            ))),
        }
    }
}

/// A float or an [`PyAngle`] as a Rust angle.
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
    /// Its compiled form, reused by every batched call while the circuit is unchanged.
    compiled: ProgramCache,
}

impl PyCircuit {
    /// The compiled program of the circuit as it is now: the cached one while the circuit is
    /// unchanged, so repeated batched calls (a training loop) keep one program identity and the
    /// backends' per-program caches (the GPU's batch plans and buffers) are reused instead of
    /// being rebuilt on every call.
    pub fn program(&self) -> Arc<Program> {
        self.compiled.get(&self.inner)
    }
}

/// The last compiled program and the circuit it was compiled from (a clone of a circuit starts
/// with an empty cache).
#[derive(Default)]
struct ProgramCache(Mutex<Option<(Circuit, Arc<Program>)>>);

impl Clone for ProgramCache {
    fn clone(&self) -> Self {
        ProgramCache::default()
    }
}

impl ProgramCache {
    /// The program of `circuit`, compiled again only if `circuit` differs from the cached one.
    fn get(&self, circuit: &Circuit) -> Arc<Program> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some((cached, program)) if cached == circuit => program.clone(),
            _ => {
                let program = Arc::new(Program::compile(circuit));
                *slot = Some((circuit.clone(), program.clone()));
                program
            }
        }
    }
}

#[pymethods]
impl PyCircuit {
    #[new]
    fn new(num_qubits: usize) -> PyResult<Self> {
        Ok(PyCircuit {
            inner: Circuit::new(num_qubits).map_err(qerr)?,
            compiled: ProgramCache::default(),
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

    /// Adds the standard gate `name` (Qiskit's name: "h", "rx", "cx", "crz", "u", "rzz", "ccx",
    /// "ecr", "cswap", "mcx", "global_phase", ...; `standard_gate_names()` lists them) on
    /// `qubits` (controls first) with `angles` (floats or `qshade.Angle`s). Rust's standard gate
    /// library builds it; a bad name or count is a `QShadeError` and leaves the circuit as it was.
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
        slf.inner
            .add_standard(name, &qubits, &angles)
            .map_err(qerr)?;
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

/// `(name, num_qubits, num_angles)` of every gate `Circuit.add` knows: Qiskit's standard gate
/// library as qshade's Rust side lists it (aliases included; `mcx` with its smallest arity).
#[pyfunction]
pub fn gate_table() -> Vec<(&'static str, usize, usize)> {
    qshade::standard_gate_names()
        .iter()
        .filter_map(|&n| qshade::standard_gate_signature(n).map(|(q, a)| (n, q, a)))
        .collect()
}

/// The lower-case Qiskit / OpenQASM names of every standard gate (aliases included).
#[pyfunction]
pub fn standard_gate_names() -> Vec<&'static str> {
    qshade::standard_gate_names().to_vec()
}

/// `(num_qubits, num_angles)` of the named standard gate, None if qshade does not know it.
#[pyfunction]
pub fn standard_gate_signature(name: &str) -> Option<(usize, usize)> {
    qshade::standard_gate_signature(name)
}

/// Whether the named gate takes any number of qubits from its signature's count up (`mcx`).
#[pyfunction]
pub fn standard_gate_is_variadic(name: &str) -> bool {
    qshade::standard_gate_is_variadic(name)
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
