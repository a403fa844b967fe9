// Phase-only pass: multiplies the amplitudes of the subspace where the `ctrl_mask` bits are 1 by
// the diagonal d (complex, inline or at aux_in[in_offset..]); entry k = bit(q0) + 2*bit(q1).
// Work items are pairs of amplitudes that differ in q0 (see diag_pair_of), branch-free so that one
// kernel serves 0, 1 and 2 targets at full speed; each invocation takes up to GROUPS groups of
// ITEMS of them (see group_bases; for the paired access see the prelude). A one-qubit phase
// gate (d[0] = 1) has its target folded into ctrl_mask by the host (nq = 0, d = [d1]), so only
// the half of the state that changes is touched.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if ITEMS * GROUPS * t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let s = item_space(b, t);
    let d = mat2_entries(b);
    let nq = op.nq;
    let q0 = op.q0;
    let q1 = op.q1;
    // One group: no loop (a loop run once costs more than straight-line code).
    var first = s.first;
    if GROUPS == 1u {
        diagonal_group(group_bases(s, first), d, nq, q0, q1);
        return;
    }
    for (var g = 0u; g < s.groups; g++) {
        diagonal_group(group_bases(s, first), d, nq, q0, q1);
        first = next_group(s, first);
    }
}

// The diagonal d applied to the items based at base[j] (targets nq, q0, q1: see diag_pair_of).
fn diagonal_group(base: array<u32, ITEMS>, d: array<vec2<real>, 4>, nq: u32, q0: u32, q1: u32) {
    // Every load comes before any store: nq = 0 gives i1 = i0, and items may repeat.
    if PAIR_TARGET {
        // q0 = 0: each item's amplitudes i0, i1 = i0 + 1 are one pair.
        var q: array<DiagPair, ITEMS>;
        var v: array<vec4<real>, ITEMS>;
        for (var j = 0u; j < ITEMS; j++) {
            q[j] = diag_pair_of(d, base[j], nq, q0, q1);
            v[j] = load_pair(q[j].i0);
        }
        for (var j = 0u; j < ITEMS; j++) {
            store_pair(q[j].i0, vec4<real>(cmul(q[j].d0, v[j].xy), cmul(q[j].d1, v[j].zw)));
        }
        return;
    }
    if PAIRS {
        // Items 2k and 2k + 1 differ in bit 0, which may be q1's: each keeps its own entries.
        var q: array<DiagPair, ITEMS>;
        var v: array<vec4<real>, ITEMS>;
        for (var j = 0u; j < ITEMS; j++) {
            q[j] = diag_pair_of(d, base[j], nq, q0, q1);
        }
        for (var k = 0u; k < ITEMS; k += 2u) {
            v[k] = load_pair(q[k].i0);
            v[k + 1u] = load_pair(q[k].i1);
        }
        for (var k = 0u; k < ITEMS; k += 2u) {
            store_pair(q[k].i0, vec4<real>(cmul(q[k].d0, v[k].xy), cmul(q[k + 1u].d0, v[k].zw)));
            store_pair(q[k].i1, vec4<real>(cmul(q[k].d1, v[k + 1u].xy),
                cmul(q[k + 1u].d1, v[k + 1u].zw)));
        }
        return;
    }
    var p: array<DiagPair, ITEMS>;
    var a: array<vec2<real>, 2 * ITEMS>;
    for (var j = 0u; j < ITEMS; j++) {
        p[j] = diag_pair_of(d, base[j], nq, q0, q1);
        a[2u * j] = load(p[j].i0);
        a[2u * j + 1u] = load(p[j].i1);
    }
    for (var j = 0u; j < ITEMS; j++) {
        store(p[j].i0, cmul(p[j].d0, a[2u * j]));
        store(p[j].i1, cmul(p[j].d1, a[2u * j + 1u]));
    }
}
