//! Robustness of the public API against random and adversarial input: "nothing in the library
//! panics on user input, and nothing returns a silent wrong answer".
//!
//! The first half holds one regression test per finding of the robustness review (each failed
//! on the code before its fix). The second half is a `proptest` suite that drives circuits,
//! angles, bindings, observables (built through the parser, the builders and the public
//! fields), sizes and shot counts with random and adversarial values — huge and
//! wrapped-negative sizes (`usize::MAX`), NaN and ±∞ wherever a float enters, unsorted,
//! repeated and out-of-range qubits, truncated and mutated observable strings — on the CPU
//! reference, the fast CPU backends (f64 and f32) and, where one is available and selected,
//! the GPU f32 backend. Every call must return `Ok` with finite results that match the
//! reference, or an `Err`; never a panic or a non-finite number.
//!
//! The default run is bounded (64 cases per property, circuits of at most 5 qubits) so that
//! `cargo test --release` stays fast. A longer run is one command, e.g.
//!
//! ```text
//! PROPTEST_CASES=5000 cargo test --release --test robustness
//! ```
//!
//! (`QSHADE_TEST_BACKENDS=cpu` leaves the GPU out, see `tests/common`.)

mod common;

use common::{backends_labelled, NamedBackend};
use proptest::prelude::*;
use qshade::circuit::MAX_PARAMS;
use qshade::{
    Angle, Backend, Batch, BatchConfig, Bindings, Circuit, Complex64, CpuBackend, CpuConfig,
    CpuState, Error, Observable, Pauli, PauliTerm, Precision, Program, QuantumState,
};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Regression tests, one per finding.
// ---------------------------------------------------------------------------------------------

fn reference() -> CpuBackend {
    CpuBackend::reference()
}

fn fast_with_budget(budget: u64) -> CpuBackend {
    CpuBackend::with_config(CpuConfig::default().memory_budget(Some(budget)))
}

#[test]
fn theta_index_usize_max_is_rejected_not_wrapped() {
    let mut c = Circuit::new(2).unwrap();
    let r = c.ry(0, Angle::theta(usize::MAX));
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    let r = c.rx(1, Angle::input(MAX_PARAMS));
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert!(c.gates().is_empty());
    assert_eq!((c.num_params(), c.num_inputs()), (0, 0));
    // The largest valid index still works.
    c.ry(0, Angle::theta(MAX_PARAMS - 1)).unwrap();
    assert_eq!(c.num_params(), MAX_PARAMS);
}

#[test]
fn name_param_and_declare_beyond_the_limit_are_errors_not_aborts() {
    for build in [
        |c: &mut Circuit| {
            c.name_param(usize::MAX, "huge");
        },
        |c: &mut Circuit| {
            c.name_param(1 << 40, "large");
        },
        |c: &mut Circuit| {
            c.declare_params(usize::MAX);
        },
        |c: &mut Circuit| {
            c.declare_inputs(usize::MAX);
        },
    ] {
        let mut c = Circuit::new(1).unwrap();
        c.h(0).unwrap();
        build(&mut c);
        assert_eq!((c.num_params(), c.num_inputs()), (0, 0));
        assert!(c.param_names().is_empty());
        let err = c.check_bindings(&Bindings::none()).unwrap_err();
        assert!(err.to_string().contains("MAX_PARAMS"), "{err}");
        assert!(reference().run(&c, &Bindings::none()).is_err());
        let program = Program::compile(&c);
        let r =
            reference().forward_batch(&program, &Batch::shared(&[], &[], 1), &[Observable::z(0)]);
        assert!(r.is_err(), "{r:?}");
    }
    let mut c = Circuit::new(1).unwrap();
    c.name_param(3, "q").declare_params(5);
    assert_eq!(c.param_names()[3], "q");
    assert_eq!(c.param_names()[4], "theta[4]");
}

#[test]
fn sample_with_huge_shot_counts_is_an_error_not_an_abort() {
    let state = reference().zero_state(2).unwrap();
    for shots in [usize::MAX, usize::MAX / 2, 1 << 62] {
        assert!(matches!(
            state.sample(shots, 1),
            Err(Error::InvalidArgument(_))
        ));
    }
    let small = fast_with_budget(1 << 30);
    let state = small.zero_state(2).unwrap();
    let err = state.sample(1_000_000_000, 1).unwrap_err();
    assert!(err.to_string().contains("sample_counts"), "{err}");
    assert!(state.sample(usize::MAX, 1).is_err());
    assert!(state.sample(0, 1).is_err());
}

