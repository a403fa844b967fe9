//! Does qshade work on this GPU, and how fast? One program that names the adapter and its
//! limits, cross-checks every GPU kernel path against the f64 CPU reference on seeded random
//! circuits — every gate kind of the gate model, controlled and not, on low, high and
//! chunk-index qubits, short and long (6,000 gates) — in f32 and f64 (where the adapter has
//! it) with one dispatch per gate, workgroup tiles, dense fusion, register blocks and chunked
//! states, then batched values and adjoint gradients, and reports pass/fail plus the
//! pass/copy bandwidth ratio of a one-qubit gate pass.
//!
//! `cargo run --release --example selfcheck -- [--quick] [--bandwidth-qubits 22]`
//!
//! Build it once (`cargo build --release --example selfcheck`) and the binary
//! `target/release/examples/selfcheck` can be carried to another machine of the same kind and
//! run there alone. Exit status 0 when every check passes, 1 otherwise; the last line is a
//! JSON summary.

use qshade::{
    Angle, Backend, Batch, Bindings, Circuit, CpuBackend, Error, Gate, GateKind, GpuBackend,
    GpuConfig, GradientMethod, Observable, Precision, Program, QuantumState, Result,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// One GPU configuration: a label and how to build it.
struct Config {
    label: String,
    config: GpuConfig,
    /// Chunked states have no adjoint sweep (gradients go through parameter shift).
    chunked: bool,
}

fn configs(precision: Precision) -> Vec<Config> {
    let p = format!("{precision:?}").to_lowercase();
    let base = || GpuConfig::default().precision(precision);
    let plain = || {
        base()
            .tile_fusion(false)
            .fusion_qubits(0)
            .register_blocks(Some(0))
    };
    let mk = |name: &str, config: GpuConfig, chunked| Config {
        label: format!("{p}-{name}"),
        config,
        chunked,
    };
    vec![
        mk("per-gate", plain(), false),
        mk(
            "tiles",
            base().fusion_qubits(0).register_blocks(Some(0)),
            false,
        ),
        mk("fused4", plain().fusion_qubits(4), false),
        mk("blocks5", plain().register_blocks(Some(5)), false),
        mk("chunk3", plain().max_chunk_qubits(Some(3)), true),
        mk(
            "chunk3-blocks3",
            plain().max_chunk_qubits(Some(3)).register_blocks(Some(3)),
            true,
        ),
    ]
}

/// A random gate of the gate model on `n` qubits: any kind, targets anywhere, up to two
/// controls, angles affine in θ_0..θ_3 and x_0.
fn random_gate(rng: &mut StdRng, n: usize) -> Gate {
    let kinds = GateKind::catalogue(|| match rng.random_range(0..3) {
        0 => Angle::theta(rng.random_range(0..4))
            .times(rng.random_range(-1.5..1.5))
            .plus(rng.random_range(-1.0..1.0)),
        1 => Angle::input(0).times(rng.random_range(-1.0..1.0)),
        _ => Angle::Const(rng.random_range(-3.0..3.0)),
    });
    let kind = kinds[rng.random_range(0..kinds.len())].clone();
    let mut qubits: Vec<usize> = (0..n).collect();
    for i in 0..n {
        qubits.swap(i, rng.random_range(i..n));
    }
    let t = kind.num_targets();
    let c = rng.random_range(0..=2usize).min(n - t);
    Gate::controlled(kind, &qubits[t..t + c], &qubits[..t])
}

fn random_circuit(seed: u64, n: usize, gates: usize) -> Circuit {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut c = Circuit::new(n).expect("n ≥ 1");
    for _ in 0..gates {
        c.add(random_gate(&mut rng, n))
            .expect("a valid random gate");
    }
    c.declare_params(4).declare_inputs(1);
    c
}

fn observables() -> Vec<Observable> {
    vec![
        Observable::parse("Z0 Z1 + 0.5 X2 - 0.25 Y0 Y3").expect("valid"),
        Observable::parse("0.7 X1 Z4 + 0.3 Z5").expect("valid"),
    ]
}

/// Tolerance of an amplitude after `depth` gates: each gate adds a rounding error of a few
/// units of the precision (u = 6e-8 in f32, 1.1e-16 in f64) in a random direction, so the
/// error grows like √depth; the bound is about 100× that growth, far below what a wrong
/// kernel gives (a wrong phase or a lost block is O(amplitude) ≈ 2^(−n/2)).
fn tolerance(precision: Precision, depth: usize) -> f64 {
    let per_sqrt_gate = match precision {
        Precision::F64 => 1e-12,
        Precision::F32 => 1e-5,
    };
    per_sqrt_gate * (depth as f64 + 1.0).sqrt()
}

/// The largest |Δ| between two vectors of equal length.
fn max_diff<T: Copy>(a: &[T], b: &[T], d: impl Fn(T, T) -> f64) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter().zip(b).map(|(x, y)| d(*x, *y)).fold(0.0, f64::max)
}

