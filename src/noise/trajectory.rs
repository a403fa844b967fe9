//! Monte-Carlo trajectories: T pure-state runs of one noisy circuit as one batched workload
//! (split over the CPU threads), trajectory `t` drawing from its own stream seeded by
//! `(seed, t)`, so results do not depend on the thread count. Unitary-mixture channels are
//! sampled from their fixed probabilities without touching the state; other channels by the
//! two-stage norm method (qsim's): first the Kraus operators that are scaled unitaries, with
//! their fixed probabilities, then the others by ‖K_i ψ‖². Expectations come back as means
//! with standard errors.
//!
//! The engine (`fast`) compiles the circuit once and runs each trajectory on the fast CPU
//! engine's vectorised kernels in f64 or f32 ([`TrajectoryConfig::precision`]), folding
//! one-qubit gates, sampled Paulis and chosen Kraus operators into one pending 2×2 per qubit
//! and reading channel probabilities from the qubit's 2×2 reduced block.

use super::fast::{isa, run_trajectory, Scratch, TrajectoryPlan};
use super::model::NoisyCircuit;
use super::simd::BlockSums;
use crate::backend::Precision;
use crate::circuit::{Bindings, Observable};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use rayon::prelude::*;
use std::sync::{Mutex, TryLockError};

/// The most trajectories one call runs (2^24).
pub const MAX_TRAJECTORIES: usize = 1 << 24;

/// The largest qubit count of the trajectory engine (each worker thread holds one 2ⁿ state).
pub const MAX_TRAJECTORY_QUBITS: usize = 24;

/// Settings of [`trajectory_expectations`]: `TrajectoryConfig::default().trajectories(1000)`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TrajectoryConfig {
    /// Number of trajectories T (1..=[`MAX_TRAJECTORIES`]); default 1000.
    pub trajectories: usize,
    /// Seed of the whole run; trajectory t uses a stream derived from (seed, t). Default 0.
    pub seed: u64,
    /// Amplitude precision of the trajectories' states: [`Precision::F64`] (default) or
    /// [`Precision::F32`] (1.6–1.8× faster on the 12-qubit benchmark of
    /// `examples/noise_bench.rs`). In f32 the amplitudes carry f32 rounding (~6e-8 relative
    /// per operation, growing with depth); the block sums behind a branch probability are
    /// summed in f32 over at most 256 products per vector lane and then in f64, which keeps
    /// their relative error below ~2e-5 at any qubit count (tested within 1e-5 of f64 sums at
    /// 20 qubits). Both are far below the statistical error of any practical T; norms,
    /// expectations and the statistics are accumulated in f64 either way.
    pub precision: Precision,
}

impl Default for TrajectoryConfig {
    fn default() -> Self {
        TrajectoryConfig {
            trajectories: 1000,
            seed: 0,
            precision: Precision::F64,
        }
    }
}

setters!(TrajectoryConfig {
    trajectories: usize,
    seed: u64,
    precision: Precision
});

/// A Monte-Carlo estimate: the sample mean and its standard error (sample standard deviation
/// / √T).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The sample mean.
    pub mean: f64,
    /// The standard error of the mean.
    pub std_error: f64,
}

impl Estimate {
    /// Mean and standard error of `values` (standard error 0 for fewer than two values).
    pub fn of(values: &[f64]) -> Self {
        let t = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / t;
        let var = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (t - 1.0)
        } else {
            0.0
        };
        Estimate {
            mean,
            std_error: (var / t).sqrt(),
        }
    }
}

/// The expectation of every observable over `config.trajectories` noisy trajectories, as a
/// mean with its standard error. Readout errors do not enter (they act on measured bits).
pub fn trajectory_expectations(
    circuit: &NoisyCircuit,
    bindings: &Bindings<'_>,
    observables: &[Observable],
    config: &TrajectoryConfig,
) -> Result<Vec<Estimate>> {
    let n = circuit.num_qubits();
    if n > MAX_TRAJECTORY_QUBITS {
        return Err(Error::UnsupportedQubitCount {
            num_qubits: n,
            max: MAX_TRAJECTORY_QUBITS,
        });
    }
    let t = config.trajectories;
    if t == 0 || t > MAX_TRAJECTORIES {
        return Err(Error::InvalidArgument(format!(
            "{t} trajectories requested; use 1..={MAX_TRAJECTORIES}"
        )));
    }
    if observables.is_empty() {
        return Err(Error::InvalidArgument(
            "no observables given; pass at least one".into(),
        ));
    }
    for o in observables {
        o.validate(n)?;
    }
    circuit.check_bindings(bindings)?;
    let plan = TrajectoryPlan::new(circuit, bindings, observables)?;
    let stats = match config.precision {
        Precision::F32 => run_all::<f32>(&plan, t, config.seed),
        Precision::F64 => run_all::<f64>(&plan, t, config.seed),
    };
    Ok(stats.iter().map(Stats::estimate).collect())
}

