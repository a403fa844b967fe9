// State access when the dispatch spans up to four chunk buffers: index bits >= chunk_bits pick
// the buffer (the host binds the chunks a gate on high qubits pairs up).
@group(0) @binding(2) var<storage, read_write> s0: array<vec2<real>>;
@group(0) @binding(3) var<storage, read_write> s1: array<vec2<real>>;
@group(0) @binding(4) var<storage, read_write> s2: array<vec2<real>>;
@group(0) @binding(5) var<storage, read_write> s3: array<vec2<real>>;

fn load(i: u32) -> vec2<real> {
    let slot = i >> op.chunk_bits;
    let j = i & ((1u << op.chunk_bits) - 1u);
    switch slot {
        case 0u: { return s0[j]; }
        case 1u: { return s1[j]; }
        case 2u: { return s2[j]; }
        default: { return s3[j]; }
    }
}

fn store(i: u32, v: vec2<real>) {
    let slot = i >> op.chunk_bits;
    let j = i & ((1u << op.chunk_bits) - 1u);
    switch slot {
        case 0u: { s0[j] = v; }
        case 1u: { s1[j] = v; }
        case 2u: { s2[j] = v; }
        default: { s3[j] = v; }
    }
}

// Amplitudes i and i + 1 (i even). The paired access modules read them as one element; kernels
// call these only when compiled with PAIRS.
fn load_pair(i: u32) -> vec4<real> {
    return vec4<real>(load(i), load(i + 1u));
}

fn store_pair(i: u32, v: vec4<real>) {
    store(i, v.xy);
    store(i + 1u, v.zw);
}
