//! The gate model: for every operation kind, in this one file, its matrix, its derivative and
//! generators, its shift rule and its class ([`GateClass`]: identity, permutation, phase,
//! diagonal or dense). Every engine — the f64 reference, the fast and batched CPU engines, GPU
//! lowering, register blocks, tiles and fusion — reads the class instead of re-deriving it.
//! Adding a kind is its variant, name, matrix, derivative and class here, plus (only if it
//! wants one) a specialised kernel in an engine.
//!
//! Matrices are row-major, `2^k × 2^k` for a `k`-qubit kind. For a two-qubit kind acting on
//! `targets = [a, b]` the matrix's basis index is `bit(a) + 2·bit(b)`: the first target is the
//! less significant bit, matching qubit 0 = least significant bit of the state index.

use super::param::Angle;
use crate::math::linalg::{dagger2, dagger4, is_diagonal, kron2, matmul, matmul2};
use num_complex::Complex64 as C64;
use std::f64::consts::FRAC_1_SQRT_2;

/// What a gate does, independent of where it acts. One-qubit kinds can be given any number of
/// controls (a CNOT is `X` with one control, a Toffoli `X` with two); two-qubit kinds too.
#[derive(Clone, Debug, PartialEq)]
pub enum GateKind {
    /// Identity.
    I,
    /// Hadamard.
    H,
    /// Pauli X.
    X,
    /// Pauli Y.
    Y,
    /// Pauli Z.
    Z,
    /// S = diag(1, i).
    S,
    /// S† = diag(1, −i).
    Sdg,
    /// T = diag(1, e^{iπ/4}).
    T,
    /// T† = diag(1, e^{−iπ/4}).
    Tdg,
    /// √X = ½[[1+i, 1−i], [1−i, 1+i]].
    SX,
    /// RX(θ) = exp(−iθX/2).
    RX(Angle),
    /// RY(θ) = exp(−iθY/2).
    RY(Angle),
    /// RZ(θ) = exp(−iθZ/2) = diag(e^{−iθ/2}, e^{iθ/2}).
    RZ(Angle),
    /// Phase(λ) = diag(1, e^{iλ}).
    Phase(Angle),
    /// U3(θ, φ, λ) = [[cos θ/2, −e^{iλ} sin θ/2], [e^{iφ} sin θ/2, e^{i(φ+λ)} cos θ/2]] (Qiskit's U).
    U3(Angle, Angle, Angle),
    /// An arbitrary one-qubit unitary, row-major 2×2 (checked when the gate is added).
    Unitary1(Box<[C64; 4]>),
    /// SWAP.
    Swap,
    /// iSWAP: |01⟩ → i|10⟩, |10⟩ → i|01⟩.
    ISwap,
    /// RXX(θ) = exp(−iθ X⊗X/2).
    RXX(Angle),
    /// RYY(θ) = exp(−iθ Y⊗Y/2).
    RYY(Angle),
    /// RZZ(θ) = exp(−iθ Z⊗Z/2).
    RZZ(Angle),
    /// An arbitrary two-qubit unitary, row-major 4×4, basis index `bit(t0) + 2·bit(t1)`.
    Unitary2(Box<[C64; 16]>),
    /// √X† = ½[[1−i, 1+i], [1+i, 1−i]] (Qiskit's `sxdg`).
    SXdg,
    /// R(θ, φ) = exp(−iθ(cos φ·X + sin φ·Y)/2): a rotation about an axis in the XY plane
    /// (Qiskit's `r`).
    R(Angle, Angle),
    /// GlobalPhase(γ) = e^{iγ}·I on one qubit: a global phase, or, with controls, the phase
    /// e^{iγ} on the controls' |1…1⟩ (Qiskit's `global_phase`, and the γ of `cu`).
    GlobalPhase(Angle),
    /// The echoed cross-resonance gate (Qiskit's `ecr`):
    /// (1/√2)[[0, 1, 0, i], [1, 0, −i, 0], [0, i, 0, 1], [−i, 0, 1, 0]].
    ECR,
    /// The double CNOT: CX(t0 → t1) then CX(t1 → t0) (Qiskit's `dcx`).
    DCX,
    /// RZX(θ) = exp(−iθ·Z⊗X/2) with Z on the first target and X on the second (Qiskit's `rzx`).
    RZX(Angle),
    /// XX−YY(θ, β): the rotation [[cos θ/2, −i e^{−iβ} sin θ/2], [−i e^{iβ} sin θ/2, cos θ/2]]
    /// on {|00⟩, |11⟩}, the identity on |01⟩ and |10⟩ (Qiskit's `xx_minus_yy`).
    XXMinusYY(Angle, Angle),
    /// XX+YY(θ, β): the same rotation on {|01⟩, |10⟩} (row/column index `bit(t0) + 2·bit(t1)`
    /// = 1, 2), the identity on |00⟩ and |11⟩ (Qiskit's `xx_plus_yy`).
    XXPlusYY(Angle, Angle),
}