#[test]
fn batch_with_a_huge_row_count_is_an_error() {
    let mut c = Circuit::new(2).unwrap();
    c.ry(0, Angle::theta(0))
        .unwrap()
        .rx(1, Angle::input(0))
        .unwrap();
    let program = Program::compile(&c);
    let obs = [Observable::z(0)];
    for backend in [reference(), CpuBackend::new()] {
        for size in [usize::MAX, usize::MAX / 2 + 1, 1 << 40] {
            let r = backend.forward_batch(&program, &Batch::shared(&[0.1], &[], size), &obs);
            assert!(r.is_err(), "size {size}: {r:?}");
            let r = backend.forward_batch(&program, &Batch::per_sample(&[], &[], size), &obs);
            assert!(r.is_err(), "size {size}: {r:?}");
        }
    }
    // No θ, no inputs, one constant angle: only the occurrence rows grow with B.
    let mut c = Circuit::new(1).unwrap();
    c.rx(0, 0.3).unwrap();
    let program = Program::compile(&c);
    let r = reference().forward_batch(&program, &Batch::shared(&[], &[], usize::MAX), &obs);
    assert!(r.is_err(), "{r:?}");
    // Row accessors outside the batch are empty rather than panicking.
    let batch = Batch::per_sample(&[1.0, 2.0], &[], 2);
    assert_eq!(batch.theta_row(1, 1), &[2.0]);
    assert!(batch.theta_row(usize::MAX, 2).is_empty());
    assert!(batch.input_row(5, 1).is_empty());
}

fn raw_observable(coeff: f64, ops: Vec<(usize, Pauli)>) -> Observable {
    Observable {
        terms: vec![PauliTerm { coeff, ops }],
    }
}

#[test]
fn observables_edited_through_public_fields_are_validated() {
    let cases = [
        (
            "unsorted, out of range",
            raw_observable(1.0, vec![(5, Pauli::Z), (0, Pauli::Z)]),
        ),
        (
            "repeated",
            raw_observable(1.0, vec![(0, Pauli::Z), (0, Pauli::Z)]),
        ),
        (
            "repeated, unsorted",
            raw_observable(1.0, vec![(1, Pauli::X), (0, Pauli::Z), (1, Pauli::Y)]),
        ),
        ("qubit 64", raw_observable(1.0, vec![(64, Pauli::X)])),
        (
            "qubit usize::MAX",
            raw_observable(1.0, vec![(0, Pauli::X), (usize::MAX, Pauli::X)]),
        ),
        (
            "NaN coefficient",
            raw_observable(f64::NAN, vec![(0, Pauli::X)]),
        ),
        ("infinite constant", raw_observable(f64::INFINITY, vec![])),
    ];
    let mut c = Circuit::new(2).unwrap();
    c.h(0).unwrap().cnot(0, 1).unwrap();
    let program = Program::compile(&c);
    for backend in cpu_backends() {
        let state = backend.run(&c, &Bindings::none()).unwrap();
        for (what, obs) in &cases {
            assert!(state.expectation(obs).is_err(), "{what}");
            assert!(state.expectation_shots(obs, 10, 1).is_err(), "{what}");
            let r = backend.forward_batch(
                &program,
                &Batch::shared(&[], &[], 1),
                std::slice::from_ref(obs),
            );
            assert!(r.is_err(), "{what}: {r:?}");
        }
        // Unsorted but distinct, in range: fine, and the same value as sorted.
        let unsorted = raw_observable(0.5, vec![(1, Pauli::Z), (0, Pauli::Z)]);
        let v = state.expectation(&unsorted).unwrap();
        assert!((v - 0.5).abs() < 1e-6, "{v}");
    }
    assert_eq!(
        raw_observable(1.0, vec![(7, Pauli::Z), (2, Pauli::X)]).terms[0].max_qubit(),
        Some(7)
    );
}

#[test]
fn non_finite_angles_are_rejected_when_the_gate_is_added() {
    let bad: Vec<Angle> = vec![
        f64::NAN.into(),
        f64::INFINITY.into(),
        f64::NEG_INFINITY.into(),
        Angle::theta(0).plus(f64::INFINITY),
        Angle::theta(0).times(f64::NAN),
        Angle::input(0).times(f64::INFINITY),
        Angle::Const(0.1).plus(f64::NAN),
        Angle::Theta {
            index: 0,
            scale: 1.0,
            offset: f64::NAN,
        },
    ];
    for a in bad {
        let mut c = Circuit::new(2).unwrap();
        let r = c.ry(0, a.clone());
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{a:?}: {r:?}");
        assert!(c.crz(0, 1, a.clone()).is_err(), "{a:?}");
        assert!(c.u3(0, 0.1, a.clone(), 0.2).is_err(), "{a:?}");
        assert!(c.gates().is_empty());
        assert_eq!((c.num_params(), c.num_inputs()), (0, 0));
    }
}

