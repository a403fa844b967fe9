//! Runs of consecutive permutation gates (controlled X, SWAP, Toffoli, Fredkin: the CNOT
//! ladders and rings of entangling layers) fused into ONE permutation of the basis states,
//! applied in one pass over the amplitudes it moves by following its cycles.
//!
//! Why: a ring of n CNOTs was n passes over half the state each, and a CNOT on a low qubit
//! walks runs of one amplitude; in a hardware-efficient ansatz at 12 qubits the CNOTs took
//! about as long as all the rotations. The fused run costs one read and one write per moved
//! amplitude, whatever its length. The permutation touches only bits below `block`'s, so it
//! acts alike on every block of `block` consecutive amplitudes: its cycles are computed once
//! per plan for one block (one `u32` per moved index) and replayed on every block, which also
//! lets the tiled and split sweeps run it block by block.

/// Runs are fused only while every bit they touch lies below this: blocks of at most 2^13
/// amplitudes (a cycle list of at most 32 KiB), the batched sweeps' cache tile, so a fused
/// run never spans more than a tile and the split sweep of a large state still runs it block
/// by block on every thread (a run touching a higher bit is left as separate gates).
pub(crate) const MAX_PERMUTE_BITS: usize = 13;

/// One gate of a fused run, as its action on a basis index (bits as masks).
#[derive(Clone, Copy, Debug)]
pub(crate) enum PermGate {
    /// X on `target` when every `ctrl` bit is set.
    Flip { target: usize, ctrl: usize },
    /// SWAP of bits `a` and `b` when every `ctrl` bit is set.
    Swap { a: usize, b: usize, ctrl: usize },
}

impl PermGate {
    /// The index this gate sends basis index `y` to.
    fn map(self, y: usize) -> usize {
        match self {
            PermGate::Flip { target, ctrl } if y & ctrl == ctrl => y ^ target,
            PermGate::Swap { a, b, ctrl } if y & ctrl == ctrl && (y & a == 0) != (y & b == 0) => {
                y ^ a ^ b
            }
            _ => y,
        }
    }

    /// The bits the gate touches.
    pub(crate) fn mask(self) -> usize {
        match self {
            PermGate::Flip { target, ctrl } => target | ctrl,
            PermGate::Swap { a, b, ctrl } => a | b | ctrl,
        }
    }
}

/// A fused run of permutation gates: basis index x goes to f(x) = g_k(…g_1(x)).
#[derive(Clone, Debug)]
pub(crate) struct Permute {
    /// Amplitudes per block (a power of two above every touched bit).
    block: usize,
    /// The moved indices of a block, cycle after cycle: t, f(t), f(f(t)), ….
    order: Vec<u32>,
    /// The end (exclusive) of each cycle in `order`.
    ends: Vec<u32>,
}

impl Permute {
    /// The run `gates` (in circuit order; every touched bit below [`MAX_PERMUTE_BITS`]).
    pub(crate) fn new(gates: &[PermGate]) -> Self {
        let touched = gates.iter().fold(0, |m, g| m | g.mask());
        let bits = (usize::BITS - touched.leading_zeros()) as usize;
        debug_assert!((1..=MAX_PERMUTE_BITS).contains(&bits));
        let block = 1usize << bits;
        let image: Vec<usize> = (0..block)
            .map(|x| gates.iter().fold(x, |y, g| g.map(y)))
            .collect();
        let mut seen = vec![false; block];
        let (mut order, mut ends) = (Vec::new(), Vec::new());
        for x in 0..block {
            if seen[x] || image[x] == x {
                continue;
            }
            let mut t = x;
            while !seen[t] {
                seen[t] = true;
                // t < block ≤ 2^MAX_PERMUTE_BITS fits a u32.
                order.push(t as u32);
                t = image[t];
            }
            ends.push(order.len() as u32);
        }
        Permute { block, order, ends }
    }

