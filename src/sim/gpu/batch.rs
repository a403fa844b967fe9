//! Batched execution and adjoint differentiation on the GPU: the training scheduler.
//!
//! A sub-batch of B states lives side by side in one buffer (batch-outermost, `[B][2^n]`); every
//! kernel dispatch covers all B states (`workgroup_id.z` = state) and reads per-state gate
//! matrices from one parameter buffer at `in_offset + b·batch_stride`. For a sub-batch, the whole
//! forward pass, the expectation reductions, and (for gradients) the adjoint seed, the backward
//! sweep and its fused derivative reductions are recorded into **one submit**; only
//! `B × (terms + differentiable angles)` complex scalars come back.
//!
//! The plan (op records, buffers, bind groups) depends only on the program's structure, the
//! observables' Pauli masks and the sub-batch size, so it is built once and cached: binding new
//! θ/x values re-uploads the parameter buffer and nothing else.
//!
//! Memory per state: ψ (forward), ψ and λ (adjoint), plus partial sums bounded by
//! `MAX_REDUCTION_GROUPS` per reduction; independent of circuit depth.

use super::abi::{reals_to_bytes, OpRecord};
use super::block;
use super::context::{GpuContext, PendingRead};
use super::fuse::{self, Fusion, Run};
use super::lower::{access_for, expand, kernel_data, lower_structure, GateOp};
use super::readout::{
    bytes_per_real, reduce_passes, reduction_buffers, reduction_groups, terms_of, Term,
};
use super::record::{grid, workgroups, Dispatch, Recording};
use super::shaders::{Access, Kernel, MatrixSource};
use super::tile;
use crate::circuit::Observable;
use crate::compile::program::{BatchConfig, Program};
use crate::error::{Error, Result};
use crate::math::linalg::dagger;
use num_complex::Complex64 as C64;
use std::sync::Arc;

/// Which buffers a dispatch binds: its value is the bind group's index in `Plan::groups`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bind {
    /// Gates and init on ψ.
    Psi = 0,
    /// Kernels that read ψ (slot 0), λ (binding 3) and write partial sums.
    Main = 1,
    /// Reduce partials A → B.
    ReduceAb = 2,
    /// Reduce partials B → A.
    ReduceBa = 3,
    /// Gates and init on λ (adjoint plans only).
    Lam = 4,
}

/// Where an op's matrices sit in the parameter buffer (offset in reals; per-row stride).
#[derive(Clone, Copy, Debug)]
struct DataSlot {
    offset: usize,
    /// Reals per row; 0 when shared by every row.
    stride: usize,
}

/// What a cached plan was built for.
#[derive(Clone, Debug, PartialEq)]
struct PlanKey {
    program: u64,
    masks: Vec<(u64, u64)>,
    sub_batch: usize,
    adjoint: bool,
}

/// A compiled batch plan: records, buffers and bind groups, reusable across bindings.
pub(crate) struct Plan {
    key: PlanKey,
    /// Every dispatch of a sub-batch, recorded once.
    recording: Recording,
    params: wgpu::Buffer,
    partials_a: wgpu::Buffer,
    partials_b: wgpu::Buffer,
    /// Bind groups by [`Bind`] value.
    groups: Vec<wgpu::BindGroup>,
    /// Final sums end in A (`true`) or B.
    result_in_a: bool,
    /// Segments per row: terms, then differentiable occurrences.
    segments_per_row: usize,
    /// Per lowered op: forward, adjoint data slots; per differentiable occurrence its slot.
    layout: Layout,
    /// Some register-block run ran op by op because its kernel was not compiled yet: the
    /// plan is rebuilt on its next use, when the run is hot.
    cold: bool,
}

/// How the forward pass runs an op or a run of ops.
#[derive(Clone, Debug)]
enum ForwardStep {
    /// Lowered op `index` through its own kernel.
    Single(usize),
    /// A run of ops in workgroup tiles of `qubits` qubits (descriptors in the parameter buffer).
    Tile {
        qubits: usize,
        header: u32,
        descriptors: u32,
        count: u32,
    },
    /// A run of lowered ops (increasing indices) in one register-block pass on the qubits
    /// `mask`; their forward matrices sit together per row from `slot.offset`, op j's at
    /// `relative[j]` reals past it.
    Block {
        mask: u64,
        ops: Vec<usize>,
        relative: Vec<usize>,
        slot: DataSlot,
    },
}

