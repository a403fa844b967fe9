//! Kernel matrices: the [`KernelMatrix`] type, the quantum [`FidelityKernel`] and the classical
//! [`RbfKernel`] baseline.

use super::linalg;
use crate::backend::Backend;
use crate::circuit::Circuit;
use crate::compile::program::{Batch, BatchConfig, Program};
use crate::error::{Error, Result};
use crate::qml::progress::{report, ProgressFn};
use crate::qml::templates::FeatureMap;
use num_complex::Complex64;

/// Relative asymmetry |K_ij − K_ji| / (1 + max|K|) above which a matrix that must be symmetric
/// is rejected (below it, it is symmetrised): loose enough for an f32 `cross(x, x)` kernel
/// (asymmetry ~1e-6), tight enough to catch a test×train kernel passed as train×train.
const SYMMETRY_TOLERANCE: f64 = 1e-4;

/// Checks a row-major `count × d` sample matrix: d ≥ 1, a whole, non-zero number of samples,
/// finite values. Returns the number of samples.
fn check_samples(x: &[f64], d: usize, what: &str) -> Result<usize> {
    if d == 0 {
        return Err(Error::InvalidArgument(format!(
            "{what}: samples need at least one feature"
        )));
    }
    if x.is_empty() || !x.len().is_multiple_of(d) {
        return Err(Error::InvalidArgument(format!(
            "{what}: {} values is not a whole, non-zero number of {d}-feature samples (row-major N × {d})",
            x.len()
        )));
    }
    if let Some((sample, feature)) = linalg::first_non_finite(x, d) {
        return Err(Error::InvalidArgument(format!(
            "{what}: feature {feature} of sample {sample} is NaN or infinite"
        )));
    }
    Ok(x.len() / d)
}

/// A dense, row-major, real kernel matrix (`rows × cols`): train×train (square, symmetric) or
/// test×train.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl KernelMatrix {
    /// A kernel matrix from row-major `data` (`rows × cols`, finite, rows and cols ≥ 1).
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        if rows == 0 || cols == 0 || rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::InvalidArgument(format!(
                "kernel matrix has {} entries, expected rows × cols = {rows} × {cols} (both ≥ 1)",
                data.len()
            )));
        }
        if let Some((i, j)) = linalg::first_non_finite(&data, cols) {
            return Err(Error::InvalidArgument(format!(
                "kernel entry ({i}, {j}) is NaN or infinite"
            )));
        }
        Ok(KernelMatrix { rows, cols, data })
    }

    /// Number of rows (test or train samples).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (train samples).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Entry (i, j), or `None` when it is out of range.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        if i < self.rows && j < self.cols {
            self.data.get(i * self.cols + j).copied()
        } else {
            None
        }
    }

    /// Row i, or `None` when it is out of range.
    pub fn row(&self, i: usize) -> Option<&[f64]> {
        if i < self.rows {
            self.data.get(i * self.cols..(i + 1) * self.cols)
        } else {
            None
        }
    }

    /// All entries, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The row-major entries.
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }

    /// Whether rows == cols.
    pub fn is_square(&self) -> bool {
        self.rows == self.cols
    }

    /// max |K_ij − K_ji| (an error for a non-square matrix).
    pub fn max_asymmetry(&self) -> Result<f64> {
        self.require_square("max_asymmetry")?;
        let n = self.rows;
        let mut worst = 0.0f64;
        for i in 0..n {
            for j in i + 1..n {
                worst = worst.max((self.data[i * n + j] - self.data[j * n + i]).abs());
            }
        }
        Ok(worst)
    }

    /// Eigenvalues of a square, symmetric kernel matrix, ascending (cyclic Jacobi rotations).
    pub fn eigenvalues(&self) -> Result<Vec<f64>> {
        self.require_square("eigenvalues")?;
        linalg::symmetric_eigenvalues(&self.data, self.rows)
    }

    /// The smallest eigenvalue: ≥ 0 up to rounding for a valid (positive semi-definite) kernel.
    pub fn min_eigenvalue(&self) -> Result<f64> {
        Ok(self.eigenvalues()?[0])
    }

    fn require_square(&self, what: &str) -> Result<()> {
        if !self.is_square() {
            return Err(Error::InvalidArgument(format!(
                "{what} needs a square kernel matrix, this one is {} × {}",
                self.rows, self.cols
            )));
        }
        Ok(())
    }

    /// The symmetric part (K + Kᵀ)/2 of a square matrix, after checking the asymmetry is
    /// rounding-sized.
    pub(super) fn symmetrized(&self, what: &str) -> Result<Vec<f64>> {
        self.require_square(what)?;
        let n = self.rows;
        let scale = 1.0 + self.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let asym = self.max_asymmetry()?;
        if asym > SYMMETRY_TOLERANCE * scale {
            return Err(Error::InvalidArgument(format!(
                "{what} needs a symmetric (train × train) kernel matrix; max |K_ij − K_ji| = {asym:.3e}"
            )));
        }
        let mut s = self.data.clone();
        for i in 0..n {
            for j in i + 1..n {
                let m = 0.5 * (s[i * n + j] + s[j * n + i]);
                s[i * n + j] = m;
                s[j * n + i] = m;
            }
        }
        Ok(s)
    }
}

