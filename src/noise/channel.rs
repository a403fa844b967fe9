//! Quantum channels (completely positive, trace-preserving maps) on one or two qubits, given by
//! Kraus operators, with checked parameters, and the classical readout error.
//!
//! Conventions follow Qiskit Aer's `noise` module so that its density-matrix method is a
//! reference: `depolarizing(p)` is ρ → (1 − p)ρ + p·Tr(ρ)·I/2ⁿ, `thermal_relaxation` is
//! amplitude damping then phase damping with the rates of T1, T2 and the gate time (Aer's
//! channel for a zero excited-state population).

use crate::error::{Error, Result};
use crate::math::linalg::{dagger, matmul};
use num_complex::Complex64 as C64;

/// Tolerance of the CPTP check of user Kraus operators: max |Σ K†K − I| entry.
pub const CPTP_TOLERANCE: f64 = 1e-8;

/// A quantum channel on one or two qubits: its Kraus operators `K_i` (ρ → Σ K_i ρ K_i†),
/// row-major `2^k × 2^k`, checked complete positive and trace preserving when built.
///
/// When every Kraus operator is a scaled unitary (`K_i = √p_i · U_i`: depolarizing, bit and
/// phase flip, Pauli channels) the channel is a *unitary mixture*: trajectories sample `U_i`
/// with probability `p_i` without touching the state.
#[derive(Clone, Debug, PartialEq)]
pub struct Channel {
    name: &'static str,
    num_qubits: usize,
    kraus: Vec<Vec<C64>>,
    /// `p_i` of `K_i = √p_i · U_i` when every operator is a scaled unitary.
    mixture: Option<Vec<f64>>,
}

fn bad(channel: &'static str, message: String) -> Error {
    Error::InvalidChannel { channel, message }
}

fn check_probability(channel: &'static str, what: &str, p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(bad(
            channel,
            format!("{what} = {p} is not a probability; it must lie in [0, 1]"),
        ));
    }
    Ok(())
}

const fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

/// The four one-qubit Paulis I, X, Y, Z, row-major.
fn paulis() -> [[C64; 4]; 4] {
    let (o, z, i) = (c(1.0, 0.0), c(0.0, 0.0), c(0.0, 1.0));
    [[o, z, z, o], [z, o, o, z], [z, -i, i, z], [o, z, z, -o]]
}

/// Kronecker product `b ⊗ a` of two 2×2 matrices as a 4×4 on targets [a's qubit, b's qubit]
/// (the first target is the less significant bit).
fn kron_pair(a: &[C64; 4], b: &[C64; 4]) -> Vec<C64> {
    let mut out = vec![C64::ZERO; 16];
    for r in 0..4 {
        for col in 0..4 {
            let (ra, rb, ca, cb) = (r & 1, r >> 1, col & 1, col >> 1);
            out[r * 4 + col] = a[ra * 2 + ca] * b[rb * 2 + cb];
        }
    }
    out
}

impl Channel {
    /// A channel from Kraus operators on `num_qubits` (1 or 2) qubits, each `2^k × 2^k`
    /// row-major; errors unless every entry is finite and Σ K†K = I within [`CPTP_TOLERANCE`].
    pub fn kraus(num_qubits: usize, operators: Vec<Vec<C64>>) -> Result<Self> {
        Self::from_kraus("kraus", num_qubits, operators)
    }

    fn from_kraus(name: &'static str, num_qubits: usize, operators: Vec<Vec<C64>>) -> Result<Self> {
        if !(1..=2).contains(&num_qubits) {
            return Err(bad(
                name,
                format!("channels act on 1 or 2 qubits, got {num_qubits}"),
            ));
        }
        let d = 1usize << num_qubits;
        if operators.is_empty() {
            return Err(bad(name, "at least one Kraus operator is needed".into()));
        }
        if operators.len() > d * d * 4 {
            return Err(bad(
                name,
                format!(
                    "{} Kraus operators given; a {num_qubits}-qubit channel needs at most {} (merge proportional ones)",
                    operators.len(),
                    d * d * 4
                ),
            ));
        }
        for (i, k) in operators.iter().enumerate() {
            if k.len() != d * d {
                return Err(bad(
                    name,
                    format!(
                        "Kraus operator {i} has {} entries, expected {} ({d}×{d} row-major)",
                        k.len(),
                        d * d
                    ),
                ));
            }
            if k.iter().any(|v| !v.re.is_finite() || !v.im.is_finite()) {
                return Err(bad(
                    name,
                    format!("Kraus operator {i} has a NaN or infinite entry"),
                ));
            }
        }
        let mut sum = vec![C64::ZERO; d * d];
        for k in &operators {
            for (s, v) in sum.iter_mut().zip(matmul(&dagger(k), k)) {
                *s += v;
            }
        }
        let deviation = (0..d * d)
            .map(|i| {
                let target = if i % (d + 1) == 0 { 1.0 } else { 0.0 };
                (sum[i] - target).norm()
            })
            .fold(0.0, f64::max);
        if deviation > CPTP_TOLERANCE {
            return Err(bad(
                name,
                format!(
                    "the Kraus operators are not trace preserving: max |Σ K†K − I| = {deviation:.3e} \
                     exceeds {CPTP_TOLERANCE:.0e} (scale them so that Σ K†K = I)"
                ),
            ));
        }
        let mixture = operators
            .iter()
            .map(|k| {
                // K†K = p·I ⇔ K = √p·U.
                let kk = matmul(&dagger(k), k);
                let p = kk[0].re;
                let ok = (0..d * d).all(|i| {
                    let target = if i % (d + 1) == 0 { p } else { 0.0 };
                    (kk[i] - target).norm() <= 1e-12
                });
                ok.then_some(p)
            })
            .collect::<Option<Vec<f64>>>();
        Ok(Channel {
            name,
            num_qubits,
            kraus: operators,
            mixture,
        })
    }

