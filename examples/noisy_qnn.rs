//! A QNN trained noise-free versus trained under noise (issue 16, "NISQ realism").
//!
//! Two moons (200 points, 70/30 split), 4 qubits re-encoding the 2 standardised features
//! (RY), hardware-efficient layers, readout ⟨Z0⟩, binary cross-entropy on σ(4·⟨Z0⟩), Adam
//! (learning rate 0.05, mini-batches of 16, seeded). The same initial θ is trained twice:
//!
//! * (a) **noise-free**, by the batched trainer (`qml::train::fit`) on the CPU backend in f64;
//! * (b) **under noise**, on the exact density matrix with adjoint gradients through the noise
//!   (`noise::expectation_and_gradient`), noise = two-qubit depolarizing on every CNOT plus
//!   amplitude damping on the qubits of every gate.
//!
//! Both are then evaluated noise-free (state vector) and under the noise (density matrix),
//! and a table of train/test loss and accuracy is printed, then one JSON line.
//!
//! Run: `cargo run --release --example noisy_qnn [p2q] [gamma] [layers] [epochs]`
//! (defaults 0.01, 0.002 as in `noisy_vqe_h2`, 3 layers, 30 epochs).

#[path = "common/noisy_qnn.rs"]
mod noisy_qnn;

use noisy_qnn::{dm_evaluate, dm_loss_and_gradient, model, moons, noisy_circuit, LOSS};
use qshade::noise::NoisyCircuit;
use qshade::qml::optim::{Adam, Optimizer};
use qshade::qml::train::{evaluate, fit, Dataset, OptimizerConfig, Qnn, TrainConfig};
use qshade::{CpuBackend, Precision, Result};
use std::time::Instant;

/// Adam's learning rate, the mini-batch size and the seed of both trainings.
const LEARNING_RATE: f64 = 0.05;
const BATCH: usize = 16;
const SEED: u64 = 1;

/// A seeded Fisher–Yates shuffle of 0..n (splitmix64), for the noisy trainer's mini-batches.
fn permutation(n: usize, state: &mut u64) -> Vec<usize> {
    let mut next = || {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    p
}

fn main() -> Result<()> {
    let arg = |i: usize, default: f64| -> f64 {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (p2, gamma) = (arg(1, 0.01), arg(2, 0.002));
    let (layers, epochs) = (arg(3, 3.0) as usize, arg(4, 30.0) as usize);
    let (train, test) = moons()?;
    let initial = model(&train, layers, SEED)?;
    let noisy = noisy_circuit(&initial, p2, gamma)?;
    let backend = CpuBackend::with_precision(Precision::F64);
    println!(
        "two moons: {} train / {} test, 4 qubits, {layers} layers, {} parameters; noise: depolarizing2 {p2} on cx, amplitude damping {gamma} on every gate's qubits ({} channels)",
        train.len(),
        test.len(),
        initial.num_parameters(),
        noisy.num_channels()
    );

    // (a) noise-free, batched trainer.
    let start = Instant::now();
    let mut clean = initial.clone();
    let config = TrainConfig::default()
        .epochs(epochs)
        .batch_size(BATCH)
        .loss(LOSS)
        .optimizer(OptimizerConfig::Adam {
            learning_rate: LEARNING_RATE,
        })
        .seed(SEED);
    let clean_curve = fit(&mut clean, &backend, &train, &config)?.losses();
    let clean_seconds = start.elapsed().as_secs_f64();

    // (b) under noise: density matrix, adjoint gradients through the channels.
    let start = Instant::now();
    let mut theta = initial.theta().to_vec();
    let mut adam = Adam::new(LEARNING_RATE);
    let mut shuffle_state = SEED;
    let mut noisy_curve = Vec::with_capacity(epochs);
    for _ in 0..epochs {
        let order = permutation(train.len(), &mut shuffle_state);
        for batch in order.chunks(BATCH) {
            let (_, _, grad) =
                dm_loss_and_gradient(&initial, &noisy, &theta, &train.subset(batch)?)?;
            adam.step(&mut theta, &grad)?;
        }
        // The epoch's loss on the whole training set, as `fit` records it.
        noisy_curve.push(dm_evaluate(&initial, &noisy, &theta, &train)?.0);
    }
    let noisy_seconds = start.elapsed().as_secs_f64();
    let mut aware = initial.clone();
    aware.set_parameters(&theta)?;

    // Evaluate both models both ways.
    let ideal = noisy_qnn_ideal(&initial)?;
    let mut rows = Vec::new();
    for (name, m) in [("noise-free", &clean), ("under noise", &aware)] {
        for (regime, nc) in [("noise-free", &ideal), ("noisy (ρ)", &noisy)] {
            let on = |d: &Dataset| -> Result<(f64, f64)> {
                if nc.num_channels() == 0 {
                    let e = evaluate(m, &backend, d, &LOSS)?;
                    Ok((e.loss, e.accuracy))
                } else {
                    dm_evaluate(m, nc, m.theta(), d)
                }
            };
            let (tr, te) = (on(&train)?, on(&test)?);
            rows.push((name, regime, tr, te));
        }
    }
    println!(
        "\n{:<13} {:<12} {:>10} {:>9} {:>10} {:>9}",
        "trained", "evaluated", "train loss", "train acc", "test loss", "test acc"
    );
    for (name, regime, tr, te) in &rows {
        println!(
            "{name:<13} {regime:<12} {:>10.4} {:>9.3} {:>10.4} {:>9.3}",
            tr.0, tr.1, te.0, te.1
        );
    }
    let last = |c: &[f64]| c.last().copied().unwrap_or(f64::NAN);
    println!(
        "\nfinal training loss (epoch {epochs}): noise-free trainer {:.4} ({clean_seconds:.1} s), density-matrix trainer {:.4} ({noisy_seconds:.1} s)",
        last(&clean_curve),
        last(&noisy_curve)
    );
    let json_rows: Vec<String> = rows
        .iter()
        .map(|(name, regime, tr, te)| {
            format!(
                "{{\"trained\":\"{name}\",\"evaluated\":\"{regime}\",\"train_loss\":{},\"train_acc\":{},\"test_loss\":{},\"test_acc\":{}}}",
                tr.0, tr.1, te.0, te.1
            )
        })
        .collect();
    println!(
        "{{\"example\":\"noisy_qnn\",\"p2\":{p2},\"gamma\":{gamma},\"layers\":{layers},\"epochs\":{epochs},\"final_loss_clean\":{},\"final_loss_noisy\":{},\"seconds_clean\":{clean_seconds},\"seconds_noisy\":{noisy_seconds},\"rows\":[{}]}}",
        last(&clean_curve),
        last(&noisy_curve),
        json_rows.join(",")
    );
    Ok(())
}

/// The model's circuit with no channels (evaluated on the batched state-vector backend).
fn noisy_qnn_ideal(model: &Qnn) -> Result<NoisyCircuit> {
    Ok(NoisyCircuit::from_circuit(model.circuit()))
}
