//! Fidelity quantum kernels and kernel classifiers on top of them.
//!
//! A [`FidelityKernel`] turns an encoding circuit |φ(x)⟩ (a
//! [`FeatureMap`](crate::qml::templates::FeatureMap) such as
//! [`zz_feature_map`](crate::qml::templates::zz_feature_map), or any circuit whose inputs are
//! the raw features) into the kernel
//!
//! ```text
//! K_ij = |⟨φ(x_i)|φ(x_j)⟩|²
//! ```
//!
//! computed through [`Backend::overlaps`](crate::Backend::overlaps): the N (train) and M (test)
//! states are each prepared once, as one batch, and the N×M inner products are one Gram
//! product (on the device for the GPU backend), so a kernel matrix costs O(N + M) state preparations, not O(N·M) circuits.
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
//! represent exactly; it is a [`train::Dataset`](crate::qml::train::Dataset) like every other
//! data set of the QML layer.
//!
//! Layout: the kernels ([`KernelMatrix`], [`FidelityKernel`], [`RbfKernel`]) are in `kernels`,
//! the classifiers in `classifiers`, the data set generator in `dataset`, and the small dense
//! linear algebra they share (Cholesky, Jacobi eigenvalues; crate-internal) in `linalg`.
//!
//! Every function validates shapes and finiteness and returns an [`Error`](crate::Error), never panics.
//!
//! ```
//! # fn main() -> qshade::Result<()> {
//! use qshade::qml::qkernel::{FidelityKernel, KernelClassifier, KernelSolver};
//! use qshade::qml::templates::{zz_feature_map, Entanglement};
//! let kernel = FidelityKernel::new(zz_feature_map(2, 2, Entanglement::Full)?)?;
//! let cpu = qshade::CpuBackend::new();
//! let x_train = [0.1, 0.2, 2.0, 1.0, 0.15, 0.25, 2.1, 0.9];
//! let labels = [1, -1, 1, -1];
//! let k = kernel.matrix(&cpu, &x_train)?;
//! assert!(k.get(0, 0).is_some_and(|v| (v - 1.0).abs() < 1e-12));
//! let model = KernelClassifier::fit(&k, &labels, KernelSolver::ridge(1e-3))?;
//! let k_test = kernel.cross(&cpu, &[0.12, 0.22], &x_train)?;
//! assert_eq!(model.predict(&k_test)?, vec![1]);
//! # Ok(()) }
//! ```

mod classifiers;
mod dataset;
mod kernels;
pub(crate) mod linalg;

pub use classifiers::{BinaryModel, KernelClassifier, KernelSolver};
pub use dataset::ad_hoc_dataset;
pub use kernels::{FidelityKernel, KernelMatrix, RbfKernel};
