//! Optimizers for variational training: SGD with momentum, Adam, and SPSA (gradient-free, two
//! evaluations per step).

use crate::error::{Error, Result};
use crate::math::rng::Rng;

/// A first-order optimizer: updates parameters in place from a gradient.
pub trait Optimizer {
    /// One update of `params` (minimising) given `grad` = dL/dparams.
    fn step(&mut self, params: &mut [f64], grad: &[f64]) -> Result<()>;
}

fn check_lengths(params: &[f64], grad: &[f64]) -> Result<()> {
    if params.len() != grad.len() {
        return Err(Error::InvalidArgument(format!(
            "gradient has {} entries for {} parameters",
            grad.len(),
            params.len()
        )));
    }
    if let Some(k) = grad.iter().position(|g| !g.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "gradient entry {k} is {}; the loss is not finite at these parameters (lower the learning rate or check the data)",
            grad[k]
        )));
    }
    Ok(())
}

/// Errors unless `value` is finite and > 0 (`what` names the hyper-parameter).
pub(crate) fn check_positive(what: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} must be finite and > 0, got {value}"
        )))
    }
}

/// Errors unless `value` lies in [0, 1) (`what` names the hyper-parameter).
fn check_unit(what: &str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} must lie in [0, 1), got {value}"
        )))
    }
}

/// Errors unless `value` is finite and ≥ 0 (`what` names the hyper-parameter).
pub(crate) fn check_non_negative(what: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} must be finite and ≥ 0, got {value}"
        )))
    }
}

/// Errors if an update left a parameter non-finite (params are then restored by the caller).
fn check_updated(params: &[f64]) -> Result<()> {
    match params.iter().position(|p| !p.is_finite()) {
        Some(k) => Err(Error::InvalidArgument(format!(
            "the update made parameter {k} non-finite; lower the learning rate"
        ))),
        None => Ok(()),
    }
}

/// Applies `update` to a copy of `params` and commits it only if every value stays finite.
fn guarded(params: &mut [f64], update: impl FnOnce(&mut [f64])) -> Result<()> {
    let mut next = params.to_vec();
    update(&mut next);
    check_updated(&next)?;
    params.copy_from_slice(&next);
    Ok(())
}

/// Stochastic gradient descent with (optional) momentum: v ← μv + g, θ ← θ − η·v.
#[derive(Clone, Debug)]
pub struct Sgd {
    /// Learning rate η.
    pub learning_rate: f64,
    /// Momentum μ (0 for plain SGD).
    pub momentum: f64,
    velocity: Vec<f64>,
}

impl Sgd {
    /// SGD with learning rate `learning_rate` and momentum `momentum`.
    pub fn new(learning_rate: f64, momentum: f64) -> Self {
        Sgd {
            learning_rate,
            momentum,
            velocity: Vec::new(),
        }
    }
}

impl Sgd {
    /// Checks the hyper-parameters: learning rate finite and > 0, momentum in [0, 1).
    pub fn validate(&self) -> Result<()> {
        check_positive("SGD learning rate", self.learning_rate)?;
        check_unit("SGD momentum", self.momentum)
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [f64], grad: &[f64]) -> Result<()> {
        self.validate()?;
        check_lengths(params, grad)?;
        let mut velocity = self.velocity.clone();
        velocity.resize(params.len(), 0.0);
        let (lr, mu) = (self.learning_rate, self.momentum);
        guarded(params, |p| {
            for ((p, g), v) in p.iter_mut().zip(grad).zip(&mut velocity) {
                *v = mu * *v + g;
                *p -= lr * *v;
            }
        })?;
        self.velocity = velocity;
        Ok(())
    }
}

/// Adam (Kingma & Ba, 2015) with bias correction.
#[derive(Clone, Debug)]
pub struct Adam {
    /// Learning rate.
    pub learning_rate: f64,
    /// First-moment decay β₁.
    pub beta1: f64,
    /// Second-moment decay β₂.
    pub beta2: f64,
    /// ε in the denominator.
    pub epsilon: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: u64,
}

impl Adam {
    /// Adam with the usual defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    pub fn new(learning_rate: f64) -> Self {
        Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }
}

impl Adam {
    /// Checks the hyper-parameters: learning rate and ε finite and > 0, β₁ and β₂ in [0, 1).
    pub fn validate(&self) -> Result<()> {
        check_positive("Adam learning rate", self.learning_rate)?;
        check_positive("Adam epsilon", self.epsilon)?;
        check_unit("Adam beta1", self.beta1)?;
        check_unit("Adam beta2", self.beta2)
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [f64], grad: &[f64]) -> Result<()> {
        self.validate()?;
        check_lengths(params, grad)?;
        let (mut m, mut v) = (self.m.clone(), self.v.clone());
        m.resize(params.len(), 0.0);
        v.resize(params.len(), 0.0);
        let t = self.t.saturating_add(1);
        // powf, not powi: the step count is not bounded by i32.
        let c1 = 1.0 - self.beta1.powf(t as f64);
        let c2 = 1.0 - self.beta2.powf(t as f64);
        let (b1, b2, lr, eps) = (self.beta1, self.beta2, self.learning_rate, self.epsilon);
        guarded(params, |p| {
            for i in 0..p.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * grad[i];
                v[i] = b2 * v[i] + (1.0 - b2) * grad[i] * grad[i];
                p[i] -= lr * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
            }
        })?;
        (self.m, self.v, self.t) = (m, v, t);
        Ok(())
    }
}

