//! End-to-end training on the CPU and GPU backends, loss and model gradients against finite
//! differences, parameter files, data sets and the logistic-regression baseline.
//!
//! # Thresholds (test accuracy on a held-out, stratified 30 % split)
//!
//! | task                                  | threshold | chance | seen over 20 seeds (CPU)        |
//! |---------------------------------------|-----------|--------|---------------------------------|
//! | Iris setosa vs versicolor, Adam       | ≥ 0.90    | 0.50   | min 0.933, mean 0.992           |
//! | Iris setosa vs versicolor, SGD        | ≥ 0.90    | 0.50   | min 0.933, mean 0.990           |
//! | Iris setosa vs versicolor, SPSA       | ≥ 0.80    | 0.50   | min 0.900, mean 0.985           |
//! | Iris, 3 species, Adam                 | ≥ 0.85    | 0.33   | min 0.911, mean 0.959           |
//! | two moons (200, noise 0.1), Adam      | ≥ 0.90    | 0.50   | min 0.967, mean 0.993           |
//!
//! "Seen over 20 seeds" trains with split seed 100 + s and initial-parameter / shuffle seed s
//! for s = 0..20; the tests use one fixed seed. Each threshold lies at least one misclassified
//! test sample (1/30, 1/45 or 1/60) below the worst of those runs, so a correct implementation
//! passes with margin, also on the GPU, where f32 rounding changes the trajectory slightly (on
//! seeds 0..6 of the Iris-3 and moons runs, lavapipe reached the same test accuracy as the CPU
//! every time), while a broken gradient, loss or data pipeline stays near chance. The moons
//! threshold (0.90) is above the linear baseline's mean on that data (0.86; 0.82–0.93 over the
//! same 20 splits), so the QNN has to draw a non-linear boundary to pass reliably. SPSA's
//! threshold is lower because its gradient estimate is noisy.
//!
//! Every training test also checks `history.len() == epochs` and that the last epoch's
//! training loss is below 80 % of the first's.
//!
//! # Backends
//!
//! Each check is written once and run over backends from `tests/common` (failure messages
//! name the backend's label): model gradients on every backend with adjoint gradients
//! (`adjoint_backends()`: all but the chunked GPU configurations) against the f64 CPU reference; training and the save/load round trip on [`TRAINING_BACKENDS`], because
//! one training run takes 12–16 s on lavapipe (Iris 3 species, 60 epochs).
//!
//! GPU tests fail when no adapter is found, unless `QSHADE_ALLOW_NO_GPU=1` (then they print
//! that they were skipped). Runtimes (release, 2 cores): each CPU training run under 0.2 s; on
//! lavapipe the slowest (Iris 3 species, 60 epochs) 12–16 s, the whole file about 20 s.

mod common;

use common::rng::Rng;
use qshade::qml::templates::{zz_feature_map, Entanglement, RotationAxis};
use qshade::qml::train::params::{format_parameters, parse_parameters, HEADER};
use qshade::qml::train::{
    accuracy, evaluate, fit, predict_class, Ansatz, Dataset, Encoding, LogisticConfig,
    LogisticRegression, Loss, OptimizerConfig, Qnn, Standardizer, TrainConfig,
};
use qshade::{Backend, CpuBackend, GradientMethod, Observable};

/// The backends training runs on: the default fast CPU in f64 and f32, and the f32 GPU (the
/// precisions and engines an optimiser can see). The other GPU configurations (f64, chunked,
/// fused, register blocks) compute the same batched values and gradients, which
/// [`model_gradients_match_the_reference_on_every_backend`] checks on every backend; training on
/// each of them would add minutes on lavapipe.
const TRAINING_BACKENDS: [&str; 3] = ["cpu-fast-f64", "cpu-fast-f32", "gpu-f32"];

/// A training task: data split, model, config and the accuracy it must reach.
struct Task {
    name: &'static str,
    train: Dataset,
    test: Dataset,
    model: Qnn,
    config: TrainConfig,
    threshold: f64,
}

fn iris_two_class(optimizer: OptimizerConfig, epochs: usize, threshold: f64) -> Task {
    let data = Dataset::iris().unwrap().select_classes(&[0, 1]).unwrap();
    let (train, test) = data.split(0.3, 1).unwrap();
    let model = Qnn::builder(4)
        .standardizer(Standardizer::fit(&train).unwrap())
        .seed(1)
        .build()
        .unwrap();
    let config = TrainConfig::default()
        .epochs(epochs)
        .batch_size(16)
        .loss(Loss::BinaryCrossEntropy { scale: 4.0 })
        .optimizer(optimizer)
        .seed(1);
    Task {
        name: "iris setosa/versicolor",
        train,
        test,
        model,
        config,
        threshold,
    }
}

fn iris_three_class() -> Task {
    let (train, test) = Dataset::iris().unwrap().split(0.3, 1).unwrap();
    let model = Qnn::builder(4)
        .ansatz(Ansatz::HardwareEfficient { layers: 4 })
        .classes(3)
        .standardizer(Standardizer::fit(&train).unwrap())
        .seed(1)
        .build()
        .unwrap();
    let config = TrainConfig::default()
        .epochs(60)
        .loss(Loss::CrossEntropy { scale: 4.0 })
        .seed(1);
    Task {
        name: "iris 3 species",
        train,
        test,
        model,
        config,
        threshold: 0.85,
    }
}