#[test]
fn angles_that_overflow_when_bound_are_errors_on_every_path() {
    let mut c = Circuit::new(1).unwrap();
    c.ry(0, Angle::theta(0).times(1e300)).unwrap();
    let theta = [1e300];
    let program = Program::compile(&c);
    for backend in cpu_backends() {
        let r = backend.run(&c, &Bindings::theta(&theta));
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "run");
        let mut state = backend.zero_state(1).unwrap();
        assert!(state.apply(&c, &Bindings::theta(&theta)).is_err());
        assert_eq!(state.amplitudes().unwrap()[0], Complex64::ONE, "unchanged");
        let batch = Batch::shared(&theta, &[], 1);
        let r = backend.forward_batch(&program, &batch, &[Observable::z(0)]);
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "forward_batch {r:?}"
        );
        let r = backend.gradient_batch(
            &program,
            &batch,
            &[Observable::z(0)],
            &[1.0],
            Default::default(),
        );
        assert!(r.is_err(), "gradient_batch");
        assert!(program.bind_row(&[f64::INFINITY]).is_err());
        assert!(program.bind_row(&[]).is_err());
        assert!(program.ops()[0].angles(&[]).is_empty());
    }
}

#[test]
fn non_finite_occurrence_rows_are_rejected_by_the_cpu_backends_too() {
    let mut c = Circuit::new(2).unwrap();
    c.ry(0, Angle::theta(0)).unwrap().cnot(0, 1).unwrap();
    let program = Program::compile(&c);
    let obs = [Observable::z(1)];
    let options = BatchConfig::default();
    for backend in cpu_backends() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let r = backend.forward_rows(&program, &[bad], 1, &obs, &options);
            assert!(
                r.is_err(),
                "{}: forward_rows({bad}) = {r:?}",
                backend.name()
            );
            let r = backend.adjoint_rows(&program, &[0.1, bad], 2, &obs, &[1.0, 1.0], &options);
            assert!(r.is_err(), "{}: adjoint_rows({bad})", backend.name());
        }
        let r = backend.forward_rows(&program, &[0.1], usize::MAX, &obs, &options);
        assert!(
            r.is_err(),
            "{}: forward_rows of usize::MAX rows",
            backend.name()
        );
    }
}

#[test]
fn check_unitary_with_a_huge_dimension_is_an_error() {
    let m = [Complex64::ONE; 4];
    for d in [usize::MAX, 1usize << 32, (1usize << 32) + 1] {
        assert!(matches!(
            qshade::circuit::check_unitary(&m, d),
            Err(Error::BadMatrixSize { .. })
        ));
    }
    // usize::MAX² wraps to 1: a one-entry matrix passed the size check and then indexed
    // far out of bounds.
    assert!(qshade::circuit::check_unitary(&[Complex64::ONE], usize::MAX).is_err());
    assert!(qshade::circuit::check_unitary(&[Complex64::ONE], 1).is_ok());
}

#[test]
fn non_finite_observable_coefficients_are_rejected() {
    for text in ["1e200 1e200 Z0", "-1e300 1e300 X0 + Z1", "1e308 10 Z0"] {
        let r = Observable::parse(text);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{text}: {r:?}");
    }
    let mut o = Observable::z(0);
    assert!(o.add_term(f64::NAN, &[(0, Pauli::X)]).is_err());
    assert!(o.add_term(f64::INFINITY, &[]).is_err());
    assert_eq!(o.terms.len(), 1);
    assert!(PauliTerm::new(f64::NEG_INFINITY, &[(0, Pauli::Z)]).is_err());
    let state = reference().zero_state(1).unwrap();
    assert!(state.expectation(&Observable::constant(f64::NAN)).is_err());
    assert!(state.expectation(&Observable::constant(1.5)).unwrap() == 1.5);
    // Finite coefficients whose sum overflows (found by the property test below).
    let mut big = Observable::constant(f64::MAX);
    big.add_term(1e300, &[]).unwrap();
    big.add_term(f64::MAX, &[(0, Pauli::Z)]).unwrap();
    for backend in cpu_backends() {
        let state = backend.zero_state(1).unwrap();
        assert!(state.expectation(&big).is_err(), "{}", backend.name());
    }
}

