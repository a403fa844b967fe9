//! GPU-only error paths: a state over the memory budget (OutOfDeviceMemory with exact byte
//! counts), a 34-qubit request, no matching adapter. Same no-adapter rule as every GPU test:
//! without an adapter these fail unless `QSHADE_ALLOW_NO_GPU=1`.

mod common;

use common::gpu::{config, try_gpu};
use common::*;
use qshade::{Backend, Bindings, Circuit, Error, GpuBackend, Precision, QuantumState};
use std::sync::Mutex;

/// Tests that create backends hold this: one test changes `QSHADE_ADAPTER`, which every
/// backend creation in this process reads.
static ENV: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ENV.lock().unwrap_or_else(|p| p.into_inner())
}

fn width(r: qshade::Result<Box<dyn QuantumState>>) -> qshade::Result<usize> {
    r.map(|s| s.num_qubits())
}

#[track_caller]
fn assert_oom(result: qshade::Result<usize>, needed: u64, available: u64, context: &str) {
    match result {
        Err(e @ Error::OutOfDeviceMemory { .. }) => {
            assert_eq!(e, Error::OutOfDeviceMemory { needed, available }, "{context}");
            let msg = e.to_string();
            for needle in [format!("({needed} bytes)"), format!("({available} bytes)"), "CPU backend".to_string()] {
                assert!(msg.contains(&needle), "{context}: message {msg:?} lacks {needle:?}");
            }
        }
        other => panic!("{context}: expected OutOfDeviceMemory {{ needed: {needed}, available: {available} }}, got {other:?}"),
    }
}

#[test]
fn state_over_the_memory_budget() {
    let _guard = lock();
    const BUDGET: u64 = 4096;
    for (precision, chunk) in [
        (Precision::F32, None),
        (Precision::F32, Some(3)),
        (Precision::F64, None),
        (Precision::F64, Some(3)),
    ] {
        let Some(gpu) = try_gpu(config(precision, chunk).memory_budget(Some(BUDGET))) else {
            continue;
        };
        let bpa = precision.bytes_per_amplitude(); // 8 for f32, 16 for f64
                                                   // The largest state that fits exactly: 2^n · bpa = 4096 bytes.
        let fits = (BUDGET / bpa).trailing_zeros() as usize;
        let ctx = |what: &str, n: usize| {
            format!("{what}({n}) with budget {BUDGET} B, {precision:?}, chunk {chunk:?}")
        };
        assert!(
            gpu.zero_state(fits).is_ok(),
            "{}: 2^{fits}·{bpa} = {BUDGET} bytes must fit",
            ctx("zero_state", fits)
        );
        for n in [fits + 1, fits + 4] {
            let needed = (1u64 << n) * bpa;
            assert_oom(
                width(gpu.zero_state(n)),
                needed,
                BUDGET,
                &ctx("zero_state", n),
            );
            assert_oom(
                width(gpu.state_from_amplitudes(&random_state(n, 1))),
                needed,
                BUDGET,
                &ctx("state_from_amplitudes", n),
            );
            let mut circuit = Circuit::new(n).unwrap();
            circuit.h(0).unwrap();
            assert_oom(
                width(gpu.run(&circuit, &Bindings::none())),
                needed,
                BUDGET,
                &ctx("run", n),
            );
        }
        // The backend is still usable after refusing.
        let state = gpu.state_from_amplitudes(&basis_state(fits, 1)).unwrap();
        assert_eq!(
            state.probabilities().unwrap()[1],
            1.0,
            "{}",
            ctx("after refusal", fits)
        );
    }
}

