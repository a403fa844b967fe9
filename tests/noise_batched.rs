//! Trajectories on the batch dimension (`noise::BatchedTrajectories`), on every backend of the
//! labelled list (CPU reference, fast CPU f64 / f32, GPU f32 / f64): rows are deterministic
//! given the seed and equal across backends (f64 1e-10, f32 1e-5); each row equals the drawn
//! Paulis applied as explicit X / Y / Z gates on the reference; the Pauli draws follow the
//! channels' probabilities; means and gradients agree with the exact density matrix within
//! 4 standard errors; channels that are not Pauli mixtures are refused.

mod common;
mod noise_util;

use common::{backends_labelled, precision_tolerance, NamedBackend};
use noise_util::rng;
use qshade::noise::{
    expectation_and_gradient, BatchedTrajectories, Channel, DensityMatrix, NoisyCircuit, NoisyOp,
    TrajectoryConfig,
};
use qshade::{
    Angle, Backend, Batch, BatchConfig, Bindings, Circuit, Complex64 as C64, CpuBackend, Error,
    Gate, GateKind, GradientConfig, Observable, Pauli,
};
use rand::rngs::StdRng;
use rand::Rng;

/// The backends: reference, fast CPU in both precisions, GPU in both precisions (unchunked:
/// the gradient test needs adjoint, and the chunked paths are covered by `gpu_batch.rs`).
fn backends() -> Vec<NamedBackend> {
    backends_labelled(&[
        "cpu-reference",
        "cpu-fast-f64",
        "cpu-fast-f32",
        "gpu-f32",
        "gpu-f64",
    ])
}

/// A Kraus channel that is a Pauli mixture with phases on its operators: √(1−p)·I and
/// √p·e^{iφ}·Y on one qubit.
fn phased_y_mixture(p: f64) -> Channel {
    let (s, t) = ((1.0 - p).sqrt(), p.sqrt());
    let ph = C64::from_polar(t, 0.9);
    let z = C64::new(0.0, 0.0);
    let y = [z, -C64::i() * ph, C64::i() * ph, z];
    Channel::kraus(
        1,
        vec![vec![C64::new(s, 0.0), z, z, C64::new(s, 0.0)], y.to_vec()],
    )
    .unwrap()
}

/// A two-qubit Kraus Pauli mixture: √(1−p)·I⊗I and √p·(Z on the first qubit ⊗ X on the second).
fn zx_mixture(p: f64) -> Channel {
    let mut id = vec![C64::new(0.0, 0.0); 16];
    let mut zx = vec![C64::new(0.0, 0.0); 16];
    for r in 0..4usize {
        id[r * 4 + r] = C64::new((1.0 - p).sqrt(), 0.0);
        // X on bit 1, Z on bit 0: column c goes to row c ^ 2 with sign (−1)^{bit 0 of c}.
        let c = r ^ 2;
        let sign = if c & 1 == 1 { -1.0 } else { 1.0 };
        zx[r * 4 + c] = C64::new(0.0, sign * p.sqrt());
    }
    Channel::kraus(2, vec![id, zx]).unwrap()
}

/// Every Pauli-mixture channel kind with random parameters.
fn random_mixture(rng: &mut StdRng, kind: usize) -> Channel {
    let p = rng.random_range(0.05..0.6);
    match kind % 7 {
        0 => Channel::depolarizing(p).unwrap(),
        1 => Channel::depolarizing2(p).unwrap(),
        2 => Channel::bit_flip(p).unwrap(),
        3 => Channel::phase_flip(p).unwrap(),
        4 => Channel::pauli_channel(p / 3.0, p / 2.0, p / 4.0).unwrap(),
        5 => phased_y_mixture(p),
        _ => zx_mixture(p),
    }
}

