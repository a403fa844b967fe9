// Pure permutation, no arithmetic: swaps the amplitudes at base|x0 and base|x1 where the
// controls are 1. X/CNOT/Toffoli: x0 = 0, x1 = 1<<t. SWAP(a, b): x0 = 1<<a, x1 = 1<<b.
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let base = state_base(wid.z) + (deposit(t, op.fixed_mask) | op.ctrl_mask);
    let i0 = base | op.x0;
    let i1 = base | op.x1;
    let a0 = load(i0);
    store(i0, load(i1));
    store(i1, a0);
}
