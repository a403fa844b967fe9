//! The backend's configuration ([`GpuConfig`]), at the bottom of the module graph: the
//! context reads it, nothing here reads the context.

use crate::backend::Precision;

/// How to set up the GPU backend. Start from `GpuConfig::default()` (which reads the
/// environment overrides listed below) and chain setters:
/// `GpuConfig::default().precision(Precision::F64)`.
///
/// Environment variables: one rule. They change only the *defaults* (`GpuConfig::default()`
/// reads them); a value set on the configuration always wins. A value that does not parse is
/// ignored (the built-in default applies).
///
/// | variable | default of |
/// | --- | --- |
/// | `QSHADE_ADAPTER=<name substring>` | [`GpuConfig::adapter`] |
/// | `QSHADE_FUSION_QUBITS=<k>` | [`GpuConfig::fusion_qubits`] |
/// | `QSHADE_BLOCK_QUBITS=<k>` | [`GpuConfig::register_blocks`] |
/// | `QSHADE_TILE_WG=<invocations>` | [`GpuConfig::tile_workgroup`] |
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
    /// adapters, where they are the fastest strategy (figures in `benches/RESULTS.md`), off
    /// on GPUs, where they are not measured yet.
    pub register_blocks: Option<usize>,
    /// Choose the adapter whose name contains this (case-insensitive); `None`: the best one
    /// (native API over GL, discrete over integrated over software, f64 where asked for).
    pub adapter: Option<String>,
    /// Invocations per workgroup of the workgroup-tile kernel, a power of two within the
    /// adapter's limit (else `Error::InvalidArgument`); `None`: 16 on CPU adapters, the
    /// workgroup size of every other kernel on GPUs.
    pub tile_workgroup: Option<u16>,
}

setters!(GpuConfig {
    precision: Precision,
    max_chunk_qubits: Option<usize>,
    memory_budget: Option<u64>,
    tile_fusion: bool,
    fusion_qubits: usize,
    register_blocks: Option<usize>,
    adapter: Option<String>,
    tile_workgroup: Option<u16>,
});

/// The environment variable `name` parsed as `T`, if set and valid.
fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.trim().parse().ok()
}

impl Default for GpuConfig {
    fn default() -> Self {
        GpuConfig {
            precision: Precision::F32,
            max_chunk_qubits: None,
            memory_budget: None,
            tile_fusion: true,
            fusion_qubits: env("QSHADE_FUSION_QUBITS").unwrap_or(2),
            register_blocks: env("QSHADE_BLOCK_QUBITS"),
            adapter: env::<String>("QSHADE_ADAPTER").filter(|s| !s.is_empty()),
            tile_workgroup: env("QSHADE_TILE_WG"),
        }
    }
}
