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

// `struct Op` (the record above; field by field in `src/sim/gpu/abi.rs`, whose `OpRecord` it
// mirrors, generated from the same field list) and `const WG` (invocations per workgroup,
// `WORKGROUP_SIZE` on the host) are prepended by the host with the other host constants.

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

// ITEMS (prepended by the host, `GROUP_ITEMS`; 4, see quad_offsets): work items per group of
// the light gate kernels (gate1, gate2, diagonal, permute), neighbours loaded and stored
// together (see group_bases).
//
// GROUPS (prepended by the host, `Kernel::groups_per_invocation`): the item groups each
// invocation of a light gate kernel takes at most, one after another in a loop whose trip
// count is a run-time value (the host dispatches ceil(n_threads / (ITEMS·GROUPS))
// invocations). Software adapters read every value of the uniform op record per lane, so what
// an invocation reads once (its op fields and the gate matrix) is spread over GROUPS groups;
// unrolled instead, the groups' values would all be live at once (measured slower; figures in
// benches/RESULTS.md, "Design measurements").

// Where invocation t's work items sit (items ITEMS·GROUPS·t + ITEMS·g + j, g < groups,
// j < ITEMS), read from the op record once: the loop over groups then reads registers only.
struct ItemSpace {
    first: u32,              // index of the invocation's first item (control bits set)
    offsets: array<u32, 4>,  // item j's offset from its group's first (see quad_offsets)
    step: u32,               // the index bit of item ITEMS (the third free bit)
    skip: u32,               // the bits below `step` or fixed: a group step carries past them
    ctrl: u32,               // the control bits
    groups: u32,             // groups this invocation takes: GROUPS, or fewer for fewer items
}

// Invocation t's item space in batch state b for the current op. The group count comes from
// the host (min(GROUPS, n_threads / ITEMS), at least 1) rather than from a clamp here: with the
// clamp, the compiler can bound the trip count and (we infer) unrolls a small kernel's loop,
// which measured much slower (benches/RESULTS.md, "Design measurements").
fn item_space(b: u32, t: u32) -> ItemSpace {
    let n = op.n_threads;
    let fixed = op.fixed_mask;
    let ctrl = op.ctrl_mask;
    let step = deposit(ITEMS, fixed);
    return ItemSpace(state_base(b) | deposit(ITEMS * GROUPS * t, fixed) | ctrl,
        quad_offsets(fixed, n), step, fixed | (step - 1u), ctrl, op.groups);
}

// The index of the next group's first item after the group whose first is `first`: adding
// `step` with every skipped bit set carries over them (the deposit of item index + ITEMS).
fn next_group(s: ItemSpace, first: u32) -> u32 {
    return (((first | s.skip) + s.step) & ~s.skip) | s.ctrl;
}

// The base indices of the ITEMS items of the group whose first item is `first`. The items are
// neighbours in memory (a real GPU still reads whole segments). n_threads is a power of two:
// below ITEMS, items repeat (j mod n_threads), so a kernel that loads a group's items before
// storing any stores the same values twice.
fn group_bases(s: ItemSpace, first: u32) -> array<u32, ITEMS> {
    let o = s.offsets;
    return array<u32, ITEMS>(first, first | o[1], first | o[2], first | o[3]);
}

