// State access when the dispatch sees one chunk buffer, one amplitude per element.
@group(0) @binding(2) var<storage, read_write> s0: array<vec2<real>>;

fn load(i: u32) -> vec2<real> {
    return s0[i];
}

fn store(i: u32, v: vec2<real>) {
    s0[i] = v;
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
