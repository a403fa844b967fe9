//! Qiskit's standard gate library by name: the gates of `qiskit.circuit.library.standard_gates`
//! (what `qasm2.dumps` / `qasm3.dumps` emit for standard circuits) with their Qiskit and
//! OpenQASM names, for importers and users coming from Qiskit.
//!
//! Qubits are given in Qiskit's order (`qc.append(gate, qubits)`: controls first, then
//! targets) and angles in Qiskit's parameter order; the gate's matrix on those qubits is
//! exactly Qiskit's `Operator(gate)` (little-endian: the first qubit is the least significant
//! bit), global phase included. Each name maps to one native operation of the gate model
//! (a kind with controls), or, for `rccx` and `rcccx`, to Qiskit's own exact definition.

use super::{Angle, Circuit, Gate, GateKind};
use crate::error::{Error, Result};
use std::f64::consts::FRAC_PI_2;

/// (name, qubits, angles) of every standard gate; `mcx` is listed with its smallest arity.
const TABLE: &[(&str, usize, usize)] = &[
    ("id", 1, 0),
    ("i", 1, 0),
    ("h", 1, 0),
    ("x", 1, 0),
    ("y", 1, 0),
    ("z", 1, 0),
    ("s", 1, 0),
    ("sdg", 1, 0),
    ("t", 1, 0),
    ("tdg", 1, 0),
    ("sx", 1, 0),
    ("sxdg", 1, 0),
    ("rx", 1, 1),
    ("ry", 1, 1),
    ("rz", 1, 1),
    ("p", 1, 1),
    ("phase", 1, 1),
    ("u1", 1, 1),
    ("u2", 1, 2),
    ("u", 1, 3),
    ("u3", 1, 3),
    ("r", 1, 2),
    ("global_phase", 0, 1),
    ("gphase", 0, 1),
    ("cx", 2, 0),
    ("cnot", 2, 0),
    ("cy", 2, 0),
    ("cz", 2, 0),
    ("ch", 2, 0),
    ("cs", 2, 0),
    ("csdg", 2, 0),
    ("csx", 2, 0),
    ("cp", 2, 1),
    ("cphase", 2, 1),
    ("cu1", 2, 1),
    ("crx", 2, 1),
    ("cry", 2, 1),
    ("crz", 2, 1),
    ("cu3", 2, 3),
    ("cu", 2, 4),
    ("swap", 2, 0),
    ("iswap", 2, 0),
    ("ecr", 2, 0),
    ("dcx", 2, 0),
    ("rxx", 2, 1),
    ("ryy", 2, 1),
    ("rzz", 2, 1),
    ("rzx", 2, 1),
    ("xx_minus_yy", 2, 2),
    ("xx_plus_yy", 2, 2),
    ("ccx", 3, 0),
    ("toffoli", 3, 0),
    ("ccz", 3, 0),
    ("cswap", 3, 0),
    ("fredkin", 3, 0),
    ("rccx", 3, 0),
    ("c3x", 4, 0),
    ("c3sx", 4, 0),
    ("c3sqrtx", 4, 0),
    ("rcccx", 4, 0),
    ("rc3x", 4, 0),
    ("c4x", 5, 0),
    ("mcx", 2, 0),
];

/// The names of [`TABLE`], built once.
static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();

/// Lower-case Qiskit / OpenQASM names of every standard gate qshade knows (aliases included).
pub fn standard_gate_names() -> &'static [&'static str] {
    NAMES.get_or_init(|| TABLE.iter().map(|(n, _, _)| *n).collect())
}

/// (number of qubits, number of angles) the named gate takes, None if unknown.
///
/// `mcx` (X with any number ≥ 1 of controls, the target last) takes any number of qubits ≥ 2;
/// its entry gives the smallest, and [`standard_gate_is_variadic`] says so. `global_phase` /
/// `gphase` act on no qubit (0).
pub fn standard_gate_signature(name: &str) -> Option<(usize, usize)> {
    TABLE
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, q, a)| (q, a))
}

/// Whether the named gate takes any number of qubits from its signature's count up (`mcx`).
pub fn standard_gate_is_variadic(name: &str) -> bool {
    name == "mcx"
}

