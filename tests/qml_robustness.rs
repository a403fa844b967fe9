//! Robustness of the QML layer: every call returns `Ok` with finite results or an `Err` —
//! never a panic, an abort or a non-finite number — for random and adversarial inputs
//! (huge sizes, NaN/±∞ in every float, data sets and configurations edited through their
//! public fields, truncated and mutated parameter files), on the CPU backend.
//!
//! Two parts:
//! - **regression tests** (`#[test]`), one per finding of the robustness review, each of
//!   which failed (panicked, aborted, or returned a wrong value) before the fix;
//! - **property tests** (`proptest!`), 32 cases each by default so the file stays quick.
//!   For a longer run set the `PROPTEST_CASES` environment variable, e.g.
//!   `PROPTEST_CASES=2000 cargo test --release --test qml_robustness`.

use proptest::prelude::*;
use qshade::qml::optim::{Adam, Optimizer, Sgd, Spsa};
use qshade::qml::progress::Progress;
use qshade::qml::qaoa::{solve_maxcut, QaoaConfig};
use qshade::qml::qkernel::{
    FidelityKernel, KernelClassifier, KernelMatrix, KernelSolver, RbfKernel,
};
use qshade::qml::templates::{
    amplitude_encoding, angle_encoding, maxcut_observable, qaoa_maxcut, zz_feature_map,
    Entanglement, RotationAxis,
};
use qshade::qml::train::{
    evaluate, fit, Dataset, LogisticConfig, LogisticRegression, OptimizerConfig, Qnn, Standardizer,
    TrainConfig,
};
use qshade::qml::vqe::{h2_ansatz, h2_sto3g, run_vqe, VqeConfig};
use qshade::{Complex64, CpuBackend, Error};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A small two-class data set with 2 features.
fn moons(n: usize) -> Dataset {
    Dataset::two_moons(n, 0.1, 3).unwrap()
}

/// A 2-feature, 2-qubit QNN (one HEA layer).
fn small_qnn() -> Qnn {
    Qnn::builder(2)
        .ansatz(qshade::qml::train::Ansatz::HardwareEfficient { layers: 1 })
        .seed(1)
        .build()
        .unwrap()
}

fn quick_train() -> TrainConfig {
    TrainConfig::default().epochs(1).batch_size(4)
}

fn all_finite(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite())
}

// ---------------------------------------------------------------------------------------------
// Regression tests: one per finding.
// ---------------------------------------------------------------------------------------------

/// `TrainConfig::batch_size(usize::MAX)` overflowed `batch_size × features` in a
/// `Vec::with_capacity` (capacity overflow panic). A huge batch is now one full batch.
#[test]
fn huge_batch_size_trains_as_one_batch() {
    let data = moons(12);
    let mut model = small_qnn();
    let history = fit(
        &mut model,
        &CpuBackend::new(),
        &data,
        &quick_train().batch_size(usize::MAX),
    )
    .unwrap();
    assert_eq!(history.len(), 1);
    assert!(all_finite(&history.losses()));
}

/// `VqeConfig::iterations(usize::MAX)` reserved two loss histories of that capacity and
/// aborted. The histories now grow with the iterations run (here: an early stop).
#[test]
fn vqe_with_usize_max_iterations_does_not_reserve_them() {
    let config = VqeConfig::default()
        .iterations(usize::MAX)
        .gradient_tolerance(1e9);
    let r = run_vqe(
        &CpuBackend::new(),
        &h2_ansatz().unwrap(),
        &h2_sto3g(),
        &[0.0],
        &config,
    )
    .unwrap();
    assert!(r.converged);
    assert_eq!(r.energies.len(), 1);
    assert!(r.energy.is_finite());
}

