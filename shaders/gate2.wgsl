// Dense two-qubit unitary on (q0, q1): matrix index = bit(q0) + 2*bit(q1), row-major 4x4
// complex at aux_in[in_offset + b*batch_stride..], applied where every control bit is 1.
// One thread per quartet.
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let idx = quartet(state_base(b) + (deposit(t, op.fixed_mask) | op.ctrl_mask));
    let a = array<vec2<real>, 4>(load(idx[0]), load(idx[1]), load(idx[2]), load(idx[3]));
    for (var r = 0u; r < 4u; r++) {
        store(idx[r], mat4_row(b, r, a));
    }
}