fn c(re: f64, im: f64) -> C64 {
    C64::new(re, im)
}

fn expi(phi: f64) -> C64 {
    C64::from_polar(1.0, phi)
}

impl GateKind {
    /// How many target qubits the kind acts on (1 or 2).
    pub fn num_targets(&self) -> usize {
        match self {
            GateKind::Swap
            | GateKind::ISwap
            | GateKind::RXX(_)
            | GateKind::RYY(_)
            | GateKind::RZZ(_)
            | GateKind::Unitary2(_)
            | GateKind::ECR
            | GateKind::DCX
            | GateKind::RZX(_)
            | GateKind::XXMinusYY(..)
            | GateKind::XXPlusYY(..) => 2,
            _ => 1,
        }
    }

    /// A short name, as in error messages and printed circuits.
    pub fn name(&self) -> &'static str {
        match self {
            GateKind::I => "I",
            GateKind::H => "H",
            GateKind::X => "X",
            GateKind::Y => "Y",
            GateKind::Z => "Z",
            GateKind::S => "S",
            GateKind::Sdg => "Sdg",
            GateKind::T => "T",
            GateKind::Tdg => "Tdg",
            GateKind::SX => "SX",
            GateKind::RX(_) => "RX",
            GateKind::RY(_) => "RY",
            GateKind::RZ(_) => "RZ",
            GateKind::Phase(_) => "Phase",
            GateKind::U3(..) => "U3",
            GateKind::Unitary1(_) => "Unitary1",
            GateKind::Swap => "SWAP",
            GateKind::ISwap => "iSWAP",
            GateKind::RXX(_) => "RXX",
            GateKind::RYY(_) => "RYY",
            GateKind::RZZ(_) => "RZZ",
            GateKind::Unitary2(_) => "Unitary2",
            GateKind::SXdg => "SXdg",
            GateKind::R(..) => "R",
            GateKind::GlobalPhase(_) => "GlobalPhase",
            GateKind::ECR => "ECR",
            GateKind::DCX => "DCX",
            GateKind::RZX(_) => "RZX",
            GateKind::XXMinusYY(..) => "XXMinusYY",
            GateKind::XXPlusYY(..) => "XXPlusYY",
        }
    }

    /// The kind's angles, in the order [`GateKind::matrix`] takes their values.
    pub fn angles(&self) -> Vec<Angle> {
        match self {
            GateKind::RX(a)
            | GateKind::RY(a)
            | GateKind::RZ(a)
            | GateKind::Phase(a)
            | GateKind::RXX(a)
            | GateKind::RYY(a)
            | GateKind::RZZ(a)
            | GateKind::GlobalPhase(a)
            | GateKind::RZX(a) => {
                vec![a.clone()]
            }
            GateKind::U3(t, p, l) => vec![t.clone(), p.clone(), l.clone()],
            GateKind::R(t, p) | GateKind::XXMinusYY(t, p) | GateKind::XXPlusYY(t, p) => {
                vec![t.clone(), p.clone()]
            }
            _ => Vec::new(),
        }
    }

    /// How the kind acts for every angle value: the class every engine lowers by. Named kinds
    /// are classified by their structure; `Unitary1` / `Unitary2` by their matrix entries
    /// ([`GateClass::of_matrix`]).
    pub fn class(&self) -> GateClass {
        match self {
            GateKind::I => GateClass::Identity,
            GateKind::X => GateClass::Permutation(Permutation::Flip),
            GateKind::Swap => GateClass::Permutation(Permutation::Swap),
            GateKind::Z
            | GateKind::S
            | GateKind::Sdg
            | GateKind::T
            | GateKind::Tdg
            | GateKind::Phase(_) => GateClass::Phase,
            GateKind::RZ(_) | GateKind::RZZ(_) | GateKind::GlobalPhase(_) => GateClass::Diagonal,
            GateKind::H
            | GateKind::Y
            | GateKind::SX
            | GateKind::RX(_)
            | GateKind::RY(_)
            | GateKind::U3(..)
            | GateKind::ISwap
            | GateKind::RXX(_)
            | GateKind::RYY(_)
            | GateKind::SXdg
            | GateKind::R(..)
            | GateKind::ECR
            | GateKind::DCX
            | GateKind::RZX(_)
            | GateKind::XXMinusYY(..)
            | GateKind::XXPlusYY(..) => GateClass::Dense,
            GateKind::Unitary1(m) => GateClass::of_matrix(&m[..]),
            GateKind::Unitary2(m) => GateClass::of_matrix(&m[..]),
        }
    }

    /// One operation of every kind, angles drawn from `angle` in [`GateKind::angles`] order,
    /// and fixed non-trivial unitaries for `Unitary1` / `Unitary2`: the list the tests run on
    /// every engine.
    pub fn catalogue(mut angle: impl FnMut() -> Angle) -> Vec<GateKind> {
        let mut a = || angle();
        let u1 = GateKind::U3(Angle::Const(0.7), Angle::Const(-0.4), Angle::Const(1.9))
            .matrix_2x2(&[0.7, -0.4, 1.9]);
        let u2 = crate::math::linalg::matmul(
            &GateKind::RXX(Angle::Const(0.9)).matrix(&[0.9]),
            &crate::math::linalg::kron2(&u1, &GateKind::H.matrix(&[])),
        );
        vec![
            GateKind::I,
            GateKind::H,
            GateKind::X,
            GateKind::Y,
            GateKind::Z,
            GateKind::S,
            GateKind::Sdg,
            GateKind::T,
            GateKind::Tdg,
            GateKind::SX,
            GateKind::RX(a()),
            GateKind::RY(a()),
            GateKind::RZ(a()),
            GateKind::Phase(a()),
            GateKind::U3(a(), a(), a()),
            GateKind::Unitary1(Box::new(u1)),
            GateKind::Swap,
            GateKind::ISwap,
            GateKind::RXX(a()),
            GateKind::RYY(a()),
            GateKind::RZZ(a()),
            GateKind::Unitary2(Box::new(std::array::from_fn(|k| u2[k]))),
            GateKind::SXdg,
            GateKind::R(a(), a()),
            GateKind::GlobalPhase(a()),
            GateKind::ECR,
            GateKind::DCX,
            GateKind::RZX(a()),
            GateKind::XXMinusYY(a(), a()),
            GateKind::XXPlusYY(a(), a()),
        ]
    }

    /// The row-major matrix for resolved angle values (`angles[i]` is the value of
    /// `self.angles()[i]`; missing values read as 0): 4 entries for a one-qubit kind, 16 for a
    /// two-qubit kind.
    pub fn matrix(&self, angles: &[f64]) -> Vec<C64> {
        if self.num_targets() == 1 {
            self.matrix_2x2(angles).to_vec()
        } else {
            self.matrix_4x4(angles).to_vec()
        }
    }

    /// [`GateKind::matrix`] of a one-qubit kind, on the stack (the engines' per-row path);
    /// the identity for a two-qubit kind.
    pub(crate) fn matrix_2x2(&self, angles: &[f64]) -> [C64; 4] {
        let a = |i: usize| angles.get(i).copied().unwrap_or(0.0);
        let (z, o) = (C64::ZERO, C64::ONE);
        let i = c(0.0, 1.0);
        match self {
            GateKind::I => [o, z, z, o],
            GateKind::H => {
                let h = c(FRAC_1_SQRT_2, 0.0);
                [h, h, h, -h]
            }
            GateKind::X => [z, o, o, z],
            GateKind::Y => [z, -i, i, z],
            GateKind::Z => [o, z, z, -o],
            GateKind::S => [o, z, z, i],
            GateKind::Sdg => [o, z, z, -i],
            GateKind::T => [o, z, z, expi(std::f64::consts::FRAC_PI_4)],
            GateKind::Tdg => [o, z, z, expi(-std::f64::consts::FRAC_PI_4)],
            GateKind::SX => [c(0.5, 0.5), c(0.5, -0.5), c(0.5, -0.5), c(0.5, 0.5)],
            GateKind::RX(_) => {
                let (s, co) = (a(0) / 2.0).sin_cos();
                [c(co, 0.0), c(0.0, -s), c(0.0, -s), c(co, 0.0)]
            }
            GateKind::RY(_) => {
                let (s, co) = (a(0) / 2.0).sin_cos();
                [c(co, 0.0), c(-s, 0.0), c(s, 0.0), c(co, 0.0)]
            }
            GateKind::RZ(_) => [expi(-a(0) / 2.0), z, z, expi(a(0) / 2.0)],
            GateKind::Phase(_) => [o, z, z, expi(a(0))],
            GateKind::U3(..) => {
                let (s, co) = (a(0) / 2.0).sin_cos();
                let (phi, lam) = (a(1), a(2));
                [
                    c(co, 0.0),
                    -expi(lam) * s,
                    expi(phi) * s,
                    expi(phi + lam) * co,
                ]
            }
            GateKind::Unitary1(m) => **m,
            GateKind::SXdg => [c(0.5, -0.5), c(0.5, 0.5), c(0.5, 0.5), c(0.5, -0.5)],
            GateKind::R(..) => {
                let (s, co) = (a(0) / 2.0).sin_cos();
                let phi = a(1);
                [
                    c(co, 0.0),
                    -i * expi(-phi) * s,
                    -i * expi(phi) * s,
                    c(co, 0.0),
                ]
            }
            GateKind::GlobalPhase(_) => [expi(a(0)), z, z, expi(a(0))],
            _ => [o, z, z, o],
        }
    }

    /// [`GateKind::matrix`] of a two-qubit kind, on the stack; the identity for a one-qubit
    /// kind.
    pub(crate) fn matrix_4x4(&self, angles: &[f64]) -> [C64; 16] {
        let a = |i: usize| angles.get(i).copied().unwrap_or(0.0);
        let (z, o) = (C64::ZERO, C64::ONE);
        let i = c(0.0, 1.0);
        match self {
            GateKind::Swap => {
                let mut m = [z; 16];
                m[0] = o;
                m[4 + 2] = o;
                m[8 + 1] = o;
                m[15] = o;
                m
            }
            GateKind::ISwap => {
                let mut m = [z; 16];
                m[0] = o;
                m[4 + 2] = i;
                m[8 + 1] = i;
                m[15] = o;
                m
            }
            GateKind::RXX(_) => {
                let (s, co) = (a(0) / 2.0).sin_cos();
                let mut m = [z; 16];
                for k in 0..4 {
                    m[5 * k] = c(co, 0.0);
                    m[4 * k + (3 - k)] = c(0.0, -s);
                }
                m
            }
            GateKind::RYY(_) => {
                let (s, co) = (a(0) / 2.0).sin_cos();
                let mut m = [z; 16];
                for k in 0..4 {
                    m[5 * k] = c(co, 0.0);
                }
                // Y⊗Y maps |00⟩→−|11⟩, |11⟩→−|00⟩, |01⟩→|10⟩, |10⟩→|01⟩; RYY = cos·I − i·sin·Y⊗Y.
                m[3] = c(0.0, s);
                m[12] = c(0.0, s);
                m[4 + 2] = c(0.0, -s);
                m[8 + 1] = c(0.0, -s);
                m
            }
            GateKind::RZZ(_) => {
                let (m0, m1) = (expi(-a(0) / 2.0), expi(a(0) / 2.0));
                let mut m = [z; 16];
                m[0] = m0;
                m[5] = m1;
                m[10] = m1;
                m[15] = m0;
                m
            }
            GateKind::Unitary2(m) => **m,
            GateKind::ECR => {
                let (r, ih) = (c(FRAC_1_SQRT_2, 0.0), c(0.0, FRAC_1_SQRT_2));
                [z, r, z, ih, r, z, -ih, z, z, ih, z, r, -ih, z, r, z]
            }
            GateKind::DCX => {
                // |b1 b0⟩: b1 ^= b0, then b0 ^= b1: 0→0, 1→2, 2→3, 3→1.
                let mut m = [z; 16];
                m[0] = o;
                m[4 * 2 + 1] = o;
                m[4 * 3 + 2] = o;
                m[4 + 3] = o;
                m
            }
            GateKind::RZX(_) => {
                // cos·I − i·sin·(Z on t0)(X on t1).
                let (s, co) = (a(0) / 2.0).sin_cos();
                let p = pauli2(&GateKind::Z, &GateKind::X);
                std::array::from_fn(|k| {
                    let id = if k % 5 == 0 { co } else { 0.0 };
                    c(id, 0.0) - i * s * p[k]
                })
            }
            GateKind::XXMinusYY(..) | GateKind::XXPlusYY(..) => {
                let (s, co) = (a(0) / 2.0).sin_cos();
                let beta = a(1);
                let (lo, hi) = rotation_pair(self);
                let mut m = [z; 16];
                for k in 0..4 {
                    m[5 * k] = o;
                }
                m[5 * lo] = c(co, 0.0);
                m[5 * hi] = c(co, 0.0);
                m[4 * lo + hi] = -i * expi(-beta) * s;
                m[4 * hi + lo] = -i * expi(beta) * s;
                m
            }
            _ => {
                let mut m = [z; 16];
                for k in 0..4 {
                    m[5 * k] = o;
                }
                m
            }
        }
    }
}

