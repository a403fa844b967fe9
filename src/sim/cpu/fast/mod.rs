//! The fast CPU state: amplitudes in `f32` or `f64` ([`Real`]), gates fused and run tile by tile
//! with specialised, vectorised kernels, tiles in parallel on rayon's pool.
//!
//! An `apply` binds every gate, fuses one-qubit chains (and, if configured, dense blocks via
//! `compile::fusion`), classifies each op by its matrix (diagonal, X, SWAP, real, RX-like,
//! general; a general one-qubit matrix whose Euler angles allow it becomes a real rotation and
//! a diagonal), and splits the ops into passes over cache-sized tiles (see `plan`): a pass
//! brings each tile into cache once and runs all its ops on it there. Diagonals are merged into
//! one product per pass, and the permutations (X, CNOT, SWAP) and the diagonal at the end of a
//! pass whose tiles are copied are applied while the tile is written back (see `exec`). Reads
//! (amplitudes, probabilities, marginals, expectations, sampling) work on the state in place,
//! in parallel, accumulating in `f64`.
//!
//! Cost model behind the choices (x86-64, AVX2): a kernel sweep over a cached tile is bound by
//! arithmetic and the store of every amplitude (a real rotation costs about as much as a swap),
//! so the wins are fewer sweeps per gate (merged chains, diagonals and folded permutations) and
//! fewer trips to memory (tiles); dense blocks of 2+ qubits cost more arithmetic than the
//! sweeps they save.

mod exec;
mod kern;
mod plan;

use crate::backend::{
    check_amplitudes, check_marginal_qubits, check_shots, marginalize, Precision, QuantumState,
};
use crate::circuit::{Bindings, Circuit, Observable, Pauli, MAX_QUBITS};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::sim::cpu::real::Real;
use exec::{detect_isa, Layout, Pass, Scratch, SuffixTables};
use kern::{Lanes, BLOCK_QUBITS, MAX_DENSE, N};
use num_complex::Complex64;
use plan::Fold;
use rayon::prelude::*;

/// Tuning of the fast CPU backend and its states (see [`crate::CpuBackend::with_config`]).
/// The defaults are measured on x86-64; every setting gives the same results up to rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CpuConfig {
    /// Amplitude precision.
    pub precision: Precision,
    /// Qubits per tile: a pass runs its gates tile by tile while a tile of 2^b amplitudes sits
    /// in the L2 cache. `None`: 15 in single, 14 in double precision (256 KiB). At least
    /// `min_run_qubits` plus the widest fused block (2 without dense fusion).
    pub tile_qubits: Option<usize>,
    /// A gathered tile is made of runs of at least 2^this consecutive amplitudes (≥ 3).
    pub min_run_qubits: usize,
    /// Fuse neighbouring gates into dense blocks of up to this many qubits (at most 4) with
    /// the shared fusion pass (`compile::fusion`). 1 (the default) fuses only consecutive one-qubit gates on
    /// the same qubit, which never costs more work: on a CPU a pass is bound by its arithmetic
    /// and cache traffic, and a dense 2^k block costs 2^(k−1) times a one-qubit gate's
    /// arithmetic, more than the passes it saves (2 and 3 measured slower on every benchmark
    /// workload; `benches/RESULTS.md`).
    pub fusion_qubits: usize,
    /// States of at least this many qubits run their tiles in parallel.
    pub parallel_qubits: usize,
    /// Bytes a state (and a sample's outcome list) may take; `None` (the default): a quarter
    /// of the host's available memory, the rule of the batched path
    /// ([`crate::BatchConfig::memory_budget`]). A state over it is an
    /// [`Error::OutOfDeviceMemory`] before anything is allocated.
    pub memory_budget: Option<u64>,
}

impl Default for CpuConfig {
    fn default() -> Self {
        CpuConfig {
            precision: Precision::F64,
            tile_qubits: None,
            min_run_qubits: 4,
            fusion_qubits: 1,
            parallel_qubits: 14,
            memory_budget: None,
        }
    }
}

setters!(CpuConfig {
    precision: Precision,
    tile_qubits: Option<usize>,
    min_run_qubits: usize,
    fusion_qubits: usize,
    parallel_qubits: usize,
    memory_budget: Option<u64>,
});

impl CpuConfig {
    /// The defaults at `precision`.
    pub fn with_precision(precision: Precision) -> Self {
        CpuConfig {
            precision,
            ..Default::default()
        }
    }

    /// The memory budget in bytes: [`CpuConfig::memory_budget`] or the default rule.
    pub(crate) fn budget(&self) -> u64 {
        self.memory_budget
            .unwrap_or_else(crate::sim::cpu::default_memory_budget)
    }

