//! Gate fusion on the GPU by register blocks.
//!
//! The scheduler walks the lowered ops in order and groups runs of them into *blocks*: a set of
//! at most k qubits that holds every target and control of every op in the run. The block
//! kernel (`shaders/gates/block.wgsl`) gives each invocation the 2^k amplitudes of one block in
//! registers and applies the whole run as straight-line code generated here, so that every
//! register index is a constant: a permutation is a renaming at generation time, a control
//! leaves the pairs it excludes out of the code, and no amplitude is loaded or stored between
//! the gates of a run.
//!
//! Why registers and not workgroup memory (the tile kernel, `tile.rs`): on CPU adapters
//! (lavapipe) every access to memory with a per-invocation index, workgroup memory included,
//! costs as much as one to the state, so a gate inside a workgroup tile costs about what a
//! pass does; in registers it is arithmetic only. The generated code depends only on the run's
//! local structure (kinds, local targets and controls, matrix sizes), not on the qubit
//! positions or the angles, so a layered circuit compiles a handful of pipelines once.

use super::abi::OpRecord;
use super::lower::GateOp;
use super::shaders::{Kernel, MatrixSource};
use std::fmt::Write;

/// A scheduled piece of a circuit.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Piece {
    /// One op through its own kernel.
    Single(usize),
    /// A run of ops (indices in increasing order) on the block of qubits `mask`. Ops the run
    /// passes over act on other qubits, so they commute with it.
    Block { mask: u64, ops: Vec<usize> },
}

/// The qubits an op reads or writes: its targets and its forced (control) bits.
fn qubit_mask(op: &GateOp) -> u64 {
    op.targets.iter().fold(op.forced, |m, &q| m | (1u64 << q))
}

/// Most ops in one run: the generated code, and the adapter's compile time for it, grow with
/// the run, and compile time faster than linearly (lavapipe: a 200-op run on 5 qubits took
/// seconds to compile). A layer of a hardware-efficient ansatz is 3–4 ops per qubit.
pub(crate) const MAX_RUN_OPS: usize = 16;

/// How far past the first pending op a run looks for ops to take.
const LOOKAHEAD: usize = 128;

/// Groups `ops` into runs of at most [`MAX_RUN_OPS`] ops on blocks of at most `block_qubits`
/// qubits, all below `chunk_bits` (a block is one chunk's business), whose matrices hold at
/// most `max_entries` complex entries together (`op.matrix.len()` each; the cap of a record
/// that carries them inline); runs of one op stay single. A run may take an op past others when none of those it passes shares a qubit with
/// it, so the pieces are a reordering of `ops` that keeps the order of every qubit's ops.
///
/// Each run starts at the first pending op; its block is the better (more ops taken) of two
/// choices: the qubits of the ops in order until the block is full, or the qubits reached
/// through ops that share a qubit with the block so far. The second follows entangling chains
/// (a CNOT ladder), which the first cuts after the single-qubit layer fills the block.
pub(crate) fn schedule(
    ops: &[GateOp],
    chunk_bits: usize,
    block_qubits: usize,
    max_entries: usize,
) -> Vec<Piece> {
    let needs: Vec<u64> = ops.iter().map(qubit_mask).collect();
    let blockable: Vec<bool> = ops
        .iter()
        .zip(&needs)
        .map(|(op, &need)| {
            matches!(
                op.kernel,
                Kernel::Gate1 | Kernel::Gate2 | Kernel::Diagonal | Kernel::Permute
            ) && chunk_bits < 64
                && need >> chunk_bits == 0
                && need.count_ones() as usize <= block_qubits
        })
        .collect();
    let fits = |mask: u64, need: u64| (mask | need).count_ones() as usize <= block_qubits;
    let mut done = vec![false; ops.len()];
    let mut out = Vec::new();
    for start in 0..ops.len() {
        if done[start] {
            continue;
        }
        done[start] = true;
        if !blockable[start] {
            out.push(Piece::Single(start));
            continue;
        }
        let window: Vec<usize> = (start + 1..ops.len().min(start + LOOKAHEAD))
            .filter(|&j| !done[j])
            .collect();
        // The ops a block `mask` takes: in order, each on the block and not behind a passed op.
        let take = |mask: u64| -> Vec<usize> {
            let mut taken = vec![start];
            let mut entries = ops[start].matrix.len();
            let mut passed = 0u64;
            for &j in &window {
                if taken.len() == MAX_RUN_OPS {
                    break;
                }
                let fits_entries = entries + ops[j].matrix.len() <= max_entries;
                if blockable[j] && needs[j] & !mask == 0 && needs[j] & passed == 0 && fits_entries {
                    entries += ops[j].matrix.len();
                    taken.push(j);
                } else {
                    passed |= needs[j];
                }
            }
            taken
        };
        let mut in_order = needs[start];
        for &j in &window {
            if blockable[j] && fits(in_order, needs[j]) {
                in_order |= needs[j];
            }
        }
        let mut chained = needs[start];
        for &j in &window {
            if blockable[j] && needs[j] & chained != 0 && fits(chained, needs[j]) {
                chained |= needs[j];
            }
        }
        for &j in &window {
            if blockable[j] && fits(chained, needs[j]) {
                chained |= needs[j];
            }
        }
        let (a, b) = (take(in_order), take(chained));
        let (mask, run) = if b.len() > a.len() {
            (chained, b)
        } else {
            (in_order, a)
        };
        for &j in &run {
            done[j] = true;
        }
        if run.len() == 1 {
            out.push(Piece::Single(start));
        } else {
            // The block is the qubits the run uses: no register for an idle qubit.
            let used = run.iter().fold(0, |m, &j| m | needs[j]);
            debug_assert_eq!(used & !mask, 0);
            out.push(Piece::Block {
                mask: used,
                ops: run,
            });
        }
    }
    out
}

