//! Every gate kind, on every target and control placement, on every backend, compared
//! amplitude by amplitude with the CPU reference; hand-computed checks of the qubit-ordering
//! convention; analytic identities of the gate matrices.

mod common;

use common::emulated::Simulate;
use common::rng::Rng;
use common::*;
use qshade::{Angle, Backend, Bindings, Circuit, Complex64, Gate, GateKind};
use std::collections::BTreeSet;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// θ and x bound in every gate sweep (every sweep circuit declares 2 of each).
const THETA: [f64; 2] = [0.37, -1.91];
const INPUTS: [f64; 2] = [2.2, -0.6];

fn bindings() -> Bindings<'static> {
    Bindings::new(&THETA, &INPUTS)
}

/// An angle of class `class % 5` (constant, θ, x, affine θ, affine x); `slot` picks which
/// value so that the three angles of a U3 differ.
fn angle_of_class(class: usize, slot: usize) -> Angle {
    match class % 5 {
        0 => Angle::Const([0.83, -2.41, 1.57][slot % 3]),
        1 => Angle::theta(slot % 2),
        2 => Angle::input(slot % 2),
        3 => Angle::theta((slot + 1) % 2).times(-1.3).plus(0.4),
        _ => Angle::input((slot + 1) % 2).times(0.8).plus(-0.25),
    }
}

/// Every one-qubit kind (three shapes of `Unitary1`), angles of class `class` (the U3 angles
/// take three consecutive classes, so all differ in kind and value).
fn one_qubit_kinds(class: usize, rng: &mut Rng) -> Vec<GateKind> {
    let a = angle_of_class(class, 0);
    vec![
        GateKind::I,
        GateKind::H,
        GateKind::X,
        GateKind::Y,
        GateKind::Z,
        GateKind::S,
        GateKind::Sdg,
        GateKind::T,
        GateKind::Tdg,
        GateKind::SX,
        GateKind::RX(a.clone()),
        GateKind::RY(a.clone()),
        GateKind::RZ(a.clone()),
        GateKind::Phase(a.clone()),
        GateKind::U3(
            angle_of_class(class, 0),
            angle_of_class(class + 1, 1),
            angle_of_class(class + 2, 2),
        ),
        GateKind::Unitary1(Box::new(random_dense_unitary(rng, 2).try_into().unwrap())),
        GateKind::Unitary1(Box::new(
            random_diagonal_unitary(rng, 2).try_into().unwrap(),
        )),
        GateKind::Unitary1(Box::new(
            random_phased_permutation(rng, 2).try_into().unwrap(),
        )),
    ]
}

/// Every two-qubit kind (three shapes of `Unitary2`).
fn two_qubit_kinds(class: usize, rng: &mut Rng) -> Vec<GateKind> {
    let a = angle_of_class(class, 0);
    vec![
        GateKind::Swap,
        GateKind::ISwap,
        GateKind::RXX(a.clone()),
        GateKind::RYY(a.clone()),
        GateKind::RZZ(a.clone()),
        GateKind::Unitary2(Box::new(random_dense_unitary(rng, 4).try_into().unwrap())),
        GateKind::Unitary2(Box::new(
            random_diagonal_unitary(rng, 4).try_into().unwrap(),
        )),
        GateKind::Unitary2(Box::new(
            random_phased_permutation(rng, 4).try_into().unwrap(),
        )),
        // A phased permutation that is not a product of one-qubit ones (a 4-cycle).
        GateKind::Unitary2(Box::new(four_cycle())),
    ]
}

fn four_cycle() -> [Complex64; 16] {
    let mut m = [Complex64::ZERO; 16];
    // |0⟩→|1⟩→|3⟩→|2⟩→|0⟩ with phases.
    for (from, to, phase) in [
        (0usize, 1usize, 0.3),
        (1, 3, -1.2),
        (3, 2, 2.0),
        (2, 0, 0.0),
    ] {
        m[to * 4 + from] = Complex64::from_polar(1.0, phase);
    }
    m
}

/// One gate on a random input state: the unit of every sweep.
struct Case {
    label: String,
    circuit: Circuit,
    input: Vec<Complex64>,
    expected: Vec<Complex64>,
}

