//! The WGSL kernels under `shaders/`, embedded with `include_str!`, and their assembly.
//!
//! A kernel's full source is `precision line + host constants + ABI header + prelude + state
//! access + kernel family`: WGSL has no `#include`, and one source serves both precisions
//! through `alias real = f32;` / `f64`. The ABI header (`abi::wgsl_header`: the workgroup size
//! `WG` and `struct Op`) comes from the Rust side, so no kernel spells either itself.
//! [`validate`] parses and validates an assembled source with naga; the test suite runs it on
//! every (kernel, precision, access) combination.

use super::abi;
use crate::backend::Precision;
#[cfg(test)]
use crate::error::{Error, Result};

/// The text of `shaders/<path>.wgsl`, embedded at compile time.
macro_rules! wgsl {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/shaders/",
            $path,
            ".wgsl"
        ))
    };
}

const PRELUDE: &str = wgsl!("prelude");
const ACCESS_SINGLE: &str = wgsl!("access/access_single");
const ACCESS_CHUNKED: &str = wgsl!("access/access_chunked");
const ACCESS_SINGLE_PAIRS: &str = wgsl!("access/access_single_pairs");
const ACCESS_CHUNKED_PAIRS: &str = wgsl!("access/access_chunked_pairs");

/// A kernel family: one WGSL file each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Dense one-qubit unitary with a control mask (`gate1.wgsl`).
    Gate1,
    /// Dense two-qubit unitary with a control mask (`gate2.wgsl`).
    Gate2,
    /// Phase-only pass for diagonal gates (`diagonal.wgsl`).
    Diagonal,
    /// Amplitude swaps for X, CNOT, Toffoli, SWAP (`permute.wgsl`).
    Permute,
    /// Pauli-string expectation partial sums (`pauli_expectation.wgsl`).
    PauliExpectation,
    /// Pauli-string expectation partial sums of a table of strings (`pauli_terms.wgsl`).
    PauliTerms,
    /// Segmented complex sum (`reduce.wgsl`).
    Reduce,
    /// |ψ|² per amplitude (`probabilities.wgsl`).
    Probabilities,
    /// Probability mass per block of `WORKGROUP_SIZE` amplitudes (`sample.wgsl`, entry `block_sums`).
    SampleBlockSums,
    /// Inverse-transform pick inside a block (`sample.wgsl`, entry `pick`).
    SamplePick,
    /// Adjoint derivative ⟨λ|∂U|ψ⟩ partial sums, one-qubit gate (`grad1.wgsl`).
    Grad1,
    /// Adjoint derivative partial sums, two-qubit gate (`grad2.wgsl`).
    Grad2,
    /// Adjoint derivative partial sums, diagonal gate (`grad_diag.wgsl`).
    GradDiag,
    /// λ += w·Pψ for a Pauli string (`pauli_accumulate.wgsl`).
    PauliAccumulate,
    /// Resets batched states to |0…0⟩ or zero (`init.wgsl`).
    Init,
    /// Gram matrix ⟨a_i|b_j⟩ partial sums of two state batches (`overlap.wgsl`).
    Overlap,
    /// Dense unitary on k = 3..=5 qubits, a fused block (`gatek.wgsl`); the value is k.
    GateK(u8),
    /// Plain copy of a state, the bandwidth ceiling in benchmarks (`copy.wgsl`).
    Copy,
    /// A run of gates applied to 2^t-amplitude tiles held in workgroup memory (`tile.wgsl`):
    /// t, and the workgroup size (a power of two).
    Tile(u8, u16),
    /// A run of gates applied to blocks of amplitudes held in registers (`block.wgsl` with
    /// code generated per run structure, see `gpu::block`); the value is the generated code's
    /// id in its GPU context.
    Block(u32),
}

impl Kernel {
    /// Every kernel, for validation and pipeline warm-up.
    #[cfg(test)]
    pub const ALL: [Kernel; 19] = [
        Kernel::Gate1,
        Kernel::Gate2,
        Kernel::Diagonal,
        Kernel::Permute,
        Kernel::PauliExpectation,
        Kernel::PauliTerms,
        Kernel::Reduce,
        Kernel::Probabilities,
        Kernel::SampleBlockSums,
        Kernel::SamplePick,
        Kernel::Grad1,
        Kernel::Grad2,
        Kernel::GradDiag,
        Kernel::PauliAccumulate,
        Kernel::Init,
        Kernel::Overlap,
        Kernel::Tile(11, abi::WORKGROUP_SIZE as u16),
        Kernel::Copy,
        Kernel::GateK(4),
    ];

