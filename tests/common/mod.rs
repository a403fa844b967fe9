//! Shared helpers for the integration tests: the backends under test, tolerances, state
//! comparison, and seeded random states, unitaries and circuits.
//!
//! Every check in the suite is written once against `&dyn Backend` and run on every backend
//! that [`all_backends`] returns: the f64 CPU reference first, then the fast CPU backend in
//! four configurations (see [`cpu_configs`]), then the GPU backend in its configurations
//! (f32/f64, unchunked/chunked at 2^3 amplitudes, …). No adapter fails the GPU tests unless
//! `QSHADE_ALLOW_NO_GPU=1` (see `gpu.rs`).
#![allow(dead_code)]

use qshade::CpuConfig;
use qshade::{Angle, Backend, Circuit, Complex64, CpuBackend, Gate, GateKind, Precision};
use rng::Rng;
use std::f64::consts::PI;

pub mod emulated;
pub mod rng;

/// A backend with the label that failure messages use.
pub type NamedBackend = (String, Box<dyn Backend>);

pub mod gpu;
pub use gpu::gpu_backends;

/// The f64 CPU reference backend, the oracle of every comparison.
pub fn cpu() -> Box<dyn Backend> {
    Box::new(CpuBackend::reference())
}

/// A fast CPU configuration: the defaults except for precision, tile qubits, minimum run
/// qubits, fusion qubits, and the qubit count from which tiles run in parallel.
fn fast(
    precision: Precision,
    tile_qubits: Option<usize>,
    min_run_qubits: usize,
    fusion_qubits: usize,
    parallel_qubits: usize,
) -> CpuConfig {
    CpuConfig::default()
        .precision(precision)
        .tile_qubits(tile_qubits)
        .min_run_qubits(min_run_qubits)
        .fusion_qubits(fusion_qubits)
        .parallel_qubits(parallel_qubits)
}

