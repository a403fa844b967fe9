// Pure permutation, no arithmetic: swaps the amplitudes at base|x0 and base|x1 where the
// controls are 1. X/CNOT/Toffoli: x0 = 0, x1 = 1<<t. SWAP(a, b): x0 = 1<<a, x1 = 1<<b.
// Each invocation takes up to GROUPS groups of ITEMS swaps (see group_bases; for the paired
// access see the prelude).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if ITEMS * GROUPS * t >= op.n_threads {
        return;
    }
    let s = item_space(wid.z, t);
    let x0 = op.x0;
    let x1 = op.x1;
    // One group: no loop (a loop run once costs more than straight-line code).
    var first = s.first;
    if GROUPS == 1u {
        permute_group(group_bases(s, first), x0, x1);
        return;
    }
    for (var g = 0u; g < s.groups; g++) {
        permute_group(group_bases(s, first), x0, x1);
        first = next_group(s, first);
    }
}

// The swaps of base[j] | x0 with base[j] | x1.
fn permute_group(base: array<u32, ITEMS>, x0: u32, x1: u32) {
    if PAIR_TARGET {
        // X or CNOT on qubit 0 (x0 = 0, x1 = 1): each item's swap is within one pair.
        for (var j = 0u; j < ITEMS; j++) {
            store_pair(base[j], load_pair(base[j]).zwxy);
        }
        return;
    }
    if PAIRS {
        let a0 = load_pair(base[0] | x0);
        let a1 = load_pair(base[0] | x1);
        let a2 = load_pair(base[2] | x0);
        let a3 = load_pair(base[2] | x1);
        store_pair(base[0] | x0, a1);
        store_pair(base[0] | x1, a0);
        store_pair(base[2] | x0, a3);
        store_pair(base[2] | x1, a2);
        return;
    }
    var a: array<vec2<real>, 2 * ITEMS>;
    for (var j = 0u; j < ITEMS; j++) {
        a[2u * j] = load(base[j] | x0);
        a[2u * j + 1u] = load(base[j] | x1);
    }
    for (var j = 0u; j < ITEMS; j++) {
        store(base[j] | x0, a[2u * j + 1u]);
        store(base[j] | x1, a[2u * j]);
    }
}
