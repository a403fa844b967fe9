//! The density-matrix mode against an independent dense Kraus-sum reference on random noisy
//! circuits (1e-10), against analytic channel actions, and its adjoint gradients against
//! central finite differences (1e-7) for every channel kind.

mod noise_util;

use noise_util::*;
use qshade::noise::{expectation_and_gradient, Channel, DensityMatrix, NoisyCircuit};
use qshade::{Bindings, Complex64 as C64, Observable};
use rand::Rng;

fn random_observable(rng: &mut rand::rngs::StdRng, n: usize) -> Observable {
    let mut obs = Observable::default();
    for _ in 0..4 {
        let mut ops = Vec::new();
        for q in 0..n {
            match rng.random_range(0..4) {
                1 => ops.push((q, qshade::Pauli::X)),
                2 => ops.push((q, qshade::Pauli::Y)),
                3 => ops.push((q, qshade::Pauli::Z)),
                _ => {}
            }
        }
        obs.add_term(rng.random_range(-1.0..1.0), &ops).unwrap();
    }
    obs
}

#[test]
fn density_matrix_matches_kraus_sum_reference_on_random_noisy_circuits() {
    for seed in 0..24u64 {
        let mut rng = rng(seed);
        let n = 1 + (seed as usize % 4);
        let circuit = random_noisy_circuit(&mut rng, n, 14, 3);
        let theta: Vec<f64> = (0..3).map(|_| rng.random_range(-3.0..3.0)).collect();
        let b = Bindings::theta(&theta);
        let rho = DensityMatrix::run(&circuit, &b).unwrap();
        let reference = kraus_sum_reference(&circuit, &b);
        let d = 1usize << n;
        for r in 0..d {
            for c in 0..d {
                let got = rho.entry(r, c).unwrap();
                let want = reference[r * d + c];
                assert!(
                    (got - want).norm() < 1e-10,
                    "seed {seed} n {n}: rho[{r}][{c}] = {got} vs reference {want}"
                );
            }
        }
        assert!((rho.trace() - 1.0).abs() < 1e-10);
        // Tr(ρO) against the reference's Tr(ρO), computed on the dense matrix.
        let obs = random_observable(&mut rng, n);
        let mut want = 0.0;
        for term in &obs.terms {
            let mut p = vec![C64::new(1.0, 0.0)];
            let mut pq = Vec::new();
            for q in 0..n {
                let m = match term.ops.iter().find(|(qq, _)| *qq == q).map(|x| x.1) {
                    Some(qshade::Pauli::X) => [0.0, 1.0, 1.0, 0.0].map(|v| C64::new(v, 0.0)),
                    Some(qshade::Pauli::Y) => [
                        C64::new(0.0, 0.0),
                        C64::new(0.0, -1.0),
                        C64::new(0.0, 1.0),
                        C64::new(0.0, 0.0),
                    ],
                    Some(qshade::Pauli::Z) => [1.0, 0.0, 0.0, -1.0].map(|v| C64::new(v, 0.0)),
                    _ => [1.0, 0.0, 0.0, 1.0].map(|v| C64::new(v, 0.0)),
                };
                pq.push(full_matrix(n, &m, &[q], &[]));
            }
            for m in &pq {
                p = if p.len() == 1 {
                    m.clone()
                } else {
                    let mut out = vec![C64::new(0.0, 0.0); d * d];
                    for r in 0..d {
                        for j in 0..d {
                            for c in 0..d {
                                out[r * d + c] += p[r * d + j] * m[j * d + c];
                            }
                        }
                    }
                    out
                };
            }
            let tr: C64 = (0..d)
                .map(|r| {
                    (0..d)
                        .map(|j| reference[r * d + j] * p[j * d + r])
                        .sum::<C64>()
                })
                .sum();
            want += term.coeff * tr.re;
        }
        let got = rho.expectation(&obs).unwrap();
        assert!(
            (got - want).abs() < 1e-10,
            "seed {seed}: <O> {got} vs {want}"
        );
    }
}

