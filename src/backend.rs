//! The one interface both backends implement, so any program runs on the CPU or the GPU.

use crate::circuit::{Bindings, Circuit, Observable};
use crate::compile::program::{
    chain_rule, check_upstream, parameter_shift, Batch, BatchConfig, GradientMethod, Gradients,
    Program,
};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use num_complex::Complex64;
use std::collections::BTreeMap;

/// Floating-point precision of a backend's amplitudes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// 32-bit floats (`vec2<f32>` per amplitude on the GPU): half the memory, the GPU default.
    F32,
    /// 64-bit floats: needs SHADER_F64 on a GPU adapter; the CPU reference always uses it.
    F64,
}

impl Precision {
    /// Bytes per complex amplitude.
    pub fn bytes_per_amplitude(self) -> u64 {
        match self {
            Precision::F32 => 8,
            Precision::F64 => 16,
        }
    }
}

/// A simulator: creates states and runs circuits on them.
pub trait Backend: Send + Sync {
    /// A human-readable name, e.g. `cpu-reference (f64)` or the GPU adapter's name.
    fn name(&self) -> String;

    /// Precision of the amplitudes this backend stores.
    fn precision(&self) -> Precision;

    /// A new state |0…0⟩ on `num_qubits` qubits.
    fn zero_state(&self, num_qubits: usize) -> Result<Box<dyn QuantumState>>;

    /// A new state holding `amplitudes` (length 2^n, normalised within 1e-6).
    fn state_from_amplitudes(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>>;

    /// Runs `circuit` from |0…0⟩ under `bindings` and returns the resulting state.
    fn run(&self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<Box<dyn QuantumState>> {
        circuit.check_bindings(bindings)?;
        let mut state = self.zero_state(circuit.num_qubits())?;
        state.apply(circuit, bindings)?;
        Ok(state)
    }

    /// ⟨O_j⟩ for `num_rows` occurrence rows (`rows` is `num_rows × program.num_angles()`, see
    /// [`Program`]), returned row-major `num_rows × observables.len()`. Inputs are validated.
    fn forward_rows(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        options: &BatchConfig,
    ) -> Result<Vec<f64>>;

    /// Values (`R × n_obs`) and dL/d(occurrence) (`R × num_angles`) by adjoint differentiation,
    /// for the loss gradient `upstream = dL/d⟨O_j⟩_r` (`R × n_obs`). Occurrences of constant
    /// angles ([`Program::angle_exprs`] that are `Angle::Const`) feed no parameter, and a
    /// backend may return 0 for them (the GPU skips their derivative).
    fn adjoint_rows(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        upstream: &[f64],
        options: &BatchConfig,
    ) -> Result<(Vec<f64>, Vec<f64>)>;

    /// ⟨φ_i|φ_j⟩ for the states `program` prepares from the occurrence rows `rows_a` (i) and
    /// `rows_b` (j), row-major `num_a × num_b`: the building block of fidelity quantum
    /// kernels. This default prepares each state and multiplies on the host; the GPU backend
    /// overrides it with batched preparation and an on-device Gram product.
    fn overlaps(
        &self,
        program: &Program,
        rows_a: &[f64],
        num_a: usize,
        rows_b: &[f64],
        num_b: usize,
        _options: &BatchConfig,
    ) -> Result<Vec<Complex64>> {
        check_rows(program, rows_a, num_a)?;
        check_rows(program, rows_b, num_b)?;
        host_overlaps(self, program, rows_a, num_a, rows_b, num_b)
    }

    /// ⟨O_j⟩_b for every sample of `batch`: row-major `B × observables.len()`.
    fn forward_batch(
        &self,
        program: &Program,
        batch: &Batch<'_>,
        observables: &[Observable],
    ) -> Result<Vec<f64>> {
        self.forward_batch_with(program, batch, observables, &BatchConfig::default())
    }

    /// [`Backend::forward_batch`] with scheduler options (memory budget, sub-batch bound).
    fn forward_batch_with(
        &self,
        program: &Program,
        batch: &Batch<'_>,
        observables: &[Observable],
        options: &BatchConfig,
    ) -> Result<Vec<f64>> {
        let rows = batch.resolve_checked(program)?;
        program.check_observables(observables)?;
        self.forward_rows(program, &rows, batch.size, observables, options)
    }

    /// Values and gradients of a loss L(⟨O_j⟩_b) given `upstream = dL/d⟨O_j⟩_b`
    /// (`B × observables.len()`): dL/dθ summed over the batch and dL/dx per sample.
    fn gradient_batch(
        &self,
        program: &Program,
        batch: &Batch<'_>,
        observables: &[Observable],
        upstream: &[f64],
        method: GradientMethod,
    ) -> Result<Gradients> {
        self.gradient_batch_with(
            program,
            batch,
            observables,
            upstream,
            &GradientConfig {
                method,
                ..Default::default()
            },
        )
    }

    /// [`Backend::gradient_batch`] with all options.
    fn gradient_batch_with(
        &self,
        program: &Program,
        batch: &Batch<'_>,
        observables: &[Observable],
        upstream: &[f64],
        options: &GradientConfig,
    ) -> Result<Gradients> {
        let rows = batch.resolve_checked(program)?;
        program.check_observables(observables)?;
        check_upstream(upstream, batch.size, observables.len())?;
        let (values, d_angles) = match options.method {
            GradientMethod::Adjoint => self.adjoint_rows(
                program,
                &rows,
                batch.size,
                observables,
                upstream,
                &options.batch,
            )?,
            GradientMethod::ParameterShift => {
                let values =
                    self.forward_rows(program, &rows, batch.size, observables, &options.batch)?;
                let d = parameter_shift(
                    program,
                    &rows,
                    batch.size,
                    observables.len(),
                    upstream,
                    |shifted, count| {
                        self.forward_rows(program, shifted, count, observables, &options.batch)
                    },
                )?;
                (values, d)
            }
        };
        chain_rule(program, batch, &d_angles, options.per_sample_theta, values)
    }
}

/// Options of [`Backend::gradient_batch_with`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct GradientConfig {
    /// Adjoint (default) or parameter-shift.
    pub method: GradientMethod,
    /// Also return dL/dθ per sample.
    pub per_sample_theta: bool,
    /// Scheduler options.
    pub batch: BatchConfig,
}

setters!(GradientConfig {
    method: GradientMethod,
    per_sample_theta: bool,
    batch: BatchConfig,
});

/// A state vector owned by a backend (on the GPU it stays in device memory; reads copy results
/// back).
pub trait QuantumState: Send {
    /// Number of qubits.
    fn num_qubits(&self) -> usize;

