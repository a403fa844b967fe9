//! The protocol: nested cross-validation with the same grid budget for every model.
//!
//! For every data set and every repeat r, the rows are split into k stratified outer folds
//! (seeded by the study seed, the data set's index and r; the same folds for every model, so
//! the per-fold scores are paired). For each outer fold, every grid point of a model
//! ([`ModelSpec::grid`], `grid_budget` points for every model) is scored by the mean accuracy
//! of an inner stratified k-fold on the outer training set; the best point is refitted on the
//! whole outer training set and scored on the outer test fold (accuracy and ROC-AUC), and that
//! refit's wall time is recorded. Outer folds run in parallel (rayon); each fit's quantum
//! circuits run through the backend's batched calls.

use super::models::{Hyperparameters, ModelSpec, QnnTraining};
use super::stats::roc_auc;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::progress::{Progress, ProgressFn};
use crate::qml::train::Dataset;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A data set of the study with what the report groups it by.
#[derive(Clone, Debug)]
pub struct StudyDataset {
    /// Unique name, e.g. `parity-d4`.
    pub name: String,
    /// Generator family, e.g. `hyperplanes-parity` (the x-axis groups of the plots).
    pub family: String,
    /// Feature dimension.
    pub dimension: usize,
    /// The rows (binary, labels 0/1).
    pub data: Dataset,
}

impl StudyDataset {
    /// The user's own binary data set from a CSV file in the format of
    /// [`Dataset::load_csv`] (numeric features, the class in the last column), named after
    /// the file, family `csv`. Errors unless it has exactly two classes (pick two with
    /// [`Dataset::select_classes`] and build a `StudyDataset` yourself otherwise).
    pub fn from_csv(path: impl AsRef<std::path::Path>) -> Result<StudyDataset> {
        let path = path.as_ref();
        let data = Dataset::load_csv(path)?;
        if data.num_classes() != 2 {
            return Err(Error::InvalidArgument(format!(
                "{}: the study compares binary classifiers, the file has {} classes ({}); keep two with Dataset::select_classes",
                path.display(),
                data.num_classes(),
                data.class_names.join(", ")
            )));
        }
        let name = path
            .file_stem()
            .map_or_else(|| "csv".to_string(), |s| s.to_string_lossy().into_owned());
        Ok(StudyDataset {
            name,
            family: "csv".into(),
            dimension: data.num_features,
            data,
        })
    }
}

/// Settings of [`run_study`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StudyConfig {
    /// Outer folds k.
    pub outer_folds: usize,
    /// Outer repeats (each a new shuffle).
    pub outer_repeats: usize,
    /// Inner folds of the grid search.
    pub inner_folds: usize,
    /// Grid points per model (the same for every model).
    pub grid_budget: usize,
    /// QNN training length.
    pub training: QnnTraining,
    /// The models.
    pub models: Vec<ModelSpec>,
    /// Seed of every split and model initialisation.
    pub seed: u64,
    /// Called after every (data set, model, outer fold) with `what = "outer fits"`.
    pub progress: Option<ProgressFn>,
}

impl Default for StudyConfig {
    /// The default study's protocol: 3 repeats × 3 outer folds, 3 inner folds, 3 grid points,
    /// 20 QNN epochs in batches of 16, every model of [`ModelSpec::all`], seed 17.
    fn default() -> Self {
        StudyConfig {
            outer_folds: 3,
            outer_repeats: 3,
            inner_folds: 3,
            grid_budget: 3,
            training: QnnTraining::default(),
            models: ModelSpec::all(),
            seed: 17,
            progress: None,
        }
    }
}

impl StudyConfig {
    /// Sets the outer repeated k-fold.
    pub fn outer(mut self, repeats: usize, folds: usize) -> Self {
        self.outer_repeats = repeats;
        self.outer_folds = folds;
        self
    }
    /// Sets the inner folds.
    pub fn inner_folds(mut self, folds: usize) -> Self {
        self.inner_folds = folds;
        self
    }
    /// Sets the grid budget.
    pub fn grid_budget(mut self, budget: usize) -> Self {
        self.grid_budget = budget;
        self
    }
    /// Sets the QNN training length.
    pub fn training(mut self, training: QnnTraining) -> Self {
        self.training = training;
        self
    }
    /// Sets the models.
    pub fn models(mut self, models: Vec<ModelSpec>) -> Self {
        self.models = models;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the progress callback.
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressFn::new(f));
        self
    }
}

