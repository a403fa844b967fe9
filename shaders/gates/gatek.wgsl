// Dense unitary on K qubits (a fused block; K is prepended by the host as a const, 3..=5).
// The qubits' positions are packed 5 bits each into op.x0 (position of matrix-index bit j at
// bits 5j..5j+4), fixed_mask is their mask; the row-major 2^K x 2^K complex matrix sits at
// aux_in[in_offset + b*batch_stride]. Each invocation takes PER = ITEMS groups of 2^K
// amplitudes (one group of items, see group_bases), so every matrix entry it loads serves PER
// groups.
const DIM: u32 = 1u << K;
const PER: u32 = ITEMS;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if PER * t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let s = item_space(b, t); // GROUPS = 1: items ITEMS·t + j
    let base = group_bases(s, s.first);
    var offsets: array<u32, DIM>;
    var a: array<array<vec2<real>, DIM>, PER>;
    for (var c = 0u; c < DIM; c++) {
        var off = 0u;
        for (var j = 0u; j < K; j++) {
            off = off | (((c >> j) & 1u) << ((op.x0 >> (5u * j)) & 31u));
        }
        offsets[c] = off;
        for (var j = 0u; j < PER; j++) {
            a[j][c] = load(base[j] | off);
        }
    }
    for (var r = 0u; r < DIM; r++) {
        var acc: array<vec2<real>, PER>;
        for (var c = 0u; c < DIM; c++) {
            let m = mat(b, r * DIM + c);
            for (var j = 0u; j < PER; j++) {
                acc[j] = cmac(acc[j], m, a[j][c]);
            }
        }
        for (var j = 0u; j < PER; j++) {
            store(base[j] | offsets[r], acc[j]);
        }
    }
}