/// Where each of a run's matrices starts when they are packed one after another: the running
/// sum of `lens` (reals each), starting at 0.
pub(crate) fn packed_offsets(lens: impl IntoIterator<Item = usize>) -> Vec<usize> {
    lens.into_iter()
        .scan(0, |at, len| {
            let here = *at;
            *at += len;
            Some(here)
        })
        .collect()
}

/// Local bit of global qubit `q` in the block `mask` (its rank among the mask's bits).
fn local(mask: u64, q: usize) -> usize {
    (mask & ((1u64 << q) - 1)).count_ones() as usize
}

/// Local mask of the global bits `m` (all inside `mask`).
fn local_mask(mask: u64, m: u64) -> usize {
    (0..64)
        .filter(|&q| m >> q & 1 == 1)
        .fold(0, |acc, q| acc | (1 << local(mask, q)))
}

/// Emits straight-line WGSL for a run: register `a{k}` holds local amplitude k, every gate
/// writes fresh `let`s, and `cur[k]` names the value now at local index k.
struct Emitter {
    code: String,
    cur: Vec<String>,
    next: usize,
    /// Entries come from the op record (`inline_entry`) rather than the storage buffer.
    inline: bool,
}

impl Emitter {
    fn value(&mut self, expr: String) -> String {
        let name = format!("v{}", self.next);
        self.next += 1;
        let _ = writeln!(self.code, "    let {name} = {expr};");
        name
    }

    /// `let`s for `count` complex matrix entries at `offset` reals past the run's first.
    fn entries(&mut self, offset: usize, count: usize) -> Vec<String> {
        (0..count)
            .map(|e| {
                let expr = if self.inline {
                    format!("inline_entry({}u)", offset / 2 + e)
                } else {
                    format!("complex_at(mats + {}u)", offset + 2 * e)
                };
                self.value(expr)
            })
            .collect()
    }
}

/// Everything [`generate`] reads of a run, compactly: the block size, then per op its kind,
/// swap flag, matrix length, local targets and forced mask, and matrix offset (none for a
/// permutation). Equal
/// signatures give equal code, so the signature keys the compiled kernels without generating
/// the code on every `apply`.
pub(crate) fn signature(
    mask: u64,
    ops: &[&GateOp],
    offsets: &[usize],
    source: MatrixSource,
) -> Vec<u32> {
    let mut sig = vec![mask.count_ones() | u32::from(source == MatrixSource::Inline) << 8];
    for (op, &offset) in ops.iter().zip(offsets) {
        let kind = match op.kernel {
            Kernel::Gate1 => 0,
            Kernel::Gate2 => 1,
            Kernel::Diagonal => 2,
            _ => 3,
        };
        let targets = op
            .targets
            .iter()
            .fold(0u32, |t, &q| (t << 4) | (local(mask, q) as u32 + 1));
        sig.extend([
            kind | (u32::from(op.swap) << 2) | ((op.matrix.len() as u32) << 3),
            targets,
            local_mask(mask, op.forced) as u32,
            // A permutation reads no entries: its offset does not reach the code.
            if op.kernel == Kernel::Permute {
                0
            } else {
                offset as u32
            },
        ]);
    }
    sig
}

