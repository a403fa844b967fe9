//! Gradients: adjoint == parameter-shift == central finite differences, the batched CPU path ==
//! the reference, sub-batching does not change results, and the error paths of the batched API.
//!
//! Every check takes `&dyn Backend` so another backend (the GPU) can be run through the same
//! checks with its own tolerance; the oracles are the f64 reference functions of `qshade::cpu`.

mod common;

use common::rng::Rng;
use common::{reference_adjoint_rows, reference_forward_rows};
use qshade::{
    Angle, AngleFn, Backend, Batch, BatchConfig, Circuit, Complex64, CpuBackend, Error, Gate,
    GateKind, GradientConfig, GradientMethod, Gradients, Observable, Precision, Program,
};
use std::f64::consts::PI;

// ---------------------------------------------------------------------------------------------
// Random programs
// ---------------------------------------------------------------------------------------------

/// A random angle: a shared θ_k or an input x_i in an affine form `a·v + b`, a constant, or
/// an expression of several variables.
fn random_angle(rng: &mut Rng, num_params: usize, num_inputs: usize) -> Angle {
    let a = rng.range(-2.0, 2.0);
    let b = rng.range(-1.0, 1.0);
    let theta = |rng: &mut Rng| Angle::theta(rng.below(num_params));
    let input = |rng: &mut Rng| {
        if num_inputs > 0 {
            Angle::input(rng.below(num_inputs))
        } else {
            Angle::theta(rng.below(num_params))
        }
    };
    match rng.below(13) {
        0..=5 => Angle::theta(rng.below(num_params)).times(a).plus(b),
        6..=8 if num_inputs > 0 => Angle::input(rng.below(num_inputs)).times(a).plus(b),
        6..=8 => Angle::theta(rng.below(num_params)),
        9 => Angle::Const(rng.range(-PI, PI)),
        // Expressions: a sum of two parameters, Qiskit's ZZFeatureMap product of inputs,
        // and a function of one parameter times another plus an input.
        10 => theta(rng) * a + theta(rng) + b,
        11 => (PI - input(rng)) * (PI - input(rng)) * 0.5,
        _ => theta(rng).func(AngleFn::Sin) * theta(rng) + input(rng) / 3.0,
    }
}

/// A random one-qubit unitary: e^{iα}·U3(θ, φ, λ).
fn random_unitary1(rng: &mut Rng) -> [Complex64; 4] {
    let angles = [rng.range(0.0, PI), rng.range(-PI, PI), rng.range(-PI, PI)];
    let phase = Complex64::from_polar(1.0, rng.range(-PI, PI));
    let m = GateKind::U3(Angle::Const(0.0), Angle::Const(0.0), Angle::Const(0.0)).matrix(&angles);
    [m[0] * phase, m[1] * phase, m[2] * phase, m[3] * phase]
}

/// `count` distinct qubits out of `n`.
fn distinct(rng: &mut Rng, n: usize, count: usize) -> Vec<usize> {
    let mut q: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut q);
    q.truncate(count);
    q
}

