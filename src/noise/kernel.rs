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

/// `state ← M · state` on `qubits` (`qubits[j]` is bit j of M's index), for the amplitudes whose
/// bits in `ctrl` are all 1. The caller guarantees distinct qubits inside the state, `ctrl`
/// disjoint from them and `m.len() = 4^k`.
pub(crate) fn apply(state: &mut [C64], qubits: &[usize], m: &[C64], ctrl: u64, rest: Uncontrolled) {
    let k = qubits.len();
    let d = 1usize << k;
    let top = qubits.iter().copied().max().unwrap_or(0);
    let tmask: usize = qubits.iter().fold(0, |acc, &q| acc | (1 << q));
    let ctrl = ctrl as usize;
    // Blocks of 2^(top+1) amplitudes hold whole groups, so they are independent.
    let block = (1usize << (top + 1)).min(state.len());
    let work = |offset: usize, chunk: &mut [C64]| {
        let mut buf = [C64::ZERO; 16];
        let mut out = [C64::ZERO; 16];
        for base in 0..chunk.len() {
            if base & tmask != 0 {
                continue;
            }
            let global = offset + base;
            if global & ctrl != ctrl {
                if rest == Uncontrolled::Zero {
                    for s in 0..d {
                        chunk[base | spread(s, qubits)] = C64::ZERO;
                    }
                }
                continue;
            }
            for (s, slot) in buf.iter_mut().enumerate().take(d) {
                *slot = chunk[base | spread(s, qubits)];
            }
            for (r, o) in out.iter_mut().enumerate().take(d) {
                let row = &m[r * d..(r + 1) * d];
                *o = row.iter().zip(&buf[..d]).map(|(a, b)| a * b).sum();
            }
            for (s, o) in out.iter().enumerate().take(d) {
                chunk[base | spread(s, qubits)] = *o;
            }
        }
    };
    if state.len() >= PARALLEL_MIN && state.len() / block >= 2 {
        state
            .par_chunks_mut(block)
            .enumerate()
            .for_each(|(i, chunk)| work(i * block, chunk));
    } else {
        work(0, state);
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