/// Host-side layout of the parameter buffer.
#[derive(Clone, Debug, Default)]
struct Layout {
    /// Total reals in the buffer.
    reals: usize,
    /// The forward pass: single ops and tile runs.
    forward: Vec<ForwardStep>,
    /// Tile headers and descriptors (constant per plan), stored from `tile_offset`.
    tile_data: Vec<f64>,
    tile_offset: usize,
    /// (program op index, lowered op, forward slot, adjoint slot).
    ops: Vec<(usize, GateOp, DataSlot, Option<DataSlot>)>,
    /// (occurrence, program op index, lowered op index, angle within the gate, slot).
    derivatives: Vec<(usize, usize, usize, usize, DataSlot)>,
    /// Seed weight slot per term.
    seeds: Vec<DataSlot>,
}

fn data_len(op: &GateOp) -> usize {
    match op.kernel {
        Kernel::Permute => 0,
        Kernel::Diagonal => match op.targets.len() {
            0 => 1,
            1 => 2,
            _ => 4,
        },
        Kernel::Gate1 => 4,
        _ => 16,
    }
}

fn grad_kernel(kernel: Kernel) -> Kernel {
    match kernel {
        Kernel::Gate1 => Kernel::Grad1,
        Kernel::Gate2 => Kernel::Grad2,
        _ => Kernel::GradDiag,
    }
}

/// How a batch's forward pass fuses runs of ops on `n` qubits (one state per binding):
/// `fuse::strategy` with per-state matrices, so no dense fusion.
fn forward_fusion(ctx: &GpuContext, n: usize) -> Fusion {
    fuse::strategy(ctx, n, true).runs
}

/// Lays out the parameter buffer for `sub_batch` rows, the forward pass fusing runs of ops as
/// `fusion` says.
fn build_layout(
    program: &Program,
    terms: &[Term],
    sub_batch: usize,
    adjoint: bool,
    fusion: Fusion,
) -> Layout {
    let mut cursor = 0usize;
    let mut slot = |reals_per_row: usize, per_row: bool| {
        let s = DataSlot {
            offset: cursor,
            stride: if per_row { reals_per_row } else { 0 },
        };
        cursor += if per_row {
            reals_per_row * sub_batch
        } else {
            reals_per_row
        };
        s
    };
    let n = program.num_qubits();
    let lowered: Vec<(usize, GateOp)> = program
        .ops()
        .iter()
        .enumerate()
        .filter_map(|(index, pop)| lower_structure(&pop.gate).map(|op| (index, op)))
        .collect();
    let ops: Vec<GateOp> = lowered.iter().map(|(_, op)| op.clone()).collect();
    let angled: Vec<bool> = lowered
        .iter()
        .map(|(index, _)| program.ops()[*index].num_angles > 0)
        .collect();
    let per_row = |i: usize| angled[i];
    let mut layout = Layout::default();
    // Register blocks first: a run's matrices sit together per row (one stride for the run),
    // which is what the block kernel reads. Tile runs are encoded once every matrix slot is
    // known (below): their forward steps are filled in then.
    let mut forward_slots: Vec<Option<DataSlot>> = vec![None; ops.len()];
    let mut tiles = Vec::new();
    for run in fusion.schedule(&ops, n, usize::MAX) {
        let step = match run {
            Run::Single(i) => ForwardStep::Single(i),
            Run::Tile { size, qubits, ops } => {
                tiles.push((layout.forward.len(), qubits, ops));
                ForwardStep::Tile {
                    qubits: size,
                    header: 0,
                    descriptors: 0,
                    count: 0,
                }
            }
            Run::Block { mask, ops: list } => {
                let lens: Vec<usize> = list.iter().map(|&i| 2 * data_len(&ops[i])).collect();
                let relative = block::packed_offsets(lens.iter().copied());
                let len: usize = lens.iter().sum();
                let run_slot = slot(len, list.iter().any(|&i| per_row(i)));
                for (&i, &r) in list.iter().zip(&relative) {
                    forward_slots[i] = Some(DataSlot {
                        offset: run_slot.offset + r,
                        ..run_slot
                    });
                }
                ForwardStep::Block {
                    mask,
                    ops: list,
                    relative,
                    slot: run_slot,
                }
            }
        };
        layout.forward.push(step);
    }
    for (lowered_index, ((index, op), fwd)) in lowered.into_iter().zip(forward_slots).enumerate() {
        let pop = &program.ops()[index];
        let len = 2 * data_len(&op);
        let fwd = fwd.unwrap_or_else(|| slot(len, per_row(lowered_index)));
        let adj = adjoint.then(|| slot(len, per_row(lowered_index)));
        for which in 0..pop.num_angles {
            let occ = pop.first_angle + which;
            if adjoint && !program.angle_exprs()[occ].is_const() {
                let d = slot(len, true);
                layout
                    .derivatives
                    .push((occ, index, lowered_index, which, d));
            }
        }
        layout.ops.push((index, op, fwd, adj));
    }
    if adjoint {
        layout.seeds = terms.iter().map(|_| slot(2, true)).collect();
    }
    // Workgroup tiles: runs of ops in tiles, their descriptors after every matrix slot.
    let mut data = vec![0.0; cursor];
    for (at, qubits, list) in tiles {
        let run: Vec<&GateOp> = list.iter().map(|&i| &ops[i]).collect();
        let offsets: Vec<usize> = list.iter().map(|&i| layout.ops[i].2.offset).collect();
        let strides: Vec<usize> = list.iter().map(|&i| layout.ops[i].2.stride).collect();
        let encoded = tile::encode(&mut data, qubits, n, &run, &offsets, &strides);
        if let ForwardStep::Tile {
            header,
            descriptors,
            count,
            ..
        } = &mut layout.forward[at]
        {
            (*header, *descriptors, *count) = encoded;
        }
    }
    layout.tile_offset = cursor;
    layout.tile_data = data.split_off(cursor);
    layout.reals = (cursor + layout.tile_data.len()).max(1);
    layout
}

