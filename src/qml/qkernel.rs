//! Fidelity quantum kernels and kernel classifiers on top of them.
//!
//! A [`FidelityKernel`] turns an encoding circuit |φ(x)⟩ (a [`FeatureMap`] such as
//! [`zz_feature_map`], or any circuit whose inputs are the raw features) into the kernel
//!
//! ```text
//! K_ij = |⟨φ(x_i)|φ(x_j)⟩|²
//! ```
//!
//! computed through [`Backend::overlaps`]: the N (train) and M (test) states are each prepared
//! once, as one batch, and the N×M inner products are one Gram product (on the device for the
//! GPU backend), so a kernel matrix costs O(N + M) state preparations, not O(N·M) circuits.
//!
//! On top of any precomputed kernel ([`KernelMatrix`]) sit two classifiers, chosen with
//! [`KernelSolver`]:
//!
//! * **kernel ridge classification** ([`KernelSolver::Ridge`]): solve (K + λI)α = y with y = ±1
//!   by a Cholesky factorisation (with a reported jitter when K + λI is numerically singular),
//!   decision f(x) = Σ_i α_i k(x, x_i) (no intercept);
//! * **soft-margin kernel SVM** ([`KernelSolver::Svm`]): the C-SVC dual solved by SMO with
//!   maximal-violating-pair working-set selection (Keerthi et al. / LIBSVM's WSS1), decision
//!   f(x) = Σ_i α_i y_i k(x, x_i) + b.
//!
//! More than two classes are handled one-vs-rest (one binary problem per class, prediction by
//! the largest decision value). [`RbfKernel`] gives the classical baseline
//! K_ij = exp(−γ‖x_i − x_j‖²) for the same classifiers, and [`ad_hoc_dataset`] a seeded
//! synthetic data set in the style of Havlíček et al. whose labels a ZZ-feature-map kernel can
//! represent exactly. The small dense linear algebra (Cholesky, Jacobi eigenvalues) is in
//! [`linalg`].
//!
//! Every function validates shapes and finiteness and returns an [`Error`], never panics.
//!
//! ```
//! # fn main() -> qshade::Result<()> {
//! use qshade::qkernel::{FidelityKernel, KernelClassifier, KernelSolver};
//! use qshade::templates::{zz_feature_map, Entanglement};
//! let kernel = FidelityKernel::new(zz_feature_map(2, 2, Entanglement::Full)?)?;
//! let cpu = qshade::CpuBackend::new();
//! let x_train = [0.1, 0.2, 2.0, 1.0, 0.15, 0.25, 2.1, 0.9];
//! let labels = [1, -1, 1, -1];
//! let k = kernel.matrix(&cpu, &x_train)?;
//! assert!((k.get(0, 0) - 1.0).abs() < 1e-12);
//! let model = KernelClassifier::fit(&k, &labels, KernelSolver::ridge(1e-3))?;
//! let k_test = kernel.cross(&cpu, &[0.12, 0.22], &x_train)?;
//! assert_eq!(model.predict(&k_test)?, vec![1]);
//! # Ok(()) }
//! ```

use crate::backend::Backend;
use crate::circuit::{Circuit, Observable};
use crate::compile::program::{Batch, BatchOptions, Program};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::templates::{zz_feature_map, Entanglement, FeatureMap};
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
    if let Some(k) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "{what}: feature {} of sample {} is NaN or infinite",
            k % d,
            k / d
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
        if rows == 0 || cols == 0 || data.len() != rows * cols {
            return Err(Error::InvalidArgument(format!(
                "kernel matrix has {} entries, expected rows × cols = {rows} × {cols} (both ≥ 1)",
                data.len()
            )));
        }
        if let Some(k) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "kernel entry ({}, {}) is NaN or infinite",
                k / cols,
                k % cols
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

    /// Entry (i, j); panics like slice indexing when out of range.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        assert!(
            i < self.rows && j < self.cols,
            "kernel index ({i}, {j}) out of range"
        );
        self.data[i * self.cols + j]
    }

    /// Row i.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
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

    /// Eigenvalues of a square, symmetric kernel matrix, ascending (cyclic Jacobi,
    /// [`linalg::symmetric_eigenvalues`]).
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
    fn symmetrized(&self, what: &str) -> Result<Vec<f64>> {
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
    options: BatchOptions,
}