/// The code of a run on block `mask`: loads, every op, stores. `offsets[i]` is where op i's
/// matrix entries start, in reals past the first op's, in the storage buffer or (`Inline`)
/// in the op record.
pub(crate) fn generate(
    mask: u64,
    ops: &[&GateOp],
    offsets: &[usize],
    source: MatrixSource,
) -> String {
    let k = mask.count_ones() as usize;
    let size = 1usize << k;
    let index = |i: usize| -> String {
        let bits: Vec<String> = (0..k)
            .filter(|j| i >> j & 1 == 1)
            .map(|j| format!("bit[{j}]"))
            .collect();
        if bits.is_empty() {
            "base".into()
        } else {
            format!("base | {}", bits.join(" | "))
        }
    };
    let mut e = Emitter {
        code: String::new(),
        cur: Vec::with_capacity(size),
        next: 0,
        inline: source == MatrixSource::Inline,
    };
    for i in 0..size {
        let v = e.value(format!("load({})", index(i)));
        e.cur.push(v);
    }
    for (op, &offset) in ops.iter().zip(offsets) {
        let forced = local_mask(mask, op.forced);
        let t: Vec<usize> = op.targets.iter().map(|&q| 1 << local(mask, q)).collect();
        let all_targets = t.iter().fold(0, |m, b| m | b);
        // The work items: local indices with the targets clear and every control set.
        let items: Vec<usize> = (0..size)
            .filter(|i| i & all_targets == 0 && i & forced == forced)
            .collect();
        match op.kernel {
            Kernel::Gate1 => {
                let m = e.entries(offset, 4);
                for &i in &items {
                    let (lo, hi) = (e.cur[i].clone(), e.cur[i | t[0]].clone());
                    let new_lo = e.value(format!("row2({}, {}, {lo}, {hi})", m[0], m[1]));
                    let new_hi = e.value(format!("row2({}, {}, {lo}, {hi})", m[2], m[3]));
                    e.cur[i] = new_lo;
                    e.cur[i | t[0]] = new_hi;
                }
            }
            Kernel::Gate2 => {
                let m = e.entries(offset, 16);
                for &i in &items {
                    let slots = [i, i | t[0], i | t[1], i | t[0] | t[1]];
                    let a: Vec<String> = slots.iter().map(|&s| e.cur[s].clone()).collect();
                    let rows: Vec<String> = (0..4)
                        .map(|r| {
                            let m = &m[4 * r..4 * r + 4];
                            e.value(format!(
                                "cmac(cmac(row2({}, {}, {}, {}), {}, {}), {}, {})",
                                m[0], m[1], a[0], a[1], m[2], a[2], m[3], a[3]
                            ))
                        })
                        .collect();
                    for (s, v) in slots.iter().zip(rows) {
                        e.cur[*s] = v;
                    }
                }
            }
            Kernel::Diagonal => {
                let d = e.entries(offset, op.matrix.len().max(1));
                // A diagonal's items are every index with the controls set (no target fixed).
                for i in (0..size).filter(|i| i & forced == forced) {
                    let which = t
                        .iter()
                        .enumerate()
                        .fold(0, |w, (j, &b)| w | usize::from(i & b != 0) << j);
                    let v = e.value(format!("cmul({}, {})", d[which.min(d.len() - 1)], e.cur[i]));
                    e.cur[i] = v;
                }
            }
            _ => {
                // Permutation: X swaps |0⟩,|1⟩ of its target; SWAP swaps |01⟩,|10⟩.
                for &i in &items {
                    let (x, y) = if op.swap {
                        (i | t[0], i | t[1])
                    } else {
                        (i, i | t[0])
                    };
                    e.cur.swap(x, y);
                }
            }
        }
    }
    for i in 0..size {
        let _ = writeln!(e.code, "    store({}, {});", index(i), e.cur[i]);
    }
    e.code
}

