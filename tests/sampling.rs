//! Sampling: a chi-square goodness-of-fit test of 10⁵ seeded samples against the reference
//! probabilities on every backend, with negative controls showing the test rejects wrong
//! samplers; reproducibility for a fixed seed.

mod common;

use common::*;
use qshade::{Bindings, Circuit, QuantumState};

const SHOTS: usize = 100_000;

/// Pearson's χ² of `samples` against `probs`, merging bins with expected count < 5 (in
/// index order, into the next bin until the merged bin reaches 5; a short tail joins the last
/// full bin). Returns (χ², degrees of freedom = merged bins − 1).
fn chi_square(samples: &[u64], probs: &[f64]) -> (f64, usize) {
    let mut counts = vec![0u64; probs.len()];
    for &s in samples {
        assert!(
            (s as usize) < probs.len(),
            "sample {s} out of range 0..{}",
            probs.len()
        );
        counts[s as usize] += 1;
    }
    let shots = samples.len() as f64;
    let mut bins: Vec<(f64, f64)> = Vec::new(); // (expected, observed)
    let (mut e, mut o) = (0.0, 0.0);
    for (p, c) in probs.iter().zip(&counts) {
        e += p * shots;
        o += *c as f64;
        if e >= 5.0 {
            bins.push((e, o));
            (e, o) = (0.0, 0.0);
        }
    }
    if e > 0.0 || o > 0.0 {
        match bins.last_mut() {
            Some(last) => {
                last.0 += e;
                last.1 += o;
            }
            None => bins.push((e, o)),
        }
    }
    let chi2 = bins.iter().map(|(e, o)| (o - e) * (o - e) / e).sum();
    (chi2, bins.len().saturating_sub(1))
}

/// Upper critical value of χ² with `df` degrees of freedom at p = 10⁻⁴, by the Wilson–Hilferty
/// approximation χ²_p ≈ df·(1 − 2/(9df) + z·√(2/(9df)))³ with z = 3.719 (the normal 1 − 10⁻⁴
/// quantile). Against the exact values (regularised incomplete gamma) it errs high by < 0.5 %
/// for df ≥ 10: df = 63 → 113.65 (exact 113.50), df = 60 → 109.66 (exact 109.50).
fn chi_square_critical_1e4(df: usize) -> f64 {
    let z = 3.719_016_485_455_709;
    let k = df as f64;
    let h = 2.0 / (9.0 * k);
    k * (1.0 - h + z * h.sqrt()).powi(3)
}

#[test]
fn critical_value_matches_the_table() {
    assert!((chi_square_critical_1e4(63) - 113.50).abs() < 0.5);
    assert!((chi_square_critical_1e4(30) - 67.63).abs() < 0.5);
    assert!((chi_square_critical_1e4(10) - 35.56).abs() < 0.5);
}

/// A random 6-qubit state (64 outcomes), and the same state with a few tiny and zero
/// probabilities, so bin merging and zero-probability outcomes are exercised.
fn test_states() -> Vec<(String, Vec<qshade::Complex64>)> {
    let generic = random_state(6, 4242);
    let mut skewed = random_state(6, 4343);
    for k in [3usize, 17, 40] {
        skewed[k] = qshade::Complex64::ZERO; // never sampled
    }
    for k in [5usize, 22, 23, 61] {
        skewed[k] *= 0.01; // expected count ≪ 5: merged
    }
    let norm = skewed.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    skewed.iter_mut().for_each(|a| *a /= norm);
    vec![
        ("random 6-qubit state (seed 4242)".into(), generic),
        (
            "skewed 6-qubit state (seed 4343, 3 zeros, 4 tiny)".into(),
            skewed,
        ),
    ]
}

