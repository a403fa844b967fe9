//! Seeded random circuits (every gate kind, 0–2 controls, every angle class) of depth 50–200 on
//! 2–14 qubits, on every backend, compared amplitude by amplitude with the CPU reference under
//! the depth-scaled tolerance. Every failure names its seed, width and depth: rerun one with
//! `random_circuit(n, depth, seed)` from `tests/common`.

mod common;

use common::*;
use qshade::{Backend, Bindings, Circuit, Complex64};

/// (n, depth, seed) triples: two seeds per width, depths spread over 50..=200.
fn cases(ns: &[usize]) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    for &n in ns {
        for (i, depth) in [(0u64, 50 + 37 * n % 100), (1, 200)] {
            out.push((n, depth, 1000 * n as u64 + i));
        }
    }
    out
}

/// The reference amplitudes of `circuit` run from |0…0⟩.
fn reference(circuit: &Circuit, b: &Bindings<'_>) -> Vec<Complex64> {
    cpu().run(circuit, b).unwrap().amplitudes().unwrap()
}

fn check_widths(ns: &[usize]) {
    let mut failures = Failures::default();
    let backends = all_backends();
    for (n, depth, seed) in cases(ns) {
        let (circuit, theta, x) = random_circuit(n, depth, seed);
        let b = Bindings::new(&theta, &x);
        let expected = reference(&circuit, &b);
        for (name, backend) in &backends {
            let context = format!("random_circuit(n={n}, depth={depth}, seed={seed}) on {name}");
            let tol = tolerance(backend.precision(), depth);
            failures.check(
                match backend.run(&circuit, &b).and_then(|s| s.amplitudes()) {
                    Ok(actual) => {
                        // Visible with --nocapture: the real error next to the bound.
                        eprintln!(
                            "{context}: worst |diff| {:.2e} (tolerance {tol:.1e})",
                            max_diff(&expected, &actual)
                        );
                        state_mismatch(&expected, &actual, tol, &context)
                    }
                    Err(e) => Some(format!("{context}: error {e}")),
                },
            );
        }
    }
    failures.finish(&format!("random circuits on n = {ns:?}"));
}

#[test]
fn random_circuits_small_widths() {
    check_widths(&[2, 3, 5]);
}

#[test]
fn random_circuits_8_qubits() {
    check_widths(&[8]);
}

#[test]
fn random_circuits_11_qubits() {
    check_widths(&[11]);
}

#[test]
fn random_circuits_14_qubits() {
    check_widths(&[14]);
}

#[test]
fn random_circuits_cover_every_kind_and_angle_class() {
    // The generator's promise, checked: every kind that fits, controls 0–2, every angle class.
    use qshade::{Angle, GateKind};
    let (circuit, theta, x) = random_circuit(5, 100, 3);
    let kinds: std::collections::BTreeSet<usize> = circuit
        .gates()
        .iter()
        .map(|g| kind_index(&g.kind))
        .collect();
    assert_eq!(kinds.len(), NUM_KINDS);
    let controls: std::collections::BTreeSet<usize> =
        circuit.gates().iter().map(|g| g.controls.len()).collect();
    assert_eq!(controls, [0, 1, 2].into());
    let angles: Vec<Angle> = circuit
        .gates()
        .iter()
        .flat_map(|g| g.kind.angles())
        .collect();
    assert!(angles.iter().any(|a| matches!(a, Angle::Const(_))));
    assert!(angles.iter().any(
        |a| matches!(a, Angle::Theta { scale, offset, .. } if *scale == 1.0 && *offset == 0.0)
    ));
    assert!(angles
        .iter()
        .any(|a| matches!(a, Angle::Theta { scale, .. } if *scale != 1.0)));
    assert!(angles.iter().any(
        |a| matches!(a, Angle::Input { scale, offset, .. } if *scale == 1.0 && *offset == 0.0)
    ));
    assert!(angles
        .iter()
        .any(|a| matches!(a, Angle::Input { scale, .. } if *scale != 1.0)));
    assert!(circuit
        .gates()
        .iter()
        .any(|g| matches!(g.kind, GateKind::Unitary2(_)) && !g.controls.is_empty()));
    assert_eq!(
        (theta.len(), x.len()),
        (circuit.num_params(), circuit.num_inputs())
    );
    // Same seed, same circuit; another seed, another circuit.
    assert_eq!(random_circuit(5, 100, 3).0, circuit);
    assert_ne!(random_circuit(5, 100, 4).0, circuit);
}