fn two_moons() -> Task {
    let (train, test) = Dataset::two_moons(200, 0.1, 3)
        .unwrap()
        .split(0.3, 1)
        .unwrap();
    let model = Qnn::builder(2)
        .qubits(4)
        .affine_head(1)
        .standardizer(Standardizer::fit(&train).unwrap())
        .seed(1)
        .build()
        .unwrap();
    let config = TrainConfig::default()
        .epochs(30)
        .loss(Loss::BinaryCrossEntropy { scale: 4.0 })
        .seed(1);
    Task {
        name: "two moons",
        train,
        test,
        model,
        config,
        threshold: 0.9,
    }
}

/// Trains the task on every backend of [`TRAINING_BACKENDS`] and checks history, loss decrease
/// and test accuracy.
fn converges_everywhere(task: impl Fn() -> Task) {
    for (label, backend) in common::backends_labelled(&TRAINING_BACKENDS) {
        converges(&label, backend.as_ref(), task());
    }
}

/// Trains the task on `backend` and checks history, loss decrease and test accuracy.
fn converges(label: &str, backend: &dyn Backend, mut task: Task) {
    let start = std::time::Instant::now();
    let history = fit(&mut task.model, backend, &task.train, &task.config).unwrap();
    let test = evaluate(&task.model, backend, &task.test, &task.config.loss).unwrap();
    let losses = history.losses();
    println!(
        "{} on {label} ({}): test accuracy {:.3} (threshold {}), train loss {:.3} → {:.3}, {:.1} s",
        task.name,
        backend.name(),
        test.accuracy,
        task.threshold,
        losses[0],
        losses[losses.len() - 1],
        start.elapsed().as_secs_f64()
    );
    assert_eq!(
        history.len(),
        task.config.epochs,
        "{} on {label}: one history entry per epoch",
        task.name
    );
    assert!(
        history
            .epochs
            .iter()
            .enumerate()
            .all(|(i, e)| e.epoch == i + 1 && e.samples_per_second > 0.0 && e.loss.is_finite()),
        "{} on {label}: epoch numbers, throughput and losses",
        task.name
    );
    assert!(
        losses[losses.len() - 1] < 0.8 * losses[0],
        "{} on {label}: loss did not decrease: {losses:?}",
        task.name
    );
    assert!(
        test.accuracy >= task.threshold,
        "{} on {label}: test accuracy {} < {}",
        task.name,
        test.accuracy,
        task.threshold
    );
}

fn adam() -> OptimizerConfig {
    OptimizerConfig::Adam {
        learning_rate: 0.05,
    }
}

#[test]
fn iris_two_class_converges() {
    converges_everywhere(|| iris_two_class(adam(), 15, 0.9));
}

#[test]
fn iris_three_class_converges() {
    converges_everywhere(iris_three_class);
}

#[test]
fn two_moons_converges() {
    converges_everywhere(two_moons);
}

fn sgd() -> OptimizerConfig {
    OptimizerConfig::Sgd {
        learning_rate: 0.3,
        momentum: 0.9,
    }
}

fn spsa() -> OptimizerConfig {
    OptimizerConfig::Spsa { a: 2.0, c: 0.2 }
}

#[test]
fn sgd_and_spsa_converge() {
    converges_everywhere(|| iris_two_class(sgd(), 15, 0.9));
    converges_everywhere(|| iris_two_class(spsa(), 40, 0.8));
}

#[test]
fn training_is_reproducible_on_the_cpu() {
    let (a, b) = (iris_two_class(sgd(), 3, 0.0), iris_two_class(sgd(), 3, 0.0));
    let (mut ma, mut mb) = (a.model, b.model);
    let ha = fit(&mut ma, &CpuBackend::new(), &a.train, &a.config).unwrap();
    let hb = fit(&mut mb, &CpuBackend::new(), &b.train, &b.config).unwrap();
    assert_eq!(ha.losses(), hb.losses());
    assert_eq!(ma.parameters(), mb.parameters());
}

// ---------------------------------------------------------------------------------------------
// Losses and gradients.

/// Central differences of `f` at `x`.
fn numeric_gradient(x: &[f64], h: f64, mut f: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let (mut p, mut m) = (x.to_vec(), x.to_vec());
            p[i] += h;
            m[i] -= h;
            (f(&p) - f(&m)) / (2.0 * h)
        })
        .collect()
}