impl FidelityKernel {
    /// The kernel of a feature map (e.g. [`zz_feature_map`]): raw samples have
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
            options: BatchOptions::default(),
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
            options: BatchOptions::default(),
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
    pub fn with_options(mut self, options: BatchOptions) -> Self {
        self.options = options;
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

    fn overlap_rows(
        &self,
        backend: &dyn Backend,
        rows_a: &[f64],
        na: usize,
        rows_b: &[f64],
        nb: usize,
    ) -> Result<Vec<Complex64>> {
        let o = backend.overlaps(&self.program, rows_a, na, rows_b, nb, &self.options)?;
        if o.len() != na * nb {
            return Err(Error::Device(format!(
                "{} returned {} overlaps, expected {na} × {nb}",
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
                k / nb,
                k % nb
            )));
        }
        Ok(o)
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

/// How [`KernelClassifier::fit`] trains each binary (±1) problem.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KernelSolver {
    /// Kernel ridge classification: (K + λI)α = y by Cholesky, decision Σ_i α_i k(x, x_i).
    /// λ ≥ 0; when K + λI is numerically singular (λ = 0 with a rank-deficient K, or an f32
    /// kernel with slightly negative eigenvalues) a jitter up to `1e-3 · mean(diag K)` is added
    /// and reported by [`BinaryModel::jitter`].
    Ridge {
        /// The ridge λ.
        lambda: f64,
    },
    /// Soft-margin C-SVC solved by SMO (maximal violating pair), decision
    /// Σ_i α_i y_i k(x, x_i) + b.
    Svm {
        /// Box constraint C > 0 (larger: harder margin).
        c: f64,
        /// Stop when the maximal KKT violation m(α) − M(α) is below this (> 0).
        tolerance: f64,
        /// Fail (with an error) after this many SMO steps.
        max_iterations: usize,
    },
}

impl KernelSolver {
    /// Kernel ridge with λ.
    pub fn ridge(lambda: f64) -> Self {
        KernelSolver::Ridge { lambda }
    }

    /// SVM with box constraint C, tolerance 1e-3 (LIBSVM's default) and at most 100 000 steps.
    pub fn svm(c: f64) -> Self {
        KernelSolver::Svm {
            c,
            tolerance: 1e-3,
            max_iterations: 100_000,
        }
    }

    fn validate(&self) -> Result<()> {
        match *self {
            KernelSolver::Ridge { lambda } if !(lambda.is_finite() && lambda >= 0.0) => Err(
                Error::InvalidArgument(format!("ridge λ must be finite and ≥ 0, got {lambda}")),
            ),
            KernelSolver::Svm { c, .. } if !(c.is_finite() && c > 0.0) => Err(
                Error::InvalidArgument(format!("SVM C must be finite and > 0, got {c}")),
            ),
            KernelSolver::Svm { tolerance, .. } if !(tolerance.is_finite() && tolerance > 0.0) => {
                Err(Error::InvalidArgument(format!(
                    "SVM tolerance must be finite and > 0, got {tolerance}"
                )))
            }
            KernelSolver::Svm {
                max_iterations: 0, ..
            } => Err(Error::InvalidArgument(
                "SVM max_iterations must be ≥ 1".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// One trained binary (±1) problem: decision f(x) = Σ_i coefficients_i · k(x, x_i) + bias.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryModel {
    /// The class scored +1 (the other class, or every other class in one-vs-rest, is −1).
    pub positive_class: i64,
    /// Per-training-sample weights (α_i for ridge, α_i·y_i for the SVM).
    pub coefficients: Vec<f64>,
    /// Intercept (0 for ridge).
    pub bias: f64,
    /// Jitter added to the diagonal of K + λI to factorise it (ridge; 0 if none was needed).
    pub jitter: f64,
    /// SMO steps taken (SVM; 0 for ridge).
    pub iterations: usize,
    /// Training samples with a non-zero coefficient (support vectors for the SVM).
    pub num_support: usize,
}

/// A kernel classifier (ridge or SVM, one-vs-rest for more than two classes) trained on a
/// precomputed train×train [`KernelMatrix`] and applied to test×train kernels.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelClassifier {
    solver: KernelSolver,
    classes: Vec<i64>,
    num_train: usize,
    models: Vec<BinaryModel>,
}

impl KernelClassifier {
    /// Trains on the symmetric `N × N` kernel `k_train` and N labels (any integers; at least
    /// two distinct values). Two classes give one binary model (the larger label is +1); K
    /// classes give K one-vs-rest models.
    pub fn fit(k_train: &KernelMatrix, labels: &[i64], solver: KernelSolver) -> Result<Self> {
        solver.validate()?;
        let k = k_train.symmetrized("KernelClassifier::fit")?;
        let n = k_train.rows();
        if labels.len() != n {
            return Err(Error::InvalidArgument(format!(
                "{} labels for a {n} × {n} training kernel",
                labels.len()
            )));
        }
        let mut classes = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            return Err(Error::InvalidArgument(format!(
                "training labels must contain at least two classes, found {classes:?}"
            )));
        }
        let positives: Vec<i64> = if classes.len() == 2 {
            vec![classes[1]]
        } else {
            classes.clone()
        };
        let targets: Vec<Vec<f64>> = positives
            .iter()
            .map(|&p| {
                labels
                    .iter()
                    .map(|&l| if l == p { 1.0 } else { -1.0 })
                    .collect()
            })
            .collect();
        let models = match solver {
            KernelSolver::Ridge { lambda } => {
                let mut a = k.clone();
                for i in 0..n {
                    a[i * n + i] += lambda;
                }
                let mean_diag = (0..n).map(|i| k[i * n + i]).sum::<f64>() / n as f64;
                let max_jitter = 1e-3 * mean_diag.abs().max(f64::MIN_POSITIVE);
                let (l, jitter) = linalg::cholesky_with_jitter(&a, n, max_jitter).map_err(|e| {
                    Error::InvalidArgument(format!(
                        "kernel ridge: K + λI (λ = {lambda}) is not positive definite even with a \
                         jitter of {max_jitter:.1e}; increase λ or check the kernel ({e})"
                    ))
                })?;
                positives
                    .iter()
                    .zip(&targets)
                    .map(|(&p, y)| {
                        let alpha = linalg::cholesky_solve(&l, n, y)?;
                        Ok(BinaryModel {
                            positive_class: p,
                            num_support: alpha.iter().filter(|a| **a != 0.0).count(),
                            coefficients: alpha,
                            bias: 0.0,
                            jitter,
                            iterations: 0,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            KernelSolver::Svm {
                c,
                tolerance,
                max_iterations,
            } => positives
                .iter()
                .zip(&targets)
                .map(|(&p, y)| {
                    let (coefficients, bias, iterations) =
                        smo(&k, n, y, c, tolerance, max_iterations)?;
                    Ok(BinaryModel {
                        positive_class: p,
                        num_support: coefficients.iter().filter(|a| **a != 0.0).count(),
                        coefficients,
                        bias,
                        jitter: 0.0,
                        iterations,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        };
        Ok(KernelClassifier {
            solver,
            classes,
            num_train: n,
            models,
        })
    }

    /// The solver it was trained with.
    pub fn solver(&self) -> KernelSolver {
        self.solver
    }

    /// The distinct training labels, ascending.
    pub fn classes(&self) -> &[i64] {
        &self.classes
    }

    /// The binary models (one for two classes, one per class otherwise).
    pub fn models(&self) -> &[BinaryModel] {
        &self.models
    }

    /// Number of training samples (the columns a test kernel must have).
    pub fn num_train(&self) -> usize {
        self.num_train
    }

    /// Decision values for a `M × N_train` test kernel, row-major `M × models().len()`.
    pub fn decision_function(&self, k_test: &KernelMatrix) -> Result<Vec<f64>> {
        if k_test.cols() != self.num_train {
            return Err(Error::InvalidArgument(format!(
                "test kernel has {} columns but the classifier was trained on {} samples (expected M × N_train)",
                k_test.cols(),
                self.num_train
            )));
        }
        let mut out = Vec::with_capacity(k_test.rows() * self.models.len());
        for i in 0..k_test.rows() {
            let row = k_test.row(i);
            for m in &self.models {
                out.push(
                    row.iter()
                        .zip(&m.coefficients)
                        .map(|(k, a)| k * a)
                        .sum::<f64>()
                        + m.bias,
                );
            }
        }
        Ok(out)
    }

    /// Predicted labels for a `M × N_train` test kernel.
    pub fn predict(&self, k_test: &KernelMatrix) -> Result<Vec<i64>> {
        let scores = self.decision_function(k_test)?;
        let m = self.models.len();
        Ok(scores
            .chunks(m)
            .map(|s| {
                if m == 1 {
                    if s[0] >= 0.0 {
                        self.classes[1]
                    } else {
                        self.classes[0]
                    }
                } else {
                    let best = (0..m).fold(0, |b, j| if s[j] > s[b] { j } else { b });
                    self.models[best].positive_class
                }
            })
            .collect())
    }

    /// Fraction of `labels` predicted correctly from the `M × N_train` test kernel.
    pub fn accuracy(&self, k_test: &KernelMatrix, labels: &[i64]) -> Result<f64> {
        if labels.len() != k_test.rows() {
            return Err(Error::InvalidArgument(format!(
                "{} labels for a test kernel with {} rows",
                labels.len(),
                k_test.rows()
            )));
        }
        let predicted = self.predict(k_test)?;
        Ok(
            predicted.iter().zip(labels).filter(|(p, l)| p == l).count() as f64
                / labels.len() as f64,
        )
    }
}

/// SMO for the C-SVC dual min ½αᵀQα − Σα, 0 ≤ α ≤ C, yᵀα = 0, Q_ij = y_i y_j K_ij, with
/// maximal-violating-pair selection and LIBSVM's two-variable update. Returns (α_i y_i, b,
/// steps) for the decision Σ α_i y_i K(x, x_i) + b.
fn smo(
    k: &[f64],
    n: usize,
    y: &[f64],
    c: f64,
    tolerance: f64,
    max_iterations: usize,
) -> Result<(Vec<f64>, f64, usize)> {
    const TAU: f64 = 1e-12;
    let mut alpha = vec![0.0; n];
    let mut grad = vec![-1.0; n]; // G = Qα − e
    let in_up = |a: f64, y: f64| (y > 0.0 && a < c) || (y < 0.0 && a > 0.0);
    let in_low = |a: f64, y: f64| (y > 0.0 && a > 0.0) || (y < 0.0 && a < c);
    let mut steps = 0;
    loop {
        let (mut gmax, mut gmin) = (f64::NEG_INFINITY, f64::INFINITY);
        let (mut i, mut j) = (usize::MAX, usize::MAX);
        for t in 0..n {
            let v = -y[t] * grad[t];
            if in_up(alpha[t], y[t]) && v > gmax {
                gmax = v;
                i = t;
            }
            if in_low(alpha[t], y[t]) && v < gmin {
                gmin = v;
                j = t;
            }
        }
        if i == usize::MAX || j == usize::MAX || gmax - gmin < tolerance {
            break;
        }
        if steps >= max_iterations {
            return Err(Error::InvalidArgument(format!(
                "SVM (SMO) did not converge in {max_iterations} steps (KKT violation {:.3e} > {tolerance:.1e}); \
                 raise max_iterations or tolerance, or lower C",
                gmax - gmin
            )));
        }
        steps += 1;
        let (kii, kjj, qij) = (k[i * n + i], k[j * n + j], y[i] * y[j] * k[i * n + j]);
        let (old_i, old_j) = (alpha[i], alpha[j]);
        if y[i] != y[j] {
            let quad = kii + kjj + 2.0 * qij;
            let delta = (-grad[i] - grad[j]) / if quad > 0.0 { quad } else { TAU };
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 {
                if alpha[j] < 0.0 {
                    alpha[j] = 0.0;
                    alpha[i] = diff;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > 0.0 {
                if alpha[i] > c {
                    alpha[i] = c;
                    alpha[j] = c - diff;
                }
            } else if alpha[j] > c {
                alpha[j] = c;
                alpha[i] = c + diff;
            }
        } else {
            let quad = kii + kjj - 2.0 * qij;
            let delta = (grad[i] - grad[j]) / if quad > 0.0 { quad } else { TAU };
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > c {
                if alpha[i] > c {
                    alpha[i] = c;
                    alpha[j] = sum - c;
                }
            } else if alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = sum;
            }
            if sum > c {
                if alpha[j] > c {
                    alpha[j] = c;
                    alpha[i] = sum - c;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = sum;
            }
        }
        let (di, dj) = (alpha[i] - old_i, alpha[j] - old_j);
        for t in 0..n {
            grad[t] += y[t] * (y[i] * k[t * n + i] * di + y[j] * k[t * n + j] * dj);
        }
    }
    // b = −ρ, ρ the mean of y_i G_i over free α (LIBSVM), else the middle of the feasible range.
    let (mut ub, mut lb, mut sum_free, mut free) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
    for t in 0..n {
        let yg = y[t] * grad[t];
        let at_upper = alpha[t] >= c;
        let at_lower = alpha[t] <= 0.0;
        if at_upper {
            if y[t] < 0.0 {
                ub = ub.min(yg);
            } else {
                lb = lb.max(yg);
            }
        } else if at_lower {
            if y[t] > 0.0 {
                ub = ub.min(yg);
            } else {
                lb = lb.max(yg);
            }
        } else {
            free += 1;
            sum_free += yg;
        }
    }
    let rho = if free > 0 {
        sum_free / free as f64
    } else {
        0.5 * (ub + lb)
    };
    if !rho.is_finite() {
        return Err(Error::InvalidArgument(
            "SVM intercept is not finite; check the kernel".into(),
        ));
    }
    Ok((
        alpha.iter().zip(y).map(|(a, y)| a * y).collect(),
        -rho,
        steps,
    ))
}

/// A labelled sample set: row-major `len × num_features` features and one label per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Row-major features.
    pub x: Vec<f64>,
    /// Labels (±1 for [`ad_hoc_dataset`]).
    pub labels: Vec<i64>,
    /// Features per sample.
    pub num_features: usize,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `k` samples and the rest.
    pub fn split_at(&self, k: usize) -> Result<(Dataset, Dataset)> {
        if k > self.len() {
            return Err(Error::InvalidArgument(format!(
                "cannot split {} samples at {k}",
                self.len()
            )));
        }
        let d = self.num_features;
        let part = |x: &[f64], l: &[i64]| Dataset {
            x: x.to_vec(),
            labels: l.to_vec(),
            num_features: d,
        };
        Ok((
            part(&self.x[..k * d], &self.labels[..k]),
            part(&self.x[k * d..], &self.labels[k..]),
        ))
    }
}

/// A seeded synthetic data set in the style of Havlíček et al. (Nature 567, 209 (2019)) and
/// Qiskit's `ad_hoc_data`: x uniform in [0, 2π)^n, and with |φ(x)⟩ the
/// [`zz_feature_map`]`(n, 2, Full)` state and V a fixed seeded random circuit,
/// m(x) = ⟨φ(x)|V† Z_0⋯Z_{n−1} V|φ(x)⟩; the label is +1 if m(x) ≥ `gap`, −1 if m(x) ≤ −`gap`,
/// and the sample is rejected otherwise. Because m(x) = Tr(ρ(x) M) is linear in
/// ρ(x) = |φ(x)⟩⟨φ(x)|, the classes are separated with margin by a linear function in the
/// feature space of the ZZ fidelity kernel Tr(ρ(x)ρ(x′)): a ZZ-kernel classifier can learn them
/// exactly, while the decision boundary in x is highly oscillatory for a classical kernel.
///
/// Returns `2 · per_class` samples with labels alternating +1, −1 (so any even-length prefix is
/// balanced). Labels are computed on the f64 CPU backend. Errors if `gap` ∉ [0, 1) or the
/// rejection sampling needs more than 1000 candidates per sample.
pub fn ad_hoc_dataset(num_qubits: usize, per_class: usize, gap: f64, seed: u64) -> Result<Dataset> {
    if !(1..=10).contains(&num_qubits) {
        return Err(Error::InvalidArgument(format!(
            "ad hoc data sets are generated for 1..=10 qubits, got {num_qubits}"
        )));
    }
    if per_class == 0 {
        return Err(Error::InvalidArgument("per_class must be ≥ 1".into()));
    }
    if !(gap.is_finite() && (0.0..1.0).contains(&gap)) {
        return Err(Error::InvalidArgument(format!(
            "gap must be in [0, 1), got {gap}"
        )));
    }
    let map = zz_feature_map(num_qubits, 2, Entanglement::Full)?;
    let mut rng = Rng::new(seed);
    // V: three layers of random U3 rotations with a CNOT ring between them.
    let mut v = Circuit::new(num_qubits)?;
    for layer in 0..3 {
        for q in 0..num_qubits {
            v.u3(
                q,
                rng.range(0.0, std::f64::consts::TAU),
                rng.range(0.0, std::f64::consts::TAU),
                rng.range(0.0, std::f64::consts::TAU),
            )?;
        }
        if layer < 2 && num_qubits > 1 {
            for q in 0..num_qubits {
                let t = (q + 1) % num_qubits;
                if t != q && !(num_qubits == 2 && q == 1) {
                    v.cnot(q, t)?;
                }
            }
        }
    }
    let mut labeller = map.circuit.clone();
    labeller.append(&v)?;
    let program = Program::compile(&labeller);
    let parity = (0..num_qubits)
        .map(|q| format!("Z{q}"))
        .collect::<Vec<_>>()
        .join(" ");
    let observable = [Observable::parse(&parity)?];
    let cpu = crate::sim::cpu::CpuBackend::new();
    let (mut pos, mut neg): (Vec<Vec<f64>>, Vec<Vec<f64>>) = (Vec::new(), Vec::new());
    let budget = 1000 * 2 * per_class;
    let mut tried = 0;
    const CHUNK: usize = 256;
    while pos.len() < per_class || neg.len() < per_class {
        if tried >= budget {
            return Err(Error::InvalidArgument(format!(
                "gap {gap} rejected too many samples ({tried} tried, {} + {} kept); use a smaller gap",
                pos.len(),
                neg.len()
            )));
        }
        let raw: Vec<f64> = (0..CHUNK * num_qubits)
            .map(|_| rng.range(0.0, std::f64::consts::TAU))
            .collect();
        let inputs = map.features_batch(&raw)?;
        let m = cpu.forward_batch(&program, &Batch::shared(&[], &inputs, CHUNK), &observable)?;
        for (s, &value) in m.iter().enumerate() {
            let sample = raw[s * num_qubits..(s + 1) * num_qubits].to_vec();
            if value >= gap && pos.len() < per_class {
                pos.push(sample);
            } else if value <= -gap && neg.len() < per_class {
                neg.push(sample);
            }
        }
        tried += CHUNK;
    }
    let mut x = Vec::with_capacity(2 * per_class * num_qubits);
    let mut labels = Vec::with_capacity(2 * per_class);
    for (p, n) in pos.into_iter().zip(neg) {
        x.extend(p);
        labels.push(1);
        x.extend(n);
        labels.push(-1);
    }
    Ok(Dataset {
        x,
        labels,
        num_features: num_qubits,
    })
}

/// Small dense linear algebra for kernel methods (row-major `n × n` matrices).
pub mod linalg {
    use crate::error::{Error, Result};

    fn check_square(a: &[f64], n: usize, what: &str) -> Result<()> {
        if n == 0 || a.len() != n * n {
            return Err(Error::InvalidArgument(format!(
                "{what}: {} entries is not an n × n matrix with n = {n} ≥ 1",
                a.len()
            )));
        }
        if let Some(k) = a.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "{what}: entry ({}, {}) is NaN or infinite",
                k / n,
                k % n
            )));
        }
        Ok(())
    }

    /// The Cholesky factor L (row-major, lower triangular, A = L·Lᵀ) of a symmetric positive
    /// definite `n × n` matrix; only the lower triangle of `a` is read. A pivot ≤
    /// n·ε·max(diag A) (ε the f64 epsilon) counts as singular: the error names it.
    pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>> {
        check_square(a, n, "cholesky")?;
        let max_diag = (0..n).map(|i| a[i * n + i].abs()).fold(0.0, f64::max);
        let threshold = n as f64 * f64::EPSILON * max_diag;
        let mut l = vec![0.0; n * n];
        for j in 0..n {
            let s = a[j * n + j] - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
            if s.is_nan() || s <= threshold {
                return Err(Error::InvalidArgument(format!(
                    "matrix is not (numerically) positive definite: pivot {j} is {s:.3e} (threshold {threshold:.1e})"
                )));
            }
            let d = s.sqrt();
            l[j * n + j] = d;
            for i in j + 1..n {
                let t = a[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
                l[i * n + j] = t / d;
            }
        }
        Ok(l)
    }

    /// [`cholesky`] of A, or, if that fails, of A + jitter·I with jitter = 1e-12·max(mean diag,
    /// tiny), ×10 each retry, up to `max_jitter`. Returns L and the jitter used (0 if none).
    pub fn cholesky_with_jitter(a: &[f64], n: usize, max_jitter: f64) -> Result<(Vec<f64>, f64)> {
        let first = match cholesky(a, n) {
            Ok(l) => return Ok((l, 0.0)),
            Err(e) => e,
        };
        if !(max_jitter.is_finite() && max_jitter > 0.0) {
            return Err(first);
        }
        let mean_diag = (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n as f64;
        let mut jitter = 1e-12 * mean_diag.max(1e-300);
        let mut shifted = a.to_vec();
        let mut last = first;
        while jitter <= max_jitter * (1.0 + 1e-12) {
            for i in 0..n {
                shifted[i * n + i] = a[i * n + i] + jitter;
            }
            match cholesky(&shifted, n) {
                Ok(l) => return Ok((l, jitter)),
                Err(e) => last = e,
            }
            jitter *= 10.0;
        }
        Err(last)
    }

    /// Solves A·x = b given the Cholesky factor L of A (forward then back substitution).
    pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>> {
        check_square(l, n, "cholesky_solve")?;
        if b.len() != n {
            return Err(Error::InvalidArgument(format!(
                "cholesky_solve: right-hand side has {} entries, expected {n}",
                b.len()
            )));
        }
        if let Some(k) = b.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "cholesky_solve: b[{k}] is NaN or infinite"
            )));
        }
        if let Some(i) = (0..n).find(|&i| l[i * n + i].is_nan() || l[i * n + i] <= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "cholesky_solve: L[{i},{i}] = {} is not a positive Cholesky pivot",
                l[i * n + i]
            )));
        }
        let mut y = vec![0.0; n];
        for i in 0..n {
            let s = b[i] - (0..i).map(|k| l[i * n + k] * y[k]).sum::<f64>();
            y[i] = s / l[i * n + i];
        }
        let mut x = vec![0.0; n];
        for i in (0..n).rev() {
            let s = y[i] - (i + 1..n).map(|k| l[k * n + i] * x[k]).sum::<f64>();
            x[i] = s / l[i * n + i];
        }
        Ok(x)
    }

    /// Solves the symmetric positive definite system A·x = b (Cholesky, no jitter).
    pub fn solve_spd(a: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>> {
        cholesky_solve(&cholesky(a, n)?, n, b)
    }

    /// Eigenvalues (ascending) of a symmetric `n × n` matrix by cyclic Jacobi rotations, to
    /// an off-diagonal norm ≤ 1e-15·‖A‖_F (absolute eigenvalue error ≈ 1e-15·‖A‖_F). Uses the
    /// symmetric part (A + Aᵀ)/2.
    pub fn symmetric_eigenvalues(a: &[f64], n: usize) -> Result<Vec<f64>> {
        check_square(a, n, "symmetric_eigenvalues")?;
        let mut m = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                m[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
            }
        }
        let frob = m.iter().map(|v| v * v).sum::<f64>().sqrt();
        for _sweep in 0..100 {
            let off: f64 = (0..n)
                .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
                .map(|(p, q)| m[p * n + q] * m[p * n + q])
                .sum();
            if off.sqrt() <= 1e-15 * frob || off == 0.0 {
                break;
            }
            for p in 0..n {
                for q in p + 1..n {
                    let apq = m[p * n + q];
                    if apq == 0.0 {
                        continue;
                    }
                    let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                    let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                    let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                    let c = 1.0 / (t * t + 1.0).sqrt();
                    let s = t * c;
                    for k in 0..n {
                        let (kp, kq) = (m[k * n + p], m[k * n + q]);
                        m[k * n + p] = c * kp - s * kq;
                        m[k * n + q] = s * kp + c * kq;
                    }
                    for k in 0..n {
                        let (pk, qk) = (m[p * n + k], m[q * n + k]);
                        m[p * n + k] = c * pk - s * qk;
                        m[q * n + k] = s * pk + c * qk;
                    }
                }
            }
        }
        let mut eig: Vec<f64> = (0..n).map(|i| m[i * n + i]).collect();
        eig.sort_by(f64::total_cmp);
        Ok(eig)
    }
}