fn make_case(n: usize, gate: Gate, seed: u64) -> Case {
    let label = format!("n={n} {} seed={seed}", gate.label());
    let mut circuit = Circuit::new(n).unwrap();
    circuit
        .declare_params(THETA.len())
        .declare_inputs(INPUTS.len());
    circuit.add(gate).unwrap_or_else(|e| panic!("{label}: {e}"));
    let input = random_state(n, seed);
    let mut state = cpu().state_from_amplitudes(&input).unwrap();
    state.apply(&circuit, &bindings()).unwrap();
    let expected = state.amplitudes().unwrap();
    Case {
        label,
        circuit,
        input,
        expected,
    }
}

fn run_case<S: Simulate + ?Sized>(backend: &S, case: &Case) -> qshade::Result<Vec<Complex64>> {
    let mut state = backend.sim_state_from(&case.input)?;
    state.apply(&case.circuit, &bindings())?;
    state.amplitudes()
}

/// Runs every case on every backend given and records the mismatches.
fn failures_on<S: Simulate + ?Sized>(backends: &[(String, &S)], cases: &[Case]) -> Failures {
    let mut failures = Failures::default();
    for (name, backend) in backends {
        let tol = tolerance(backend.sim_precision(), 1);
        for case in cases {
            let context = format!("{} on {name}", case.label);
            failures.check(match run_case(*backend, case) {
                Ok(actual) => state_mismatch(&case.expected, &actual, tol, &context),
                Err(e) => Some(format!("{context}: error {e}")),
            });
        }
    }
    failures
}

/// Runs every case on every backend; panics with all mismatches at the end.
fn check_cases(what: &str, cases: &[Case]) {
    let backends = all_backends();
    let refs: Vec<(String, &dyn Backend)> = backends
        .iter()
        .map(|(n, b)| (n.clone(), b.as_ref()))
        .collect();
    let failures = failures_on(&refs, cases);
    eprintln!("{what}: {} checks", failures.checked());
    failures.finish(what);
}

/// Asserts that the cases cover exactly the kind indices `wanted`.
fn assert_covers(cases: &[Case], wanted: impl Iterator<Item = usize>) {
    let covered: BTreeSet<usize> = cases
        .iter()
        .flat_map(|c| c.circuit.gates().iter().map(|g| kind_index(&g.kind)))
        .collect();
    let wanted: BTreeSet<usize> = wanted.collect();
    assert_eq!(covered, wanted, "the sweep must cover every kind");
}

/// Placements of a gate: (targets, controls).
type Placement = (Vec<usize>, Vec<usize>);

fn others(n: usize, used: &[usize]) -> Vec<usize> {
    (0..n).filter(|q| !used.contains(q)).collect()
}

/// Two-control sets for a gate on `targets`: the lowest and highest free qubits, and (with
/// enough qubits) the two next to them, so controls sit below, above and between targets.
fn two_control_sets(n: usize, targets: &[usize]) -> Vec<Vec<usize>> {
    let free = others(n, targets);
    let mut sets = Vec::new();
    if free.len() >= 2 {
        sets.push(vec![free[0], free[free.len() - 1]]);
    }
    if free.len() >= 4 {
        sets.push(vec![free[2], free[1]]);
    }
    sets
}

/// Builds a case per (placement, kind variant); the angle class advances with every case so
/// every class meets every kind at several placements.
fn sweep(
    ns: std::ops::RangeInclusive<usize>,
    placements: impl Fn(usize) -> Vec<Placement>,
    kinds: fn(usize, &mut Rng) -> Vec<GateKind>,
    variants_per_placement: Option<usize>,
    seed: u64,
) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let mut cases = Vec::new();
    let mut counter = 0usize;
    for n in ns {
        for (p, (targets, controls)) in placements(n).into_iter().enumerate() {
            let all = kinds(counter, &mut rng);
            let chosen: Vec<GateKind> = match variants_per_placement {
                None => all,
                Some(k) => (0..k)
                    .map(|j| all[(p * k + j) % all.len()].clone())
                    .collect(),
            };
            for kind in chosen {
                let gate = Gate::controlled(kind, &controls, &targets);
                cases.push(make_case(
                    n,
                    gate,
                    seed.wrapping_mul(1000).wrapping_add(counter as u64),
                ));
                counter += 1;
            }
        }
    }
    cases
}

