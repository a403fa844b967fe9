//! The quantum models: QNN, data re-uploading, IQP-kernel SVM, projected-kernel SVM.

use super::{
    check_binary, check_qubits, check_rows, not_fitted, Estimator, Hyperparameters, QnnTraining,
};
use crate::backend::Backend;
use crate::circuit::{Angle, Circuit, Observable, Pauli};
use crate::compile::program::{Batch, Program};
use crate::error::Result;
use crate::qml::qkernel::{
    FidelityKernel, KernelClassifier, KernelMatrix, KernelSolver, RbfKernel,
};
use crate::qml::templates::{iqp_encoding, RotationAxis};
use crate::qml::train::{
    fit, Ansatz, Dataset, Encoding, Loss, OptimizerConfig, Qnn, Standardizer, TrainConfig,
};

/// (1/n)·Σ_q Z_q.
fn mean_z(n: usize) -> Result<Observable> {
    let mut obs = Observable::constant(0.0);
    for q in 0..n {
        obs.add_term(1.0 / n as f64, &[(q, Pauli::Z)])?;
    }
    Ok(obs)
}

pub(super) struct QnnModel {
    pub(super) reuploading: bool,
    pub(super) separable: bool,
    pub(super) layers: usize,
    pub(super) learning_rate: f64,
    pub(super) training: QnnTraining,
    pub(super) seed: u64,
    pub(super) model: Option<Qnn>,
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

pub(super) struct KernelFit {
    standardizer: Standardizer,
    kernel: FidelityKernel,
    /// Training rows as the kernel sees them: scaled features (fidelity) or the 3n one-qubit
    /// Pauli expectations (projected).
    train_rows: Vec<f64>,
    rbf: Option<RbfKernel>,
    classifier: KernelClassifier,
}

pub(super) struct KernelModel {
    pub(super) projected: bool,
    pub(super) separable: bool,
    pub(super) c: f64,
    /// Feature scale of the fidelity kernel, or γ of the projected kernel.
    pub(super) scale: f64,
    pub(super) fitted: Option<KernelFit>,
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