    /// Applies `circuit` (same width) under `bindings`.
    fn apply(&mut self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<()>;

    /// All 2^n amplitudes, index `k` ↔ basis state with qubit q = bit q of k.
    fn amplitudes(&self) -> Result<Vec<Complex64>>;

    /// |amplitude|² for every basis state.
    fn probabilities(&self) -> Result<Vec<f64>>;

    /// Probabilities of the outcomes of measuring only `qubits`: entry `k` has bit j of `k`
    /// equal to the outcome of `qubits[j]`.
    fn marginal_probabilities(&self, qubits: &[usize]) -> Result<Vec<f64>>;

    /// ⟨ψ|O|ψ⟩ for a Pauli-sum observable.
    fn expectation(&self, observable: &Observable) -> Result<f64>;

    /// ⟨ψ|O_j|ψ⟩ for several observables.
    fn expectations(&self, observables: &[Observable]) -> Result<Vec<f64>> {
        observables.iter().map(|o| self.expectation(o)).collect()
    }

    /// `shots` basis-state indices drawn from the measurement distribution with a seeded RNG.
    ///
    /// The outcome list takes about [`SAMPLE_BYTES_PER_SHOT`] bytes per shot up front; more
    /// than the backend's memory budget is an [`Error::OutOfDeviceMemory`] (use
    /// [`QuantumState::sample_counts`], whose memory grows with the distinct outcomes only).
    fn sample(&self, shots: usize, seed: u64) -> Result<Vec<u64>>;

    /// How often each basis-state index occurs in `shots` draws from the measurement
    /// distribution with a seeded RNG: the histogram of [`QuantumState::sample`]`(shots, seed)`
    /// on the CPU reference (the same uniforms, drawn in chunks), in memory that grows with the
    /// state (one read of [`QuantumState::probabilities`]) and the number of distinct
    /// outcomes, not with `shots`. Time is O(shots · n) for n qubits; at most [`MAX_SHOTS`].
    fn sample_counts(&self, shots: u64, seed: u64) -> Result<BTreeMap<u64, u64>> {
        check_shot_count(shots)?;
        let mut cdf = self.probabilities()?;
        let mut acc = 0.0;
        for p in &mut cdf {
            acc += *p;
            *p = acc;
        }
        check_distribution(&cdf)?;
        let mut rng = Rng::new(seed);
        let mut counts = BTreeMap::new();
        let mut uniforms = Vec::new();
        let mut left = shots;
        while left > 0 {
            let chunk = left.min(SAMPLE_CHUNK);
            uniforms.clear();
            uniforms.extend((0..chunk).map(|_| rng.uniform()));
            for k in invert_cdf(&cdf, &uniforms) {
                *counts.entry(k).or_insert(0) += 1;
            }
            left -= chunk;
        }
        Ok(counts)
    }

    /// A finite-shot estimate of ⟨ψ|O|ψ⟩: what measuring every Pauli term of `observable` in
    /// its own eigenbasis `shots` times (fresh copies of the state, independently per term)
    /// and averaging the ±1 outcomes would give.
    ///
    /// Each term `c·P` with exact expectation `e = ⟨P⟩` is estimated as `c·(2k/shots − 1)`
    /// where `k ~ Binomial(shots, (1 + e)/2)` is drawn with the seeded RNG, one Bernoulli
    /// draw per shot; identity terms are exact. That is exactly the distribution of measuring
    /// the rotated state, without copying and rotating the state per term, so it works the
    /// same on every backend; the estimate is unbiased with variance
    /// `Σ c²(1 − e²)/shots`. Time is O(shots · terms), memory O(1); at most [`MAX_SHOTS`].
    fn expectation_shots(&self, observable: &Observable, shots: u64, seed: u64) -> Result<f64> {
        check_shot_count(shots)?;
        observable.validate(self.num_qubits())?;
        let mut rng = Rng::new(seed);
        let mut total = 0.0;
        for term in &observable.terms {
            if term.ops.is_empty() {
                total += term.coeff;
                continue;
            }
            let single = Observable {
                terms: vec![crate::circuit::PauliTerm {
                    coeff: 1.0,
                    ops: term.ops.clone(),
                }],
            };
            let e = self.expectation(&single)?.clamp(-1.0, 1.0);
            let p_plus = (1.0 + e) / 2.0;
            let plus = (0..shots).filter(|_| rng.uniform() < p_plus).count() as f64;
            total += term.coeff * (2.0 * plus / shots as f64 - 1.0);
        }
        if !total.is_finite() {
            return Err(non_finite_result("the shot estimate"));
        }
        Ok(total)
    }
}

/// Bytes [`QuantumState::sample`] needs per shot (outcome, uniform and sort key).
pub const SAMPLE_BYTES_PER_SHOT: u64 = 24;

/// Shots [`QuantumState::sample_counts`] draws at a time.
const SAMPLE_CHUNK: u64 = 1 << 16;

/// Checks a shot count for [`QuantumState::sample`]: at least one, and its outcome list
/// within `budget` bytes.
pub(crate) fn check_shots(shots: usize, budget: u64) -> Result<()> {
    check_shot_count(shots as u64)?;
    let needed = (shots as u64).saturating_mul(SAMPLE_BYTES_PER_SHOT);
    if needed > budget {
        return Err(Error::InvalidArgument(format!(
            "{shots} shots need {needed} bytes for the outcome list, over the memory budget of \
             {budget} bytes; use QuantumState::sample_counts (memory per distinct outcome) or \
             fewer shots per call"
        )));
    }
    Ok(())
}

/// The most shots one call of [`QuantumState::sample_counts`] or
/// [`QuantumState::expectation_shots`] draws: 2^40, hours of CPU time (their time grows with
/// the shots); the standard error at that many shots is already below 1e-6.
pub const MAX_SHOTS: u64 = 1 << 40;

/// Errors on zero shots or more than [`MAX_SHOTS`].
fn check_shot_count(shots: u64) -> Result<()> {
    if shots == 0 {
        return Err(Error::InvalidArgument("shots must be at least 1".into()));
    }
    if shots > MAX_SHOTS {
        return Err(Error::InvalidArgument(format!(
            "{shots} shots requested: use at most {MAX_SHOTS} (qshade::MAX_SHOTS) per call"
        )));
    }
    Ok(())
}

/// Checks that `needed` bytes fit in a memory `budget`.
pub(crate) fn check_budget(needed: u64, budget: u64) -> Result<()> {
    if needed > budget {
        return Err(Error::OutOfDeviceMemory {
            needed,
            available: budget,
        });
    }
    Ok(())
}

/// Errors if a cumulative distribution is not finite (a state with non-finite amplitudes).
fn check_distribution(cdf: &[f64]) -> Result<()> {
    match cdf.last() {
        Some(t) if t.is_finite() && *t > 0.0 => Ok(()),
        _ => Err(non_finite_result("the measurement distribution")),
    }
}

/// The error of a non-finite result.
fn non_finite_result(what: &str) -> Error {
    Error::InvalidState(format!(
        "{what} is NaN or infinite; the state or observable holds non-finite values"
    ))
}

/// Checks that `rows` holds `count` finite occurrence rows of `program`.
pub fn check_rows(program: &Program, rows: &[f64], count: usize) -> Result<()> {
    if Some(rows.len()) != count.checked_mul(program.num_angles()) {
        return Err(Error::InvalidArgument(format!(
            "{} angle values given for {count} rows of {} angles each",
            rows.len(),
            program.num_angles()
        )));
    }
    if let Some(k) = rows.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "angle value {k} is NaN or infinite"
        )));
    }
    Ok(())
}

