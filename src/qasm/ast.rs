//! The syntax tree the parser builds: the statements of OpenQASM 2 and the OpenQASM 3 subset
//! qshade reads, each with its position.

use super::Pos;
use crate::circuit::AngleFn;

/// A binary operator of a parameter expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// A parameter expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// A number literal.
    Num(f64),
    /// A name: a gate parameter, an `input float`, or a constant (`pi`, `π`, `tau`, `euler`).
    Var(String, Pos),
    /// `-e`.
    Neg(Box<Expr>),
    /// `a op b`, at the operator's position.
    Bin(BinOp, Box<Expr>, Box<Expr>, Pos),
    /// `f(e)`.
    Call(AngleFn, Box<Expr>, Pos),
}

/// A qubit or bit operand: a whole register `q` or one element `q[i]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Arg {
    pub name: String,
    pub index: Option<u64>,
    pub pos: Pos,
}

/// A gate application `ctrl @ … name(params) args;`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Call {
    pub name: String,
    pub params: Vec<Expr>,
    pub args: Vec<Arg>,
    /// Controls added by `ctrl @` / `ctrl(n) @` modifiers (OpenQASM 3), taken from the first
    /// operands.
    pub ctrl: usize,
    pub pos: Pos,
}

/// A `gate name(params) qubits { body }` definition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GateDef {
    pub name: String,
    pub params: Vec<String>,
    pub qubits: Vec<String>,
    pub body: Vec<Call>,
    pub pos: Pos,
}

/// One top-level statement.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Stmt {
    /// `include "file";`
    Include { file: String, pos: Pos },
    /// `qreg q[n];`, `qubit[n] q;` (`size: None` for `qubit q;`).
    QReg {
        name: String,
        size: Option<u64>,
        pos: Pos,
    },
    /// `creg c[n];`, `bit[n] c;`, `bit c;`.
    CReg {
        name: String,
        size: Option<u64>,
        pos: Pos,
    },
    /// `input float[64] name;` (or `input angle …`).
    Input { name: String, pos: Pos },
    /// A gate definition.
    GateDef(GateDef),
    /// A gate application.
    Call(Call),
    /// `measure q -> c;` or `c = measure q;` (`bit: None` for a bare `measure q;`).
    Measure {
        qubit: Arg,
        bit: Option<Arg>,
        pos: Pos,
    },
    /// `barrier …;` (no effect on a state vector; its operands are still checked).
    Barrier { args: Vec<Arg> },
}
