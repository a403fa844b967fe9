// Pure permutation, no arithmetic: swaps the amplitudes at base|x0 and base|x1 where the
// controls are 1. X/CNOT/Toffoli: x0 = 0, x1 = 1<<t. SWAP(a, b): x0 = 1<<a, x1 = 1<<b.
// Each invocation takes ITEMS swaps (see item_bases; for the paired access see the prelude).
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if ITEMS * t >= op.n_threads {
        return;
    }
    let base = item_bases(wid.z, t);
    if PAIR_TARGET {
        // X or CNOT on qubit 0 (x0 = 0, x1 = 1): each item's swap is within one pair.
        for (var j = 0u; j < ITEMS; j++) {
            store_pair(base[j], load_pair(base[j]).zwxy);
        }
        return;
    }
    if PAIRS {
        let a0 = load_pair(base[0] | op.x0);
        let a1 = load_pair(base[0] | op.x1);
        let a2 = load_pair(base[2] | op.x0);
        let a3 = load_pair(base[2] | op.x1);
        store_pair(base[0] | op.x0, a1);
        store_pair(base[0] | op.x1, a0);
        store_pair(base[2] | op.x0, a3);
        store_pair(base[2] | op.x1, a2);
        return;
    }
    var a: array<vec2<real>, 2 * ITEMS>;
    for (var j = 0u; j < ITEMS; j++) {
        a[2u * j] = load(base[j] | op.x0);
        a[2u * j + 1u] = load(base[j] | op.x1);
    }
    for (var j = 0u; j < ITEMS; j++) {
        store(base[j] | op.x0, a[2u * j + 1u]);
        store(base[j] | op.x1, a[2u * j]);
    }
}
