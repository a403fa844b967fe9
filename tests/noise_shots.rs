//! Finite-shot expectations and parameter-shift gradients from samples against the exact
//! density matrix and its adjoint gradient: within 4 standard errors over many seeds, the
//! standard error shrinking like 1/√shots, readout errors included.

mod noise_util;

use noise_util::*;
use qshade::noise::{
    expectation_and_gradient, shot_expectation, shot_gradient, DensityMatrix, ReadoutError,
};
use qshade::{Bindings, Observable};
use rand::Rng;

#[test]
fn shot_expectations_agree_with_the_density_matrix() {
    let obs = Observable::parse("0.5 Z0 Z1 - 0.7 X1 + 0.3 Y0 X2 + 0.2").unwrap();
    for seed in 0..16u64 {
        let mut r = rng(700 + seed);
        let circuit = random_noisy_circuit(&mut r, 3, 12, 2);
        let theta: Vec<f64> = (0..2).map(|_| r.random_range(-3.0..3.0)).collect();
        let b = Bindings::theta(&theta);
        let exact = DensityMatrix::run(&circuit, &b)
            .unwrap()
            .expectation(&obs)
            .unwrap();
        let e = shot_expectation(&circuit, &b, &obs, 4000, seed).unwrap();
        assert!(
            (e.mean - exact).abs() <= 4.0 * e.std_error + 1e-12,
            "seed {seed}: {e:?} vs {exact}"
        );
        let big = shot_expectation(&circuit, &b, &obs, 64000, seed).unwrap();
        if e.std_error > 1e-6 {
            let ratio = e.std_error / big.std_error;
            assert!(
                (3.0..5.3).contains(&ratio),
                "seed {seed}: SE ratio {ratio} (want ~4)"
            );
        }
    }
}

#[test]
fn readout_errors_bias_shot_expectations_as_the_assignment_matrix_says() {
    let mut c = qshade::noise::NoisyCircuit::new(1).unwrap();
    c.gate(qshade::Gate::new(qshade::GateKind::RY(0.8.into()), &[0]))
        .unwrap();
    c.readout_error(ReadoutError::new(0.1, 0.25).unwrap(), 0)
        .unwrap();
    let b = Bindings::none();
    let p1 = (0.4f64).sin().powi(2);
    // Measured P(1) = 0.1·P(0) + 0.75·P(1).
    let m1 = 0.1 * (1.0 - p1) + 0.75 * p1;
    let want = 1.0 - 2.0 * m1;
    let e = shot_expectation(&c, &b, &Observable::z(0), 200_000, 3).unwrap();
    assert!(
        (e.mean - want).abs() <= 4.0 * e.std_error,
        "{e:?} vs {want}"
    );
    assert!(shot_expectation(&c, &b, &Observable::z(0), 0, 3).is_err());
}

#[test]
fn shot_gradients_agree_with_the_adjoint_gradient() {
    let obs = Observable::parse("Z0 + 0.5 X1 Z2").unwrap();
    for seed in 0..6u64 {
        let mut r = rng(800 + seed);
        let circuit = random_noisy_circuit(&mut r, 3, 10, 3);
        let theta: Vec<f64> = (0..3).map(|_| r.random_range(-3.0..3.0)).collect();
        let b = Bindings::theta(&theta);
        let (_, exact) = expectation_and_gradient(&circuit, &b, &obs).unwrap();
        let est = shot_gradient(&circuit, &b, &obs, 3000, seed).unwrap();
        for (k, (e, g)) in est.iter().zip(&exact).enumerate() {
            assert!(
                (e.mean - g).abs() <= 4.0 * e.std_error + 1e-12,
                "seed {seed} θ[{k}]: {e:?} vs {g}"
            );
        }
    }
}