/// QAOA with `restarts = usize::MAX` overflowed `restarts × 2 × layers` in a reservation.
#[test]
fn qaoa_with_huge_restarts_is_an_error() {
    let edges = [(0, 1, 1.0), (1, 2, 1.0)];
    for config in [
        QaoaConfig::default().restarts(usize::MAX),
        QaoaConfig::default().layers(usize::MAX),
        QaoaConfig::default().restarts(usize::MAX / 2).layers(2),
    ] {
        let r = solve_maxcut(&CpuBackend::new(), 3, &edges, &config.iterations(1));
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    }
}

/// `Dataset::two_moons(usize::MAX, …)` overflowed a `Vec::with_capacity` (capacity overflow).
#[test]
fn two_moons_with_a_huge_count_is_an_error() {
    for n in [usize::MAX, usize::MAX / 2, 1 << 60] {
        assert!(matches!(
            Dataset::two_moons(n, 0.1, 1),
            Err(Error::InvalidArgument(_))
        ));
    }
}

/// Templates built a circuit of any requested size (`layers = usize::MAX` grew until memory
/// ran out) and added parameter indices unchecked.
#[test]
fn template_sizes_are_bounded() {
    use qshade::qml::templates::{hardware_efficient, iqp_encoding, strongly_entangling};
    assert!(hardware_efficient(2, usize::MAX, 0).is_err());
    assert!(hardware_efficient(2, 1, usize::MAX).is_err());
    assert!(strongly_entangling(3, 1 << 40, 0).is_err());
    assert!(zz_feature_map(2, usize::MAX, Entanglement::Full).is_err());
    assert!(iqp_encoding(2, usize::MAX).is_err());
    assert!(qaoa_maxcut(2, &[(0, 1, 1.0)], usize::MAX).is_err());
    let built = Qnn::builder(2)
        .ansatz(qshade::qml::train::Ansatz::HardwareEfficient { layers: usize::MAX })
        .build();
    assert!(built.is_err());
    // A huge head, or an init range whose initial θ overflow.
    assert!(Qnn::builder(2).affine_head(usize::MAX).build().is_err());
    assert!(Qnn::builder(2).init_range(f64::MAX).build().is_err());
}

/// `KernelMatrix::get` asserted on an out-of-range index; `row` sliced out of range.
#[test]
fn kernel_matrix_get_and_row_out_of_range_are_none() {
    let k = KernelMatrix::new(2, 2, vec![1.0, 0.5, 0.5, 1.0]).unwrap();
    assert_eq!(k.get(0, 1), Some(0.5));
    assert_eq!(k.get(2, 0), None);
    assert_eq!(k.get(0, usize::MAX), None);
    assert_eq!(k.row(1), Some(&[0.5, 1.0][..]));
    assert_eq!(k.row(usize::MAX), None);
}

/// A `Dataset` edited through its public fields (ragged features, a label ≥ the number of
/// classes, a NaN feature) panicked in `fit` (index out of range) or trained on NaN.
#[test]
fn edited_datasets_are_errors_not_panics() {
    let backend = CpuBackend::new();
    let data = moons(12);
    let mut edits: Vec<Dataset> = Vec::new();
    let mut ragged = data.clone();
    ragged.features.pop();
    edits.push(ragged);
    let mut bad_label = data.clone();
    bad_label.labels[3] = 7;
    edits.push(bad_label);
    let mut nan = data.clone();
    nan.features[5] = f64::NAN;
    edits.push(nan);
    let mut extra_label = data.clone();
    extra_label.labels.push(0);
    edits.push(extra_label);
    let mut no_features = data.clone();
    no_features.num_features = 0;
    edits.push(no_features);
    for edited in &edits {
        let mut model = small_qnn();
        assert!(fit(&mut model, &backend, edited, &quick_train()).is_err());
        assert!(evaluate(&model, &backend, edited, &quick_train().loss).is_err());
        assert!(Standardizer::fit(edited).is_err());
        assert!(edited.split(0.3, 1).is_err());
        assert!(edited.subset(&[0, 1]).is_err());
        assert!(LogisticRegression::fit(edited, &LogisticConfig::default()).is_err());
    }
    assert_eq!(data.row(usize::MAX), None);
}

