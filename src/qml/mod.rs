//! The quantum machine-learning layer on top of the [`Backend`](crate::Backend) interface:
//! circuit templates, optimizers, training, quantum kernels, VQE and QAOA.
//!
//! Every settings struct of this layer is a `*Config` ([`train::TrainConfig`],
//! [`train::LogisticConfig`], [`vqe::VqeConfig`], [`qaoa::QaoaConfig`]): `#[non_exhaustive]`,
//! built from `Default` with one chainable setter per field, named after the field, e.g.
//! `TrainConfig::default().epochs(10).verbose(true)`. The fields stay readable.

/// Chainable by-value setters, one per listed field and named after it, for a `*Config`
/// struct: `$ty { field: Type, … }`.
macro_rules! config_setters {
    ($ty:ident { $($field:ident: $t:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($ty), "::", stringify!($field), "`].")]
                #[must_use]
                pub fn $field(mut self, $field: $t) -> Self {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

pub mod optim;
pub mod qaoa;
pub mod qkernel;
pub mod templates;
pub mod train;
pub mod vqe;
