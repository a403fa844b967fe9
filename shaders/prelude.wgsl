// Shared prelude, concatenated after the precision line (`alias real = f32;` or `f64`) and
// before the state-access functions and one kernel family. WGSL has no #include.
//
// Every kernel reads one `Op` record (a dynamic-offset uniform) that the host fills per dispatch.
// Indices are in the dispatch's *virtual* state space: one chunk buffer, or up to four chunk
// buffers seen as one array whose top bits (>= chunk_bits) select the buffer (slot).
//
// Batches: workgroup_id.z is the state's index b within a batch of states stored one after the
// other (b << state_bits is its first amplitude), and per-state data (gate matrices, weights)
// sits at aux_in[in_offset + b * batch_stride]. A single state has b = 0.

struct Op {
    n_threads: u32,   // work items in this dispatch; threads past it return
    q0: u32,          // first target qubit (virtual)
    q1: u32,          // second target qubit (virtual)
    nq: u32,          // number of targets the kernel reads (1 or 2)
    fixed_mask: u32,  // qubits the thread index skips (targets, controls): see deposit()
    ctrl_mask: u32,   // qubits forced to 1 (controls)
    chunk_bits: u32,  // log2(amplitudes per chunk buffer)
    in_offset: u32,   // offset (in reals) into aux_in: the gate matrix, or the sample list
    x0: u32,          // permutation: first partner offset
    x1: u32,          // permutation: second partner offset
    out_offset: u32,  // offset (in elements) into aux_out
    z_mask: u32,      // Pauli: qubits that give a sign
    x_mask: u32,      // Pauli: qubits that flip
    count: u32,       // reduce: inputs per segment; sample: number of samples
    sign: u32,        // Pauli: 1 when the chunk's high Z bits flip the sign
    state_bits: u32,  // log2(amplitudes per state) in a batch
    batch_stride: u32,// reals between consecutive states' data in aux_in (0: shared)
    seg_base: u32,    // reduce: first segment of this dispatch
    pad0: u32,
    pad1: u32,
}

const WG: u32 = 256u;

@group(0) @binding(0) var<uniform> op: Op;
@group(0) @binding(1) var<storage, read> aux_in: array<real>;
@group(0) @binding(6) var<storage, read_write> aux_out: array<real>;

// Linear thread id over a 2-D grid of workgroups (at most 65 535 per dimension).
fn thread_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.x + wid.y * nwg.x) * WG + lid;
}

fn workgroup_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

// Spreads the bits of `i` over the positions not in `fixed`, leaving the fixed positions 0.
// (Inserts a zero bit at every fixed position, lowest first.)
fn deposit(i: u32, fixed: u32) -> u32 {
    var r = i;
    var m = fixed;
    loop {
        if m == 0u {
            break;
        }
        let low = m & (~m + 1u);
        r = ((r & ~(low - 1u)) << 1u) | (r & (low - 1u));
        m = m & (m - 1u);
    }
    return r;
}

fn cmul(a: vec2<real>, b: vec2<real>) -> vec2<real> {
    return vec2<real>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// Index of the first amplitude of batch state b.
fn state_base(b: u32) -> u32 {
    return b << op.state_bits;
}

// The matrix entry k (complex) of the current op for batch state b, read from aux_in.
fn mat(b: u32, k: u32) -> vec2<real> {
    let o = op.in_offset + b * op.batch_stride + 2u * k;
    return vec2<real>(aux_in[o], aux_in[o + 1u]);
}

// Threads of one state's grid (reduction kernels loop with this stride over their work items).
fn grid_stride(nwg: vec3<u32>) -> u32 {
    return nwg.x * nwg.y * WG;
}

var<workgroup> partial_scratch: array<vec2<real>, 256>;

// Sums `v` over the workgroup (tree reduction in workgroup memory) and writes the total to
// aux_out[2*(out_offset + b*count + wg)]. Call from uniform control flow.
fn write_workgroup_sum(v: vec2<real>, lid: u32, b: u32, wg: u32) {
    partial_scratch[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            partial_scratch[lid] += partial_scratch[lid + s];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        let o = 2u * (op.out_offset + b * op.count + wg);
        aux_out[o] = partial_scratch[0].x;
        aux_out[o + 1u] = partial_scratch[0].y;
    }
}

fn conj_mul(a: vec2<real>, b: vec2<real>) -> vec2<real> {
    return vec2<real>(a.x * b.x + a.y * b.y, a.x * b.y - a.y * b.x);
}
