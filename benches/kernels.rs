//! Per-kernel GPU throughput, n = 16..26, with the copy kernel on the same adapter as the
//! bandwidth ceiling. Each gate pass reads and writes every amplitude once, so criterion's
//! byte throughput (2 · 2^n · bytes per amplitude per gate) is the effective bandwidth.
//!
//! Run: `cargo bench --bench kernels` (all sizes) or
//! `QSHADE_BENCH_SIZES=16,20 cargo bench --bench kernels -- gpu_1q` for a subset.
//! `cargo bench --bench kernels -- gpu_ansatz10` compares tiles and fusion with one dispatch
//! per gate on a 10-layer ansatz. The adapter is printed first; on lavapipe (a CPU emulation)
//! the figures are the CPU's.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qshade::{Angle, Backend, Bindings, Circuit, GpuBackend, GpuConfig, QuantumState};
use std::time::Duration;

fn sizes() -> Vec<usize> {
    std::env::var("QSHADE_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![16, 18, 20, 22, 24, 26])
}

/// One circuit per kernel family; `gates` is how many gate passes it makes unfused.
fn circuit(kind: &str, n: usize) -> (Circuit, usize) {
    let mut c = Circuit::new(n).unwrap();
    let top = n - 1;
    match kind {
        "1q" => {
            c.h(top).unwrap();
        }
        "controlled" => {
            c.cry(0, top, 0.3).unwrap();
        }
        "diagonal" => {
            c.rz(top, 0.3).unwrap();
        }
        "permutation" => {
            c.cnot(0, top).unwrap();
        }
        "2q" => {
            c.rxx(0, top, 0.3).unwrap();
        }
        // 20 one- and two-qubit gates on low qubits: one tile pass when fused.
        _ => {
            for k in 0..10 {
                c.ry(k % 8, Angle::Const(0.1 * k as f64))
                    .unwrap()
                    .cnot(k % 8, (k + 1) % 8)
                    .unwrap();
            }
        }
    }
    let gates = c.gates().len();
    (c, gates)
}

fn bench_gpu(c: &mut Criterion) {
    let fused = match GpuBackend::new() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("no GPU adapter, GPU benches skipped: {e}");
            return;
        }
    };
    let per_gate = GpuBackend::with_config(
        GpuConfig::default()
            .tile_fusion(false)
            .fusion_qubits(0)
            .register_blocks(Some(0)),
    )
    .unwrap();
    println!("adapter: {}", fused.name());
    let bpa = fused.precision().bytes_per_amplitude();
    for kind in [
        "1q",
        "controlled",
        "diagonal",
        "permutation",
        "2q",
        "tile-run",
    ] {
        let mut group = c.benchmark_group(format!("gpu_{kind}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        for n in sizes() {
            let (circ, gates) = circuit(kind, n);
            group.throughput(Throughput::Bytes(2 * (bpa << n) * gates as u64));
            let variants: Vec<(&str, &GpuBackend)> = if kind == "tile-run" {
                vec![("fused", &fused), ("per-gate", &per_gate)]
            } else {
                vec![("", &fused)]
            };
            for (label, backend) in variants {
                let Ok(mut state) = backend.zero_gpu_state(n) else {
                    eprintln!("n = {n} does not fit this adapter; skipped");
                    continue;
                };
                let id = if label.is_empty() {
                    BenchmarkId::from_parameter(n)
                } else {
                    BenchmarkId::new(label, n)
                };
                group.bench_with_input(id, &n, |b, _| {
                    b.iter(|| {
                        state.apply(&circ, &Bindings::none()).unwrap();
                        state.wait().unwrap();
                    })
                });
            }
        }
        group.finish();
    }
    let mut group = c.benchmark_group("gpu_copy");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for n in sizes() {
        let Ok(probe) = fused.copy_probe(n) else {
            continue;
        };
        group.throughput(Throughput::Bytes(probe.bytes_moved));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| probe.run(1).unwrap())
        });
    }
    group.finish();
}

/// The hardware-efficient ansatz of `benches/WORKLOADS.md` (RY, RZ on every qubit, then a
/// CNOT ring), `layers` layers on `n` qubits, constant angles.
fn ansatz(n: usize, layers: usize) -> Circuit {
    let mut c = Circuit::new(n).unwrap();
    for l in 0..layers {
        for q in 0..n {
            let k = (l * n + q) as f64;
            c.ry(q, 0.1 + 0.01 * k)
                .unwrap()
                .rz(q, 0.2 + 0.01 * k)
                .unwrap();
        }
        for q in 0..n {
            c.cnot(q, (q + 1) % n).unwrap();
        }
    }
    c
}

/// Tile kernel and fusion against one dispatch per gate on a 10-layer ansatz (600 gates):
/// `QSHADE_ANSATZ_QUBITS` (default 20) qubits, one `apply` per iteration.
fn bench_gpu_ansatz(c: &mut Criterion) {
    let n: usize = std::env::var("QSHADE_ANSATZ_QUBITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let circ = ansatz(n, 10);
    let mut group = c.benchmark_group("gpu_ansatz10");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(5));
    for (label, tile_fusion, fusion_qubits, register_blocks) in [
        ("per-gate", false, 0, 0),
        ("fusion2", false, 2, 0),
        ("tiles", true, 0, 0),
        ("tiles+fusion2", true, 2, 0),
        ("blocks5", false, 0, 5),
    ] {
        let Ok(backend) = GpuBackend::with_config(
            GpuConfig::default()
                .tile_fusion(tile_fusion)
                .fusion_qubits(fusion_qubits)
                .register_blocks(Some(register_blocks)),
        ) else {
            eprintln!("no GPU adapter, ansatz bench skipped");
            return;
        };
        let Ok(mut state) = backend.zero_gpu_state(n) else {
            continue;
        };
        group.bench_with_input(BenchmarkId::new(label, n), &n, |b, _| {
            b.iter(|| {
                state.apply(&circ, &Bindings::none()).unwrap();
                state.wait().unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_gpu, bench_gpu_ansatz);
criterion_main!(benches);
