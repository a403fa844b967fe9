//! The GPU backends under test.
//!
//! No-adapter rule: if no GPU adapter can be found the tests panic with the error, unless
//! `QSHADE_ALLOW_NO_GPU=1` is set, in which case they say so and test only the CPU. GPU tests
//! must never pass silently without a GPU.

use super::NamedBackend;
use qshade::{Backend, Error, GpuBackend, GpuConfig, Precision};
use std::sync::OnceLock;

/// One GPU configuration under test.
pub struct TestConfig {
    pub label: &'static str,
    pub precision: Precision,
    /// Forced chunk size (log2 amplitudes), if any.
    pub chunk: Option<usize>,
    pub tile_fusion: bool,
    pub fusion_qubits: usize,
    pub register_blocks: usize,
}

const fn cfg(
    label: &'static str,
    precision: Precision,
    chunk: Option<usize>,
    (tile_fusion, fusion_qubits, register_blocks): (bool, usize, usize),
) -> TestConfig {
    TestConfig {
        label,
        precision,
        chunk,
        tile_fusion,
        fusion_qubits,
        register_blocks,
    }
}

/// The configurations every GPU check runs in. `chunk = Some(3)` splits a state into chunks
/// of 8 amplitudes, so the multi-buffer path is exercised from 4 qubits up. With tile fusion
/// on, runs of gates go through the workgroup-tile kernel; `f32-pergate` keeps one dispatch
/// per gate, so the single-gate kernels are checked on unchunked states too; `f32-fused4`
/// fuses blocks of up to 4 qubits, so the dense k-qubit kernel runs on fused circuits; the
/// `blocks` configurations run gate runs through generated register-block kernels.
pub const CONFIGS: [TestConfig; 8] = [
    cfg("f32", Precision::F32, None, (true, 2, 0)),
    cfg("f64", Precision::F64, None, (true, 2, 0)),
    cfg("f32-chunk3", Precision::F32, Some(3), (true, 2, 0)),
    cfg("f64-chunk3", Precision::F64, Some(3), (true, 2, 0)),
    cfg("f32-pergate", Precision::F32, None, (false, 0, 0)),
    cfg("f32-fused4", Precision::F32, None, (false, 4, 0)),
    cfg("f32-blocks5", Precision::F32, None, (false, 0, 5)),
    cfg("f64-chunk3-blocks3", Precision::F64, Some(3), (false, 0, 3)),
];

/// The label of a configuration in test output: `gpu-f32`, `gpu-f64-chunk3`, …
pub fn label(config_label: &str) -> String {
    format!("gpu-{config_label}")
}

/// True when `QSHADE_ALLOW_NO_GPU=1`.
pub fn allow_no_gpu() -> bool {
    std::env::var("QSHADE_ALLOW_NO_GPU").is_ok_and(|v| v == "1")
}

/// A GPU configuration with the given precision and chunking, defaults elsewhere.
pub fn config(precision: Precision, max_chunk_qubits: Option<usize>) -> GpuConfig {
    GpuConfig::default()
        .precision(precision)
        .max_chunk_qubits(max_chunk_qubits)
}

/// Creates a GPU backend under the no-adapter rule: `None` when there is no adapter and
/// `QSHADE_ALLOW_NO_GPU=1` (printed), or when the configuration needs f64 and the adapter
/// lacks it (printed); panics on any other failure.
pub fn try_gpu(config: GpuConfig) -> Option<GpuBackend> {
    let precision = config.precision;
    match GpuBackend::with_config(config) {
        Ok(backend) => Some(backend),
        Err(e @ Error::NoAdapter { .. }) => {
            if allow_no_gpu() {
                println!("GPU tests skipped: no adapter (QSHADE_ALLOW_NO_GPU=1)");
                eprintln!("GPU tests skipped: no adapter (QSHADE_ALLOW_NO_GPU=1): {e}");
                None
            } else {
                panic!("GPU tests need a GPU adapter (set QSHADE_ALLOW_NO_GPU=1 to test only the CPU): {e}");
            }
        }
        Err(e @ Error::MissingFeature { .. }) if precision == Precision::F64 => {
            eprintln!("GPU f64 configurations skipped: {e}");
            None
        }
        Err(e) => panic!("creating the GPU backend ({precision:?}) failed: {e}"),
    }
}

/// Created once per test binary. `GpuBackend` is a cheap clone of an `Arc` of the device
/// context, so every test gets its own handle on the same devices.
static BACKENDS: OnceLock<Vec<(String, GpuBackend)>> = OnceLock::new();

fn create_all() -> Vec<(String, GpuBackend)> {
    let mut out: Vec<(String, GpuBackend)> = Vec::new();
    for c in &CONFIGS {
        let (config_label, precision) = (c.label, c.precision);
        match try_gpu(
            config(precision, c.chunk)
                .tile_fusion(c.tile_fusion)
                .fusion_qubits(c.fusion_qubits)
                .register_blocks(Some(c.register_blocks)),
        ) {
            Some(backend) => {
                if out.is_empty() {
                    // Written to the process's stderr directly, not through eprintln!, so the
                    // test harness does not capture it: plain `cargo test` shows the adapter.
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "GPU tests run on adapter: {} ({})",
                        backend.adapter_name(),
                        backend.name()
                    );
                }
                out.push((label(config_label), backend));
            }
            // No adapter (allowed): nothing to test on the GPU at all.
            None if precision == Precision::F32 => return Vec::new(),
            None => {}
        }
    }
    out
}

/// The GPU backend in every configuration of [`CONFIGS`] that the adapter supports.
pub fn gpu_backends() -> Vec<NamedBackend> {
    BACKENDS
        .get_or_init(create_all)
        .iter()
        .map(|(label, backend)| (label.clone(), Box::new(backend.clone()) as Box<dyn Backend>))
        .collect()
}
