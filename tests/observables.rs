//! Pauli-sum expectations, probabilities and marginals on every backend: analytic values on
//! Bell, GHZ and rotated states, a Hamiltonian with a constant term, and random Pauli strings
//! on random states compared with the CPU reference.

mod common;

use common::rng::Rng;
use common::*;
use qshade::{
    Angle, Backend, Bindings, Circuit, Observable, Pauli, PauliTerm, Precision, QuantumState,
};
use std::f64::consts::PI;

/// Tolerance for an expectation of an observable with Σ|c| = `l1` on a state `depth` gates deep.
fn tol(backend: &dyn Backend, n: usize, depth: usize, l1: f64) -> f64 {
    expectation_tolerance(backend.precision(), n, depth, l1)
}

fn obs(text: &str) -> Observable {
    Observable::parse(text).unwrap_or_else(|e| panic!("parse {text:?}: {e}"))
}

fn bell() -> Circuit {
    let mut c = Circuit::new(2).unwrap();
    c.h(0).unwrap().cnot(0, 1).unwrap();
    c
}

fn ghz(n: usize) -> Circuit {
    let mut c = Circuit::new(n).unwrap();
    c.h(0).unwrap();
    for q in 1..n {
        c.cnot(q - 1, q).unwrap();
    }
    c
}

fn l1(o: &Observable) -> f64 {
    o.terms.iter().map(|t| t.coeff.abs()).sum()
}

#[test]
fn bell_state_correlations() {
    let cases = [
        ("Z0 Z1", 1.0),
        ("X0 X1", 1.0),
        ("Y0 Y1", -1.0),
        ("Z0", 0.0),
        ("Z1", 0.0),
        ("X0", 0.0),
        ("Y1", 0.0),
        ("X0 Z1", 0.0),
        ("Z0 Y1", 0.0),
    ];
    for (name, backend) in all_backends() {
        let state = backend.run(&bell(), &Bindings::none()).unwrap();
        for (text, value) in cases {
            let got = state.expectation(&obs(text)).unwrap();
            assert_close(
                value,
                got,
                tol(backend.as_ref(), 2, 2, 1.0),
                &format!("Bell ⟨{text}⟩ on {name}"),
            );
        }
        // The batch call agrees with one-by-one calls.
        let list: Vec<Observable> = cases.iter().map(|(t, _)| obs(t)).collect();
        let batch = state.expectations(&list).unwrap();
        assert_eq!(batch.len(), cases.len(), "{name}");
        for ((text, value), got) in cases.iter().zip(batch) {
            assert_close(
                *value,
                got,
                tol(backend.as_ref(), 2, 2, 1.0),
                &format!("Bell batch ⟨{text}⟩ on {name}"),
            );
        }
    }
}

#[test]
fn ghz_correlations() {
    // GHZ(n) = (|0…0⟩ + |1…1⟩)/√2: ⟨Z0 Zk⟩ = 1, ⟨Z0⟩ = 0, and for a string of X and Y on every
    // qubit with m Y's, ⟨P⟩ = Re(i^m) (so ⟨X^⊗n⟩ = 1, two Y's give −1).
    for n in [2usize, 3, 4, 6, 9] {
        let circuit = ghz(n);
        for (name, backend) in all_backends() {
            let state = backend.run(&circuit, &Bindings::none()).unwrap();
            let t = tol(backend.as_ref(), n, n, 1.0);
            let ctx = |what: &str| format!("GHZ({n}) ⟨{what}⟩ on {name}");
            for k in 1..n {
                let text = format!("Z0 Z{k}");
                assert_close(1.0, state.expectation(&obs(&text)).unwrap(), t, &ctx(&text));
            }
            assert_close(
                0.0,
                state.expectation(&Observable::z(n - 1)).unwrap(),
                t,
                &ctx("Z_last"),
            );
            let all_x: Vec<(usize, Pauli)> = (0..n).map(|q| (q, Pauli::X)).collect();
            let o = Observable {
                terms: vec![PauliTerm::new(1.0, &all_x).unwrap()],
            };
            assert_close(1.0, state.expectation(&o).unwrap(), t, &ctx("X^⊗n"));
            for m in 1..=n {
                let ops: Vec<(usize, Pauli)> = (0..n)
                    .map(|q| (q, if q < m { Pauli::Y } else { Pauli::X }))
                    .collect();
                let o = Observable {
                    terms: vec![PauliTerm::new(1.0, &ops).unwrap()],
                };
                let expected = [1.0, 0.0, -1.0, 0.0][m % 4];
                assert_close(
                    expected,
                    state.expectation(&o).unwrap(),
                    t,
                    &ctx(&format!("{m} Y's, rest X")),
                );
            }
            // Probabilities: half on |0…0⟩, half on |1…1⟩.
            let p = state.probabilities().unwrap();
            assert_close(0.5, p[0], t, &ctx("P(0…0)"));
            assert_close(0.5, p[(1 << n) - 1], t, &ctx("P(1…1)"));
        }
    }
}

