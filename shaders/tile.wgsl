// Workgroup-tile kernel: one workgroup loads the 2^TILE_QUBITS amplitudes spanned by a set of
// qubits (the tile) into workgroup memory, applies a run of gates acting inside that set, and
// writes the tile back once: one read and one write of the state for the whole run.
// (TILE_QUBITS and the workgroup size TILE_WG are prepended by the host as consts.)
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
// Scatter of the high part (local & ~(TILE_WG - 1)) of every tile index, per TILE_WG-block:
// computed once per workgroup, so loading and storing an amplitude is one lookup.
const BLOCKS: u32 = (TILE + TILE_WG - 1u) / TILE_WG;
var<workgroup> block_offset: array<u32, BLOCKS>;

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

// Entry k of the current gate's matrix for batch state b (offset and stride read once per gate).
fn gate_mat(at: u32, k: u32) -> vec2<real> {
    return vec2<real>(aux_in[at + 2u * k], aux_in[at + 2u * k + 1u]);
}

@compute @workgroup_size(TILE_WG)
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
    // local = lid + k*WG: its scatter is scatter(lid) | scatter(k*WG) (disjoint bits).
    let lid_bits = scatter(lid & (TILE - 1u), head);
    for (var k = lid; k < BLOCKS; k += TILE_WG) {
        block_offset[k] = base | scatter(k * TILE_WG, head);
    }
    workgroupBarrier();
    for (var local = lid; local < TILE; local += TILE_WG) {
        tile[local] = load(lid_bits | block_offset[local / TILE_WG]);
    }
    workgroupBarrier();
    for (var g = 0u; g < op.count; g++) {
        // Decode the gate once; every value below is the same for the whole workgroup.
        let d = op.x1 + g * DESC;
        let ctrl_tile = field(d + 12u);
        let ctrl_chunk = field(d + 14u);
        let kind = field(d);
        let q0 = field(d + 2u);
        let q1 = field(d + 4u);
        let nq = field(d + 6u);
        let fixed = field(d + 8u);
        let ctrl = field(d + 10u);
        let m = field(d + 16u) + b * field(d + 18u);
        let items = TILE >> countOneBits(fixed);
        let applies = (outside & ctrl_tile) == ctrl_tile && (op.x0 & ctrl_chunk) == ctrl_chunk;
        if applies && kind == 0u {
            let m00 = gate_mat(m, 0u);
            let m01 = gate_mat(m, 1u);
            let m10 = gate_mat(m, 2u);
            let m11 = gate_mat(m, 3u);
            let bit = 1u << q0;
            for (var t = lid; t < items; t += TILE_WG) {
                let i0 = deposit(t, fixed) | ctrl;
                let i1 = i0 | bit;
                let a0 = tile[i0];
                let a1 = tile[i1];
                tile[i0] = cmul(m00, a0) + cmul(m01, a1);
                tile[i1] = cmul(m10, a0) + cmul(m11, a1);
            }
        } else if applies && kind == 1u {
            var mm: array<vec2<real>, 16>;
            for (var k = 0u; k < 16u; k++) {
                mm[k] = gate_mat(m, k);
            }
            let b0 = 1u << q0;
            let b1 = 1u << q1;
            for (var t = lid; t < items; t += TILE_WG) {
                let i = deposit(t, fixed) | ctrl;
                let a0 = tile[i];
                let a1 = tile[i | b0];
                let a2 = tile[i | b1];
                let a3 = tile[i | b0 | b1];
                tile[i] = cmul(mm[0], a0) + cmul(mm[1], a1) + cmul(mm[2], a2) + cmul(mm[3], a3);
                tile[i | b0] = cmul(mm[4], a0) + cmul(mm[5], a1) + cmul(mm[6], a2) + cmul(mm[7], a3);
                tile[i | b1] = cmul(mm[8], a0) + cmul(mm[9], a1) + cmul(mm[10], a2) + cmul(mm[11], a3);
                tile[i | b0 | b1] = cmul(mm[12], a0) + cmul(mm[13], a1) + cmul(mm[14], a2) + cmul(mm[15], a3);
            }
        } else if applies && kind == 2u {
            let d0 = gate_mat(m, 0u);
            var d1 = d0;
            var d2 = d0;
            var d3 = d0;
            if nq >= 1u {
                d1 = gate_mat(m, 1u);
            }
            if nq == 2u {
                d2 = gate_mat(m, 2u);
                d3 = gate_mat(m, 3u);
            }
            for (var t = lid; t < items; t += TILE_WG) {
                let i = deposit(t, fixed) | ctrl;
                var k = 0u;
                if nq >= 1u {
                    k = (i >> q0) & 1u;
                }
                if nq == 2u {
                    k = k | (((i >> q1) & 1u) << 1u);
                }
                var f = d0;
                if k == 1u {
                    f = d1;
                } else if k == 2u {
                    f = d2;
                } else if k == 3u {
                    f = d3;
                }
                tile[i] = cmul(f, tile[i]);
            }
        } else if applies {
            let x0 = field(d + 20u);
            let x1 = field(d + 22u);
            for (var t = lid; t < items; t += TILE_WG) {
                let i = deposit(t, fixed) | ctrl;
                let a0 = tile[i | x0];
                tile[i | x0] = tile[i | x1];
                tile[i | x1] = a0;
            }
        }
        workgroupBarrier();
    }
    for (var local = lid; local < TILE; local += TILE_WG) {
        store(lid_bits | block_offset[local / TILE_WG], tile[local]);
    }
}