/// The dispatches of a plan with their op records, whether the final sums end in partials A,
/// and whether a register-block run was not hot yet and ran as single ops (see
/// `GpuContext::block_kernel`): such a plan is rebuilt on its next use.
struct Steps {
    recording: Recording,
    result_in_a: bool,
    cold: bool,
}

/// Records the plan's dispatches: every one but the reductions over all states of the
/// sub-batch, each through the bind group its [`Bind`] names.
fn build_steps(
    ctx: &GpuContext,
    program: &Program,
    terms: &[Term],
    layout: &Layout,
    sub_batch: usize,
    adjoint: bool,
) -> Steps {
    let n = program.num_qubits();
    let amps = 1u64 << n;
    let partials = reduction_groups(amps);
    let mut recording = Recording::default();
    let mut cold = false;
    let mut push = |kernel, bind: Bind, grid, record: OpRecord| {
        // Paired for the light gate kernels where qubit 0 allows it (see `lower::access_for`).
        let access = access_for(kernel, Access::Single, &record);
        let dispatch = Dispatch::new(kernel, access, grid).group(bind as usize);
        recording.push(dispatch.batched(), record);
    };
    let state = OpRecord {
        n_threads: amps as u32,
        state_bits: n as u32,
        ..Default::default()
    };
    push(Kernel::Init, Bind::Psi, grid(amps), state);
    let gate_dispatch = |op: &GateOp, slot: DataSlot| {
        // A state in one binding: exactly one dispatch (its access follows from the record).
        let e = expand(op, n, n, slot.offset as u32);
        let mut r = e.record;
        r.state_bits = n as u32;
        r.batch_stride = slot.stride as u32;
        (e.kernel, e.dispatch().grid, r, e.threads)
    };
    for step in &layout.forward {
        match *step {
            ForwardStep::Single(i) => {
                let (_, op, fwd, _) = &layout.ops[i];
                let (kernel, g, r, _) = gate_dispatch(op, *fwd);
                push(kernel, Bind::Psi, g, r);
            }
            ForwardStep::Tile {
                qubits,
                header,
                descriptors,
                count,
            } => {
                let tiles = 1u64 << (n - qubits);
                let r = tile::record(header, descriptors, count, tiles, 0, n as u32);
                // One workgroup per tile.
                let kernel = Kernel::Tile(qubits as u8, ctx.tile_workgroup);
                push(kernel, Bind::Psi, workgroups(tiles), r);
            }
            ForwardStep::Block {
                mask,
                ref ops,
                ref relative,
                slot,
            } => {
                // The structure is all the generated code reads; entries are placeholders.
                let run: Vec<GateOp> = ops
                    .iter()
                    .map(|&i| {
                        let op = &layout.ops[i].1;
                        GateOp {
                            matrix: vec![C64::ZERO; data_len(op)],
                            ..op.clone()
                        }
                    })
                    .collect();
                let run: Vec<&GateOp> = run.iter().collect();
                // Per-row matrices: from the parameter buffer at in_offset + b·stride.
                let from = MatrixSource::Buffer;
                let kernel = ctx.block_kernel(
                    mask.count_ones() as usize,
                    block::signature(mask, &run, relative, from),
                    || block::generate(mask, &run, relative, from),
                );
                let Some(kernel) = kernel else {
                    cold = true;
                    for &i in ops {
                        let (_, op, fwd, _) = &layout.ops[i];
                        let (kernel, g, r, _) = gate_dispatch(op, *fwd);
                        push(kernel, Bind::Psi, g, r);
                    }
                    continue;
                };
                let mut r = block::record(mask, n, slot.offset, 0);
                r.state_bits = n as u32;
                r.batch_stride = slot.stride as u32;
                push(kernel, Bind::Psi, grid(r.n_threads as u64), r);
            }
        }
    }
    for (t, term) in terms.iter().enumerate() {
        let r = OpRecord {
            x_mask: term.x_mask as u32,
            z_mask: term.z_mask as u32,
            out_offset: (t * sub_batch) as u32 * partials as u32,
            count: partials as u32,
            ..state
        };
        push(
            Kernel::PauliExpectation,
            Bind::Main,
            (partials as u32, 1),
            r,
        );
    }
    if adjoint {
        push(
            Kernel::Init,
            Bind::Lam,
            grid(amps),
            OpRecord { nq: 1, ..state },
        );
        for (term, seed) in terms.iter().zip(&layout.seeds) {
            let r = OpRecord {
                x_mask: term.x_mask as u32,
                z_mask: term.z_mask as u32,
                in_offset: seed.offset as u32,
                batch_stride: seed.stride as u32,
                ..state
            };
            push(Kernel::PauliAccumulate, Bind::Main, grid(amps), r);
        }
        for (lowered, (_, op, _, adj)) in layout.ops.iter().enumerate().rev() {
            let adj = adj.unwrap_or(DataSlot {
                offset: 0,
                stride: 0,
            });
            let (kernel, g, r, threads) = gate_dispatch(op, adj);
            push(kernel, Bind::Psi, g, r);
            for (seg, (_, _, l, _, dslot)) in layout.derivatives.iter().enumerate() {
                if *l != lowered {
                    continue;
                }
                let groups = reduction_groups(threads);
                let mut rd = r;
                rd.in_offset = dslot.offset as u32;
                rd.batch_stride = dslot.stride as u32;
                rd.out_offset = ((terms.len() + seg) * sub_batch) as u32 * partials as u32;
                rd.count = partials as u32;
                push(grad_kernel(op.kernel), Bind::Main, (groups as u32, 1), rd);
            }
            push(kernel, Bind::Lam, g, r);
        }
    }
    let segments = ((terms.len() + layout.derivatives.len()) * sub_batch) as u64;
    let (passes, in_a) = reduce_passes(partials, segments);
    for p in passes {
        let bind = if p.from_a {
            Bind::ReduceAb
        } else {
            Bind::ReduceBa
        };
        recording.push(p.dispatch(bind as usize), p.record);
    }
    Steps {
        recording,
        result_in_a: in_a,
        cold,
    }
}

