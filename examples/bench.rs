//! The workloads of `benches/WORKLOADS.md` on one of qshade's backends, one JSON line per
//! (backend, workload, size), in the shape of `peers.py`'s lines so they can be set side by side.
//!
//! Run (release!):
//!
//! ```text
//! cargo run --release --example bench -- [--backend cpu|cpu-f32|gpu|gpu-f64[,…]] [--workloads gate1q,gate2q,ansatz,grad,batch]
//!     [--sizes "gate1q=20,22;ansatz=16"] [--budget-s 5]
//! ```
//!
//! `cpu` is the fast CPU backend in f64, `cpu-f32` the same in f32. The CPU backends use
//! rayon's pool: `RAYON_NUM_THREADS=2` fixes their thread count. Every workload is first run at
//! n = 8 and compared with the f64 reference backend (tolerance 2e-4 in single, 1e-9 in double
//! precision); the verdict is in each line's `verify`. For gate1q/gate2q/ansatz the check
//! covers both ways a CPU forward call can go: the batched rows path (what `forward_batch`
//! takes at n = 8) and a fast state run + expectation (what it takes for one row from 12
//! qubits on, i.e. what the timed sizes run).

use qshade::{
    Angle, Backend, Batch, Circuit, Complex64, CpuBackend, GpuBackend, GpuConfig, GradientMethod,
    Observable, Precision, Program, Result,
};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};
use std::collections::HashMap;
use std::f64::consts::PI;
use std::time::Instant;

const NGATES: usize = 100;
const VERIFY_N: usize = 8;
const SEED: u64 = 1234;
const ANSATZ_L: usize = 10;
const GRAD_N: usize = 12;
const GRAD_L: usize = 6;
const BATCH_N: usize = 10;
const BATCH_L: usize = 4;
const BATCH_B: usize = 256;
const VERIFY_B: usize = 16;
const MIN_REP: usize = 3;
/// What the CPU backend's per-gate figures include.
const FUSION_NOTE: &str =
    "cpu: consecutive one-qubit gates on a qubit are fused into one matrix and gates run in \
     cache-sized tiles (several gates per sweep over memory), so the per-gate figure is not one \
     kernel's time";
const MAX_REP: usize = 1000;

// -------------------------------------------------------------------------------------------
// A tiny JSON line writer
// -------------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Json(Vec<(String, String)>);

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:e}")
    } else {
        "null".to_string()
    }
}

impl Json {
    fn str(mut self, k: &str, v: &str) -> Self {
        self.0.push((k.to_string(), quote(v)));
        self
    }
    fn num(mut self, k: &str, v: f64) -> Self {
        self.0.push((k.to_string(), num(v)));
        self
    }
    fn int(mut self, k: &str, v: usize) -> Self {
        self.0.push((k.to_string(), v.to_string()));
        self
    }
    fn boolean(mut self, k: &str, v: bool) -> Self {
        self.0.push((k.to_string(), v.to_string()));
        self
    }
    fn nums(mut self, k: &str, v: &[f64]) -> Self {
        let items: Vec<String> = v.iter().map(|&x| num(x)).collect();
        self.0
            .push((k.to_string(), format!("[{}]", items.join(", "))));
        self
    }
    fn obj(mut self, k: &str, v: Json) -> Self {
        self.0.push((k.to_string(), v.render()));
        self
    }
    fn timing(self, t: &Timing) -> Self {
        let j = self
            .num("median_s", t.median)
            .num("min_s", t.min)
            .num("max_s", t.max)
            .int("repeats", t.repeats)
            .num("warmup_s", t.warmup);
        match t.cpu {
            Some(c) => j.num("cpu_s_per_call", c),
            None => j,
        }
    }
    fn render(&self) -> String {
        let fields: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}: {v}", quote(k)))
            .collect();
        format!("{{{}}}", fields.join(", "))
    }
    fn emit(&self) {
        println!("{}", self.render());
    }
}

// -------------------------------------------------------------------------------------------
// Timing
// -------------------------------------------------------------------------------------------

struct Timing {
    median: f64,
    min: f64,
    max: f64,
    repeats: usize,
    warmup: f64,
    /// Process CPU seconds (all threads) per timed call, where `/proc/self/stat` is readable.
    cpu: Option<f64>,
}