#[test]
fn loss_gradients_match_finite_differences() {
    let mut rng = Rng::new(5);
    let losses = [
        Loss::Mse,
        Loss::BinaryCrossEntropy { scale: 3.0 },
        Loss::CrossEntropy { scale: 2.5 },
        Loss::Hinge { margin: 1.0 },
        Loss::Hinge { margin: 0.3 },
    ];
    for loss in losses {
        for k in [1usize, 3] {
            if loss.check(k, if k == 1 { 2 } else { k }).is_err() {
                continue; // BCE has one output, cross-entropy several.
            }
            let b = 6;
            let classes = if k == 1 { 2 } else { k };
            let labels: Vec<usize> = (0..b).map(|i| i % classes).collect();
            // Outputs in [−1.5, 1.5], kept 0.05 away from the hinge's kinks (where it is not
            // differentiable), so central differences with h = 1e-6 see one smooth branch.
            let outputs: Vec<f64> = loop {
                let o: Vec<f64> = (0..b * k).map(|_| rng.range(-1.5, 1.5)).collect();
                let margin = match loss {
                    Loss::Hinge { margin } => margin,
                    _ => break o,
                };
                let near_kink = (0..b).any(|r| {
                    let row = &o[r * k..(r + 1) * k];
                    let y = labels[r];
                    if k == 1 {
                        (margin - if y == 1 { row[0] } else { -row[0] }).abs() < 0.05
                    } else {
                        (0..k).any(|j| j != y && (margin - row[y] + row[j]).abs() < 0.05)
                    }
                });
                if !near_kink {
                    break o;
                }
            };
            let (value, grad) = loss.value_and_grad(&outputs, &labels, k).unwrap();
            assert!(value.is_finite() && value >= 0.0, "{loss:?}: loss {value}");
            let numeric = numeric_gradient(&outputs, 1e-6, |o| loss.value(o, &labels, k).unwrap());
            for (i, (a, n)) in grad.iter().zip(&numeric).enumerate() {
                assert!(
                    (a - n).abs() <= 1e-7 + 1e-6 * n.abs(),
                    "{loss:?} k={k}: dL/do[{i}] analytic {a} vs numeric {n}"
                );
            }
        }
    }
}

#[test]
fn losses_have_the_documented_values() {
    // BCE at o = 0 is log 2 whatever the label; cross-entropy of equal outputs is log k.
    let bce = Loss::BinaryCrossEntropy { scale: 4.0 };
    assert!((bce.value(&[0.0, 0.0], &[0, 1], 1).unwrap() - 2f64.ln()).abs() < 1e-15);
    let ce = Loss::CrossEntropy { scale: 4.0 };
    assert!((ce.value(&[0.3, 0.3, 0.3], &[2], 3).unwrap() - 3f64.ln()).abs() < 1e-12);
    // Extreme logits stay finite (stable softplus / log-sum-exp).
    assert!(bce.value(&[1e6, -1e6], &[0, 1], 1).unwrap().is_finite());
    assert!(ce.value(&[1e6, -1e6, 0.0], &[1], 3).unwrap().is_finite());
    // MSE uses ±1 targets; hinge is zero beyond the margin.
    assert_eq!(Loss::Mse.value(&[1.0, -1.0], &[1, 0], 1).unwrap(), 0.0);
    assert_eq!(Loss::Mse.value(&[0.0], &[1], 1).unwrap(), 1.0);
    assert_eq!(
        Loss::Hinge { margin: 1.0 }
            .value(&[2.0, -0.5, 0.1], &[0], 3)
            .unwrap(),
        0.0
    );
    assert_eq!(
        Loss::Hinge { margin: 1.0 }.value(&[0.5], &[1], 1).unwrap(),
        0.5
    );
    // Predictions and accuracy.
    assert_eq!(predict_class(&[0.2]), 1);
    assert_eq!(predict_class(&[-0.2]), 0);
    assert_eq!(predict_class(&[0.1, 0.7, 0.3]), 1);
    assert_eq!(accuracy(&[0, 1, 1, 0], &[0, 1, 0, 0]).unwrap(), 0.75);
    assert!(accuracy(&[0], &[0, 1]).is_err());
}

#[test]
fn losses_reject_bad_shapes_and_labels() {
    assert!(
        Loss::CrossEntropy { scale: 1.0 }
            .value(&[0.1], &[0], 1)
            .is_err(),
        "cross-entropy needs ≥ 2 outputs"
    );
    assert!(
        Loss::BinaryCrossEntropy { scale: 1.0 }
            .value(&[0.1, 0.2], &[0], 2)
            .is_err(),
        "bce needs one output"
    );
    assert!(
        Loss::BinaryCrossEntropy { scale: 0.0 }
            .value(&[0.1], &[0], 1)
            .is_err(),
        "scale must be > 0"
    );
    assert!(Loss::Hinge { margin: f64::NAN }
        .value(&[0.1], &[0], 1)
        .is_err());
    assert!(
        Loss::Mse.value(&[0.1], &[2], 1).is_err(),
        "label out of range"
    );
    assert!(
        Loss::Mse.value(&[0.1, 0.2], &[0], 1).is_err(),
        "shape mismatch"
    );
    assert!(Loss::Mse.value(&[], &[], 1).is_err(), "empty batch");
}

/// A model with random parameters (head included) for gradient checks.
fn random_model(builder: qshade::qml::train::QnnBuilder, seed: u64) -> Qnn {
    let mut model = builder.seed(seed).init_range(3.0).build().unwrap();
    let mut rng = Rng::new(seed + 100);
    let params: Vec<f64> = (0..model.num_parameters())
        .map(|_| rng.range(-1.5, 1.5))
        .collect();
    model.set_parameters(&params).unwrap();
    model
}

