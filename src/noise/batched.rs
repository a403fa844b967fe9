//! Monte-Carlo trajectories on the batch dimension, on any [`Backend`] (the GPU too): a
//! [`NoisyCircuit`] of Pauli-mixture channels becomes one parameterised circuit whose extra
//! input features pick each channel's Pauli, so T trajectories are T rows of one batched
//! backend call. See [`BatchedTrajectories`].

use super::model::{NoisyCircuit, NoisyOp};
use super::trajectory::{stream_seed, Estimate, Stats, TrajectoryConfig, MAX_TRAJECTORIES};
use crate::backend::{Backend, GradientConfig};
use crate::circuit::{Angle, Bindings, Circuit, Observable, Pauli};
#[cfg(doc)]
use crate::compile::program::GradientMethod;
use crate::compile::program::{Batch, BatchConfig, Program, ThetaBatch};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use num_complex::Complex64 as C64;
use std::f64::consts::PI;

/// Bytes of host rows (θ and x of the combined circuit, plus the backend's occurrence rows)
/// one backend call is given at most; larger requests run as several batched calls.
const CHUNK_BYTES: u64 = 64 << 20;

/// One channel of the noisy circuit as a Pauli draw.
#[derive(Clone, Debug)]
struct Slot {
    /// The channel's qubits (`qubits[j]` carries bits `2j, 2j + 1` of a Pauli code).
    qubits: Vec<usize>,
    /// (probability, Pauli code) per Kraus operator, in the channel's order. A code holds two
    /// bits per qubit: 0 = I, 1 = X, 2 = Y, 3 = Z.
    outcomes: Vec<(f64, usize)>,
    /// The slot's first noise input (two per qubit: x_a for RZ, x_b for RX), counted from the
    /// first noise input.
    first_input: usize,
}

impl Slot {
    /// The Pauli code drawn by one uniform `r` in [0, 1): the first outcome whose cumulative
    /// probability exceeds `r`, or the last with weight if rounding leaves `r` above the sum.
    fn draw(&self, r: f64) -> usize {
        let mut cumulative = 0.0;
        let mut last = 0;
        for &(p, code) in &self.outcomes {
            if p > 0.0 {
                cumulative += p;
                last = code;
                if r < cumulative {
                    return code;
                }
            }
        }
        last
    }
}

/// The one-qubit Paulis I, X, Y, Z, row-major.
fn pauli_matrix(k: usize) -> [C64; 4] {
    let (o, z, i) = (C64::ONE, C64::ZERO, C64::I);
    match k & 3 {
        0 => [o, z, z, o],
        1 => [z, o, o, z],
        2 => [z, -i, i, z],
        _ => [o, z, z, -o],
    }
}

/// The Pauli string with `code` (two bits per qubit, qubit 0 least significant) on `k` qubits
/// as a `2^k × 2^k` row-major matrix (the first qubit is the less significant index bit).
fn pauli_string(code: usize, k: usize) -> Vec<C64> {
    let d = 1usize << k;
    let mut out = vec![C64::ZERO; d * d];
    for (r, row) in out.chunks_mut(d).enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = (0..k).fold(C64::ONE, |acc, j| {
                let m = pauli_matrix(code >> (2 * j));
                acc * m[((r >> j) & 1) * 2 + ((c >> j) & 1)]
            });
        }
    }
    out
}

/// The code of the Pauli string `u` equals up to a phase (within 1e-8 per entry), if any.
fn pauli_code(u: &[C64], k: usize) -> Option<usize> {
    let d = 1usize << k;
    (0..1usize << (2 * k)).find(|&code| {
        let p = pauli_string(code, k);
        let phase: C64 = p.iter().zip(u).map(|(a, b)| a.conj() * b).sum::<C64>() / d as f64;
        p.iter().zip(u).all(|(a, b)| (b - phase * a).norm() <= 1e-8)
    })
}