/// A random circuit on `n ≥ 4` qubits mixing every parameterised kind (plain, controlled and
/// multi-controlled) with fixed gates, θ shared between gates through affine forms.
fn random_circuit(
    rng: &mut Rng,
    n: usize,
    depth: usize,
    num_params: usize,
    num_inputs: usize,
) -> Circuit {
    let mut c = Circuit::new(n).unwrap();
    // A non-trivial starting layer so every gate sees a generic state.
    for q in 0..n {
        c.h(q).unwrap();
    }
    for _ in 0..depth {
        let ang = |rng: &mut Rng| random_angle(rng, num_params, num_inputs);
        let choice = rng.below(26);
        let gate = match choice {
            0 => Gate::new(GateKind::RX(ang(rng)), &distinct(rng, n, 1)),
            1 => Gate::new(GateKind::RY(ang(rng)), &distinct(rng, n, 1)),
            2 => Gate::new(GateKind::RZ(ang(rng)), &distinct(rng, n, 1)),
            3 => Gate::new(GateKind::Phase(ang(rng)), &distinct(rng, n, 1)),
            4 => Gate::new(
                GateKind::U3(ang(rng), ang(rng), ang(rng)),
                &distinct(rng, n, 1),
            ),
            5..=8 => {
                // CRX / CRY / CRZ / CPhase
                let q = distinct(rng, n, 2);
                let kind = match choice {
                    5 => GateKind::RX(ang(rng)),
                    6 => GateKind::RY(ang(rng)),
                    7 => GateKind::RZ(ang(rng)),
                    _ => GateKind::Phase(ang(rng)),
                };
                Gate::controlled(kind, &q[..1], &q[1..])
            }
            9 => {
                // multi-controlled rotation
                let q = distinct(rng, n, 3);
                let kind = if rng.below(2) == 0 {
                    GateKind::RY(ang(rng))
                } else {
                    GateKind::RX(ang(rng))
                };
                Gate::controlled(kind, &q[..2], &q[2..])
            }
            10 => {
                let q = distinct(rng, n, 2);
                Gate::controlled(GateKind::U3(ang(rng), ang(rng), ang(rng)), &q[..1], &q[1..])
            }
            11 => Gate::new(GateKind::RXX(ang(rng)), &distinct(rng, n, 2)),
            12 => Gate::new(GateKind::RYY(ang(rng)), &distinct(rng, n, 2)),
            13 => Gate::new(GateKind::RZZ(ang(rng)), &distinct(rng, n, 2)),
            14 => {
                let q = distinct(rng, n, 3);
                Gate::controlled(GateKind::RZZ(ang(rng)), &q[..1], &q[1..])
            }
            15 => {
                let q = distinct(rng, n, 2);
                Gate::controlled(GateKind::X, &q[..1], &q[1..])
            }
            16 => {
                let q = distinct(rng, n, 3);
                Gate::controlled(GateKind::X, &q[..2], &q[2..])
            }
            17 => Gate::new(GateKind::Swap, &distinct(rng, n, 2)),
            18 => {
                let q = distinct(rng, n, 2);
                Gate::controlled(GateKind::Z, &q[..1], &q[1..])
            }
            19 => {
                let kinds = [
                    GateKind::H,
                    GateKind::S,
                    GateKind::T,
                    GateKind::SX,
                    GateKind::Y,
                    GateKind::Sdg,
                ];
                Gate::new(kinds[rng.below(kinds.len())].clone(), &distinct(rng, n, 1))
            }
            20 => Gate::new(GateKind::ISwap, &distinct(rng, n, 2)),
            21 => {
                // A dense user matrix, sometimes controlled.
                let q = distinct(rng, n, 2);
                let m = random_unitary1(rng);
                if rng.below(2) == 0 {
                    Gate::new(GateKind::Unitary1(Box::new(m)), &q[..1])
                } else {
                    Gate::controlled(GateKind::Unitary1(Box::new(m)), &q[..1], &q[1..])
                }
            }
            22 => {
                // Diagonal user matrices: diag(e^{ia}, e^{ib}) and diag(1, e^{ib}).
                let (a, b) = (rng.range(-PI, PI), rng.range(-PI, PI));
                let first = if rng.below(2) == 0 {
                    Complex64::from_polar(1.0, a)
                } else {
                    Complex64::ONE
                };
                let z = Complex64::ZERO;
                Gate::new(
                    GateKind::Unitary1(Box::new([first, z, z, Complex64::from_polar(1.0, b)])),
                    &distinct(rng, n, 1),
                )
            }
            23 => {
                // A dense two-qubit matrix: (U ⊗ V) · RXX(a).
                let (u, v) = (random_unitary1(rng), random_unitary1(rng));
                let rxx = GateKind::RXX(Angle::Const(0.0)).matrix(&[rng.range(-PI, PI)]);
                let mut m = [Complex64::ZERO; 16];
                for r in 0..4 {
                    for k in 0..4 {
                        m[4 * r + k] = (0..4)
                            .map(|j| {
                                u[2 * (r >> 1) + (j >> 1)]
                                    * v[2 * (r & 1) + (j & 1)]
                                    * rxx[4 * j + k]
                            })
                            .sum();
                    }
                }
                let q = distinct(rng, n, 3);
                if rng.below(2) == 0 {
                    Gate::new(GateKind::Unitary2(Box::new(m)), &q[..2])
                } else {
                    Gate::controlled(GateKind::Unitary2(Box::new(m)), &q[2..], &q[..2])
                }
            }
            24 => {
                let mut m = [Complex64::ZERO; 16];
                for k in 0..4 {
                    m[5 * k] = Complex64::from_polar(1.0, rng.range(-PI, PI));
                }
                Gate::new(GateKind::Unitary2(Box::new(m)), &distinct(rng, n, 2))
            }
            _ => {
                let q = distinct(rng, n, 3);
                Gate::controlled(GateKind::RXX(ang(rng)), &q[..1], &q[1..])
            }
        };
        c.add(gate).unwrap();
    }
    c.declare_params(num_params).declare_inputs(num_inputs);
    c
}

/// Observables on ≥ 4 qubits: a single Z, and multi-term Hamiltonians with X/Y/Z strings, a
/// repeated string and a constant.
fn observables() -> Vec<Observable> {
    vec![
        Observable::z(0),
        Observable::parse("0.5 Z0 Z1 - 0.25 X0 + 0.3 Y1 Y2 + 0.7 X1 Y0 Z2 + 1.5").unwrap(),
        Observable::parse("-1.25 X3 + 0.4 Y3 X2 + 0.6 Z1 Z3 - 0.2 X3 + 0.1 Y0").unwrap(),
    ]
}