/// Process CPU time (user + system, all threads) in seconds, from `/proc/self/stat` (Linux).
fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// One untimed warm-up call, then as many timed calls as fit `budget_s` (3 to 1000).
fn measure<T>(budget_s: f64, mut f: impl FnMut() -> Result<T>) -> Result<(T, Timing)> {
    let t0 = Instant::now();
    let mut out = f()?;
    let warmup = t0.elapsed().as_secs_f64();
    let repeats = ((budget_s / warmup.max(1e-9)) as usize).clamp(MIN_REP, MAX_REP);
    let mut ts = Vec::with_capacity(repeats);
    let cpu0 = process_cpu_s();
    for _ in 0..repeats {
        let t0 = Instant::now();
        out = f()?;
        ts.push(t0.elapsed().as_secs_f64());
    }
    let cpu = match (cpu0, process_cpu_s()) {
        (Some(a), Some(b)) => Some((b - a) / repeats as f64),
        _ => None,
    };
    ts.sort_by(f64::total_cmp);
    let median = if repeats % 2 == 1 {
        ts[repeats / 2]
    } else {
        0.5 * (ts[repeats / 2 - 1] + ts[repeats / 2])
    };
    Ok((
        out,
        Timing {
            median,
            min: ts[0],
            max: ts[repeats - 1],
            repeats,
            warmup,
            cpu,
        },
    ))
}

// -------------------------------------------------------------------------------------------
// Circuits of WORKLOADS.md
// -------------------------------------------------------------------------------------------

/// 100 gates: k even → H on qubit k mod n, k odd → RX(0.3) on qubit k mod n.
fn gate1q(c: &mut Circuit, n: usize) -> Result<()> {
    for k in 0..NGATES {
        if k % 2 == 0 {
            c.h(k % n)?;
        } else {
            c.rx(k % n, 0.3)?;
        }
    }
    Ok(())
}

/// 100 gates: CNOT(k mod n, (k+1) mod n).
fn gate2q(c: &mut Circuit, n: usize) -> Result<()> {
    for k in 0..NGATES {
        c.cnot(k % n, (k + 1) % n)?;
    }
    Ok(())
}

/// The product-state prefix used to verify gate2q: RY(0.1 + 0.17q), then RZ(0.05 + 0.11q).
fn prefix(c: &mut Circuit, n: usize) -> Result<()> {
    for q in 0..n {
        c.ry(q, 0.1 + 0.17 * q as f64)?;
    }
    for q in 0..n {
        c.rz(q, 0.05 + 0.11 * q as f64)?;
    }
    Ok(())
}

/// L layers: RY(θ[2nl+2q]) and RZ(θ[2nl+2q+1]) on every qubit q, then CNOT(q, q+1 mod n).
fn ansatz(c: &mut Circuit, n: usize, layers: usize) -> Result<()> {
    for l in 0..layers {
        for q in 0..n {
            c.ry(q, Angle::theta(2 * n * l + 2 * q))?;
            c.rz(q, Angle::theta(2 * n * l + 2 * q + 1))?;
        }
        for q in 0..n {
            c.cnot(q, (q + 1) % n)?;
        }
    }
    Ok(())
}

/// RX(x[q]) on every qubit q.
fn encoding(c: &mut Circuit, n: usize) -> Result<()> {
    for q in 0..n {
        c.rx(q, Angle::input(q))?;
    }
    Ok(())
}

fn thetas(count: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(SEED);
    (0..count)
        .map(|_| rng.random_range(0.0..2.0 * PI))
        .collect()
}

fn inputs(count: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(SEED + 1);
    (0..count).map(|_| rng.random_range(0.0..PI)).collect()
}

fn build(n: usize, f: impl Fn(&mut Circuit) -> Result<()>) -> Result<Program> {
    let mut c = Circuit::new(n)?;
    f(&mut c)?;
    Ok(Program::compile(&c))
}

fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

// -------------------------------------------------------------------------------------------
// The bench
// -------------------------------------------------------------------------------------------

struct Bench<'a> {
    label: String,
    backend: &'a dyn Backend,
    budget_s: f64,
    base: Json,
}

