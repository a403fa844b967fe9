//! Monte-Carlo trajectories against the exact density matrix: |mean − exact| within 4
//! standard errors over many seeds and circuits, the error shrinking like 1/√T, and seeded
//! reproducibility.

mod noise_util;

use noise_util::*;
use qshade::noise::{trajectory_expectations, DensityMatrix, TrajectoryConfig};
use qshade::{Bindings, Observable, Precision};
use rand::Rng;

fn observables() -> Vec<Observable> {
    ["Z0", "X0 Z1", "Y1 Y2 + 0.5 Z2", "Z0 Z1 Z2"]
        .iter()
        .map(|t| Observable::parse(t).unwrap())
        .collect()
}

#[test]
fn trajectory_means_agree_with_the_density_matrix_within_four_standard_errors() {
    means_agree_within_four_standard_errors(Precision::F64);
}

#[test]
fn f32_trajectory_means_agree_with_the_density_matrix_within_four_standard_errors() {
    means_agree_within_four_standard_errors(Precision::F32);
}

fn means_agree_within_four_standard_errors(precision: Precision) {
    let obs = observables();
    let mut checked = 0;
    for seed in 0..30u64 {
        let mut rng = rng(500 + seed);
        let circuit = random_noisy_circuit(&mut rng, 3, 16, 3);
        let theta: Vec<f64> = (0..3).map(|_| rng.random_range(-3.0..3.0)).collect();
        let b = Bindings::theta(&theta);
        let exact = DensityMatrix::run(&circuit, &b).unwrap();
        let config = TrajectoryConfig::default()
            .trajectories(2000)
            .seed(seed)
            .precision(precision);
        let est = trajectory_expectations(&circuit, &b, &obs, &config).unwrap();
        for (o, e) in obs.iter().zip(&est) {
            let want = exact.expectation(o).unwrap();
            // A zero standard error means every trajectory gave the same value: then exact.
            let tol = (4.0 * e.std_error).max(1e-9);
            assert!(
                (e.mean - want).abs() <= tol,
                "seed {seed}: mean {} ± {} vs exact {want}",
                e.mean,
                e.std_error
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 120);
}

#[test]
fn trajectory_error_shrinks_like_one_over_sqrt_t() {
    error_shrinks_like_one_over_sqrt_t(Precision::F64);
}

#[test]
fn f32_trajectory_error_shrinks_like_one_over_sqrt_t() {
    error_shrinks_like_one_over_sqrt_t(Precision::F32);
}

fn error_shrinks_like_one_over_sqrt_t(precision: Precision) {
    let mut rng = rng(77);
    let circuit = random_noisy_circuit(&mut rng, 3, 20, 2);
    let b = Bindings::theta(&[0.4, -1.1]);
    let obs = [Observable::parse("Z0 + Z1 + X2").unwrap()];
    let exact = DensityMatrix::run(&circuit, &b)
        .unwrap()
        .expectation(&obs[0])
        .unwrap();
    let rms = |t: usize| -> (f64, f64) {
        let runs = 40;
        let mut sq = 0.0;
        let mut se = 0.0;
        for s in 0..runs {
            let c = TrajectoryConfig::default()
                .trajectories(t)
                .seed(9000 + s)
                .precision(precision);
            let e = trajectory_expectations(&circuit, &b, &obs, &c).unwrap()[0];
            sq += (e.mean - exact).powi(2);
            se += e.std_error;
        }
        ((sq / runs as f64).sqrt(), se / runs as f64)
    };
    let (rms_small, se_small) = rms(100);
    let (rms_large, se_large) = rms(1600);
    // 16× the trajectories: 4× smaller error. The RMS over 40 runs is itself uncertain by
    // ~11 %, so allow [2.5, 6.4]; the mean standard error is much tighter.
    let ratio = rms_small / rms_large;
    assert!(
        (2.5..6.4).contains(&ratio),
        "RMS error ratio {ratio} (want ~4)"
    );
    let se_ratio = se_small / se_large;
    assert!(
        (3.6..4.4).contains(&se_ratio),
        "standard error ratio {se_ratio} (want ~4)"
    );
}

#[test]
fn trajectories_are_reproducible_by_seed_and_checked() {
    let mut rng = rng(3);
    let circuit = random_noisy_circuit(&mut rng, 2, 10, 1);
    let b = Bindings::theta(&[0.3]);
    let obs = [Observable::parse("Z0").unwrap()];
    let c = TrajectoryConfig::default().trajectories(300).seed(5);
    let a = trajectory_expectations(&circuit, &b, &obs, &c).unwrap();
    assert_eq!(a, trajectory_expectations(&circuit, &b, &obs, &c).unwrap());
    assert!(trajectory_expectations(&circuit, &b, &obs, &c.clone().trajectories(0)).is_err());
    assert!(trajectory_expectations(&circuit, &b, &[], &c).is_err());
    assert!(
        trajectory_expectations(&circuit, &b, &[Observable::parse("Z5").unwrap()], &c).is_err()
    );
    assert!(trajectory_expectations(&circuit, &Bindings::none(), &obs, &c).is_err());
}

#[test]
fn trajectory_estimates_do_not_depend_on_the_thread_count() {
    let mut rng = rng(41);
    let circuit = random_noisy_circuit(&mut rng, 4, 30, 2);
    let b = Bindings::theta(&[0.9, -0.4]);
    let obs = observables();
    for precision in [Precision::F64, Precision::F32] {
        let c = TrajectoryConfig::default()
            .trajectories(1000)
            .seed(8)
            .precision(precision);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| trajectory_expectations(&circuit, &b, &obs, &c).unwrap())
        };
        // Bit for bit: every trajectory's stream and the merge order are fixed.
        assert_eq!(run(1), run(3), "{precision:?}");
    }
}
