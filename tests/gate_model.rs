//! The gate model is the single source of every engine: for every operation kind of
//! [`GateKind::catalogue`], uncontrolled and controlled, on low, high (chunk-index) and
//! reversed qubits, every backend configuration of the suite — the f64 reference, the fast CPU
//! engine (f64, f32, tiled, fused), its batched rows path, and the GPU in f32/f64 with workgroup
//! tiles, one dispatch per gate, dense fusion, register blocks and chunked states — gives the
//! reference state, the reference ⟨O⟩ of a batch and the reference gradient (θ and x, through
//! affine angles; adjoint, or parameter shift where a chunked GPU state has no adjoint).

mod common;

use common::{all_backends, expectation_tolerance, reference_gradients, tolerance};
use qshade::{
    Angle, Batch, Bindings, Circuit, Gate, GateKind, GradientMethod, Observable, Precision, Program,
};

/// Qubits of every circuit: with the chunked GPU configurations (chunks of 2^3) qubits 3 and 4
/// are chunk-index qubits, so a placement on them pairs or skips chunks.
const N: usize = 5;

/// Where an operation is placed: (targets, controls).
fn placements(num_targets: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
    if num_targets == 1 {
        vec![
            (vec![0], vec![]),
            (vec![4], vec![]),
            (vec![2], vec![0]),
            (vec![0], vec![4]),
            (vec![3], vec![1, 4]),
        ]
    } else {
        vec![
            (vec![0, 4], vec![]),
            (vec![3, 1], vec![]),
            (vec![1, 2], vec![4]),
            (vec![4, 0], vec![2]),
        ]
    }
}

/// One kind of every operation; its k-th angle is the affine form 1.3·θ_k + 0.2 for even k
/// and −0.7·x_0 + 0.4 for odd k, so the chain rule through θ and x is exercised.
fn kinds() -> Vec<GateKind> {
    let mut k = 0;
    GateKind::catalogue(|| {
        k += 1;
        if k % 2 == 1 {
            Angle::theta((k / 2) % 2).times(1.3).plus(0.2)
        } else {
            Angle::input(0).times(-0.7).plus(0.4)
        }
    })
}

/// A generic entangled state, then the operation under test, then a rotation layer so the
/// observables see every amplitude.
fn circuit(gate: &Gate) -> Circuit {
    let mut c = Circuit::new(N).expect("5 qubits");
    for q in 0..N {
        c.ry(q, 0.3 + 0.41 * q as f64).expect("prep");
        c.rz(q, 0.9 - 0.23 * q as f64).expect("prep");
    }
    for q in 0..N - 1 {
        c.cnot(q, q + 1).expect("prep");
    }
    c.add(gate.clone()).expect("the gate under test is valid");
    for q in 0..N {
        c.rx(q, 0.5 + 0.17 * q as f64).expect("layer");
    }
    // Every circuit binds the same θ and x counts, whatever the kind uses.
    c.declare_params(2).declare_inputs(1);
    c
}

fn observables() -> Vec<Observable> {
    vec![
        Observable::parse("Z0 Z4 + 0.5 X1 - 0.3 Y2 Z3").expect("valid"),
        Observable::parse("0.8 X0 Y4 - 0.6 Z2 + 0.25 Y1 Y3").expect("valid"),
    ]
}

const THETA: [f64; 2] = [0.37, -1.21];
/// Batch rows: x_0 per sample (four samples, so the batched CPU path runs rows in parallel).
const INPUTS: [f64; 4] = [0.8, -0.45, 2.2, 1.05];

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Gradient tolerance: the state tolerance scaled by the observables' weight, the angle
/// scale (1.3) and the batch size, with the f32 rounding of one adjoint sweep's products.
fn gradient_tolerance(precision: Precision) -> f64 {
    let depth = 3 * N + 2;
    match precision {
        Precision::F64 => 1e-9,
        Precision::F32 => 40.0 * tolerance(precision, 2 * depth),
    }
}

/// The catalogue holds every kind exactly once (`common::kind_index` is an exhaustive match, so
/// a new kind does not compile there until it is listed, and then fails here until it is in
/// the catalogue).
#[test]
fn the_catalogue_holds_every_kind_once() {
    let mut seen: Vec<usize> = kinds().iter().map(common::kind_index).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..common::NUM_KINDS).collect::<Vec<_>>());
}

