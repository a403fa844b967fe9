//! Python classes for backends and states: runs, batched forward values, batched adjoint
//! gradients and Jacobians, overlaps, sampling. Arrays cross as whole numpy buffers and the
//! GIL is released while qshade computes.

use crate::circuit::{to_observables, PyCircuit};
use crate::qerr;
use crate::QShadeError;
use num_complex::Complex64;
use numpy::ndarray::ArrayD;
use numpy::{
    AllowTypeChange, IntoPyArray, PyArrayLikeDyn, PyReadonlyArray1, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use qshade::{
    Backend, Batch, Bindings, Circuit, CpuBackend, GradientConfig, GradientMethod, Observable,
    Precision, Program, QuantumState,
};
use std::sync::{Arc, Mutex};

/// "f32" / "f64" as a precision.
fn parse_precision(text: &str) -> PyResult<Precision> {
    match text.to_ascii_lowercase().as_str() {
        "f32" | "float32" | "single" => Ok(Precision::F32),
        "f64" | "float64" | "double" => Ok(Precision::F64),
        _ => Err(QShadeError::new_err(format!(
            "unknown precision {text:?}; use \"f32\" or \"f64\""
        ))),
    }
}

/// The precision's name.
fn precision_name(p: Precision) -> &'static str {
    match p {
        Precision::F32 => "f32",
        Precision::F64 => "f64",
    }
}

/// A simulator backend (the fast CPU, the f64 CPU reference or a GPU). Create one with
/// `qshade.cpu()`, `qshade.reference()`, `qshade.gpu()` or `qshade.choose_backend()`.
#[pyclass(name = "Backend", module = "qshade", frozen)]
pub struct PyBackend {
    inner: Arc<dyn Backend>,
    kind: &'static str,
}

/// The fast multithreaded CPU backend in `precision` ("f64" default, or "f32").
#[pyfunction]
#[pyo3(signature = (precision = "f64"))]
pub fn cpu(precision: &str) -> PyResult<PyBackend> {
    Ok(PyBackend {
        inner: Arc::new(CpuBackend::with_precision(parse_precision(precision)?)),
        kind: "cpu",
    })
}

/// The plain f64 CPU reference backend (slow; what every other backend is checked against).
#[pyfunction]
pub fn reference() -> PyBackend {
    PyBackend {
        inner: Arc::new(CpuBackend::reference()),
        kind: "reference",
    }
}

/// The GPU backend (WGSL compute shaders through wgpu) in `precision` ("f32" default; "f64"
/// needs an adapter with 64-bit float shaders). Raises `QShadeError` without a usable adapter.
#[pyfunction]
#[pyo3(signature = (precision = "f32"))]
pub fn gpu(py: Python<'_>, precision: &str) -> PyResult<PyBackend> {
    let precision = parse_precision(precision)?;
    let backend = py
        .detach(|| {
            qshade::GpuBackend::with_config(qshade::GpuConfig::default().precision(precision))
        })
        .map_err(qerr)?;
    Ok(PyBackend {
        inner: Arc::new(backend),
        kind: "gpu",
    })
}

/// The best backend here (a hardware GPU, else the fast CPU) and the reason, as
/// `(backend, reason)`.
#[pyfunction]
pub fn choose_backend(py: Python<'_>) -> (PyBackend, String) {
    let choice = py.detach(qshade::choose_backend);
    let kind = match choice.kind {
        qshade::BackendKind::Gpu => "gpu",
        _ => "cpu",
    };
    (
        PyBackend {
            inner: Arc::from(choice.backend),
            kind,
        },
        choice.reason,
    )
}

/// A batch's θ and inputs as owned row-major buffers, with its size.
struct OwnedBatch {
    theta: Vec<f64>,
    theta_per_sample: bool,
    inputs: Vec<f64>,
    size: usize,
}