/// `amplitude_encoding(v, 40)` allocated 2^40 amplitudes before checking the qubit count.
#[test]
fn amplitude_encoding_checks_qubits_before_allocating() {
    let v = [Complex64::new(1.0, 0.0)];
    for n in [0, 17, 40, 64, 200, usize::MAX] {
        assert!(
            matches!(
                amplitude_encoding(&v, n),
                Err(Error::UnsupportedQubitCount { .. })
            ),
            "{n} qubits"
        );
    }
    // Huge but finite entries: the norm is computed scaled, not overflowed.
    let big = [Complex64::new(1e300, 0.0), Complex64::new(-1e300, 1e300)];
    assert!(amplitude_encoding(&big, 1).is_ok());
}

/// NaN (or ±∞) edge weights went into the cut observable and the QAOA circuit unchecked.
#[test]
fn non_finite_edge_weights_are_errors() {
    for w in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let edges = [(0, 1, 1.0), (1, 2, w)];
        assert!(maxcut_observable(&edges).is_err());
        assert!(qaoa_maxcut(3, &edges, 1).is_err());
        assert!(solve_maxcut(&CpuBackend::new(), 3, &edges, &QaoaConfig::default()).is_err());
    }
    // Finite weights whose sum overflows.
    let edges = [(0, 1, f64::MAX), (1, 2, f64::MAX)];
    assert!(maxcut_observable(&edges).is_err());
    // All-negative weights: the optimum is 0 and ⟨C⟩/optimum would be NaN or ±∞.
    let edges = [(0, 1, -1.0), (1, 2, -2.0)];
    let r = solve_maxcut(
        &CpuBackend::new(),
        3,
        &edges,
        &QaoaConfig::default().iterations(2),
    );
    assert!(r.is_err(), "{r:?}");
}

