//! The one f64 kernel of the noise engines: a dense `2^k × 2^k` matrix (not necessarily
//! unitary: superoperators, Kraus operators, generators) applied to `k` qubits of a complex
//! vector, optionally controlled. The density matrix uses it on its `2n`-qubit vector, the
//! trajectories on `n`-qubit state vectors.

use num_complex::Complex64 as C64;
use rayon::prelude::*;

/// Below this many amplitudes the kernel runs on one thread.
const PARALLEL_MIN: usize = 1 << 14;

/// What happens to the amplitudes whose control bits are not all 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Uncontrolled {
    /// Left as they are (a controlled gate).
    Keep,
    /// Set to zero (the derivative or generator of a controlled gate: P_c ⊗ G).
    Zero,
}

/// A raw pointer to the state that rayon tasks share: every task touches a disjoint set of
/// amplitude groups, so the writes never alias.
#[derive(Clone, Copy)]
struct Shared(*mut C64);
// SAFETY: tasks write disjoint indices (distinct groups), see `apply`.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

/// Groups per rayon task.
const GROUPS_PER_TASK: usize = 1 << 10;

/// `state ← M · state` on `qubits` (`qubits[j]` is bit j of M's index), for the amplitudes whose
/// bits in `ctrl` are all 1. The caller guarantees distinct qubits inside the state (at most
/// 4), `ctrl` disjoint from them and `m.len() = 4^k`.
pub(crate) fn apply(state: &mut [C64], qubits: &[usize], m: &[C64], ctrl: u64, rest: Uncontrolled) {
    let k = qubits.len();
    let d = 1usize << k;
    if k == 0 || k > 4 || m.len() != d * d || state.len() < d {
        return;
    }
    if k == 1 && (ctrl == 0 || rest == Uncontrolled::Keep) {
        apply1(state, qubits[0], [m[0], m[1], m[2], m[3]], ctrl as usize);
        return;
    }
    let mut sorted = qubits.to_vec();
    sorted.sort_unstable();
    let mut offsets = [0usize; 16];
    for (s, o) in offsets.iter_mut().enumerate().take(d) {
        *o = spread(s, qubits);
    }
    let ctrl = ctrl as usize;
    let groups = state.len() >> k;
    let len = state.len();
    let ptr = Shared(state.as_mut_ptr());
    let work = move |range: std::ops::Range<usize>| {
        let p = ptr;
        let mut buf = [C64::ZERO; 16];
        for g in range {
            // Insert a zero bit at every target position (ascending).
            let mut base = g;
            for &q in &sorted {
                base = ((base >> q) << (q + 1)) | (base & ((1usize << q) - 1));
            }
            let active = base & ctrl == ctrl;
            if !active && rest == Uncontrolled::Keep {
                continue;
            }
            // SAFETY: base | offsets[s] < len, and distinct groups own distinct indices.
            unsafe {
                if !active {
                    for &o in offsets.iter().take(d) {
                        *p.0.add(base | o) = C64::ZERO;
                    }
                    continue;
                }
                for (slot, &o) in buf.iter_mut().zip(offsets.iter()).take(d) {
                    *slot = *p.0.add(base | o);
                }
                for (r, &o) in offsets.iter().enumerate().take(d) {
                    let row = &m[r * d..(r + 1) * d];
                    let mut acc = C64::ZERO;
                    for (a, b) in row.iter().zip(&buf[..d]) {
                        acc += a * b;
                    }
                    *p.0.add(base | o) = acc;
                }
            }
        }
        debug_assert!(len > 0);
    };
    if len >= PARALLEL_MIN {
        let tasks = groups.div_ceil(GROUPS_PER_TASK);
        (0..tasks).into_par_iter().for_each(|t| {
            let start = t * GROUPS_PER_TASK;
            work(start..(start + GROUPS_PER_TASK).min(groups));
        });
    } else {
        work(0..groups);
    }
}