/// The op record of a block dispatch over one chunk: one invocation per block.
pub(crate) fn record(mask: u64, chunk_bits: usize, matrices: usize, chunk: u32) -> OpRecord {
    OpRecord {
        n_threads: 1u32 << (chunk_bits - mask.count_ones() as usize),
        fixed_mask: mask as u32,
        in_offset: matrices as u32,
        x0: chunk,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Bindings, Circuit};
    use crate::sim::gpu::lower::lower;

    fn ansatz_layer(n: usize) -> Vec<GateOp> {
        let mut c = Circuit::new(n).unwrap();
        for q in 0..n {
            c.ry(q, 0.1).unwrap().rz(q, 0.2).unwrap();
        }
        for q in 0..n {
            c.cnot(q, (q + 1) % n).unwrap();
        }
        c.gates()
            .iter()
            .filter_map(|g| lower(g, &Bindings::none()))
            .collect()
    }

    #[test]
    fn ansatz_layer_runs_in_few_blocks_covering_every_op_in_order() {
        let ops = ansatz_layer(20);
        let pieces = schedule(&ops, 20, 5, usize::MAX);
        // The execution order: every op once, and each qubit's ops in circuit order.
        let mut order = Vec::new();
        for p in &pieces {
            match p {
                Piece::Single(i) => order.push(*i),
                Piece::Block { mask, ops: run } => {
                    assert!(run.len() >= 2 && mask.count_ones() <= 5);
                    for &i in run {
                        assert_eq!(qubit_mask(&ops[i]) & !mask, 0);
                    }
                    order.extend(run);
                }
            }
        }
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..ops.len()).collect::<Vec<_>>());
        for (x, &i) in order.iter().enumerate() {
            for &j in &order[x + 1..] {
                if qubit_mask(&ops[i]) & qubit_mask(&ops[j]) != 0 {
                    assert!(i < j, "op {j} moved before op {i} on a shared qubit");
                }
            }
        }
        // 60 gates in 5 passes: the CNOT ladder rides with the rotations, 4 qubits a block.
        assert!(pieces.len() <= 6, "{} passes: {pieces:?}", pieces.len());
    }

    #[test]
    fn generated_kernels_of_every_op_kind_pass_naga_validation() {
        // Every lowered kind on a 4-qubit block: dense 1q and 2q (controlled too), diagonals
        // with 0 (folded phase), 1 and 2 targets, X, CNOT, Toffoli and SWAP.
        let mut c = Circuit::new(6).unwrap();
        c.ry(1, 0.3)
            .unwrap()
            .cry(2, 4, 0.2)
            .unwrap()
            .rxx(1, 4, 0.5)
            .unwrap();
        c.s(2)
            .unwrap()
            .rz(4, 0.1)
            .unwrap()
            .rzz(1, 2, 0.7)
            .unwrap()
            .cz(2, 4)
            .unwrap();
        c.x(5)
            .unwrap()
            .cnot(1, 5)
            .unwrap()
            .toffoli(1, 2, 4)
            .unwrap()
            .swap(2, 5)
            .unwrap();
        let ops: Vec<GateOp> = c
            .gates()
            .iter()
            .filter_map(|g| lower(g, &Bindings::none()))
            .collect();
        let kinds: Vec<Kernel> = ops.iter().map(|o| o.kernel).collect();
        for k in [
            Kernel::Gate1,
            Kernel::Gate2,
            Kernel::Diagonal,
            Kernel::Permute,
        ] {
            assert!(kinds.contains(&k), "{k:?} missing");
        }
        let pieces = schedule(&ops, 6, 4, usize::MAX);
        assert!(pieces.iter().any(|p| matches!(p, Piece::Block { .. })));
        let mut offsets = vec![0];
        for op in &ops {
            offsets.push(offsets.last().unwrap() + 2 * op.matrix.len());
        }
        for piece in pieces {
            if let Piece::Block { mask, ops: list } = piece {
                let run: Vec<&GateOp> = list.iter().map(|&i| &ops[i]).collect();
                let at: Vec<usize> = list
                    .iter()
                    .map(|&i| offsets[i] - offsets[list[0]])
                    .collect();
                for from in [MatrixSource::Buffer, MatrixSource::Inline] {
                    let code = generate(mask, &run, &at, from);
                    for precision in [crate::Precision::F32, crate::Precision::F64] {
                        let k = mask.count_ones() as usize;
                        let source = crate::sim::gpu::shaders::block_source(k, &code, precision);
                        if let Err(e) = crate::sim::gpu::shaders::validate(&source, precision) {
                            panic!("block {mask:#b} ops {list:?} ({from:?}): {e}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn equal_signatures_mean_equal_code_and_repeated_layers_share_them() {
        // Two layers of the ansatz: 10 blocks, whose signatures must decide code equality.
        let mut ops = ansatz_layer(20);
        ops.extend(ansatz_layer(20));
        let mut offsets = vec![0];
        for op in &ops {
            offsets.push(offsets.last().unwrap() + 2 * op.matrix.len());
        }
        let runs: Vec<(Vec<u32>, String)> = schedule(&ops, 20, 5, usize::MAX)
            .into_iter()
            .filter_map(|p| match p {
                Piece::Block { mask, ops: list } => {
                    let run: Vec<&GateOp> = list.iter().map(|&i| &ops[i]).collect();
                    let at: Vec<usize> = list
                        .iter()
                        .map(|&i| offsets[i] - offsets[list[0]])
                        .collect();
                    let from = MatrixSource::Buffer;
                    Some((
                        signature(mask, &run, &at, from),
                        generate(mask, &run, &at, from),
                    ))
                }
                Piece::Single(_) => None,
            })
            .collect();
        let mut shared = 0;
        for (x, (sig_a, code_a)) in runs.iter().enumerate() {
            for (sig_b, code_b) in &runs[x + 1..] {
                assert_eq!(sig_a == sig_b, code_a == code_b, "{sig_a:?} vs {sig_b:?}");
                shared += usize::from(sig_a == sig_b);
            }
        }
        // Blocks at different qubit positions and in different layers share their code.
        assert!(shared > 0, "no two runs share a kernel");
    }

    #[test]
    fn runs_keep_within_the_entry_cap() {
        // A run carried inline must fit its record: the cap ends runs early, every op is still
        // scheduled exactly once.
        let mut ops = ansatz_layer(20);
        ops.extend(ansatz_layer(20));
        let entries = |pieces: &[Piece]| -> Vec<usize> {
            pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Block { ops: list, .. } => {
                        Some(list.iter().map(|&i| ops[i].matrix.len()).sum())
                    }
                    Piece::Single(_) => None,
                })
                .collect()
        };
        let uncapped = schedule(&ops, 20, 5, usize::MAX);
        assert!(entries(&uncapped).iter().any(|&e| e > 12), "{uncapped:?}");
        let capped = schedule(&ops, 20, 5, 12);
        assert!(entries(&capped).iter().all(|&e| e <= 12), "{capped:?}");
        let mut seen: Vec<usize> = capped
            .iter()
            .flat_map(|p| match p {
                Piece::Single(i) => vec![*i],
                Piece::Block { ops: list, .. } => list.clone(),
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..ops.len()).collect::<Vec<_>>());
    }

    #[test]
    fn permutations_rename_registers_instead_of_moving_data() {
        let ops = ansatz_layer(3);
        let refs: Vec<&GateOp> = ops.iter().collect();
        let offsets: Vec<usize> = (0..ops.len()).map(|i| 8 * i).collect();
        let code = generate(0b111, &refs, &offsets, MatrixSource::Buffer);
        // 8 loads and 8 stores, and no code for the three CNOTs beyond the renaming.
        assert_eq!(code.matches("load(").count(), 8);
        assert_eq!(code.matches("store(").count(), 8);
        // Three RYs: 4 pairs of two rows each; three RZs: 8 phases each.
        assert_eq!(code.matches("row2(").count(), 3 * 8);
        assert_eq!(code.matches("cmul(").count(), 3 * 8);
    }
}
