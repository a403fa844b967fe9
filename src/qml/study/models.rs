//! The study's models behind one [`Estimator`] interface (fit / decision function / predict /
//! hyperparameters), binary classification with labels 0 and 1.
//!
//! Quantum (each with a `separable` ablation that removes every entangling gate):
//! * [`ModelKind::Qnn`]: angle (RY) encoding → hardware-efficient ansatz (RY·RZ layers and a
//!   CNOT ring), readout (1/n)·Σ_q ⟨Z_q⟩, trained with binary cross-entropy and Adam by
//!   [`train::fit`](crate::qml::train::fit) (one batched gradient call per mini-batch);
//! * [`ModelKind::ReUploading`]: data re-uploading, every layer re-encodes RY(s·x_q) before
//!   its trainable RY·RZ and CNOT ring; same readout and training;
//! * [`ModelKind::IqpKernel`]: an SVM on the fidelity kernel of the IQP embedding
//!   ([`iqp_encoding`], 2 repetitions), the Gram matrix from one batched
//!   [`FidelityKernel::matrix`] call per block (train × train, test × train);
//! * [`ModelKind::ProjectedKernel`]: the projected quantum kernel of Huang et al. (2021):
//!   k(x, x') = exp(−γ Σ_q ‖ρ_q(x) − ρ_q(x')‖²_F) on the one-qubit reduced states of the IQP
//!   embedding, whose ⟨X_q⟩, ⟨Y_q⟩, ⟨Z_q⟩ come from one batched
//!   [`Backend::forward_batch`] call per block (‖ρ − ρ'‖²_F = ½ Σ_P (⟨P⟩ − ⟨P⟩')²), then an SVM.
//!
//! The separable ablations: the QNNs drop their CNOTs; the kernels use the embedding without
//! its ZZ terms (H·RZ(x_q) on every qubit, twice), a product state.
//!
//! Classical:
//! * [`ModelKind::Logistic`]: L2-regularised logistic regression, `linfa-logistic` (L-BFGS
//!   through argmin);
//! * [`ModelKind::RbfSvm`]: C-SVM with the Gaussian kernel, `linfa-svm` (SMO, a port of
//!   libsvm's solver);
//! * [`ModelKind::Mlp`]: a one-hidden-layer tanh perceptron with a sigmoid output trained
//!   full-batch with Adam and L2 weight decay (hand-written: no maintained Rust crate offers a
//!   small MLP without a deep-learning framework; the numerics are 60 lines).
//!
//! Every model standardises its inputs with a [`Standardizer`] fitted on its training set.

use crate::backend::Backend;
use crate::circuit::{Angle, Circuit, Observable, Pauli};
use crate::compile::program::{Batch, Program};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::qkernel::{
    FidelityKernel, KernelClassifier, KernelMatrix, KernelSolver, RbfKernel,
};
use crate::qml::templates::{iqp_encoding, RotationAxis};
use crate::qml::train::{
    fit, Ansatz, Dataset, Encoding, Loss, OptimizerConfig, Qnn, Standardizer, TrainConfig,
};
use linfa::prelude::*;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// A model's hyperparameters: (name, value) pairs.
pub type Hyperparameters = Vec<(String, f64)>;

/// The most grid points a model offers ([`ModelSpec::grid`]).
pub const MAX_GRID: usize = 4;

/// The most qubits a quantum model of the study builds (one per feature).
pub const MAX_QUBITS: usize = 20;

/// One estimator interface for quantum and classical models (binary, labels 0/1).
pub trait Estimator: Send {
    /// Trains on `train` (the backend runs the quantum circuits; classical models ignore it).
    fn fit(&mut self, backend: &dyn Backend, train: &Dataset) -> Result<()>;
    /// One score per row of `features` (row-major, the training feature count): larger means
    /// class 1, positive predicts class 1.
    fn decision_function(&self, backend: &dyn Backend, features: &[f64]) -> Result<Vec<f64>>;
    /// Predicted labels: 1 where the decision value is > 0.
    fn predict(&self, backend: &dyn Backend, features: &[f64]) -> Result<Vec<usize>> {
        Ok(self
            .decision_function(backend, features)?
            .iter()
            .map(|&s| usize::from(s > 0.0))
            .collect())
    }
    /// The hyperparameters this estimator was built with.
    fn hyperparameters(&self) -> Hyperparameters;
}

