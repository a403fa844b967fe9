//! QAOA for MaxCut end to end: seeded random regular graphs, the brute-force optimum, training
//! (γ, β) with Adam on adjoint gradients of −⟨C⟩ from several seeded starting points at once
//! (one batched gradient call per step), the approximation ratio ⟨C⟩/optimum, and the most
//! likely bitstring of the trained state by sampling.
//!
//! The circuit and observable are [`templates::qaoa_maxcut`] and
//! [`templates::maxcut_observable`]: θ = [γ₀, β₀, γ₁, β₁, …].
//!
//! ```
//! # fn main() -> qshade::Result<()> {
//! use qshade::qml::qaoa::{random_regular_graph, solve_maxcut, QaoaConfig};
//! use qshade::CpuBackend;
//! let edges = random_regular_graph(8, 3, 1)?;
//! let result = solve_maxcut(&CpuBackend::new(), 8, &edges, &QaoaConfig::default().layers(1))?;
//! assert!(result.approximation_ratio > 0.69);
//! # Ok(()) }
//! ```

use crate::backend::{Backend, GradientConfig};
use crate::circuit::Bindings;
use crate::compile::program::{Batch, GradientMethod, Program};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::optim::{check_positive, Adam, Optimizer};
use crate::qml::progress::{progress_setter, report, ProgressFn};
use crate::qml::templates::{self, Edge};
use std::collections::{BTreeSet, HashMap};

/// Pairing attempts [`random_regular_graph`] makes before giving up. One attempt succeeds with
/// probability ≈ e^{(1−d²)/4} (e^{−2} ≈ 0.14 for d = 3), so 10 000 never run out in practice.
pub const MAX_PAIRING_ATTEMPTS: usize = 10_000;

/// The largest graph [`brute_force_maxcut`] enumerates (2^n assignments).
pub const MAX_BRUTE_FORCE_NODES: usize = 30;

/// The most parameters (`restarts × 2 × layers`) [`solve_maxcut`] trains at once.
pub const MAX_QAOA_PARAMETERS: usize = 1 << 20;

/// Shots [`solve_maxcut`] draws per sampling call; more shots are drawn in chunks of this
/// size (chunk k seeded with `seed + k`), so memory stays bounded for any shot count.
const SHOT_CHUNK: usize = 1 << 16;

/// A uniformly random simple `degree`-regular graph on `num_nodes` nodes with unit weights, by
/// the pairing (configuration) model: `degree` stubs per node are shuffled with a seeded
/// generator and paired in order; pairings with a self-loop or a repeated edge are rejected and
/// redrawn. Conditioned on being simple, the pairing model is uniform over simple regular
/// graphs. Edges come back as `(i, j, 1.0)` with i < j, sorted.
///
/// Errors: `num_nodes · degree` odd (no such graph), `num_nodes ≤ degree` (for degree 3:
/// fewer than 4 nodes), degree 0, or no simple pairing in [`MAX_PAIRING_ATTEMPTS`].
pub fn random_regular_graph(num_nodes: usize, degree: usize, seed: u64) -> Result<Vec<Edge>> {
    if degree == 0 {
        return Err(Error::InvalidArgument(
            "a regular graph needs degree ≥ 1".into(),
        ));
    }
    if num_nodes <= degree {
        return Err(Error::InvalidArgument(format!(
            "a simple {degree}-regular graph needs at least {} nodes, got {num_nodes}",
            degree + 1
        )));
    }
    if !(num_nodes * degree).is_multiple_of(2) {
        return Err(Error::InvalidArgument(format!(
            "no {degree}-regular graph on {num_nodes} nodes: n·d = {} is odd",
            num_nodes * degree
        )));
    }
    let mut rng = Rng::new(seed);
    let mut stubs: Vec<usize> = (0..num_nodes)
        .flat_map(|v| std::iter::repeat_n(v, degree))
        .collect();
    'attempt: for _ in 0..MAX_PAIRING_ATTEMPTS {
        rng.shuffle(&mut stubs);
        let mut edges = BTreeSet::new();
        for pair in stubs.chunks(2) {
            let (i, j) = (pair[0].min(pair[1]), pair[0].max(pair[1]));
            if i == j || !edges.insert((i, j)) {
                continue 'attempt;
            }
        }
        return Ok(edges.into_iter().map(|(i, j)| (i, j, 1.0)).collect());
    }
    Err(Error::InvalidArgument(format!("no simple {degree}-regular pairing on {num_nodes} nodes in {MAX_PAIRING_ATTEMPTS} attempts")))
}

