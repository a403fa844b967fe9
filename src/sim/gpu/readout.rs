//! Results computed on the GPU so that only what the user asked for comes back: Pauli-sum
//! expectations (a parallel reduction down to one complex scalar per term and chunk),
//! probabilities, and samples (block sums on the GPU, a CDF over blocks on the host, the pick
//! inside a block on the GPU).

use super::abi::{reals_to_bytes, OpRecord, WORKGROUP_SIZE};
use super::context::GpuContext;
use super::record::{grid, Dispatch, Recording};
use super::shaders::{Access, Kernel};
use crate::circuit::Observable;
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use num_complex::Complex64;

/// A state's chunk buffers as the readouts see them: 2^`num_qubits` amplitudes in chunks of
/// 2^`chunk_bits`.
#[derive(Clone, Copy)]
pub(crate) struct Chunks<'a> {
    pub ctx: &'a GpuContext,
    pub buffers: &'a [wgpu::Buffer],
    pub chunk_bits: usize,
    pub num_qubits: usize,
}

/// Most workgroups a reduction kernel launches per state; its threads loop with a grid stride,
/// so each reduction segment has at most this many partial sums.
pub(crate) const MAX_REDUCTION_GROUPS: u64 = 1024;

/// Workgroups (and so partial sums) of a reduction over `items` work items.
pub(crate) fn reduction_groups(items: u64) -> u64 {
    items
        .div_ceil(WORKGROUP_SIZE)
        .clamp(1, MAX_REDUCTION_GROUPS)
}

/// The buffers one dispatch binds (the op record is bound by the recording).
#[derive(Clone, Copy, Default)]
struct Binds<'a> {
    aux_in: Option<&'a wgpu::Buffer>,
    slots: [Option<&'a wgpu::Buffer>; 4],
    aux_out: Option<&'a wgpu::Buffer>,
}

/// A readout's dispatches and the buffers each binds (`Dispatch::group` indexes `binds`).
#[derive(Default)]
struct Work<'a> {
    recording: Recording,
    binds: Vec<Binds<'a>>,
}

impl<'a> Work<'a> {
    /// Appends `dispatch` (of one state) reading `record` with `binds` bound.
    fn push(&mut self, dispatch: Dispatch, record: OpRecord, binds: Binds<'a>) {
        self.recording
            .push(dispatch.group(self.binds.len()), record);
        self.binds.push(binds);
    }

    /// Uploads the records and runs the dispatches in order in one compute pass and one
    /// submit.
    fn run(&self, ctx: &GpuContext) -> Result<()> {
        if self.recording.is_empty() {
            return Ok(());
        }
        let ops = self
            .recording
            .record_buffer(ctx, "qshade readout records")?;
        let groups: Vec<wgpu::BindGroup> = self
            .binds
            .iter()
            .map(|b| ctx.bind_group(&ops, b.aux_in, b.slots, b.aux_out))
            .collect();
        self.recording.submit(ctx, "qshade readout", &groups, 1)
    }
}

/// One pass of the segmented reduction: reads the buffer pair's first buffer when `from_a`.
pub(crate) struct ReducePass {
    pub from_a: bool,
    pub record: OpRecord,
    pub grid: (u32, u32),
}

impl ReducePass {
    /// The pass's dispatch (one layer; grid y is segments) through bind group `group`.
    pub fn dispatch(&self, group: usize) -> Dispatch {
        Dispatch::new(Kernel::Reduce, Access::Single, self.grid).group(group)
    }
}

/// The passes that reduce `segments` segments of `len` partial sums each to one value per
/// segment, ping-ponging between a buffer pair (at most 65 535 segments per dispatch), and
/// whether the result ends in the first buffer.
pub(crate) fn reduce_passes(mut len: u64, segments: u64) -> (Vec<ReducePass>, bool) {
    let mut passes = Vec::new();
    let mut in_a = true;
    while len > 1 {
        let out_len = len.div_ceil(WORKGROUP_SIZE);
        let mut base = 0u64;
        while base < segments {
            let count = (segments - base).min(65_535);
            passes.push(ReducePass {
                from_a: in_a,
                record: OpRecord {
                    count: len as u32,
                    seg_base: base as u32,
                    ..Default::default()
                },
                grid: (out_len as u32, count as u32),
            });
            base += count;
        }
        in_a = !in_a;
        len = out_len;
    }
    (passes, in_a)
}

