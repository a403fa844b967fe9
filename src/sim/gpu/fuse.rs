//! The fusion strategy, decided in one place for single states and batches: runs of lowered
//! ops become register-block passes (`block`), workgroup-tile passes (`tile`), or neither; and
//! whether consecutive gates are first fused into dense matrices.

use super::block::{self, Piece};
use super::context::GpuContext;
use super::lower::GateOp;
use super::tile::{self, Segment};

/// How runs of ops are fused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fusion {
    /// Register blocks of at most this many qubits.
    Blocks(usize),
    /// Workgroup tiles of this many qubits (below `tile::MIN_TILE_QUBITS`: no tiles).
    Tiles(usize),
}

/// What a state of 2^`chunk_bits`-amplitude chunks runs: how runs are fused, and the largest
/// dense block gates are fused into before lowering (0 or 1: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Strategy {
    /// Run fusion.
    pub runs: Fusion,
    /// Dense fusion, qubits.
    pub dense_qubits: usize,
}

/// The strategy from the context's configuration. Register blocks, where on, replace both the
/// tiles and dense fusion: they fuse runs more cheaply than dense matrices (a CNOT is a
/// renaming, a rotation 2 complex products per amplitude where a fused 2-qubit matrix takes
/// 4; blocks after 2-qubit fusion measured slower, (figures: `benches/RESULTS.md`, "Design measurements")). Dense fusion needs one matrix for every state, so `per_state_matrices` (a batch,
/// whose rows bind different angles) turns it off.
pub(crate) fn strategy(ctx: &GpuContext, chunk_bits: usize, per_state_matrices: bool) -> Strategy {
    if ctx.block_qubits > 0 {
        return Strategy {
            runs: Fusion::Blocks(ctx.block_qubits),
            dense_qubits: 0,
        };
    }
    Strategy {
        runs: Fusion::Tiles(ctx.tile_qubits.min(chunk_bits)),
        dense_qubits: if per_state_matrices {
            0
        } else {
            ctx.fusion_qubits
        },
    }
}

/// A scheduled piece of a circuit.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Run {
    /// One op through its own kernel.
    Single(usize),
    /// A run of ops applied tile by tile in the tile kernel for tiles of `size` qubits;
    /// `qubits` is the tile's qubit set.
    Tile {
        size: usize,
        qubits: u64,
        ops: Vec<usize>,
    },
    /// A run of ops (increasing indices) in one register-block pass on the qubits `mask`.
    Block { mask: u64, ops: Vec<usize> },
}

impl Fusion {
    /// Groups `ops` on chunks of 2^`chunk_bits` amplitudes into runs; a register-block run's
    /// matrices hold at most `max_entries` complex entries together.
    pub fn schedule(self, ops: &[GateOp], chunk_bits: usize, max_entries: usize) -> Vec<Run> {
        match self {
            Fusion::Blocks(k) => block::schedule(ops, chunk_bits, k, max_entries)
                .into_iter()
                .map(|p| match p {
                    Piece::Single(i) => Run::Single(i),
                    Piece::Block { mask, ops } => Run::Block { mask, ops },
                })
                .collect(),
            Fusion::Tiles(t) => tile::schedule(ops, chunk_bits, t)
                .into_iter()
                .map(|s| match s {
                    Segment::Single(i) => Run::Single(i),
                    Segment::Tile { qubits, ops } => Run::Tile {
                        size: t.min(chunk_bits),
                        qubits,
                        ops,
                    },
                })
                .collect(),
        }
    }
}
