//! Classification losses on model outputs, each with its gradient dL/d(outputs) (the
//! `upstream` of [`crate::Backend::gradient_batch`], after the classical head).
//!
//! A batch's loss is the **mean** over its B samples of the per-sample loss ℓ, so the gradient
//! of sample b's outputs is dℓ_b/do_b / B. Labels are class indices. A model with one output
//! is a binary classifier (class 1 ⇔ output > 0); with k ≥ 2 outputs it predicts the argmax.

use crate::error::{Error, Result};

/// A loss on `B × num_outputs` outputs (row-major) and B class labels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// Mean squared error against ±1 targets: with one output the target is +1 for class 1
    /// and −1 for class 0, ℓ = (o − t)²; with k outputs the target is +1 at the label and −1
    /// elsewhere, ℓ = (1/k)·Σ_j (o_j − t_j)². Matches ⟨Z⟩ ∈ [−1, 1] readouts.
    Mse,
    /// Binary cross-entropy on p = σ(scale·o) = P(class 1), one output, labels 0/1:
    /// ℓ = −[y·log p + (1 − y)·log(1 − p)], computed stably as softplus(z) − y·z, z = scale·o.
    /// `scale` widens the logit range of a ⟨Z⟩ ∈ [−1, 1] readout.
    BinaryCrossEntropy {
        /// Multiplier of the output before the sigmoid (> 0).
        scale: f64,
    },
    /// Categorical cross-entropy on softmax(scale·o), k ≥ 2 outputs:
    /// ℓ = logsumexp(scale·o) − scale·o_y.
    CrossEntropy {
        /// Multiplier of the outputs before the softmax (> 0).
        scale: f64,
    },
    /// Hinge loss. One output: ℓ = max(0, margin − t·o) with t = ±1 as for [`Loss::Mse`].
    /// k outputs (Weston–Watkins): ℓ = Σ_{j≠y} max(0, margin − o_y + o_j). At a kink the
    /// gradient taken is that of the zero branch.
    Hinge {
        /// Required margin (> 0; 1 is usual).
        margin: f64,
    },
}

impl Loss {
    /// A short name for reports (`mse`, `bce`, `cross-entropy`, `hinge`).
    pub fn name(&self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::BinaryCrossEntropy { .. } => "bce",
            Loss::CrossEntropy { .. } => "cross-entropy",
            Loss::Hinge { .. } => "hinge",
        }
    }

    /// Checks that the loss fits a model with `num_outputs` outputs classifying
    /// `num_classes` classes, and that its parameters are valid.
    pub fn check(&self, num_outputs: usize, num_classes: usize) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(msg));
        match *self {
            Loss::BinaryCrossEntropy { scale } | Loss::CrossEntropy { scale }
                if !(scale > 0.0 && scale.is_finite()) =>
            {
                return bad(format!(
                    "the {} loss needs a finite scale > 0, got {scale}",
                    self.name()
                ));
            }
            Loss::Hinge { margin } if !(margin > 0.0 && margin.is_finite()) => {
                return bad(format!(
                    "the hinge loss needs a finite margin > 0, got {margin}"
                ));
            }
            _ => {}
        }
        if num_outputs == 0 {
            return bad("the model has no outputs".into());
        }
        if num_classes < 2 {
            return bad(format!(
                "classification needs at least 2 classes, got {num_classes}"
            ));
        }
        let binary_only = matches!(self, Loss::BinaryCrossEntropy { .. });
        let multi_only = matches!(self, Loss::CrossEntropy { .. });
        if num_outputs == 1 {
            if multi_only {
                return bad("cross-entropy needs one output per class; with one output use Loss::BinaryCrossEntropy".into());
            }
            if num_classes != 2 {
                return bad(format!("a model with one output classifies 2 classes, the data has {num_classes}; give it one output per class"));
            }
        } else {
            if binary_only {
                return bad(format!("binary cross-entropy needs exactly one output, the model has {num_outputs}; use Loss::CrossEntropy"));
            }
            if num_outputs != num_classes {
                return bad(format!("the model has {num_outputs} outputs for {num_classes} classes; use one output (binary) or one per class"));
            }
        }
        Ok(())
    }

    /// The mean loss over the batch and dL/d(outputs) (`B × num_outputs`, row-major) for
    /// `outputs` (`labels.len() × num_outputs`). Errors on shape mismatches, labels out of
    /// range, or a loss that does not fit the output count.
    pub fn value_and_grad(
        &self,
        outputs: &[f64],
        labels: &[usize],
        num_outputs: usize,
    ) -> Result<(f64, Vec<f64>)> {
        let b = labels.len();
        if b == 0 {
            return Err(Error::InvalidArgument(
                "the loss of an empty batch is undefined".into(),
            ));
        }
        if num_outputs == 0 || outputs.len() != b * num_outputs {
            return Err(Error::InvalidArgument(format!(
                "{} outputs for {b} labels of {num_outputs} outputs each (expected {})",
                outputs.len(),
                b * num_outputs
            )));
        }
        let classes = if num_outputs == 1 { 2 } else { num_outputs };
        self.check(num_outputs, classes)?;
        if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
            return Err(Error::InvalidArgument(format!(
                "label {l} of sample {i} is out of range for {classes} classes"
            )));
        }
        let inv_b = 1.0 / b as f64;
        let mut total = 0.0;
        let mut grad = vec![0.0; outputs.len()];
        for (i, &y) in labels.iter().enumerate() {
            let o = &outputs[i * num_outputs..(i + 1) * num_outputs];
            let g = &mut grad[i * num_outputs..(i + 1) * num_outputs];
            total += sample_loss(*self, o, y, g);
            for v in g.iter_mut() {
                *v *= inv_b;
            }
        }
        Ok((total * inv_b, grad))
    }

    /// The mean loss only (see [`Loss::value_and_grad`]).
    pub fn value(&self, outputs: &[f64], labels: &[usize], num_outputs: usize) -> Result<f64> {
        self.value_and_grad(outputs, labels, num_outputs)
            .map(|(v, _)| v)
    }
}

