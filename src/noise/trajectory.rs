//! Monte-Carlo trajectories: T pure-state runs of one noisy circuit as one batched workload
//! (split over the CPU threads), trajectory `t` drawing from its own stream seeded by
//! `(seed, t)`, so results do not depend on the thread count. Unitary-mixture channels are
//! sampled from their fixed probabilities without touching the state; other channels by the
//! two-stage norm method (qsim's): first the Kraus operators that are scaled unitaries, with
//! their fixed probabilities, then the others by ‖K_i ψ‖², and the chosen K_i ψ is
//! renormalised. Expectations come back as means with standard errors.

use super::density::term_phase;
use super::kernel::{apply, is_identity, norm_after, Uncontrolled};
use super::model::{NoisyCircuit, NoisyOp};
use crate::circuit::{Bindings, Observable};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use num_complex::Complex64 as C64;
use rayon::prelude::*;

/// The most trajectories one call runs (2^24).
pub const MAX_TRAJECTORIES: usize = 1 << 24;

/// The largest qubit count of the trajectory engine (each thread holds two 2ⁿ vectors).
pub const MAX_TRAJECTORY_QUBITS: usize = 24;

/// Settings of [`trajectory_expectations`]: `TrajectoryConfig::default().trajectories(1000)`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TrajectoryConfig {
    /// Number of trajectories T (1..=[`MAX_TRAJECTORIES`]); default 1000.
    pub trajectories: usize,
    /// Seed of the whole run; trajectory t uses a stream derived from (seed, t). Default 0.
    pub seed: u64,
}

impl Default for TrajectoryConfig {
    fn default() -> Self {
        TrajectoryConfig {
            trajectories: 1000,
            seed: 0,
        }
    }
}

setters!(TrajectoryConfig {
    trajectories: usize,
    seed: u64
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

/// A Kraus operator with its fixed probability when it is √p times a unitary.
struct Kraus {
    matrix: Vec<C64>,
    /// `Some((p, U))` for K = √p·U.
    unitary: Option<(f64, Vec<C64>)>,
}

enum Step {
    Gate {
        qubits: Vec<usize>,
        ctrl: u64,
        u: Vec<C64>,
    },
    Channel {
        qubits: Vec<usize>,
        kraus: Vec<Kraus>,
    },
}

fn compile(circuit: &NoisyCircuit, bindings: &Bindings<'_>) -> Result<Vec<Step>> {
    circuit.check_bindings(bindings)?;
    let gates = circuit.circuit().gates();
    let mut steps = Vec::new();
    for op in circuit.ops() {
        match op {
            NoisyOp::Gate(g) => {
                let gate = &gates[*g];
                steps.push(Step::Gate {
                    qubits: gate.targets.clone(),
                    ctrl: gate.control_mask(),
                    u: gate.bound_matrix(bindings),
                });
            }
            NoisyOp::Channel { channel, qubits } => {
                let probs = channel.mixture_probabilities();
                let mut kraus: Vec<Kraus> = channel
                    .kraus_operators()
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let unitary = probs.map(|p| p[i]).or_else(|| scaled_unitary(k));
                        Kraus {
                            matrix: k.clone(),
                            unitary: unitary.filter(|p| *p > 0.0).map(|p| {
                                let s = 1.0 / p.sqrt();
                                (p, k.iter().map(|v| v * s).collect())
                            }),
                        }
                    })
                    .collect();
                // Stage one: the scaled unitaries, by their fixed probabilities.
                kraus.sort_by_key(|k| k.unitary.is_none());
                steps.push(Step::Channel {
                    qubits: qubits.clone(),
                    kraus,
                });
            }
        }
    }
    Ok(steps)
}

/// `Some(p)` when K†K = p·I (K = √p·U).
fn scaled_unitary(k: &[C64]) -> Option<f64> {
    let kk = crate::math::linalg::matmul(&crate::math::linalg::dagger(k), k);
    let d = crate::math::linalg::side(k.len());
    let p = kk[0].re;
    (0..d * d)
        .all(|i| {
            let want = if i % (d + 1) == 0 { p } else { 0.0 };
            (kk[i] - want).norm() <= 1e-12
        })
        .then_some(p)
}

/// ⟨ψ|O|ψ⟩ of a normalised state.
pub(crate) fn state_expectation(psi: &[C64], observable: &Observable) -> f64 {
    let mut total = 0.0;
    for term in &observable.terms {
        let x = term.x_mask() as usize;
        let s: C64 = psi
            .iter()
            .enumerate()
            .map(|(c, v)| psi[c ^ x].conj() * term_phase(term, c) * v)
            .sum();
        total += term.coeff * s.re;
    }
    total
}

/// Runs one trajectory into `psi`.
fn run_one(steps: &[Step], psi: &mut [C64], rng: &mut Rng) {
    psi.iter_mut().for_each(|v| *v = C64::ZERO);
    psi[0] = C64::ONE;
    for step in steps {
        match step {
            Step::Gate { qubits, ctrl, u } => apply(psi, qubits, u, *ctrl, Uncontrolled::Keep),
            Step::Channel { qubits, kraus } => {
                let r = rng.uniform();
                let mut cumulative = 0.0;
                let mut fallback = None;
                let mut chosen = None;
                for (i, k) in kraus.iter().enumerate() {
                    if let Some((p, u)) = &k.unitary {
                        cumulative += p;
                        if r < cumulative {
                            if !is_identity(u) {
                                apply(psi, qubits, u, 0, Uncontrolled::Keep);
                            }
                            chosen = Some(None);
                            break;
                        }
                        continue;
                    }
                    let norm2 = norm_after(psi, qubits, &k.matrix);
                    cumulative += norm2;
                    if norm2 > 0.0 {
                        fallback = Some((i, norm2));
                        if r < cumulative {
                            chosen = Some(Some((i, norm2)));
                            break;
                        }
                    }
                }
                // Rounding can leave r just above Σ p_i: take the last operator with weight.
                if let Some((i, norm2)) = chosen.unwrap_or(fallback) {
                    apply(psi, qubits, &kraus[i].matrix, 0, Uncontrolled::Keep);
                    let s = 1.0 / norm2.sqrt();
                    psi.iter_mut().for_each(|a| *a *= s);
                }
            }
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
    let steps = compile(circuit, bindings)?;
    let dim = 1usize << n;
    let values: Vec<Vec<f64>> = (0..t)
        .into_par_iter()
        .map_init(
            || vec![C64::ZERO; dim],
            |psi, i| {
                let mut rng = Rng::new(stream_seed(config.seed, i as u64));
                run_one(&steps, psi, &mut rng);
                observables
                    .iter()
                    .map(|o| state_expectation(psi, o))
                    .collect()
            },
        )
        .collect();
    Ok((0..observables.len())
        .map(|k| Estimate::of(&values.iter().map(|v| v[k]).collect::<Vec<f64>>()))
        .collect())
}

/// The seed of trajectory `index`'s stream: a 64-bit mix of (seed, index), so streams of
/// neighbouring trajectories are unrelated.
pub(crate) fn stream_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    z = (z ^ (z >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    z ^ (z >> 33)
}
