//! The bridge from an OpenQASM gate name to qshade's gates.
//!
//! TEMPORARY: until the standard gate library (`circuit::library`) lands, this maps the names
//! of the gates qshade has today; it is replaced by `standard_gate_signature` /
//! `Circuit::add_standard` when that library is merged.

use crate::circuit::{Angle, Gate, GateKind};

/// `(qubits, angles)` of the standard gate `name`, if qshade has it.
pub(crate) fn signature(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "id" | "x" | "y" | "z" | "h" | "s" | "sdg" | "t" | "tdg" | "sx" => (1, 0),
        "rx" | "ry" | "rz" | "p" => (1, 1),
        "u" | "u3" => (1, 3),
        "cx" | "cy" | "cz" | "swap" | "iswap" => (2, 0),
        "crx" | "cry" | "crz" | "cp" | "rxx" | "ryy" | "rzz" => (2, 1),
        "ccx" => (3, 0),
        _ => return None,
    })
}

/// The gates of the standard gate `name` on `qubits` (controls first) with `angles`, after
/// [`signature`] matched.
pub(crate) fn gates(name: &str, q: &[usize], a: &[Angle]) -> Option<Vec<Gate>> {
    let a = |i: usize| a.get(i).cloned().unwrap_or(Angle::Const(0.0));
    let one = |k: GateKind| Gate::new(k, &q[..1]);
    let ctl = |k: GateKind| Gate::controlled(k, &q[..q.len() - 1], &q[q.len() - 1..]);
    let g = match name {
        "id" => one(GateKind::I),
        "x" => one(GateKind::X),
        "y" => one(GateKind::Y),
        "z" => one(GateKind::Z),
        "h" => one(GateKind::H),
        "s" => one(GateKind::S),
        "sdg" => one(GateKind::Sdg),
        "t" => one(GateKind::T),
        "tdg" => one(GateKind::Tdg),
        "sx" => one(GateKind::SX),
        "rx" => one(GateKind::RX(a(0))),
        "ry" => one(GateKind::RY(a(0))),
        "rz" => one(GateKind::RZ(a(0))),
        "p" => one(GateKind::Phase(a(0))),
        "u" | "u3" => one(GateKind::U3(a(0), a(1), a(2))),
        "cx" | "ccx" => ctl(GateKind::X),
        "cy" => ctl(GateKind::Y),
        "cz" => ctl(GateKind::Z),
        "crx" => ctl(GateKind::RX(a(0))),
        "cry" => ctl(GateKind::RY(a(0))),
        "crz" => ctl(GateKind::RZ(a(0))),
        "cp" => ctl(GateKind::Phase(a(0))),
        "swap" => Gate::new(GateKind::Swap, q),
        "iswap" => Gate::new(GateKind::ISwap, q),
        "rxx" => Gate::new(GateKind::RXX(a(0)), q),
        "ryy" => Gate::new(GateKind::RYY(a(0)), q),
        "rzz" => Gate::new(GateKind::RZZ(a(0)), q),
        _ => return None,
    };
    Some(vec![g])
}