/// One outer fold of one model on one data set: a row of the results file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// Data set name.
    pub dataset: String,
    /// Data set family.
    pub family: String,
    /// Feature dimension.
    pub dimension: usize,
    /// Model name ([`ModelSpec::name`]).
    pub model: String,
    /// Whether the model is quantum.
    pub quantum: bool,
    /// Outer repeat index.
    pub repeat: usize,
    /// Outer fold index.
    pub fold: usize,
    /// Test accuracy.
    pub accuracy: f64,
    /// Test ROC-AUC.
    pub roc_auc: f64,
    /// Mean inner-CV accuracy of the chosen grid point.
    pub inner_accuracy: f64,
    /// Wall time of the final fit on the outer training set, seconds.
    pub fit_seconds: f64,
    /// Wall time of the grid search, seconds.
    pub search_seconds: f64,
    /// Outer training rows.
    pub n_train: usize,
    /// Outer test rows.
    pub n_test: usize,
    /// The chosen hyperparameters, `name=value` joined by `;`.
    pub hyperparameters: String,
}

/// Stratified k-fold test indices of `labels`, shuffled by `seed`: every class's rows are
/// dealt round-robin over the folds, so fold sizes and class shares differ by at most one.
/// Errors unless 2 ≤ k ≤ the size of the smallest class.
pub fn stratified_folds(labels: &[usize], k: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l].push(i);
    }
    let smallest = by_class
        .iter()
        .map(Vec::len)
        .filter(|&c| c > 0)
        .min()
        .unwrap_or(0);
    if k < 2 || k > smallest {
        return Err(Error::InvalidArgument(format!(
            "stratified {k}-fold needs 2 ≤ k ≤ the smallest class's size ({smallest})"
        )));
    }
    let mut rng = Rng::new(seed);
    let mut folds = vec![Vec::new(); k];
    let mut next = 0usize;
    for mut rows in by_class {
        rng.shuffle(&mut rows);
        for i in rows {
            folds[next % k].push(i);
            next += 1;
        }
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    Ok(folds)
}

fn complement(n: usize, test: &[usize]) -> Vec<usize> {
    let mut mask = vec![true; n];
    for &i in test {
        mask[i] = false;
    }
    (0..n).filter(|&i| mask[i]).collect()
}

fn accuracy(pred: &[usize], labels: &[usize]) -> f64 {
    pred.iter().zip(labels).filter(|(a, b)| a == b).count() as f64 / labels.len().max(1) as f64
}

