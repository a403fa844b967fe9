//! A state vector resident in GPU memory, split into chunk buffers of at most one storage
//! binding each. Gates are recorded into one compute pass and one submit per `apply`; nothing
//! is read back between gates.

use super::abi::{reals_from_bytes, reals_to_bytes, OpRecord, INLINE_MATRIX_ENTRIES};
use super::context::GpuContext;
use super::fuse::{self, Run};
use super::lower::{expand, lower_bound, lower_dense, GateOp};
use super::readout::{self, Chunks};
use super::record::{grid, workgroups, Dispatch, Recording, MAX_RECORDS_PER_SUBMIT};
use super::shaders::{Access, Kernel, MatrixSource};
use super::{block, tile};
use crate::backend::{check_marginal_qubits, marginalize, QuantumState};
use crate::circuit::{Bindings, Circuit, Observable, MAX_QUBITS};
use crate::compile::fusion::{fuse_where, FusedOp};
use crate::error::{Error, Result};
use num_complex::Complex64;
use std::collections::HashMap;
use std::sync::Arc;

/// Whether a single op's dispatches carry its matrix inline in their record: a shared gate
/// matrix of at most `INLINE_MATRIX_ENTRIES` entries, for the kernels that read it through
/// `mat()` (the dense k-qubit kernel reads the matrix buffer).
fn inline_matrix(op: &GateOp) -> bool {
    !op.matrix.is_empty()
        && op.matrix.len() <= INLINE_MATRIX_ENTRIES
        && matches!(op.kernel, Kernel::Gate1 | Kernel::Gate2 | Kernel::Diagonal)
}

/// The dispatches of one `apply` and the sets of chunks their bind groups bind
/// (`Dispatch::group` indexes `slot_sets`).
#[derive(Default)]
struct Gates {
    recording: Recording,
    slot_sets: Vec<[Option<u32>; 4]>,
    groups: HashMap<[Option<u32>; 4], usize>,
}

impl Gates {
    /// The bind-group index of the chunk set `slots`.
    fn group(&mut self, slots: [Option<u32>; 4]) -> usize {
        let next = self.slot_sets.len();
        let group = *self.groups.entry(slots).or_insert(next);
        if group == next {
            self.slot_sets.push(slots);
        }
        group
    }

    /// Appends `dispatch` over the chunks `slots`, reading `record` (with `matrix` inline when
    /// given); returns the record's index.
    fn push(
        &mut self,
        dispatch: Dispatch,
        slots: [Option<u32>; 4],
        record: OpRecord,
        matrix: Option<Vec<Complex64>>,
    ) -> usize {
        let dispatch = dispatch.group(self.group(slots));
        match matrix {
            Some(m) => self.recording.push_inline(dispatch, record, m),
            None => self.recording.push(dispatch, record),
        }
    }

    /// Appends `dispatch` over the chunks `slots`, reading the record `dispatch.record`.
    fn push_again(&mut self, dispatch: Dispatch, slots: [Option<u32>; 4]) {
        let dispatch = dispatch.group(self.group(slots));
        self.recording.push_again(dispatch);
    }
}

/// A growable GPU buffer (grows by doubling; contents are rewritten each use).
struct Scratch {
    buffer: wgpu::Buffer,
    capacity: u64,
}

/// An n-qubit state on the GPU.
pub struct GpuState {
    pub(crate) ctx: Arc<GpuContext>,
    pub(crate) num_qubits: usize,
    pub(crate) chunk_bits: usize,
    pub(crate) chunks: Vec<wgpu::Buffer>,
    ops: Option<Scratch>,
    mats: Option<Scratch>,
    /// Bind groups by the chunks they bind, valid while `ops` and `mats` are not replaced.
    bind_groups: HashMap<[Option<u32>; 4], wgpu::BindGroup>,
    /// True once `apply` has submitted work; dropping the state then waits for the device.
    submitted: bool,
}

/// Bytes a state of `num_qubits` needs at this context's precision.
pub(crate) fn state_bytes(ctx: &GpuContext, num_qubits: usize) -> u64 {
    ctx.precision.bytes_per_amplitude() << num_qubits
}

impl GpuState {
    /// Allocates |0…0⟩, after checking that the state fits the memory budget.
    pub(crate) fn zero(ctx: Arc<GpuContext>, num_qubits: usize) -> Result<Self> {
        let state = Self::allocate(ctx, num_qubits)?;
        let one = reals_to_bytes(&[1.0, 0.0], state.ctx.precision);
        state.ctx.queue.write_buffer(&state.chunks[0], 0, &one);
        Ok(state)
    }

