//! Channel parameter checks (property tests): probabilities outside [0, 1], T2 > 2·T1 and
//! non-CPTP Kraus sets are `Error::InvalidChannel`; valid ones build, are trace preserving,
//! and their superoperators preserve the trace. Plus the noise model's placement rules.

mod noise_util;

use noise_util::{random_kraus, rng};
use proptest::prelude::*;
use qshade::noise::{Channel, NoiseModel, NoisyOp, ReadoutError};
use qshade::{Circuit, Complex64 as C64, Error};

fn is_channel_error<T: std::fmt::Debug>(r: qshade::Result<T>) -> bool {
    matches!(r, Err(Error::InvalidChannel { .. }))
}

fn bad_probability() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e6..-1e-12f64,
        1.0 + 1e-9..1e6f64,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
    ]
}

proptest! {
    #[test]
    fn probabilities_outside_unit_interval_are_errors(p in bad_probability()) {
        prop_assert!(is_channel_error(Channel::depolarizing(p)));
        prop_assert!(is_channel_error(Channel::depolarizing2(p)));
        prop_assert!(is_channel_error(Channel::bit_flip(p)));
        prop_assert!(is_channel_error(Channel::phase_flip(p)));
        prop_assert!(is_channel_error(Channel::amplitude_damping(p)));
        prop_assert!(is_channel_error(Channel::phase_damping(p)));
        prop_assert!(is_channel_error(Channel::pauli_channel(p, 0.0, 0.0)));
        prop_assert!(is_channel_error(Channel::pauli_channel(0.0, 0.0, p)));
        prop_assert!(is_channel_error(ReadoutError::new(p, 0.1)));
        prop_assert!(is_channel_error(ReadoutError::new(0.1, p)));
    }

    #[test]
    fn valid_probabilities_give_trace_preserving_channels(p in 0.0..=1.0f64) {
        for ch in [
            Channel::depolarizing(p).unwrap(),
            Channel::depolarizing2(p).unwrap(),
            Channel::bit_flip(p).unwrap(),
            Channel::amplitude_damping(p).unwrap(),
            Channel::phase_damping(p).unwrap(),
        ] {
            // Trace preservation of the superoperator: Σ_r S[(r + d r), j] = δ(j is diagonal).
            let d = 1usize << ch.num_qubits();
            let dd = d * d;
            let s = ch.superoperator();
            for r in 0..d {
                for c in 0..d {
                    let col = r + d * c;
                    let tr: C64 = (0..d).map(|k| s[(k + d * k) * dd + col]).sum();
                    let want = if r == c { 1.0 } else { 0.0 };
                    prop_assert!((tr - want).norm() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn pauli_probabilities_summing_past_one_are_errors(a in 0.34..1.0f64, b in 0.34..1.0f64, c in 0.34..1.0f64) {
        prop_assert!(is_channel_error(Channel::pauli_channel(a, b, c)));
    }

    #[test]
    fn t2_beyond_twice_t1_is_an_error(t1 in 1e-3..1e3f64, excess in 1e-9..10.0f64, t in 0.0..10.0f64) {
        let t2 = 2.0 * t1 * (1.0 + excess);
        prop_assert!(is_channel_error(Channel::thermal_relaxation(t1, t2, t)));
        prop_assert!(Channel::thermal_relaxation(t1, 2.0 * t1, t).is_ok());
        prop_assert!(Channel::thermal_relaxation(t1, t1 * 0.5, t).is_ok());
    }

    #[test]
    fn bad_thermal_times_are_errors(v in prop_oneof![-1e3..=0.0f64, Just(f64::NAN), Just(f64::INFINITY)]) {
        prop_assert!(is_channel_error(Channel::thermal_relaxation(v, 1.0, 1.0)));
        prop_assert!(is_channel_error(Channel::thermal_relaxation(10.0, v, 1.0)));
        if v < 0.0 || !v.is_finite() {
            prop_assert!(is_channel_error(Channel::thermal_relaxation(10.0, 5.0, v)));
        }
    }

    #[test]
    fn scaled_kraus_sets_are_not_cptp(seed in 0u64..1000, scale in prop_oneof![0.0..0.9999f64, 1.0001..10.0f64]) {
        let ops = random_kraus(&mut rng(seed));
        prop_assert!(Channel::kraus(1, ops.clone()).is_ok());
        let scaled: Vec<Vec<C64>> = ops.iter().map(|k| k.iter().map(|v| v * scale).collect()).collect();
        prop_assert!(is_channel_error(Channel::kraus(1, scaled)));
    }
}

#[test]
fn malformed_kraus_sets_are_errors() {
    let id = vec![
        C64::new(1.0, 0.0),
        C64::new(0.0, 0.0),
        C64::new(0.0, 0.0),
        C64::new(1.0, 0.0),
    ];
    assert!(Channel::kraus(1, vec![id.clone()]).is_ok());
    assert!(is_channel_error(Channel::kraus(1, vec![])));
    assert!(is_channel_error(Channel::kraus(0, vec![id.clone()])));
    assert!(is_channel_error(Channel::kraus(3, vec![id.clone()])));
    assert!(is_channel_error(Channel::kraus(2, vec![id.clone()])));
    assert!(is_channel_error(Channel::kraus(1, vec![id[..3].to_vec()])));
    let mut nan = id.clone();
    nan[1] = C64::new(f64::NAN, 0.0);
    assert!(is_channel_error(Channel::kraus(1, vec![nan])));
    // Not trace preserving: a projector alone.
    let p0 = vec![
        C64::new(1.0, 0.0),
        C64::new(0.0, 0.0),
        C64::new(0.0, 0.0),
        C64::new(0.0, 0.0),
    ];
    let e = Channel::kraus(1, vec![p0]).unwrap_err();
    assert!(e.to_string().contains("not trace preserving"), "{e}");
}

#[test]
fn noise_model_places_channels_like_aer() {
    let mut c = Circuit::new(3).unwrap();
    c.h(0)
        .unwrap()
        .cnot(0, 1)
        .unwrap()
        .rz(2, 0.3)
        .unwrap()
        .cnot(1, 2)
        .unwrap();
    let mut model = NoiseModel::new();
    model
        .add_all_qubit_quantum_error(Channel::depolarizing2(0.1).unwrap(), &["cx"])
        .unwrap()
        .add_all_qubit_quantum_error(Channel::amplitude_damping(0.1).unwrap(), &["H", "rz"])
        .unwrap()
        // A local error on cx(1→2) replaces the all-qubit one there.
        .add_quantum_error(Channel::bit_flip(0.2).unwrap(), &["CNOT"], &[1, 2])
        .unwrap()
        .add_readout_error(ReadoutError::new(0.1, 0.2).unwrap(), 2);
    let noisy = model.apply(&c).unwrap();
    let placed: Vec<(String, Vec<usize>)> = noisy
        .ops()
        .iter()
        .filter_map(|op| match op {
            NoisyOp::Channel { channel, qubits } => {
                Some((channel.name().to_string(), qubits.clone()))
            }
            _ => None,
        })
        .collect();
    let want: Vec<(String, Vec<usize>)> = vec![
        ("amplitude damping".into(), vec![0]),
        ("two-qubit depolarizing".into(), vec![0, 1]),
        ("amplitude damping".into(), vec![2]),
        ("bit flip".into(), vec![1]),
        ("bit flip".into(), vec![2]),
    ];
    assert_eq!(placed, want);
    assert!(noisy.readout_errors()[2].is_some() && noisy.readout_errors()[0].is_none());
    // Errors: empty gate list, 2-qubit channel on a 1-qubit gate, readout qubit out of range.
    assert!(NoiseModel::new()
        .add_all_qubit_quantum_error(Channel::bit_flip(0.1).unwrap(), &[])
        .is_err());
    let mut wrong = NoiseModel::new();
    wrong
        .add_all_qubit_quantum_error(Channel::depolarizing2(0.1).unwrap(), &["h"])
        .unwrap();
    assert!(matches!(wrong.apply(&c), Err(Error::InvalidArgument(_))));
    let mut far = NoiseModel::new();
    far.add_readout_error(ReadoutError::new(0.1, 0.1).unwrap(), 7);
    assert!(matches!(far.apply(&c), Err(Error::QubitOutOfRange { .. })));
}

#[test]
fn readout_errors_apply_the_assignment_matrix() {
    // X on qubit 0: true state |01⟩ (index 1). P(read 0 | true 1) = 0.2 on qubit 0.
    let mut c = Circuit::new(2).unwrap();
    c.x(0).unwrap();
    let mut model = NoiseModel::new();
    model.add_readout_error(ReadoutError::new(0.1, 0.2).unwrap(), 0);
    model.add_all_qubit_readout_error(ReadoutError::new(0.05, 0.0).unwrap());
    let rho =
        qshade::noise::DensityMatrix::run(&model.apply(&c).unwrap(), &qshade::Bindings::none())
            .unwrap();
    let p = rho.measured_probabilities();
    // q0: 1 → 0 w.p. 0.2; q1: 0 → 1 w.p. 0.05.
    let want = [0.2 * 0.95, 0.8 * 0.95, 0.2 * 0.05, 0.8 * 0.05];
    for (g, w) in p.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{p:?} vs {want:?}");
    }
}
