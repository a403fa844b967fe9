//! Small numerical helpers shared by every engine: complex matrices and a seeded RNG.

pub(crate) mod rng;
