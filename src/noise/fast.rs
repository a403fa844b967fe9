//! The fused trajectory engine: a [`NoisyCircuit`] and its bindings compiled once into a
//! [`TrajectoryPlan`], then run trajectory by trajectory on the fast CPU engine's vectorised
//! kernels (`crate::sim::cpu::kernels`) in precision `T` (`f32` or `f64`).
//!
//! Per trajectory, every qubit carries a *pending* 2×2 matrix that is not yet applied to the
//! stored state: one-qubit gates, the sampled unitaries of unitary-mixture channels (drawn from
//! their fixed probabilities without touching the state) and the chosen Kraus operators of
//! one-qubit channels are multiplied into it (a product of 2×2s need not be unitary), and it is
//! applied in one pass only when a multi-qubit operation touches the qubit, or before another
//! qubit's channel needs its probabilities (see below), or at the end. The true (unnormalised)
//! state is always `(⊗_q pending_q)·ψ_stored`.
//!
//! The norm method without extra passes over the Kraus operators: for a one-qubit channel on
//! qubit `q`, ‖K_i ψ‖² = tr(K_i†K_i · B) where B = Σ (ψ₀, ψ₁)(ψ₀, ψ₁)† is the qubit's 2×2
//! reduced block of the true state. B = A·W·A† for the pending A of `q` and the block W of the
//! stored state, which one read-only pass gives (`simd`) — provided the pending matrices of
//! the other qubits are unitary (they then leave the block unchanged). So the qubits whose
//! pending matrix may be non-unitary (the *dirty* ones) are applied before another qubit's
//! block is read. Probabilities are p_i = tr(K_i†K_i B) / tr(B), and the chosen K_i is folded
//! in as K_i / √(p_i·tr B), which brings the true state's squared norm back to 1 (no
//! renormalisation pass, no underflow in f32); expectations are divided by the final squared
//! norm.
//!
//! Most draws need no read at all: the first operator of the norm stage (e.g. amplitude
//! damping's K0) has weight tr(K†K·B)/tr(B) ≥ λ_min(K†K) whatever the state, so a draw below
//! the fixed-probability sum plus that bound picks it without reading the state — exactly the
//! choice the weights would make. Two-qubit channels that are not unitary mixtures use the 4×4
//! block in the same way as one-qubit ones (always read); two-qubit unitary mixtures whose
//! unitaries are Kronecker products (the Pauli strings of two-qubit depolarizing) fold their
//! factors into the two qubits' pending matrices.
//!
//! Random draws: one uniform number per channel, in circuit order, from trajectory `t`'s stream
//! seeded by `(seed, t)`: the same draws as the generic engine, so a trajectory takes the same
//! branches in both (up to rounding at a branch boundary).

use super::kernel::{fixed_probabilities, is_identity};
use super::model::{NoisyCircuit, NoisyOp};
use super::simd::BlockSums;
use crate::circuit::{Bindings, GateClass, Observable, Permutation};
use crate::error::{Error, Result};
use crate::math::isa::{detect_isa, Isa};
use crate::math::linalg::{dagger2, matmul2};
use crate::math::rng::Rng;
use crate::sim::cpu::kernels::{
    aadd, amp, amul, mat2, pairs, pauli_expectation, quads, scale, swap_pairs, Amp, PairKernel,
    PauliMasks, Walk,
};
use crate::sim::cpu::lower::lower_observables;
use crate::sim::cpu::Real;
use num_complex::Complex64 as C;

/// A 2×2 complex matrix, row-major.
type M2 = [C; 4];
/// A 4×4 complex matrix, row-major (bit 0 of the index ↔ the first qubit).
type M4 = [C; 16];

/// K†K.
fn gram(k: &[C]) -> Vec<C> {
    crate::math::linalg::matmul(&crate::math::linalg::dagger(k), k)
}

/// tr(G·B) for square row-major G, B of the same side (real for Hermitian G, B).
fn trace_product(g: &[C], b: &[C]) -> f64 {
    let d = crate::math::linalg::side(g.len());
    let mut t = 0.0;
    for r in 0..d {
        for c in 0..d {
            t += (g[r * d + c] * b[c * d + r]).re;
        }
    }
    t
}

/// The smallest eigenvalue of a Hermitian 2×2 (clamped at 0 for a positive semidefinite one).
fn smallest_eigenvalue(g: &M2) -> f64 {
    let (a, d) = (g[0].re, g[3].re);
    let mean = 0.5 * (a + d);
    let radius = (0.25 * (a - d) * (a - d) + g[1].norm_sqr()).sqrt();
    (mean - radius).max(0.0)
}

/// `m` as a 2×2 array (the caller has checked the length).
fn m2(m: &[C]) -> M2 {
    [m[0], m[1], m[2], m[3]]
}

/// `m` as a 4×4 array (the caller has checked the length).
fn m4(m: &[C]) -> M4 {
    let mut out = [C::ZERO; 16];
    out.copy_from_slice(&m[..16]);
    out
}

