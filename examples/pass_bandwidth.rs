//! GPU pass bandwidth against the copy ceiling, measured alternately in one process so that a
//! noisy machine slows both sides alike (criterion's `benches/kernels.rs` times them one group
//! after another). For each size, each kernel family runs 10 gates per `apply` (one dispatch per
//! gate, no fusion, no tiles), the copy kernel 10 copies per submit; the best of `--rounds`
//! rounds per gate is printed as one JSON line per (kernel, n) with its fraction of the copy's
//! bandwidth (the controlled and permutation passes touch half the state, so they exceed 1).
//!
//! `cargo run --release --example pass_bandwidth -- [--sizes 20,22,24] [--rounds 6]`

use qshade::{Bindings, Circuit, GpuBackend, GpuConfig, QuantumState};
use std::time::Instant;

const GATES: usize = 10;

/// `GATES` gates of one family on high and low qubits of an `n`-qubit state.
fn circuit(kind: &str, n: usize) -> Circuit {
    let mut c = Circuit::new(n).expect("n ≥ 6");
    for k in 0..GATES {
        let (low, high) = (k % 3, n - 1 - k % 3);
        match kind {
            "1q" => c.h(high),
            "2q" => c.rxx(low, high, 0.3),
            "diagonal" => c.rz(high, 0.3),
            "controlled" => c.cry(low, high, 0.3),
            _ => c.cnot(low, high),
        }
        .expect("valid gate");
    }
    c
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> qshade::Result<()> {
    let sizes: Vec<usize> = arg("--sizes")
        .unwrap_or_else(|| "20,22,24".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let rounds: usize = arg("--rounds").and_then(|v| v.parse().ok()).unwrap_or(6);
    let gpu = GpuBackend::with_config(
        GpuConfig::default()
            .tile_fusion(false)
            .fusion_qubits(0)
            .register_blocks(Some(0)),
    )?;
    let adapter = gpu.adapter_name();
    eprintln!("adapter: {adapter}");
    let kinds = ["1q", "2q", "diagonal", "controlled", "permutation"];
    for n in sizes {
        let probe = gpu.copy_probe(n)?;
        let mut state = gpu.zero_gpu_state(n)?;
        let circuits: Vec<Circuit> = kinds.iter().map(|k| circuit(k, n)).collect();
        let mut copy = f64::MAX;
        let mut best = vec![f64::MAX; kinds.len()];
        for _ in 0..rounds {
            let t = Instant::now();
            probe.run(GATES)?;
            copy = copy.min(t.elapsed().as_secs_f64() / GATES as f64);
            for (b, c) in best.iter_mut().zip(&circuits) {
                let t = Instant::now();
                state.apply(c, &Bindings::none())?;
                state.wait()?;
                *b = b.min(t.elapsed().as_secs_f64() / GATES as f64);
            }
        }
        let gib = |s: f64| probe.bytes_moved as f64 / s / (1u64 << 30) as f64;
        println!(
            "{{\"adapter\":\"{adapter}\",\"kernel\":\"copy\",\"n\":{n},\"seconds\":{copy:.6e},\"gib_per_s\":{:.3},\"of_copy\":1.0}}",
            gib(copy)
        );
        for (kind, b) in kinds.iter().zip(&best) {
            println!(
                "{{\"adapter\":\"{adapter}\",\"kernel\":\"{kind}\",\"n\":{n},\"seconds\":{b:.6e},\"gib_per_s\":{:.3},\"of_copy\":{:.3}}}",
                gib(*b),
                copy / b
            );
        }
    }
    Ok(())
}
