//! Gate fusion on the GPU by workgroup tiles.
//!
//! A pass over a statevector is memory bound, so the way to go faster is more gates per pass.
//! The scheduler walks the lowered ops in order and groups runs of them into *tiles*: a set of
//! t qubits (t from the adapter's workgroup-memory limit, ≤ 12) that contains every target of
//! every op in the run. The tile kernel (`shaders/gates/tile.wgsl`) loads the 2^t amplitudes of each
//! tile into workgroup memory, applies the whole run, and writes back once. Controls outside
//! the set are constant within a tile (checked per tile), and phase gates folded into a
//! control mask have no targets, so they join any run. The set always includes the lowest
//! qubits (contiguous memory) and grows with each op's targets until it has t qubits.

use super::abi::OpRecord;
use super::lower::GateOp;
use super::shaders::Kernel;

/// A scheduled piece of a circuit.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Segment {
    /// One op through its own kernel.
    Single(usize),
    /// A run of ops applied tile by tile; `qubits` is the tile's qubit set (t bits).
    Tile { qubits: u64, ops: Vec<usize> },
}

fn target_mask(op: &GateOp) -> u64 {
    op.targets.iter().fold(0u64, |m, &q| m | (1u64 << q))
}

/// Smallest tile worth a workgroup.
pub(crate) const MIN_TILE_QUBITS: usize = 5;

/// Most ops in one tile run (one dispatch). The tile kernel waits at a workgroup barrier once
/// per op, and a dispatch's barrier count must stay bounded: lavapipe silently corrupted the
/// state past about 3,600 barriers in one dispatch (a 1,400-gate run at n = 12 came back with
/// norm 0.003), and one long dispatch also runs into the display watchdogs of desktop drivers.
/// 256 is far below the failing count, yet splitting costs little: one extra load and store
/// of the tile per 256 gates applied to it (register blocks are capped the same way, at
/// `block::MAX_RUN_OPS`).
pub(crate) const MAX_TILE_OPS: usize = 256;

/// Groups `ops` (on a state whose chunks hold 2^`chunk_bits` amplitudes) into tile runs of
/// `tile_qubits` qubits; ops with a target on a chunk-index qubit stay single.
pub(crate) fn schedule(ops: &[GateOp], chunk_bits: usize, tile_qubits: usize) -> Vec<Segment> {
    let t = tile_qubits.min(chunk_bits);
    let mut out = Vec::new();
    // Below 32 amplitudes a tile leaves most of a GPU-sized workgroup idle: not worth it.
    if t < MIN_TILE_QUBITS {
        return (0..ops.len()).map(Segment::Single).collect();
    }
    let base: u64 = (1u64 << t.saturating_sub(2).min(5)) - 1;
    let mut current: Option<(u64, Vec<usize>)> = None;
    let flush = |current: &mut Option<(u64, Vec<usize>)>, out: &mut Vec<Segment>| {
        if let Some((mask, list)) = current.take() {
            if list.len() == 1 {
                out.push(Segment::Single(list[0]));
            } else {
                // Fill the set to exactly t qubits with the lowest unused ones.
                let mut qubits = mask;
                let mut q = 0;
                while (qubits.count_ones() as usize) < t {
                    qubits |= 1 << q;
                    q += 1;
                }
                out.push(Segment::Tile { qubits, ops: list });
            }
        }
    };
    for (i, op) in ops.iter().enumerate() {
        let need = target_mask(op);
        let tileable = matches!(
            op.kernel,
            Kernel::Gate1 | Kernel::Gate2 | Kernel::Diagonal | Kernel::Permute
        );
        if !tileable || op.targets.iter().any(|&q| q >= chunk_bits) {
            flush(&mut current, &mut out);
            out.push(Segment::Single(i));
            continue;
        }
        match current.as_mut() {
            Some((mask, list))
                if ((*mask | need).count_ones() as usize) <= t && list.len() < MAX_TILE_OPS =>
            {
                *mask |= need;
                list.push(i);
            }
            _ => {
                flush(&mut current, &mut out);
                current = Some((base | need, vec![i]));
            }
        }
    }
    flush(&mut current, &mut out);
    out
}

fn push_field(data: &mut Vec<f64>, v: u32) {
    data.push((v & 0xFFFF) as f64);
    data.push((v >> 16) as f64);
}