/// ±1 target of a binary label.
fn sign_target(y: usize) -> f64 {
    if y == 1 {
        1.0
    } else {
        -1.0
    }
}

/// log(1 + e^z) without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// One sample's loss; writes dℓ/do into `g`.
fn sample_loss(loss: Loss, o: &[f64], y: usize, g: &mut [f64]) -> f64 {
    let k = o.len();
    match loss {
        Loss::Mse if k == 1 => {
            let d = o[0] - sign_target(y);
            g[0] = 2.0 * d;
            d * d
        }
        Loss::Mse => {
            let mut sum = 0.0;
            for j in 0..k {
                let d = o[j] - if j == y { 1.0 } else { -1.0 };
                g[j] = 2.0 * d / k as f64;
                sum += d * d;
            }
            sum / k as f64
        }
        Loss::BinaryCrossEntropy { scale } => {
            let z = scale * o[0];
            let t = y as f64;
            g[0] = scale * (sigmoid(z) - t);
            softplus(z) - t * z
        }
        Loss::CrossEntropy { scale } => {
            let max = o.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(scale * v));
            let sum: f64 = o.iter().map(|&v| (scale * v - max).exp()).sum();
            for j in 0..k {
                let p = (scale * o[j] - max).exp() / sum;
                g[j] = scale * (p - if j == y { 1.0 } else { 0.0 });
            }
            max + sum.ln() - scale * o[y]
        }
        Loss::Hinge { margin } if k == 1 => {
            let t = sign_target(y);
            let slack = margin - t * o[0];
            if slack > 0.0 {
                g[0] = -t;
                slack
            } else {
                g[0] = 0.0;
                0.0
            }
        }
        Loss::Hinge { margin } => {
            let mut sum = 0.0;
            g.iter_mut().for_each(|v| *v = 0.0);
            for j in (0..k).filter(|&j| j != y) {
                let slack = margin - o[y] + o[j];
                if slack > 0.0 {
                    sum += slack;
                    g[j] += 1.0;
                    g[y] -= 1.0;
                }
            }
            sum
        }
    }
}

/// The predicted class of one output row: `output > 0` → 1 for one output, else the argmax
/// (the first on ties).
pub fn predict_class(outputs: &[f64]) -> usize {
    if outputs.len() == 1 {
        return usize::from(outputs[0] > 0.0);
    }
    let mut best = 0;
    for (j, &v) in outputs.iter().enumerate() {
        if v > outputs[best] {
            best = j;
        }
    }
    best
}

/// The fraction of `predictions` equal to `labels` (0 for empty input; lengths must match).
pub fn accuracy(predictions: &[usize], labels: &[usize]) -> Result<f64> {
    if predictions.len() != labels.len() {
        return Err(Error::InvalidArgument(format!(
            "{} predictions for {} labels",
            predictions.len(),
            labels.len()
        )));
    }
    if labels.is_empty() {
        return Ok(0.0);
    }
    Ok(predictions
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count() as f64
        / labels.len() as f64)
}
