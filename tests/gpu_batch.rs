//! Batched forward and adjoint on the GPU against the f64 reference (row by row).
//!
//! Tolerance: f32 runs compare within 5e-5 absolute on values and gradients (a depth ≤ 40
//! circuit at n ≤ 6: each gate adds ≲ 2 ulp = 2.4e-7 relative error per amplitude, the
//! reductions ≲ log2(2^n)·2^-24, and a gradient sums ≤ 3 such products over a handful of
//! observables with |upstream| ≤ 1; 40·2.4e-7·3·(a few) ≈ 5e-5). f64 runs use 1e-9.

mod common;

use common::rng::Rng;
use common::{reference_adjoint_rows, reference_forward_rows};
use qshade::BatchConfig;
use qshade::{
    Angle, Backend, Batch, Circuit, GpuBackend, GpuConfig, GradientMethod, Observable, Precision,
    Program,
};

fn gpu(precision: Precision) -> Option<GpuBackend> {
    qshade_gpu(GpuConfig::default().precision(precision))
}

/// A GPU backend with `config`; `None` (said) without an adapter when QSHADE_ALLOW_NO_GPU=1.
fn qshade_gpu(config: GpuConfig) -> Option<GpuBackend> {
    match GpuBackend::with_config(config) {
        Ok(g) => Some(g),
        Err(qshade::Error::NoAdapter { reason })
            if std::env::var("QSHADE_ALLOW_NO_GPU").as_deref() == Ok("1") =>
        {
            println!("GPU test skipped: no adapter ({reason}); QSHADE_ALLOW_NO_GPU=1");
            None
        }
        Err(e) => panic!("GPU backend unavailable: {e}"),
    }
}

/// Every parameterised kind, shared θ, affine angles, inputs, controls, two-qubit rotations.
fn training_circuit(n: usize) -> Circuit {
    let mut c = Circuit::new(n).unwrap();
    for q in 0..n {
        c.rx(q, Angle::input(q % 3).times(0.7).plus(0.1)).unwrap();
        c.ry(q, Angle::theta(q)).unwrap();
    }
    for q in 0..n - 1 {
        c.cnot(q, q + 1).unwrap();
        c.crz(q + 1, q, Angle::theta(n + q)).unwrap();
    }
    c.rzz(0, n - 1, Angle::theta(0).times(-0.5)).unwrap(); // θ0 shared
    c.rxx(1, 2, Angle::theta(2 * n)).unwrap();
    c.ryy(2, 0, Angle::theta(2 * n + 1).plus(0.3)).unwrap();
    c.u3(
        1,
        Angle::theta(2 * n + 2),
        Angle::theta(2 * n + 3),
        Angle::input(1),
    )
    .unwrap();
    c.cphase(0, 2, Angle::theta(2 * n + 4)).unwrap();
    c.cry(2, 1, Angle::theta(1).times(2.0)).unwrap();
    c.multi_controlled(
        qshade::GateKind::RX(Angle::theta(2 * n + 5)),
        &[0, 1],
        3 % n,
    )
    .ok();
    c.h(n - 1)
        .unwrap()
        .t(0)
        .unwrap()
        .swap(0, n - 1)
        .unwrap()
        .phase(1, Angle::theta(3))
        .unwrap();
    c
}

/// Every `got[k]` within `tol` of `want[k]`, and as many of them.
fn assert_close(want: &[f64], got: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: count");
    for (k, (w, g)) in want.iter().zip(got).enumerate() {
        assert!((w - g).abs() <= tol, "{what} {k}: gpu {g} vs reference {w}");
    }
}

/// The f64 reference's values and gradients (upstream-weighted) of `b` rows.
fn reference(
    program: &Program,
    rows: &[f64],
    b: usize,
    obs: &[Observable],
    upstream: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let values = reference_forward_rows(program, rows, b, obs).unwrap();
    let (_, grads) = reference_adjoint_rows(program, rows, b, obs, upstream).unwrap();
    (values, grads)
}

fn observables(n: usize) -> Vec<Observable> {
    vec![
        Observable::z(0),
        Observable::parse(&format!("0.5 Z0 Z{} - 0.3 X1 Y2 + 0.25", n - 1)).unwrap(),
        Observable::x(n - 1),
    ]
}

