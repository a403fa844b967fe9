// Workgroup-tile kernel: one workgroup loads the 2^TILE_QUBITS amplitudes spanned by a set of
// qubits (the tile) into workgroup memory, applies a run of gates acting inside that set, and
// writes the tile back once: one read and one write of the state for the whole run.
// (TILE_QUBITS is prepended by the host as a const.)
//
// aux_in layout, all integers stored as reals (exact):
//   at op.in_offset: TILE_QUBITS tile positions (global qubit of local bit j), then the
//   remaining positions of the chunk (global qubit of tile-index bit j);
//   at op.x1: op.count gate descriptors of DESC reals (each field two 16-bit halves):
//   kind (0 dense1, 1 dense2, 2 diagonal, 3 permute), q0, q1, nq (local bits), fixed (local
//   mask: targets and local controls), ctrl (local controls), ctrl_tile (global controls outside
//   the tile, within the chunk), ctrl_chunk (controls on chunk-index bits), mat (offset of the
//   matrix), mat_stride (per batch state), x0, x1 (permute partners, local).
// op.n_threads = tiles per state, op.x0 = chunk index, workgroup_id.z = batch state.
const TILE: u32 = 1u << TILE_QUBITS;
const DESC: u32 = 24u;
var<workgroup> tile: array<vec2<real>, TILE>;

fn field(at: u32) -> u32 {
    return u32(aux_in[at]) | (u32(aux_in[at + 1u]) << 16u);
}

// Scatters the bits of v to the positions listed at aux_in[list_at + j].
fn scatter(v: u32, list_at: u32) -> u32 {
    var r = 0u;
    var x = v;
    loop {
        if x == 0u {
            break;
        }
        let j = countTrailingZeros(x);
        r = r | (1u << u32(aux_in[list_at + j]));
        x = x & (x - 1u);
    }
    return r;
}

fn dmat(d: u32, b: u32, k: u32) -> vec2<real> {
    let o = field(d + 16u) + b * field(d + 18u) + 2u * k;
    return vec2<real>(aux_in[o], aux_in[o + 1u]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let tile_index = workgroup_id(wid, nwg);
    if tile_index >= op.n_threads {
        return;
    }
    let b = wid.z;
    let head = op.in_offset;
    let outside = scatter(tile_index, head + TILE_QUBITS);
    let base = state_base(b) | outside;
    for (var local = lid; local < TILE; local += WG) {
        tile[local] = load(base | scatter(local, head));
    }
    workgroupBarrier();
    for (var g = 0u; g < op.count; g++) {
        let d = op.x1 + g * DESC;
        let ctrl_tile = field(d + 12u);
        let ctrl_chunk = field(d + 14u);
        if (outside & ctrl_tile) == ctrl_tile && (op.x0 & ctrl_chunk) == ctrl_chunk {
            let kind = field(d);
            let q0 = field(d + 2u);
            let q1 = field(d + 4u);
            let nq = field(d + 6u);
            let fixed = field(d + 8u);
            let ctrl = field(d + 10u);
            let items = TILE >> countOneBits(fixed);
            for (var t = lid; t < items; t += WG) {
                let i = deposit(t, fixed) | ctrl;
                switch kind {
                    case 0u: {
                        let i1 = i | (1u << q0);
                        let a0 = tile[i];
                        let a1 = tile[i1];
                        tile[i] = cmul(dmat(d, b, 0u), a0) + cmul(dmat(d, b, 1u), a1);
                        tile[i1] = cmul(dmat(d, b, 2u), a0) + cmul(dmat(d, b, 3u), a1);
                    }
                    case 1u: {
                        let idx = array<u32, 4>(i, i | (1u << q0), i | (1u << q1), i | (1u << q0) | (1u << q1));
                        var a: array<vec2<real>, 4>;
                        for (var k = 0u; k < 4u; k++) {
                            a[k] = tile[idx[k]];
                        }
                        for (var r = 0u; r < 4u; r++) {
                            var acc = vec2<real>(0.0, 0.0);
                            for (var k = 0u; k < 4u; k++) {
                                acc += cmul(dmat(d, b, 4u * r + k), a[k]);
                            }
                            tile[idx[r]] = acc;
                        }
                    }
                    case 2u: {
                        var k = 0u;
                        if nq >= 1u {
                            k = (i >> q0) & 1u;
                        }
                        if nq == 2u {
                            k = k | (((i >> q1) & 1u) << 1u);
                        }
                        tile[i] = cmul(dmat(d, b, k), tile[i]);
                    }
                    default: {
                        let i0 = i | field(d + 20u);
                        let i1 = i | field(d + 22u);
                        let a0 = tile[i0];
                        tile[i0] = tile[i1];
                        tile[i1] = a0;
                    }
                }
            }
        }
        workgroupBarrier();
    }
    for (var local = lid; local < TILE; local += WG) {
        store(base | scatter(local, head), tile[local]);
    }
}