/// The model families of the study.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModelKind {
    /// QNN: angle encoding + hardware-efficient ansatz.
    Qnn,
    /// Data re-uploading QNN.
    ReUploading,
    /// IQP-embedding fidelity-kernel SVM.
    IqpKernel,
    /// Projected quantum kernel SVM.
    ProjectedKernel,
    /// Logistic regression (linfa-logistic).
    Logistic,
    /// RBF-kernel SVM (linfa-svm).
    RbfSvm,
    /// One-hidden-layer perceptron.
    Mlp,
}

/// A model of the study: a family and, for quantum families, whether entanglement is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelSpec {
    /// The family.
    pub kind: ModelKind,
    /// The separable (no entangling gates) ablation of a quantum family.
    pub separable: bool,
}

/// Training settings the QNN-based models share (epochs dominate the study's cost); default
/// 20 epochs in mini-batches of 16.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QnnTraining {
    /// Epochs of mini-batch training.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
}

impl Default for QnnTraining {
    fn default() -> Self {
        QnnTraining {
            epochs: 20,
            batch_size: 16,
        }
    }
}

impl ModelSpec {
    /// Every model of the study: the four quantum families, entangled and separable, then the
    /// three classical ones.
    pub fn all() -> Vec<ModelSpec> {
        let mut out = Vec::new();
        for kind in [
            ModelKind::Qnn,
            ModelKind::ReUploading,
            ModelKind::IqpKernel,
            ModelKind::ProjectedKernel,
        ] {
            out.push(ModelSpec {
                kind,
                separable: false,
            });
            out.push(ModelSpec {
                kind,
                separable: true,
            });
        }
        for kind in [ModelKind::Logistic, ModelKind::RbfSvm, ModelKind::Mlp] {
            out.push(ModelSpec {
                kind,
                separable: false,
            });
        }
        out
    }

    /// Whether the model runs circuits.
    pub fn is_quantum(&self) -> bool {
        !matches!(
            self.kind,
            ModelKind::Logistic | ModelKind::RbfSvm | ModelKind::Mlp
        )
    }

    /// A short stable name: `qnn`, `reupload`, `iqp-svm`, `pqk-svm` (with `-sep` for the
    /// separable ablation), `logistic`, `rbf-svm`, `mlp`.
    pub fn name(&self) -> String {
        let base = match self.kind {
            ModelKind::Qnn => "qnn",
            ModelKind::ReUploading => "reupload",
            ModelKind::IqpKernel => "iqp-svm",
            ModelKind::ProjectedKernel => "pqk-svm",
            ModelKind::Logistic => "logistic",
            ModelKind::RbfSvm => "rbf-svm",
            ModelKind::Mlp => "mlp",
        };
        if self.separable && self.is_quantum() {
            format!("{base}-sep")
        } else {
            base.to_string()
        }
    }

