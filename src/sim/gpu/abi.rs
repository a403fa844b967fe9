//! The host–kernel ABI, in one place: the `Op` record every kernel reads (the Rust struct, its
//! WGSL mirror generated from the same field list, the size assertion), the workgroup size and
//! the inline-matrix capacity. [`wgsl_header`] is what the shader assembly prepends to every
//! kernel, so the WGSL never spells these numbers itself.

use crate::backend::Precision;
use bytemuck::{Pod, Zeroable};

/// Invocations per workgroup in every kernel but the tile kernel (which takes its own, see
/// `GpuContext::tile_workgroup`): `WG` in the WGSL, which declares `@workgroup_size(WG)`.
/// Every dispatch-count computation divides by this.
pub(crate) const WORKGROUP_SIZE: u64 = 256;

/// Complex entries an `Op` record can carry inline (`m: array<vec4<real>, 32>`, two entries
/// per `vec4`): one gate's matrix, or a register-block run's matrices: read from the record
/// they are loaded once, from the storage buffer every invocation loads them on its own
/// (figures: `benches/RESULTS.md`, "Design measurements").
pub(crate) const INLINE_MATRIX_ENTRIES: usize = 64;

/// Bytes of an `Op` record's header (24 × u32), before its inline matrix.
pub(crate) const OP_HEADER_BYTES: u64 = 96;

