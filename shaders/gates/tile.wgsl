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
    return complex_at(at + 2u * k);
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
        // Four items per step (see quad_offsets): the per-step cost dominates on CPU adapters.
        let o = quad_offsets(fixed, items);
        if applies && kind == 0u {
            let m00 = gate_mat(m, 0u);
            let m01 = gate_mat(m, 1u);
            let m10 = gate_mat(m, 2u);
            let m11 = gate_mat(m, 3u);
            let bit = 1u << q0;
            for (var t = lid; 4u * t < items; t += TILE_WG) {
                let i = deposit(4u * t, fixed) | ctrl;
                let a0 = tile[i];
                let a1 = tile[i | bit];
                let b0 = tile[i | o[1]];
                let b1 = tile[i | o[1] | bit];
                let c0 = tile[i | o[2]];
                let c1 = tile[i | o[2] | bit];
                let e0 = tile[i | o[3]];
                let e1 = tile[i | o[3] | bit];
                tile[i] = row2(m00, m01, a0, a1);
                tile[i | bit] = row2(m10, m11, a0, a1);
                tile[i | o[1]] = row2(m00, m01, b0, b1);
                tile[i | o[1] | bit] = row2(m10, m11, b0, b1);
                tile[i | o[2]] = row2(m00, m01, c0, c1);
                tile[i | o[2] | bit] = row2(m10, m11, c0, c1);
                tile[i | o[3]] = row2(m00, m01, e0, e1);
                tile[i | o[3] | bit] = row2(m10, m11, e0, e1);
            }
        } else if applies && kind == 1u {
            let r0 = array<vec2<real>, 4>(gate_mat(m, 0u), gate_mat(m, 1u), gate_mat(m, 2u), gate_mat(m, 3u));
            let r1 = array<vec2<real>, 4>(gate_mat(m, 4u), gate_mat(m, 5u), gate_mat(m, 6u), gate_mat(m, 7u));
            let r2 = array<vec2<real>, 4>(gate_mat(m, 8u), gate_mat(m, 9u), gate_mat(m, 10u), gate_mat(m, 11u));
            let r3 = array<vec2<real>, 4>(gate_mat(m, 12u), gate_mat(m, 13u), gate_mat(m, 14u), gate_mat(m, 15u));
            let b0 = 1u << q0;
            let b1 = 1u << q1;
            for (var t = lid; 2u * t < items; t += TILE_WG) {
                // Two quartets per step.
                let i = deposit(2u * t, fixed) | ctrl;
                let j = i | o[1];
                let a = array<vec2<real>, 4>(tile[i], tile[i | b0], tile[i | b1], tile[i | b0 | b1]);
                let c = array<vec2<real>, 4>(tile[j], tile[j | b0], tile[j | b1], tile[j | b0 | b1]);
                tile[i] = row4(r0, a);
                tile[i | b0] = row4(r1, a);
                tile[i | b1] = row4(r2, a);
                tile[i | b0 | b1] = row4(r3, a);
                tile[j] = row4(r0, c);
                tile[j | b0] = row4(r1, c);
                tile[j | b1] = row4(r2, c);
                tile[j | b0 | b1] = row4(r3, c);
            }
        } else if applies && kind == 2u {
            let dg = array<vec2<real>, 4>(gate_mat(m, 0u), gate_mat(m, 1u), gate_mat(m, 2u), gate_mat(m, 3u));
            for (var t = lid; 4u * t < items; t += TILE_WG) {
                let i = deposit(4u * t, fixed) | ctrl;
                let p0 = diag_pair_of(dg, i, nq, q0, q1);
                let p1 = diag_pair_of(dg, i | o[1], nq, q0, q1);
                let p2 = diag_pair_of(dg, i | o[2], nq, q0, q1);
                let p3 = diag_pair_of(dg, i | o[3], nq, q0, q1);
                let a0 = tile[p0.i0];
                let a1 = tile[p0.i1];
                let b0 = tile[p1.i0];
                let b1 = tile[p1.i1];
                let c0 = tile[p2.i0];
                let c1 = tile[p2.i1];
                let e0 = tile[p3.i0];
                let e1 = tile[p3.i1];
                tile[p0.i0] = cmul(p0.d0, a0);
                tile[p0.i1] = cmul(p0.d1, a1);
                tile[p1.i0] = cmul(p1.d0, b0);
                tile[p1.i1] = cmul(p1.d1, b1);
                tile[p2.i0] = cmul(p2.d0, c0);
                tile[p2.i1] = cmul(p2.d1, c1);
                tile[p3.i0] = cmul(p3.d0, e0);
                tile[p3.i1] = cmul(p3.d1, e1);
            }
        } else if applies {
            let x0 = field(d + 20u);
            let x1 = field(d + 22u);
            for (var t = lid; 4u * t < items; t += TILE_WG) {
                let i = deposit(4u * t, fixed) | ctrl;
                let a0 = tile[i | x0];
                let a1 = tile[i | x1];
                let b0 = tile[i | o[1] | x0];
                let b1 = tile[i | o[1] | x1];
                let c0 = tile[i | o[2] | x0];
                let c1 = tile[i | o[2] | x1];
                let e0 = tile[i | o[3] | x0];
                let e1 = tile[i | o[3] | x1];
                tile[i | x0] = a1;
                tile[i | x1] = a0;
                tile[i | o[1] | x0] = b1;
                tile[i | o[1] | x1] = b0;
                tile[i | o[2] | x0] = c1;
                tile[i | o[2] | x1] = c0;
                tile[i | o[3] | x0] = e1;
                tile[i | o[3] | x1] = e0;
            }
        }
        workgroupBarrier();
    }
    for (var local = lid; local < TILE; local += TILE_WG) {
        store(lid_bits | block_offset[local / TILE_WG], tile[local]);
    }
}
