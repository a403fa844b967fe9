//! Writing circuits as OpenQASM 2.0 and 3.

use crate::circuit::{Angle, Bindings, Circuit, Gate, GateKind, Var};
use crate::error::{Error, Result};
use num_complex::Complex64 as C64;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Definitions of the gates qshade has that an include file does not define, exact (global
/// phase included) in gates both includes have: `(name, body, needed in OpenQASM 2)`.
/// Parameters are named `p0, p1` so that their alphabetical order is their position
/// (qiskit-qasm3-import 0.6 binds a definition's parameters in alphabetical order). The
/// OpenQASM 2 forms leave out `gphase`, which qelib1.inc's `sxdg` does not need.
const DEFS: [(&str, &str, bool); 11] = [
    (
        "sxdg",
        "gate sxdg a { s a; h a; s a; gphase(-pi/4); }",
        false,
    ),
    (
        "r",
        "gate r(p0, p1) a { U(p0, p1 - pi/2, pi/2 - p1) a; }",
        true,
    ),
    (
        "rxx",
        "gate rxx(p0) a, b { h a; h b; cx a, b; rz(p0) b; cx a, b; h b; h a; }",
        false,
    ),
    (
        "ryy",
        "gate ryy(p0) a, b { rx(pi/2) a; rx(pi/2) b; cx a, b; rz(p0) b; cx a, b; rx(-pi/2) a; \
         rx(-pi/2) b; }",
        true,
    ),
    (
        "rzz",
        "gate rzz(p0) a, b { cx a, b; rz(p0) b; cx a, b; }",
        false,
    ),
    (
        "rzx",
        "gate rzx(p0) a, b { h b; cx a, b; rz(p0) b; cx a, b; h b; }",
        true,
    ),
    (
        "iswap",
        "gate iswap a, b { s a; s b; h a; cx a, b; cx b, a; h b; }",
        true,
    ),
    ("dcx", "gate dcx a, b { cx a, b; cx b, a; }", true),
    (
        "ecr",
        "gate ecr a, b { h b; cx a, b; rz(pi/4) b; cx a, b; h b; x a; h b; cx a, b; \
         rz(-pi/4) b; cx a, b; h b; }",
        true,
    ),
    (
        "xx_minus_yy",
        "gate xx_minus_yy(p0, p1) a0, a1 { rz(-p1) a1; sdg a0; sx a0; s a0; s a1; cx a0, a1; \
         ry(0.5*p0) a0; ry(-0.5*p0) a1; cx a0, a1; sdg a1; sdg a0; sxdg a0; s a0; rz(p1) a1; }",
        true,
    ),
    (
        "xx_plus_yy",
        "gate xx_plus_yy(p0, p1) a0, a1 { rz(p1) a0; sdg a1; sx a1; s a1; s a0; cx a1, a0; \
         ry(-0.5*p0) a1; ry(-0.5*p0) a0; cx a1, a0; sdg a0; sdg a1; sxdg a1; s a1; rz(-p1) a0; }",
        true,
    ),
];

/// Names an exported parameter may not take.
const RESERVED: [&str; 14] = [
    "pi", "tau", "euler", "q", "c", "U", "CX", "gate", "input", "qubit", "bit", "measure",
    "include", "gphase",
];

/// The circuit as OpenQASM 3 (`include "stdgates.inc"`, `qubit[n] q;`): θ\[k\] are `input
/// float[64]` parameters named after [`Circuit::param_names`] (made into identifiers), x\[k\]
/// are `input float[64] x_k`. Read it back with [`super::parse_qasm3_with`] and
/// `QasmOptions::default().inputs(…x names…)` to get the inputs back as x.
///
/// Arbitrary two-qubit unitaries (`GateKind::Unitary2`) are written as their exact
/// decomposition into X gates and controlled one-qubit unitaries (`ctrl @ U`), so they come
/// back as those gates, with the same state.
pub fn to_qasm3(circuit: &Circuit) -> Result<String> {
    write(circuit, None, true, &Extra::default())
}

/// The circuit as OpenQASM 2.0 (`include "qelib1.inc"`, `qreg q[n];`). OpenQASM 2 has no free
/// parameters: a circuit with θ or x angles is an [`Error::Unsupported`] (use
/// [`to_qasm2_bound`] or [`to_qasm3`]), as are gates qelib1.inc cannot express (more controls
/// than `c4x`, controlled two-qubit rotations; a `Unitary2` is written as controlled one-qubit
/// unitaries, so it needs `cu3`, i.e. no further controls).
pub fn to_qasm2(circuit: &Circuit) -> Result<String> {
    write(circuit, None, false, &Extra::default())
}

/// [`to_qasm2`] with every θ / x angle replaced by its value under `bindings`.
pub fn to_qasm2_bound(circuit: &Circuit, bindings: &Bindings<'_>) -> Result<String> {
    circuit.check_bindings(bindings)?;
    write(circuit, Some(bindings), false, &Extra::default())
}

/// What a program adds to its circuit's text: classical bits, terminal measurements and the
/// names of its input features.
#[derive(Default)]
pub(crate) struct Extra<'a> {
    pub num_clbits: usize,
    pub measured: &'a [(usize, usize)],
    pub input_names: Option<&'a [String]>,
}