    /// The WGSL file's contents.
    pub fn body(self) -> &'static str {
        match self {
            Kernel::Gate1 => wgsl!("gates/gate1"),
            Kernel::Gate2 => wgsl!("gates/gate2"),
            Kernel::Diagonal => wgsl!("gates/diagonal"),
            Kernel::Permute => wgsl!("gates/permute"),
            Kernel::PauliExpectation => wgsl!("readout/pauli_expectation"),
            Kernel::PauliTerms => wgsl!("readout/pauli_terms"),
            Kernel::Reduce => wgsl!("readout/reduce"),
            Kernel::Probabilities => wgsl!("readout/probabilities"),
            Kernel::SampleBlockSums | Kernel::SamplePick => wgsl!("readout/sample"),
            Kernel::Grad1 => wgsl!("gradients/grad1"),
            Kernel::Grad2 => wgsl!("gradients/grad2"),
            Kernel::GradDiag => wgsl!("gradients/grad_diag"),
            Kernel::PauliAccumulate => wgsl!("readout/pauli_accumulate"),
            Kernel::Init => wgsl!("gates/init"),
            Kernel::Overlap => wgsl!("readout/overlap"),
            Kernel::Tile(..) => wgsl!("gates/tile"),
            Kernel::Copy => wgsl!("gates/copy"),
            Kernel::GateK(_) => wgsl!("gates/gatek"),
            Kernel::Block(_) => BLOCK_TEMPLATE,
        }
    }

    /// Whether the kernel exists in `access` mode: the kernels that read two states (ψ and λ)
    /// bind λ at binding 3 and run on single-binding states only; the paired modes serve the
    /// light gate kernels (see [`Kernel::has_paired_path`]) and the copy, which uses only them.
    #[cfg(test)]
    pub fn supports(self, access: Access) -> bool {
        if access.pairing().is_some() {
            return self.has_paired_path()
                || (self == Kernel::Copy && access == Access::SinglePairs(Pairing::Items));
        }
        self != Kernel::Copy
            && !matches!(
                (self, access),
                (
                    Kernel::Grad1
                        | Kernel::Grad2
                        | Kernel::GradDiag
                        | Kernel::PauliAccumulate
                        | Kernel::Overlap
                        | Kernel::Tile(..)
                        | Kernel::Block(_),
                    Access::Chunked
                )
            )
    }

    /// Whether the kernel has a `PAIRS` path (both pairings): see `gpu::lower::access_for` for
    /// when the host picks it.
    pub fn has_paired_path(self) -> bool {
        matches!(
            self,
            Kernel::Gate1 | Kernel::Gate2 | Kernel::Diagonal | Kernel::Permute
        )
    }

    /// Item groups each invocation takes at most (`GROUPS` in the WGSL, prepended by the host):
    /// the light gate kernels with a matrix (1q, 2q, diagonal), paired, take up to
    /// [`LIGHT_GROUPS`] groups of [`GROUP_ITEMS`] in a loop (see `item_space` in the prelude),
    /// so the op record and matrix they read once per invocation serve four times the items;
    /// without a matrix (permutation) or unpaired the loop cost more than it saved
    /// (figures: `benches/RESULTS.md`, "Design measurements").
    pub fn groups_per_invocation(self, access: Access) -> u64 {
        let looped = matches!(self, Kernel::Gate1 | Kernel::Gate2 | Kernel::Diagonal);
        if looped && access.pairing().is_some() {
            LIGHT_GROUPS
        } else {
            1
        }
    }

    /// Work items (`Op::n_threads`) each invocation of `self` in `access` mode takes (at most):
    /// the light gate kernels and the dense k-qubit kernel [`GROUP_ITEMS`] neighbouring items
    /// per group (see `group_bases` in the prelude) times their groups, spreading the
    /// per-invocation cost that dominates them on software adapters (eight unrolled items were
    /// slower); the copy ceiling is fastest with 8 (figures: `benches/RESULTS.md`, "Design measurements"). Dispatch
    /// `n_threads.div_ceil(this)` invocations.
    pub fn items_per_invocation(self, access: Access) -> u64 {
        match self {
            Kernel::Gate1
            | Kernel::Gate2
            | Kernel::Diagonal
            | Kernel::Permute
            | Kernel::GateK(_) => GROUP_ITEMS * self.groups_per_invocation(access),
            Kernel::Copy => 8,
            _ => 1,
        }
    }

    /// The entry point's name.
    pub fn entry_point(self) -> &'static str {
        match self {
            Kernel::SampleBlockSums => "block_sums",
            Kernel::SamplePick => "pick",
            _ => "main",
        }
    }
}