#[test]
fn thirty_four_qubits_do_not_fit() {
    let _guard = lock();
    // f64: 2^34 · 16 B = 256 GiB, more than any single GPU has. f32 (128 GiB) only where the
    // adapter reports less than that, so that no test ever tries to allocate it for real.
    let n = 34usize;
    let cases = [(Precision::F64, 16u64), (Precision::F32, 8)];
    let mut tested = 0;
    for (precision, bpa) in cases {
        let Some(gpu) = try_gpu(config(precision, None)) else {
            continue;
        };
        let needed_at_least = (1u64 << n) * bpa;
        if precision == Precision::F32 && gpu.memory_budget().is_none_or(|b| b >= needed_at_least) {
            eprintln!("34-qubit f32 check skipped: adapter budget {:?} is not below {needed_at_least} bytes", gpu.memory_budget());
            continue;
        }
        match gpu.zero_state(n) {
            Err(e @ Error::OutOfDeviceMemory { needed, available }) => {
                assert!(
                    needed >= needed_at_least,
                    "{precision:?}: needed {needed} < 2^34·{bpa}"
                );
                assert!(
                    available < needed,
                    "{precision:?}: available {available} ≥ needed {needed}"
                );
                assert!(e.to_string().contains("GiB"), "{e}");
                tested += 1;
            }
            Err(other) => {
                panic!("34 qubits {precision:?}: expected OutOfDeviceMemory, got {other:?}")
            }
            Ok(_) => {
                panic!("34 qubits {precision:?}: a {needed_at_least}-byte state was allocated")
            }
        }
        assert_eq!(
            width(gpu.zero_state(35)),
            Err(Error::UnsupportedQubitCount {
                num_qubits: 35,
                max: 34
            }),
            "35 qubits on the GPU ({precision:?})"
        );
    }
    if tested == 0 && !common::gpu::allow_no_gpu() {
        panic!("no 34-qubit configuration could be checked on this adapter");
    }
}

#[test]
fn no_matching_adapter() {
    // The adapter is chosen on the configuration (the environment's QSHADE_ADAPTER only sets
    // this field's default; tests/config_env.rs checks that rule).
    let result = GpuBackend::with_config(
        config(Precision::F32, None).adapter(Some("no-such-adapter-qshade-test".into())),
    );
    match result {
        Err(e @ Error::NoAdapter { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("no GPU adapter found") && msg.contains("CpuBackend"),
                "{msg}"
            );
        }
        Err(other) => panic!("expected NoAdapter, got {other:?}"),
        Ok(b) => panic!(
            "adapter \"no-such-adapter-qshade-test\" still gave adapter {}",
            b.adapter_name()
        ),
    }
}

#[test]
fn the_tested_configurations_are_what_they_claim() {
    // Guards the rest of the suite: the chunked configurations really chunk at 2^3, and the
    // precisions are as labelled.
    let _guard = lock();
    for c in &common::gpu::CONFIGS {
        let (label, precision, chunk) = (c.label, c.precision, c.chunk);
        let Some(gpu) = try_gpu(config(precision, chunk)) else {
            continue;
        };
        assert_eq!(gpu.precision(), precision, "{label}");
        if let Some(c) = chunk {
            assert_eq!(gpu.max_chunk_qubits(), c, "{label}: max_chunk_qubits");
        } else {
            assert!(
                gpu.max_chunk_qubits() >= 14,
                "{label}: unchunked up to the widths tested, got 2^{}",
                gpu.max_chunk_qubits()
            );
        }
    }
    assert!(
        !gpu_backends().is_empty() || common::gpu::allow_no_gpu(),
        "no GPU backend to test"
    );
}

/// Configured sizes the engine cannot run are clear errors naming the setting when the backend
/// is created, never silently clamped.
#[test]
fn invalid_configured_sizes_are_errors() {
    let _guard = lock();
    let d = qshade::GpuConfig::default;
    let cases = [
        ("tile_workgroup", d().tile_workgroup(Some(0))),
        ("tile_workgroup", d().tile_workgroup(Some(48))),
        ("tile_workgroup", d().tile_workgroup(Some(4096))),
        ("fusion_qubits", d().fusion_qubits(6)),
        ("register_blocks", d().register_blocks(Some(7))),
        ("max_chunk_qubits", d().max_chunk_qubits(Some(0))),
    ];
    for (what, config) in cases {
        match GpuBackend::with_config(config) {
            Err(Error::InvalidArgument(msg)) => assert!(msg.contains(what), "{msg}"),
            Err(Error::NoAdapter { .. }) if common::gpu::allow_no_gpu() => return,
            Err(e) => panic!("{what}: expected InvalidArgument, got {e}"),
            Ok(_) => panic!("{what}: accepted"),
        }
    }
}
