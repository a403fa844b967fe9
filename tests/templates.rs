//! The circuit templates against their definitions: gate-by-gate structure where the definition
//! is a gate list (WORKLOADS.md's ansatz, PennyLane's StronglyEntanglingLayers), and states
//! against closed forms or hand-built circuits with the angles computed here (feature maps,
//! encodings, QAOA). All on the f64 CPU reference, tolerance 1e-12.

use qshade::qml::templates::{
    amplitude_encoding, angle_encoding, hardware_efficient, iqp_encoding, maxcut_observable,
    maxcut_value, qaoa_maxcut, strongly_entangling, zz_feature_map, Edge, Entanglement,
    RotationAxis,
};
use qshade::{Angle, Backend, Bindings, Circuit, Complex64, CpuBackend, Gate, GateKind};
use std::f64::consts::PI;

const TOL: f64 = 1e-12;

fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

fn state(circuit: &Circuit, theta: &[f64], inputs: &[f64]) -> Vec<Complex64> {
    CpuBackend::new()
        .run(circuit, &Bindings::new(theta, inputs))
        .unwrap()
        .amplitudes()
        .unwrap()
}

fn assert_states_eq(got: &[Complex64], want: &[Complex64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).norm() < TOL,
            "{what}: amplitude {k} is {g}, expected {w}"
        );
    }
}

fn cnot(control: usize, target: usize) -> Gate {
    Gate::controlled(GateKind::X, &[control], &[target])
}

fn one(kind: GateKind, q: usize) -> Gate {
    Gate::new(kind, &[q])
}

/// WORKLOADS.md, "ansatz": L layers; layer l: for every qubit q, RY(θ[2nl+2q]) then
/// RZ(θ[2nl+2q+1]) on q; then CNOT(q, (q+1) mod n) for q = 0..n−1.
#[test]
fn hardware_efficient_matches_the_workloads_definition() {
    for (n, layers, first) in [(4, 3, 0), (3, 2, 5), (2, 2, 0), (6, 1, 1)] {
        let circuit = hardware_efficient(n, layers, first).unwrap();
        assert_eq!(
            circuit.num_params(),
            first + 2 * n * layers,
            "n={n} L={layers}: parameter count 2nL (+ offset)"
        );
        assert_eq!(circuit.num_inputs(), 0);
        let mut want = Vec::new();
        for l in 0..layers {
            for q in 0..n {
                want.push(one(
                    GateKind::RY(Angle::theta(first + 2 * n * l + 2 * q)),
                    q,
                ));
                want.push(one(
                    GateKind::RZ(Angle::theta(first + 2 * n * l + 2 * q + 1)),
                    q,
                ));
            }
            for q in 0..n {
                want.push(cnot(q, (q + 1) % n));
            }
        }
        assert_eq!(circuit.gates(), &want[..], "n={n} L={layers}: gate order");
        let names = circuit.param_names();
        assert_eq!(names[first], "hea.l0.ry.q0");
        assert_eq!(
            names[first + 2 * n * layers - 1],
            format!("hea.l{}.rz.q{}", layers - 1, n - 1)
        );
    }
    // One qubit: no entangler (a CNOT from a qubit to itself does not exist).
    let single = hardware_efficient(1, 2, 0).unwrap();
    assert_eq!(single.gates().len(), 4);
    assert!(single.gates().iter().all(|g| g.controls.is_empty()));
}