/// A random noisy circuit on `n` qubits with θ[0..3] and x[0..2], a Pauli-mixture channel of
/// every kind after some gates.
fn random_circuit(rng: &mut StdRng, n: usize, gates: usize) -> NoisyCircuit {
    let mut c = NoisyCircuit::new(n).unwrap();
    c.declare_params(3);
    for next in 0..gates {
        let a = rng.random_range(0..n);
        let b = (a + rng.random_range(1..n)) % n;
        let theta = Angle::theta(next % 3).times(rng.random_range(0.5..1.5));
        let x = Angle::input(next % 2)
            .times(rng.random_range(0.5..1.5))
            .plus(0.2);
        let gate = match rng.random_range(0..8) {
            0 => Gate::new(GateKind::H, &[a]),
            1 => Gate::new(GateKind::RX(theta), &[a]),
            2 => Gate::new(GateKind::RY(x), &[a]),
            3 => Gate::new(GateKind::RZ(theta), &[a]),
            4 => Gate::new(GateKind::U3(x, Angle::Const(0.3), theta), &[a]),
            5 => Gate::controlled(GateKind::X, &[a], &[b]),
            6 => Gate::new(GateKind::RZZ(theta), &[a, b]),
            _ => Gate::controlled(GateKind::RY(x), &[a], &[b]),
        };
        c.gate(gate).unwrap();
        if next % 3 != 2 {
            let ch = random_mixture(rng, next);
            let qubits: Vec<usize> = if ch.num_qubits() == 2 {
                vec![a, b]
            } else {
                vec![a]
            };
            c.channel(ch, &qubits).unwrap();
        }
    }
    // Both inputs used whatever the draw.
    c.gate(Gate::new(GateKind::RY(Angle::input(0)), &[0]))
        .unwrap();
    c.gate(Gate::new(GateKind::RX(Angle::input(1)), &[n - 1]))
        .unwrap();
    c
}

fn observables() -> Vec<Observable> {
    ["Z0", "X0 Z1 + 0.5 Y2", "Z0 Z1 Z2 - 0.3 X1"]
        .iter()
        .map(|t| Observable::parse(t).unwrap())
        .collect()
}

/// The plain circuit of row `row`: the noisy circuit's gates with each channel replaced by
/// the X / Y / Z gates `pauli_draws` reports for that row.
fn explicit_row(noisy: &NoisyCircuit, draws: &[Vec<(usize, Pauli)>]) -> Circuit {
    let mut c = Circuit::new(noisy.num_qubits()).unwrap();
    c.declare_params(noisy.circuit().num_params());
    c.declare_inputs(noisy.circuit().num_inputs());
    let mut slot = 0;
    for op in noisy.ops() {
        match op {
            NoisyOp::Gate(g) => {
                c.add(noisy.circuit().gates()[*g].clone()).unwrap();
            }
            NoisyOp::Channel { .. } => {
                for &(q, p) in &draws[slot] {
                    match p {
                        Pauli::X => c.x(q),
                        Pauli::Y => c.y(q),
                        Pauli::Z => c.z(q),
                    }
                    .unwrap();
                }
                slot += 1;
            }
            _ => panic!("unknown op"),
        }
    }
    assert_eq!(slot, draws.len());
    c
}

#[test]
fn rows_are_the_drawn_paulis_and_agree_on_every_backend() {
    let mut r = rng(11);
    let noisy = random_circuit(&mut r, 3, 14);
    let compiled = BatchedTrajectories::new(&noisy).unwrap();
    assert!(compiled.num_channels() >= 8);
    let obs = observables();
    let m = obs.len();
    let (b, t, seed) = (3usize, 24usize, 5u64);
    let theta: Vec<f64> = (0..b * 3).map(|_| r.random_range(-2.0..2.0)).collect();
    let x: Vec<f64> = (0..b * 2).map(|_| r.random_range(-1.0..1.0)).collect();
    let batch = Batch::per_sample(&theta, &x, b);
    let config = TrajectoryConfig::default().trajectories(t).seed(seed);
    // The independent reference: each row's draw as explicit Pauli gates on the f64
    // reference, bound to its user row's θ and x.
    let reference = CpuBackend::reference();
    let mut want = Vec::new();
    let mut distinct = std::collections::BTreeSet::new();
    for row in 0..b * t {
        let user = row / t;
        let draws = compiled.pauli_draws(seed, row as u64);
        distinct.insert(format!("{draws:?}"));
        let c = explicit_row(&noisy, &draws);
        let bind = Bindings::new(&theta[user * 3..user * 3 + 3], &x[user * 2..user * 2 + 2]);
        let state = reference.run(&c, &bind).unwrap();
        want.extend(obs.iter().map(|o| state.expectation(o).unwrap()));
    }
    // Rows draw from their own streams: many different Pauli patterns.
    assert!(
        distinct.len() > b * t / 2,
        "only {} distinct draws",
        distinct.len()
    );
    for (label, backend) in backends() {
        let tol = precision_tolerance(backend.as_ref(), 1e-10, 1e-5);
        // Whole rows in one call, and chunks of 7 rows (chunk boundaries inside user rows).
        for chunk in [None, Some(7)] {
            let options = BatchConfig::default().max_sub_batch(chunk);
            let got = compiled
                .row_values(backend.as_ref(), &batch, &obs, &config, &options)
                .unwrap();
            assert_eq!(got.len(), b * t * m);
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= tol,
                    "{label} chunk {chunk:?}: row {} observable {}: {g} vs explicit Paulis {w}",
                    k / m,
                    k % m
                );
            }
        }
    }
}