/// `(a, b)` with `m = b ⊗ a` (a on the first qubit, b on the second) when the 4×4 `m` is such
/// a Kronecker product within 1e-12.
fn factor(m: &M4) -> Option<(M2, M2)> {
    let pivot = (0..16).max_by(|&i, &j| m[i].norm().total_cmp(&m[j].norm()))?;
    let (r0, c0) = (pivot / 4, pivot % 4);
    let top = m[pivot];
    if top.norm() == 0.0 {
        return None;
    }
    let mut a = [C::ZERO; 4];
    let mut b = [C::ZERO; 4];
    for r in 0..2 {
        for c in 0..2 {
            a[r * 2 + c] = m[((r0 & 2) | r) * 4 + ((c0 & 2) | c)];
            b[r * 2 + c] = m[((r << 1) | (r0 & 1)) * 4 + ((c << 1) | (c0 & 1))] / top;
        }
    }
    let ok = (0..16).all(|i| {
        let (r, c) = (i / 4, i % 4);
        let v = a[(r & 1) * 2 + (c & 1)] * b[(r >> 1) * 2 + (c >> 1)];
        (v - m[i]).norm() <= 1e-12
    });
    if !ok {
        return None;
    }
    // a = β·a₀ and b = b₀/β for any split; for a unitary m the factors are fixed up to a
    // phase when |β| = 1, which a 2×2 sub-block need not have (e.g. H ⊗ X: |β| = 1/√2).
    // Rescale so that a and b have the same norm (‖a‖²_F = ‖b‖²_F): both unitary when m is.
    let (na, nb) = (frobenius2(&a), frobenius2(&b));
    if na > 0.0 && nb > 0.0 {
        let s = (nb / na).sqrt().sqrt();
        a = a.map(|v| v * s);
        b = b.map(|v| v / s);
    }
    Some((a, b))
}

/// Σ |m_ij|².
fn frobenius2(m: &M2) -> f64 {
    m.iter().map(|v| v.norm_sqr()).sum()
}

/// What a two-qubit operator does when chosen.
#[derive(Clone, Debug)]
enum Apply2 {
    /// Nothing (the identity).
    Identity,
    /// `b ⊗ a`: `a` folds into the first qubit's pending matrix, `b` into the second's.
    Factors(M2, M2),
    /// A dense 4×4 (applied after the two qubits' pending matrices).
    Dense(M4),
}

impl Apply2 {
    fn of(m: &M4) -> Self {
        if is_identity(m) {
            Apply2::Identity
        } else if let Some((a, b)) = factor(m) {
            Apply2::Factors(a, b)
        } else {
            Apply2::Dense(*m)
        }
    }
}

/// One Kraus operator of a one-qubit channel.
#[derive(Clone, Debug)]
struct Kraus1 {
    /// `Some(p)` when K = √p·U: chosen with the fixed probability p, folding U.
    fixed: Option<f64>,
    /// U (fixed) or K (by the norm method).
    fold: M2,
    /// K†K (norm method).
    gram: M2,
    /// U is the identity.
    identity: bool,
    /// The smallest eigenvalue of K†K (norm method; 0 for fixed operators): a lower bound of
    /// tr(K†K·B)/tr(B) whatever the state.
    floor: f64,
}

/// One Kraus operator of a two-qubit channel.
#[derive(Clone, Debug)]
struct Kraus2 {
    fixed: Option<f64>,
    /// U (fixed) or K (by the norm method).
    apply: Apply2,
    /// K (norm method; applied as K / √p).
    matrix: M4,
    gram: M4,
}

/// The qubits of a two-qubit operation and its walk over their quads.
#[derive(Clone, Debug)]
struct Quad {
    q0: usize,
    q1: usize,
    walk: Walk,
}

impl Quad {
    fn new(q0: usize, q1: usize, ctrl: usize) -> Self {
        Quad {
            q0,
            q1,
            walk: Walk::new(ctrl | 1 << q0 | 1 << q1, ctrl),
        }
    }
}

/// One compiled operation.
#[derive(Clone, Debug)]
enum Op {
    /// A one-qubit matrix without controls: folded into the qubit's pending matrix.
    Fold { q: usize, m: M2 },
    /// A gate with controls or two targets, applied after the pending matrices of `touched`.
    Gate {
        touched: Vec<usize>,
        kernel: Box<Kernel>,
    },
    /// A one-qubit channel.
    Channel1 { q: usize, ops: Vec<Kraus1> },
    /// A two-qubit channel.
    Channel2 { quad: Quad, ops: Vec<Kraus2> },
}

/// How a multi-qubit gate runs.
#[derive(Clone, Debug)]
enum Kernel {
    /// X on `tbit` over the walk (controls).
    Flip { walk: Walk, tbit: usize },
    /// A phase on the walk's indices (target and controls all 1).
    Phase { walk: Walk, phase: C },
    /// A dense 2×2 on `tbit` over the walk (controls).
    Dense1 { walk: Walk, tbit: usize, m: M2 },
    /// A dense 4×4 on a quad walk.
    Dense2 { quad: Quad, m: M4 },
}

/// A noisy circuit with its bindings and observables, compiled once for the fused engine.
#[derive(Clone, Debug)]
pub(crate) struct TrajectoryPlan {
    num_qubits: usize,
    ops: Vec<Op>,
    strings: Vec<PauliMasks>,
    observables: Vec<Vec<(usize, f64)>>,
}

