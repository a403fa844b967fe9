//! The fast CPU backend against the reference on states large enough to be split into tiles:
//! every tiling path (contiguous and gathered tiles, controls outside a tile, permutations and
//! diagonals folded into the write-back, diagonals pushed through permutations, parallel
//! tiles), fusion settings, both precisions, and the reads (amplitudes, probabilities,
//! marginals, expectations, sampling) and the one-row forward path on such states.
//!
//! Tolerances are those of the rest of the suite (`common::tolerance`).

mod common;

use common::reference_forward_rows;
use common::rng::Rng;
use common::*;
use qshade::CpuConfig;
use qshade::{
    Angle, Backend, Batch, BatchConfig, Bindings, Circuit, CpuBackend, Gate, GateKind, Observable,
    Precision, Program,
};

/// Configurations that force every path on 9–14 qubits.
fn configs() -> Vec<(String, CpuConfig)> {
    let mut out = Vec::new();
    for precision in [Precision::F64, Precision::F32] {
        for (tile, run, fusion, parallel) in [
            (None, 4, 1, 14),
            (Some(5), 3, 1, 0),
            (Some(6), 3, 2, 0),
            (Some(7), 4, 3, 0),
            (Some(8), 3, 1, 9),
            (Some(9), 5, 4, 0),
        ] {
            let config = CpuConfig::default()
                .precision(precision)
                .tile_qubits(tile)
                .min_run_qubits(run)
                .fusion_qubits(fusion)
                .parallel_qubits(parallel);
            out.push((format!("{precision:?} tile {tile:?} run {run} fusion {fusion} parallel from {parallel}"), config));
        }
    }
    out
}

/// Random gates biased to permutations and diagonals (the ops the planner moves and folds),
/// with controls anywhere.
fn perm_diag_circuit(n: usize, depth: usize, seed: u64) -> Circuit {
    let mut rng = Rng::new(seed);
    let mut c = Circuit::new(n).unwrap();
    let mut qubits: Vec<usize> = (0..n).collect();
    for _ in 0..depth {
        rng.shuffle(&mut qubits);
        let (a, b, d) = (qubits[0], qubits[1], qubits[2]);
        let t = rng.range(-3.0, 3.0);
        match rng.below(16) {
            0 => c.x(a),
            1 | 2 => c.cnot(a, b),
            3 => c.toffoli(a, b, d),
            4 => c.swap(a, b),
            5 => c.add(Gate::controlled(GateKind::Swap, &[d], &[a, b])),
            6 => c.cz(a, b),
            7 => c.rz(a, t),
            8 => c.phase(a, t),
            9 => c.cphase(a, b, t),
            10 => c.rzz(a, b, t),
            11 => c.ry(a, t),
            12 => c.rx(a, t),
            13 => c.h(a),
            14 => c.u3(a, t, 0.5 * t, -t),
            _ => c.crz(a, b, t),
        }
        .unwrap();
    }
    c
}

/// The ansatz of the benchmark: RY, RZ on every qubit, then a ring of CNOTs.
fn ansatz(n: usize, layers: usize, seed: u64) -> Circuit {
    let mut rng = Rng::new(seed);
    let mut c = Circuit::new(n).unwrap();
    for _ in 0..layers {
        for q in 0..n {
            c.ry(q, rng.range(0.0, 6.0))
                .unwrap()
                .rz(q, rng.range(0.0, 6.0))
                .unwrap();
        }
        for q in 0..n {
            c.cnot(q, (q + 1) % n).unwrap();
        }
    }
    c
}

fn check_circuit(
    label: &str,
    circuit: &Circuit,
    theta: &[f64],
    inputs: &[f64],
    input_state: &[qshade::Complex64],
) {
    let bindings = Bindings::new(theta, inputs);
    let mut reference = cpu().state_from_amplitudes(input_state).unwrap();
    reference.apply(circuit, &bindings).unwrap();
    let want = reference.amplitudes().unwrap();
    let depth = circuit.gates().len();
    for (name, config) in configs() {
        let backend = CpuBackend::with_config(config);
        let mut state = backend.state_from_amplitudes(input_state).unwrap();
        state.apply(circuit, &bindings).unwrap();
        let tol = tolerance(config.precision, depth);
        assert_state_close(
            &want,
            &state.amplitudes().unwrap(),
            tol,
            &format!("{label} on {name}"),
        );
    }
}