/// Work items per group of the light gate kernels and the dense k-qubit kernel (`ITEMS` in the
/// prelude): a group's items are loaded and stored together, and a paired dispatch needs at
/// least this many items so that a group's items are distinct.
pub const GROUP_ITEMS: u64 = 4;

/// Groups per invocation of the light gate kernels (`GROUPS` in the prelude), at most.
pub const LIGHT_GROUPS: u64 = 4;

/// Where a kernel reads its gate matrix (`mat()` in the prelude). A compile-time choice, not a
/// branch at run time: on software adapters a uniform branch around the per-state loads costs
/// as much as the gate's arithmetic (figures: `benches/RESULTS.md`, "Design measurements").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatrixSource {
    /// From `aux_in` at `in_offset + b · batch_stride` (per-state or long matrices).
    Buffer,
    /// Inline in the op record (`Op::m`): a matrix (or a register-block run's matrices) of at
    /// most `INLINE_MATRIX_ENTRIES` entries, shared by every state.
    Inline,
}

/// How a dispatch sees the state: one buffer, or up to four chunk buffers; one amplitude per
/// element, or (the paired modes, for the light gate kernels where qubit 0 allows it) pairs of
/// neighbouring amplitudes (2k, 2k + 1), so that one access moves two: faster where loads and
/// stores go per element and lane, as on lavapipe (figures: `benches/RESULTS.md`, "Design measurements").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// The state (or the chunk) is one binding.
    Single,
    /// Up to four chunk bindings, selected by the index bits ≥ `chunk_bits`.
    Chunked,
    /// One binding, read and written as pairs of amplitudes.
    SinglePairs(Pairing),
    /// Up to four chunk bindings, read and written as pairs of amplitudes.
    ChunkedPairs(Pairing),
}

/// What the two amplitudes of a pair are to a paired kernel (`PAIR_TARGET` in the WGSL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pairing {
    /// Two neighbouring work items (bit 0 is free: no target or control on qubit 0).
    Items,
    /// The two values of the first target, qubit 0, within one work item.
    Target,
}

impl Access {
    /// Every access mode.
    #[cfg(test)]
    pub const ALL: [Access; 6] = [
        Access::Single,
        Access::Chunked,
        Access::SinglePairs(Pairing::Items),
        Access::ChunkedPairs(Pairing::Items),
        Access::SinglePairs(Pairing::Target),
        Access::ChunkedPairs(Pairing::Target),
    ];

    /// How the state is paired, if it is seen as pairs of amplitudes.
    pub fn pairing(self) -> Option<Pairing> {
        match self {
            Access::SinglePairs(p) | Access::ChunkedPairs(p) => Some(p),
            Access::Single | Access::Chunked => None,
        }
    }

    /// The same bindings seen as pairs of amplitudes, paired as `pairing`.
    pub fn paired(self, pairing: Pairing) -> Access {
        match self {
            Access::Single | Access::SinglePairs(_) => Access::SinglePairs(pairing),
            Access::Chunked | Access::ChunkedPairs(_) => Access::ChunkedPairs(pairing),
        }
    }

    fn module(self) -> &'static str {
        match self {
            Access::Single => ACCESS_SINGLE,
            Access::Chunked => ACCESS_CHUNKED,
            Access::SinglePairs(_) => ACCESS_SINGLE_PAIRS,
            Access::ChunkedPairs(_) => ACCESS_CHUNKED_PAIRS,
        }
    }
}

/// The assembled WGSL source of `kernel` at `precision` with `access`, reading matrices from
/// the buffer.
#[cfg(test)]
pub fn source(kernel: Kernel, precision: Precision, access: Access) -> String {
    source_with(kernel, precision, access, MatrixSource::Buffer)
}

/// The assembled WGSL source of `kernel` at `precision` with `access`, reading its matrices
/// from `matrices`.
pub fn source_with(
    kernel: Kernel,
    precision: Precision,
    access: Access,
    matrices: MatrixSource,
) -> String {
    let head = match precision {
        Precision::F32 => "alias real = f32;\n",
        Precision::F64 => "alias real = f64;\n",
    };
    let access_src = access.module();
    let tile = match kernel {
        Kernel::Tile(t, wg) => {
            format!("const TILE_QUBITS: u32 = {t}u;\nconst TILE_WG: u32 = {wg}u;\n")
        }
        Kernel::GateK(k) => format!("const K: u32 = {k}u;\n"),
        _ => String::new(),
    };
    let groups = kernel.groups_per_invocation(access);
    let inline = matrices == MatrixSource::Inline;
    let pairs = access.pairing().is_some();
    let target = access.pairing() == Some(Pairing::Target);
    let abi = abi::wgsl_header();
    format!(
        "{head}{tile}const INLINE_MAT: bool = {inline};\nconst PAIRS: bool = {pairs};\n\
         const PAIR_TARGET: bool = {target};\nconst ITEMS: u32 = {GROUP_ITEMS}u;\n\
         const GROUPS: u32 = {groups}u;\n{abi}\n{PRELUDE}\n{access_src}\n{}",
        kernel.body()
    )
}

