//! The GPU recording layer: one description of a dispatch ([`Dispatch`]), one list of them with
//! the op records they read ([`Recording`]), and one path that encodes such a list into a
//! compute pass and submits it. Every runner records through it: the single-state gates
//! (`state`), the readouts (`readout`), the batch plans, prepared states and overlaps
//! (`batch`), and the copy probe (`probe`). Every dispatch-count computation goes through
//! [`grid`] / [`item_grid`] / [`workgroups`], which divide by the one workgroup size
//! ([`WORKGROUP_SIZE`]).

use super::abi::{record_bytes, OpRecord, WORKGROUP_SIZE};
use super::context::GpuContext;
use super::shaders::{Access, Kernel, MatrixSource};
use crate::error::{Error, Result};
use num_complex::Complex64 as C64;

/// One dispatch: the pipeline (kernel, access mode, matrix source), the op record and bind
/// group it binds (indices into its [`Recording`] and into the bind groups the recording is
/// encoded with), and its workgroup grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Dispatch {
    /// The kernel family.
    pub kernel: Kernel,
    /// How the kernel sees the state buffers.
    pub access: Access,
    /// Where the kernel reads its matrix: the buffer, or inline in its record.
    pub matrices: MatrixSource,
    /// The op record it reads: bound at dynamic offset `record · op_stride`.
    pub record: usize,
    /// Its bind group, an index into the groups passed to [`Recording::encode`].
    pub group: usize,
    /// Workgroups in x and y.
    pub grid: (u32, u32),
    /// True: one z layer per state of the batch the recording is encoded for (the kernel's
    /// `workgroup_id.z` is the state); false: one layer.
    pub batched: bool,
}

impl Dispatch {
    /// `kernel` in `access` mode over `grid` workgroups, reading matrices from the buffer,
    /// bind group 0, one layer.
    pub fn new(kernel: Kernel, access: Access, grid: (u32, u32)) -> Self {
        Dispatch {
            kernel,
            access,
            matrices: MatrixSource::Buffer,
            record: 0,
            group: 0,
            grid,
            batched: false,
        }
    }

    /// The same dispatch through bind group `group`.
    pub fn group(self, group: usize) -> Self {
        Dispatch { group, ..self }
    }

    /// The same dispatch over every state of the batch (z = states).
    pub fn batched(self) -> Self {
        Dispatch {
            batched: true,
            ..self
        }
    }
}

/// Most op records one submit of a single state's gates binds (see [`Recording::split`]): the
/// records sit in one uniform buffer bound at dynamic offsets, so an unbounded circuit would
/// need an unbounded buffer (past the adapter's `max_buffer_size`) and offsets past `u32`.
/// 4,096 records are at most about 5 MiB (f64 records with inline matrices), and thousands of
/// dispatches per submit already amortise the submit.
pub(crate) const MAX_RECORDS_PER_SUBMIT: usize = 4096;

/// Dispatches in order and the op records they read (each record optionally with a matrix
/// inline after its header).
#[derive(Clone, Debug, Default)]
pub(crate) struct Recording {
    records: Vec<(OpRecord, Option<Vec<C64>>)>,
    dispatches: Vec<Dispatch>,
}

impl Recording {
    /// Appends `dispatch` reading `record` (a new record); returns the record's index.
    pub fn push(&mut self, dispatch: Dispatch, record: OpRecord) -> usize {
        self.push_record(dispatch, record, None)
    }

    /// Appends `dispatch` reading `record` with `matrix` inline (at most
    /// `INLINE_MATRIX_ENTRIES` entries; the dispatch runs the `Inline` pipeline).
    pub fn push_inline(&mut self, dispatch: Dispatch, record: OpRecord, matrix: Vec<C64>) -> usize {
        let dispatch = Dispatch {
            matrices: MatrixSource::Inline,
            ..dispatch
        };
        self.push_record(dispatch, record, Some(matrix))
    }

    fn push_record(&mut self, dispatch: Dispatch, record: OpRecord, m: Option<Vec<C64>>) -> usize {
        let index = self.records.len();
        self.records.push((record, m));
        self.dispatches.push(Dispatch {
            record: index,
            ..dispatch
        });
        index
    }

    /// Appends `dispatch` reading the record `dispatch.record` pushed earlier.
    pub fn push_again(&mut self, dispatch: Dispatch) {
        self.dispatches.push(dispatch);
    }

    /// The same dispatches, in order, cut into recordings of at most `max_records` records each
    /// (a record read by dispatches in two pieces is copied into both).
    pub fn split(&self, max_records: usize) -> Vec<Recording> {
        let max_records = max_records.max(1);
        let mut pieces = Vec::new();
        let mut piece = Recording::default();
        let mut index: Vec<Option<usize>> = vec![None; self.records.len()];
        for d in &self.dispatches {
            let needs_record = index.get(d.record).copied().flatten().is_none();
            if needs_record && piece.records.len() == max_records {
                pieces.push(std::mem::take(&mut piece));
                index.iter_mut().for_each(|i| *i = None);
            }
            let Some((record, matrix)) = self.records.get(d.record) else {
                continue;
            };
            let local = match index[d.record] {
                Some(local) => local,
                None => {
                    piece.records.push((*record, matrix.clone()));
                    index[d.record] = Some(piece.records.len() - 1);
                    piece.records.len() - 1
                }
            };
            piece.dispatches.push(Dispatch {
                record: local,
                ..*d
            });
        }
        if !piece.is_empty() {
            pieces.push(piece);
        }
        pieces
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.dispatches.is_empty()
    }

