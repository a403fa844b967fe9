//! The exact density-matrix mode (f64, CPU): ρ held as a `2n`-qubit vector, vec index
//! `r + 2ⁿ·c` for ρ\[r\]\[c\]. A gate U on qubits `q` is U on `q` and conj(U) on `q + n`
//! (vec(UρU†) = (conj(U) ⊗ U)·vec(ρ)); a channel is its superoperator on `q` and `q + n`.
//!
//! Adjoint gradients: E(θ) = ⟨⟨O|S_L⋯S_1|ρ₀⟩⟩ is linear in every map, so the backward sweep
//! carries λ = vec(O) through the adjoint maps S† (the Heisenberg picture) and reads
//! ∂E/∂a = 2·Re⟨⟨λ_k|(P_c ⊗ G)|ρ_k⟩⟩ at every gate with generator G = (∂U/∂a)·U†. Gates are
//! un-computed with their inverse (conj(U)† and U†: they are unitary); channels are not
//! invertible in general, so the forward sweep **stores ρ before every channel** and the
//! backward sweep restores it there (memory: one 2n-qubit vector per channel).

use super::channel::ReadoutError;
use super::kernel::{apply, conj, inner, Uncontrolled};
use super::model::{NoisyCircuit, NoisyOp};
use crate::circuit::{Bindings, Observable, Var};
use crate::error::{Error, Result};
use crate::math::linalg::dagger;
use num_complex::Complex64 as C64;

/// The largest qubit count of the density-matrix mode: ρ of 13 qubits is 1 GiB in f64.
pub const MAX_DENSITY_QUBITS: usize = 13;

/// Memory the density-matrix mode may hold at once (ρ, λ, scratch and the gradient's stored
/// states): 8 GiB.
pub const DENSITY_MEMORY_BUDGET: u64 = 8 << 30;

/// One resolved step of the forward sweep.
enum Step {
    /// Gate `gate` of the circuit: U on `qubits` (controls in `ctrl`), conj(U) on `qubits + n`.
    Gate {
        gate: usize,
        qubits: Vec<usize>,
        ctrl: u64,
        u: Vec<C64>,
    },
    /// A superoperator on `qubits` (row qubits, then column qubits).
    Channel {
        qubits: Vec<usize>,
        superop: Vec<C64>,
    },
}

/// A density matrix of an `n`-qubit noisy circuit's output, with the circuit's readout errors
/// for [`DensityMatrix::measured_probabilities`].
#[derive(Clone, Debug)]
pub struct DensityMatrix {
    num_qubits: usize,
    data: Vec<C64>,
    readout: Vec<Option<ReadoutError>>,
}

fn check_size(num_qubits: usize, vectors: u64) -> Result<()> {
    if num_qubits == 0 || num_qubits > MAX_DENSITY_QUBITS {
        return Err(Error::UnsupportedQubitCount {
            num_qubits,
            max: MAX_DENSITY_QUBITS,
        });
    }
    let needed = (16u64 << (2 * num_qubits)).saturating_mul(vectors);
    if needed > DENSITY_MEMORY_BUDGET {
        return Err(Error::OutOfDeviceMemory {
            needed,
            available: DENSITY_MEMORY_BUDGET,
        });
    }
    Ok(())
}

fn alloc(len: usize) -> Result<Vec<C64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Error::OutOfDeviceMemory {
            needed: (len as u64).saturating_mul(16),
            available: 0,
        })?;
    v.resize(len, C64::ZERO);
    Ok(v)
}

fn compile(circuit: &NoisyCircuit, bindings: &Bindings<'_>) -> Result<Vec<Step>> {
    circuit.check_bindings(bindings)?;
    let gates = circuit.circuit().gates();
    let n = circuit.num_qubits();
    let mut steps = Vec::with_capacity(circuit.ops().len());
    for op in circuit.ops() {
        steps.push(match op {
            NoisyOp::Gate(g) => {
                let gate = &gates[*g];
                Step::Gate {
                    gate: *g,
                    qubits: gate.targets.clone(),
                    ctrl: gate.control_mask(),
                    u: gate.bound_matrix(bindings),
                }
            }
            NoisyOp::Channel { channel, qubits } => Step::Channel {
                qubits: qubits
                    .iter()
                    .copied()
                    .chain(qubits.iter().map(|q| q + n))
                    .collect(),
                superop: channel.superoperator(),
            },
        });
    }
    Ok(steps)
}