fn kraus1(channel: &super::Channel) -> Vec<Kraus1> {
    let mut ops: Vec<Kraus1> = channel
        .kraus_operators()
        .iter()
        .zip(fixed_probabilities(channel))
        .map(|(k, fixed)| {
            let fold = match fixed {
                Some(p) => {
                    let s = 1.0 / p.sqrt();
                    m2(k).map(|v| v * s)
                }
                None => m2(k),
            };
            let gram = m2(&gram(k));
            Kraus1 {
                fixed,
                fold,
                gram,
                identity: fixed.is_some() && is_identity(&fold),
                floor: if fixed.is_some() {
                    0.0
                } else {
                    smallest_eigenvalue(&gram)
                },
            }
        })
        .collect();
    // Stage one of the norm method: the scaled unitaries, by their fixed probabilities.
    ops.sort_by_key(|k| k.fixed.is_none());
    ops
}

fn kraus2(channel: &super::Channel) -> Vec<Kraus2> {
    let mut ops: Vec<Kraus2> = channel
        .kraus_operators()
        .iter()
        .zip(fixed_probabilities(channel))
        .map(|(k, fixed)| {
            let matrix = m4(k);
            let apply = match fixed {
                Some(p) => Apply2::of(&matrix.map(|v| v / p.sqrt())),
                None => Apply2::Dense(matrix),
            };
            Kraus2 {
                fixed,
                apply,
                matrix,
                gram: m4(&gram(k)),
            }
        })
        .collect();
    ops.sort_by_key(|k| k.fixed.is_none());
    ops
}

impl TrajectoryPlan {
    /// Compiles `circuit` under `bindings` for `observables` (all already checked by the
    /// caller: bindings, qubit count, observables in range). Errors
    /// ([`Error::Unsupported`]) on a gate with more than two targets or a channel on more
    /// than two qubits, which the engine has no kernel for.
    pub(crate) fn new(
        circuit: &NoisyCircuit,
        bindings: &Bindings<'_>,
        observables: &[Observable],
    ) -> Result<Self> {
        let n = circuit.num_qubits();
        let gates = circuit.circuit().gates();
        let mut ops = Vec::new();
        for (index, op) in circuit.ops().iter().enumerate() {
            match op {
                NoisyOp::Gate(g) => {
                    let gate = gates.get(*g).ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "operation {index} names gate {g}, which the circuit lacks"
                        ))
                    })?;
                    let m = gate.bound_matrix(bindings);
                    let ctrl = gate.control_mask() as usize;
                    let class = GateClass::of_matrix(&m);
                    if class == GateClass::Identity {
                        continue;
                    }
                    let mut touched = gate.targets.clone();
                    touched.extend_from_slice(&gate.controls);
                    let kernel = match gate.targets[..] {
                        [q] if ctrl == 0 => {
                            ops.push(Op::Fold { q, m: m2(&m) });
                            continue;
                        }
                        [q] => {
                            let tbit = 1usize << q;
                            match class {
                                GateClass::Permutation(Permutation::Flip) => Kernel::Flip {
                                    walk: Walk::new(ctrl | tbit, ctrl),
                                    tbit,
                                },
                                GateClass::Phase => Kernel::Phase {
                                    walk: Walk::new(ctrl | tbit, ctrl | tbit),
                                    phase: m[3],
                                },
                                _ => Kernel::Dense1 {
                                    walk: Walk::new(ctrl | tbit, ctrl),
                                    tbit,
                                    m: m2(&m),
                                },
                            }
                        }
                        [q0, q1] => Kernel::Dense2 {
                            quad: Quad::new(q0, q1, ctrl),
                            m: m4(&m),
                        },
                        ref targets => {
                            return Err(Error::Unsupported(format!(
                                "operation {index} of the noisy circuit is a gate on {} \
                                 targets; trajectories run gates on one or two targets \
                                 (decompose it, or use noise::DensityMatrix)",
                                targets.len()
                            )))
                        }
                    };
                    ops.push(Op::Gate {
                        touched,
                        kernel: Box::new(kernel),
                    });
                }
                NoisyOp::Channel { channel, qubits } => match qubits[..] {
                    [q] => ops.push(Op::Channel1 {
                        q,
                        ops: kraus1(channel),
                    }),
                    [q0, q1] => ops.push(Op::Channel2 {
                        quad: Quad::new(q0, q1, 0),
                        ops: kraus2(channel),
                    }),
                    ref other => {
                        return Err(Error::Unsupported(format!(
                            "operation {index} of the noisy circuit is the {} channel on {} \
                             qubits; trajectories run channels on one or two qubits",
                            channel.name(),
                            other.len()
                        )))
                    }
                },
            }
        }
        let (strings, observables) = lower_observables(observables);
        Ok(TrajectoryPlan {
            num_qubits: n,
            ops,
            strings,
            observables,
        })
    }

    /// The number of amplitudes of a trajectory's state.
    pub(crate) fn dim(&self) -> usize {
        1usize << self.num_qubits
    }

    /// The number of observables.
    pub(crate) fn num_observables(&self) -> usize {
        self.observables.len()
    }
}

/// One worker's buffers, reused for every trajectory it runs.
pub(crate) struct Scratch<T> {
    psi: Vec<Amp<T>>,
    pending: Vec<Option<M2>>,
    string_values: Vec<f64>,
}