    /// The model named `name` (as [`ModelSpec::name`] writes it).
    pub fn parse(name: &str) -> Result<ModelSpec> {
        ModelSpec::all()
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let names: Vec<String> = ModelSpec::all().iter().map(|m| m.name()).collect();
                Error::InvalidArgument(format!(
                    "unknown model '{name}'; the models are {}",
                    names.join(", ")
                ))
            })
    }

    /// The first `budget` points (1..=[`MAX_GRID`]) of this model's hyperparameter grid, spread
    /// over its full grid of [`MAX_GRID`] points, so every model gets the same search budget.
    pub fn grid(&self, budget: usize) -> Result<Vec<Hyperparameters>> {
        if !(1..=MAX_GRID).contains(&budget) {
            return Err(Error::InvalidArgument(format!(
                "the grid budget must be in 1..={MAX_GRID}, got {budget}"
            )));
        }
        let h = |pairs: &[(&str, f64)]| -> Hyperparameters {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        let full: Vec<Hyperparameters> = match self.kind {
            ModelKind::Qnn | ModelKind::ReUploading => vec![
                h(&[("layers", 1.0), ("learning_rate", 0.1)]),
                h(&[("layers", 2.0), ("learning_rate", 0.05)]),
                h(&[("layers", 2.0), ("learning_rate", 0.1)]),
                h(&[("layers", 3.0), ("learning_rate", 0.05)]),
            ],
            ModelKind::IqpKernel => vec![
                h(&[("c", 1.0), ("bandwidth", 0.3)]),
                h(&[("c", 10.0), ("bandwidth", 0.3)]),
                h(&[("c", 1.0), ("bandwidth", 1.0)]),
                h(&[("c", 10.0), ("bandwidth", 1.0)]),
            ],
            ModelKind::ProjectedKernel => vec![
                h(&[("c", 1.0), ("gamma", 0.5)]),
                h(&[("c", 10.0), ("gamma", 0.5)]),
                h(&[("c", 1.0), ("gamma", 2.0)]),
                h(&[("c", 10.0), ("gamma", 2.0)]),
            ],
            ModelKind::Logistic => vec![
                h(&[("alpha", 1e-3)]),
                h(&[("alpha", 1e-2)]),
                h(&[("alpha", 1e-1)]),
                h(&[("alpha", 1.0)]),
            ],
            ModelKind::RbfSvm => vec![
                h(&[("c", 1.0), ("gamma", 0.1)]),
                h(&[("c", 10.0), ("gamma", 0.1)]),
                h(&[("c", 1.0), ("gamma", 1.0)]),
                h(&[("c", 10.0), ("gamma", 1.0)]),
            ],
            ModelKind::Mlp => vec![
                h(&[("hidden", 8.0), ("alpha", 1e-4)]),
                h(&[("hidden", 8.0), ("alpha", 1e-2)]),
                h(&[("hidden", 32.0), ("alpha", 1e-4)]),
                h(&[("hidden", 32.0), ("alpha", 1e-2)]),
            ],
        };
        let picks: Vec<usize> = if budget == 1 {
            vec![0]
        } else {
            (0..budget)
                .map(|i| (i * (MAX_GRID - 1) + (budget - 1) / 2) / (budget - 1))
                .collect()
        };
        Ok(picks.into_iter().map(|i| full[i].clone()).collect())
    }

    /// An untrained estimator with hyperparameters `hyper` (missing names take the grid's
    /// first point) and seed `seed`.
    pub fn build(
        &self,
        hyper: &Hyperparameters,
        training: QnnTraining,
        seed: u64,
    ) -> Result<Box<dyn Estimator>> {
        let defaults = self.grid(1)?.remove(0);
        let get = |name: &str| -> Result<f64> {
            let v = hyper
                .iter()
                .chain(defaults.iter())
                .find(|(k, _)| k == name)
                .map(|(_, v)| *v)
                .unwrap_or(f64::NAN);
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(Error::InvalidArgument(format!(
                    "hyperparameter {name} of {} must be finite and > 0, got {v}",
                    self.name()
                )))
            }
        };
        let count = |name: &str| -> Result<usize> {
            let v = get(name)?;
            if v.fract() != 0.0 || v > 1024.0 {
                return Err(Error::InvalidArgument(format!(
                    "hyperparameter {name} of {} must be a whole number ≤ 1024, got {v}",
                    self.name()
                )));
            }
            Ok(v as usize)
        };
        if training.epochs == 0 || training.batch_size == 0 {
            return Err(Error::InvalidArgument(format!(
                "QNN training needs epochs and batch size ≥ 1, got {} and {}",
                training.epochs, training.batch_size
            )));
        }
        Ok(match self.kind {
            ModelKind::Qnn | ModelKind::ReUploading => Box::new(QnnModel {
                reuploading: self.kind == ModelKind::ReUploading,
                separable: self.separable,
                layers: count("layers")?,
                learning_rate: get("learning_rate")?,
                training,
                seed,
                model: None,
            }),
            ModelKind::IqpKernel | ModelKind::ProjectedKernel => Box::new(KernelModel {
                projected: self.kind == ModelKind::ProjectedKernel,
                separable: self.separable,
                c: get("c")?,
                scale: if self.kind == ModelKind::IqpKernel {
                    get("bandwidth")?
                } else {
                    get("gamma")?
                },
                fitted: None,
            }),
            ModelKind::Logistic => Box::new(LogisticModel {
                alpha: get("alpha")?,
                fitted: None,
            }),
            ModelKind::RbfSvm => Box::new(RbfSvmModel {
                c: get("c")?,
                gamma: get("gamma")?,
                fitted: None,
            }),
            ModelKind::Mlp => Box::new(Mlp {
                hidden: count("hidden")?,
                alpha: get("alpha")?,
                seed,
                fitted: None,
            }),
        })
    }
}