#[test]
fn pauli_draws_follow_the_channel_probabilities() {
    // One slot per channel kind on fixed probabilities; 20000 rows; each Pauli's frequency
    // within 4.5 binomial standard deviations of its probability.
    let mut c = NoisyCircuit::new(2).unwrap();
    c.gate(Gate::new(GateKind::H, &[0])).unwrap();
    c.channel(Channel::pauli_channel(0.1, 0.2, 0.3).unwrap(), &[0])
        .unwrap();
    c.channel(Channel::depolarizing2(0.4).unwrap(), &[1, 0])
        .unwrap();
    c.channel(phased_y_mixture(0.25), &[1]).unwrap();
    let compiled = BatchedTrajectories::new(&c).unwrap();
    let rows = 20000u64;
    // counts[slot][pattern], a pattern being the sorted (qubit, Pauli) list as text.
    let mut counts: Vec<std::collections::BTreeMap<String, u64>> = vec![Default::default(); 3];
    for row in 0..rows {
        for (slot, d) in compiled.pauli_draws(3, row).iter().enumerate() {
            *counts[slot].entry(format!("{d:?}")).or_insert(0) += 1;
        }
    }
    let check = |slot: usize, pattern: &str, p: f64| {
        let n = *counts[slot].get(pattern).unwrap_or(&0) as f64;
        let sd = (rows as f64 * p * (1.0 - p)).sqrt().max(1.0);
        assert!(
            (n - rows as f64 * p).abs() <= 4.5 * sd,
            "slot {slot} {pattern}: {n} draws, expected {} ± {sd}",
            rows as f64 * p
        );
    };
    check(0, "[]", 0.4);
    check(0, "[(0, X)]", 0.1);
    check(0, "[(0, Y)]", 0.2);
    check(0, "[(0, Z)]", 0.3);
    // Two-qubit depolarizing on [1, 0]: I⊗I with 1 − 15p/16, each other string p/16.
    check(1, "[]", 1.0 - 15.0 * 0.4 / 16.0);
    check(1, "[(1, X)]", 0.4 / 16.0);
    check(1, "[(0, Y)]", 0.4 / 16.0);
    check(1, "[(1, Z), (0, X)]", 0.4 / 16.0);
    assert_eq!(counts[1].len(), 16);
    check(2, "[]", 0.75);
    check(2, "[(1, Y)]", 0.25);
    assert_eq!(counts[2].len(), 2);
}

#[test]
fn means_agree_with_the_density_matrix_within_four_standard_errors() {
    let obs = observables();
    for (label, backend) in backends() {
        let f32_slack = precision_tolerance(backend.as_ref(), 0.0, 1e-5);
        let mut spread = 0;
        for seed in 0..3u64 {
            let mut r = rng(300 + seed);
            let noisy = random_circuit(&mut r, 3, 12);
            let theta: Vec<f64> = (0..3).map(|_| r.random_range(-2.0..2.0)).collect();
            let x: Vec<f64> = (0..4).map(|_| r.random_range(-1.0..1.0)).collect();
            let compiled = BatchedTrajectories::new(&noisy).unwrap();
            let config = TrajectoryConfig::default().trajectories(1500).seed(seed);
            let batch = Batch::shared(&theta, &x, 2);
            let est = compiled
                .expectations(
                    backend.as_ref(),
                    &batch,
                    &obs,
                    &config,
                    &BatchConfig::default(),
                )
                .unwrap();
            assert_eq!(est.len(), 2 * obs.len());
            for user in 0..2 {
                let exact =
                    DensityMatrix::run(&noisy, &Bindings::new(&theta, &x[user * 2..user * 2 + 2]))
                        .unwrap();
                for (j, o) in obs.iter().enumerate() {
                    let e = est[user * obs.len() + j];
                    let want = exact.expectation(o).unwrap();
                    spread += usize::from(e.std_error > 1e-6);
                    assert!(
                        (e.mean - want).abs() <= 4.0 * e.std_error + f32_slack + 1e-9,
                        "{label} seed {seed} row {user} observable {j}: {} ± {} vs exact {want}",
                        e.mean,
                        e.std_error
                    );
                }
            }
        }
        // Most estimates vary between trajectories (a zero spread would hide a bias).
        assert!(spread >= 12, "{label}: only {spread} of 18 estimates vary");
    }
}