/// Fuses for the forward-only run: gates on at most two qubits (controls included) become
/// superoperators, and consecutive superoperators on the same qubits are multiplied into one
/// (a gate and the channels the noise model put after it: one pass over ρ instead of several).
fn fuse(steps: Vec<Step>, n: usize) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    for step in steps {
        let step = match step {
            Step::Gate {
                gate,
                qubits,
                ctrl,
                u,
            } => {
                let controls: Vec<usize> = (0..n).filter(|q| ctrl >> q & 1 == 1).collect();
                if qubits.len() + controls.len() > 2 {
                    out.push(Step::Gate {
                        gate,
                        qubits,
                        ctrl,
                        u,
                    });
                    continue;
                }
                let mut all: Vec<usize> = qubits.iter().chain(&controls).copied().collect();
                all.sort_unstable();
                let full = crate::math::linalg::embed(&u, &qubits, &controls, &all);
                Step::Channel {
                    qubits: all
                        .iter()
                        .copied()
                        .chain(all.iter().map(|q| q + n))
                        .collect(),
                    superop: gate_superop(&full),
                }
            }
            channel => channel,
        };
        if let (
            Some(Step::Channel {
                qubits: qa,
                superop: sa,
            }),
            Step::Channel {
                qubits: qb,
                superop: sb,
            },
        ) = (out.last_mut(), &step)
        {
            let mut set_a = qa.clone();
            let mut set_b = qb.clone();
            set_a.sort_unstable();
            set_b.sort_unstable();
            if set_a == set_b {
                let b_in_a = permute(sb, qb, qa);
                *sa = crate::math::linalg::matmul(&b_in_a, sa);
                continue;
            }
        }
        out.push(step);
    }
    out
}

/// conj(U) ⊗ U in the superoperator index of [`super::Channel::superoperator`].
fn gate_superop(u: &[C64]) -> Vec<C64> {
    let d = crate::math::linalg::side(u.len());
    let dd = d * d;
    let mut s = vec![C64::ZERO; dd * dd];
    for r2 in 0..d {
        for c2 in 0..d {
            for r in 0..d {
                for c in 0..d {
                    s[(r2 + d * c2) * dd + (r + d * c)] = u[r2 * d + r] * u[c2 * d + c].conj();
                }
            }
        }
    }
    s
}

/// A matrix on qubit list `from` re-indexed for the list `to` (the same qubits in another order).
fn permute(m: &[C64], from: &[usize], to: &[usize]) -> Vec<C64> {
    let dim = 1usize << to.len();
    let pos: Vec<usize> = to
        .iter()
        .map(|q| from.iter().position(|p| p == q).unwrap_or(0))
        .collect();
    let map =
        |i: usize| -> usize { (0..to.len()).fold(0, |acc, j| acc | (((i >> j) & 1) << pos[j])) };
    let mut out = vec![C64::ZERO; dim * dim];
    for r in 0..dim {
        for c in 0..dim {
            out[r * dim + c] = m[map(r) * dim + map(c)];
        }
    }
    out
}

fn shifted(qubits: &[usize], n: usize) -> Vec<usize> {
    qubits.iter().map(|q| q + n).collect()
}

