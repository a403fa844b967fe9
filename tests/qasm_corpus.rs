//! The OpenQASM corpus (`tests/qasm/*.qasm`, written by `tests/qasm/gen.py` with Qiskit, and
//! QASMBench's small circuits in `tests/qasm/qasmbench/`, references by Qiskit): every
//! file imports, runs on every backend and matches Qiskit's state vector (f64 1e-10, f32 1e-5);
//! and export → import is the identity on random circuits.

mod common;

use common::{all_backends, precision_tolerance, state_mismatch, Failures};
use qshade::qasm::{self, QasmOptions};
use qshade::{Backend, Bindings, Circuit, Complex64, CpuBackend, GateKind};
use std::collections::BTreeSet;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/qasm");

fn references() -> serde_json::Value {
    let text = std::fs::read_to_string(format!("{DIR}/references.json")).expect("references.json");
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn corpus_matches_qiskit_on_every_backend() {
    let refs = references();
    let files = refs["files"].as_object().expect("files");
    // Every .qasm file of the folder has a reference (and the other way round).
    let mut on_disk = BTreeSet::new();
    for (folder, prefix) in [
        (DIR.to_string(), ""),
        (format!("{DIR}/qasmbench"), "qasmbench/"),
    ] {
        for e in std::fs::read_dir(folder).expect("corpus folder") {
            let name = e
                .expect("entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name");
            if name.ends_with(".qasm") {
                on_disk.insert(format!("{prefix}{name}"));
            }
        }
    }
    let listed: BTreeSet<String> = files.keys().cloned().collect();
    assert_eq!(on_disk, listed, "corpus files and references.json disagree");
    assert!(listed.len() >= 10, "corpus too small: {}", listed.len());
    let backends = all_backends();
    let mut failures = Failures::default();
    for (name, r) in files {
        let source = std::fs::read_to_string(format!("{DIR}/{name}")).expect("readable");
        assert_ne!(
            r["qiskit_reader_agrees_up_to_phase"].as_bool(),
            Some(false),
            "{name}: Qiskit reads the file as another circuit"
        );
        let program = qasm::parse(&source).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want_v2 = !name.ends_with(".v3.qasm");
        assert_eq!(program.version == qasm::QasmVersion::V2, want_v2, "{name}");
        let n = r["num_qubits"].as_u64().expect("num_qubits") as usize;
        assert_eq!(program.circuit.num_qubits(), n, "{name}");
        let values = r["theta"].as_object().expect("theta");
        assert_eq!(
            program.theta_names.len(),
            values.len(),
            "{name}: parameters"
        );
        let theta: Vec<f64> = program
            .theta_names
            .iter()
            .map(|p| {
                values[p]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{name}: no value for {p}"))
            })
            .collect();
        let expected: Vec<Complex64> = r["state"]
            .as_array()
            .expect("state")
            .iter()
            .map(|z| Complex64::new(z[0].as_f64().unwrap(), z[1].as_f64().unwrap()))
            .collect();
        for (label, backend) in &backends {
            let tol = precision_tolerance(backend.as_ref(), 1e-10, 1e-5);
            let got = backend
                .run(&program.circuit, &Bindings::theta(&theta))
                .and_then(|s| s.amplitudes());
            failures.check(match got {
                Ok(amps) => state_mismatch(&expected, &amps, tol, &format!("{name} on {label}")),
                Err(e) => Some(format!("{name} on {label}: {e}")),
            });
        }
    }
    failures.finish("OpenQASM corpus vs Qiskit");
}

#[test]
fn terminal_measurements_are_recorded() {
    let source = std::fs::read_to_string(format!("{DIR}/ghz5.v3.qasm")).unwrap();
    let program = qasm::parse(&source).unwrap();
    let expected: Vec<(usize, usize)> = (0..5).map(|k| (k, k)).collect();
    assert_eq!(program.measured, expected);
    assert_eq!(program.num_clbits, 5);
    let source = std::fs::read_to_string(format!("{DIR}/handwritten_defs.v2.qasm")).unwrap();
    let program = qasm::parse(&source).unwrap();
    // qreg q[2]; qreg r[2]; measure q -> c: q[0], q[1] are qubits 0, 1.
    assert_eq!(program.measured, [(0, 0), (1, 1)]);
}

/// A seeded random circuit of every kind (the suite's random circuits), and its θ and x
/// values. With `named_only`, without one-qubit and two-qubit unitaries and global phases,
/// which come back as other gates (U, controlled U and phases).
fn exportable_circuit(
    n: usize,
    depth: usize,
    seed: u64,
    named_only: bool,
) -> (Circuit, Vec<f64>, Vec<f64>) {
    let (c, theta, x) = common::random_circuit(n, depth, seed);
    let mut out = Circuit::new(n).unwrap();
    for g in c.gates() {
        let phase_like = matches!(g.kind, GateKind::Unitary1(_) | GateKind::GlobalPhase(_));
        let unitary2 = matches!(g.kind, GateKind::Unitary2(_));
        if !(named_only && (unitary2 || phase_like)) {
            out.add(g.clone()).unwrap();
        }
    }
    out.declare_params(c.num_params())
        .declare_inputs(c.num_inputs());
    (out, theta, x)
}

fn state(c: &Circuit, b: &Bindings<'_>) -> Vec<Complex64> {
    CpuBackend::reference()
        .run(c, b)
        .unwrap()
        .amplitudes()
        .unwrap()
}

#[test]
fn qasm3_round_trip_is_the_identity_on_random_circuits() {
    for seed in 0..40u64 {
        let n = 2 + (seed as usize % 5);
        let named_only = seed % 2 == 0;
        let (c, theta, x) = exportable_circuit(n, 40, seed, named_only);
        let text = qasm::to_qasm3(&c).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let inputs: Vec<String> = (0..c.num_inputs()).map(|k| format!("x_{k}")).collect();
        let back = qasm::parse_qasm3_with(&text, &QasmOptions::default().inputs(inputs))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        let b = Bindings::new(&theta, &x);
        assert_eq!(back.circuit.num_params(), c.num_params(), "seed {seed}");
        assert_eq!(back.circuit.num_inputs(), c.num_inputs(), "seed {seed}");
        // Named gates come back as the same gates, angles to the bit; one-qubit unitaries and
        // global phases come back as U and phases, so for those only the states are compared.
        let (got, want) = (back.circuit.gates(), c.gates());
        if !named_only {
        } else if let Some(k) = (0..got.len().max(want.len())).find(|&k| got.get(k) != want.get(k))
        {
            panic!(
                "seed {seed}: gate {k} came back as {:?}, was {:?}\n{text}",
                got.get(k),
                want.get(k)
            );
        }
        if let Some(m) = state_mismatch(&state(&c, &b), &state(&back.circuit, &b), 1e-12, "") {
            panic!("seed {seed}: {m}\n{text}");
        }
    }
}

#[test]
fn qasm2_round_trip_keeps_the_state() {
    let mut dropped = 0usize;
    for seed in 100..130u64 {
        let n = 2 + (seed as usize % 4);
        let (full, theta, x) = exportable_circuit(n, 40, seed, false);
        let b = Bindings::new(&theta, &x);
        // OpenQASM 2 has no parameters: an error that says so.
        if full.num_params() + full.num_inputs() > 0 {
            assert!(matches!(
                qasm::to_qasm2(&full),
                Err(qshade::Error::Unsupported(_))
            ));
        }
        // The gates qelib1.inc can express (at most one control on most kinds).
        let mut c = Circuit::new(n).unwrap();
        for g in full.gates() {
            let mut one = Circuit::new(n).unwrap();
            one.add(g.clone()).unwrap();
            one.declare_params(full.num_params())
                .declare_inputs(full.num_inputs());
            match qasm::to_qasm2_bound(&one, &b) {
                Ok(_) => {
                    c.add(g.clone()).unwrap();
                }
                Err(qshade::Error::Unsupported(_)) => dropped += 1,
                Err(e) => panic!("seed {seed}: {e}"),
            }
        }
        c.declare_params(full.num_params())
            .declare_inputs(full.num_inputs());
        let text = qasm::to_qasm2_bound(&c, &b).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let back = qasm::parse_qasm2(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        let none = Bindings::none();
        if let Some(m) = state_mismatch(&state(&c, &b), &state(&back.circuit, &none), 1e-12, "") {
            panic!("seed {seed}: {m}\n{text}");
        }
    }
    assert!(
        dropped < 30 * 40 / 2,
        "{dropped} gates had no OpenQASM 2 form"
    );
}

#[test]
fn expression_angles_round_trip_through_qasm3() {
    use qshade::{Angle, AngleFn};
    use std::f64::consts::PI;
    let (t0, t1, x0, x1) = (
        Angle::theta(0),
        Angle::theta(1),
        Angle::input(0),
        Angle::input(1),
    );
    let angles = [
        t0.clone() + t1.clone(),
        2.0 * (PI - x0.clone()) * (PI - x1.clone()),
        t0.clone().func(AngleFn::Sin) * x0.clone(),
        t1.clone().pow(2.0) - t0.clone() / 3.0,
        (-t1.clone()).func(AngleFn::Exp) / (1.0 + x1.clone().pow(2.0)),
        (x0.clone() * x0.clone() + 1.0)
            .func(AngleFn::Sqrt)
            .func(AngleFn::Ln),
        (t0.clone() / 4.0).func(AngleFn::Atan) - x1.clone().func(AngleFn::Cos),
        -(t0.clone() * t1.clone()),
    ];
    let mut c = Circuit::new(3).unwrap();
    for (k, a) in angles.iter().enumerate() {
        let q = k % 3;
        c.ry(q, a.clone()).unwrap();
        c.crz((q + 1) % 3, q, a.clone()).unwrap();
        c.u3(q, a.clone(), x1.clone(), a.clone()).unwrap();
        c.rzz(q, (q + 2) % 3, a.clone()).unwrap();
    }
    let text = qasm::to_qasm3(&c).unwrap();
    let inputs = vec!["x_0".to_string(), "x_1".to_string()];
    let back = qasm::parse_qasm3_with(&text, &QasmOptions::default().inputs(inputs))
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back.circuit.num_params(), 2);
    assert_eq!(back.circuit.num_inputs(), 2);
    // The angles come back as the same function of θ and x (checked at several points, to
    // 1e-12: the text form may regroup a subtraction as an added negation) and the states
    // agree.
    assert_eq!(back.circuit.gates().len(), c.gates().len());
    for (theta, x) in [([0.3, -1.2], [0.7, 2.1]), ([-2.0, 0.4], [-0.3, 1.5])] {
        let b = Bindings::new(&theta, &x);
        for (g, h) in c.gates().iter().zip(back.circuit.gates()) {
            assert_eq!(
                (g.kind.name(), &g.targets, &g.controls),
                (h.kind.name(), &h.targets, &h.controls)
            );
            for (a, b2) in g.kind.angles().iter().zip(h.kind.angles()) {
                let (u, v) = (a.value(&b), b2.value(&b));
                assert!(
                    (u - v).abs() <= 1e-12 * (1.0 + u.abs()),
                    "{a} = {u} came back as {b2} = {v}\n{text}"
                );
            }
        }
        if let Some(m) = state_mismatch(&state(&c, &b), &state(&back.circuit, &b), 1e-12, "") {
            panic!("{m}\n{text}");
        }
    }
}

#[test]
fn programs_export_with_their_measurements_and_names() {
    for name in [
        "ghz5.v3.qasm",
        "handwritten_defs.v2.qasm",
        "transpiled_4q.v3.qasm",
    ] {
        let source = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
        let p = qasm::parse(&source).unwrap();
        assert!(!p.measured.is_empty(), "{name}");
        let v3 = qasm::parse(&p.to_qasm3().unwrap()).unwrap();
        let v2 = qasm::parse(&p.to_qasm2_bound(&Bindings::none()).unwrap()).unwrap();
        for back in [&v3, &v2] {
            assert_eq!(back.measured, p.measured, "{name}");
            assert_eq!(back.num_clbits, p.num_clbits, "{name}");
            assert_eq!(back.circuit.num_qubits(), p.circuit.num_qubits(), "{name}");
        }
        assert_eq!(v3.circuit.gates(), p.circuit.gates(), "{name}");
    }
    // Measurements into other bits than their qubit's index, and not every qubit measured.
    let p = qasm::parse(
        "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[3];\ncreg c[4];\nh q[0];\n\
         cx q[0], q[1];\nmeasure q[0] -> c[3];\nmeasure q[1] -> c[0];\n",
    )
    .unwrap();
    assert_eq!(p.measured, [(0, 3), (1, 0)]);
    for text in [
        p.to_qasm3().unwrap(),
        p.to_qasm2_bound(&Bindings::none()).unwrap(),
    ] {
        let back = qasm::parse(&text).unwrap();
        assert_eq!(
            (back.measured.as_slice(), back.num_clbits),
            (&p.measured[..], 4),
            "{text}"
        );
    }
    // θ and x keep their names; x comes back as x when named in the options.
    let source = std::fs::read_to_string(format!("{DIR}/expressions_3q.v3.qasm")).unwrap();
    let options = QasmOptions::default().inputs(vec!["x0".into(), "x1".into()]);
    let p = qasm::parse_with(&source, &options).unwrap();
    assert_eq!((p.theta_names.len(), p.input_names.len()), (2, 2));
    let back = qasm::parse_with(&p.to_qasm3().unwrap(), &options).unwrap();
    assert_eq!(back.theta_names, p.theta_names);
    assert_eq!(back.input_names, p.input_names);
    let (theta, x) = ([0.4, -1.1], [0.9, 0.2]);
    let b = Bindings::new(&theta, &x);
    if let Some(m) = state_mismatch(&state(&p.circuit, &b), &state(&back.circuit, &b), 1e-12, "") {
        panic!("{m}");
    }
    // A circuit measured in full, as Qiskit's measure_all.
    let mut c = Circuit::new(3).unwrap();
    c.h(0).unwrap().cx(0, 2).unwrap();
    let p = qasm::QasmProgram::from_circuit(c).measure_all();
    let back = qasm::parse(&p.to_qasm3().unwrap()).unwrap();
    assert_eq!(back.measured, [(0, 0), (1, 1), (2, 2)]);
    assert_eq!(back.circuit.gates(), p.circuit.gates());
}

#[test]
fn a_definition_under_a_standard_name_keeps_its_own_meaning() {
    // Qiskit's exporter defines rzz through cx / rz: that is RZZ, so the native gate stands
    // for it. A program whose `h` is an X, or whose `rzz` is something else, gets its own.
    let native = qasm::parse(
        "OPENQASM 3.0;\ninclude \"stdgates.inc\";\ngate rzz(t) a, b { cx a, b; rz(t) b; cx a, b; }\n\
         qubit[2] q;\nrzz(0.7) q[0], q[1];\n",
    )
    .unwrap();
    assert_eq!(native.circuit.gates().len(), 1);
    assert!(matches!(native.circuit.gates()[0].kind, GateKind::RZZ(_)));
    let own = qasm::parse(
        "OPENQASM 3.0;\ngate h a { U(pi, 0, pi) a; }\ngate rzz(t) a, b { U(t, 0, 0) b; }\n\
         qubit[2] q;\nh q[0];\nrzz(0.7) q[0], q[1];\n",
    )
    .unwrap();
    let mut want = Circuit::new(2).unwrap();
    want.x(0).unwrap().ry(1, 0.7).unwrap();
    let b = Bindings::none();
    if let Some(m) = state_mismatch(&state(&want, &b), &state(&own.circuit, &b), 1e-12, "") {
        panic!("{m}");
    }
}
