//! Labelled data sets: a CSV loader, the bundled Iris data, a seeded two-moons generator,
//! stratified train/test splits and feature standardisation.

use crate::error::{Error, Result};
use crate::math::rng::Rng;
use std::path::Path;

/// The Iris data (Fisher 1936, via scikit-learn; see `data/README.md`), compiled into the crate.
const IRIS_CSV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"));

/// A labelled data set: `len() × num_features` features (row-major) and a class index per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Row-major `len() × num_features` feature matrix.
    pub features: Vec<f64>,
    /// Class index of each row, in `0..class_names.len()`.
    pub labels: Vec<usize>,
    /// Features per row.
    pub num_features: usize,
    /// Name of each feature (column).
    pub feature_names: Vec<String>,
    /// Name of each class; index = label.
    pub class_names: Vec<String>,
}

impl Dataset {
    /// A data set from a row-major feature matrix and labels; checks shapes, finiteness and
    /// that every label is below `class_names.len()`. Features are named `x0, x1, …`.
    pub fn new(
        features: Vec<f64>,
        labels: Vec<usize>,
        num_features: usize,
        class_names: Vec<String>,
    ) -> Result<Self> {
        check_parts(&features, &labels, num_features, class_names.len())?;
        let feature_names = (0..num_features).map(|j| format!("x{j}")).collect();
        Ok(Dataset {
            features,
            labels,
            num_features,
            feature_names,
            class_names,
        })
    }

    /// Checks the invariants that [`Dataset::new`] establishes, which editing the public fields
    /// can break: at least one feature, `features.len() == len() × num_features`, finite
    /// features, labels below `num_classes()`, and `feature_names.len() == num_features`.
    /// Every function that takes a data set calls it first, so an edited data set gives this
    /// error instead of a panic or a wrong answer.
    pub fn validate(&self) -> Result<()> {
        check_parts(
            &self.features,
            &self.labels,
            self.num_features,
            self.class_names.len(),
        )?;
        if self.feature_names.len() != self.num_features {
            return Err(Error::InvalidArgument(format!(
                "the data set has {} feature names for {} features",
                self.feature_names.len(),
                self.num_features
            )));
        }
        Ok(())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes (`class_names.len()`).
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Row `i`'s features, or `None` when `i` is out of range (or the fields were edited so
    /// that row `i` does not exist).
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        let d = self.num_features;
        let start = i.checked_mul(d)?;
        self.features.get(start..start.checked_add(d)?)
    }