/// SPSA (Spall, 1998): a gradient estimate from two evaluations at θ ± c_k·Δ with a random
/// ±1 vector Δ; gains a_k = a/(k+1+A)^α, c_k = c/(k+1)^γ.
#[derive(Clone, Debug)]
pub struct Spsa {
    /// Step-size numerator a.
    pub a: f64,
    /// Perturbation size c.
    pub c: f64,
    /// Step decay exponent α (0.602 by Spall).
    pub alpha: f64,
    /// Perturbation decay exponent γ (0.101 by Spall).
    pub gamma: f64,
    /// Stability constant A.
    pub stability: f64,
    k: u64,
    rng: Rng,
}

impl Spsa {
    /// SPSA with gains a, c, Spall's exponents, A = 10, and a seeded perturbation stream.
    pub fn new(a: f64, c: f64, seed: u64) -> Self {
        Spsa {
            a,
            c,
            alpha: 0.602,
            gamma: 0.101,
            stability: 10.0,
            k: 0,
            rng: Rng::new(seed),
        }
    }

    /// Checks the hyper-parameters: a and c finite and > 0 (c is the perturbation size: with
    /// c = 0 both evaluations coincide and the gradient estimate divides by zero), α, γ and A
    /// finite and ≥ 0.
    pub fn validate(&self) -> Result<()> {
        check_positive("SPSA step size a", self.a)?;
        check_positive(
            "SPSA perturbation size c (the parameters are evaluated at θ ± c·Δ; try 0.1)",
            self.c,
        )?;
        check_non_negative("SPSA alpha", self.alpha)?;
        check_non_negative("SPSA gamma", self.gamma)?;
        check_non_negative("SPSA stability constant A", self.stability)
    }

    /// One SPSA step on `loss`; returns the mean of the two evaluated losses. Errors (leaving
    /// `params` unchanged) on invalid hyper-parameters, a non-finite loss, or an update that
    /// would make a parameter non-finite.
    pub fn step(
        &mut self,
        params: &mut [f64],
        mut loss: impl FnMut(&[f64]) -> Result<f64>,
    ) -> Result<f64> {
        self.validate()?;
        let k = self.k as f64;
        let ak = self.a / (k + 1.0 + self.stability).powf(self.alpha);
        let ck = self.c / (k + 1.0).powf(self.gamma);
        let delta: Vec<f64> = (0..params.len())
            .map(|_| if self.rng.uniform() < 0.5 { -1.0 } else { 1.0 })
            .collect();
        let plus: Vec<f64> = params.iter().zip(&delta).map(|(p, d)| p + ck * d).collect();
        let minus: Vec<f64> = params.iter().zip(&delta).map(|(p, d)| p - ck * d).collect();
        if ck == 0.0 || !ck.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "SPSA perturbation c_k = {ck} at step {}; use a larger c or smaller gamma",
                self.k
            )));
        }
        let (lp, lm) = (loss(&plus)?, loss(&minus)?);
        if !(lp.is_finite() && lm.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "SPSA: the loss is not finite ({lp}, {lm}) at the perturbed parameters"
            )));
        }
        guarded(params, |p| {
            for (p, d) in p.iter_mut().zip(&delta) {
                *p -= ak * (lp - lm) / (2.0 * ck * d);
            }
        })?;
        self.k = self.k.saturating_add(1);
        Ok(0.5 * (lp + lm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f(x) = Σ (x_i − i)², minimum at x_i = i.
    fn quadratic_grad(x: &[f64]) -> Vec<f64> {
        x.iter()
            .enumerate()
            .map(|(i, v)| 2.0 * (v - i as f64))
            .collect()
    }

    #[test]
    fn sgd_adam_and_spsa_minimise_a_quadratic() {
        let mut sgd = Sgd::new(0.1, 0.5);
        let mut adam = Adam::new(0.1);
        let (mut a, mut b, mut c) = (vec![5.0; 3], vec![5.0; 3], vec![5.0; 3]);
        for _ in 0..300 {
            let (ga, gb) = (quadratic_grad(&a), quadratic_grad(&b));
            sgd.step(&mut a, &ga).unwrap();
            adam.step(&mut b, &gb).unwrap();
        }
        let mut spsa = Spsa::new(0.5, 0.1, 3);
        for _ in 0..2000 {
            spsa.step(&mut c, |x| {
                Ok(x.iter()
                    .enumerate()
                    .map(|(i, v)| (v - i as f64).powi(2))
                    .sum())
            })
            .unwrap();
        }
        for (name, x, tol) in [("sgd", &a, 1e-6), ("adam", &b, 1e-3), ("spsa", &c, 5e-2)] {
            for (i, v) in x.iter().enumerate() {
                assert!(
                    (v - i as f64).abs() < tol,
                    "{name}: x[{i}] = {v}, expected {i}"
                );
            }
        }
    }

    #[test]
    fn mismatched_gradient_is_an_error() {
        assert!(Adam::new(0.1).step(&mut [0.0; 2], &[1.0]).is_err());
        assert!(Sgd::new(0.1, 0.0).step(&mut [0.0; 2], &[1.0; 3]).is_err());
    }
}