/// The ping-pong pair a segmented reduction uses: `segments × partials` complex partial sums,
/// and room for the first reduce pass's output.
pub(crate) fn reduction_buffers(
    ctx: &GpuContext,
    segments: u64,
    partials: u64,
) -> Result<(wgpu::Buffer, wgpu::Buffer)> {
    let bpr = bytes_per_real(ctx);
    let first = ctx.storage_buffer(
        "qshade reduction partials",
        segments * partials * 2 * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    let second = ctx.storage_buffer(
        "qshade reduction sums",
        segments * partials.div_ceil(WORKGROUP_SIZE) * 2 * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    Ok((first, second))
}

/// Bytes of one real at the context's precision.
pub(crate) fn bytes_per_real(ctx: &GpuContext) -> u64 {
    ctx.precision.bytes_per_amplitude() / 2
}

/// A Pauli term of an observable, as the kernels see it.
#[derive(Clone, Debug)]
pub(crate) struct Term {
    /// Index of its observable.
    pub observable: usize,
    /// Its coefficient.
    pub coeff: f64,
    /// Qubits it flips (X or Y).
    pub x_mask: u64,
    /// Qubits that give a sign (Z or Y).
    pub z_mask: u64,
    /// How many Y it has (its phase is i^num_y).
    pub num_y: u32,
}

/// The non-identity Pauli terms of `observables`, and each observable's constant (the sum of
/// its identity terms' coefficients).
pub(crate) fn terms_of(observables: &[Observable]) -> (Vec<Term>, Vec<f64>) {
    let mut terms = Vec::new();
    let mut constants = vec![0.0; observables.len()];
    for (j, obs) in observables.iter().enumerate() {
        for t in &obs.terms {
            if t.ops.is_empty() {
                constants[j] += t.coeff;
            } else {
                terms.push(Term {
                    observable: j,
                    coeff: t.coeff,
                    x_mask: t.x_mask(),
                    z_mask: t.z_mask(),
                    num_y: t.num_y() as u32,
                });
            }
        }
    }
    (terms, constants)
}

/// Reals per Pauli string in the term table `pauli_terms.wgsl` reads.
const TERM_REALS: usize = 6;

/// Appends `v` to a kernel table as two 16-bit halves (exact as reals at either precision).
fn push_halves(table: &mut Vec<f64>, v: u32) {
    table.push(f64::from(v & 0xFFFF));
    table.push(f64::from(v >> 16));
}

/// ⟨O_j⟩ for every observable, reduced on the GPU.
///
/// The non-identity terms go through the term-table kernel (`pauli_terms.wgsl`) in groups:
/// per group one dispatch for each chunk and each chunk its terms' X parts pair it with
/// (every dispatch takes all the group's terms that share that partner, each term on
/// `split` workgroups), then one segmented reduction. A 10^5-term observable is a handful of
/// dispatches, not one per term.
pub(crate) fn expectations(state: Chunks<'_>, observables: &[Observable]) -> Result<Vec<f64>> {
    let ctx = state.ctx;
    for obs in observables {
        obs.validate(state.num_qubits)?;
    }
    let (mut terms, mut results) = terms_of(observables);
    if terms.is_empty() {
        return Ok(results);
    }
    let c = state.chunk_bits;
    // Terms with the same partner offset (X part on chunk-index bits) are neighbours.
    terms.sort_by_key(|t| t.x_mask >> c);
    let num_chunks = state.buffers.len() as u64;
    let partials = reduction_groups(1u64 << c);
    let bpr = bytes_per_real(ctx);
    // Bound the partials buffer (32 MiB, and one binding) and the segments per reduce (65 535,
    // which also bounds a dispatch's grid y).
    let cap_bytes = (32u64 << 20).min(ctx.limits.max_storage_buffer_binding_size);
    let max_segments = (cap_bytes / (partials * 2 * bpr)).clamp(1, 65_535);
    let terms_per_group = (max_segments / num_chunks).max(1) as usize;
    let low_mask = (1u64 << c) - 1;
    for group in terms.chunks(terms_per_group) {
        let segments = group.len() as u64 * num_chunks;
        // Enough workgroups per term to fill about MAX_REDUCTION_GROUPS in all.
        let split = (MAX_REDUCTION_GROUPS / group.len() as u64).clamp(1, partials);
        let mut table = Vec::with_capacity(TERM_REALS * group.len());
        for term in group {
            let x_low = term.x_mask & low_mask;
            let x = if term.x_mask >> c == 0 {
                x_low
            } else {
                x_low | (1 << c)
            };
            push_halves(&mut table, x as u32);
            push_halves(&mut table, (term.z_mask & low_mask) as u32);
            push_halves(&mut table, (term.z_mask >> c) as u32);
        }
        let table_buf = ctx.storage_buffer(
            "qshade Pauli terms",
            table.len() as u64 * bpr,
            wgpu::BufferUsages::empty(),
        )?;
        ctx.queue
            .write_buffer(&table_buf, 0, &reals_to_bytes(&table, ctx.precision));
        let (buf_a, buf_b) = reduction_buffers(ctx, segments, split)?;
        let mut work = Work::default();
        let mut first = 0usize;
        while first < group.len() {
            let x_high = group[first].x_mask >> c;
            let count = group[first..]
                .iter()
                .take_while(|t| t.x_mask >> c == x_high)
                .count();
            for ci in 0..num_chunks {
                let chunk = &state.buffers[ci as usize];
                let (access, slots) = if x_high == 0 {
                    (Access::Single, [Some(chunk), None, None, None])
                } else {
                    let partner = state
                        .buffers
                        .get((ci ^ x_high) as usize)
                        .ok_or_else(|| Error::Device(format!("no chunk {}", ci ^ x_high)))?;
                    (Access::Chunked, [Some(chunk), Some(partner), None, None])
                };
                let record = OpRecord {
                    n_threads: 1 << c,
                    chunk_bits: c as u32,
                    seg_base: first as u32,
                    x0: num_chunks as u32,
                    x1: ci as u32,
                    ..Default::default()
                };
                work.push(
                    Dispatch::new(Kernel::PauliTerms, access, (split as u32, count as u32)),
                    record,
                    Binds {
                        aux_in: Some(&table_buf),
                        slots,
                        aux_out: Some(&buf_a),
                    },
                );
            }
            first += count;
        }
        let (passes, in_a) = reduce_passes(split, segments);
        for pass in passes {
            let (from, to) = if pass.from_a {
                (&buf_a, &buf_b)
            } else {
                (&buf_b, &buf_a)
            };
            let binds = Binds {
                aux_in: Some(from),
                aux_out: Some(to),
                ..Default::default()
            };
            work.push(pass.dispatch(0), pass.record, binds);
        }
        work.run(ctx)?;
        let src = if in_a { &buf_a } else { &buf_b };
        let sums = ctx.read_reals(src, 0, 2 * segments)?;
        for (ti, term) in group.iter().enumerate() {
            let mut s = Complex64::ZERO;
            for ci in 0..num_chunks as usize {
                let k = 2 * (ti * num_chunks as usize + ci);
                s += Complex64::new(sums[k], sums[k + 1]);
            }
            let phase = Complex64::I.powu(term.num_y);
            results[term.observable] += term.coeff * (phase * s).re;
        }
    }
    Ok(results)
}

/// |amplitude|² for every basis state, computed on the GPU chunk by chunk.
pub(crate) fn probabilities(state: Chunks<'_>) -> Result<Vec<f64>> {
    let ctx = state.ctx;
    let chunk_len = 1u64 << state.chunk_bits;
    let bpr = bytes_per_real(ctx);
    // As many chunks per submit as fit one binding and 128 MiB of output.
    let cap = (128u64 << 20).min(ctx.limits.max_storage_buffer_binding_size);
    let per_group = (cap / (chunk_len * bpr)).max(1) as usize;
    let out = ctx.storage_buffer(
        "qshade probabilities",
        per_group.min(state.buffers.len()) as u64 * chunk_len * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    let mut probs = Vec::with_capacity(1 << state.num_qubits);
    for group in state.buffers.chunks(per_group) {
        let mut work = Work::default();
        for (g, chunk) in group.iter().enumerate() {
            work.push(
                Dispatch::new(Kernel::Probabilities, Access::Single, grid(chunk_len)),
                OpRecord {
                    n_threads: chunk_len as u32,
                    out_offset: (g as u64 * chunk_len) as u32,
                    ..Default::default()
                },
                Binds {
                    slots: [Some(chunk), None, None, None],
                    aux_out: Some(&out),
                    ..Default::default()
                },
            );
        }
        work.run(ctx)?;
        probs.extend(ctx.read_reals(&out, 0, group.len() as u64 * chunk_len)?);
    }
    Ok(probs)
}

/// Most shots one GPU `sample` call draws: 2^26 (64 Mi) outcomes are 512 MiB on the host, and
/// the host holds them all at once. More shots: several calls with different seeds.
pub(crate) const MAX_SAMPLE_SHOTS: usize = 1 << 26;

/// Shots per round of picks on the GPU: the draw and pick buffers hold one round (16 MiB of
/// draws at f64), far below any adapter's storage-binding limit (128 MiB in WebGPU's defaults).
const SHOTS_PER_ROUND: usize = 1 << 20;

/// `shots` outcomes by inverse transform with uniforms from `Rng::new(seed)`: block sums on the
/// GPU, a CDF over blocks on the host, then rounds of at most [`SHOTS_PER_ROUND`] picks inside
/// blocks on the GPU. At most [`MAX_SAMPLE_SHOTS`] shots, checked before anything is allocated.
pub(crate) fn sample(state: Chunks<'_>, shots: usize, seed: u64) -> Result<Vec<u64>> {
    if shots == 0 {
        return Err(Error::InvalidArgument("shots must be at least 1".into()));
    }
    if shots > MAX_SAMPLE_SHOTS {
        return Err(Error::InvalidArgument(format!(
            "{shots} shots requested; the GPU sampler draws at most {MAX_SAMPLE_SHOTS} \
             (2^26) per call, since every outcome is held in host memory (8 bytes each): use \
             QuantumState::sample_counts (memory per distinct outcome), or combine calls \
             made with different seeds"
        )));
    }
    let mut outcomes: Vec<u64> = Vec::new();
    outcomes.try_reserve_exact(shots).map_err(|_| {
        Error::InvalidArgument(format!(
            "{shots} shots need {} bytes of host memory for the outcomes, which could not be \
             allocated: draw fewer per call",
            shots.saturating_mul(8)
        ))
    })?;
    let ctx = state.ctx;
    let c = state.chunk_bits;
    let chunk_len = 1u64 << c;
    let blocks_per_chunk = chunk_len.div_ceil(WORKGROUP_SIZE);
    let num_blocks = blocks_per_chunk * state.buffers.len() as u64;
    let bpr = bytes_per_real(ctx);
    let sums_buf = ctx.storage_buffer(
        "qshade block sums",
        num_blocks * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    let mut work = Work::default();
    for (ci, chunk) in state.buffers.iter().enumerate() {
        work.push(
            Dispatch::new(Kernel::SampleBlockSums, Access::Single, grid(chunk_len)),
            OpRecord {
                n_threads: chunk_len as u32,
                out_offset: (ci as u64 * blocks_per_chunk) as u32,
                ..Default::default()
            },
            Binds {
                slots: [Some(chunk), None, None, None],
                aux_out: Some(&sums_buf),
                ..Default::default()
            },
        );
    }
    work.run(ctx)?;
    let block_sums = ctx.read_reals(&sums_buf, 0, num_blocks)?;
    let mut cdf = Vec::with_capacity(block_sums.len());
    let mut acc = 0.0;
    for s in &block_sums {
        acc += s.max(0.0);
        cdf.push(acc);
    }
    let total = acc;
    let last_nonempty = block_sums
        .iter()
        .rposition(|&s| s > 0.0)
        .ok_or_else(|| Error::InvalidState("the state has zero norm".into()))?;
    let mut rng = Rng::new(seed);
    let round = shots.min(SHOTS_PER_ROUND);
    let in_buf = ctx.storage_buffer(
        "qshade sample draws",
        2 * round as u64 * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    let out_buf = ctx.storage_buffer(
        "qshade sample picks",
        round as u64 * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    while outcomes.len() < shots {
        let count = (shots - outcomes.len()).min(round);
        // (chunk, block within chunk, residual mass inside the block) per sample, in the
        // order the uniforms are drawn (so a seed gives the same outcomes at any round size).
        let draws: Vec<(u64, u64, f64)> = (0..count)
            .map(|_| {
                let target = rng.uniform() * total;
                let b = cdf.partition_point(|&x| x <= target).min(last_nonempty);
                let before = if b == 0 { 0.0 } else { cdf[b - 1] };
                let b = b as u64;
                (
                    b / blocks_per_chunk,
                    b % blocks_per_chunk,
                    (target - before).max(0.0),
                )
            })
            .collect();
        let picks = pick_round(state, &draws, (&in_buf, &out_buf))?;
        outcomes.extend(
            draws.iter().zip(picks).map(|(&(chunk, block, _), pick)| {
                chunk * chunk_len + block * WORKGROUP_SIZE + pick
            }),
        );
    }
    Ok(outcomes)
}

/// The offset inside its block of each draw's outcome (draws: chunk, block within the chunk,
/// residual mass), picked on the GPU through the draw and pick buffers `bufs` (room for
/// `draws.len()` ≤ [`SHOTS_PER_ROUND`] samples), one dispatch per chunk drawn from.
fn pick_round(
    state: Chunks<'_>,
    draws: &[(u64, u64, f64)],
    (in_buf, out_buf): (&wgpu::Buffer, &wgpu::Buffer),
) -> Result<Vec<u64>> {
    let ctx = state.ctx;
    let chunk_len = 1u64 << state.chunk_bits;
    let mut order: Vec<usize> = (0..draws.len()).collect();
    order.sort_by_key(|&k| draws[k].0);
    let input: Vec<f64> = order
        .iter()
        .flat_map(|&k| [draws[k].1 as f64, draws[k].2])
        .collect();
    ctx.queue
        .write_buffer(in_buf, 0, &reals_to_bytes(&input, ctx.precision));
    let mut work = Work::default();
    let mut start = 0usize;
    while start < draws.len() {
        let chunk = draws[order[start]].0;
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&k| draws[k].0 == chunk)
                .count();
        let count = (end - start) as u64;
        let buffer = state
            .buffers
            .get(chunk as usize)
            .ok_or_else(|| Error::Device(format!("sampled chunk {chunk} does not exist")))?;
        work.push(
            Dispatch::new(Kernel::SamplePick, Access::Single, grid(count)),
            OpRecord {
                n_threads: chunk_len as u32,
                in_offset: (2 * start) as u32,
                out_offset: start as u32,
                count: count as u32,
                ..Default::default()
            },
            Binds {
                aux_in: Some(in_buf),
                slots: [Some(buffer), None, None, None],
                aux_out: Some(out_buf),
            },
        );
        start = end;
    }
    work.run(ctx)?;
    let picks = ctx.read_reals(out_buf, 0, draws.len() as u64)?;
    let mut out = vec![0u64; draws.len()];
    for (pos, &k) in order.iter().enumerate() {
        out[k] = picks[pos] as u64;
    }
    Ok(out)
}