/// The Pauli outcomes of the channel at noisy operation `index`, or the error to return.
fn channel_outcomes(
    channel: &super::Channel,
    qubits: &[usize],
    index: usize,
) -> Result<Vec<(f64, usize)>> {
    let refuse = |why: &str| {
        Error::Unsupported(format!(
            "operation {index} of the noisy circuit, the {} channel on qubits {qubits:?}, {why}; \
             batched trajectories sample Pauli mixtures only (depolarizing, bit / phase flip, \
             Pauli channels): use noise::trajectory_expectations (its norm method needs the \
             state) or the exact noise::DensityMatrix",
            channel.name()
        ))
    };
    let probs = channel
        .mixture_probabilities()
        .ok_or_else(|| refuse("is not a unitary mixture"))?;
    let k = channel.num_qubits();
    channel
        .kraus_operators()
        .iter()
        .zip(probs)
        .map(|(op, &p)| {
            if p <= 0.0 {
                return Ok((0.0, 0));
            }
            let s = 1.0 / p.sqrt();
            let u: Vec<C64> = op.iter().map(|v| v * s).collect();
            pauli_code(&u, k)
                .map(|code| (p, code))
                .ok_or_else(|| refuse("mixes unitaries that are not Pauli strings"))
        })
        .collect()
}

/// A [`NoisyCircuit`] of Pauli-mixture channels compiled for Monte-Carlo trajectories on the
/// batch dimension of any [`Backend`] (the GPU too).
///
/// When every channel of a [`NoisyCircuit`] is a mixture of Pauli operators (depolarizing on
/// one or two qubits, bit flip, phase flip, Pauli channels, and Kraus channels whose operators
/// are scaled Pauli strings) a trajectory only has to *pick* a Pauli per channel: the pick
/// does not depend on the state. `BatchedTrajectories::new` therefore compiles the noisy circuit
/// once into one parameterised [`Circuit`] in which every channel slot becomes, on each of its
/// qubits, `RX(π·x_b)` then `RZ(π·x_a)` driven by two extra **input** features
/// `x_a, x_b ∈ {0, 1}`:
///
/// | Pauli | x_a (RZ) | x_b (RX) | gates | equals |
/// | --- | --- | --- | --- | --- |
/// | I | 0 | 0 | RZ(0)·RX(0) | I |
/// | X | 0 | 1 | RZ(0)·RX(π) | −i·X |
/// | Z | 1 | 0 | RZ(π)·RX(0) | −i·Z |
/// | Y | 1 | 1 | RZ(π)·RX(π) | −i·Y |
///
/// equal to the Pauli up to a global phase, which no expectation or probability sees. The
/// noise inputs follow the circuit's own inputs (its θ and x stay the user's), and T
/// trajectories (times the user's input rows) are T rows of one batched call of
/// [`Backend::forward_batch_with`]: the GPU runs them as one piece of work, and the fast CPU
/// engine folds the Pauli rotations into the neighbouring one-qubit gates of its chains.
///
/// Row `r` (user row `b`, trajectory `t`, `r = b·T + t`) draws its Paulis from its own random
/// stream seeded by `(seed, r)`, one uniform per channel in circuit order, so every row is a
/// deterministic function of the seed: the same on every backend, thread count and chunking.
/// Means come back with standard errors ([`Estimate`]); the mean over rows of the per-row
/// adjoint gradients is an unbiased estimate of the noisy gradient
/// ([`BatchedTrajectories::gradient`]).
///
/// Channels that are not Pauli mixtures (amplitude and phase damping, thermal relaxation,
/// general Kraus channels) need the state to pick a Kraus operator (the norm method): they
/// are an [`Error::Unsupported`] that points to [`super::trajectory_expectations`] and
/// [`super::DensityMatrix`]. Readout errors do not enter (they act on measured bits).
///
/// ```
/// # fn main() -> qshade::Result<()> {
/// use qshade::noise::{BatchedTrajectories, Channel, NoiseModel, TrajectoryConfig};
/// use qshade::{Angle, Batch, BatchConfig, Circuit, CpuBackend, Observable};
/// let mut c = Circuit::new(2)?;
/// c.ry(0, Angle::input(0))?.cnot(0, 1)?;
/// let mut model = NoiseModel::new();
/// model.add_all_qubit_quantum_error(Channel::depolarizing2(0.1)?, &["cx"])?;
/// let compiled = BatchedTrajectories::new(&model.apply(&c)?)?;
/// let x = [0.4, 1.3]; // two input rows
/// let config = TrajectoryConfig::default().trajectories(2000).seed(7);
/// let backend = CpuBackend::new(); // or a GpuBackend: the same rows, the same numbers
/// let zz = [Observable::parse("Z0 Z1")?];
/// let est = compiled.expectations(&backend, &Batch::shared(&[], &x, 2), &zz, &config,
///                                 &BatchConfig::default())?; // one batch of 4000 rows
/// for e in &est {
///     assert!((e.mean - 0.9).abs() < 5.0 * e.std_error); // exact: (1 − p)·1
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct BatchedTrajectories {
    circuit: Circuit,
    program: Program,
    /// The user's circuit alone, to check their bindings against.
    user: Program,
    slots: Vec<Slot>,
    user_inputs: usize,
    noise_inputs: usize,
}