    /// A mixture of the Pauli strings `paulis[i]` with probabilities `probs[i]` (already
    /// checked), dropping zero-probability terms.
    fn pauli_mixture(
        name: &'static str,
        num_qubits: usize,
        terms: &[(f64, Vec<C64>)],
    ) -> Result<Self> {
        let ops: Vec<Vec<C64>> = terms
            .iter()
            .filter(|(p, _)| *p > 0.0)
            .map(|(p, m)| m.iter().map(|v| v * p.sqrt()).collect())
            .collect();
        Self::from_kraus(name, num_qubits, ops)
    }

    /// One-qubit depolarizing channel (Aer's convention): ρ → (1 − p)ρ + p·I/2, i.e. I with
    /// probability 1 − 3p/4 and each of X, Y, Z with p/4. `p` in [0, 1].
    pub fn depolarizing(p: f64) -> Result<Self> {
        check_probability("depolarizing", "p", p)?;
        let ps = paulis();
        let terms: Vec<(f64, Vec<C64>)> = (0..4)
            .map(|k| {
                (
                    if k == 0 { 1.0 - 0.75 * p } else { p / 4.0 },
                    ps[k].to_vec(),
                )
            })
            .collect();
        Self::pauli_mixture("depolarizing", 1, &terms)
    }

    /// Two-qubit depolarizing channel (Aer's convention): ρ → (1 − p)ρ + p·I/4, i.e. I⊗I
    /// with probability 1 − 15p/16 and each other two-qubit Pauli with p/16. `p` in [0, 1].
    pub fn depolarizing2(p: f64) -> Result<Self> {
        check_probability("two-qubit depolarizing", "p", p)?;
        let ps = paulis();
        let terms: Vec<(f64, Vec<C64>)> = (0..16)
            .map(|k| {
                let prob = if k == 0 {
                    1.0 - 15.0 * p / 16.0
                } else {
                    p / 16.0
                };
                (prob, kron_pair(&ps[k & 3], &ps[k >> 2]))
            })
            .collect();
        Self::pauli_mixture("two-qubit depolarizing", 2, &terms)
    }

    /// Bit flip: X with probability `p`.
    pub fn bit_flip(p: f64) -> Result<Self> {
        Self::pauli("bit flip", p, 0.0, 0.0)
    }

    /// Phase flip: Z with probability `p`.
    pub fn phase_flip(p: f64) -> Result<Self> {
        Self::pauli("phase flip", 0.0, 0.0, p)
    }

    /// One-qubit Pauli channel: X, Y, Z with probabilities `px`, `py`, `pz` (each in [0, 1],
    /// their sum at most 1), the identity otherwise.
    pub fn pauli_channel(px: f64, py: f64, pz: f64) -> Result<Self> {
        Self::pauli("Pauli", px, py, pz)
    }

    fn pauli(name: &'static str, px: f64, py: f64, pz: f64) -> Result<Self> {
        check_probability(name, "p_x", px)?;
        check_probability(name, "p_y", py)?;
        check_probability(name, "p_z", pz)?;
        let total = px + py + pz;
        if total > 1.0 + 1e-12 {
            return Err(bad(name, format!("p_x + p_y + p_z = {total} exceeds 1")));
        }
        let ps = paulis();
        let terms = [
            ((1.0 - total).max(0.0), ps[0].to_vec()),
            (px, ps[1].to_vec()),
            (py, ps[2].to_vec()),
            (pz, ps[3].to_vec()),
        ];
        Self::pauli_mixture(name, 1, &terms)
    }

    /// Amplitude damping with decay probability `gamma` in [0, 1]: K0 = [[1, 0], [0, √(1−γ)]],
    /// K1 = [[0, √γ], [0, 0]] (|1⟩ decays to |0⟩).
    pub fn amplitude_damping(gamma: f64) -> Result<Self> {
        check_probability("amplitude damping", "gamma", gamma)?;
        let z = C64::ZERO;
        let k0 = vec![C64::ONE, z, z, c((1.0 - gamma).sqrt(), 0.0)];
        let k1 = vec![z, c(gamma.sqrt(), 0.0), z, z];
        Self::from_kraus("amplitude damping", 1, vec![k0, k1])
    }