/// A gate placed on qubits: `targets` (as many as the kind has) and any number of `controls`,
/// all of which must be |1⟩ for the gate to act.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    /// What the gate does.
    pub kind: GateKind,
    /// Target qubits; `targets[0]` is the least significant bit of the kind's matrix index.
    pub targets: Vec<usize>,
    /// Control qubits.
    pub controls: Vec<usize>,
}

impl Gate {
    /// A gate with targets and no controls.
    pub fn new(kind: GateKind, targets: &[usize]) -> Self {
        Gate {
            kind,
            targets: targets.to_vec(),
            controls: Vec::new(),
        }
    }

    /// A gate with targets and controls.
    pub fn controlled(kind: GateKind, controls: &[usize], targets: &[usize]) -> Self {
        Gate {
            kind,
            targets: targets.to_vec(),
            controls: controls.to_vec(),
        }
    }

    /// Bit mask of the control qubits (qubits of 64 and above, which no valid circuit has,
    /// are left out rather than overflowing the shift).
    pub fn control_mask(&self) -> u64 {
        self.controls.iter().fold(0u64, |m, &q| m | super::bit(q))
    }

    /// The gate's name as a user wrote it: `CNOT`, `Toffoli`, `CY`, `CZ`, `CRY`, `C3-X`, or
    /// the kind's name for an uncontrolled gate (for error messages).
    pub fn display_name(&self) -> String {
        let name = self.kind.name();
        match (self.controls.len(), &self.kind) {
            (0, _) => name.to_string(),
            (1, GateKind::X) => "CNOT".to_string(),
            (2, GateKind::X) => "Toffoli".to_string(),
            (1, _) => format!("C{name}"),
            (k, _) => format!("C{k}-{name}"),
        }
    }

