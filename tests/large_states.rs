//! States larger than one storage binding: n = 25 and 26 on the GPU go through the chunked path
//! (lavapipe binds at most 128 MiB = 2^24 f32 amplitudes) and must match the f64 CPU reference
//! on <Z_k> for every qubit after a random layer circuit that touches the chunk-index qubits as
//! targets and as controls.
//!
//! Tolerance: 2e-5 absolute on each <Z_k>. The circuit has depth 4 (per amplitude), each f32
//! gate adds ≲ 2 ulp (2.4e-7 relative) per amplitude, and the on-GPU reduction of 2^26 terms in
//! f32 adds ≲ log2(2^26) · 2^-24 ≈ 1.6e-6 relative; 2e-5 is that sum with a ×10 margin.

mod common;

use common::rng::Rng;
use qshade::{
    Backend, Bindings, Circuit, CpuBackend, GpuBackend, GpuConfig, Observable, Precision,
};

/// The GPU backend, or `None` (skipped, printed) only when there is no adapter and
/// `QSHADE_ALLOW_NO_GPU=1`; without that variable a missing adapter fails the test.
fn gpu_or_skip(config: GpuConfig) -> Option<GpuBackend> {
    match GpuBackend::with_config(config) {
        Ok(g) => Some(g),
        Err(qshade::Error::NoAdapter { reason })
            if std::env::var("QSHADE_ALLOW_NO_GPU").as_deref() == Ok("1") =>
        {
            println!("GPU test skipped: no adapter ({reason}); QSHADE_ALLOW_NO_GPU=1");
            None
        }
        Err(e) => panic!("GPU backend unavailable: {e}"),
    }
}

fn random_layer_circuit(n: usize, seed: u64) -> (Circuit, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let mut c = Circuit::new(n).unwrap();
    for q in 0..n {
        c.ry(q, qshade::Angle::theta(q)).unwrap();
    }
    for q in 0..n - 1 {
        c.cnot(q, q + 1).unwrap();
    }
    // High qubits as control and as target of two-qubit and controlled gates.
    c.cnot(n - 1, 0).unwrap();
    c.crx(n - 2, 3, qshade::Angle::theta(n)).unwrap();
    c.rzz(n - 1, n - 2, qshade::Angle::theta(n + 1)).unwrap();
    c.swap(1, n - 1).unwrap();
    c.h(n - 2).unwrap();
    let theta = (0..n + 2)
        .map(|_| rng.range(0.0, std::f64::consts::TAU))
        .collect();
    (c, theta)
}

fn check_large(n: usize) {
    let Some(gpu) = gpu_or_skip(GpuConfig::default().precision(Precision::F32)) else {
        return;
    };
    let chunk_qubits = gpu.max_chunk_qubits();
    assert!(chunk_qubits < n, "n = {n} must need chunking on this adapter (one binding holds 2^{chunk_qubits} amplitudes)");
    let (circuit, theta) = random_layer_circuit(n, 7 + n as u64);
    let bindings = Bindings::theta(&theta);
    let observables: Vec<Observable> = (0..n).map(Observable::z).collect();
    let gpu_state = gpu.zero_gpu_state(n).unwrap();
    assert_eq!(gpu_state.num_chunks(), 1 << (n - chunk_qubits));
    drop(gpu_state);
    let got = gpu
        .run(&circuit, &bindings)
        .unwrap()
        .expectations(&observables)
        .unwrap();
    // The reference's ⟨Z_k⟩ from its probabilities in one pass (its `expectation` copies the
    // 2^n-amplitude state once per term, which at n = 26 costs more than the run itself).
    let probs = CpuBackend::reference()
        .run(&circuit, &bindings)
        .unwrap()
        .probabilities()
        .unwrap();
    let mut want = vec![0.0; n];
    for (i, p) in probs.iter().enumerate() {
        for (k, w) in want.iter_mut().enumerate() {
            *w += if i >> k & 1 == 0 { *p } else { -*p };
        }
    }
    drop(probs);
    let mut worst = 0.0f64;
    for k in 0..n {
        let err = (got[k] - want[k]).abs();
        worst = worst.max(err);
        assert!(
            err <= 2e-5,
            "n = {n}: <Z{k}> gpu {} vs cpu {} (|diff| {err:.2e} > 2e-5)",
            got[k],
            want[k]
        );
    }
    println!(
        "n = {n}: {} chunks on {}, max |<Z_k> diff| = {worst:.2e}",
        1 << (n - chunk_qubits),
        gpu.adapter_name()
    );
}

#[test]
fn n25_chunked_matches_reference() {
    check_large(25);
}

#[test]
fn n26_chunked_matches_reference() {
    check_large(26);
}

#[test]
fn state_beyond_device_memory_is_a_clear_error() {
    let Some(gpu) = gpu_or_skip(GpuConfig::default()) else {
        return;
    };
    let Some(budget) = gpu.memory_budget() else {
        println!("adapter reports no memory size; covered by the memory_budget test in gpu_errors");
        return;
    };
    // The smallest qubit count whose f32 state exceeds the adapter's memory.
    let n = (0..=qshade::circuit::MAX_QUBITS)
        .find(|&n| (8u64 << n) > budget)
        .unwrap();
    match gpu.zero_state(n) {
        Err(qshade::Error::OutOfDeviceMemory { needed, available }) => {
            assert_eq!(needed, 8u64 << n);
            assert_eq!(available, budget);
        }
        Err(e) => panic!("expected OutOfDeviceMemory for n = {n}, got {e}"),
        Ok(_) => panic!("a {n}-qubit state cannot fit in {budget} bytes"),
    }
}