/// The one-qubit case of [`apply`] with strided pairs (the common case: it vectorises).
fn apply1(state: &mut [C64], q: usize, m: [C64; 4], ctrl: usize) {
    let half = 1usize << q;
    let block = half << 1;
    let run = |offset: usize, chunk: &mut [C64]| {
        for (b, pair) in chunk.chunks_exact_mut(block).enumerate() {
            let (lo, hi) = pair.split_at_mut(half);
            let start = offset + b * block;
            if ctrl == 0 {
                for (a0, a1) in lo.iter_mut().zip(hi.iter_mut()) {
                    let (x, y) = (*a0, *a1);
                    *a0 = m[0] * x + m[1] * y;
                    *a1 = m[2] * x + m[3] * y;
                }
            } else {
                for (i, (a0, a1)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                    if (start + i) & ctrl == ctrl {
                        let (x, y) = (*a0, *a1);
                        *a0 = m[0] * x + m[1] * y;
                        *a1 = m[2] * x + m[3] * y;
                    }
                }
            }
        }
    };
    let len = state.len();
    let per_task = block.max(1 << 12);
    if len >= PARALLEL_MIN && len / per_task >= 2 {
        state
            .par_chunks_mut(per_task)
            .enumerate()
            .for_each(|(t, chunk)| run(t * per_task, chunk));
    } else if len / block >= 1 && len >= PARALLEL_MIN && half >= 1 << 12 {
        // One huge pair block: split the halves into parallel pieces.
        let (lo, hi) = state.split_at_mut(half);
        lo.par_chunks_mut(1 << 12)
            .zip(hi.par_chunks_mut(1 << 12))
            .enumerate()
            .for_each(|(t, (l, h))| {
                for (i, (a0, a1)) in l.iter_mut().zip(h.iter_mut()).enumerate() {
                    if (t * (1 << 12) + i) & ctrl == ctrl {
                        let (x, y) = (*a0, *a1);
                        *a0 = m[0] * x + m[1] * y;
                        *a1 = m[2] * x + m[3] * y;
                    }
                }
            });
    } else {
        run(0, state);
    }
}

/// The offset of local index `s` (bit j ↔ `qubits[j]`).
#[inline(always)]
fn spread(s: usize, qubits: &[usize]) -> usize {
    qubits
        .iter()
        .enumerate()
        .fold(0, |acc, (j, &q)| acc | (((s >> j) & 1) << q))
}

/// Σ conj(a_i)·b_i.
pub(crate) fn inner(a: &[C64], b: &[C64]) -> C64 {
    if a.len() >= PARALLEL_MIN {
        a.par_iter()
            .zip(b.par_iter())
            .map(|(x, y)| x.conj() * y)
            .sum()
    } else {
        a.iter().zip(b).map(|(x, y)| x.conj() * y).sum()
    }
}

/// Element-wise complex conjugate of a square matrix (not transposed).
pub(crate) fn conj(m: &[C64]) -> Vec<C64> {
    m.iter().map(|v| v.conj()).collect()
}

#[cfg(test)]
/// ‖M·state‖² for `M` on `qubits` (no controls), without writing the state: the norm stage of
/// the trajectory method. Same preconditions as [`apply`].
pub(crate) fn norm_after(state: &[C64], qubits: &[usize], m: &[C64]) -> f64 {
    let k = qubits.len();
    let d = 1usize << k;
    if k == 0 || k > 4 || m.len() != d * d || state.len() < d {
        return 0.0;
    }
    let mut sorted = qubits.to_vec();
    sorted.sort_unstable();
    let mut offsets = [0usize; 16];
    for (s, o) in offsets.iter_mut().enumerate().take(d) {
        *o = spread(s, qubits);
    }
    let groups = state.len() >> k;
    let mut total = 0.0;
    let mut buf = [C64::ZERO; 16];
    for g in 0..groups {
        let mut base = g;
        for &q in &sorted {
            base = ((base >> q) << (q + 1)) | (base & ((1usize << q) - 1));
        }
        for (slot, &o) in buf.iter_mut().zip(offsets.iter()).take(d) {
            *slot = state[base | o];
        }
        for r in 0..d {
            let row = &m[r * d..(r + 1) * d];
            let acc: C64 = row.iter().zip(&buf[..d]).map(|(a, b)| a * b).sum();
            total += acc.norm_sqr();
        }
    }
    total
}

/// Whether `m` is the identity within 1e-14 (sampled identities fold to nothing).
pub(crate) fn is_identity(m: &[C64]) -> bool {
    let d = crate::math::linalg::side(m.len());
    (0..m.len()).all(|i| {
        let want = if i % (d + 1) == 0 {
            C64::ONE
        } else {
            C64::ZERO
        };
        (m[i] - want).norm() <= 1e-14
    })
}

/// `Some(p)` when K†K = p·I within 1e-12 (K = √p·U).
pub(crate) fn scaled_unitary(k: &[C64]) -> Option<f64> {
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

/// Each Kraus operator's fixed probability for the first stage of the norm method:
/// `Some(p)` with p > 0 when it is √p times a unitary (the channel's mixture probability,
/// else K†K = p·I), `None` when it must be weighted by ‖Kψ‖².
pub(crate) fn fixed_probabilities(channel: &super::Channel) -> Vec<Option<f64>> {
    let probs = channel.mixture_probabilities();
    channel
        .kraus_operators()
        .iter()
        .enumerate()
        .map(|(i, k)| {
            probs
                .and_then(|p| p.get(i).copied())
                .or_else(|| scaled_unitary(k))
                .filter(|p| *p > 0.0)
        })
        .collect()
}
