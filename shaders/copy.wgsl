// Bandwidth ceiling: copies slot s0 into binding 3, COPY_ITEMS neighbouring amplitudes per
// invocation (more than the gate kernels' ITEMS: measured on lavapipe, 8 copies fastest, so
// the ceiling is the best copy this adapter does). The benches time it beside the gate kernels.
@group(0) @binding(3) var<storage, read_write> copy_dst: array<vec2<real>>;

const COPY_ITEMS: u32 = 8u;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if COPY_ITEMS * t >= op.n_threads {
        return;
    }
    var v: array<vec2<real>, COPY_ITEMS>;
    for (var j = 0u; j < COPY_ITEMS; j++) {
        v[j] = load(min(COPY_ITEMS * t + j, op.n_threads - 1u));
    }
    for (var j = 0u; j < COPY_ITEMS; j++) {
        copy_dst[min(COPY_ITEMS * t + j, op.n_threads - 1u)] = v[j];
    }
}