impl Bench<'_> {
    fn tol(&self) -> f64 {
        match self.backend.precision() {
            Precision::F32 => 2e-4,
            Precision::F64 => 1e-9,
        }
    }

    fn verdict(&self, err: f64) -> Json {
        Json::default()
            .int("n", VERIFY_N)
            .num("max_abs_err", err)
            .num("tol", self.tol())
            .boolean("ok", err <= self.tol())
    }

    fn line(&self, workload: &str) -> Json {
        self.base.clone().str("workload", workload)
    }

    fn z0(&self, program: &Program, theta: &[f64]) -> Result<f64> {
        Ok(self.backend.forward_batch(
            program,
            &Batch::shared(theta, &[], 1),
            &[Observable::z(0)],
        )?[0])
    }

    /// The final state of the backend's own state path (a fast CPU state, a GPU state read
    /// back).
    fn state(&self, program: &Program) -> Result<Vec<Complex64>> {
        let row = Batch::shared(&[], &[], 1).resolve(program);
        let circuit = program.bind_row(&row)?;
        self.backend
            .run(&circuit, &qshade::Bindings::none())?
            .amplitudes()
    }

    /// ⟨Z0⟩ of a state run (the path a CPU forward call takes for one row of a large state).
    fn z0_state(&self, program: &Program, theta: &[f64]) -> Result<f64> {
        let row = Batch::shared(theta, &[], 1).resolve(program);
        let circuit = program.bind_row(&row)?;
        self.backend
            .run(&circuit, &qshade::Bindings::none())?
            .expectation(&Observable::z(0))
    }

    fn is_cpu(&self) -> bool {
        self.label.starts_with("cpu")
    }

    fn gate(&self, workload: &str, sizes: &[usize]) -> Result<()> {
        let body = |c: &mut Circuit, n: usize| {
            if workload == "gate1q" {
                gate1q(c, n)
            } else {
                gate2q(c, n)
            }
        };
        // Verification at n = 8: state and ⟨Z0⟩ (gate2q behind a product-state prefix).
        let vprog = build(VERIFY_N, |c| {
            if workload == "gate2q" {
                prefix(c, VERIFY_N)?;
            }
            body(c, VERIFY_N)
        })?;
        let row = Batch::shared(&[], &[], 1).resolve(&vprog);
        let oracle = CpuBackend::reference();
        let reference = oracle.run(&vprog.bind_row(&row)?, &qshade::Bindings::none())?;
        let ref_z0 = reference.expectation(&Observable::z(0))?;
        let state = self.state(&vprog)?;
        let state_err = reference
            .amplitudes()?
            .iter()
            .zip(&state)
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        let err = state_err
            .max((self.z0(&vprog, &[])? - ref_z0).abs())
            .max((self.z0_state(&vprog, &[])? - ref_z0).abs());
        let verify = self.verdict(err);
        let bpa = self.backend.precision().bytes_per_amplitude() as f64;
        for &n in sizes {
            let result = (|| -> Result<()> {
                let program = build(n, |c| body(c, n))?;
                let empty = build(n, |_| Ok(()))?;
                let (z, t) = measure(self.budget_s, || self.z0(&program, &[]))?;
                let (_, t0) = measure(self.budget_s, || self.z0(&empty, &[]))?;
                let per_gate = t.median / NGATES as f64;
                let net = (t.median - t0.median).max(1e-12) / NGATES as f64;
                let bytes = 2.0 * (1u64 << n) as f64 * bpa;
                self.line(workload)
                    .int("n", n)
                    .int("gates", NGATES)
                    .timing(&t)
                    .num("per_gate_s", per_gate)
                    .num("eff_bw_GBps", bytes / per_gate / 1e9)
                    .num("empty_circuit_s", t0.median)
                    .num("per_gate_net_s", net)
                    .num("eff_bw_net_GBps", bytes / net / 1e9)
                    .num("result_z0", z)
                    .str("note", if self.is_cpu() { FUSION_NOTE } else { "" })
                    .obj("verify", verify.clone())
                    .emit();
                Ok(())
            })();
            if let Err(e) = result {
                self.line(workload)
                    .int("n", n)
                    .str("error", &e.to_string())
                    .emit();
            }
        }
        Ok(())
    }

    fn ansatz(&self, sizes: &[usize]) -> Result<()> {
        let vprog = build(VERIFY_N, |c| ansatz(c, VERIFY_N, ANSATZ_L))?;
        let th = thetas(vprog.num_params());
        let want = CpuBackend::reference().forward_batch(
            &vprog,
            &Batch::shared(&th, &[], 1),
            &[Observable::z(0)],
        )?[0];
        let verify = self.verdict(
            (self.z0(&vprog, &th)? - want)
                .abs()
                .max((self.z0_state(&vprog, &th)? - want).abs()),
        );
        for &n in sizes {
            let result = (|| -> Result<()> {
                let program = build(n, |c| ansatz(c, n, ANSATZ_L))?;
                let th = thetas(program.num_params());
                let (z, t) = measure(self.budget_s, || self.z0(&program, &th))?;
                self.line("ansatz")
                    .int("n", n)
                    .int("L", ANSATZ_L)
                    .int("params", program.num_params())
                    .int("gates", 3 * n * ANSATZ_L)
                    .timing(&t)
                    .num("result_z0", z)
                    .obj("verify", verify.clone())
                    .emit();
                Ok(())
            })();
            if let Err(e) = result {
                self.line("ansatz")
                    .int("n", n)
                    .str("error", &e.to_string())
                    .emit();
            }
        }
        Ok(())
    }

    /// Gradient of Σ_b ⟨Z0⟩_b (adjoint) and the values.
    fn gradient(
        &self,
        program: &Program,
        theta: &[f64],
        x: &[f64],
        size: usize,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let up = vec![1.0; size];
        let g = self.backend.gradient_batch(
            program,
            &Batch::shared(theta, x, size),
            &[Observable::z(0)],
            &up,
            GradientMethod::Adjoint,
        )?;
        Ok((g.values, g.theta))
    }

    /// The reference's values and θ-gradient of Σ_b ⟨Z0⟩_b.
    fn reference_gradient(
        program: &Program,
        theta: &[f64],
        x: &[f64],
        size: usize,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let g = CpuBackend::reference().gradient_batch(
            program,
            &Batch::shared(theta, x, size),
            &[Observable::z(0)],
            &vec![1.0; size],
            GradientMethod::Adjoint,
        )?;
        Ok((g.values, g.theta))
    }

    fn grad(&self) -> Result<()> {
        let vprog = build(VERIFY_N, |c| ansatz(c, VERIFY_N, GRAD_L))?;
        let th = thetas(vprog.num_params());
        let (_, want) = Self::reference_gradient(&vprog, &th, &[], 1)?;
        let (_, got) = self.gradient(&vprog, &th, &[], 1)?;
        let verify = self.verdict(max_abs(&want, &got));
        let program = build(GRAD_N, |c| ansatz(c, GRAD_N, GRAD_L))?;
        let th = thetas(program.num_params());
        let ((_, g), t) = measure(self.budget_s, || self.gradient(&program, &th, &[], 1))?;
        let (f, tf) = measure(self.budget_s, || self.z0(&program, &th))?;
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        self.line("grad")
            .int("n", GRAD_N)
            .int("L", GRAD_L)
            .int("params", program.num_params())
            .str("method", "adjoint (gradient_batch, B = 1)")
            .timing(&t)
            .num("forward_s", tf.median)
            .num("grad_over_forward", t.median / tf.median)
            .num("result_z0", f)
            .num("result_grad_norm", norm)
            .nums("result_grad_head", &g[..4.min(g.len())])
            .obj("verify", verify)
            .emit();
        Ok(())
    }

    fn batch(&self) -> Result<()> {
        let batch_program =
            |n: usize| build(n, |c| encoding(c, n).and_then(|_| ansatz(c, n, BATCH_L)));
        let obs = [Observable::z(0)];
        // Verification: n = 8, 16 samples; forward values here, the summed-loss gradient below.
        let vprog = batch_program(VERIFY_N)?;
        let (thv, xv) = (thetas(vprog.num_params()), inputs(VERIFY_B * VERIFY_N));
        let (wv, wg) = Self::reference_gradient(&vprog, &thv, &xv, VERIFY_B)?;
        let fv = self
            .backend
            .forward_batch(&vprog, &Batch::shared(&thv, &xv, VERIFY_B), &obs)?;
        let forward_err = max_abs(&wv, &fv);

        let (n, size) = (BATCH_N, BATCH_B);
        let program = batch_program(n)?;
        let (th, x) = (thetas(program.num_params()), inputs(size * n));
        let batch = Batch::shared(&th, &x, size);
        let line = |mode: &str| {
            self.line("batch")
                .str("mode", mode)
                .int("n", n)
                .int("L", BATCH_L)
                .int("params", program.num_params())
                .int("batch", size)
                .str(
                    "how",
                    "forward_batch / gradient_batch (adjoint) over the B rows",
                )
        };
        let (out, t) = measure(self.budget_s, || {
            self.backend.forward_batch(&program, &batch, &obs)
        })?;
        line("forward")
            .timing(&t)
            .num("per_sample_s", t.median / size as f64)
            .num("result_sum_z0", out.iter().sum())
            .obj("verify", self.verdict(forward_err).int("B", VERIFY_B))
            .emit();
        let result = (|| -> Result<()> {
            let (gv, gg) = self.gradient(&vprog, &thv, &xv, VERIFY_B)?;
            let err = forward_err.max(max_abs(&wv, &gv)).max(max_abs(&wg, &gg));
            let ((values, g), t) =
                measure(self.budget_s, || self.gradient(&program, &th, &x, size))?;
            line("forward+grad")
                .str("method", "adjoint")
                .timing(&t)
                .num("per_sample_s", t.median / size as f64)
                .num("result_loss", values.iter().sum())
                .num(
                    "result_grad_norm",
                    g.iter().map(|v| v * v).sum::<f64>().sqrt(),
                )
                .obj("verify", self.verdict(err).int("B", VERIFY_B))
                .emit();
            Ok(())
        })();
        if let Err(e) = result {
            line("forward+grad").str("error", &e.to_string()).emit();
        }
        Ok(())
    }
}