/// [`random_regular_graph`] with degree 3.
pub fn random_3_regular_graph(num_nodes: usize, seed: u64) -> Result<Vec<Edge>> {
    random_regular_graph(num_nodes, 3, seed)
}

/// The maximum cut by enumeration: `(value, assignment)`, bit q of the assignment being node
/// q's side; the assignment has node `num_nodes − 1` on side 0 (the complement cuts the same).
/// Edges must lie within `num_nodes` ≤ [`MAX_BRUTE_FORCE_NODES`].
pub fn brute_force_maxcut(num_nodes: usize, edges: &[Edge]) -> Result<(f64, u64)> {
    check_graph(num_nodes, edges)?;
    if num_nodes > MAX_BRUTE_FORCE_NODES {
        return Err(Error::InvalidArgument(format!("brute force over 2^{num_nodes} cuts is too slow (at most {MAX_BRUTE_FORCE_NODES} nodes)")));
    }
    let half = 1u64 << (num_nodes - 1);
    let mut best = (f64::NEG_INFINITY, 0u64);
    for assignment in 0..half {
        let v = templates::maxcut_value(edges, assignment);
        if v > best.0 {
            best = (v, assignment);
        }
    }
    Ok(best)
}

fn check_graph(num_nodes: usize, edges: &[Edge]) -> Result<()> {
    if num_nodes == 0 {
        return Err(Error::InvalidArgument(
            "a graph needs at least one node".into(),
        ));
    }
    for &(i, j, w) in edges {
        if i >= num_nodes || j >= num_nodes || i == j || !w.is_finite() {
            return Err(Error::InvalidArgument(format!("edge ({i}, {j}, {w}) is not a finite-weight edge between two distinct nodes of {num_nodes}")));
        }
    }
    templates::check_weights(edges)
}

/// ⟨C⟩, the expected cut of the QAOA state with `params` = [γ₀, β₀, …] (p = params.len() / 2).
pub fn expected_cut<B: Backend + ?Sized>(
    backend: &B,
    num_nodes: usize,
    edges: &[Edge],
    params: &[f64],
) -> Result<f64> {
    check_graph(num_nodes, edges)?;
    if params.is_empty() || !params.len().is_multiple_of(2) {
        return Err(Error::InvalidArgument(format!(
            "QAOA parameters come in (γ, β) pairs, got {}",
            params.len()
        )));
    }
    let program = Program::compile(&templates::qaoa_maxcut(num_nodes, edges, params.len() / 2)?);
    Ok(backend.forward_batch(
        &program,
        &Batch::shared(params, &[], 1),
        &[templates::maxcut_observable(edges)?],
    )?[0])
}

/// Settings of [`solve_maxcut`]: `QaoaConfig::default()` and the chainable setters, e.g.
/// `QaoaConfig::default().layers(1).restarts(2)`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct QaoaConfig {
    /// Number of QAOA layers p.
    pub layers: usize,
    /// Adam steps per start.
    pub iterations: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Starting points optimised together (one batched gradient call per step): the first is
    /// the linear ramp γ_l = 0.75·(l + ½)/p, β_l = 0.75·(1 − (l + ½)/p); the others are drawn
    /// with γ ∈ [0, π/2), β ∈ [0, π/4) from `seed`. The best final ⟨C⟩ wins.
    pub restarts: usize,
    /// Seed of the random starts and of the sampling.
    pub seed: u64,
    /// Measurement shots for the most likely bitstring.
    pub shots: usize,
    /// Print one line every this many steps (and the last) to stdout; 0 is silent.
    pub verbose_every: usize,
    /// Called after every step with `what = "qaoa steps"`, `done` of `total = iterations` and
    /// the best start's ⟨C⟩. Set it with [`QaoaConfig::progress`].
    pub progress: Option<ProgressFn>,
}