/// Appends the tile header (positions) and the op descriptors of a tile run to `data`, and
/// returns the record fields (header offset, descriptor offset, op count). `matrix_offset[k]`
/// is where op k's kernel data starts in `data`, `matrix_stride[k]` its per-state stride.
pub(crate) fn encode(
    data: &mut Vec<f64>,
    qubits: u64,
    chunk_bits: usize,
    ops: &[&GateOp],
    matrix_offset: &[usize],
    matrix_stride: &[usize],
) -> (u32, u32, u32) {
    let positions: Vec<usize> = (0..chunk_bits).filter(|q| qubits >> q & 1 == 1).collect();
    let outside: Vec<usize> = (0..chunk_bits).filter(|q| qubits >> q & 1 == 0).collect();
    let local = |q: usize| positions.iter().position(|&p| p == q).unwrap_or(0) as u32;
    let header = data.len() as u32;
    data.extend(positions.iter().map(|&p| p as f64));
    data.extend(outside.iter().map(|&p| p as f64));
    let descriptors = data.len() as u32;
    let chunk_mask = if chunk_bits >= 64 {
        u64::MAX
    } else {
        (1u64 << chunk_bits) - 1
    };
    for (k, op) in ops.iter().enumerate() {
        let kind = match op.kernel {
            Kernel::Gate1 => 0,
            Kernel::Gate2 => 1,
            Kernel::Diagonal => 2,
            _ => 3,
        };
        let local_mask = |m: u64| {
            (0..chunk_bits)
                .filter(|q| m >> q & 1 == 1 && qubits >> q & 1 == 1)
                .fold(0u32, |acc, q| acc | (1 << local(q)))
        };
        let ctrl = local_mask(op.forced);
        let ctrl_tile = (op.forced & chunk_mask & !qubits) as u32;
        let ctrl_chunk = (op.forced >> chunk_bits) as u32;
        let targets = local_mask(target_mask(op));
        let q0 = op.targets.first().map_or(0, |&q| local(q));
        let q1 = op.targets.get(1).map_or(0, |&q| local(q));
        // A diagonal's work item is the pair that differs in its first target (see
        // diag_pair_of in the prelude); other kernels fix all their targets.
        let fixed = if op.kernel == Kernel::Diagonal {
            ctrl | op.targets.first().map_or(0, |_| 1 << q0)
        } else {
            ctrl | targets
        };
        let (x0, x1) = if op.swap {
            (1 << q0, 1 << q1)
        } else {
            (0, 1 << q0)
        };
        for v in [
            kind,
            q0,
            q1,
            op.targets.len() as u32,
            fixed,
            ctrl,
            ctrl_tile,
            ctrl_chunk,
            matrix_offset[k] as u32,
            matrix_stride[k] as u32,
            x0,
            x1,
        ] {
            push_field(data, v);
        }
    }
    (header, descriptors, ops.len() as u32)
}

/// The op record of a tile dispatch over one chunk.
pub(crate) fn record(
    header: u32,
    descriptors: u32,
    count: u32,
    tiles: u64,
    chunk: u32,
    state_bits: u32,
) -> OpRecord {
    OpRecord {
        n_threads: tiles as u32,
        in_offset: header,
        x1: descriptors,
        count,
        x0: chunk,
        state_bits,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Bindings, Circuit};
    use crate::sim::gpu::lower::lower;

    /// The circuit's gates lowered with no bindings.
    fn lowered(c: &Circuit) -> Vec<GateOp> {
        c.gates()
            .iter()
            .filter_map(|g| lower(g, &Bindings::none()))
            .collect()
    }

    #[test]
    fn ansatz_layer_fuses_into_few_tiles() {
        let n = 20;
        let mut c = Circuit::new(n).unwrap();
        for q in 0..n {
            c.ry(q, 0.1).unwrap().rz(q, 0.2).unwrap();
        }
        for q in 0..n {
            c.cnot(q, (q + 1) % n).unwrap();
        }
        let ops = lowered(&c);
        let segments = schedule(&ops, n, 12);
        let covered: usize = segments
            .iter()
            .map(|s| {
                if let Segment::Tile { ops, .. } = s {
                    ops.len()
                } else {
                    1
                }
            })
            .sum();
        assert_eq!(covered, ops.len());
        // 60 gates in far fewer passes, every tile of exactly 12 qubits containing its targets.
        assert!(segments.len() <= 8, "{} passes", segments.len());
        for s in &segments {
            if let Segment::Tile { qubits, ops: list } = s {
                assert_eq!(qubits.count_ones(), 12);
                for &i in list {
                    assert_eq!(target_mask(&ops[i]) & !qubits, 0);
                }
            }
        }
    }

    #[test]
    fn long_runs_are_split_at_the_op_cap() {
        let n = 6;
        let mut c = Circuit::new(n).unwrap();
        for k in 0..3 * MAX_TILE_OPS {
            c.rx(k % n, 0.1).unwrap();
        }
        let ops = lowered(&c);
        let segments = schedule(&ops, n, 12);
        assert_eq!(segments.len(), 3);
        for s in &segments {
            assert!(matches!(s, Segment::Tile { ops, .. } if ops.len() == MAX_TILE_OPS));
        }
    }
}
