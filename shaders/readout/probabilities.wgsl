// |psi[i]|^2 for every amplitude of slot 0, written to aux_out[out_offset + i].
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    if t >= op.n_threads {
        return;
    }
    let a = load(t);
    aux_out[op.out_offset + t] = dot(a, a);
}
