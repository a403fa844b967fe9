// State access when the dispatch spans up to four chunk buffers (index bits >= chunk_bits pick
// the buffer) seen as pairs of neighbouring amplitudes (2k, 2k + 1), one vec4 element each
// (see access_single_pairs.wgsl).
@group(0) @binding(2) var<storage, read_write> s0: array<vec4<real>>;
@group(0) @binding(3) var<storage, read_write> s1: array<vec4<real>>;
@group(0) @binding(4) var<storage, read_write> s2: array<vec4<real>>;
@group(0) @binding(5) var<storage, read_write> s3: array<vec4<real>>;

// Amplitudes i and i + 1 (i even).
fn load_pair(i: u32) -> vec4<real> {
    let slot = i >> op.chunk_bits;
    let j = (i & ((1u << op.chunk_bits) - 1u)) >> 1u;
    switch slot {
        case 0u: { return s0[j]; }
        case 1u: { return s1[j]; }
        case 2u: { return s2[j]; }
        default: { return s3[j]; }
    }
}

fn store_pair(i: u32, v: vec4<real>) {
    let slot = i >> op.chunk_bits;
    let j = (i & ((1u << op.chunk_bits) - 1u)) >> 1u;
    switch slot {
        case 0u: { s0[j] = v; }
        case 1u: { s1[j] = v; }
        case 2u: { s2[j] = v; }
        default: { s3[j] = v; }
    }
}

fn load(i: u32) -> vec2<real> {
    let v = load_pair(i & ~1u);
    return select(v.xy, v.zw, (i & 1u) == 1u);
}

fn store(i: u32, v: vec2<real>) {
    let slot = i >> op.chunk_bits;
    let j = (i & ((1u << op.chunk_bits) - 1u)) >> 1u;
    let c = 2u * (i & 1u);
    switch slot {
        case 0u: { s0[j][c] = v.x; s0[j][c + 1u] = v.y; }
        case 1u: { s1[j][c] = v.x; s1[j][c + 1u] = v.y; }
        case 2u: { s2[j][c] = v.x; s2[j][c + 1u] = v.y; }
        default: { s3[j][c] = v.x; s3[j][c + 1u] = v.y; }
    }
}