#[test]
fn out_of_memory_message_is_right_for_the_host() {
    let backend = fast_with_budget(1 << 20);
    let err = backend
        .zero_state(20)
        .err()
        .expect("2^20 amplitudes need 16 MiB");
    assert!(
        matches!(err, Error::OutOfDeviceMemory { needed, available } if needed == 16 << 20 && available == 1 << 20),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(!msg.contains("adapter has only"), "{msg}");
    assert!(
        msg.contains("CpuConfig::memory_budget") && msg.contains("GpuConfig::memory_budget"),
        "{msg}"
    );
    assert!(msg.contains("host memory on the CPU"), "{msg}");
}

#[test]
fn repeated_qubit_messages_name_the_gate_and_the_term() {
    let mut c = Circuit::new(3).unwrap();
    let msg = c.cnot(1, 1).unwrap_err().to_string();
    assert!(msg.contains("in gate CNOT"), "{msg}");
    let msg = c.toffoli(0, 2, 2).unwrap_err().to_string();
    assert!(msg.contains("in gate Toffoli"), "{msg}");
    let msg = Observable::parse("Z0 Z0").unwrap_err().to_string();
    assert!(msg.contains("in Pauli term \"Z0 Z0\""), "{msg}");
    assert!(!msg.contains("gate Pauli term"), "{msg}");
}

#[test]
fn states_respect_the_same_memory_ceiling_as_batches() {
    let mut c = Circuit::new(16).unwrap();
    c.h(0).unwrap();
    // 2^16 amplitudes: 1 MiB in f64, 512 KiB in f32.
    for (precision, budget) in [
        (Precision::F64, (1 << 20) - 1),
        (Precision::F32, (1 << 19) - 1),
    ] {
        let config = CpuConfig::with_precision(precision).memory_budget(Some(budget));
        let backend = CpuBackend::with_config(config);
        let err = backend
            .run(&c, &Bindings::none())
            .err()
            .expect("over budget");
        assert!(
            matches!(err, Error::OutOfDeviceMemory { available, .. } if available == budget),
            "{err:?}"
        );
        assert!(backend.zero_state(16).is_err());
        let amps = common::basis_state(16, 3);
        assert!(backend.state_from_amplitudes(&amps).is_err());
        // One byte more is enough.
        let backend = CpuBackend::with_config(config.memory_budget(Some(budget + 1)));
        backend.run(&c, &Bindings::none()).unwrap();
    }
    // The reference follows the default rule: the largest state never fits.
    assert!(matches!(
        CpuState::zero(34),
        Err(Error::OutOfDeviceMemory { .. })
    ));
    assert!(matches!(
        reference().zero_state(34),
        Err(Error::OutOfDeviceMemory { .. })
    ));
    assert!(matches!(
        CpuState::zero(0),
        Err(Error::UnsupportedQubitCount { .. })
    ));
    assert!(matches!(
        CpuState::zero(usize::MAX),
        Err(Error::UnsupportedQubitCount { .. })
    ));
}

#[test]
fn a_batched_call_s_budget_governs_its_state_and_the_backend_s_the_rest() {
    // 12 qubits and one row: the fast backend runs it through one state (64 KiB in f64).
    let mut c = Circuit::new(12).unwrap();
    c.h(0).unwrap().ry(11, Angle::theta(0)).unwrap();
    let program = Program::compile(&c);
    let batch = Batch::shared(&[0.3], &[], 1);
    let obs = [Observable::z(11)];
    let tight = fast_with_budget(1024);
    assert!(tight.run(&c, &Bindings::theta(&[0.3])).is_err());
    let r = tight.forward_batch(&program, &batch, &obs);
    assert!(matches!(r, Err(Error::OutOfDeviceMemory { .. })), "{r:?}");
    let roomy = BatchConfig::default().memory_budget(Some(1 << 20));
    let v = tight
        .forward_batch_with(&program, &batch, &obs, &roomy)
        .unwrap();
    assert!((v[0] - 0.3f64.cos()).abs() < 1e-12, "{v:?}");
    let small = BatchConfig::default().memory_budget(Some(1024));
    assert!(CpuBackend::new()
        .forward_batch_with(&program, &batch, &obs, &small)
        .is_err());
}

#[test]
fn sample_counts_is_the_histogram_of_sample() {
    let mut c = Circuit::new(3).unwrap();
    c.h(0).unwrap().ry(1, 0.7).unwrap().cnot(1, 2).unwrap();
    for backend in cpu_backends() {
        let state = backend.run(&c, &Bindings::none()).unwrap();
        let reference_state = reference().run(&c, &Bindings::none()).unwrap();
        for (shots, seed) in [(1usize, 3u64), (1000, 7), (200_000, 11)] {
            let counts = state.sample_counts(shots as u64, seed).unwrap();
            let mut expected = std::collections::BTreeMap::new();
            for k in reference_state.sample(shots, seed).unwrap() {
                *expected.entry(k).or_insert(0u64) += 1;
            }
            if backend.precision() == Precision::F64 {
                assert_eq!(counts, expected, "{}: {shots} shots", backend.name());
            }
            assert_eq!(counts.values().sum::<u64>(), shots as u64);
        }
        assert!(state.sample_counts(0, 1).is_err());
        assert!(state.sample_counts(u64::MAX, 1).is_err());
        assert!(state.sample_counts(qshade::MAX_SHOTS + 1, 1).is_err());
        assert!(state
            .expectation_shots(&Observable::z(0), u64::MAX, 1)
            .is_err());
    }
    // A billion shots need memory per distinct outcome only (and about a minute of CPU time,
    // so this checks the count of a basis state, which has one outcome).
    let mut c = Circuit::new(2).unwrap();
    c.x(1).unwrap();
    let state = reference().run(&c, &Bindings::none()).unwrap();
    let counts = state.sample_counts(3_000_000, 5).unwrap();
    assert_eq!(counts.into_iter().collect::<Vec<_>>(), vec![(2, 3_000_000)]);
}

#[test]
fn expectation_shots_is_unbiased_with_the_binomial_variance() {
    // ⟨Z0⟩ = cos 1.1, ⟨X1⟩ = sin 0.4 (RY), ⟨Z0 Z1⟩ = cos 1.1 · cos 0.4, plus a constant.
    let mut c = Circuit::new(2).unwrap();
    c.ry(0, 1.1).unwrap().ry(1, 0.4).unwrap();
    let obs = Observable::parse("0.7 Z0 - 1.3 X1 + 0.5 Z0 Z1 + 2.0").unwrap();
    let e = [1.1f64.cos(), 0.4f64.sin(), 1.1f64.cos() * 0.4f64.cos()];
    let coeffs = [0.7, -1.3, 0.5];
    let shots = 400u64;
    let variance: f64 = coeffs
        .iter()
        .zip(e)
        .map(|(c, e)| c * c * (1.0 - e * e) / shots as f64)
        .sum();
    for backend in cpu_backends() {
        let state = backend.run(&c, &Bindings::none()).unwrap();
        let exact = state.expectation(&obs).unwrap();
        let reps = 2000;
        let draws: Vec<f64> = (0..reps)
            .map(|seed| state.expectation_shots(&obs, shots, seed).unwrap())
            .collect();
        let mean = draws.iter().sum::<f64>() / reps as f64;
        let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (reps - 1) as f64;
        // The mean of `reps` draws has standard error √(variance/reps): 5 of them is a
        // one-in-a-million miss. The sample variance of `reps` near-normal draws has relative
        // standard error √(2/(reps−1)) ≈ 3.2%: allow 5 of them (16%).
        let se = (variance / reps as f64).sqrt();
        assert!(
            (mean - exact).abs() < 5.0 * se,
            "{}: mean {mean} vs {exact} (se {se})",
            backend.name()
        );
        assert!(
            (var / variance - 1.0).abs() < 5.0 * (2.0 / (reps - 1) as f64).sqrt(),
            "{}: variance {var} vs {variance}",
            backend.name()
        );
        // Same seed, same estimate; constant-only observables are exact.
        assert_eq!(
            state.expectation_shots(&obs, shots, 9).unwrap(),
            state.expectation_shots(&obs, shots, 9).unwrap()
        );
        assert_eq!(
            state
                .expectation_shots(&Observable::constant(-0.25), 1, 0)
                .unwrap(),
            -0.25
        );
        assert!(state.expectation_shots(&obs, 0, 0).is_err());
        assert!(state.expectation_shots(&Observable::z(2), 10, 0).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests.
// ---------------------------------------------------------------------------------------------

/// The backends of the property tests: the CPU reference (the oracle), the fast CPU backends
/// and, when selected and available, the GPU in f32. Opened once.
fn backends() -> &'static [NamedBackend] {
    static BACKENDS: OnceLock<Vec<NamedBackend>> = OnceLock::new();
    BACKENDS.get_or_init(|| {
        backends_labelled(&[
            "cpu-reference",
            "cpu-fast-f64",
            "cpu-fast-f32",
            "cpu-fast-f32-fused3",
            "gpu-f32",
        ])
    })
}

fn cpu_backends() -> Vec<CpuBackend> {
    vec![
        CpuBackend::reference(),
        CpuBackend::new(),
        CpuBackend::with_precision(Precision::F32),
    ]
}

fn tolerance(backend: &dyn Backend) -> f64 {
    common::precision_tolerance(backend, 1e-9, 2e-4)
}

/// Floats that break careless code, mixed with ordinary angles.
fn any_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -7.0..7.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e300),
        1 => Just(-1e300),
        1 => Just(f64::MAX),
        1 => Just(f64::MIN_POSITIVE),
        1 => Just(-0.0),
    ]
}

