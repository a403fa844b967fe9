// Dense one-qubit unitary on target q0, applied where every control bit is 1.
// Matrix (row-major 2x2 complex) at aux_in[in_offset + b*batch_stride..]. One thread per pair.
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let i0 = state_base(b) + (deposit(t, op.fixed_mask) | op.ctrl_mask);
    let i1 = i0 | (1u << op.q0);
    let a0 = load(i0);
    let a1 = load(i1);
    store(i0, mat2_row(b, 0u, a0, a1));
    store(i1, mat2_row(b, 1u, a0, a1));
}