/// The error for a name not in the table, with the closest known names as a hint.
fn unknown(name: &str) -> Error {
    let lower = name.to_ascii_lowercase();
    let hint = if lower != name && standard_gate_signature(&lower).is_some() {
        format!("names are lower case: did you mean \"{lower}\"?")
    } else {
        // Names that share the first two characters, or contain the name.
        let prefix: String = lower.chars().take(2).collect();
        let close: Vec<&str> = standard_gate_names()
            .iter()
            .copied()
            .filter(|n| !lower.is_empty() && (n.starts_with(&prefix) || n.contains(&lower)))
            .take(6)
            .collect();
        if close.is_empty() {
            "see qshade::circuit::standard_gate_names() for the names qshade knows".to_string()
        } else {
            format!(
                "similar known names: {}; see qshade::circuit::standard_gate_names()",
                close.join(", ")
            )
        }
    };
    Error::UnknownGate {
        name: name.chars().take(64).collect(),
        hint,
    }
}

impl Circuit {
    /// Appends the standard gate `name` (Qiskit's qubit order: controls first, as in
    /// `qc.append(gate, qubits)`) with `angles` (Qiskit's parameter order).
    ///
    /// The names are [`standard_gate_names`]; the counts [`standard_gate_signature`]. An
    /// unknown name, a wrong number of qubits or angles, or a bad qubit is an error and leaves
    /// the circuit unchanged.
    /// ```
    /// # fn main() -> qshade::Result<()> {
    /// use qshade::{Angle, Circuit};
    /// let mut c = Circuit::new(3)?;
    /// c.add_standard("h", &[0], &[])?
    ///     .add_standard("ccx", &[0, 1, 2], &[])?
    ///     .add_standard("cu3", &[2, 0], &[Angle::theta(0), 0.3.into(), 0.1.into()])?;
    /// assert!(c.add_standard("cx", &[0], &[]).is_err()); // cx takes 2 qubits
    /// assert!(c.add_standard("foo", &[0], &[]).is_err());
    /// # Ok(()) }
    /// ```
    pub fn add_standard(
        &mut self,
        name: &str,
        qubits: &[usize],
        angles: &[Angle],
    ) -> Result<&mut Self> {
        let (nq, na) = standard_gate_signature(name).ok_or_else(|| unknown(name))?;
        let qubits_ok = if standard_gate_is_variadic(name) {
            qubits.len() >= nq
        } else {
            qubits.len() == nq
        };
        if !qubits_ok {
            let takes = if standard_gate_is_variadic(name) {
                format!("at least {nq} qubits (controls, then the target)")
            } else {
                format!("{nq} qubit(s)")
            };
            return Err(Error::InvalidArgument(format!(
                "standard gate \"{name}\" takes {takes}, got {}",
                qubits.len()
            )));
        }
        if angles.len() != na {
            return Err(Error::InvalidArgument(format!(
                "standard gate \"{name}\" takes {na} angle(s), got {}",
                angles.len()
            )));
        }
        // The qubits as a whole (in range, distinct): a decomposition (rccx, rcccx, cu) may
        // never put two of them in one gate, so the per-gate checks alone would miss a repeat.
        if let Some((first, rest)) = qubits.split_first() {
            self.check_gate(&Gate::controlled(GateKind::I, rest, &[*first]))?;
        }
        let gates = standard_gates(name, qubits, angles)?;
        // Check every gate first so that a bad one leaves the circuit unchanged.
        for g in &gates {
            self.check_gate(g)?;
        }
        for g in gates {
            self.add(g)?;
        }
        Ok(self)
    }
}