#[test]
fn ry_rotation_expectations() {
    // RY(θ)|0⟩ = cos(θ/2)|0⟩ + sin(θ/2)|1⟩: ⟨Z⟩ = cos θ, ⟨X⟩ = sin θ, ⟨Y⟩ = 0.
    // On the last qubit of a 5-qubit register too, with θ bound as a parameter.
    for theta in [0.0, 0.4, PI / 2.0, 2.5, PI, -1.2, 5.9] {
        for (n, q) in [(1usize, 0usize), (5, 4), (5, 2)] {
            let mut c = Circuit::new(n).unwrap();
            c.ry(q, Angle::theta(0)).unwrap();
            for (name, backend) in all_backends() {
                let state = backend.run(&c, &Bindings::theta(&[theta])).unwrap();
                let t = tol(backend.as_ref(), n, 1, 1.0);
                let ctx = |w: &str| format!("RY({theta}) on qubit {q} of {n}: ⟨{w}⟩ on {name}");
                assert_close(
                    theta.cos(),
                    state.expectation(&Observable::z(q)).unwrap(),
                    t,
                    &ctx("Z"),
                );
                assert_close(
                    theta.sin(),
                    state.expectation(&Observable::x(q)).unwrap(),
                    t,
                    &ctx("X"),
                );
                assert_close(
                    0.0,
                    state.expectation(&Observable::y(q)).unwrap(),
                    t,
                    &ctx("Y"),
                );
            }
        }
    }
}

#[test]
fn rx_rotation_gives_minus_sine_in_y() {
    // RX(θ)|0⟩: ⟨Z⟩ = cos θ, ⟨Y⟩ = −sin θ, ⟨X⟩ = 0 (checks the sign convention of Y).
    for theta in [0.3, 1.9, -2.2] {
        let mut c = Circuit::new(3).unwrap();
        c.rx(1, theta).unwrap();
        for (name, backend) in all_backends() {
            let state = backend.run(&c, &Bindings::none()).unwrap();
            let t = tol(backend.as_ref(), 3, 1, 1.0);
            assert_close(
                -theta.sin(),
                state.expectation(&Observable::y(1)).unwrap(),
                t,
                &format!("RX({theta}) ⟨Y1⟩ on {name}"),
            );
            assert_close(
                theta.cos(),
                state.expectation(&Observable::z(1)).unwrap(),
                t,
                &format!("RX({theta}) ⟨Z1⟩ on {name}"),
            );
            assert_close(
                0.0,
                state.expectation(&Observable::x(1)).unwrap(),
                t,
                &format!("RX({theta}) ⟨X1⟩ on {name}"),
            );
        }
    }
}