    /// Rows per class: entry `c` counts the rows labelled `c` (labels out of range are not counted).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        counts
    }

    /// The rows at `indices` (in that order; repeats allowed). Errors on an index out of range.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        self.validate()?;
        let mut features = Vec::new();
        let mut labels = Vec::new();
        for &i in indices {
            let row = self.row(i).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "row {i} is out of range for a data set of {} rows",
                    self.len()
                ))
            })?;
            features.extend_from_slice(row);
            labels.push(self.labels[i]);
        }
        Ok(Dataset {
            features,
            labels,
            ..self.empty_like()
        })
    }

    /// Only the rows of `classes`, relabelled `0..classes.len()` in the order given
    /// (e.g. `&[1, 2]` keeps versicolor → 0 and virginica → 1 of Iris).
    pub fn select_classes(&self, classes: &[usize]) -> Result<Dataset> {
        self.validate()?;
        if classes.is_empty() {
            return Err(Error::InvalidArgument("select at least one class".into()));
        }
        for (k, &c) in classes.iter().enumerate() {
            if c >= self.num_classes() {
                return Err(Error::InvalidArgument(format!(
                    "class {c} does not exist (the data set has {} classes)",
                    self.num_classes()
                )));
            }
            if classes[..k].contains(&c) {
                return Err(Error::InvalidArgument(format!(
                    "class {c} is selected twice"
                )));
            }
        }
        let mut out = Dataset {
            class_names: classes
                .iter()
                .map(|&c| self.class_names[c].clone())
                .collect(),
            ..self.empty_like()
        };
        let d = self.num_features;
        for (row, &label) in self.features.chunks(d).zip(&self.labels) {
            if let Some(new) = classes.iter().position(|&c| c == label) {
                out.features.extend_from_slice(row);
                out.labels.push(new);
            }
        }
        Ok(out)
    }

    fn empty_like(&self) -> Dataset {
        Dataset {
            features: Vec::new(),
            labels: Vec::new(),
            num_features: self.num_features,
            feature_names: self.feature_names.clone(),
            class_names: self.class_names.clone(),
        }
    }

    /// A stratified, seeded split: within each class the rows are shuffled and
    /// `round(test_fraction · count)` of them go to the test set. Both sets keep the original
    /// row order. `test_fraction` must lie in (0, 1), and both sets must get at least one row
    /// (an error otherwise, e.g. `split(0.999)` of a small data set, which would leave the
    /// training set empty).
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        self.validate()?;
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(Error::InvalidArgument(format!(
                "test fraction {test_fraction} must lie strictly between 0 and 1"
            )));
        }
        let mut rng = Rng::new(seed);
        let mut is_test = vec![false; self.len()];
        for c in 0..self.num_classes() {
            let mut rows: Vec<usize> = (0..self.len()).filter(|&i| self.labels[i] == c).collect();
            rng.shuffle(&mut rows);
            let take = (test_fraction * rows.len() as f64).round() as usize;
            for &i in &rows[..take] {
                is_test[i] = true;
            }
        }
        let train: Vec<usize> = (0..self.len()).filter(|&i| !is_test[i]).collect();
        let test: Vec<usize> = (0..self.len()).filter(|&i| is_test[i]).collect();
        if train.is_empty() || test.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "test fraction {test_fraction} of {} rows leaves the {} set empty ({} train, {} test rows); \
                 choose a fraction nearer 0.5 or use more data",
                self.len(),
                if train.is_empty() { "training" } else { "test" },
                train.len(),
                test.len()
            )));
        }
        Ok((self.subset(&train)?, self.subset(&test)?))
    }

    /// Parses CSV text: lines starting with `#` and blank lines are skipped; the first other
    /// line is a header if its first field is not a number; every row has numeric features
    /// followed by a class in the last column. Classes are names or integers, numbered in the
    /// order they first appear. Malformed input gives an error naming the line.
    pub fn from_csv_str(text: &str) -> Result<Dataset> {
        let mut header: Option<Vec<String>> = None;
        let mut num_features: Option<usize> = None;
        let mut features = Vec::new();
        let mut labels = Vec::new();
        let mut class_names: Vec<String> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if header.is_none() && num_features.is_none() && fields[0].parse::<f64>().is_err() {
                header = Some(fields.iter().map(|s| s.to_string()).collect());
                if fields.len() < 2 {
                    return Err(csv_error(
                        line_no,
                        "the header needs at least one feature column and a class column".into(),
                    ));
                }
                num_features = Some(fields.len() - 1);
                continue;
            }
            let expected = *num_features.get_or_insert(fields.len().saturating_sub(1));
            if expected == 0 || fields.len() != expected + 1 {
                return Err(csv_error(
                    line_no,
                    format!(
                        "{} fields, expected {} ({expected} features and a class)",
                        fields.len(),
                        expected + 1
                    ),
                ));
            }
            for (j, f) in fields[..expected].iter().enumerate() {
                let v: f64 = f.parse().map_err(|_| {
                    csv_error(line_no, format!("column {}: '{f}' is not a number", j + 1))
                })?;
                if !v.is_finite() {
                    return Err(csv_error(
                        line_no,
                        format!("column {}: '{f}' is not finite", j + 1),
                    ));
                }
                features.push(v);
            }
            let class = fields[expected];
            if class.is_empty() {
                return Err(csv_error(line_no, "the class field is empty".into()));
            }
            let label = match class_names.iter().position(|c| c == class) {
                Some(k) => k,
                None => {
                    class_names.push(class.to_string());
                    class_names.len() - 1
                }
            };
            labels.push(label);
        }
        let num_features = match num_features {
            Some(d) if !labels.is_empty() => d,
            _ => return Err(Error::InvalidArgument("CSV has no data rows".into())),
        };
        let mut data = Dataset::new(features, labels, num_features, class_names)?;
        if let Some(h) = header {
            data.feature_names = h[..num_features].to_vec();
        }
        Ok(data)
    }

    /// Reads a CSV file in the format of [`Dataset::from_csv_str`].
    pub fn load_csv(path: impl AsRef<Path>) -> Result<Dataset> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Dataset::from_csv_str(&text)
    }

    /// The Iris data bundled with qshade (`data/iris.csv`): 150 rows, 4 features in cm, classes
    /// setosa = 0, versicolor = 1, virginica = 2 (50 each).
    pub fn iris() -> Result<Dataset> {
        Dataset::from_csv_str(IRIS_CSV)
    }

    /// Two interleaving half circles (scikit-learn's `make_moons`): `n_samples / 2` points on
    /// the upper half circle of radius 1 centred at (0, 0) (class 0) and the rest on the lower
    /// half circle centred at (1, 0.5) (class 1), evenly spaced in angle, plus Gaussian noise
    /// of standard deviation `noise` on each coordinate, then shuffled. Seeded.
    pub fn two_moons(n_samples: usize, noise: f64, seed: u64) -> Result<Dataset> {
        if n_samples < 2 {
            return Err(Error::InvalidArgument(format!(
                "two moons needs at least 2 samples, got {n_samples}"
            )));
        }
        if !(noise >= 0.0 && noise.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "noise {noise} must be finite and ≥ 0"
            )));
        }
        let n_out = n_samples / 2;
        let n_in = n_samples - n_out;
        let angle = |k: usize, count: usize| {
            if count > 1 {
                std::f64::consts::PI * k as f64 / (count - 1) as f64
            } else {
                0.0
            }
        };
        // n_samples comes from the caller: reserve fallibly, so a huge count is an error
        // rather than an abort.
        let too_many = |_| {
            Error::InvalidArgument(format!(
                "two moons with {n_samples} samples does not fit in memory"
            ))
        };
        let mut points: Vec<(f64, f64, usize)> = Vec::new();
        points.try_reserve_exact(n_samples).map_err(too_many)?;
        for k in 0..n_out {
            let t = angle(k, n_out);
            points.push((t.cos(), t.sin(), 0));
        }
        for k in 0..n_in {
            let t = angle(k, n_in);
            points.push((1.0 - t.cos(), 0.5 - t.sin(), 1));
        }
        let mut rng = Rng::new(seed);
        rng.shuffle(&mut points);
        let mut features = Vec::new();
        features
            .try_reserve_exact(n_samples.saturating_mul(2))
            .map_err(too_many)?;
        let mut labels = Vec::new();
        labels.try_reserve_exact(n_samples).map_err(too_many)?;
        for (x, y, l) in points {
            features.push(x + noise * rng.normal());
            features.push(y + noise * rng.normal());
            labels.push(l);
        }
        Dataset::new(features, labels, 2, vec!["upper".into(), "lower".into()])
    }
}

