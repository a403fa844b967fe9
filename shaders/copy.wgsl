// Bandwidth ceiling: copies slot s0 into binding 3, one amplitude per thread. The benches time
// it beside the gate kernels on the same adapter (a gate pass moves the same bytes).
@group(0) @binding(3) var<storage, read_write> copy_dst: array<vec2<real>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    copy_dst[t] = load(t);
}