fn check_binary(train: &Dataset) -> Result<()> {
    train.validate()?;
    if train.len() < 2 || train.labels.iter().any(|&l| l > 1) {
        return Err(Error::InvalidArgument(format!(
            "the study's models are binary classifiers: they need ≥ 2 rows labelled 0/1, got {} rows with {} classes (use Dataset::select_classes)",
            train.len(),
            train.num_classes()
        )));
    }
    if !train.labels.contains(&0) || !train.labels.contains(&1) {
        return Err(Error::InvalidArgument(
            "the training set holds only one class; both classes are needed".into(),
        ));
    }
    Ok(())
}

fn not_fitted(what: &str) -> Error {
    Error::InvalidArgument(format!("the {what} model is not fitted; call fit first"))
}

fn check_rows(features: &[f64], d: usize) -> Result<usize> {
    if d == 0 || !features.len().is_multiple_of(d) {
        return Err(Error::InvalidArgument(format!(
            "{} feature values do not form rows of {d}",
            features.len()
        )));
    }
    Ok(features.len() / d)
}

fn check_qubits(d: usize) -> Result<()> {
    if d > MAX_QUBITS {
        return Err(Error::InvalidArgument(format!(
            "the study's quantum models use one qubit per feature; {d} features exceed {MAX_QUBITS}"
        )));
    }
    Ok(())
}

/// (1/n)·Σ_q Z_q.
fn mean_z(n: usize) -> Result<Observable> {
    let mut obs = Observable::constant(0.0);
    for q in 0..n {
        obs.add_term(1.0 / n as f64, &[(q, Pauli::Z)])?;
    }
    Ok(obs)
}

struct QnnModel {
    reuploading: bool,
    separable: bool,
    layers: usize,
    learning_rate: f64,
    training: QnnTraining,
    seed: u64,
    model: Option<Qnn>,
}

/// `layers` × [RY(θ)·RZ(θ) per qubit, CNOT ring unless separable], with data re-uploading
/// RY(x_q·π/2) before each layer when `inputs` (then the circuit's inputs are the features).
fn variational(n: usize, layers: usize, separable: bool, inputs: bool) -> Result<Circuit> {
    let mut c = Circuit::new(n)?;
    let mut k = 0;
    for _ in 0..layers {
        for q in 0..n {
            if inputs {
                c.ry(q, Angle::input(q).times(std::f64::consts::FRAC_PI_2))?;
            }
            c.ry(q, Angle::theta(k))?.rz(q, Angle::theta(k + 1))?;
            k += 2;
        }
        if !separable && n > 1 {
            for q in 0..n {
                c.cnot(q, (q + 1) % n)?;
            }
        }
    }
    if inputs {
        c.declare_inputs(n);
    }
    Ok(c)
}

