//! Small helpers shared by every engine: complex matrices (`linalg`), the run-time
//! instruction-set choice of the CPU kernels (`isa`), the host's free memory (`host`) and a
//! seeded RNG (`rng`).

pub(crate) mod host;
pub(crate) mod isa;
pub(crate) mod linalg;
pub(crate) mod rng;
