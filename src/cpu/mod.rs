//! The CPU reference backend: f64 amplitudes, plain loops, deliberately simple so that it can be
//! read and trusted. Every GPU result in the tests is compared against it.
//!
//! Batched programs (`forward_rows` / `adjoint_rows`) take the optimised path of `batch`: rows
//! in parallel, specialised and vectorised kernels, fused one-qubit gates. Its oracle is the
//! single-state reference path ([`reference_forward_rows`], [`reference_adjoint_rows`]).

mod adjoint;
mod batch;
mod kernels;
mod lower;
mod reference;

pub use adjoint::{reference_adjoint_rows, reference_forward_rows, run_row};
pub use batch::{default_memory_budget, fast_adjoint_rows, fast_forward_rows, fast_state};
pub use reference::{apply_matrix, braket_matrix, weighted_observables_apply, CpuState};

use crate::backend::{check_amplitudes, Backend, Precision, QuantumState};
use crate::circuit::{Observable, MAX_QUBITS};
use crate::program::{BatchOptions, Program};
use crate::error::{Error, Result};
use num_complex::Complex64;

/// The CPU backend (f64). Always available; the oracle for the GPU backend's tests.
#[derive(Clone, Debug, Default)]
pub struct CpuBackend {}

impl CpuBackend {
    /// A CPU backend.
    pub fn new() -> Self {
        CpuBackend {}
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> String {
        "cpu-reference (f64)".to_string()
    }

    fn precision(&self) -> Precision {
        Precision::F64
    }

    fn zero_state(&self, num_qubits: usize) -> Result<Box<dyn QuantumState>> {
        if num_qubits == 0 || num_qubits > MAX_QUBITS {
            return Err(Error::UnsupportedQubitCount { num_qubits, max: MAX_QUBITS });
        }
        Ok(Box::new(CpuState::zero(num_qubits)?))
    }

    fn state_from_amplitudes(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        let n = check_amplitudes(amplitudes)?;
        Ok(Box::new(CpuState::from_amplitudes_unchecked(n, amplitudes.to_vec())))
    }

    /// The batched path ([`fast_forward_rows`]): rows in parallel, specialised kernels.
    fn forward_rows(&self, program: &Program, rows: &[f64], num_rows: usize, observables: &[Observable], options: &BatchOptions) -> Result<Vec<f64>> {
        fast_forward_rows(program, rows, num_rows, observables, options)
    }

    /// The batched adjoint path ([`fast_adjoint_rows`]); [`reference_adjoint_rows`] is its oracle.
    fn adjoint_rows(&self, program: &Program, rows: &[f64], num_rows: usize, observables: &[Observable], upstream: &[f64], options: &BatchOptions) -> Result<(Vec<f64>, Vec<f64>)> {
        fast_adjoint_rows(program, rows, num_rows, observables, upstream, options)
    }
}