/// The fast CPU configurations every check runs in, with their labels. The defaults first;
/// then tiles of 2^5 amplitudes made of runs of 8, so that from 6 qubits on states are split
/// into copied tiles (controls outside a tile, folded permutations) and run in parallel; then
/// fusion into dense blocks of up to 3 qubits on tiles of 2^6.
pub fn cpu_configs() -> [(&'static str, CpuConfig); 4] {
    [
        ("cpu-fast-f64", fast(Precision::F64, None, 4, 1, 14)),
        ("cpu-fast-f32", fast(Precision::F32, None, 4, 1, 14)),
        ("cpu-fast-f64-tile5", fast(Precision::F64, Some(5), 3, 1, 0)),
        (
            "cpu-fast-f32-fused3",
            fast(Precision::F32, Some(6), 3, 3, 0),
        ),
    ]
}

/// The CPU reference, the fast CPU configurations ([`cpu_configs`]), then every GPU
/// configuration (see [`gpu::CONFIGS`]).
///
/// `QSHADE_TEST_BACKENDS=<labels, comma-separated>` restricts the list: exact labels
/// (`cpu-reference`, `cpu-fast-f64`, `cpu-fast-f32`, …, `gpu-f32`, `gpu-f64`, `gpu-f32-chunk3`,
/// `gpu-f64-chunk3`, …) or `cpu` / `gpu` for all of a kind; `cpu` alone opens no GPU. The
/// restriction is printed to stderr (shown with `-- --nocapture`). Leave it unset in CI.
pub fn all_backends() -> Vec<NamedBackend> {
    let mut backends: Vec<NamedBackend> = Vec::new();
    if backend_selected("cpu-reference") {
        backends.push(("cpu-reference".to_string(), cpu()));
    }
    for (label, config) in cpu_configs() {
        if backend_selected(label) {
            backends.push((label.to_string(), Box::new(CpuBackend::with_config(config))));
        }
    }
    if gpu::CONFIGS
        .iter()
        .any(|c| backend_selected(&gpu::label(c.label)))
    {
        backends.extend(
            gpu_backends()
                .into_iter()
                .filter(|(label, _)| backend_selected(label)),
        );
    }
    backends
}

/// The backends of [`all_backends`] whose labels are in `labels`, in [`all_backends`]' order:
/// for checks too slow to run in every configuration on a software GPU (lavapipe). A caller
/// documents why its subset suffices. GPU labels follow the no-adapter rule of `gpu.rs`.
pub fn backends_labelled(labels: &[&str]) -> Vec<NamedBackend> {
    all_backends()
        .into_iter()
        .filter(|(label, _)| labels.contains(&label.as_str()))
        .collect()
}

/// [`all_backends`] without the chunked GPU configurations (labels with `chunk`): adjoint
/// gradients on the GPU need the whole state in one storage binding, so a state larger than
/// one forced chunk is `Error::Unsupported` there (parameter shift still works).
pub fn adjoint_backends() -> Vec<NamedBackend> {
    all_backends()
        .into_iter()
        .filter(|(label, _)| !label.contains("chunk"))
        .collect()
}

/// `f64_tol` for a backend that computes in f64, `f32_tol` for one that computes in f32.
pub fn precision_tolerance(backend: &dyn Backend, f64_tol: f64, f32_tol: f64) -> f64 {
    match backend.precision() {
        Precision::F64 => f64_tol,
        Precision::F32 => f32_tol,
    }
}

/// Whether `QSHADE_TEST_BACKENDS` (if set) selects the backend labelled `label`.
pub fn backend_selected(label: &str) -> bool {
    static FILTER: std::sync::OnceLock<Option<Vec<String>>> = std::sync::OnceLock::new();
    let filter = FILTER.get_or_init(|| {
        let wanted = std::env::var("QSHADE_TEST_BACKENDS").ok()?;
        let parts: Vec<String> = wanted
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        eprintln!("QSHADE_TEST_BACKENDS={wanted}: testing only the backends {parts:?}");
        Some(parts)
    });
    let kind = label.split('-').next().unwrap_or(label);
    filter
        .as_ref()
        .is_none_or(|parts| parts.iter().any(|p| p == label || p == kind))
}

/// Absolute (and relative) per-amplitude tolerance after `depth` gate applications.
///
/// Why this bound: a backend's state after k gates is ψ_k + e_k, where e_k is the accumulated
/// rounding error. Each gate is unitary, so it carries the earlier error forward without
/// growing its 2-norm, and adds a fresh rounding error δ_k: ‖e_depth‖₂ ≤ Σ_k ‖δ_k‖₂. A dense
/// 2×2 or 4×4 complex mat-vec per amplitude group rounds each output to within about
/// (d + 2)·u·‖ψ‖ with d ≤ 4 terms, plus the rounding of the matrix entries themselves (computed in
/// f64 and stored at the backend's precision, another u per entry), so ‖δ_k‖₂ ≲ 8u with
/// u = 2⁻²⁴ ≈ 6e-8 for f32 (≈ 5e-7) and u = 2⁻⁵³ ≈ 1.1e-16 for f64. Loading the input state adds
/// one more rounding (the "+1"). Every amplitude's error is at most the 2-norm of the error
/// vector, so |Δa| ≤ (depth + 1)·8u. The tolerances below are that bound with margin:
/// f32 → 2e-6·(depth + 1) (4× the estimate, linear in depth although errors of independent
/// roundings grow more like √depth in practice); f64 → 1e-10·(depth + 1) (orders of magnitude
/// above the estimate: an f64 GPU result that is not within it is wrong, not imprecise).
pub fn tolerance(precision: Precision, depth: usize) -> f64 {
    let per_gate = match precision {
        Precision::F64 => 1e-10,
        Precision::F32 => 2e-6,
    };
    per_gate * (depth as f64 + 1.0)
}

/// Tolerance of an expectation value ⟨ψ|O|ψ⟩ with O = Σ c_k P_k on `n` qubits, when the state
/// carries the error of [`tolerance`]`(precision, depth)`.
///
/// |⟨ψ+e|P|ψ+e⟩ − ⟨ψ|P|ψ⟩| ≤ 2‖e‖ + ‖e‖² per Pauli string (‖P‖ = 1), so the state error
/// contributes 2.5·tol per unit of Σ|c_k|. The reduction over 2ⁿ terms adds a summation error of
/// at most about n·u·Σ|terms| for a tree reduction, bounded here by `tolerance(precision, n)`.
pub fn expectation_tolerance(precision: Precision, n: usize, depth: usize, coeff_l1: f64) -> f64 {
    coeff_l1.max(1.0) * (2.5 * tolerance(precision, depth) + tolerance(precision, n))
}

/// The first amplitude where `actual` differs from `expected` by more than
/// `tol + tol·|expected|`, described with `context`; `None` when all agree.
pub fn state_mismatch(
    expected: &[Complex64],
    actual: &[Complex64],
    tol: f64,
    context: &str,
) -> Option<String> {
    if expected.len() != actual.len() {
        return Some(format!(
            "{context}: expected {} amplitudes, got {}",
            expected.len(),
            actual.len()
        ));
    }
    let mut first = None;
    let mut failing = 0usize;
    let mut worst = 0.0f64;
    for (k, (e, a)) in expected.iter().zip(actual).enumerate() {
        let diff = (e - a).norm();
        if diff.is_nan() || diff > tol + tol * e.norm() {
            failing += 1;
            worst = if diff.is_nan() {
                f64::NAN
            } else {
                worst.max(diff)
            };
            first.get_or_insert((k, *e, *a, diff));
        }
    }
    first.map(|(k, e, a, diff)| {
        format!(
            "{context}: amplitude {k} (binary {k:b}) expected {e:.9}, got {a:.9}, |diff| = {diff:.3e} > tol {tol:.1e} \
             ({failing} of {} amplitudes out of tolerance, worst |diff| = {worst:.3e})",
            expected.len()
        )
    })
}

/// Panics with [`state_mismatch`]'s report unless every amplitude agrees within
/// `tol + tol·|expected|`. `context` should name the seed, the gate or circuit, and the backend.
pub fn assert_state_close(expected: &[Complex64], actual: &[Complex64], tol: f64, context: &str) {
    if let Some(report) = state_mismatch(expected, actual, tol, context) {
        panic!("{report}");
    }
}

/// Panics unless |expected − actual| ≤ tol (NaN fails).
pub fn assert_close(expected: f64, actual: f64, tol: f64, context: &str) {
    let diff = (expected - actual).abs();
    assert!(
        diff <= tol,
        "{context}: expected {expected:.12}, got {actual:.12}, |diff| = {diff:.3e} > tol {tol:.1e}"
    );
}

/// Collects failure reports and panics once at the end with all of them (up to a limit), so a
/// sweep over many gates shows the pattern of what fails instead of only the first case.
#[derive(Default)]
pub struct Failures {
    reports: Vec<String>,
    checked: usize,
}

impl Failures {
    /// Records one check: `report` is `None` when it passed.
    pub fn check(&mut self, report: Option<String>) {
        self.checked += 1;
        if let Some(r) = report {
            self.reports.push(r);
        }
    }

    /// Number of failed checks.
    pub fn failed(&self) -> usize {
        self.reports.len()
    }

    /// Number of checks recorded.
    pub fn checked(&self) -> usize {
        self.checked
    }

    /// Panics listing the failures, if any.
    pub fn finish(self, what: &str) {
        if self.reports.is_empty() {
            return;
        }
        const SHOWN: usize = 25;
        let mut msg = format!(
            "{what}: {} of {} checks failed",
            self.reports.len(),
            self.checked
        );
        for r in self.reports.iter().take(SHOWN) {
            msg.push_str("\n  ");
            msg.push_str(r);
        }
        if self.reports.len() > SHOWN {
            msg.push_str(&format!("\n  … and {} more", self.reports.len() - SHOWN));
        }
        panic!("{msg}");
    }
}

fn c(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

/// A random normalised state on `n` qubits (i.i.d. complex Gaussian amplitudes, normalised):
/// every amplitude is generically non-zero, so every matrix entry of a gate shows up.
pub fn random_state(n: usize, seed: u64) -> Vec<Complex64> {
    let mut rng = Rng::new(seed ^ 0x5EED_57A7E);
    let mut v: Vec<Complex64> = (0..1usize << n)
        .map(|_| c(rng.normal(), rng.normal()))
        .collect();
    let norm = v.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    for a in &mut v {
        *a /= norm;
    }
    v
}

/// Basis state |k⟩ on `n` qubits.
pub fn basis_state(n: usize, k: usize) -> Vec<Complex64> {
    let mut v = vec![Complex64::ZERO; 1 << n];
    v[k] = Complex64::ONE;
    v
}

/// A dense random d×d unitary (row-major): modified Gram–Schmidt, applied twice, on the columns
/// of a complex Gaussian matrix. Unitary to ~1e-15, far inside qshade's 1e-8 check.
pub fn random_dense_unitary(rng: &mut Rng, d: usize) -> Vec<Complex64> {
    let mut cols: Vec<Vec<Complex64>> = (0..d)
        .map(|_| (0..d).map(|_| c(rng.normal(), rng.normal())).collect())
        .collect();
    for j in 0..d {
        let (done, rest) = cols.split_at_mut(j);
        let col = &mut rest[0];
        for _pass in 0..2 {
            for basis in done.iter() {
                let proj: Complex64 = basis
                    .iter()
                    .zip(col.iter())
                    .map(|(b, v)| b.conj() * v)
                    .sum();
                for (v, b) in col.iter_mut().zip(basis) {
                    *v -= proj * b;
                }
            }
        }
        let norm = col.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        for z in col.iter_mut() {
            *z /= norm;
        }
    }
    let mut m = vec![Complex64::ZERO; d * d];
    for (j, col) in cols.iter().enumerate() {
        for (r, z) in col.iter().enumerate() {
            m[r * d + j] = *z;
        }
    }
    m
}

/// A random diagonal unitary (exact zeros off the diagonal, so `GateClass::of_matrix` says diagonal
/// and a backend may take its phase-only path).
pub fn random_diagonal_unitary(rng: &mut Rng, d: usize) -> Vec<Complex64> {
    let mut m = vec![Complex64::ZERO; d * d];
    for k in 0..d {
        m[k * d + k] = Complex64::from_polar(1.0, rng.range(-PI, PI));
    }
    m
}

/// A random permutation matrix with random phases (exact zeros elsewhere): a "generalised
/// permutation", the shape of X, Y, SWAP and iSWAP.
pub fn random_phased_permutation(rng: &mut Rng, d: usize) -> Vec<Complex64> {
    let mut perm: Vec<usize> = (0..d).collect();
    rng.shuffle(&mut perm);
    let mut m = vec![Complex64::ZERO; d * d];
    for (col, &row) in perm.iter().enumerate() {
        m[row * d + col] = Complex64::from_polar(1.0, rng.range(-PI, PI));
    }
    m
}

/// A random 2×2 unitary: dense, diagonal or anti-diagonal.
pub fn random_unitary1(rng: &mut Rng) -> [Complex64; 4] {
    let m = match rng.below(4) {
        0 => random_diagonal_unitary(rng, 2),
        1 => random_phased_permutation(rng, 2),
        _ => random_dense_unitary(rng, 2),
    };
    m.try_into().expect("2×2")
}

/// A random 4×4 unitary: dense, diagonal or a phased permutation.
pub fn random_unitary2(rng: &mut Rng) -> [Complex64; 16] {
    let m = match rng.below(4) {
        0 => random_diagonal_unitary(rng, 4),
        1 => random_phased_permutation(rng, 4),
        _ => random_dense_unitary(rng, 4),
    };
    m.try_into().expect("4×4")
}

/// Number of `GateKind` variants; [`kind_index`] is exhaustive over them.
pub const NUM_KINDS: usize = 30;

/// A stable index per `GateKind` variant. The match is exhaustive on purpose: a new kind fails
/// to compile here until the generators below (and so the whole suite) cover it.
pub fn kind_index(kind: &GateKind) -> usize {
    match kind {
        GateKind::I => 0,
        GateKind::H => 1,
        GateKind::X => 2,
        GateKind::Y => 3,
        GateKind::Z => 4,
        GateKind::S => 5,
        GateKind::Sdg => 6,
        GateKind::T => 7,
        GateKind::Tdg => 8,
        GateKind::SX => 9,
        GateKind::RX(_) => 10,
        GateKind::RY(_) => 11,
        GateKind::RZ(_) => 12,
        GateKind::Phase(_) => 13,
        GateKind::U3(..) => 14,
        GateKind::Unitary1(_) => 15,
        GateKind::Swap => 16,
        GateKind::ISwap => 17,
        GateKind::RXX(_) => 18,
        GateKind::RYY(_) => 19,
        GateKind::RZZ(_) => 20,
        GateKind::Unitary2(_) => 21,
        GateKind::SXdg => 22,
        GateKind::R(..) => 23,
        GateKind::GlobalPhase(_) => 24,
        GateKind::ECR => 25,
        GateKind::DCX => 26,
        GateKind::RZX(_) => 27,
        GateKind::XXMinusYY(..) => 28,
        GateKind::XXPlusYY(..) => 29,
    }
}

/// The kind with index `index` (inverse of [`kind_index`]); angles come from `angle`, matrices
/// from `rng`.
pub fn kind_from_index(
    index: usize,
    rng: &mut Rng,
    angle: &mut dyn FnMut(&mut Rng) -> Angle,
) -> GateKind {
    match index {
        0 => GateKind::I,
        1 => GateKind::H,
        2 => GateKind::X,
        3 => GateKind::Y,
        4 => GateKind::Z,
        5 => GateKind::S,
        6 => GateKind::Sdg,
        7 => GateKind::T,
        8 => GateKind::Tdg,
        9 => GateKind::SX,
        10 => GateKind::RX(angle(rng)),
        11 => GateKind::RY(angle(rng)),
        12 => GateKind::RZ(angle(rng)),
        13 => GateKind::Phase(angle(rng)),
        14 => {
            let (t, p, l) = (angle(rng), angle(rng), angle(rng));
            GateKind::U3(t, p, l)
        }
        15 => GateKind::Unitary1(Box::new(random_unitary1(rng))),
        16 => GateKind::Swap,
        17 => GateKind::ISwap,
        18 => GateKind::RXX(angle(rng)),
        19 => GateKind::RYY(angle(rng)),
        20 => GateKind::RZZ(angle(rng)),
        21 => GateKind::Unitary2(Box::new(random_unitary2(rng))),
        22 => GateKind::SXdg,
        23 => {
            let (t, p) = (angle(rng), angle(rng));
            GateKind::R(t, p)
        }
        24 => GateKind::GlobalPhase(angle(rng)),
        25 => GateKind::ECR,
        26 => GateKind::DCX,
        27 => GateKind::RZX(angle(rng)),
        28 => {
            let (t, b) = (angle(rng), angle(rng));
            GateKind::XXMinusYY(t, b)
        }
        29 => {
            let (t, b) = (angle(rng), angle(rng));
            GateKind::XXPlusYY(t, b)
        }
        _ => panic!("no GateKind with index {index}"),
    }
}

/// Number of θ indices and x indices that [`random_angle`] draws from.
pub const RANDOM_THETAS: usize = 4;
/// See [`RANDOM_THETAS`].
pub const RANDOM_INPUTS: usize = 3;

/// A random angle of a random class: constant, θ_k, x_i, or affine a·θ_k + b / a·x_i + b.
pub fn random_angle(rng: &mut Rng) -> Angle {
    match rng.below(5) {
        0 => Angle::Const(rng.range(-2.0 * PI, 2.0 * PI)),
        1 => Angle::theta(rng.below(RANDOM_THETAS)),
        2 => Angle::input(rng.below(RANDOM_INPUTS)),
        3 => Angle::theta(rng.below(RANDOM_THETAS))
            .times(rng.range(-3.0, 3.0))
            .plus(rng.range(-PI, PI)),
        _ => Angle::input(rng.below(RANDOM_INPUTS))
            .times(rng.range(-3.0, 3.0))
            .plus(rng.range(-PI, PI)),
    }
}

/// A seeded random circuit on `n` qubits with `depth` gates, with θ and x values to bind.
///
/// The first gates go through every `GateKind` that fits on `n` qubits in a random order (so
/// every kind appears whenever `depth` allows), the rest are drawn uniformly. Each gate gets
/// 0, 1 or 2 random controls where qubits are left, random distinct targets, and angles of
/// every class ([`random_angle`]); matrix kinds get dense, diagonal or permutation unitaries.
pub fn random_circuit(n: usize, depth: usize, seed: u64) -> (Circuit, Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let mut circuit = Circuit::new(n).expect("valid width");
    let fitting: Vec<usize> = (0..NUM_KINDS)
        .filter(|&k| n >= 2 || !is_two_qubit_index(k))
        .collect();
    let mut cover = fitting.clone();
    rng.shuffle(&mut cover);
    let mut qubits: Vec<usize> = (0..n).collect();
    for g in 0..depth {
        let index = if g < cover.len() {
            cover[g]
        } else {
            fitting[rng.below(fitting.len())]
        };
        let kind = kind_from_index(index, &mut rng, &mut random_angle);
        let arity = kind.num_targets();
        let max_controls = (n - arity).min(2);
        let num_controls = match rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        }
        .min(max_controls);
        rng.shuffle(&mut qubits);
        let gate = Gate::controlled(kind, &qubits[arity..arity + num_controls], &qubits[..arity]);
        circuit.add(gate).expect("random gate is valid");
    }
    let theta: Vec<f64> = (0..circuit.num_params())
        .map(|_| rng.range(-PI, PI))
        .collect();
    let x: Vec<f64> = (0..circuit.num_inputs())
        .map(|_| rng.range(-2.0, 2.0))
        .collect();
    (circuit, theta, x)
}

fn is_two_qubit_index(k: usize) -> bool {
    (16..=21).contains(&k) || (25..=29).contains(&k)
}

/// Row-major product of two d×d matrices.
pub fn matmul(a: &[Complex64], b: &[Complex64], d: usize) -> Vec<Complex64> {
    let mut out = vec![Complex64::ZERO; d * d];
    for r in 0..d {
        for k in 0..d {
            out[r * d + k] = (0..d).map(|j| a[r * d + j] * b[j * d + k]).sum();
        }
    }
    out
}

/// Kronecker product `hi ⊗ lo` of two 2×2 matrices in qshade's two-qubit convention: the
/// matrix index is bit(t0) + 2·bit(t1), so `lo` acts on the first target, `hi` on the second.
pub fn kron2(hi: &[Complex64], lo: &[Complex64]) -> Vec<Complex64> {
    let mut out = vec![Complex64::ZERO; 16];
    for r in 0..4 {
        for k in 0..4 {
            out[r * 4 + k] = hi[(r >> 1) * 2 + (k >> 1)] * lo[(r & 1) * 2 + (k & 1)];
        }
    }
    out
}

/// Largest entry of |a − b|.
pub fn max_diff(a: &[Complex64], b: &[Complex64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).norm())
        .fold(0.0, f64::max)
}

