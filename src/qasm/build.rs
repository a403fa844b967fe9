//! From statements to a [`Circuit`]: registers flattened into qubit indices, gate definitions
//! inlined, standard gates mapped onto qshade's, `input` parameters onto θ or x, terminal
//! measurements recorded.

use super::ast::{Arg, Call, GateDef, Stmt};
use super::eval::{eval, Scope};
use super::lexer::lex;
use super::parser::Parser;
use super::{Pos, QasmOptions, QasmProgram, QasmVersion};
use crate::backend::Backend;
use crate::circuit::Bindings;
use crate::circuit::{
    standard_gate_is_variadic, standard_gate_signature, Angle, Circuit, Gate, GateKind, MAX_QUBITS,
};
use crate::error::{Error, Result};
use crate::CpuBackend;
use num_complex::Complex64 as C64;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The most gates a program may expand to (gate definitions calling each other can multiply
/// the count exponentially).
pub const MAX_GATES: usize = 1 << 21;

/// How deeply gate definitions may call each other.
const MAX_NESTING: usize = 64;

/// Qiskit's `qelib1.inc` (Apache-2.0, © IBM and the Qiskit contributors): the definitions of
/// the OpenQASM 2 standard gates, used for those qshade does not have as gates of its own.
const QELIB1: &str = include_str!("qelib1.inc");

/// The gates `stdgates.inc` of OpenQASM 3 declares.
const STDGATES: [&str; 32] = [
    "p", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "cx", "cy", "cz",
    "cp", "crx", "cry", "crz", "ch", "swap", "ccx", "cswap", "cu", "CX", "phase", "cphase", "id",
    "u1", "u2", "u3",
];

/// The name in qshade's standard gate library of the OpenQASM builtins `U` and `CX`.
fn builtin(name: &str) -> &str {
    match name {
        "U" => "u",
        "CX" => "cx",
        _ => name,
    }
}

/// A register: its name, first flat index and size.
struct Register {
    name: String,
    start: usize,
    size: usize,
    pos: Pos,
}

/// The state of the translation.
pub(crate) struct Builder<'o> {
    version: QasmVersion,
    options: &'o QasmOptions,
    qregs: Vec<Register>,
    cregs: Vec<Register>,
    num_qubits: usize,
    num_clbits: usize,
    /// Gate definitions of the program.
    defs: HashMap<String, Rc<GateDef>>,
    /// qelib1.inc's definitions, the fallback for included names qshade has no gate for.
    lib: HashMap<String, Rc<GateDef>>,
    /// Names the includes declare.
    declared: HashSet<String>,
    scope: Scope,
    theta_names: Vec<String>,
    input_names: Vec<String>,
    gates: Vec<(Gate, Pos)>,
    measured: Vec<(usize, usize)>,
    /// Per qubit: where it was measured.
    measured_at: Vec<Option<Pos>>,
    /// Per program-defined gate with a standard gate's name: whether its definition is that
    /// gate (up to a global phase), so that the native gate may stand for it.
    same_as_standard: HashMap<String, bool>,
    /// Whether the program addresses physical qubits (`$k`) instead of registers.
    physical: bool,
    /// Gate applications expanded so far (definitions included), bounded by `MAX_GATES`.
    calls: usize,
}

impl<'o> Builder<'o> {
    pub(crate) fn new(version: QasmVersion, options: &'o QasmOptions) -> Self {
        Builder {
            version,
            options,
            qregs: Vec::new(),
            cregs: Vec::new(),
            num_qubits: 0,
            num_clbits: 0,
            defs: HashMap::new(),
            lib: HashMap::new(),
            declared: HashSet::new(),
            scope: Scope::new(),
            theta_names: Vec::new(),
            input_names: Vec::new(),
            gates: Vec::new(),
            measured: Vec::new(),
            measured_at: Vec::new(),
            calls: 0,
            physical: false,
            same_as_standard: HashMap::new(),
        }
    }