#[test]
fn gradients_agree_with_the_density_matrix_within_four_standard_errors() {
    let o = Observable::parse("Z0 Z1 + 0.5 X2").unwrap();
    for (label, backend) in backends() {
        let f32_slack = precision_tolerance(backend.as_ref(), 0.0, 1e-4);
        for seed in 0..2u64 {
            let mut r = rng(700 + seed);
            let noisy = random_circuit(&mut r, 3, 10);
            let theta: Vec<f64> = (0..3).map(|_| r.random_range(-2.0..2.0)).collect();
            let x = [0.3, -0.7];
            let b = Bindings::new(&theta, &x);
            let (value, d_theta) = expectation_and_gradient(&noisy, &b, &o).unwrap();
            // dρ/dx by central differences of the exact density matrix.
            let d_x: Vec<f64> = (0..2)
                .map(|i| {
                    let h = 1e-5;
                    let at = |s: f64| {
                        let mut xs = x;
                        xs[i] += s;
                        DensityMatrix::run(&noisy, &Bindings::new(&theta, &xs))
                            .unwrap()
                            .expectation(&o)
                            .unwrap()
                    };
                    (at(h) - at(-h)) / (2.0 * h)
                })
                .collect();
            let compiled = BatchedTrajectories::new(&noisy).unwrap();
            let config = TrajectoryConfig::default().trajectories(1200).seed(seed);
            let options =
                GradientConfig::default().batch(BatchConfig::default().max_sub_batch(Some(500)));
            let g = compiled
                .gradient(backend.as_ref(), &b, &o, &config, &options)
                .unwrap();
            let close = |what: String, e: qshade::noise::Estimate, want: f64| {
                assert!(
                    (e.mean - want).abs() <= 4.0 * e.std_error + f32_slack + 1e-8,
                    "{label} seed {seed} {what}: {} ± {} vs exact {want}",
                    e.mean,
                    e.std_error
                );
            };
            close("value".into(), g.value, value);
            assert_eq!(g.theta.len(), 3);
            assert_eq!(g.inputs.len(), 2);
            for (k, (e, w)) in g.theta.iter().zip(&d_theta).enumerate() {
                close(format!("dθ{k}"), *e, *w);
            }
            for (i, (e, w)) in g.inputs.iter().zip(&d_x).enumerate() {
                close(format!("dx{i}"), *e, *w);
            }
        }
    }
}

#[test]
fn channels_that_are_not_pauli_mixtures_are_refused() {
    let h = std::f64::consts::FRAC_1_SQRT_2 * 0.5f64.sqrt();
    let z = C64::new(0.0, 0.0);
    let hadamard_mix = Channel::kraus(
        1,
        vec![
            vec![
                C64::new(0.5f64.sqrt(), 0.0),
                z,
                z,
                C64::new(0.5f64.sqrt(), 0.0),
            ],
            vec![
                C64::new(h, 0.0),
                C64::new(h, 0.0),
                C64::new(h, 0.0),
                C64::new(-h, 0.0),
            ],
        ],
    )
    .unwrap();
    assert!(hadamard_mix.mixture_probabilities().is_some());
    let channels = [
        Channel::amplitude_damping(0.1).unwrap(),
        Channel::phase_damping(0.2).unwrap(),
        Channel::thermal_relaxation(50.0, 40.0, 5.0).unwrap(),
        Channel::kraus(1, noise_util::random_kraus(&mut rng(4))).unwrap(),
        hadamard_mix,
    ];
    for ch in channels {
        let name = ch.name();
        let mut c = NoisyCircuit::new(2).unwrap();
        c.gate(Gate::new(GateKind::H, &[0])).unwrap();
        c.channel(Channel::depolarizing(0.1).unwrap(), &[0])
            .unwrap();
        c.channel(ch, &[1]).unwrap();
        match BatchedTrajectories::new(&c) {
            Err(Error::Unsupported(msg)) => {
                assert!(msg.contains("operation 2"), "{name}: {msg}");
                assert!(msg.contains("trajectory_expectations"), "{name}: {msg}");
                assert!(msg.contains("DensityMatrix"), "{name}: {msg}");
            }
            other => panic!("{name}: expected Error::Unsupported, got {other:?}"),
        }
    }
}

