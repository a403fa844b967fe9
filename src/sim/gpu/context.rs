//! One context object owning the device and queue, the adapter's limits, the bind-group layout
//! shared by every kernel, buffers and readbacks, and the pipeline cache keyed by (kernel,
//! access, matrix source).

use super::abi::{op_record_bytes, reals_from_bytes, WORKGROUP_SIZE};
use super::config::GpuConfig;
use super::shaders::{self, Access, Kernel, MatrixSource};
use crate::backend::Precision;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

/// The device, queue, limits and compiled pipelines that every GPU state of a backend shares.
pub struct GpuContext {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) info: wgpu::AdapterInfo,
    pub(crate) limits: wgpu::Limits,
    pub(crate) precision: Precision,
    /// Bytes the states may use: the configured budget, else the adapter's largest device-local
    /// heap when the backend reports it (Vulkan); `None` when unknown.
    pub(crate) memory_budget: Option<u64>,
    /// Largest chunk of a state, as log2(amplitudes): one storage binding's worth.
    pub(crate) max_chunk_bits: usize,
    /// Byte stride between `Op` records in the uniform buffer (the dynamic-offset alignment).
    pub(crate) op_stride: u64,
    /// Qubits per workgroup tile (0: tile fusion off): 2^t amplitudes fill at most the
    /// adapter's workgroup memory, t ≤ 12.
    pub(crate) tile_qubits: usize,
    /// Workgroup size of the tile kernel: `WORKGROUP_SIZE` on GPUs; smaller on CPU adapters (lavapipe),
    /// where every workgroup barrier switches between one coroutine per 8 invocations.
    pub(crate) tile_workgroup: u16,
    /// Largest fused block (qubits), see `GpuConfig::fusion_qubits`.
    pub(crate) fusion_qubits: usize,
    /// Largest register block (qubits; 0: off), see `GpuConfig::register_blocks`.
    pub(crate) block_qubits: usize,
    /// Generated block runs by id (`Kernel::Block`): block qubits and code.
    blocks: Mutex<BlockRegistry>,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    pipelines: Mutex<HashMap<(Kernel, Access, MatrixSource), wgpu::ComputePipeline>>,
    /// Tiny buffers bound to slots a dispatch does not use (bindings 1..=6).
    pub(crate) dummies: Vec<wgpu::Buffer>,
    /// Errors wgpu reported outside an error scope since the last check.
    device_errors: Arc<Mutex<Vec<String>>>,
}

/// Register-block size on CPU adapters when the configuration leaves it open: 5 was the
/// fastest of 4, 5 and 6 on the 10-layer ansatz (`examples/ansatz_tiles`) (figures: `benches/RESULTS.md`, "Design measurements"),
/// and 6 would also spill registers on GPUs.
pub(crate) const DEFAULT_CPU_BLOCK_QUBITS: usize = 5;

/// Largest register block: 2^6 amplitudes per invocation already spill registers on GPUs.
pub(crate) const MAX_BLOCK_QUBITS: usize = 6;

/// Run structures seen once that are remembered (by digest) before the memory is reset.
const MAX_COLD_BLOCKS: usize = 1 << 16;

/// Generated block runs: the hot ones, (block qubits, code) by id and ids by run signature,
/// and the digests of the signatures seen once.
#[derive(Default)]
struct BlockRegistry {
    codes: Vec<(usize, String)>,
    ids: HashMap<Vec<u32>, u32>,
    seen_once: std::collections::HashSet<u64>,
}

fn adapter_rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let device = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 4,
        wgpu::DeviceType::IntegratedGpu => 3,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 1,
        wgpu::DeviceType::Other => 0,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 1,
        _ => 0,
    };
    (backend, device)
}

/// What a user reads for the raw errors `wgpu` reported (`raw`): the text itself, then what
/// it means and what to do, since wgpu's own text names internal objects only.
fn device_error_message(raw: &str) -> String {
    format!(
        "the GPU driver rejected qshade's work ({raw}). qshade checks sizes and limits before \
         it submits work, so this is a qshade bug or a limit of this adapter it does not know \
         of: please report it with this message; meanwhile use fewer qubits, shots or terms \
         per call, another adapter (GpuConfig::adapter / QSHADE_ADAPTER), or the CPU backend"
    )
}

