//! Every user-facing error path: the specific `Error` variant with its fields, and a Display
//! message that names the problem. Backend-level paths run on every backend and must give the
//! same error as the reference. (GPU-only errors, such as OutOfDeviceMemory, are in
//! `gpu_errors.rs`.)

mod common;

use common::*;
use qshade::circuit::{check_unitary, MAX_QUBITS, UNITARY_TOLERANCE};
use qshade::{
    Angle, Bindings, Circuit, Complex64, Error, Gate, GateKind, Observable, Pauli, PauliTerm,
    QuantumState,
};

/// Asserts `result` is the error `expected` and that its message contains every `needle`.
#[track_caller]
fn assert_error<T: std::fmt::Debug>(
    result: qshade::Result<T>,
    expected: &Error,
    needles: &[&str],
    context: &str,
) {
    match result {
        Ok(v) => panic!("{context}: expected error {expected:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(&e, expected, "{context}: wrong error");
            let msg = e.to_string();
            for needle in needles {
                assert!(
                    msg.contains(needle),
                    "{context}: message {msg:?} does not mention {needle:?}"
                );
            }
        }
    }
}

fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

/// Boxed states do not implement Debug; map them to the width for `assert_error`.
fn width(r: qshade::Result<Box<dyn QuantumState>>) -> qshade::Result<usize> {
    r.map(|s| s.num_qubits())
}

// ---------------------------------------------------------------------------------------------
// Circuit building.

#[test]
fn qubit_out_of_range_in_gates() {
    let oor = |qubit| Error::QubitOutOfRange {
        qubit,
        num_qubits: 3,
    };
    let needles = |q: usize| {
        vec![
            format!("qubit {q} is out of range"),
            "0..2".to_string(),
            "3 qubits".to_string(),
        ]
    };
    let mut circuit = Circuit::new(3).unwrap();
    circuit.h(0).unwrap();
    type Build = fn(&mut Circuit) -> qshade::Result<&mut Circuit>;
    let cases: Vec<(&str, usize, Build)> = vec![
        ("h(3)", 3, |c| c.h(3)),
        ("rx(7, 0.1)", 7, |c| c.rx(7, 0.1)),
        ("cnot(0, 3)", 3, |c| c.cnot(0, 3)),
        ("cnot(3, 0)", 3, |c| c.cnot(3, 0)),
        ("swap(1, 5)", 5, |c| c.swap(1, 5)),
        ("rzz(4, 0)", 4, |c| c.rzz(4, 0, 0.3)),
        ("toffoli(0, 1, 3)", 3, |c| c.toffoli(0, 1, 3)),
        ("multi_controlled(Z, [0, 9], 1)", 9, |c| {
            c.multi_controlled(GateKind::Z, &[0, 9], 1)
        }),
        ("controlled SWAP with control 3", 3, |c| {
            c.add(Gate::controlled(GateKind::Swap, &[3], &[0, 1]))
        }),
        // Far beyond 64: must be an error, not a shift overflow.
        ("x(100)", 100, |c| c.x(100)),
        ("cz(0, 64)", 64, |c| c.cz(0, 64)),
    ];
    for (what, q, build) in cases {
        let msgs = needles(q);
        let needles: Vec<&str> = msgs.iter().map(|s| s.as_str()).collect();
        assert_error(build(&mut circuit).map(|_| ()), &oor(q), &needles, what);
        assert_eq!(
            circuit.gates().len(),
            1,
            "{what}: a rejected gate must not be added"
        );
    }
}

