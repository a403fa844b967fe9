//! The quantum machine-learning layer on top of the [`Backend`](crate::Backend) interface:
//! circuit templates, optimizers, training, quantum kernels, VQE and QAOA.
//!
//! Every settings struct of this layer is a `*Config` ([`train::TrainConfig`],
//! [`train::LogisticConfig`], [`vqe::VqeConfig`], [`qaoa::QaoaConfig`]): `#[non_exhaustive]`,
//! built from `Default` with one chainable setter per field, named after the field, e.g.
//! `TrainConfig::default().epochs(10).verbose(true)`. The fields stay readable.

pub mod optim;
pub mod qaoa;
pub mod qkernel;
pub mod templates;
pub mod train;
pub mod vqe;