/// Indices and sizes: small ones, ones just past a limit, and wrapped negatives.
fn any_index() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0..4usize,
        1 => Just(MAX_PARAMS - 1),
        1 => Just(MAX_PARAMS),
        1 => Just(usize::MAX),
        1 => Just(usize::MAX - 1),
        1 => Just(1usize << 40),
    ]
}

/// A qubit: mostly in range for `n ≤ 5`, sometimes beyond, sometimes absurd.
fn any_qubit() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 0..6usize,
        1 => Just(63usize),
        1 => Just(64usize),
        1 => Just(usize::MAX),
    ]
}

fn any_simple_angle() -> impl Strategy<Value = Angle> {
    prop_oneof![
        2 => any_float().prop_map(Angle::Const),
        2 => (any_index(), any_float(), any_float()).prop_map(|(i, a, b)| Angle::theta(i).times(a).plus(b)),
        1 => (any_index(), any_float()).prop_map(|(i, a)| Angle::input(i).times(a)),
        1 => (any_index(), any_float(), any_float()).prop_map(|(index, scale, offset)| Angle::Theta { index, scale, offset }),
    ]
}

/// Simple angles and expressions of them (sums, products, quotients, powers and functions, which
/// can leave their domain: ln of a negative, division by zero).
fn any_angle() -> impl Strategy<Value = Angle> {
    any_simple_angle().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a + b),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a - b),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a * b),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a / b),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.pow(b)),
            (inner.clone(), 0usize..9).prop_map(|(a, f)| {
                use qshade::AngleFn::*;
                a.func([Sin, Cos, Tan, Exp, Ln, Sqrt, Asin, Acos, Atan][f])
            }),
            inner.prop_map(|a| -a),
        ]
    })
}