impl Plan {
    fn new(ctx: &GpuContext, program: &Program, terms: &[Term], key: PlanKey) -> Result<Self> {
        let (sub_batch, adjoint) = (key.sub_batch, key.adjoint);
        let n = program.num_qubits();
        let bpr = bytes_per_real(ctx);
        let layout = build_layout(program, terms, sub_batch, adjoint, forward_fusion(ctx, n));
        let param_reals = layout.reals;
        let Steps {
            recording,
            result_in_a,
            cold,
        } = build_steps(ctx, program, terms, &layout, sub_batch, adjoint);
        let records_buf = recording.record_buffer(ctx, "qshade batch records")?;
        let state_bytes = ctx.precision.bytes_per_amplitude() << n;
        let segments_per_row = terms.len() + layout.derivatives.len();
        let partials = reduction_groups(1 << n);
        let psi = ctx.storage_buffer(
            "qshade batch psi",
            state_bytes * sub_batch as u64,
            wgpu::BufferUsages::empty(),
        )?;
        let lam = if adjoint {
            Some(ctx.storage_buffer(
                "qshade batch lambda",
                state_bytes * sub_batch as u64,
                wgpu::BufferUsages::empty(),
            )?)
        } else {
            None
        };
        let seg_total = (segments_per_row * sub_batch) as u64;
        let (partials_a, partials_b) = reduction_buffers(ctx, seg_total, partials)?;
        let params = ctx.storage_buffer(
            "qshade batch parameters",
            param_reals as u64 * bpr,
            wgpu::BufferUsages::empty(),
        )?;
        // In `Bind` order.
        let mut groups = vec![
            ctx.bind_group(
                &records_buf,
                Some(&params),
                [Some(&psi), None, None, None],
                None,
            ),
            ctx.bind_group(
                &records_buf,
                Some(&params),
                [Some(&psi), lam.as_ref(), None, None],
                Some(&partials_a),
            ),
            ctx.bind_group(
                &records_buf,
                Some(&partials_a),
                [None; 4],
                Some(&partials_b),
            ),
            ctx.bind_group(
                &records_buf,
                Some(&partials_b),
                [None; 4],
                Some(&partials_a),
            ),
        ];
        if let Some(l) = &lam {
            groups.push(ctx.bind_group(
                &records_buf,
                Some(&params),
                [Some(l), None, None, None],
                None,
            ));
        }
        // The bind groups keep the state, record and λ buffers alive.
        Ok(Plan {
            key,
            recording,
            params,
            partials_a,
            partials_b,
            groups,
            result_in_a,
            segments_per_row,
            layout,
            cold,
        })
    }

