// Register-block kernel: each invocation loads the 2^BLOCK_QUBITS amplitudes spanned by the
// block's qubits (op.fixed_mask, all within the chunk) into registers, applies a run of gates
// acting only on those qubits, and stores them once: one read and one write of the state for
// the whole run. The run is straight-line code that the host generates per run structure
// (src/sim/gpu/block.rs) and puts where GATES stands below, so every register index is a
// constant: the qubit positions stay run-time values (op.fixed_mask). The gate matrices come
// from the op record at constant offsets (inline_entry: a single state's run, shared by every
// invocation) or from aux_in at op.in_offset + b * op.batch_stride + the gate's offset
// (complex_at: a batch's per-state matrices). (BLOCK_QUBITS is prepended by the host as a
// const.)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let base = state_base(b) | deposit(t, op.fixed_mask);
    // bit[j]: the global index bit of the block's local qubit j.
    var bit: array<u32, BLOCK_QUBITS>;
    var rest = op.fixed_mask;
    for (var j = 0u; j < BLOCK_QUBITS; j++) {
        bit[j] = rest & (~rest + 1u);
        rest = rest ^ bit[j];
    }
    let mats = op.in_offset + b * op.batch_stride;
// GATES
}