/// One builder call.
#[derive(Clone, Debug)]
enum Op {
    One(u8, usize),
    Rot(u8, usize, Angle),
    U3(usize, Angle, Angle, Angle),
    Ctrl(u8, usize, usize, Angle),
    Two(u8, usize, usize, Angle),
    Toffoli(usize, usize, usize),
    NameParam(usize),
    DeclareParams(usize),
    DeclareInputs(usize),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..10u8, any_qubit()).prop_map(|(k, q)| Op::One(k, q)),
        4 => (0..4u8, any_qubit(), any_angle()).prop_map(|(k, q, a)| Op::Rot(k, q, a)),
        1 => (any_qubit(), any_angle(), any_angle(), any_angle()).prop_map(|(q, a, b, c)| Op::U3(q, a, b, c)),
        3 => (0..7u8, any_qubit(), any_qubit(), any_angle()).prop_map(|(k, c, t, a)| Op::Ctrl(k, c, t, a)),
        2 => (0..5u8, any_qubit(), any_qubit(), any_angle()).prop_map(|(k, a, b, x)| Op::Two(k, a, b, x)),
        1 => (any_qubit(), any_qubit(), any_qubit()).prop_map(|(a, b, c)| Op::Toffoli(a, b, c)),
        1 => any_index().prop_map(Op::NameParam),
        1 => any_index().prop_map(Op::DeclareParams),
        1 => any_index().prop_map(Op::DeclareInputs),
    ]
}

/// Applies one builder call; a rejected gate must leave the circuit unchanged.
fn apply_op(c: &mut Circuit, op: &Op) {
    let before = c.clone();
    let r = match op.clone() {
        Op::One(k, q) => match k {
            0 => c.h(q),
            1 => c.x(q),
            2 => c.y(q),
            3 => c.z(q),
            4 => c.s(q),
            5 => c.sdg(q),
            6 => c.t(q),
            7 => c.tdg(q),
            8 => c.sx(q),
            _ => c.id(q),
        },
        Op::Rot(k, q, a) => match k {
            0 => c.rx(q, a),
            1 => c.ry(q, a),
            2 => c.rz(q, a),
            _ => c.phase(q, a),
        },
        Op::U3(q, a, b, x) => c.u3(q, a, b, x),
        Op::Ctrl(k, ctl, t, a) => match k {
            0 => c.cnot(ctl, t),
            1 => c.cy(ctl, t),
            2 => c.cz(ctl, t),
            3 => c.crx(ctl, t, a),
            4 => c.cry(ctl, t, a),
            5 => c.crz(ctl, t, a),
            _ => c.cphase(ctl, t, a),
        },
        Op::Two(k, a, b, x) => match k {
            0 => c.swap(a, b),
            1 => c.iswap(a, b),
            2 => c.rxx(a, b, x),
            3 => c.ryy(a, b, x),
            _ => c.rzz(a, b, x),
        },
        Op::Toffoli(a, b, t) => c.toffoli(a, b, t),
        Op::NameParam(i) => {
            c.name_param(i, "p");
            return;
        }
        Op::DeclareParams(n) => {
            c.declare_params(n);
            return;
        }
        Op::DeclareInputs(n) => {
            c.declare_inputs(n);
            return;
        }
    };
    if r.is_err() {
        assert_eq!(*c, before, "a rejected gate changed the circuit");
    }
}

/// A vector of `len` values (`len` capped: a circuit that needs more values cannot be bound).
fn values(len: usize, fill: &[f64]) -> Vec<f64> {
    (0..len.min(64)).map(|k| fill[k % fill.len()]).collect()
}

fn all_finite(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite())
}

fn check_state(label: &str, state: &dyn QuantumState, reference: &[Complex64], tol: f64) {
    let amps = state.amplitudes().expect("amplitudes of a valid state");
    assert!(
        amps.iter().all(|a| a.re.is_finite() && a.im.is_finite()),
        "{label}: non-finite amplitude"
    );
    let worst = amps
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    assert!(
        worst < tol,
        "{label}: differs from the reference by {worst}"
    );
}