/// What [`BatchedTrajectories::gradient`] returns: the noisy expectation and its gradient,
/// each the mean over trajectories with a standard error.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NoisyGradient {
    /// ⟨O⟩ under the noise.
    pub value: Estimate,
    /// d⟨O⟩/dθ_k, one per trainable parameter.
    pub theta: Vec<Estimate>,
    /// d⟨O⟩/dx_i, one per input feature of the user's circuit.
    pub inputs: Vec<Estimate>,
}

impl BatchedTrajectories {
    /// Compiles `circuit`; errors ([`Error::Unsupported`]) if a channel is not a mixture of
    /// Pauli strings, naming it and the alternatives.
    pub fn new(circuit: &NoisyCircuit) -> Result<Self> {
        let base = circuit.circuit();
        base.check_limits()?;
        let user_inputs = base.num_inputs();
        let mut out = Circuit::new(base.num_qubits())?;
        out.declare_params(base.num_params());
        for (k, name) in base.param_names().into_iter().enumerate() {
            if name != format!("theta[{k}]") {
                out.name_param(k, name);
            }
        }
        out.declare_inputs(user_inputs);
        let mut slots = Vec::new();
        let mut noise_inputs = 0usize;
        for (index, op) in circuit.ops().iter().enumerate() {
            match op {
                NoisyOp::Gate(g) => {
                    let gate = base.gates().get(*g).ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "operation {index} names gate {g}, which the circuit lacks"
                        ))
                    })?;
                    out.add(gate.clone())?;
                }
                NoisyOp::Channel { channel, qubits } => {
                    let outcomes = channel_outcomes(channel, qubits, index)?;
                    for (j, &q) in qubits.iter().enumerate() {
                        let x = |offset: usize| Angle::Input {
                            index: user_inputs + noise_inputs + 2 * j + offset,
                            scale: PI,
                            offset: 0.0,
                        };
                        out.rx(q, x(1))?.rz(q, x(0))?;
                    }
                    slots.push(Slot {
                        qubits: qubits.clone(),
                        outcomes,
                        first_input: noise_inputs,
                    });
                    noise_inputs += 2 * qubits.len();
                }
            }
        }
        out.check_limits()?;
        Ok(BatchedTrajectories {
            program: Program::compile(&out),
            user: Program::compile(base),
            circuit: out,
            slots,
            user_inputs,
            noise_inputs,
        })
    }

    /// The parameterised circuit: the user's gates, θ and x, with each channel replaced by
    /// `RX(π·x_b)`, `RZ(π·x_a)` on each of its qubits, whose inputs come after the user's.
    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }

    /// [`BatchedTrajectories::circuit`] compiled (backends cache their device state per
    /// program, so repeated calls reuse it).
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Input features of the user's circuit (the first inputs of each row).
    pub fn num_user_inputs(&self) -> usize {
        self.user_inputs
    }

    /// Noise inputs per row (two per qubit of every channel), after the user's.
    pub fn num_noise_inputs(&self) -> usize {
        self.noise_inputs
    }

    /// Number of channels (slots drawn per row).
    pub fn num_channels(&self) -> usize {
        self.slots.len()
    }

    /// Writes row `row`'s noise inputs (0 or 1 each) for `seed` into `out`
    /// ([`BatchedTrajectories::num_noise_inputs`] values; a shorter `out` is filled as far as
    /// it goes).
    pub fn noise_inputs(&self, seed: u64, row: u64, out: &mut [f64]) {
        let mut rng = Rng::new(stream_seed(seed, row));
        for slot in &self.slots {
            let code = slot.draw(rng.uniform());
            for j in 0..slot.qubits.len() {
                let pauli = (code >> (2 * j)) & 3;
                // x_a (RZ) for Z and Y, x_b (RX) for X and Y.
                let (a, b) = match pauli {
                    0 => (0.0, 0.0),
                    1 => (0.0, 1.0),
                    2 => (1.0, 1.0),
                    _ => (1.0, 0.0),
                };
                let at = slot.first_input + 2 * j;
                if let Some(v) = out.get_mut(at) {
                    *v = a;
                }
                if let Some(v) = out.get_mut(at + 1) {
                    *v = b;
                }
            }
        }
    }

    /// The Paulis row `row` draws for `seed`: one list per channel, in circuit order, of the
    /// (qubit, Pauli) pairs that are not the identity (empty: the identity was drawn).
    pub fn pauli_draws(&self, seed: u64, row: u64) -> Vec<Vec<(usize, Pauli)>> {
        let mut rng = Rng::new(stream_seed(seed, row));
        self.slots
            .iter()
            .map(|slot| {
                let code = slot.draw(rng.uniform());
                slot.qubits
                    .iter()
                    .enumerate()
                    .filter_map(|(j, &q)| match (code >> (2 * j)) & 3 {
                        1 => Some((q, Pauli::X)),
                        2 => Some((q, Pauli::Y)),
                        3 => Some((q, Pauli::Z)),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    /// Checks the user's batch, the trajectory count and the observables; returns the rows
    /// (B·T) and the rows per backend call (at most `options.max_sub_batch`).
    fn plan(
        &self,
        batch: &Batch<'_>,
        observables: &[Observable],
        config: &TrajectoryConfig,
        options: &BatchConfig,
    ) -> Result<(usize, usize)> {
        batch.validate(&self.user)?;
        self.program.check_observables(observables)?;
        let t = config.trajectories;
        if t == 0 || t > MAX_TRAJECTORIES {
            return Err(Error::InvalidArgument(format!(
                "{t} trajectories requested; use 1..={MAX_TRAJECTORIES}"
            )));
        }
        let rows = batch.size.checked_mul(t).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{} input rows × {t} trajectories overflows the address space; use fewer",
                batch.size
            ))
        })?;
        let row_values = self.program.num_params() as u64
            + self.user_inputs as u64
            + self.noise_inputs as u64
            + self.program.num_angles() as u64
            + observables.len() as u64
            + 1;
        let per_call = usize::try_from((CHUNK_BYTES / (8 * row_values)).max(1))
            .unwrap_or(usize::MAX)
            .min(options.max_sub_batch.unwrap_or(usize::MAX).max(1));
        Ok((rows, per_call.min(rows)))
    }

    /// θ and x of the combined circuit for rows `first..first + count` (row r = user row
    /// r / T, trajectory r % T): the user's θ and x, then row r's noise inputs.
    fn chunk_rows(
        &self,
        batch: &Batch<'_>,
        trajectories: usize,
        seed: u64,
        first: usize,
        count: usize,
    ) -> (Option<Vec<f64>>, Vec<f64>) {
        let p = self.program.num_params();
        let width = self.user_inputs + self.noise_inputs;
        let mut inputs = vec![0.0; count * width];
        let mut theta = match batch.theta {
            ThetaBatch::Shared(_) => None,
            ThetaBatch::PerSample(_) => Some(Vec::with_capacity(count * p)),
        };
        for i in 0..count {
            let r = first + i;
            let b = r / trajectories.max(1);
            let row = &mut inputs[i * width..(i + 1) * width];
            let (user, noise) = row.split_at_mut(self.user_inputs);
            for (d, s) in user.iter_mut().zip(batch.input_row(b, self.user_inputs)) {
                *d = *s;
            }
            self.noise_inputs(seed, r as u64, noise);
            if let Some(theta) = theta.as_mut() {
                theta.extend_from_slice(batch.theta_row(b, p));
            }
        }
        (theta, inputs)
    }

    /// ⟨O_j⟩ of every row: row-major `(B·T) × observables.len()`, row `b·T + t` being user row
    /// `b` (of `batch`, whose inputs are the user's circuit's) under trajectory `t`. Each row
    /// is a deterministic function of `config.seed` and its index. The rows are held at once
    /// (checked against the host memory budget); [`BatchedTrajectories::expectations`]
    /// returns means without holding them.
    pub fn row_values(
        &self,
        backend: &dyn Backend,
        batch: &Batch<'_>,
        observables: &[Observable],
        config: &TrajectoryConfig,
        options: &BatchConfig,
    ) -> Result<Vec<f64>> {
        let (rows, _) = self.plan(batch, observables, config, options)?;
        let bytes = (rows as u64)
            .checked_mul(observables.len() as u64)
            .and_then(|v| v.checked_mul(8))
            .unwrap_or(u64::MAX);
        crate::backend::check_budget(bytes, crate::sim::cpu::default_memory_budget())?;
        let mut out = Vec::with_capacity(rows * observables.len());
        self.for_each_chunk(backend, batch, observables, config, options, |_, v| {
            out.extend_from_slice(v);
        })?;
        Ok(out)
    }

    /// Runs every chunk of rows and hands `(first row, values)` to `sink`.
    fn for_each_chunk(
        &self,
        backend: &dyn Backend,
        batch: &Batch<'_>,
        observables: &[Observable],
        config: &TrajectoryConfig,
        options: &BatchConfig,
        mut sink: impl FnMut(usize, &[f64]),
    ) -> Result<()> {
        let (rows, per_call) = self.plan(batch, observables, config, options)?;
        let t = config.trajectories;
        let mut first = 0;
        while first < rows {
            let count = per_call.min(rows - first);
            let (theta, inputs) = self.chunk_rows(batch, t, config.seed, first, count);
            let call = match (&theta, batch.theta) {
                (Some(theta), _) => Batch::per_sample(theta, &inputs, count),
                (None, ThetaBatch::Shared(shared)) => Batch::shared(shared, &inputs, count),
                (None, ThetaBatch::PerSample(_)) => {
                    return Err(Error::InvalidArgument("per-sample θ rows missing".into()))
                }
            };
            let values = backend.forward_batch_with(&self.program, &call, observables, options)?;
            check_len(
                backend,
                "expectations",
                values.len(),
                count,
                observables.len(),
            )?;
            sink(first, &values);
            first += count;
        }
        Ok(())
    }

    /// The noisy ⟨O_j⟩ of every user row of `batch` over `config.trajectories` trajectories:
    /// row-major `B × observables.len()` means with standard errors.
    pub fn expectations(
        &self,
        backend: &dyn Backend,
        batch: &Batch<'_>,
        observables: &[Observable],
        config: &TrajectoryConfig,
        options: &BatchConfig,
    ) -> Result<Vec<Estimate>> {
        // Validate before allocating: the accumulators are B × m, sized by user input.
        self.plan(batch, observables, config, options)?;
        let m = observables.len();
        let t = config.trajectories.max(1);
        let cells = batch.size.checked_mul(m).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{} input rows × {m} observables overflows the address space; use fewer",
                batch.size
            ))
        })?;
        let bytes = (cells as u64).saturating_mul(std::mem::size_of::<Stats>() as u64);
        crate::backend::check_budget(bytes, crate::sim::cpu::default_memory_budget())?;
        let mut acc = vec![Stats::default(); cells];
        self.for_each_chunk(backend, batch, observables, config, options, |first, v| {
            for (i, row) in v.chunks(m.max(1)).enumerate() {
                let b = (first + i) / t;
                for (j, &x) in row.iter().enumerate() {
                    if let Some(a) = acc.get_mut(b * m + j) {
                        a.push(x);
                    }
                }
            }
        })?;
        Ok(acc.iter().map(Stats::estimate).collect())
    }

    /// The noisy ⟨O⟩ at `bindings` and its gradient in the user's θ and x, each the mean over
    /// `config.trajectories` trajectories of the per-trajectory value and gradient (unbiased:
    /// every trajectory is a unitary circuit whose Paulis do not depend on θ or x) with its
    /// standard error. `options`: the method ([`GradientMethod::Adjoint`], one backward sweep
    /// per row, or parameter shift) and the scheduler options (`max_sub_batch` also bounds
    /// the rows of one backend call); per-sample θ gradients are always computed.
    pub fn gradient(
        &self,
        backend: &dyn Backend,
        bindings: &Bindings<'_>,
        observable: &Observable,
        config: &TrajectoryConfig,
        options: &GradientConfig,
    ) -> Result<NoisyGradient> {
        let user = Batch::shared(bindings.theta, bindings.inputs, 1);
        let observables = std::slice::from_ref(observable);
        let (rows, per_call) = self.plan(&user, observables, config, &options.batch)?;
        let p = self.program.num_params();
        let width = self.user_inputs + self.noise_inputs;
        let options = options.clone().per_sample_theta(true);
        let mut value = Stats::default();
        let mut theta_acc = vec![Stats::default(); p];
        let mut input_acc = vec![Stats::default(); self.user_inputs];
        let mut first = 0;
        while first < rows {
            let count = per_call.min(rows - first);
            let (_, inputs) =
                self.chunk_rows(&user, config.trajectories, config.seed, first, count);
            let call = Batch::shared(bindings.theta, &inputs, count);
            let upstream = vec![1.0; count];
            let g = backend.gradient_batch_with(
                &self.program,
                &call,
                observables,
                &upstream,
                &options,
            )?;
            check_len(backend, "values", g.values.len(), count, 1)?;
            let per_sample = g.theta_per_sample.ok_or_else(|| {
                Error::Unsupported(format!(
                    "the backend {} returned no per-sample θ gradient, which noisy gradients \
                     average over trajectories; use a backend that computes them (the CPU \
                     backends, the GPU backend)",
                    backend.name()
                ))
            })?;
            check_len(
                backend,
                "per-sample θ gradients",
                per_sample.len(),
                count,
                p,
            )?;
            check_len(backend, "input gradients", g.inputs.len(), count, width)?;
            g.values.iter().for_each(|&v| value.push(v));
            if p > 0 {
                for row in per_sample.chunks(p) {
                    theta_acc.iter_mut().zip(row).for_each(|(a, &v)| a.push(v));
                }
            }
            if width > 0 {
                for row in g.inputs.chunks(width) {
                    input_acc.iter_mut().zip(row).for_each(|(a, &v)| a.push(v));
                }
            }
            first += count;
        }
        Ok(NoisyGradient {
            value: value.estimate(),
            theta: theta_acc.iter().map(Stats::estimate).collect(),
            inputs: input_acc.iter().map(Stats::estimate).collect(),
        })
    }
}