    fn fusion(&self) -> usize {
        self.fusion_qubits.clamp(1, MAX_DENSE)
    }

    fn min_run(&self) -> usize {
        self.min_run_qubits.clamp(BLOCK_QUBITS, 16)
    }

    /// Tile qubits: room for the widest op beside the minimum run.
    fn tile(&self) -> usize {
        let default = match self.precision {
            Precision::F32 => 15,
            Precision::F64 => 14,
        };
        self.tile_qubits
            .unwrap_or(default)
            .clamp(self.min_run() + self.fusion().max(2), 24)
    }
}

/// Bytes the host reports available (`MemAvailable`), 0 where unknown.
fn host_available_bytes() -> u64 {
    crate::math::host::available_bytes().unwrap_or(0)
}

/// An n-qubit state of the fast CPU backend, amplitudes stored as `T` (`f32` or `f64`).
#[derive(Clone, Debug)]
pub struct FastCpuState<T: Real> {
    num_qubits: usize,
    /// Interleaved (re, im) lanes of max(2^n, 8) amplitudes (states below 3 qubits are padded
    /// with zeros so that every kernel sees whole blocks), 64-byte aligned.
    amps: Lanes<T>,
    config: CpuConfig,
    /// Tile buffers of gathered passes, kept across applies.
    scratch: Scratch<T>,
}

impl<T: Real> FastCpuState<T> {
    fn allocate(num_qubits: usize, config: CpuConfig, budget: u64) -> Result<Self> {
        if num_qubits == 0 || num_qubits > MAX_QUBITS {
            return Err(Error::UnsupportedQubitCount {
                num_qubits,
                max: MAX_QUBITS,
            });
        }
        let len = 2usize << num_qubits.max(BLOCK_QUBITS);
        let needed = (len * std::mem::size_of::<T>()) as u64;
        crate::backend::check_budget(needed, budget)?;
        let amps = Lanes::zeros(len).ok_or_else(|| Error::OutOfDeviceMemory {
            needed,
            available: host_available_bytes(),
        })?;
        Ok(FastCpuState {
            num_qubits,
            amps,
            config,
            scratch: Scratch::default(),
        })
    }

    /// |0…0⟩ on `num_qubits` qubits.
    pub fn zero(num_qubits: usize, config: CpuConfig) -> Result<Self> {
        Self::zero_within(num_qubits, config, config.budget())
    }

    /// |0…0⟩ within `budget` bytes instead of the configuration's (for a batched call whose
    /// [`crate::BatchConfig::memory_budget`] governs).
    pub(crate) fn zero_within(num_qubits: usize, config: CpuConfig, budget: u64) -> Result<Self> {
        let mut s = Self::allocate(num_qubits, config, budget)?;
        s.amps.as_mut_slice()[0] = T::ONE;
        Ok(s)
    }

    /// A state holding `amplitudes` (length 2^n, normalised within 1e-6), rounded to `T`.
    pub fn from_amplitudes(amplitudes: &[Complex64], config: CpuConfig) -> Result<Self> {
        let n = check_amplitudes(amplitudes)?;
        let mut s = Self::allocate(n, config, config.budget())?;
        for (lanes, a) in s.amps.as_mut_slice().chunks_exact_mut(2).zip(amplitudes) {
            lanes[0] = T::from_f64(a.re);
            lanes[1] = T::from_f64(a.im);
        }
        Ok(s)
    }

    /// Resets to |0…0⟩.
    pub fn reset(&mut self) {
        let parallel = self.parallel();
        let lanes = self.amps.as_mut_slice();
        if parallel {
            lanes.par_chunks_mut(1 << 16).for_each(|c| c.fill(T::ZERO));
        } else {
            lanes.fill(T::ZERO);
        }
        lanes[0] = T::ONE;
    }

    /// The configuration the state runs with.
    pub fn config(&self) -> &CpuConfig {
        &self.config
    }

    /// Qubits the kernels see (at least 3, see `amps`).
    fn kernel_qubits(&self) -> usize {
        self.num_qubits.max(BLOCK_QUBITS)
    }

    /// The lanes of the 2^n real amplitudes (without padding).
    fn lanes(&self) -> &[T] {
        &self.amps.as_slice()[..2usize << self.num_qubits]
    }

    fn parallel(&self) -> bool {
        self.num_qubits >= self.config.parallel_qubits && rayon::current_num_threads() > 1
    }

    /// Amplitudes per parallel job of a read.
    fn read_chunk(&self) -> usize {
        1usize << self.num_qubits.min(14)
    }