    /// Phase damping with probability `lambda` in [0, 1]: K0 = [[1, 0], [0, √(1−λ)]],
    /// K1 = [[0, 0], [0, √λ]] (coherences shrink by √(1−λ), populations unchanged).
    pub fn phase_damping(lambda: f64) -> Result<Self> {
        check_probability("phase damping", "lambda", lambda)?;
        let z = C64::ZERO;
        let k0 = vec![C64::ONE, z, z, c((1.0 - lambda).sqrt(), 0.0)];
        let k1 = vec![z, z, z, c(lambda.sqrt(), 0.0)];
        Self::from_kraus("phase damping", 1, vec![k0, k1])
    }

    /// Thermal relaxation towards |0⟩ for a gate of duration `time` on a qubit with
    /// relaxation time `t1` and dephasing time `t2` (same units): populations of |1⟩ decay by
    /// e^(−t/T1), coherences by e^(−t/T2). Needs `t1 > 0`, `0 < t2 ≤ 2·t1`, `time ≥ 0`, all
    /// finite. Built as amplitude damping γ = 1 − e^(−t/T1) followed by phase damping
    /// λ = 1 − e^(t/T1 − 2t/T2) (Aer's `thermal_relaxation_error` with no excited population).
    pub fn thermal_relaxation(t1: f64, t2: f64, time: f64) -> Result<Self> {
        let name = "thermal relaxation";
        for (what, v) in [("T1", t1), ("T2", t2)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(name, format!("{what} = {v} must be finite and > 0")));
            }
        }
        if !(time.is_finite() && time >= 0.0) {
            return Err(bad(
                name,
                format!("gate time {time} must be finite and ≥ 0"),
            ));
        }
        if t2 > 2.0 * t1 {
            return Err(bad(
                name,
                format!(
                    "T2 = {t2} exceeds 2·T1 = {}; physical qubits have T2 ≤ 2·T1",
                    2.0 * t1
                ),
            ));
        }
        let gamma = 1.0 - (-time / t1).exp();
        let lambda = (1.0 - (time / t1 - 2.0 * time / t2).exp()).clamp(0.0, 1.0);
        let ad = Self::amplitude_damping(gamma)?;
        let pd = Self::phase_damping(lambda)?;
        let mut ops = Vec::new();
        for b in &pd.kraus {
            for a in &ad.kraus {
                let k = matmul(b, a);
                if k.iter().any(|v| v.norm() > 0.0) {
                    ops.push(k);
                }
            }
        }
        Self::from_kraus(name, 1, ops)
    }

    /// The channel's name, e.g. `depolarizing`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Qubits it acts on (1 or 2).
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// The Kraus operators, row-major `2^k × 2^k` (the first target qubit is the less
    /// significant bit of the index, as for gates).
    pub fn kraus_operators(&self) -> &[Vec<C64>] {
        &self.kraus
    }

    /// `Some(p)` when every Kraus operator is `√p_i` times a unitary (a unitary mixture).
    pub fn mixture_probabilities(&self) -> Option<&[f64]> {
        self.mixture.as_deref()
    }

    /// The superoperator S = Σ_i conj(K_i) ⊗ K_i acting on vec(ρ) with vec index
    /// `r + d·c` for ρ\[r\]\[c\] (`d = 2^k`): row-major `d² × d²`. As a matrix on `2k` qubits its
    /// low `k` qubits are ρ's row (ket) index and its high `k` qubits the column (bra) index.
    pub fn superoperator(&self) -> Vec<C64> {
        let d = 1usize << self.num_qubits;
        let dd = d * d;
        let mut s = vec![C64::ZERO; dd * dd];
        for k in &self.kraus {
            for r2 in 0..d {
                for c2 in 0..d {
                    for r in 0..d {
                        for col in 0..d {
                            let v = k[r2 * d + r] * k[c2 * d + col].conj();
                            s[(r2 + d * c2) * dd + (r + d * col)] += v;
                        }
                    }
                }
            }
        }
        s
    }
}

/// A classical readout (measurement assignment) error on one qubit: a true 0 reads as 1 with
/// probability `p1_given0`, a true 1 reads as 0 with probability `p0_given1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReadoutError {
    p1_given0: f64,
    p0_given1: f64,
}

impl ReadoutError {
    /// A readout error with flip probabilities in [0, 1].
    pub fn new(p1_given0: f64, p0_given1: f64) -> Result<Self> {
        check_probability("readout error", "P(1|0)", p1_given0)?;
        check_probability("readout error", "P(0|1)", p0_given1)?;
        Ok(ReadoutError {
            p1_given0,
            p0_given1,
        })
    }

    /// The assignment matrix A\[measured\]\[true\], row-major 2×2: columns sum to 1.
    pub fn assignment_matrix(&self) -> [f64; 4] {
        [
            1.0 - self.p1_given0,
            self.p0_given1,
            self.p1_given0,
            1.0 - self.p0_given1,
        ]
    }
}