impl<T: Real> Scratch<T> {
    /// Buffers for `plan`'s trajectories.
    pub(crate) fn new(plan: &TrajectoryPlan) -> Self {
        Scratch {
            psi: vec![[T::ZERO; 2]; plan.dim()],
            pending: vec![None; plan.num_qubits],
            string_values: vec![0.0; plan.strings.len()],
        }
    }

    /// The squared norm of the stored state after the last trajectory (tests).
    #[cfg(test)]
    pub(crate) fn raw_norm2(&self) -> f64 {
        self.psi
            .iter()
            .map(|a| crate::sim::cpu::kernels::wide(*a).norm_sqr())
            .sum()
    }

    /// The state after the last trajectory, normalised, widened to f64 (tests).
    #[cfg(test)]
    pub(crate) fn normalised_state(&self) -> Vec<C> {
        let norm2: f64 = self
            .psi
            .iter()
            .map(|a| crate::sim::cpu::kernels::wide(*a).norm_sqr())
            .sum();
        let s = 1.0 / norm2.sqrt();
        self.psi
            .iter()
            .map(|a| crate::sim::cpu::kernels::wide(*a) * s)
            .collect()
    }
}

/// A dense 2×2 on pairs of blocks.
struct Dense<T>([Amp<T>; 4]);
impl<T: Real> PairKernel<T> for Dense<T> {
    #[inline(always)]
    fn pair<const N: usize>(&mut self, a: &mut [T; N], b: &mut [T; N]) {
        mat2(&self.0, a, b);
    }
}

/// W from the sums (Σ|a|², Σ|b|², Re Σ a·conj(b), Im Σ a·conj(b)).
#[inline(always)]
fn block_matrix([aa, bb, re, im]: [f64; 4]) -> M2 {
    let w01 = C::new(re, im);
    [C::new(aa, 0.0), w01, w01.conj(), C::new(bb, 0.0)]
}

/// Row `r` of the 4×4 `m` times `v`.
#[inline(always)]
fn row4<T: Real>(m: &[Amp<T>; 16], r: usize, v: &[Amp<T>; 4]) -> Amp<T> {
    let a = aadd(amul(m[4 * r], v[0]), amul(m[4 * r + 1], v[1]));
    aadd(aadd(a, amul(m[4 * r + 2], v[2])), amul(m[4 * r + 3], v[3]))
}

/// The 4×4 `m` on every quad of `quad`.
#[inline(always)]
fn apply4<T: Real>(psi: &mut [Amp<T>], quad: &Quad, m: &M4) {
    let m: [Amp<T>; 16] = m.map(amp);
    let len = psi.len();
    quads(psi, len, &quad.walk, 1 << quad.q0, 1 << quad.q1, |s, i| {
        let v = [s[i[0]], s[i[1]], s[i[2]], s[i[3]]];
        for r in 0..4 {
            s[i[r]] = row4(&m, r, &v);
        }
    });
}

/// The 4×4 block W = Σ v v† of the quads of `quad` (v = the four amplitudes), in f64.
#[inline(always)]
fn read_block4<T: Real>(psi: &mut [Amp<T>], quad: &Quad) -> M4 {
    let mut w = [C::ZERO; 16];
    let len = psi.len();
    quads(psi, len, &quad.walk, 1 << quad.q0, 1 << quad.q1, |s, i| {
        let v = i.map(|k| crate::sim::cpu::kernels::wide(s[k]));
        for r in 0..4 {
            for c in 0..4 {
                w[r * 4 + c] += v[r] * v[c].conj();
            }
        }
    });
    w
}

/// The running state of one trajectory: the stored state and the pending matrices.
struct Run<'a, T> {
    psi: &'a mut [Amp<T>],
    pending: &'a mut [Option<M2>],
    /// The qubits whose pending matrices may be non-unitary (bit q ↔ qubit q).
    dirty: u64,
    isa: Isa,
}

