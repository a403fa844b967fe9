//! The quantum neural network: input scaling → encoding circuit → ansatz → readout
//! observables → optional classical affine layer.

use super::data::Standardizer;
use super::loss::{predict_class, Loss};
use super::params::{format_parameters, match_names, parse_parameters, read_file, write_file};
use crate::backend::{Backend, GradientConfig};
use crate::circuit::{Circuit, Observable};
use crate::compile::program::{Batch, GradientMethod, Program};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::templates::{
    angle_encoding, hardware_efficient, strongly_entangling, FeatureMap, RotationAxis,
};
use std::path::Path;

/// The most weights an affine head ([`QnnBuilder::affine_head`]) may have.
pub const MAX_HEAD_WEIGHTS: usize = 1 << 24;

/// How features enter the circuit (after the optional [`Standardizer`]).
#[derive(Clone, Debug)]
pub enum Encoding {
    /// [`angle_encoding`]: R_axis(scale·x) on every qubit; qubit q reads feature
    /// `q mod num_features`, so extra qubits re-encode the features (more frequencies).
    Angle {
        /// Rotation axis.
        axis: RotationAxis,
        /// Angle per unit of (standardised) feature.
        scale: f64,
    },
    /// A feature map (e.g. [`crate::qml::templates::zz_feature_map`]); its `num_raw` must equal the
    /// model's feature count, and it fixes the qubit count.
    FeatureMap(FeatureMap),
    /// Any encoding circuit whose inputs x are the (standardised) features themselves.
    Circuit(Circuit),
}

impl Encoding {
    /// `Encoding::Angle { axis, scale }`.
    pub fn angle(axis: RotationAxis, scale: f64) -> Self {
        Encoding::Angle { axis, scale }
    }
}

/// The trainable circuit after the encoding.
#[derive(Clone, Debug)]
pub enum Ansatz {
    /// [`hardware_efficient`] with this many layers.
    HardwareEfficient {
        /// Layers of RY·RZ rotations and a CNOT ring.
        layers: usize,
    },
    /// [`strongly_entangling`] with this many layers.
    StronglyEntangling {
        /// Layers of Rot(φ, θ, ω) rotations and ranged CNOTs.
        layers: usize,
    },
    /// Any circuit of trainable θ (indices from 0, after the encoding's own, if it has any).
    Circuit(Circuit),
}

/// A classical affine layer `o = W·e + b` on the readout values e (`W` is
/// `num_outputs × num_inputs`, row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    /// Outputs (rows of W).
    pub num_outputs: usize,
    /// Inputs: the number of readout observables.
    pub num_inputs: usize,
    /// Row-major `num_outputs × num_inputs`.
    pub weights: Vec<f64>,
    /// `num_outputs` biases.
    pub bias: Vec<f64>,
}

impl Head {
    fn apply(&self, e: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.bias[i]
                + self.weights[i * self.num_inputs..(i + 1) * self.num_inputs]
                    .iter()
                    .zip(e)
                    .map(|(w, x)| w * x)
                    .sum::<f64>();
        }
    }
}

/// Builds a [`Qnn`]; see [`Qnn::builder`] for the defaults.
#[derive(Clone, Debug)]
pub struct QnnBuilder {
    num_features: usize,
    num_qubits: Option<usize>,
    encoding: Encoding,
    ansatz: Ansatz,
    readout: Option<Vec<Observable>>,
    classes: usize,
    head_outputs: Option<usize>,
    standardizer: Option<Standardizer>,
    init_range: f64,
    seed: u64,
}

impl QnnBuilder {
    /// Qubits (default: the number of features; a [`Encoding::FeatureMap`] or
    /// [`Encoding::Circuit`] fixes it).
    pub fn qubits(mut self, num_qubits: usize) -> Self {
        self.num_qubits = Some(num_qubits);
        self
    }

    /// The encoding (default `Encoding::Angle { axis: Y, scale: 1.0 }`).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The ansatz (default `Ansatz::HardwareEfficient { layers: 2 }`).
    pub fn ansatz(mut self, ansatz: Ansatz) -> Self {
        self.ansatz = ansatz;
        self
    }