fn cmul(a: vec2<real>, b: vec2<real>) -> vec2<real> {
    return vec2<real>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// Index of the first amplitude of batch state b.
fn state_base(b: u32) -> u32 {
    return b << op.state_bits;
}

// The matrix entry k (complex) of the current op for batch state b: inline in the record when
// the kernel is compiled with INLINE_MAT (a const the host prepends), else from aux_in.
fn mat(b: u32, k: u32) -> vec2<real> {
    if INLINE_MAT {
        return inline_entry(k);
    }
    return complex_at(op.in_offset + b * op.batch_stride + 2u * k);
}

// Complex entry k of the matrices inline in the op record (two per vec4 of `op.m`).
fn inline_entry(k: u32) -> vec2<real> {
    let v = op.m[k >> 1u];
    return select(v.zw, v.xy, (k & 1u) == 0u);
}

// The complex number at aux_in[p], aux_in[p + 1].
fn complex_at(p: u32) -> vec2<real> {
    return vec2<real>(aux_in[p], aux_in[p + 1u]);
}

// Threads of one state's grid (reduction kernels loop with this stride over their work items).
fn grid_stride(nwg: vec3<u32>) -> u32 {
    return nwg.x * nwg.y * WG;
}

var<workgroup> partial_scratch: array<vec2<real>, WG>;

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

// acc + m·a (complex), as four fused multiply-adds.
fn cmac(acc: vec2<real>, m: vec2<real>, a: vec2<real>) -> vec2<real> {
    return vec2<real>(fma(m.x, a.x, fma(-m.y, a.y, acc.x)), fma(m.x, a.y, fma(m.y, a.x, acc.y)));
}

// m0·a0 + m1·a1 (complex): one row of a 2x2 matrix.
fn row2(m0: vec2<real>, m1: vec2<real>, a0: vec2<real>, a1: vec2<real>) -> vec2<real> {
    return cmac(cmul(m0, a0), m1, a1);
}

// Paired access (kernels compiled with PAIRS, through the paired access modules; the host's
// `access_for` picks it, only for dispatches of at least ITEMS items, so that a group's items
// are distinct). Two pairings:
// - items (PAIR_TARGET false): bit 0 is free (no target or control on qubit 0), so items come
//   in neighbouring pairs along bit 0, the lowest free bit (group_bases: base[1] = base[0] | 1,
//   base[3] = base[2] | 1, base[0] and base[2] even), and one vec4 access moves two items;
// - target (PAIR_TARGET true): qubit 0 is the first target, so an item's amplitudes with
//   q0 = 0 and 1 are one pair.

// A 2x2 row (m0, m1) applied to the items in pairs x (first rows) and y (second rows):
// row2 for the low item in .xy and the high item in .zw.
fn pair_row2(m0: vec2<real>, m1: vec2<real>, x: vec4<real>, y: vec4<real>) -> vec4<real> {
    return vec4<real>(row2(m0, m1, x.xy, y.xy), row2(m0, m1, x.zw, y.zw));
}

// State b's first four matrix entries, read once into registers (see mat()): a 2x2 matrix
// row-major, or a diagonal's entries (a shorter diagonal reads past its end into values it
// never selects; out-of-range buffer reads are clamped).
fn mat2_entries(b: u32) -> array<vec2<real>, 4> {
    if INLINE_MAT {
        let v = op.m[0];
        let w = op.m[1];
        return array<vec2<real>, 4>(v.xy, v.zw, w.xy, w.zw);
    }
    return entries4_at(op.in_offset + b * op.batch_stride);
}

// The amplitude indices of the (q0, q1) quartet based at `base`, in matrix-index order.
fn quartet(base: u32) -> array<u32, 4> {
    return quartet_of(base, 1u << op.q0, 1u << op.q1);
}

// The quartet based at `base` whose target bits are b0 and b1.
fn quartet_of(base: u32, b0: u32, b1: u32) -> array<u32, 4> {
    return array<u32, 4>(base, base | b0, base | b1, base | b0 | b1);
}

// State b's 4x4 matrix as four rows, read once into registers: see mat().
fn mat4_rows(b: u32) -> array<array<vec2<real>, 4>, 4> {
    if INLINE_MAT {
        return array<array<vec2<real>, 4>, 4>(
            array<vec2<real>, 4>(op.m[0].xy, op.m[0].zw, op.m[1].xy, op.m[1].zw),
            array<vec2<real>, 4>(op.m[2].xy, op.m[2].zw, op.m[3].xy, op.m[3].zw),
            array<vec2<real>, 4>(op.m[4].xy, op.m[4].zw, op.m[5].xy, op.m[5].zw),
            array<vec2<real>, 4>(op.m[6].xy, op.m[6].zw, op.m[7].xy, op.m[7].zw));
    }
    let o = op.in_offset + b * op.batch_stride;
    return array<array<vec2<real>, 4>, 4>(entries4_at(o), entries4_at(o + 8u), entries4_at(o + 16u),
        entries4_at(o + 24u));
}

// Four complex entries from aux_in at real offset p.
fn entries4_at(p: u32) -> array<vec2<real>, 4> {
    return array<vec2<real>, 4>(complex_at(p), complex_at(p + 2u), complex_at(p + 4u),
        complex_at(p + 6u));
}

// One row of a 4x4 matrix applied to the quartet `a`.
fn row4(m: array<vec2<real>, 4>, a: array<vec2<real>, 4>) -> vec2<real> {
    return cmac(cmac(row2(m[0], m[1], a[0], a[1]), m[2], a[2]), m[3], a[3]);
}

// A diagonal op's work item: the amplitudes i0, i1 that differ in q0 and their entries.
struct DiagPair {
    i0: u32,
    i1: u32,
    d0: vec2<real>,
    d1: vec2<real>,
}

// The work item based at `base` of a diagonal on local targets q0 (and q1 when nq = 2), entries
// in `d` (index bit(q0) + 2*bit(q1)). The host fixes only q0 (and the controls), so q1's bit
// comes with the item index and picks the entries by selects rather than branches, which
// software adapters pay for even untaken. nq = 0 (a folded phase gate, one entry): i1 = i0 and
// d1 = d0.
fn diag_pair_of(d: array<vec2<real>, 4>, base: u32, nq: u32, q0: u32, q1: u32) -> DiagPair {
    let high = nq == 2u && ((base >> q1) & 1u) == 1u;
    let d0 = select(d[0], d[2], high);
    let d1 = select(d[1], d[3], high);
    let pair = nq >= 1u;
    return DiagPair(base, select(base, base | (1u << q0), pair), d0, select(d0, d1, pair));
}

// diag_pair_of for the current op record.
fn diag_pair(d: array<vec2<real>, 4>, base: u32) -> DiagPair {
    return diag_pair_of(d, base, op.nq, op.q0, op.q1);
}

// Offsets of the four work items 4u + j (j < 4) from item 4u's index, for items spread over
// the positions not in `fixed`: the two lowest free bits. With fewer than four items the
// offsets wrap (items repeat), so a kernel that loads every item before storing stays exact.
fn quad_offsets(fixed: u32, items: u32) -> array<u32, 4> {
    let f1 = ~fixed & (fixed + 1u);
    let rest = ~fixed & ~f1;
    let f2 = rest & (~rest + 1u);
    let wrap = items - 1u;
    let o1 = select(0u, f1, (1u & wrap) != 0u);
    let o2 = select(0u, f2, (2u & wrap) != 0u);
    return array<u32, 4>(0u, o1, o2, o1 | o2);
}

fn conj_mul(a: vec2<real>, b: vec2<real>) -> vec2<real> {
    return vec2<real>(a.x * b.x + a.y * b.y, a.x * b.y - a.y * b.x);
}
