//! The batched CPU path behind [`crate::CpuBackend`]'s `forward_rows` / `adjoint_rows`: rows run
//! in parallel on rayon's pool (which honours `RAYON_NUM_THREADS`), each worker reusing its own
//! two state buffers, every gate lowered once per call into a specialised kernel (see `lower`).
//!
//! Precision: every function here is generic over the amplitude type `T` (`Real`: `f32` or
//! `f64`), and the backend calls it in its own precision. States hold `T` amplitudes and the
//! kernels compute in `T`; angles and gate matrices are computed in f64 and rounded to `T` once
//! per gate and row, and expectation values and gradient sums are accumulated in f64 (each
//! lane's term computed in `T`, then widened), so long sums lose no precision to `T`.
//!
//! Memory: a row in flight holds ψ (forward) or ψ and λ (adjoint), whatever the depth, of
//! `2^n × bytes_per_amplitude` bytes each (8 in f32, 16 in f64). The
//! rows are split into sub-batches of at most `memory_budget / (states × state bytes)` rows (and
//! at most [`BatchConfig::max_sub_batch`]) so the states in flight fit the budget; each row is
//! computed independently, so the results do not depend on the split. A budget below one row's
//! states is [`Error::OutOfDeviceMemory`] (here: host memory).
//!
//! Scheduling: sub-batches of one row (or a one-thread pool) run on the calling thread; an
//! adjoint call with fewer rows than threads on ≥ 16 qubits (a single-sample gradient) splits
//! each state's gates over the threads instead, forward and backward. (`CpuBackend` sends a
//! forward call with fewer rows than threads on ≥ 12 qubits to a fast state instead.)
//!
//! Instruction sets: each row's whole pass is compiled twice, for the build's baseline and (on
//! x86-64) for AVX2 + FMA, and the variant is picked at run time; the kernels are written as
//! fixed-width lane loops (see `kernels`) that the compiler vectorises.

use super::kept::Kept;
use super::kernels::{pauli_accumulate, pauli_expectation, Amp};
use super::lower::{Plan, Step};
use super::real::Real;
use crate::circuit::Observable;
use crate::compile::program::{BatchConfig, Program};
use crate::error::{Error, Result};
use crate::math::isa::{detect_isa, Isa};
use rayon::prelude::*;
use std::sync::Mutex;

/// Default budget when `/proc/meminfo` cannot be read: 1 GiB.
const FALLBACK_BUDGET: u64 = 1 << 30;

/// The default memory budget of the batched CPU path: a quarter of the host's available memory
/// (`MemAvailable` in `/proc/meminfo`), or 1 GiB where that cannot be read.
pub fn default_memory_budget() -> u64 {
    crate::math::host::available_bytes()
        .map(|bytes| bytes / 4)
        .filter(|&b| b > 0)
        .unwrap_or(FALLBACK_BUDGET)
}

/// Rows per sub-batch for states of `num_qubits` qubits of precision `T` when each row holds
/// `states` of them.
fn sub_batch_rows<T: Real>(num_qubits: usize, states: u64, options: &BatchConfig) -> Result<usize> {
    let state_bytes = T::PRECISION.bytes_per_amplitude() << num_qubits;
    let needed = states * state_bytes;
    let budget = options.memory_budget.unwrap_or_else(default_memory_budget);
    if needed > budget {
        return Err(Error::OutOfDeviceMemory {
            needed,
            available: budget,
        });
    }
    let mut rows = usize::try_from(budget / needed)
        .unwrap_or(usize::MAX)
        .max(1);
    if let Some(max) = options.max_sub_batch {
        if max == 0 {
            return Err(Error::InvalidArgument(
                "max_sub_batch must be at least 1".into(),
            ));
        }
        rows = rows.min(max);
    }
    Ok(rows)
}

fn check_shapes(
    program: &Program,
    rows: &[f64],
    num_rows: usize,
    observables: &[Observable],
) -> Result<()> {
    program.check_observables(observables)?;
    if rows.len() != num_rows * program.num_angles() {
        return Err(Error::InvalidArgument(format!(
            "occurrence rows have {} values, expected num_rows × num_angles = {num_rows} × {}",
            rows.len(),
            program.num_angles()
        )));
    }
    Ok(())
}

/// The checks of [`fast_forward_rows`] for a path that holds one state of `bytes_per_amp`-byte
/// amplitudes at a time: shapes, observables, `max_sub_batch ≥ 1` and the memory budget.
pub(crate) fn check_forward(
    program: &Program,
    rows: &[f64],
    num_rows: usize,
    observables: &[Observable],
    options: &BatchConfig,
    bytes_per_amp: u64,
) -> Result<()> {
    check_shapes(program, rows, num_rows, observables)?;
    if options.max_sub_batch == Some(0) {
        return Err(Error::InvalidArgument(
            "max_sub_batch must be at least 1".into(),
        ));
    }
    let needed = bytes_per_amp << program.num_qubits();
    let budget = options.memory_budget.unwrap_or_else(default_memory_budget);
    if needed > budget {
        return Err(Error::OutOfDeviceMemory {
            needed,
            available: budget,
        });
    }
    Ok(())
}

/// One worker's buffers, reused for every row it runs: the states in precision `T`.
struct Scratch<T> {
    psi: Vec<Amp<T>>,
    lam: Vec<Amp<T>>,
    string_values: Vec<f64>,
    string_weights: Vec<f64>,
}