/// PennyLane's StronglyEntanglingLayers: Rot(φ, θ, ω) on every qubit, then CNOT(q, (q + r) mod n)
/// with r = (l mod (n − 1)) + 1.
#[test]
fn strongly_entangling_parameters_and_cnot_ranges() {
    for (n, layers, first) in [(4, 5, 0), (3, 4, 2), (2, 3, 0)] {
        let circuit = strongly_entangling(n, layers, first).unwrap();
        assert_eq!(
            circuit.num_params(),
            first + 3 * n * layers,
            "parameter count 3nL"
        );
        let mut want = Vec::new();
        for l in 0..layers {
            for q in 0..n {
                let k = first + 3 * (n * l + q);
                want.push(one(GateKind::RZ(Angle::theta(k)), q));
                want.push(one(GateKind::RY(Angle::theta(k + 1)), q));
                want.push(one(GateKind::RZ(Angle::theta(k + 2)), q));
            }
            let r = l % (n - 1) + 1;
            for q in 0..n {
                want.push(cnot(q, (q + r) % n));
            }
        }
        assert_eq!(circuit.gates(), &want[..], "n={n} L={layers}");
    }
    // n = 4, L = 5: ranges 1, 2, 3, 1, 2 (the CNOT of qubit 0 in each layer).
    let circuit = strongly_entangling(4, 5, 0).unwrap();
    let ranges: Vec<usize> = circuit
        .gates()
        .iter()
        .filter(|g| !g.controls.is_empty() && g.controls[0] == 0)
        .map(|g| g.targets[0])
        .collect();
    assert_eq!(ranges, vec![1, 2, 3, 1, 2]);
}

/// Rot(φ, θ, ω) = RZ(ω)·RY(θ)·RZ(φ) has PennyLane's matrix; its first column is the state from
/// |0⟩: (e^{−i(φ+ω)/2} cos θ/2, e^{−i(φ−ω)/2} sin θ/2).
#[test]
fn strongly_entangling_rotation_is_pennylanes_rot() {
    let circuit = strongly_entangling(1, 1, 0).unwrap();
    for (phi, theta, omega) in [(0.3, 1.1, -0.7), (2.0, 0.4, 1.3)] {
        let got = state(&circuit, &[phi, theta, omega], &[]);
        let (s, co) = (theta / 2.0).sin_cos();
        let want = [
            Complex64::from_polar(co, -(phi + omega) / 2.0),
            Complex64::from_polar(s, -(phi - omega) / 2.0),
        ];
        assert_states_eq(&got, &want, "Rot");
    }
}

/// Amplitudes of H^n|0⟩ followed by the diagonal phase e^{i·φ(k)} for every basis state k.
fn phased_uniform(n: usize, phase: impl Fn(usize) -> f64) -> Vec<Complex64> {
    let norm = (1usize << n) as f64;
    (0..1usize << n)
        .map(|k| Complex64::from_polar(1.0 / norm.sqrt(), phase(k)))
        .collect()
}

fn bit(k: usize, q: usize) -> f64 {
    ((k >> q) & 1) as f64
}

/// Qiskit's ZZFeatureMap: derived features (π − x_i)(π − x_j); one repetition is
/// H^n then P(2x_i) on i and e^{i·2φ_ij·(b_i ⊕ b_j)} for each pair (CNOT · P · CNOT), so the
/// state is uniform with phase Σ 2x_i b_i + Σ 2(π − x_i)(π − x_j)(b_i ⊕ b_j).
#[test]
fn zz_feature_map_features_and_state() {
    let x = [0.4, 1.3, 2.9, 0.05];
    let n = x.len();
    for (entanglement, pairs) in [
        (Entanglement::Linear, vec![(0, 1), (1, 2), (2, 3)]),
        (
            Entanglement::Full,
            vec![(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)],
        ),
    ] {
        let fm = zz_feature_map(n, 1, entanglement).unwrap();
        let feats = fm.features(&x).unwrap();
        let mut want_feats = x.to_vec();
        want_feats.extend(pairs.iter().map(|&(i, j)| (PI - x[i]) * (PI - x[j])));
        assert_eq!(feats.len(), want_feats.len());
        for (g, w) in feats.iter().zip(&want_feats) {
            assert!((g - w).abs() < TOL);
        }
        assert_eq!(fm.circuit.num_inputs(), n + pairs.len());
        let want = phased_uniform(n, |k| {
            (0..n).map(|i| 2.0 * x[i] * bit(k, i)).sum::<f64>()
                + pairs
                    .iter()
                    .map(|&(i, j)| {
                        2.0 * (PI - x[i]) * (PI - x[j]) * ((bit(k, i) + bit(k, j)) % 2.0)
                    })
                    .sum::<f64>()
        });
        assert_states_eq(
            &state(&fm.circuit, &[], &feats),
            &want,
            &format!("ZZ map {entanglement:?} reps 1 (closed form)"),
        );

        // Two repetitions against the same gates written out with constant angles.
        let fm2 = zz_feature_map(n, 2, entanglement).unwrap();
        let mut hand = Circuit::new(n).unwrap();
        for _ in 0..2 {
            for (q, &xq) in x.iter().enumerate() {
                hand.h(q).unwrap().phase(q, 2.0 * xq).unwrap();
            }
            for &(i, j) in &pairs {
                hand.cnot(i, j)
                    .unwrap()
                    .phase(j, 2.0 * (PI - x[i]) * (PI - x[j]))
                    .unwrap()
                    .cnot(i, j)
                    .unwrap();
            }
        }
        let feats2 = fm2.features(&x).unwrap();
        assert_states_eq(
            &state(&fm2.circuit, &[], &feats2),
            &state(&hand, &[], &[]),
            &format!("ZZ map {entanglement:?} reps 2 (hand-built)"),
        );
    }
    // Batches and wrong lengths.
    let fm = zz_feature_map(2, 1, Entanglement::Linear).unwrap();
    let batch = fm.features_batch(&[0.1, 0.2, 0.3, 0.4]).unwrap();
    assert_eq!(batch.len(), 6);
    assert!((batch[5] - (PI - 0.3) * (PI - 0.4)).abs() < TOL);
    assert!(fm.features(&[0.1]).is_err());
    assert!(fm.features_batch(&[0.1, 0.2, 0.3]).is_err());
}