/// A seeded case: the program, a batch's θ (shared), inputs, size and an upstream gradient.
struct Case {
    program: Program,
    theta: Vec<f64>,
    inputs: Vec<f64>,
    size: usize,
    upstream: Vec<f64>,
    observables: Vec<Observable>,
}

fn case(seed: u64, n: usize, depth: usize, size: usize) -> Case {
    let mut rng = Rng::new(seed);
    let (np, ni) = (5, 3);
    let circuit = random_circuit(&mut rng, n, depth, np, ni);
    let program = Program::compile(&circuit);
    let theta = (0..np).map(|_| rng.range(0.0, 2.0 * PI)).collect();
    let inputs = (0..size * ni).map(|_| rng.range(0.0, PI)).collect();
    let observables = observables();
    let upstream = (0..size * observables.len())
        .map(|_| rng.range(-1.0, 1.0))
        .collect();
    Case {
        program,
        theta,
        inputs,
        size,
        upstream,
        observables,
    }
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn assert_close(what: &str, expected: &[f64], actual: &[f64], tol: f64) {
    let d = max_abs_diff(expected, actual);
    assert!(
        d <= tol,
        "{what}: max |Δ| = {d:.3e} > {tol:.1e}\n expected {expected:?}\n actual   {actual:?}"
    );
}

/// The reference's gradients for a batch (adjoint on the f64 reference path + chain rule).
fn reference_gradients(c: &Case, batch: &Batch<'_>, per_sample: bool) -> Gradients {
    common::reference_gradients(&c.program, batch, &c.observables, &c.upstream, per_sample)
}

/// L = Σ_b Σ_j g_bj ⟨O_j⟩_b on the reference forward path.
fn reference_loss(c: &Case, theta: &[f64], inputs: &[f64]) -> f64 {
    let rows = Batch::shared(theta, inputs, c.size).resolve(&c.program);
    let values = reference_forward_rows(&c.program, &rows, c.size, &c.observables).unwrap();
    values.iter().zip(&c.upstream).map(|(v, g)| v * g).sum()
}

fn adjoint(
    backend: &dyn Backend,
    c: &Case,
    batch: &Batch<'_>,
    per_sample_theta: bool,
    batch_options: BatchConfig,
) -> Gradients {
    let options = GradientConfig::default()
        .method(GradientMethod::Adjoint)
        .per_sample_theta(per_sample_theta)
        .batch(batch_options);
    backend
        .gradient_batch_with(&c.program, batch, &c.observables, &c.upstream, &options)
        .unwrap()
}

const SEEDS: [u64; 6] = [1, 2, 3, 4, 5, 6];

// ---------------------------------------------------------------------------------------------
// Checks, written against &dyn Backend
// ---------------------------------------------------------------------------------------------

/// The backend's adjoint values and gradients (θ and x) equal the reference's adjoint.
fn check_adjoint_matches_reference(backend: &dyn Backend, tol: f64) {
    for seed in SEEDS {
        let c = case(seed, 5, 40, 3);
        let batch = Batch::shared(&c.theta, &c.inputs, c.size);
        let got = adjoint(backend, &c, &batch, false, BatchConfig::default());
        let want = reference_gradients(&c, &batch, false);
        assert_close(
            &format!("seed {seed}: values"),
            &want.values,
            &got.values,
            tol,
        );
        assert_close(&format!("seed {seed}: dL/dθ"), &want.theta, &got.theta, tol);
        assert_close(
            &format!("seed {seed}: dL/dx"),
            &want.inputs,
            &got.inputs,
            tol,
        );
    }
}

/// Adjoint == parameter-shift (both on the backend).
fn check_adjoint_matches_parameter_shift(backend: &dyn Backend, tol: f64) {
    for seed in SEEDS {
        let c = case(seed + 100, 4, 30, 2);
        let batch = Batch::shared(&c.theta, &c.inputs, c.size);
        let adj = adjoint(backend, &c, &batch, false, BatchConfig::default());
        let ps = backend
            .gradient_batch(
                &c.program,
                &batch,
                &c.observables,
                &c.upstream,
                GradientMethod::ParameterShift,
            )
            .unwrap();
        assert_close(
            &format!("seed {seed}: values"),
            &ps.values,
            &adj.values,
            tol,
        );
        assert_close(
            &format!("seed {seed}: dL/dθ adjoint vs parameter-shift"),
            &ps.theta,
            &adj.theta,
            tol,
        );
        assert_close(
            &format!("seed {seed}: dL/dx adjoint vs parameter-shift"),
            &ps.inputs,
            &adj.inputs,
            tol,
        );
    }
}

/// Adjoint == central finite differences of the reference forward (step 1e-5), for θ and x.
fn check_adjoint_matches_finite_differences(backend: &dyn Backend, tol: f64) {
    const H: f64 = 1e-5;
    for seed in SEEDS {
        let c = case(seed + 200, 4, 30, 2);
        let batch = Batch::shared(&c.theta, &c.inputs, c.size);
        let adj = adjoint(backend, &c, &batch, false, BatchConfig::default());
        let fd_theta: Vec<f64> = (0..c.theta.len())
            .map(|k| {
                let (mut p, mut m) = (c.theta.clone(), c.theta.clone());
                p[k] += H;
                m[k] -= H;
                (reference_loss(&c, &p, &c.inputs) - reference_loss(&c, &m, &c.inputs)) / (2.0 * H)
            })
            .collect();
        let fd_x: Vec<f64> = (0..c.inputs.len())
            .map(|k| {
                let (mut p, mut m) = (c.inputs.clone(), c.inputs.clone());
                p[k] += H;
                m[k] -= H;
                (reference_loss(&c, &c.theta, &p) - reference_loss(&c, &c.theta, &m)) / (2.0 * H)
            })
            .collect();
        assert_close(
            &format!("seed {seed}: dL/dθ adjoint vs finite differences"),
            &fd_theta,
            &adj.theta,
            tol,
        );
        assert_close(
            &format!("seed {seed}: dL/dx adjoint vs finite differences"),
            &fd_x,
            &adj.inputs,
            tol,
        );
    }
}

/// Per-sample θ (a θ row per sample) with per-sample gradients: each row equals the reference
/// for that sample alone, and the sum equals the returned total.
fn check_per_sample_theta(backend: &dyn Backend, tol: f64) {
    let c = case(300, 5, 40, 4);
    let np = c.program.num_params();
    let mut rng = Rng::new(301);
    let thetas: Vec<f64> = (0..c.size * np).map(|_| rng.range(0.0, 2.0 * PI)).collect();
    let batch = Batch::per_sample(&thetas, &c.inputs, c.size);
    let got = adjoint(backend, &c, &batch, true, BatchConfig::default());
    let want = reference_gradients(&c, &batch, true);
    let per = got
        .theta_per_sample
        .as_ref()
        .expect("per-sample θ gradients were asked for");
    assert_close(
        "per-sample dL/dθ",
        want.theta_per_sample.as_ref().unwrap(),
        per,
        tol,
    );
    assert_close("dL/dθ", &want.theta, &got.theta, tol);
    assert_close("dL/dx", &want.inputs, &got.inputs, tol);
    let summed: Vec<f64> = (0..np)
        .map(|k| (0..c.size).map(|b| per[b * np + k]).sum())
        .collect();
    assert_close("Σ_b per-sample dL/dθ vs total", &got.theta, &summed, tol);
    // Each sample alone, with the same upstream row.
    for b in 0..c.size {
        let no = c.observables.len();
        let single = Case {
            program: c.program.clone(),
            theta: thetas[b * np..(b + 1) * np].to_vec(),
            inputs: c.inputs[b * 3..(b + 1) * 3].to_vec(),
            size: 1,
            upstream: c.upstream[b * no..(b + 1) * no].to_vec(),
            observables: c.observables.clone(),
        };
        let one = adjoint(
            backend,
            &single,
            &Batch::shared(&single.theta, &single.inputs, 1),
            false,
            BatchConfig::default(),
        );
        assert_close(
            &format!("sample {b} alone"),
            &one.theta,
            &per[b * np..(b + 1) * np],
            tol,
        );
    }
    // Without the flag there is no per-sample matrix.
    assert!(adjoint(backend, &c, &batch, false, BatchConfig::default())
        .theta_per_sample
        .is_none());
}

/// `forward_rows` and `adjoint_rows` of the backend equal the reference on raw occurrence rows
/// (values and d_angles, constant occurrences included).
fn check_rows_match_reference(backend: &dyn Backend, tol: f64) {
    for seed in SEEDS {
        for n in [4, 5, 7] {
            let c = case(seed + 400 + n as u64, n, 60, 5);
            let rows = Batch::shared(&c.theta, &c.inputs, c.size).resolve(&c.program);
            let opts = BatchConfig::default();
            let want = reference_forward_rows(&c.program, &rows, c.size, &c.observables).unwrap();
            let got = backend
                .forward_rows(&c.program, &rows, c.size, &c.observables, &opts)
                .unwrap();
            assert_close(
                &format!("seed {seed} n {n}: forward_rows"),
                &want,
                &got,
                tol,
            );
            let (wv, wd) =
                reference_adjoint_rows(&c.program, &rows, c.size, &c.observables, &c.upstream)
                    .unwrap();
            let (gv, gd) = backend
                .adjoint_rows(
                    &c.program,
                    &rows,
                    c.size,
                    &c.observables,
                    &c.upstream,
                    &opts,
                )
                .unwrap();
            assert_close(&format!("seed {seed} n {n}: adjoint values"), &wv, &gv, tol);
            // Constant occurrences feed no parameter: a backend may skip them (see
            // `Backend::adjoint_rows`), so only the θ- and x-dependent ones are compared.
            let na = c.program.num_angles();
            let live = |d: &[f64]| -> Vec<f64> {
                d.iter()
                    .enumerate()
                    .filter(|(k, _)| !c.program.angle_exprs()[k % na].is_const())
                    .map(|(_, v)| *v)
                    .collect()
            };
            assert_close(
                &format!("seed {seed} n {n}: adjoint d_angles"),
                &live(&wd),
                &live(&gd),
                tol,
            );
        }
    }
}

/// Splitting the batch (by memory budget or by `max_sub_batch`) gives identical results.
fn check_sub_batching_is_invisible(backend: &dyn Backend) {
    let c = case(500, 6, 50, 11);
    let batch = Batch::shared(&c.theta, &c.inputs, c.size);
    let whole = adjoint(backend, &c, &batch, true, BatchConfig::default());
    let whole_fwd = backend
        .forward_batch(&c.program, &batch, &c.observables)
        .unwrap();
    // What one row needs, as the backend reports it for a budget below it.
    let probe = GradientConfig::default()
        .per_sample_theta(true)
        .batch(BatchConfig::default().memory_budget(Some(1)));
    let row_bytes = match backend.gradient_batch_with(
        &c.program,
        &batch,
        &c.observables,
        &c.upstream,
        &probe,
    ) {
        Err(Error::OutOfDeviceMemory { needed, .. }) => needed,
        other => panic!("a 1-byte budget must be too small: {other:?}"),
    };
    let splits = [
        BatchConfig::default().max_sub_batch(Some(1)),
        BatchConfig::default().max_sub_batch(Some(4)),
        // Room for three rows.
        BatchConfig::default().memory_budget(Some(3 * row_bytes + 7)),
        BatchConfig::default()
            .memory_budget(Some(2 * row_bytes))
            .max_sub_batch(Some(3)),
    ];
    for opts in splits {
        let split = adjoint(backend, &c, &batch, true, opts.clone());
        assert_eq!(whole, split, "gradients changed with {opts:?}");
        let fwd = backend
            .forward_batch_with(&c.program, &batch, &c.observables, &opts)
            .unwrap();
        assert_eq!(whole_fwd, fwd, "forward values changed with {opts:?}");
    }
}

/// Every malformed request is an error, not a panic.
fn check_error_paths(backend: &dyn Backend) {
    let c = case(600, 4, 20, 2);
    let batch = Batch::shared(&c.theta, &c.inputs, c.size);
    let is_invalid = |r: Result<Gradients, Error>, what: &str| match r {
        Err(Error::InvalidArgument(msg)) => assert!(!msg.is_empty(), "{what}"),
        other => panic!("{what}: expected InvalidArgument, got {other:?}"),
    };
    for method in [GradientMethod::Adjoint, GradientMethod::ParameterShift] {
        // Upstream of the wrong shape.
        let short = &c.upstream[1..];
        is_invalid(
            backend.gradient_batch(&c.program, &batch, &c.observables, short, method),
            "short upstream",
        );
        let mut long = c.upstream.clone();
        long.push(0.0);
        is_invalid(
            backend.gradient_batch(&c.program, &batch, &c.observables, &long, method),
            "long upstream",
        );
        let mut nan = c.upstream.clone();
        nan[0] = f64::NAN;
        is_invalid(
            backend.gradient_batch(&c.program, &batch, &c.observables, &nan, method),
            "NaN upstream",
        );
        // Per-sample θ of the wrong shape.
        let bad_theta = vec![0.1; c.size * c.theta.len() - 1];
        let b = Batch::per_sample(&bad_theta, &c.inputs, c.size);
        is_invalid(
            backend.gradient_batch(&c.program, &b, &c.observables, &c.upstream, method),
            "per-sample θ shape",
        );
        // Inputs of the wrong shape.
        let bad_x = vec![0.1; c.inputs.len() + 1];
        let b = Batch::shared(&c.theta, &bad_x, c.size);
        is_invalid(
            backend.gradient_batch(&c.program, &b, &c.observables, &c.upstream, method),
            "inputs shape",
        );
        // No observables.
        is_invalid(
            backend.gradient_batch(&c.program, &batch, &[], &[], method),
            "empty observables",
        );
        // Batch size 0.
        let b = Batch::shared(&c.theta, &[], 0);
        is_invalid(
            backend.gradient_batch(&c.program, &b, &c.observables, &[], method),
            "batch size 0",
        );
    }
    // Shared θ of the wrong length.
    let b = Batch::shared(&c.theta[1..], &c.inputs, c.size);
    assert!(matches!(
        backend.gradient_batch(
            &c.program,
            &b,
            &c.observables,
            &c.upstream,
            GradientMethod::Adjoint
        ),
        Err(Error::ParameterCount { .. })
    ));
    // Forward errors.
    assert!(matches!(
        backend.forward_batch(&c.program, &batch, &[]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        backend.forward_batch(&c.program, &Batch::shared(&c.theta, &[], 0), &c.observables),
        Err(Error::InvalidArgument(_))
    ));
    // An observable beyond the circuit's width.
    assert!(matches!(
        backend.forward_batch(&c.program, &batch, &[Observable::z(9)]),
        Err(Error::QubitOutOfRange { .. })
    ));
    // Raw rows of the wrong length.
    let rows = batch.resolve(&c.program);
    assert!(backend
        .forward_rows(
            &c.program,
            &rows[1..],
            c.size,
            &c.observables,
            &BatchConfig::default()
        )
        .is_err());
    assert!(backend
        .adjoint_rows(
            &c.program,
            &rows,
            c.size,
            &c.observables,
            &c.upstream[1..],
            &BatchConfig::default()
        )
        .is_err());
}

/// A budget below one row's states is an out-of-memory error; a zero sub-batch bound is invalid.
fn check_memory_budget_errors(backend: &dyn Backend) {
    let c = case(700, 6, 10, 2);
    let batch = Batch::shared(&c.theta, &c.inputs, c.size);
    let tiny = BatchConfig::default()
        .memory_budget(Some(64))
        .max_sub_batch(None);
    assert!(matches!(
        backend.forward_batch_with(&c.program, &batch, &c.observables, &tiny),
        Err(Error::OutOfDeviceMemory { .. })
    ));
    let opts = GradientConfig::default().batch(tiny);
    let r = backend.gradient_batch_with(&c.program, &batch, &c.observables, &c.upstream, &opts);
    assert!(matches!(r, Err(Error::OutOfDeviceMemory { .. })), "{r:?}");
    let zero = BatchConfig::default()
        .memory_budget(None)
        .max_sub_batch(Some(0));
    assert!(matches!(
        backend.forward_batch_with(&c.program, &batch, &c.observables, &zero),
        Err(Error::InvalidArgument(_))
    ));
}

/// A circuit with no parameterised gates and one with no gates at all.
fn check_degenerate_programs(backend: &dyn Backend, tol: f64) {
    let mut c = Circuit::new(3).unwrap();
    c.h(0).unwrap().cnot(0, 1).unwrap().t(2).unwrap();
    let p = Program::compile(&c);
    let obs = [Observable::parse("Z0 Z1 + 0.5 X2").unwrap()];
    let g = backend
        .gradient_batch(
            &p,
            &Batch::shared(&[], &[], 2),
            &obs,
            &[1.0, -1.0],
            GradientMethod::Adjoint,
        )
        .unwrap();
    assert!(g.theta.is_empty() && g.inputs.is_empty());
    assert_close("values", &[1.0, 1.0], &g.values, tol);
    let empty = Program::compile(&Circuit::new(2).unwrap());
    let v = backend
        .forward_batch(&empty, &Batch::shared(&[], &[], 3), &[Observable::z(1)])
        .unwrap();
    assert_close("|00⟩", &[1.0; 3], &v, tol);
}

// ---------------------------------------------------------------------------------------------
// Every backend of the suite
// ---------------------------------------------------------------------------------------------

/// Runs `check` on each of `backends` with the tolerance of its precision; a failure names the
/// backend.
fn on_each(
    backends: Vec<common::NamedBackend>,
    (f64_tol, f32_tol): (f64, f64),
    check: impl Fn(&dyn Backend, f64),
) {
    assert!(!backends.is_empty(), "no backend to check");
    for (label, backend) in backends {
        let tol = common::precision_tolerance(backend.as_ref(), f64_tol, f32_tol);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(backend.as_ref(), tol)
        }));
        if let Err(e) = run {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{label}: {msg}");
        }
    }
}

