//! The Rust side of one PennyLane QNN training step (`python/benches/qnn_pennylane.py`,
//! issue 15) without Python: the same circuit as the device compiles it (AngleEmbedding = RX
//! per wire, then StronglyEntanglingLayers with each `Rot` decomposed into RZ·RY·RZ and a ring
//! of CNOTs of range `l mod (n−1) + 1` in layer `l`; PennyLane's wire `w` is qubit `n−1−w`),
//! ⟨Z⟩ of wire 0, a mini-batch of B rows with their own inputs and shared weights. One step is
//! what the device runs: one `forward_batch` (PennyLane's forward) then one `gradient_batch`
//! (the VJP, adjoint) with the same rows. Prints one JSON line per (n, L) with the median of
//! `--reps` timed steps after one warm-up.
//!
//! ```text
//! cargo run --release --example qnn_step -- [--qubits 12,16] [--layers 2,4] [--batch 64]
//!     [--reps 3] [--precision f64|f32]
//! ```

use qshade::{Angle, Backend, Batch, Circuit, CpuBackend, GradientMethod, Observable};
use qshade::{Precision, Program, Result};
use std::time::Instant;

/// The QNN circuit: θ = the 3·n·L weights, x = the n inputs.
fn qnn(n: usize, layers: usize) -> Result<Program> {
    let mut c = Circuit::new(n)?;
    let q = |w: usize| n - 1 - w;
    for w in 0..n {
        c.rx(q(w), Angle::input(w))?;
    }
    for l in 0..layers {
        for w in 0..n {
            let k = 3 * (l * n + w);
            c.rz(q(w), Angle::theta(k))?
                .ry(q(w), Angle::theta(k + 1))?
                .rz(q(w), Angle::theta(k + 2))?;
        }
        let r = l % (n - 1) + 1;
        for w in 0..n {
            c.cnot(q(w), q((w + r) % n))?;
        }
    }
    c.declare_params(3 * n * layers).declare_inputs(n);
    Ok(Program::compile(&c))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn list(arg: Option<String>, default: &[usize]) -> Vec<usize> {
    arg.map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let qubits = list(opt("--qubits"), &[12, 16]);
    let layers = list(opt("--layers"), &[2, 4]);
    let b = list(opt("--batch"), &[64])[0];
    let reps = list(opt("--reps"), &[3])[0].max(1);
    let precision = match opt("--precision").as_deref() {
        Some("f32") => Precision::F32,
        _ => Precision::F64,
    };
    let backend = CpuBackend::with_precision(precision);
    let obs = [Observable::z(0)];
    for &n in &qubits {
        for &l in &layers {
            let program = qnn(n, l)?;
            let theta: Vec<f64> = (0..program.num_params())
                .map(|k| 0.1 + 0.37 * (k as f64).sin())
                .collect();
            let x: Vec<f64> = (0..b * n).map(|k| 0.8 * (k as f64 * 0.61).cos()).collect();
            let batch = Batch::shared(&theta, &x, b);
            let (mut fwd, mut grad, mut loss) = (Vec::new(), Vec::new(), 0.0);
            for rep in 0..=reps {
                let t0 = Instant::now();
                let values = backend.forward_batch(&program, &batch, &obs)?;
                let t1 = Instant::now();
                // MSE against 0.5 over the batch: dL/d⟨Z⟩_b = 2(⟨Z⟩_b − 0.5)/B.
                let upstream: Vec<f64> =
                    values.iter().map(|v| 2.0 * (v - 0.5) / b as f64).collect();
                let g = backend.gradient_batch(
                    &program,
                    &batch,
                    &obs,
                    &upstream,
                    GradientMethod::Adjoint,
                )?;
                let t2 = Instant::now();
                loss = values.iter().map(|v| (v - 0.5).powi(2)).sum::<f64>() / b as f64;
                let norm = g.theta.iter().map(|v| v * v).sum::<f64>().sqrt();
                if rep > 0 {
                    fwd.push((t1 - t0).as_secs_f64());
                    grad.push((t2 - t1).as_secs_f64());
                } else {
                    eprintln!("n={n} L={l}: loss {loss:.12} |grad| {norm:.12}");
                }
            }
            let steps: Vec<f64> = fwd.iter().zip(&grad).map(|(a, b)| a + b).collect();
            println!(
                "{{\"workload\":\"qnn_step\",\"backend\":\"{}\",\"n\":{n},\"L\":{l},\"batch\":{b},\
                 \"threads\":{},\"reps\":{reps},\"forward_s\":{:.4},\"gradient_s\":{:.4},\
                 \"step_s\":{:.4},\"loss\":{loss:.12}}}",
                backend.name(),
                rayon::current_num_threads(),
                median(fwd),
                median(grad),
                median(steps),
            );
        }
    }
    Ok(())
}