#[test]
fn f32_emulator_stays_within_the_depth_scaled_tolerance() {
    // Positive control of the f32 bound at the largest depth and width used above: a backend
    // that does every gate in f32 arithmetic must pass; so must, by the same margin, the GPU.
    use common::emulated::Simulate;
    let emulator = common::emulated::F32Emulator;
    for (n, depth, seed) in cases(&[2, 8, 14]) {
        let (circuit, theta, x) = random_circuit(n, depth, seed);
        let b = Bindings::new(&theta, &x);
        let expected = reference(&circuit, &b);
        let actual = emulator
            .sim_run(&circuit, &b)
            .unwrap()
            .amplitudes()
            .unwrap();
        let tol = tolerance(qshade::Precision::F32, depth);
        assert_state_close(
            &expected,
            &actual,
            tol,
            &format!("random_circuit(n={n}, depth={depth}, seed={seed}) on f32 emulator"),
        );
        let worst = max_diff(&expected, &actual);
        eprintln!(
            "f32 emulator n={n} depth={depth}: worst |diff| {worst:.2e}, tolerance {tol:.2e}"
        );
    }
}

#[test]
fn random_input_state_then_circuit_in_two_halves() {
    // state_from_amplitudes + two apply calls on the same state = one run of the whole circuit.
    let mut failures = Failures::default();
    for (n, depth, seed) in [(4usize, 120usize, 41u64), (9, 160, 42), (12, 80, 43)] {
        let (circuit, theta, x) = random_circuit(n, depth, seed);
        let b = Bindings::new(&theta, &x);
        let (mut first, mut second) = (Circuit::new(n).unwrap(), Circuit::new(n).unwrap());
        for half in [&mut first, &mut second] {
            half.declare_params(circuit.num_params())
                .declare_inputs(circuit.num_inputs());
        }
        for (i, g) in circuit.gates().iter().enumerate() {
            if i < depth / 2 {
                &mut first
            } else {
                &mut second
            }
            .add(g.clone())
            .unwrap();
        }
        let input = random_state(n, seed);
        let mut reference = cpu().state_from_amplitudes(&input).unwrap();
        reference.apply(&circuit, &b).unwrap();
        let expected = reference.amplitudes().unwrap();
        for (name, backend) in all_backends() {
            let context = format!(
                "random_circuit(n={n}, depth={depth}, seed={seed}) in two halves on {name}"
            );
            let result = backend.state_from_amplitudes(&input).and_then(|mut s| {
                s.apply(&first, &b)?;
                s.apply(&second, &b)?;
                s.amplitudes()
            });
            failures.check(match result {
                Ok(actual) => state_mismatch(
                    &expected,
                    &actual,
                    tolerance(backend.precision(), depth),
                    &context,
                ),
                Err(e) => Some(format!("{context}: error {e}")),
            });
        }
    }
    failures.finish("circuits applied in two halves");
}

#[test]
fn circuit_then_its_inverse_returns_to_zero() {
    // A property that does not trust the reference: U then U† gives |0…0⟩ on every backend,
    // and the norm stays 1.
    for (n, depth, seed) in [(3usize, 100usize, 51u64), (7, 150, 52), (10, 100, 53)] {
        let (circuit, theta, x) = random_circuit(n, depth, seed);
        let b = Bindings::new(&theta, &x);
        let inverse = circuit.inverse_bound(&b).unwrap();
        for (name, backend) in all_backends() {
            let context =
                format!("random_circuit(n={n}, depth={depth}, seed={seed}) then inverse on {name}");
            let mut state = backend.run(&circuit, &b).unwrap();
            let norm: f64 = state.probabilities().unwrap().iter().sum();
            assert!(
                (norm - 1.0).abs() <= 2.0 * tolerance(backend.precision(), depth),
                "{context}: norm² {norm}"
            );
            state.apply(&inverse, &Bindings::none()).unwrap();
            assert_state_close(
                &basis_state(n, 0),
                &state.amplitudes().unwrap(),
                tolerance(backend.precision(), 2 * depth),
                &context,
            );
        }
    }
}

