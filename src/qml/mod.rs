//! The quantum machine-learning layer on top of the [`Backend`](crate::Backend) interface:
//! circuit templates, optimizers, training, quantum kernels, VQE and QAOA.

pub mod optim;
pub mod qaoa;
pub mod qkernel;
pub mod templates;
pub mod train;
pub mod vqe;
