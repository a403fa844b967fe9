//! Noise: channels with checked parameters ([`Channel`], [`ReadoutError`]), circuits with
//! channels between their gates ([`NoisyCircuit`]) and the Aer-style [`NoiseModel`] that makes
//! one from a circuit you already have, the exact f64 density-matrix mode with adjoint
//! gradients ([`DensityMatrix`], [`expectation_and_gradient`]), Monte-Carlo trajectories
//! ([`trajectory_expectations`]; on any backend, the GPU too, as the rows of one batched call
//! for Pauli-mixture noise: [`BatchedTrajectories`]), finite-shot estimates
//! ([`shot_expectation`], [`shot_gradient`]) and zero-noise extrapolation ([`zne`]).
//!
//! Channels are kept beside the gate model for now: a [`NoisyCircuit`] holds a [`Circuit`]
//! (its gates, parameters and names) and an operation list that interleaves gate indices with
//! channel operations, so every gate kind — present and future — is read through
//! [`crate::GateKind::matrix`] / [`crate::GateKind::generator`].
//!
//! ```
//! # fn main() -> qshade::Result<()> {
//! use qshade::noise::{Channel, DensityMatrix, NoiseModel};
//! use qshade::{Bindings, Circuit, Observable};
//! let mut bell = Circuit::new(2)?;
//! bell.h(0)?.cnot(0, 1)?;
//! let mut model = NoiseModel::new();
//! model.add_all_qubit_quantum_error(Channel::depolarizing2(0.1)?, &["cx"])?;
//! let rho = DensityMatrix::run(&model.apply(&bell)?, &Bindings::none())?;
//! let zz = rho.expectation(&Observable::parse("Z0 Z1")?)?;
//! assert!((zz - 0.9).abs() < 1e-12); // depolarizing shrinks ⟨Z0 Z1⟩ = 1 by 1 − p
//! # Ok(()) }
//! ```
//!
//! [`Circuit`]: crate::Circuit

// Trajectories as the rows of one batched backend call (GPU too), for Pauli-mixture noise.
mod batched;
mod channel;
mod density;
mod fast;
#[cfg(test)]
mod generic;
mod kernel;
mod model;
mod shots;
mod simd;
mod trajectory;
pub mod zne;

pub use batched::{batched_trajectory_expectations, BatchedTrajectories, NoisyGradient};
pub use channel::{Channel, ReadoutError, CPTP_TOLERANCE};
pub use density::{
    expectation_and_gradient, DensityMatrix, DENSITY_MEMORY_BUDGET, MAX_DENSITY_QUBITS,
};
pub use model::{gate_name, NoiseModel, NoisyCircuit, NoisyOp};
pub use shots::{shot_expectation, shot_gradient, MAX_SHOTS_PER_TERM};
pub use trajectory::{
    trajectory_expectations, Estimate, TrajectoryConfig, MAX_TRAJECTORIES, MAX_TRAJECTORY_QUBITS,
};
