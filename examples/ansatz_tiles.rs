//! Tile kernel and fusion against one dispatch per gate on the 10-layer hardware-efficient
//! ansatz (`benches/WORKLOADS.md`: RY, RZ on every qubit, then a CNOT ring; 600 gates at
//! n = 20), measured alternately in one process so that a noisy machine slows every
//! configuration alike (criterion's `gpu_ansatz10` group times them one after another).
//! Prints one JSON line per configuration with the best and median of `--rounds` rounds and
//! its speed-up over one dispatch per gate.
//!
//! `cargo run --release --example ansatz_tiles -- [--qubits 20] [--layers 10] [--rounds 7]`

use qshade::{Bindings, Circuit, GpuBackend, GpuConfig, GpuState, QuantumState};
use std::time::Instant;

fn ansatz(n: usize, layers: usize) -> qshade::Result<Circuit> {
    let mut c = Circuit::new(n)?;
    for l in 0..layers {
        for q in 0..n {
            let k = (l * n + q) as f64;
            c.ry(q, 0.1 + 0.01 * k)?.rz(q, 0.2 + 0.01 * k)?;
        }
        for q in 0..n {
            c.cnot(q, (q + 1) % n)?;
        }
    }
    Ok(c)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Seconds for one `apply` of `circuit`, waited for.
fn time_apply(state: &mut GpuState, circuit: &Circuit) -> qshade::Result<f64> {
    let start = Instant::now();
    state.apply(circuit, &Bindings::none())?;
    state.wait()?;
    Ok(start.elapsed().as_secs_f64())
}

fn main() -> qshade::Result<()> {
    let n = arg("--qubits", 20);
    let rounds = arg("--rounds", 7).max(1);
    let circuit = ansatz(n, arg("--layers", 10))?;
    let blocks = arg("--blocks", 5);
    let configs = [
        ("per-gate", false, 0, 0),
        ("fusion2", false, 2, 0),
        ("tiles", true, 0, 0),
        ("tiles+fusion2", true, 2, 0),
        ("blocks", false, 0, blocks),
    ];
    let mut runs = Vec::new();
    for (label, tile_fusion, fusion_qubits, register_blocks) in configs {
        let backend = GpuBackend::with_config(
            GpuConfig::default()
                .tile_fusion(tile_fusion)
                .fusion_qubits(fusion_qubits)
                .register_blocks(Some(register_blocks)),
        )?;
        let mut state = backend.zero_gpu_state(n)?;
        time_apply(&mut state, &circuit)?; // compiles the pipelines
        runs.push((label, backend, state, Vec::new()));
    }
    eprintln!("adapter: {}", runs[0].1.adapter_name());
    for round in 0..rounds {
        for (label, _, state, times) in runs.iter_mut() {
            let t = time_apply(state, &circuit)?;
            eprintln!("round {round} {label}: {:.1} ms", t * 1e3);
            times.push(t);
        }
    }
    let medians: Vec<(f64, f64)> = runs
        .iter_mut()
        .map(|(_, _, _, times)| {
            times.sort_by(f64::total_cmp);
            (times[0], times[times.len() / 2])
        })
        .collect();
    let (base_best, base_median) = medians[0];
    for ((label, backend, _, _), (best, median)) in runs.iter().zip(&medians) {
        println!(
            "{{\"config\":\"{label}\",\"adapter\":\"{}\",\"qubits\":{n},\"gates\":{},\
             \"best_ms\":{:.2},\"median_ms\":{:.2},\"speedup_best\":{:.2},\"speedup_median\":{:.2}}}",
            backend.adapter_name(),
            circuit.gates().len(),
            best * 1e3,
            median * 1e3,
            base_best / best,
            base_median / median
        );
    }
    Ok(())
}
