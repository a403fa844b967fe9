//! The classical baselines: logistic regression (linfa-logistic), RBF SVM (linfa-svm) and a
//! small hand-written MLP.

use super::{check_binary, check_rows, not_fitted, Estimator, Hyperparameters};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::train::{Dataset, Standardizer};
use linfa::prelude::*;
use ndarray::{Array1, Array2};

fn to_array(features: &[f64], d: usize) -> Result<Array2<f64>> {
    let rows = check_rows(features, d)?;
    Array2::from_shape_vec((rows, d), features.to_vec())
        .map_err(|e| Error::InvalidArgument(format!("feature matrix: {e}")))
}

pub(super) struct LogisticModel {
    pub(super) alpha: f64,
    pub(super) fitted: Option<(
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

pub(super) struct RbfSvmModel {
    pub(super) c: f64,
    pub(super) gamma: f64,
    pub(super) fitted: Option<(Standardizer, linfa_svm::Svm<f64, bool>)>,
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

pub(super) struct MlpWeights {
    standardizer: Standardizer,
    d: usize,
    /// h × d input weights, then h biases, then h output weights, then the output bias.
    w: Vec<f64>,
}

pub(super) struct Mlp {
    pub(super) hidden: usize,
    pub(super) alpha: f64,
    pub(super) seed: u64,
    pub(super) fitted: Option<MlpWeights>,
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