    /// ⟨ψ|P|ψ⟩ for one Pauli string given as masks: `(Pψ)[i] = i^{#Y}·(−1)^{|(i⊕x)∧z|}·ψ[i⊕x]`.
    fn pauli(&self, x: usize, z: usize, num_y: usize) -> f64 {
        let lanes = self.lanes();
        let chunk = self.read_chunk();
        let parallel = self.parallel();
        if x == 0 {
            // Σ |ψ_i|² (−1)^{|i∧z|}: block partial sums in T, added up in f64.
            let mut lane_sign = [T::ZERO; N];
            for (k, s) in lane_sign.iter_mut().enumerate() {
                *s = if ((k / 2) & z).count_ones() & 1 == 0 {
                    T::ONE
                } else {
                    -T::ONE
                };
            }
            let block_sum = |(c, part): (usize, &[T])| -> f64 {
                let first = c * chunk;
                let mut acc = 0.0;
                if part.len() < N {
                    for (j, a) in part.chunks_exact(2).enumerate() {
                        let p = a[0].to_f64() * a[0].to_f64() + a[1].to_f64() * a[1].to_f64();
                        acc += if ((first + j) & z).count_ones() & 1 == 0 {
                            p
                        } else {
                            -p
                        };
                    }
                    return acc;
                }
                for (bl, v) in part.chunks_exact(N).enumerate() {
                    let mut s = T::ZERO;
                    for k in 0..N {
                        s += lane_sign[k] * v[k] * v[k];
                    }
                    let sign = ((first + bl * (N / 2)) & z & !((N / 2) - 1)).count_ones() % 2;
                    acc += if sign == 0 { s.to_f64() } else { -s.to_f64() };
                }
                acc
            };
            return if parallel {
                lanes.par_chunks(2 * chunk).enumerate().map(block_sum).sum()
            } else {
                lanes.chunks(2 * chunk).enumerate().map(block_sum).sum()
            };
        }
        let term = |(c, part): (usize, &[T])| -> Complex64 {
            let first = c * chunk;
            let mut acc = Complex64::new(0.0, 0.0);
            for (o, a) in part.chunks_exact(2).enumerate() {
                let j = (first + o) ^ x;
                let b = Complex64::new(lanes[2 * j].to_f64(), lanes[2 * j + 1].to_f64());
                let b = if (j & z).count_ones() & 1 == 0 { b } else { -b };
                acc += Complex64::new(a[0].to_f64(), -a[1].to_f64()) * b;
            }
            acc
        };
        let sum: Complex64 = if parallel {
            lanes.par_chunks(2 * chunk).enumerate().map(term).sum()
        } else {
            lanes.chunks(2 * chunk).enumerate().map(term).sum()
        };
        let phase = match num_y % 4 {
            0 => Complex64::new(1.0, 0.0),
            1 => Complex64::new(0.0, 1.0),
            2 => Complex64::new(-1.0, 0.0),
            _ => Complex64::new(0.0, -1.0),
        };
        (phase * sum).re
    }

    /// |ψ_i|² for the amplitudes of `part` (lanes).
    fn probs_into(part: &[T], out: &mut [f64]) {
        for (o, a) in out.iter_mut().zip(part.chunks_exact(2)) {
            *o = a[0].to_f64() * a[0].to_f64() + a[1].to_f64() * a[1].to_f64();
        }
    }
}