fn check(precision: Precision, tol: f64, options: BatchConfig) {
    let Some(gpu) = gpu(precision) else { return };
    for n in [4usize, 6] {
        let circuit = training_circuit(n);
        let program = Program::compile(&circuit);
        let b = 7;
        let mut rng = Rng::new(11 + n as u64);
        let theta: Vec<f64> = (0..program.num_params())
            .map(|_| rng.range(0.0, std::f64::consts::TAU))
            .collect();
        let inputs: Vec<f64> = (0..b * program.num_inputs())
            .map(|_| rng.range(0.0, std::f64::consts::PI))
            .collect();
        let obs = observables(n);
        let upstream: Vec<f64> = (0..b * obs.len()).map(|_| rng.range(-1.0, 1.0)).collect();
        let batch = Batch::shared(&theta, &inputs, b);
        let rows = batch.resolve(&program);
        let (want_values, want_grads) = reference(&program, &rows, b, &obs, &upstream);
        let values = gpu
            .forward_batch_with(&program, &batch, &obs, &options)
            .unwrap();
        let (adj_values, grads) = gpu
            .adjoint_rows(&program, &rows, b, &obs, &upstream, &options)
            .unwrap();
        assert_close(
            &want_values,
            &values,
            tol,
            &format!("n={n} {precision:?}: value"),
        );
        assert_close(
            &want_values,
            &adj_values,
            tol,
            &format!("n={n} {precision:?}: adjoint pass value"),
        );
        for (k, (w, g)) in want_grads.iter().zip(&grads).enumerate() {
            assert!(
                (w - g).abs() <= tol,
                "n={n} {precision:?}: d/d(angle) row {} occurrence {}: gpu {g} vs reference {w}",
                k / program.num_angles(),
                k % program.num_angles()
            );
        }
        // The full gradient API (chain rule, shared θ, inputs) against the CPU reference.
        let cpu = qshade::CpuBackend::reference();
        let want = cpu
            .gradient_batch(&program, &batch, &obs, &upstream, GradientMethod::Adjoint)
            .unwrap();
        let got = gpu
            .gradient_batch_with(
                &program,
                &batch,
                &obs,
                &upstream,
                &qshade::GradientConfig::default().batch(options.clone()),
            )
            .unwrap();
        for (k, (w, g)) in want.theta.iter().zip(&got.theta).enumerate() {
            assert!(
                (w - g).abs() <= tol * b as f64,
                "n={n}: dL/dθ[{k}] gpu {g} vs cpu {w}"
            );
        }
        for (k, (w, g)) in want.inputs.iter().zip(&got.inputs).enumerate() {
            assert!(
                (w - g).abs() <= tol * 3.0,
                "n={n}: dL/dx[{k}] gpu {g} vs cpu {w}"
            );
        }
    }
}

#[test]
fn f32_batched_forward_and_adjoint_match_reference() {
    check(Precision::F32, 5e-5, BatchConfig::default());
}

#[test]
fn f64_batched_forward_and_adjoint_match_reference() {
    check(Precision::F64, 1e-9, BatchConfig::default());
}

#[test]
fn every_forward_fusion_matches_reference_cold_and_hot() {
    // The forward pass of a batch plan runs op by op, through workgroup tiles, or through
    // register blocks (lavapipe's default), whose kernels compile when a run's structure is seen
    // the second time: a plan built cold runs those ops singly and is rebuilt on its next use.
    // Each configuration runs the same forward and adjoint twice against the reference.
    let configs = [
        ("f32 per-gate", Precision::F32, false, 0, 5e-5),
        ("f32 tiles", Precision::F32, true, 0, 5e-5),
        ("f32 blocks of 5", Precision::F32, false, 5, 5e-5),
        ("f64 blocks of 3", Precision::F64, false, 3, 1e-9),
    ];
    for (label, precision, tile_fusion, blocks, tol) in configs {
        let Some(gpu) = qshade_gpu(
            GpuConfig::default()
                .precision(precision)
                .tile_fusion(tile_fusion)
                .fusion_qubits(0)
                .register_blocks(Some(blocks)),
        ) else {
            return;
        };
        let n = 6;
        let program = Program::compile(&training_circuit(n));
        let b = 5;
        let mut rng = Rng::new(29);
        let rows: Vec<f64> = (0..b * program.num_angles())
            .map(|_| rng.range(0.0, std::f64::consts::TAU))
            .collect();
        let obs = observables(n);
        let upstream: Vec<f64> = (0..b * obs.len()).map(|_| rng.range(-1.0, 1.0)).collect();
        let (want_values, want_grads) = reference(&program, &rows, b, &obs, &upstream);
        let options = BatchConfig::default();
        for round in ["first", "second"] {
            let values = gpu
                .forward_rows(&program, &rows, b, &obs, &options)
                .unwrap();
            let (_, grads) = gpu
                .adjoint_rows(&program, &rows, b, &obs, &upstream, &options)
                .unwrap();
            assert_close(
                &want_values,
                &values,
                tol,
                &format!("{label}, {round} run: value"),
            );
            assert_close(
                &want_grads,
                &grads,
                tol,
                &format!("{label}, {round} run: gradient"),
            );
        }
        // The second runs went through compiled block kernels.
        assert_eq!(gpu.register_block_qubits(), blocks, "{label}");
        assert_eq!(
            gpu.compiled_register_blocks() > 0,
            blocks > 0,
            "{label}: compiled register blocks: {}",
            gpu.compiled_register_blocks()
        );
    }
}