// -------------------------------------------------------------------------------------------
// Command line
// -------------------------------------------------------------------------------------------

struct Args {
    backends: Vec<String>,
    workloads: Vec<String>,
    sizes: HashMap<String, Vec<usize>>,
    budget_s: f64,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench [--backend cpu|cpu-f32|gpu|gpu-f64[,…]] [--workloads gate1q,gate2q,ansatz,grad,batch] \
         [--sizes \"gate1q=20,22;ansatz=16\"] [--budget-s 5]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        backends: vec!["cpu".into()],
        workloads: ["gate1q", "gate2q", "ansatz", "grad", "batch"]
            .map(String::from)
            .to_vec(),
        sizes: HashMap::new(),
        budget_s: 5.0,
    };
    let mut it = std::env::args().skip(1);
    let list = |s: String| {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--backend" | "--backends" => args.backends = list(value()),
            "--workloads" => args.workloads = list(value()),
            "--sizes" => {
                for part in value().split(';').filter(|p| !p.trim().is_empty()) {
                    let (k, v) = part.split_once('=').unwrap_or_else(|| usage());
                    let ns = v
                        .split(',')
                        .map(|x| x.trim().parse().unwrap_or_else(|_| usage()))
                        .collect();
                    args.sizes.insert(k.trim().to_string(), ns);
                }
            }
            "--budget-s" => args.budget_s = value().parse().unwrap_or_else(|_| usage()),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    args
}

fn main() {
    let args = parse_args();
    let default_sizes: HashMap<&str, Vec<usize>> = [
        ("gate1q", vec![20, 22, 24]),
        ("gate2q", vec![20, 22, 24]),
        ("ansatz", vec![16, 20]),
    ]
    .into();
    let sizes = |w: &str| {
        args.sizes
            .get(w)
            .cloned()
            .unwrap_or_else(|| default_sizes.get(w).cloned().unwrap_or_default())
    };
    for label in &args.backends {
        let backend: Box<dyn Backend> = match label.as_str() {
            "cpu" => Box::new(CpuBackend::new()),
            "cpu-f32" => Box::new(CpuBackend::with_precision(Precision::F32)),
            "gpu" | "gpu-f64" => {
                let precision = if label == "gpu" {
                    Precision::F32
                } else {
                    Precision::F64
                };
                match GpuBackend::with_config(GpuConfig::default().precision(precision)) {
                    Ok(b) => Box::new(b),
                    Err(e) => {
                        Json::default()
                            .str("sim", "qshade")
                            .str("backend", label)
                            .str("error", &e.to_string())
                            .emit();
                        continue;
                    }
                }
            }
            other => {
                Json::default()
                    .str("sim", "qshade")
                    .str("backend", other)
                    .str("error", "unknown backend: use cpu, cpu-f32, gpu or gpu-f64")
                    .emit();
                continue;
            }
        };
        let precision = backend.precision();
        let threads = if label.starts_with("cpu") {
            rayon::current_num_threads()
        } else {
            0
        };
        let base = Json::default()
            .str("sim", "qshade")
            .str("backend", label)
            .str("device", &backend.name())
            .str(
                "precision",
                if precision == Precision::F32 {
                    "single"
                } else {
                    "double"
                },
            )
            .int("bytes_per_amp", precision.bytes_per_amplitude() as usize)
            .int("threads", threads)
            .str("version", env!("CARGO_PKG_VERSION"));
        let bench = Bench {
            label: label.clone(),
            backend: backend.as_ref(),
            budget_s: args.budget_s,
            base,
        };
        for w in &args.workloads {
            let result = match w.as_str() {
                "gate1q" | "gate2q" => bench.gate(w, &sizes(w)),
                "ansatz" => bench.ansatz(&sizes(w)),
                "grad" => bench.grad(),
                "batch" => bench.batch(),
                other => Err(qshade::Error::InvalidArgument(format!(
                    "unknown workload {other}"
                ))),
            };
            if let Err(e) = result {
                bench.line(w).str("error", &e.to_string()).emit();
            }
        }
    }
}