/// A fixed, generic one-qubit state ρ (Bloch vector inside the ball) prepared by a circuit.
fn prepared(channel: Channel) -> (DensityMatrix, DensityMatrix) {
    let mut c = NoisyCircuit::new(1).unwrap();
    c.gate(qshade::Gate::new(qshade::GateKind::RY(0.7.into()), &[0]))
        .unwrap();
    c.gate(qshade::Gate::new(qshade::GateKind::RZ(0.4.into()), &[0]))
        .unwrap();
    let before = DensityMatrix::run(&c, &Bindings::none()).unwrap();
    c.channel(channel, &[0]).unwrap();
    (before, DensityMatrix::run(&c, &Bindings::none()).unwrap())
}

#[test]
fn channels_act_as_their_textbook_formulas() {
    let e = |m: &DensityMatrix, r, c| m.entry(r, c).unwrap();
    let (p, g) = (0.3, 0.25);
    // Depolarizing: ρ → (1 − p)ρ + p·I/2.
    let (b, a) = prepared(Channel::depolarizing(p).unwrap());
    for (r, c) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let want = e(&b, r, c) * (1.0 - p)
            + if r == c {
                C64::new(p / 2.0, 0.0)
            } else {
                C64::new(0.0, 0.0)
            };
        assert!(
            (e(&a, r, c) - want).norm() < 1e-12,
            "depolarizing [{r}][{c}]"
        );
    }
    // Bit flip: ρ → (1 − p)ρ + p·XρX.
    let (b, a) = prepared(Channel::bit_flip(p).unwrap());
    for (r, c) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let want = e(&b, r, c) * (1.0 - p) + e(&b, 1 - r, 1 - c) * p;
        assert!((e(&a, r, c) - want).norm() < 1e-12, "bit flip [{r}][{c}]");
    }
    // Phase flip: off-diagonals × (1 − 2p).
    let (b, a) = prepared(Channel::phase_flip(p).unwrap());
    assert!((e(&a, 0, 1) - e(&b, 0, 1) * (1.0 - 2.0 * p)).norm() < 1e-12);
    assert!((e(&a, 0, 0) - e(&b, 0, 0)).norm() < 1e-12);
    // Amplitude damping: ρ11 → (1 − γ)ρ11, ρ01 → √(1 − γ)ρ01.
    let (b, a) = prepared(Channel::amplitude_damping(g).unwrap());
    assert!((e(&a, 1, 1) - e(&b, 1, 1) * (1.0 - g)).norm() < 1e-12);
    assert!((e(&a, 0, 0) - e(&b, 0, 0) - e(&b, 1, 1) * g).norm() < 1e-12);
    assert!((e(&a, 0, 1) - e(&b, 0, 1) * (1.0 - g).sqrt()).norm() < 1e-12);
    // Phase damping: ρ01 → √(1 − λ)ρ01, populations kept.
    let (b, a) = prepared(Channel::phase_damping(g).unwrap());
    assert!((e(&a, 0, 1) - e(&b, 0, 1) * (1.0 - g).sqrt()).norm() < 1e-12);
    assert!((e(&a, 1, 1) - e(&b, 1, 1)).norm() < 1e-12);
    // Thermal relaxation: ρ11 × e^(−t/T1), ρ01 × e^(−t/T2).
    let (t1, t2, t) = (50.0, 70.0, 13.0);
    let (b, a) = prepared(Channel::thermal_relaxation(t1, t2, t).unwrap());
    assert!((e(&a, 1, 1) - e(&b, 1, 1) * (-t / t1).exp()).norm() < 1e-12);
    assert!((e(&a, 0, 1) - e(&b, 0, 1) * (-t / t2).exp()).norm() < 1e-12);
    // Pauli channel: Bloch components shrink: x by 1 − 2(py + pz), z by 1 − 2(px + py).
    let (px, py, pz) = (0.1, 0.05, 0.2);
    let (b, a) = prepared(Channel::pauli_channel(px, py, pz).unwrap());
    assert!((e(&a, 0, 1).re - e(&b, 0, 1).re * (1.0 - 2.0 * (py + pz))).abs() < 1e-12);
    let z = |m: &DensityMatrix| e(m, 0, 0).re - e(m, 1, 1).re;
    assert!((z(&a) - z(&b) * (1.0 - 2.0 * (px + py))).abs() < 1e-12);
}