    /// Runs every statement, then builds the circuit.
    pub(crate) fn run(mut self, stmts: Vec<Stmt>, end: Pos) -> Result<QasmProgram> {
        for s in stmts {
            self.statement(s)?;
        }
        let mut circuit = Circuit::new(self.num_qubits).map_err(|e| match e {
            Error::UnsupportedQubitCount { .. } if self.num_qubits == 0 => end.error(
                "the program declares no qubits: add `qreg q[n];` (OpenQASM 2) or `qubit[n] q;` \
                 (OpenQASM 3)",
            ),
            e => end.wrap(e),
        })?;
        for (gate, pos) in self.gates {
            circuit.add(gate).map_err(|e| pos.wrap(e))?;
        }
        for (k, name) in self.theta_names.iter().enumerate() {
            circuit.name_param(k, name.clone());
        }
        circuit.declare_inputs(self.input_names.len());
        Ok(QasmProgram {
            circuit,
            version: self.version,
            theta_names: self.theta_names,
            input_names: self.input_names,
            measured: self.measured,
            num_clbits: self.num_clbits,
        })
    }

    fn statement(&mut self, s: Stmt) -> Result<()> {
        match s {
            Stmt::Include { file, pos } => self.include(&file, pos),
            Stmt::QReg { name, size, pos } => {
                self.check_new_name(&name, pos)?;
                if self.physical {
                    return Err(pos.error(
                        "qubit registers cannot be declared in a program that uses physical \
                         qubits ($0, $1, …)",
                    ));
                }
                let size = register_size(size, pos)?;
                let total = self
                    .num_qubits
                    .checked_add(size)
                    .filter(|&n| n <= MAX_QUBITS)
                    .ok_or_else(|| {
                        pos.error(&format!(
                            "the program declares more than {MAX_QUBITS} qubits, the most qshade \
                             simulates"
                        ))
                    })?;
                self.qregs.push(Register {
                    name,
                    start: self.num_qubits,
                    size,
                    pos,
                });
                self.num_qubits = total;
                self.measured_at.resize(total, None);
                Ok(())
            }
            Stmt::CReg { name, size, pos } => {
                self.check_new_name(&name, pos)?;
                let size = register_size(size, pos)?;
                self.num_clbits = self
                    .num_clbits
                    .checked_add(size)
                    .filter(|&n| n <= super::MAX_CLBITS)
                    .ok_or_else(|| {
                        pos.error(&format!(
                            "the program declares more than {} classical bits",
                            super::MAX_CLBITS
                        ))
                    })?;
                self.cregs.push(Register {
                    name,
                    start: self.num_clbits - size,
                    size,
                    pos,
                });
                Ok(())
            }
            Stmt::Input { name, pos } => {
                self.check_new_name(&name, pos)?;
                let angle = if self.options.inputs.contains(&name) {
                    self.input_names.push(name.clone());
                    Angle::input(self.input_names.len() - 1)
                } else {
                    self.theta_names.push(name.clone());
                    Angle::theta(self.theta_names.len() - 1)
                };
                if self.theta_names.len().max(self.input_names.len()) > crate::circuit::MAX_PARAMS {
                    return Err(pos.error("too many input parameters"));
                }
                self.scope.insert(name, angle);
                Ok(())
            }
            Stmt::GateDef(def) => {
                if self.defs.contains_key(&def.name) || self.lib_declares(&def.name) {
                    return Err(def.pos.error(&format!(
                        "gate `{}` is already defined (by an earlier definition or the include)",
                        def.name
                    )));
                }
                check_def(&def)?;
                self.defs.insert(def.name.clone(), Rc::new(def));
                Ok(())
            }
            Stmt::Call(call) => {
                // Borrowed out and back, not cloned per statement.
                let scope = std::mem::take(&mut self.scope);
                let result = self.top_call(&call, &scope);
                self.scope = scope;
                result
            }
            Stmt::Measure { qubit, bit, pos } => self.measure(&qubit, bit.as_ref(), pos),
            Stmt::Barrier { args } => {
                self.declare_physical(&args)?;
                for a in &args {
                    self.resolve(&self.qregs, a, "qubit")?;
                }
                Ok(())
            }
        }
    }

    fn lib_declares(&self, name: &str) -> bool {
        self.declared.contains(name) || name == "U" || name == "CX" && self.version.is_v2()
    }