impl<T: Real> Scratch<T> {
    fn new(plan: &Plan, adjoint: bool) -> Self {
        let len = 1usize << plan.num_qubits;
        Scratch {
            psi: vec![[T::ZERO; 2]; len],
            lam: if adjoint {
                vec![[T::ZERO; 2]; len]
            } else {
                Vec::new()
            },
            string_values: vec![0.0; plan.strings.len()],
            string_weights: vec![0.0; plan.strings.len()],
        }
    }
}

/// Buffers shared by the jobs of one call: a job takes one (or allocates it) and gives it back
/// when done, so a call allocates at most one per concurrently running job.
struct Pool<'p, T> {
    free: Mutex<Vec<Scratch<T>>>,
    plan: &'p Plan,
    adjoint: bool,
}

/// A job's buffers, taken from a [`Pool`] and given back on drop.
struct Lease<'a, 'p, T> {
    pool: &'a Pool<'p, T>,
    scratch: Option<Scratch<T>>,
}

impl<'p, T: Real> Pool<'p, T> {
    fn lease(&self) -> Lease<'_, 'p, T> {
        let taken = self.free.lock().map(|mut f| f.pop()).unwrap_or(None);
        Lease {
            pool: self,
            scratch: Some(taken.unwrap_or_else(|| Scratch::new(self.plan, self.adjoint))),
        }
    }
}

impl<T> Drop for Lease<'_, '_, T> {
    fn drop(&mut self) {
        if let (Some(s), Ok(mut free)) = (self.scratch.take(), self.pool.free.lock()) {
            free.push(s);
        }
    }
}

/// |0…0⟩ into `psi`.
#[inline(always)]
fn reset<T: Real>(psi: &mut [Amp<T>]) {
    psi.fill([T::ZERO; 2]);
    psi[0] = [T::ONE, T::ZERO];
}

/// log2 of the amplitudes of a cache tile of a one-thread forward sweep: 2^13 amplitudes
/// (128 KiB in f64), a few of which fit a core's L2 cache.
const TILE_BITS: usize = 13;

/// ψ = U(row)|0…0⟩ into `psi`. On states larger than a tile, each run of consecutive steps on
/// qubits below [`TILE_BITS`] is applied tile by tile (every step of the run on one tile, then
/// the next), so a tile stays in cache for the whole run instead of the state streaming
/// through memory once per step.
#[inline(always)]
fn run_forward<T: Real>(plan: &Plan, row: &[f64], psi: &mut [Amp<T>]) {
    reset(psi);
    let n = plan.num_qubits;
    if n <= TILE_BITS {
        for step in &plan.steps {
            step.apply(row, psi);
        }
        return;
    }
    for (way, group) in groups(plan.steps.iter(), TILE_BITS, n) {
        if way == Split::Blocks(TILE_BITS) {
            for tile in psi.chunks_mut(1 << TILE_BITS) {
                for step in &group {
                    step.apply(row, tile);
                }
            }
        } else {
            for step in group {
                step.apply(row, psi);
            }
        }
    }
}

/// ⟨O_j⟩ from the state, every distinct Pauli string evaluated once.
#[inline(always)]
fn values_into<T: Real>(plan: &Plan, psi: &[Amp<T>], string_values: &mut [f64], out: &mut [f64]) {
    for (v, p) in string_values.iter_mut().zip(&plan.strings) {
        *v = pauli_expectation(psi, p);
    }
    for (o, terms) in out.iter_mut().zip(&plan.observables) {
        *o = terms.iter().map(|&(s, c)| c * string_values[s]).sum();
    }
}

#[inline(always)]
fn forward_row_impl<T: Real>(
    plan: &Plan,
    row: &[f64],
    psi: &mut [Amp<T>],
    string_values: &mut [f64],
    values: &mut [f64],
) {
    run_forward(plan, row, psi);
    values_into(plan, psi, string_values, values);
}

#[inline(always)]
fn adjoint_row_impl<T: Real>(
    plan: &Plan,
    row: &[f64],
    upstream: &[f64],
    (s, kept): (&mut Scratch<T>, Option<&mut [Amp<T>]>),
    values: &mut [f64],
    grads: &mut [f64],
) {
    adjoint_row_with(
        plan,
        upstream,
        s,
        kept,
        (values, grads),
        // A closure does not inherit its caller's `target_feature`s: without being inlined
        // into `adjoint_row_avx2`, the backward sweep was compiled for baseline x86-64 (no
        // ymm register in it) and ran ~2× slower than the AVX2 forward per pass.
        #[inline(always)]
        |psi| run_forward(plan, row, psi),
        #[inline(always)]
        |psi, lam, grads| run_backward(plan, row, psi, lam, grads),
    );
}

/// The most tiles a one-thread backward sweep cuts a state into (each holds a gradient row of
/// its own): 2^6, i.e. states of up to 19 qubits; larger ones run step by step.
const MAX_BACKWARD_TILES: usize = 64;

/// The backward sweep of one row on one thread. On states larger than a tile (and of at most
/// [`MAX_BACKWARD_TILES`] tiles), runs of consecutive steps on qubits below [`TILE_BITS`] are
/// applied tile by tile, as in [`run_forward`]; each tile writes its share of a step's
/// derivatives into its own gradient row (a step assigns its angles' entries), and the rows
/// are summed at the end.
#[inline(always)]
fn run_backward<T: Real>(
    plan: &Plan,
    row: &[f64],
    psi: &mut [Amp<T>],
    lam: &mut [Amp<T>],
    grads: &mut [f64],
) {
    let n = plan.num_qubits;
    let gl = grads.len();
    let tiles = 1usize << n.saturating_sub(TILE_BITS);
    if n <= TILE_BITS || gl == 0 || tiles > MAX_BACKWARD_TILES {
        for step in plan.steps.iter().rev() {
            step.backward(row, psi, lam, grads);
        }
        return;
    }
    let mut partial = vec![0.0; tiles * gl];
    for (way, group) in groups(plan.steps.iter().rev(), TILE_BITS, n) {
        if way == Split::Blocks(TILE_BITS) {
            let parts = psi
                .chunks_mut(1 << TILE_BITS)
                .zip(lam.chunks_mut(1 << TILE_BITS))
                .zip(partial.chunks_mut(gl));
            for ((p, l), g) in parts {
                for step in &group {
                    step.backward(row, p, l, g);
                }
            }
        } else {
            for step in group {
                step.backward(row, psi, lam, &mut partial[..gl]);
            }
        }
    }
    for tile in partial.chunks(gl) {
        for (g, t) in grads.iter_mut().zip(tile) {
            *g += t;
        }
    }
}