impl<T: Real> QuantumState for FastCpuState<T> {
    fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    fn apply(&mut self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<()> {
        circuit.check_applicable(self.num_qubits, bindings)?;
        let ops = plan::bind(circuit.gates(), bindings, self.config.fusion());
        if ops.is_empty() {
            return Ok(());
        }
        let (n, b) = (self.kernel_qubits(), self.config.tile());
        let local = n.min(b);
        let (isa, parallel) = (detect_isa(), self.parallel());
        if n > b {
            let threads = if parallel {
                rayon::current_num_threads()
            } else {
                1
            };
            if !self.scratch.ensure(threads, 2usize << b) {
                let needed = (threads * (2usize << b) * std::mem::size_of::<T>()) as u64;
                return Err(Error::OutOfDeviceMemory {
                    needed,
                    available: host_available_bytes(),
                });
            }
        }
        for spec in plan::schedule(&ops, n, b, self.config.min_run()) {
            // A contiguous pass works in place; folding its permutations costs a copy of each
            // tile, which pays from about three of them. Gathered tiles are copied anyway.
            let fold = if n <= b {
                Fold::Never
            } else if spec.high.is_empty() {
                Fold::AtLeast(3)
            } else {
                Fold::Always
            };
            let pk = plan::kernels::<T>(&ops, &spec, local, fold);
            let layout = Layout::new(&spec, n, b, pk.suffix.is_some());
            let pass = Pass {
                layout,
                kerns: pk.kerns,
                suffix: pk.suffix.map(|s| SuffixTables::new(s, local)),
            };
            pass.run(isa, self.amps.as_mut_slice(), n, parallel, &self.scratch);
        }
        Ok(())
    }

    fn amplitudes(&self) -> Result<Vec<Complex64>> {
        Ok(self
            .lanes()
            .chunks_exact(2)
            .map(|a| Complex64::new(a[0].to_f64(), a[1].to_f64()))
            .collect())
    }

    fn probabilities(&self) -> Result<Vec<f64>> {
        let mut out = vec![0.0; 1usize << self.num_qubits];
        let chunk = self.read_chunk();
        if self.parallel() {
            out.par_chunks_mut(chunk)
                .zip(self.lanes().par_chunks(2 * chunk))
                .for_each(|(o, p)| Self::probs_into(p, o));
        } else {
            Self::probs_into(self.lanes(), &mut out);
        }
        Ok(out)
    }

    fn marginal_probabilities(&self, qubits: &[usize]) -> Result<Vec<f64>> {
        check_marginal_qubits(qubits, self.num_qubits)?;
        if qubits.len() > 12 {
            return Ok(marginalize(&self.probabilities()?, qubits));
        }
        let size = 1usize << qubits.len();
        let chunk = self.read_chunk();
        let fold = |(c, part): (usize, &[T])| -> Vec<f64> {
            let mut acc = vec![0.0; size];
            for (o, a) in part.chunks_exact(2).enumerate() {
                let i = c * chunk + o;
                let idx = qubits
                    .iter()
                    .enumerate()
                    .fold(0, |m, (j, &q)| m | (i >> q & 1) << j);
                acc[idx] += a[0].to_f64() * a[0].to_f64() + a[1].to_f64() * a[1].to_f64();
            }
            acc
        };
        let add = |mut a: Vec<f64>, b: Vec<f64>| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
            a
        };
        Ok(if self.parallel() {
            self.lanes()
                .par_chunks(2 * chunk)
                .enumerate()
                .map(fold)
                .reduce(|| vec![0.0; size], add)
        } else {
            self.lanes()
                .chunks(2 * chunk)
                .enumerate()
                .map(fold)
                .fold(vec![0.0; size], add)
        })
    }

    /// Each Pauli string is evaluated in place (no copy of the state).
    fn expectation(&self, observable: &Observable) -> Result<f64> {
        observable.validate(self.num_qubits)?;
        Ok(observable
            .terms
            .iter()
            .map(|t| {
                let num_y = t.ops.iter().filter(|(_, p)| *p == Pauli::Y).count();
                t.coeff * self.pauli(t.x_mask() as usize, t.z_mask() as usize, num_y)
            })
            .sum())
    }

    /// Inverse-transform sampling like the reference (same uniforms for a seed), through
    /// per-block partial sums instead of a full CDF: O(2^n + shots · (log shots + block)).
    fn sample(&self, shots: usize, seed: u64) -> Result<Vec<u64>> {
        check_shots(shots, self.config.budget())?;
        let lanes = self.lanes();
        let block = 1usize << self.num_qubits.min(10);
        let sum_block = |part: &[T]| {
            part.chunks_exact(2).fold(0.0, |acc, a| {
                acc + a[0].to_f64() * a[0].to_f64() + a[1].to_f64() * a[1].to_f64()
            })
        };
        let sums: Vec<f64> = if self.parallel() {
            lanes.par_chunks(2 * block).map(sum_block).collect()
        } else {
            lanes.chunks(2 * block).map(sum_block).collect()
        };
        let mut cdf = Vec::with_capacity(sums.len());
        let mut acc = 0.0;
        for s in &sums {
            acc += s;
            cdf.push(acc);
        }
        let total = acc;
        let mut rng = Rng::new(seed);
        let mut targets: Vec<(f64, usize)> =
            (0..shots).map(|k| (rng.uniform() * total, k)).collect();
        targets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = vec![0u64; shots];
        for (t, k) in targets {
            let bl = cdf.partition_point(|&c| c <= t).min(cdf.len() - 1);
            let local = t - if bl == 0 { 0.0 } else { cdf[bl - 1] };
            let first = bl * block;
            let mut acc = 0.0;
            let mut found = None;
            let mut last_nonzero = first;
            for (o, a) in lanes[2 * first..2 * (first + block)]
                .chunks_exact(2)
                .enumerate()
            {
                let p = a[0].to_f64() * a[0].to_f64() + a[1].to_f64() * a[1].to_f64();
                if p > 0.0 {
                    last_nonzero = first + o;
                }
                acc += p;
                if acc > local {
                    found = Some(first + o);
                    break;
                }
            }
            out[k] = found.unwrap_or(last_nonzero) as u64;
        }
        Ok(out)
    }
}