    /// Allocates a state holding `amplitudes` (already validated).
    pub(crate) fn from_amplitudes(
        ctx: Arc<GpuContext>,
        num_qubits: usize,
        amplitudes: &[Complex64],
    ) -> Result<Self> {
        let state = Self::allocate(ctx, num_qubits)?;
        let chunk_len = 1usize << state.chunk_bits;
        for (buffer, part) in state.chunks.iter().zip(amplitudes.chunks(chunk_len)) {
            let flat: Vec<f64> = part.iter().flat_map(|a| [a.re, a.im]).collect();
            state
                .ctx
                .queue
                .write_buffer(buffer, 0, &reals_to_bytes(&flat, state.ctx.precision));
        }
        Ok(state)
    }

    fn allocate(ctx: Arc<GpuContext>, num_qubits: usize) -> Result<Self> {
        if num_qubits == 0 || num_qubits > MAX_QUBITS {
            return Err(Error::UnsupportedQubitCount {
                num_qubits,
                max: MAX_QUBITS,
            });
        }
        let needed = state_bytes(&ctx, num_qubits);
        if let Some(available) = ctx.memory_budget {
            if needed > available {
                return Err(Error::OutOfDeviceMemory { needed, available });
            }
        }
        let chunk_bits = num_qubits.min(ctx.max_chunk_bits);
        let chunk_bytes = state_bytes(&ctx, chunk_bits);
        let mut chunks = Vec::with_capacity(1 << (num_qubits - chunk_bits));
        for i in 0..(1usize << (num_qubits - chunk_bits)) {
            // Buffers are zero-initialised by wgpu.
            match ctx.storage_buffer(
                &format!("qshade state chunk {i}"),
                chunk_bytes,
                wgpu::BufferUsages::empty(),
            ) {
                Ok(b) => chunks.push(b),
                Err(_) => {
                    // Free what was allocated and report the whole state's need.
                    drop(chunks);
                    return Err(Error::OutOfDeviceMemory {
                        needed,
                        available: ctx
                            .memory_budget
                            .unwrap_or(needed.saturating_sub(chunk_bytes)),
                    });
                }
            }
        }
        Ok(GpuState {
            ctx,
            num_qubits,
            chunk_bits,
            chunks,
            ops: None,
            mats: None,
            bind_groups: HashMap::new(),
            submitted: false,
        })
    }

    /// Blocks until every gate submitted to this state has run (for timing; reads wait anyway).
    pub fn wait(&self) -> Result<()> {
        self.ctx.wait()
    }