impl OwnedBatch {
    /// Reads `theta` (None, 1-D shared or 2-D `B × P`) and `inputs` (None, 1-D one sample or
    /// 2-D `B × I`), checking that their batch sizes agree.
    fn new(
        theta: Option<PyArrayLikeDyn<'_, f64, AllowTypeChange>>,
        inputs: Option<PyArrayLikeDyn<'_, f64, AllowTypeChange>>,
        batch_size: Option<usize>,
    ) -> PyResult<Self> {
        let (theta, theta_rows) = flatten(theta, "theta")?;
        let (inputs, input_rows) = flatten(inputs, "inputs")?;
        let size = match (theta_rows, input_rows, batch_size) {
            (Some(a), Some(b), _) if a != b => {
                return Err(QShadeError::new_err(format!(
                    "theta has {a} rows but inputs have {b}; a batch needs one row of each per \
                     sample (or a 1-D theta shared by all samples)"
                )))
            }
            (Some(a), _, Some(b)) | (_, Some(a), Some(b)) if a != b => {
                return Err(QShadeError::new_err(format!(
                    "batch_size={b} but the arrays have {a} rows"
                )))
            }
            (Some(a), _, _) | (_, Some(a), _) | (_, _, Some(a)) => a,
            _ => 1,
        };
        let inputs = match input_rows {
            // One 1-D input row shared by every sample of a θ batch.
            None if size > 1 && !inputs.is_empty() => {
                let mut all = Vec::new();
                all.try_reserve_exact(inputs.len().saturating_mul(size))
                    .map_err(|_| QShadeError::new_err("inputs too large to repeat"))?;
                for _ in 0..size {
                    all.extend_from_slice(&inputs);
                }
                all
            }
            _ => inputs,
        };
        Ok(OwnedBatch {
            theta,
            theta_per_sample: theta_rows.is_some(),
            inputs,
            size,
        })
    }

    /// The Rust view.
    fn batch(&self) -> Batch<'_> {
        if self.theta_per_sample {
            Batch::per_sample(&self.theta, &self.inputs, self.size)
        } else {
            Batch::shared(&self.theta, &self.inputs, self.size)
        }
    }
}

/// A 0-, 1- or 2-D array as a flat buffer and its number of rows (None unless 2-D).
fn flatten(
    a: Option<PyArrayLikeDyn<'_, f64, AllowTypeChange>>,
    what: &str,
) -> PyResult<(Vec<f64>, Option<usize>)> {
    let Some(a) = a else {
        return Ok((Vec::new(), None));
    };
    let view = a.as_array();
    let flat: Vec<f64> = view.iter().copied().collect();
    match view.ndim() {
        0 | 1 => Ok((flat, None)),
        2 => Ok((flat, Some(view.shape()[0]))),
        d => Err(QShadeError::new_err(format!(
            "{what} must be 1-D (one row for every sample) or 2-D (one row per sample), got {d}-D"
        ))),
    }
}

/// A row-major buffer as a numpy array of `shape`.
fn to_numpy<'py, T: numpy::Element>(
    py: Python<'py>,
    data: Vec<T>,
    shape: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    let array = ArrayD::from_shape_vec(shape.to_vec(), data)
        .map_err(|e| QShadeError::new_err(format!("internal shape error: {e}")))?;
    Ok(array.into_pyarray(py).into_any())
}

/// Gradients of a batched loss: see `Backend.gradient`.
#[pyclass(name = "Gradients", module = "qshade", frozen, get_all)]
pub struct PyGradients {
    /// <O_j> per sample, shape (B, n_obs).
    values: Py<PyAny>,
    /// dL/dtheta summed over the batch, shape (P,).
    theta: Py<PyAny>,
    /// dL/dtheta per sample, shape (B, P), when asked for (else None).
    theta_per_sample: Option<Py<PyAny>>,
    /// dL/dx per sample, shape (B, I).
    inputs: Py<PyAny>,
}

#[pymethods]
impl PyBackend {
    /// A human-readable name (e.g. the GPU adapter's).
    #[getter]
    fn name(&self) -> String {
        self.inner.name()
    }