    /// Fills the parameter buffer for `rows` (`count` rows of `program.num_angles()` values).
    fn parameters(
        &self,
        program: &Program,
        rows: &[f64],
        count: usize,
        terms: &[Term],
        upstream: Option<&[f64]>,
        num_obs: usize,
    ) -> Vec<f64> {
        fill_parameters(&self.layout, program, rows, count, terms, upstream, num_obs)
    }

    /// Submits the plan on `count` rows with their results copied out in the same submit, and
    /// starts mapping them without waiting: the caller prepares and uploads the next
    /// sub-batch's parameters while the GPU computes this one (queue order makes reusing the
    /// state and parameter buffers safe). The read yields `segments_per_row × sub_batch` sums.
    fn submit(&self, ctx: &GpuContext, params: &[f64], count: usize) -> Result<PendingRead> {
        ctx.queue
            .write_buffer(&self.params, 0, &reals_to_bytes(params, ctx.precision));
        let mut encoder = ctx.encoder("qshade batch");
        // Reductions launched with fewer groups than a segment's length leave zeros behind.
        encoder.clear_buffer(&self.partials_a, 0, None);
        let z = count as u32;
        self.recording
            .encode(ctx, &mut encoder, "qshade batch", &self.groups, z)?;
        let result = if self.result_in_a {
            &self.partials_a
        } else {
            &self.partials_b
        };
        let size = 2 * (self.segments_per_row * self.key.sub_batch) as u64 * bytes_per_real(ctx);
        let staging = ctx.staged_copy(&mut encoder, result, size);
        ctx.queue.submit([encoder.finish()]);
        Ok(ctx.begin_read(staging, size))
    }
}

