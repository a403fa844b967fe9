//! Zero-noise extrapolation: folding keeps the ideal result and scales the gate count;
//! extrapolations are exact on data of their own model; exponential extrapolation removes
//! one-qubit depolarizing noise exactly; the noisy H2 example's error shrinks ≥ 3×.

mod noise_util;

use noise_util::*;
use qshade::noise::zne::{
    extrapolate, fold_gates_at_random, fold_global, zne, Extrapolation, Folding,
};
use qshade::noise::{Channel, DensityMatrix, NoiseModel, NoisyCircuit};
use qshade::qml::vqe::{h2_ansatz, h2_sto3g, H2_GROUND_STATE_ENERGY};
use qshade::{Bindings, Observable};

#[test]
fn folding_keeps_the_ideal_state_and_scales_the_gate_count() {
    for seed in 0..6u64 {
        let mut r = rng(40 + seed);
        let noisy = random_noisy_circuit(&mut r, 3, 12, 2);
        let ideal = NoisyCircuit::from_circuit(noisy.circuit());
        let theta = [0.7, -1.3];
        let b = Bindings::theta(&theta);
        let want = DensityMatrix::run(&ideal, &b).unwrap();
        let d = ideal.circuit().gates().len();
        for s in [1usize, 3, 5] {
            let g = fold_global(&ideal, s).unwrap();
            assert_eq!(g.circuit().gates().len(), s * d);
            let r2 = fold_gates_at_random(&ideal, s as f64, seed).unwrap();
            assert_eq!(r2.circuit().gates().len(), s * d);
            for folded in [g, r2] {
                let got = DensityMatrix::run(&folded, &b).unwrap();
                for (x, y) in got.as_vec().iter().zip(want.as_vec()) {
                    assert!((x - y).norm() < 1e-10, "seed {seed} scale {s}");
                }
            }
            // Channels are copied with each folded gate: s × as many.
            assert_eq!(
                fold_global(&noisy, s).unwrap().num_channels(),
                s * noisy.num_channels()
            );
        }
        // A fractional scale folds round(d·(s − 1)/2) gates.
        let f = fold_gates_at_random(&ideal, 2.0, seed).unwrap();
        assert_eq!(
            f.circuit().gates().len(),
            d + 2 * ((d as f64) * 0.5).round() as usize
        );
    }
}

#[test]
fn extrapolations_are_exact_on_their_own_models() {
    let xs = [1.0, 3.0, 5.0, 7.0];
    let quad = |x: f64| 0.3 - 0.2 * x + 0.05 * x * x;
    let y: Vec<f64> = xs.iter().map(|&x| quad(x)).collect();
    assert!(
        (extrapolate(&xs[..3], &y[..3], Extrapolation::Richardson).unwrap() - 0.3).abs() < 1e-12
    );
    assert!((extrapolate(&xs, &y, Extrapolation::Polynomial(2)).unwrap() - 0.3).abs() < 1e-10);
    let line: Vec<f64> = xs.iter().map(|&x| 1.5 - 0.25 * x).collect();
    assert!((extrapolate(&xs, &line, Extrapolation::Linear).unwrap() - 1.5).abs() < 1e-12);
    let exp: Vec<f64> = xs.iter().map(|&x| -0.4 - 0.9 * (-0.3 * x).exp()).collect();
    let e = extrapolate(&xs, &exp, Extrapolation::Exponential { asymptote: -0.4 }).unwrap();
    assert!((e - (-1.3)).abs() < 1e-12, "{e}");
    // Errors: too few, repeated, non-finite, order too high, both sides of the asymptote.
    assert!(extrapolate(&[1.0], &[1.0], Extrapolation::Linear).is_err());
    assert!(extrapolate(&[1.0, 1.0], &[1.0, 2.0], Extrapolation::Richardson).is_err());
    assert!(extrapolate(&[1.0, 3.0], &[1.0, f64::NAN], Extrapolation::Linear).is_err());
    assert!(extrapolate(&[1.0, 3.0], &[1.0, 2.0], Extrapolation::Polynomial(2)).is_err());
    assert!(extrapolate(
        &[1.0, 3.0],
        &[1.0, -2.0],
        Extrapolation::Exponential { asymptote: 0.0 }
    )
    .is_err());
}