/// Per-feature standardisation `(x − mean) / std`, fitted on training data (population
/// standard deviation; a constant feature gets std 1 so it maps to 0).
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Mean of each feature.
    pub mean: Vec<f64>,
    /// Standard deviation of each feature (never 0).
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Fits mean and standard deviation on `data`'s features. The statistics are computed on
    /// each feature divided by its largest magnitude, so they do not overflow for values near
    /// ±`f64::MAX` (e.g. ±1e308 gives std 1e308, not ∞); non-finite statistics are an error.
    pub fn fit(data: &Dataset) -> Result<Standardizer> {
        data.validate()?;
        if data.is_empty() {
            return Err(Error::InvalidArgument(
                "cannot fit a standardizer on an empty data set".into(),
            ));
        }
        let d = data.num_features;
        let (mut mean, mut std) = (Vec::with_capacity(d), Vec::with_capacity(d));
        for j in 0..d {
            let column = data.features.iter().skip(j).step_by(d);
            let (m, s) = scaled_mean_std(column).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "feature {j} ({}): its mean or standard deviation is not finite",
                    data.feature_names.get(j).map_or("?", String::as_str)
                ))
            })?;
            mean.push(m);
            std.push(if s > 1e-12 { s } else { 1.0 });
        }
        Ok(Standardizer { mean, std })
    }

    /// Checks the invariants that editing the public fields can break: as many means as
    /// standard deviations (at least one), finite means, finite standard deviations > 0.
    pub fn validate(&self) -> Result<()> {
        if self.mean.is_empty() || self.mean.len() != self.std.len() {
            return Err(Error::InvalidArgument(format!(
                "the standardizer has {} means and {} standard deviations (need the same number, ≥ 1)",
                self.mean.len(),
                self.std.len()
            )));
        }
        if let Some(j) = self.mean.iter().position(|m| !m.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "standardizer mean {j} is {}, not finite",
                self.mean[j]
            )));
        }
        if let Some(j) = self.std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::InvalidArgument(format!(
                "standardizer std {j} is {}; it must be finite and > 0",
                self.std[j]
            )));
        }
        Ok(())
    }

    /// Number of features it was fitted on.
    pub fn num_features(&self) -> usize {
        self.mean.len()
    }

    /// Standardises a row-major feature matrix with `num_features()` columns.
    /// Errors on an invalid standardizer ([`Standardizer::validate`]), a ragged matrix, or a
    /// result that is not finite (a value far outside the fitted range, or a NaN input).
    pub fn transform(&self, features: &[f64]) -> Result<Vec<f64>> {
        self.validate()?;
        let d = self.num_features();
        if !features.len().is_multiple_of(d) {
            return Err(Error::InvalidArgument(format!(
                "{} values is not a whole number of {d}-feature rows",
                features.len()
            )));
        }
        // x/s − m/s rather than (x − m)/s: the difference of two values near ±f64::MAX overflows.
        let out: Vec<f64> = features
            .chunks(d)
            .flat_map(|row| {
                row.iter()
                    .zip(&self.mean)
                    .zip(&self.std)
                    .map(|((x, m), s)| x / s - m / s)
            })
            .collect();
        if let Some(k) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "standardised value {k} (row {}, feature {}) is not finite: the input {} is NaN, \
                 infinite or too far outside the fitted range",
                k / d,
                k % d,
                features[k]
            )));
        }
        Ok(out)
    }

    /// A copy of `data` with standardised features.
    pub fn transform_dataset(&self, data: &Dataset) -> Result<Dataset> {
        data.validate()?;
        if data.num_features != self.num_features() {
            return Err(Error::InvalidArgument(format!(
                "the standardizer was fitted on {} features but the data set has {}",
                self.num_features(),
                data.num_features
            )));
        }
        Ok(Dataset {
            features: self.transform(&data.features)?,
            ..data.clone()
        })
    }
}