/// The parameter buffer's contents for `count` rows: per-op forward (and adjoint) matrices,
/// derivative matrices, and the adjoint seed weights w_b = g_bj · coeff · i^{#Y}.
fn fill_parameters(
    layout: &Layout,
    program: &Program,
    rows: &[f64],
    count: usize,
    terms: &[Term],
    upstream: Option<&[f64]>,
    num_obs: usize,
) -> Vec<f64> {
    let na = program.num_angles();
    let mut data = vec![0.0; layout.reals];
    data[layout.tile_offset..layout.tile_offset + layout.tile_data.len()]
        .copy_from_slice(&layout.tile_data);
    let mut put = |slot: DataSlot, row: usize, values: &[C64]| {
        let at = slot.offset + row * slot.stride;
        for (k, v) in values.iter().enumerate() {
            data[at + 2 * k] = v.re;
            data[at + 2 * k + 1] = v.im;
        }
    };
    for (index, op, fwd, adj) in &layout.ops {
        if op.kernel == Kernel::Permute {
            continue;
        }
        let pop = &program.ops()[*index];
        let rows_here = if fwd.stride == 0 { 1 } else { count };
        for r in 0..rows_here {
            let angles = pop.angles(&rows[r * na..(r + 1) * na]);
            let m = pop.gate.kind.matrix(angles);
            put(*fwd, r, &kernel_data(op, &m));
            if let Some(adj) = adj {
                put(*adj, r, &kernel_data(op, &dagger(&m)));
            }
        }
    }
    for (_, index, lowered, which, slot) in &layout.derivatives {
        let pop = &program.ops()[*index];
        let op = &layout.ops[*lowered].1;
        for r in 0..count {
            let angles = pop.angles(&rows[r * na..(r + 1) * na]);
            put(
                *slot,
                r,
                &kernel_data(op, &pop.gate.kind.derivative(angles, *which)),
            );
        }
    }
    if let Some(up) = upstream {
        for (term, slot) in terms.iter().zip(&layout.seeds) {
            let phase = C64::I.powu(term.num_y);
            for r in 0..count {
                put(
                    *slot,
                    r,
                    &[phase * (up[r * num_obs + term.observable] * term.coeff)],
                );
            }
        }
    }
    data
}

/// Plans a backend keeps compiled at once.
const PLANS_KEPT: usize = 2;

/// Largest sub-batch that fits the memory budget and one storage binding.
fn sub_batch_size(
    ctx: &GpuContext,
    program: &Program,
    segments_per_row: usize,
    num_rows: usize,
    adjoint: bool,
    options: &BatchConfig,
) -> Result<usize> {
    let n = program.num_qubits();
    let bpr = ctx.precision.bytes_per_amplitude() / 2;
    let state_bytes = ctx.precision.bytes_per_amplitude() << n;
    let partial_bytes = segments_per_row as u64 * reduction_groups(1 << n) * 2 * bpr;
    let params_bytes = program.num_angles() as u64 * 3 * 32 * bpr + 64;
    let per_row = state_bytes * if adjoint { 2 } else { 1 } + partial_bytes * 2 + params_bytes;
    let budget = options
        .memory_budget
        .or(ctx.memory_budget.map(|m| m / 2))
        .unwrap_or(1 << 30);
    let binding = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    let by_budget = budget / per_row;
    if by_budget == 0 {
        return Err(Error::OutOfDeviceMemory {
            needed: per_row,
            available: budget,
        });
    }
    let by_binding = (binding / state_bytes)
        .min(binding / partial_bytes.max(1))
        .min(binding / params_bytes);
    let mut size = (num_rows as u64)
        .min(by_budget)
        .min(by_binding)
        .clamp(1, 65_535) as usize;
    if let Some(cap) = options.max_sub_batch {
        if cap == 0 {
            return Err(Error::InvalidArgument(
                "max_sub_batch must be at least 1".into(),
            ));
        }
        size = size.min(cap);
    }
    Ok(size)
}

/// What [`run_rows`] computes: values for `num_rows` occurrence rows, and gradients when
/// `upstream` (dL/d⟨O_j⟩ per row) is given.
pub(crate) struct RowsRequest<'a> {
    pub program: &'a Program,
    pub rows: &'a [f64],
    pub num_rows: usize,
    pub observables: &'a [Observable],
    pub upstream: Option<&'a [f64]>,
    pub options: &'a BatchConfig,
}

