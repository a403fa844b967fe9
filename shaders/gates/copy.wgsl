// Bandwidth ceiling: copies slot s0 into binding 3, COPY_ITEMS neighbouring amplitudes per
// invocation as COPY_ITEMS / 2 pairs (compiled with PAIRS: one vec4 per two amplitudes). Both
// choices measured fastest on lavapipe (benches/RESULTS.md, "Design measurements"), so the
// ceiling is the best copy this adapter does. The benches
// time it beside the gate kernels.
@group(0) @binding(3) var<storage, read_write> copy_dst: array<vec4<real>>;

const COPY_ITEMS: u32 = 8u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if COPY_ITEMS * t >= op.n_threads {
        return;
    }
    const PAIRS_PER: u32 = COPY_ITEMS / 2u;
    let last = op.n_threads / 2u - 1u;
    var v: array<vec4<real>, PAIRS_PER>;
    for (var j = 0u; j < PAIRS_PER; j++) {
        v[j] = load_pair(2u * min(PAIRS_PER * t + j, last));
    }
    for (var j = 0u; j < PAIRS_PER; j++) {
        copy_dst[min(PAIRS_PER * t + j, last)] = v[j];
    }
}
