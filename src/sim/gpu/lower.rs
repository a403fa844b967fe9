//! Lowering: each gate becomes one kernel op (dense 1q, dense 2q, phase-only diagonal, or a
//! pure permutation), and each op becomes one dispatch per group of chunk buffers it touches.
//!
//! A state of 2^n amplitudes lives in 2^(n−c) chunk buffers of 2^c amplitudes. A gate whose
//! targets are all below c runs on each chunk alone. A target at or above c (a "high" target)
//! pairs chunks: the dispatch binds the 2 or 4 chunks that differ only in those bits as slots,
//! and the kernel sees them as one virtual array of 2^(c+h) amplitudes whose high target
//! becomes virtual qubit c + j. High *controls* never reach the kernel: the host simply skips
//! the chunks whose index bits do not satisfy them.

use super::abi::OpRecord;
use super::record::{item_grid, Dispatch};
use super::shaders::{Access, Kernel, Pairing, GROUP_ITEMS};
use crate::circuit::{Gate, GateClass, GateKind, Permutation};
use num_complex::Complex64 as C64;

/// A gate lowered to one kernel, with its matrix already bound.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GateOp {
    pub kernel: Kernel,
    /// Qubits whose bits vary inside the kernel: the target(s); for a folded phase gate, none.
    pub targets: Vec<usize>,
    /// Qubits forced to 1: the controls (and a folded phase gate's target).
    pub forced: u64,
    /// Permutation only: true for SWAP (swap |01⟩,|10⟩), false for X (swap |0⟩,|1⟩).
    pub swap: bool,
    /// Complex entries the kernel reads: 4 (dense 1q), 16 (dense 2q), 1/2/4 (diagonal), 0.
    pub matrix: Vec<C64>,
}

/// The kernel a gate lowers to, decided from its kind alone (so a compiled program's structure
/// does not depend on angle values); `matrix` is left empty. `None` for the identity.
pub(crate) fn lower_structure(gate: &Gate) -> Option<GateOp> {
    let forced = gate.control_mask();
    let targets = gate.targets.clone();
    let op = |kernel, targets, forced, swap| GateOp {
        kernel,
        targets,
        forced,
        swap,
        matrix: Vec::new(),
    };
    Some(match gate.kind.class() {
        GateClass::Identity => return None,
        GateClass::Permutation(Permutation::Flip) => op(Kernel::Permute, targets, forced, false),
        GateClass::Permutation(Permutation::Swap) => op(Kernel::Permute, targets, forced, true),
        GateClass::Phase => op(
            Kernel::Diagonal,
            Vec::new(),
            forced | (1u64 << gate.targets[0]),
            false,
        ),
        GateClass::Diagonal => op(Kernel::Diagonal, targets, forced, false),
        _ if gate.targets.len() == 1 => op(Kernel::Gate1, targets, forced, false),
        _ => op(Kernel::Gate2, targets, forced, false),
    })
}

/// What the kernel of `op` reads for the full matrix `m` of its gate (U, U† or ∂U/∂a):
/// the dense matrix, the diagonal, the one changed diagonal entry of a folded phase gate, or
/// nothing for a permutation.
pub(crate) fn kernel_data(op: &GateOp, m: &[C64]) -> Vec<C64> {
    match op.kernel {
        Kernel::Permute => Vec::new(),
        Kernel::Diagonal => match (op.targets.len(), m.len()) {
            (0, _) => vec![m[3]],
            (1, _) => vec![m[0], m[3]],
            _ => vec![m[0], m[5], m[10], m[15]],
        },
        _ => m.to_vec(),
    }
}

/// Lowers a gate under `bindings`; `None` for an identity that needs no pass.
#[cfg(test)]
pub(crate) fn lower(gate: &Gate, bindings: &crate::circuit::Bindings<'_>) -> Option<GateOp> {
    lower_bound(gate, &gate.bound_matrix(bindings))
}

/// Lowers a gate whose matrix is already bound.
pub(crate) fn lower_bound(gate: &Gate, matrix: &[C64]) -> Option<GateOp> {
    let mut op = lower_structure(gate)?;
    if op.kernel != Kernel::Permute {
        op.matrix = kernel_data(&op, matrix);
    }
    Some(op)
}

