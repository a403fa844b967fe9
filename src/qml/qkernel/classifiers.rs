//! Classifiers on a precomputed kernel: kernel ridge and the SMO soft-margin SVM
//! ([`KernelSolver`]), one-vs-rest for more than two classes ([`KernelClassifier`]).

use super::kernels::KernelMatrix;
use super::linalg;
use crate::error::{Error, Result};

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
        if models
            .iter()
            .any(|m| !m.bias.is_finite() || m.coefficients.iter().any(|c| !c.is_finite()))
        {
            return Err(Error::InvalidArgument(
                "the trained coefficients are not finite: the kernel entries are too large; \
                 scale the kernel (entries of order 1) or increase λ"
                    .into(),
            ));
        }
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
        for row in k_test.as_slice().chunks(k_test.cols()) {
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
        if let Some(k) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "decision value {k} is not finite: the test kernel's entries are too large"
            )));
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
