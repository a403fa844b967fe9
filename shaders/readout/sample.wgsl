// Sampling by inverse transform, in two entry points.
//
// block_sums: the probability mass of each block of WG amplitudes of slot 0, written to
// aux_out[out_offset + block]. The host turns these into a CDF (in f64) and finds each draw's
// block and the residual mass left inside it.
//
// pick: for sample k, aux_in[in_offset + 2k] is the block (within slot 0) and
// aux_in[in_offset + 2k + 1] the residual; the thread walks the block's WG probabilities and
// (op.n_threads is the chunk's length) writes the offset of the first amplitude at which the running sum exceeds the residual to
// aux_out[out_offset + k] (the last non-zero one if rounding leaves the residual unreached).
var<workgroup> scratch: array<real, WG>;

@compute @workgroup_size(WG)
fn block_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let t = thread_id(wid, nwg, lid);
    var p = real(0.0);
    if t < op.n_threads {
        let a = load(t);
        p = dot(a, a);
    }
    scratch[lid] = p;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            scratch[lid] += scratch[lid + s];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        aux_out[op.out_offset + workgroup_id(wid, nwg)] = scratch[0];
    }
}

@compute @workgroup_size(WG)
fn pick(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let k = thread_id(wid, nwg, lid);
    if k >= op.count {
        return;
    }
    let block = u32(aux_in[op.in_offset + 2u * k]);
    let residual = aux_in[op.in_offset + 2u * k + 1u];
    let start = block * WG;
    var acc = real(0.0);
    var chosen = 0u;
    var last_nonzero = 0u;
    var found = false;
    for (var j = 0u; j < WG; j++) {
        if start + j >= op.n_threads {
            break;
        }
        let a = load(start + j);
        let p = dot(a, a);
        if p > real(0.0) {
            last_nonzero = j;
        }
        acc += p;
        if !found && acc > residual {
            chosen = j;
            found = true;
        }
    }
    if !found {
        chosen = last_nonzero;
    }
    aux_out[op.out_offset + k] = real(chosen);
}
