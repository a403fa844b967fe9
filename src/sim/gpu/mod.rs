//! The GPU backend: WGSL compute kernels through wgpu (Vulkan, Metal, DX12, or GL), the state
//! resident in device memory between gates.
//!
//! Module map, each module importing only those above it (no cycles):
//!
//! - `config`: [`GpuConfig`]. `abi`: the op record every kernel reads (Rust struct, its WGSL
//!   mirror, the size assertion), the workgroup size and the record/real byte layouts.
//! - `shaders`: WGSL assembly (the ABI header, precision, prelude, access, kernel).
//! - [`context`]: device, queue, limits, bind groups, buffers and the pipeline cache.
//! - `record`: the recording layer, the one dispatch description and encode/submit path that
//!   every runner below uses, and every dispatch-count computation.
//! - `lower`: gates into kernel ops and per-chunk dispatches; `block`, `tile`: register-block
//!   and workgroup-tile runs; `fuse`: the fusion strategy (blocks / tiles / dense), decided
//!   once for single states and batches.
//! - `readout`: expectations, probabilities, samples and the segmented reductions.
//! - `state`: the chunked single state and its gate runner; `batch`: batched forward and
//!   adjoint plans, prepared states, overlaps; `probe`: the copy probe.

mod abi;
mod batch;
mod block;
mod config;
pub(crate) mod context;
mod fuse;
mod lower;
mod probe;
mod readout;
mod record;
pub(crate) mod shaders;
mod state;
mod tile;

pub use config::GpuConfig;
pub(crate) use context::GpuContext;
pub use probe::CopyProbe;
pub use state::GpuState;

use crate::backend::{check_amplitudes, Backend, Precision, QuantumState};
use crate::circuit::{Bindings, Observable};
use crate::compile::program::{BatchConfig, Program};
use crate::error::Result;
use num_complex::Complex64;
use std::sync::{Arc, Mutex};

/// The GPU backend. Cheap to clone (shares one `GpuContext` and batch-plan cache).
#[derive(Clone)]
pub struct GpuBackend {
    ctx: Arc<GpuContext>,
    /// The most recent batched programs' compiled plans (records, buffers, bind groups).
    plan: Arc<Mutex<Vec<batch::Plan>>>,
}

impl GpuBackend {
    /// Single precision on the best adapter. `Error::NoAdapter` if there is none (then use
    /// [`crate::CpuBackend`]).
    pub fn new() -> Result<Self> {
        Self::with_config(GpuConfig::default())
    }

    /// The best adapter for `config` (set `QSHADE_ADAPTER=<name substring>` to choose one).
    pub fn with_config(config: GpuConfig) -> Result<Self> {
        Ok(GpuBackend {
            ctx: Arc::new(GpuContext::new(&config)?),
            plan: Arc::default(),
        })
    }