    /// Readout for `num_classes` classes (the default, with 2): ⟨Z0⟩ for 2 classes (one
    /// output), ⟨Z_k⟩ on qubits k = 0..num_classes otherwise (one output per class).
    pub fn classes(mut self, num_classes: usize) -> Self {
        self.classes = num_classes;
        self
    }

    /// Explicit readout observables (overrides [`QnnBuilder::classes`]): the model's outputs,
    /// or the inputs of the affine head.
    pub fn readout(mut self, observables: Vec<Observable>) -> Self {
        self.readout = Some(observables);
        self
    }

    /// Adds a trained classical affine layer with `num_outputs` outputs after the readout.
    /// It starts as the identity when it is square, else with seeded N(0, 1/inputs) weights;
    /// the bias starts at 0. At most [`MAX_HEAD_WEIGHTS`] weights.
    pub fn affine_head(mut self, num_outputs: usize) -> Self {
        self.head_outputs = Some(num_outputs);
        self
    }

    /// Standardises raw features inside the model (fit it on the training set), so the model
    /// (and its saved file) takes raw features.
    pub fn standardizer(mut self, standardizer: Standardizer) -> Self {
        self.standardizer = Some(standardizer);
        self
    }

    /// Initial θ are drawn uniformly from [−range, range] (default 0.5: near the identity).
    pub fn init_range(mut self, range: f64) -> Self {
        self.init_range = range;
        self
    }

    /// Seed of the initial parameters (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Builds the circuit, compiles it and initialises the parameters.
    pub fn build(self) -> Result<Qnn> {
        let d = self.num_features;
        if d == 0 {
            return Err(Error::InvalidArgument(
                "a QNN needs at least one feature".into(),
            ));
        }
        if !(self.init_range >= 0.0 && self.init_range.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "init range {} must be finite and ≥ 0",
                self.init_range
            )));
        }
        let encoding_circuit = match &self.encoding {
            Encoding::Angle { axis, scale } => {
                let n = self.num_qubits.unwrap_or(d);
                if n < d {
                    return Err(Error::InvalidArgument(format!("angle encoding puts one feature per qubit: {d} features need at least {d} qubits, got {n}")));
                }
                if !scale.is_finite() {
                    return Err(Error::InvalidArgument(format!(
                        "encoding scale {scale} is not finite"
                    )));
                }
                angle_encoding(n, *axis, *scale)?
            }
            Encoding::FeatureMap(fm) => {
                if fm.num_raw != d {
                    return Err(Error::InvalidArgument(format!(
                        "the feature map reads {} raw features but the model has {d}",
                        fm.num_raw
                    )));
                }
                fm.circuit.clone()
            }
            Encoding::Circuit(c) => {
                if c.num_inputs() != d {
                    return Err(Error::InvalidArgument(format!(
                        "the encoding circuit reads {} inputs but the model has {d} features",
                        c.num_inputs()
                    )));
                }
                c.clone()
            }
        };
        let n = encoding_circuit.num_qubits();
        if let Some(q) = self.num_qubits {
            if q != n {
                return Err(Error::InvalidArgument(format!(
                    "the encoding acts on {n} qubits but {q} were asked for"
                )));
            }
        }
        let first = encoding_circuit.num_params();
        let ansatz = match &self.ansatz {
            Ansatz::HardwareEfficient { layers } => hardware_efficient(n, *layers, first)?,
            Ansatz::StronglyEntangling { layers } => strongly_entangling(n, *layers, first)?,
            Ansatz::Circuit(c) => c.clone(),
        };
        let mut circuit = encoding_circuit;
        circuit.append(&ansatz)?;
        if circuit.num_params() == 0 {
            return Err(Error::InvalidArgument(
                "the QNN has no trainable circuit parameters; give the ansatz at least one layer"
                    .into(),
            ));
        }
        let observables = match self.readout {
            Some(o) => o,
            None if self.classes < 2 => {
                return Err(Error::InvalidArgument(format!(
                    "a classifier needs at least 2 classes, got {}",
                    self.classes
                )))
            }
            None if self.classes == 2 => vec![Observable::z(0)],
            None if self.classes > n => {
                return Err(Error::InvalidArgument(format!(
                "one ⟨Z⟩ per class needs {} qubits, the circuit has {n}; add qubits or a readout",
                self.classes
            )))
            }
            None => (0..self.classes).map(Observable::z).collect(),
        };
        let program = Program::compile(&circuit);
        program.check_observables(&observables)?;
        let mut rng = Rng::new(self.seed);
        let theta: Vec<f64> = (0..circuit.num_params())
            .map(|_| rng.range(-self.init_range, self.init_range))
            .collect();
        if theta.iter().any(|t| !t.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "init range {} is too large: the initial θ overflow (angles repeat every 2π; use ≤ π)",
                self.init_range
            )));
        }
        let head = match self.head_outputs {
            None => None,
            Some(0) => {
                return Err(Error::InvalidArgument(
                    "the affine head needs at least one output".into(),
                ))
            }
            Some(m) => {
                let k = observables.len();
                if m.checked_mul(k).is_none_or(|n| n > MAX_HEAD_WEIGHTS) {
                    return Err(Error::InvalidArgument(format!(
                        "an affine head of {m} outputs × {k} inputs exceeds {MAX_HEAD_WEIGHTS} weights"
                    )));
                }
                let weights = if m == k {
                    (0..m * k)
                        .map(|i| if i / k == i % k { 1.0 } else { 0.0 })
                        .collect()
                } else {
                    (0..m * k)
                        .map(|_| rng.normal() / (k as f64).sqrt())
                        .collect()
                };
                Some(Head {
                    num_outputs: m,
                    num_inputs: k,
                    weights,
                    bias: vec![0.0; m],
                })
            }
        };
        if let Some(s) = &self.standardizer {
            if s.num_features() != d || s.std.len() != d {
                return Err(Error::InvalidArgument(format!(
                    "the standardizer has {} features, the model {d}",
                    s.num_features()
                )));
            }
        }
        Ok(Qnn {
            circuit,
            program,
            observables,
            encoding: self.encoding,
            num_features: d,
            standardizer: self.standardizer,
            theta,
            head,
        })
    }
}