impl super::QasmProgram {
    /// The program as OpenQASM 3: [`to_qasm3`] of the circuit, with `bit[m] c;` and its
    /// measurements at the end (`c[b] = measure q[k];`), θ named as [`Self::theta_names`]
    /// and x as [`Self::input_names`] (as identifiers).
    pub fn to_qasm3(&self) -> Result<String> {
        write(&self.circuit, None, true, &self.extra()?)
    }

    /// The program as OpenQASM 2.0 with θ and x bound ([`to_qasm2_bound`]), with `creg c[m];`
    /// and its measurements at the end (`measure q[k] -> c[b];`).
    pub fn to_qasm2_bound(&self, bindings: &Bindings<'_>) -> Result<String> {
        self.circuit.check_bindings(bindings)?;
        write(&self.circuit, Some(bindings), false, &self.extra()?)
    }

    /// A program of `circuit`, with no classical bits and nothing measured (see
    /// [`Self::measure_all`]); θ names from [`Circuit::param_names`].
    pub fn from_circuit(circuit: Circuit) -> Self {
        super::QasmProgram {
            theta_names: circuit.param_names(),
            input_names: (0..circuit.num_inputs())
                .map(|k| format!("x_{k}"))
                .collect(),
            version: super::QasmVersion::V3,
            measured: Vec::new(),
            num_clbits: 0,
            circuit,
        }
    }

    /// Measures every qubit k into classical bit k at the end (replacing earlier
    /// measurements), as Qiskit's `measure_all` does.
    #[must_use]
    pub fn measure_all(mut self) -> Self {
        let n = self.circuit.num_qubits();
        self.num_clbits = n;
        self.measured = (0..n).map(|k| (k, k)).collect();
        self
    }

    /// The measurements and names, checked against the circuit.
    fn extra(&self) -> Result<Extra<'_>> {
        for &(q, b) in &self.measured {
            if q >= self.circuit.num_qubits() || b >= self.num_clbits {
                return Err(Error::InvalidArgument(format!(
                    "measurement of qubit {q} into bit {b}: the program has {} qubits and {} \
                     classical bits",
                    self.circuit.num_qubits(),
                    self.num_clbits
                )));
            }
        }
        let names_fit = self.input_names.len() == self.circuit.num_inputs();
        Ok(Extra {
            num_clbits: self.num_clbits,
            measured: &self.measured,
            input_names: names_fit.then_some(self.input_names.as_slice()),
        })
    }
}

