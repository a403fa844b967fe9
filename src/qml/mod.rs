//! The quantum machine-learning layer on top of the [`Backend`](crate::Backend) interface:
//! circuit templates, optimizers, training, quantum kernels, VQE and QAOA.
//!
//! Every settings struct of this layer is a `*Config` ([`train::TrainConfig`],
//! [`train::LogisticConfig`], [`vqe::VqeConfig`], [`qaoa::QaoaConfig`]): `#[non_exhaustive]`,
//! built from `Default` with one chainable setter per field, named after the field, e.g.
//! `TrainConfig::default().epochs(10).verbose(true)`. The fields stay readable.
//!
//! Long calls report progress through one callback API ([`progress`]): `.progress(|p| …)` on
//! [`train::TrainConfig`], [`vqe::VqeConfig`] and [`qaoa::QaoaConfig`], and
//! [`qkernel::FidelityKernel::with_progress`].
//!
//! Every function of this layer validates what it is given (data sets edited through their
//! public fields, NaN or infinite numbers, sizes that overflow) and returns an
//! [`Error`](crate::Error); none panics on user input or returns a non-finite number.

pub mod optim;
pub mod progress;
pub mod qaoa;
pub mod qkernel;
pub mod study; // issue 17: quantum-vs-classical benchmarking
pub mod templates;
pub mod train;
pub mod vqe;