    /// "cpu", "reference" or "gpu".
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// "f32" or "f64".
    #[getter]
    fn precision(&self) -> &'static str {
        precision_name(self.inner.precision())
    }

    fn __repr__(&self) -> String {
        format!("Backend({:?}, kind={:?})", self.inner.name(), self.kind)
    }

    /// Runs `circuit` from |0...0> with parameters `theta` and inputs `inputs` (1-D) and
    /// returns the final state.
    #[pyo3(signature = (circuit, theta = None, inputs = None))]
    fn run(
        &self,
        py: Python<'_>,
        circuit: PyRef<'_, PyCircuit>,
        theta: Option<PyReadonlyArray1<'_, f64>>,
        inputs: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<PyState> {
        let theta = theta.map(|t| t.as_array().to_vec()).unwrap_or_default();
        let inputs = inputs.map(|t| t.as_array().to_vec()).unwrap_or_default();
        let circuit = circuit.inner.clone();
        let backend = self.inner.clone();
        let state = py
            .detach(move || backend.run(&circuit, &Bindings::new(&theta, &inputs)))
            .map_err(qerr)?;
        Ok(PyState {
            inner: Mutex::new(state),
        })
    }

    /// A state holding `amplitudes` (length 2^n, normalised within 1e-6).
    fn state_from_amplitudes(
        &self,
        amplitudes: PyReadonlyArray1<'_, Complex64>,
    ) -> PyResult<PyState> {
        let amps = amplitudes.as_array().to_vec();
        let state = self.inner.state_from_amplitudes(&amps).map_err(qerr)?;
        Ok(PyState {
            inner: Mutex::new(state),
        })
    }

    /// Expectation values <O_j> for a whole batch in one call: returns shape (B, n_obs).
    ///
    /// `theta` is 1-D (shared by all samples) or 2-D (B, P); `inputs` is 2-D (B, I) (or 1-D for
    /// one sample). `observables` is one `Observable` (or text) or a list of them.
    #[pyo3(signature = (circuit, observables, theta = None, inputs = None, batch_size = None))]
    fn forward<'py>(
        &self,
        py: Python<'py>,
        circuit: PyRef<'py, PyCircuit>,
        observables: &Bound<'py, PyAny>,
        theta: Option<PyArrayLikeDyn<'py, f64, AllowTypeChange>>,
        inputs: Option<PyArrayLikeDyn<'py, f64, AllowTypeChange>>,
        batch_size: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let observables = to_observables(observables)?;
        let batch = OwnedBatch::new(theta, inputs, batch_size)?;
        let program = circuit.program();
        let backend = self.inner.clone();
        let m = observables.len();
        let values = py
            .detach(|| backend.forward_batch(&program, &batch.batch(), &observables))
            .map_err(qerr)?;
        to_numpy(py, values, &[batch.size, m])
    }

    /// Values and gradients of a loss L(<O_j>_b) in one batched adjoint (or parameter-shift)
    /// call, given `upstream` = dL/d<O_j>_b of shape (B, n_obs). Returns a `Gradients` with
    /// `values` (B, n_obs), `theta` (P,) summed over the batch, `theta_per_sample` (B, P) if
    /// asked for or if theta is 2-D, and `inputs` (B, I).
    #[pyo3(signature = (circuit, observables, upstream, theta = None, inputs = None,
                        method = "adjoint", per_sample_theta = false))]
    #[allow(clippy::too_many_arguments)]
    fn gradient<'py>(
        &self,
        py: Python<'py>,
        circuit: PyRef<'py, PyCircuit>,
        observables: &Bound<'py, PyAny>,
        upstream: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        theta: Option<PyArrayLikeDyn<'py, f64, AllowTypeChange>>,
        inputs: Option<PyArrayLikeDyn<'py, f64, AllowTypeChange>>,
        method: &str,
        per_sample_theta: bool,
    ) -> PyResult<PyGradients> {
        let method = match method {
            "adjoint" => GradientMethod::Adjoint,
            "parameter-shift" | "parameter_shift" => GradientMethod::ParameterShift,
            other => {
                return Err(QShadeError::new_err(format!(
                    "unknown gradient method {other:?}; use \"adjoint\" or \"parameter-shift\""
                )))
            }
        };
        let observables = to_observables(observables)?;
        let upstream_rows = match upstream.ndim() {
            2 => Some(upstream.shape()[0]),
            _ => None,
        };
        let upstream: Vec<f64> = upstream.as_array().iter().copied().collect();
        let batch = OwnedBatch::new(theta, inputs, upstream_rows)?;
        let per_sample = per_sample_theta || batch.theta_per_sample;
        let program = circuit.program();
        let backend = self.inner.clone();
        let config = GradientConfig::default()
            .method(method)
            .per_sample_theta(per_sample);
        let g = py
            .detach(|| {
                backend.gradient_batch_with(
                    &program,
                    &batch.batch(),
                    &observables,
                    &upstream,
                    &config,
                )
            })
            .map_err(qerr)?;
        let (b, m, p, i) = (
            batch.size,
            observables.len(),
            program.num_params(),
            program.num_inputs(),
        );
        Ok(PyGradients {
            values: to_numpy(py, g.values, &[b, m])?.unbind(),
            theta: to_numpy(py, g.theta, &[p])?.unbind(),
            theta_per_sample: match g.theta_per_sample {
                Some(t) => Some(to_numpy(py, t, &[b, p])?.unbind()),
                None => None,
            },
            inputs: to_numpy(py, g.inputs, &[b, i])?.unbind(),
        })
    }

    /// Values (B, n_obs) and full Jacobians d<O_j>_b/dtheta (B, n_obs, P) and
    /// d<O_j>_b/dx (B, n_obs, I), from ONE batched adjoint call (each sample's row is
    /// repeated once per observable with a one-hot upstream gradient).
    #[pyo3(signature = (circuit, observables, theta = None, inputs = None, batch_size = None))]
    fn jacobian<'py>(
        &self,
        py: Python<'py>,
        circuit: PyRef<'py, PyCircuit>,
        observables: &Bound<'py, PyAny>,
        theta: Option<PyArrayLikeDyn<'py, f64, AllowTypeChange>>,
        inputs: Option<PyArrayLikeDyn<'py, f64, AllowTypeChange>>,
        batch_size: Option<usize>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let observables = to_observables(observables)?;
        let batch = OwnedBatch::new(theta, inputs, batch_size)?;
        let program = circuit.program();
        let backend = self.inner.clone();
        let (b, m) = (batch.size, observables.len());
        let (p, i) = (program.num_params(), program.num_inputs());
        let (values, jt, jx) = py
            .detach(|| jacobian_rows(backend.as_ref(), &program, &batch, &observables))
            .map_err(qerr)?;
        Ok((
            to_numpy(py, values, &[b, m])?,
            to_numpy(py, jt, &[b, m, p])?,
            to_numpy(py, jx, &[b, m, i])?,
        ))
    }

    /// <phi_i|phi_j> for the states `circuit` prepares from the input rows `inputs_a` (A, I)
    /// and `inputs_b` (B, I) with shared `theta`: shape (A, B), complex. |.|^2 is the fidelity
    /// kernel.
    #[pyo3(signature = (circuit, inputs_a, inputs_b, theta = None))]
    fn overlaps<'py>(
        &self,
        py: Python<'py>,
        circuit: PyRef<'py, PyCircuit>,
        inputs_a: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        inputs_b: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        theta: Option<PyArrayLikeDyn<'py, f64, AllowTypeChange>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (theta, theta_rows) = flatten(theta, "theta")?;
        if theta_rows.is_some() {
            return Err(QShadeError::new_err("overlaps takes a 1-D theta"));
        }
        let a = OwnedBatch::new(None, Some(inputs_a), None)?;
        let b = OwnedBatch::new(None, Some(inputs_b), None)?;
        let program = circuit.program();
        let backend = self.inner.clone();
        let out = py
            .detach(|| -> qshade::Result<Vec<Complex64>> {
                let rows_a = Batch::shared(&theta, &a.inputs, a.size).resolve_checked(&program)?;
                let rows_b = Batch::shared(&theta, &b.inputs, b.size).resolve_checked(&program)?;
                backend.overlaps(
                    &program,
                    &rows_a,
                    a.size,
                    &rows_b,
                    b.size,
                    &Default::default(),
                )
            })
            .map_err(qerr)?;
        to_numpy(py, out, &[a.size, b.size])
    }
}

