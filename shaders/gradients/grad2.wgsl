// Adjoint derivative of a two-qubit gate, fused: partial sums of <lam| dU |psi> over the
// quartets of (q0, q1) where the controls are 1, for batch state b = workgroup_id.z; dU is the
// 4x4 derivative at aux_in[in_offset + b*batch_stride]. psi is slot s0, lam is binding 3.
@group(0) @binding(3) var<storage, read_write> lam: array<vec2<real>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let b = wid.z;
    let m = mat4_rows(b);
    var v = vec2<real>(0.0, 0.0);
    for (var t = thread_id(wid, nwg, lid); t < op.n_threads; t += grid_stride(nwg)) {
        let idx = quartet(state_base(b) + (deposit(t, op.fixed_mask) | op.ctrl_mask));
        let a = array<vec2<real>, 4>(load(idx[0]), load(idx[1]), load(idx[2]), load(idx[3]));
        v += conj_mul(lam[idx[0]], row4(m[0], a)) + conj_mul(lam[idx[1]], row4(m[1], a));
        v += conj_mul(lam[idx[2]], row4(m[2], a)) + conj_mul(lam[idx[3]], row4(m[3], a));
    }
    write_workgroup_sum(v, lid, b, workgroup_id(wid, nwg));
}