#[test]
fn random_circuits_match_the_reference_on_tiled_states() {
    for (n, depth, seed) in [(9, 120, 1u64), (10, 150, 2), (11, 100, 3), (12, 80, 4)] {
        let (circuit, theta, inputs) = random_circuit(n, depth, seed);
        check_circuit(
            &format!("random_circuit({n}, {depth}, {seed})"),
            &circuit,
            &theta,
            &inputs,
            &random_state(n, seed),
        );
    }
}

#[test]
fn permutation_and_diagonal_circuits_match_the_reference() {
    for (n, depth, seed) in [(9, 200, 11u64), (10, 200, 12), (12, 160, 13), (13, 120, 14)] {
        let circuit = perm_diag_circuit(n, depth, seed);
        check_circuit(
            &format!("perm_diag_circuit({n}, {depth}, {seed})"),
            &circuit,
            &[],
            &[],
            &random_state(n, seed),
        );
    }
}

#[test]
fn benchmark_circuits_match_the_reference() {
    for n in [9usize, 12, 14] {
        check_circuit(
            &format!("ansatz n={n}"),
            &ansatz(n, 4, n as u64),
            &[],
            &[],
            &basis_state(n, 0),
        );
        let mut g1 = Circuit::new(n).unwrap();
        let mut g2 = Circuit::new(n).unwrap();
        for k in 0..100 {
            if k % 2 == 0 {
                g1.h(k % n).unwrap();
            } else {
                g1.rx(k % n, 0.3).unwrap();
            }
            g2.cnot(k % n, (k + 1) % n).unwrap();
        }
        check_circuit(&format!("gate1q n={n}"), &g1, &[], &[], &random_state(n, 5));
        check_circuit(&format!("gate2q n={n}"), &g2, &[], &[], &random_state(n, 6));
    }
}

#[test]
fn reads_match_the_reference_on_parallel_states() {
    let n = 15;
    let circuit = ansatz(n, 2, 21);
    let obs = [
        Observable::parse("Z0 + 0.5 X1 Y2 - 0.3 Z3 Z14 + 0.2").unwrap(),
        Observable::parse("X14 X0 + Y7 Z9").unwrap(),
        Observable::z(14),
    ];
    let reference = cpu().run(&circuit, &Bindings::none()).unwrap();
    let want_probs = reference.probabilities().unwrap();
    let want_values = reference.expectations(&obs).unwrap();
    let qubits = [14usize, 0, 7];
    let want_marginal = reference.marginal_probabilities(&qubits).unwrap();
    for (name, config) in configs() {
        let state = CpuBackend::with_config(config)
            .run(&circuit, &Bindings::none())
            .unwrap();
        let tol = tolerance(config.precision, circuit.gates().len());
        for (k, (w, g)) in want_probs
            .iter()
            .zip(state.probabilities().unwrap())
            .enumerate()
        {
            assert!(
                (w - g).abs() <= 2.0 * tol,
                "{name}: probability {k}: {g} vs {w}"
            );
        }
        for (k, (w, g)) in want_values
            .iter()
            .zip(state.expectations(&obs).unwrap())
            .enumerate()
        {
            assert_close(
                *w,
                g,
                expectation_tolerance(config.precision, n, circuit.gates().len(), 2.0),
                &format!("{name}: observable {k}"),
            );
        }
        for (k, (w, g)) in want_marginal
            .iter()
            .zip(state.marginal_probabilities(&qubits).unwrap())
            .enumerate()
        {
            assert!(
                (w - g).abs() <= 2.0 * tol * 8.0,
                "{name}: marginal {k}: {g} vs {w}"
            );
        }
        let all: Vec<usize> = (0..n).rev().collect();
        let full = state.marginal_probabilities(&all).unwrap();
        assert_eq!(full.len(), 1 << n, "{name}");
        let samples = state.sample(20_000, 3).unwrap();
        assert!(
            samples.iter().all(|&s| s < 1 << n),
            "{name}: sample out of range"
        );
        // The mean of Z14 from the samples agrees with ⟨Z14⟩ within 5 standard errors.
        let mean = samples
            .iter()
            .map(|&s| if s >> 14 & 1 == 0 { 1.0 } else { -1.0 })
            .sum::<f64>()
            / samples.len() as f64;
        assert!(
            (mean - want_values[2]).abs() < 5.0 / (samples.len() as f64).sqrt(),
            "{name}: sampled ⟨Z14⟩ {mean} vs {}",
            want_values[2]
        );
    }
}