/// The fidelity kernel K(x, x′) = |⟨φ(x)|φ(x′)⟩|² of an encoding circuit, evaluated on any
/// [`Backend`] through [`Backend::overlaps`] (batched state preparation and a Gram product).
#[derive(Clone, Debug)]
pub struct FidelityKernel {
    program: Program,
    feature_map: Option<FeatureMap>,
    theta: Vec<f64>,
    num_features: usize,
    options: BatchConfig,
    progress: Option<ProgressFn>,
}

/// Rows of a kernel matrix computed per [`Backend::overlaps`] call when a progress callback is
/// hooked (without one, the whole matrix is one call).
const PROGRESS_BLOCK_ROWS: usize = 32;

impl FidelityKernel {
    /// The kernel of a feature map (e.g.
    /// [`zz_feature_map`](crate::qml::templates::zz_feature_map)): raw samples have
    /// `map.num_raw` features and are turned into the circuit's inputs by
    /// [`FeatureMap::features_batch`].
    pub fn new(map: FeatureMap) -> Result<Self> {
        if map.num_raw == 0 {
            return Err(Error::InvalidArgument(
                "the feature map takes no raw features".into(),
            ));
        }
        let program = Program::compile(&map.circuit);
        Ok(FidelityKernel {
            program,
            num_features: map.num_raw,
            feature_map: Some(map),
            theta: Vec::new(),
            options: BatchConfig::default(),
            progress: None,
        })
    }

    /// The kernel of any encoding circuit whose inputs x are the raw features (e.g.
    /// [`angle_encoding`](crate::qml::templates::angle_encoding)). A circuit with trainable θ
    /// needs [`FidelityKernel::with_theta`].
    pub fn from_circuit(circuit: &Circuit) -> Result<Self> {
        if circuit.num_inputs() == 0 {
            return Err(Error::InvalidArgument(
                "an encoding circuit for a kernel must read at least one input x (Angle::input)"
                    .into(),
            ));
        }
        Ok(FidelityKernel {
            program: Program::compile(circuit),
            feature_map: None,
            theta: Vec::new(),
            num_features: circuit.num_inputs(),
            options: BatchConfig::default(),
            progress: None,
        })
    }

