//! The GPU backend: WGSL compute kernels through wgpu (Vulkan, Metal, DX12, or GL), the state
//! resident in device memory between gates.
//!
//! Module map: [`context`] owns device, queue, limits and the pipeline cache; `lower` turns
//! gates into kernel ops and per-chunk dispatches; `state` holds the chunked state and records a
//! circuit into one submit; `readout` reduces expectations, probabilities and samples on the GPU.

pub mod context;
mod lower;
mod readout;
mod state;

pub use context::GpuContext;
pub use state::GpuState;

use crate::backend::{check_amplitudes, Backend, Precision, QuantumState};
use crate::error::Result;
use num_complex::Complex64;
use std::sync::Arc;

/// How to set up the GPU backend.
#[derive(Clone, Debug)]
pub struct GpuConfig {
    /// Amplitude precision; F64 needs an adapter with SHADER_F64.
    pub precision: Precision,
    /// Split states into chunks of at most 2^k amplitudes even when one binding could hold
    /// more (the adapter's binding limit always applies). Mostly for testing the chunked path.
    pub max_chunk_qubits: Option<usize>,
    /// Bytes of device memory states may use. Default: the adapter's largest device-local heap
    /// where the backend reports it (Vulkan), else unchecked until an allocation fails.
    pub memory_budget: Option<u64>,
}

impl Default for GpuConfig {
    fn default() -> Self {
        GpuConfig { precision: Precision::F32, max_chunk_qubits: None, memory_budget: None }
    }
}

/// The GPU backend. Cheap to clone (shares one [`GpuContext`]).
#[derive(Clone)]
pub struct GpuBackend {
    ctx: Arc<GpuContext>,
}

impl GpuBackend {
    /// Single precision on the best adapter. `Error::NoAdapter` if there is none (then use
    /// [`crate::CpuBackend`]).
    pub fn new() -> Result<Self> {
        Self::with_config(GpuConfig::default())
    }

    /// The best adapter for `config` (set `QSHADE_ADAPTER=<name substring>` to choose one).
    pub fn with_config(config: GpuConfig) -> Result<Self> {
        Ok(GpuBackend { ctx: Arc::new(GpuContext::new(&config)?) })
    }

    /// Uses an existing device and queue (for example one shared with a renderer). The device
    /// should have been created with the adapter's limits, and SHADER_F64 for double precision.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, config: GpuConfig) -> Result<Self> {
        let info = device.adapter_info();
        Ok(GpuBackend { ctx: Arc::new(GpuContext::from_parts(device, queue, info, &config, None)?) })
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

    /// A typed zero state (the trait returns it boxed).
    pub fn zero_gpu_state(&self, num_qubits: usize) -> Result<GpuState> {
        GpuState::zero(Arc::clone(&self.ctx), num_qubits)
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> String {
        format!("gpu: {} ({:?}, {:?})", self.ctx.info.name, self.ctx.info.backend, self.ctx.precision)
    }

    fn precision(&self) -> Precision {
        self.ctx.precision
    }

    fn zero_state(&self, num_qubits: usize) -> Result<Box<dyn QuantumState>> {
        Ok(Box::new(GpuState::zero(Arc::clone(&self.ctx), num_qubits)?))
    }

    fn state_from_amplitudes(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        let n = check_amplitudes(amplitudes)?;
        Ok(Box::new(GpuState::from_amplitudes(Arc::clone(&self.ctx), n, amplitudes)?))
    }
}