/// The checks of [`Dataset::new`] and [`Dataset::validate`].
fn check_parts(
    features: &[f64],
    labels: &[usize],
    num_features: usize,
    num_classes: usize,
) -> Result<()> {
    if num_features == 0 {
        return Err(Error::InvalidArgument(
            "a data set needs at least one feature".into(),
        ));
    }
    if labels.len().checked_mul(num_features) != Some(features.len()) {
        return Err(Error::InvalidArgument(format!(
            "{} feature values for {} labels of {num_features} features each (expected {} × {num_features})",
            features.len(),
            labels.len(),
            labels.len(),
        )));
    }
    if let Some(k) = features.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "feature value {k} (row {}, column {}) is NaN or infinite",
            k / num_features,
            k % num_features
        )));
    }
    if let Some((row, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= num_classes) {
        return Err(Error::InvalidArgument(format!(
            "row {row} has label {label} but there are only {num_classes} classes"
        )));
    }
    Ok(())
}

/// Mean and population standard deviation of finite values, computed on the values divided by
/// their largest magnitude so that nothing overflows; `None` if a statistic is not finite
/// (or there are no values).
fn scaled_mean_std<'a>(values: impl Iterator<Item = &'a f64> + Clone) -> Option<(f64, f64)> {
    let scale = values.clone().fold(0.0f64, |m, v| m.max(v.abs()));
    if !scale.is_finite() {
        return None;
    }
    if scale == 0.0 {
        return Some((0.0, 0.0));
    }
    // Welford's update on the scaled values.
    let (mut n, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
    for v in values {
        let x = v / scale;
        n += 1.0;
        let delta = x - mean;
        mean += delta / n;
        m2 += delta * (x - mean);
    }
    if n == 0.0 {
        return None;
    }
    let (mean, std) = (mean * scale, (m2 / n).max(0.0).sqrt() * scale);
    (mean.is_finite() && std.is_finite()).then_some((mean, std))
}

/// A malformed-CSV error at `line`.
fn csv_error(line: usize, message: String) -> Error {
    Error::Parse {
        what: "CSV",
        line,
        message,
    }
}