#[test]
fn one_qubit_kinds_on_every_target() {
    let placements = |n: usize| (0..n).map(|t| (vec![t], vec![])).collect();
    let cases = sweep(1..=6, placements, one_qubit_kinds, None, 1);
    assert_covers(&cases, 0..16);
    check_cases("one-qubit kinds, uncontrolled", &cases);
}

#[test]
fn one_qubit_kinds_with_one_control_on_every_ordered_pair() {
    let placements = |n: usize| {
        (0..n)
            .flat_map(|t| others(n, &[t]).into_iter().map(move |c| (vec![t], vec![c])))
            .collect()
    };
    let cases = sweep(2..=6, placements, one_qubit_kinds, None, 2);
    assert_covers(&cases, 0..16);
    check_cases("one-qubit kinds, one control", &cases);
}

#[test]
fn one_qubit_kinds_with_two_controls() {
    let placements = |n: usize| {
        (0..n)
            .flat_map(|t| {
                two_control_sets(n, &[t])
                    .into_iter()
                    .map(move |cs| (vec![t], cs))
            })
            .collect()
    };
    let cases = sweep(3..=6, placements, one_qubit_kinds, None, 3);
    assert_covers(&cases, 0..16);
    check_cases("one-qubit kinds, two controls", &cases);
}

fn ordered_pairs(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| vec![a, b]))
        .collect()
}

#[test]
fn two_qubit_kinds_on_every_ordered_pair() {
    let placements = |n: usize| ordered_pairs(n).into_iter().map(|t| (t, vec![])).collect();
    let cases = sweep(2..=6, placements, two_qubit_kinds, None, 4);
    assert_covers(&cases, 16..22);
    check_cases("two-qubit kinds, uncontrolled", &cases);
}

#[test]
fn two_qubit_kinds_with_controls_on_every_ordered_pair() {
    // Every ordered target pair with every single free control, and one two-control set per
    // pair; the nine kind variants rotate over the placements, three per placement.
    let placements = |n: usize| {
        ordered_pairs(n)
            .into_iter()
            .flat_map(|t| {
                let mut p: Vec<Placement> = others(n, &t)
                    .into_iter()
                    .map(|c| (t.clone(), vec![c]))
                    .collect();
                p.extend(
                    two_control_sets(n, &t)
                        .into_iter()
                        .take(1)
                        .map(|cs| (t.clone(), cs)),
                );
                p
            })
            .collect()
    };
    let cases = sweep(3..=6, placements, two_qubit_kinds, Some(3), 5);
    assert_covers(&cases, 16..22);
    check_cases("two-qubit kinds, controlled", &cases);
}

#[test]
fn sweeps_accept_f32_rounding_and_reject_wrong_backends() {
    // Checks the checks. The comparison above runs the CPU against itself until the GPU
    // exists, which could not fail; here an f32 emulator (every gate in f32 arithmetic) must
    // pass the f32 tolerance, and each deliberately wrong backend must fail many cases.
    use common::emulated::{F32Emulator, Mutant, Mutation};
    let one = |n: usize| -> Vec<Placement> {
        (0..n)
            .flat_map(|t| others(n, &[t]).into_iter().map(move |c| (vec![t], vec![c])))
            .collect()
    };
    let two = |n: usize| -> Vec<Placement> {
        ordered_pairs(n).into_iter().map(|t| (t, vec![])).collect()
    };
    let mut cases = sweep(2..=5, one, one_qubit_kinds, None, 11);
    cases.extend(sweep(2..=5, two, two_qubit_kinds, None, 12));

    let emulator = [("f32-emulator".to_string(), &F32Emulator)];
    failures_on(&emulator, &cases).finish("f32 emulator within the f32 tolerance");

    for mutation in [
        Mutation::DropControls,
        Mutation::SwapTargets,
        Mutation::SwapU3PhiLambda,
        Mutation::Transpose,
        Mutation::NegateAngles,
        Mutation::SwapThetaAndInputs,
        Mutation::ReverseQubits,
    ] {
        let mutant = [(format!("mutant {mutation:?}"), &Mutant(mutation))];
        let failures = failures_on(&mutant, &cases);
        let caught = failures.failed();
        eprintln!(
            "mutant {mutation:?}: {caught} of {} cases caught",
            failures.checked()
        );
        assert!(
            caught >= 10,
            "mutant {mutation:?} was caught in only {caught} of {} cases",
            failures.checked()
        );
    }
}

