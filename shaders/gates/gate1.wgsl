// Dense one-qubit unitary on target q0, applied where every control bit is 1. Matrix
// (row-major 2x2 complex) inline or at aux_in[in_offset + b*batch_stride..]. Each invocation
// takes up to GROUPS groups of ITEMS pairs (see group_bases; for the paired access see the
// prelude).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if ITEMS * GROUPS * t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let s = item_space(b, t);
    let bit = 1u << op.q0;
    let m = mat2_entries(b);
    // One group: no loop (a loop run once costs more than straight-line code).
    var first = s.first;
    if GROUPS == 1u {
        gate1_group(group_bases(s, first), bit, m);
        return;
    }
    for (var g = 0u; g < s.groups; g++) {
        gate1_group(group_bases(s, first), bit, m);
        first = next_group(s, first);
    }
}

// The 2x2 matrix m applied to the pairs (base[j], base[j] | bit).
fn gate1_group(base: array<u32, ITEMS>, bit: u32, m: array<vec2<real>, 4>) {
    if PAIR_TARGET {
        // q0 = 0: each item's two amplitudes are one pair.
        var v: array<vec4<real>, ITEMS>;
        for (var j = 0u; j < ITEMS; j++) {
            v[j] = load_pair(base[j]);
        }
        for (var j = 0u; j < ITEMS; j++) {
            store_pair(base[j], vec4<real>(row2(m[0], m[1], v[j].xy, v[j].zw),
                row2(m[2], m[3], v[j].xy, v[j].zw)));
        }
        return;
    }
    if PAIRS {
        let x0 = load_pair(base[0]);
        let y0 = load_pair(base[0] | bit);
        let x1 = load_pair(base[2]);
        let y1 = load_pair(base[2] | bit);
        store_pair(base[0], pair_row2(m[0], m[1], x0, y0));
        store_pair(base[0] | bit, pair_row2(m[2], m[3], x0, y0));
        store_pair(base[2], pair_row2(m[0], m[1], x1, y1));
        store_pair(base[2] | bit, pair_row2(m[2], m[3], x1, y1));
        return;
    }
    var a: array<vec2<real>, 2 * ITEMS>;
    for (var j = 0u; j < ITEMS; j++) {
        a[2u * j] = load(base[j]);
        a[2u * j + 1u] = load(base[j] | bit);
    }
    for (var j = 0u; j < ITEMS; j++) {
        store(base[j], row2(m[0], m[1], a[2u * j], a[2u * j + 1u]));
        store(base[j] | bit, row2(m[2], m[3], a[2u * j], a[2u * j + 1u]));
    }
}