/// A parameter file cut in the middle of its last number loaded with a changed value.
#[test]
fn truncated_parameter_file_is_an_error() {
    let model = small_qnn();
    let text = model.parameters_to_string().unwrap();
    let before = model.parameters();
    // Every strict prefix either fails or (cut just before the count line) loads the same values.
    for cut in 0..text.len() {
        if !text.is_char_boundary(cut) {
            continue;
        }
        let mut m = small_qnn();
        m.set_parameters(&vec![0.25; m.num_parameters()]).unwrap();
        if m.load_parameters_str(&text[..cut]).is_ok() {
            assert_eq!(
                m.parameters(),
                before,
                "prefix of {cut} bytes loaded different values"
            );
        }
    }
    // The finding itself: the last number cut short, no trailing count line (an old file).
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("# entries"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut m = small_qnn();
    assert!(m.load_parameters_str(&body[..body.len() - 3]).is_err());
    // A complete old-format file (no count line, trailing newline) still loads.
    m.load_parameters_str(&format!("{body}\n")).unwrap();
    assert_eq!(m.parameters(), before);
    // A count that does not match is an error.
    let wrong = text.replace("# entries ", "# entries 1");
    assert!(m.load_parameters_str(&wrong).is_err());
}

/// `Standardizer::fit` on ±1e308 overflowed the variance to ∞ and mapped every value to 0.
#[test]
fn standardizer_handles_huge_values() {
    let data = Dataset::new(
        vec![1e308, -1e308, -1e308, 1e308],
        vec![0, 1, 0, 1],
        1,
        vec!["a".into(), "b".into()],
    )
    .unwrap();
    let s = Standardizer::fit(&data).unwrap();
    assert!(all_finite(&s.mean) && all_finite(&s.std));
    assert!((s.std[0] - 1e308).abs() < 1e294, "std {}", s.std[0]);
    let z = s.transform(&data.features).unwrap();
    assert_eq!(z, vec![1.0, -1.0, -1.0, 1.0]);
    // Values far outside the fitted range give an error, not ±∞.
    let tiny = Standardizer {
        mean: vec![0.0],
        std: vec![1e-10],
    };
    assert!(tiny.transform(&[1e308]).is_err());
    // Edited standardizers are rejected.
    for (mean, std) in [
        (vec![0.0], vec![0.0]),
        (vec![f64::NAN], vec![1.0]),
        (vec![0.0, 1.0], vec![1.0]),
    ] {
        assert!(Standardizer { mean, std }.transform(&[1.0]).is_err());
    }
}

/// `split(0.999)` of a small data set returned an empty training set without error.
#[test]
fn split_that_empties_a_side_is_an_error() {
    let data = moons(10);
    assert!(data.split(0.999, 1).is_err());
    assert!(data.split(0.001, 1).is_err());
    let (train, test) = data.split(0.3, 1).unwrap();
    assert!(!train.is_empty() && !test.is_empty());
}

/// A negative Adam learning rate silently ascended; every optimizer and config now rejects
/// non-positive or non-finite hyper-parameters.
#[test]
fn invalid_hyper_parameters_are_errors() {
    let backend = CpuBackend::new();
    let data = moons(8);
    for lr in [-0.05, 0.0, f64::NAN, f64::INFINITY] {
        let mut model = small_qnn();
        let before = model.parameters();
        for opt in [
            OptimizerConfig::Adam { learning_rate: lr },
            OptimizerConfig::Sgd {
                learning_rate: lr,
                momentum: 0.0,
            },
            OptimizerConfig::Spsa { a: lr, c: 0.1 },
        ] {
            let r = fit(&mut model, &backend, &data, &quick_train().optimizer(opt));
            assert!(
                matches!(r, Err(Error::InvalidArgument(_))),
                "{opt:?}: {r:?}"
            );
        }
        assert_eq!(model.parameters(), before);
        assert!(Adam::new(lr).step(&mut [0.0], &[1.0]).is_err());
        assert!(Sgd::new(lr, 0.0).step(&mut [0.0], &[1.0]).is_err());
        let vqe = VqeConfig::default().learning_rate(lr);
        assert!(run_vqe(&backend, &h2_ansatz().unwrap(), &h2_sto3g(), &[0.0], &vqe).is_err());
        let qaoa = QaoaConfig::default().learning_rate(lr);
        assert!(solve_maxcut(&backend, 3, &[(0, 1, 1.0)], &qaoa).is_err());
    }
    assert!(Sgd::new(0.1, 1.5).step(&mut [0.0], &[1.0]).is_err());
    let vqe = VqeConfig::default().gradient_tolerance(f64::NAN);
    assert!(run_vqe(&backend, &h2_ansatz().unwrap(), &h2_sto3g(), &[0.0], &vqe).is_err());
}

/// SPSA with c = 0 reported a confusing bound-value error (the perturbed parameters were the
/// same and the update divided by zero); now the message names c.
#[test]
fn spsa_with_zero_c_names_c() {
    let mut spsa = Spsa::new(0.1, 0.0, 1);
    let mut p = [0.5, 0.5];
    let err = spsa.step(&mut p, |x| Ok(x.iter().sum())).unwrap_err();
    assert!(err.to_string().contains("perturbation size c"), "{err}");
    assert_eq!(p, [0.5, 0.5]);
    let mut model = small_qnn();
    let err = fit(
        &mut model,
        &CpuBackend::new(),
        &moons(8),
        &quick_train().optimizer(OptimizerConfig::Spsa { a: 0.1, c: 0.0 }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("perturbation size c"), "{err}");
}

/// Loading a 10^5-line parameter file took 9 s (quadratic duplicate and name checks). This
/// checks the result on a large file; the time is printed, not asserted (run with
/// `--nocapture` to see it).
#[test]
fn large_parameter_file_loads_correctly() {
    use qshade::qml::train::params::{format_parameters, match_names, parse_parameters};
    let n = 100_000;
    let entries: Vec<(String, f64)> = (0..n).map(|i| (format!("p.{i}"), i as f64 * 0.5)).collect();
    let text = format_parameters(&entries, &[]).unwrap();
    let start = Instant::now();
    let parsed = parse_parameters(&text).unwrap();
    let mut names: Vec<String> = entries.iter().map(|(n, _)| n.clone()).collect();
    names.reverse();
    let values = match_names(&parsed, &names).unwrap();
    println!(
        "parsed and matched {n} parameter lines in {:.3} s",
        start.elapsed().as_secs_f64()
    );
    assert_eq!(parsed, entries);
    assert_eq!(values[0], (n - 1) as f64 * 0.5);
    // A duplicate at the end is still found.
    let dup = format!(
        "{}p.17 1.0\n",
        text.replace(&format!("# entries {n}\n"), "")
    );
    assert!(parse_parameters(&dup).is_err());
}

/// The progress callbacks fire once per unit of work and end at `done == total`.
#[test]
fn progress_callbacks_report_every_unit() {
    let backend = CpuBackend::new();
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let hook = |seen: &Arc<Mutex<Vec<Progress>>>| {
        let seen = seen.clone();
        move |p: &Progress| seen.lock().unwrap().push(*p)
    };
    let take = |seen: &Arc<Mutex<Vec<Progress>>>| std::mem::take(&mut *seen.lock().unwrap());

    let mut model = small_qnn();
    fit(
        &mut model,
        &backend,
        &moons(10),
        &quick_train().epochs(2).batch_size(4).progress(hook(&seen)),
    )
    .unwrap();
    let p = take(&seen);
    assert_eq!(p.len(), 6); // 2 epochs × ⌈10/4⌉ batches
    assert!(p.iter().all(|r| r.what == "training batches"
        && r.total == 6
        && r.loss.is_some_and(f64::is_finite)));
    assert_eq!(p.last().map(|r| r.done), Some(6));

    let vqe = VqeConfig::default().iterations(5).progress(hook(&seen));
    run_vqe(&backend, &h2_ansatz().unwrap(), &h2_sto3g(), &[0.0], &vqe).unwrap();
    let p = take(&seen);
    assert_eq!(
        p.iter().map(|r| r.done).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );

    let qaoa = QaoaConfig::default()
        .layers(1)
        .iterations(3)
        .restarts(1)
        .progress(hook(&seen));
    solve_maxcut(&backend, 3, &[(0, 1, 1.0), (1, 2, 1.0)], &qaoa).unwrap();
    let p = take(&seen);
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|r| r.what == "qaoa steps" && r.total == 3));

    let kernel = FidelityKernel::new(zz_feature_map(2, 1, Entanglement::Linear).unwrap())
        .unwrap()
        .with_progress(hook(&seen));
    let x: Vec<f64> = (0..80).map(|i| (i as f64 * 0.37).sin()).collect();
    let k = kernel.matrix(&backend, &x).unwrap();
    let p = take(&seen);
    assert_eq!(p.iter().map(|r| r.done).collect::<Vec<_>>(), vec![32, 40]);
    // Blocked and one-call matrices agree.
    let plain = FidelityKernel::new(zz_feature_map(2, 1, Entanglement::Linear).unwrap()).unwrap();
    let k2 = plain.matrix(&backend, &x).unwrap();
    for (a, b) in k.as_slice().iter().zip(k2.as_slice()) {
        assert!((a - b).abs() < 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests.
// ---------------------------------------------------------------------------------------------

/// Property cases in which training succeeded (printed when `QML_ROBUSTNESS_COUNT` is set).
static TRAINED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// 32 cases unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    ProptestConfig {
        // Failures are printed with their minimal input; no regression files are written.
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

/// Any f64, weighted towards the adversarial ones.
fn nasty_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -4.0f64..4.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::MAX),
        1 => Just(f64::MIN),
        1 => Just(f64::MIN_POSITIVE),
        1 => Just(1e308),
        1 => Just(-1e-300),
        2 => any::<f64>(),
    ]
}