#[test]
fn two_qubit_depolarizing_shrinks_every_pauli_expectation() {
    let mut c = NoisyCircuit::new(2).unwrap();
    c.gate(qshade::Gate::new(qshade::GateKind::RY(0.9.into()), &[0]))
        .unwrap();
    c.gate(qshade::Gate::controlled(qshade::GateKind::X, &[0], &[1]))
        .unwrap();
    c.gate(qshade::Gate::new(qshade::GateKind::RX(0.3.into()), &[1]))
        .unwrap();
    let before = DensityMatrix::run(&c, &Bindings::none()).unwrap();
    let p = 0.37;
    c.channel(Channel::depolarizing2(p).unwrap(), &[0, 1])
        .unwrap();
    let after = DensityMatrix::run(&c, &Bindings::none()).unwrap();
    for text in ["Z0 Z1", "X0 X1", "Y0 Z1", "Z0", "X1"] {
        let o = Observable::parse(text).unwrap();
        let (x, y) = (
            before.expectation(&o).unwrap(),
            after.expectation(&o).unwrap(),
        );
        assert!(
            (y - (1.0 - p) * x).abs() < 1e-12,
            "{text}: {y} vs (1 − p)·{x}"
        );
    }
}

#[test]
fn adjoint_gradients_equal_finite_differences_for_every_channel_kind() {
    for kind in 0..CHANNEL_KINDS {
        for seed in 0..3u64 {
            let mut rng = rng(1000 + 10 * kind as u64 + seed);
            let n = 3;
            // Random gates, then this channel kind after every gate.
            let base = random_noisy_circuit(&mut rng, n, 10, 4);
            let mut circuit = NoisyCircuit::new(n).unwrap();
            circuit.declare_params(4);
            for g in base.circuit().gates() {
                circuit.gate(g.clone()).unwrap();
                let ch = random_channel(&mut rng, kind);
                let qubits: Vec<usize> = g.controls.iter().chain(&g.targets).copied().collect();
                if ch.num_qubits() == 2 {
                    let other = (qubits[0] + 1) % n;
                    circuit.channel(ch, &[qubits[0], other]).unwrap();
                } else {
                    circuit.channel(ch, &[qubits[0]]).unwrap();
                }
            }
            let theta: Vec<f64> = (0..4).map(|_| rng.random_range(-3.0..3.0)).collect();
            let obs = random_observable(&mut rng, n);
            let (value, grad) =
                expectation_and_gradient(&circuit, &Bindings::theta(&theta), &obs).unwrap();
            let direct = DensityMatrix::run(&circuit, &Bindings::theta(&theta))
                .unwrap()
                .expectation(&obs)
                .unwrap();
            assert!((value - direct).abs() < 1e-12);
            let h = 1e-5;
            for k in 0..theta.len() {
                let f = |delta: f64| {
                    let mut t = theta.clone();
                    t[k] += delta;
                    DensityMatrix::run(&circuit, &Bindings::theta(&t))
                        .unwrap()
                        .expectation(&obs)
                        .unwrap()
                };
                let fd = (f(h) - f(-h)) / (2.0 * h);
                assert!(
                    (grad[k] - fd).abs() < 1e-7,
                    "channel kind {kind} seed {seed}: dE/dθ[{k}] adjoint {} vs finite difference {fd}",
                    grad[k]
                );
            }
        }
    }
}
