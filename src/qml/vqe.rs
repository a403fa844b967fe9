//! Variational quantum eigensolver: minimise ⟨ψ(θ)|H|ψ(θ)⟩ for a Pauli-sum Hamiltonian H with
//! adjoint gradients and Adam, on any [`Backend`].
//!
//! Also the molecular pieces of the textbook example, the hydrogen molecule in the minimal
//! STO-3G basis: its 4-qubit Jordan–Wigner Hamiltonian ([`h2_sto3g`]), the Hartree–Fock state
//! and PennyLane's `DoubleExcitation` Givens rotation ([`double_excitation`]), which together
//! give a one-parameter ansatz ([`h2_ansatz`]) that reaches the exact ground state.
//!
//! ```
//! # fn main() -> qshade::Result<()> {
//! use qshade::qml::vqe::{h2_ansatz, h2_sto3g, run_vqe, VqeConfig, H2_GROUND_STATE_ENERGY};
//! use qshade::CpuBackend;
//! let config = VqeConfig::default().iterations(60);
//! let result = run_vqe(&CpuBackend::new(), &h2_ansatz()?, &h2_sto3g(), &[0.0], &config)?;
//! assert!((result.energy - H2_GROUND_STATE_ENERGY).abs() < 1.6e-3);
//! # Ok(()) }
//! ```

use crate::backend::Backend;
use crate::circuit::{Angle, Circuit, Gate, GateKind, Observable, Pauli};
use crate::compile::program::{Batch, GradientMethod, Program};
use crate::error::{Error, Result};
use crate::qml::optim::{check_non_negative, check_positive, Adam, Optimizer};
use crate::qml::progress::{progress_setter, report, ProgressFn};

/// Exact (full-CI) ground-state energy of [`h2_sto3g`] in hartree, to the 6 decimals it is
/// usually quoted with (the lowest eigenvalue of the 16×16 matrix is −1.1361894…; the tests
/// check it by exact diagonalisation).
pub const H2_GROUND_STATE_ENERGY: f64 = -1.136189;

/// Chemical accuracy, 1 kcal/mol ≈ 1.6 mHa: the usual target for a VQE energy.
pub const CHEMICAL_ACCURACY: f64 = 1.6e-3;

/// The Jordan–Wigner qubit Hamiltonian of H₂ in the STO-3G basis at bond length
/// R = 1.3228 bohr ≈ 0.70 Å (nuclei at z = ±0.66140414 bohr): 4 qubits (spin orbitals, qubit
/// 2k = orbital k spin up, 2k+1 spin down), 15 Pauli terms, in hartree.
///
/// Source: the coefficients printed in the docstring example of PennyLane's
/// `qml.qchem.molecular_hamiltonian` (H₂ with `coordinates = [0, 0, -0.66140414, 0, 0,
/// 0.66140414]`, bohr), <https://docs.pennylane.ai/en/stable/code/api/pennylane.qchem.molecular_hamiltonian.html>.
/// PennyLane's wire `w` is qubit `w` here. Its lowest eigenvalue is
/// [`H2_GROUND_STATE_ENERGY`] (checked in `tests/vqe.rs` by exact diagonalisation).
pub fn h2_sto3g() -> Observable {
    use Pauli::{X, Y, Z};
    let (z01, z23) = (0.17771287465139946, -0.24274280513140462);
    let g = 0.04475014401535161;
    let terms: [(f64, &[(usize, Pauli)]); 15] = [
        (-0.04207897647782276, &[]),
        (z01, &[(0, Z)]),
        (z01, &[(1, Z)]),
        (z23, &[(2, Z)]),
        (z23, &[(3, Z)]),
        (0.17059738328801052, &[(0, Z), (1, Z)]),
        (g, &[(0, Y), (1, X), (2, X), (3, Y)]),
        (-g, &[(0, Y), (1, Y), (2, X), (3, X)]),
        (-g, &[(0, X), (1, X), (2, Y), (3, Y)]),
        (g, &[(0, X), (1, Y), (2, Y), (3, X)]),
        (0.12293305056183798, &[(0, Z), (2, Z)]),
        (0.1676831945771896, &[(0, Z), (3, Z)]),
        (0.1676831945771896, &[(1, Z), (2, Z)]),
        (0.12293305056183798, &[(1, Z), (3, Z)]),
        (0.17627640804319591, &[(2, Z), (3, Z)]),
    ];
    let mut h = Observable::default();
    for (coeff, ops) in terms {
        h.add_term(coeff, ops)
            .expect("distinct qubits in every H2 term");
    }
    h
}