/// The model gradient (through the circuit, the head and the loss) against central
/// differences of the loss, on the CPU (f64): every path of `loss_and_gradient`.
#[test]
fn model_gradients_match_finite_differences() {
    let data = Dataset::iris().unwrap();
    let scaler = Standardizer::fit(&data).unwrap();
    let idx: Vec<usize> = (0..150).step_by(19).collect(); // 8 rows, all three species
    let batch = data.subset(&idx).unwrap();
    let binary_labels: Vec<usize> = batch.labels.iter().map(|&l| usize::from(l > 0)).collect();
    let zz = zz_feature_map(4, 1, Entanglement::Linear).unwrap();
    let cases: Vec<(&str, Qnn, Loss, Vec<usize>)> = vec![
        (
            "1 obs, no head, bce",
            random_model(Qnn::builder(4).standardizer(scaler.clone()), 1),
            Loss::BinaryCrossEntropy { scale: 3.0 },
            binary_labels.clone(),
        ),
        (
            "1 obs, head, mse",
            random_model(
                Qnn::builder(4).affine_head(1).standardizer(scaler.clone()),
                2,
            ),
            Loss::Mse,
            binary_labels.clone(),
        ),
        (
            "1 obs, head 1→1, hinge, 5 qubits",
            random_model(Qnn::builder(4).qubits(5).affine_head(1), 3),
            Loss::Hinge { margin: 5.0 },
            binary_labels.clone(),
        ),
        (
            "3 obs, head 3→3, cross-entropy, strongly entangling",
            random_model(
                Qnn::builder(4)
                    .classes(3)
                    .affine_head(3)
                    .ansatz(Ansatz::StronglyEntangling { layers: 2 })
                    .standardizer(scaler.clone()),
                4,
            ),
            Loss::CrossEntropy { scale: 2.0 },
            batch.labels.clone(),
        ),
        (
            "3 obs, no head, mse",
            random_model(Qnn::builder(4).classes(3).standardizer(scaler.clone()), 5),
            Loss::Mse,
            batch.labels.clone(),
        ),
        (
            "2 obs → head 2→1, bce, ZZ feature map",
            random_model(
                Qnn::builder(4)
                    .encoding(Encoding::FeatureMap(zz))
                    .readout(vec![Observable::z(0), Observable::parse("Z1 Z2").unwrap()])
                    .affine_head(1),
                6,
            ),
            Loss::BinaryCrossEntropy { scale: 2.0 },
            binary_labels.clone(),
        ),
    ];
    let cpu = CpuBackend::new();
    for (name, model, loss, labels) in cases {
        let g = model
            .loss_and_gradient(
                &cpu,
                &batch.features,
                &labels,
                &loss,
                GradientMethod::Adjoint,
            )
            .unwrap();
        let k = model.num_outputs();
        assert_eq!(g.gradient.len(), model.num_parameters());
        assert_eq!(
            g.outputs,
            model.outputs(&cpu, &batch.features).unwrap(),
            "{name}: outputs"
        );
        assert!((g.loss - loss.value(&g.outputs, &labels, k).unwrap()).abs() < 1e-12);
        let numeric = numeric_gradient(&model.parameters(), 1e-5, |p| {
            loss.value(
                &model.outputs_with(&cpu, p, &batch.features).unwrap(),
                &labels,
                k,
            )
            .unwrap()
        });
        let names = model.parameter_names();
        for (i, (a, n)) in g.gradient.iter().zip(&numeric).enumerate() {
            assert!(
                (a - n).abs() <= 1e-7 + 1e-6 * n.abs(),
                "{name}: dL/d{} analytic {a} vs numeric {n}",
                names[i]
            );
        }
        // Parameter shift gives the same gradient as the adjoint method.
        let ps = model
            .loss_and_gradient(
                &cpu,
                &batch.features,
                &labels,
                &loss,
                GradientMethod::ParameterShift,
            )
            .unwrap();
        for (i, (a, p)) in g.gradient.iter().zip(&ps.gradient).enumerate() {
            assert!(
                (a - p).abs() <= 1e-10,
                "{name}: dL/d{} adjoint {a} vs parameter shift {p}",
                names[i]
            );
        }
    }
}