#[test]
fn bad_requests_are_errors() {
    let mut r = rng(9);
    let noisy = random_circuit(&mut r, 3, 6);
    let compiled = BatchedTrajectories::new(&noisy).unwrap();
    let cpu = CpuBackend::new();
    let obs = observables();
    let theta = [0.1, 0.2, 0.3];
    let x = [0.5, 0.6];
    let ok = Batch::shared(&theta, &x, 1);
    let d = BatchConfig::default();
    let run = |batch: &Batch, obs: &[Observable], t: usize| {
        compiled.expectations(
            &cpu,
            batch,
            obs,
            &TrajectoryConfig::default().trajectories(t),
            &d,
        )
    };
    assert!(run(&ok, &obs, 0).is_err());
    assert!(run(&ok, &obs, qshade::noise::MAX_TRAJECTORIES + 1).is_err());
    assert!(run(&ok, &[], 10).is_err());
    assert!(run(&ok, &[Observable::z(3)], 10).is_err());
    assert!(run(&Batch::shared(&theta[..2], &x, 1), &obs, 10).is_err());
    assert!(run(&Batch::shared(&theta, &x, 2), &obs, 10).is_err());
    assert!(run(&Batch::shared(&theta, &[f64::NAN, 0.0], 1), &obs, 10).is_err());
    assert!(run(&ok, &obs, 10).is_ok());
    // Huge batch sizes are errors before anything is allocated (not a capacity-overflow
    // panic or an out-of-memory abort): a circuit with no θ and no inputs accepts any size.
    let mut plain = NoisyCircuit::new(2).unwrap();
    plain.gate(Gate::new(GateKind::H, &[0])).unwrap();
    plain
        .channel(Channel::depolarizing(0.1).unwrap(), &[0])
        .unwrap();
    let plain = BatchedTrajectories::new(&plain).unwrap();
    for (size, t) in [(usize::MAX, 1), (usize::MAX, 2), (1usize << 50, 1)] {
        let got = plain.expectations(
            &cpu,
            &Batch::shared(&[], &[], size),
            &[Observable::z(0)],
            &TrajectoryConfig::default().trajectories(t),
            &d,
        );
        assert!(got.is_err(), "batch size {size}, {t} trajectories");
    }
}

#[test]
fn a_circuit_without_channels_gives_the_noise_free_value_exactly() {
    let mut c = Circuit::new(2).unwrap();
    c.ry(0, Angle::theta(0)).unwrap().cnot(0, 1).unwrap();
    let noisy = NoisyCircuit::from_circuit(&c);
    let compiled = BatchedTrajectories::new(&noisy).unwrap();
    assert_eq!(compiled.num_noise_inputs(), 0);
    let o = Observable::parse("Z0 Z1 + 0.5 X0").unwrap();
    let theta = [0.7];
    let want = CpuBackend::reference()
        .run(&c, &Bindings::theta(&theta))
        .unwrap()
        .expectation(&o)
        .unwrap();
    let config = TrajectoryConfig::default().trajectories(50);
    let est = compiled
        .expectations(
            &CpuBackend::reference(),
            &Batch::shared(&theta, &[], 1),
            &[o],
            &config,
            &BatchConfig::default().max_sub_batch(Some(16)),
        )
        .unwrap();
    assert!(
        (est[0].mean - want).abs() < 1e-12,
        "{} vs {want}",
        est[0].mean
    );
    assert!(est[0].std_error < 1e-12);
}

/// How [`Tampering`] breaks the CPU backend's answers.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    /// No per-sample θ gradients.
    NoPerSample,
    /// One expectation value too few.
    ShortValues,
    /// One per-sample θ gradient too few.
    ShortPerSample,
    /// One input gradient too few.
    ShortInputs,
}