/// Any usize, weighted towards the small and the huge.
fn nasty_usize() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..6,
        1 => Just(usize::MAX),
        1 => Just(usize::MAX / 2 + 1),
        1 => Just(1usize << 40),
        1 => any::<usize>(),
    ]
}

/// A result is acceptable if it is an error or satisfies `finite`.
fn ok_finite<T: std::fmt::Debug>(r: &qshade::Result<T>, finite: impl Fn(&T) -> bool) -> bool {
    match r {
        Ok(v) => finite(v),
        Err(_) => true,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Datasets built from arbitrary values, then edited, through training and evaluation.
    #[test]
    fn training_never_panics(
        (features, labels) in (0usize..10).prop_flat_map(|n| (
            // Mostly valid values, so that training runs often; sometimes adversarial ones.
            prop::collection::vec(prop_oneof![12 => -4.0f64..4.0, 1 => nasty_f64()], 2 * n),
            prop::collection::vec(prop_oneof![8 => 0usize..2, 1 => 0usize..4], n),
        )),
        classes in prop_oneof![4 => Just(2usize), 1 => 0usize..4],
        lr in prop_oneof![2 => 0.001f64..1.0, 1 => nasty_f64()],
        c in prop_oneof![2 => 0.001f64..0.9, 1 => nasty_f64()],
        batch in nasty_usize(),
        which in 0usize..3,
        edit in 0usize..6,
    ) {
        let backend = CpuBackend::new();
        let names: Vec<String> = (0..classes).map(|i| format!("c{i}")).collect();
        let mut data = match Dataset::new(features.clone(), labels.clone(), 2, names.clone()) {
            Ok(d) => d,
            // Bypass the constructor: the public fields take anything.
            Err(_) => Dataset { features, labels, num_features: 2, feature_names: vec!["a".into(), "b".into()], class_names: names },
        };
        // Edit the public fields.
        match edit {
            0 if !data.labels.is_empty() => data.labels[0] = usize::MAX,
            1 => { data.features.pop(); }
            2 => data.num_features = 3,
            _ => {}
        }
        let optimizer = match which {
            0 => OptimizerConfig::Adam { learning_rate: lr },
            1 => OptimizerConfig::Sgd { learning_rate: lr, momentum: c },
            _ => OptimizerConfig::Spsa { a: lr, c },
        };
        let config = TrainConfig::default().epochs(1).batch_size(batch).optimizer(optimizer);
        let mut model = Qnn::builder(2).ansatz(qshade::qml::train::Ansatz::HardwareEfficient { layers: 1 }).build().unwrap();
        let r = fit(&mut model, &backend, &data, &config);
        if r.is_ok() {
            TRAINED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        prop_assert!(ok_finite(&r, |h| h.epochs.iter().all(|e| e.loss.is_finite() && e.accuracy.is_finite())));
        prop_assert!(all_finite(&model.parameters()));
        let r = evaluate(&model, &backend, &data, &config.loss);
        prop_assert!(ok_finite(&r, |e| e.loss.is_finite() && e.accuracy.is_finite()));
        let r = Standardizer::fit(&data);
        prop_assert!(ok_finite(&r, |s| all_finite(&s.mean) && all_finite(&s.std)));
        if let Ok(s) = &r {
            prop_assert!(ok_finite(&s.transform(&data.features), |z| all_finite(z)));
        }
        let _ = data.split(lr, 1);
        let _ = data.select_classes(&[0, 1]);
        let r = LogisticRegression::fit(&data, &LogisticConfig::default().iterations(5).learning_rate(lr).l2(c));
        prop_assert!(ok_finite(&r, |m| all_finite(&m.weights) && all_finite(&m.bias)));
        if let Ok(m) = &r {
            let _ = m.predict(&data.features);
        }
        if std::env::var_os("QML_ROBUSTNESS_COUNT").is_some() {
            eprintln!("training succeeded in {} cases so far", TRAINED.load(std::sync::atomic::Ordering::Relaxed));
        }
    }

    /// Finite data of any magnitude: the standardizer is finite or an error.
    #[test]
    fn standardizer_is_finite(values in prop::collection::vec(prop_oneof![any::<f64>(), Just(f64::MAX), Just(f64::MIN)], 1..16), probe in nasty_f64()) {
        let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        prop_assume!(!finite.is_empty());
        let n = finite.len();
        let data = Dataset::new(finite, vec![0; n], 1, vec!["a".into()]).unwrap();
        let s = Standardizer::fit(&data).unwrap();
        prop_assert!(all_finite(&s.mean) && all_finite(&s.std) && s.std[0] > 0.0);
        prop_assert!(ok_finite(&s.transform(&data.features), |z| all_finite(z)));
        prop_assert!(ok_finite(&s.transform(&[probe]), |z| all_finite(z)));
    }

    /// Truncated and mutated parameter files: an error, or exactly the saved values.
    #[test]
    fn parameter_files_truncated_or_mutated(cut in any::<prop::sample::Index>(), pos in any::<prop::sample::Index>(), byte in any::<u8>(), head in any::<bool>()) {
        let mut builder = Qnn::builder(2).ansatz(qshade::qml::train::Ansatz::HardwareEfficient { layers: 1 }).seed(3);
        if head {
            builder = builder.affine_head(1).standardizer(Standardizer::fit(&moons(10)).unwrap());
        }
        let model = builder.clone().build().unwrap();
        let text = model.parameters_to_string().unwrap();
        let saved = model.parameters();
        // Truncation.
        let cut = cut.index(text.len());
        if text.is_char_boundary(cut) {
            let mut m = builder.clone().seed(99).build().unwrap();
            if m.load_parameters_str(&text[..cut]).is_ok() {
                prop_assert_eq!(m.parameters(), saved.clone());
            }
        }
        // One mutated byte: any result is fine as long as it is finite and nothing panics.
        let mut bytes = text.clone().into_bytes();
        let at = pos.index(bytes.len());
        bytes[at] = byte;
        if let Ok(mutated) = String::from_utf8(bytes) {
            let mut m = builder.seed(99).build().unwrap();
            let r = m.load_parameters_str(&mutated);
            prop_assert!(r.is_ok() || r.is_err());
            prop_assert!(all_finite(&m.parameters()));
            if let Some(s) = m.standardizer() {
                prop_assert!(all_finite(&s.mean) && s.std.iter().all(|v| v.is_finite() && *v > 0.0));
            }
        }
    }

    /// QAOA with arbitrary weights and settings on tiny graphs.
    #[test]
    fn qaoa_never_panics(
        weights in prop::collection::vec(nasty_f64(), 1..4),
        lr in nasty_f64(),
        layers in nasty_usize(),
        restarts in nasty_usize(),
        shots in 0usize..50,
    ) {
        let edges: Vec<(usize, usize, f64)> = weights.iter().enumerate().map(|(k, &w)| (k, k + 1, w)).collect();
        let n = edges.len() + 1;
        // Valid settings stay small (≤ 5 layers and starts, ≤ 4 nodes); huge ones must be errors.
        let config = QaoaConfig::default().iterations(2).learning_rate(lr).layers(layers).restarts(restarts).shots(shots);
        let r = solve_maxcut(&CpuBackend::new(), n, &edges, &config);
        prop_assert!(ok_finite(&r, |r| r.expected_cut.is_finite() && r.approximation_ratio.is_finite() && all_finite(&r.params) && all_finite(&r.history)));
        let _ = maxcut_observable(&edges);
        let _ = qaoa_maxcut(n, &edges, layers);
    }

    /// VQE with arbitrary settings and starting points.
    #[test]
    fn vqe_never_panics(lr in nasty_f64(), tol in nasty_f64(), theta in nasty_f64(), iterations in 0usize..4) {
        let config = VqeConfig::default().iterations(iterations).learning_rate(lr).gradient_tolerance(tol);
        let r = run_vqe(&CpuBackend::new(), &h2_ansatz().unwrap(), &h2_sto3g(), &[theta], &config);
        prop_assert!(ok_finite(&r, |r| r.energy.is_finite() && all_finite(&r.params) && all_finite(&r.energies)));
    }

    /// Kernel matrices and classifiers with arbitrary entries, labels and solver settings.
    #[test]
    fn kernels_never_panic(
        entries in prop::collection::vec(nasty_f64(), 0..17),
        rows in nasty_usize(),
        labels in prop::collection::vec(-2i64..3, 0..5),
        lambda in nasty_f64(),
        svm in any::<bool>(),
        i in nasty_usize(),
        gamma in nasty_f64(),
        x in prop::collection::vec(nasty_f64(), 0..8),
    ) {
        let n = (entries.len() as f64).sqrt() as usize;
        let cols = if rows == 0 { 0 } else { entries.len() / rows.max(1) };
        let _ = KernelMatrix::new(rows, cols, entries.clone());
        if let Ok(k) = KernelMatrix::new(n, n, entries[..n * n].to_vec()) {
            let _ = k.get(i, i);
            let _ = k.row(i);
            let solver = if svm { KernelSolver::Svm { c: lambda, tolerance: 1e-3, max_iterations: 1000 } } else { KernelSolver::ridge(lambda) };
            let r = KernelClassifier::fit(&k, &labels, solver);
            prop_assert!(ok_finite(&r, |m| m.models().iter().all(|b| b.bias.is_finite() && all_finite(&b.coefficients))));
            if let Ok(model) = r {
                prop_assert!(ok_finite(&model.decision_function(&k), |d| all_finite(d)));
                let _ = model.predict(&k);
                let _ = model.accuracy(&k, &labels);
            }
            let _ = k.eigenvalues();
        }
        let rbf = RbfKernel::new(gamma, 2);
        if let Ok(rbf) = rbf {
            prop_assert!(ok_finite(&rbf.matrix(&x), |k| all_finite(k.as_slice())));
        }
        let _ = RbfKernel::scaled_to(&x, 2);
        let fid = FidelityKernel::from_circuit(&angle_encoding(2, RotationAxis::Y, 1.0).unwrap()).unwrap();
        prop_assert!(ok_finite(&fid.matrix(&CpuBackend::new(), &x), |k| all_finite(k.as_slice())));
    }

    /// Optimizers with arbitrary hyper-parameters and gradients: finite parameters or an error
    /// (and then unchanged parameters).
    #[test]
    fn optimizers_never_go_non_finite(lr in nasty_f64(), second in nasty_f64(), grad in prop::collection::vec(nasty_f64(), 1..4), steps in 1usize..4) {
        let start = vec![0.5; grad.len()];
        let mut optimizers: Vec<Box<dyn Optimizer>> = vec![Box::new(Adam::new(lr)), Box::new(Sgd::new(lr, second))];
        for opt in &mut optimizers {
            let mut p = start.clone();
            for _ in 0..steps {
                let before = p.clone();
                if opt.step(&mut p, &grad).is_err() {
                    prop_assert_eq!(&p, &before);
                }
                prop_assert!(all_finite(&p));
            }
        }
        let mut spsa = Spsa::new(lr, second, 1);
        let mut p = start.clone();
        for _ in 0..steps {
            let _ = spsa.step(&mut p, |x| Ok(x.iter().map(|v| v * v * grad[0]).sum()));
            prop_assert!(all_finite(&p));
        }
    }

    /// Amplitude encoding with any qubit count and entries.
    #[test]
    fn amplitude_encoding_never_aborts(
        re in prop::collection::vec(nasty_f64(), 0..6),
        im in nasty_f64(),
        qubits in prop_oneof![0usize..5, Just(17usize), Just(40), Just(63), Just(64), Just(usize::MAX)],
    ) {
        let v: Vec<Complex64> = re.iter().map(|&r| Complex64::new(r, im)).collect();
        let _ = amplitude_encoding(&v, qubits);
    }
}