/// Adjoint tolerances (f64, f32): the f32 ones cover one forward and one backward sweep of
/// 30–60 gates in single precision (about 1e-6 per gate, summed over ~20 angle occurrences).
const ADJOINT_TOL: (f64, f64) = (1e-10, 5e-4);

#[test]
fn adjoint_matches_reference() {
    on_each(common::adjoint_backends(), ADJOINT_TOL, |b, tol| {
        check_adjoint_matches_reference(b, tol)
    });
}

#[test]
fn adjoint_matches_parameter_shift() {
    on_each(common::adjoint_backends(), (1e-8, 5e-4), |b, tol| {
        check_adjoint_matches_parameter_shift(b, tol)
    });
}

#[test]
fn adjoint_matches_finite_differences() {
    on_each(common::adjoint_backends(), (1e-7, 5e-4), |b, tol| {
        check_adjoint_matches_finite_differences(b, tol)
    });
}

#[test]
fn per_sample_theta_gradients() {
    on_each(common::adjoint_backends(), ADJOINT_TOL, |b, tol| {
        check_per_sample_theta(b, tol)
    });
}

#[test]
fn batched_rows_match_reference() {
    on_each(common::adjoint_backends(), ADJOINT_TOL, |b, tol| {
        check_rows_match_reference(b, tol)
    });
}

