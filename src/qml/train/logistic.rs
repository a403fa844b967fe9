//! A classical baseline: logistic regression (binary, sigmoid) and multinomial logistic
//! regression (softmax), trained by full-batch gradient descent with L2 regularisation.

use super::data::Dataset;
use super::loss::accuracy;
use crate::error::{Error, Result};

/// Settings of [`LogisticRegression::fit`]: `LogisticConfig::default()` and the chainable
/// setters, e.g. `LogisticConfig::default().iterations(500)`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct LogisticConfig {
    /// Full-batch gradient-descent steps.
    pub iterations: usize,
    /// Step size.
    pub learning_rate: f64,
    /// L2 penalty λ·|W|²/2 on the weights (not the bias).
    pub l2: f64,
}

impl Default for LogisticConfig {
    /// 2000 steps of size 0.5, λ = 1e-3 (for standardised features).
    fn default() -> Self {
        LogisticConfig {
            iterations: 2000,
            learning_rate: 0.5,
            l2: 1e-3,
        }
    }
}

setters!(LogisticConfig {
    iterations: usize,
    learning_rate: f64,
    l2: f64,
});

/// A linear classifier: one logit `w·x + b` (two classes, sigmoid) or one per class (softmax).
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticRegression {
    /// Row-major `num_logits × num_features`.
    pub weights: Vec<f64>,
    /// One bias per logit.
    pub bias: Vec<f64>,
    /// Features per sample.
    pub num_features: usize,
    /// Classes (2 → one logit).
    pub num_classes: usize,
}

impl LogisticRegression {
    fn num_logits(&self) -> usize {
        if self.num_classes == 2 {
            1
        } else {
            self.num_classes
        }
    }

    fn logits(&self, x: &[f64], out: &mut [f64]) {
        let d = self.num_features;
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.bias[i]
                + self.weights[i * d..(i + 1) * d]
                    .iter()
                    .zip(x)
                    .map(|(w, v)| w * v)
                    .sum::<f64>();
        }
    }

    /// Fits on `data` (standardise the features first for the default step size), starting
    /// from zero weights: deterministic.
    ///
    /// Errors on an invalid data set, invalid settings, or training that diverges (a
    /// non-finite weight: lower the learning rate or standardise the features).
    pub fn fit(data: &Dataset, config: &LogisticConfig) -> Result<LogisticRegression> {
        data.validate()?;
        if data.is_empty() || data.num_classes() < 2 {
            return Err(Error::InvalidArgument(format!("logistic regression needs a non-empty data set with ≥ 2 classes ({} rows, {} classes)", data.len(), data.num_classes())));
        }
        if !(config.learning_rate > 0.0
            && config.learning_rate.is_finite()
            && config.l2 >= 0.0
            && config.l2.is_finite())
        {
            return Err(Error::InvalidArgument(format!(
                "learning rate {} must be > 0 and l2 {} ≥ 0",
                config.learning_rate, config.l2
            )));
        }
        let d = data.num_features;
        let mut model = LogisticRegression {
            weights: Vec::new(),
            bias: Vec::new(),
            num_features: d,
            num_classes: data.num_classes(),
        };
        let k = model.num_logits();
        model.weights = vec![0.0; k * d];
        model.bias = vec![0.0; k];
        let n = data.len() as f64;
        let mut z = vec![0.0; k];
        for _ in 0..config.iterations {
            let mut gw = vec![0.0; k * d];
            let mut gb = vec![0.0; k];
            for (x, &y) in data.features.chunks(d).zip(&data.labels) {
                model.logits(x, &mut z);
                // dℓ/dz: σ(z) − y (binary) or softmax(z) − onehot(y).
                if k == 1 {
                    z[0] = 1.0 / (1.0 + (-z[0]).exp()) - y as f64;
                } else {
                    let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                    let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                    for (j, v) in z.iter_mut().enumerate() {
                        *v = (*v - max).exp() / sum - if j == y { 1.0 } else { 0.0 };
                    }
                }
                for j in 0..k {
                    gb[j] += z[j] / n;
                    for (g, v) in gw[j * d..(j + 1) * d].iter_mut().zip(x) {
                        *g += z[j] * v / n;
                    }
                }
            }
            for (w, g) in model.weights.iter_mut().zip(&gw) {
                *w -= config.learning_rate * (g + config.l2 * *w);
            }
            for (b, g) in model.bias.iter_mut().zip(&gb) {
                *b -= config.learning_rate * g;
            }
            if model
                .weights
                .iter()
                .chain(&model.bias)
                .any(|v| !v.is_finite())
            {
                return Err(Error::InvalidArgument(format!(
                    "logistic regression diverged (a weight became non-finite) at learning rate {}; \
                     lower it or standardise the features",
                    config.learning_rate
                )));
            }
        }
        Ok(model)
    }

    /// Predicted classes for a row-major `B × num_features` matrix.
    pub fn predict(&self, features: &[f64]) -> Result<Vec<usize>> {
        let d = self.num_features;
        let k = self.num_logits();
        if self.weights.len() != k * d || self.bias.len() != k {
            return Err(Error::InvalidArgument(format!(
                "the model has {} weights and {} biases, expected {k} × {d} and {k}",
                self.weights.len(),
                self.bias.len()
            )));
        }
        if d == 0 || !features.len().is_multiple_of(d) {
            return Err(Error::InvalidArgument(format!(
                "{} values is not a whole number of {d}-feature rows",
                features.len()
            )));
        }
        if let Some(k) = features.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "feature value {k} is NaN or infinite"
            )));
        }
        if self
            .weights
            .iter()
            .chain(&self.bias)
            .any(|v| !v.is_finite())
        {
            return Err(Error::InvalidArgument(
                "the model has a NaN or infinite weight".into(),
            ));
        }
        let mut z = vec![0.0; self.num_logits()];
        Ok(features
            .chunks(d)
            .map(|x| {
                self.logits(x, &mut z);
                super::loss::predict_class(&z)
            })
            .collect())
    }

    /// Accuracy on `data`.
    pub fn accuracy(&self, data: &Dataset) -> Result<f64> {
        if data.num_features != self.num_features {
            return Err(Error::InvalidArgument(format!(
                "the data has {} features, the model takes {}",
                data.num_features, self.num_features
            )));
        }
        accuracy(&self.predict(&data.features)?, &data.labels)
    }
}
