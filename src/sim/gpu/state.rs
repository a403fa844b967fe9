//! A state vector resident in GPU memory, split into chunk buffers of at most one storage
//! binding each. Gates are recorded into one compute pass and one submit per `apply`; nothing
//! is read back between gates.

use super::block::{self, Piece};
use super::context::{grid, reals_to_bytes, GpuContext};
use super::lower::{expand, lower_bound, lower_dense, Dispatch, GateOp};
use super::tile::{self, Segment};
use crate::backend::{check_marginal_qubits, marginalize, QuantumState};
use crate::circuit::{Bindings, Circuit, Observable, MAX_QUBITS};
use crate::compile::fusion::{fuse_where, FusedOp};
use crate::error::{Error, Result};
use crate::sim::gpu::shaders::{Access, Kernel, MatrixSource};
use num_complex::Complex64;
use std::collections::HashMap;
use std::sync::Arc;

/// The matrices a dispatch carries inline in its record: a shared gate matrix of at most
/// `INLINE_MATRIX_ENTRIES` entries for the kernels that read it through `mat()`, or a
/// register-block run's matrices (its generated code reads them with `inline_entry`).
fn inline_matrix(d: &Dispatch) -> Option<&[Complex64]> {
    let matrix = d.matrix.as_deref()?;
    (matrix.len() <= super::lower::INLINE_MATRIX_ENTRIES
        && matches!(
            d.kernel,
            Kernel::Gate1 | Kernel::Gate2 | Kernel::Diagonal | Kernel::Block(_)
        ))
    .then_some(matrix)
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

    /// The dispatches of one op through its own kernel; its matrix starts at `offset`.
    fn single(&self, op: &GateOp, offset: usize) -> Vec<Dispatch> {
        expand(op, self.num_qubits, self.chunk_bits, offset as u32)
    }

    /// Dispatches for `ops` with runs fused into workgroup tiles (when tile fusion is on).
    /// Tile headers and descriptors are appended to `matrices`.
    fn tile_dispatches(
        &self,
        ops: &[GateOp],
        offsets: &[usize],
        matrices: &mut Vec<f64>,
    ) -> Vec<Dispatch> {
        let mut dispatches: Vec<Dispatch> = Vec::new();
        let tile_qubits = self.ctx.tile_qubits.min(self.chunk_bits);
        for segment in tile::schedule(ops, self.chunk_bits, tile_qubits) {
            match segment {
                Segment::Single(i) => dispatches.extend(self.single(&ops[i], offsets[i])),
                Segment::Tile { qubits, ops: list } => {
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
                    for chunk in 0..self.chunks.len() as u32 {
                        dispatches.push(Dispatch {
                            kernel: Kernel::Tile(tile_qubits as u8, self.ctx.tile_workgroup),
                            access: Access::Single,
                            record: tile::record(header, descriptors, count, tiles, chunk, 0),
                            slots: [Some(chunk), None, None, None],
                            threads: tiles * super::context::WORKGROUP_SIZE, // one workgroup per tile
                            matrix: None,
                        });
                    }
                }
            }
        }
        dispatches
    }

    /// Dispatches for `ops` with runs fused into register blocks, each run's matrices inline
    /// in its records; `offsets[i]` is where op i's matrix starts in the matrix buffer (for
    /// the ops that run singly).
    fn block_dispatches(&self, ops: &[GateOp], offsets: &[usize]) -> Vec<Dispatch> {
        let mut dispatches: Vec<Dispatch> = Vec::new();
        let cap = super::lower::INLINE_MATRIX_ENTRIES;
        for piece in block::schedule(ops, self.chunk_bits, self.ctx.block_qubits, cap) {
            match piece {
                Piece::Single(i) => dispatches.extend(self.single(&ops[i], offsets[i])),
                Piece::Block { mask, ops: list } => {
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
                        // Not hot yet: one dispatch per op.
                        for &i in &list {
                            dispatches.extend(self.single(&ops[i], offsets[i]));
                        }
                        continue;
                    };
                    for chunk in 0..self.chunks.len() as u32 {
                        let record = block::record(mask, self.chunk_bits, 0, chunk);
                        dispatches.push(Dispatch {
                            kernel,
                            access: Access::Single,
                            threads: record.n_threads as u64,
                            record,
                            slots: [Some(chunk), None, None, None],
                            matrix: Some(matrices.clone()),
                        });
                    }
                }
            }
        }
        dispatches
    }

    /// Records every gate of `circuit` as dispatches in one compute pass and submits once.
    fn record_gates(&mut self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<()> {
        let gates = circuit.gates();
        let bound: Vec<Vec<Complex64>> = gates.iter().map(|g| g.bound_matrix(bindings)).collect();
        // Gate fusion: blocks must stay inside one chunk so a dense pass binds one buffer.
        let c = self.chunk_bits;
        let in_chunk =
            |g: &crate::circuit::Gate| g.targets.iter().chain(&g.controls).all(|&q| q < c);
        // Register blocks fuse runs more cheaply than dense matrices (a CNOT is a renaming, a
        // rotation 2 complex products per amplitude where a fused 2-qubit matrix takes 4), so
        // dense fusion runs only without them (lavapipe, 10-layer ansatz at n = 20: blocks
        // 230–260 ms, blocks after 2-qubit fusion 370 ms).
        let fusion_qubits = if self.ctx.block_qubits > 0 {
            0
        } else {
            self.ctx.fusion_qubits
        };
        let ops: Vec<GateOp> = fuse_where(gates, &bound, fusion_qubits, in_chunk)
            .into_iter()
            .filter_map(|f| match f {
                FusedOp::Gate { index } => lower_bound(&gates[index], &bound[index]),
                FusedOp::Dense { qubits, matrix, .. } => Some(lower_dense(&qubits, matrix)),
            })
            .collect();
        let mut matrices: Vec<f64> = Vec::new();
        let mut offsets = Vec::with_capacity(ops.len());
        for op in &ops {
            offsets.push(matrices.len());
            matrices.extend(op.matrix.iter().flat_map(|z| [z.re, z.im]));
        }
        let dispatches = if self.ctx.block_qubits > 0 {
            self.block_dispatches(&ops, &offsets)
        } else {
            self.tile_dispatches(&ops, &offsets, &mut matrices)
        };
        if dispatches.is_empty() {
            return Ok(());
        }
        matrices.push(0.0); // never bind an empty buffer
        let ctx = Arc::clone(&self.ctx);
        let stride = ctx.op_stride;
        // Shared matrices (see `inline_matrix`) ride inline in the uniform record.
        let records = ctx
            .record_bytes_with_matrices(dispatches.iter().map(|d| (&d.record, inline_matrix(d))));
        let mat_bytes = reals_to_bytes(&matrices, ctx.precision);
        let grown_ops = Self::ensure(
            &ctx,
            &mut self.ops,
            records.len() as u64,
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
        ctx.queue.write_buffer(&ops.buffer, 0, &records);
        ctx.queue.write_buffer(&mats.buffer, 0, &mat_bytes);
        for d in &dispatches {
            if !self.bind_groups.contains_key(&d.slots) {
                let slots = d.slots.map(|s| s.map(|i| &self.chunks[i as usize]));
                let bg = ctx.bind_group(&ops.buffer, Some(&mats.buffer), slots, None);
                self.bind_groups.insert(d.slots, bg);
            }
        }
        let bind_groups = &self.bind_groups;
        ctx.submit_pass("qshade gates", |pass| {
            let mut current = None;
            for (i, d) in dispatches.iter().enumerate() {
                let matrices = match inline_matrix(d) {
                    Some(_) => MatrixSource::Inline,
                    None => MatrixSource::Buffer,
                };
                let key = (d.kernel, d.access, matrices);
                if current != Some(key) {
                    pass.set_pipeline(&ctx.pipeline_with(d.kernel, d.access, matrices));
                    current = Some(key);
                }
                pass.set_bind_group(0, &bind_groups[&d.slots], &[(i as u64 * stride) as u32]);
                let (x, y) = grid(d.threads.div_ceil(d.kernel.items_per_invocation(d.access)));
                pass.dispatch_workgroups(x, y, 1);
            }
        });
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
            let reals = super::context::reals_from_bytes(
                &self.ctx.read_ranges(&ranges)?,
                self.ctx.precision,
            );
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
        super::readout::probabilities(self)
    }

    fn marginal_probabilities(&self, qubits: &[usize]) -> Result<Vec<f64>> {
        check_marginal_qubits(qubits, self.num_qubits)?;
        Ok(marginalize(&self.probabilities()?, qubits))
    }

    fn expectation(&self, observable: &Observable) -> Result<f64> {
        Ok(super::readout::expectations(self, std::slice::from_ref(observable))?[0])
    }

    fn expectations(&self, observables: &[Observable]) -> Result<Vec<f64>> {
        super::readout::expectations(self, observables)
    }

    fn sample(&self, shots: usize, seed: u64) -> Result<Vec<u64>> {
        super::readout::sample(self, shots, seed)
    }
}