#[test]
fn sub_batching_gives_identical_results() {
    on_each(common::adjoint_backends(), ADJOINT_TOL, |b, _| {
        check_sub_batching_is_invisible(b)
    });
}

#[test]
fn error_paths() {
    on_each(common::all_backends(), ADJOINT_TOL, |b, _| {
        check_error_paths(b)
    });
}

#[test]
fn memory_budget_errors() {
    on_each(common::adjoint_backends(), ADJOINT_TOL, |b, _| {
        check_memory_budget_errors(b)
    });
}

#[test]
fn degenerate_programs() {
    on_each(common::all_backends(), (1e-12, 1e-6), |b, tol| {
        check_degenerate_programs(b, tol)
    });
}

/// The chunked GPU configurations have no adjoint sweep: their gradients through parameter
/// shift equal the reference's, and asking them for adjoint is a clear `Unsupported` error.
#[test]
fn chunked_states_differentiate_by_parameter_shift() {
    let chunked: Vec<_> = common::all_backends()
        .into_iter()
        .filter(|(label, _)| label.contains("chunk"))
        .collect();
    if chunked.is_empty() {
        return; // no GPU adapter (allowed by QSHADE_ALLOW_NO_GPU=1, said by the common rule)
    }
    on_each(chunked, (1e-8, 5e-4), |backend, tol| {
        let c = case(800, 5, 30, 2);
        let batch = Batch::shared(&c.theta, &c.inputs, c.size);
        let want = reference_gradients(&c, &batch, false);
        let ps = backend
            .gradient_batch(
                &c.program,
                &batch,
                &c.observables,
                &c.upstream,
                GradientMethod::ParameterShift,
            )
            .unwrap();
        assert_close("dL/dθ", &want.theta, &ps.theta, tol);
        assert_close("dL/dx", &want.inputs, &ps.inputs, tol);
        let adjoint = backend.gradient_batch(
            &c.program,
            &batch,
            &c.observables,
            &c.upstream,
            GradientMethod::Adjoint,
        );
        assert!(matches!(adjoint, Err(Error::Unsupported(_))), "{adjoint:?}");
        // The budget holds for the row-by-row path of states larger than one binding too.
        let tiny = BatchConfig::default().memory_budget(Some(64));
        let r = backend.forward_batch_with(&c.program, &batch, &c.observables, &tiny);
        assert!(matches!(r, Err(Error::OutOfDeviceMemory { .. })), "{r:?}");
    });
}

