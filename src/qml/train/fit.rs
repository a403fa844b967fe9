//! The training loop: seeded mini-batches, epochs, an optimizer, per-epoch history.

use super::data::Dataset;
use super::loss::{accuracy, predict_class, Loss};
use super::model::Qnn;
use crate::backend::Backend;
use crate::compile::program::GradientMethod;
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::optim::{Adam, Optimizer, Sgd, Spsa};
use crate::qml::progress::{progress_setter, report, ProgressFn};
use std::time::Instant;

/// Which optimizer [`fit`] uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerConfig {
    /// [`Adam`] with this learning rate (β₁ = 0.9, β₂ = 0.999).
    Adam {
        /// Learning rate.
        learning_rate: f64,
    },
    /// [`Sgd`] with momentum.
    Sgd {
        /// Learning rate.
        learning_rate: f64,
        /// Momentum (0 for plain SGD).
        momentum: f64,
    },
    /// [`Spsa`]: gradient-free, two forward passes per mini-batch, perturbing every parameter
    /// (θ and head) at once. Seeded from [`TrainConfig::seed`].
    Spsa {
        /// Step-size numerator a.
        a: f64,
        /// Perturbation size c.
        c: f64,
    },
}

/// Settings of [`fit`]: `TrainConfig::default()` and the chainable setters, e.g.
/// `TrainConfig::default().epochs(10).verbose(true)`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per mini-batch (the last one of an epoch may be smaller).
    pub batch_size: usize,
    /// The loss.
    pub loss: Loss,
    /// The optimizer.
    pub optimizer: OptimizerConfig,
    /// Gradient method for Adam/SGD (adjoint by default).
    pub gradient: GradientMethod,
    /// Seed of the per-epoch shuffles (and of SPSA's perturbations).
    pub seed: u64,
    /// Print a progress line per epoch.
    pub verbose: bool,
    /// Called after every mini-batch step with `what = "training batches"`, `done` of
    /// `total = epochs × batches per epoch` and the batch's loss (SPSA: the mean of its two
    /// evaluations). Set it with [`TrainConfig::progress`]; `None` (the default) reports nothing.
    pub progress: Option<ProgressFn>,
}

impl Default for TrainConfig {
    /// 20 epochs, batches of 16, binary cross-entropy with scale 4, Adam(0.05), adjoint,
    /// seed 0, quiet.
    fn default() -> Self {
        TrainConfig {
            epochs: 20,
            batch_size: 16,
            loss: Loss::BinaryCrossEntropy { scale: 4.0 },
            optimizer: OptimizerConfig::Adam {
                learning_rate: 0.05,
            },
            gradient: GradientMethod::Adjoint,
            seed: 0,
            verbose: false,
            progress: None,
        }
    }
}

setters!(TrainConfig {
    epochs: usize,
    batch_size: usize,
    loss: Loss,
    optimizer: OptimizerConfig,
    gradient: GradientMethod,
    seed: u64,
    verbose: bool,
});
progress_setter!(TrainConfig);

impl OptimizerConfig {
    /// The optimizer it describes, after checking its hyper-parameters (learning rates, a and
    /// c finite and > 0; momentum in [0, 1)). `seed` seeds SPSA's perturbations.
    fn build(&self, seed: u64) -> Result<Stepper> {
        Ok(match *self {
            OptimizerConfig::Adam { learning_rate } => {
                let adam = Adam::new(learning_rate);
                adam.validate()?;
                Stepper::Gradient(Box::new(adam))
            }
            OptimizerConfig::Sgd {
                learning_rate,
                momentum,
            } => {
                let sgd = Sgd::new(learning_rate, momentum);
                sgd.validate()?;
                Stepper::Gradient(Box::new(sgd))
            }
            OptimizerConfig::Spsa { a, c } => {
                let spsa = Spsa::new(a, c, seed ^ 0x5350_5341);
                spsa.validate()?;
                Stepper::Spsa(spsa)
            }
        })
    }
}

/// One epoch of [`History`].
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean loss on the whole training set with the parameters at the end of the epoch.
    pub loss: f64,
    /// Training-set accuracy with the parameters at the end of the epoch.
    pub accuracy: f64,
    /// Training throughput of the epoch's optimisation steps (samples / second, not counting
    /// the end-of-epoch evaluation).
    pub samples_per_second: f64,
    /// Wall-clock seconds of the epoch, evaluation included.
    pub seconds: f64,
}

/// What [`fit`] returns: one entry per epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Per-epoch statistics, in order.
    pub epochs: Vec<EpochStats>,
}

impl History {
    /// Number of epochs recorded.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }
    /// True when no epoch was recorded.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }
    /// Per-epoch training loss.
    pub fn losses(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.loss).collect()
    }
    /// Per-epoch training accuracy.
    pub fn accuracies(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.accuracy).collect()
    }
    /// The last epoch's statistics.
    pub fn last(&self) -> Option<&EpochStats> {
        self.epochs.last()
    }
}

