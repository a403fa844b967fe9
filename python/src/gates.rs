//! The one table of gates the Python `Circuit.add(name, qubits, angles)` understands, keyed by
//! Qiskit's gate names. A new qshade gate is one line here.

use qshade::{Angle, Circuit, GateKind, Result};

/// Builds one gate on `c` from its qubits and angles (their counts are checked beforehand).
type Build = fn(&mut Circuit, &[usize], &[Angle]) -> Result<()>;

/// One row of the gate table.
pub struct GateSpec {
    /// Qiskit's name of the gate (lower case).
    pub name: &'static str,
    /// Number of qubits (controls first, then targets, as in Qiskit).
    pub qubits: usize,
    /// Number of angles.
    pub angles: usize,
    /// The builder.
    pub build: Build,
}

/// Shorthand for a table row.
macro_rules! gate {
    ($name:literal, $q:literal, $a:literal, |$c:ident, $qs:ident, $as:ident| $body:expr) => {
        GateSpec {
            name: $name,
            qubits: $q,
            angles: $a,
            build: |$c, $qs, $as| {
                let _ = &$as;
                $body.map(|_| ())
            },
        }
    };
}

/// Every gate, by Qiskit name. (`.clone()` on angles: `Angle` loses `Copy` when it becomes
/// an expression type.)
#[allow(clippy::clone_on_copy)]
pub static GATES: &[GateSpec] = &[
    gate!("id", 1, 0, |c, q, a| c.id(q[0])),
    gate!("h", 1, 0, |c, q, a| c.h(q[0])),
    gate!("x", 1, 0, |c, q, a| c.x(q[0])),
    gate!("y", 1, 0, |c, q, a| c.y(q[0])),
    gate!("z", 1, 0, |c, q, a| c.z(q[0])),
    gate!("s", 1, 0, |c, q, a| c.s(q[0])),
    gate!("sdg", 1, 0, |c, q, a| c.sdg(q[0])),
    gate!("t", 1, 0, |c, q, a| c.t(q[0])),
    gate!("tdg", 1, 0, |c, q, a| c.tdg(q[0])),
    gate!("sx", 1, 0, |c, q, a| c.sx(q[0])),
    gate!("rx", 1, 1, |c, q, a| c.rx(q[0], a[0].clone())),
    gate!("ry", 1, 1, |c, q, a| c.ry(q[0], a[0].clone())),
    gate!("rz", 1, 1, |c, q, a| c.rz(q[0], a[0].clone())),
    gate!("p", 1, 1, |c, q, a| c.phase(q[0], a[0].clone())),
    gate!("u", 1, 3, |c, q, a| c.u3(
        q[0],
        a[0].clone(),
        a[1].clone(),
        a[2].clone()
    )),
    gate!("cx", 2, 0, |c, q, a| c.cx(q[0], q[1])),
    gate!("cy", 2, 0, |c, q, a| c.cy(q[0], q[1])),
    gate!("cz", 2, 0, |c, q, a| c.cz(q[0], q[1])),
    gate!("crx", 2, 1, |c, q, a| c.crx(q[0], q[1], a[0].clone())),
    gate!("cry", 2, 1, |c, q, a| c.cry(q[0], q[1], a[0].clone())),
    gate!("crz", 2, 1, |c, q, a| c.crz(q[0], q[1], a[0].clone())),
    gate!("cp", 2, 1, |c, q, a| c.cphase(q[0], q[1], a[0].clone())),
    gate!("swap", 2, 0, |c, q, a| c.swap(q[0], q[1])),
    gate!("iswap", 2, 0, |c, q, a| c.iswap(q[0], q[1])),
    gate!("rxx", 2, 1, |c, q, a| c.rxx(q[0], q[1], a[0].clone())),
    gate!("ryy", 2, 1, |c, q, a| c.ryy(q[0], q[1], a[0].clone())),
    gate!("rzz", 2, 1, |c, q, a| c.rzz(q[0], q[1], a[0].clone())),
    gate!("ccx", 3, 0, |c, q, a| c.toffoli(q[0], q[1], q[2])),
    gate!("ccz", 3, 0, |c, q, a| c.multi_controlled(
        GateKind::Z,
        &q[..2],
        q[2]
    )),
    gate!("cswap", 3, 0, |c, q, a| {
        // Fredkin as three Toffolis: CX(b→a)·CCX(ctrl, a → b)·CX(b→a).
        c.cx(q[2], q[1])?;
        c.toffoli(q[0], q[1], q[2])?;
        c.cx(q[2], q[1])
    }),
];

/// Looks a gate up by name (case-insensitive).
pub fn find(name: &str) -> Option<&'static GateSpec> {
    GATES.iter().find(|g| g.name.eq_ignore_ascii_case(name))
}
