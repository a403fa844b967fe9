//! The backend a newcomer wants, picked in one call: a hardware GPU when there is one, else the
//! fast CPU backend, with the reason in words.

use crate::backend::{Backend, GradientConfig, QuantumState};
use crate::circuit::{Bindings, Circuit, Observable};
use crate::compile::program::{Batch, BatchConfig, Gradients, Program};
use crate::error::Result;
use crate::sim::cpu::CpuBackend;
use num_complex::Complex64;

/// Which kind of backend [`choose_backend`] picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// [`crate::GpuBackend`] on a hardware adapter.
    Gpu,
    /// The fast [`CpuBackend`] (f64).
    Cpu,
}

/// What [`choose_backend`] picked, and why.
#[non_exhaustive]
pub struct BackendChoice {
    /// The backend to run on.
    pub backend: Box<dyn Backend>,
    /// GPU or CPU.
    pub kind: BackendKind,
    /// Why, in a sentence a user can act on (print it).
    pub reason: String,
}

impl std::fmt::Debug for BackendChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendChoice")
            .field("backend", &self.backend.name())
            .field("kind", &self.kind)
            .field("reason", &self.reason)
            .finish()
    }
}

/// Picks the backend that runs fastest here without configuration: the GPU backend on the best
/// hardware adapter (discrete over integrated over virtual), else the fast CPU backend. A
/// software rasterizer (lavapipe, SwiftShader, WARP — the only "GPU" of most CI machines, VMs
/// and containers) is passed over: it is correct but one to two orders of magnitude slower
/// than the CPU backend, unless `QSHADE_ADAPTER` names it (an explicit choice is honoured).
/// Never fails: the CPU backend is always there. Ask for a GPU explicitly with
/// [`crate::GpuBackend::new`] (it takes a software adapter too).
///
/// Precision follows the backend's default: f32 on the GPU (half the memory, one more qubit),
/// f64 on the CPU, so results differ between machines by the rounding of that precision.
/// Build a backend yourself (`GpuConfig::default().precision(..)`,
/// `CpuBackend::with_precision(..)`) to fix it.
///
/// ```
/// let choice = qshade::choose_backend();
/// println!("running on {} ({})", choice.backend.name(), choice.reason);
/// ```
pub fn choose_backend() -> BackendChoice {
    let cpu = |reason: String| BackendChoice {
        backend: Box::new(CpuBackend::new()),
        kind: BackendKind::Cpu,
        reason,
    };
    #[cfg(feature = "gpu")]
    {
        let config = crate::sim::gpu::GpuConfig::default();
        let named = config.adapter.clone();
        match crate::sim::gpu::GpuBackend::with_config(config) {
            Ok(gpu) if !gpu.is_software() || named.is_some() => {
                let reason = match named {
                    Some(name) => format!(
                        "adapter {} ({:?}), chosen by QSHADE_ADAPTER={name:?}",
                        gpu.adapter_name(),
                        gpu.adapter_info().device_type
                    ),
                    None => format!(
                        "hardware GPU adapter {} ({:?})",
                        gpu.adapter_name(),
                        gpu.adapter_info().device_type
                    ),
                };
                BackendChoice {
                    backend: Box::new(gpu),
                    kind: BackendKind::Gpu,
                    reason,
                }
            }
            Ok(gpu) => cpu(format!(
                "the only GPU adapter, {}, is a software rasterizer, slower than the CPU backend \
                 (use qshade::GpuBackend::new() to run on it anyway)",
                gpu.adapter_name()
            )),
            Err(e) => cpu(format!("no usable GPU adapter ({e})")),
        }
    }
    #[cfg(not(feature = "gpu"))]
    {
        cpu("qshade was built without the `gpu` feature".into())
    }
}

/// A boxed backend (what [`choose_backend`] returns) is a backend: every call, including the
/// ones a backend overrides (batched overlaps on the GPU, …), goes to the boxed one.
impl<B: Backend + ?Sized> Backend for Box<B> {
    fn name(&self) -> String {
        (**self).name()
    }

    fn precision(&self) -> crate::Precision {
        (**self).precision()
    }

    fn zero_state(&self, num_qubits: usize) -> Result<Box<dyn QuantumState>> {
        (**self).zero_state(num_qubits)
    }

    fn state_from_amplitudes(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        (**self).state_from_amplitudes(amplitudes)
    }

    fn run(&self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<Box<dyn QuantumState>> {
        (**self).run(circuit, bindings)
    }

    fn forward_rows(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        options: &BatchConfig,
    ) -> Result<Vec<f64>> {
        (**self).forward_rows(program, rows, num_rows, observables, options)
    }

    fn adjoint_rows(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        upstream: &[f64],
        options: &BatchConfig,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        (**self).adjoint_rows(program, rows, num_rows, observables, upstream, options)
    }

    fn overlaps(
        &self,
        program: &Program,
        rows_a: &[f64],
        num_a: usize,
        rows_b: &[f64],
        num_b: usize,
        options: &BatchConfig,
    ) -> Result<Vec<Complex64>> {
        (**self).overlaps(program, rows_a, num_a, rows_b, num_b, options)
    }

    fn forward_batch_with(
        &self,
        program: &Program,
        batch: &Batch<'_>,
        observables: &[Observable],
        options: &BatchConfig,
    ) -> Result<Vec<f64>> {
        (**self).forward_batch_with(program, batch, observables, options)
    }

    fn gradient_batch_with(
        &self,
        program: &Program,
        batch: &Batch<'_>,
        observables: &[Observable],
        upstream: &[f64],
        options: &GradientConfig,
    ) -> Result<Gradients> {
        (**self).gradient_batch_with(program, batch, observables, upstream, options)
    }
}
