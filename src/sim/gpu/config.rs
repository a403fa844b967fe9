//! The backend's configuration ([`GpuConfig`]), at the bottom of the module graph: the
//! context reads it, nothing here reads the context.

use crate::backend::Precision;

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
