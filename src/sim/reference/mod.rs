//! The f64 reference simulator: plain loops and one generic matrix routine per gate, simple
//! enough to be read and trusted. Every other engine is compared against it in the tests.

pub(crate) mod adjoint;
pub(crate) mod state;