#[test]
fn sub_batches_give_the_same_results() {
    // Sub-batches of 2 (and a budget that forces the same): identical results to one batch.
    check(
        Precision::F64,
        1e-9,
        BatchConfig::default().max_sub_batch(Some(2)),
    );
    // A budget below one state's needs is a clear error that says what one row needs...
    let Some(gpu) = gpu(Precision::F64) else {
        return;
    };
    let program = Program::compile(&training_circuit(6));
    let rows = vec![0.0; 7 * program.num_angles()];
    let obs = observables(6);
    let upstream = vec![1.0; 7 * obs.len()];
    let tiny = BatchConfig::default().memory_budget(Some(1024));
    let needed = match gpu.adjoint_rows(&program, &rows, 7, &obs, &upstream, &tiny) {
        Err(qshade::Error::OutOfDeviceMemory { needed, available }) => {
            assert_eq!(available, 1024);
            assert!(needed > 2 * (16 << 6), "needs at least ψ and λ: {needed}");
            needed
        }
        other => panic!("expected OutOfDeviceMemory, got {other:?}"),
    };
    // ...and a budget of 2.5 rows splits the batch of 7 into sub-batches of 2.
    check(
        Precision::F64,
        1e-9,
        BatchConfig::default().memory_budget(Some(needed * 5 / 2)),
    );
}

#[test]
fn gpu_overlaps_match_reference_inner_products() {
    // ⟨φ(x_i)|φ(x_j)⟩ of a ZZ feature map on 4 qubits: Gram product on the GPU vs inner
    // products of reference states. f32: 2e-6 per entry (|overlap| ≤ 1, 2^4-term sums, depth ~30).
    let fm =
        qshade::qml::templates::zz_feature_map(4, 2, qshade::qml::templates::Entanglement::Full)
            .unwrap();
    let program = Program::compile(&fm.circuit);
    let mut rng = Rng::new(5);
    let raw_a: Vec<f64> = (0..5 * 4).map(|_| rng.range(0.0, 2.0)).collect();
    let raw_b: Vec<f64> = (0..3 * 4).map(|_| rng.range(0.0, 2.0)).collect();
    let rows = |raw: &[f64], count: usize| {
        Batch::shared(&[], &fm.features_batch(raw).unwrap(), count).resolve(&program)
    };
    let (rows_a, rows_b) = (rows(&raw_a, 5), rows(&raw_b, 3));
    let cpu = qshade::CpuBackend::reference();
    let want = cpu
        .overlaps(&program, &rows_a, 5, &rows_b, 3, &BatchConfig::default())
        .unwrap();
    for (precision, tol) in [(Precision::F32, 2e-6), (Precision::F64, 1e-12)] {
        let Some(gpu) = gpu(precision) else { return };
        let got = gpu
            .overlaps(&program, &rows_a, 5, &rows_b, 3, &BatchConfig::default())
            .unwrap();
        for (k, (w, g)) in want.iter().zip(&got).enumerate() {
            assert!(
                (w - g).norm() <= tol,
                "{precision:?} overlap ({}, {}): gpu {g} vs reference {w}",
                k / 3,
                k % 3
            );
        }
    }
    // The diagonal of a self-overlap is 1.
    let self_overlap = cpu
        .overlaps(&program, &rows_a, 5, &rows_a, 5, &BatchConfig::default())
        .unwrap();
    for i in 0..5 {
        assert!((self_overlap[i * 5 + i] - qshade::Complex64::ONE).norm() < 1e-12);
    }
}

#[test]
fn malformed_rows_are_errors_not_panics() {
    let program = Program::compile(&training_circuit(4));
    let obs = observables(4);
    let short = vec![0.0; program.num_angles() * 2 - 1];
    let mut backends: Vec<Box<dyn Backend>> = vec![
        Box::new(qshade::CpuBackend::reference()),
        Box::new(qshade::CpuBackend::new()),
        Box::new(qshade::CpuBackend::with_precision(Precision::F32)),
    ];
    if let Some(g) = gpu(Precision::F32) {
        backends.push(Box::new(g));
    }
    for b in &backends {
        let name = b.name();
        let opts = BatchConfig::default();
        assert!(
            matches!(
                b.overlaps(&program, &short, 2, &short, 2, &opts),
                Err(qshade::Error::InvalidArgument(_))
            ),
            "{name}: overlaps"
        );
        let mut nan = vec![0.0; program.num_angles()];
        nan[0] = f64::NAN;
        assert!(
            matches!(
                b.overlaps(&program, &nan, 1, &nan, 1, &opts),
                Err(qshade::Error::InvalidArgument(_))
            ),
            "{name}: NaN rows"
        );
        if name.starts_with("gpu") {
            assert!(
                matches!(
                    b.forward_rows(&program, &short, 2, &obs, &opts),
                    Err(qshade::Error::InvalidArgument(_))
                ),
                "{name}: forward_rows"
            );
            let full = vec![0.0; program.num_angles() * 2];
            assert!(
                matches!(
                    b.adjoint_rows(&program, &full, 2, &obs, &[1.0], &opts),
                    Err(qshade::Error::InvalidArgument(_))
                ),
                "{name}: upstream shape"
            );
        }
    }
}