    /// The matrix of the kind with its angles resolved under `bindings`.
    pub fn bound_matrix(&self, bindings: &super::Bindings<'_>) -> Vec<C64> {
        let values: Vec<f64> = self
            .kind
            .angles()
            .iter()
            .map(|a| a.value(bindings))
            .collect();
        self.kind.matrix(&values)
    }

    /// A readable label such as `CX(c=[0], t=[1])`.
    pub fn label(&self) -> String {
        format!(
            "{}(c={:?}, t={:?})",
            self.kind.name(),
            self.controls,
            self.targets
        )
    }
}

/// How to differentiate an angle by evaluating the circuit at shifted values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShiftRule {
    /// Generator with two eigenvalues (gap 1): f' = [f(a+π/2) − f(a−π/2)] / 2.
    TwoTerm,
    /// Generator with eigenvalues {−½, 0, ½} (a controlled rotation):
    /// f' = c₊[f(a+π/2) − f(a−π/2)] − c₋[f(a+3π/2) − f(a−3π/2)], c± = (√2 ± 1)/(4√2).
    FourTerm,
    /// An angle that turns a rotation's axis (R's φ, XX±YY's β): the expectation is a
    /// trigonometric polynomial with frequencies 1 and 2 in it, so
    /// f' = d₁[f(a+π/4) − f(a−π/4)] − d₂[f(a+3π/4) − f(a−3π/4)], d± = (√2 ± 1)/(2√2).
    FourTermAxis,
}