    /// The chunk buffers as the readouts see them.
    fn view(&self) -> Chunks<'_> {
        Chunks {
            ctx: &self.ctx,
            buffers: &self.chunks,
            chunk_bits: self.chunk_bits,
            num_qubits: self.num_qubits,
        }
    }

    /// Number of chunk buffers the state is split into.
    pub fn num_chunks(&self) -> usize {
        self.chunks.len()
    }

    /// Ensures `slot` holds a buffer of at least `size` bytes; returns true if it was replaced.
    fn ensure(
        ctx: &GpuContext,
        slot: &mut Option<Scratch>,
        size: u64,
        usage: wgpu::BufferUsages,
        label: &str,
    ) -> bool {
        if slot.as_ref().is_some_and(|s| s.capacity >= size) {
            return false;
        }
        let capacity = size.next_power_of_two().max(4096);
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: capacity,
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        *slot = Some(Scratch { buffer, capacity });
        true
    }

    /// Records op `op` through its own kernel, once per group of chunks it touches; its
    /// matrix starts at `offset` in the matrix buffer, or rides inline in its record.
    fn single(&self, gates: &mut Gates, op: &GateOp, offset: usize) {
        let e = expand(op, self.num_qubits, self.chunk_bits, offset as u32);
        let dispatch = e.dispatch();
        let matrix = inline_matrix(op).then(|| op.matrix.clone());
        let mut slot_sets = e.slots.into_iter();
        let Some(first) = slot_sets.next() else {
            return;
        };
        let record = gates.push(dispatch, first, e.record, matrix);
        for slots in slot_sets {
            gates.push_again(Dispatch { record, ..dispatch }, slots);
        }
    }

    /// Records a run of ops in one pass per chunk, through the kernel `kernel` that takes
    /// `record(chunk)` and (for register blocks) the run's matrices inline.
    fn per_chunk(
        &self,
        gates: &mut Gates,
        dispatch: Dispatch,
        record: impl Fn(u32) -> OpRecord,
        matrix: Option<Vec<Complex64>>,
    ) {
        for chunk in 0..self.chunks.len() as u32 {
            gates.push(
                dispatch,
                [Some(chunk), None, None, None],
                record(chunk),
                matrix.clone(),
            );
        }
    }

    /// Records a workgroup-tile run `list` of `ops` on the tile qubits `qubits` (tiles of
    /// `tile_qubits`); its headers and descriptors are appended to `matrices`. `offsets[i]` is
    /// where op i's matrix starts in `matrices`.
    fn tile_run(
        &self,
        gates: &mut Gates,
        (ops, offsets): (&[GateOp], &[usize]),
        (tile_qubits, qubits, list): (usize, u64, &[usize]),
        matrices: &mut Vec<f64>,
    ) {
        let run: Vec<&GateOp> = list.iter().map(|&i| &ops[i]).collect();
        let run_offsets: Vec<usize> = list.iter().map(|&i| offsets[i]).collect();
        let (header, descriptors, count) = tile::encode(
            matrices,
            qubits,
            self.chunk_bits,
            &run,
            &run_offsets,
            &vec![0; run.len()],
        );
        let tiles = 1u64 << (self.chunk_bits - tile_qubits);
        let kernel = Kernel::Tile(tile_qubits as u8, self.ctx.tile_workgroup);
        // One workgroup per tile.
        let dispatch = Dispatch::new(kernel, Access::Single, workgroups(tiles));
        let record = |chunk| tile::record(header, descriptors, count, tiles, chunk, 0);
        self.per_chunk(gates, dispatch, record, None);
    }

    /// Records a register-block run `list` of `ops` on the qubits `mask`, its matrices inline
    /// in its records (`offsets[i]`: op i's matrix in the matrix buffer); a run whose kernel is not compiled yet (see
    /// `GpuContext::block_kernel`) runs op by op.
    fn block_run(
        &self,
        gates: &mut Gates,
        (ops, offsets): (&[GateOp], &[usize]),
        mask: u64,
        list: &[usize],
    ) {
        let run: Vec<&GateOp> = list.iter().map(|&i| &ops[i]).collect();
        let matrices: Vec<Complex64> = run
            .iter()
            .flat_map(|op| op.matrix.iter().copied())
            .collect();
        let relative = block::packed_offsets(run.iter().map(|op| 2 * op.matrix.len()));
        let from = MatrixSource::Inline;
        let Some(kernel) = self.ctx.block_kernel(
            mask.count_ones() as usize,
            block::signature(mask, &run, &relative, from),
            || block::generate(mask, &run, &relative, from),
        ) else {
            for &i in list {
                self.single(gates, &ops[i], offsets[i]);
            }
            return;
        };
        let threads = block::record(mask, self.chunk_bits, 0, 0).n_threads as u64;
        let dispatch = Dispatch::new(kernel, Access::Single, grid(threads));
        let record = |chunk| block::record(mask, self.chunk_bits, 0, chunk);
        self.per_chunk(gates, dispatch, record, Some(matrices));
    }

    /// Records every gate of `circuit` as dispatches in one compute pass and submits once.
    fn record_gates(&mut self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<()> {
        let gates = circuit.gates();
        let bound: Vec<Vec<Complex64>> = gates.iter().map(|g| g.bound_matrix(bindings)).collect();
        let strategy = fuse::strategy(&self.ctx, self.chunk_bits, false);
        // Gate fusion: blocks must stay inside one chunk so a dense pass binds one buffer.
        let c = self.chunk_bits;
        let in_chunk =
            |g: &crate::circuit::Gate| g.targets.iter().chain(&g.controls).all(|&q| q < c);
        let ops: Vec<GateOp> = fuse_where(gates, &bound, strategy.dense_qubits, in_chunk)
            .into_iter()
            .filter_map(|f| match f {
                FusedOp::Gate { index } => lower_bound(&gates[index], &bound[index]),
                FusedOp::Dense { qubits, matrix, .. } => lower_dense(&qubits, matrix),
            })
            .collect();
        let mut matrices: Vec<f64> = Vec::new();
        let mut offsets = Vec::with_capacity(ops.len());
        for op in &ops {
            offsets.push(matrices.len());
            matrices.extend(op.matrix.iter().flat_map(|z| [z.re, z.im]));
        }
        let mut recorded = Gates::default();
        let lowered = (ops.as_slice(), offsets.as_slice());
        for run in strategy
            .runs
            .schedule(&ops, self.chunk_bits, INLINE_MATRIX_ENTRIES)
        {
            match run {
                Run::Single(i) => self.single(&mut recorded, &ops[i], offsets[i]),
                Run::Tile { size, qubits, ops } => {
                    self.tile_run(&mut recorded, lowered, (size, qubits, &ops), &mut matrices)
                }
                Run::Block { mask, ops } => self.block_run(&mut recorded, lowered, mask, &ops),
            }
        }
        if recorded.recording.is_empty() {
            return Ok(());
        }
        matrices.push(0.0); // never bind an empty buffer
        let ctx = Arc::clone(&self.ctx);
        // A long circuit goes in several submits of bounded record buffers (see
        // MAX_RECORDS_PER_SUBMIT), all reading the one matrix buffer.
        let pieces = recorded.recording.split(MAX_RECORDS_PER_SUBMIT);
        let records: Vec<Vec<u8>> = pieces.iter().map(|p| p.record_bytes(&ctx)).collect();
        let largest = records.iter().map(|r| r.len() as u64).max().unwrap_or(0);
        let mat_bytes = reals_to_bytes(&matrices, ctx.precision);
        if mat_bytes.len() as u64 > ctx.limits.max_storage_buffer_binding_size {
            return Err(Error::Unsupported(format!(
                "the circuit's gate matrices take {} bytes, more than one storage binding of \
                 this adapter holds ({} bytes): apply the circuit in parts",
                mat_bytes.len(),
                ctx.limits.max_storage_buffer_binding_size
            )));
        }
        let grown_ops = Self::ensure(
            &ctx,
            &mut self.ops,
            largest,
            wgpu::BufferUsages::UNIFORM,
            "qshade op records",
        );
        let grown_mats = Self::ensure(
            &ctx,
            &mut self.mats,
            mat_bytes.len() as u64,
            wgpu::BufferUsages::STORAGE,
            "qshade gate matrices",
        );
        if grown_ops || grown_mats {
            self.bind_groups.clear();
        }
        let (Some(ops), Some(mats)) = (&self.ops, &self.mats) else {
            return Err(Error::Device("scratch buffers missing".into()));
        };
        ctx.queue.write_buffer(&mats.buffer, 0, &mat_bytes);
        let groups: Vec<wgpu::BindGroup> = recorded
            .slot_sets
            .iter()
            .map(|slots| {
                self.bind_groups
                    .entry(*slots)
                    .or_insert_with(|| {
                        let buffers = slots.map(|s| s.map(|i| &self.chunks[i as usize]));
                        ctx.bind_group(&ops.buffer, Some(&mats.buffer), buffers, None)
                    })
                    .clone()
            })
            .collect();
        // Queue writes land before the next submit and after the earlier ones, so one record
        // buffer serves every piece in turn.
        for (piece, bytes) in pieces.iter().zip(&records) {
            ctx.queue.write_buffer(&ops.buffer, 0, bytes);
            piece.submit(&ctx, "qshade gates", &groups, 1)?;
        }
        self.submitted = true;
        Ok(())
    }

    /// All amplitudes: chunks are copied back in groups of up to 256 MiB, one submit and one
    /// map per group.
    fn read_amplitudes(&self) -> Result<Vec<Complex64>> {
        let mut out = Vec::with_capacity(1 << self.num_qubits);
        let chunk_bytes = state_bytes(&self.ctx, self.chunk_bits);
        let per_group = ((256u64 << 20) / chunk_bytes).max(1) as usize;
        for group in self.chunks.chunks(per_group) {
            let ranges: Vec<(&wgpu::Buffer, u64, u64)> =
                group.iter().map(|c| (c, 0, chunk_bytes)).collect();
            let reals = reals_from_bytes(&self.ctx.read_ranges(&ranges)?, self.ctx.precision);
            out.extend(reals.chunks_exact(2).map(|p| Complex64::new(p[0], p[1])));
        }
        Ok(out)
    }
}