/// Defines [`OpRecord`] and its WGSL mirror `struct Op` from one list of `u32` fields, so the
/// two cannot disagree on names or order.
macro_rules! op_record {
    ($($(#[doc = $doc:literal])+ $field:ident,)+) => {
        /// The `Op` record every kernel reads, one per dispatch, from a dynamic-offset uniform
        /// (the header; the inline matrix follows it in the buffer, see
        /// [`OpRecord::layout`]). Indices are in the dispatch's *virtual* state space: one
        /// chunk buffer, or up to four chunk buffers seen as one array whose top bits
        /// (≥ `chunk_bits`) select the buffer. In a batch, `workgroup_id.z` is the state's
        /// index b, its first amplitude is `b << state_bits`, and its data sits at
        /// `aux_in[in_offset + b · batch_stride]`.
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
        pub(crate) struct OpRecord {
            $($(#[doc = $doc])+ pub $field: u32,)+
        }

        /// The header fields of `struct Op`, in the Rust struct's order.
        const OP_FIELDS: &[&str] = &[$(stringify!($field)),+];
    };
}

op_record! {
    /// Work items in this dispatch; threads past it return.
    n_threads,
    /// First target qubit (virtual).
    q0,
    /// Second target qubit (virtual).
    q1,
    /// Number of targets the kernel reads (1 or 2).
    nq,
    /// Qubits the thread index skips (targets, controls): see `deposit` in the prelude.
    fixed_mask,
    /// Qubits forced to 1 (controls).
    ctrl_mask,
    /// log2(amplitudes per chunk buffer).
    chunk_bits,
    /// Offset (in reals) into aux_in: the gate matrix, or the sample list.
    in_offset,
    /// Permutation: first partner offset (dense k-qubit kernel: packed targets).
    x0,
    /// Permutation: second partner offset.
    x1,
    /// Offset (in elements) into aux_out.
    out_offset,
    /// Pauli: qubits that give a sign.
    z_mask,
    /// Pauli: qubits that flip.
    x_mask,
    /// Reduce: inputs per segment; sample: number of samples.
    count,
    /// Pauli: 1 when the chunk's high Z bits flip the sign.
    sign,
    /// log2(amplitudes per state) in a batch.
    state_bits,
    /// Reals between consecutive states' data in aux_in (0: shared).
    batch_stride,
    /// Reduce: first segment of this dispatch.
    seg_base,
    /// Light gate kernels: item groups per invocation (see `lower::group_count`).
    groups,
    /// Padding to 24 words.
    pad0,
    /// Padding.
    pad1,
    /// Padding.
    pad2,
    /// Padding.
    pad3,
    /// Padding.
    pad4,
}

// The header is 24 words so the inline matrix starts at byte 96, where WGSL aligns
// `array<vec4<real>, 32>` for both precisions.
const _: () = assert!(std::mem::size_of::<OpRecord>() as u64 == OP_HEADER_BYTES);
const _: () =
    assert!(OP_HEADER_BYTES.is_multiple_of(32) && INLINE_MATRIX_ENTRIES.is_multiple_of(2));

/// Bytes of a whole `Op` record at `precision`: the header and `INLINE_MATRIX_ENTRIES` inline
/// complex entries.
pub(crate) fn op_record_bytes(precision: Precision) -> u64 {
    OP_HEADER_BYTES + INLINE_MATRIX_ENTRIES as u64 * precision.bytes_per_amplitude()
}

/// The WGSL every kernel source starts with after its precision line: the workgroup size
/// `WG` and `struct Op`, the mirror of [`OpRecord`] followed by the inline matrix `m`.
pub(crate) fn wgsl_header() -> String {
    let mut out = format!("const WG: u32 = {WORKGROUP_SIZE}u;\n\nstruct Op {{\n");
    for field in OP_FIELDS {
        out.push_str(&format!("    {field}: u32,\n"));
    }
    out.push_str(&format!(
        "    m: array<vec4<real>, {}>,\n}}\n",
        INLINE_MATRIX_ENTRIES / 2
    ));
    out
}

/// `records` laid out every `stride` bytes, ready for the uniform buffer; a record given a
/// matrix (at most [`INLINE_MATRIX_ENTRIES`] complex entries) carries it inline after its
/// header, as reals of `precision`.
pub(crate) fn record_bytes<'r>(
    records: impl IntoIterator<Item = (&'r OpRecord, Option<&'r [num_complex::Complex64]>)>,
    stride: u64,
    precision: Precision,
) -> Vec<u8> {
    let stride = stride as usize;
    let header = std::mem::size_of::<OpRecord>();
    let mut bytes = Vec::new();
    for (r, matrix) in records {
        let at = bytes.len();
        bytes.resize(at + stride, 0);
        if let Some(m) = matrix {
            let flat: Vec<f64> = m.iter().flat_map(|z| [z.re, z.im]).collect();
            let data = reals_to_bytes(&flat, precision);
            bytes[at + header..at + header + data.len()].copy_from_slice(&data);
        }
        bytes[at..at + header].copy_from_slice(bytemuck::bytes_of(r));
    }
    bytes
}

/// Host f64 values as the precision's bytes.
pub(crate) fn reals_to_bytes(values: &[f64], precision: Precision) -> Vec<u8> {
    match precision {
        Precision::F32 => {
            let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            bytemuck::cast_slice(&v).to_vec()
        }
        Precision::F64 => bytemuck::cast_slice(values).to_vec(),
    }
}

/// The precision's bytes as host f64 values.
pub(crate) fn reals_from_bytes(bytes: &[u8], precision: Precision) -> Vec<f64> {
    match precision {
        Precision::F32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        Precision::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// naga's layout of the assembled `struct Op` matches the Rust record: every header field
    /// at its Rust offset, the inline matrix right after the header, the whole record
    /// `op_record_bytes` long, in both precisions.
    #[test]
    fn wgsl_mirror_has_the_rust_layout() {
        for (precision, real) in [(Precision::F32, "f32"), (Precision::F64, "f64")] {
            let src = format!(
                "alias real = {real};\n{}\n@group(0) @binding(0) var<uniform> op: Op;\n\
                 @compute @workgroup_size(WG) fn main() {{ _ = op.n_threads; }}\n",
                wgsl_header()
            );
            let module = naga::front::wgsl::parse_str(&src).expect("the header parses");
            let (_, ty) = module
                .types
                .iter()
                .find(|(_, t)| t.name.as_deref() == Some("Op"))
                .expect("struct Op");
            let naga::TypeInner::Struct { members, span } = &ty.inner else {
                panic!("Op is not a struct");
            };
            assert_eq!(members.len(), OP_FIELDS.len() + 1);
            for (k, (member, field)) in members.iter().zip(OP_FIELDS).enumerate() {
                assert_eq!(member.name.as_deref(), Some(*field));
                assert_eq!(member.offset as usize, 4 * k, "{field}");
            }
            assert_eq!(members[OP_FIELDS.len()].offset as u64, OP_HEADER_BYTES);
            assert_eq!(*span as u64, op_record_bytes(precision), "{precision:?}");
        }
    }
}