#[test]
fn repeated_qubit_in_gates_and_pauli_terms() {
    let rep = |qubit, gate: &str| Error::RepeatedQubit {
        qubit,
        gate: gate.to_string(),
    };
    let mut circuit = Circuit::new(4).unwrap();
    type Build = fn(&mut Circuit) -> qshade::Result<&mut Circuit>;
    let cases: Vec<(&str, Error, Build)> = vec![
        ("cnot(1, 1)", rep(1, "gate CNOT"), |c| c.cnot(1, 1)),
        ("swap(2, 2)", rep(2, "gate SWAP"), |c| c.swap(2, 2)),
        ("rxx(0, 0)", rep(0, "gate RXX"), |c| c.rxx(0, 0, 1.0)),
        ("toffoli(0, 0, 1)", rep(0, "gate Toffoli"), |c| {
            c.toffoli(0, 0, 1)
        }),
        ("toffoli(0, 1, 1)", rep(1, "gate Toffoli"), |c| {
            c.toffoli(0, 1, 1)
        }),
        ("CRY with control = target", rep(3, "gate CRY"), |c| {
            c.cry(3, 3, 0.2)
        }),
        (
            "controlled iSWAP, control on a target",
            rep(2, "gate CiSWAP"),
            |c| c.add(Gate::controlled(GateKind::ISwap, &[2], &[1, 2])),
        ),
    ];
    for (what, expected, build) in cases {
        let q = match &expected {
            Error::RepeatedQubit { qubit, .. } => *qubit,
            _ => unreachable!(),
        };
        let needle = format!("qubit {q} appears more than once");
        assert_error(
            build(&mut circuit).map(|_| ()),
            &expected,
            &[&needle, "distinct"],
            what,
        );
    }
    assert!(circuit.gates().is_empty());
    let u2 = {
        let mut m = [Complex64::ZERO; 16];
        (0..4).for_each(|k| m[5 * k] = Complex64::ONE);
        m
    };
    assert_error(
        circuit.unitary2(1, 1, u2).map(|_| ()),
        &rep(1, "gate Unitary2"),
        &["qubit 1 appears more than once in gate Unitary2"],
        "unitary2(1, 1)",
    );

    assert_error(
        Observable::parse("Z0 X0"),
        &rep(0, "Pauli term \"Z0 X0\""),
        &["qubit 0 appears more than once"],
        "parse Z0 X0",
    );
    assert_error(
        PauliTerm::new(1.0, &[(2, Pauli::X), (1, Pauli::Y), (2, Pauli::Z)]),
        &rep(2, "Pauli term \"Y1 X2 Z2\""),
        &["qubit 2"],
        "PauliTerm with qubit 2 twice",
    );
    let mut o = Observable::default();
    assert_error(
        o.add_term(0.5, &[(4, Pauli::Z), (4, Pauli::Z)]).map(|_| ()),
        &rep(4, "Pauli term \"Z4 Z4\""),
        &["qubit 4"],
        "add_term with qubit 4 twice",
    );
}

#[test]
fn wrong_number_of_targets() {
    let mut circuit = Circuit::new(3).unwrap();
    for (gate, name, arity, got) in [
        (Gate::new(GateKind::Swap, &[0]), "SWAP", 2, 1),
        (Gate::new(GateKind::H, &[0, 1]), "H", 1, 2),
        (
            Gate::new(GateKind::RZZ(Angle::Const(1.0)), &[]),
            "RZZ",
            2,
            0,
        ),
    ] {
        match circuit.add(gate) {
            Err(Error::InvalidArgument(msg)) => {
                let e = Error::InvalidArgument(msg.clone()).to_string();
                assert!(
                    e.contains(name)
                        && e.contains(&format!("{arity} target"))
                        && e.contains(&format!("got {got}")),
                    "message {e:?}"
                );
            }
            other => panic!("{name} with {got} targets: expected InvalidArgument, got {other:?}"),
        }
    }
}