/// Dropping a state whose gates may still be running waits for the device. Work left in flight
/// can outlive the program: if the process exits while a driver thread is still compiling or
/// running it, the driver can crash in its exit-time teardown (seen with lavapipe, whose queue
/// thread compiles shaders on first use). Reads already wait, so after one this is a no-op poll.
impl Drop for GpuState {
    fn drop(&mut self) {
        if self.submitted {
            // An error here was either reported by the read that followed the gates, or
            // concerns a state nobody reads any more; a destructor has no one to report it to.
            let _ = self.ctx.device.poll(wgpu::PollType::wait_indefinitely());
        }
    }
}

impl QuantumState for GpuState {
    fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    fn apply(&mut self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<()> {
        circuit.check_applicable(self.num_qubits, bindings)?;
        self.record_gates(circuit, bindings)
    }

    fn amplitudes(&self) -> Result<Vec<Complex64>> {
        self.read_amplitudes()
    }

    fn probabilities(&self) -> Result<Vec<f64>> {
        readout::probabilities(self.view())
    }

    fn marginal_probabilities(&self, qubits: &[usize]) -> Result<Vec<f64>> {
        check_marginal_qubits(qubits, self.num_qubits)?;
        Ok(marginalize(&self.probabilities()?, qubits))
    }

    fn expectation(&self, observable: &Observable) -> Result<f64> {
        Ok(readout::expectations(self.view(), std::slice::from_ref(observable))?[0])
    }

    fn expectations(&self, observables: &[Observable]) -> Result<Vec<f64>> {
        readout::expectations(self.view(), observables)
    }

    fn sample(&self, shots: usize, seed: u64) -> Result<Vec<u64>> {
        readout::sample(self.view(), shots, seed)
    }
}