/// Forward values (`num_rows × n_obs`) and, with `upstream`, dL/d(occurrence)
/// (`num_rows × num_angles`), through cached plans, one submit per sub-batch.
pub(crate) fn run_rows(
    ctx: &Arc<GpuContext>,
    cache: &std::sync::Mutex<Vec<Plan>>,
    request: RowsRequest<'_>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let RowsRequest {
        program,
        rows,
        num_rows,
        observables,
        upstream,
        options,
    } = request;
    let adjoint = upstream.is_some();
    let (terms, constants) = terms_of(observables);
    let na = program.num_angles();
    let no = observables.len();
    let differentiable = program
        .angle_exprs()
        .iter()
        .filter(|a| !a.is_const())
        .count();
    let segments_per_row = terms.len() + if adjoint { differentiable } else { 0 };
    let sub_batch = sub_batch_size(
        ctx,
        program,
        segments_per_row.max(1),
        num_rows,
        adjoint,
        options,
    )?;
    let key = PlanKey {
        program: program.id(),
        masks: terms.iter().map(|t| (t.x_mask, t.z_mask)).collect(),
        sub_batch,
        adjoint,
    };
    let mut plans = cache.lock().unwrap_or_else(|p| p.into_inner());
    // A plan built before its block runs were hot is replaced on its second use, which
    // compiles them (see `GpuContext::block_kernel`).
    plans.retain(|p| !(p.cold && p.key == key));
    let index = match plans.iter().position(|p| p.key == key) {
        Some(i) => i,
        None => {
            // Keep the two most recent plans: training alternates a forward and a gradient plan.
            if plans.len() >= PLANS_KEPT {
                plans.remove(0);
            }
            let plan = match Plan::new(ctx, program, &terms, key.clone()) {
                Err(Error::OutOfDeviceMemory { .. }) if !plans.is_empty() => {
                    plans.clear(); // free the cached plans' buffers and try once more
                    Plan::new(ctx, program, &terms, key)?
                }
                other => other?,
            };
            plans.push(plan);
            plans.len() - 1
        }
    };
    let plan = &plans[index];
    let mut values = vec![0.0; num_rows * no];
    let mut grads = vec![0.0; num_rows * na];
    // Submit every sub-batch first (host parameter work overlaps GPU compute), then collect.
    let mut pending = Vec::new();
    let mut start = 0;
    while start < num_rows {
        let count = (num_rows - start).min(sub_batch);
        let rows_here = &rows[start * na..(start + count) * na];
        let up = upstream.map(|u| &u[start * no..(start + count) * no]);
        let params = plan.parameters(program, rows_here, count, &terms, up, no);
        pending.push((start, count, plan.submit(ctx, &params, count)?));
        start += count;
    }
    for (start, count, read) in pending {
        let sums: Vec<C64> = ctx
            .finish_read(read)?
            .chunks_exact(2)
            .map(|p| C64::new(p[0], p[1]))
            .collect();
        for r in 0..count {
            for (j, c) in constants.iter().enumerate() {
                values[(start + r) * no + j] += c;
            }
            for (t, term) in terms.iter().enumerate() {
                let s = sums[t * sub_batch + r];
                values[(start + r) * no + term.observable] +=
                    term.coeff * (C64::I.powu(term.num_y) * s).re;
            }
            for (g, (occ, ..)) in plan.layout.derivatives.iter().enumerate() {
                grads[(start + r) * na + occ] = 2.0 * sums[(terms.len() + g) * sub_batch + r].re;
            }
        }
    }
    Ok((values, grads))
}