#[test]
fn non_unitary_matrices_are_rejected_at_tolerance_1e_8() {
    assert_eq!(UNITARY_TOLERANCE, 1e-8);
    let mut circuit = Circuit::new(2).unwrap();
    let diag = |d: f64| [Complex64::ONE, Complex64::ZERO, Complex64::ZERO, c(d, 0.0)];
    // |U†U − I| = |d² − 1| at entry (1, 1).
    for (d, ok) in [
        (1.0001, false),
        (1.0 + 1e-7, false),
        (0.9, false),
        (1.0 + 1e-10, true),
        (1.0, true),
    ] {
        let result = circuit.unitary1(0, diag(d)).map(|_| ());
        let deviation = (d * d - 1.0f64).abs();
        if ok {
            result.unwrap_or_else(|e| {
                panic!("diag(1, {d}) (deviation {deviation:.1e}) must be accepted: {e}")
            });
        } else {
            match result {
                Err(Error::NotUnitary {
                    deviation: got,
                    tolerance,
                }) => {
                    assert_eq!(tolerance, 1e-8);
                    assert!(
                        (got - deviation).abs() <= 1e-12 + 1e-6 * deviation,
                        "diag(1, {d}): deviation {got} vs {deviation}"
                    );
                    let msg = Error::NotUnitary {
                        deviation: got,
                        tolerance,
                    }
                    .to_string();
                    assert!(
                        msg.contains("not unitary") && msg.contains("1.0e-8"),
                        "{msg}"
                    );
                }
                other => panic!("diag(1, {d}): expected NotUnitary, got {other:?}"),
            }
        }
    }
    // Non-finite entries.
    match circuit.unitary1(
        1,
        [
            c(f64::NAN, 0.0),
            Complex64::ZERO,
            Complex64::ZERO,
            Complex64::ONE,
        ],
    ) {
        Err(Error::NotUnitary { deviation, .. }) => assert!(deviation.is_infinite()),
        other => panic!("NaN entry: expected NotUnitary, got {other:?}"),
    }
    // A dense non-unitary 4×4 (all ones), and a unitary one times 1.01.
    assert!(matches!(
        circuit.unitary2(0, 1, [Complex64::ONE; 16]),
        Err(Error::NotUnitary { .. })
    ));
    let mut rng = common::rng::Rng::new(3);
    let u: [Complex64; 16] = random_dense_unitary(&mut rng, 4).try_into().unwrap();
    circuit
        .unitary2(0, 1, u)
        .expect("a unitary 4×4 is accepted");
    assert!(matches!(
        circuit.unitary2(0, 1, u.map(|z| z * 1.01)),
        Err(Error::NotUnitary { .. })
    ));
    // With controls, too (checked when added, whatever the placement).
    assert!(matches!(
        circuit.add(Gate::controlled(
            GateKind::Unitary1(Box::new(diag(2.0))),
            &[1],
            &[0]
        )),
        Err(Error::NotUnitary { .. })
    ));
}

#[test]
fn bad_matrix_size() {
    assert_error(
        check_unitary(&[Complex64::ONE; 3], 2),
        &Error::BadMatrixSize {
            expected: 4,
            got: 3,
        },
        &["matrix has 3 entries, expected 4"],
        "3 entries for 2×2",
    );
    assert_error(
        check_unitary(&[Complex64::ONE; 9], 4),
        &Error::BadMatrixSize {
            expected: 16,
            got: 9,
        },
        &["9 entries, expected 16"],
        "9 entries for 4×4",
    );
}

