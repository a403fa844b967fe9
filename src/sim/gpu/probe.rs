//! The copy probe: a plain compute copy of a state-sized buffer, the memory-bandwidth ceiling
//! a gate pass (which moves the same bytes) is compared with.

use super::abi::OpRecord;
use super::context::GpuContext;
use super::record::{item_grid, Dispatch, Recording};
use super::shaders::{Access, Kernel, Pairing};
use crate::error::Result;
use std::sync::Arc;

/// Copies one state-sized buffer into another with a compute kernel (see
/// [`GpuBackend::copy_probe`](super::GpuBackend::copy_probe)).
pub struct CopyProbe {
    ctx: Arc<GpuContext>,
    group: wgpu::BindGroup,
    records: Recording,
    threads: u64,
    /// Bytes read plus bytes written by one copy.
    pub bytes_moved: u64,
}

impl CopyProbe {
    /// Buffers, record and bind group for copying 2^`num_qubits` amplitudes.
    pub(crate) fn new(ctx: Arc<GpuContext>, num_qubits: usize) -> Result<Self> {
        if num_qubits > ctx.max_chunk_bits {
            return Err(crate::Error::Unsupported(format!(
                "the copy probe needs one binding: at most {} qubits here",
                ctx.max_chunk_bits
            )));
        }
        let bytes = ctx.precision.bytes_per_amplitude() << num_qubits;
        let src = ctx.storage_buffer("qshade copy source", bytes, wgpu::BufferUsages::empty())?;
        let dst = ctx.storage_buffer(
            "qshade copy destination",
            bytes,
            wgpu::BufferUsages::empty(),
        )?;
        let threads = 1u64 << num_qubits;
        let mut records = Recording::default();
        records.push(
            Self::dispatch(threads),
            OpRecord {
                n_threads: threads as u32,
                ..Default::default()
            },
        );
        let ops = records.record_buffer(&ctx, "qshade copy record")?;
        let group = ctx.bind_group(&ops, None, [Some(&src), Some(&dst), None, None], None);
        Ok(CopyProbe {
            ctx,
            group,
            records,
            threads,
            bytes_moved: 2 * bytes,
        })
    }

    /// One copy of `threads` amplitudes, in pairs.
    fn dispatch(threads: u64) -> Dispatch {
        let (kernel, access) = (Kernel::Copy, Access::SinglePairs(Pairing::Items));
        Dispatch::new(kernel, access, item_grid(kernel, access, threads))
    }

    /// Runs the copy `repeats` times in one submit and waits for it.
    pub fn run(&self, repeats: usize) -> Result<()> {
        if repeats == 0 {
            return self.ctx.wait();
        }
        let mut copies = self.records.clone();
        for _ in 1..repeats {
            copies.push_again(Self::dispatch(self.threads));
        }
        copies.submit(
            &self.ctx,
            "qshade copy probe",
            std::slice::from_ref(&self.group),
            1,
        )?;
        self.ctx.wait()
    }
}