/// The block kernel's template: [`block_source`] puts a run's generated code at `// GATES`.
const BLOCK_TEMPLATE: &str = wgsl!("gates/block");

/// The assembled WGSL source of a block kernel on `block_qubits` qubits whose run code (from
/// `gpu::block::generate`) is `gates`.
pub fn block_source(block_qubits: usize, gates: &str, precision: Precision) -> String {
    let template = source_with(
        Kernel::Block(0),
        precision,
        Access::Single,
        MatrixSource::Buffer,
    );
    format!(
        "const BLOCK_QUBITS: u32 = {block_qubits}u;\n{}",
        template.replacen("// GATES", gates, 1)
    )
}

/// Parses and validates `wgsl` with naga, allowing f64 when `precision` is F64.
#[cfg(test)]
pub fn validate(wgsl: &str, precision: Precision) -> Result<()> {
    let module = naga::front::wgsl::parse_str(wgsl)
        .map_err(|e| Error::Device(format!("WGSL parse error: {}", e.emit_to_string(wgsl))))?;
    let mut caps = naga::valid::Capabilities::empty();
    if precision == Precision::F64 {
        caps |= naga::valid::Capabilities::FLOAT64;
    }
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
        .validate(&module)
        .map_err(|e| Error::Device(format!("WGSL validation error: {}", e.emit_to_string(wgsl))))?;
    Ok(())
}

/// Every WGSL kernel parses and validates with naga, in both precisions and every access mode
/// it has.
#[cfg(test)]
mod validation {
    use super::*;

    #[test]
    fn every_kernel_validates_in_every_variant() {
        let mut failures = Vec::new();
        let mut checked = 0;
        for kernel in Kernel::ALL {
            for precision in [Precision::F32, Precision::F64] {
                for access in Access::ALL {
                    if !kernel.supports(access) {
                        continue;
                    }
                    for matrices in [MatrixSource::Buffer, MatrixSource::Inline] {
                        checked += 1;
                        let src = source_with(kernel, precision, access, matrices);
                        if let Err(e) = validate(&src, precision) {
                            failures.push(format!(
                                "{kernel:?} {precision:?} {access:?} {matrices:?}: {e}"
                            ));
                        }
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {checked} variants failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        // 12 kernels in both unpaired access modes, 4 of them (the light gate kernels) also in
        // the four paired modes; 5 two-state kernels and the tile single-binding only; the copy in
        // single item-paired mode only; two precisions; both matrix sources.
        assert_eq!(checked, 2 * 2 * (12 * 2 + 4 * 4 + 6 + 1));
    }

    #[test]
    fn tile_kernel_validates_for_every_tile_size() {
        for t in 1..=12u8 {
            for wg in [32u16, 64, abi::WORKGROUP_SIZE as u16] {
                for precision in [Precision::F32, Precision::F64] {
                    let src = source(Kernel::Tile(t, wg), precision, Access::Single);
                    validate(&src, precision)
                        .unwrap_or_else(|e| panic!("tile {t} wg {wg} {precision:?}: {e}"));
                }
            }
        }
    }

    #[test]
    fn dense_k_kernel_validates_for_k_3_to_5() {
        for k in 3..=5u8 {
            for precision in [Precision::F32, Precision::F64] {
                for access in [Access::Single, Access::Chunked] {
                    let src = source(Kernel::GateK(k), precision, access);
                    validate(&src, precision)
                        .unwrap_or_else(|e| panic!("k {k} {precision:?} {access:?}: {e}"));
                }
            }
        }
    }

    #[test]
    fn f64_kernels_are_rejected_without_the_float64_capability() {
        // Guards the test above: validation really checks capabilities, so an f64 source validated
        // as f32 must fail.
        let src = source(Kernel::Gate1, Precision::F64, Access::Single);
        assert!(validate(&src, Precision::F32).is_err());
    }
}
