// Partial sums of <psi|P|psi> for a Pauli string P (without its i^{#Y} phase, applied on the
// host): sum_j conj(psi[j ^ x_mask]) * psi[j] * (-1)^{popcount(j & z_mask)}, j over slot 0.
// Each workgroup writes one complex partial (2 reals) at aux_out[2*(out_offset + workgroup)].
var<workgroup> scratch: array<vec2<real>, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    var v = vec2<real>(0.0, 0.0);
    if t < op.n_threads {
        let a = load(t);
        let b = load(t ^ op.x_mask);
        let prod = vec2<real>(b.x * a.x + b.y * a.y, b.x * a.y - b.y * a.x);
        let parity = (countOneBits(t & op.z_mask) + op.sign) & 1u;
        v = select(prod, -prod, parity == 1u);
    }
    scratch[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            scratch[lid] += scratch[lid + s];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        let o = 2u * (op.out_offset + workgroup_id(wid, nwg));
        aux_out[o] = scratch[0].x;
        aux_out[o + 1u] = scratch[0].y;
    }
}