/// Why no adapter was found on the backends `searched`, given the `WGPU_BACKEND` setting
/// (`wgpu_backend`, which chose them when set), and what to do about it.
fn no_adapter_reason(searched: wgpu::Backends, wgpu_backend: Option<&str>) -> String {
    let names: Vec<&str> = [
        (wgpu::Backends::VULKAN, "Vulkan"),
        (wgpu::Backends::METAL, "Metal"),
        (wgpu::Backends::DX12, "DX12"),
        (wgpu::Backends::GL, "GL"),
        (wgpu::Backends::BROWSER_WEBGPU, "WebGPU"),
    ]
    .into_iter()
    .filter(|(b, _)| searched.contains(*b))
    .map(|(_, name)| name)
    .collect();
    let list = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    match wgpu_backend {
        Some(value) => format!(
            "no adapter on the backends searched ({list}), which WGPU_BACKEND={value:?} \
             restricted the search to: unset WGPU_BACKEND or name a backend this machine has \
             a driver for"
        ),
        // Error::NoAdapter's message goes on with what to install.
        None => format!("no adapter on any backend searched ({list})"),
    }
}

/// Largest dense fusion block (qubits) on the GPU: the k-qubit kernel takes k ≤ 5.
const MAX_FUSION_QUBITS: usize = 5;

/// Rejects configured sizes the engine cannot run, one rule for all of them: an error that
/// names the setting and its range, never a silent clamp.
fn check_config(config: &GpuConfig) -> Result<()> {
    let bad = |what: &str, value: usize, range: &str| {
        Err(Error::InvalidArgument(format!(
            "GpuConfig::{what} is {value}; it must be {range}"
        )))
    };
    if config.fusion_qubits > MAX_FUSION_QUBITS {
        return bad(
            "fusion_qubits",
            config.fusion_qubits,
            "0 or 1 (off) up to 5 (QSHADE_FUSION_QUBITS sets its default)",
        );
    }
    if let Some(k) = config.register_blocks.filter(|&k| k > MAX_BLOCK_QUBITS) {
        return bad(
            "register_blocks",
            k,
            "Some(0) (off) up to Some(6) (QSHADE_BLOCK_QUBITS sets its default)",
        );
    }
    if config.max_chunk_qubits == Some(0) {
        return bad("max_chunk_qubits", 0, "at least Some(1), or None");
    }
    Ok(())
}

/// Picks the best adapter: one that supports the precision, then native APIs (Vulkan, Metal,
/// DX12) over GL, then discrete over integrated over software. `wanted` (the configuration's
/// adapter, default `QSHADE_ADAPTER`) restricts the choice to adapters whose name contains it.
fn choose_adapter(
    instance: &wgpu::Instance,
    searched: wgpu::Backends,
    precision: Precision,
    wanted: Option<&str>,
) -> Result<wgpu::Adapter> {
    let adapters = pollster::block_on(instance.enumerate_adapters(searched));
    if adapters.is_empty() {
        return Err(Error::NoAdapter {
            reason: no_adapter_reason(searched, std::env::var("WGPU_BACKEND").ok().as_deref()),
        });
    }
    let wanted = wanted.map(str::to_lowercase);
    let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
    let candidates: Vec<wgpu::Adapter> = adapters
        .into_iter()
        .filter(|a| {
            a.get_info().device_type != wgpu::DeviceType::Other
                || a.get_info().backend != wgpu::Backend::Gl
        })
        .filter(|a| {
            wanted
                .as_ref()
                .is_none_or(|w| a.get_info().name.to_lowercase().contains(w))
        })
        .collect();
    let needs_f64 = precision == Precision::F64;
    candidates
        .into_iter()
        .max_by_key(|a| {
            let f64_ok = !needs_f64 || a.features().contains(wgpu::Features::SHADER_F64);
            (f64_ok, adapter_rank(&a.get_info()))
        })
        .ok_or_else(|| Error::NoAdapter {
            reason: format!(
                "no adapter's name contains {:?} (GpuConfig::adapter / QSHADE_ADAPTER) among {names:?}",
                wanted.unwrap_or_default()
            ),
        })
}

