//! OpenQASM 2.0 and 3 import and export.
//!
//! [`parse`] reads either version (by its `OPENQASM` header; without one, 3); [`parse_qasm2`] /
//! [`parse_qasm3`] insist on one. What is read:
//! - registers (`qreg`/`creg`, `qubit[n]`/`bit[n]`, flattened in declaration order: the first
//!   register's element 0 is qubit 0), broadcast over whole registers (`h q;`, `cx a, b;`), or
//!   physical qubits `$k` (qubit k; the circuit is as wide as the highest one used);
//! - `include "qelib1.inc"` / `include "stdgates.inc"` (built in; other files are refused), the
//!   builtins `U`, `CX` and `gphase`, and `gate` definitions, which are inlined — except that a
//!   definition of a gate qshade has natively (`rzz`, `rxx`, `ryy`, `iswap`, …, as Qiskit's
//!   exporter defines them) becomes that gate when its unitary is that gate's up to a global
//!   phase (checked once per name; otherwise the definition keeps its own meaning);
//! - `ctrl @` / `ctrl(n) @` modifiers (OpenQASM 3);
//! - `input float[64] name;` / `input angle name;` (OpenQASM 3): each becomes a trainable
//!   parameter θ\[k\] in order of declaration, or an input feature x\[k\] when its name is in
//!   [`QasmOptions::inputs`]; gate angles may be any expression of them (`+ - * / ^ **`,
//!   `sin cos tan exp ln sqrt arcsin arccos arctan`, `pi tau euler`);
//! - `measure q -> c;` / `c = measure q;` at the end of the circuit, recorded in
//!   [`QasmProgram::measured`]; `barrier` (no effect on a state).
//!
//! Everything else — a gate after a measurement, `reset`, classical control, loops,
//! subroutines, `inv @` / `pow @` modifiers, other includes — is an [`Error::Qasm`] naming the
//! line and column, as is every syntax error, unknown gate, wrong arity, undefined register
//! or bad expression.
//!
//! [`to_qasm2`] and [`to_qasm3`] write a circuit back (parameters as `input float[64]` in
//! OpenQASM 3), in a form Qiskit's `qasm2.loads` / `qasm3.loads` read;
//! [`QasmProgram::to_qasm3`] / [`QasmProgram::to_qasm2_bound`] write a program with its
//! classical bits and terminal measurements ([`QasmProgram::from_circuit`] and
//! [`QasmProgram::measure_all`] make one of a circuit, for hardware).
//!
//! ```
//! # fn main() -> qshade::Result<()> {
//! use qshade::{Backend, Bindings, CpuBackend};
//! let program = qshade::qasm::parse(
//!     "OPENQASM 3.0;\ninclude \"stdgates.inc\";\ninput float[64] a;\nqubit[2] q;\nbit[2] c;\n\
//!      h q[0];\ncx q[0], q[1];\nrz(2*a) q[1];\nc = measure q;\n",
//! )?;
//! assert_eq!(program.theta_names, ["a"]);
//! assert_eq!(program.measured, [(0, 0), (1, 1)]);
//! let state = CpuBackend::new().run(&program.circuit, &Bindings::theta(&[0.3]))?;
//! let p = state.probabilities()?;
//! assert!((p[0] - 0.5).abs() < 1e-12 && (p[3] - 0.5).abs() < 1e-12);
//! let text = qshade::qasm::to_qasm3(&program.circuit)?; // and back
//! assert_eq!(qshade::qasm::parse(&text)?.circuit.gates(), program.circuit.gates());
//! # Ok(()) }
//! ```

mod ast;
mod build;
mod eval;
mod export;
mod lexer;
mod parser;

pub use build::MAX_GATES;
pub use export::{to_qasm2, to_qasm2_bound, to_qasm3};

use crate::circuit::{Circuit, MAX_QUBITS};
use crate::error::{Error, Result};

/// The most classical bits a program may declare.
pub const MAX_CLBITS: usize = 1 << 20;

/// The largest OpenQASM source accepted, in bytes (64 MiB).
pub const MAX_SOURCE_BYTES: usize = 64 << 20;

/// An OpenQASM version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QasmVersion {
    /// OpenQASM 2.0.
    V2,
    /// OpenQASM 3.
    V3,
}