/// PennyLane's IQPEmbedding: H^n, RZ(x_i) on i, RZZ(x_i x_j) on every pair i < j; one
/// repetition gives the uniform state with phase −½(Σ x_i z_i + Σ x_i x_j z_i z_j), z = 1 − 2b.
#[test]
fn iqp_encoding_features_and_state() {
    let x = [0.7, -1.2, 2.1];
    let n = x.len();
    let pairs = [(0, 1), (0, 2), (1, 2)];
    let fm = iqp_encoding(n, 1).unwrap();
    let feats = fm.features(&x).unwrap();
    let mut want_feats = x.to_vec();
    want_feats.extend(pairs.iter().map(|&(i, j)| x[i] * x[j]));
    assert_eq!(feats, want_feats);
    let z = |k: usize, q: usize| 1.0 - 2.0 * bit(k, q);
    let want = phased_uniform(n, |k| {
        -0.5 * ((0..n).map(|i| x[i] * z(k, i)).sum::<f64>()
            + pairs
                .iter()
                .map(|&(i, j)| x[i] * x[j] * z(k, i) * z(k, j))
                .sum::<f64>())
    });
    assert_states_eq(
        &state(&fm.circuit, &[], &feats),
        &want,
        "IQP reps 1 (closed form)",
    );

    let fm3 = iqp_encoding(n, 3).unwrap();
    let mut hand = Circuit::new(n).unwrap();
    for _ in 0..3 {
        for (q, &xq) in x.iter().enumerate() {
            hand.h(q).unwrap().rz(q, xq).unwrap();
        }
        for &(i, j) in &pairs {
            hand.rzz(i, j, x[i] * x[j]).unwrap();
        }
    }
    assert_states_eq(
        &state(&fm3.circuit, &[], &fm3.features(&x).unwrap()),
        &state(&hand, &[], &[]),
        "IQP reps 3 (hand-built)",
    );
}

/// R_axis(scale·x_i) on qubit i: a product state with per-qubit amplitudes
/// RX: (cos a/2, −i sin a/2), RY: (cos a/2, sin a/2), RZ: (e^{−ia/2}, 0).
#[test]
fn angle_encoding_is_a_product_of_rotations() {
    let x = [0.3, 2.2, -1.4];
    for axis in [RotationAxis::X, RotationAxis::Y, RotationAxis::Z] {
        for scale in [1.0, 0.5] {
            let circuit = angle_encoding(3, axis, scale).unwrap();
            assert_eq!(
                (
                    circuit.num_inputs(),
                    circuit.num_params(),
                    circuit.gates().len()
                ),
                (3, 0, 3)
            );
            let single = |a: f64| -> [Complex64; 2] {
                let (s, co) = (a / 2.0).sin_cos();
                match axis {
                    RotationAxis::X => [c(co, 0.0), c(0.0, -s)],
                    RotationAxis::Y => [c(co, 0.0), c(s, 0.0)],
                    RotationAxis::Z => [Complex64::from_polar(1.0, -a / 2.0), c(0.0, 0.0)],
                }
            };
            let want: Vec<Complex64> = (0..8)
                .map(|k| (0..3).map(|q| single(scale * x[q])[(k >> q) & 1]).product())
                .collect();
            assert_states_eq(
                &state(&circuit, &[], &x),
                &want,
                &format!("angle encoding {axis:?} × {scale}"),
            );
        }
    }
}