/// The largest device-local memory heap, when the adapter runs on Vulkan.
fn vulkan_device_local_bytes(adapter: &wgpu::Adapter) -> Option<u64> {
    // SAFETY: the hal adapter is only used for a read-only properties query while `adapter`
    // is alive; no wgpu state is changed.
    unsafe {
        let hal = adapter.as_hal::<wgpu::hal::api::Vulkan>()?;
        let instance = hal.shared_instance().raw_instance();
        let props = instance.get_physical_device_memory_properties(hal.raw_physical_device());
        let count = (props.memory_heap_count as usize).min(props.memory_heaps.len());
        props.memory_heaps[..count]
            .iter()
            .filter(|h| h.flags.as_raw() & 1 != 0) // VK_MEMORY_HEAP_DEVICE_LOCAL_BIT
            .map(|h| h.size)
            .max()
    }
}

impl GpuContext {
    /// Finds the best adapter and opens a device on it with all of the adapter's limits.
    pub fn new(config: &GpuConfig) -> Result<Self> {
        // "error: XDG_RUNTIME_DIR is invalid or not set in the environment." on stderr, when
        // that variable is unset on Linux with Mesa, is not ours and cannot be avoided here:
        // libwayland-client prints it when Mesa's implicit Vulkan layer
        // VK_LAYER_MESA_device_select tries to reach a Wayland compositor to pick the default
        // GPU, which it does because the instance enables VK_KHR_wayland_surface. wgpu-hal
        // enables every window-system extension the driver offers (no instance flag turns
        // that off), and building the Vulkan instance ourselves and handing it to wgpu
        // (`vulkan::Instance::from_raw`) is only sound with a superset of those extensions.
        // Compute is unaffected. Users silence it with `NODEVICE_SELECT=1` (disables that
        // layer, which only orders devices) or by setting XDG_RUNTIME_DIR (README,
        // "Troubleshooting").
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        // Creating a resource past 95% of the memory budget fails with an OOM error (which we
        // report as OutOfDeviceMemory) instead of risking a device loss.
        desc.memory_budget_thresholds = wgpu::MemoryBudgetThresholds {
            for_resource_creation: Some(95),
            for_device_loss: None,
        };
        let searched = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let adapter = choose_adapter(
            &instance,
            searched,
            config.precision,
            config.adapter.as_deref(),
        )?;
        let info = adapter.get_info();
        if config.precision == Precision::F64
            && !adapter.features().contains(wgpu::Features::SHADER_F64)
        {
            return Err(Error::MissingFeature {
                feature: "SHADER_F64",
                adapter: info.name,
            });
        }
        let mut features = wgpu::Features::empty();
        if config.precision == Precision::F64 {
            features |= wgpu::Features::SHADER_F64;
        }
        let device_desc = wgpu::DeviceDescriptor {
            label: Some("qshade"),
            required_features: features,
            // wgpu grants only what the descriptor asks for: ask for everything the adapter has
            // (large storage bindings and buffers above all).
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&device_desc))
            .map_err(|e| Error::Device(format!("request_device failed on {}: {e}", info.name)))?;
        let heap = vulkan_device_local_bytes(&adapter);
        Self::from_parts(device, queue, info, config, heap)
    }

    /// Wraps an existing device and queue (e.g. shared with a renderer).
    pub fn from_parts(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        config: &GpuConfig,
        heap_bytes: Option<u64>,
    ) -> Result<Self> {
        check_config(config)?;
        if config.precision == Precision::F64
            && !device.features().contains(wgpu::Features::SHADER_F64)
        {
            return Err(Error::MissingFeature {
                feature: "SHADER_F64",
                adapter: info.name,
            });
        }
        let limits = device.limits();
        let bpa = config.precision.bytes_per_amplitude();
        let binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        // Index arithmetic is u32 over a chunk plus two pairing bits, so chunks stay ≤ 2^28.
        let mut max_chunk_bits = (63 - (binding / bpa).max(1).leading_zeros() as usize).min(28);
        if let Some(c) = config.max_chunk_qubits {
            max_chunk_bits = max_chunk_bits.min(c.max(1));
        }
        let tile_bytes = (limits.max_compute_workgroup_storage_size as u64 / bpa).max(1);
        let tile_qubits = if config.tile_fusion {
            (63 - tile_bytes.leading_zeros() as usize).min(12)
        } else {
            0
        };
        let tile_workgroup =
            config
                .tile_workgroup
                .unwrap_or(if info.device_type == wgpu::DeviceType::Cpu {
                    16
                } else {
                    WORKGROUP_SIZE as u16
                });
        let max_invocations = limits.max_compute_invocations_per_workgroup;
        if !tile_workgroup.is_power_of_two() || u32::from(tile_workgroup) > max_invocations {
            return Err(Error::InvalidArgument(format!(
                "tile_workgroup (GpuConfig / QSHADE_TILE_WG) is {tile_workgroup}; it must be a \
                 power of two of at most {max_invocations} on this adapter"
            )));
        }
        let op_stride = op_record_bytes(config.precision)
            .next_multiple_of(limits.min_uniform_buffer_offset_alignment.max(1) as u64);
        // wgpu panics on uncaptured errors by default; record them instead and report them as
        // Error::Device at the next synchronisation point.
        let device_errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&device_errors);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut errors) = sink.lock() {
                errors.push(e.to_string());
            }
        }));
        let layout = create_layout(&device, config.precision);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("qshade kernels"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let dummies = (0..7)
            .map(|i| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(&format!("qshade dummy {i}")),
                    size: 256,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::UNIFORM,
                    mapped_at_creation: false,
                })
            })
            .collect();
        // The configuration (whose default reads QSHADE_BLOCK_QUBITS), else the adapter's.
        let block_qubits = config
            .register_blocks
            .unwrap_or(if info.device_type == wgpu::DeviceType::Cpu {
                DEFAULT_CPU_BLOCK_QUBITS
            } else {
                0
            })
            .min(MAX_BLOCK_QUBITS); // the adapter default; a configured value is checked
        Ok(GpuContext {
            device,
            queue,
            info,
            limits,
            precision: config.precision,
            memory_budget: config.memory_budget.or(heap_bytes),
            max_chunk_bits,
            op_stride,
            tile_qubits,
            tile_workgroup,
            fusion_qubits: config.fusion_qubits,
            layout,
            pipeline_layout,
            block_qubits,
            blocks: Mutex::default(),
            pipelines: Mutex::new(HashMap::new()),
            dummies,
            device_errors,
        })
    }

    /// The pipeline for `kernel` with `access` reading matrices from `matrices`, compiled on
    /// first use and cached.
    pub(crate) fn pipeline(
        &self,
        kernel: Kernel,
        access: Access,
        matrices: MatrixSource,
    ) -> wgpu::ComputePipeline {
        let mut cache = self
            .pipelines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .entry((kernel, access, matrices))
            .or_insert_with(|| {
                let source = match kernel {
                    Kernel::Block(id) => {
                        let blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
                        let (k, code) = &blocks.codes[id as usize];
                        shaders::block_source(*k, code, self.precision)
                    }
                    _ => shaders::source_with(kernel, self.precision, access, matrices),
                };
                let module = self
                    .device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(&format!("{kernel:?} {access:?}")),
                        source: wgpu::ShaderSource::Wgsl(source.into()),
                    });
                self.device
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(&format!("{kernel:?} {access:?}")),
                        layout: Some(&self.pipeline_layout),
                        module: &module,
                        entry_point: Some(kernel.entry_point()),
                        compilation_options: Default::default(),
                        cache: None,
                    })
            })
            .clone()
    }

    /// The kernel of a generated block run on `block_qubits` qubits once the run's structure
    /// (`signature`, see `block::signature`) is *hot*, `None` before. A structure turns hot on
    /// its second sighting (in this or an earlier `apply`), so a pipeline is compiled only for
    /// code that repeats: layers of an ansatz, training steps. A one-off circuit never waits for
    /// a compiler (a software adapter takes tens to hundreds of milliseconds per generated
    /// pipeline) and runs its ops one
    /// dispatch each instead. `generate` makes the code, once, when the structure turns hot.
    pub(crate) fn block_kernel(
        &self,
        block_qubits: usize,
        signature: Vec<u32>,
        generate: impl FnOnce() -> String,
    ) -> Option<Kernel> {
        let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&id) = blocks.ids.get(&signature) {
            return Some(Kernel::Block(id));
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&signature, &mut hasher);
        let digest = std::hash::Hasher::finish(&hasher);
        if blocks.seen_once.len() >= MAX_COLD_BLOCKS {
            blocks.seen_once.clear();
        }
        if blocks.seen_once.insert(digest) {
            return None;
        }
        let id = blocks.codes.len() as u32;
        blocks.codes.push((block_qubits, generate()));
        blocks.ids.insert(signature, id);
        Some(Kernel::Block(id))
    }

    /// A command encoder labelled `label`.
    pub(crate) fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    /// How many generated block runs have turned hot (each compiles one pipeline).
    pub(crate) fn hot_blocks(&self) -> usize {
        self.blocks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .codes
            .len()
    }

    /// A bind group: the op uniform, aux_in, four state slots and aux_out.
    pub(crate) fn bind_group<'a>(
        &'a self,
        ops: &'a wgpu::Buffer,
        aux_in: Option<&'a wgpu::Buffer>,
        slots: [Option<&'a wgpu::Buffer>; 4],
        aux_out: Option<&'a wgpu::Buffer>,
    ) -> wgpu::BindGroup {
        let pick = |b: Option<&'a wgpu::Buffer>, dummy: usize| {
            b.unwrap_or(&self.dummies[dummy]).as_entire_binding()
        };
        let mut entries = vec![
            wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: ops,
                    offset: 0,
                    size: NonZeroU64::new(op_record_bytes(self.precision)),
                }),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: pick(aux_in, 1),
            },
        ];
        for (i, slot) in slots.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: 2 + i as u32,
                resource: pick(*slot, 2 + i),
            });
        }
        entries.push(wgpu::BindGroupEntry {
            binding: 6,
            resource: pick(aux_out, 6),
        });
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("qshade"),
            layout: &self.layout,
            entries: &entries,
        })
    }

    /// Blocks until all submitted work is done, then reports any error wgpu raised meanwhile.
    pub(crate) fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Device(format!("waiting for the GPU failed: {e}")))?;
        self.take_errors()
    }

    /// `Err` with the errors wgpu reported since the last call, if any.
    pub(crate) fn take_errors(&self) -> Result<()> {
        let mut errors = self.device_errors.lock().unwrap_or_else(|p| p.into_inner());
        if errors.is_empty() {
            return Ok(());
        }
        let all = errors.drain(..).collect::<Vec<_>>().join("; ");
        Err(Error::Device(device_error_message(&all)))
    }

    /// A storage buffer of `size` bytes, or `OutOfDeviceMemory` if the device refuses it.
    pub(crate) fn storage_buffer(
        &self,
        label: &str,
        size: u64,
        extra: wgpu::BufferUsages,
    ) -> Result<wgpu::Buffer> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST
                | extra,
            mapped_at_creation: false,
        });
        if pollster::block_on(scope.pop()).is_some() {
            return Err(Error::OutOfDeviceMemory {
                needed: size,
                available: self.memory_budget.unwrap_or(0),
            });
        }
        Ok(buffer)
    }

    /// Copies `size` bytes of `src` from `offset` back to the host.
    pub(crate) fn read_bytes(&self, src: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
        self.read_ranges(&[(src, offset, size)])
    }

    /// Copies several buffer ranges back to the host through one staging buffer, one submit
    /// and one map (ranges are (buffer, offset, size) in bytes).
    pub(crate) fn read_ranges(&self, ranges: &[(&wgpu::Buffer, u64, u64)]) -> Result<Vec<u8>> {
        let total: u64 = ranges.iter().map(|r| r.2).sum();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("qshade readback"),
            size: total.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let mut at = 0;
        for &(src, offset, size) in ranges {
            encoder.copy_buffer_to_buffer(src, offset, &staging, at, size);
            at += size;
        }
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|_| Error::Device("buffer mapping callback never ran".into()))?
            .map_err(|e| Error::Device(format!("mapping a readback buffer failed: {e}")))?;
        let bytes = staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Device(format!("reading a mapped buffer failed: {e}")))?
            .to_vec();
        staging.unmap();
        Ok(bytes[..total as usize].to_vec())
    }

    /// Records, on `encoder`, a copy of `size` bytes of `src` into a new staging buffer; after
    /// the encoder is submitted, [`GpuContext::begin_read`] maps it without waiting.
    pub(crate) fn staged_copy(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        src: &wgpu::Buffer,
        size: u64,
    ) -> wgpu::Buffer {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("qshade readback"),
            size: size.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_buffer_to_buffer(src, 0, &staging, 0, size);
        staging
    }

    /// Starts mapping a staging buffer filled by a submitted copy; nothing waits yet.
    pub(crate) fn begin_read(&self, staging: wgpu::Buffer, size: u64) -> PendingRead {
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        PendingRead { staging, size, rx }
    }

    /// Waits for a pending read and returns its reals.
    pub(crate) fn finish_read(&self, pending: PendingRead) -> Result<Vec<f64>> {
        self.wait()?;
        pending
            .rx
            .recv()
            .map_err(|_| Error::Device("buffer mapping callback never ran".into()))?
            .map_err(|e| Error::Device(format!("mapping a readback buffer failed: {e}")))?;
        let bytes = pending
            .staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Device(format!("reading a mapped buffer failed: {e}")))?
            .to_vec();
        pending.staging.unmap();
        Ok(reals_from_bytes(
            &bytes[..pending.size as usize],
            self.precision,
        ))
    }

    /// Reads `count` reals (f32 or f64 per the precision) from `src` at real index `first`.
    pub(crate) fn read_reals(
        &self,
        src: &wgpu::Buffer,
        first: u64,
        count: u64,
    ) -> Result<Vec<f64>> {
        let bpr = self.precision.bytes_per_amplitude() / 2;
        let bytes = self.read_bytes(src, first * bpr, count * bpr)?;
        Ok(reals_from_bytes(&bytes, self.precision))
    }
}

