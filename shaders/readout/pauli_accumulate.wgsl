// Adjoint seed: lam[i] += w_b * (-1)^{popcount((i ^ x_mask) & z_mask)} * psi[i ^ x_mask] for
// batch state b = workgroup_id.z, i.e. lam += w_b * P psi for a Pauli string P whose i^{#Y}
// phase and coefficient the host folded into the complex weight w_b at
// aux_in[in_offset + b*batch_stride]. psi is slot s0, lam is binding 3. One thread per amplitude.
@group(0) @binding(3) var<storage, read_write> lam: array<vec2<real>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let base = state_base(b);
    let source = t ^ op.x_mask;
    var v = cmul(mat(b, 0u), load(base + source));
    if (countOneBits(source & op.z_mask) & 1u) == 1u {
        v = -v;
    }
    lam[base + t] += v;
}