    fn include(&mut self, file: &str, pos: Pos) -> Result<()> {
        let names: Vec<String> = match file {
            "qelib1.inc" | "stdgates.inc" => {
                if self.lib.is_empty() {
                    let toks = lex(QELIB1)?;
                    for s in Parser::new(toks, 0).program()? {
                        if let Stmt::GateDef(d) = s {
                            self.lib.insert(d.name.clone(), Rc::new(d));
                        }
                    }
                }
                if file == "qelib1.inc" {
                    self.lib.keys().cloned().collect()
                } else {
                    STDGATES.iter().map(|s| s.to_string()).collect()
                }
            }
            _ => {
                return Err(pos.unsupported(&format!(
                    "include \"{file}\": only \"qelib1.inc\" (OpenQASM 2) and \"stdgates.inc\" \
                     (OpenQASM 3) can be included; paste the file's gate definitions instead"
                )))
            }
        };
        for n in names {
            if self.defs.contains_key(&n) {
                return Err(pos.error(&format!(
                    "the include redefines gate `{n}`, defined earlier in the file"
                )));
            }
            self.declared.insert(n);
        }
        Ok(())
    }

    fn check_new_name(&self, name: &str, pos: Pos) -> Result<()> {
        let taken = self.qregs.iter().chain(&self.cregs).any(|r| r.name == name)
            || self.scope.contains_key(name);
        if taken {
            return Err(pos.error(&format!("`{name}` is already declared")));
        }
        Ok(())
    }

    /// The flat indices `arg` names in `regs` (one, or a whole register).
    fn resolve(&self, regs: &[Register], arg: &Arg, what: &str) -> Result<Vec<usize>> {
        if let Some(k) = physical_index(arg)? {
            if what != "qubit" || k >= self.num_qubits {
                return Err(arg
                    .pos
                    .error(&format!("`{}` is not a {what} here", arg.name)));
            }
            return Ok(vec![k]);
        }
        let reg = regs.iter().find(|r| r.name == arg.name).ok_or_else(|| {
            arg.pos.error(&format!(
                "undefined {what} register `{}`: declare it first",
                arg.name
            ))
        })?;
        match arg.index {
            None => Ok((reg.start..reg.start + reg.size).collect()),
            Some(i) if i < reg.size as u64 => Ok(vec![reg.start + i as usize]),
            Some(i) => Err(arg.pos.error(&format!(
                "index {i} is out of range for register `{}` of size {} (declared at line {})",
                arg.name, reg.size, reg.pos.line
            ))),
        }
    }

    /// The operand lists of a top-level statement after broadcasting registers.
    fn broadcast(&self, args: &[Arg], pos: Pos) -> Result<Vec<Vec<usize>>> {
        let lists = args
            .iter()
            .map(|a| self.resolve(&self.qregs, a, "qubit"))
            .collect::<Result<Vec<_>>>()?;
        let width = lists
            .iter()
            .map(Vec::len)
            .filter(|&l| l != 1)
            .max()
            .unwrap_or(1);
        for (l, a) in lists.iter().zip(args) {
            if l.len() != 1 && l.len() != width {
                return Err(a.pos.error(&format!(
                    "registers of different sizes ({} and {width}) in one statement",
                    l.len()
                )));
            }
        }
        let _ = pos;
        Ok((0..width)
            .map(|k| {
                lists
                    .iter()
                    .map(|l| if l.len() == 1 { l[0] } else { l[k] })
                    .collect()
            })
            .collect())
    }

    /// Makes room for the physical qubits (`$k`) among `args`: the circuit is as wide as the
    /// highest one used.
    fn declare_physical(&mut self, args: &[Arg]) -> Result<()> {
        for a in args {
            if let Some(k) = physical_index(a)? {
                if !self.qregs.is_empty() {
                    return Err(a.pos.error(
                        "physical qubits ($0, $1, …) cannot be mixed with declared qubit \
                         registers",
                    ));
                }
                if k >= MAX_QUBITS {
                    return Err(a.pos.error(&format!(
                        "physical qubit ${k}: qshade simulates at most {MAX_QUBITS} qubits"
                    )));
                }
                self.physical = true;
                self.num_qubits = self.num_qubits.max(k + 1);
                self.measured_at.resize(self.num_qubits, None);
            }
        }
        Ok(())
    }

