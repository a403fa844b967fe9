//! The simulators behind the [`Backend`](crate::Backend) interface: the f64 CPU reference
//! (`reference`), the fast CPU engines (`cpu`) and, with the `gpu` feature, the WGSL engine
//! (`gpu`).

pub(crate) mod cpu;
#[cfg(feature = "gpu")]
pub(crate) mod gpu;
pub(crate) mod reference;