fn cpu() -> CpuBackend {
    CpuBackend::new()
}

/// The ansatz of the benchmarks (RX encoding, RY/RZ layers, CNOT ring): values and gradient of
/// Σ_b ⟨Z0⟩_b against the reference and parameter shift.
#[test]
fn cpu_benchmark_ansatz_gradient() {
    let (n, layers, size) = (6, 3, 5);
    let mut c = Circuit::new(n).unwrap();
    for q in 0..n {
        c.rx(q, Angle::input(q)).unwrap();
    }
    for l in 0..layers {
        for q in 0..n {
            c.ry(q, Angle::theta(2 * n * l + 2 * q)).unwrap();
            c.rz(q, Angle::theta(2 * n * l + 2 * q + 1)).unwrap();
        }
        for q in 0..n {
            c.cnot(q, (q + 1) % n).unwrap();
        }
    }
    let program = Program::compile(&c);
    let mut rng = Rng::new(9);
    let theta: Vec<f64> = (0..program.num_params())
        .map(|_| rng.range(0.0, 2.0 * PI))
        .collect();
    let x: Vec<f64> = (0..size * n).map(|_| rng.range(0.0, PI)).collect();
    let batch = Batch::shared(&theta, &x, size);
    let obs = [Observable::z(0)];
    let up = vec![1.0; size];
    let backend = cpu();
    let adj = backend
        .gradient_batch(&program, &batch, &obs, &up, GradientMethod::Adjoint)
        .unwrap();
    let ps = backend
        .gradient_batch(&program, &batch, &obs, &up, GradientMethod::ParameterShift)
        .unwrap();
    assert_close("dL/dθ", &ps.theta, &adj.theta, 1e-9);
    assert_close("dL/dx", &ps.inputs, &adj.inputs, 1e-9);
    let want = common::reference_gradients(&program, &batch, &obs, &up, false);
    assert_close("values", &want.values, &adj.values, 1e-12);
    assert_close("dL/dθ vs reference", &want.theta, &adj.theta, 1e-10);
}

