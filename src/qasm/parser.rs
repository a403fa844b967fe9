//! A recursive-descent parser for OpenQASM 2.0 and the OpenQASM 3 subset that describes a
//! unitary circuit with terminal measurements (what `qiskit.qasm3.dumps` writes). Statements
//! outside that subset (classical control, resets, loops, subroutines, …) are refused with
//! their position.
//!
//! Why not a parser crate: `oq3_semantics` 0.7 (the OpenQASM 3 parser Qiskit's experimental
//! importer uses) panics (`unwrap` on an unresolved include) on Qiskit's own `qasm2.dumps`
//! output and on truncated OpenQASM 3 files, reads no OpenQASM 2 `qelib1.inc`, and evaluates
//! no expressions; `openqasm` 0.1.2 reads OpenQASM 2 only and was last released in 2022 (a
//! lalrpop 0.19 grammar built at compile time). Neither covers both versions without panics,
//! and the subset qshade simulates is small, so this parser is hand-written, positions on
//! every token, with bounded recursion.

use super::ast::{Arg, BinOp, Call, Expr, GateDef, Stmt};
use super::lexer::{Tok, Token};
use super::{Pos, QasmVersion};
use crate::error::{Error, Result};

/// The deepest nesting of parentheses and operators accepted in one expression (a bound on the
/// parser's recursion, so hostile input cannot overflow the stack).
const MAX_DEPTH: usize = 200;

/// Keywords of OpenQASM 3 that start statements qshade does not simulate, with what to say.
const UNSUPPORTED: [(&str, &str); 22] = [
    ("reset", "reset"),
    ("if", "classical control (if)"),
    ("else", "classical control (else)"),
    ("for", "for loops"),
    ("while", "while loops"),
    ("def", "subroutine definitions (def)"),
    ("defcal", "calibrations (defcal)"),
    ("cal", "calibrations (cal)"),
    ("defcalgrammar", "calibrations (defcalgrammar)"),
    ("opaque", "opaque gates"),
    ("let", "register aliases (let)"),
    ("const", "constants (const)"),
    ("extern", "extern functions"),
    ("box", "box statements"),
    ("delay", "delays"),
    ("output", "output variables"),
    ("return", "return statements"),
    ("break", "break statements"),
    ("continue", "continue statements"),
    ("switch", "switch statements"),
    ("pragma", "pragmas"),
    ("end", "end statements"),
];

/// The parser state: the tokens and the index of the next one.
pub(crate) struct Parser {
    toks: Vec<Token>,
    at: usize,
    depth: usize,
}

/// The program's version from its `OPENQASM x.y;` header, if it has one (the header must be the
/// first statement).
pub(crate) fn header_version(toks: &[Token]) -> Result<Option<(QasmVersion, usize)>> {
    match toks.first().map(|t| &t.tok) {
        Some(Tok::Ident(k)) if k == "OPENQASM" => {}
        _ => return Ok(None),
    }
    let pos = toks.get(1).map_or(toks[0].pos, |t| t.pos);
    let version = match toks.get(1).map(|t| &t.tok) {
        Some(Tok::Num { value, .. }) if *value == 2.0 => QasmVersion::V2,
        Some(Tok::Num { value, .. }) if *value >= 3.0 && *value < 4.0 => QasmVersion::V3,
        Some(Tok::Num { value, .. }) => {
            return Err(pos.error(&format!(
                "OpenQASM version {value} is not supported: use 2.0 or 3"
            )))
        }
        _ => {
            return Err(pos.error("expected a version number after OPENQASM, e.g. `OPENQASM 2.0;`"))
        }
    };
    match toks.get(2) {
        Some(Token {
            tok: Tok::Punct(";"),
            ..
        }) => Ok(Some((version, 3))),
        Some(t) => Err(t.pos.error("expected `;` after the OPENQASM version")),
        None => Err(pos.error("expected `;` after the OPENQASM version")),
    }
}