/// Prepares `count` states of `program` (one per row) in one buffer, one submit.
fn prepare_states(
    ctx: &GpuContext,
    program: &Program,
    rows: &[f64],
    count: usize,
) -> Result<wgpu::Buffer> {
    let n = program.num_qubits();
    let layout = build_layout(program, &[], count, false, forward_fusion(ctx, n));
    let param_reals = layout.reals;
    // Without terms there is nothing to reduce: the dispatches are init + gates.
    let Steps { recording, .. } = build_steps(ctx, program, &[], &layout, count, false);
    let records_buf = recording.record_buffer(ctx, "qshade prepare records")?;
    let bpr = bytes_per_real(ctx);
    let states = ctx.storage_buffer(
        "qshade prepared states",
        (ctx.precision.bytes_per_amplitude() << n) * count as u64,
        wgpu::BufferUsages::empty(),
    )?;
    let params = ctx.storage_buffer(
        "qshade prepare parameters",
        param_reals as u64 * bpr,
        wgpu::BufferUsages::empty(),
    )?;
    let values = fill_parameters(&layout, program, rows, count, &[], None, 0);
    ctx.queue
        .write_buffer(&params, 0, &reals_to_bytes(&values, ctx.precision));
    let group = ctx.bind_group(
        &records_buf,
        Some(&params),
        [Some(&states), None, None, None],
        None,
    );
    recording.submit(ctx, "qshade prepare", &[group], count as u32)?;
    Ok(states)
}

/// ⟨a_i|b_j⟩ for the states of `rows_a` and `rows_b`, `num_a × num_b`, Gram product on the GPU
/// in blocks that fit one storage binding.
pub(crate) fn overlaps(
    ctx: &GpuContext,
    program: &Program,
    rows_a: &[f64],
    num_a: usize,
    rows_b: &[f64],
    num_b: usize,
) -> Result<Vec<C64>> {
    let n = program.num_qubits();
    let na = program.num_angles();
    let state_bytes = ctx.precision.bytes_per_amplitude() << n;
    let binding = ctx
        .limits
        .max_storage_buffer_binding_size
        .min(ctx.limits.max_buffer_size);
    let block = ((binding / state_bytes)
        .min(ctx.memory_budget.map_or(1 << 30, |m| m / 4) / state_bytes)
        .min(65_535) as usize)
        .max(1);
    let groups = reduction_groups(1 << n);
    let mut out = vec![C64::ZERO; num_a * num_b];
    for a0 in (0..num_a).step_by(block) {
        let ca = block.min(num_a - a0);
        let states_a = prepare_states(ctx, program, &rows_a[a0 * na..(a0 + ca) * na], ca)?;
        for b0 in (0..num_b).step_by(block) {
            let cb = block.min(num_b - b0);
            let states_b = prepare_states(ctx, program, &rows_b[b0 * na..(b0 + cb) * na], cb)?;
            let segments = (ca * cb) as u64;
            let (partials, reduced) = reduction_buffers(ctx, segments, groups)?;
            // The Gram pass: x the partial sums, y the b states, z (the batch) the a states;
            // then the reductions ping-pong through bind groups 1 (A → B) and 2 (B → A).
            let mut recording = Recording::default();
            let gram = Dispatch::new(Kernel::Overlap, Access::Single, (groups as u32, cb as u32));
            let record = OpRecord {
                n_threads: 1 << n,
                state_bits: n as u32,
                x0: cb as u32,
                count: groups as u32,
                ..Default::default()
            };
            recording.push(gram.batched(), record);
            let (reduce_steps, in_a) = reduce_passes(groups, segments);
            for p in reduce_steps {
                recording.push(p.dispatch(if p.from_a { 1 } else { 2 }), p.record);
            }
            let records_buf = recording.record_buffer(ctx, "qshade overlap records")?;
            let bind_groups = [
                ctx.bind_group(
                    &records_buf,
                    None,
                    [Some(&states_a), Some(&states_b), None, None],
                    Some(&partials),
                ),
                ctx.bind_group(&records_buf, Some(&partials), [None; 4], Some(&reduced)),
                ctx.bind_group(&records_buf, Some(&reduced), [None; 4], Some(&partials)),
            ];
            recording.submit(ctx, "qshade overlaps", &bind_groups, ca as u32)?;
            let result = if in_a { &partials } else { &reduced };
            let sums = ctx.read_reals(result, 0, 2 * segments)?;
            for i in 0..ca {
                for j in 0..cb {
                    let k = 2 * (i * cb + j);
                    out[(a0 + i) * num_b + b0 + j] = C64::new(sums[k], sums[k + 1]);
                }
            }
        }
    }
    Ok(out)
}