/// Trajectories per task: a fixed size, so the order in which chunk statistics are merged,
/// and with it every rounding, does not depend on the thread count.
const CHUNK: usize = 32;

/// Running statistics of one observable: count, mean and the sum of squared deviations
/// (Welford; chunks merged by Chan et al.'s update), for means over values that are never
/// all held at once.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stats {
    count: f64,
    mean: f64,
    m2: f64,
}

impl Stats {
    /// Adds one value.
    pub(crate) fn push(&mut self, x: f64) {
        self.count += 1.0;
        let delta = x - self.mean;
        self.mean += delta / self.count;
        self.m2 += delta * (x - self.mean);
    }

    /// Adds the values `other` summarises.
    pub(crate) fn merge(&mut self, other: &Stats) {
        if other.count == 0.0 {
            return;
        }
        let count = self.count + other.count;
        let delta = other.mean - self.mean;
        self.mean += delta * other.count / count;
        self.m2 += other.m2 + delta * delta * self.count * other.count / count;
        self.count = count;
    }

    /// The mean and its standard error, like [`Estimate::of`] (standard error 0 below two
    /// values).
    pub(crate) fn estimate(&self) -> Estimate {
        let var = if self.count > 1.0 {
            self.m2 / (self.count - 1.0)
        } else {
            0.0
        };
        Estimate {
            mean: self.mean,
            std_error: (var / self.count.max(1.0)).sqrt(),
        }
    }
}

/// One worker's state and observable values.
type Buffers<T> = (Scratch<T>, Vec<f64>);

/// Runs trajectories 0..t of `plan` in chunks of [`CHUNK`] on rayon's pool and returns each
/// observable's statistics. Each worker thread makes one 2ⁿ state the first time it runs a
/// chunk and reuses it (slot `current_thread_index`; a chunk calls no rayon code, so a
/// worker never runs two chunks at once and the lock is not contended). `map_init` would
/// make one per rayon split job, which can be several per worker.
fn run_all<T: BlockSums>(plan: &TrajectoryPlan, t: usize, seed: u64) -> Vec<Stats> {
    let isa = isa();
    let k = plan.num_observables();
    let threads = rayon::current_num_threads().max(1);
    let scratches: Vec<Mutex<Option<Buffers<T>>>> =
        (0..threads).map(|_| Mutex::new(None)).collect();
    let chunks: Vec<Vec<Stats>> = (0..t.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let slot = rayon::current_thread_index().unwrap_or(0) % threads;
            // A busy slot (only if a chunk ever ran rayon work and this worker stole another
            // chunk meanwhile) gets buffers of its own rather than a deadlock.
            let mut guard = match scratches[slot].try_lock() {
                Ok(g) => Some(g),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            let mut own = None;
            let fresh = || (Scratch::<T>::new(plan), vec![0.0; k]);
            let (scratch, values) = match guard.as_deref_mut() {
                Some(g) => g.get_or_insert_with(fresh),
                None => own.insert(fresh()),
            };
            let mut stats = vec![Stats::default(); k];
            for i in c * CHUNK..((c + 1) * CHUNK).min(t) {
                let mut rng = Rng::new(stream_seed(seed, i as u64));
                run_trajectory(isa, plan, scratch, &mut rng, values);
                for (s, &v) in stats.iter_mut().zip(values.iter()) {
                    s.push(v);
                }
            }
            stats
        })
        .collect();
    let mut total = vec![Stats::default(); k];
    for chunk in &chunks {
        for (s, c) in total.iter_mut().zip(chunk) {
            s.merge(c);
        }
    }
    total
}

/// The seed of trajectory `index`'s stream: a 64-bit mix of (seed, index), so streams of
/// neighbouring trajectories are unrelated.
pub(crate) fn stream_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    z = (z ^ (z >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    z ^ (z >> 33)
}