fn any_term() -> impl Strategy<Value = PauliTerm> {
    let pauli = prop_oneof![Just(Pauli::X), Just(Pauli::Y), Just(Pauli::Z)];
    (
        any_float(),
        prop::collection::vec((any_qubit(), pauli), 0..4),
    )
        .prop_map(|(coeff, ops)| PauliTerm { coeff, ops })
}

fn any_observable() -> impl Strategy<Value = Observable> {
    prop::collection::vec(any_term(), 0..4).prop_map(|terms| Observable { terms })
}

/// Observable text: a valid sum, then truncated and mutated.
fn any_observable_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("Z0".to_string()),
        Just("X1".to_string()),
        Just("Y2".to_string()),
        Just("z3".to_string()),
        Just("+".to_string()),
        Just("-".to_string()),
        Just("0.5".to_string()),
        Just("1e200".to_string()),
        Just("1e-3".to_string()),
        Just("inf".to_string()),
        Just("NaN".to_string()),
        Just("Z".to_string()),
        Just("X18446744073709551616".to_string()),
        Just("Z99".to_string()),
        Just("é".to_string()),
        Just("1e".to_string()),
        Just("".to_string()),
        Just("Z0Z1".to_string()),
        Just("--".to_string()),
    ];
    (
        prop::collection::vec(token, 0..8),
        any::<usize>(),
        any::<u8>(),
        any::<usize>(),
    )
        .prop_map(|(tokens, cut, byte, at)| {
            let mut text = tokens.join(" ");
            // Truncate at a character boundary and mutate one byte into ASCII.
            let cut = cut % (text.len() + 1);
            let cut = (0..=cut)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            text.truncate(cut);
            if !text.is_empty() {
                let at = at % text.len();
                if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                    text.replace_range(at..at + 1, &((byte % 95 + 32) as char).to_string());
                }
            }
            text
        })
}