/// ⟨O_j⟩ per occurrence row on the f64 reference backend (the oracle of batched results).
pub fn reference_forward_rows(
    program: &qshade::Program,
    rows: &[f64],
    num_rows: usize,
    observables: &[qshade::Observable],
) -> qshade::Result<Vec<f64>> {
    CpuBackend::reference().forward_rows(
        program,
        rows,
        num_rows,
        observables,
        &qshade::BatchConfig::default(),
    )
}

/// Values and dL/d(occurrence) per row by the f64 reference's adjoint sweep.
pub fn reference_adjoint_rows(
    program: &qshade::Program,
    rows: &[f64],
    num_rows: usize,
    observables: &[qshade::Observable],
    upstream: &[f64],
) -> qshade::Result<(Vec<f64>, Vec<f64>)> {
    CpuBackend::reference().adjoint_rows(
        program,
        rows,
        num_rows,
        observables,
        upstream,
        &qshade::BatchConfig::default(),
    )
}

/// The f64 reference's batch gradients (adjoint), per-sample θ gradients when asked.
pub fn reference_gradients(
    program: &qshade::Program,
    batch: &qshade::Batch<'_>,
    observables: &[qshade::Observable],
    upstream: &[f64],
    per_sample_theta: bool,
) -> qshade::Gradients {
    let options = qshade::GradientConfig::default().per_sample_theta(per_sample_theta);
    CpuBackend::reference()
        .gradient_batch_with(program, batch, observables, upstream, &options)
        .expect("the reference computes the gradients")
}
