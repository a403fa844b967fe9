// Adjoint derivative of a diagonal gate, fused: partial sums of conj(lam[i]) * d[k] * psi[i]
// over the subspace where the ctrl_mask bits are 1, one amplitude pair per work item (as in
// diagonal.wgsl), for batch state b = workgroup_id.z. psi is slot s0, lam is binding 3.
@group(0) @binding(3) var<storage, read_write> lam: array<vec2<real>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let b = wid.z;
    let d = mat2_entries(b);
    var v = vec2<real>(0.0, 0.0);
    for (var t = thread_id(wid, nwg, lid); t < op.n_threads; t += grid_stride(nwg)) {
        let p = diag_pair(d, state_base(b) + (deposit(t, op.fixed_mask) | op.ctrl_mask));
        v += conj_mul(lam[p.i0], cmul(p.d0, load(p.i0)));
        // nq = 0 visits one amplitude: count it once.
        if p.i1 != p.i0 {
            v += conj_mul(lam[p.i1], cmul(p.d1, load(p.i1)));
        }
    }
    write_workgroup_sum(v, lid, b, workgroup_id(wid, nwg));
}