/// A quantum neural network classifier (or regressor, with [`Loss::Mse`]). Outputs for a batch
/// of raw features: standardise (optional) → circuit inputs → ⟨O_j⟩ by one
/// [`Backend::forward_batch`] → affine head (optional).
#[derive(Clone, Debug)]
pub struct Qnn {
    circuit: Circuit,
    program: Program,
    observables: Vec<Observable>,
    encoding: Encoding,
    num_features: usize,
    standardizer: Option<Standardizer>,
    theta: Vec<f64>,
    head: Option<Head>,
}

/// What [`Qnn::loss_and_gradient`] returns for one mini-batch.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchGradient {
    /// Mean loss over the batch.
    pub loss: f64,
    /// dL/d(parameters), in the order of [`Qnn::parameter_names`].
    pub gradient: Vec<f64>,
    /// Model outputs, `B × num_outputs`.
    pub outputs: Vec<f64>,
}

impl Qnn {
    /// A builder for a QNN on `num_features` features. Defaults: as many qubits as features,
    /// `Encoding::Angle { axis: Y, scale: 1.0 }`, `Ansatz::HardwareEfficient { layers: 2 }`,
    /// 2 classes (readout ⟨Z0⟩), no head, no standardizer, θ ~ U[−0.5, 0.5] with seed 0.
    pub fn builder(num_features: usize) -> QnnBuilder {
        QnnBuilder {
            num_features,
            num_qubits: None,
            encoding: Encoding::Angle {
                axis: RotationAxis::Y,
                scale: 1.0,
            },
            ansatz: Ansatz::HardwareEfficient { layers: 2 },
            readout: None,
            classes: 2,
            head_outputs: None,
            standardizer: None,
            init_range: 0.5,
            seed: 0,
        }
    }

