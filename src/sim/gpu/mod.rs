//! The GPU backend: WGSL compute kernels through wgpu (Vulkan, Metal, DX12, or GL), the state
//! resident in device memory between gates.
//!
//! Module map: [`context`] owns device, queue, limits and the pipeline cache; `lower` turns
//! gates into kernel ops and per-chunk dispatches; `state` holds the chunked state and records a
//! circuit into one submit; `readout` reduces expectations, probabilities and samples on the GPU.

mod batch;
mod block;
pub(crate) mod context;
mod lower;
mod readout;
pub(crate) mod shaders;
mod state;
mod tile;

pub use context::GpuContext;
pub use state::GpuState;

use crate::backend::{check_amplitudes, Backend, Precision, QuantumState};
use crate::circuit::{Bindings, Observable};
use crate::compile::program::{BatchOptions, Program};
use crate::error::Result;
use num_complex::Complex64;
use std::sync::{Arc, Mutex};

/// How to set up the GPU backend.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GpuConfig {
    /// Amplitude precision; F64 needs an adapter with SHADER_F64.
    pub precision: Precision,
    /// Split states into chunks of at most 2^k amplitudes even when one binding could hold
    /// more (the adapter's binding limit always applies). Mostly for testing the chunked path.
    pub max_chunk_qubits: Option<usize>,
    /// Bytes of device memory states may use. Default: the adapter's largest device-local heap
    /// where the backend reports it (Vulkan), else unchecked until an allocation fails.
    pub memory_budget: Option<u64>,
    /// Fuse runs of gates into workgroup-tile passes (default). Off: one dispatch per gate.
    /// Register blocks replace them where those are on (CPU adapters by default).
    pub tile_fusion: bool,
    /// Fuse consecutive gates into dense unitaries on up to this many qubits (0 or 1: off;
    /// at most 5) before lowering, for single states. Not used while register blocks are on
    /// (they fuse runs more cheaply).
    pub fusion_qubits: usize,
    /// Fuse runs of gates into register-block passes on up to this many qubits (`Some(0)`:
    /// off; at most 6): each invocation holds one block's amplitudes in registers and applies
    /// the whole run as code generated for it, compiled once the run's structure repeats (see
    /// `gpu::block`). When on, it replaces `tile_fusion` and `fusion_qubits` for single
    /// states and for the forward pass of batched runs (`forward_batch`, gradients, prepared
    /// states; the adjoint sweep stays one dispatch per gate). `None` (default): 5 on CPU
    /// adapters (lavapipe, 10-layer ansatz at n = 20: 6–7× one dispatch per gate, 5–6× the
    /// workgroup tiles, `examples/ansatz_tiles`; the bench's batch forward, n = 10, B = 256:
    /// 2.4× the tiles), off on GPUs, where it is not measured yet.
    pub register_blocks: Option<usize>,
}

setters!(GpuConfig {
    precision: Precision,
    max_chunk_qubits: Option<usize>,
    memory_budget: Option<u64>,
    tile_fusion: bool,
    fusion_qubits: usize,
    register_blocks: Option<usize>,
});

impl Default for GpuConfig {
    fn default() -> Self {
        GpuConfig {
            precision: Precision::F32,
            max_chunk_qubits: None,
            memory_budget: None,
            tile_fusion: true,
            fusion_qubits: 2,
            register_blocks: None,
        }
    }
}

/// Copies one state-sized buffer into another with a compute kernel (see
/// [`GpuBackend::copy_probe`]).
pub struct CopyProbe {
    ctx: Arc<GpuContext>,
    group: wgpu::BindGroup,
    threads: u64,
    /// Bytes read plus bytes written by one copy.
    pub bytes_moved: u64,
}

impl CopyProbe {
    fn new(ctx: Arc<GpuContext>, num_qubits: usize) -> Result<Self> {
        if num_qubits > ctx.max_chunk_bits {
            return Err(crate::Error::Unsupported(format!(
                "the copy probe needs one binding: at most {} qubits here",
                ctx.max_chunk_bits
            )));
        }
        let bytes = ctx.precision.bytes_per_amplitude() << num_qubits;
        let src = ctx.storage_buffer("qshade copy source", bytes, wgpu::BufferUsages::empty())?;
        let dst = ctx.storage_buffer(
            "qshade copy destination",
            bytes,
            wgpu::BufferUsages::empty(),
        )?;
        let threads = 1u64 << num_qubits;
        let record = lower::OpRecord {
            n_threads: threads as u32,
            ..Default::default()
        };
        let ops = ctx.record_buffer("qshade copy record", [&record]);
        let group = ctx.bind_group(&ops, None, [Some(&src), Some(&dst), None, None], None);
        Ok(CopyProbe {
            ctx,
            group,
            threads,
            bytes_moved: 2 * bytes,
        })
    }

    /// Runs the copy `repeats` times in one submit and waits for it.
    pub fn run(&self, repeats: usize) -> Result<()> {
        self.ctx.submit_pass("qshade copy probe", |pass| {
            use crate::sim::gpu::shaders::{Access, Kernel, Pairing};
            let kernel = Kernel::Copy;
            let access = Access::SinglePairs(Pairing::Items);
            pass.set_pipeline(&self.ctx.pipeline(kernel, access));
            pass.set_bind_group(0, &self.group, &[0]);
            let (x, y) = context::grid(self.threads.div_ceil(kernel.items_per_invocation(access)));
            for _ in 0..repeats {
                pass.dispatch_workgroups(x, y, 1);
            }
        });
        self.ctx.wait()
    }
}

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

    /// The shared context (device, queue, limits).
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
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
            "gpu: {} ({:?}, {:?})",
            self.ctx.info.name, self.ctx.info.backend, self.ctx.precision
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
        options: &BatchOptions,
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
        options: &BatchOptions,
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
        options: &BatchOptions,
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
