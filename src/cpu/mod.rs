//! The CPU reference backend: f64 amplitudes, plain loops, deliberately simple so that it can be
//! read and trusted. Every GPU result in the tests is compared against it.

mod reference;

pub use reference::{apply_matrix, CpuState};

use crate::backend::{check_amplitudes, Backend, Precision, QuantumState};
use crate::circuit::MAX_QUBITS;
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
}
