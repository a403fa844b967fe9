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
//!   ([`iqp_encoding`](crate::qml::templates::iqp_encoding), 2 repetitions), the Gram matrix from one batched
//!   [`FidelityKernel::matrix`](crate::qml::qkernel::FidelityKernel::matrix) call per block (train × train, test × train);
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
//! Layout: the interface, the model list and the grids here; the models in `quantum` and
//! `classical`.
//!
//! Every model standardises its inputs with a [`Standardizer`](crate::qml::train::Standardizer) fitted on its training set.

mod classical;
mod quantum;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::qml::train::Dataset;
use classical::{LogisticModel, Mlp, RbfSvmModel};
use quantum::{KernelModel, QnnModel};
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

pub(super) fn check_binary(train: &Dataset) -> Result<()> {
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

pub(super) fn not_fitted(what: &str) -> Error {
    Error::InvalidArgument(format!("the {what} model is not fitted; call fit first"))
}

pub(super) fn check_rows(features: &[f64], d: usize) -> Result<usize> {
    if d == 0 || !features.len().is_multiple_of(d) {
        return Err(Error::InvalidArgument(format!(
            "{} feature values do not form rows of {d}",
            features.len()
        )));
    }
    Ok(features.len() / d)
}

pub(super) fn check_qubits(d: usize) -> Result<()> {
    if d > MAX_QUBITS {
        return Err(Error::InvalidArgument(format!(
            "the study's quantum models use one qubit per feature; {d} features exceed {MAX_QUBITS}"
        )));
    }
    Ok(())
}
