// Partial sums of <psi|P|psi> for a Pauli string P (without its i^{#Y} phase, applied on the
// host): sum_j conj(psi[j ^ x_mask]) * psi[j] * (-1)^{popcount(j & z_mask) + sign}, j over the
// n_threads amplitudes of slot 0 of batch state b = workgroup_id.z (grid-stride loop). Each
// workgroup writes one complex partial at aux_out[2*(out_offset + b*count + workgroup)].
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let base = state_base(wid.z);
    var v = vec2<real>(0.0, 0.0);
    for (var t = thread_id(wid, nwg, lid); t < op.n_threads; t += grid_stride(nwg)) {
        let prod = conj_mul(load(base + (t ^ op.x_mask)), load(base + t));
        let parity = (countOneBits(t & op.z_mask) + op.sign) & 1u;
        v += select(prod, -prod, parity == 1u);
    }
    write_workgroup_sum(v, lid, wid.z, workgroup_id(wid, nwg));
}