    /// Uses an existing device and queue (for example one shared with a renderer). The device
    /// should have been created with the adapter's limits, and SHADER_F64 for double precision.
    pub fn from_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        config: GpuConfig,
    ) -> Result<Self> {
        let info = device.adapter_info();
        Ok(GpuBackend {
            ctx: Arc::new(GpuContext::from_parts(device, queue, info, &config, None)?),
            plan: Arc::default(),
        })
    }

    /// Register-block size in effect (0: off), after the configuration and the adapter's
    /// default (see [`GpuConfig::register_blocks`]).
    pub fn register_block_qubits(&self) -> usize {
        self.ctx.block_qubits
    }

    /// How many gate-run structures have been compiled into register-block kernels so far:
    /// a structure is compiled when it repeats, so this tells whether a workload reuses its
    /// runs (a training loop should stop adding to it after its first steps).
    pub fn compiled_register_blocks(&self) -> usize {
        self.ctx.hot_blocks()
    }

    /// The adapter's name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" or "NVIDIA H100".
    pub fn adapter_name(&self) -> String {
        self.ctx.info.name.clone()
    }

    /// True when the adapter is a software rasterizer running on the CPU (Mesa's lavapipe,
    /// SwiftShader, WARP): correct, but far slower than [`crate::CpuBackend`]. It is used only
    /// when asked for ([`GpuBackend::new`] takes the best adapter there is);
    /// [`crate::choose_backend`] passes it over.
    pub fn is_software(&self) -> bool {
        self.ctx.info.device_type == wgpu::DeviceType::Cpu
    }

    /// The adapter's full description (backend, driver, device type).
    pub fn adapter_info(&self) -> wgpu::AdapterInfo {
        self.ctx.info.clone()
    }

    /// Memory the states may use, if known.
    pub fn memory_budget(&self) -> Option<u64> {
        self.ctx.memory_budget
    }

    /// log2 of the largest chunk a state is split into (one storage binding).
    pub fn max_chunk_qubits(&self) -> usize {
        self.ctx.max_chunk_bits
    }

    /// A probe that copies a 2^`num_qubits`-amplitude state with a plain compute kernel: the
    /// memory-bandwidth ceiling a gate pass (which moves the same bytes) is compared with.
    pub fn copy_probe(&self, num_qubits: usize) -> Result<CopyProbe> {
        CopyProbe::new(Arc::clone(&self.ctx), num_qubits)
    }

    /// A typed zero state (the trait returns it boxed).
    pub fn zero_gpu_state(&self, num_qubits: usize) -> Result<GpuState> {
        GpuState::zero(Arc::clone(&self.ctx), num_qubits)
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!(
            "gpu: {} ({:?}, {:?}{})",
            self.ctx.info.name,
            self.ctx.info.backend,
            self.ctx.precision,
            if self.is_software() {
                ", software rasterizer: the CPU backend is faster"
            } else {
                ""
            }
        )
    }

    fn precision(&self) -> Precision {
        self.ctx.precision
    }

    fn zero_state(&self, num_qubits: usize) -> Result<Box<dyn QuantumState>> {
        Ok(Box::new(GpuState::zero(Arc::clone(&self.ctx), num_qubits)?))
    }

    fn state_from_amplitudes(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        let n = check_amplitudes(amplitudes)?;
        Ok(Box::new(GpuState::from_amplitudes(
            Arc::clone(&self.ctx),
            n,
            amplitudes,
        )?))
    }

    fn forward_rows(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        options: &BatchConfig,
    ) -> Result<Vec<f64>> {
        crate::backend::check_rows(program, rows, num_rows)?;
        program.check_observables(observables)?;
        if program.num_qubits() <= self.ctx.max_chunk_bits {
            let request = batch::RowsRequest {
                program,
                rows,
                num_rows,
                observables,
                upstream: None,
                options,
            };
            return batch::run_rows(&self.ctx, &self.plan, request).map(|(v, _)| v);
        }
        // One state is larger than a storage binding: run the rows one by one through the
        // chunked single-state path, one state at a time within the budget.
        let needed = self.ctx.precision.bytes_per_amplitude() << program.num_qubits();
        if let Some(budget) = options.memory_budget.filter(|&b| b < needed) {
            return Err(crate::Error::OutOfDeviceMemory {
                needed,
                available: budget,
            });
        }
        if options.max_sub_batch == Some(0) {
            return Err(crate::Error::InvalidArgument(
                "max_sub_batch must be at least 1".into(),
            ));
        }
        let na = program.num_angles();
        let mut out = Vec::with_capacity(num_rows * observables.len());
        for r in 0..num_rows {
            let circuit = program.bind_row(&rows[r * na..(r + 1) * na])?;
            out.extend(
                self.run(&circuit, &Bindings::none())?
                    .expectations(observables)?,
            );
        }
        Ok(out)
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
        crate::backend::check_rows(program, rows_a, num_a)?;
        crate::backend::check_rows(program, rows_b, num_b)?;
        if program.num_qubits() > self.ctx.max_chunk_bits {
            // States larger than a binding: prepare them one by one through the chunked path.
            let _ = options;
            return crate::backend::host_overlaps(self, program, rows_a, num_a, rows_b, num_b);
        }
        batch::overlaps(&self.ctx, program, rows_a, num_a, rows_b, num_b)
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
        crate::backend::check_rows(program, rows, num_rows)?;
        program.check_observables(observables)?;
        crate::compile::program::check_upstream(upstream, num_rows, observables.len())?;
        if program.num_qubits() > self.ctx.max_chunk_bits {
            return Err(crate::Error::Unsupported(format!(
                "adjoint gradients on the GPU need one state in one storage binding (at most {} qubits on {}); \
                 use GradientMethod::ParameterShift, fewer qubits, or the CPU backend",
                self.ctx.max_chunk_bits, self.ctx.info.name
            )));
        }
        batch::run_rows(
            &self.ctx,
            &self.plan,
            batch::RowsRequest {
                program,
                rows,
                num_rows,
                observables,
                upstream: Some(upstream),
                options,
            },
        )
    }
}