/// Appends the Hartree–Fock state preparation for `electrons` electrons: X on qubits
/// `0..electrons` (the lowest spin orbitals occupied), from |0…0⟩.
pub fn hartree_fock(circuit: &mut Circuit, electrons: usize) -> Result<()> {
    if electrons > circuit.num_qubits() {
        return Err(Error::InvalidArgument(format!(
            "{electrons} electrons do not fit in {} spin orbitals",
            circuit.num_qubits()
        )));
    }
    for q in 0..electrons {
        circuit.x(q)?;
    }
    Ok(())
}

/// Appends PennyLane's `DoubleExcitation(θ)` on `wires = [w0, w1, w2, w3]`: the Givens rotation
/// that moves two electrons from `w0, w1` to `w2, w3` and acts as the identity on every other
/// basis state. With |o⟩ = (w0, w1 occupied) and |v⟩ = (w2, w3 occupied),
///
/// |v⟩ → cos(θ/2)|v⟩ + sin(θ/2)|o⟩,  |o⟩ → cos(θ/2)|o⟩ − sin(θ/2)|v⟩
///
/// (PennyLane's |0011⟩ ↔ |1100⟩, wire 0 written first; its matrix has U\[3,3\] = U\[12,12\] = c,
/// U\[3,12\] = −s, U\[12,3\] = s).
///
/// Decomposition: the basis permutation P = X(w1)·CNOT(w0→w3)·CNOT(w0→w2)·CNOT(w0→w1) maps
/// |o⟩ = (1,1,0,0) to (1,1,1,1) and |v⟩ = (0,0,1,1) to (0,1,1,1) (bits of w0..w3): the pair
/// now differs only in w0, and it is the only pair of basis states with w1 = w2 = w3 = 1.
/// So U = P⁻¹ · C³RY(θ) · P, the RY on w0 controlled by w1, w2, w3. RY(θ)|0⟩ = c|0⟩ + s|1⟩
/// takes |v⟩ (w0 = 0) to c|v⟩ + s|o⟩, the sign above. The angle enters one gate, so adjoint
/// differentiation and the four-term parameter-shift rule of a controlled rotation both apply.
pub fn double_excitation(
    circuit: &mut Circuit,
    wires: [usize; 4],
    angle: impl Into<Angle>,
) -> Result<()> {
    let [w0, w1, w2, w3] = wires;
    circuit.cnot(w0, w1)?.cnot(w0, w2)?.cnot(w0, w3)?.x(w1)?;
    circuit.add(Gate::controlled(
        GateKind::RY(angle.into()),
        &[w1, w2, w3],
        &[w0],
    ))?;
    circuit.x(w1)?.cnot(w0, w3)?.cnot(w0, w2)?.cnot(w0, w1)?;
    Ok(())
}

/// The one-parameter H₂ ansatz: Hartree–Fock |q0 q1 occupied⟩ followed by
/// `DoubleExcitation(θ[0])` on [0, 1, 2, 3]. For H₂/STO-3G the ground state lies in the span
/// of the Hartree–Fock and the doubly excited determinant, so this ansatz is exact.
pub fn h2_ansatz() -> Result<Circuit> {
    let mut c = Circuit::new(4)?;
    hartree_fock(&mut c, 2)?;
    double_excitation(&mut c, [0, 1, 2, 3], Angle::theta(0))?;
    c.name_param(0, "h2.double_excitation");
    Ok(c)
}

/// Settings of [`run_vqe`]: `VqeConfig::default()` and the chainable setters, e.g.
/// `VqeConfig::default().iterations(60)`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VqeConfig {
    /// Number of Adam steps (one gradient evaluation each).
    pub iterations: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Stop early once the gradient's 2-norm falls below this (0 never stops early).
    pub gradient_tolerance: f64,
    /// Print one line every this many iterations (and the last one) to stdout; 0 is silent.
    pub verbose_every: usize,
    /// Called after every gradient evaluation with `what = "vqe iterations"`, `done` of
    /// `total = iterations` and the energy. Set it with [`VqeConfig::progress`].
    pub progress: Option<ProgressFn>,
}

impl Default for VqeConfig {
    /// 100 iterations at learning rate 0.1, no early stop, silent.
    fn default() -> Self {
        VqeConfig {
            iterations: 100,
            learning_rate: 0.1,
            gradient_tolerance: 0.0,
            verbose_every: 0,
            progress: None,
        }
    }
}

setters!(VqeConfig {
    iterations: usize,
    learning_rate: f64,
    gradient_tolerance: f64,
    verbose_every: usize,
});
progress_setter!(VqeConfig);

