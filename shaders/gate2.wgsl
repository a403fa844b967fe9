// Dense two-qubit unitary on (q0, q1): matrix index = bit(q0) + 2*bit(q1), row-major 4x4
// complex at aux_in[in_offset..], applied where every control bit is 1. One thread per quartet.
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let base = state_base(b) + (deposit(t, op.fixed_mask) | op.ctrl_mask);
    let b0 = 1u << op.q0;
    let b1 = 1u << op.q1;
    let idx = array<u32, 4>(base, base | b0, base | b1, base | b0 | b1);
    var a: array<vec2<real>, 4>;
    for (var k = 0u; k < 4u; k++) {
        a[k] = load(idx[k]);
    }
    for (var r = 0u; r < 4u; r++) {
        var acc = vec2<real>(0.0, 0.0);
        for (var k = 0u; k < 4u; k++) {
            acc += cmul(mat(b, 4u * r + k), a[k]);
        }
        store(idx[r], acc);
    }
}