#[test]
fn samples_fit_the_reference_distribution_on_every_backend() {
    // H0: the samples are i.i.d. from the reference probabilities. Rejected at p = 10⁻⁴ when
    // χ² > critical value (≈ 113.5 for the 63 degrees of freedom of 64 unmerged bins). The seed
    // is fixed, so the outcome is deterministic: a correct sampler passes with probability
    // 1 − 10⁻⁴ over the choice of seed, a wrong one fails (see the negative controls).
    for (what, amps) in test_states() {
        let reference = cpu().state_from_amplitudes(&amps).unwrap();
        let probs = reference.probabilities().unwrap();
        for (name, backend) in all_backends() {
            let state = backend.state_from_amplitudes(&amps).unwrap();
            for seed in [1u64, 77] {
                let samples = state.sample(SHOTS, seed).unwrap();
                assert_eq!(samples.len(), SHOTS, "{what} on {name}: number of samples");
                let (chi2, df) = chi_square(&samples, &probs);
                let crit = chi_square_critical_1e4(df);
                eprintln!(
                    "{what} on {name}, seed {seed}: χ² = {chi2:.1} (df {df}, critical {crit:.1})"
                );
                assert!(chi2 < crit, "{what} on {name}, seed {seed}: χ² = {chi2:.1} ≥ {crit:.1} (df {df}): samples do not follow |ψ|²");
                for zero in [3u64, 17, 40] {
                    if probs[zero as usize] == 0.0 {
                        assert!(
                            !samples.contains(&zero),
                            "{what} on {name}: sampled outcome {zero} of probability 0"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn chi_square_rejects_wrong_samplers() {
    // Negative controls: samples that are valid draws of a *different* distribution must give
    // χ² far above the bound. Each mimics a plausible sampler bug.
    let amps = random_state(6, 4242);
    let reference = cpu().state_from_amplitudes(&amps).unwrap();
    let probs = reference.probabilities().unwrap();
    let good = reference.sample(SHOTS, 1).unwrap();
    let (chi2_good, df) = chi_square(&good, &probs);
    let crit = chi_square_critical_1e4(df);
    assert!(
        chi2_good < crit,
        "the reference sampler itself: χ² = {chi2_good:.1}"
    );

    let reverse6 = |k: u64| (0..6).fold(0u64, |acc, b| acc | (((k >> b) & 1) << (5 - b)));
    let other_state = cpu()
        .state_from_amplitudes(&random_state(6, 999))
        .unwrap()
        .sample(SHOTS, 1)
        .unwrap();
    // Probabilities read from a state one gate behind: ψ without a final H on qubit 5.
    let mut h5 = Circuit::new(6).unwrap();
    h5.h(5).unwrap();
    let mut stale = cpu().state_from_amplitudes(&amps).unwrap();
    stale.apply(&h5, &Bindings::none()).unwrap();
    let wrong: Vec<(&str, Vec<u64>)> = vec![
        (
            "qubit order reversed",
            good.iter().map(|&k| reverse6(k)).collect(),
        ),
        (
            "off by one in the CDF search",
            good.iter().map(|&k| (k + 1) % 64).collect(),
        ),
        (
            "uniform over outcomes",
            (0..SHOTS as u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
                .collect(),
        ),
        ("another state", other_state),
        ("a state one gate behind", stale.sample(SHOTS, 1).unwrap()),
        (
            "the top qubit stuck at 0",
            good.iter().map(|&k| k & 31).collect(),
        ),
    ];
    for (what, samples) in wrong {
        let (chi2, df) = chi_square(&samples, &probs);
        let crit = chi_square_critical_1e4(df);
        eprintln!("negative control {what}: χ² = {chi2:.0} (critical {crit:.1})");
        assert!(
            chi2 > 5.0 * crit,
            "negative control '{what}': χ² = {chi2:.1} is not far above {crit:.1}"
        );
    }
    // A subtle bug: one shot in 20 drawn with the qubit order reversed (e.g. a race in one
    // workgroup). Still rejected.
    let subtle: Vec<u64> = good
        .iter()
        .enumerate()
        .map(|(i, &k)| if i % 20 == 0 { reverse6(k) } else { k })
        .collect();
    let (chi2, df) = chi_square(&subtle, &probs);
    let crit = chi_square_critical_1e4(df);
    eprintln!("negative control 5% reversed: χ² = {chi2:.0} (critical {crit:.1})");
    assert!(
        chi2 > crit,
        "negative control '5% of shots reversed': χ² = {chi2:.1} ≤ {crit:.1}"
    );
}

#[test]
fn same_seed_same_samples_and_other_seed_other_samples() {
    let amps = random_state(6, 31);
    for (name, backend) in all_backends() {
        let state = backend.state_from_amplitudes(&amps).unwrap();
        let a = state.sample(5_000, 123).unwrap();
        let b = state.sample(5_000, 123).unwrap();
        assert_eq!(a, b, "{name}: same seed must give the same samples");
        // The same seed on a new state object with the same amplitudes, too.
        let again = backend
            .state_from_amplitudes(&amps)
            .unwrap()
            .sample(5_000, 123)
            .unwrap();
        assert_eq!(
            a, again,
            "{name}: same seed on an equal state must give the same samples"
        );
        let c = state.sample(5_000, 124).unwrap();
        assert_ne!(a, c, "{name}: another seed must give other samples");
        // A prefix property is not promised, but the count is.
        assert_eq!(state.sample(1, 123).unwrap().len(), 1, "{name}");
    }
}

#[test]
fn sampling_basis_states_and_a_bell_state() {
    for (name, backend) in all_backends() {
        for (n, k) in [(1usize, 1usize), (3, 5), (6, 40), (9, 300)] {
            let state = backend.state_from_amplitudes(&basis_state(n, k)).unwrap();
            let samples = state.sample(2_000, 9).unwrap();
            assert!(
                samples.iter().all(|&s| s == k as u64),
                "{name}: sampling |{k}⟩ on {n} qubits gave {:?}",
                &samples[..10]
            );
        }
        let mut bell = Circuit::new(2).unwrap();
        bell.h(0).unwrap().cnot(0, 1).unwrap();
        let state = backend.run(&bell, &Bindings::none()).unwrap();
        let samples = state.sample(20_000, 5).unwrap();
        assert!(
            samples.iter().all(|&s| s == 0 || s == 3),
            "{name}: Bell samples outside {{0, 3}}"
        );
        let ones = samples.iter().filter(|&&s| s == 3).count() as f64;
        // Binomial(20000, 1/2): sd ≈ 70.7; 5 sd ≈ 354.
        assert!(
            (ones - 10_000.0).abs() < 354.0,
            "{name}: {ones} of 20000 Bell samples were |11⟩"
        );
    }
}

#[test]
fn samples_of_a_circuit_state_fit_on_every_backend() {
    // The state produced on the device (not uploaded) is sampled: 8 qubits after a random
    // circuit, 10⁵ shots, bins merged as needed.
    let (circuit, theta, x) = random_circuit(8, 80, 8080);
    let b = Bindings::new(&theta, &x);
    let probs = cpu().run(&circuit, &b).unwrap().probabilities().unwrap();
    for (name, backend) in all_backends() {
        let state: Box<dyn QuantumState> = backend.run(&circuit, &b).unwrap();
        let samples = state.sample(SHOTS, 2).unwrap();
        let (chi2, df) = chi_square(&samples, &probs);
        let crit = chi_square_critical_1e4(df);
        eprintln!(
            "random_circuit(8, 80, 8080) on {name}: χ² = {chi2:.1} (df {df}, critical {crit:.1})"
        );
        assert!(
            chi2 < crit,
            "random_circuit(8, 80, 8080) on {name}: χ² = {chi2:.1} ≥ {crit:.1} (df {df})"
        );
    }
}
