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
        if num_features == 0 {
            return Err(Error::InvalidArgument(
                "a data set needs at least one feature".into(),
            ));
        }
        if features.len() != labels.len() * num_features {
            return Err(Error::InvalidArgument(format!(
                "{} feature values for {} labels of {num_features} features each (expected {})",
                features.len(),
                labels.len(),
                labels.len() * num_features
            )));
        }
        if let Some(k) = features.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "feature value {k} (row {}, column {}) is NaN or infinite",
                k / num_features,
                k % num_features
            )));
        }
        if let Some((row, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, &l)| l >= class_names.len())
        {
            return Err(Error::InvalidArgument(format!(
                "row {row} has label {label} but there are only {} classes",
                class_names.len()
            )));
        }
        let feature_names = (0..num_features).map(|j| format!("x{j}")).collect();
        Ok(Dataset {
            features,
            labels,
            num_features,
            feature_names,
            class_names,
        })
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

    /// Row `i`'s features.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.features[i * self.num_features..(i + 1) * self.num_features]
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
        let mut features = Vec::with_capacity(indices.len() * self.num_features);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            if i >= self.len() {
                return Err(Error::InvalidArgument(format!(
                    "row {i} is out of range for a data set of {} rows",
                    self.len()
                )));
            }
            features.extend_from_slice(self.row(i));
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
        for i in 0..self.len() {
            if let Some(new) = classes.iter().position(|&c| c == self.labels[i]) {
                out.features.extend_from_slice(self.row(i));
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
    /// row order. `test_fraction` must lie in (0, 1).
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
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
        let mut points: Vec<(f64, f64, usize)> = Vec::with_capacity(n_samples);
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
        let mut features = Vec::with_capacity(2 * n_samples);
        let mut labels = Vec::with_capacity(n_samples);
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
    /// Fits mean and standard deviation on `data`'s features.
    pub fn fit(data: &Dataset) -> Result<Standardizer> {
        if data.is_empty() {
            return Err(Error::InvalidArgument(
                "cannot fit a standardizer on an empty data set".into(),
            ));
        }
        let (n, d) = (data.len() as f64, data.num_features);
        let mut mean = vec![0.0; d];
        for i in 0..data.len() {
            for (m, v) in mean.iter_mut().zip(data.row(i)) {
                *m += v / n;
            }
        }
        let mut var = vec![0.0; d];
        for i in 0..data.len() {
            for ((s, v), m) in var.iter_mut().zip(data.row(i)).zip(&mean) {
                *s += (v - m) * (v - m) / n;
            }
        }
        let std = var
            .iter()
            .map(|v| if v.sqrt() > 1e-12 { v.sqrt() } else { 1.0 })
            .collect();
        Ok(Standardizer { mean, std })
    }

    /// Number of features it was fitted on.
    pub fn num_features(&self) -> usize {
        self.mean.len()
    }

    /// Standardises a row-major feature matrix with `num_features()` columns.
    pub fn transform(&self, features: &[f64]) -> Result<Vec<f64>> {
        let d = self.num_features();
        if d == 0 || !features.len().is_multiple_of(d) {
            return Err(Error::InvalidArgument(format!(
                "{} values is not a whole number of {d}-feature rows",
                features.len()
            )));
        }
        Ok(features
            .chunks(d)
            .flat_map(|row| {
                row.iter()
                    .zip(&self.mean)
                    .zip(&self.std)
                    .map(|((x, m), s)| (x - m) / s)
            })
            .collect())
    }

    /// A copy of `data` with standardised features.
    pub fn transform_dataset(&self, data: &Dataset) -> Result<Dataset> {
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

/// A malformed-CSV error at `line`.
fn csv_error(line: usize, message: String) -> Error {
    Error::Parse {
        what: "CSV",
        line,
        message,
    }
}