impl QasmVersion {
    fn is_v2(self) -> bool {
        self == QasmVersion::V2
    }
}

/// How to read a program.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct QasmOptions {
    /// Names of `input` parameters that become input features x (in the order they are
    /// declared) instead of trainable parameters θ.
    pub inputs: Vec<String>,
}

setters!(QasmOptions { inputs: Vec<String> });

/// A program read from OpenQASM.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct QasmProgram {
    /// The circuit, on every declared qubit (registers in declaration order).
    pub circuit: Circuit,
    /// The version it was written in.
    pub version: QasmVersion,
    /// Names of the `input` parameters that became θ\[0\], θ\[1\], … (also set as the circuit's
    /// parameter names).
    pub theta_names: Vec<String>,
    /// Names of the `input` parameters that became x\[0\], x\[1\], … (see
    /// [`QasmOptions::inputs`]).
    pub input_names: Vec<String>,
    /// The terminal measurements, `(qubit, classical bit)` in program order.
    pub measured: Vec<(usize, usize)>,
    /// The number of classical bits declared.
    pub num_clbits: usize,
}

/// A position in the source: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    /// An [`Error::Qasm`] here.
    pub(crate) fn error(self, message: &str) -> Error {
        Error::Qasm {
            line: self.line,
            column: self.column,
            message: message.to_string(),
        }
    }

    /// An [`Error::Qasm`] here saying that `what` is not supported.
    pub(crate) fn unsupported(self, what: &str) -> Error {
        self.error(&format!("unsupported: {what}"))
    }

    /// `e` (from building the circuit) as an [`Error::Qasm`] here.
    pub(crate) fn wrap(self, e: Error) -> Error {
        match e {
            e @ Error::Qasm { .. } => e,
            e => self.error(&e.to_string()),
        }
    }
}

/// Reads an OpenQASM 2.0 or 3 program, by its `OPENQASM` header (3 where there is none).
pub fn parse(source: &str) -> Result<QasmProgram> {
    parse_with(source, &QasmOptions::default())
}

/// [`parse`] with options.
pub fn parse_with(source: &str, options: &QasmOptions) -> Result<QasmProgram> {
    read(source, None, options)
}

/// Reads an OpenQASM 2.0 program; a program with another version header is an error.
pub fn parse_qasm2(source: &str) -> Result<QasmProgram> {
    read(source, Some(QasmVersion::V2), &QasmOptions::default())
}

/// Reads an OpenQASM 3 program (the header may be left out).
pub fn parse_qasm3(source: &str) -> Result<QasmProgram> {
    parse_qasm3_with(source, &QasmOptions::default())
}

/// [`parse_qasm3`] with options.
pub fn parse_qasm3_with(source: &str, options: &QasmOptions) -> Result<QasmProgram> {
    read(source, Some(QasmVersion::V3), options)
}

fn read(source: &str, want: Option<QasmVersion>, options: &QasmOptions) -> Result<QasmProgram> {
    let start = Pos { line: 1, column: 1 };
    if source.len() > MAX_SOURCE_BYTES {
        return Err(start.error(&format!(
            "the source has {} bytes, more than the {MAX_SOURCE_BYTES} accepted",
            source.len()
        )));
    }
    let toks = lexer::lex(source)?;
    let end = toks.last().map_or(start, |t| t.pos);
    let (version, first) = match parser::header_version(&toks)? {
        Some((v, k)) => (v, k),
        None if want == Some(QasmVersion::V2) => {
            return Err(start.error("expected the header `OPENQASM 2.0;` as the first statement"))
        }
        None => (QasmVersion::V3, 0),
    };
    if let Some(w) = want {
        if w != version {
            return Err(start.error(&format!(
                "this is OpenQASM {}, but OpenQASM {} was asked for (use qasm::parse to accept \
                 either)",
                if version.is_v2() { "2.0" } else { "3" },
                if w.is_v2() { "2.0" } else { "3" }
            )));
        }
    }
    let stmts = parser::Parser::new(toks, first).program()?;
    let _ = MAX_QUBITS;
    build::Builder::new(version, options).run(stmts, end)
}