#[test]
fn one_row_forward_runs_a_fast_state_of_the_backend_precision() {
    // From 12 qubits, one row goes through a fast state (tiles in parallel) rather than the
    // batched rows path: same values as the reference rows.
    let n = 13;
    let mut c = Circuit::new(n).unwrap();
    for q in 0..n {
        c.ry(q, Angle::theta(q))
            .unwrap()
            .rz(q, Angle::theta(q).times(0.5).plus(0.1))
            .unwrap();
    }
    for q in 0..n {
        c.cnot(q, (q + 1) % n).unwrap();
    }
    let program = Program::compile(&c);
    let theta: Vec<f64> = (0..n).map(|q| 0.3 + 0.1 * q as f64).collect();
    let obs = [
        Observable::z(0),
        Observable::parse("X3 X4 + 0.5 Z12").unwrap(),
    ];
    let rows = Batch::shared(&theta, &[], 1).resolve(&program);
    let want = reference_forward_rows(&program, &rows, 1, &obs).unwrap();
    for precision in [Precision::F64, Precision::F32] {
        let backend = CpuBackend::with_precision(precision);
        let got = backend
            .forward_batch(&program, &Batch::shared(&theta, &[], 1), &obs)
            .unwrap();
        for (w, g) in want.iter().zip(&got) {
            assert_close(
                *w,
                *g,
                expectation_tolerance(precision, n, c.gates().len(), 1.5),
                &format!("{precision:?} one-row forward"),
            );
        }
        // The backend keeps the state between calls: other rows, another width, then back.
        for (k, width) in [n, 12, n].into_iter().enumerate() {
            let mut c2 = Circuit::new(width).unwrap();
            for q in 0..width {
                c2.ry(q, Angle::theta(q)).unwrap();
            }
            c2.cnot(0, width - 1).unwrap();
            let p2 = Program::compile(&c2);
            let th: Vec<f64> = (0..width)
                .map(|q| 0.7 * k as f64 + 0.2 * q as f64)
                .collect();
            let rows2 = Batch::shared(&th, &[], 1).resolve(&p2);
            let want2 = reference_forward_rows(&p2, &rows2, 1, &obs[..1]).unwrap();
            let got2 = backend
                .forward_batch(&p2, &Batch::shared(&th, &[], 1), &obs[..1])
                .unwrap();
            assert_close(
                want2[0],
                got2[0],
                expectation_tolerance(precision, width, width + 1, 1.0),
                &format!("{precision:?} call {k} on {width} qubits"),
            );
        }
        let tiny = BatchConfig::default()
            .memory_budget(Some(64))
            .max_sub_batch(None);
        assert!(matches!(
            backend.forward_rows(&program, &rows, 1, &obs, &tiny),
            Err(qshade::Error::OutOfDeviceMemory { .. })
        ));
        assert!(matches!(
            backend.forward_rows(&program, &rows[1..], 1, &obs, &BatchConfig::default()),
            Err(qshade::Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn backends_report_their_precision_and_name() {
    assert_eq!(CpuBackend::reference().precision(), Precision::F64);
    assert_eq!(CpuBackend::reference().name(), "cpu-reference (f64)");
    assert_eq!(CpuBackend::new().precision(), Precision::F64);
    assert_eq!(
        CpuBackend::with_precision(Precision::F32).precision(),
        Precision::F32
    );
    assert!(CpuBackend::reference().config().is_none());
    assert_eq!(CpuBackend::new().config(), Some(CpuConfig::default()));
}

/// The number of rows that keeps every thread of rayon's pool busy (so that a forward call
/// takes the batched rows path, not the one-state path), as rayon sizes its pool.
fn rows_for_all_threads() -> usize {
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |p| p.get()));
    2 * threads + 2
}

#[test]
fn every_batched_call_runs_in_the_backend_precision() {
    // A backend's precision is that of every call it makes, whatever the thread count: an
    // f32 backend's forward over many rows (rows in parallel), its forward over one row
    // (one fast state) and its adjoint all carry f32 rounding — they agree with the f64
    // reference to f32 tolerance but not to f64 rounding — while the f64 backend's calls
    // agree with it to f64 rounding. And an f32 row needs half the memory of an f64 row.
    let n = 12;
    let layers = 6;
    let mut c = Circuit::new(n).unwrap();
    for l in 0..layers {
        for q in 0..n {
            c.ry(q, Angle::theta(l * n + q))
                .unwrap()
                .rz(q, Angle::theta(l * n + q).times(0.7).plus(0.2))
                .unwrap();
        }
        for q in 0..n {
            c.cnot(q, (q + 1) % n).unwrap();
        }
    }
    let program = Program::compile(&c);
    let depth = c.gates().len();
    let obs = [
        Observable::z(0),
        Observable::parse("X3 X4 + 0.5 Z11 - 0.25 Y1 Y7").unwrap(),
    ];
    let num_rows = rows_for_all_threads();
    let mut rng = Rng::new(31);
    let theta: Vec<f64> = (0..num_rows * program.num_params())
        .map(|_| rng.range(-3.0, 3.0))
        .collect();
    let rows = Batch::per_sample(&theta, &[], num_rows).resolve(&program);
    let na = program.num_angles();
    let upstream: Vec<f64> = (0..num_rows * obs.len())
        .map(|k| 0.5 - 0.1 * k as f64)
        .collect();
    let reference = CpuBackend::reference();
    let options = BatchConfig::default();
    let want = reference
        .forward_rows(&program, &rows, num_rows, &obs, &options)
        .unwrap();
    let (want_v, want_g) = reference
        .adjoint_rows(&program, &rows, num_rows, &obs, &upstream, &options)
        .unwrap();
    let max_diff = |a: &[f64], b: &[f64]| {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    for precision in [Precision::F64, Precision::F32] {
        let backend = CpuBackend::with_precision(precision);
        let many = backend
            .forward_rows(&program, &rows, num_rows, &obs, &options)
            .unwrap();
        let one: Vec<f64> = (0..num_rows)
            .flat_map(|r| {
                backend
                    .forward_rows(&program, &rows[r * na..(r + 1) * na], 1, &obs, &options)
                    .unwrap()
            })
            .collect();
        let (values, grads) = backend
            .adjoint_rows(&program, &rows, num_rows, &obs, &upstream, &options)
            .unwrap();
        let tol = expectation_tolerance(precision, n, depth, 2.0);
        // Per-occurrence gradients: one derivative per angle, with |upstream| ≤ 1.5 per
        // observable: the tolerance of a value times the upstream weight, per gate behind it.
        let grad_tol = 4.0 * tol;
        let diffs = [
            ("many rows", max_diff(&want, &many), tol),
            ("one row at a time", max_diff(&want, &one), tol),
            ("adjoint values", max_diff(&want_v, &values), tol),
            ("adjoint gradients", max_diff(&want_g, &grads), grad_tol),
        ];
        for (what, d, tol) in diffs {
            assert!(
                d <= tol,
                "{precision:?} {what}: max |Δ| {d:.3e} > {tol:.3e}"
            );
            match precision {
                // f64 rounding: far below any f32 difference.
                Precision::F64 => assert!(d < 1e-10, "f64 {what}: max |Δ| {d:.3e}"),
                // f32 rounding over ~150 gates shows well above f64 rounding.
                Precision::F32 => assert!(
                    d > 1e-9,
                    "f32 {what}: max |Δ| {d:.3e} is f64 rounding: the call did not run in f32"
                ),
            }
        }
        // Many rows and one row at a time agree to f32 rounding (both run in the same
        // precision, with different kernels).
        assert!(max_diff(&many, &one) <= 2.0 * tol);
    }
    // Memory: ψ (forward) or ψ and λ (adjoint) per row, at 8 bytes per amplitude in f32 and
    // 16 in f64.
    let tiny = BatchConfig::default().memory_budget(Some(1024));
    let needed = |precision: Precision, adjoint: bool| {
        let backend = CpuBackend::with_precision(precision);
        let err = if adjoint {
            backend
                .adjoint_rows(&program, &rows, num_rows, &obs, &upstream, &tiny)
                .map(|_| ())
        } else {
            backend
                .forward_rows(&program, &rows, num_rows, &obs, &tiny)
                .map(|_| ())
        };
        match err {
            Err(qshade::Error::OutOfDeviceMemory { needed, available }) => {
                assert_eq!(available, 1024);
                needed
            }
            other => panic!("{precision:?} adjoint {adjoint}: {other:?}"),
        }
    };
    assert_eq!(needed(Precision::F64, true), 32 << n);
    assert_eq!(needed(Precision::F32, true), 16 << n);
    assert_eq!(needed(Precision::F64, false), 16 << n);
    assert_eq!(needed(Precision::F32, false), 8 << n);
}