#[test]
fn every_kind_gives_the_reference_state_values_and_gradient_on_every_engine() {
    let reference = common::cpu();
    let backends = all_backends();
    let obs = observables();
    let mut checked = 0;
    let mut failures = Vec::new();
    for kind in kinds() {
        for (targets, controls) in placements(kind.num_targets()) {
            let gate = Gate::controlled(kind.clone(), &controls, &targets);
            let c = circuit(&gate);
            let what = gate.label();
            let bindings = Bindings::new(&THETA, &INPUTS[..1]);
            let want_state = reference
                .run(&c, &bindings)
                .and_then(|s| s.amplitudes())
                .unwrap_or_else(|e| panic!("{what}: the reference fails: {e}"));
            let program = Program::compile(&c);
            let batch = Batch::shared(&THETA, &INPUTS, INPUTS.len());
            let upstream: Vec<f64> = (0..INPUTS.len() * obs.len())
                .map(|k| 0.5 - 0.3 * k as f64)
                .collect();
            let want = reference_gradients(&program, &batch, &obs, &upstream, false);
            for (label, backend) in &backends {
                checked += 1;
                let p = backend.precision();
                let depth = c.gates().len();
                let state = backend.run(&c, &bindings).and_then(|s| s.amplitudes());
                match state {
                    Ok(got) => {
                        let d = got
                            .iter()
                            .zip(&want_state)
                            .map(|(a, b)| (a - b).norm())
                            .fold(0.0, f64::max);
                        if got.len() != want_state.len() || d > tolerance(p, depth) {
                            failures.push(format!("{label} {what}: state off by {d:.2e}"));
                        }
                    }
                    Err(e) => failures.push(format!("{label} {what}: run failed: {e}")),
                }
                match backend.forward_batch(&program, &batch, &obs) {
                    Ok(values) => {
                        let d = max_diff(&values, &want.values);
                        if d > expectation_tolerance(p, N, depth, 2.0) {
                            failures.push(format!("{label} {what}: ⟨O⟩ off by {d:.2e}"));
                        }
                    }
                    Err(e) => failures.push(format!("{label} {what}: forward failed: {e}")),
                }
                // A chunked GPU state has no adjoint sweep (one state must sit in one storage
                // binding, see the README's limits): its gradient goes through parameter shift.
                let method = if label.contains("chunk") {
                    GradientMethod::ParameterShift
                } else {
                    GradientMethod::Adjoint
                };
                match backend.gradient_batch(&program, &batch, &obs, &upstream, method) {
                    Ok(g) => {
                        let d =
                            max_diff(&g.theta, &want.theta).max(max_diff(&g.inputs, &want.inputs));
                        if d > gradient_tolerance(p) {
                            failures.push(format!("{label} {what}: gradient off by {d:.2e}"));
                        }
                    }
                    Err(e) => failures.push(format!("{label} {what}: gradient failed: {e}")),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures in {checked} (kind, placement, backend) cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 30 kinds: 19 one-qubit ones in 5 placements, 11 two-qubit ones in 4.
    assert_eq!(checked, backends.len() * (19 * 5 + 11 * 4));
}

/// The reference gradient itself against central finite differences of the reference
/// forward pass, so the comparison above cannot agree on a wrong derivative: for every kind
/// with angles, controlled and not.
#[test]
fn reference_gradient_of_every_kind_matches_finite_differences() {
    let reference = common::cpu();
    let obs = observables();
    let h = 1e-5;
    for kind in kinds().into_iter().filter(|k| !k.angles().is_empty()) {
        for (targets, controls) in placements(kind.num_targets()).into_iter().take(3) {
            let gate = Gate::controlled(kind.clone(), &controls, &targets);
            let program = Program::compile(&circuit(&gate));
            let upstream = vec![1.0, -0.5];
            let loss = |theta: &[f64], x: &[f64]| -> f64 {
                let v = reference
                    .forward_batch(&program, &Batch::shared(theta, x, 1), &obs)
                    .expect("reference forward");
                v[0] - 0.5 * v[1]
            };
            let g = reference_gradients(
                &program,
                &Batch::shared(&THETA, &INPUTS[..1], 1),
                &obs,
                &upstream,
                false,
            );
            let mut fd = Vec::new();
            for k in 0..THETA.len() {
                let (mut up, mut down) = (THETA, THETA);
                up[k] += h;
                down[k] -= h;
                fd.push((loss(&up, &INPUTS[..1]) - loss(&down, &INPUTS[..1])) / (2.0 * h));
            }
            let x = INPUTS[0];
            fd.push((loss(&THETA, &[x + h]) - loss(&THETA, &[x - h])) / (2.0 * h));
            let mut got = g.theta.clone();
            got.extend(&g.inputs);
            let d = max_diff(&got, &fd);
            assert!(
                d < 1e-7,
                "{}: adjoint {got:?} vs finite differences {fd:?}",
                gate.label()
            );
        }
    }
}