/// An identifier made of `name`: other characters become `_`, and a clash with a reserved
/// word or an earlier name gets a suffix.
fn identifier(name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    s = s.trim_end_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'p');
    }
    let mut out = s.clone();
    let mut k = 1usize;
    while RESERVED.contains(&out.as_str()) || taken.contains(&out) {
        out = format!("{s}_{k}");
        k += 1;
    }
    taken.insert(out.clone());
    out
}

/// A number as OpenQASM reads it, to the last bit (Rust's shortest round-trip form).
fn num(v: f64) -> String {
    format!("{v:?}")
}

fn write(
    circuit: &Circuit,
    bind: Option<&Bindings<'_>>,
    v3: bool,
    extra: &Extra<'_>,
) -> Result<String> {
    let mut taken = BTreeSet::new();
    let theta: Vec<String> = circuit
        .param_names()
        .iter()
        .map(|n| identifier(n, &mut taken))
        .collect();
    let inputs: Vec<String> = (0..circuit.num_inputs())
        .map(|k| {
            let name = extra
                .input_names
                .and_then(|n| n.get(k).cloned())
                .unwrap_or_else(|| format!("x_{k}"));
            identifier(&name, &mut taken)
        })
        .collect();
    let names = |v: Var| match v {
        Var::Theta(k) => theta[k].clone(),
        Var::Input(i) => inputs[i].clone(),
    };
    let angle = |a: &Angle| -> Result<String> {
        if let Some(b) = bind {
            return Ok(num(a.value(b)));
        }
        if let Angle::Const(v) = a {
            return Ok(num(*v));
        }
        if !v3 {
            return Err(Error::Unsupported(
                "OpenQASM 2 has no free parameters: bind them with qasm::to_qasm2_bound, or \
                 export OpenQASM 3 with qasm::to_qasm3"
                    .into(),
            ));
        }
        Ok(a.to_expr().render(&names, "**"))
    };
    let mut body = String::new();
    let mut used = BTreeSet::new();
    for g in circuit.gates() {
        let angles = g
            .kind
            .angles()
            .iter()
            .map(&angle)
            .collect::<Result<Vec<_>>>()?;
        line(&mut body, g, &angles, v3, &mut used)?;
    }
    let mut out = String::new();
    if v3 {
        out.push_str("OPENQASM 3.0;\ninclude \"stdgates.inc\";\n");
        if bind.is_none() {
            for n in theta.iter().chain(&inputs) {
                let _ = writeln!(out, "input float[64] {n};");
            }
        }
    } else {
        out.push_str("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
    }
    // sxdg first: the xx±yy definitions use it.
    for (name, def, in_v2) in DEFS {
        let needed = used.contains(name)
            || name == "sxdg" && (used.contains("xx_minus_yy") || used.contains("xx_plus_yy"));
        if needed && (v3 || in_v2) {
            let _ = writeln!(out, "{def}");
        }
    }
    let n = circuit.num_qubits();
    let _ = writeln!(
        out,
        "{}",
        if v3 {
            format!("qubit[{n}] q;")
        } else {
            format!("qreg q[{n}];")
        }
    );
    let m = extra.num_clbits;
    if m > 0 {
        let _ = writeln!(
            out,
            "{}",
            if v3 {
                format!("bit[{m}] c;")
            } else {
                format!("creg c[{m}];")
            }
        );
    }
    out.push_str(&body);
    for &(q, b) in extra.measured {
        let _ = if v3 {
            writeln!(out, "c[{b}] = measure q[{q}];")
        } else {
            writeln!(out, "measure q[{q}] -> c[{b}];")
        };
    }
    Ok(out)
}

/// Appends the statement(s) of `g` to `out`.
fn line(
    out: &mut String,
    g: &Gate,
    angles: &[String],
    v3: bool,
    used: &mut BTreeSet<&'static str>,
) -> Result<()> {
    let ops = |qs: &[usize]| {
        qs.iter()
            .map(|q| format!("q[{q}]"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut qubits = g.controls.clone();
    qubits.extend(&g.targets);
    let k = g.controls.len();

    let base: &'static str = match &g.kind {
        GateKind::I => "id",
        GateKind::H => "h",
        GateKind::X => "x",
        GateKind::Y => "y",
        GateKind::Z => "z",
        GateKind::S => "s",
        GateKind::Sdg => "sdg",
        GateKind::T => "t",
        GateKind::Tdg => "tdg",
        GateKind::SX => "sx",
        GateKind::RX(_) => "rx",
        GateKind::RY(_) => "ry",
        GateKind::RZ(_) => "rz",
        GateKind::Phase(_) => "p",
        GateKind::U3(..) => {
            if v3 {
                "U"
            } else {
                "u3"
            }
        }
        GateKind::Swap => "swap",
        GateKind::ISwap => "iswap",
        GateKind::RXX(_) => "rxx",
        GateKind::RYY(_) => "ryy",
        GateKind::RZZ(_) => "rzz",
        GateKind::SXdg => "sxdg",
        GateKind::R(..) => "r",
        GateKind::ECR => "ecr",
        GateKind::DCX => "dcx",
        GateKind::RZX(_) => "rzx",
        GateKind::XXMinusYY(..) => "xx_minus_yy",
        GateKind::XXPlusYY(..) => "xx_plus_yy",
        GateKind::GlobalPhase(_) => {
            return global_phase(out, &angles[0], &g.controls, g.targets[0], v3)
        }
        GateKind::Unitary1(m) => return unitary1(out, m, &g.controls, g.targets[0], v3),
        GateKind::Unitary2(m) => {
            // No OpenQASM form of its own: written as the exact decomposition
            // Circuit::unitary uses (X gates and controlled one-qubit unitaries), each under
            // the gate's controls.
            for mut part in crate::circuit::dense_as_gates(m.as_slice(), &g.targets) {
                part.controls.splice(0..0, g.controls.iter().copied());
                line(out, &part, &[], v3, used)?;
            }
            return Ok(());
        }
    };
    if DEFS.iter().any(|(n, _, _)| *n == base) {
        used.insert(base);
    }
    // Names of the controlled forms both include files have.
    let named = match (k, base) {
        (0, _) => Some(base.to_string()),
        (1, "x" | "y" | "z" | "rx" | "ry" | "rz" | "p" | "h" | "swap") => Some(format!("c{base}")),
        (2, "x") => Some("ccx".to_string()),
        (1, "sx") if !v3 => Some("csx".to_string()),
        (1, "u3") if !v3 => Some("cu3".to_string()),
        (3, "x") if !v3 => Some("c3x".to_string()),
        (4, "x") if !v3 => Some("c4x".to_string()),
        _ => None,
    };
    // `ch` / `cswap` are definitions in qelib1.inc; in OpenQASM 3 `ctrl @` keeps them one gate.
    let named = named.filter(|n| !(v3 && (n == "ch" || n == "cswap")));
    let params = if angles.is_empty() {
        String::new()
    } else {
        format!("({})", angles.join(", "))
    };
    let head = match named {
        Some(n) => n,
        None if v3 => format!("ctrl({k}) @ {base}"),
        None => {
            return Err(Error::Unsupported(format!(
                "{} with {k} control(s) has no OpenQASM 2 (qelib1.inc) form; export OpenQASM 3 \
                 with qasm::to_qasm3",
                g.kind.name()
            )))
        }
    };
    let _ = writeln!(out, "{head}{params} {};", ops(&qubits));
    Ok(())
}

/// A one-qubit unitary as `U(θ, φ, λ)` and its global phase γ: `gphase` in OpenQASM 3, the
/// exact `p(γ) x p(γ) x` in OpenQASM 2; with controls, a (multi-)controlled phase on them.
fn unitary1(out: &mut String, m: &[C64; 4], controls: &[usize], t: usize, v3: bool) -> Result<()> {
    let (theta, phi, lambda, gamma) = zyz(m);
    let (theta, phi, lambda, gamma) = (num(theta), num(phi), num(lambda), num(gamma));
    let k = controls.len();
    let cs: Vec<String> = controls.iter().map(|c| format!("q[{c}]")).collect();
    let all = |t: usize| {
        let mut v = cs.clone();
        v.push(format!("q[{t}]"));
        v.join(", ")
    };
    if v3 {
        let prefix = if k == 0 {
            String::new()
        } else {
            format!("ctrl({k}) @ ")
        };
        let _ = writeln!(out, "{prefix}U({theta}, {phi}, {lambda}) {};", all(t));
        match controls.split_last() {
            None => {
                let _ = writeln!(out, "gphase({gamma});");
            }
            Some((last, rest)) => {
                let prefix = if rest.is_empty() {
                    String::new()
                } else {
                    format!("ctrl({}) @ ", rest.len())
                };
                let mut v: Vec<String> = rest.iter().map(|c| format!("q[{c}]")).collect();
                v.push(format!("q[{last}]"));
                let _ = writeln!(out, "{prefix}p({gamma}) {};", v.join(", "));
            }
        }
        return Ok(());
    }
    match k {
        0 => {
            let _ = writeln!(
                out,
                "u3({theta}, {phi}, {lambda}) q[{t}];\np({gamma}) q[{t}];\nx q[{t}];\n\
                 p({gamma}) q[{t}];\nx q[{t}];"
            );
        }
        1 => {
            let _ = writeln!(out, "cu({theta}, {phi}, {lambda}, {gamma}) {};", all(t));
        }
        _ => {
            return Err(Error::Unsupported(
                "a one-qubit unitary with more than one control has no OpenQASM 2 (qelib1.inc) \
                 form; export OpenQASM 3 with qasm::to_qasm3"
                    .into(),
            ))
        }
    }
    Ok(())
}

/// A global phase `gamma` (an angle's text), controlled by `controls` (`target` is where
/// qshade placed it; it does not matter).
fn global_phase(
    out: &mut String,
    gamma: &str,
    controls: &[usize],
    target: usize,
    v3: bool,
) -> Result<()> {
    match (controls.split_last(), v3) {
        (None, true) => {
            let _ = writeln!(out, "gphase({gamma});");
        }
        (None, false) => {
            let t = format!("q[{target}]");
            let _ = writeln!(out, "p({gamma}) {t};\nx {t};\np({gamma}) {t};\nx {t};");
        }
        (Some((last, rest)), _) => {
            let mut ops: Vec<String> = rest.iter().map(|c| format!("q[{c}]")).collect();
            ops.push(format!("q[{last}]"));
            let head = match (rest.len(), v3) {
                (0, _) => "p".to_string(),
                (1, _) => "cp".to_string(),
                (k, true) => format!("ctrl({k}) @ p"),
                (_, false) => {
                    return Err(Error::Unsupported(
                        "a global phase with more than two controls has no OpenQASM 2 \
                         (qelib1.inc) form; export OpenQASM 3 with qasm::to_qasm3"
                            .into(),
                    ))
                }
            };
            let _ = writeln!(out, "{head}({gamma}) {};", ops.join(", "));
        }
    }
    Ok(())
}

/// `(θ, φ, λ, γ)` with `m = e^{iγ} U(θ, φ, λ)` (Qiskit's U).
fn zyz(m: &[C64; 4]) -> (f64, f64, f64, f64) {
    let theta = 2.0 * m[2].norm().atan2(m[0].norm());
    let small = 1e-12;
    let (gamma, phi, lambda) = if m[0].norm() < small {
        // Anti-diagonal: take φ = 0.
        let g = m[2].arg();
        (g, 0.0, (-m[1]).arg() - g)
    } else if m[2].norm() < small {
        // Diagonal: take φ = 0.
        let g = m[0].arg();
        (g, 0.0, m[3].arg() - g)
    } else {
        let g = m[0].arg();
        (g, m[2].arg() - g, (-m[1]).arg() - g)
    };
    (theta, phi, lambda, gamma)
}