/// Lowers a fused dense block on ascending `qubits` (matrix index bit j ↔ `qubits[j]`): on one
/// or two qubits as the gate model classifies the product (`GateClass::of_matrix`, through the
/// path of a user unitary: `None` for the identity, a permutation, a folded phase, a diagonal
/// or the dense kernel), on more the k-qubit kernel.
pub(crate) fn lower_dense(qubits: &[usize], matrix: Vec<C64>) -> Option<GateOp> {
    let kind = match qubits.len() {
        1 => GateKind::Unitary1(Box::new(std::array::from_fn(|i| matrix[i]))),
        2 => GateKind::Unitary2(Box::new(std::array::from_fn(|i| matrix[i]))),
        k => {
            return Some(GateOp {
                kernel: Kernel::GateK(k as u8),
                targets: qubits.to_vec(),
                forced: 0,
                swap: false,
                matrix,
            })
        }
    };
    lower_bound(&Gate::new(kind, qubits), &matrix)
}

/// A gate op expanded over a chunked state: one kernel, access mode and op record (the same
/// for every group of chunks), dispatched once per group of chunk buffers in `slots`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Expansion {
    pub kernel: Kernel,
    pub access: Access,
    pub record: OpRecord,
    /// Work items of each dispatch (`record.n_threads`).
    pub threads: u64,
    /// Per dispatch, the chunk index bound to each slot (`None`: unused slot).
    pub slots: Vec<[Option<u32>; 4]>,
}

impl Expansion {
    /// The recording layer's description of one of these dispatches (through bind group 0,
    /// reading matrices from the buffer).
    pub fn dispatch(&self) -> Dispatch {
        Dispatch::new(
            self.kernel,
            self.access,
            item_grid(self.kernel, self.access, self.threads),
        )
    }
}

/// Item groups per invocation of a dispatch of `kernel` in `access` mode over `threads` work
/// items (`Op::groups`): as many as the kernel takes, fewer when there are fewer items, at
/// least one.
pub(crate) fn group_count(kernel: Kernel, access: Access, threads: u64) -> u32 {
    (threads / GROUP_ITEMS).clamp(1, kernel.groups_per_invocation(access)) as u32
}

/// The access mode for a dispatch of `kernel` with `record` (on bindings seen as `access`):
/// a paired mode when the kernel has a paired path, the dispatch has at least
/// [`GROUP_ITEMS`] work items (so a group's items are distinct) and qubit 0 allows it: bit 0
/// free (no target or control on it: neighbouring items pair up, see `group_bases` in the
/// prelude), or bit 0 the first target of a gate or diagonal, or of an X / CNOT permutation
/// (not a SWAP, whose `x0` is not 0): each item's two amplitudes pair up.
pub(crate) fn access_for(kernel: Kernel, access: Access, record: &OpRecord) -> Access {
    if !kernel.has_paired_path()
        || u64::from(record.n_threads) < GROUP_ITEMS
        || record.ctrl_mask & 1 != 0
    {
        return access;
    }
    if record.fixed_mask & 1 == 0 {
        access.paired(Pairing::Items)
    } else if record.nq >= 1 && record.q0 == 0 && !(kernel == Kernel::Permute && record.x0 != 0) {
        access.paired(Pairing::Target)
    } else {
        access
    }
}

/// Places the bits of `j` at the bit positions listed in `positions` (ascending order).
fn scatter_bits(j: usize, positions: &[usize]) -> u64 {
    positions
        .iter()
        .enumerate()
        .fold(0u64, |acc, (b, &p)| acc | ((((j >> b) & 1) as u64) << p))
}

