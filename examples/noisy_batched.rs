//! Noisy trajectories on the batch dimension (issue 16), one JSON line per figure: T
//! trajectories of the depolarizing-only variant of `noise_bench`'s circuit, run as T rows of
//! one batched call on the fast CPU backend (f64, f32) and, with `--gpu`, on the GPU (f32),
//! beside the f64 CPU trajectory loop (`trajectory_expectations`) on the same circuit. Each
//! line gives the median wall time of 3 runs (one more line: the same rows without channels,
//! the noise-free cost of the batch), ⟨Z0⟩ with its standard error, and, up to 10
//! qubits, the exact value from the density matrix.
//!
//! The circuit: 20 layers of RY(θ) on every qubit, then CNOTs on (0,1), (2,3), … in even layers
//! and (1,2), (3,4), … in odd ones; after every RY a one-qubit depolarizing channel
//! (p = 0.001), after every CNOT a two-qubit depolarizing channel (p = 0.01).
//!
//! Run: `cargo run --release --example noisy_batched -- [qubits=12] [trajectories=1000] [--gpu]`

use qshade::noise::{
    trajectory_expectations, BatchedTrajectories, Channel, DensityMatrix, Estimate, NoiseModel,
    NoisyCircuit, TrajectoryConfig,
};
use qshade::{
    Backend, Batch, BatchConfig, Bindings, Circuit, CpuBackend, Observable, Precision, Result,
};
use std::time::Instant;

const DEPTH: usize = 20;

/// The noisy circuit, and the plain one without channels.
fn circuit(n: usize) -> Result<(NoisyCircuit, Circuit)> {
    let mut c = Circuit::new(n)?;
    for layer in 0..DEPTH {
        for q in 0..n {
            c.ry(q, 0.1 + 0.37 * ((layer * n + q) as f64).sin())?;
        }
        let mut a = layer % 2;
        while a + 1 < n {
            c.cnot(a, a + 1)?;
            a += 2;
        }
    }
    let mut model = NoiseModel::new();
    model
        .add_all_qubit_quantum_error(Channel::depolarizing(0.001)?, &["ry"])?
        .add_all_qubit_quantum_error(Channel::depolarizing2(0.01)?, &["cx"])?;
    Ok((model.apply(&c)?, c))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of 3 runs of `f` and its last estimate.
fn timed(mut f: impl FnMut(u64) -> Result<Estimate>) -> Result<(f64, Estimate)> {
    let mut times = Vec::new();
    let mut last = None;
    for rep in 0..3 {
        let start = Instant::now();
        last = Some(f(rep)?);
        times.push(start.elapsed().as_secs_f64());
    }
    let e = last.unwrap_or(Estimate {
        mean: f64::NAN,
        std_error: f64::NAN,
    });
    Ok((median(times), e))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let gpu = args.iter().any(|a| a == "--gpu");
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let n = numbers.first().copied().unwrap_or(12);
    let t = numbers.get(1).copied().unwrap_or(1000);
    let threads = rayon::current_num_threads();
    let z0 = [Observable::z(0)];
    let (noisy, plain) = circuit(n)?;
    let exact = if n <= 10 {
        let z = DensityMatrix::run(&noisy, &Bindings::none())?.expectation(&z0[0])?;
        format!("{z:.10}")
    } else {
        "null".into()
    };
    let channels = noisy.num_channels();
    let print_with = |engine: &str, device: &str, channels: usize, (secs, e): (f64, Estimate)| {
        println!(
            "{{\"sim\":\"qshade\",\"workload\":\"noise_trajectories_depolarizing\",\"engine\":\"{engine}\",\"device\":\"{device}\",\"n\":{n},\"depth\":{DEPTH},\"trajectories\":{t},\"channels\":{},\"threads\":{threads},\"median_s\":{secs:.6},\"z0\":{:.6},\"z0_stderr\":{:.6},\"z0_exact\":{exact}}}",
            channels,
            e.mean,
            e.std_error
        );
    };

    let print = |engine: &str, device: &str, figure| print_with(engine, device, channels, figure);

    let loop_figure = timed(|seed| {
        let config = TrajectoryConfig::default().trajectories(t).seed(seed);
        Ok(trajectory_expectations(&noisy, &Bindings::none(), &z0, &config)?[0])
    })?;
    print("cpu-loop-f64", "cpu", loop_figure);

    let compiled = BatchedTrajectories::new(&noisy)?;
    let batched = |backend: &dyn Backend| {
        timed(|seed| {
            let config = TrajectoryConfig::default().trajectories(t).seed(seed);
            let batch = Batch::shared(&[], &[], 1);
            Ok(compiled.expectations(backend, &batch, &z0, &config, &BatchConfig::default())?[0])
        })
    };
    for precision in [Precision::F64, Precision::F32] {
        let backend = CpuBackend::with_precision(precision);
        let label = format!("batched-{}", backend.name());
        print(&label, "cpu", batched(&backend)?);
    }
    // The same T rows without channels: what the noise costs on top of the batched circuit.
    let noise_free = BatchedTrajectories::new(&NoisyCircuit::from_circuit(&plain))?;
    let backend = CpuBackend::with_precision(Precision::F64);
    let figure = timed(|seed| {
        let config = TrajectoryConfig::default().trajectories(t).seed(seed);
        let batch = Batch::shared(&[], &[], 1);
        Ok(noise_free.expectations(&backend, &batch, &z0, &config, &BatchConfig::default())?[0])
    })?;
    print_with("batched-noise-free-rows-cpu (f64)", "cpu", 0, figure);
    #[cfg(feature = "gpu")]
    if gpu {
        let backend = qshade::GpuBackend::new()?;
        // The first call compiles the program's pipelines: warm up once, outside the timing.
        let config = TrajectoryConfig::default().trajectories(t);
        compiled.expectations(
            &backend,
            &Batch::shared(&[], &[], 1),
            &z0,
            &config,
            &BatchConfig::default(),
        )?;
        let label = format!("batched-gpu-{:?}", backend.precision()).to_lowercase();
        print(
            &label,
            &backend.name().replace('"', "'"),
            batched(&backend)?,
        );
    }
    #[cfg(not(feature = "gpu"))]
    if gpu {
        eprintln!("built without the gpu feature: no GPU figure");
    }
    Ok(())
}