impl<T: BlockSums> Run<'_, T> {
    /// Multiplies `m` into qubit `q`'s pending matrix (m after it).
    #[inline(always)]
    fn fold(&mut self, q: usize, m: &M2) {
        self.pending[q] = Some(match &self.pending[q] {
            Some(p) => matmul2(m, p),
            None => *m,
        });
    }

    /// Applies qubit `q`'s pending matrix to the stored state.
    #[inline(always)]
    fn flush(&mut self, q: usize) {
        if let Some(m) = self.pending[q].take() {
            if !is_identity(&m) {
                T::apply_2x2(self.isa, self.psi.as_flattened_mut(), q, &m.map(amp::<T>));
            }
        }
        self.dirty &= !(1u64 << q);
    }

    /// Applies the pending matrices of the dirty qubits other than `keep`.
    #[inline(always)]
    fn clean_except(&mut self, keep: Option<usize>) {
        let keep_mask = keep.map_or(0, |q| 1u64 << q);
        let mut rest = self.dirty & !keep_mask;
        while rest != 0 {
            let d = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            self.flush(d);
        }
    }

    #[inline(always)]
    fn gate(&mut self, touched: &[usize], kernel: &Kernel) {
        for &q in touched {
            self.flush(q);
        }
        match kernel {
            Kernel::Flip { walk, tbit } => swap_pairs(self.psi, walk, *tbit),
            Kernel::Phase { walk, phase } => scale(self.psi, walk, amp(*phase)),
            Kernel::Dense1 { walk, tbit, m } => {
                pairs(self.psi, walk, *tbit, &mut Dense(m.map(amp::<T>)))
            }
            Kernel::Dense2 { quad, m } => apply4(self.psi, quad, m),
        }
    }

    /// Samples a one-qubit channel on `q` with the draw `r`.
    #[inline(always)]
    fn channel1(&mut self, q: usize, ops: &[Kraus1], r: f64) {
        // The true state's block on q: B = A·W·A† with W read only when needed.
        let mut block: Option<(M2, f64)> = None;
        let mut cumulative = 0.0;
        let mut chosen = None;
        for (i, k) in ops.iter().enumerate() {
            let w = match k.fixed {
                Some(p) => p,
                None => {
                    // The first norm-method operator: its weight is at least its floor, so a
                    // draw below cumulative + floor picks it without reading the state (the
                    // choice the exact weights would make; the margin covers their rounding).
                    // Its 1/√w scale is left out; the final division by the norm absorbs it, and
                    // the next read renormalises. (Between reads the squared norm stays above
                    // the product of the floors of the operators picked this way, and k picks
                    // in a row happen with probability Π floor: a norm reaching f32's
                    // subnormal range would take an event of probability < 1e-38.)
                    if block.is_none() && r < cumulative + k.floor * (1.0 - 1e-9) - 1e-12 {
                        self.fold(q, &k.fold);
                        self.dirty |= 1u64 << q;
                        return;
                    }
                    // (Not `get_or_insert_with`: a closure call there would leave the pass
                    // outside the AVX2 variant.)
                    let (b, tr) = match block {
                        Some(bt) => bt,
                        None => {
                            let bt = self.block(q);
                            block = Some(bt);
                            bt
                        }
                    };
                    if tr > 0.0 {
                        trace_product(&k.gram, &b) / tr
                    } else {
                        0.0
                    }
                }
            };
            if w > 0.0 {
                cumulative += w;
                chosen = Some((i, w));
                if r < cumulative {
                    break;
                }
            }
        }
        // Rounding can leave r just above Σ p_i: then the last operator with weight.
        if let Some((i, w)) = chosen {
            let k = &ops[i];
            if k.fixed.is_some() {
                if !k.identity {
                    self.fold(q, &k.fold);
                }
            } else {
                // K/√(w·tr B) brings the squared norm from tr B back to 1.
                let tr = block.map_or(1.0, |(_, tr)| tr);
                let s = 1.0 / (w * tr).sqrt();
                self.fold(q, &k.fold.map(|v| v * s));
                self.dirty |= 1u64 << q;
            }
        }
    }

    /// (B, tr B) of qubit `q` of the true state; makes every other qubit's pending matrix
    /// unitary first.
    #[inline(always)]
    fn block(&mut self, q: usize) -> (M2, f64) {
        self.clean_except(Some(q));
        let w = block_matrix(T::block_sums(self.isa, self.psi.as_flattened(), q));
        let b = match &self.pending[q] {
            Some(a) => matmul2(&matmul2(a, &w), &dagger2(a)),
            None => w,
        };
        let tr = b[0].re + b[3].re;
        (b, tr)
    }

    /// Samples a two-qubit channel with the draw `r`.
    #[inline(always)]
    fn channel2(&mut self, quad: &Quad, ops: &[Kraus2], r: f64) {
        let mut block: Option<(M4, f64)> = None;
        let mut cumulative = 0.0;
        let mut chosen = None;
        for (i, k) in ops.iter().enumerate() {
            let w = match k.fixed {
                Some(p) => p,
                None => {
                    let (b, tr) = match block {
                        Some(bt) => bt,
                        None => {
                            self.clean_except(None);
                            self.flush(quad.q0);
                            self.flush(quad.q1);
                            let b = read_block4(self.psi, quad);
                            let tr = (0..4).map(|j| b[j * 5].re).sum();
                            block = Some((b, tr));
                            (b, tr)
                        }
                    };
                    if tr > 0.0 {
                        trace_product(&k.gram, &b) / tr
                    } else {
                        0.0
                    }
                }
            };
            if w > 0.0 {
                cumulative += w;
                chosen = Some((i, w));
                if r < cumulative {
                    break;
                }
            }
        }
        let Some((i, w)) = chosen else { return };
        let k = &ops[i];
        match (&k.apply, k.fixed) {
            (Apply2::Identity, Some(_)) => {}
            (Apply2::Factors(a, b), Some(_)) => {
                self.fold(quad.q0, a);
                self.fold(quad.q1, b);
            }
            (Apply2::Dense(u), Some(_)) => {
                self.flush(quad.q0);
                self.flush(quad.q1);
                apply4(self.psi, quad, u);
            }
            (_, None) => {
                self.flush(quad.q0);
                self.flush(quad.q1);
                // As in `channel1`: K/√(w·tr B) brings the squared norm from tr B back to 1.
                let tr = block.map_or(1.0, |(_, tr)| tr);
                let s = 1.0 / (w * tr).sqrt();
                apply4(self.psi, quad, &k.matrix.map(|v| v * s));
            }
        }
    }
}