/// Fewer rows than threads on a large state (the fast backend runs them through a fast state,
/// parallel inside it): values equal the reference's, whatever the pool size.
#[test]
fn cpu_split_state_forward_matches_reference() {
    let mut rng = Rng::new(900);
    let n = 16;
    let circuit = random_circuit(&mut rng, n, 60, 5, 3);
    let program = Program::compile(&circuit);
    let theta: Vec<f64> = (0..5).map(|_| rng.range(0.0, 2.0 * PI)).collect();
    let x: Vec<f64> = (0..2 * 3).map(|_| rng.range(0.0, PI)).collect();
    let rows = Batch::shared(&theta, &x, 2).resolve(&program);
    let obs = [
        Observable::parse("Z0 Z15 + 0.5 X15 - 0.3 Y7 X0").unwrap(),
        Observable::z(15),
    ];
    let want = reference_forward_rows(&program, &rows, 2, &obs).unwrap();
    for threads in [1, 3, 8] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let got = pool
            .install(|| cpu().forward_rows(&program, &rows, 2, &obs, &BatchConfig::default()))
            .unwrap();
        assert_close(&format!("{threads} threads"), &want, &got, 1e-10);
    }
}

/// As many rows as threads or more on a 16-qubit state: the rows run one after another, each
/// split over the threads (not one row per thread), and still equal the reference row by row.
#[test]
fn cpu_split_state_adjoint_many_rows_matches_reference() {
    let mut rng = Rng::new(902);
    let n = 16;
    let circuit = random_circuit(&mut rng, n, 40, 4, 2);
    let program = Program::compile(&circuit);
    let theta: Vec<f64> = (0..4).map(|_| rng.range(0.0, 2.0 * PI)).collect();
    let x: Vec<f64> = (0..8).map(|_| rng.range(0.0, PI)).collect();
    let batch = Batch::shared(&theta, &x, 4);
    let obs = [Observable::parse("Z0 Z15 - 0.4 X3").unwrap()];
    let upstream = [1.0, -0.5, 0.25, 2.0];
    let want = common::reference_gradients(&program, &batch, &obs, &upstream, false);
    for threads in [2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let got = pool
            .install(|| {
                CpuBackend::new().gradient_batch(
                    &program,
                    &batch,
                    &obs,
                    &upstream,
                    GradientMethod::Adjoint,
                )
            })
            .unwrap();
        let what = format!("{threads} threads");
        assert_close(&format!("{what}: values"), &want.values, &got.values, 1e-10);
        assert_close(&format!("{what}: dL/dθ"), &want.theta, &got.theta, 1e-10);
        assert_close(&format!("{what}: dL/dx"), &want.inputs, &got.inputs, 1e-10);
    }
}

