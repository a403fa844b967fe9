//! Gate fusion: merge runs of bound gates into dense unitaries on at most `max_qubits` qubits.
//!
//! A gate pass over a statevector costs about the same whatever 2×2 or 4×4 matrix it applies
//! (memory traffic on a GPU, index arithmetic and gathers on a CPU-emulated one), so fewer,
//! denser passes are faster. The greedy rule keeps dependencies exact: each qubit remembers the
//! last block that acted on it; a gate joins the *latest* of its qubits' last blocks when the
//! union of qubits still fits, otherwise it opens a new block. Blocks are emitted in creation
//! order, which respects every dependency (a block only ever grows onto qubits whose earlier
//! blocks were created before it). A block holding a single gate is returned as that gate, so
//! backends can still use their cheapest kernel for it (permutations, phases).

use crate::circuit::Gate;
use crate::math::linalg::{embed, matmul};
use num_complex::Complex64 as C64;

/// One step of a fused circuit.
#[derive(Clone, Debug, PartialEq)]
pub enum FusedOp {
    /// An original gate (with its bound matrix), left unfused.
    Gate {
        /// Index of the gate in the input.
        index: usize,
    },
    /// A dense unitary on `qubits` (ascending); matrix index bit j ↔ `qubits[j]`.
    Dense {
        /// The qubits, ascending.
        qubits: Vec<usize>,
        /// Row-major 2^k × 2^k unitary.
        matrix: Vec<C64>,
        /// How many input gates it replaces.
        gates: usize,
    },
}

/// The qubits a gate touches (targets and controls).
fn gate_mask(g: &Gate) -> u64 {
    g.targets
        .iter()
        .chain(&g.controls)
        .fold(0u64, |m, &q| m | (1u64 << q))
}

struct Block {
    mask: u64,
    /// Indices of the gates in the block, in order.
    members: Vec<usize>,
    /// Holds a gate that may not be fused; nothing joins it.
    sealed: bool,
}

/// Fuses `gates` (with their bound matrices `matrices[i]`) into blocks of at most
/// `max_qubits` qubits. `max_qubits < 2` returns every gate unfused.
#[cfg(test)]
pub fn fuse(gates: &[Gate], matrices: &[Vec<C64>], max_qubits: usize) -> Vec<FusedOp> {
    fuse_where(gates, matrices, max_qubits, |_| true)
}

/// [`fuse`], leaving every gate for which `fusable` is false on its own (it still orders the
/// blocks around it).
pub fn fuse_where(
    gates: &[Gate],
    matrices: &[Vec<C64>],
    max_qubits: usize,
    fusable: impl Fn(&Gate) -> bool,
) -> Vec<FusedOp> {
    if max_qubits < 2 {
        return (0..gates.len())
            .map(|index| FusedOp::Gate { index })
            .collect();
    }
    let mut blocks: Vec<Block> = Vec::new();
    let mut last: Vec<Option<usize>> = vec![None; 64];
    for (i, g) in gates.iter().enumerate() {
        let mask = gate_mask(g);
        let qubits: Vec<usize> = (0..64).filter(|q| mask >> q & 1 == 1).collect();
        let latest = qubits.iter().filter_map(|&q| last[q]).max();
        let ok = fusable(g) && (mask.count_ones() as usize) <= max_qubits;
        let joined = match latest {
            Some(b)
                if ok
                    && !blocks[b].sealed
                    && ((blocks[b].mask | mask).count_ones() as usize) <= max_qubits =>
            {
                blocks[b].mask |= mask;
                blocks[b].members.push(i);
                b
            }
            _ => {
                blocks.push(Block {
                    mask,
                    members: vec![i],
                    sealed: !ok,
                });
                blocks.len() - 1
            }
        };
        for &q in &qubits {
            last[q] = Some(joined);
        }
    }
    blocks
        .into_iter()
        .map(|block| {
            if block.members.len() == 1 {
                return FusedOp::Gate {
                    index: block.members[0],
                };
            }
            let qubits: Vec<usize> = (0..64).filter(|q| block.mask >> q & 1 == 1).collect();
            let dim = 1usize << qubits.len();
            let mut m: Vec<C64> = (0..dim * dim)
                .map(|k| {
                    if k % (dim + 1) == 0 {
                        C64::ONE
                    } else {
                        C64::ZERO
                    }
                })
                .collect();
            for &i in &block.members {
                let g = embed(&matrices[i], &gates[i].targets, &gates[i].controls, &qubits);
                m = matmul(&g, &m);
            }
            FusedOp::Dense {
                qubits,
                matrix: m,
                gates: block.members.len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Bindings, Circuit};
    use crate::math::rng::Rng;
    use crate::sim::reference::state::{apply_matrix, CpuState};

    fn run_fused(c: &Circuit, k: usize, state: &[C64]) -> (Vec<C64>, usize) {
        let mats: Vec<Vec<C64>> = c
            .gates()
            .iter()
            .map(|g| g.bound_matrix(&Bindings::none()))
            .collect();
        let ops = fuse(c.gates(), &mats, k);
        let mut amps = state.to_vec();
        for op in &ops {
            match op {
                FusedOp::Gate { index } => {
                    let g = &c.gates()[*index];
                    apply_matrix(&mut amps, &mats[*index], &g.targets, g.control_mask());
                }
                FusedOp::Dense { qubits, matrix, .. } => apply_matrix(&mut amps, matrix, qubits, 0),
            }
        }
        (amps, ops.len())
    }

    #[test]
    fn fused_circuits_give_the_same_state() {
        let mut rng = Rng::new(42);
        let n = 6;
        let mut c = Circuit::new(n).unwrap();
        for _ in 0..120 {
            let a = rng.below(n);
            let b = (a + 1 + rng.below(n - 1)) % n;
            let t = rng.range(0.0, 6.0);
            match rng.below(8) {
                0 => c.h(a),
                1 => c.rx(a, t),
                2 => c.cnot(a, b),
                3 => c.crz(a, b, t),
                4 => c.rzz(a, b, t),
                5 => {
                    let t3 = (0..n).find(|&q| q != a && q != b).unwrap_or(0);
                    c.toffoli(a, b, t3)
                }
                6 => c.u3(a, t, 1.0, 2.0),
                _ => c.iswap(a, b),
            }
            .unwrap();
        }
        let start = CpuState::zero(n).unwrap();
        let (want, unfused) = run_fused(&c, 1, start.amps());
        assert_eq!(unfused, c.gates().len());
        for k in 2..=5 {
            let (got, passes) = run_fused(&c, k, start.amps());
            assert!(passes < unfused, "k = {k}: {passes} passes");
            for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                assert!((w - g).norm() < 1e-10, "k = {k}, amplitude {i}: {g} vs {w}");
            }
        }
    }
}
