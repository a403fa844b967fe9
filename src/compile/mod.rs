//! Compilation shared by every engine: a circuit's [`Program`](program::Program) (angle
//! occurrences, batches, gradients' chain rule) and gate fusion.

pub(crate) mod fusion;
pub(crate) mod program;
