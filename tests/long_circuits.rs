//! Long circuits (5,000+ random gates of every kind, with controls) on every backend: the
//! state, expectation values, `forward_batch` and adjoint gradients against the f64 reference.
//!
//! Why: the GPU fuses runs of gates into one dispatch (workgroup tiles, register blocks), and
//! a run with an unbounded number of gates waits at an unbounded number of workgroup barriers
//! in one dispatch, which software adapters (lavapipe) silently corrupt past a few thousand.
//! Short circuits never reach such a bound; these do. Widths stay at 6–12 qubits so the whole
//! file runs in seconds on a software adapter.
//!
//! Tolerances are those of `tests/common` for the circuit's depth (see `tolerance`): loose
//! for f32 at this depth (1e-2), but a corrupted state is off by O(1).

mod common;

use common::*;
use qshade::{Batch, Bindings, Observable, Program};

/// Gates in every long circuit: past the ~3,600 barriers per dispatch at which lavapipe went
/// wrong (at n = 6 every gate fits one 6-qubit tile, so an uncapped tile run is the whole
/// circuit).
const DEPTH: usize = 5_200;

fn observables(n: usize) -> Vec<Observable> {
    vec![
        Observable::z(0),
        Observable::parse(&format!("0.5 Z0 Z{} - 0.3 X1 Y2 + 0.25", n - 1)).unwrap(),
        Observable::parse(&format!("0.7 X0 X{} + 0.2 Y{}", n - 1, n / 2)).unwrap(),
    ]
}

#[test]
fn long_random_circuits_match_the_reference() {
    let mut failures = Failures::default();
    let backends = all_backends();
    // n = 6 on every backend; n = 12 (one 12-qubit tile per state) where states are not split
    // into the 8-amplitude chunks of the `chunk3` configurations, whose 512 chunks per gate
    // would make 5,000 gates minutes long on a software adapter.
    for (n, seed) in [(6usize, 71u64), (12, 72)] {
        let (circuit, theta, x) = random_circuit(n, DEPTH, seed);
        let b = Bindings::new(&theta, &x);
        let reference = cpu().run(&circuit, &b).unwrap();
        let expected = reference.amplitudes().unwrap();
        let obs = observables(n);
        let want = reference.expectations(&obs).unwrap();
        for (name, backend) in &backends {
            if n > 6 && name.contains("chunk") {
                continue;
            }
            let context = format!("random_circuit(n={n}, depth={DEPTH}, seed={seed}) on {name}");
            let tol = tolerance(backend.precision(), DEPTH);
            let state = match backend.run(&circuit, &b) {
                Ok(s) => s,
                Err(e) => {
                    failures.check(Some(format!("{context}: error {e}")));
                    continue;
                }
            };
            failures.check(match state.amplitudes() {
                Ok(actual) => state_mismatch(&expected, &actual, tol, &context),
                Err(e) => Some(format!("{context}: error {e}")),
            });
            let etol = expectation_tolerance(backend.precision(), n, DEPTH, 1.5);
            failures.check(match state.expectations(&obs) {
                Ok(got) => want
                    .iter()
                    .zip(&got)
                    .position(|(w, g)| (w - g).abs() > etol || g.is_nan())
                    .map(|j| {
                        format!(
                            "{context}: <O_{j}> {} vs reference {} (tolerance {etol:.1e})",
                            got[j], want[j]
                        )
                    }),
                Err(e) => Some(format!("{context}: expectations: error {e}")),
            });
        }
    }
    failures.finish("long random circuits");
}

/// The backends whose adjoint gradients are checked on the long circuit.
const GRADIENT_BACKENDS: [&str; 3] = ["cpu-fast-f64", "gpu-f32", "gpu-f64"];

#[test]
fn long_circuit_batches_and_gradients_match_the_reference() {
    check_batches(6, 73, &|_| true);
    // n = 12: one 12-qubit tile per state, where an uncapped tile run went wrong; on the tile
    // configurations only (the others repeat the n = 6 checks at 64 times the cost).
    check_batches(12, 74, &|name| ["gpu-f32", "gpu-f64"].contains(&name));
}

/// `forward_batch` on the backends `on` selects, and adjoint gradients on those of them in
/// [`GRADIENT_BACKENDS`], for a long random circuit on `n` qubits.
fn check_batches(n: usize, seed: u64, on: &dyn Fn(&str) -> bool) {
    let rows = 2;
    let (circuit, theta, x) = random_circuit(n, DEPTH, seed);
    let program = Program::compile(&circuit);
    let inputs: Vec<f64> = (0..rows)
        .flat_map(|r| x.iter().map(move |v| v + 0.1 * r as f64))
        .collect();
    let batch = Batch::shared(&theta, &inputs, rows);
    let obs = observables(n);
    let upstream: Vec<f64> = (0..rows * obs.len())
        .map(|k| 0.3 - 0.1 * k as f64)
        .collect();
    let want = reference_gradients(&program, &batch, &obs, &upstream, false);
    let mut failures = Failures::default();
    for (name, backend) in all_backends() {
        if !on(&name) {
            continue;
        }
        let context = format!("n={n}, depth={DEPTH} on {name}");
        let start = std::time::Instant::now();
        let tol = expectation_tolerance(backend.precision(), n, DEPTH, 1.5);
        failures.check(match backend.forward_batch(&program, &batch, &obs) {
            Ok(values) => want
                .values
                .iter()
                .zip(&values)
                .position(|(w, g)| (w - g).abs() > tol || g.is_nan())
                .map(|k| {
                    format!(
                        "{context}: forward_batch value {k}: {} vs {}",
                        values[k], want.values[k]
                    )
                }),
            Err(e) => Some(format!("{context}: forward_batch: error {e}")),
        });
        // An adjoint sweep of 5,000 gates takes up to 40 s per backend on a software adapter
        // (register blocks): the gradients are checked on the tile configurations (the
        // default on real GPUs) and one fast CPU configuration.
        eprintln!("{context}: forward_batch checked at {:?}", start.elapsed());
        if !GRADIENT_BACKENDS.contains(&name.as_str()) {
            continue;
        }
        let got = backend.gradient_batch(
            &program,
            &batch,
            &obs,
            &upstream,
            qshade::GradientMethod::Adjoint,
        );
        // A gradient sums one term per angle occurrence: scale the bound by the batch.
        let gtol = tol * rows as f64 * 4.0;
        failures.check(match got {
            Ok(g) => want
                .theta
                .iter()
                .zip(&g.theta)
                .chain(want.inputs.iter().zip(&g.inputs))
                .position(|(w, g)| (w - g).abs() > gtol || g.is_nan())
                .map(|k| format!("{context}: gradient entry {k} off (tolerance {gtol:.1e})")),
            Err(e) => Some(format!("{context}: gradient_batch: error {e}")),
        });
        eprintln!("{context}: gradients checked at {:?}", start.elapsed());
    }
    failures.finish("long-circuit batches and gradients");
}
