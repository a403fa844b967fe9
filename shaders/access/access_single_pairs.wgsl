// State access when the dispatch sees one chunk buffer as pairs of neighbouring amplitudes
// (2k, 2k + 1), one vec4 element each: kernels whose work items come in pairs along bit 0
// move two amplitudes per access (software adapters load and store per element and lane).
@group(0) @binding(2) var<storage, read_write> s0: array<vec4<real>>;

// Amplitudes i and i + 1 (i even).
fn load_pair(i: u32) -> vec4<real> {
    return s0[i >> 1u];
}

fn store_pair(i: u32, v: vec4<real>) {
    s0[i >> 1u] = v;
}

fn load(i: u32) -> vec2<real> {
    let v = s0[i >> 1u];
    return select(v.xy, v.zw, (i & 1u) == 1u);
}

fn store(i: u32, v: vec2<real>) {
    let c = 2u * (i & 1u);
    s0[i >> 1u][c] = v.x;
    s0[i >> 1u][c + 1u] = v.y;
}