    /// Fixes the circuit's trainable parameters θ (all samples share them), e.g. for a
    /// trained ("projected" or aligned) kernel.
    pub fn with_theta(mut self, theta: &[f64]) -> Result<Self> {
        let expected = self.program.num_params();
        if theta.len() != expected {
            return Err(Error::ParameterCount {
                kind: "trainable parameters (θ)",
                expected,
                got: theta.len(),
            });
        }
        if let Some(k) = theta.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter {
                kind: "θ",
                index: k,
            });
        }
        self.theta = theta.to_vec();
        Ok(self)
    }

    /// Scheduler options passed to [`Backend::overlaps`].
    pub fn with_options(mut self, options: BatchConfig) -> Self {
        self.options = options;
        self
    }

    /// Reports progress while [`FidelityKernel::matrix`] and [`FidelityKernel::cross`] run:
    /// `f` gets a [`Progress`](crate::qml::progress::Progress) with `what = "kernel rows"`
    /// after every block of rows. With a callback the matrix is computed in blocks of 32 rows,
    /// one [`Backend::overlaps`] call each (the column states are prepared once per block), so
    /// a large matrix costs more state preparations than without one.
    pub fn with_progress(
        mut self,
        f: impl Fn(&crate::qml::progress::Progress) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(ProgressFn::new(f));
        self
    }

    /// Raw features per sample.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// Qubits of the encoding circuit.
    pub fn num_qubits(&self) -> usize {
        self.program.num_qubits()
    }

    /// The compiled encoding circuit.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The occurrence rows ([`Program`]) of the states φ(x) for a row-major `N × num_features`
    /// sample matrix, with N.
    pub fn occurrence_rows(&self, x: &[f64]) -> Result<(Vec<f64>, usize)> {
        let count = check_samples(x, self.num_features, "kernel samples")?;
        let inputs = match &self.feature_map {
            Some(map) => map.features_batch(x)?,
            None => x.to_vec(),
        };
        let batch = Batch::shared(&self.theta, &inputs, count);
        batch.validate(&self.program)?;
        Ok((batch.resolve(&self.program), count))
    }

    /// The complex overlaps ⟨φ(a_i)|φ(b_j)⟩, row-major `N_a × N_b`.
    pub fn overlaps(
        &self,
        backend: &dyn Backend,
        x_a: &[f64],
        x_b: &[f64],
    ) -> Result<Vec<Complex64>> {
        let (rows_a, na) = self.occurrence_rows(x_a)?;
        let (rows_b, nb) = self.occurrence_rows(x_b)?;
        self.overlap_rows(backend, &rows_a, na, &rows_b, nb)
    }

    /// The overlaps of `na` rows against `nb`: one backend call, or blocks of
    /// [`PROGRESS_BLOCK_ROWS`] rows with a progress report after each when a callback is set.
    fn overlap_rows(
        &self,
        backend: &dyn Backend,
        rows_a: &[f64],
        na: usize,
        rows_b: &[f64],
        nb: usize,
    ) -> Result<Vec<Complex64>> {
        let block_rows = match self.progress {
            Some(_) => PROGRESS_BLOCK_ROWS,
            None => na.max(1),
        };
        let width = self.program.num_angles();
        let mut out = Vec::new();
        let mut done = 0;
        while done < na {
            let take = block_rows.min(na - done);
            let block = rows_a
                .get(done * width..(done + take) * width)
                .ok_or_else(|| Error::InvalidArgument("occurrence rows are ragged".into()))?;
            let o = backend.overlaps(&self.program, block, take, rows_b, nb, &self.options)?;
            if o.len() != take * nb {
                return Err(Error::Device(format!(
                    "{} returned {} overlaps, expected {take} × {nb}",
                    backend.name(),
                    o.len()
                )));
            }
            if let Some(k) = o
                .iter()
                .position(|v| !v.re.is_finite() || !v.im.is_finite())
            {
                return Err(Error::Device(format!(
                    "{} returned a non-finite overlap at ({}, {})",
                    backend.name(),
                    done + k / nb,
                    k % nb
                )));
            }
            out.extend(o);
            done += take;
            report(&self.progress, done, na, "kernel rows", None);
        }
        Ok(out)
    }

    /// The symmetric train×train kernel matrix of a row-major `N × num_features` sample matrix:
    /// K_ij = (|⟨φ_i|φ_j⟩|² + |⟨φ_j|φ_i⟩|²)/2 (the two agree up to rounding; averaging makes K
    /// exactly symmetric). The diagonal is the computed |⟨φ_i|φ_i⟩|², 1 up to the backend's
    /// rounding.
    pub fn matrix(&self, backend: &dyn Backend, x: &[f64]) -> Result<KernelMatrix> {
        let (rows, n) = self.occurrence_rows(x)?;
        let o = self.overlap_rows(backend, &rows, n, &rows, n)?;
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            k[i * n + i] = o[i * n + i].norm_sqr();
            for j in i + 1..n {
                let v = 0.5 * (o[i * n + j].norm_sqr() + o[j * n + i].norm_sqr());
                k[i * n + j] = v;
                k[j * n + i] = v;
            }
        }
        KernelMatrix::new(n, n, k)
    }

    /// The test×train kernel K_ij = |⟨φ(test_i)|φ(train_j)⟩|², `N_test × N_train`.
    pub fn cross(
        &self,
        backend: &dyn Backend,
        x_test: &[f64],
        x_train: &[f64],
    ) -> Result<KernelMatrix> {
        let (rows_a, na) = self.occurrence_rows(x_test)?;
        let (rows_b, nb) = self.occurrence_rows(x_train)?;
        let o = self.overlap_rows(backend, &rows_a, na, &rows_b, nb)?;
        KernelMatrix::new(na, nb, o.iter().map(|v| v.norm_sqr()).collect())
    }
}