/// One row's adjoint pass around its two sweeps: `forward` prepares ψ (or `kept` is the row's
/// final state, computed by an earlier forward call, and is used and overwritten), the values are read,
/// λ is seeded from `upstream`, and `backward` runs the backward sweep over (ψ, λ, grads)
/// unless every weight is 0 (then every derivative is 0).
#[inline(always)]
fn adjoint_row_with<T: Real>(
    plan: &Plan,
    upstream: &[f64],
    s: &mut Scratch<T>,
    kept: Option<&mut [Amp<T>]>,
    (values, grads): (&mut [f64], &mut [f64]),
    forward: impl FnOnce(&mut [Amp<T>]),
    backward: impl FnOnce(&mut [Amp<T>], &mut [Amp<T>], &mut [f64]),
) {
    let Scratch {
        psi,
        lam,
        string_values,
        string_weights,
    } = s;
    // A kept final state of this row (see `kept`) replaces the forward sweep.
    let psi: &mut [Amp<T>] = match kept {
        Some(k) => k,
        None => {
            forward(psi);
            psi
        }
    };
    values_into(plan, psi, string_values, values);
    grads.fill(0.0);
    if seed_lambda(plan, upstream, psi, lam, string_weights) {
        backward(psi, lam, grads);
    }
}

/// λ = Σ_j g_j O_j ψ = Σ_strings w_s P_s ψ for the row's `upstream` g; false (λ untouched)
/// when every weight is 0, so every derivative is 0.
#[inline(always)]
fn seed_lambda<T: Real>(
    plan: &Plan,
    upstream: &[f64],
    psi: &[Amp<T>],
    lam: &mut [Amp<T>],
    string_weights: &mut [f64],
) -> bool {
    string_weights.fill(0.0);
    for (terms, &g) in plan.observables.iter().zip(upstream) {
        for &(s, c) in terms {
            string_weights[s] += g * c;
        }
    }
    if string_weights.iter().all(|&w| w == 0.0) {
        return false;
    }
    lam.fill([T::ZERO; 2]);
    for (p, &w) in plan.strings.iter().zip(string_weights.iter()) {
        if w != 0.0 {
            pauli_accumulate(lam, psi, p, w);
        }
    }
    true
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn forward_row_avx2<T: Real>(
    plan: &Plan,
    row: &[f64],
    psi: &mut [Amp<T>],
    string_values: &mut [f64],
    values: &mut [f64],
) {
    forward_row_impl(plan, row, psi, string_values, values)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn adjoint_row_avx2<T: Real>(
    plan: &Plan,
    row: &[f64],
    upstream: &[f64],
    (s, kept): (&mut Scratch<T>, Option<&mut [Amp<T>]>),
    values: &mut [f64],
    grads: &mut [f64],
) {
    adjoint_row_impl(plan, row, upstream, (s, kept), values, grads)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn apply_step_avx2<T: Real>(step: &Step, row: &[f64], s: &mut [Amp<T>]) {
    step.apply(row, s)
}

fn apply_step<T: Real>(isa: Isa, step: &Step, row: &[f64], s: &mut [Amp<T>]) {
    match isa {
        // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { apply_step_avx2(step, row, s) },
        Isa::Base => step.apply(row, s),
    }
}

/// States of at least this many qubits are split over the threads gate by gate in an adjoint
/// call, one row after another: with fewer rows than threads (a single-sample gradient) the
/// rows cannot keep the threads busy, and with more, a row's ψ, λ and scratch no longer fit one
/// thread's cache, where one row per thread ran about 4× slower per row than the split sweep
/// (16 qubits, 2 layers, B = 64, 2 threads: 85 -> 22 ms per row on a shared machine; measured
/// at 16 qubits only).
const SPLIT_QUBITS: usize = 16;

/// log2 of the amplitudes per block when a state's gates are split over the threads: about
/// four blocks per thread, at least 2^12 amplitudes each.
fn split_block_bits(num_qubits: usize) -> usize {
    let blocks = (rayon::current_num_threads() * 4)
        .next_power_of_two()
        .trailing_zeros() as usize;
    num_qubits.saturating_sub(blocks).max(12)
}

/// How the split sweep runs one step.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Split {
    /// On independent blocks of `2^bits` amplitudes in parallel (every qubit of the step lies
    /// below `bits`).
    Blocks(usize),
    /// A chain or an X on the top qubit: on matching chunks of `2^bits` amplitudes of the two
    /// halves in parallel.
    Halves(usize),
    /// On the whole state, on the calling thread.
    Whole,
}

/// How `step` runs in a split sweep over `num_qubits` qubits with blocks of `2^block_bits`:
/// in blocks of `2^max(block_bits, h + 1)` amplitudes for its highest qubit h, so that only
/// the steps on the top qubit are left; of those, chains and X targets (CNOTs onto the top
/// qubit) run in matching chunks of the halves.
fn split_of(step: &Step, block_bits: usize, num_qubits: usize) -> Split {
    let bits = block_bits.max(step.highest_qubit() + 1);
    if bits < num_qubits {
        Split::Blocks(bits)
    } else if block_bits < num_qubits && step.splits_in_halves(block_bits) {
        Split::Halves(block_bits)
    } else {
        Split::Whole
    }
}

/// `steps` in order, grouped by how they split (see [`split_of`]): consecutive steps that run
/// on blocks of exactly `2^block_bits` amplitudes form one group, to be run block by block
/// (all of the group's steps on a block, which stays in cache); every other step is a group
/// of its own.
fn groups<'p>(
    steps: impl Iterator<Item = &'p Step>,
    block_bits: usize,
    num_qubits: usize,
) -> Vec<(Split, Vec<&'p Step>)> {
    let mut out: Vec<(Split, Vec<&Step>)> = Vec::new();
    for step in steps {
        let way = split_of(step, block_bits, num_qubits);
        match out.last_mut() {
            Some((w, group)) if *w == way && way == Split::Blocks(block_bits) => group.push(step),
            _ => out.push((way, vec![step])),
        }
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn apply_halves_avx2<T: Real>(step: &Step, row: &[f64], lo: &mut [Amp<T>], hi: &mut [Amp<T>]) {
    step.apply_halves(row, lo, hi)
}

fn apply_halves<T: Real>(isa: Isa, step: &Step, row: &[f64], lo: &mut [Amp<T>], hi: &mut [Amp<T>]) {
    match isa {
        // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { apply_halves_avx2(step, row, lo, hi) },
        Isa::Base => step.apply_halves(row, lo, hi),
    }
}

/// ψ = U(row)|0…0⟩ with every gate split over the threads (see [`split_of`]).
fn run_forward_split<T: Real>(isa: Isa, plan: &Plan, row: &[f64], psi: &mut [Amp<T>]) {
    let n = plan.num_qubits;
    let block_bits = split_block_bits(n);
    reset(psi);
    for (way, group) in groups(plan.steps.iter(), block_bits, n) {
        let step = group[0];
        match way {
            Split::Blocks(bits) => psi.par_chunks_mut(1 << bits).for_each(|b| {
                for step in &group {
                    apply_step(isa, step, row, b);
                }
            }),
            Split::Halves(bits) => {
                let (lo, hi) = psi.split_at_mut(1 << (n - 1));
                lo.par_chunks_mut(1 << bits)
                    .zip(hi.par_chunks_mut(1 << bits))
                    .for_each(|(l, h)| apply_halves(isa, step, row, l, h));
            }
            Split::Whole => apply_step(isa, step, row, psi),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn backward_step_avx2<T: Real>(
    step: &Step,
    row: &[f64],
    psi: &mut [Amp<T>],
    lam: &mut [Amp<T>],
    grads: &mut [f64],
) {
    step.backward(row, psi, lam, grads)
}

fn backward_step<T: Real>(
    isa: Isa,
    step: &Step,
    row: &[f64],
    psi: &mut [Amp<T>],
    lam: &mut [Amp<T>],
    grads: &mut [f64],
) {
    match isa {
        // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { backward_step_avx2(step, row, psi, lam, grads) },
        Isa::Base => step.backward(row, psi, lam, grads),
    }
}

/// One row's adjoint pass with every gate of the forward and the backward sweep split over the
/// threads (a single-sample gradient, as in VQE, then uses every core): a step whose qubits
/// lie below the block size runs on the blocks of ψ and λ in parallel, each block writing its
/// share of the step's derivatives into its own gradient row; the rows are summed at the end
/// (a step *assigns* its angles' entries, and every angle belongs to one step).
fn adjoint_row_split<T: Real>(
    isa: Isa,
    plan: &Plan,
    row: &[f64],
    upstream: &[f64],
    (s, kept): (&mut Scratch<T>, Option<&mut [Amp<T>]>),
    values: &mut [f64],
    grads: &mut [f64],
) {
    adjoint_row_with(
        plan,
        upstream,
        s,
        kept,
        (values, grads),
        |psi| run_forward_split(isa, plan, row, psi),
        |psi, lam, grads| backward_split(isa, plan, row, psi, lam, grads),
    );
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn backward_halves_avx2<T: Real>(
    step: &Step,
    row: &[f64],
    psi: (&mut [Amp<T>], &mut [Amp<T>]),
    lam: (&mut [Amp<T>], &mut [Amp<T>]),
    grads: &mut [f64],
) {
    step.backward_halves(row, psi, lam, grads)
}

fn backward_halves<T: Real>(
    isa: Isa,
    step: &Step,
    row: &[f64],
    psi: (&mut [Amp<T>], &mut [Amp<T>]),
    lam: (&mut [Amp<T>], &mut [Amp<T>]),
    grads: &mut [f64],
) {
    match isa {
        // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { backward_halves_avx2(step, row, psi, lam, grads) },
        Isa::Base => step.backward_halves(row, psi, lam, grads),
    }
}

/// The backward sweep of [`adjoint_row_split`] (see [`split_of`]): each parallel block or
/// chunk writes its share of a step's derivatives into its own gradient row (at most
/// `2^(n − block_bits)` of them), and the rows are summed at the end.
fn backward_split<T: Real>(
    isa: Isa,
    plan: &Plan,
    row: &[f64],
    psi: &mut [Amp<T>],
    lam: &mut [Amp<T>],
    grads: &mut [f64],
) {
    let n = plan.num_qubits;
    let block_bits = split_block_bits(n);
    let num_blocks = 1usize << n.saturating_sub(block_bits);
    let gl = grads.len();
    // Row 0 also takes the steps that run on the whole state.
    let mut partial = vec![0.0; num_blocks * gl];
    for (way, group) in groups(plan.steps.iter().rev(), block_bits, n) {
        let step = group[0];
        match way {
            Split::Blocks(bits) => psi
                .par_chunks_mut(1 << bits)
                .zip(lam.par_chunks_mut(1 << bits))
                .zip(partial.par_chunks_mut(gl))
                .for_each(|((p, l), g)| {
                    for step in &group {
                        backward_step(isa, step, row, p, l, g);
                    }
                }),
            Split::Halves(bits) => {
                let (plo, phi) = psi.split_at_mut(1 << (n - 1));
                let (llo, lhi) = lam.split_at_mut(1 << (n - 1));
                plo.par_chunks_mut(1 << bits)
                    .zip(phi.par_chunks_mut(1 << bits))
                    .zip(llo.par_chunks_mut(1 << bits))
                    .zip(lhi.par_chunks_mut(1 << bits))
                    .zip(partial.par_chunks_mut(gl))
                    .for_each(|((((pl, ph), ll), lh), g)| {
                        backward_halves(isa, step, row, (pl, ph), (ll, lh), g)
                    });
            }
            Split::Whole => backward_step(isa, step, row, psi, lam, &mut partial[..gl]),
        }
    }
    for block in partial.chunks(gl) {
        for (g, b) in grads.iter_mut().zip(block) {
            *g += b;
        }
    }
}

fn forward_row<T: Real>(
    isa: Isa,
    plan: &Plan,
    row: &[f64],
    s: &mut Scratch<T>,
    values: &mut [f64],
) {
    forward_row_into(isa, plan, row, &mut s.psi, &mut s.string_values, values);
}

/// One row's forward pass into `psi` (a worker's scratch or a kept state's slot).
fn forward_row_into<T: Real>(
    isa: Isa,
    plan: &Plan,
    row: &[f64],
    psi: &mut [Amp<T>],
    string_values: &mut [f64],
    values: &mut [f64],
) {
    match isa {
        // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { forward_row_avx2(plan, row, psi, string_values, values) },
        Isa::Base => forward_row_impl(plan, row, psi, string_values, values),
    }
}

fn adjoint_row<T: Real>(
    isa: Isa,
    plan: &Plan,
    row: &[f64],
    upstream: &[f64],
    (s, kept): (&mut Scratch<T>, Option<&mut [Amp<T>]>),
    values: &mut [f64],
    grads: &mut [f64],
) {
    match isa {
        // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { adjoint_row_avx2(plan, row, upstream, (s, kept), values, grads) },
        Isa::Base => adjoint_row_impl(plan, row, upstream, (s, kept), values, grads),
    }
}

/// ⟨O_j⟩ for every occurrence row (`num_rows × n_obs`), rows in parallel, states of
/// precision `T`. With `keep` (a buffer from [`Kept::prepare`] for these rows), every row runs
/// in its own slot of it, and it is marked as holding the final states of `program` on `rows`
/// (for a following adjoint call, see `kept`).
pub fn fast_forward_rows<T: Real>(
    program: &Program,
    rows: &[f64],
    num_rows: usize,
    observables: &[Observable],
    options: &BatchConfig,
    keep: Option<&mut Kept<T>>,
) -> Result<Vec<f64>> {
    check_shapes(program, rows, num_rows, observables)?;
    let plan = Plan::new(program, observables);
    let (na, no) = (plan.num_angles, observables.len());
    let sub = sub_batch_rows::<T>(plan.num_qubits, 1, options)?.min(num_rows.max(1));
    let mut values = vec![0.0; num_rows * no];
    let isa = detect_isa();
    if let Some(kept) = keep {
        let len = 1usize << plan.num_qubits;
        // (`check_shapes` has checked that there is at least one observable.)
        values
            .par_chunks_mut(no)
            .zip(kept.states_mut().par_chunks_mut(len))
            .enumerate()
            .for_each_init(
                || vec![0.0; plan.strings.len()],
                |sv, (r, (v, psi))| {
                    let row = &rows[r * na..(r + 1) * na];
                    forward_row_into(isa, &plan, row, psi, sv, v);
                },
            );
        kept.fill(program, rows);
        return Ok(values);
    }
    // (Fewer rows than threads on a large state never come here: `CpuBackend` runs them
    // through a fast state, parallel inside the state.)
    if sub == 1 || rayon::current_num_threads() == 1 {
        // One row at a time: no hand-off to the pool.
        let mut s = Scratch::<T>::new(&plan, false);
        for (r, v) in values.chunks_mut(no).enumerate() {
            forward_row(isa, &plan, &rows[r * na..(r + 1) * na], &mut s, v);
        }
        return Ok(values);
    }
    let pool = Pool::<T> {
        free: Mutex::new(Vec::new()),
        plan: &plan,
        adjoint: false,
    };
    for (b, vals) in values.chunks_mut(sub * no).enumerate() {
        let first = b * sub;
        vals.par_chunks_mut(no).enumerate().for_each_init(
            || pool.lease(),
            |lease, (r, v)| {
                let row = &rows[(first + r) * na..(first + r + 1) * na];
                if let Some(s) = lease.scratch.as_mut() {
                    forward_row(isa, &plan, row, s, v);
                }
            },
        );
    }
    Ok(values)
}

/// Values (`num_rows × n_obs`) and dL/d(occurrence) (`num_rows × num_angles`) by the adjoint
/// method for `upstream` = dL/d⟨O_j⟩ (`num_rows × n_obs`), rows in parallel, ψ and λ of
/// precision `T`. With `kept` (the final states of these rows, `num_rows × 2^n` amplitudes,
/// which the caller has checked to be those of `program` on `rows`), the forward sweep is
/// skipped and the backward sweep runs on them in place.
pub fn fast_adjoint_rows<T: Real>(
    program: &Program,
    rows: &[f64],
    num_rows: usize,
    observables: &[Observable],
    upstream: &[f64],
    options: &BatchConfig,
    kept: Option<&mut [Amp<T>]>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    check_shapes(program, rows, num_rows, observables)?;
    crate::compile::program::check_upstream(upstream, num_rows, observables.len())?;
    let plan = Plan::new(program, observables);
    let (na, no) = (plan.num_angles, observables.len());
    // A zero-width gradient row still needs a chunk to pair with its values.
    let gs = na.max(1);
    let len = 1usize << plan.num_qubits;
    let kept = kept.filter(|k| k.len() == num_rows * len);
    // With kept states, each row holds λ only (ψ is kept).
    let states = if kept.is_some() { 1 } else { 2 };
    let sub = sub_batch_rows::<T>(plan.num_qubits, states, options)?.min(num_rows.max(1));
    let mut values = vec![0.0; num_rows * no];
    let mut grads = vec![0.0; num_rows * gs];
    let isa = detect_isa();
    let threads = rayon::current_num_threads();
    if threads > 1 && plan.num_qubits >= SPLIT_QUBITS && na > 0 {
        // Large states: split each over the threads, row after row (see SPLIT_QUBITS).
        let mut s = Scratch::<T>::new(&plan, true);
        let mut kept_rows = kept.map(|k| k.chunks_mut(len));
        for (r, (v, g)) in values.chunks_mut(no).zip(grads.chunks_mut(gs)).enumerate() {
            let row = &rows[r * na..(r + 1) * na];
            let up = &upstream[r * no..(r + 1) * no];
            let k = kept_rows.as_mut().and_then(|k| k.next());
            adjoint_row_split(isa, &plan, row, up, (&mut s, k), v, &mut g[..na]);
        }
    } else if sub == 1 || threads == 1 {
        // One row at a time: no hand-off to the pool.
        let mut s = Scratch::<T>::new(&plan, true);
        let mut kept_rows = kept.map(|k| k.chunks_mut(len));
        for (r, (v, g)) in values.chunks_mut(no).zip(grads.chunks_mut(gs)).enumerate() {
            let row = &rows[r * na..(r + 1) * na];
            let k = kept_rows.as_mut().and_then(|k| k.next());
            adjoint_row(
                isa,
                &plan,
                row,
                &upstream[r * no..(r + 1) * no],
                (&mut s, k),
                v,
                &mut g[..na],
            );
        }
    } else {
        adjoint_parallel::<T>(
            isa,
            &plan,
            (rows, upstream),
            sub,
            kept,
            &mut values,
            &mut grads,
        );
    }
    if na == 0 {
        grads.clear();
    }
    Ok((values, grads))
}

/// The rows of [`fast_adjoint_rows`] in parallel, `sub` rows at a time (with `kept`, the rows'
/// final states, all at once).
fn adjoint_parallel<T: Real>(
    isa: Isa,
    plan: &Plan,
    (rows, upstream): (&[f64], &[f64]),
    sub: usize,
    kept: Option<&mut [Amp<T>]>,
    values: &mut [f64],
    grads: &mut [f64],
) {
    let (na, no) = (plan.num_angles, plan.observables.len());
    let gs = na.max(1);
    let pool = Pool::<T> {
        free: Mutex::new(Vec::new()),
        plan,
        adjoint: true,
    };
    let run =
        |i: usize, s: &mut Scratch<T>, k: Option<&mut [Amp<T>]>, v: &mut [f64], g: &mut [f64]| {
            let row = &rows[i * na..(i + 1) * na];
            adjoint_row(
                isa,
                plan,
                row,
                &upstream[i * no..(i + 1) * no],
                (s, k),
                v,
                &mut g[..na],
            );
        };
    if let Some(kept) = kept {
        let len = 1usize << plan.num_qubits;
        values
            .par_chunks_mut(no)
            .zip(grads.par_chunks_mut(gs))
            .zip(kept.par_chunks_mut(len))
            .enumerate()
            .for_each_init(
                || pool.lease(),
                |lease, (i, ((v, g), k))| {
                    if let Some(s) = lease.scratch.as_mut() {
                        run(i, s, Some(k), v, g);
                    }
                },
            );
        return;
    }
    for (b, (vals, gr)) in values
        .chunks_mut(sub * no)
        .zip(grads.chunks_mut(sub * gs))
        .enumerate()
    {
        let first = b * sub;
        vals.par_chunks_mut(no)
            .zip(gr.par_chunks_mut(gs))
            .enumerate()
            .for_each_init(
                || pool.lease(),
                |lease, (r, (v, g))| {
                    if let Some(s) = lease.scratch.as_mut() {
                        run(first + r, s, None, v, g);
                    }
                },
            );
    }
}

/// The state after running `program` on one occurrence row through the batched path's
/// kernels in precision `T`, widened to f64 (for checking them against the reference).
#[cfg(test)]
pub(crate) fn fast_state<T: Real>(
    program: &Program,
    row: &[f64],
) -> Result<Vec<num_complex::Complex64>> {
    if row.len() != program.num_angles() {
        return Err(Error::InvalidArgument(format!(
            "the row has {} values, expected num_angles = {}",
            row.len(),
            program.num_angles()
        )));
    }
    let plan = Plan::new(program, &[]);
    sub_batch_rows::<T>(plan.num_qubits, 1, &BatchConfig::default())?;
    let mut s = Scratch::<T>::new(&plan, false);
    forward_row(detect_isa(), &plan, row, &mut s, &mut []);
    Ok(s.psi.into_iter().map(super::kernels::wide).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Angle, Circuit, GateKind};
    use crate::math::rng::Rng;

    /// The batched engine's state equals the reference state for every kind of the gate
    /// model, uncontrolled and controlled, with a one-qubit chain around it (the state is not
    /// visible through the public API, so this is the engine's own check), in f64 to f64
    /// rounding and in f32 to f32 rounding (a few roundings of 6e-8 per gate, 20 gates).
    #[test]
    fn every_kind_gives_the_reference_state() {
        every_kind_in::<f64>(1e-12);
        every_kind_in::<f32>(2e-6);
    }

    fn every_kind_in<T: Real>(tol: f64) {
        let mut k = 0;
        let kinds = GateKind::catalogue(|| {
            k += 1;
            Angle::theta(k % 3).times(0.9).plus(0.3)
        });
        for kind in kinds {
            let (targets, controls): (Vec<usize>, Vec<usize>) = if kind.num_targets() == 1 {
                (vec![1], vec![3])
            } else {
                (vec![2, 0], vec![3])
            };
            for controls in [Vec::new(), controls] {
                let mut c = Circuit::new(4).unwrap();
                for q in 0..4 {
                    c.ry(q, 0.4 + 0.3 * q as f64).unwrap().rz(q, 1.1).unwrap();
                }
                c.cnot(0, 1).unwrap().cnot(2, 3).unwrap();
                let gate = crate::circuit::Gate::controlled(kind.clone(), &controls, &targets);
                c.add(gate.clone()).unwrap();
                c.rx(1, 0.7).unwrap();
                c.declare_params(3);
                let program = Program::compile(&c);
                let row = crate::compile::program::Batch::shared(&[0.2, -1.4, 2.3], &[], 1)
                    .resolve(&program);
                let fast = fast_state::<T>(&program, &row).unwrap();
                let reference = crate::sim::reference::adjoint::run_row(&program, &row).unwrap();
                let d = fast
                    .iter()
                    .zip(reference.amps())
                    .map(|(a, b)| (a - b).norm())
                    .fold(0.0, f64::max);
                assert!(
                    d < tol,
                    "{:?} {}: max |Δψ| = {d:.3e}",
                    T::PRECISION,
                    gate.label()
                );
            }
        }
    }

    /// A circuit touching every kernel: chains, single gates, controls on low and high qubits.
    fn program() -> Program {
        let mut c = Circuit::new(6).unwrap();
        let t = |k: usize| Angle::theta(k);
        for q in 0..6 {
            c.h(q)
                .unwrap()
                .rx(q, t(q))
                .unwrap()
                .rz(q, t(q + 6))
                .unwrap();
        }
        c.cnot(0, 1)
            .unwrap()
            .cnot(5, 0)
            .unwrap()
            .ry(2, t(1))
            .unwrap()
            .u3(3, t(2), t(3), t(4))
            .unwrap()
            .phase(4, t(5))
            .unwrap();
        c.crx(1, 4, t(6))
            .unwrap()
            .cry(5, 2, t(7))
            .unwrap()
            .crz(0, 3, t(8))
            .unwrap()
            .cphase(2, 0, t(9))
            .unwrap();
        c.rzz(0, 5, t(10))
            .unwrap()
            .rxx(1, 3, t(11))
            .unwrap()
            .ryy(4, 2, t(0))
            .unwrap()
            .swap(0, 4)
            .unwrap()
            .toffoli(0, 1, 2)
            .unwrap();
        c.s(1)
            .unwrap()
            .t(3)
            .unwrap()
            .sx(0)
            .unwrap()
            .y(5)
            .unwrap()
            .cz(3, 1)
            .unwrap()
            .iswap(2, 5)
            .unwrap();
        c.multi_controlled(GateKind::U3(t(1), t(2), t(3)), &[0, 4], 1)
            .unwrap();
        Program::compile(&c)
    }

    /// Both instruction-set variants of the row passes agree with each other (to rounding of
    /// their own precision: FMA contracts differently) and with the reference, in f64 and f32.
    #[test]
    fn baseline_and_detected_instruction_sets_agree() {
        isa_variants_agree::<f64>(1e-12, 1e-10);
        isa_variants_agree::<f32>(1e-5, 1e-4);
    }

    fn isa_variants_agree<T: Real>(isa_tol: f64, reference_tol: f64) {
        let program = program();
        let obs = [
            Observable::parse("Z0 + 0.5 X1 Y2 - 0.3 Z3 Z5 + 0.2").unwrap(),
            Observable::y(4),
        ];
        let plan = Plan::new(&program, &obs);
        let mut rng = Rng::new(5);
        let row: Vec<f64> = (0..program.num_angles())
            .map(|_| rng.range(-3.0, 3.0))
            .collect();
        let upstream = [0.7, -1.3];
        let run = |isa: Isa| {
            let mut s = Scratch::<T>::new(&plan, true);
            let (mut v, mut g) = (vec![0.0; 2], vec![0.0; program.num_angles()]);
            adjoint_row(isa, &plan, &row, &upstream, (&mut s, None), &mut v, &mut g);
            let mut f = vec![0.0; 2];
            forward_row(isa, &plan, &row, &mut s, &mut f);
            (v, g, f)
        };
        let (base, detected) = (run(Isa::Base), run(detect_isa()));
        let (rv, rg) = crate::sim::reference::adjoint::reference_adjoint_rows(
            &program, &row, 1, &obs, &upstream,
        )
        .unwrap();
        for (a, b) in base
            .0
            .iter()
            .chain(&base.1)
            .chain(&base.2)
            .zip(detected.0.iter().chain(&detected.1).chain(&detected.2))
        {
            assert!((a - b).abs() < isa_tol, "{a} vs {b}");
        }
        for (a, b) in rv.iter().chain(&rg).zip(base.0.iter().chain(&base.1)) {
            assert!((a - b).abs() < reference_tol, "{a} vs {b}");
        }
    }
}

#[cfg(test)]
mod split_tests {
    use super::*;
    use crate::circuit::{Angle, Circuit};

    /// A 16-qubit program whose steps take every way of the split sweep: chains below the
    /// block size, chains and CNOTs on qubits 13–14 (larger blocks) and on the top qubit 15
    /// (chains and a CNOT onto it: matching chunks of the halves; CNOTs controlled by it: the
    /// whole state), with every derivative
    /// form of a chain (RX, RY, RZ, Phase, U3, fixed gates).
    fn program() -> Program {
        let mut c = Circuit::new(16).unwrap();
        let t = Angle::theta;
        for q in [0, 6, 12, 13, 14, 15] {
            c.h(q).unwrap().rx(q, t(q % 4)).unwrap();
            c.u3(q, t(1), t(2).times(0.5), t(3)).unwrap();
            c.rz(q, t(0).plus(0.3)).unwrap();
        }
        // A fused run of permutation gates (low bits: blocks of 2^6), with a gate joining the
        // open chain of qubit 12 while the run is open, then a gate on a qubit the run touched
        // (it must not join qubit 0's chain from before the run).
        c.cnot(0, 1)
            .unwrap()
            .ry(12, t(1))
            .unwrap()
            .cnot(1, 2)
            .unwrap();
        c.swap(3, 4)
            .unwrap()
            .ccx(0, 1, 5)
            .unwrap()
            .rx(0, t(2))
            .unwrap();
        c.cnot(15, 3).unwrap().cnot(2, 15).unwrap();
        c.cnot(14, 13).unwrap().cnot(13, 6).unwrap();
        for q in [12, 13, 14, 15] {
            c.ry(q, t(1)).unwrap().phase(q, t(2)).unwrap().s(q).unwrap();
        }
        c.cnot(15, 14).unwrap();
        c.declare_params(4);
        Program::compile(&c)
    }

    /// The split sweep (forward and backward) equals the reference's values and derivatives
    /// for 2 and 3 threads (block sizes 2^13 and 2^12), in f64 and f32, and so does the
    /// one-thread tiled row pass; the program is checked to take the larger blocks and the
    /// halves and to hold a fused permutation run.
    #[test]
    fn split_sweep_matches_the_reference_on_the_top_qubits() {
        split_sweep_in::<f64>(1e-10);
        split_sweep_in::<f32>(2e-4);
    }

    fn split_sweep_in<T: Real>(tol: f64) {
        let program = program();
        let obs = [
            Observable::parse("Z15 + 0.5 X14 Y0 - 0.3 Z13 X6").unwrap(),
            Observable::x(15),
        ];
        let plan = Plan::new(&program, &obs);
        let row = crate::compile::program::Batch::shared(&[0.4, -1.2, 2.1, 0.8], &[], 1)
            .resolve(&program);
        let upstream = [0.9, -1.4];
        let (want_v, want_g) = crate::sim::reference::adjoint::reference_adjoint_rows(
            &program, &row, 1, &obs, &upstream,
        )
        .unwrap();
        assert!(
            plan.steps.iter().any(|s| matches!(s, Step::Permute(_))),
            "the program has a fused permutation run"
        );
        // One thread: the row passes run tile by tile (2^13 amplitudes).
        let mut s = Scratch::<T>::new(&plan, true);
        let (mut v, mut g) = (vec![0.0; 2], vec![0.0; program.num_angles()]);
        let isa = detect_isa();
        adjoint_row(isa, &plan, &row, &upstream, (&mut s, None), &mut v, &mut g);
        for (a, b) in want_v.iter().chain(&want_g).zip(v.iter().chain(&g)) {
            assert!((a - b).abs() < tol, "{:?}, tiled: {a} vs {b}", T::PRECISION);
        }
        for threads in [2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (v, g, ways) = pool.install(|| {
                let bb = split_block_bits(plan.num_qubits);
                let ways: Vec<Split> = plan
                    .steps
                    .iter()
                    .map(|s| split_of(s, bb, plan.num_qubits))
                    .collect();
                let mut s = Scratch::<T>::new(&plan, true);
                let (mut v, mut g) = (vec![0.0; 2], vec![0.0; program.num_angles()]);
                adjoint_row_split(
                    detect_isa(),
                    &plan,
                    &row,
                    &upstream,
                    (&mut s, None),
                    &mut v,
                    &mut g,
                );
                (v, g, (bb, ways))
            });
            let (bb, ways) = ways;
            assert!(ways.contains(&Split::Halves(bb)), "{ways:?}");
            assert!(ways.contains(&Split::Blocks(bb)), "{ways:?}");
            assert!(ways
                .iter()
                .any(|w| matches!(w, Split::Blocks(b) if *b > bb)));
            assert!(ways.contains(&Split::Whole), "{ways:?}");
            for (a, b) in want_v.iter().chain(&want_g).zip(v.iter().chain(&g)) {
                assert!(
                    (a - b).abs() < tol,
                    "{:?}, {threads} threads: {a} vs {b}",
                    T::PRECISION
                );
            }
        }
    }
}
