// State access when the dispatch sees one chunk buffer.
@group(0) @binding(2) var<storage, read_write> s0: array<vec2<real>>;

fn load(i: u32) -> vec2<real> {
    return s0[i];
}

fn store(i: u32, v: vec2<real>) {
    s0[i] = v;
}