/// Errors unless `backend` returned `rows × per_row` values for `what` (`Backend` is a public
/// trait: a backend of the user's must not make us read past its rows or mix them up).
fn check_len(
    backend: &dyn Backend,
    what: &str,
    got: usize,
    rows: usize,
    per_row: usize,
) -> Result<()> {
    let want = rows.checked_mul(per_row);
    if want != Some(got) {
        return Err(Error::Device(format!(
            "the backend {} returned {got} {what} for {rows} rows × {per_row}; expected {}",
            backend.name(),
            want.map_or_else(|| "an overflowing count".to_string(), |w| w.to_string())
        )));
    }
    Ok(())
}

/// The expectation of every observable over `config.trajectories` noisy trajectories run as
/// the rows of one batched call of `backend` (see [`BatchedTrajectories`]), as means
/// with standard errors. Every channel must be a Pauli mixture; for other channels use
/// [`super::trajectory_expectations`]. To reuse the compiled circuit across calls, or to run
/// several input rows, per-row values or gradients, use [`BatchedTrajectories`].
pub fn batched_trajectory_expectations(
    backend: &dyn Backend,
    circuit: &NoisyCircuit,
    bindings: &Bindings<'_>,
    observables: &[Observable],
    config: &TrajectoryConfig,
) -> Result<Vec<Estimate>> {
    let compiled = BatchedTrajectories::new(circuit)?;
    let batch = Batch::shared(bindings.theta, bindings.inputs, 1);
    compiled.expectations(
        backend,
        &batch,
        observables,
        config,
        &BatchConfig::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauli_codes_round_trip_up_to_a_phase() {
        for k in 1..=2 {
            for code in 0..1usize << (2 * k) {
                let phased: Vec<C64> = pauli_string(code, k)
                    .iter()
                    .map(|v| v * C64::from_polar(1.0, 0.7))
                    .collect();
                assert_eq!(pauli_code(&phased, k), Some(code));
            }
        }
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let hadamard = [
            C64::new(h, 0.0),
            C64::new(h, 0.0),
            C64::new(h, 0.0),
            C64::new(-h, 0.0),
        ];
        assert_eq!(pauli_code(&hadamard, 1), None);
    }
}