impl Parser {
    /// A parser over `toks` (which end with [`Tok::Eof`]), starting at token `start`.
    pub(crate) fn new(toks: Vec<Token>, start: usize) -> Self {
        Parser {
            toks,
            at: start,
            depth: 0,
        }
    }

    fn peek(&self) -> &Token {
        // The lexer always ends the list with Eof, and `bump` never moves past it.
        &self.toks[self.at.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(&self.peek().tok, Tok::Punct(q) if *q == p)
    }

    fn is_ident(&self, s: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(q) if q == s)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// An error at the next token: "expected {what}, found …".
    fn expected(&self, what: &str) -> Error {
        let t = self.peek();
        let found = match &t.tok {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Num { value, .. } => format!("number {value}"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "the end of the file (is it truncated?)".to_string(),
        };
        t.pos.error(&format!("expected {what}, found {found}"))
    }

    fn expect(&mut self, p: &str) -> Result<Pos> {
        if self.is_punct(p) {
            Ok(self.bump().pos)
        } else {
            Err(self.expected(&format!("`{p}`")))
        }
    }

    fn ident(&mut self, what: &str) -> Result<(String, Pos)> {
        match &self.peek().tok {
            Tok::Ident(s) => {
                let s = s.clone();
                Ok((s, self.bump().pos))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn integer(&mut self, what: &str) -> Result<u64> {
        match self.peek().tok {
            Tok::Num { int: Some(k), .. } => {
                self.bump();
                Ok(k)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// `[n]` if present.
    fn opt_size(&mut self) -> Result<Option<u64>> {
        if self.eat("[") {
            let n = self.integer("a register size (a non-negative integer)")?;
            self.expect("]")?;
            Ok(Some(n))
        } else {
            Ok(None)
        }
    }

    /// All statements up to the end of the file.
    pub(crate) fn program(&mut self) -> Result<Vec<Stmt>> {
        let mut out = Vec::new();
        while self.peek().tok != Tok::Eof {
            if let Some(s) = self.statement()? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn statement(&mut self) -> Result<Option<Stmt>> {
        let t = self.peek().clone();
        let word = match &t.tok {
            Tok::Ident(w) => w.clone(),
            Tok::Punct(";") => {
                self.bump();
                return Ok(None);
            }
            _ => return Err(self.expected("a statement")),
        };
        if let Some((_, what)) = UNSUPPORTED.iter().find(|(k, _)| *k == word) {
            return Err(t.pos.unsupported(what));
        }
        match word.as_str() {
            "OPENQASM" => Err(t
                .pos
                .error("the OPENQASM header may only appear once, as the first statement")),
            "include" => {
                self.bump();
                let file = match &self.peek().tok {
                    Tok::Str(s) => s.clone(),
                    _ => return Err(self.expected("a file name in quotes")),
                };
                self.bump();
                self.expect(";")?;
                Ok(Some(Stmt::Include { file, pos: t.pos }))
            }
            "qreg" | "creg" => {
                self.bump();
                let (name, _) = self.ident("a register name")?;
                let size = self.opt_size()?;
                if size.is_none() {
                    return Err(self.expected("`[size]` after the register name"));
                }
                self.expect(";")?;
                Ok(Some(if word == "qreg" {
                    Stmt::QReg {
                        name,
                        size,
                        pos: t.pos,
                    }
                } else {
                    Stmt::CReg {
                        name,
                        size,
                        pos: t.pos,
                    }
                }))
            }
            "qubit" | "bit" => {
                self.bump();
                let size = self.opt_size()?;
                let (name, _) = self.ident("a register name")?;
                if self.is_punct("=") {
                    return Err(self.peek().pos.unsupported("initialised bit registers"));
                }
                self.expect(";")?;
                Ok(Some(if word == "qubit" {
                    Stmt::QReg {
                        name,
                        size,
                        pos: t.pos,
                    }
                } else {
                    Stmt::CReg {
                        name,
                        size,
                        pos: t.pos,
                    }
                }))
            }
            "input" => {
                self.bump();
                let (ty, tpos) = self.ident("a type (float or angle)")?;
                if ty != "float" && ty != "angle" {
                    return Err(tpos.unsupported(&format!(
                        "input of type {ty} (only `input float` and `input angle` parameters)"
                    )));
                }
                self.opt_size()?;
                let (name, _) = self.ident("a parameter name")?;
                self.expect(";")?;
                Ok(Some(Stmt::Input { name, pos: t.pos }))
            }
            "gate" => {
                self.bump();
                self.gate_def(t.pos).map(|g| Some(Stmt::GateDef(g)))
            }
            "measure" => {
                self.bump();
                let qubit = self.arg()?;
                let bit = if self.eat("->") {
                    Some(self.arg()?)
                } else {
                    None
                };
                self.expect(";")?;
                Ok(Some(Stmt::Measure {
                    qubit,
                    bit,
                    pos: t.pos,
                }))
            }
            "barrier" => {
                self.bump();
                let args = self.args()?;
                self.expect(";")?;
                Ok(Some(Stmt::Barrier { args }))
            }
            _ => {
                // `c = measure q;` / `c[i] = measure q[j];`, or a gate call.
                if matches!(
                    self.toks.get(self.at + 1).map(|t| &t.tok),
                    Some(Tok::Punct("=" | "["))
                ) && self.assignment_follows()
                {
                    let bit = self.arg()?;
                    self.expect("=")?;
                    if !self.is_ident("measure") {
                        return Err(self
                            .peek()
                            .pos
                            .unsupported("classical assignments other than `= measure`"));
                    }
                    self.bump();
                    let qubit = self.arg()?;
                    self.expect(";")?;
                    return Ok(Some(Stmt::Measure {
                        qubit,
                        bit: Some(bit),
                        pos: t.pos,
                    }));
                }
                let call = self.call()?;
                Ok(Some(Stmt::Call(call)))
            }
        }
    }

    /// Whether the tokens from here read `name =` or `name[…] =`.
    fn assignment_follows(&self) -> bool {
        let mut k = self.at + 1;
        if matches!(self.toks.get(k).map(|t| &t.tok), Some(Tok::Punct("["))) {
            while k < self.toks.len() && !matches!(self.toks[k].tok, Tok::Punct("]" | ";")) {
                k += 1;
            }
            k += 1;
        }
        matches!(self.toks.get(k).map(|t| &t.tok), Some(Tok::Punct("=")))
    }

    fn gate_def(&mut self, pos: Pos) -> Result<GateDef> {
        let (name, _) = self.ident("a gate name")?;
        let mut params = Vec::new();
        if self.eat("(") {
            if !self.is_punct(")") {
                loop {
                    params.push(self.ident("a parameter name")?.0);
                    if !self.eat(",") {
                        break;
                    }
                }
            }
            self.expect(")")?;
        }
        let mut qubits = Vec::new();
        loop {
            qubits.push(self.ident("a qubit argument name")?.0);
            if !self.eat(",") {
                break;
            }
        }
        self.expect("{")?;
        let mut body = Vec::new();
        while !self.eat("}") {
            if self.peek().tok == Tok::Eof {
                return Err(self.expected("`}` closing the gate body"));
            }
            if self.eat(";") {
                continue;
            }
            if self.is_ident("barrier") {
                self.bump();
                self.args()?;
                self.expect(";")?;
                continue;
            }
            let t = self.peek().clone();
            if let Tok::Ident(w) = &t.tok {
                if let Some((_, what)) = UNSUPPORTED.iter().find(|(k, _)| k == w) {
                    return Err(t.pos.unsupported(&format!("{what} inside a gate body")));
                }
                if w == "measure" {
                    return Err(t.pos.unsupported("measure inside a gate body"));
                }
            }
            body.push(self.call()?);
        }
        Ok(GateDef {
            name,
            params,
            qubits,
            body,
            pos,
        })
    }

    /// A gate application, with optional `ctrl @` modifiers.
    fn call(&mut self) -> Result<Call> {
        let pos = self.peek().pos;
        let mut ctrl = 0usize;
        loop {
            let (name, npos) = self.ident("a gate name or statement")?;
            match name.as_str() {
                "ctrl" | "negctrl" | "inv" | "pow" if self.is_punct("@") || self.is_punct("(") => {
                    if name != "ctrl" {
                        return Err(npos.unsupported(&format!("the `{name} @` gate modifier")));
                    }
                    let n = if self.eat("(") {
                        let n = self.integer("the number of controls")?;
                        self.expect(")")?;
                        n
                    } else {
                        1
                    };
                    self.expect("@")?;
                    ctrl = usize::try_from(n)
                        .ok()
                        .and_then(|n| ctrl.checked_add(n))
                        .filter(|&c| c <= super::MAX_QUBITS)
                        .ok_or_else(|| npos.error("too many controls in the `ctrl @` modifiers"))?;
                }
                _ => {
                    let mut params = Vec::new();
                    if self.eat("(") {
                        if !self.is_punct(")") {
                            loop {
                                params.push(self.expr()?);
                                if !self.eat(",") {
                                    break;
                                }
                            }
                        }
                        self.expect(")")?;
                    }
                    let args = self.args()?;
                    if args.is_empty() && name != "gphase" {
                        return Err(self.expected("qubit operands"));
                    }
                    self.expect(";")?;
                    return Ok(Call {
                        name,
                        params,
                        args,
                        ctrl,
                        pos,
                    });
                }
            }
        }
    }

    /// Comma-separated operands, possibly none.
    fn args(&mut self) -> Result<Vec<Arg>> {
        let mut out = Vec::new();
        if !matches!(self.peek().tok, Tok::Ident(_)) {
            return Ok(out);
        }
        loop {
            out.push(self.arg()?);
            if !self.eat(",") {
                return Ok(out);
            }
        }
    }

    fn arg(&mut self) -> Result<Arg> {
        let (name, pos) = self.ident("a qubit or bit operand")?;
        let index = if self.eat("[") {
            let k = self.integer("an index (a non-negative integer)")?;
            if self.is_punct(":") || self.is_punct(",") {
                return Err(self
                    .peek()
                    .pos
                    .unsupported("register slices and index sets"));
            }
            self.expect("]")?;
            Some(k)
        } else {
            None
        };
        Ok(Arg { name, index, pos })
    }

    /// An expression (see the module docs for the grammar).
    pub(crate) fn expr(&mut self) -> Result<Expr> {
        self.enter()?;
        let mut lhs = self.term()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("+") => BinOp::Add,
                Tok::Punct("-") => BinOp::Sub,
                _ => break,
            };
            let pos = self.bump().pos;
            let rhs = self.term()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs), pos);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self
                .peek()
                .pos
                .error(&format!("expression nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn term(&mut self) -> Result<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("*") => BinOp::Mul,
                Tok::Punct("/") => BinOp::Div,
                _ => break,
            };
            let pos = self.bump().pos;
            let rhs = self.unary()?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs), pos);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr> {
        self.enter()?;
        let e = if self.eat("-") {
            Expr::Neg(Box::new(self.unary()?))
        } else if self.eat("+") {
            self.unary()?
        } else {
            let base = self.primary()?;
            if self.is_punct("^") || self.is_punct("**") {
                let pos = self.bump().pos;
                let exp = self.unary()?;
                Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp), pos)
            } else {
                base
            }
        };
        self.depth -= 1;
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Num { value, .. } => {
                self.bump();
                Ok(Expr::Num(value))
            }
            Tok::Punct("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(name) => {
                self.bump();
                if self.is_punct("(") {
                    let f = super::eval::function(&name).ok_or_else(|| {
                        t.pos.error(&format!(
                            "unknown function `{name}` in an expression (known: sin, cos, tan, \
                             exp, ln, sqrt, arcsin, arccos, arctan)"
                        ))
                    })?;
                    self.bump();
                    let arg = self.expr()?;
                    self.expect(")")?;
                    Ok(Expr::Call(f, Box::new(arg), t.pos))
                } else {
                    Ok(Expr::Var(name, t.pos))
                }
            }
            _ => Err(self.expected("an expression")),
        }
    }
}