    /// The highest bit the run touches.
    pub(crate) fn highest_qubit(&self) -> usize {
        self.block.trailing_zeros() as usize - 1
    }

    /// The cycles as index slices of a block.
    fn cycles(&self) -> impl Iterator<Item = &[u32]> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&e| e as usize));
        starts
            .zip(self.ends.iter())
            .map(|(s, &e)| &self.order[s..e as usize])
    }

    /// ψ ← Pψ on `s` (a whole number of blocks): the amplitude at x moves to f(x).
    #[inline(always)]
    pub(crate) fn apply<A: Copy>(&self, s: &mut [A]) {
        debug_assert!(
            s.len().is_multiple_of(self.block),
            "a whole number of blocks"
        );
        for blk in s.chunks_exact_mut(self.block) {
            for c in self.cycles() {
                // new[t_{i+1}] = old[t_i]: shift the cycle's values one place forward.
                let last = blk[c[c.len() - 1] as usize];
                for i in (1..c.len()).rev() {
                    blk[c[i] as usize] = blk[c[i - 1] as usize];
                }
                blk[c[0] as usize] = last;
            }
        }
    }

    /// ψ ← P†ψ = P⁻¹ψ on `s` (a whole number of blocks).
    #[inline(always)]
    pub(crate) fn apply_inverse<A: Copy>(&self, s: &mut [A]) {
        debug_assert!(
            s.len().is_multiple_of(self.block),
            "a whole number of blocks"
        );
        for blk in s.chunks_exact_mut(self.block) {
            for c in self.cycles() {
                // new[t_i] = old[t_{i+1}]: shift the cycle's values one place back.
                let first = blk[c[0] as usize];
                for i in 1..c.len() {
                    blk[c[i - 1] as usize] = blk[c[i] as usize];
                }
                blk[c[c.len() - 1] as usize] = first;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::rng::Rng;

    /// Applies the gates one by one, each as its own pass (the unfused semantics).
    fn one_by_one(gates: &[PermGate], s: &[u32]) -> Vec<u32> {
        let mut cur = s.to_vec();
        for g in gates {
            let mut next = cur.clone();
            for (x, v) in cur.iter().enumerate() {
                next[g.map(x)] = *v;
            }
            cur = next;
        }
        cur
    }

    #[test]
    fn fused_runs_equal_their_gates_one_by_one_and_invert() {
        let mut rng = Rng::new(11);
        let n = 9; // blocks of up to 2^9 amplitudes, one state of 2^9
        let bit = |rng: &mut Rng| 1usize << ((rng.range(0.0, n as f64) as usize).min(n - 1));
        for _ in 0..200 {
            let len = 1 + rng.range(0.0, 14.0) as usize;
            let gates: Vec<PermGate> = (0..len)
                .filter_map(|_| {
                    let (a, b, c, d) = (bit(&mut rng), bit(&mut rng), bit(&mut rng), bit(&mut rng));
                    let extra = if rng.range(0.0, 1.0) < 0.3 { d } else { 0 };
                    if rng.range(0.0, 1.0) < 0.7 {
                        (a != c && extra & (a | c) == 0).then_some(PermGate::Flip {
                            target: a,
                            ctrl: c | extra,
                        })
                    } else {
                        let ctrl = if rng.range(0.0, 1.0) < 0.5 { c } else { 0 };
                        (a != b && ctrl & (a | b) == 0).then_some(PermGate::Swap { a, b, ctrl })
                    }
                })
                .collect();
            if gates.is_empty() {
                continue;
            }
            let p = Permute::new(&gates);
            // Two blocks' worth (or more) of distinct values.
            let state: Vec<u32> = (0..(1u32 << n)).map(|x| x * 7 + 3).collect();
            let want = one_by_one(&gates, &state);
            let mut got = state.clone();
            p.apply(&mut got);
            assert_eq!(got, want, "gates {gates:?}");
            p.apply_inverse(&mut got);
            assert_eq!(got, state, "inverse of {gates:?}");
        }
    }
}