impl Estimator for QnnModel {
    fn fit(&mut self, backend: &dyn Backend, train: &Dataset) -> Result<()> {
        check_binary(train)?;
        let d = train.num_features;
        check_qubits(d)?;
        let builder = Qnn::builder(d)
            .readout(vec![mean_z(d)?])
            .standardizer(Standardizer::fit(train)?)
            .seed(self.seed);
        let builder = if self.reuploading {
            builder
                .encoding(Encoding::Circuit(variational(
                    d,
                    self.layers,
                    self.separable,
                    true,
                )?))
                .ansatz(Ansatz::Circuit(Circuit::new(d)?))
        } else if self.separable {
            builder
                .encoding(Encoding::angle(
                    RotationAxis::Y,
                    std::f64::consts::FRAC_PI_2,
                ))
                .ansatz(Ansatz::Circuit(variational(d, self.layers, true, false)?))
        } else {
            builder
                .encoding(Encoding::angle(
                    RotationAxis::Y,
                    std::f64::consts::FRAC_PI_2,
                ))
                .ansatz(Ansatz::HardwareEfficient {
                    layers: self.layers,
                })
        };
        let mut model = builder.build()?;
        let config = TrainConfig::default()
            .epochs(self.training.epochs)
            .batch_size(self.training.batch_size)
            .loss(Loss::BinaryCrossEntropy { scale: 4.0 })
            .optimizer(OptimizerConfig::Adam {
                learning_rate: self.learning_rate,
            })
            .seed(self.seed);
        fit(&mut model, backend, train, &config)?;
        self.model = Some(model);
        Ok(())
    }

    fn decision_function(&self, backend: &dyn Backend, features: &[f64]) -> Result<Vec<f64>> {
        let model = self.model.as_ref().ok_or_else(|| not_fitted("QNN"))?;
        check_rows(features, model.num_features())?;
        model.outputs(backend, features)
    }

    fn hyperparameters(&self) -> Hyperparameters {
        vec![
            ("layers".into(), self.layers as f64),
            ("learning_rate".into(), self.learning_rate),
        ]
    }
}

/// The IQP embedding, or its product-state ablation (H·RZ(x_q) per qubit, twice).
fn embedding(d: usize, separable: bool) -> Result<FidelityKernel> {
    if separable {
        let mut c = Circuit::new(d)?;
        for _ in 0..2 {
            for q in 0..d {
                c.h(q)?.rz(q, Angle::input(q))?;
            }
        }
        c.declare_inputs(d);
        FidelityKernel::from_circuit(&c)
    } else {
        FidelityKernel::new(iqp_encoding(d, 2)?)
    }
}

struct KernelFit {
    standardizer: Standardizer,
    kernel: FidelityKernel,
    /// Training rows as the kernel sees them: scaled features (fidelity) or the 3n one-qubit
    /// Pauli expectations (projected).
    train_rows: Vec<f64>,
    rbf: Option<RbfKernel>,
    classifier: KernelClassifier,
}

struct KernelModel {
    projected: bool,
    separable: bool,
    c: f64,
    /// Feature scale of the fidelity kernel, or γ of the projected kernel.
    scale: f64,
    fitted: Option<KernelFit>,
}

