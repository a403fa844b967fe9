//! Dense unitaries on up to [`MAX_UNITARY_QUBITS`] qubits ([`Circuit::unitary`]).
//!
//! One and two qubits are the native `Unitary1` / `Unitary2` kinds. From three qubits on the
//! matrix is decomposed exactly into two-level unitaries (Givens eliminations in Gray-code
//! order, so each pair of basis states differs in one bit): each is a one-qubit `Unitary1`
//! with the other qubits of the block as controls (X gates turn a control on 0 into one on 1),
//! and one phase on the last basis state. Every engine runs these through its existing
//! kernels; a k-qubit block costs up to 2^(k−1)·(2^k − 1) such gates (496 for k = 5).

use super::{check_unitary, Circuit, Gate, GateKind};
use crate::error::{Error, Result};
use num_complex::Complex64 as C64;

/// The most qubits [`Circuit::unitary`] accepts.
pub const MAX_UNITARY_QUBITS: usize = 5;

/// One step of the decomposition on local qubits: a one-qubit matrix on `target` applied to
/// the basis states whose other bits equal those of `rest` (bit `target` of `rest` is 0).
struct TwoLevel {
    target: usize,
    rest: usize,
    m: [C64; 4],
}

impl Circuit {
    /// Appends the dense unitary `matrix` (row-major 2^k × 2^k, k = `qubits.len()`, 1 ≤ k ≤
    /// [`MAX_UNITARY_QUBITS`]) on `qubits`; bit j of the matrix index is `qubits[j]` (the
    /// first qubit is the least significant bit, as in Qiskit's `UnitaryGate`).
    ///
    /// Errors (the circuit unchanged): no qubits or more than five, a matrix of the wrong size,
    /// a matrix that is not unitary within [`super::UNITARY_TOLERANCE`], bad qubits. One and
    /// two qubits become one `Unitary1` / `Unitary2` gate; more are decomposed exactly into
    /// controlled one-qubit unitaries (see the module documentation of `decompose`).
    /// ```
    /// # fn main() -> qshade::Result<()> {
    /// use qshade::{Circuit, Complex64};
    /// // The 3-qubit cyclic shift |k⟩ → |k+1 mod 8⟩.
    /// let mut m = vec![Complex64::ZERO; 64];
    /// for k in 0..8 {
    ///     m[((k + 1) % 8) * 8 + k] = Complex64::ONE;
    /// }
    /// let mut c = Circuit::new(3)?;
    /// c.unitary(&[0, 1, 2], &m)?;
    /// # Ok(()) }
    /// ```
    pub fn unitary(&mut self, qubits: &[usize], matrix: &[C64]) -> Result<&mut Self> {
        let k = qubits.len();
        if k == 0 || k > MAX_UNITARY_QUBITS {
            return Err(Error::InvalidArgument(format!(
                "unitary on {k} qubits: qshade takes dense unitaries on 1..={MAX_UNITARY_QUBITS} \
                 qubits; split larger operations into smaller blocks"
            )));
        }
        // The qubits (in range, distinct) are checked even when the decomposition has no
        // gates (the identity).
        self.check_gate(&Gate::controlled(GateKind::I, &qubits[1..], &qubits[..1]))?;
        let d = 1usize << k;
        check_unitary(matrix, d)?;
        let gates = match k {
            1 => vec![Gate::new(
                GateKind::Unitary1(Box::new(std::array::from_fn(|i| matrix[i]))),
                qubits,
            )],
            2 => vec![Gate::new(
                GateKind::Unitary2(Box::new(std::array::from_fn(|i| matrix[i]))),
                qubits,
            )],
            _ => dense_as_gates(matrix, qubits),
        };
        for g in &gates {
            self.check_gate(g)?;
        }
        for g in gates {
            self.add(g)?;
        }
        Ok(self)
    }
}

/// An exact decomposition of the dense unitary `matrix` (row-major 2^k × 2^k, k =
/// `qubits.len()`, bit j of the index is `qubits[j]`) into X gates and controlled one-qubit
/// unitaries, the form [`Circuit::unitary`] uses from three qubits on; the OpenQASM exporter
/// writes two-qubit unitaries with it. `matrix` must already be checked unitary.
pub(crate) fn dense_as_gates(matrix: &[C64], qubits: &[usize]) -> Vec<Gate> {
    to_gates(&two_level(matrix, qubits.len()), qubits)
}

