// Partial sums of <psi|P_k|psi> for many Pauli strings P_k in one dispatch (without their
// i^{#Y} phases, applied on the host). The strings are a table in aux_in from op.in_offset,
// TERM_REALS = 6 reals per string, each field two 16-bit halves stored as reals (exact in
// f32): x_mask (the virtual flip mask, with the chunk bit when the partner is another chunk),
// z_mask (the sign mask within the chunk), z_high (the sign mask over chunk-index bits).
// Workgroup (x, y) takes string k = op.seg_base + y over the n_threads amplitudes of the
// dispatch's chunk op.x1 (op.x0 chunks per string), grid-stride along x, and writes its
// complex partial to aux_out at ((k * op.x0 + op.x1) * num_workgroups.x + x).
const TERM_REALS: u32 = 6u;

fn field(at: u32) -> u32 {
    return u32(aux_in[at]) | (u32(aux_in[at + 1u]) << 16u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let term = op.seg_base + wid.y;
    let at = op.in_offset + TERM_REALS * term;
    let x_mask = field(at);
    let z_mask = field(at + 2u);
    let sign = countOneBits(op.x1 & field(at + 4u)) & 1u;
    var v = vec2<real>(0.0, 0.0);
    for (var t = wid.x * WG + lid; t < op.n_threads; t += nwg.x * WG) {
        let prod = conj_mul(load(t ^ x_mask), load(t));
        let parity = (countOneBits(t & z_mask) + sign) & 1u;
        v += select(prod, -prod, parity == 1u);
    }
    let total = workgroup_total(v, lid);
    if lid == 0u {
        write_complex((term * op.x0 + op.x1) * nwg.x + wid.x, total);
    }
}
