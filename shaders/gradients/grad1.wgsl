// Adjoint derivative of a one-qubit gate, fused: for batch state b = workgroup_id.z, partial
// sums of <lam| dU |psi> over the amplitude pairs of target q0 where the controls are 1, dU
// being the derivative matrix at aux_in[in_offset + b*batch_stride]. psi is slot s0, lam is
// binding 3; no third state is formed. Partials: aux_out[2*(out_offset + b*count + wg)].
@group(0) @binding(3) var<storage, read_write> lam: array<vec2<real>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let b = wid.z;
    let m = mat2_entries(b);
    var v = vec2<real>(0.0, 0.0);
    for (var t = thread_id(wid, nwg, lid); t < op.n_threads; t += grid_stride(nwg)) {
        let i0 = state_base(b) + (deposit(t, op.fixed_mask) | op.ctrl_mask);
        let i1 = i0 | (1u << op.q0);
        let a0 = load(i0);
        let a1 = load(i1);
        v += conj_mul(lam[i0], row2(m[0], m[1], a0, a1)) + conj_mul(lam[i1], row2(m[2], m[3], a0, a1));
    }
    write_workgroup_sum(v, lid, b, workgroup_id(wid, nwg));
}
