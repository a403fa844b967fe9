//! Trains quantum neural networks end to end on two tasks and compares them with a classical
//! logistic-regression baseline trained on the same split:
//!
//! 1. **Iris, all three species** (150 flowers, 4 features; `data/iris.csv`, Fisher 1936 via
//!    scikit-learn): 4 qubits, RY angle encoding of the standardised features, 4
//!    hardware-efficient layers, readout ⟨Z0⟩, ⟨Z1⟩, ⟨Z2⟩ (one per class), softmax
//!    cross-entropy, Adam.
//! 2. **Two moons** (200 points, noise 0.1, seeded): 4 qubits re-encoding the 2 features twice,
//!    2 hardware-efficient layers, readout ⟨Z0⟩ into a trained affine output layer, binary
//!    cross-entropy, Adam. The moons are not linearly separable: the linear baseline averages
//!    0.86 over random splits.
//!
//! Run: `cargo run --release --example qnn_classifier` (add `-- --cpu` to skip the GPU).
//! Without a GPU on Linux, install lavapipe first: `apt-get install mesa-vulkan-drivers libvulkan1`;
//! with no adapter at all the example says so and runs on the CPU backend.

#[path = "common/backend.rs"]
mod backend;
#[path = "common/progress.rs"]
mod progress;

use qshade::qml::templates::RotationAxis;
use qshade::qml::train::{
    evaluate, fit, Ansatz, Dataset, Encoding, History, LogisticConfig, LogisticRegression, Loss,
    OptimizerConfig, Qnn, Standardizer, TrainConfig,
};
use qshade::{Backend, Result};
use std::time::Instant;

/// Test accuracies and timing of one task.
struct Outcome {
    task: &'static str,
    qnn: f64,
    baseline: f64,
    seconds: f64,
    epochs: usize,
    train_size: usize,
}

/// Trains `model` with `config`, prints its loss curve, and compares with logistic regression.
fn run(
    task: &'static str,
    backend: &dyn Backend,
    model: &mut Qnn,
    train: &Dataset,
    test: &Dataset,
    scaler: &Standardizer,
    config: &TrainConfig,
) -> Result<Outcome> {
    println!(
        "\n== {task}: {} train / {} test rows, {} classes, {} qubits, {} parameters, {} loss",
        train.len(),
        test.len(),
        train.num_classes(),
        model.num_qubits(),
        model.num_parameters(),
        config.loss.name()
    );
    let start = Instant::now();
    let (bar, on_progress) = progress::bar("training");
    let history = fit(model, backend, train, &config.clone().progress(on_progress))?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    print_curve(&history);
    let qnn = evaluate(model, backend, test, &config.loss)?.accuracy;
    let baseline = LogisticRegression::fit(
        &scaler.transform_dataset(train)?,
        &LogisticConfig::default(),
    )?
    .accuracy(&scaler.transform_dataset(test)?)?;
    println!(
        "{task}: QNN test accuracy {qnn:.3}, logistic regression {baseline:.3} ({seconds:.1} s)"
    );
    Ok(Outcome {
        task,
        qnn,
        baseline,
        seconds,
        epochs: config.epochs,
        train_size: train.len(),
    })
}

/// The per-epoch training loss as a bar chart.
fn print_curve(history: &History) {
    let max = history
        .losses()
        .iter()
        .cloned()
        .fold(f64::MIN_POSITIVE, f64::max);
    println!("loss curve:");
    for e in &history.epochs {
        let bar = "#".repeat((40.0 * e.loss / max).round() as usize);
        println!("  {:>3} {:.4} {bar}", e.epoch, e.loss);
    }
}

fn iris(backend: &dyn Backend) -> Result<Outcome> {
    let data = Dataset::iris()?;
    let (train, test) = data.split(0.3, 1)?;
    let scaler = Standardizer::fit(&train)?;
    let mut model = Qnn::builder(4)
        .encoding(Encoding::angle(RotationAxis::Y, 1.0))
        .ansatz(Ansatz::HardwareEfficient { layers: 4 })
        .classes(3)
        .standardizer(scaler.clone())
        .seed(1)
        .build()?;
    let config = TrainConfig::default()
        .epochs(60)
        .batch_size(16)
        .loss(Loss::CrossEntropy { scale: 4.0 })
        .optimizer(OptimizerConfig::Adam {
            learning_rate: 0.05,
        })
        .seed(1);
    run(
        "iris (3 classes)",
        backend,
        &mut model,
        &train,
        &test,
        &scaler,
        &config,
    )
}

fn moons(backend: &dyn Backend) -> Result<Outcome> {
    let data = Dataset::two_moons(200, 0.1, 3)?;
    let (train, test) = data.split(0.3, 1)?;
    let scaler = Standardizer::fit(&train)?;
    let mut model = Qnn::builder(2)
        .qubits(4)
        .encoding(Encoding::angle(RotationAxis::Y, 1.0))
        .ansatz(Ansatz::HardwareEfficient { layers: 2 })
        .classes(2)
        .affine_head(1)
        .standardizer(scaler.clone())
        .seed(1)
        .build()?;
    let config = TrainConfig::default()
        .epochs(30)
        .batch_size(16)
        .loss(Loss::BinaryCrossEntropy { scale: 4.0 })
        .optimizer(OptimizerConfig::Adam {
            learning_rate: 0.05,
        })
        .seed(1);
    run(
        "two moons",
        backend,
        &mut model,
        &train,
        &test,
        &scaler,
        &config,
    )
}

fn main() -> Result<()> {
    let backend = backend::backend()?;
    let outcomes = [iris(backend.as_ref())?, moons(backend.as_ref())?];
    println!(
        "\n{:<18} {:>9} {:>10} {:>8} {:>12}",
        "task", "QNN test", "logistic", "seconds", "samples/s"
    );
    for o in &outcomes {
        let rate = (o.epochs * o.train_size) as f64 / o.seconds;
        println!(
            "{:<18} {:>9.3} {:>10.3} {:>8.1} {:>12.0}",
            o.task, o.qnn, o.baseline, o.seconds, rate
        );
    }
    Ok(())
}
