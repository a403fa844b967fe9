//! Results computed on the GPU so that only what the user asked for comes back: Pauli-sum
//! expectations (a parallel reduction down to one complex scalar per term and chunk),
//! probabilities, and samples (block sums on the GPU, a CDF over blocks on the host, the pick
//! inside a block on the GPU).

use super::context::{grid, reduction_groups, GpuContext, WORKGROUP_SIZE};
use super::lower::OpRecord;
use super::state::GpuState;
use crate::circuit::Observable;
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::sim::gpu::shaders::{Access, Kernel};
use num_complex::Complex64;

/// The buffers one dispatch binds (the op record is bound by `run_jobs`).
#[derive(Clone, Copy, Default)]
struct Binds<'a> {
    aux_in: Option<&'a wgpu::Buffer>,
    slots: [Option<&'a wgpu::Buffer>; 4],
    aux_out: Option<&'a wgpu::Buffer>,
}

struct Job<'a> {
    kernel: Kernel,
    access: Access,
    record: OpRecord,
    grid: (u32, u32),
    binds: Binds<'a>,
}

/// Uploads the jobs' records and runs them in order in one compute pass and one submit.
fn run_jobs(ctx: &GpuContext, jobs: &[Job<'_>]) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let stride = ctx.op_stride as usize;
    let ops = ctx.record_buffer("qshade readout records", jobs.iter().map(|j| &j.record));
    let groups: Vec<wgpu::BindGroup> = jobs
        .iter()
        .map(|j| ctx.bind_group(&ops, j.binds.aux_in, j.binds.slots, j.binds.aux_out))
        .collect();
    ctx.submit_pass("qshade readout", |pass| {
        for (i, (j, bg)) in jobs.iter().zip(&groups).enumerate() {
            pass.set_pipeline(&ctx.pipeline(j.kernel, j.access));
            pass.set_bind_group(0, bg, &[(i * stride) as u32]);
            pass.dispatch_workgroups(j.grid.0, j.grid.1, 1);
        }
    });
    Ok(())
}

fn bytes_per_real(ctx: &GpuContext) -> u64 {
    ctx.precision.bytes_per_amplitude() / 2
}

/// One Pauli term to evaluate: which observable it belongs to and its masks.
struct TermJob {
    observable: usize,
    coeff: f64,
    x_mask: u64,
    z_mask: u64,
    num_y: usize,
}

/// ⟨O_j⟩ for every observable, reduced on the GPU.
pub(crate) fn expectations(state: &GpuState, observables: &[Observable]) -> Result<Vec<f64>> {
    let ctx = &*state.ctx;
    let mut results = vec![0.0; observables.len()];
    let mut terms = Vec::new();
    for (j, obs) in observables.iter().enumerate() {
        obs.validate(state.num_qubits)?;
        for t in &obs.terms {
            if t.ops.is_empty() {
                results[j] += t.coeff;
            } else {
                terms.push(TermJob {
                    observable: j,
                    coeff: t.coeff,
                    x_mask: t.x_mask(),
                    z_mask: t.z_mask(),
                    num_y: t.num_y(),
                });
            }
        }
    }
    if terms.is_empty() {
        return Ok(results);
    }
    let c = state.chunk_bits;
    let num_chunks = state.chunks.len() as u64;
    let partials = reduction_groups(1u64 << c);
    let bpr = bytes_per_real(ctx);
    // Bound the partials buffer (32 MiB, and one binding) and the segments per reduce (65 535).
    let cap_bytes = (32u64 << 20).min(ctx.limits.max_storage_buffer_binding_size);
    let max_segments = (cap_bytes / (partials * 2 * bpr)).clamp(1, 65_535);
    let terms_per_group = (max_segments / num_chunks).max(1) as usize;
    for group in terms.chunks(terms_per_group) {
        let segments = group.len() as u64 * num_chunks;
        let size_a = segments * partials * 2 * bpr;
        let size_b = segments * partials.div_ceil(WORKGROUP_SIZE) * 2 * bpr;
        let buf_a = ctx.storage_buffer("qshade partials A", size_a, wgpu::BufferUsages::empty())?;
        let buf_b = ctx.storage_buffer("qshade partials B", size_b, wgpu::BufferUsages::empty())?;
        let mut jobs = Vec::new();
        let low_mask = (1u64 << c) - 1;
        for (ti, term) in group.iter().enumerate() {
            let x_high = term.x_mask >> c;
            for ci in 0..num_chunks {
                let seg = ti as u64 * num_chunks + ci;
                let partner = ci ^ x_high;
                let (access, x_mask, slots) = if x_high == 0 {
                    (
                        Access::Single,
                        term.x_mask & low_mask,
                        [Some(&state.chunks[ci as usize]), None, None, None],
                    )
                } else {
                    (
                        Access::Chunked,
                        (term.x_mask & low_mask) | (1 << c),
                        [
                            Some(&state.chunks[ci as usize]),
                            Some(&state.chunks[partner as usize]),
                            None,
                            None,
                        ],
                    )
                };
                let record = OpRecord {
                    n_threads: 1 << c,
                    chunk_bits: c as u32,
                    out_offset: (seg * partials) as u32,
                    x_mask: x_mask as u32,
                    z_mask: (term.z_mask & low_mask) as u32,
                    sign: (ci & (term.z_mask >> c)).count_ones() & 1,
                    count: partials as u32,
                    ..Default::default()
                };
                jobs.push(Job {
                    kernel: Kernel::PauliExpectation,
                    access,
                    record,
                    grid: (partials as u32, 1),
                    binds: Binds {
                        slots,
                        aux_out: Some(&buf_a),
                        ..Default::default()
                    },
                });
            }
        }
        let mut len = partials;
        let (mut src, mut dst) = (&buf_a, &buf_b);
        while len > 1 {
            let out_len = len.div_ceil(WORKGROUP_SIZE);
            let record = OpRecord {
                count: len as u32,
                ..Default::default()
            };
            jobs.push(Job {
                kernel: Kernel::Reduce,
                access: Access::Single,
                record,
                grid: (out_len as u32, segments as u32),
                binds: Binds {
                    aux_in: Some(src),
                    aux_out: Some(dst),
                    ..Default::default()
                },
            });
            std::mem::swap(&mut src, &mut dst);
            len = out_len;
        }
        run_jobs(ctx, &jobs)?;
        let sums = ctx.read_reals(src, 0, 2 * segments)?;
        for (ti, term) in group.iter().enumerate() {
            let mut s = Complex64::ZERO;
            for ci in 0..num_chunks as usize {
                let k = 2 * (ti * num_chunks as usize + ci);
                s += Complex64::new(sums[k], sums[k + 1]);
            }
            let phase = Complex64::I.powu(term.num_y as u32);
            results[term.observable] += term.coeff * (phase * s).re;
        }
    }
    Ok(results)
}

/// |amplitude|² for every basis state, computed on the GPU chunk by chunk.
pub(crate) fn probabilities(state: &GpuState) -> Result<Vec<f64>> {
    let ctx = &*state.ctx;
    let chunk_len = 1u64 << state.chunk_bits;
    let bpr = bytes_per_real(ctx);
    // As many chunks per submit as fit one binding and 128 MiB of output.
    let cap = (128u64 << 20).min(ctx.limits.max_storage_buffer_binding_size);
    let per_group = (cap / (chunk_len * bpr)).max(1) as usize;
    let out = ctx.storage_buffer(
        "qshade probabilities",
        per_group.min(state.chunks.len()) as u64 * chunk_len * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    let mut probs = Vec::with_capacity(1 << state.num_qubits);
    for group in state.chunks.chunks(per_group) {
        let jobs: Vec<Job> = group
            .iter()
            .enumerate()
            .map(|(g, chunk)| Job {
                kernel: Kernel::Probabilities,
                access: Access::Single,
                record: OpRecord {
                    n_threads: chunk_len as u32,
                    out_offset: (g as u64 * chunk_len) as u32,
                    ..Default::default()
                },
                grid: grid(chunk_len),
                binds: Binds {
                    slots: [Some(chunk), None, None, None],
                    aux_out: Some(&out),
                    ..Default::default()
                },
            })
            .collect();
        run_jobs(ctx, &jobs)?;
        probs.extend(ctx.read_reals(&out, 0, group.len() as u64 * chunk_len)?);
    }
    Ok(probs)
}

/// `shots` outcomes by inverse transform with uniforms from `Rng::new(seed)`.
pub(crate) fn sample(state: &GpuState, shots: usize, seed: u64) -> Result<Vec<u64>> {
    if shots == 0 {
        return Err(Error::InvalidArgument("shots must be at least 1".into()));
    }
    let ctx = &*state.ctx;
    let c = state.chunk_bits;
    let chunk_len = 1u64 << c;
    let blocks_per_chunk = chunk_len.div_ceil(WORKGROUP_SIZE);
    let num_blocks = blocks_per_chunk * state.chunks.len() as u64;
    let bpr = bytes_per_real(ctx);
    let sums_buf = ctx.storage_buffer(
        "qshade block sums",
        num_blocks * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    let jobs: Vec<Job> = state
        .chunks
        .iter()
        .enumerate()
        .map(|(ci, chunk)| Job {
            kernel: Kernel::SampleBlockSums,
            access: Access::Single,
            record: OpRecord {
                n_threads: chunk_len as u32,
                out_offset: (ci as u64 * blocks_per_chunk) as u32,
                ..Default::default()
            },
            grid: grid(chunk_len),
            binds: Binds {
                slots: [Some(chunk), None, None, None],
                aux_out: Some(&sums_buf),
                ..Default::default()
            },
        })
        .collect();
    run_jobs(ctx, &jobs)?;
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
    // (chunk, block within chunk, residual mass inside the block) per sample.
    let draws: Vec<(u64, u64, f64)> = (0..shots)
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
    let mut order: Vec<usize> = (0..shots).collect();
    order.sort_by_key(|&k| draws[k].0);
    let mut input = Vec::with_capacity(2 * shots);
    for &k in &order {
        input.push(draws[k].1 as f64);
        input.push(draws[k].2);
    }
    let in_buf = ctx.storage_buffer(
        "qshade sample draws",
        input.len() as u64 * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    ctx.queue.write_buffer(
        &in_buf,
        0,
        &super::context::reals_to_bytes(&input, ctx.precision),
    );
    let out_buf = ctx.storage_buffer(
        "qshade sample picks",
        shots as u64 * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    let mut jobs = Vec::new();
    let mut start = 0usize;
    while start < shots {
        let chunk = draws[order[start]].0;
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&k| draws[k].0 == chunk)
                .count();
        let count = (end - start) as u64;
        jobs.push(Job {
            kernel: Kernel::SamplePick,
            access: Access::Single,
            record: OpRecord {
                n_threads: chunk_len as u32,
                in_offset: (2 * start) as u32,
                out_offset: start as u32,
                count: count as u32,
                ..Default::default()
            },
            grid: grid(count),
            binds: Binds {
                aux_in: Some(&in_buf),
                slots: [Some(&state.chunks[chunk as usize]), None, None, None],
                aux_out: Some(&out_buf),
            },
        });
        start = end;
    }
    run_jobs(ctx, &jobs)?;
    let picks = ctx.read_reals(&out_buf, 0, shots as u64)?;
    let mut outcomes = vec![0u64; shots];
    for (pos, &k) in order.iter().enumerate() {
        let (chunk, block, _) = draws[k];
        outcomes[k] = chunk * chunk_len + block * WORKGROUP_SIZE + picks[pos] as u64;
    }
    Ok(outcomes)
}