    fn top_call(&mut self, call: &Call, scope: &Scope) -> Result<()> {
        self.declare_physical(&call.args)?;
        let angles = call
            .params
            .iter()
            .map(|e| eval(e, scope))
            .collect::<Result<Vec<_>>>()?;
        for qubits in self.broadcast(&call.args, call.pos)? {
            for &q in &qubits {
                if let Some(at) = self.measured_at.get(q).copied().flatten() {
                    return Err(call.pos.unsupported(&format!(
                        "a gate on qubit {q} after its measurement at line {}, column {} \
                         (mid-circuit measurement); only measurements at the end of the circuit \
                         are supported",
                        at.line, at.column
                    )));
                }
            }
            self.apply(&call.name, &angles, &qubits, call.ctrl, call.pos, false, 0)?;
        }
        Ok(())
    }

    /// Applies gate `name` with resolved `angles` on `qubits` (the first `ctrl` of them
    /// controls added by modifiers). `in_lib` is set inside qelib1.inc's own definitions.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        name: &str,
        angles: &[Angle],
        qubits: &[usize],
        ctrl: usize,
        pos: Pos,
        in_lib: bool,
        depth: usize,
    ) -> Result<()> {
        self.calls += 1;
        if self.calls > 4 * MAX_GATES {
            return Err(pos.error(&format!(
                "the program expands to more than {} gate applications",
                4 * MAX_GATES
            )));
        }
        if depth > MAX_NESTING {
            return Err(pos.error(&format!(
                "gate definitions nested more than {MAX_NESTING} deep"
            )));
        }
        if qubits.len() < ctrl {
            return Err(pos.error(&format!(
                "`ctrl @` needs {ctrl} control operand(s) before the gate's own, got {}",
                qubits.len()
            )));
        }
        if let Some(k) = first_repeat(qubits) {
            return Err(pos.error(&format!(
                "qubit {k} appears more than once in the operands of `{name}`"
            )));
        }
        let (controls, targets) = qubits.split_at(ctrl);
        if name == "gphase" {
            return self.gphase(angles, controls, targets, pos);
        }
        let declared = in_lib || self.lib_declares(name) || self.defs.contains_key(name);
        if !declared {
            return Err(self.unknown_gate(name, pos));
        }
        let user_def = if in_lib {
            None
        } else {
            self.defs.get(name).cloned()
        };
        let std_name = builtin(name);
        if let Some((nq, na)) = standard_gate_signature(std_name) {
            let fits =
                nq == targets.len() || standard_gate_is_variadic(std_name) && targets.len() >= nq;
            let native = match &user_def {
                Some(def) if fits && na == angles.len() => {
                    self.def_is_standard(name, std_name, def, pos, depth)?
                }
                _ => true,
            };
            if fits && na == angles.len() && native {
                // The library's gates for it, on a scratch circuit of the qubits so far (all
                // operands are declared), with the modifiers' controls added.
                let mut scratch = Circuit::new(self.num_qubits).map_err(|e| pos.wrap(e))?;
                scratch
                    .add_standard(std_name, targets, angles)
                    .map_err(|e| pos.wrap(e))?;
                for g in scratch.gates() {
                    let mut g = g.clone();
                    g.controls.splice(0..0, controls.iter().copied());
                    self.push(g, pos)?;
                }
                return Ok(());
            } else if user_def.is_none() && !self.lib.contains_key(name) {
                return Err(arity_error(name, nq, na, targets.len(), angles.len(), pos));
            }
        }
        let def = match user_def.or_else(|| self.lib.get(name).cloned()) {
            Some(d) => d,
            None => return Err(self.unknown_gate(name, pos)),
        };
        if def.qubits.len() != targets.len() || def.params.len() != angles.len() {
            return Err(arity_error(
                name,
                def.qubits.len(),
                def.params.len(),
                targets.len(),
                angles.len(),
                pos,
            ));
        }
        let in_lib = in_lib || !self.defs.contains_key(name);
        let scope: Scope = def
            .params
            .iter()
            .cloned()
            .zip(angles.iter().cloned())
            .collect();
        let map: HashMap<&str, usize> = def
            .qubits
            .iter()
            .map(String::as_str)
            .zip(targets.iter().copied())
            .collect();
        for inner in &def.body {
            let a = inner
                .params
                .iter()
                .map(|e| eval(e, &scope))
                .collect::<Result<Vec<_>>>()?;
            let mut q = controls.to_vec();
            for arg in &inner.args {
                // Checked by `check_def`: every operand is a plain qubit argument.
                q.push(*map.get(arg.name.as_str()).ok_or_else(|| {
                    arg.pos
                        .error(&format!("undefined qubit `{}` in the gate body", arg.name))
                })?);
            }
            self.apply(
                &inner.name,
                &a,
                &q,
                ctrl + inner.ctrl,
                inner.pos,
                in_lib,
                depth + 1,
            )?;
        }
        Ok(())
    }

    /// Whether the program's definition `def` of `name` is the standard gate `std_name` up to a
    /// global phase (Qiskit's exporter defines rzz, ecr, sxdg, … that way), checked once per
    /// name on its unitary for sample angles. A definition that is something else keeps its
    /// own meaning.
    fn def_is_standard(
        &mut self,
        name: &str,
        std_name: &str,
        def: &GateDef,
        pos: Pos,
        depth: usize,
    ) -> Result<bool> {
        if let Some(&same) = self.same_as_standard.get(name) {
            return Ok(same);
        }
        let k = def.qubits.len();
        if k > 4 {
            self.same_as_standard.insert(name.to_string(), false);
            return Ok(false);
        }
        let angles: Vec<Angle> = (0..def.params.len())
            .map(|i| Angle::Const(0.3 + 0.41 * i as f64))
            .collect();
        let qubits: Vec<usize> = (0..k).collect();
        // Expand the definition itself (marked "not standard" while it runs).
        self.same_as_standard.insert(name.to_string(), false);
        let saved = std::mem::take(&mut self.gates);
        let expanded = self.apply(name, &angles, &qubits, 0, pos, false, depth + 1);
        let body: Vec<Gate> = std::mem::replace(&mut self.gates, saved)
            .into_iter()
            .map(|(g, _)| g)
            .collect();
        expanded?;
        let same = (|| -> Result<bool> {
            let mut native = Circuit::new(k)?;
            native.add_standard(std_name, &qubits, &angles)?;
            let mut defined = Circuit::new(k)?;
            for g in body {
                defined.add(g)?;
            }
            Ok(equal_up_to_phase(&unitary(&native)?, &unitary(&defined)?))
        })()
        .unwrap_or(false);
        self.same_as_standard.insert(name.to_string(), same);
        Ok(same)
    }

    fn unknown_gate(&self, name: &str, pos: Pos) -> Error {
        let hint = if self.declared.is_empty() {
            match self.version {
                QasmVersion::V2 => " or `include \"qelib1.inc\";` for the standard gates",
                QasmVersion::V3 => " or `include \"stdgates.inc\";` for the standard gates",
            }
        } else {
            ""
        };
        pos.error(&format!(
            "unknown gate `{name}`: define it with `gate {name} … {{ … }}` before use{hint}"
        ))
    }

    /// `gphase(γ)`: a global phase, or (under `ctrl @`) a phase on the controls.
    fn gphase(
        &mut self,
        angles: &[Angle],
        controls: &[usize],
        targets: &[usize],
        pos: Pos,
    ) -> Result<()> {
        if angles.len() != 1 || !targets.is_empty() {
            return Err(pos.error("gphase takes one angle and no qubits: `gphase(γ);`"));
        }
        let gate = match controls.split_last() {
            Some((&t, rest)) => Gate::controlled(GateKind::Phase(angles[0].clone()), rest, &[t]),
            None => Gate::new(GateKind::GlobalPhase(angles[0].clone()), &[0]),
        };
        self.push(gate, pos)
    }

    fn push(&mut self, g: Gate, pos: Pos) -> Result<()> {
        if self.gates.len() >= MAX_GATES {
            return Err(pos.error(&format!(
                "the program expands to more than {MAX_GATES} gates"
            )));
        }
        self.gates.push((g, pos));
        Ok(())
    }

    fn measure(&mut self, qubit: &Arg, bit: Option<&Arg>, pos: Pos) -> Result<()> {
        self.declare_physical(std::slice::from_ref(qubit))?;
        let qs = self.resolve(&self.qregs, qubit, "qubit")?;
        let bs = match bit {
            Some(b) => self.resolve(&self.cregs, b, "bit")?,
            None => Vec::new(),
        };
        if bit.is_some() && bs.len() != qs.len() {
            return Err(pos.error(&format!(
                "measure of {} qubit(s) into {} bit(s): the sizes must match",
                qs.len(),
                bs.len()
            )));
        }
        for (k, &q) in qs.iter().enumerate() {
            if let Some(at) = self.measured_at.get(q).copied().flatten() {
                return Err(pos.unsupported(&format!(
                    "measuring qubit {q} twice (first at line {}); only one measurement per \
                     qubit at the end of the circuit is supported",
                    at.line
                )));
            }
            if let Some(slot) = self.measured_at.get_mut(q) {
                *slot = Some(pos);
            }
            if let Some(&b) = bs.get(k) {
                self.measured.push((q, b));
            }
        }
        Ok(())
    }
}

