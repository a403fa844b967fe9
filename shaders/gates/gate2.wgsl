// Dense two-qubit unitary on (q0, q1): matrix index = bit(q0) + 2*bit(q1), row-major 4x4
// complex, inline or at aux_in[in_offset + b*batch_stride..], applied where every control bit
// is 1. Each invocation takes up to GROUPS groups of ITEMS quartets (see group_bases; for the
// paired access see the prelude). Paired, it finishes one quartet (or pair of quartets) before
// loading the next: fewer values live at once (faster than loading all first; figures in
// benches/RESULTS.md, "Design measurements").
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if ITEMS * GROUPS * t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let s = item_space(b, t);
    let b0 = 1u << op.q0;
    let b1 = 1u << op.q1;
    let m = mat4_rows(b);
    // One group: no loop (a loop run once costs more than straight-line code).
    var first = s.first;
    if GROUPS == 1u {
        gate2_group(group_bases(s, first), b0, b1, m);
        return;
    }
    for (var g = 0u; g < s.groups; g++) {
        gate2_group(group_bases(s, first), b0, b1, m);
        first = next_group(s, first);
    }
}

// The 4x4 matrix m applied to the quartets based at base[j] with target bits b0, b1.
fn gate2_group(base: array<u32, ITEMS>, b0: u32, b1: u32, m: array<array<vec2<real>, 4>, 4>) {
    if PAIR_TARGET {
        for (var j = 0u; j < ITEMS; j++) {
            apply_paired_quartet(base[j], b1, m);
        }
        return;
    }
    if PAIRS {
        apply_quartet_pair(quartet_of(base[0], b0, b1), m);
        apply_quartet_pair(quartet_of(base[2], b0, b1), m);
        return;
    }
    var a: array<array<vec2<real>, 4>, ITEMS>;
    for (var j = 0u; j < ITEMS; j++) {
        let i = quartet_of(base[j], b0, b1);
        a[j] = array<vec2<real>, 4>(load(i[0]), load(i[1]), load(i[2]), load(i[3]));
    }
    for (var j = 0u; j < ITEMS; j++) {
        let i = quartet_of(base[j], b0, b1);
        store(i[0], row4(m[0], a[j]));
        store(i[1], row4(m[1], a[j]));
        store(i[2], row4(m[2], a[j]));
        store(i[3], row4(m[3], a[j]));
    }
}

// The 4x4 matrix m applied to the quartet at indices i and its neighbour at i + 1 (bit 0
// free): one pair per index.
fn apply_quartet_pair(i: array<u32, 4>, m: array<array<vec2<real>, 4>, 4>) {
    let a = array<vec4<real>, 4>(load_pair(i[0]), load_pair(i[1]), load_pair(i[2]), load_pair(i[3]));
    let lo = array<vec2<real>, 4>(a[0].xy, a[1].xy, a[2].xy, a[3].xy);
    let hi = array<vec2<real>, 4>(a[0].zw, a[1].zw, a[2].zw, a[3].zw);
    store_pair(i[0], vec4<real>(row4(m[0], lo), row4(m[0], hi)));
    store_pair(i[1], vec4<real>(row4(m[1], lo), row4(m[1], hi)));
    store_pair(i[2], vec4<real>(row4(m[2], lo), row4(m[2], hi)));
    store_pair(i[3], vec4<real>(row4(m[3], lo), row4(m[3], hi)));
}

// The 4x4 matrix m applied to the quartet based at `base` when q0 = 0 (q1's bit b1): its
// amplitudes 0, 1 and 2, 3 are pairs.
fn apply_paired_quartet(base: u32, b1: u32, m: array<array<vec2<real>, 4>, 4>) {
    let high = base | b1;
    let x = load_pair(base);
    let y = load_pair(high);
    let a = array<vec2<real>, 4>(x.xy, x.zw, y.xy, y.zw);
    store_pair(base, vec4<real>(row4(m[0], a), row4(m[1], a)));
    store_pair(high, vec4<real>(row4(m[2], a), row4(m[3], a)));
}
