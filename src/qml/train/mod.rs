//! Training QML models end to end: a quantum neural network ([`Qnn`]: input standardisation →
//! encoding circuit → ansatz → readout observables → optional classical affine layer), losses
//! with their gradients ([`Loss`]), a mini-batch training loop ([`fit`]) with Adam, SGD or SPSA
//! and a per-epoch [`History`], evaluation ([`evaluate`], [`Qnn::predict`]), plain-text
//! parameter files ([`params`]), data sets ([`Dataset`]: CSV, the bundled Iris data, seeded two
//! moons, stratified splits, [`Standardizer`]) and a logistic-regression baseline
//! ([`LogisticRegression`]).
//!
//! Everything runs on any [`crate::Backend`] through the batched API: per mini-batch, one
//! [`crate::Backend::gradient_batch`] call when the readout is one observable (values and
//! per-sample dθ in one pass), or one [`crate::Backend::forward_batch`] (values → loss →
//! `upstream`) and one `gradient_batch` otherwise; one `forward_batch` for a whole evaluation
//! set. No per-sample loop reaches the backend. The classical head's gradients and the chain
//! rule through it are computed on the host.
//!
//! `examples/qnn_classifier.rs` trains on Iris (three species) and two moons next to the
//! logistic-regression baseline.
//!
//! # Train a QNN
//!
//! ```
//! use qshade::qml::train::{evaluate, fit, Dataset, Qnn, Standardizer, TrainConfig};
//!
//! fn main() -> qshade::Result<()> {
//!     let iris = Dataset::iris()?.select_classes(&[0, 1])?; // setosa vs versicolor
//!     let (train, test) = iris.split(0.3, 7)?; // stratified, seeded
//!     let mut model = Qnn::builder(4) // 4 features → 4 qubits, RY encoding, 2 HEA layers, ⟨Z0⟩
//!         .standardizer(Standardizer::fit(&train)?)
//!         .seed(1)
//!         .build()?;
//!     let backend = qshade::CpuBackend::new(); // or qshade::GpuBackend::new()?
//!     let config = TrainConfig::default().epochs(10).verbose(true); // BCE, Adam
//!     let history = fit(&mut model, &backend, &train, &config)?; // one batched call per step
//!     let accuracy = evaluate(&model, &backend, &test, &config.loss)?.accuracy;
//!     println!("loss per epoch {:?}, test accuracy {accuracy:.3}", history.losses());
//!     let path = std::env::temp_dir().join("qshade_doc_iris_qnn.txt");
//!     model.save_parameters(&path)?; // "# qshade parameters v1", then "name value" lines
//!     model.load_parameters(&path)?;
//!     std::fs::remove_file(&path).ok();
//!     assert!(accuracy >= 0.9);
//!     Ok(())
//! }
//! ```

mod data;
mod fit;
mod logistic;
mod loss;
mod model;
pub mod params;

pub use data::{Dataset, Standardizer};
pub use fit::{evaluate, fit, EpochStats, Evaluation, History, OptimizerConfig, TrainConfig};
pub use logistic::{LogisticConfig, LogisticRegression};
pub use loss::{accuracy, predict_class, Loss};
pub use model::{Ansatz, BatchGradient, Encoding, Head, Qnn, QnnBuilder, MAX_HEAD_WEIGHTS};