#[test]
fn rebinding_one_circuit_gives_each_bindings_result() {
    // Running the same circuit object with new θ and x must not reuse anything resolved for
    // the previous bindings (a backend that caches bound matrices per circuit would fail).
    let (circuit, theta, x) = random_circuit(6, 80, 61);
    let theta2: Vec<f64> = theta.iter().map(|t| 0.5 - 1.3 * t).collect();
    let x2: Vec<f64> = x.iter().map(|v| v + 0.9).collect();
    let bindings = [
        Bindings::new(&theta, &x),
        Bindings::new(&theta2, &x2),
        Bindings::new(&theta, &x2),
        Bindings::new(&theta, &x),
    ];
    let expected: Vec<Vec<Complex64>> = bindings.iter().map(|b| reference(&circuit, b)).collect();
    assert!(
        max_diff(&expected[0], &expected[1]) > 1e-3 && max_diff(&expected[0], &expected[2]) > 1e-3,
        "the bindings must matter"
    );
    for (name, backend) in all_backends() {
        for (i, b) in bindings.iter().enumerate() {
            let actual = backend.run(&circuit, b).unwrap().amplitudes().unwrap();
            assert_state_close(
                &expected[i],
                &actual,
                tolerance(backend.precision(), 80),
                &format!("seed 61, bindings #{i}, on {name}"),
            );
        }
    }
}

#[test]
fn repeated_circuits_run_through_compiled_register_blocks() {
    // A gate run's register-block kernel is compiled when its structure repeats, so the first
    // run of a circuit goes (mostly) one dispatch per op and the second through the generated
    // block kernels: both must match the reference, and the second must really use blocks.
    let mut failures = Failures::default();
    for c in common::gpu::CONFIGS
        .iter()
        .filter(|c| c.register_blocks > 0)
    {
        let Some(gpu) = common::gpu::try_gpu(
            common::gpu::config(c.precision, c.chunk)
                .tile_fusion(c.tile_fusion)
                .fusion_qubits(c.fusion_qubits)
                .register_blocks(Some(c.register_blocks)),
        ) else {
            continue;
        };
        assert_eq!(
            gpu.register_block_qubits(),
            c.register_blocks,
            "{}",
            c.label
        );
        for (n, depth, seed) in [
            (3usize, 60usize, 61u64),
            (6, 90, 62),
            (9, 60, 63),
            (12, 40, 64),
        ] {
            let (circuit, theta, x) = random_circuit(n, depth, seed);
            let b = Bindings::new(&theta, &x);
            let expected = reference(&circuit, &b);
            let tol = tolerance(c.precision, depth);
            for round in ["first", "second"] {
                let context = format!(
                    "random_circuit(n={n}, depth={depth}, seed={seed}), {round} run on gpu-{}",
                    c.label
                );
                failures.check(match gpu.run(&circuit, &b).and_then(|s| s.amplitudes()) {
                    Ok(actual) => state_mismatch(&expected, &actual, tol, &context),
                    Err(e) => Some(format!("{context}: error {e}")),
                });
            }
        }
        // Runs of two or more ops on a block are common at these depths; some repeated, so
        // the block kernels really ran (a run compiles on its second sighting).
        if gpu.compiled_register_blocks() == 0 {
            failures.check(Some(format!(
                "gpu-{}: no register block was compiled",
                c.label
            )));
        }
    }
    failures.finish("repeated circuits through register blocks");
}
