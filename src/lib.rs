//! # qshade
//!
//! A quantum-circuit simulator whose gate kernels are WGSL compute shaders run through wgpu on
//! state vectors that stay resident on the GPU ([`GpuBackend`]), and a CPU backend that
//! implements the same [`Backend`] interface: fast, fused and multithreaded in f32 or f64
//! ([`CpuBackend::new`], [`CpuBackend::with_precision`]), plus the plain f64 reference that
//! every GPU result is checked against in the tests ([`CpuBackend::reference`]).
//!
//! ```
//! # fn main() -> qshade::Result<()> {
//! use qshade::{Backend, Bindings, Circuit, CpuBackend, Observable};
//! let mut bell = Circuit::new(2)?;
//! bell.h(0)?.cnot(0, 1)?;
//! let state = CpuBackend::new().run(&bell, &Bindings::none())?;
//! let zz = state.expectation(&Observable::parse("Z0 Z1")?)?;
//! assert!((zz - 1.0).abs() < 1e-12);
//! # Ok(()) }
//! ```
//!
//! Qubit order: qubit 0 is the least significant bit of a basis index (see [`circuit`]).

#![warn(missing_docs)]

/// Chainable setters for a `#[non_exhaustive]` configuration struct: one
/// `pub fn field(self, value) -> Self` per listed field, so users write
/// `Config::default().field(value)` and new settings are not breaking changes.
macro_rules! setters {
    ($ty:ident { $($field:ident : $fty:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($ty), "::", stringify!($field), "`].")]
                #[must_use]
                pub fn $field(mut self, value: $fty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

// Layout: the circuit IR (`circuit`), compilation shared by every engine (`compile`), the
// backend interface (`backend`), the simulators (`sim`: the f64 reference, the fast CPU
// engines, the GPU engine), small numerical helpers (`math`), and the QML layer (`qml`).
mod backend;
mod choose;
pub mod circuit;
mod compile;
mod error;
mod math;
pub mod noise;
pub mod qml;
// OpenQASM 2 / 3 import and export.
pub mod qasm;
mod sim;

/// The README's code blocks, compiled and run as doctests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use backend::{
    Backend, GradientConfig, Precision, QuantumState, MAX_SHOTS, SAMPLE_BYTES_PER_SHOT,
};
pub use choose::{choose_backend, BackendChoice, BackendKind};
pub use circuit::{
    Angle, AngleFn, Bindings, Circuit, Expr, Gate, GateKind, Observable, Pauli, PauliTerm, Var,
};
// Qiskit's standard gate library by name (`Circuit::add_standard`).
pub use circuit::{standard_gate_is_variadic, standard_gate_names, standard_gate_signature};
pub use compile::program::{
    Batch, BatchConfig, GradientMethod, Gradients, Program, ProgramOp, ThetaBatch,
};
pub use error::{Error, Result};
pub use num_complex::Complex64;
pub use sim::cpu::{CpuBackend, CpuConfig};
#[cfg(feature = "gpu")]
pub use sim::gpu::{CopyProbe, GpuBackend, GpuConfig, GpuState};
pub use sim::reference::state::CpuState;
/// The wgpu version qshade is built against, for [`GpuBackend::from_device`] and
/// [`GpuBackend::adapter_info`].
#[cfg(feature = "gpu")]
pub use wgpu;