impl KernelModel {
    /// Kernel inputs of raw rows: standardised features times the bandwidth (fidelity), or
    /// their ⟨X_q⟩, ⟨Y_q⟩, ⟨Z_q⟩ in one batched forward pass (projected).
    fn rows(
        &self,
        backend: &dyn Backend,
        standardizer: &Standardizer,
        kernel: &FidelityKernel,
        features: &[f64],
    ) -> Result<Vec<f64>> {
        let x = standardizer.transform(features)?;
        if !self.projected {
            return Ok(x.iter().map(|v| v * self.scale).collect());
        }
        let n = kernel.num_qubits();
        let count = check_rows(&x, n)?;
        let program: &Program = kernel.program();
        let raw = if self.separable {
            x.clone()
        } else {
            iqp_encoding(n, 2)?.features_batch(&x)?
        };
        let batch = Batch::shared(&[], &raw, count);
        let observables: Vec<Observable> = (0..n)
            .flat_map(|q| [Observable::x(q), Observable::y(q), Observable::z(q)])
            .collect();
        backend.forward_batch(program, &batch, &observables)
    }

    fn gram(&self, backend: &dyn Backend, fit: &KernelFit, rows: &[f64]) -> Result<KernelMatrix> {
        match &fit.rbf {
            Some(rbf) => rbf.cross(rows, &fit.train_rows),
            None => fit.kernel.cross(backend, rows, &fit.train_rows),
        }
    }
}

impl Estimator for KernelModel {
    fn fit(&mut self, backend: &dyn Backend, train: &Dataset) -> Result<()> {
        check_binary(train)?;
        let d = train.num_features;
        check_qubits(d)?;
        let standardizer = Standardizer::fit(train)?;
        let kernel = embedding(d, self.separable)?;
        let train_rows = self.rows(backend, &standardizer, &kernel, &train.features)?;
        let (rbf, k_train) = if self.projected {
            // exp(−γ Σ_q ‖Δρ_q‖²_F) = exp(−(γ/2) Σ_P Δ⟨P⟩²).
            let rbf = RbfKernel::new(self.scale / 2.0, 3 * d)?;
            let k = rbf.matrix(&train_rows)?;
            (Some(rbf), k)
        } else {
            (None, kernel.matrix(backend, &train_rows)?)
        };
        let labels: Vec<i64> = train
            .labels
            .iter()
            .map(|&l| if l == 1 { 1 } else { -1 })
            .collect();
        let classifier = KernelClassifier::fit(&k_train, &labels, KernelSolver::svm(self.c))?;
        self.fitted = Some(KernelFit {
            standardizer,
            kernel,
            train_rows,
            rbf,
            classifier,
        });
        Ok(())
    }

    fn decision_function(&self, backend: &dyn Backend, features: &[f64]) -> Result<Vec<f64>> {
        let fit = self.fitted.as_ref().ok_or_else(|| not_fitted("kernel"))?;
        check_rows(features, fit.standardizer.num_features())?;
        let rows = self.rows(backend, &fit.standardizer, &fit.kernel, features)?;
        let k = self.gram(backend, fit, &rows)?;
        fit.classifier.decision_function(&k)
    }

    fn hyperparameters(&self) -> Hyperparameters {
        let name = if self.projected { "gamma" } else { "bandwidth" };
        vec![("c".into(), self.c), (name.into(), self.scale)]
    }
}

fn to_array(features: &[f64], d: usize) -> Result<Array2<f64>> {
    let rows = check_rows(features, d)?;
    Array2::from_shape_vec((rows, d), features.to_vec())
        .map_err(|e| Error::InvalidArgument(format!("feature matrix: {e}")))
}

struct LogisticModel {
    alpha: f64,
    fitted: Option<(
        Standardizer,
        linfa_logistic::FittedLogisticRegression<f64, usize>,
    )>,
}

impl Estimator for LogisticModel {
    fn fit(&mut self, _backend: &dyn Backend, train: &Dataset) -> Result<()> {
        check_binary(train)?;
        let s = Standardizer::fit(train)?;
        let x = to_array(&s.transform(&train.features)?, train.num_features)?;
        let y = Array1::from_vec(train.labels.clone());
        let data = linfa::Dataset::new(x, y);
        let fitted = linfa_logistic::LogisticRegression::default()
            .alpha(self.alpha)
            .max_iterations(200)
            .fit(&data)
            .map_err(|e| Error::InvalidArgument(format!("logistic regression: {e}")))?;
        self.fitted = Some((s, fitted));
        Ok(())
    }