#[test]
fn hamiltonian_with_a_constant_term() {
    let h = obs("0.5 Z0 Z1 - 0.25 X0 + 1.0");
    let coeffs: Vec<f64> = h.terms.iter().map(|t| t.coeff).collect();
    assert_eq!(coeffs, [0.5, -0.25, 1.0]);
    assert!(
        h.terms[2].ops.is_empty(),
        "the constant term has no Pauli factors"
    );
    // Same as building it by hand.
    let mut by_hand = Observable::default();
    by_hand
        .add_term(0.5, &[(0, Pauli::Z), (1, Pauli::Z)])
        .unwrap()
        .add_term(-0.25, &[(0, Pauli::X)])
        .unwrap();
    by_hand.terms.extend(Observable::constant(1.0).terms);
    assert_eq!(h, by_hand);

    for (name, backend) in all_backends() {
        // Bell: 0.5·1 − 0.25·0 + 1 = 1.5.
        let state = backend.run(&bell(), &Bindings::none()).unwrap();
        assert_close(
            1.5,
            state.expectation(&h).unwrap(),
            tol(backend.as_ref(), 2, 2, l1(&h)),
            &format!("Bell ⟨H⟩ on {name}"),
        );
        // |+⟩|0⟩: ⟨Z0 Z1⟩ = 0, ⟨X0⟩ = 1 → 0.75.
        let mut plus = Circuit::new(2).unwrap();
        plus.h(0).unwrap();
        let state = backend.run(&plus, &Bindings::none()).unwrap();
        assert_close(
            0.75,
            state.expectation(&h).unwrap(),
            tol(backend.as_ref(), 2, 1, l1(&h)),
            &format!("|+0⟩ ⟨H⟩ on {name}"),
        );
        // A constant alone is its value on any state.
        let state = backend.state_from_amplitudes(&random_state(4, 5)).unwrap();
        assert_close(
            -2.5,
            state.expectation(&Observable::constant(-2.5)).unwrap(),
            tol(backend.as_ref(), 4, 0, 2.5),
            &format!("constant on {name}"),
        );
        // An empty list gives an empty result (as the CPU's default `expectations` does).
        assert_eq!(
            state.expectations(&[]).unwrap(),
            Vec::<f64>::new(),
            "expectations(&[]) on {name}"
        );
        // An observable without terms is 0.
        assert_close(
            0.0,
            state.expectation(&Observable::default()).unwrap(),
            tol(backend.as_ref(), 4, 0, 1.0),
            &format!("empty sum on {name}"),
        );
    }
}

/// A random Pauli sum on `n` qubits: `terms` strings with random X/Y/Z/identity factors
/// (at least one factor each) and random coefficients, plus a constant.
fn random_observable(n: usize, terms: usize, rng: &mut Rng) -> Observable {
    let mut o = Observable::default();
    for _ in 0..terms {
        let mut ops = Vec::new();
        for q in 0..n {
            match rng.below(4) {
                0 => ops.push((q, Pauli::X)),
                1 => ops.push((q, Pauli::Y)),
                2 => ops.push((q, Pauli::Z)),
                _ => {}
            }
        }
        if ops.is_empty() {
            ops.push((rng.below(n), [Pauli::X, Pauli::Y, Pauli::Z][rng.below(3)]));
        }
        o.add_term(rng.range(-2.0, 2.0), &ops).unwrap();
    }
    o.add_term(rng.range(-1.0, 1.0), &[]).unwrap();
    o
}

#[test]
fn random_pauli_sums_on_random_states() {
    let mut rng = Rng::new(2024);
    let mut failures = Failures::default();
    let backends = all_backends();
    for n in [1usize, 2, 3, 5, 6, 9, 12] {
        let input = random_state(n, 300 + n as u64);
        let reference = cpu().state_from_amplitudes(&input).unwrap();
        let observables: Vec<Observable> = (0..6)
            .map(|_| random_observable(n, 1 + rng.below(5), &mut rng))
            .collect();
        // Also single strings with every Pauli on every qubit, to pin each factor's position.
        let mut singles = Vec::new();
        for q in 0..n {
            for p in [Pauli::X, Pauli::Y, Pauli::Z] {
                singles.push(Observable {
                    terms: vec![PauliTerm::new(1.0, &[(q, p)]).unwrap()],
                });
            }
        }
        let all: Vec<Observable> = observables.into_iter().chain(singles).collect();
        let expected: Vec<f64> = all
            .iter()
            .map(|o| reference.expectation(o).unwrap())
            .collect();
        for (name, backend) in &backends {
            let state = backend.state_from_amplitudes(&input).unwrap();
            let batch = state.expectations(&all);
            for (i, o) in all.iter().enumerate() {
                let t = tol(backend.as_ref(), n, 0, l1(o));
                let ctx = format!("n={n} observable #{i} {:?} on {name}", o.terms);
                let check = |got: qshade::Result<f64>, how: &str| match got {
                    Ok(v) if (v - expected[i]).abs() <= t => None,
                    Ok(v) => Some(format!(
                        "{ctx} ({how}): expected {:.12}, got {v:.12}, tol {t:.1e}",
                        expected[i]
                    )),
                    Err(e) => Some(format!("{ctx} ({how}): error {e}")),
                };
                failures.check(check(state.expectation(o), "expectation"));
                failures.check(check(batch.clone().map(|b| b[i]), "expectations"));
            }
        }
    }
    failures.finish("random Pauli sums");
}