#[test]
fn zero_or_too_many_qubits() {
    let unsupported = |n| Error::UnsupportedQubitCount {
        num_qubits: n,
        max: MAX_QUBITS,
    };
    assert_error(
        Circuit::new(0),
        &unsupported(0),
        &["0 qubits is not supported", "1..=34"],
        "Circuit::new(0)",
    );
    assert_error(
        Circuit::new(35),
        &unsupported(35),
        &["35 qubits is not supported"],
        "Circuit::new(35)",
    );
    for (name, backend) in all_backends() {
        assert_error(
            width(backend.zero_state(0)),
            &unsupported(0),
            &["0 qubits is not supported"],
            &format!("zero_state(0) on {name}"),
        );
        assert_error(
            width(backend.zero_state(35)),
            &unsupported(35),
            &["35 qubits"],
            &format!("zero_state(35) on {name}"),
        );
        assert_error(
            width(backend.zero_state(usize::MAX)),
            &unsupported(usize::MAX),
            &["not supported"],
            &format!("zero_state(usize::MAX) on {name}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Binding and running, on every backend.

/// A circuit needing 2 θ values (θ[1] used) and 1 x value.
fn parametrised() -> Circuit {
    let mut circuit = Circuit::new(3).unwrap();
    circuit
        .h(0)
        .unwrap()
        .ry(1, Angle::theta(1))
        .unwrap()
        .crz(1, 2, Angle::input(0).times(2.0))
        .unwrap();
    circuit
}

#[test]
fn wrong_parameter_counts_at_run_and_bind_time() {
    let circuit = parametrised();
    assert_eq!((circuit.num_params(), circuit.num_inputs()), (2, 1));
    let theta_count = |got| Error::ParameterCount {
        kind: "trainable parameters (θ)",
        expected: 2,
        got,
    };
    let x_count = |expected, got| Error::ParameterCount {
        kind: "input features (x)",
        expected,
        got,
    };
    let cases: Vec<(&[f64], &[f64], Error, String)> = vec![
        (
            &[0.1],
            &[0.2],
            theta_count(1),
            "uses 2 trainable parameters (θ) but 1 were bound".into(),
        ),
        (
            &[],
            &[0.2],
            theta_count(0),
            "uses 2 trainable parameters (θ) but 0 were bound".into(),
        ),
        (
            &[0.1, 0.2, 0.3],
            &[0.2],
            theta_count(3),
            "but 3 were bound".into(),
        ),
        (
            &[0.1, 0.2],
            &[],
            x_count(1, 0),
            "uses 1 input features (x) but 0 were bound".into(),
        ),
        (
            &[0.1, 0.2],
            &[0.2, 0.3],
            x_count(1, 2),
            "input features (x) but 2 were bound".into(),
        ),
    ];
    assert_error(
        circuit.check_bindings(&Bindings::none()),
        &theta_count(0),
        &["θ"],
        "check_bindings(none)",
    );
    for (name, backend) in all_backends() {
        for (theta, x, expected, needle) in &cases {
            let b = Bindings::new(theta, x);
            let ctx = format!("θ = {theta:?}, x = {x:?} on {name}");
            assert_error(
                width(backend.run(&circuit, &b)),
                expected,
                &[needle],
                &format!("run, {ctx}"),
            );
            let mut state = backend.zero_state(3).unwrap();
            assert_error(
                state.apply(&circuit, &b),
                expected,
                &[needle],
                &format!("apply, {ctx}"),
            );
        }
        // Declared parameters count although no gate uses them.
        let mut declared = parametrised();
        declared.declare_params(5).declare_inputs(3);
        assert_error(
            width(backend.run(&declared, &Bindings::new(&[0.0; 2], &[0.0; 3]))),
            &theta_count(2).with_expected(5),
            &["uses 5 trainable parameters (θ)"],
            &format!("declared 5 θ on {name}"),
        );
        assert_error(
            width(backend.run(&declared, &Bindings::new(&[0.0; 5], &[0.0]))),
            &x_count(3, 1),
            &["uses 3 input features (x) but 1"],
            &format!("declared 3 x on {name}"),
        );
        assert!(
            backend
                .run(&declared, &Bindings::new(&[0.0; 5], &[0.0; 3]))
                .is_ok(),
            "{name}"
        );
    }
}

trait WithExpected {
    fn with_expected(self, expected: usize) -> Self;
}
impl WithExpected for Error {
    fn with_expected(self, new: usize) -> Self {
        match self {
            Error::ParameterCount { kind, got, .. } => Error::ParameterCount {
                kind,
                expected: new,
                got,
            },
            other => other,
        }
    }
}

#[test]
fn non_finite_parameters() {
    let circuit = parametrised();
    let cases: Vec<([f64; 2], [f64; 1], Error, &str)> = vec![
        (
            [f64::NAN, 0.0],
            [0.0],
            Error::NonFiniteParameter {
                kind: "θ",
                index: 0,
            },
            "bound value θ[0] is NaN or infinite",
        ),
        (
            [0.0, f64::INFINITY],
            [0.0],
            Error::NonFiniteParameter {
                kind: "θ",
                index: 1,
            },
            "bound value θ[1] is NaN or infinite",
        ),
        (
            [0.0, 0.0],
            [f64::NEG_INFINITY],
            Error::NonFiniteParameter {
                kind: "x",
                index: 0,
            },
            "bound value x[0] is NaN or infinite",
        ),
        // θ is checked before x.
        (
            [0.0, f64::NAN],
            [f64::NAN],
            Error::NonFiniteParameter {
                kind: "θ",
                index: 1,
            },
            "θ[1]",
        ),
    ];
    for (name, backend) in all_backends() {
        for (theta, x, expected, needle) in &cases {
            let b = Bindings::new(theta, x);
            assert_error(
                width(backend.run(&circuit, &b)),
                expected,
                &[needle],
                &format!("run θ = {theta:?}, x = {x:?} on {name}"),
            );
            let mut state = backend.zero_state(3).unwrap();
            assert_error(
                state.apply(&circuit, &b),
                expected,
                &[needle],
                &format!("apply θ = {theta:?}, x = {x:?} on {name}"),
            );
        }
        // A unused-but-declared non-finite θ is still rejected: every bound value must be finite.
        let mut declared = Circuit::new(1).unwrap();
        declared.declare_params(2).x(0).unwrap();
        assert_error(
            width(backend.run(&declared, &Bindings::theta(&[0.0, f64::NAN]))),
            &Error::NonFiniteParameter {
                kind: "θ",
                index: 1,
            },
            &["θ[1]"],
            &format!("declared θ on {name}"),
        );
    }
}

#[test]
fn failed_apply_leaves_the_state_unchanged() {
    let circuit = parametrised();
    let input = random_state(3, 17);
    for (name, backend) in all_backends() {
        let mut state = backend.state_from_amplitudes(&input).unwrap();
        let before = state.amplitudes().unwrap();
        assert!(state
            .apply(&circuit, &Bindings::new(&[0.1], &[0.2]))
            .is_err());
        assert!(state
            .apply(&circuit, &Bindings::new(&[0.1, f64::NAN], &[0.2]))
            .is_err());
        let mut wide = Circuit::new(4).unwrap();
        wide.x(0).unwrap();
        assert!(state.apply(&wide, &Bindings::none()).is_err());
        assert_state_close(
            &before,
            &state.amplitudes().unwrap(),
            0.0,
            &format!("state after rejected applies on {name}"),
        );
        // And it still works.
        state
            .apply(&circuit, &Bindings::new(&[0.1, 0.2], &[0.3]))
            .unwrap();
    }
}

#[test]
fn width_mismatch() {
    let mut two = Circuit::new(2).unwrap();
    two.h(0).unwrap();
    for (name, backend) in all_backends() {
        for n in [1usize, 3, 6] {
            let mut state = backend.zero_state(n).unwrap();
            let expected = Error::WidthMismatch {
                circuit: 2,
                state: n,
            };
            let needle = format!("circuit acts on 2 qubits but the state has {n}");
            assert_error(
                state.apply(&two, &Bindings::none()),
                &expected,
                &[&needle],
                &format!("2-qubit circuit on {n}-qubit state on {name}"),
            );
        }
    }
    // Appending circuits of different widths.
    let three = Circuit::new(3).unwrap();
    assert_error(
        two.clone().append(&three).map(|_| ()),
        &Error::InvalidArgument("cannot append a 3-qubit circuit to a 2-qubit circuit".into()),
        &["3-qubit circuit", "2-qubit circuit"],
        "append 3-qubit circuit to 2-qubit circuit",
    );
}

#[test]
fn invalid_amplitudes() {
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let cases: Vec<(&str, Vec<Complex64>, &str)> = vec![
        ("empty", vec![], "length 0 is not a power of two"),
        (
            "one amplitude",
            vec![Complex64::ONE],
            "length 1 is not a power of two",
        ),
        (
            "three amplitudes",
            vec![c(1.0, 0.0), Complex64::ZERO, Complex64::ZERO],
            "length 3 is not a power of two",
        ),
        (
            "six amplitudes",
            vec![
                c(h, 0.0),
                c(h, 0.0),
                Complex64::ZERO,
                Complex64::ZERO,
                Complex64::ZERO,
                Complex64::ZERO,
            ],
            "length 6",
        ),
        (
            "norm² 2",
            vec![Complex64::ONE, Complex64::ONE],
            "squared norm is 2",
        ),
        (
            "norm² 0.5",
            vec![c(h, 0.0), Complex64::ZERO],
            "squared norm is 0.5",
        ),
        ("all zero", vec![Complex64::ZERO; 4], "squared norm is 0"),
        (
            "NaN",
            vec![c(f64::NAN, 0.0), Complex64::ONE],
            "squared norm is NaN",
        ),
        (
            "infinite",
            vec![c(f64::INFINITY, 0.0), Complex64::ZERO],
            "squared norm is inf",
        ),
        (
            "norm² 1 + 2e-6",
            vec![c((1.0f64 + 2e-6).sqrt(), 0.0), Complex64::ZERO],
            "expected 1 (within 1e-6)",
        ),
    ];
    for (name, backend) in all_backends() {
        for (what, amps, needle) in &cases {
            match backend.state_from_amplitudes(amps) {
                Err(e @ Error::InvalidState(_)) => {
                    let msg = e.to_string();
                    assert!(
                        msg.starts_with("invalid state vector") && msg.contains(needle),
                        "{what} on {name}: message {msg:?} lacks {needle:?}"
                    );
                }
                Err(other) => panic!("{what} on {name}: expected InvalidState, got {other:?}"),
                Ok(_) => panic!("{what} on {name}: accepted"),
            }
        }
        // Within the stated 1e-6 it is accepted.
        let nearly = [c((1.0f64 + 5e-7).sqrt(), 0.0), Complex64::ZERO];
        assert!(
            backend.state_from_amplitudes(&nearly).is_ok(),
            "norm² 1 + 5e-7 on {name}"
        );
    }
}

#[test]
fn zero_shots() {
    for (name, backend) in all_backends() {
        let state = backend.zero_state(2).unwrap();
        match state.sample(0, 1) {
            Err(e @ Error::InvalidArgument(_)) => assert!(
                e.to_string().contains("shots must be at least 1"),
                "{name}: {e}"
            ),
            other => panic!("zero shots on {name}: expected InvalidArgument, got {other:?}"),
        }
    }
}

#[test]
fn qubit_out_of_range_in_observables_and_marginals() {
    for (name, backend) in all_backends() {
        let state = backend.state_from_amplitudes(&random_state(3, 1)).unwrap();
        let oor = |qubit| Error::QubitOutOfRange {
            qubit,
            num_qubits: 3,
        };
        assert_error(
            state.expectation(&Observable::z(3)),
            &oor(3),
            &["qubit 3 is out of range", "3 qubits"],
            &format!("⟨Z3⟩ on {name}"),
        );
        assert_error(
            state.expectation(&Observable::parse("Z0 X5 + 1.0").unwrap()),
            &oor(5),
            &["qubit 5"],
            &format!("⟨Z0 X5⟩ on {name}"),
        );
        assert_error(
            state.expectation(&Observable::parse("Y70").unwrap()),
            &oor(70),
            &["qubit 70"],
            &format!("⟨Y70⟩ on {name}"),
        );
        assert_error(
            state.expectations(&[Observable::z(0), Observable::x(4)]),
            &oor(4),
            &["qubit 4"],
            &format!("expectations [Z0, X4] on {name}"),
        );
        assert_error(
            state.marginal_probabilities(&[0, 3]),
            &oor(3),
            &["qubit 3 is out of range"],
            &format!("marginal [0, 3] on {name}"),
        );
        assert_error(
            state.marginal_probabilities(&[99]),
            &oor(99),
            &["qubit 99"],
            &format!("marginal [99] on {name}"),
        );
        let rep = Error::RepeatedQubit {
            qubit: 1,
            gate: "marginal qubit list".into(),
        };
        assert_error(
            state.marginal_probabilities(&[1, 0, 1]),
            &rep,
            &["qubit 1 appears more than once in marginal qubit list"],
            &format!("marginal [1, 0, 1] on {name}"),
        );
    }
}

#[test]
fn unparsable_observables() {
    for (text, needle) in [
        ("", "has no terms"),
        ("  + ", "no term"),
        ("Q0", "cannot read 'Q0'"),
        ("X", "cannot read qubit index in Pauli factor 'X'"),
        ("Za", "'Za'"),
        ("0.5 * Z0", "cannot read '*'"),
        ("Z-1", "'Z'"),
    ] {
        match Observable::parse(text) {
            Err(e @ Error::InvalidArgument(_)) => assert!(
                e.to_string().contains(needle),
                "parse {text:?}: {e} lacks {needle:?}"
            ),
            other => panic!("parse {text:?}: expected InvalidArgument, got {other:?}"),
        }
    }
}

// Regression tests: `Observable::parse` once split on every '-', so a minus glued to a factor or
// inside a number's exponent broke the term apart, and it accepted NaN coefficients.

#[test]
fn parse_minus_glued_to_a_factor() {
    let o = Observable::parse("0.5 Z0 -Z1").expect("'-Z1' is −1·Z1");
    assert_eq!(
        o.terms.iter().map(|t| t.coeff).collect::<Vec<_>>(),
        [0.5, -1.0]
    );
    assert_eq!(
        Observable::parse("-Z0").expect("'-Z0'").terms[0].coeff,
        -1.0
    );
}

#[test]
fn parse_scientific_notation() {
    let o = Observable::parse("1e-3 Z0 + 2.5E+1 X1").expect("scientific notation");
    assert_eq!(
        o.terms.iter().map(|t| t.coeff).collect::<Vec<_>>(),
        [1e-3, 25.0]
    );
}

#[test]
fn parse_rejects_non_finite_coefficients_and_dangling_signs() {
    for text in ["nan Z0", "inf X1", "0.5 Z0 -", "Z0 + - X1"] {
        assert!(
            matches!(Observable::parse(text), Err(Error::InvalidArgument(_))),
            "{text:?} must be rejected"
        );
    }
}