impl ShiftRule {
    /// (shift, weight) pairs: f' = Σ weight · f(a + shift).
    pub fn terms(self) -> Vec<(f64, f64)> {
        use std::f64::consts::FRAC_PI_2;
        match self {
            ShiftRule::TwoTerm => vec![(FRAC_PI_2, 0.5), (-FRAC_PI_2, -0.5)],
            ShiftRule::FourTerm => {
                let s2 = std::f64::consts::SQRT_2;
                let cp = (s2 + 1.0) / (4.0 * s2);
                let cm = (s2 - 1.0) / (4.0 * s2);
                vec![
                    (FRAC_PI_2, cp),
                    (-FRAC_PI_2, -cp),
                    (3.0 * FRAC_PI_2, -cm),
                    (-3.0 * FRAC_PI_2, cm),
                ]
            }
            ShiftRule::FourTermAxis => {
                // FourTerm with the angle doubled: frequencies {½, 1} become {1, 2}.
                let s2 = std::f64::consts::SQRT_2;
                let d1 = (s2 + 1.0) / (2.0 * s2);
                let d2 = (s2 - 1.0) / (2.0 * s2);
                let q = FRAC_PI_2 / 2.0;
                vec![(q, d1), (-q, -d1), (3.0 * q, -d2), (-3.0 * q, d2)]
            }
        }
    }
}

impl GateKind {
    /// d(matrix)/d(angle `which`) at the resolved `angles`, row-major like [`GateKind::matrix`].
    /// Empty for kinds without angles.
    pub fn derivative(&self, angles: &[f64], which: usize) -> Vec<C64> {
        let a = |i: usize| angles.get(i).copied().unwrap_or(0.0);
        let z = C64::ZERO;
        let mi = C64::new(0.0, -0.5);
        let rotation = |generator: Vec<C64>| -> Vec<C64> {
            // R(θ) = exp(−iθG/2)  ⇒  dR/dθ = −(i/2)·G·R(θ).
            matmul(&generator, &self.matrix(angles))
                .into_iter()
                .map(|v| mi * v)
                .collect()
        };
        match self {
            GateKind::RX(_) => rotation(GateKind::X.matrix(&[])),
            GateKind::RY(_) => rotation(GateKind::Y.matrix(&[])),
            GateKind::RZ(_) => rotation(GateKind::Z.matrix(&[])),
            GateKind::RXX(_) => rotation(kron2(&GateKind::X.matrix(&[]), &GateKind::X.matrix(&[]))),
            GateKind::RYY(_) => rotation(kron2(&GateKind::Y.matrix(&[]), &GateKind::Y.matrix(&[]))),
            GateKind::RZZ(_) => rotation(kron2(&GateKind::Z.matrix(&[]), &GateKind::Z.matrix(&[]))),
            GateKind::Phase(_) => vec![z, z, z, C64::I * expi(a(0))],
            GateKind::U3(..) => u3_derivative(angles, which).to_vec(),
            GateKind::RZX(_) => rotation(pauli2(&GateKind::Z, &GateKind::X).to_vec()),
            GateKind::GlobalPhase(_) => {
                let d = C64::I * expi(a(0));
                vec![d, z, z, d]
            }
            GateKind::R(..) => r_derivative(angles, which).to_vec(),
            GateKind::XXMinusYY(..) | GateKind::XXPlusYY(..) => {
                xy_derivative(self, angles, which).to_vec()
            }
            _ => Vec::new(),
        }
    }