/// The gates of the standard gate `name` on `q` with angles `a` (counts already checked).
fn standard_gates(name: &str, q: &[usize], a: &[Angle]) -> Result<Vec<Gate>> {
    let one = |kind: GateKind| vec![Gate::new(kind, &q[..1])];
    let two = |kind: GateKind| vec![Gate::new(kind, &q[..2])];
    let ctrl = |kind: GateKind, nc: usize| vec![Gate::controlled(kind, &q[..nc], &q[nc..])];
    let a = |i: usize| a[i].clone();
    let c = Angle::Const;
    Ok(match name {
        "id" | "i" => one(GateKind::I),
        "h" => one(GateKind::H),
        "x" => one(GateKind::X),
        "y" => one(GateKind::Y),
        "z" => one(GateKind::Z),
        "s" => one(GateKind::S),
        "sdg" => one(GateKind::Sdg),
        "t" => one(GateKind::T),
        "tdg" => one(GateKind::Tdg),
        "sx" => one(GateKind::SX),
        "sxdg" => one(GateKind::SXdg),
        "rx" => one(GateKind::RX(a(0))),
        "ry" => one(GateKind::RY(a(0))),
        "rz" => one(GateKind::RZ(a(0))),
        "p" | "phase" | "u1" => one(GateKind::Phase(a(0))),
        "u2" => one(GateKind::U3(c(FRAC_PI_2), a(0), a(1))),
        "u" | "u3" => one(GateKind::U3(a(0), a(1), a(2))),
        "r" => one(GateKind::R(a(0), a(1))),
        // A global phase acts on no qubit; qshade places e^{iγ}·I on qubit 0.
        "global_phase" | "gphase" => vec![Gate::new(GateKind::GlobalPhase(a(0)), &[0])],
        "cx" | "cnot" => ctrl(GateKind::X, 1),
        "cy" => ctrl(GateKind::Y, 1),
        "cz" => ctrl(GateKind::Z, 1),
        "ch" => ctrl(GateKind::H, 1),
        "cs" => ctrl(GateKind::S, 1),
        "csdg" => ctrl(GateKind::Sdg, 1),
        "csx" => ctrl(GateKind::SX, 1),
        "cp" | "cphase" | "cu1" => ctrl(GateKind::Phase(a(0)), 1),
        "crx" => ctrl(GateKind::RX(a(0)), 1),
        "cry" => ctrl(GateKind::RY(a(0)), 1),
        "crz" => ctrl(GateKind::RZ(a(0)), 1),
        "cu3" => ctrl(GateKind::U3(a(0), a(1), a(2)), 1),
        // CU(θ, φ, λ, γ) = controlled (e^{iγ}·U3(θ, φ, λ)): the phase e^{iγ} lands on the
        // control's |1⟩ (a controlled global phase), then the controlled U3.
        "cu" => vec![
            Gate::controlled(GateKind::GlobalPhase(a(3)), &q[..1], &q[1..]),
            Gate::controlled(GateKind::U3(a(0), a(1), a(2)), &q[..1], &q[1..]),
        ],
        "swap" => two(GateKind::Swap),
        "iswap" => two(GateKind::ISwap),
        "ecr" => two(GateKind::ECR),
        "dcx" => two(GateKind::DCX),
        "rxx" => two(GateKind::RXX(a(0))),
        "ryy" => two(GateKind::RYY(a(0))),
        "rzz" => two(GateKind::RZZ(a(0))),
        "rzx" => two(GateKind::RZX(a(0))),
        "xx_minus_yy" => two(GateKind::XXMinusYY(a(0), a(1))),
        "xx_plus_yy" => two(GateKind::XXPlusYY(a(0), a(1))),
        "ccx" | "toffoli" => ctrl(GateKind::X, 2),
        "ccz" => ctrl(GateKind::Z, 2),
        "cswap" | "fredkin" => ctrl(GateKind::Swap, 1),
        "c3x" => ctrl(GateKind::X, 3),
        "c3sx" | "c3sqrtx" => ctrl(GateKind::SX, 3),
        "c4x" => ctrl(GateKind::X, 4),
        "mcx" => ctrl(GateKind::X, q.len() - 1),
        "rccx" => rccx(q),
        "rcccx" | "rc3x" => rcccx(q),
        _ => return Err(unknown(name)),
    })
}

/// Qiskit's definition of the relative-phase Toffoli `rccx` on (c0, c1, target).
fn rccx(q: &[usize]) -> Vec<Gate> {
    let (c0, c1, t) = (q[0], q[1], q[2]);
    let one = |k: GateKind| Gate::new(k, &[t]);
    let cx = |c: usize| Gate::controlled(GateKind::X, &[c], &[t]);
    vec![
        one(GateKind::H),
        one(GateKind::T),
        cx(c1),
        one(GateKind::Tdg),
        cx(c0),
        one(GateKind::T),
        cx(c1),
        one(GateKind::Tdg),
        one(GateKind::H),
    ]
}

/// Qiskit's definition of the relative-phase 3-controlled X `rcccx` on (c0, c1, c2, target).
fn rcccx(q: &[usize]) -> Vec<Gate> {
    let (c0, c1, c2, t) = (q[0], q[1], q[2], q[3]);
    let one = |k: GateKind| Gate::new(k, &[t]);
    let cx = |c: usize| Gate::controlled(GateKind::X, &[c], &[t]);
    vec![
        one(GateKind::H),
        one(GateKind::T),
        cx(c2),
        one(GateKind::Tdg),
        one(GateKind::H),
        cx(c0),
        one(GateKind::T),
        cx(c1),
        one(GateKind::Tdg),
        cx(c0),
        one(GateKind::T),
        cx(c1),
        one(GateKind::Tdg),
        one(GateKind::H),
        one(GateKind::T),
        cx(c2),
        one(GateKind::Tdg),
        one(GateKind::H),
    ]
}
