// Dense two-qubit unitary on (q0, q1): matrix index = bit(q0) + 2*bit(q1), row-major 4x4
// complex, inline or at aux_in[in_offset + b*batch_stride..], applied where every control bit
// is 1. Each invocation takes ITEMS quartets (see item_bases).
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if ITEMS * t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let base = item_bases(b, t);
    let m = mat4_rows(b);
    var a: array<array<vec2<real>, 4>, ITEMS>;
    for (var j = 0u; j < ITEMS; j++) {
        let i = quartet(base[j]);
        a[j] = array<vec2<real>, 4>(load(i[0]), load(i[1]), load(i[2]), load(i[3]));
    }
    for (var j = 0u; j < ITEMS; j++) {
        let i = quartet(base[j]);
        store(i[0], row4(m[0], a[j]));
        store(i[1], row4(m[1], a[j]));
        store(i[2], row4(m[2], a[j]));
        store(i[3], row4(m[3], a[j]));
    }
}