/// The dispatches for `op` on a state of `num_qubits` qubits in chunks of 2^`chunk_bits`.
/// `in_offset` is where the op's matrix starts in aux_in (in reals).
pub(crate) fn expand(
    op: &GateOp,
    num_qubits: usize,
    chunk_bits: usize,
    in_offset: u32,
) -> Expansion {
    let c = chunk_bits;
    let low_mask = if c >= 64 { u64::MAX } else { (1u64 << c) - 1 };
    let mut high: Vec<usize> = op.targets.iter().copied().filter(|&q| q >= c).collect();
    high.sort_unstable();
    let h = high.len();
    let map = |q: usize| -> u32 {
        if q < c {
            q as u32
        } else {
            (c + high.iter().position(|&x| x == q).unwrap_or(0)) as u32
        }
    };
    let low_ctrl = (op.forced & low_mask) as u32;
    let high_ctrl = op.forced >> c;
    let vtargets: u32 = op.targets.iter().fold(0, |m, &q| m | (1u32 << map(q)));
    // A diagonal pass's thread takes the pair that differs in its first target; the second
    // target's bit comes with the thread index (see diag_pair in the prelude).
    let fixed = match op.kernel {
        Kernel::Diagonal => low_ctrl | op.targets.first().map_or(0, |&q| 1 << map(q)),
        _ => low_ctrl | vtargets,
    };
    let vn = (c + h) as u32;
    let threads = 1u64 << (vn - fixed.count_ones());
    let mut record = OpRecord {
        n_threads: threads as u32,
        q0: op.targets.first().map_or(0, |&q| map(q)),
        q1: op.targets.get(1).map_or(0, |&q| map(q)),
        nq: op.targets.len() as u32,
        fixed_mask: fixed,
        ctrl_mask: low_ctrl,
        chunk_bits: c as u32,
        in_offset,
        ..Default::default()
    };
    if let Kernel::GateK(_) = op.kernel {
        record.x0 = op
            .targets
            .iter()
            .enumerate()
            .fold(0, |acc, (j, &q)| acc | (map(q) << (5 * j)));
    }
    if op.kernel == Kernel::Permute {
        if op.swap {
            record.x0 = 1 << record.q0;
            record.x1 = 1 << record.q1;
        } else {
            record.x0 = 0;
            record.x1 = 1 << record.q0;
        }
    }
    let access = access_for(
        op.kernel,
        if h == 0 {
            Access::Single
        } else {
            Access::Chunked
        },
        &record,
    );
    record.groups = group_count(op.kernel, access, threads);
    let num_chunks = 1u64 << (num_qubits - c);
    let high_chunk_bits: Vec<usize> = high.iter().map(|q| q - c).collect();
    let high_chunk_mask = scatter_bits(usize::MAX, &high_chunk_bits);
    let slots = (0..num_chunks)
        .filter(|base| base & high_chunk_mask == 0 && base & high_ctrl == high_ctrl)
        .map(|base| {
            let mut slots = [None; 4];
            for (j, slot) in slots.iter_mut().enumerate().take(1 << h) {
                *slot = Some((base | scatter_bits(j, &high_chunk_bits)) as u32);
            }
            slots
        })
        .collect();
    Expansion {
        kernel: op.kernel,
        access,
        record,
        threads,
        slots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Angle, Circuit};

    fn lowered(c: &Circuit) -> Vec<GateOp> {
        c.gates()
            .iter()
            .filter_map(|g| lower(g, &crate::circuit::Bindings::theta(&[0.3])))
            .collect()
    }

    /// Fused products are classified by the gate model like user unitaries: an exact
    /// identity needs no pass, a phase folds its target, a permutation moves amplitudes.
    #[test]
    fn fused_products_take_the_gate_models_class() {
        use crate::math::linalg::matmul;
        let m = |k: GateKind| k.matrix(&[]);
        assert_eq!(
            lower_dense(&[2], matmul(&m(GateKind::X), &m(GateKind::X))),
            None
        );
        let z = lower_dense(&[2], matmul(&m(GateKind::S), &m(GateKind::S))).unwrap();
        assert_eq!(
            (z.kernel, z.forced, z.matrix.clone()),
            (Kernel::Diagonal, 0b100, vec![-C64::ONE])
        );
        let swap = lower_dense(&[0, 3], m(GateKind::Swap)).unwrap();
        assert_eq!((swap.kernel, swap.swap), (Kernel::Permute, true));
        let h = lower_dense(&[1], m(GateKind::H)).unwrap();
        assert_eq!(h.kernel, Kernel::Gate1);
        let k3 = lower_dense(&[0, 1, 2], vec![C64::ZERO; 64]).unwrap();
        assert_eq!(k3.kernel, Kernel::GateK(3));
    }

    #[test]
    fn gates_pick_the_cheapest_kernel() {
        let mut c = Circuit::new(3).unwrap();
        c.x(0)
            .unwrap()
            .cz(0, 1)
            .unwrap()
            .rz(2, Angle::theta(0))
            .unwrap()
            .h(1)
            .unwrap()
            .swap(0, 2)
            .unwrap()
            .id(0)
            .unwrap()
            .rxx(0, 1, 0.2)
            .unwrap();
        let ops = lowered(&c);
        let kinds: Vec<Kernel> = ops.iter().map(|o| o.kernel).collect();
        assert_eq!(
            kinds,
            vec![
                Kernel::Permute,
                Kernel::Diagonal,
                Kernel::Diagonal,
                Kernel::Gate1,
                Kernel::Permute,
                Kernel::Gate2
            ]
        );
        // CZ folds its target into the forced mask: only |11⟩ is touched, by −1.
        assert_eq!(ops[1].forced, 0b11);
        assert!(ops[1].targets.is_empty());
        assert_eq!(ops[1].matrix, vec![-C64::ONE]);
    }

    #[test]
    fn high_targets_pair_chunks_and_high_controls_skip_chunks() {
        // 5 qubits in chunks of 2^3: chunk index = qubits 3, 4.
        let mut c = Circuit::new(5).unwrap();
        c.cnot(4, 3).unwrap();
        let op = &lowered(&c)[0];
        let d = expand(op, 5, 3, 0);
        // Control on qubit 4 keeps chunks with bit 1 set; target 3 pairs chunk 2 with chunk 3.
        assert_eq!(d.slots, vec![[Some(2), Some(3), None, None]]);
        assert_eq!(d.access, Access::ChunkedPairs(Pairing::Items));
        assert_eq!(d.record.x1, 1 << 3);
        assert_eq!(d.threads, 8);
        // A low gate runs once per chunk, single-binding.
        let mut c = Circuit::new(5).unwrap();
        c.h(1).unwrap();
        let d = expand(&lowered(&c)[0], 5, 3, 0);
        assert_eq!(d.slots.len(), 4);
        assert!(d.access == Access::SinglePairs(Pairing::Items) && d.threads == 4);
    }

    /// What a circuit builder call returns.
    type Built<'a> = crate::error::Result<&'a mut Circuit>;

    /// The dispatch of the one-gate circuit `build` makes on `n` qubits, unchunked.
    fn first_dispatch(n: usize, build: impl FnOnce(&mut Circuit) -> Built<'_>) -> Expansion {
        let mut c = Circuit::new(n).unwrap();
        build(&mut c).unwrap();
        expand(&lowered(&c)[0], n, n, 0)
    }

    #[test]
    fn paired_access_only_where_qubit_0_allows_it() {
        fn access(n: usize, build: impl FnOnce(&mut Circuit) -> Built<'_>) -> Access {
            first_dispatch(n, build).access
        }
        let items = Access::SinglePairs(Pairing::Items);
        let target = Access::SinglePairs(Pairing::Target);
        // Bit 0 free: neighbouring items pair up.
        assert_eq!(access(4, |c| c.h(2)), items);
        assert_eq!(access(4, |c| c.rxx(1, 3, 0.3)), items);
        assert_eq!(access(4, |c| c.rz(2, 0.3)), items);
        assert_eq!(access(4, |c| c.cnot(1, 2)), items);
        // Qubit 0 the first target: each item's values pair up.
        assert_eq!(access(4, |c| c.h(0)), target);
        assert_eq!(access(4, |c| c.rxx(0, 3, 0.3)), target);
        assert_eq!(access(4, |c| c.rz(0, 0.3)), target);
        assert_eq!(access(4, |c| c.cnot(2, 0)), target);
        // Qubit 0 a control, the second target, or in a SWAP; fewer than four items.
        assert_eq!(access(4, |c| c.cry(0, 2, 0.3)), Access::Single);
        assert_eq!(access(4, |c| c.rxx(3, 0, 0.3)), Access::Single);
        assert_eq!(access(4, |c| c.swap(0, 2)), Access::Single);
        assert_eq!(access(3, |c| c.rxx(1, 2, 0.3)), Access::Single);
    }

    #[test]
    fn light_kernels_loop_over_groups_only_when_paired_with_a_matrix() {
        fn groups(n: usize, build: impl FnOnce(&mut Circuit) -> Built<'_>) -> u32 {
            first_dispatch(n, build).record.groups
        }
        // Paired 1q, 2q, diagonal: four groups, or as many as the items fill (8 items: 2).
        assert_eq!(groups(10, |c| c.h(3)), 4);
        assert_eq!(groups(10, |c| c.rxx(0, 5, 0.3)), 4);
        assert_eq!(groups(10, |c| c.rz(4, 0.3)), 4);
        assert_eq!(groups(4, |c| c.h(2)), 2);
        // A permutation, or an unpaired dispatch (control on qubit 0): one group.
        assert_eq!(groups(10, |c| c.cnot(1, 2)), 1);
        assert_eq!(groups(10, |c| c.cry(0, 2, 0.3)), 1);
    }
}
