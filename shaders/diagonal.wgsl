// Phase-only pass: multiplies each amplitude of the subspace where the `ctrl_mask` bits are 1 by
// d[k], k = bit(q0) (nq >= 1) + 2*bit(q1) (nq == 2), k = 0 when nq == 0; d is complex at
// aux_in[in_offset..]. A one-qubit phase gate (d[0] = 1) has its target folded into ctrl_mask by
// the host (nq = 0, d = [d1]), so only the half of the state that changes is touched.
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let local = deposit(t, op.fixed_mask) | op.ctrl_mask;
    let i = state_base(b) + local;
    store(i, cmul(mat(b, diag_index(local)), load(i)));
}