    /// The full circuit (encoding then ansatz).
    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }
    /// The compiled circuit.
    pub fn program(&self) -> &Program {
        &self.program
    }
    /// The readout observables.
    pub fn observables(&self) -> &[Observable] {
        &self.observables
    }
    /// Raw features per sample.
    pub fn num_features(&self) -> usize {
        self.num_features
    }
    /// Qubits.
    pub fn num_qubits(&self) -> usize {
        self.circuit.num_qubits()
    }
    /// Outputs per sample (head outputs, or one per observable).
    pub fn num_outputs(&self) -> usize {
        self.head
            .as_ref()
            .map_or(self.observables.len(), |h| h.num_outputs)
    }
    /// Circuit parameters θ.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }
    /// The classical head, if any.
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }
    /// The input standardizer, if any.
    pub fn standardizer(&self) -> Option<&Standardizer> {
        self.standardizer.as_ref()
    }

    /// Names of the trainable parameters: the circuit's [`Circuit::param_names`], then
    /// `head.w.{i}.{j}` (row-major) and `head.b.{i}`.
    pub fn parameter_names(&self) -> Vec<String> {
        let mut names = self.circuit.param_names();
        if let Some(h) = &self.head {
            names.extend(
                (0..h.num_outputs)
                    .flat_map(|i| (0..h.num_inputs).map(move |j| format!("head.w.{i}.{j}"))),
            );
            names.extend((0..h.num_outputs).map(|i| format!("head.b.{i}")));
        }
        names
    }

    /// Number of trainable parameters.
    pub fn num_parameters(&self) -> usize {
        self.theta.len()
            + self
                .head
                .as_ref()
                .map_or(0, |h| h.weights.len() + h.bias.len())
    }

    /// The trainable parameters as one vector (θ, head weights, head bias).
    pub fn parameters(&self) -> Vec<f64> {
        let mut p = self.theta.clone();
        if let Some(h) = &self.head {
            p.extend_from_slice(&h.weights);
            p.extend_from_slice(&h.bias);
        }
        p
    }

    /// Sets every trainable parameter (layout of [`Qnn::parameters`]); checks length and
    /// finiteness and leaves the model unchanged on error.
    pub fn set_parameters(&mut self, params: &[f64]) -> Result<()> {
        if params.len() != self.num_parameters() {
            return Err(Error::ParameterCount {
                kind: "model parameters",
                expected: self.num_parameters(),
                got: params.len(),
            });
        }
        if let Some(k) = params.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter {
                kind: "model parameter",
                index: k,
            });
        }
        let np = self.theta.len();
        self.theta.copy_from_slice(&params[..np]);
        if let Some(h) = &mut self.head {
            let nw = h.weights.len();
            h.weights.copy_from_slice(&params[np..np + nw]);
            h.bias.copy_from_slice(&params[np + nw..]);
        }
        Ok(())
    }

    /// Number of rows in a row-major raw feature matrix; errors if it is not whole or empty.
    fn rows_of(&self, features: &[f64]) -> Result<usize> {
        let d = self.num_features;
        if features.is_empty() || !features.len().is_multiple_of(d) {
            return Err(Error::InvalidArgument(format!(
                "{} feature values is not a non-empty whole number of {d}-feature samples",
                features.len()
            )));
        }
        Ok(features.len() / d)
    }

    /// The circuit inputs (`B × program().num_inputs()`) for raw features (`B × num_features`).
    pub fn circuit_inputs(&self, features: &[f64]) -> Result<Vec<f64>> {
        let b = self.rows_of(features)?;
        let scaled = match &self.standardizer {
            Some(s) => s.transform(features)?,
            None => features.to_vec(),
        };
        match &self.encoding {
            Encoding::Angle { .. } => {
                let (n, d) = (self.circuit.num_qubits(), self.num_features);
                Ok((0..b)
                    .flat_map(|r| (0..n).map(move |q| (r, q % d)))
                    .map(|(r, j)| scaled[r * d + j])
                    .collect())
            }
            Encoding::FeatureMap(fm) => fm.features_batch(&scaled),
            Encoding::Circuit(_) => Ok(scaled),
        }
    }

    /// Readout values e (`B × n_obs`) with parameters `params` by one batched call.
    fn readout_with(
        &self,
        backend: &dyn Backend,
        params: &[f64],
        inputs: &[f64],
        b: usize,
    ) -> Result<Vec<f64>> {
        let batch = Batch::shared(&params[..self.theta.len()], inputs, b);
        backend.forward_batch(&self.program, &batch, &self.observables)
    }

    /// Applies the head (if any) stored in `params` to readout values.
    fn head_with(&self, params: &[f64], e: Vec<f64>) -> Vec<f64> {
        let Some(h) = &self.head else { return e };
        let np = self.theta.len();
        let head = Head {
            weights: params[np..np + h.weights.len()].to_vec(),
            bias: params[np + h.weights.len()..].to_vec(),
            ..h.clone()
        };
        let b = e.len() / h.num_inputs;
        let mut out = vec![0.0; b * h.num_outputs];
        for r in 0..b {
            head.apply(
                &e[r * h.num_inputs..(r + 1) * h.num_inputs],
                &mut out[r * h.num_outputs..(r + 1) * h.num_outputs],
            );
        }
        out
    }

    /// Outputs (`B × num_outputs`) for raw features (`B × num_features`) with `params` in
    /// place of the model's own parameters: one [`Backend::forward_batch`] call.
    pub fn outputs_with(
        &self,
        backend: &dyn Backend,
        params: &[f64],
        features: &[f64],
    ) -> Result<Vec<f64>> {
        if params.len() != self.num_parameters() {
            return Err(Error::ParameterCount {
                kind: "model parameters",
                expected: self.num_parameters(),
                got: params.len(),
            });
        }
        let b = self.rows_of(features)?;
        let inputs = self.circuit_inputs(features)?;
        let e = self.readout_with(backend, params, &inputs, b)?;
        Ok(self.head_with(params, e))
    }

    /// Outputs (`B × num_outputs`) for raw features (`B × num_features`).
    pub fn outputs(&self, backend: &dyn Backend, features: &[f64]) -> Result<Vec<f64>> {
        self.outputs_with(backend, &self.parameters(), features)
    }

    /// Predicted classes: `output > 0` → 1 with one output, else the argmax.
    pub fn predict(&self, backend: &dyn Backend, features: &[f64]) -> Result<Vec<usize>> {
        let k = self.num_outputs();
        Ok(self
            .outputs(backend, features)?
            .chunks(k)
            .map(predict_class)
            .collect())
    }

    /// The mean loss of a batch, its gradient with respect to every trainable parameter, and
    /// the outputs. With one readout observable this is **one** [`Backend::gradient_batch`]
    /// call (values and per-sample dθ with upstream 1, combined with dL/de on the host); with
    /// several it is one [`Backend::forward_batch`] (values → loss → upstream dL/de = dL/do·W)
    /// and one [`Backend::gradient_batch`]. The head's gradients are
    /// dL/dW_ij = Σ_b dL/do_bi·e_bj and dL/db_i = Σ_b dL/do_bi.
    pub fn loss_and_gradient(
        &self,
        backend: &dyn Backend,
        features: &[f64],
        labels: &[usize],
        loss: &Loss,
        method: GradientMethod,
    ) -> Result<BatchGradient> {
        let b = self.rows_of(features)?;
        if labels.len() != b {
            return Err(Error::InvalidArgument(format!(
                "{} labels for {b} samples",
                labels.len()
            )));
        }
        let inputs = self.circuit_inputs(features)?;
        let params = self.parameters();
        let (np, k, m) = (self.theta.len(), self.observables.len(), self.num_outputs());
        let batch = Batch::shared(&self.theta, &inputs, b);
        let (e, loss_value, d_out, d_theta) = if k == 1 {
            let options = GradientConfig {
                method,
                per_sample_theta: true,
                ..Default::default()
            };
            let g = backend.gradient_batch_with(
                &self.program,
                &batch,
                &self.observables,
                &vec![1.0; b],
                &options,
            )?;
            let outputs = self.head_with(&params, g.values.clone());
            let (value, d_out) = loss.value_and_grad(&outputs, labels, m)?;
            let d_e = self.backprop_head(&d_out, b);
            let per_sample = g.theta_per_sample.ok_or_else(|| {
                Error::Unsupported("the backend returned no per-sample θ gradient".into())
            })?;
            let mut d_theta = vec![0.0; np];
            for (r, de) in d_e.iter().enumerate() {
                for (d, j) in d_theta.iter_mut().zip(&per_sample[r * np..(r + 1) * np]) {
                    *d += de * j;
                }
            }
            (g.values, value, d_out, d_theta)
        } else {
            let e = backend.forward_batch(&self.program, &batch, &self.observables)?;
            let outputs = self.head_with(&params, e.clone());
            let (value, d_out) = loss.value_and_grad(&outputs, labels, m)?;
            let d_e = self.backprop_head(&d_out, b);
            let g =
                backend.gradient_batch(&self.program, &batch, &self.observables, &d_e, method)?;
            (e, value, d_out, g.theta)
        };
        let mut gradient = d_theta;
        if let Some(h) = &self.head {
            let mut dw = vec![0.0; h.weights.len()];
            let mut db = vec![0.0; h.num_outputs];
            for r in 0..b {
                for i in 0..h.num_outputs {
                    let g = d_out[r * m + i];
                    db[i] += g;
                    for j in 0..k {
                        dw[i * k + j] += g * e[r * k + j];
                    }
                }
            }
            gradient.extend(dw);
            gradient.extend(db);
        }
        let outputs = self.head_with(&params, e);
        Ok(BatchGradient {
            loss: loss_value,
            gradient,
            outputs,
        })
    }

    /// dL/de (`B × n_obs`) from dL/do (`B × num_outputs`): through Wᵀ, or unchanged.
    fn backprop_head(&self, d_out: &[f64], b: usize) -> Vec<f64> {
        let Some(h) = &self.head else {
            return d_out.to_vec();
        };
        let (m, k) = (h.num_outputs, h.num_inputs);
        let mut d_e = vec![0.0; b * k];
        for r in 0..b {
            for i in 0..m {
                let g = d_out[r * m + i];
                for j in 0..k {
                    d_e[r * k + j] += g * h.weights[i * k + j];
                }
            }
        }
        d_e
    }

    /// Every saved entry: trainable parameters, then the standardizer's `input.mean.{j}` and
    /// `input.std.{j}` (fixed, not trained).
    fn saved_entries(&self) -> Vec<(String, f64)> {
        let mut entries: Vec<(String, f64)> = self
            .parameter_names()
            .into_iter()
            .zip(self.parameters())
            .collect();
        if let Some(s) = &self.standardizer {
            entries.extend(
                s.mean
                    .iter()
                    .enumerate()
                    .map(|(j, v)| (format!("input.mean.{j}"), *v)),
            );
            entries.extend(
                s.std
                    .iter()
                    .enumerate()
                    .map(|(j, v)| (format!("input.std.{j}"), *v)),
            );
        }
        entries
    }

    /// The parameters as a version-1 parameter file (see [`crate::qml::train::params`]).
    pub fn parameters_to_string(&self) -> Result<String> {
        let comments = vec![format!(
            "qnn: {} features, {} qubits, {} readout observables, {} outputs, {} trainable parameters{}",
            self.num_features,
            self.num_qubits(),
            self.observables.len(),
            self.num_outputs(),
            self.num_parameters(),
            if self.standardizer.is_some() { ", input standardizer" } else { "" }
        )];
        format_parameters(&self.saved_entries(), &comments)
    }

    /// Loads parameters from version-1 text. The names must be exactly this model's (any
    /// order); on any error the model is unchanged.
    pub fn load_parameters_str(&mut self, text: &str) -> Result<()> {
        let entries = parse_parameters(text)?;
        let names: Vec<String> = self.saved_entries().into_iter().map(|(n, _)| n).collect();
        let values = match_names(&entries, &names)?;
        let np = self.num_parameters();
        if let Some(s) = &self.standardizer {
            let d = s.num_features();
            if let Some(j) = values[np + d..].iter().position(|v| *v <= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "input.std.{j} must be > 0, got {}",
                    values[np + d + j]
                )));
            }
        }
        self.set_parameters(&values[..np])?;
        if let Some(s) = &mut self.standardizer {
            let d = s.num_features();
            s.mean.copy_from_slice(&values[np..np + d]);
            s.std.copy_from_slice(&values[np + d..]);
        }
        Ok(())
    }

    /// Saves the parameters to `path` (see [`Qnn::parameters_to_string`]).
    pub fn save_parameters(&self, path: impl AsRef<Path>) -> Result<()> {
        write_file(path.as_ref(), &self.parameters_to_string()?)
    }

    /// Loads parameters saved by [`Qnn::save_parameters`] into this (identically built) model.
    pub fn load_parameters(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let text = read_file(path.as_ref())?;
        self.load_parameters_str(&text)
    }
}