fn format_hyper(h: &Hyperparameters) -> String {
    h.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn mix(seed: u64, parts: &[u64]) -> u64 {
    parts.iter().fold(seed, |acc, &p| {
        Rng::new(acc ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next_u64()
    })
}

/// The outcome of [`run_study`]: one [`FoldResult`] per data set × model × outer fold.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StudyResults {
    /// Every outer fold's result, ordered by data set, model, repeat, fold.
    pub rows: Vec<FoldResult>,
    /// Wall time of the whole study, seconds.
    pub wall_seconds: f64,
}

/// Runs the nested cross-validation of every model of `config` on every data set.
pub fn run_study(
    backend: &dyn Backend,
    datasets: &[StudyDataset],
    config: &StudyConfig,
) -> Result<StudyResults> {
    let start = Instant::now();
    if datasets.is_empty() || config.models.is_empty() {
        return Err(Error::InvalidArgument(
            "the study needs at least one data set and one model".into(),
        ));
    }
    if config.outer_repeats == 0 || config.outer_repeats > 100 {
        return Err(Error::InvalidArgument(format!(
            "outer repeats must be in 1..=100, got {}",
            config.outer_repeats
        )));
    }
    let grids: Vec<Vec<Hyperparameters>> = config
        .models
        .iter()
        .map(|m| m.grid(config.grid_budget))
        .collect::<Result<_>>()?;
    let jobs_per_dataset = config
        .models
        .len()
        .checked_mul(config.outer_repeats)
        .and_then(|v| v.checked_mul(config.outer_folds))
        .ok_or_else(|| Error::InvalidArgument("the study has too many fits".into()))?;
    let total = jobs_per_dataset
        .checked_mul(datasets.len())
        .ok_or_else(|| Error::InvalidArgument("the study has too many fits".into()))?;
    let done = AtomicUsize::new(0);
    let mut rows = Vec::new();
    for (di, case) in datasets.iter().enumerate() {
        let data = &case.data;
        data.validate()?;
        if data.labels.iter().any(|&l| l > 1) {
            return Err(Error::InvalidArgument(format!(
                "data set {} has {} classes; the study compares binary classifiers (use Dataset::select_classes)",
                case.name,
                data.num_classes()
            )));
        }
        // Outer splits, shared by every model.
        let mut splits = Vec::new();
        for r in 0..config.outer_repeats {
            let folds = stratified_folds(
                &data.labels,
                config.outer_folds,
                mix(config.seed, &[di as u64, r as u64]),
            )?;
            for (f, test) in folds.into_iter().enumerate() {
                splits.push((r, f, test));
            }
        }
        let jobs: Vec<(usize, usize)> = (0..config.models.len())
            .flat_map(|m| (0..splits.len()).map(move |s| (m, s)))
            .collect();
        let results: Vec<Result<FoldResult>> = jobs
            .par_iter()
            .map(|&(mi, si)| {
                let (r, f, test) = &splits[si];
                let spec = config.models[mi];
                let seed = mix(config.seed, &[di as u64, mi as u64, *r as u64, *f as u64]);
                let out = outer_fold(backend, case, spec, &grids[mi], test, config, seed)
                    .map(|mut row| {
                        row.repeat = *r;
                        row.fold = *f;
                        row
                    })
                    .map_err(|e| match e {
                        Error::InvalidArgument(msg) => Error::InvalidArgument(format!(
                            "{} on {} (repeat {r}, fold {f}): {msg}",
                            spec.name(),
                            case.name
                        )),
                        other => other,
                    });
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(p) = &config.progress {
                    p.report(&Progress::new(n, total, "outer fits", None));
                }
                out
            })
            .collect();
        for r in results {
            rows.push(r?);
        }
    }
    Ok(StudyResults {
        rows,
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

/// Grid search on the outer training rows, refit, test.
fn outer_fold(
    backend: &dyn Backend,
    case: &StudyDataset,
    spec: ModelSpec,
    grid: &[Hyperparameters],
    test: &[usize],
    config: &StudyConfig,
    seed: u64,
) -> Result<FoldResult> {
    let data = &case.data;
    let train_idx = complement(data.len(), test);
    let train = data.subset(&train_idx)?;
    let test_set = data.subset(test)?;
    let search = Instant::now();
    let inner = stratified_folds(&train.labels, config.inner_folds, seed ^ 0x1234)?;
    let mut best: Option<(f64, usize)> = None;
    for (gi, hyper) in grid.iter().enumerate() {
        let mut total = 0.0;
        for (ii, valid) in inner.iter().enumerate() {
            let fit_idx = complement(train.len(), valid);
            let fit_set = train.subset(&fit_idx)?;
            let valid_set = train.subset(valid)?;
            let mut model = spec.build(hyper, config.training, seed.wrapping_add(ii as u64))?;
            model.fit(backend, &fit_set)?;
            let pred = model.predict(backend, &valid_set.features)?;
            total += accuracy(&pred, &valid_set.labels);
        }
        let score = total / inner.len() as f64;
        // Strictly better only: ties keep the earlier (simpler) grid point.
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, gi));
        }
    }
    let (inner_accuracy, gi) = best.ok_or_else(|| Error::InvalidArgument("empty grid".into()))?;
    let search_seconds = search.elapsed().as_secs_f64();
    let fit_start = Instant::now();
    let mut model = spec.build(&grid[gi], config.training, seed)?;
    model.fit(backend, &train)?;
    let fit_seconds = fit_start.elapsed().as_secs_f64();
    let scores = model.decision_function(backend, &test_set.features)?;
    let pred: Vec<usize> = scores.iter().map(|&s| usize::from(s > 0.0)).collect();
    Ok(FoldResult {
        dataset: case.name.clone(),
        family: case.family.clone(),
        dimension: case.dimension,
        model: spec.name(),
        quantum: spec.is_quantum(),
        repeat: 0,
        fold: 0,
        accuracy: accuracy(&pred, &test_set.labels),
        roc_auc: roc_auc(&scores, &test_set.labels)?,
        inner_accuracy,
        fit_seconds,
        search_seconds,
        n_train: train.len(),
        n_test: test_set.len(),
        hyperparameters: format_hyper(&model.hyperparameters()),
    })
}