/// A register's size as a count, at most [`MAX_QUBITS`]… checked by the caller's total.
fn register_size(size: Option<u64>, pos: Pos) -> Result<usize> {
    let size = size.unwrap_or(1);
    if size == 0 {
        return Err(pos.error("a register must have at least one element"));
    }
    usize::try_from(size).map_err(|_| pos.error(&format!("register size {size} is too large")))
}

/// The columns of a small circuit's unitary, from the f64 reference backend.
fn unitary(c: &Circuit) -> Result<Vec<Vec<C64>>> {
    let n = c.num_qubits();
    (0..1usize << n)
        .map(|col| {
            let mut prep = Circuit::new(n)?;
            for q in (0..n).filter(|q| col >> q & 1 == 1) {
                prep.x(q)?;
            }
            prep.append(c)?;
            CpuBackend::reference()
                .run(&prep, &Bindings::none())?
                .amplitudes()
        })
        .collect()
}

/// Whether `b = e^{iφ}·a` for one φ, entry by entry within 1e-9.
fn equal_up_to_phase(a: &[Vec<C64>], b: &[Vec<C64>]) -> bool {
    let pairs = || a.iter().flatten().zip(b.iter().flatten());
    let Some((x, y)) = pairs().find(|(x, _)| x.norm() > 0.1) else {
        return false;
    };
    let phase = y / x;
    (phase.norm() - 1.0).abs() < 1e-9 && pairs().all(|(x, y)| (y - phase * x).norm() < 1e-9)
}