/// Checks one configuration; returns the failures.
fn check(gpu: &GpuBackend, cfg: &Config, quick: bool) -> Result<Vec<String>> {
    let reference = CpuBackend::reference();
    let precision = gpu.precision();
    let theta = [0.3, -1.1, 2.2, 0.7];
    let x = [0.9];
    let mut failures = Vec::new();
    let mut cases = vec![(1, 6, 200), (2, 9, 300)];
    if !quick {
        cases.push((3, 10, 6000));
    }
    for (seed, n, depth) in cases {
        let c = random_circuit(seed, n, depth);
        let bindings = Bindings::new(&theta, &x);
        let want = reference.run(&c, &bindings)?;
        let got = gpu.run(&c, &bindings)?;
        let d = max_diff(&got.amplitudes()?, &want.amplitudes()?, |a, b| {
            (a - b).norm()
        });
        if d > tolerance(precision, depth) {
            failures.push(format!(
                "{}: state n={n} {depth} gates off by {d:.2e}",
                cfg.label
            ));
        }
        let obs = observables();
        let dv = max_diff(
            &got.expectations(&obs)?,
            &want.expectations(&obs)?,
            |a, b| (a - b).abs(),
        );
        if dv > 3.0 * tolerance(precision, depth) {
            failures.push(format!(
                "{}: ⟨O⟩ n={n} {depth} gates off by {dv:.2e}",
                cfg.label
            ));
        }
    }
    // Batched values and gradients (adjoint; parameter shift on chunked states).
    let c = random_circuit(4, 7, 80);
    let program = Program::compile(&c);
    let inputs = [0.1, 0.8, -0.6, 1.4];
    let batch = Batch::shared(&theta, &inputs, inputs.len());
    let obs = observables();
    let upstream: Vec<f64> = (0..inputs.len() * obs.len())
        .map(|k| 0.4 - 0.1 * k as f64)
        .collect();
    let method = if cfg.chunked {
        GradientMethod::ParameterShift
    } else {
        GradientMethod::Adjoint
    };
    let want = reference.gradient_batch(&program, &batch, &obs, &upstream, method)?;
    let got = gpu.gradient_batch(&program, &batch, &obs, &upstream, method)?;
    let tol = match precision {
        Precision::F64 => 1e-8,
        Precision::F32 => 1e-3,
    };
    let dg = max_diff(&got.theta, &want.theta, |a, b| (a - b).abs())
        .max(max_diff(&got.inputs, &want.inputs, |a, b| (a - b).abs()))
        .max(max_diff(&got.values, &want.values, |a, b| (a - b).abs()));
    if dg > tol {
        failures.push(format!(
            "{}: batch values/gradients off by {dg:.2e}",
            cfg.label
        ));
    }
    Ok(failures)
}