impl Default for QaoaConfig {
    /// p = 2, 100 steps at learning rate 0.05, 4 starts, seed 7, 2000 shots, silent.
    fn default() -> Self {
        QaoaConfig {
            layers: 2,
            iterations: 100,
            learning_rate: 0.05,
            restarts: 4,
            seed: 7,
            shots: 2000,
            verbose_every: 0,
            progress: None,
        }
    }
}

setters!(QaoaConfig {
    layers: usize,
    iterations: usize,
    learning_rate: f64,
    restarts: usize,
    seed: u64,
    shots: usize,
    verbose_every: usize,
});
progress_setter!(QaoaConfig);

/// What [`solve_maxcut`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct QaoaResult {
    /// Number of layers p.
    pub layers: usize,
    /// The best start's trained parameters [γ₀, β₀, γ₁, β₁, …].
    pub params: Vec<f64>,
    /// ⟨C⟩ at `params`.
    pub expected_cut: f64,
    /// The best start's ⟨C⟩ at the beginning of every step.
    pub history: Vec<f64>,
    /// Every start's final ⟨C⟩, in start order.
    pub restart_cuts: Vec<f64>,
    /// The maximum cut (brute force).
    pub optimum: f64,
    /// An assignment reaching it (bit q = node q's side).
    pub optimal_assignment: u64,
    /// ⟨C⟩ / optimum.
    pub approximation_ratio: f64,
    /// Number of shots sampled from the trained state.
    pub shots: usize,
    /// The bitstring sampled most often (ties: the smaller index).
    pub most_likely: u64,
    /// How often it was sampled.
    pub most_likely_count: usize,
    /// Its cut value.
    pub most_likely_cut: f64,
    /// The best cut among all samples.
    pub best_sampled_cut: f64,
    /// The backend's name.
    pub backend: String,
}

impl QaoaResult {
    /// γ₀, γ₁, … of the trained parameters.
    pub fn gammas(&self) -> Vec<f64> {
        self.params.iter().step_by(2).copied().collect()
    }

    /// β₀, β₁, … of the trained parameters.
    pub fn betas(&self) -> Vec<f64> {
        self.params.iter().skip(1).step_by(2).copied().collect()
    }
}

/// The starting points described at [`QaoaConfig::restarts`], row-major `restarts × 2p`.
/// Errors if `layers` or `restarts` is 0 or `restarts × 2 × layers` exceeds
/// [`MAX_QAOA_PARAMETERS`].
pub fn initial_params(layers: usize, restarts: usize, seed: u64) -> Result<Vec<f64>> {
    let count = restarts
        .checked_mul(layers)
        .and_then(|n| n.checked_mul(2))
        .filter(|&n| n > 0 && n <= MAX_QAOA_PARAMETERS)
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{restarts} starts × {layers} layers: QAOA needs at least one of each and at most \
                 {MAX_QAOA_PARAMETERS} parameters in all (restarts × 2 × layers)"
            ))
        })?;
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(count);
    for r in 0..restarts {
        for l in 0..layers {
            if r == 0 {
                let f = (l as f64 + 0.5) / layers as f64;
                out.extend([0.75 * f, 0.75 * (1.0 - f)]);
            } else {
                out.extend([
                    rng.range(0.0, std::f64::consts::FRAC_PI_2),
                    rng.range(0.0, std::f64::consts::FRAC_PI_4),
                ]);
            }
        }
    }
    Ok(out)
}

