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
    inline_mat: u32,  // 1: the gate matrix is `m` below, not in aux_in
    pad0: u32,
    pad1: u32,
    pad2: u32,
    pad3: u32,
    pad4: u32,
    // Up to 16 complex entries (two per vec4), for gates whose matrix is shared by every state:
    // uniform data, so every invocation reads the same scalars instead of loading from storage.
    m: array<vec4<real>, 8>,
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

// The matrix entry k (complex) of the current op for batch state b: inline in the record when
// shared, else from aux_in.
fn mat(b: u32, k: u32) -> vec2<real> {
    if op.inline_mat == 1u {
        let v = op.m[k >> 1u];
        return select(v.zw, v.xy, (k & 1u) == 0u);
    }
    let o = op.in_offset + b * op.batch_stride + 2u * k;
    return vec2<real>(aux_in[o], aux_in[o + 1u]);
}

// Threads of one state's grid (reduction kernels loop with this stride over their work items).
fn grid_stride(nwg: vec3<u32>) -> u32 {
    return nwg.x * nwg.y * WG;
}

var<workgroup> partial_scratch: array<vec2<real>, 256>;

// The sum of `v` over the workgroup (tree reduction in workgroup memory), valid in invocation
// 0. Call from uniform control flow.
fn workgroup_total(v: vec2<real>, lid: u32) -> vec2<real> {
    partial_scratch[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if lid < s {
            partial_scratch[lid] += partial_scratch[lid + s];
        }
        workgroupBarrier();
    }
    return partial_scratch[0];
}

// Writes complex `v` to aux_out at complex index `at`.
fn write_complex(at: u32, v: vec2<real>) {
    aux_out[2u * at] = v.x;
    aux_out[2u * at + 1u] = v.y;
}

// Sums `v` over the workgroup and writes the total to complex index out_offset + b*count + wg.
// Call from uniform control flow.
fn write_workgroup_sum(v: vec2<real>, lid: u32, b: u32, wg: u32) {
    let total = workgroup_total(v, lid);
    if lid == 0u {
        write_complex(op.out_offset + b * op.count + wg, total);
    }
}

// Row r of state b's 2x2 matrix applied to the pair (a0, a1).
fn mat2_row(b: u32, r: u32, a0: vec2<real>, a1: vec2<real>) -> vec2<real> {
    return cmul(mat(b, 2u * r), a0) + cmul(mat(b, 2u * r + 1u), a1);
}

// The amplitude indices of the (q0, q1) quartet based at `base`, in matrix-index order.
fn quartet(base: u32) -> array<u32, 4> {
    let b0 = 1u << op.q0;
    let b1 = 1u << op.q1;
    return array<u32, 4>(base, base | b0, base | b1, base | b0 | b1);
}

// Row r of state b's 4x4 matrix applied to the quartet `a`.
fn mat4_row(b: u32, r: u32, a: array<vec2<real>, 4>) -> vec2<real> {
    var acc = vec2<real>(0.0, 0.0);
    for (var k = 0u; k < 4u; k++) {
        acc += cmul(mat(b, 4u * r + k), a[k]);
    }
    return acc;
}

// Which diagonal entry applies to basis state `local`: bit(q0) when nq >= 1, plus 2*bit(q1)
// when nq == 2 (0 for a folded phase gate, nq == 0).
fn diag_index(local: u32) -> u32 {
    var k = 0u;
    if op.nq >= 1u {
        k = (local >> op.q0) & 1u;
    }
    if op.nq == 2u {
        k = k | (((local >> op.q1) & 1u) << 1u);
    }
    return k;
}

fn conj_mul(a: vec2<real>, b: vec2<real>) -> vec2<real> {
    return vec2<real>(a.x * b.x + a.y * b.y, a.x * b.y - a.y * b.x);
}