/// A single-sample gradient on a state large enough to split over the threads (VQE's case:
/// one row, so the rows cannot keep the threads busy) equals the reference, whatever the pool
/// size, in both precisions of the fast backend.
#[test]
fn cpu_split_state_adjoint_matches_reference() {
    let mut rng = Rng::new(901);
    let n = 16;
    let circuit = random_circuit(&mut rng, n, 60, 5, 3);
    let program = Program::compile(&circuit);
    let theta: Vec<f64> = (0..5).map(|_| rng.range(0.0, 2.0 * PI)).collect();
    let x: Vec<f64> = (0..3).map(|_| rng.range(0.0, PI)).collect();
    let batch = Batch::shared(&theta, &x, 1);
    let obs = [
        Observable::parse("Z0 Z15 + 0.5 X15 - 0.3 Y7 X0").unwrap(),
        Observable::z(15),
    ];
    let upstream = [1.0, -0.7];
    let want = common::reference_gradients(&program, &batch, &obs, &upstream, false);
    for (precision, tol) in [(Precision::F64, 1e-10), (Precision::F32, 2e-4)] {
        for threads in [1, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let got = pool
                .install(|| {
                    CpuBackend::with_precision(precision).gradient_batch(
                        &program,
                        &batch,
                        &obs,
                        &upstream,
                        GradientMethod::Adjoint,
                    )
                })
                .unwrap();
            let what = format!("{precision:?}, {threads} threads");
            assert_close(&format!("{what}: values"), &want.values, &got.values, tol);
            assert_close(&format!("{what}: dL/dθ"), &want.theta, &got.theta, tol);
            assert_close(&format!("{what}: dL/dx"), &want.inputs, &got.inputs, tol);
        }
    }
    // A circuit without angles takes the same path: values, and no gradient to split.
    let mut plain = Circuit::new(n).unwrap();
    plain.h(0).unwrap().cnot(0, n - 1).unwrap();
    let program = Program::compile(&plain);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let g = pool
        .install(|| {
            cpu().gradient_batch(
                &program,
                &Batch::shared(&[], &[], 1),
                &[Observable::parse("Z0 Z15").unwrap()],
                &[1.0],
                GradientMethod::Adjoint,
            )
        })
        .unwrap();
    assert!(g.theta.is_empty() && g.inputs.is_empty());
    assert_close("⟨Z0 Z15⟩ of a Bell pair", &[1.0], &g.values, 1e-12);
}