#[test]
fn random_observables_distinguish_qubits_and_paulis() {
    // Guards the test above: on a random state, moving a factor to another qubit or changing
    // its Pauli changes the value well beyond the tolerance, so the comparison is sensitive.
    let state = cpu().state_from_amplitudes(&random_state(6, 8)).unwrap();
    let value = |ops: &[(usize, Pauli)]| {
        state
            .expectation(&Observable {
                terms: vec![PauliTerm::new(1.0, ops).unwrap()],
            })
            .unwrap()
    };
    let base = value(&[(1, Pauli::X), (4, Pauli::Y)]);
    for other in [
        [(2, Pauli::X), (4, Pauli::Y)],
        [(1, Pauli::Y), (4, Pauli::Y)],
        [(1, Pauli::X), (4, Pauli::X)],
        [(1, Pauli::X), (5, Pauli::Y)],
    ] {
        assert!(
            (value(&other) - base).abs() > 1e-3,
            "{other:?} vs X1 Y4: {} vs {base}",
            value(&other)
        );
    }
}

fn check_probabilities(
    state: &dyn QuantumState,
    reference: &dyn QuantumState,
    precision: Precision,
    depth: usize,
    ctx: &str,
) {
    let n = reference.num_qubits();
    let expected = reference.probabilities().unwrap();
    let got = state.probabilities().unwrap();
    assert_eq!(got.len(), expected.len(), "{ctx}");
    // |p + δp − p| ≤ 2|a||δa| + |δa|² ≤ 3·tol for |a| ≤ 1.
    let t = 3.0 * tolerance(precision, depth);
    for (k, (e, g)) in expected.iter().zip(&got).enumerate() {
        assert!((e - g).abs() <= t, "{ctx}: P({k}) expected {e}, got {g}");
    }
    let total: f64 = got.iter().sum();
    assert_close(
        1.0,
        total,
        expectation_tolerance(precision, n, depth, 1.0),
        &format!("{ctx}: Σ probabilities"),
    );

    let subsets: Vec<Vec<usize>> = vec![
        vec![0],
        vec![n - 1],
        vec![n - 1, 0],
        (0..n).collect(),
        (0..n).rev().collect(),
        (0..n).step_by(2).collect(),
        (1..n).step_by(2).rev().collect(),
        vec![],
    ];
    for qubits in subsets {
        if qubits.iter().any(|&q| q >= n) || (qubits.len() == 2 && qubits[0] == qubits[1]) {
            continue;
        }
        let expected = reference.marginal_probabilities(&qubits).unwrap();
        let got = state
            .marginal_probabilities(&qubits)
            .unwrap_or_else(|e| panic!("{ctx}: marginal {qubits:?}: {e}"));
        assert_eq!(
            got.len(),
            1 << qubits.len(),
            "{ctx}: marginal {qubits:?} length"
        );
        let t = expectation_tolerance(precision, n, depth, 1.0);
        for (k, (e, g)) in expected.iter().zip(&got).enumerate() {
            assert!(
                (e - g).abs() <= t,
                "{ctx}: marginal {qubits:?} entry {k}: expected {e}, got {g}, tol {t:.1e}"
            );
        }
        assert_close(
            1.0,
            got.iter().sum(),
            t,
            &format!("{ctx}: marginal {qubits:?} sums to 1"),
        );
    }
}

#[test]
fn probabilities_and_marginals_match_the_reference() {
    for n in [1usize, 2, 4, 6, 10] {
        let input = random_state(n, 500 + n as u64);
        let reference = cpu().state_from_amplitudes(&input).unwrap();
        for (name, backend) in all_backends() {
            let state = backend.state_from_amplitudes(&input).unwrap();
            check_probabilities(
                state.as_ref(),
                reference.as_ref(),
                backend.precision(),
                0,
                &format!("random state n={n} on {name}"),
            );
        }
        // After a circuit, too.
        let (circuit, theta, x) = random_circuit(n, 60, 600 + n as u64);
        let b = Bindings::new(&theta, &x);
        let reference = cpu().run(&circuit, &b).unwrap();
        for (name, backend) in all_backends() {
            let state = backend.run(&circuit, &b).unwrap();
            check_probabilities(
                state.as_ref(),
                reference.as_ref(),
                backend.precision(),
                60,
                &format!("random_circuit(n={n}, 60, seed {}) on {name}", 600 + n),
            );
        }
    }
}