/// Runs one trajectory with `rng` and writes each observable's value into `out`.
#[inline(always)]
fn run_impl<T: BlockSums>(
    isa: Isa,
    plan: &TrajectoryPlan,
    s: &mut Scratch<T>,
    rng: &mut Rng,
    out: &mut [f64],
) {
    s.psi.fill([T::ZERO; 2]);
    s.psi[0] = [T::ONE, T::ZERO];
    s.pending.fill(None);
    let mut run = Run {
        psi: &mut s.psi,
        pending: &mut s.pending,
        dirty: 0,
        isa,
    };
    for op in &plan.ops {
        match op {
            Op::Fold { q, m } => run.fold(*q, m),
            Op::Gate { touched, kernel } => run.gate(touched, kernel),
            Op::Channel1 { q, ops } => {
                let r = rng.uniform();
                run.channel1(*q, ops, r);
            }
            Op::Channel2 { quad, ops } => {
                let r = rng.uniform();
                run.channel2(quad, ops, r);
            }
        }
    }
    for q in 0..plan.num_qubits {
        run.flush(q);
    }
    let psi = &s.psi;
    let norm2: f64 = psi
        .iter()
        .map(|a| {
            let (x, y) = (a[0].to_f64(), a[1].to_f64());
            x * x + y * y
        })
        .sum();
    let inv = if norm2 > 0.0 { 1.0 / norm2 } else { 0.0 };
    for (v, p) in s.string_values.iter_mut().zip(&plan.strings) {
        *v = pauli_expectation(psi, p) * inv;
    }
    for (o, terms) in out.iter_mut().zip(&plan.observables) {
        *o = terms.iter().map(|&(k, c)| c * s.string_values[k]).sum();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2<T: BlockSums>(
    plan: &TrajectoryPlan,
    s: &mut Scratch<T>,
    rng: &mut Rng,
    out: &mut [f64],
) {
    run_impl(Isa::Avx2, plan, s, rng, out)
}

/// Runs one trajectory with `rng` on the best instruction set `isa` (from [`detect_isa`]) and
/// writes each observable's value into `out`.
pub(crate) fn run_trajectory<T: BlockSums>(
    isa: Isa,
    plan: &TrajectoryPlan,
    s: &mut Scratch<T>,
    rng: &mut Rng,
    out: &mut [f64],
) {
    match isa {
        // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { run_avx2(plan, s, rng, out) },
        Isa::Base => run_impl(Isa::Base, plan, s, rng, out),
    }
}

/// The instruction set trajectories run on.
pub(crate) fn isa() -> Isa {
    detect_isa()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Angle, Gate, GateKind};
    use crate::noise::trajectory::stream_seed;
    use crate::noise::{generic, Channel};

    /// The Kraus operators of a two-qubit channel that is no unitary mixture: amplitude
    /// damping (0.35) on the first qubit ⊗ phase damping (0.5) on the second.
    fn damping_pair_kraus() -> Vec<Vec<C>> {
        let ad = Channel::amplitude_damping(0.35).unwrap();
        let pd = Channel::phase_damping(0.5).unwrap();
        let mut two = Vec::new();
        for a in ad.kraus_operators() {
            for b in pd.kraus_operators() {
                two.push(crate::math::linalg::kron2(b, a));
            }
        }
        two
    }

    fn c(re: f64, im: f64) -> C {
        C::new(re, im)
    }

    /// Three qubits, every gate kernel of the fused engine and every channel kind, with large
    /// noise so that trajectories branch often.
    fn every_channel_circuit() -> NoisyCircuit {
        let mut nc = NoisyCircuit::new(3).unwrap();
        nc.declare_params(2);
        let (t0, t1) = (Angle::theta(0), Angle::theta(1));
        let z = C::ZERO;
        // A one-qubit Kraus set that is no named channel: generalised amplitude damping.
        let (g, p) = (0.4f64, 0.7f64);
        let gad = vec![
            vec![c(p.sqrt(), 0.0), z, z, c((p * (1.0 - g)).sqrt(), 0.0)],
            vec![z, c((p * g).sqrt(), 0.0), z, z],
            vec![
                c(((1.0 - p) * (1.0 - g)).sqrt(), 0.0),
                z,
                z,
                c((1.0 - p).sqrt(), 0.0),
            ],
            vec![z, z, c(((1.0 - p) * g).sqrt(), 0.0), z],
        ];
        // A two-qubit channel that is no unitary mixture: amplitude ⊗ phase damping.
        let two = damping_pair_kraus();
        // A two-qubit unitary mixture whose unitary is no Kronecker product: CNOT.
        let o = C::ONE;
        let cnot = [o, z, z, z, z, z, z, o, z, z, o, z, z, o, z, z];
        let mix = vec![
            [o, z, z, z, z, o, z, z, z, z, o, z, z, z, z, o]
                .iter()
                .map(|v| v * 0.6f64.sqrt())
                .collect(),
            cnot.iter().map(|v| v * 0.4f64.sqrt()).collect(),
        ];
        let gates = [
            Gate::new(GateKind::H, &[0]),
            Gate::new(GateKind::RX(t0.clone()), &[1]),
            Gate::new(
                GateKind::U3(t1.clone(), Angle::Const(0.3), t0.clone()),
                &[2],
            ),
            Gate::controlled(GateKind::X, &[0], &[1]),
            Gate::controlled(GateKind::RY(t1.clone()), &[2], &[0]),
            Gate::controlled(GateKind::Z, &[1], &[2]),
            Gate::new(GateKind::RZZ(t0.clone()), &[0, 2]),
            Gate::new(GateKind::RXX(t1.clone()), &[2, 1]),
            Gate::new(GateKind::Swap, &[1, 0]),
            Gate::controlled(GateKind::RYY(t0.clone()), &[0], &[1, 2]),
            Gate::new(GateKind::SX, &[1]),
        ];
        let channels: Vec<(Channel, Vec<usize>)> = vec![
            (Channel::depolarizing(0.4).unwrap(), vec![0]),
            (Channel::depolarizing2(0.5).unwrap(), vec![1, 2]),
            (Channel::bit_flip(0.3).unwrap(), vec![2]),
            (Channel::phase_flip(0.4).unwrap(), vec![1]),
            (Channel::amplitude_damping(0.45).unwrap(), vec![0]),
            (Channel::phase_damping(0.5).unwrap(), vec![2]),
            (
                Channel::thermal_relaxation(30.0, 40.0, 15.0).unwrap(),
                vec![1],
            ),
            (Channel::pauli_channel(0.2, 0.15, 0.25).unwrap(), vec![0]),
            (Channel::kraus(1, gad).unwrap(), vec![2]),
            (Channel::kraus(2, two).unwrap(), vec![2, 0]),
            (Channel::kraus(2, mix).unwrap(), vec![0, 1]),
        ];
        for round in 0..2 {
            for (k, gate) in gates.iter().enumerate() {
                nc.gate(gate.clone()).unwrap();
                let (ch, qubits) = &channels[(k + round * 5) % channels.len()];
                nc.channel(ch.clone(), qubits).unwrap();
                if k % 3 == round {
                    // Several channels in a row on one qubit: folded Kraus products.
                    nc.channel(Channel::amplitude_damping(0.3).unwrap(), &[qubits[0]])
                        .unwrap();
                }
            }
        }
        nc
    }

    /// The fused engine's trajectory equals the generic engine's (explicit Kraus application
    /// and renormalisation) for the same random stream, state by state.
    fn same_trajectories_as_the_generic_engine<T: BlockSums>(
        circuit: &NoisyCircuit,
        tol: f64,
    ) -> usize {
        let theta = [0.7, -1.3];
        let b = Bindings::theta(&theta);
        let dim = 1usize << circuit.num_qubits();
        let steps = generic::compile(circuit, &b);
        let plan = TrajectoryPlan::new(circuit, &b, &[]).unwrap();
        let mut scratch = Scratch::<T>::new(&plan);
        let mut psi = vec![C::ZERO; dim];
        let mut distinct: Vec<Vec<C>> = Vec::new();
        let mut worst = 0.0f64;
        for t in 0..300 {
            let mut r1 = Rng::new(stream_seed(11, t));
            generic::run_one(&steps, &mut psi, &mut r1);
            let mut r2 = Rng::new(stream_seed(11, t));
            run_trajectory(isa(), &plan, &mut scratch, &mut r2, &mut []);
            // Both drew the same number of random numbers.
            assert_eq!(r1.next_u64(), r2.next_u64(), "trajectory {t}");
            let fast = scratch.normalised_state();
            let diff = psi
                .iter()
                .zip(&fast)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            worst = worst.max(diff);
            assert!(diff <= tol, "trajectory {t}: max |Δψ| = {diff:e} > {tol:e}");
            if !distinct
                .iter()
                .any(|d| d.iter().zip(&psi).all(|(a, b)| (a - b).norm() < 1e-6))
            {
                distinct.push(psi.clone());
            }
        }
        eprintln!("worst |Δψ| = {worst:e}, {} distinct", distinct.len());
        distinct.len()
    }

    #[test]
    fn f64_trajectories_equal_the_generic_engine() {
        let distinct =
            same_trajectories_as_the_generic_engine::<f64>(&every_channel_circuit(), 1e-10);
        // The stream takes many different branches, so the comparison covers them.
        assert!(distinct >= 100, "only {distinct} distinct trajectories");
    }

    #[test]
    fn f32_trajectories_equal_the_generic_engine() {
        let distinct =
            same_trajectories_as_the_generic_engine::<f32>(&every_channel_circuit(), 1e-5);
        assert!(distinct >= 100, "only {distinct} distinct trajectories");
    }

    /// `circuit` on `n` qubits with its qubit `j` moved to `map[j]`, after an H on every
    /// qubit (so the state spreads over all of them).
    fn spread_out(circuit: &NoisyCircuit, n: usize, map: &[usize]) -> NoisyCircuit {
        let mut nc = NoisyCircuit::new(n).unwrap();
        nc.declare_params(2);
        for q in 0..n {
            nc.gate(Gate::new(GateKind::H, &[q])).unwrap();
        }
        let gates = circuit.circuit().gates();
        for op in circuit.ops() {
            match op {
                NoisyOp::Gate(g) => {
                    let mut gate = gates[*g].clone();
                    gate.targets.iter_mut().for_each(|q| *q = map[*q]);
                    gate.controls.iter_mut().for_each(|q| *q = map[*q]);
                    nc.gate(gate).unwrap();
                }
                NoisyOp::Channel { channel, qubits } => {
                    let qubits: Vec<usize> = qubits.iter().map(|q| map[*q]).collect();
                    nc.channel((**channel).clone(), &qubits).unwrap();
                }
            }
        }
        nc
    }

    /// Seven qubits with the channels and gates on qubits 0, 3 and 6: every lane layout of
    /// the vectorised loops (pairs inside one register, across registers, far apart).
    #[test]
    fn wide_trajectories_equal_the_generic_engine() {
        let nc = spread_out(&every_channel_circuit(), 7, &[6, 0, 3]);
        let d64 = same_trajectories_as_the_generic_engine::<f64>(&nc, 1e-10);
        let d32 = same_trajectories_as_the_generic_engine::<f32>(&nc, 1e-5);
        assert!(
            d64 >= 100 && d32 >= 100,
            "{d64}, {d32} distinct trajectories"
        );
    }

    /// A long, strongly damped circuit: runs of operators picked without a read (each
    /// shrinking the unnormalised f32 state) between renormalising reads stay exact.
    #[test]
    fn long_strongly_damped_f32_trajectories_stay_exact() {
        let mut nc = NoisyCircuit::new(2).unwrap();
        nc.declare_params(2);
        for k in 0..600 {
            let q = k % 2;
            nc.gate(Gate::new(GateKind::RX(Angle::theta(q)), &[q]))
                .unwrap();
            nc.channel(Channel::amplitude_damping(0.6).unwrap(), &[q])
                .unwrap();
            if k % 50 == 0 {
                nc.gate(Gate::controlled(GateKind::X, &[0], &[1])).unwrap();
            }
        }
        same_trajectories_as_the_generic_engine::<f32>(&nc, 1e-5);
    }

    #[test]
    fn kronecker_factors_are_found_and_checked() {
        let x = [C::ZERO, C::ONE, C::ONE, C::ZERO];
        let y = [C::ZERO, c(0.0, -1.0), c(0.0, 1.0), C::ZERO];
        let m = crate::math::linalg::kron2(&y, &x);
        let (a, b) = factor(&m4(&m)).unwrap();
        let back = crate::math::linalg::kron2(&b, &a);
        assert!(back.iter().zip(&m).all(|(u, v)| (u - v).norm() < 1e-15));
        let o = C::ONE;
        let z = C::ZERO;
        let cnot = [o, z, z, z, z, z, z, o, z, z, o, z, z, o, z, z];
        assert!(factor(&cnot).is_none());
        // H ⊗ SX: every 2×2 sub-block is 1/√2 times SX, yet both factors must be unitary
        // (they are folded as unitary pending matrices).
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let had = [c(h, 0.0), c(h, 0.0), c(h, 0.0), c(-h, 0.0)];
        let sx = [c(0.5, 0.5), c(0.5, -0.5), c(0.5, -0.5), c(0.5, 0.5)];
        let m = crate::math::linalg::kron2(&had, &sx);
        let (a, b) = factor(&m4(&m)).unwrap();
        let back = crate::math::linalg::kron2(&b, &a);
        assert!(back.iter().zip(&m).all(|(u, v)| (u - v).norm() < 1e-14));
        for f in [a, b] {
            let g = matmul2(&dagger2(&f), &f);
            let unitary = g
                .iter()
                .zip([C::ONE, C::ZERO, C::ZERO, C::ONE])
                .all(|(u, v)| (u - v).norm() < 1e-14);
            assert!(unitary, "{f:?} is not unitary: F†F = {g:?}");
        }
    }

    /// After a non-unitary two-qubit Kraus operator the stored state has squared norm 1, as
    /// after a one-qubit one (K/√(w·tr B)), also when an earlier unread pick left it below 1.
    #[test]
    fn two_qubit_norm_method_brings_the_norm_back_to_one() {
        let mut nc = NoisyCircuit::new(2).unwrap();
        nc.gate(Gate::new(GateKind::H, &[0])).unwrap();
        nc.gate(Gate::new(GateKind::H, &[1])).unwrap();
        // Damping on qubit 0 whose K0 is often picked without a read (norm left below 1).
        nc.channel(Channel::amplitude_damping(0.6).unwrap(), &[0])
            .unwrap();
        let two = damping_pair_kraus();
        nc.channel(Channel::kraus(2, two).unwrap(), &[0, 1])
            .unwrap();
        let plan = TrajectoryPlan::new(&nc, &Bindings::none(), &[]).unwrap();
        let mut scratch = Scratch::<f64>::new(&plan);
        for t in 0..200 {
            let mut rng = Rng::new(stream_seed(3, t));
            run_trajectory(isa(), &plan, &mut scratch, &mut rng, &mut []);
            let n2 = scratch.raw_norm2();
            assert!((n2 - 1.0).abs() < 1e-12, "trajectory {t}: ‖ψ‖² = {n2}");
        }
    }
}