    /// The records laid out at the context's dynamic-offset stride, ready for a uniform buffer.
    pub fn record_bytes(&self, ctx: &GpuContext) -> Vec<u8> {
        record_bytes(
            self.records.iter().map(|(r, m)| (r, m.as_deref())),
            ctx.op_stride,
            ctx.precision,
        )
    }

    /// A uniform buffer holding the records (bound at offset i · op_stride), or `Unsupported`
    /// when they exceed the adapter's largest buffer.
    pub fn record_buffer(&self, ctx: &GpuContext, label: &str) -> Result<wgpu::Buffer> {
        let bytes = self.record_bytes(ctx);
        if bytes.len() as u64 > ctx.limits.max_buffer_size {
            return Err(Error::Unsupported(format!(
                "{} op records ({} bytes) exceed this adapter's largest buffer ({} bytes): \
                 split the circuit or batch into smaller calls",
                self.records.len(),
                bytes.len(),
                ctx.limits.max_buffer_size
            )));
        }
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (bytes.len() as u64).max(ctx.op_stride),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ctx.queue.write_buffer(&buffer, 0, &bytes);
        Ok(buffer)
    }

    /// Records the dispatches, in order, into one compute pass labelled `label` on `encoder`,
    /// binding `groups[d.group]` at the record's offset and giving batched dispatches `batch`
    /// layers. A pipeline or bind group is set only when it changes.
    pub fn encode(
        &self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        label: &str,
        groups: &[wgpu::BindGroup],
        batch: u32,
    ) -> Result<()> {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(label),
            timestamp_writes: None,
        });
        let mut pipeline = None;
        let mut bound = None;
        for d in &self.dispatches {
            let key = (d.kernel, d.access, d.matrices);
            if pipeline != Some(key) {
                pass.set_pipeline(&ctx.pipeline(d.kernel, d.access, d.matrices));
                pipeline = Some(key);
            }
            if bound != Some((d.group, d.record)) {
                let group = groups
                    .get(d.group)
                    .ok_or_else(|| Error::Device(format!("no bind group {}", d.group)))?;
                let offset = u32::try_from(d.record as u64 * ctx.op_stride).map_err(|_| {
                    Error::Unsupported(format!(
                        "{} op records in one submit: their offsets pass 4 GiB; split the \
                         circuit or batch into smaller calls",
                        self.records.len()
                    ))
                })?;
                pass.set_bind_group(0, group, &[offset]);
                bound = Some((d.group, d.record));
            }
            let z = if d.batched { batch } else { 1 };
            pass.dispatch_workgroups(d.grid.0, d.grid.1, z);
        }
        Ok(())
    }

    /// [`Recording::encode`] on a new encoder, submitted on its own (one submit).
    pub fn submit(
        &self,
        ctx: &GpuContext,
        label: &str,
        groups: &[wgpu::BindGroup],
        batch: u32,
    ) -> Result<()> {
        let mut encoder = ctx.encoder(label);
        self.encode(ctx, &mut encoder, label, groups, batch)?;
        ctx.queue.submit([encoder.finish()]);
        Ok(())
    }
}

/// Workgroup grid for `groups` workgroups: x ≤ 65 535, else 32 768 wide, folded into y.
pub(crate) fn workgroups(groups: u64) -> (u32, u32) {
    let groups = groups.max(1);
    if groups <= 65_535 {
        (groups as u32, 1)
    } else {
        let x = 32_768u64;
        (x as u32, groups.div_ceil(x) as u32)
    }
}

/// Workgroup grid for `threads` invocations of [`WORKGROUP_SIZE`].
pub(crate) fn grid(threads: u64) -> (u32, u32) {
    workgroups(threads.div_ceil(WORKGROUP_SIZE))
}

/// Workgroup grid for `kernel` in `access` mode over `items` work items (`Op::n_threads`),
/// each invocation taking `Kernel::items_per_invocation` of them.
pub(crate) fn item_grid(kernel: Kernel, access: Access, items: u64) -> (u32, u32) {
    grid(items.div_ceil(kernel.items_per_invocation(access)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_bounds_records_and_keeps_dispatch_order() {
        let mut rec = Recording::default();
        let d = Dispatch::new(Kernel::Gate1, Access::Single, (1, 1));
        for k in 0..10u32 {
            let r = rec.push(
                d,
                OpRecord {
                    n_threads: k,
                    ..Default::default()
                },
            );
            // Every record read twice: the repeat must stay in the same piece.
            rec.push_again(Dispatch { record: r, ..d });
        }
        let pieces = rec.split(3);
        assert_eq!(pieces.len(), 4);
        let mut seen = Vec::new();
        for p in &pieces {
            assert!(p.records.len() <= 3);
            for d in &p.dispatches {
                seen.push(p.records[d.record].0.n_threads);
            }
        }
        let want: Vec<u32> = (0..10).flat_map(|k| [k, k]).collect();
        assert_eq!(seen, want);
    }
}