/// One optimisation step as seen by a progress callback.
#[derive(Clone, Debug)]
pub struct VqeStep<'a> {
    /// Iteration number, from 0.
    pub iteration: usize,
    /// ⟨H⟩ at `params` (before this iteration's update).
    pub energy: f64,
    /// The parameters the energy was evaluated at.
    pub params: &'a [f64],
    /// The 2-norm of d⟨H⟩/dθ at `params`.
    pub gradient_norm: f64,
}

/// What [`run_vqe`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct VqeResult {
    /// ⟨H⟩ at the start of every iteration (one entry per iteration run).
    pub energies: Vec<f64>,
    /// Gradient 2-norm at the start of every iteration.
    pub gradient_norms: Vec<f64>,
    /// The parameters after the last update.
    pub params: Vec<f64>,
    /// ⟨H⟩ at [`VqeResult::params`] (one more forward evaluation).
    pub energy: f64,
    /// Whether the gradient tolerance stopped the run before `iterations`.
    pub converged: bool,
    /// The backend's name.
    pub backend: String,
}

/// Minimises ⟨H⟩ over the trainable parameters of `ansatz` (which must take no inputs) from
/// `initial_params`, with Adam on adjoint gradients ([`Backend::gradient_batch`], B = 1,
/// upstream = \[1\]). See [`run_vqe_with`] for a progress callback.
pub fn run_vqe<B: Backend + ?Sized>(
    backend: &B,
    ansatz: &Circuit,
    hamiltonian: &Observable,
    initial_params: &[f64],
    config: &VqeConfig,
) -> Result<VqeResult> {
    run_vqe_with(backend, ansatz, hamiltonian, initial_params, config, |_| {})
}

/// [`run_vqe`] calling `progress` after every gradient evaluation.
pub fn run_vqe_with<B: Backend + ?Sized>(
    backend: &B,
    ansatz: &Circuit,
    hamiltonian: &Observable,
    initial_params: &[f64],
    config: &VqeConfig,
    mut progress: impl FnMut(&VqeStep<'_>),
) -> Result<VqeResult> {
    if ansatz.num_inputs() != 0 {
        return Err(Error::InvalidArgument(format!(
            "a VQE ansatz takes no input features, this one takes {}",
            ansatz.num_inputs()
        )));
    }
    check_positive("VQE learning rate", config.learning_rate)?;
    check_non_negative("VQE gradient tolerance", config.gradient_tolerance)?;
    let program = Program::compile(ansatz);
    let observables = std::slice::from_ref(hamiltonian);
    program.check_observables(observables)?;
    let mut params = initial_params.to_vec();
    Batch::shared(&params, &[], 1).validate(&program)?;
    let mut adam = Adam::new(config.learning_rate);
    // The histories grow with the iterations actually run: `iterations` is a bound, and
    // reserving it up front would abort for a huge one.
    let (mut energies, mut gradient_norms) = (Vec::new(), Vec::new());
    let mut converged = false;
    for iteration in 0..config.iterations {
        let grads = backend.gradient_batch(
            &program,
            &Batch::shared(&params, &[], 1),
            observables,
            &[1.0],
            GradientMethod::Adjoint,
        )?;
        let (energy, norm) = (
            grads.values[0],
            grads.theta.iter().map(|g| g * g).sum::<f64>().sqrt(),
        );
        if !(energy.is_finite() && norm.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "VQE iteration {iteration}: the energy ({energy}) or gradient norm ({norm}) is not finite; check the Hamiltonian's coefficients"
            )));
        }
        energies.push(energy);
        gradient_norms.push(norm);
        report(
            &config.progress,
            iteration + 1,
            config.iterations,
            "vqe iterations",
            Some(energy),
        );
        progress(&VqeStep {
            iteration,
            energy,
            params: &params,
            gradient_norm: norm,
        });
        let last = iteration + 1 == config.iterations;
        if config.verbose_every > 0 && (iteration % config.verbose_every == 0 || last) {
            println!("vqe iteration {iteration:>4}  energy {energy:+.8}  |grad| {norm:.3e}");
        }
        if norm < config.gradient_tolerance {
            converged = true;
            break;
        }
        adam.step(&mut params, &grads.theta)?;
    }
    let energy = backend.forward_batch(&program, &Batch::shared(&params, &[], 1), observables)?[0];
    Ok(VqeResult {
        energies,
        gradient_norms,
        params,
        energy,
        converged,
        backend: backend.name(),
    })
}