/// ⟨φ_i|φ_j⟩ by preparing every state with `backend.run` and multiplying on the host.
pub(crate) fn host_overlaps<B: Backend + ?Sized>(
    backend: &B,
    program: &Program,
    rows_a: &[f64],
    num_a: usize,
    rows_b: &[f64],
    num_b: usize,
) -> Result<Vec<Complex64>> {
    let na = program.num_angles();
    let prepare = |rows: &[f64], count: usize| -> Result<Vec<Vec<Complex64>>> {
        (0..count)
            .map(|r| {
                backend
                    .run(
                        &program.bind_row(&rows[r * na..(r + 1) * na])?,
                        &Bindings::none(),
                    )?
                    .amplitudes()
            })
            .collect()
    };
    let (a, b) = (prepare(rows_a, num_a)?, prepare(rows_b, num_b)?);
    Ok(a.iter()
        .flat_map(|u| {
            b.iter()
                .map(move |v| u.iter().zip(v).map(|(x, y)| x.conj() * y).sum())
        })
        .collect())
}

/// Checks a qubit list for a marginal: each in range and distinct.
pub(crate) fn check_marginal_qubits(qubits: &[usize], num_qubits: usize) -> Result<()> {
    let mut seen = 0u64;
    for &q in qubits {
        if q >= num_qubits {
            return Err(Error::QubitOutOfRange {
                qubit: q,
                num_qubits,
            });
        }
        if seen & (1 << q) != 0 {
            return Err(Error::RepeatedQubit {
                qubit: q,
                gate: "marginal qubit list".into(),
            });
        }
        seen |= 1 << q;
    }
    Ok(())
}

