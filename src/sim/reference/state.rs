//! The reference state vector: a `Vec<Complex64>` and one generic routine that applies any
//! controlled k-qubit matrix. No special cases, so nothing to get subtly wrong.

use crate::backend::{
    check_budget, check_marginal_qubits, check_shots, invert_cdf, marginalize, QuantumState,
};
use crate::circuit::{Bindings, Circuit, Observable, Pauli};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::sim::cpu::default_memory_budget;
use num_complex::Complex64;

/// An n-qubit state in f64 on the host.
#[derive(Clone, Debug, PartialEq)]
pub struct CpuState {
    num_qubits: usize,
    amps: Vec<Complex64>,
}

/// Applies the row-major `2^k × 2^k` matrix `m` to `targets` (targets[0] = least significant
/// bit of the matrix index) on every basis state whose `control_mask` bits are all 1.
pub fn apply_matrix(amps: &mut [Complex64], m: &[Complex64], targets: &[usize], control_mask: u64) {
    let k = targets.len();
    let dim = 1usize << k;
    let target_mask: usize = targets.iter().fold(0, |acc, &t| acc | (1 << t));
    let control_mask = control_mask as usize;
    let mut offsets = vec![0usize; dim];
    for (j, off) in offsets.iter_mut().enumerate() {
        *off = targets
            .iter()
            .enumerate()
            .filter(|(b, _)| (j >> b) & 1 == 1)
            .fold(0, |acc, (_, &t)| acc | (1 << t));
    }
    let mut gathered = vec![Complex64::ZERO; dim];
    for base in 0..amps.len() {
        if base & target_mask != 0 || base & control_mask != control_mask {
            continue;
        }
        for j in 0..dim {
            gathered[j] = amps[base | offsets[j]];
        }
        for r in 0..dim {
            let mut acc = Complex64::ZERO;
            for j in 0..dim {
                acc += m[r * dim + j] * gathered[j];
            }
            amps[base | offsets[r]] = acc;
        }
    }
}

fn pauli_matrix(p: Pauli) -> [Complex64; 4] {
    let (z, o, i) = (Complex64::ZERO, Complex64::ONE, Complex64::I);
    match p {
        Pauli::X => [z, o, o, z],
        Pauli::Y => [z, -i, i, z],
        Pauli::Z => [o, z, z, -o],
    }
}

impl CpuState {
    /// |0…0⟩ on `num_qubits` qubits (1..=[`crate::circuit::MAX_QUBITS`]); a state over the
    /// default memory budget (a quarter of the available host memory, as
    /// [`crate::BatchConfig::memory_budget`]) is an [`Error::OutOfDeviceMemory`].
    pub fn zero(num_qubits: usize) -> Result<Self> {
        if num_qubits == 0 || num_qubits > crate::circuit::MAX_QUBITS {
            return Err(Error::UnsupportedQubitCount {
                num_qubits,
                max: crate::circuit::MAX_QUBITS,
            });
        }
        let len = 1usize << num_qubits;
        check_budget(16 * len as u64, default_memory_budget())?;
        let mut amps = vec![Complex64::ZERO; len];
        amps[0] = Complex64::ONE;
        Ok(CpuState { num_qubits, amps })
    }

    pub(crate) fn from_amplitudes_unchecked(num_qubits: usize, amps: Vec<Complex64>) -> Self {
        CpuState { num_qubits, amps }
    }

    /// The amplitudes, borrowed.
    pub fn amps(&self) -> &[Complex64] {
        &self.amps
    }

    /// The amplitudes, mutably (the caller keeps the state normalised).
    pub(crate) fn amps_mut(&mut self) -> &mut [Complex64] {
        &mut self.amps
    }

    /// ⟨self|other⟩.
    pub fn inner(&self, other: &CpuState) -> Complex64 {
        self.amps
            .iter()
            .zip(&other.amps)
            .map(|(a, b)| a.conj() * b)
            .sum()
    }
}

impl QuantumState for CpuState {
    fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    fn apply(&mut self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<()> {
        circuit.check_applicable(self.num_qubits, bindings)?;
        for gate in circuit.gates() {
            let m = gate.bound_matrix(bindings);
            apply_matrix(&mut self.amps, &m, &gate.targets, gate.control_mask());
        }
        Ok(())
    }

    fn amplitudes(&self) -> Result<Vec<Complex64>> {
        Ok(self.amps.clone())
    }

    fn probabilities(&self) -> Result<Vec<f64>> {
        Ok(self.amps.iter().map(|a| a.norm_sqr()).collect())
    }

    fn marginal_probabilities(&self, qubits: &[usize]) -> Result<Vec<f64>> {
        check_marginal_qubits(qubits, self.num_qubits)?;
        Ok(marginalize(&self.probabilities()?, qubits))
    }

    /// Applies each Pauli string to a copy of the state and takes the inner product.
    fn expectation(&self, observable: &Observable) -> Result<f64> {
        observable.validate(self.num_qubits)?;
        let mut total = 0.0;
        for term in &observable.terms {
            let mut image = self.amps.clone();
            for &(q, p) in &term.ops {
                apply_matrix(&mut image, &pauli_matrix(p), &[q], 0);
            }
            let value: Complex64 = self
                .amps
                .iter()
                .zip(&image)
                .map(|(a, b)| a.conj() * b)
                .sum();
            total += term.coeff * value.re;
        }
        Ok(total)
    }

    fn sample(&self, shots: usize, seed: u64) -> Result<Vec<u64>> {
        check_shots(shots, default_memory_budget())?;
        let mut cdf = Vec::with_capacity(self.amps.len());
        let mut acc = 0.0;
        for a in &self.amps {
            acc += a.norm_sqr();
            cdf.push(acc);
        }
        let mut rng = Rng::new(seed);
        let uniforms: Vec<f64> = (0..shots).map(|_| rng.uniform()).collect();
        Ok(invert_cdf(&cdf, &uniforms))
    }
}

/// ⟨bra| M |ket⟩ restricted to the subspace where the `control_mask` bits are 1, for a row-major
/// `2^k × 2^k` matrix `m` on `targets`: the building block of adjoint derivatives of
/// controlled gates (their derivative vanishes where a control is 0).
pub fn braket_matrix(
    bra: &[Complex64],
    ket: &[Complex64],
    m: &[Complex64],
    targets: &[usize],
    control_mask: u64,
) -> Complex64 {
    let mut image = ket.to_vec();
    apply_matrix(&mut image, m, targets, control_mask);
    let control_mask = control_mask as usize;
    let mut acc = Complex64::ZERO;
    for (k, (b, v)) in bra.iter().zip(&image).enumerate() {
        if k & control_mask == control_mask {
            acc += b.conj() * v;
        }
    }
    acc
}

/// `Σ_j w_j O_j |ψ⟩` for observables `O_j` with weights `w_j` (the adjoint seed λ).
pub fn weighted_observables_apply(
    psi: &[Complex64],
    observables: &[Observable],
    weights: &[f64],
) -> Vec<Complex64> {
    let mut out = vec![Complex64::ZERO; psi.len()];
    for (obs, &w) in observables.iter().zip(weights) {
        for term in &obs.terms {
            let mut image = psi.to_vec();
            for &(q, p) in &term.ops {
                apply_matrix(&mut image, &pauli_matrix(p), &[q], 0);
            }
            for (o, v) in out.iter_mut().zip(&image) {
                *o += *v * (w * term.coeff);
            }
        }
    }
    out
}