/// Loss and accuracy of a model on a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean loss.
    pub loss: f64,
    /// Fraction classified correctly.
    pub accuracy: f64,
}

/// Mean `loss` and accuracy of `model` on `data`: one [`Backend::forward_batch`] call for the
/// whole set (the backend splits it into sub-batches that fit its memory).
pub fn evaluate(
    model: &Qnn,
    backend: &dyn Backend,
    data: &Dataset,
    loss: &Loss,
) -> Result<Evaluation> {
    check_data(model, data, loss)?;
    let outputs = model.outputs(backend, &data.features)?;
    let k = model.num_outputs();
    let predictions: Vec<usize> = outputs.chunks(k).map(predict_class).collect();
    Ok(Evaluation {
        loss: finite_loss(loss.value(&outputs, &data.labels, k)?)?,
        accuracy: accuracy(&predictions, &data.labels)?,
    })
}

/// Errors if a loss is NaN or infinite (outputs overflowed, e.g. a head loaded with huge
/// weights), instead of reporting it as a result.
fn finite_loss(value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::InvalidArgument(format!(
            "the loss is {value}; the model's outputs are too large (check its parameters)"
        )))
    }
}

fn check_data(model: &Qnn, data: &Dataset, loss: &Loss) -> Result<()> {
    data.validate()?;
    if data.is_empty() {
        return Err(Error::InvalidArgument("the data set is empty".into()));
    }
    if data.num_features != model.num_features() {
        return Err(Error::InvalidArgument(format!(
            "the data has {} features, the model takes {}",
            data.num_features,
            model.num_features()
        )));
    }
    loss.check(model.num_outputs(), data.num_classes())
}

enum Stepper {
    Gradient(Box<dyn Optimizer>),
    Spsa(Spsa),
}

/// Trains `model` on `data`: every epoch shuffles the rows (seeded), walks them in mini-batches
/// of `config.batch_size`, and per mini-batch makes one batched gradient evaluation
/// ([`Qnn::loss_and_gradient`]) and one optimizer step (SPSA: two batched forward passes).
/// After each epoch the whole training set is evaluated once (one batched forward pass) for
/// the history, and a line `epoch  loss  train acc  samples/s` is printed when verbose.
pub fn fit(
    model: &mut Qnn,
    backend: &dyn Backend,
    data: &Dataset,
    config: &TrainConfig,
) -> Result<History> {
    check_data(model, data, &config.loss)?;
    if config.epochs == 0 || config.batch_size == 0 {
        return Err(Error::InvalidArgument(format!(
            "epochs ({}) and batch size ({}) must be at least 1",
            config.epochs, config.batch_size
        )));
    }
    let mut stepper = config.optimizer.build(config.seed)?;
    let mut rng = Rng::new(config.seed);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut params = model.parameters();
    let mut history = History::default();
    let d = data.num_features;
    // A batch never holds more rows than the data set: a huge batch size is one full batch.
    let batch_size = config.batch_size.min(data.len());
    let batches_per_epoch = data.len().div_ceil(batch_size);
    let total_batches = config.epochs.saturating_mul(batches_per_epoch);
    let mut batches_done = 0usize;
    let (mut x, mut y) = (
        Vec::with_capacity(batch_size * d),
        Vec::with_capacity(batch_size),
    );
    for epoch in 1..=config.epochs {
        let start = Instant::now();
        rng.shuffle(&mut order);
        for chunk in order.chunks(batch_size) {
            x.clear();
            y.clear();
            for &i in chunk {
                x.extend_from_slice(&data.features[i * d..(i + 1) * d]);
                y.push(data.labels[i]);
            }
            let batch_loss = match &mut stepper {
                Stepper::Gradient(opt) => {
                    let g =
                        model.loss_and_gradient(backend, &x, &y, &config.loss, config.gradient)?;
                    opt.step(&mut params, &g.gradient)?;
                    g.loss
                }
                Stepper::Spsa(spsa) => {
                    let k = model.num_outputs();
                    let m: &Qnn = model;
                    spsa.step(&mut params, |p| {
                        config.loss.value(&m.outputs_with(backend, p, &x)?, &y, k)
                    })?
                }
            };
            model.set_parameters(&params)?;
            batches_done += 1;
            report(
                &config.progress,
                batches_done,
                total_batches,
                "training batches",
                Some(batch_loss),
            );
        }
        let train_seconds = start.elapsed().as_secs_f64();
        let eval = evaluate(model, backend, data, &config.loss)?;
        let stats = EpochStats {
            epoch,
            loss: eval.loss,
            accuracy: eval.accuracy,
            samples_per_second: data.len() as f64 / train_seconds.max(1e-9),
            seconds: start.elapsed().as_secs_f64(),
        };
        if config.verbose {
            println!(
                "epoch {:>3}/{}  loss {:.4}  train acc {:.3}  {:>8.0} samples/s",
                stats.epoch, config.epochs, stats.loss, stats.accuracy, stats.samples_per_second
            );
        }
        history.epochs.push(stats);
    }
    Ok(history)
}
