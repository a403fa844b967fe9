//! The noisy QNN of `examples/noisy_qnn.rs`: the density-matrix adjoint gradient it trains
//! with equals central finite differences of the noisy loss (1e-7), and with zero noise the
//! density-matrix loss and accuracy equal the batched state-vector trainer's (1e-10).

#[path = "../examples/common/noisy_qnn.rs"]
mod noisy_qnn;

use noisy_qnn::{dm_evaluate, dm_loss_and_gradient, model, moons, noisy_circuit, LOSS};
use qshade::qml::train::evaluate;
use qshade::{CpuBackend, Precision};

#[test]
fn density_matrix_loss_gradient_matches_finite_differences() {
    let (train, _) = moons().unwrap();
    let data = train.subset(&(0..8).collect::<Vec<_>>()).unwrap();
    let m = model(&train, 2, 1).unwrap();
    let noisy = noisy_circuit(&m, 0.01, 0.002).unwrap();
    let theta = m.theta().to_vec();
    let (loss, _, grad) = dm_loss_and_gradient(&m, &noisy, &theta, &data).unwrap();
    let (value, _) = dm_evaluate(&m, &noisy, &theta, &data).unwrap();
    assert!((loss - value).abs() < 1e-12, "{loss} vs {value}");
    let h = 1e-5;
    for k in 0..theta.len() {
        let at = |d: f64| {
            let mut t = theta.clone();
            t[k] += d;
            dm_evaluate(&m, &noisy, &t, &data).unwrap().0
        };
        let fd = (at(h) - at(-h)) / (2.0 * h);
        assert!(
            (grad[k] - fd).abs() < 1e-7,
            "θ[{k}]: adjoint {} vs finite differences {fd}",
            grad[k]
        );
    }
}

#[test]
fn zero_noise_density_matrix_loss_equals_state_vector_loss() {
    let (train, test) = moons().unwrap();
    let m = model(&train, 3, 1).unwrap();
    let silent = noisy_circuit(&m, 0.0, 0.0).unwrap();
    let backend = CpuBackend::with_precision(Precision::F64);
    for data in [&train, &test] {
        let sv = evaluate(&m, &backend, data, &LOSS).unwrap();
        let (loss, acc) = dm_evaluate(&m, &silent, m.theta(), data).unwrap();
        assert!((loss - sv.loss).abs() < 1e-10, "{loss} vs {}", sv.loss);
        assert_eq!(acc, sv.accuracy);
    }
}