/// Checks that `amplitudes` is a valid state and returns its qubit count.
pub(crate) fn check_amplitudes(amplitudes: &[Complex64]) -> Result<usize> {
    let len = amplitudes.len();
    if len < 2 || !len.is_power_of_two() {
        return Err(Error::InvalidState(format!(
            "length {len} is not a power of two ≥ 2"
        )));
    }
    let norm: f64 = amplitudes.iter().map(|a| a.norm_sqr()).sum();
    if !norm.is_finite() || (norm - 1.0).abs() > 1e-6 {
        return Err(Error::InvalidState(format!(
            "squared norm is {norm}, expected 1 (within 1e-6)"
        )));
    }
    Ok(len.trailing_zeros() as usize)
}

/// Marginalises full probabilities onto `qubits` (bit j of the result index = qubit `qubits[j]`).
pub(crate) fn marginalize(probs: &[f64], qubits: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; 1usize << qubits.len()];
    for (k, p) in probs.iter().enumerate() {
        let mut idx = 0usize;
        for (j, &q) in qubits.iter().enumerate() {
            idx |= ((k >> q) & 1) << j;
        }
        out[idx] += p;
    }
    out
}

/// Draws `shots` outcomes from a CDF by inverse transform: `uniforms` are the draws in [0, 1),
/// `cdf[k]` = P(outcome ≤ k). Returns outcome indices in the order of `uniforms`.
pub(crate) fn invert_cdf(cdf: &[f64], uniforms: &[f64]) -> Vec<u64> {
    let total = cdf.last().copied().unwrap_or(1.0);
    uniforms
        .iter()
        .map(|&u| {
            let target = u * total;
            let k = cdf.partition_point(|&c| c <= target);
            k.min(cdf.len() - 1) as u64
        })
        .collect()
}