/// The batched Jacobian: `batch` repeated once per observable with one-hot upstreams, one
/// gradient call with per-sample θ; returns values (B·m), dθ (B·m·P) and dx (B·m·I), sample-major.
fn jacobian_rows(
    backend: &dyn Backend,
    program: &Program,
    batch: &OwnedBatch,
    observables: &[Observable],
) -> qshade::Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let (b, m) = (batch.size, observables.len());
    let (p, i) = (program.num_params(), program.num_inputs());
    let big = || qshade::Error::InvalidArgument("batch × observables too large".into());
    let rows = b.checked_mul(m).ok_or_else(big)?;
    // Replicated sample r = s·m + j: sample s, seeded with observable j.
    let mut theta = Vec::new();
    let mut inputs = Vec::new();
    let mut upstream = vec![0.0; rows.checked_mul(m).ok_or_else(big)?];
    let src = batch.batch();
    theta
        .try_reserve_exact(rows.checked_mul(p).ok_or_else(big)?)
        .map_err(|_| big())?;
    inputs
        .try_reserve_exact(rows.checked_mul(i).ok_or_else(big)?)
        .map_err(|_| big())?;
    for s in 0..b {
        for j in 0..m {
            theta.extend_from_slice(src.theta_row(s, p));
            inputs.extend_from_slice(src.input_row(s, i));
            upstream[(s * m + j) * m + j] = 1.0;
        }
    }
    if theta.len() != rows * p || inputs.len() != rows * i {
        // Shapes were wrong: let the Rust validation name the problem.
        src.validate(program)?;
    }
    let g = backend.gradient_batch_with(
        program,
        &Batch::per_sample(&theta, &inputs, rows),
        observables,
        &upstream,
        &GradientConfig::default().per_sample_theta(true),
    )?;
    let values: Vec<f64> = (0..b)
        .flat_map(|s| (0..m).map(move |j| (s, j)))
        .map(|(s, j)| g.values[(s * m + j) * m + j])
        .collect();
    Ok((values, g.theta_per_sample.unwrap_or_default(), g.inputs))
}