/// 64 cases per property, or `PROPTEST_CASES` when set (an explicit `cases` would override the
/// variable, which proptest reads only into its default).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Random circuits with adversarial qubits, angles and indices: the builders never panic,
    /// and running them gives the reference's finite state on every backend, or the same
    /// refusal everywhere.
    #[test]
    fn circuits_build_and_run_or_fail_cleanly(
        n in 1..6usize,
        ops in prop::collection::vec(any_op(), 0..16),
        theta_fill in prop::collection::vec(any_float(), 1..4),
        input_fill in prop::collection::vec(any_float(), 1..4),
    ) {
        let mut c = Circuit::new(n).unwrap();
        for op in &ops {
            apply_op(&mut c, op);
        }
        let theta = values(c.num_params(), &theta_fill);
        let inputs = values(c.num_inputs(), &input_fill);
        let bindings = Bindings::new(&theta, &inputs);
        let expected = CpuBackend::reference().run(&c, &bindings);
        if let Ok(state) = &expected {
            prop_assert!(all_finite(&state.probabilities().unwrap()));
        }
        let observables = [Observable::z(0), Observable::parse("0.5 X0 + 2").unwrap()];
        for (label, backend) in backends() {
            match (backend.run(&c, &bindings), &expected) {
                (Ok(state), Ok(reference)) => {
                    let reference = reference.amplitudes().unwrap();
                    check_state(label, state.as_ref(), &reference, tolerance(backend.as_ref()));
                    let values = state.expectations(&observables).unwrap();
                    prop_assert!(all_finite(&values), "{label}: {values:?}");
                }
                (Err(_), Err(_)) => {}
                (got, want) => prop_assert!(false, "{label}: {:?} vs reference {:?}", got.err(), want.as_ref().err()),
            }
            // The batched path agrees with the state path.
            let program = Program::compile(&c);
            let batch = Batch::shared(&theta, &inputs, 1);
            match (backend.forward_batch(&program, &batch, &observables), &expected) {
                (Ok(v), Ok(_)) => prop_assert!(all_finite(&v), "{label}: {v:?}"),
                (Err(_), Err(_)) => {}
                (got, want) => prop_assert!(false, "{label} batch: {:?} vs reference {:?}", got, want.as_ref().err()),
            }
            // Gradients (through the chain rule of every angle expression) are finite or an
            // error, never NaN.
            let upstream = vec![1.0; observables.len()];
            if let Ok(g) = backend.gradient_batch(&program, &batch, &observables, &upstream, Default::default()) {
                prop_assert!(all_finite(&g.theta) && all_finite(&g.inputs), "{label}: {g:?}");
            }
        }
    }

    /// Observables built through the public fields (unsorted, repeated, out-of-range qubits,
    /// non-finite coefficients): every backend gives the reference's finite value or an error.
    #[test]
    fn observables_from_public_fields_are_checked(obs in any_observable(), seed in any::<u64>()) {
        let mut c = Circuit::new(3).unwrap();
        c.h(0).unwrap().cnot(0, 1).unwrap().ry(2, 0.3).unwrap();
        let expected = CpuBackend::reference().run(&c, &Bindings::none()).unwrap().expectation(&obs);
        for (label, backend) in backends() {
            let state = backend.run(&c, &Bindings::none()).unwrap();
            match (state.expectation(&obs), &expected) {
                (Ok(v), Ok(want)) => {
                    prop_assert!(v.is_finite());
                    let scale = 1.0 + obs.terms.iter().map(|t| t.coeff.abs()).sum::<f64>();
                    prop_assert!((v - want).abs() <= tolerance(backend.as_ref()) * scale, "{label}: {v} vs {want}");
                    let shots = state.expectation_shots(&obs, 16, seed).unwrap();
                    prop_assert!(shots.is_finite());
                }
                (Err(_), Err(_)) => prop_assert!(state.expectation_shots(&obs, 16, seed).is_err()),
                (got, want) => prop_assert!(false, "{label}: {got:?} vs reference {want:?}"),
            }
            let program = Program::compile(&c);
            let r = backend.forward_batch(&program, &Batch::shared(&[], &[], 1), std::slice::from_ref(&obs));
            prop_assert_eq!(r.is_ok(), expected.is_ok(), "{}: batch {:?}", label, r);
        }
    }

    /// Truncated and mutated observable text: parsing never panics, and what it accepts has
    /// finite coefficients and sorted, distinct qubits.
    #[test]
    fn observable_text_parses_or_fails_cleanly(text in any_observable_text()) {
        if let Ok(obs) = Observable::parse(&text) {
            for t in &obs.terms {
                prop_assert!(t.coeff.is_finite(), "{text:?}: {t:?}");
                prop_assert!(t.ops.windows(2).all(|w| w[0].0 < w[1].0), "{text:?}: {t:?}");
            }
            let state = CpuBackend::reference().zero_state(4).unwrap();
            if let Ok(v) = state.expectation(&obs) {
                prop_assert!(v.is_finite());
            }
        }
    }

    /// Sizes, shot counts, qubit lists and amplitudes from the edge of the integer range.
    #[test]
    fn sizes_and_counts_are_checked(
        qubits in prop_oneof![0..8usize, Just(35usize), Just(64usize), Just(usize::MAX)],
        shots in prop_oneof![0..100usize, Just(usize::MAX), Just(usize::MAX / 24 + 1), Just(1usize << 40)],
        marginal in prop::collection::vec(any_qubit(), 0..5),
        batch_size in prop_oneof![0..4usize, Just(usize::MAX), Just(1usize << 61)],
        amp in any_float(),
        seed in any::<u64>(),
    ) {
        for (label, backend) in backends() {
            let Ok(state) = backend.zero_state(qubits) else {
                prop_assert!(!(1..=8).contains(&qubits), "{label}: zero_state({qubits}) refused");
                continue;
            };
            // The GPU state's sample (src/sim/gpu/readout.rs, another part of the robustness
            // work) still allocates per shot before checking: huge counts stay CPU-only here
            // until it calls the shared shot check.
            if !(label.starts_with("gpu") && shots > 1 << 20) {
                match state.sample(shots, seed) {
                    Ok(s) => {
                        prop_assert_eq!(s.len(), shots);
                        prop_assert!(s.iter().all(|&k| k == 0));
                    }
                    Err(_) => prop_assert!(shots == 0 || shots > 1 << 30, "{label}: sample({shots}) refused"),
                }
            }
            if let Ok(counts) = state.sample_counts((shots as u64).min(10_000), seed) {
                prop_assert_eq!(counts.values().sum::<u64>(), (shots as u64).min(10_000));
            }
            if let Ok(p) = state.marginal_probabilities(&marginal) {
                prop_assert!(all_finite(&p));
                prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-5);
            }
            let amps = vec![Complex64::new(amp, 0.0), Complex64::new(0.0, 0.0)];
            if let Ok(s) = backend.state_from_amplitudes(&amps) {
                prop_assert!(all_finite(&s.probabilities().unwrap()));
            }
            let mut c = Circuit::new(1).unwrap();
            c.ry(0, Angle::theta(0)).unwrap();
            let program = Program::compile(&c);
            let theta = [0.4];
            let r = backend.forward_batch_with(&program, &Batch::shared(&theta, &[], batch_size), &[Observable::z(0)], &BatchConfig::default());
            match r {
                Ok(v) => prop_assert!(v.len() == batch_size && all_finite(&v)),
                Err(_) => prop_assert!(batch_size == 0 || batch_size > 1 << 20),
            }
        }
    }
}