/// Seconds per one-qubit gate pass and per copy of an `n`-qubit state (best of 5 rounds,
/// alternating, so a noisy machine slows both alike) on `gpu`, which should run one dispatch
/// per gate.
fn bandwidth(gpu: &GpuBackend, n: usize) -> Result<(f64, f64, u64)> {
    const GATES: usize = 10;
    let probe = gpu.copy_probe(n)?;
    let mut state = gpu.zero_gpu_state(n)?;
    let mut c = Circuit::new(n)?;
    for k in 0..GATES {
        c.h(n - 1 - k % 3)?;
    }
    let (mut pass, mut copy) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let t = Instant::now();
        probe.run(GATES)?;
        copy = copy.min(t.elapsed().as_secs_f64() / GATES as f64);
        let t = Instant::now();
        state.apply(&c, &Bindings::none())?;
        state.wait()?;
        pass = pass.min(t.elapsed().as_secs_f64() / GATES as f64);
    }
    Ok((pass, copy, probe.bytes_moved))
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let bw_qubits: usize = arg("--bandwidth-qubits")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 18 } else { 22 });
    let probe = match GpuBackend::new() {
        Ok(g) => g,
        Err(e) => {
            println!("FAIL: no GPU backend: {e}");
            println!(
                "{{\"pass\":false,\"adapter\":null,\"error\":{:?}}}",
                e.to_string()
            );
            std::process::exit(1);
        }
    };
    let info = probe.adapter_info();
    println!(
        "adapter: {} ({:?}, {:?})",
        info.name, info.backend, info.device_type
    );
    println!("driver: {} {}", info.driver, info.driver_info);
    if probe.is_software() {
        println!("note: a software rasterizer: correct but slower than qshade's CPU backend");
    }
    println!(
        "limits: one state binding up to 2^{} amplitudes (f32), memory budget {}",
        probe.max_chunk_qubits(),
        probe
            .memory_budget()
            .map_or("unknown".to_string(), |b| format!(
                "{:.1} GiB",
                b as f64 / (1u64 << 30) as f64
            ))
    );
    let mut failures: Vec<String> = Vec::new();
    let mut checked = Vec::new();
    for precision in [Precision::F32, Precision::F64] {
        for cfg in configs(precision) {
            let gpu = match GpuBackend::with_config(cfg.config.clone()) {
                Ok(g) => g,
                Err(e @ Error::MissingFeature { .. }) => {
                    println!("skip {}: {e}", cfg.label);
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{}: backend: {e}", cfg.label));
                    continue;
                }
            };
            let t = Instant::now();
            let result = check(&gpu, &cfg, quick);
            let secs = t.elapsed().as_secs_f64();
            match result {
                Ok(f) if f.is_empty() => println!("pass {:<18} ({secs:.1} s)", cfg.label),
                Ok(f) => {
                    println!("FAIL {:<18} ({} checks)", cfg.label, f.len());
                    failures.extend(f);
                }
                Err(e) => {
                    println!("FAIL {:<18} error: {e}", cfg.label);
                    failures.push(format!("{}: {e}", cfg.label));
                }
            }
            checked.push(cfg.label);
        }
    }
    // One dispatch per gate, so the timed pass is one pass over the state per gate.
    let plain = GpuConfig::default()
        .tile_fusion(false)
        .fusion_qubits(0)
        .register_blocks(Some(0));
    let ratio = match GpuBackend::with_config(plain).and_then(|g| bandwidth(&g, bw_qubits)) {
        Ok((pass, copy, bytes)) => {
            let gib = |s: f64| bytes as f64 / s / (1u64 << 30) as f64;
            println!(
                "bandwidth n={bw_qubits}: copy {:.1} GiB/s, one-qubit pass {:.1} GiB/s = {:.2} of copy",
                gib(copy),
                gib(pass),
                copy / pass
            );
            Some(copy / pass)
        }
        Err(e) => {
            println!("bandwidth: not measured ({e})");
            None
        }
    };
    for f in &failures {
        println!("  {f}");
    }
    let pass = failures.is_empty() && !checked.is_empty();
    println!("{}", if pass { "PASS" } else { "FAIL" });
    println!(
        "{{\"pass\":{pass},\"adapter\":{:?},\"configurations\":{checked:?},\"failures\":{},\"pass_over_copy\":{}}}",
        info.name,
        failures.len(),
        ratio.map_or("null".to_string(), |r| format!("{r:.3}"))
    );
    if !pass {
        std::process::exit(1);
    }
}