#[test]
fn every_angle_class_resolves_to_the_same_matrix_as_its_constant() {
    // θ, x, and affine angles must give exactly the matrix of the constant they resolve to,
    // on every backend (catches a backend that reads the wrong slot or ignores scale/offset).
    let value = |a: Angle| a.value(&bindings());
    for class in 0..5 {
        for slot in 0..3 {
            let a = angle_of_class(class, slot);
            let k = Angle::Const(value(a.clone()));
            for (sym, cst) in [
                (GateKind::RX(a.clone()), GateKind::RX(k.clone())),
                (
                    GateKind::U3(a.clone(), angle_of_class(class + 1, 1), a.clone()),
                    GateKind::U3(
                        k.clone(),
                        Angle::Const(value(angle_of_class(class + 1, 1))),
                        k.clone(),
                    ),
                ),
                (GateKind::RYY(a.clone()), GateKind::RYY(k)),
            ] {
                let n = sym.num_targets() + 1;
                let targets: Vec<usize> = (0..sym.num_targets()).collect();
                let mut c_sym = Circuit::new(n).unwrap();
                c_sym
                    .declare_params(2)
                    .declare_inputs(2)
                    .add(Gate::controlled(sym.clone(), &[n - 1], &targets))
                    .unwrap();
                let mut c_cst = Circuit::new(n).unwrap();
                c_cst
                    .declare_params(2)
                    .declare_inputs(2)
                    .add(Gate::controlled(cst, &[n - 1], &targets))
                    .unwrap();
                let input = random_state(n, (class * 10 + slot) as u64);
                for (name, backend) in all_backends() {
                    let mut s1 = backend.state_from_amplitudes(&input).unwrap();
                    s1.apply(&c_sym, &bindings()).unwrap();
                    let mut s2 = backend.state_from_amplitudes(&input).unwrap();
                    s2.apply(&c_cst, &bindings()).unwrap();
                    let ctx = format!("{} class {class} slot {slot} on {name}", sym.name());
                    assert_state_close(
                        &s2.amplitudes().unwrap(),
                        &s1.amplitudes().unwrap(),
                        tolerance(backend.precision(), 1),
                        &ctx,
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-computed checks of the qubit-ordering convention (qubit 0 = least significant bit).

fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

/// Runs `circuit` on `input` on every backend and compares with `expected`.
fn check_by_hand(
    circuit: &Circuit,
    b: &Bindings<'_>,
    input: &[Complex64],
    expected: &[Complex64],
    what: &str,
) {
    for (name, backend) in all_backends() {
        let mut state = backend.state_from_amplitudes(input).unwrap();
        state.apply(circuit, b).unwrap();
        assert_state_close(
            expected,
            &state.amplitudes().unwrap(),
            tolerance(backend.precision(), circuit.gates().len()),
            &format!("{what} on {name}"),
        );
    }
}

#[test]
fn x_on_qubit_0_of_000_gives_index_1_and_on_qubit_2_gives_index_4() {
    for (q, index) in [(0, 1), (1, 2), (2, 4)] {
        let mut circuit = Circuit::new(3).unwrap();
        circuit.x(q).unwrap();
        for (name, backend) in all_backends() {
            let state = backend.run(&circuit, &Bindings::none()).unwrap();
            let ctx = format!("X on qubit {q} of |000⟩ on {name}");
            assert_state_close(
                &basis_state(3, index),
                &state.amplitudes().unwrap(),
                tolerance(backend.precision(), 1),
                &ctx,
            );
            let probs = state.probabilities().unwrap();
            assert!(
                (probs[index] - 1.0).abs() < 1e-6,
                "{ctx}: probabilities {probs:?}"
            );
        }
    }
}

#[test]
fn cnot_control_0_target_1() {
    // CNOT(0, 1) on index 1 (qubit 0 set) flips qubit 1: index 3. On index 2 (only qubit 1
    // set) the control is off: unchanged. CNOT(1, 0) on index 2 gives index 3.
    let mut c01 = Circuit::new(2).unwrap();
    c01.cnot(0, 1).unwrap();
    check_by_hand(
        &c01,
        &Bindings::none(),
        &basis_state(2, 1),
        &basis_state(2, 3),
        "CNOT(0,1)|01⟩",
    );
    check_by_hand(
        &c01,
        &Bindings::none(),
        &basis_state(2, 2),
        &basis_state(2, 2),
        "CNOT(0,1)|10⟩",
    );
    let mut c10 = Circuit::new(2).unwrap();
    c10.cnot(1, 0).unwrap();
    check_by_hand(
        &c10,
        &Bindings::none(),
        &basis_state(2, 2),
        &basis_state(2, 3),
        "CNOT(1,0)|10⟩",
    );
    // On 5 qubits, CNOT(3, 1) on index 8 (qubit 3) gives 8 + 2.
    let mut c31 = Circuit::new(5).unwrap();
    c31.cnot(3, 1).unwrap();
    check_by_hand(
        &c31,
        &Bindings::none(),
        &basis_state(5, 8),
        &basis_state(5, 10),
        "CNOT(3,1)|01000⟩",
    );
}

#[test]
fn h_then_controlled_ry_by_hand() {
    // H(0): (|0⟩ + |1⟩)/√2 on qubit 0. CRY(0 → 1, θ) rotates qubit 1 where qubit 0 is 1:
    // amplitudes [1/√2, cos(θ/2)/√2, 0, sin(θ/2)/√2].
    let theta = [1.1];
    let mut circuit = Circuit::new(2).unwrap();
    circuit.h(0).unwrap().cry(0, 1, Angle::theta(0)).unwrap();
    let (s, co) = (theta[0] / 2.0f64).sin_cos();
    let h = FRAC_1_SQRT_2;
    let expected = [c(h, 0.0), c(h * co, 0.0), c(0.0, 0.0), c(h * s, 0.0)];
    for (name, backend) in all_backends() {
        let state = backend.run(&circuit, &Bindings::theta(&theta)).unwrap();
        assert_state_close(
            &expected,
            &state.amplitudes().unwrap(),
            tolerance(backend.precision(), 2),
            &format!("H(0) CRY(0,1,1.1) on {name}"),
        );
    }
}

#[test]
fn toffoli_swap_iswap_and_phase_by_hand() {
    let mut t = Circuit::new(3).unwrap();
    t.toffoli(0, 1, 2).unwrap();
    check_by_hand(
        &t,
        &Bindings::none(),
        &basis_state(3, 3),
        &basis_state(3, 7),
        "CCX(0,1→2)|011⟩",
    );
    check_by_hand(
        &t,
        &Bindings::none(),
        &basis_state(3, 1),
        &basis_state(3, 1),
        "CCX(0,1→2)|001⟩",
    );

    let mut s = Circuit::new(3).unwrap();
    s.swap(0, 2).unwrap();
    check_by_hand(
        &s,
        &Bindings::none(),
        &basis_state(3, 1),
        &basis_state(3, 4),
        "SWAP(0,2)|001⟩",
    );
    check_by_hand(
        &s,
        &Bindings::none(),
        &basis_state(3, 3),
        &basis_state(3, 6),
        "SWAP(0,2)|011⟩",
    );

    // iSWAP: |q1 q0⟩ = |01⟩ (index 1) → i|10⟩ (index 2).
    let mut i = Circuit::new(2).unwrap();
    i.iswap(0, 1).unwrap();
    let mut expected = vec![Complex64::ZERO; 4];
    expected[2] = Complex64::I;
    check_by_hand(
        &i,
        &Bindings::none(),
        &basis_state(2, 1),
        &expected,
        "iSWAP(0,1)|01⟩",
    );

    // Controlled SWAP (Fredkin) with control 2: index 5 (q0, q2) → index 6 (q1, q2).
    let mut f = Circuit::new(3).unwrap();
    f.add(Gate::controlled(GateKind::Swap, &[2], &[0, 1]))
        .unwrap();
    check_by_hand(
        &f,
        &Bindings::none(),
        &basis_state(3, 5),
        &basis_state(3, 6),
        "CSWAP(2; 0,1)|101⟩",
    );
    check_by_hand(
        &f,
        &Bindings::none(),
        &basis_state(3, 1),
        &basis_state(3, 1),
        "CSWAP(2; 0,1)|001⟩",
    );

    // Phase(λ) on qubit 1 multiplies index 2 by e^{iλ}, leaves index 1 alone.
    let mut p = Circuit::new(2).unwrap();
    p.phase(1, Angle::input(0)).unwrap();
    let x = [0.7];
    let mut expected = vec![Complex64::ZERO; 4];
    expected[2] = Complex64::from_polar(1.0, 0.7);
    check_by_hand(
        &p,
        &Bindings::new(&[], &x),
        &basis_state(2, 2),
        &expected,
        "Phase(q1, x0=0.7)|10⟩",
    );
    check_by_hand(
        &p,
        &Bindings::new(&[], &x),
        &basis_state(2, 1),
        &basis_state(2, 1),
        "Phase(q1, x0=0.7)|01⟩",
    );
}

#[test]
fn unitary2_first_target_is_the_low_bit_of_the_matrix_index() {
    // M = "X on the second target when the first target is 1": matrix index bit(t0) + 2·bit(t1),
    // so M swaps indices 1 and 3. On targets (2, 0): qubit 2 controls, qubit 0 flips.
    let mut m = [Complex64::ZERO; 16];
    m[0] = Complex64::ONE; // 0 → 0
    m[3 * 4 + 1] = Complex64::ONE; // 1 → 3
    m[2 * 4 + 2] = Complex64::ONE; // 2 → 2
    m[4 + 3] = Complex64::ONE; // 3 → 1
    let mut circuit = Circuit::new(3).unwrap();
    circuit.unitary2(2, 0, m).unwrap();
    check_by_hand(
        &circuit,
        &Bindings::none(),
        &basis_state(3, 4),
        &basis_state(3, 5),
        "U2[CX t0→t1] on (2,0) |100⟩",
    );
    check_by_hand(
        &circuit,
        &Bindings::none(),
        &basis_state(3, 1),
        &basis_state(3, 1),
        "U2[CX t0→t1] on (2,0) |001⟩",
    );
}

#[test]
fn unitary2_of_a_kronecker_product_equals_two_one_qubit_gates() {
    // kron2(A, B) on targets (a, b) = B on a, then A on b.
    let mut rng = Rng::new(77);
    for (a, b) in [(0, 1), (1, 0), (0, 4), (4, 2), (3, 1)] {
        let ma = random_dense_unitary(&mut rng, 2);
        let mb = random_dense_unitary(&mut rng, 2);
        let mut product = Circuit::new(5).unwrap();
        product
            .unitary1(a, mb.clone().try_into().unwrap())
            .unwrap()
            .unitary1(b, ma.clone().try_into().unwrap())
            .unwrap();
        let mut kron = Circuit::new(5).unwrap();
        kron.unitary2(a, b, kron2(&ma, &mb).try_into().unwrap())
            .unwrap();
        let input = random_state(5, 100 + a as u64 * 10 + b as u64);
        let mut reference = cpu().state_from_amplitudes(&input).unwrap();
        reference.apply(&product, &Bindings::none()).unwrap();
        check_by_hand(
            &kron,
            &Bindings::none(),
            &input,
            &reference.amplitudes().unwrap(),
            &format!("U2(kron) on ({a},{b})"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Analytic identities of the matrices (CPU: these pin down the reference itself).

fn m(kind: GateKind, angles: &[f64]) -> Vec<Complex64> {
    kind.matrix(angles)
}

fn scale(s: Complex64, a: &[Complex64]) -> Vec<Complex64> {
    a.iter().map(|z| s * z).collect()
}

fn assert_matrix(expected: &[Complex64], actual: &[Complex64], what: &str) {
    let d = max_diff(expected, actual);
    assert!(
        d < 1e-12,
        "{what}: max |difference| {d:.3e}\nexpected {expected:?}\nactual   {actual:?}"
    );
}

fn k(a: f64) -> Angle {
    Angle::Const(a)
}

#[test]
fn two_qubit_rotations_at_pi_are_minus_i_times_pauli_products() {
    let x = m(GateKind::X, &[]);
    let y = m(GateKind::Y, &[]);
    let z = m(GateKind::Z, &[]);
    let mi = c(0.0, -1.0);
    assert_matrix(
        &scale(mi, &kron2(&x, &x)),
        &m(GateKind::RXX(k(PI)), &[PI]),
        "RXX(π) = −i X⊗X",
    );
    assert_matrix(
        &scale(mi, &kron2(&y, &y)),
        &m(GateKind::RYY(k(PI)), &[PI]),
        "RYY(π) = −i Y⊗Y",
    );
    assert_matrix(
        &scale(mi, &kron2(&z, &z)),
        &m(GateKind::RZZ(k(PI)), &[PI]),
        "RZZ(π) = −i Z⊗Z",
    );
    for kind in [
        GateKind::RXX(k(0.0)),
        GateKind::RYY(k(0.0)),
        GateKind::RZZ(k(0.0)),
    ] {
        assert_matrix(
            &four_by_four(&[(0, 0), (1, 1), (2, 2), (3, 3)]),
            &m(kind.clone(), &[0.0]),
            &format!("{}(0) = I", kind.name()),
        );
    }
    // RZZ(θ) = CNOT(t0→t1) · (I ⊗ RZ(θ)) · CNOT(t0→t1).
    let theta = 0.77;
    let cnot = four_by_four(&[(0, 0), (1, 3), (2, 2), (3, 1)]);
    let rz_hi = kron2(&m(GateKind::RZ(k(theta)), &[theta]), &m(GateKind::I, &[]));
    assert_matrix(
        &matmul(&cnot, &matmul(&rz_hi, &cnot, 4), 4),
        &m(GateKind::RZZ(k(theta)), &[theta]),
        "RZZ = CX·RZ·CX",
    );
}

#[test]
fn iswap_and_swap_matrices() {
    let i = Complex64::I;
    let (o, z) = (Complex64::ONE, Complex64::ZERO);
    #[rustfmt::skip]
    let iswap = [o, z, z, z,
                 z, z, i, z,
                 z, i, z, z,
                 z, z, z, o];
    assert_matrix(&iswap, &m(GateKind::ISwap, &[]), "iSWAP");
    // iSWAP = exp(iπ/4 (X⊗X + Y⊗Y)) = RXX(−π/2) · RYY(−π/2) (the two commute).
    let t = -PI / 2.0;
    assert_matrix(
        &iswap,
        &matmul(
            &m(GateKind::RXX(k(t)), &[t]),
            &m(GateKind::RYY(k(t)), &[t]),
            4,
        ),
        "iSWAP = RXX(−π/2)·RYY(−π/2)",
    );
    // SWAP = CX(0→1) · CX(1→0) · CX(0→1).
    let cx01 = four_by_four(&[(0, 0), (1, 3), (2, 2), (3, 1)]);
    let cx10 = four_by_four(&[(0, 0), (1, 1), (2, 3), (3, 2)]);
    assert_matrix(
        &m(GateKind::Swap, &[]),
        &matmul(&cx01, &matmul(&cx10, &cx01, 4), 4),
        "SWAP = 3 CNOTs",
    );
}

fn four_by_four(map: &[(usize, usize)]) -> [Complex64; 16] {
    let mut out = [Complex64::ZERO; 16];
    for &(from, to) in map {
        out[to * 4 + from] = Complex64::ONE;
    }
    out
}

#[test]
fn one_qubit_identities() {
    let id = m(GateKind::I, &[]);
    let x = m(GateKind::X, &[]);
    let y = m(GateKind::Y, &[]);
    let z = m(GateKind::Z, &[]);
    let h = m(GateKind::H, &[]);
    let s = m(GateKind::S, &[]);
    let sdg = m(GateKind::Sdg, &[]);
    let t = m(GateKind::T, &[]);
    let tdg = m(GateKind::Tdg, &[]);
    let sx = m(GateKind::SX, &[]);
    let mul = |a: &[Complex64], b: &[Complex64]| matmul(a, b, 2);
    assert_matrix(&x, &mul(&sx, &sx), "SX² = X");
    assert_matrix(&z, &mul(&s, &s), "S² = Z");
    assert_matrix(&s, &mul(&t, &t), "T² = S");
    assert_matrix(&id, &mul(&s, &sdg), "S·S† = I");
    assert_matrix(&id, &mul(&t, &tdg), "T·T† = I");
    assert_matrix(&id, &mul(&h, &h), "H² = I");
    assert_matrix(&x, &mul(&h, &mul(&z, &h)), "HZH = X");
    assert_matrix(&y, &scale(Complex64::I, &mul(&x, &z)), "Y = iXZ");
    assert_matrix(&sx, &mul(&h, &mul(&s, &h)), "SX = H S H");
    for theta in [0.0, 0.3, -1.7, PI, 4.0] {
        let rx = m(GateKind::RX(k(theta)), &[theta]);
        let ry = m(GateKind::RY(k(theta)), &[theta]);
        let rz = m(GateKind::RZ(k(theta)), &[theta]);
        let phase = m(GateKind::Phase(k(theta)), &[theta]);
        let u3 = |t: f64, p: f64, l: f64| m(GateKind::U3(k(t), k(p), k(l)), &[t, p, l]);
        assert_matrix(
            &rx,
            &u3(theta, -PI / 2.0, PI / 2.0),
            &format!("U3(θ, −π/2, π/2) = RX(θ), θ = {theta}"),
        );
        assert_matrix(
            &ry,
            &u3(theta, 0.0, 0.0),
            &format!("U3(θ, 0, 0) = RY(θ), θ = {theta}"),
        );
        assert_matrix(
            &phase,
            &u3(0.0, 0.0, theta),
            &format!("U3(0, 0, λ) = Phase(λ), λ = {theta}"),
        );
        assert_matrix(
            &rz,
            &scale(Complex64::from_polar(1.0, -theta / 2.0), &phase),
            &format!("RZ(λ) = e^(−iλ/2) Phase(λ), λ = {theta}"),
        );
        assert_matrix(
            &rx,
            &mul(&h, &mul(&rz, &h)),
            &format!("RX(θ) = H RZ(θ) H, θ = {theta}"),
        );
        // RX(θ) = cos(θ/2) I − i sin(θ/2) X.
        let (sn, cs) = (theta / 2.0).sin_cos();
        let expect: Vec<Complex64> = id
            .iter()
            .zip(&x)
            .map(|(a, b)| a * cs - Complex64::I * sn * b)
            .collect();
        assert_matrix(
            &expect,
            &rx,
            &format!("RX(θ) = cos I − i sin X, θ = {theta}"),
        );
        // U3(θ, φ, λ) = e^{i(φ+λ)/2} RZ(φ) RY(θ) RZ(λ).
        let (p, l) = (0.4, -2.3);
        let rzp = m(GateKind::RZ(k(p)), &[p]);
        let rzl = m(GateKind::RZ(k(l)), &[l]);
        let zyz = scale(
            Complex64::from_polar(1.0, (p + l) / 2.0),
            &mul(&rzp, &mul(&ry, &rzl)),
        );
        assert_matrix(
            &zyz,
            &u3(theta, p, l),
            &format!("U3 = e^(i(φ+λ)/2) RZ RY RZ, θ = {theta}"),
        );
    }
    assert_matrix(
        &h,
        &m(
            GateKind::U3(k(PI / 2.0), k(0.0), k(PI)),
            &[PI / 2.0, 0.0, PI],
        ),
        "U3(π/2, 0, π) = H",
    );
    assert_matrix(
        &x,
        &m(GateKind::U3(k(PI), k(0.0), k(PI)), &[PI, 0.0, PI]),
        "U3(π, 0, π) = X",
    );
}

#[test]
fn every_fixed_and_random_matrix_is_unitary() {
    let mut rng = Rng::new(5);
    for class in 0..5 {
        for kind in one_qubit_kinds(class, &mut rng)
            .into_iter()
            .chain(two_qubit_kinds(class, &mut rng))
        {
            let values: Vec<f64> = kind.angles().iter().map(|a| a.value(&bindings())).collect();
            let d = 1 << kind.num_targets();
            qshade::circuit::check_unitary(&kind.matrix(&values), d)
                .unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        }
    }
}

#[test]
fn gates_compose_on_a_reused_state() {
    // Applying gates one circuit at a time to the same state equals applying them together.
    let (full, theta, x) = random_circuit(6, 40, 9);
    let b = Bindings::new(&theta, &x);
    let expected = cpu().run(&full, &b).unwrap().amplitudes().unwrap();
    for (name, backend) in all_backends() {
        let mut state = backend.zero_state(6).unwrap();
        for gate in full.gates() {
            let mut one = Circuit::new(6).unwrap();
            one.declare_params(full.num_params())
                .declare_inputs(full.num_inputs())
                .add(gate.clone())
                .unwrap();
            state.apply(&one, &b).unwrap();
        }
        assert_state_close(
            &expected,
            &state.amplitudes().unwrap(),
            tolerance(backend.precision(), 40),
            &format!("seed 9, gate by gate, on {name}"),
        );
    }
}
