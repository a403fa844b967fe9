// Resets every state of a batch: |0...0> (amplitude 0 is 1) when nq == 0, all zeros when
// nq == 1 (the adjoint state lam before it is seeded). One thread per amplitude.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let one = select(real(0.0), real(1.0), t == 0u && op.nq == 0u);
    store(state_base(wid.z) + t, vec2<real>(one, real(0.0)));
}