    /// The generator of angle `which` at the resolved `angles`: G = (∂U/∂a)·U†, so that
    /// ∂U/∂a = G·U. The adjoint method reads 2·Re⟨λ|G|ψ_after⟩ with it. Empty for kinds
    /// without angles.
    pub fn generator(&self, angles: &[f64], which: usize) -> Vec<C64> {
        if self.angles().is_empty() {
            return Vec::new();
        }
        let mut g = vec![C64::ZERO; if self.num_targets() == 1 { 4 } else { 16 }];
        self.generator_into(angles, which, &mut g);
        g
    }

    /// [`GateKind::generator`] written into `out` (4 entries for a one-qubit kind, 16 for a
    /// two-qubit one) without allocating: the engines' per-row path. A rotation's generator is
    /// the constant −(i/2)·P, Phase's diag(0, i), U3's ∂U·U† on the stack; zero for kinds
    /// without angles.
    pub(crate) fn generator_into(&self, angles: &[f64], which: usize, out: &mut [C64]) {
        out.fill(C64::ZERO);
        let mi = C64::new(0.0, -0.5);
        let one = |p: GateKind, out: &mut [C64]| {
            for (o, v) in out.iter_mut().zip(p.matrix_2x2(&[])) {
                *o = mi * v;
            }
        };
        let two = |p: GateKind, out: &mut [C64]| {
            // −(i/2)·P⊗P in the basis index bit(t0) + 2·bit(t1).
            let m = p.matrix_2x2(&[]);
            for (k, o) in out.iter_mut().enumerate().take(16) {
                let (r, c) = (k / 4, k % 4);
                *o = mi * m[2 * (r >> 1) + (c >> 1)] * m[2 * (r & 1) + (c & 1)];
            }
        };
        match self {
            GateKind::RX(_) => one(GateKind::X, out),
            GateKind::RY(_) => one(GateKind::Y, out),
            GateKind::RZ(_) => one(GateKind::Z, out),
            GateKind::RXX(_) => two(GateKind::X, out),
            GateKind::RYY(_) => two(GateKind::Y, out),
            GateKind::RZZ(_) => two(GateKind::Z, out),
            GateKind::Phase(_) => out[3] = C64::I,
            GateKind::U3(..) => {
                let g = matmul2(
                    &u3_derivative(angles, which),
                    &dagger2(&self.matrix_2x2(angles)),
                );
                out[..4].copy_from_slice(&g);
            }
            GateKind::R(..) => {
                let g = matmul2(
                    &r_derivative(angles, which),
                    &dagger2(&self.matrix_2x2(angles)),
                );
                out[..4].copy_from_slice(&g);
            }
            GateKind::GlobalPhase(_) => {
                out[0] = C64::I;
                out[3] = C64::I;
            }
            GateKind::RZX(_) => {
                for (o, p) in out.iter_mut().zip(pauli2(&GateKind::Z, &GateKind::X)) {
                    *o = mi * p;
                }
            }
            GateKind::XXMinusYY(..) | GateKind::XXPlusYY(..) => {
                let g = matmul4(
                    &xy_derivative(self, angles, which),
                    &dagger4(&self.matrix_4x4(angles)),
                );
                out[..16].copy_from_slice(&g);
            }
            _ => {}
        }
    }

    /// The same kind with its angles replaced by constants `values` (in [`GateKind::angles`]
    /// order).
    pub fn with_angles(&self, values: &[f64]) -> GateKind {
        let a = |i: usize| Angle::Const(values.get(i).copied().unwrap_or(0.0));
        match self {
            GateKind::RX(_) => GateKind::RX(a(0)),
            GateKind::RY(_) => GateKind::RY(a(0)),
            GateKind::RZ(_) => GateKind::RZ(a(0)),
            GateKind::Phase(_) => GateKind::Phase(a(0)),
            GateKind::RXX(_) => GateKind::RXX(a(0)),
            GateKind::RYY(_) => GateKind::RYY(a(0)),
            GateKind::RZZ(_) => GateKind::RZZ(a(0)),
            GateKind::U3(..) => GateKind::U3(a(0), a(1), a(2)),
            GateKind::R(..) => GateKind::R(a(0), a(1)),
            GateKind::GlobalPhase(_) => GateKind::GlobalPhase(a(0)),
            GateKind::RZX(_) => GateKind::RZX(a(0)),
            GateKind::XXMinusYY(..) => GateKind::XXMinusYY(a(0), a(1)),
            GateKind::XXPlusYY(..) => GateKind::XXPlusYY(a(0), a(1)),
            other => other.clone(),
        }
    }