/// Trains p-layer QAOA for MaxCut on the graph (`edges` between nodes `0..num_nodes`, one qubit
/// per node): maximises ⟨C⟩ from every start with Adam on adjoint gradients of −⟨C⟩ (all starts
/// in one [`Backend::gradient_batch_with`] call per step, per-sample θ), keeps the best, and
/// reports the brute-force optimum, the approximation ratio and the most likely sampled
/// bitstring.
pub fn solve_maxcut<B: Backend + ?Sized>(
    backend: &B,
    num_nodes: usize,
    edges: &[Edge],
    config: &QaoaConfig,
) -> Result<QaoaResult> {
    check_graph(num_nodes, edges)?;
    if edges.is_empty() {
        return Err(Error::InvalidArgument(
            "MaxCut needs a graph with at least one edge".into(),
        ));
    }
    if config.layers == 0 || config.restarts == 0 || config.shots == 0 {
        return Err(Error::InvalidArgument(
            "QAOA needs at least one layer, one start and one shot".into(),
        ));
    }
    check_positive("QAOA learning rate", config.learning_rate)?;
    let mut thetas = initial_params(config.layers, config.restarts, config.seed)?;
    let (optimum, optimal_assignment) = brute_force_maxcut(num_nodes, edges)?;
    if optimum <= 0.0 {
        return Err(Error::InvalidArgument(format!(
            "the maximum cut of this graph is {optimum}, so the approximation ratio ⟨C⟩/optimum \
             is undefined; MaxCut needs a graph whose best cut is positive"
        )));
    }
    let circuit = templates::qaoa_maxcut(num_nodes, edges, config.layers)?;
    let program = Program::compile(&circuit);
    let cost = [templates::maxcut_observable(edges)?];
    let (starts, np) = (config.restarts, 2 * config.layers);
    // Adam is element-wise, so one Adam over all starts' parameters is one Adam per start.
    let mut adam = Adam::new(config.learning_rate);
    let upstream = vec![-1.0; starts]; // L = −Σ_r ⟨C⟩_r: each start sees only its own term.
    let grad_options = GradientConfig {
        method: GradientMethod::Adjoint,
        per_sample_theta: true,
        ..Default::default()
    };
    // Grown as the steps run: reserving `iterations` up front would abort for a huge one.
    let mut histories = vec![Vec::new(); starts];
    for step in 0..config.iterations {
        let g = backend.gradient_batch_with(
            &program,
            &Batch::per_sample(&thetas, &[], starts),
            &cost,
            &upstream,
            &grad_options,
        )?;
        if let Some(v) = g.values.iter().find(|v| !v.is_finite()) {
            return Err(Error::Device(format!(
                "{} returned a non-finite expected cut {v} at step {step}",
                backend.name()
            )));
        }
        for (h, &v) in histories.iter_mut().zip(&g.values) {
            h.push(v);
        }
        let best = g.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        report(
            &config.progress,
            step + 1,
            config.iterations,
            "qaoa steps",
            Some(best),
        );
        if config.verbose_every > 0
            && (step % config.verbose_every == 0 || step + 1 == config.iterations)
        {
            println!(
                "qaoa step {step:>4}  best <C> {best:.6}  ratio {:.4}",
                best / optimum
            );
        }
        let per_sample = g
            .theta_per_sample
            .ok_or_else(|| Error::Device("backend returned no per-sample gradient".into()))?;
        adam.step(&mut thetas, &per_sample)?;
    }
    let restart_cuts =
        backend.forward_batch(&program, &Batch::per_sample(&thetas, &[], starts), &cost)?;
    let best = (0..starts).fold(0, |b, r| {
        if restart_cuts[r] > restart_cuts[b] {
            r
        } else {
            b
        }
    });
    let params = thetas[best * np..(best + 1) * np].to_vec();
    let expected_cut = restart_cuts[best];

    let state = backend.run(&circuit, &Bindings::theta(&params))?;
    let mut counts: HashMap<u64, usize> = HashMap::new();
    let mut remaining = config.shots;
    let mut chunk_seed = config.seed;
    while remaining > 0 {
        let take = remaining.min(SHOT_CHUNK);
        for s in state.sample(take, chunk_seed)? {
            *counts.entry(s).or_default() += 1;
        }
        remaining -= take;
        chunk_seed = chunk_seed.wrapping_add(1);
    }
    let (most_likely, most_likely_count) = counts
        .iter()
        .map(|(&k, &c)| (k, c))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .unwrap_or((0, 0));
    let best_sampled_cut = counts
        .keys()
        .map(|&k| templates::maxcut_value(edges, k))
        .fold(f64::NEG_INFINITY, f64::max);
    Ok(QaoaResult {
        layers: config.layers,
        params,
        expected_cut,
        history: std::mem::take(&mut histories[best]),
        restart_cuts,
        optimum,
        optimal_assignment,
        approximation_ratio: expected_cut / optimum,
        shots: config.shots,
        most_likely,
        most_likely_count,
        most_likely_cut: templates::maxcut_value(edges, most_likely),
        best_sampled_cut,
        backend: backend.name(),
    })
}