/// The Gaussian (RBF) kernel K(x, x′) = exp(−γ‖x − x′‖²), the classical baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RbfKernel {
    gamma: f64,
    num_features: usize,
}

impl RbfKernel {
    /// An RBF kernel with bandwidth parameter γ > 0 on `num_features`-feature samples.
    pub fn new(gamma: f64, num_features: usize) -> Result<Self> {
        if !(gamma.is_finite() && gamma > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "RBF γ must be finite and > 0, got {gamma}"
            )));
        }
        if num_features == 0 {
            return Err(Error::InvalidArgument(
                "RBF samples need at least one feature".into(),
            ));
        }
        Ok(RbfKernel {
            gamma,
            num_features,
        })
    }

    /// γ = 1 / (d · Var(x)) over all entries of the training matrix (scikit-learn's
    /// `gamma="scale"`).
    pub fn scaled_to(x_train: &[f64], num_features: usize) -> Result<Self> {
        check_samples(x_train, num_features, "RBF samples")?;
        let mean = x_train.iter().sum::<f64>() / x_train.len() as f64;
        let var =
            x_train.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / x_train.len() as f64;
        if var.is_nan() || var <= 0.0 {
            return Err(Error::InvalidArgument(
                "cannot scale γ to data with zero variance; give γ explicitly".into(),
            ));
        }
        Self::new(1.0 / (num_features as f64 * var), num_features)
    }

    /// γ.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Features per sample.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The symmetric `N × N` kernel matrix.
    pub fn matrix(&self, x: &[f64]) -> Result<KernelMatrix> {
        self.cross(x, x)
    }

    /// The `N_test × N_train` kernel.
    pub fn cross(&self, x_test: &[f64], x_train: &[f64]) -> Result<KernelMatrix> {
        let d = self.num_features;
        let na = check_samples(x_test, d, "RBF test samples")?;
        let nb = check_samples(x_train, d, "RBF train samples")?;
        let mut k = Vec::with_capacity(na * nb);
        for a in x_test.chunks(d) {
            for b in x_train.chunks(d) {
                let d2: f64 = a.iter().zip(b).map(|(u, v)| (u - v) * (u - v)).sum();
                k.push((-self.gamma * d2).exp());
            }
        }
        KernelMatrix::new(na, nb, k)
    }
}