    /// The shift rule for angle `which` when the gate has `num_controls` controls; `None` when
    /// no shift rule applies (a controlled U3's θ has one — it is a controlled RY — but its
    /// φ and λ are phases, so every case is covered; kinds without angles return `None`).
    pub fn shift_rule(&self, which: usize, num_controls: usize) -> Option<ShiftRule> {
        let controlled = num_controls > 0;
        match self {
            // Generator i·I: eigenvalues {0, 1} on the controlled subspace (a controlled
            // phase), a constant when uncontrolled (the rule then gives 0, as it should).
            GateKind::Phase(_) | GateKind::GlobalPhase(_) => Some(ShiftRule::TwoTerm),
            // R's θ rotates about a fixed axis (eigenvalues ±½); φ and XX±YY's β turn the
            // axis: U = e^{−iφZ/2}·U(θ, 0)·e^{iφZ/2}, whose entries have frequencies −1, 0, 1
            // in φ, so ⟨O⟩ has frequencies up to 2 (controlled or not).
            GateKind::R(..) | GateKind::XXMinusYY(..) | GateKind::XXPlusYY(..) if which > 0 => {
                Some(ShiftRule::FourTermAxis)
            }
            // XX±YY's θ rotates a two-dimensional subspace and leaves the other two states
            // alone: generator eigenvalues {−½, 0, ½}.
            GateKind::XXMinusYY(..) | GateKind::XXPlusYY(..) => Some(ShiftRule::FourTerm),
            // U3(θ, φ, λ) = P(φ)·RY(θ)·P(λ): φ and λ are phase angles, θ a rotation angle.
            GateKind::U3(..) if which > 0 => Some(ShiftRule::TwoTerm),
            GateKind::RX(_)
            | GateKind::RY(_)
            | GateKind::RZ(_)
            | GateKind::RXX(_)
            | GateKind::RYY(_)
            | GateKind::RZZ(_)
            | GateKind::RZX(_)
            | GateKind::R(..)
            | GateKind::U3(..) => Some(if controlled {
                ShiftRule::FourTerm
            } else {
                ShiftRule::TwoTerm
            }),
            _ => None,
        }
    }
}

/// The 4×4 Pauli product with `lo` on the first target (less significant bit) and `hi` on
/// the second: entry (r, c) = hi[r₁, c₁]·lo[r₀, c₀].
fn pauli2(lo: &GateKind, hi: &GateKind) -> [C64; 16] {
    let (l, h) = (lo.matrix_2x2(&[]), hi.matrix_2x2(&[]));
    std::array::from_fn(|k| {
        let (r, c) = (k / 4, k % 4);
        h[2 * (r >> 1) + (c >> 1)] * l[2 * (r & 1) + (c & 1)]
    })
}

/// The two basis indices (`bit(t0) + 2·bit(t1)`) that XX−YY (0, 3) and XX+YY (1, 2) rotate.
fn rotation_pair(kind: &GateKind) -> (usize, usize) {
    if matches!(kind, GateKind::XXMinusYY(..)) {
        (0, 3)
    } else {
        (1, 2)
    }
}

/// Product of two row-major 4×4 matrices, on the stack.
fn matmul4(a: &[C64; 16], b: &[C64; 16]) -> [C64; 16] {
    std::array::from_fn(|k| {
        let (r, c) = (k / 4, k % 4);
        (0..4).map(|j| a[4 * r + j] * b[4 * j + c]).sum()
    })
}

/// ∂R/∂a_`which` at the resolved (θ, φ), on the stack.
fn r_derivative(angles: &[f64], which: usize) -> [C64; 4] {
    let a = |i: usize| angles.get(i).copied().unwrap_or(0.0);
    let (s, c) = (a(0) / 2.0).sin_cos();
    let phi = a(1);
    let (z, i) = (C64::ZERO, C64::I);
    match which {
        0 => [
            C64::new(-s / 2.0, 0.0),
            -i * expi(-phi) * (c / 2.0),
            -i * expi(phi) * (c / 2.0),
            C64::new(-s / 2.0, 0.0),
        ],
        _ => [z, -expi(-phi) * s, expi(phi) * s, z],
    }
}

/// ∂(XX∓YY)/∂a_`which` at the resolved (θ, β), on the stack.
fn xy_derivative(kind: &GateKind, angles: &[f64], which: usize) -> [C64; 16] {
    let a = |i: usize| angles.get(i).copied().unwrap_or(0.0);
    let (s, c) = (a(0) / 2.0).sin_cos();
    let beta = a(1);
    let (lo, hi) = rotation_pair(kind);
    let i = C64::I;
    let mut d = [C64::ZERO; 16];
    if which == 0 {
        d[5 * lo] = C64::new(-s / 2.0, 0.0);
        d[5 * hi] = C64::new(-s / 2.0, 0.0);
        d[4 * lo + hi] = -i * expi(-beta) * (c / 2.0);
        d[4 * hi + lo] = -i * expi(beta) * (c / 2.0);
    } else {
        d[4 * lo + hi] = -expi(-beta) * s;
        d[4 * hi + lo] = expi(beta) * s;
    }
    d
}

