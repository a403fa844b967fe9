//! Noise benchmarks, one JSON line per figure (the shape benches/noise_peers.py prints too):
//! T = 1000 Monte-Carlo trajectories of a 12-qubit, depth-20 noisy circuit, and the exact
//! density matrix of the same circuit family on 10 qubits.
//!
//! The circuit (benches/noise_peers.py builds the same): 20 layers of RY(θ) on every qubit
//! followed by CNOTs on (0,1), (2,3), … in even layers and (1,2), (3,4), … in odd ones; after
//! every RY a one-qubit depolarizing channel (p = 0.001) and amplitude damping (γ = 0.001),
//! after every CNOT a two-qubit depolarizing channel (p = 0.01). Observable ⟨Z0⟩.
//!
//! Run: `cargo run --release --example noise_bench [trajectory_qubits] [density_qubits]`
//! (density_qubits 0 skips the density matrix) `[precisions]` (default `f64,f32`).

use qshade::noise::{
    trajectory_expectations, Channel, DensityMatrix, NoiseModel, NoisyCircuit, TrajectoryConfig,
};
use qshade::{Bindings, Circuit, Observable, Precision, Result};
use std::time::Instant;

const DEPTH: usize = 20;

fn circuit(n: usize) -> Result<NoisyCircuit> {
    let mut c = Circuit::new(n)?;
    for layer in 0..DEPTH {
        for q in 0..n {
            c.ry(q, 0.1 + 0.37 * ((layer * n + q) as f64).sin())?;
        }
        let mut a = layer % 2;
        while a + 1 < n {
            c.cnot(a, a + 1)?;
            a += 2;
        }
    }
    let mut model = NoiseModel::new();
    model
        .add_all_qubit_quantum_error(Channel::depolarizing(0.001)?, &["ry"])?
        .add_all_qubit_quantum_error(Channel::amplitude_damping(0.001)?, &["ry"])?
        .add_all_qubit_quantum_error(Channel::depolarizing2(0.01)?, &["cx"])?;
    model.apply(&c)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let arg = |i: usize, d: usize| {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let (nt, nd) = (arg(1, 12), arg(2, 10));
    let threads = rayon::current_num_threads();
    let z0 = [Observable::z(0)];

    let noisy = circuit(nt)?;
    let wanted = std::env::args().nth(3).unwrap_or_else(|| "f64,f32".into());
    for (precision, label) in [(Precision::F64, "f64"), (Precision::F32, "f32")] {
        if !wanted.split(',').any(|w| w == label) {
            continue;
        }
        let mut times = Vec::new();
        let mut est = None;
        for rep in 0..5 {
            let config = TrajectoryConfig::default()
                .trajectories(1000)
                .seed(rep)
                .precision(precision);
            let start = Instant::now();
            est = Some(trajectory_expectations(&noisy, &Bindings::none(), &z0, &config)?[0]);
            times.push(start.elapsed().as_secs_f64());
        }
        let e = est.unwrap_or(qshade::noise::Estimate {
            mean: f64::NAN,
            std_error: f64::NAN,
        });
        println!(
            "{{\"sim\":\"qshade\",\"workload\":\"noise_trajectories\",\"precision\":\"{label}\",\"n\":{nt},\"depth\":{DEPTH},\"trajectories\":1000,\"channels\":{},\"threads\":{threads},\"median_s\":{:.6},\"min_s\":{:.6},\"z0\":{:.6},\"z0_stderr\":{:.6}}}",
            noisy.num_channels(),
            median(times.clone()),
            times.iter().copied().fold(f64::INFINITY, f64::min),
            e.mean,
            e.std_error
        );
    }

    if nd == 0 {
        return Ok(());
    }
    let noisy = circuit(nd)?;
    let mut times = Vec::new();
    let mut z = f64::NAN;
    for _ in 0..3 {
        let start = Instant::now();
        let rho = DensityMatrix::run(&noisy, &Bindings::none())?;
        z = rho.expectation(&z0[0])?;
        times.push(start.elapsed().as_secs_f64());
    }
    println!(
        "{{\"sim\":\"qshade\",\"workload\":\"noise_density\",\"n\":{nd},\"depth\":{DEPTH},\"channels\":{},\"threads\":{threads},\"median_s\":{:.6},\"z0\":{z:.10}}}",
        noisy.num_channels(),
        median(times)
    );
    Ok(())
}
