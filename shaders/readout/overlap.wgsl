// Gram matrix of two batches of states: partial sums of <a_i|b_j> = sum_t conj(a_i[t]) b_j[t]
// for i = workgroup_id.z (states in slot s0), j = workgroup_id.y (states at binding 3), with a
// grid-stride loop over the n_threads amplitudes along x. x0 is the number of j states, so the
// partial goes to aux_out[2*(out_offset + (i*x0 + j)*count + workgroup_id.x)].
@group(0) @binding(3) var<storage, read_write> other: array<vec2<real>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = wid.z;
    let j = wid.y;
    let base_a = state_base(i);
    let base_b = state_base(j);
    var v = vec2<real>(0.0, 0.0);
    for (var t = wid.x * WG + lid; t < op.n_threads; t += nwg.x * WG) {
        v += conj_mul(load(base_a + t), other[base_b + t]);
    }
    write_workgroup_sum(v, lid, i * op.x0 + j, wid.x);
}