/// Applies one step forward (`inverse = false`), its inverse (gates only), or its adjoint map.
fn run_step(rho: &mut [C64], step: &Step, n: usize, mode: Mode) {
    match step {
        Step::Gate {
            qubits, ctrl, u, ..
        } => {
            let (low, high) = match mode {
                Mode::Forward => (u.clone(), conj(u)),
                // Inverse and adjoint of a unitary map coincide: U† and conj(U)† = Uᵀ.
                Mode::Adjoint => {
                    let ud = dagger(u);
                    let high = conj(&ud);
                    (ud, high)
                }
            };
            apply(rho, qubits, &low, *ctrl, Uncontrolled::Keep);
            apply(
                rho,
                &shifted(qubits, n),
                &high,
                *ctrl << n,
                Uncontrolled::Keep,
            );
        }
        Step::Channel { qubits, superop } => match mode {
            Mode::Forward => apply(rho, qubits, superop, 0, Uncontrolled::Keep),
            Mode::Adjoint => apply(rho, qubits, &dagger(superop), 0, Uncontrolled::Keep),
        },
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Forward,
    Adjoint,
}

fn initial(n: usize) -> Result<Vec<C64>> {
    let mut rho = alloc(1usize << (2 * n))?;
    rho[0] = C64::ONE;
    Ok(rho)
}

impl DensityMatrix {
    /// Runs `circuit` from |0…0⟩⟨0…0| exactly. Errors on bad bindings or more than
    /// [`MAX_DENSITY_QUBITS`] qubits.
    pub fn run(circuit: &NoisyCircuit, bindings: &Bindings<'_>) -> Result<Self> {
        let n = circuit.num_qubits();
        check_size(n, 1)?;
        let steps = fuse(compile(circuit, bindings)?, n);
        let mut rho = initial(n)?;
        for step in &steps {
            run_step(&mut rho, step, n, Mode::Forward);
        }
        Ok(DensityMatrix {
            num_qubits: n,
            data: rho,
            readout: circuit.readout_errors().to_vec(),
        })
    }

    /// Qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// The entries as a vector: index `r + 2ⁿ·c` holds ρ\[r\]\[c\].
    pub fn as_vec(&self) -> &[C64] {
        &self.data
    }

    /// ρ\[row\]\[col\], `None` out of range.
    pub fn entry(&self, row: usize, col: usize) -> Option<C64> {
        let d = 1usize << self.num_qubits;
        (row < d && col < d).then(|| self.data[row + d * col])
    }

    /// Tr ρ (1 up to rounding: every map is trace preserving).
    pub fn trace(&self) -> f64 {
        let d = 1usize << self.num_qubits;
        (0..d).map(|r| self.data[r + d * r].re).sum()
    }

    /// Tr(ρ²): 1 for a pure state, 2⁻ⁿ for the maximally mixed one.
    pub fn purity(&self) -> f64 {
        self.data.iter().map(|v| v.norm_sqr()).sum()
    }

    /// Tr(ρ·O) for a Pauli-sum observable on this many qubits.
    pub fn expectation(&self, observable: &Observable) -> Result<f64> {
        observable.validate(self.num_qubits)?;
        Ok(pauli_expectation(&self.data, self.num_qubits, observable))
    }

    /// The basis-state probabilities ρ\[k\]\[k\] (no readout error).
    pub fn probabilities(&self) -> Vec<f64> {
        let d = 1usize << self.num_qubits;
        (0..d).map(|r| self.data[r + d * r].re.max(0.0)).collect()
    }

    /// The probabilities of the *measured* bit strings: [`DensityMatrix::probabilities`] with
    /// each qubit's readout error applied.
    pub fn measured_probabilities(&self) -> Vec<f64> {
        apply_readout(self.probabilities(), &self.readout)
    }
}

/// Applies each qubit's assignment matrix to a probability vector.
pub(crate) fn apply_readout(mut probs: Vec<f64>, readout: &[Option<ReadoutError>]) -> Vec<f64> {
    for (q, e) in readout.iter().enumerate() {
        let Some(e) = e else { continue };
        let a = e.assignment_matrix();
        let bit = 1usize << q;
        for i in 0..probs.len() {
            if i & bit == 0 {
                let (p0, p1) = (probs[i], probs[i | bit]);
                probs[i] = a[0] * p0 + a[1] * p1;
                probs[i | bit] = a[2] * p0 + a[3] * p1;
            }
        }
    }
    probs
}

/// P\[c^x\]\[c\] = phase(c): P|c⟩ = i^(#Y)·(−1)^(popcount(c & z))·|c ⊕ x⟩.
pub(crate) fn term_phase(term: &crate::circuit::PauliTerm, c: usize) -> C64 {
    let z = term.z_mask() as usize;
    let sign = if (c & z).count_ones() % 2 == 1 {
        -1.0
    } else {
        1.0
    };
    let iy = match term.num_y() % 4 {
        0 => C64::ONE,
        1 => C64::I,
        2 => -C64::ONE,
        _ => -C64::I,
    };
    iy * sign
}

/// Tr(ρO) = Σ_terms coeff·Σ_c P\[c\]\[c^x\]… read as Σ_r ρ\[r\]\[c\]·P\[c\]\[r\].
fn pauli_expectation(rho: &[C64], n: usize, observable: &Observable) -> f64 {
    let d = 1usize << n;
    let mut total = 0.0;
    for term in &observable.terms {
        let x = term.x_mask() as usize;
        // Tr(ρP) = Σ_r ρ[r][r^x] · P[r^x][r], P[r^x][r] = phase(r).
        let s: C64 = (0..d)
            .map(|r| rho[r + d * (r ^ x)] * term_phase(term, r))
            .sum();
        total += term.coeff * s.re;
    }
    total
}

/// vec(O) for a Pauli-sum observable: the λ the backward sweep starts from (⟨⟨O|ρ⟩⟩ =
/// Σ conj(O\[r\]\[c\])·ρ\[r\]\[c\] = Tr(Oρ) for Hermitian O).
fn observable_vec(n: usize, observable: &Observable) -> Result<Vec<C64>> {
    let d = 1usize << n;
    let mut v = alloc(d * d)?;
    for term in &observable.terms {
        let x = term.x_mask() as usize;
        for c in 0..d {
            v[(c ^ x) + d * c] += term_phase(term, c) * term.coeff;
        }
    }
    Ok(v)
}

/// Tr(ρ(θ)·O) and its exact gradient ∂/∂θ\[k\] for every trainable parameter, by the adjoint
/// method through the density matrix (see the module notes: gates un-computed, ρ stored
/// before every channel). Input features x are held fixed.
pub fn expectation_and_gradient(
    circuit: &NoisyCircuit,
    bindings: &Bindings<'_>,
    observable: &Observable,
) -> Result<(f64, Vec<f64>)> {
    let n = circuit.num_qubits();
    observable.validate(n)?;
    let channels = circuit.num_channels() as u64;
    check_size(n, channels.saturating_add(3))?;
    let steps = compile(circuit, bindings)?;
    let gates = circuit.circuit().gates();
    let mut rho = initial(n)?;
    let mut stored: Vec<Vec<C64>> = Vec::new();
    for step in &steps {
        if matches!(step, Step::Channel { .. }) {
            let mut copy = alloc(rho.len())?;
            copy.copy_from_slice(&rho);
            stored.push(copy);
        }
        run_step(&mut rho, step, n, Mode::Forward);
    }
    let value = pauli_expectation(&rho, n, observable);
    let mut lambda = observable_vec(n, observable)?;
    let mut scratch = alloc(rho.len())?;
    let mut grad = vec![0.0; bindings.theta.len()];
    for step in steps.iter().rev() {
        if let Step::Gate {
            gate, qubits, ctrl, ..
        } = step
        {
            let g = &gates[*gate];
            let angles = g.kind.angles();
            if !angles.is_empty() {
                let values: Vec<f64> = angles.iter().map(|a| a.value(bindings)).collect();
                for (which, angle) in angles.iter().enumerate() {
                    let mut dtheta: Vec<(usize, f64)> = Vec::new();
                    angle.gradient(bindings, &mut |v, w| {
                        if let Var::Theta(k) = v {
                            dtheta.push((k, w));
                        }
                    });
                    if dtheta.is_empty() {
                        continue;
                    }
                    let generator = g.kind.generator(&values, which);
                    scratch.copy_from_slice(&rho);
                    apply(&mut scratch, qubits, &generator, *ctrl, Uncontrolled::Zero);
                    let da = 2.0 * inner(&lambda, &scratch).re;
                    for (k, w) in dtheta {
                        if let Some(slot) = grad.get_mut(k) {
                            *slot += w * da;
                        }
                    }
                }
            }
            run_step(&mut rho, step, n, Mode::Adjoint);
        } else if let Some(before) = stored.pop() {
            rho = before;
        }
        run_step(&mut lambda, step, n, Mode::Adjoint);
    }
    Ok((value, grad))
}
