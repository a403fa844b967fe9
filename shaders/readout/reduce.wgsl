// Segmented sum of complex partials: aux_in holds segments of `count` complex values each
// (segment s starts at complex index s*count); workgroup (x, y) sums WG values of segment
// s = seg_base + y into aux_out[complex index s*num_workgroups.x + x]. Repeated until one value
// per segment is left.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let seg = op.seg_base + wid.y;
    let i = wid.x * WG + lid;
    var v = vec2<real>(0.0, 0.0);
    if i < op.count {
        let o = 2u * (seg * op.count + i);
        v = complex_at(o);
    }
    let total = workgroup_total(v, lid);
    if lid == 0u {
        write_complex(seg * nwg.x + wid.x, total);
    }
}