/// A readback whose copy has been submitted and whose mapping has started.
pub(crate) struct PendingRead {
    staging: wgpu::Buffer,
    size: u64,
    rx: std::sync::mpsc::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
}

fn create_layout(device: &wgpu::Device, precision: Precision) -> wgpu::BindGroupLayout {
    let storage = |binding: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let mut entries = vec![
        wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: true,
                min_binding_size: NonZeroU64::new(op_record_bytes(precision)),
            },
            count: None,
        },
        storage(1, true),
    ];
    for b in 2..=5 {
        entries.push(storage(b, false));
    }
    entries.push(storage(6, false));
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("qshade kernels"),
        entries: &entries,
    })
}

#[cfg(test)]
mod tests {
    use super::{device_error_message, no_adapter_reason};

    #[test]
    fn device_errors_say_what_to_do() {
        let msg = device_error_message("Validation Error: binding too large");
        for needle in [
            "binding too large",
            "report it",
            "CPU backend",
            "QSHADE_ADAPTER",
        ] {
            assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
        }
    }

    #[test]
    fn no_adapter_reason_names_the_backends_and_wgpu_backend() {
        let restricted = no_adapter_reason(wgpu::Backends::GL, Some("gl"));
        for needle in [
            "(GL)",
            "WGPU_BACKEND=\"gl\"",
            "restricted",
            "unset WGPU_BACKEND",
        ] {
            assert!(
                restricted.contains(needle),
                "{restricted:?} lacks {needle:?}"
            );
        }
        let open = no_adapter_reason(wgpu::Backends::VULKAN | wgpu::Backends::GL, None);
        assert!(
            open.contains("(Vulkan, GL)") && !open.contains("WGPU_BACKEND"),
            "{open:?}"
        );
    }
}