/// A user's backend (the trait is public) that returns malformed results.
struct Tampering {
    inner: CpuBackend,
    how: Tamper,
}

impl Backend for Tampering {
    fn name(&self) -> String {
        format!("tampering ({:?})", self.how)
    }
    fn precision(&self) -> qshade::Precision {
        self.inner.precision()
    }
    fn zero_state(&self, n: usize) -> qshade::Result<Box<dyn qshade::QuantumState>> {
        self.inner.zero_state(n)
    }
    fn state_from_amplitudes(&self, a: &[C64]) -> qshade::Result<Box<dyn qshade::QuantumState>> {
        self.inner.state_from_amplitudes(a)
    }
    fn forward_rows(
        &self,
        p: &qshade::Program,
        rows: &[f64],
        n: usize,
        o: &[Observable],
        c: &BatchConfig,
    ) -> qshade::Result<Vec<f64>> {
        self.inner.forward_rows(p, rows, n, o, c)
    }
    fn adjoint_rows(
        &self,
        p: &qshade::Program,
        rows: &[f64],
        n: usize,
        o: &[Observable],
        u: &[f64],
        c: &BatchConfig,
    ) -> qshade::Result<(Vec<f64>, Vec<f64>)> {
        self.inner.adjoint_rows(p, rows, n, o, u, c)
    }
    fn forward_batch_with(
        &self,
        p: &qshade::Program,
        b: &Batch<'_>,
        o: &[Observable],
        c: &BatchConfig,
    ) -> qshade::Result<Vec<f64>> {
        let mut v = self.inner.forward_batch_with(p, b, o, c)?;
        if let Tamper::ShortValues = self.how {
            v.pop();
        }
        Ok(v)
    }
    fn gradient_batch_with(
        &self,
        p: &qshade::Program,
        b: &Batch<'_>,
        o: &[Observable],
        u: &[f64],
        c: &GradientConfig,
    ) -> qshade::Result<qshade::Gradients> {
        let mut g = self.inner.gradient_batch_with(p, b, o, u, c)?;
        match self.how {
            Tamper::NoPerSample => g.theta_per_sample = None,
            Tamper::ShortValues => {
                g.values.pop();
            }
            Tamper::ShortPerSample => {
                if let Some(t) = g.theta_per_sample.as_mut() {
                    t.pop();
                }
            }
            Tamper::ShortInputs => {
                g.inputs.pop();
            }
        }
        Ok(g)
    }
}

/// A backend that drops per-sample θ gradients or returns too few values is an error, not
/// 0 ± 0 gradients, a panic or values of the wrong rows.
#[test]
fn malformed_backend_results_are_errors() {
    let mut r = rng(10);
    let noisy = random_circuit(&mut r, 3, 6);
    let compiled = BatchedTrajectories::new(&noisy).unwrap();
    let theta = [0.1, 0.2, 0.3];
    let x = [0.5, 0.6];
    let config = TrajectoryConfig::default().trajectories(8);
    let o = Observable::z(0);
    let good = CpuBackend::new();
    assert!(compiled
        .gradient(
            &good,
            &Bindings::new(&theta, &x),
            &o,
            &config,
            &GradientConfig::default()
        )
        .is_ok());
    for how in [
        Tamper::NoPerSample,
        Tamper::ShortValues,
        Tamper::ShortPerSample,
        Tamper::ShortInputs,
    ] {
        let bad = Tampering {
            inner: CpuBackend::new(),
            how,
        };
        let got = compiled.gradient(
            &bad,
            &Bindings::new(&theta, &x),
            &o,
            &config,
            &GradientConfig::default(),
        );
        match (how, got) {
            (Tamper::NoPerSample, Err(Error::Unsupported(_))) => {}
            (_, Err(Error::Device(_))) => {}
            (how, other) => panic!("{how:?}: {other:?}"),
        }
    }
    let bad = Tampering {
        inner: CpuBackend::new(),
        how: Tamper::ShortValues,
    };
    let got = compiled.expectations(
        &bad,
        &Batch::shared(&theta, &x, 1),
        &[o],
        &config,
        &BatchConfig::default(),
    );
    assert!(matches!(got, Err(Error::Device(_))), "{got:?}");
}