/// The same model gradients on every backend with adjoint gradients (all but the chunked GPU
/// configurations, see `common::adjoint_backends`) as on the f64 CPU reference. f32 tolerance 2e-4
/// absolute (loss 2e-5): f32 rounding of ≲ 1e-6 per value and per derivative (see
/// tests/gpu_batch.rs), times the |dL/do| ≤ 4 of a scale-4 loss and ≤ 3 readouts, summed over
/// 8 samples and averaged. f64 tolerance 1e-10 (loss and gradient): the engines differ only by
/// rounding, ~1e-15 per value.
#[test]
fn model_gradients_match_the_reference_on_every_backend() {
    let cpu = CpuBackend::reference();
    let data = Dataset::iris().unwrap();
    let idx: Vec<usize> = (0..150).step_by(19).collect();
    let batch = data.subset(&idx).unwrap();
    let scaler = Standardizer::fit(&data).unwrap();
    let binary: Vec<usize> = batch.labels.iter().map(|&l| usize::from(l > 0)).collect();
    let cases = [
        (
            random_model(
                Qnn::builder(4).affine_head(1).standardizer(scaler.clone()),
                7,
            ),
            Loss::BinaryCrossEntropy { scale: 4.0 },
            binary,
        ),
        (
            random_model(
                Qnn::builder(4)
                    .classes(3)
                    .affine_head(3)
                    .standardizer(scaler.clone()),
                8,
            ),
            Loss::CrossEntropy { scale: 4.0 },
            batch.labels.clone(),
        ),
    ];
    for (model, loss, labels) in cases {
        let gradient = |backend: &dyn Backend| {
            model
                .loss_and_gradient(
                    backend,
                    &batch.features,
                    &labels,
                    &loss,
                    GradientMethod::Adjoint,
                )
                .unwrap()
        };
        let want = gradient(&cpu);
        for (label, backend) in common::adjoint_backends() {
            let got = gradient(backend.as_ref());
            let (loss_tol, grad_tol) = (
                common::precision_tolerance(backend.as_ref(), 1e-10, 2e-5),
                common::precision_tolerance(backend.as_ref(), 1e-10, 2e-4),
            );
            assert!(
                (want.loss - got.loss).abs() < loss_tol,
                "{label}: loss {} vs reference {}",
                got.loss,
                want.loss
            );
            for (i, (w, g)) in want.gradient.iter().zip(&got.gradient).enumerate() {
                assert!(
                    (w - g).abs() < grad_tol,
                    "{label}: {}: {g} vs reference {w}",
                    model.parameter_names()[i]
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parameter files.

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("qshade_train_test_{}_{name}", std::process::id()))
}

/// A moons model trained for a few epochs, and its test set.
fn trained_moons_model(backend: &dyn Backend) -> (Qnn, Dataset) {
    let task = two_moons();
    let mut model = task.model;
    let config = task.config.epochs(3);
    fit(&mut model, backend, &task.train, &config).unwrap();
    (model, task.test)
}

/// A model shaped like the moons model, with another seed and standardizer: loading must
/// overwrite both.
fn fresh_moons_model() -> Qnn {
    let other = Dataset::two_moons(50, 0.3, 99).unwrap();
    Qnn::builder(2)
        .qubits(4)
        .affine_head(1)
        .standardizer(Standardizer::fit(&other).unwrap())
        .seed(42)
        .build()
        .unwrap()
}

fn round_trip(label: &str, backend: &dyn Backend) {
    let (model, test) = trained_moons_model(backend);
    let path = temp_path(&format!("roundtrip_{label}"));
    model.save_parameters(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# qshade parameters v1\n"),
        "{label}: header: {text}"
    );
    assert!(
        text.contains("\nhea.l0.ry.q0 ")
            && text.contains("\nhead.w.0.0 ")
            && text.contains("\nhead.b.0 ")
            && text.contains("\ninput.mean.1 "),
        "{label}: {text}"
    );
    let mut loaded = fresh_moons_model();
    assert_ne!(loaded.parameters(), model.parameters());
    loaded.load_parameters(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(
        loaded.parameters(),
        model.parameters(),
        "{label}: parameters are bit-identical after the round trip"
    );
    assert_eq!(loaded.standardizer(), model.standardizer(), "{label}");
    assert_eq!(
        loaded.outputs(backend, &test.features).unwrap(),
        model.outputs(backend, &test.features).unwrap(),
        "{label}: outputs"
    );
    assert_eq!(
        loaded.predict(backend, &test.features).unwrap(),
        model.predict(backend, &test.features).unwrap(),
        "{label}: predictions"
    );
}

#[test]
fn save_load_round_trip_gives_identical_predictions() {
    for (label, backend) in common::backends_labelled(&TRAINING_BACKENDS) {
        round_trip(&label, backend.as_ref());
    }
}

#[test]
fn malformed_parameter_files_are_errors() {
    let (model, _) = trained_moons_model(&CpuBackend::new());
    let good = model.parameters_to_string().unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let data_lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with('#'))
        .collect();
    let first_name = data_lines[0].split_whitespace().next().unwrap();
    let with =
        |f: &dyn Fn(&str) -> String| -> String { lines.iter().map(|l| f(l) + "\n").collect() };
    // The good file with its first data line replaced by `first`.
    let first_line_as = |first: String| -> String {
        with(&|l| {
            if l == data_lines[0] {
                first.clone()
            } else {
                l.to_string()
            }
        })
    };
    let cases: Vec<(&str, String)> = vec![
        ("empty file", String::new()),
        ("no header", data_lines.join("\n")),
        ("other version", good.replacen("v1", "v2", 1)),
        ("one field", first_line_as(first_name.to_string())),
        (
            "three fields",
            first_line_as(format!("{} 1.0", data_lines[0])),
        ),
        ("not a number", first_line_as(format!("{first_name} zero"))),
        ("NaN", first_line_as(format!("{first_name} NaN"))),
        ("infinite", first_line_as(format!("{first_name} inf"))),
        ("repeated name", format!("{good}{}\n", data_lines[0])),
        ("missing name", first_line_as(String::new())),
        ("unknown name", format!("{good}extra.param 0.5\n")),
        (
            "non-positive std",
            good.lines()
                .map(|l| {
                    if l.starts_with("input.std.0 ") {
                        "input.std.0 0.0".to_string()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("binary junk", "\u{0}\u{1}\u{2} \u{fffd}\n".to_string()),
    ];
    let mut target = fresh_moons_model();
    let before = target.parameters();
    for (name, text) in &cases {
        match target.load_parameters_str(text) {
            Err(e) => println!("{name}: {e}"),
            Ok(()) => panic!("{name}: loading should fail:\n{text}"),
        }
        assert_eq!(
            target.parameters(),
            before,
            "{name}: a failed load must leave the model unchanged"
        );
    }
    // A file for a differently shaped model (3 layers instead of 2) is an error too.
    let mut bigger = Qnn::builder(2)
        .qubits(4)
        .ansatz(Ansatz::HardwareEfficient { layers: 3 })
        .affine_head(1)
        .standardizer(model.standardizer().unwrap().clone())
        .build()
        .unwrap();
    assert!(bigger.load_parameters_str(&good).is_err());
    // A missing file is an error, not a panic.
    assert!(target.load_parameters(temp_path("does_not_exist")).is_err());
    // The good text loads, with comments and blank lines anywhere after the header, in any order.
    let mut shuffled: Vec<&str> = data_lines.clone();
    shuffled.reverse();
    let text = format!("{HEADER}\n\n# a comment\n{}\n\n", shuffled.join("\n"));
    target.load_parameters_str(&text).unwrap();
    assert_eq!(target.parameters(), model.parameters());
}

#[test]
fn parameter_format_round_trips_every_f64() {
    let values = [
        0.1,
        -0.0,
        1e-300,
        f64::MAX,
        f64::MIN_POSITIVE,
        std::f64::consts::PI,
        -123456.789e10,
        5e-324,
    ];
    let entries: Vec<(String, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("p{i}"), *v))
        .collect();
    let text = format_parameters(&entries, &["a comment".into()]).unwrap();
    let back = parse_parameters(&text).unwrap();
    for ((n, v), (m, w)) in entries.iter().zip(&back) {
        assert_eq!(n, m);
        assert_eq!(v.to_bits(), w.to_bits(), "{n}: {v} → {w}");
    }
    assert!(format_parameters(&[("has space".into(), 1.0)], &[]).is_err());
    assert!(format_parameters(&[("p".into(), f64::NAN)], &[]).is_err());
}

// ---------------------------------------------------------------------------------------------
// Data and the baseline.

#[test]
fn iris_is_the_real_data_set() {
    let iris = Dataset::iris().unwrap();
    assert_eq!(iris.len(), 150);
    assert_eq!(iris.num_features, 4);
    assert_eq!(iris.class_names, ["setosa", "versicolor", "virginica"]);
    assert_eq!(iris.class_counts(), [50, 50, 50]);
    assert_eq!(
        iris.feature_names,
        ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    );
    assert_eq!(iris.row(0).unwrap(), [5.1, 3.5, 1.4, 0.2]);
    assert_eq!(iris.row(149).unwrap(), [5.9, 3.0, 5.1, 1.8]);
    // Column means from scikit-learn's description: 5.84, 3.05 (3.057), 3.76, 1.20.
    let s = Standardizer::fit(&iris).unwrap();
    for (m, want) in s.mean.iter().zip([5.843, 3.057, 3.758, 1.199]) {
        assert!((m - want).abs() < 1e-3, "mean {m} vs {want}");
    }
    // The shipped file loads from disk the same way.
    let from_file =
        Dataset::load_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv")).unwrap();
    assert_eq!(from_file, iris);
}

#[test]
fn csv_loader_reads_and_rejects() {
    let ok =
        Dataset::from_csv_str("# comment\na,b,label\n1,2,yes\n3,4.5,no\n\n-1e-3,0,yes\n").unwrap();
    assert_eq!(ok.len(), 3);
    assert_eq!(ok.features, [1.0, 2.0, 3.0, 4.5, -1e-3, 0.0]);
    assert_eq!(ok.labels, [0, 1, 0]);
    assert_eq!(ok.class_names, ["yes", "no"]);
    assert_eq!(ok.feature_names, ["a", "b"]);
    let no_header = Dataset::from_csv_str("1,2,0\n3,4,1\n").unwrap();
    assert_eq!(no_header.class_names, ["0", "1"]);
    for (name, text) in [
        ("empty", ""),
        ("only a header", "a,b,c\n"),
        ("ragged row", "a,b,c\n1,2,x\n1,x\n"),
        ("not a number", "a,b,c\n1,two,x\n"),
        ("NaN", "a,b,c\n1,NaN,x\n"),
        ("empty class", "a,b,c\n1,2,\n"),
        ("no features", "c\nx\n"),
    ] {
        assert!(
            Dataset::from_csv_str(text).is_err(),
            "{name} should be an error"
        );
    }
    assert!(Dataset::load_csv(temp_path("missing.csv")).is_err());
}

#[test]
fn splits_standardisation_and_moons_are_seeded_and_sane() {
    let iris = Dataset::iris().unwrap();
    let (train, test) = iris.split(0.3, 4).unwrap();
    assert_eq!((train.len(), test.len()), (105, 45));
    assert_eq!(test.class_counts(), [15, 15, 15], "stratified");
    assert_eq!(
        iris.split(0.3, 4).unwrap(),
        (train.clone(), test.clone()),
        "seeded"
    );
    assert_ne!(
        iris.split(0.3, 5).unwrap().1,
        test,
        "another seed, another split"
    );
    assert!(iris.split(0.0, 1).is_err() && iris.split(1.0, 1).is_err());
    let s = Standardizer::fit(&train).unwrap();
    let z = s.transform_dataset(&train).unwrap();
    for j in 0..4 {
        let col: Vec<f64> = (0..z.len()).map(|i| z.row(i).unwrap()[j]).collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64;
        assert!(
            mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12,
            "feature {j}: mean {mean}, var {var}"
        );
    }
    let pair = iris.select_classes(&[2, 1]).unwrap();
    assert_eq!(pair.class_names, ["virginica", "versicolor"]);
    assert_eq!(pair.class_counts(), [50, 50]);

    let moons = Dataset::two_moons(200, 0.1, 3).unwrap();
    assert_eq!(moons.len(), 200);
    assert_eq!(moons.class_counts(), [100, 100]);
    assert_eq!(moons, Dataset::two_moons(200, 0.1, 3).unwrap(), "seeded");
    assert_ne!(moons, Dataset::two_moons(200, 0.1, 4).unwrap());
    // Without noise every point lies on its half circle.
    let clean = Dataset::two_moons(31, 0.0, 1).unwrap();
    for i in 0..clean.len() {
        let (x, y) = (clean.row(i).unwrap()[0], clean.row(i).unwrap()[1]);
        let (cx, cy, upper) = if clean.labels[i] == 0 {
            (0.0, 0.0, true)
        } else {
            (1.0, 0.5, false)
        };
        assert!((((x - cx).powi(2) + (y - cy).powi(2)).sqrt() - 1.0).abs() < 1e-12);
        assert!(if upper { y >= -1e-12 } else { y <= 0.5 + 1e-12 });
    }
    assert!(Dataset::two_moons(1, 0.1, 1).is_err() && Dataset::two_moons(10, -1.0, 1).is_err());
}

#[test]
fn logistic_regression_baseline() {
    let iris = Dataset::iris().unwrap();
    let (train, test) = iris.split(0.3, 1).unwrap();
    let s = Standardizer::fit(&train).unwrap();
    let (train, test) = (
        s.transform_dataset(&train).unwrap(),
        s.transform_dataset(&test).unwrap(),
    );
    let softmax = LogisticRegression::fit(&train, &LogisticConfig::default()).unwrap();
    assert_eq!(softmax.bias.len(), 3);
    assert!(
        softmax.accuracy(&test).unwrap() >= 0.9,
        "softmax regression on Iris: {}",
        softmax.accuracy(&test).unwrap()
    );
    let binary = LogisticRegression::fit(
        &train.select_classes(&[0, 1]).unwrap(),
        &LogisticConfig::default(),
    )
    .unwrap();
    assert_eq!(binary.bias.len(), 1);
    assert_eq!(
        binary
            .accuracy(&test.select_classes(&[0, 1]).unwrap())
            .unwrap(),
        1.0,
        "setosa/versicolor is linearly separable"
    );
    // Two moons is not linearly separable: the baseline stays well below the QNN's threshold.
    let (mtrain, mtest) = Dataset::two_moons(200, 0.1, 3)
        .unwrap()
        .split(0.3, 1)
        .unwrap();
    let ms = Standardizer::fit(&mtrain).unwrap();
    let lr = LogisticRegression::fit(
        &ms.transform_dataset(&mtrain).unwrap(),
        &LogisticConfig::default(),
    )
    .unwrap();
    let acc = lr.accuracy(&ms.transform_dataset(&mtest).unwrap()).unwrap();
    assert!((0.7..0.9).contains(&acc), "moons baseline {acc}");
}

// ---------------------------------------------------------------------------------------------
// Misuse gives errors.

#[test]
fn invalid_models_and_configs_are_errors() {
    let cpu = CpuBackend::new();
    let iris = Dataset::iris().unwrap();
    assert!(Qnn::builder(0).build().is_err(), "no features");
    assert!(
        Qnn::builder(4).qubits(3).build().is_err(),
        "fewer qubits than angle-encoded features"
    );
    assert!(
        Qnn::builder(4).classes(5).build().is_err(),
        "one ⟨Z⟩ per class needs 5 qubits"
    );
    assert!(
        Qnn::builder(4)
            .ansatz(Ansatz::HardwareEfficient { layers: 0 })
            .build()
            .is_err(),
        "nothing to train"
    );
    assert!(
        Qnn::builder(4)
            .readout(vec![Observable::z(7)])
            .build()
            .is_err(),
        "readout outside the circuit"
    );
    assert!(Qnn::builder(3)
        .encoding(Encoding::FeatureMap(
            zz_feature_map(4, 1, Entanglement::Linear).unwrap()
        ))
        .build()
        .is_err());
    assert!(
        Qnn::builder(2)
            .standardizer(Standardizer::fit(&iris).unwrap())
            .build()
            .is_err(),
        "standardizer width"
    );
    assert!(Qnn::builder(4).affine_head(0).build().is_err());

    let mut binary = Qnn::builder(4).build().unwrap();
    let fits = |model: &mut Qnn, data: &Dataset, config: TrainConfig| {
        fit(model, &cpu, data, &config).is_err()
    };
    assert!(
        fits(&mut binary, &iris, TrainConfig::default()),
        "3 classes, one output"
    );
    let two = iris.select_classes(&[0, 1]).unwrap();
    assert!(
        fits(
            &mut binary,
            &two,
            TrainConfig::default().loss(Loss::CrossEntropy { scale: 1.0 })
        ),
        "cross-entropy on one output"
    );
    assert!(fits(&mut binary, &two, TrainConfig::default().epochs(0)));
    assert!(fits(
        &mut binary,
        &two,
        TrainConfig::default().batch_size(0)
    ));
    let moons = Dataset::two_moons(20, 0.1, 1).unwrap();
    assert!(
        fits(&mut binary, &moons, TrainConfig::default()),
        "2 features for a 4-feature model"
    );
    assert!(
        binary.predict(&cpu, &[1.0, 2.0, 3.0]).is_err(),
        "not a whole sample"
    );
    assert!(binary.set_parameters(&[0.0; 3]).is_err());
    assert!(binary
        .set_parameters(&vec![f64::NAN; binary.num_parameters()])
        .is_err());
    let three = Qnn::builder(4).classes(3).build().unwrap();
    assert!(
        evaluate(&three, &cpu, &two, &Loss::CrossEntropy { scale: 1.0 }).is_err(),
        "3 outputs for 2 classes"
    );
    assert!(
        Dataset::new(vec![1.0, 2.0], vec![0], 1, vec!["a".into()]).is_err(),
        "shape"
    );
    assert!(
        Dataset::new(vec![1.0], vec![3], 1, vec!["a".into()]).is_err(),
        "label range"
    );
    assert!(
        iris.subset(&[150]).is_err()
            && iris.select_classes(&[3]).is_err()
            && iris.select_classes(&[1, 1]).is_err()
    );
}

#[test]
fn feature_map_and_custom_circuits_train_too() {
    // A ZZ feature map encoding (derived product features) trains on the CPU through the same
    // loop; a short run must at least lower the loss.
    let data = Dataset::iris().unwrap().select_classes(&[0, 1]).unwrap();
    let (train, _) = data.split(0.3, 2).unwrap();
    let mut model = Qnn::builder(4)
        .encoding(Encoding::FeatureMap(
            zz_feature_map(4, 1, Entanglement::Linear).unwrap(),
        ))
        .ansatz(Ansatz::StronglyEntangling { layers: 1 })
        .standardizer(Standardizer::fit(&train).unwrap())
        .build()
        .unwrap();
    let config = TrainConfig::default()
        .epochs(5)
        .loss(Loss::Hinge { margin: 1.0 });
    let h = fit(&mut model, &CpuBackend::new(), &train, &config).unwrap();
    assert!(h.losses()[4] < h.losses()[0], "{:?}", h.losses());
    // An angle encoding circuit given directly, with RX rotations.
    let enc = qshade::qml::templates::angle_encoding(4, RotationAxis::X, 0.5).unwrap();
    let model = Qnn::builder(4)
        .encoding(Encoding::Circuit(enc))
        .build()
        .unwrap();
    assert_eq!(
        model
            .predict(&CpuBackend::new(), &train.features)
            .unwrap()
            .len(),
        train.len()
    );
}

#[test]
fn file_and_format_errors_name_the_file_and_line() {
    match Dataset::load_csv(temp_path("no_such_file.csv")) {
        Err(qshade::Error::Io { path, .. }) => {
            assert!(path.ends_with("no_such_file.csv"), "{path}")
        }
        other => panic!("expected Error::Io, got {other:?}"),
    }
    match Dataset::from_csv_str("a,b,class\n1.0,2.0,x\n1.0,oops,y\n") {
        Err(qshade::Error::Parse {
            what: "CSV",
            line: 3,
            message,
        }) => assert!(message.contains("oops"), "{message}"),
        other => panic!("expected a CSV parse error on line 3, got {other:?}"),
    }
    match qshade::qml::train::params::parse_parameters(
        "# qshade parameters v1\ntheta[0] 0.5\ntheta[1] zero\n",
    ) {
        Err(qshade::Error::Parse {
            what: "parameter file",
            line: 3,
            ..
        }) => {}
        other => panic!("expected a parameter-file parse error on line 3, got {other:?}"),
    }
}