/// A state vector held by a backend (on a GPU it stays in device memory).
#[pyclass(name = "State", module = "qshade")]
pub struct PyState {
    inner: Mutex<Box<dyn QuantumState>>,
}

impl PyState {
    /// Runs `f` on the state with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut dyn QuantumState) -> qshade::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut guard = self
                .inner
                .lock()
                .map_err(|_| QShadeError::new_err("state lock poisoned by an earlier panic"))?;
            f(guard.as_mut()).map_err(qerr)
        })
    }
}

#[pymethods]
impl PyState {
    /// Number of qubits.
    #[getter]
    fn num_qubits(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s| Ok(s.num_qubits()))
    }

    /// Applies `circuit` (same width) with `theta` and `inputs`.
    #[pyo3(signature = (circuit, theta = None, inputs = None))]
    fn apply(
        &self,
        py: Python<'_>,
        circuit: PyRef<'_, PyCircuit>,
        theta: Option<PyReadonlyArray1<'_, f64>>,
        inputs: Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        let theta = theta.map(|t| t.as_array().to_vec()).unwrap_or_default();
        let inputs = inputs.map(|t| t.as_array().to_vec()).unwrap_or_default();
        let circuit: Circuit = circuit.inner.clone();
        self.with(py, move |s| {
            s.apply(&circuit, &Bindings::new(&theta, &inputs))
        })
    }

    /// All 2^n amplitudes (complex128); index k has qubit q = bit q of k.
    fn amplitudes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = self.with(py, |s| s.amplitudes())?;
        let n = a.len();
        to_numpy(py, a, &[n])
    }

    /// |amplitude|^2 for every basis state.
    fn probabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = self.with(py, |s| s.probabilities())?;
        let n = p.len();
        to_numpy(py, p, &[n])
    }

    /// Probabilities of measuring only `qubits`: entry k has bit j equal to qubits[j]'s outcome.
    fn marginal_probabilities<'py>(
        &self,
        py: Python<'py>,
        qubits: Vec<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = self.with(py, |s| s.marginal_probabilities(&qubits))?;
        let n = p.len();
        to_numpy(py, p, &[n])
    }

    /// <O> for one observable, or an array of <O_j> for a list.
    fn expectation<'py>(
        &self,
        py: Python<'py>,
        observables: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let single = observables.cast::<crate::circuit::PyObservable>().is_ok()
            || observables.extract::<String>().is_ok();
        let obs = to_observables(observables)?;
        let v = self.with(py, |s| s.expectations(&obs))?;
        if single {
            Ok(v.first()
                .copied()
                .unwrap_or(0.0)
                .into_pyobject(py)?
                .into_any())
        } else {
            let n = v.len();
            to_numpy(py, v, &[n])
        }
    }

    /// `shots` basis-state indices (uint64) drawn with a seeded RNG.
    #[pyo3(signature = (shots, seed = 0))]
    fn sample<'py>(&self, py: Python<'py>, shots: usize, seed: u64) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(py, |s| s.sample(shots, seed))?;
        let n = v.len();
        to_numpy(py, v, &[n])
    }

    /// {basis index: count} over `shots` seeded draws (memory grows with distinct outcomes).
    #[pyo3(signature = (shots, seed = 0))]
    fn sample_counts<'py>(
        &self,
        py: Python<'py>,
        shots: u64,
        seed: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let counts = self.with(py, |s| s.sample_counts(shots, seed))?;
        let d = PyDict::new(py);
        for (k, v) in counts {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// A finite-shot estimate of <O> (each Pauli term measured `shots` times).
    #[pyo3(signature = (observable, shots, seed = 0))]
    fn expectation_shots(
        &self,
        py: Python<'_>,
        observable: &Bound<'_, PyAny>,
        shots: u64,
        seed: u64,
    ) -> PyResult<f64> {
        let obs = to_observables(observable)?;
        let [o] = obs.as_slice() else {
            return Err(QShadeError::new_err(
                "expectation_shots takes one observable",
            ));
        };
        let o = o.clone();
        self.with(py, move |s| s.expectation_shots(&o, shots, seed))
    }
}