/// ∂U3/∂a_`which` at the resolved (θ, φ, λ), on the stack.
fn u3_derivative(angles: &[f64], which: usize) -> [C64; 4] {
    let a = |i: usize| angles.get(i).copied().unwrap_or(0.0);
    let (s, c) = (a(0) / 2.0).sin_cos();
    let (phi, lam) = (a(1), a(2));
    let (z, i) = (C64::ZERO, C64::I);
    match which {
        0 => [
            C64::new(-s / 2.0, 0.0),
            -expi(lam) * (c / 2.0),
            expi(phi) * (c / 2.0),
            -expi(phi + lam) * (s / 2.0),
        ],
        1 => [z, z, i * expi(phi) * s, i * expi(phi + lam) * c],
        _ => [z, -i * expi(lam) * s, z, i * expi(phi + lam) * c],
    }
}

/// What an operation does to the amplitudes it touches, for every value of its angles: the one
/// classification every engine lowers by (the cheapest kernel that is exact for the class).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GateClass {
    /// The identity: no pass at all.
    Identity,
    /// A permutation of basis states without phases.
    Permutation(Permutation),
    /// One target, diagonal, |0⟩ entry exactly 1: only the half of the state where the target
    /// is 1 changes, so engines fold the target into the controls (Z, S, T, Phase, CZ, …).
    Phase,
    /// Diagonal (RZ, RZZ, a diagonal user matrix).
    Diagonal,
    /// Anything else: a dense 2×2 or 4×4 matrix.
    Dense,
}

/// The permutations engines run without arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Permutation {
    /// X: swap |0⟩ and |1⟩ of one target.
    Flip,
    /// SWAP: swap |01⟩ and |10⟩ of two targets.
    Swap,
}

impl GateClass {
    /// The class of a fixed row-major matrix on one or two qubits (4 or 16 entries), judged by
    /// its exact entries: how user unitaries and fused products are classified.
    pub fn of_matrix(m: &[C64]) -> GateClass {
        let (z, o) = (C64::ZERO, C64::ONE);
        if is_diagonal(m) {
            let d = crate::math::linalg::side(m.len());
            return if (0..d).all(|r| m[r * d + r] == o) {
                GateClass::Identity
            } else if d == 2 && m[0] == o {
                GateClass::Phase
            } else {
                GateClass::Diagonal
            };
        }
        if m == [z, o, o, z] {
            return GateClass::Permutation(Permutation::Flip);
        }
        if m == [o, z, z, z, z, z, o, z, z, o, z, z, z, z, z, o] {
            return GateClass::Permutation(Permutation::Swap);
        }
        GateClass::Dense
    }

    /// True for the classes whose matrix is diagonal (identity, phase, diagonal).
    pub fn is_diagonal(self) -> bool {
        matches!(
            self,
            GateClass::Identity | GateClass::Phase | GateClass::Diagonal
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Vec<GateKind> {
        let mut k = 0.0;
        GateKind::catalogue(|| {
            k += 1.0;
            Angle::Const(0.37 * k - 0.9)
        })
    }

    fn values(kind: &GateKind) -> Vec<f64> {
        kind.angles()
            .iter()
            .map(|a| a.value(&super::super::Bindings::none()))
            .collect()
    }

    /// A kind's class holds for its matrix at any angle: a fixed kind's class is exactly the
    /// class of its matrix; a parameterised kind's matrix is never of a wider class (a
    /// diagonal kind stays diagonal, a phase kind keeps its |0⟩ entry at 1).
    #[test]
    fn every_class_matches_the_kinds_matrix() {
        for kind in catalogue() {
            let m = kind.matrix(&values(&kind));
            let of_matrix = GateClass::of_matrix(&m);
            let class = kind.class();
            if kind.angles().is_empty() {
                assert_eq!(class, of_matrix, "{}", kind.name());
            }
            match class {
                GateClass::Phase => assert!(
                    of_matrix == GateClass::Phase && m.len() == 4,
                    "{}",
                    kind.name()
                ),
                GateClass::Diagonal => assert!(of_matrix.is_diagonal(), "{}", kind.name()),
                _ => {}
            }
        }
    }

    /// ∂U/∂a from the model against central differences of its matrix, and the generator
    /// against G = ∂U·U†, for every angle of every kind.
    #[test]
    fn derivatives_and_generators_match_the_matrix() {
        let h = 1e-6;
        for kind in catalogue() {
            let a = values(&kind);
            for which in 0..a.len() {
                let (mut up, mut down) = (a.clone(), a.clone());
                up[which] += h;
                down[which] -= h;
                let (mu, md) = (kind.matrix(&up), kind.matrix(&down));
                let d = kind.derivative(&a, which);
                for (j, dj) in d.iter().enumerate() {
                    let fd = (mu[j] - md[j]) / (2.0 * h);
                    assert!(
                        (fd - dj).norm() < 1e-8,
                        "{} angle {which} entry {j}",
                        kind.name()
                    );
                }
                let g = kind.generator(&a, which);
                let back = matmul(&g, &kind.matrix(&a));
                for (x, y) in back.iter().zip(&d) {
                    assert!((x - y).norm() < 1e-12, "{} generator {which}", kind.name());
                }
            }
        }
    }
}