    fn decision_function(&self, _backend: &dyn Backend, features: &[f64]) -> Result<Vec<f64>> {
        let (s, m) = self.fitted.as_ref().ok_or_else(|| not_fitted("logistic"))?;
        let x = to_array(&s.transform(features)?, s.num_features())?;
        // The log-odds of linfa's positive class (the larger class in training).
        let logits = x.dot(m.params()) + m.intercept();
        let sign = if m.labels().pos.class == 1 { 1.0 } else { -1.0 };
        Ok(logits.iter().map(|v| sign * v).collect())
    }

    fn hyperparameters(&self) -> Hyperparameters {
        vec![("alpha".into(), self.alpha)]
    }
}

struct RbfSvmModel {
    c: f64,
    gamma: f64,
    fitted: Option<(Standardizer, linfa_svm::Svm<f64, bool>)>,
}

impl Estimator for RbfSvmModel {
    fn fit(&mut self, _backend: &dyn Backend, train: &Dataset) -> Result<()> {
        check_binary(train)?;
        let s = Standardizer::fit(train)?;
        let x = to_array(&s.transform(&train.features)?, train.num_features)?;
        let y = Array1::from_iter(train.labels.iter().map(|&l| l == 1));
        let data = linfa::Dataset::new(x, y);
        // linfa's Gaussian kernel is exp(−‖x − x'‖²/eps): eps = 1/γ.
        let svm = linfa_svm::Svm::<f64, bool>::params()
            .pos_neg_weights(self.c, self.c)
            .gaussian_kernel(1.0 / self.gamma)
            .fit(&data)
            .map_err(|e| Error::InvalidArgument(format!("RBF SVM: {e}")))?;
        self.fitted = Some((s, svm));
        Ok(())
    }

    fn decision_function(&self, _backend: &dyn Backend, features: &[f64]) -> Result<Vec<f64>> {
        let (s, svm) = self.fitted.as_ref().ok_or_else(|| not_fitted("RBF SVM"))?;
        let x = to_array(&s.transform(features)?, s.num_features())?;
        Ok(x.outer_iter()
            .map(|row| svm.weighted_sum(&row) - svm.rho)
            .collect())
    }

    fn hyperparameters(&self) -> Hyperparameters {
        vec![("c".into(), self.c), ("gamma".into(), self.gamma)]
    }
}

/// Full-batch Adam steps of the MLP.
const MLP_EPOCHS: usize = 300;

struct MlpWeights {
    standardizer: Standardizer,
    d: usize,
    /// h × d input weights, then h biases, then h output weights, then the output bias.
    w: Vec<f64>,
}

struct Mlp {
    hidden: usize,
    alpha: f64,
    seed: u64,
    fitted: Option<MlpWeights>,
}