#[test]
fn marginal_bit_order_by_hand() {
    // X on qubit 2 of 4 qubits: P(qubit 2 = 1) = 1. Marginal over [2, 0]: entry bit 0 is
    // qubit 2's outcome, bit 1 qubit 0's, so all weight on index 1; over [0, 2] on index 2.
    let mut c = Circuit::new(4).unwrap();
    c.x(2).unwrap();
    for (name, backend) in all_backends() {
        let state = backend.run(&c, &Bindings::none()).unwrap();
        let t = tol(backend.as_ref(), 4, 1, 1.0);
        for (qubits, hot) in [
            (vec![2usize, 0], 1usize),
            (vec![0, 2], 2),
            (vec![2], 1),
            (vec![3, 1, 2], 4),
        ] {
            let m = state.marginal_probabilities(&qubits).unwrap();
            for (k, p) in m.iter().enumerate() {
                let want = if k == hot { 1.0 } else { 0.0 };
                assert_close(
                    want,
                    *p,
                    t,
                    &format!("marginal {qubits:?} entry {k} on {name}"),
                );
            }
        }
        assert_close(
            1.0,
            state.expectation(&Observable::z(0)).unwrap(),
            t,
            &format!("⟨Z0⟩ on {name}"),
        );
        assert_close(
            -1.0,
            state.expectation(&Observable::z(2)).unwrap(),
            t,
            &format!("⟨Z2⟩ on {name}"),
        );
    }
}

/// An observable of 3,000 random Pauli strings (every mix of X, Y, Z, so on chunked states
/// many partner chunks), and the same strings split over three observables: every backend
/// against the reference. The GPU evaluates many strings per dispatch from a term table; this
/// checks the table's layout, the grouping by partner chunk and the per-observable sums.
#[test]
fn many_term_observables_match_the_reference() {
    let n = 7;
    let mut rng = Rng::new(99);
    let (circuit, theta, x) = random_circuit(n, 40, 98);
    let b = Bindings::new(&theta, &x);
    let paulis = [Pauli::X, Pauli::Y, Pauli::Z];
    let terms: Vec<PauliTerm> = (0..3_000)
        .map(|_| {
            let mut ops = Vec::new();
            for q in 0..n {
                // Identity on a quarter of the qubits.
                let k = rng.below(4);
                if k > 0 {
                    ops.push((q, paulis[k - 1]));
                }
            }
            PauliTerm::new(rng.range(-1.0, 1.0) / 3_000.0, &ops).unwrap()
        })
        .collect();
    let whole = Observable {
        terms: terms.clone(),
    };
    let parts: Vec<Observable> = terms
        .chunks(1_000)
        .map(|t| Observable { terms: t.to_vec() })
        .collect();
    let reference = cpu().run(&circuit, &b).unwrap();
    let want_whole = reference.expectation(&whole).unwrap();
    let want_parts = reference.expectations(&parts).unwrap();
    let mut failures = Failures::default();
    for (name, backend) in all_backends() {
        let t = tol(backend.as_ref(), n, 40, 1.0);
        let state = backend.run(&circuit, &b).unwrap();
        let got_whole = state.expectation(&whole).unwrap();
        failures.check(
            ((got_whole - want_whole).abs() > t || got_whole.is_nan())
                .then(|| format!("{name}: 3,000 terms: {got_whole} vs reference {want_whole}")),
        );
        let got_parts = state.expectations(&parts).unwrap();
        for (j, (g, w)) in got_parts.iter().zip(&want_parts).enumerate() {
            failures.check(
                ((g - w).abs() > t || g.is_nan())
                    .then(|| format!("{name}: part {j} of 1,000 terms: {g} vs reference {w}")),
            );
        }
    }
    failures.finish("many-term observables");
}