/// Gray code: consecutive values differ in one bit.
fn gray(t: usize) -> usize {
    t ^ (t >> 1)
}

/// The two-level steps whose product (first step applied first) is the unitary `u` on `k`
/// local qubits.
fn two_level(u: &[C64], k: usize) -> Vec<TwoLevel> {
    let d = 1usize << k;
    // Work on W = V·U; rows and columns indexed in Gray order.
    let mut w: Vec<C64> = (0..d * d)
        .map(|i| u[gray(i / d) * d + gray(i % d)])
        .collect();
    let mut eliminations: Vec<TwoLevel> = Vec::new();
    for col in 0..d - 1 {
        for r in (col + 1..d).rev() {
            let (a, b) = (w[(r - 1) * d + col], w[r * d + col]);
            let norm = (a.norm_sqr() + b.norm_sqr()).sqrt();
            // Nothing to eliminate: skip, unless this is the pivot's step and its entry still
            // carries a phase (the pivot must end real and positive).
            let pivot_done = r - 1 > col || (a.im == 0.0 && a.re >= 0.0);
            if (b == C64::ZERO && pivot_done) || norm == 0.0 {
                continue;
            }
            // [[a*, b*], [−b, a]]/norm sends (a, b) to (norm, 0).
            let g = [a.conj() / norm, b.conj() / norm, -b / norm, a / norm];
            for c in 0..d {
                let (x, y) = (w[(r - 1) * d + c], w[r * d + c]);
                w[(r - 1) * d + c] = g[0] * x + g[1] * y;
                w[r * d + c] = g[2] * x + g[3] * y;
            }
            eliminations.push(step(gray(r - 1), gray(r), g));
        }
    }
    // V·U = diag(1, …, 1, e^{iα}) on the last (Gray-ordered) state, so
    // U = V₁†·…·V_m†·diag(…): the phase first, then the inverted eliminations in reverse.
    let last = gray(d - 1);
    let phase = w[d * d - 1];
    let mut out = Vec::with_capacity(eliminations.len() + 1);
    if phase != C64::ONE {
        let target = 0;
        let (z, o) = (C64::ZERO, C64::ONE);
        let m = if last & 1 == 1 {
            [o, z, z, phase]
        } else {
            [phase, z, z, o]
        };
        out.push(TwoLevel {
            target,
            rest: last & !1,
            m,
        });
    }
    for e in eliminations.into_iter().rev() {
        let m = e.m;
        out.push(TwoLevel {
            m: [m[0].conj(), m[2].conj(), m[1].conj(), m[3].conj()],
            ..e
        });
    }
    out
}

/// The two-level matrix `g` on rows (x, y) (states differing in one bit) as a step on that bit.
fn step(x: usize, y: usize, g: [C64; 4]) -> TwoLevel {
    let target = (x ^ y).trailing_zeros() as usize;
    // The step's |0⟩ is the state with the bit clear.
    let m = if x & (1 << target) == 0 {
        g
    } else {
        [g[3], g[2], g[1], g[0]]
    };
    TwoLevel {
        target,
        rest: x & !(1 << target),
        m,
    }
}

/// The steps as gates on `qubits`: X gates flip the qubits whose control value is 0 (kept
/// flipped between steps while they agree, undone at the end), then the controlled one-qubit
/// unitary.
fn to_gates(steps: &[TwoLevel], qubits: &[usize]) -> Vec<Gate> {
    let k = qubits.len();
    let mut flipped = 0usize;
    let mut gates = Vec::new();
    let x = |j: usize| Gate::new(GateKind::X, &[qubits[j]]);
    for s in steps {
        // Controls must read 1 where `rest` has 1 and 0 (flipped) where it has 0; the target
        // must not be flipped.
        let want = !s.rest & ((1 << k) - 1) & !(1 << s.target);
        for j in 0..k {
            if (want ^ flipped) >> j & 1 == 1 {
                gates.push(x(j));
            }
        }
        flipped = want;
        let controls: Vec<usize> = (0..k)
            .filter(|&j| j != s.target)
            .map(|j| qubits[j])
            .collect();
        gates.push(Gate::controlled(
            GateKind::Unitary1(Box::new(s.m)),
            &controls,
            &[qubits[s.target]],
        ));
    }
    for j in 0..k {
        if flipped >> j & 1 == 1 {
            gates.push(x(j));
        }
    }
    gates
}