impl Mlp {
    /// Logits of rows `x` (standardised) and, when `grad` is given with labels, the gradient
    /// of the mean cross-entropy plus (α/2)·‖weights‖² added into it.
    fn forward(
        h: usize,
        d: usize,
        w: &[f64],
        x: &[f64],
        train: Option<(&[usize], f64, &mut [f64])>,
    ) -> Vec<f64> {
        let (w1, rest) = w.split_at(h * d);
        let (b1, rest) = rest.split_at(h);
        let (w2, b2) = rest.split_at(h);
        let rows = x.len() / d;
        let mut logits = Vec::with_capacity(rows);
        let mut act = vec![0.0; h];
        let mut train = train;
        for (r, xr) in x.chunks(d).enumerate() {
            for j in 0..h {
                let z: f64 = b1[j]
                    + w1[j * d..(j + 1) * d]
                        .iter()
                        .zip(xr)
                        .map(|(a, b)| a * b)
                        .sum::<f64>();
                act[j] = z.tanh();
            }
            let o = b2[0] + act.iter().zip(w2).map(|(a, b)| a * b).sum::<f64>();
            logits.push(o);
            if let Some((labels, _, g)) = train.as_mut() {
                let p = 1.0 / (1.0 + (-o).exp());
                let delta = (p - labels[r] as f64) / rows as f64;
                let (g1, grest) = g.split_at_mut(h * d);
                let (gb1, grest) = grest.split_at_mut(h);
                let (g2, gb2) = grest.split_at_mut(h);
                gb2[0] += delta;
                for j in 0..h {
                    g2[j] += delta * act[j];
                    let dz = delta * w2[j] * (1.0 - act[j] * act[j]);
                    gb1[j] += dz;
                    for (gk, xk) in g1[j * d..(j + 1) * d].iter_mut().zip(xr) {
                        *gk += dz * xk;
                    }
                }
            }
        }
        if let Some((_, alpha, g)) = train {
            for (gk, wk) in g[..h * d].iter_mut().zip(w1) {
                *gk += alpha * wk;
            }
            for (gk, wk) in g[h * d + h..h * d + 2 * h].iter_mut().zip(w2) {
                *gk += alpha * wk;
            }
        }
        logits
    }
}

impl Estimator for Mlp {
    fn fit(&mut self, _backend: &dyn Backend, train: &Dataset) -> Result<()> {
        check_binary(train)?;
        let d = train.num_features;
        let h = self.hidden;
        let size = h
            .checked_mul(d)
            .and_then(|v| v.checked_add(2 * h + 1))
            .filter(|&v| v <= 1 << 24)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "an MLP of {h} hidden units on {d} features is too large"
                ))
            })?;
        let standardizer = Standardizer::fit(train)?;
        let x = standardizer.transform(&train.features)?;
        let mut rng = Rng::new(self.seed);
        let mut w: Vec<f64> = (0..size).map(|_| 0.0).collect();
        for (i, wi) in w.iter_mut().enumerate() {
            let fan_in = if i < h * d { d } else { h };
            let is_bias = (h * d..h * d + h).contains(&i) || i == size - 1;
            if !is_bias {
                *wi = rng.normal() / (fan_in as f64).sqrt();
            }
        }
        let (lr, b1, b2, eps): (f64, f64, f64, f64) = (0.05, 0.9, 0.999, 1e-8);
        let (mut m, mut v) = (vec![0.0; size], vec![0.0; size]);
        let mut g = vec![0.0; size];
        for t in 1..=MLP_EPOCHS {
            g.iter_mut().for_each(|x| *x = 0.0);
            Mlp::forward(h, d, &w, &x, Some((&train.labels, self.alpha, &mut g)));
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            for k in 0..size {
                m[k] = b1 * m[k] + (1.0 - b1) * g[k];
                v[k] = b2 * v[k] + (1.0 - b2) * g[k] * g[k];
                w[k] -= lr * (m[k] / c1) / ((v[k] / c2).sqrt() + eps);
            }
        }
        if w.iter().any(|x| !x.is_finite()) {
            return Err(Error::InvalidArgument(
                "MLP training diverged (non-finite weights); lower the learning rate".into(),
            ));
        }
        self.fitted = Some(MlpWeights { standardizer, d, w });
        Ok(())
    }

    fn decision_function(&self, _backend: &dyn Backend, features: &[f64]) -> Result<Vec<f64>> {
        let f = self.fitted.as_ref().ok_or_else(|| not_fitted("MLP"))?;
        check_rows(features, f.d)?;
        let x = f.standardizer.transform(features)?;
        Ok(Mlp::forward(self.hidden, f.d, &f.w, &x, None))
    }

    fn hyperparameters(&self) -> Hyperparameters {
        vec![
            ("hidden".into(), self.hidden as f64),
            ("alpha".into(), self.alpha),
        ]
    }
}
