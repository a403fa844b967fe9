// Dense unitary on K qubits (a fused block; K is prepended by the host as a const, 3..=5).
// The qubits' positions are packed 5 bits each into op.x0 (position of matrix-index bit j at
// bits 5j..5j+4), fixed_mask is their mask; the row-major 2^K x 2^K complex matrix sits at
// aux_in[in_offset + b*batch_stride]. One thread per group of 2^K amplitudes.
const DIM: u32 = 1u << K;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let b = wid.z;
    let base = state_base(b) + deposit(t, op.fixed_mask);
    var offsets: array<u32, DIM>;
    var a: array<vec2<real>, DIM>;
    for (var c = 0u; c < DIM; c++) {
        var off = 0u;
        for (var j = 0u; j < K; j++) {
            off = off | (((c >> j) & 1u) << ((op.x0 >> (5u * j)) & 31u));
        }
        offsets[c] = off;
        a[c] = load(base | off);
    }
    for (var r = 0u; r < DIM; r++) {
        var acc = vec2<real>(0.0, 0.0);
        for (var c = 0u; c < DIM; c++) {
            acc += cmul(mat(b, r * DIM + c), a[c]);
        }
        store(base | offsets[r], acc);
    }
}