#[test]
fn exponential_extrapolation_removes_one_qubit_depolarizing_noise() {
    // One qubit, a depolarizing channel after every gate: ⟨O⟩(s) = (1 − p)^(s·d)·ideal, so
    // the exponential fit with asymptote 0 recovers the ideal value exactly.
    let mut c = qshade::Circuit::new(1).unwrap();
    c.ry(0, 0.9)
        .unwrap()
        .rz(0, 0.4)
        .unwrap()
        .rx(0, -0.6)
        .unwrap()
        .h(0)
        .unwrap();
    let mut model = NoiseModel::new();
    model
        .add_all_qubit_quantum_error(
            Channel::depolarizing(0.05).unwrap(),
            &["rx", "ry", "rz", "h"],
        )
        .unwrap();
    let noisy = model.apply(&c).unwrap();
    let obs = Observable::parse("0.6 Z0 + 0.8 X0").unwrap();
    let ideal = DensityMatrix::run(&NoisyCircuit::from_circuit(&c), &Bindings::none())
        .unwrap()
        .expectation(&obs)
        .unwrap();
    let f = |nc: &NoisyCircuit| DensityMatrix::run(nc, &Bindings::none())?.expectation(&obs);
    for folding in [Folding::Global, Folding::GatesAtRandom { seed: 3 }] {
        let r = zne(
            &noisy,
            &[1, 3, 5],
            folding,
            Extrapolation::Exponential { asymptote: 0.0 },
            f,
        )
        .unwrap();
        assert!(
            (r.value - ideal).abs() < 1e-10,
            "{folding:?}: {} vs {ideal}",
            r.value
        );
        assert!((r.values[0] - ideal * 0.95f64.powi(4)).abs() < 1e-12);
    }
    assert!(zne(&noisy, &[1, 2], Folding::Global, Extrapolation::Linear, f).is_err());
    assert!(fold_global(&noisy, 0).is_err());
    assert!(fold_gates_at_random(&noisy, f64::NAN, 0).is_err());
}

#[test]
fn zne_reduces_the_noisy_h2_energy_error_at_least_three_fold() {
    // The default noise of examples/noisy_vqe_h2.rs, at the noise-free optimum θ*.
    let h = h2_sto3g();
    let ansatz = h2_ansatz().unwrap();
    let mut model = NoiseModel::new();
    model
        .add_all_qubit_quantum_error(Channel::depolarizing2(0.01).unwrap(), &["cx"])
        .unwrap()
        .add_all_qubit_quantum_error(Channel::depolarizing(0.001).unwrap(), &["x"])
        .unwrap()
        .add_all_qubit_quantum_error(
            Channel::amplitude_damping(0.002).unwrap(),
            &["x", "cx", "c3-ry"],
        )
        .unwrap();
    let noisy = model.apply(&ansatz).unwrap();
    // θ* by golden-section search on the noise-free energy.
    let ideal = NoisyCircuit::from_circuit(&ansatz);
    let e0 = |t: f64| {
        DensityMatrix::run(&ideal, &Bindings::theta(&[t]))
            .unwrap()
            .expectation(&h)
            .unwrap()
    };
    let (mut a, mut b) = (-1.0f64, 1.0f64);
    for _ in 0..80 {
        let m1 = b - (b - a) * 0.618;
        let m2 = a + (b - a) * 0.618;
        if e0(m1) < e0(m2) {
            b = m2
        } else {
            a = m1
        }
    }
    let theta = [(a + b) / 2.0];
    assert!((e0(theta[0]) - H2_GROUND_STATE_ENERGY).abs() < 1e-5);
    let f = |nc: &NoisyCircuit| DensityMatrix::run(nc, &Bindings::theta(&theta))?.expectation(&h);
    let raw = f(&noisy).unwrap();
    let r = zne(
        &noisy,
        &[1, 3, 5],
        Folding::Global,
        Extrapolation::Richardson,
        f,
    )
    .unwrap();
    let (raw_err, zne_err) = (
        (raw - H2_GROUND_STATE_ENERGY).abs(),
        (r.value - H2_GROUND_STATE_ENERGY).abs(),
    );
    assert!(
        raw_err > 1e-2,
        "the default noise should matter: raw error {raw_err}"
    );
    assert!(
        raw_err / zne_err >= 3.0,
        "raw error {raw_err}, ZNE error {zne_err}"
    );
}