#[test]
fn amplitude_encoding_prepares_the_normalised_vector() {
    let v = [
        c(0.3, 0.1),
        c(-0.5, 0.0),
        c(0.0, 0.0),
        c(0.2, -0.7),
        c(1.0, 0.4),
    ];
    let circuit = amplitude_encoding(&v, 3).unwrap();
    let norm = v.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    let mut want: Vec<Complex64> = v.iter().map(|a| a / norm).collect();
    want.resize(8, Complex64::ZERO);
    assert_states_eq(&state(&circuit, &[], &[]), &want, "amplitude encoding");
}

fn weighted_graph() -> Vec<Edge> {
    vec![
        (0, 1, 1.0),
        (1, 2, 2.5),
        (2, 3, 0.5),
        (3, 0, 1.0),
        (0, 2, 3.0),
        (1, 4, 1.5),
        (3, 4, 0.25),
    ]
}

/// ⟨k|C|k⟩ equals the cut value of k for every basis state k.
#[test]
fn maxcut_observable_on_basis_states_equals_cut_value() {
    let edges = weighted_graph();
    let obs = maxcut_observable(&edges).unwrap();
    let cpu = CpuBackend::new();
    for k in 0..32u64 {
        let mut amps = vec![Complex64::ZERO; 32];
        amps[k as usize] = Complex64::ONE;
        let e = cpu
            .state_from_amplitudes(&amps)
            .unwrap()
            .expectation(&obs)
            .unwrap();
        assert!(
            (e - maxcut_value(&edges, k)).abs() < TOL,
            "k={k:05b}: ⟨C⟩ = {e}, cut {}",
            maxcut_value(&edges, k)
        );
    }
    // By hand: nodes {0, 2} vs {1, 3, 4} cut (0,1), (1,2), (2,3), (3,0) = 1 + 2.5 + 0.5 + 1.
    assert_eq!(maxcut_value(&edges, 0b00101), 5.0);
    assert_eq!(maxcut_value(&edges, 0), 0.0);
}

#[test]
fn qaoa_at_zero_angles_is_the_uniform_superposition() {
    let edges = weighted_graph();
    let circuit = qaoa_maxcut(5, &edges, 1).unwrap();
    assert_eq!(circuit.num_params(), 2);
    assert_eq!(
        circuit.param_names(),
        vec!["qaoa.gamma0".to_string(), "qaoa.beta0".to_string()]
    );
    let uniform = vec![c(1.0 / 32f64.sqrt(), 0.0); 32];
    assert_states_eq(
        &state(&circuit, &[0.0, 0.0], &[]),
        &uniform,
        "QAOA p=1, γ=β=0",
    );
    // ⟨C⟩ of the uniform superposition: half the total weight.
    let e = CpuBackend::new()
        .run(&circuit, &Bindings::theta(&[0.0, 0.0]))
        .unwrap()
        .expectation(&maxcut_observable(&edges).unwrap())
        .unwrap();
    assert!((e - 9.75 / 2.0).abs() < TOL);
    // p layers: 2p parameters; H layer, then per layer |E| RZZ and n RX.
    let deep = qaoa_maxcut(5, &edges, 3).unwrap();
    assert_eq!(deep.num_params(), 6);
    assert_eq!(deep.gates().len(), 5 + 3 * (edges.len() + 5));
    assert!(
        qaoa_maxcut(3, &edges, 1).is_err(),
        "edge beyond the register"
    );
}