/// `k` for a physical qubit operand `$k`.
fn physical_index(arg: &Arg) -> Result<Option<usize>> {
    let Some(digits) = arg.name.strip_prefix('$') else {
        return Ok(None);
    };
    if arg.index.is_some() {
        return Err(arg.pos.error("a physical qubit cannot be indexed"));
    }
    match digits.parse::<usize>() {
        Ok(k) if digits.chars().all(|c| c.is_ascii_digit()) => Ok(Some(k)),
        _ => Err(arg.pos.error(&format!(
            "`{}` is not a physical qubit: write $0, $1, …",
            arg.name
        ))),
    }
}

/// The first qubit that appears twice in `q`.
fn first_repeat(q: &[usize]) -> Option<usize> {
    q.iter()
        .enumerate()
        .find(|(i, a)| q[..*i].contains(a))
        .map(|(_, &a)| a)
}

fn arity_error(name: &str, nq: usize, na: usize, gq: usize, ga: usize, pos: Pos) -> Error {
    pos.error(&format!(
        "gate `{name}` takes {na} parameter(s) and {nq} qubit(s), got {ga} parameter(s) and {gq} \
         qubit(s)"
    ))
}

/// Checks a definition's body: operands are the definition's own qubit arguments (no
/// indexing), names are distinct.
fn check_def(def: &GateDef) -> Result<()> {
    let mut names: Vec<&str> = def.params.iter().map(String::as_str).collect();
    names.extend(def.qubits.iter().map(String::as_str));
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(def.pos.error(&format!(
                "`{n}` appears twice in the definition of gate `{}`",
                def.name
            )));
        }
    }
    for call in &def.body {
        for a in &call.args {
            if a.index.is_some() || !def.qubits.contains(&a.name) {
                return Err(a.pos.error(&format!(
                    "undefined qubit `{}` in the body of gate `{}` (a gate body may only use its \
                     own qubit arguments, unindexed)",
                    a.name, def.name
                )));
            }
        }
        if call.name == def.name {
            return Err(call.pos.error(&format!("gate `{}` calls itself", def.name)));
        }
    }
    Ok(())
}
