//! Gate angles: constants, trainable parameters θ_k, input features x_i, affine forms of one
//! variable, and general expressions of several (`θ1 + θ2`, `2·(π − x0)·(π − x1)`, `sin(θ)`).
//!
//! Angles are evaluated per binding when a circuit is bound or a batch is resolved; gradients
//! flow back to θ and x by the chain rule through the expression ([`Angle::gradient`]), once,
//! for every backend and differentiation method.

use crate::error::{Error, Result};
use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::Arc;

/// Deepest expression tree an angle may have (deeper ones are refused when the angle is built,
/// so evaluation and differentiation, which recurse, stay within a small stack).
pub const MAX_EXPR_DEPTH: usize = 256;

/// Most nodes an angle's expression tree may have (larger ones are refused when the angle is
/// built: every binding of every sample evaluates the whole tree).
pub const MAX_EXPR_NODES: usize = 4096;

/// A gate angle, resolved to a number when the circuit is bound.
///
/// `Theta` and `Input` are affine: the angle is `scale · θ[index] + offset` (or with `x`), which is
/// what most feature maps and shared parameters need. Anything else (sums of several variables,
/// products, functions) is an [`Expr`]. Build angles with [`Angle::theta`], [`Angle::input`],
/// the arithmetic operators (`+ − · /`, unary `−`, with angles or `f64` on either side),
/// [`Angle::func`] and [`Angle::pow`]; results are kept affine whenever they are.
///
/// ```
/// use qshade::Angle;
/// use std::f64::consts::PI;
/// // Qiskit's ZZFeatureMap angle 2·(π − x0)·(π − x1):
/// let zz = (PI - Angle::input(0)) * (PI - Angle::input(1)) * 2.0;
/// assert!(matches!(zz, Angle::Expr(_)));
/// // An affine form stays affine:
/// assert!(matches!(Angle::theta(3) * 2.0 + 1.0, Angle::Theta { index: 3, .. }));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Angle {
    /// A fixed angle in radians.
    Const(f64),
    /// `scale · θ[index] + offset`, θ being the trainable parameter vector.
    Theta {
        /// Index into θ.
        index: usize,
        /// Multiplier a in a·θ + b.
        scale: f64,
        /// Offset b in a·θ + b.
        offset: f64,
    },
    /// `scale · x[index] + offset`, x being the input-feature vector of one sample.
    Input {
        /// Index into x.
        index: usize,
        /// Multiplier a in a·x + b.
        scale: f64,
        /// Offset b in a·x + b.
        offset: f64,
    },
    /// Any other expression of θ and x (measured against [`MAX_EXPR_DEPTH`] and
    /// [`MAX_EXPR_NODES`] when it was built; see [`ExprAngle`]).
    Expr(Arc<ExprAngle>),
}

/// The expression of an [`Angle::Expr`]: a tree within the size limits, or the reason it was
/// refused (a tree too deep or too large is dropped when the angle is built, and
/// [`Angle::check`] — run by [`crate::Circuit::add`] — returns that reason as an error).
#[derive(Clone, Debug, PartialEq)]
pub struct ExprAngle {
    tree: Expr,
    refused: Option<String>,
}

impl ExprAngle {
    /// The expression tree (the constant 0 for a refused one).
    pub fn expr(&self) -> &Expr {
        &self.tree
    }

    /// Why the expression was refused, if it was.
    pub fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }
}

/// A variable an angle can depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Var {
    /// θ\[k\], a trainable parameter.
    Theta(usize),
    /// x\[i\], an input feature.
    Input(usize),
}

/// A function an angle expression can apply ([`Angle::func`]); the names are OpenQASM's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AngleFn {
    /// sin.
    Sin,
    /// cos.
    Cos,
    /// tan.
    Tan,
    /// exp.
    Exp,
    /// Natural logarithm.
    Ln,
    /// Square root.
    Sqrt,
    /// arcsin.
    Asin,
    /// arccos.
    Acos,
    /// arctan.
    Atan,
}

impl AngleFn {
    /// The OpenQASM name (`sin`, `ln`, `arcsin`, …).
    pub fn name(self) -> &'static str {
        match self {
            AngleFn::Sin => "sin",
            AngleFn::Cos => "cos",
            AngleFn::Tan => "tan",
            AngleFn::Exp => "exp",
            AngleFn::Ln => "ln",
            AngleFn::Sqrt => "sqrt",
            AngleFn::Asin => "arcsin",
            AngleFn::Acos => "arccos",
            AngleFn::Atan => "arctan",
        }
    }

    /// The function by its OpenQASM name (`asin`, `acos`, `atan`, `log` accepted too).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sin" => AngleFn::Sin,
            "cos" => AngleFn::Cos,
            "tan" => AngleFn::Tan,
            "exp" => AngleFn::Exp,
            "ln" | "log" => AngleFn::Ln,
            "sqrt" => AngleFn::Sqrt,
            "arcsin" | "asin" => AngleFn::Asin,
            "arccos" | "acos" => AngleFn::Acos,
            "arctan" | "atan" => AngleFn::Atan,
            _ => return None,
        })
    }

    /// f(v).
    pub fn apply(self, v: f64) -> f64 {
        match self {
            AngleFn::Sin => v.sin(),
            AngleFn::Cos => v.cos(),
            AngleFn::Tan => v.tan(),
            AngleFn::Exp => v.exp(),
            AngleFn::Ln => v.ln(),
            AngleFn::Sqrt => v.sqrt(),
            AngleFn::Asin => v.asin(),
            AngleFn::Acos => v.acos(),
            AngleFn::Atan => v.atan(),
        }
    }

    /// f'(v).
    pub fn derivative(self, v: f64) -> f64 {
        match self {
            AngleFn::Sin => v.cos(),
            AngleFn::Cos => -v.sin(),
            AngleFn::Tan => 1.0 / (v.cos() * v.cos()),
            AngleFn::Exp => v.exp(),
            AngleFn::Ln => 1.0 / v,
            AngleFn::Sqrt => 0.5 / v.sqrt(),
            AngleFn::Asin => 1.0 / (1.0 - v * v).sqrt(),
            AngleFn::Acos => -1.0 / (1.0 - v * v).sqrt(),
            AngleFn::Atan => 1.0 / (1.0 + v * v),
        }
    }
}

/// An angle expression tree (the general form of an [`Angle`]; read it to print or export a
/// circuit, build it through [`Angle`]'s operators).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Const(f64),
    /// θ\[k\].
    Theta(usize),
    /// x\[i\].
    Input(usize),
    /// −a.
    Neg(Box<Expr>),
    /// a + b.
    Add(Box<Expr>, Box<Expr>),
    /// a − b.
    Sub(Box<Expr>, Box<Expr>),
    /// a · b.
    Mul(Box<Expr>, Box<Expr>),
    /// a / b.
    Div(Box<Expr>, Box<Expr>),
    /// a ^ b.
    Pow(Box<Expr>, Box<Expr>),
    /// f(a).
    Func(AngleFn, Box<Expr>),
}

impl Expr {
    /// The value under `bindings` (missing variables read as 0; bindings are validated against
    /// the circuit before any evaluation).
    pub fn eval(&self, bindings: &Bindings<'_>) -> f64 {
        match self {
            Expr::Const(v) => *v,
            Expr::Theta(k) => bindings.theta.get(*k).copied().unwrap_or(0.0),
            Expr::Input(i) => bindings.inputs.get(*i).copied().unwrap_or(0.0),
            Expr::Neg(a) => -a.eval(bindings),
            Expr::Add(a, b) => a.eval(bindings) + b.eval(bindings),
            Expr::Sub(a, b) => a.eval(bindings) - b.eval(bindings),
            Expr::Mul(a, b) => a.eval(bindings) * b.eval(bindings),
            Expr::Div(a, b) => a.eval(bindings) / b.eval(bindings),
            Expr::Pow(a, b) => a.eval(bindings).powf(b.eval(bindings)),
            Expr::Func(f, a) => f.apply(a.eval(bindings)),
        }
    }

    /// Calls `out(var, seed · ∂self/∂var)` for every variable occurrence (reverse mode: a
    /// variable used twice is reported twice; callers sum). Subtrees without variables are
    /// skipped, so `x ^ 2` never evaluates `ln x`.
    pub fn backprop(&self, bindings: &Bindings<'_>, seed: f64, out: &mut dyn FnMut(Var, f64)) {
        match self {
            Expr::Const(_) => {}
            Expr::Theta(k) => out(Var::Theta(*k), seed),
            Expr::Input(i) => out(Var::Input(*i), seed),
            Expr::Neg(a) => a.backprop(bindings, -seed, out),
            Expr::Add(a, b) => {
                a.backprop(bindings, seed, out);
                b.backprop(bindings, seed, out);
            }
            Expr::Sub(a, b) => {
                a.backprop(bindings, seed, out);
                b.backprop(bindings, -seed, out);
            }
            Expr::Mul(a, b) => {
                if !a.is_const_leaf() {
                    a.backprop(bindings, seed * b.eval(bindings), out);
                }
                if !b.is_const_leaf() {
                    b.backprop(bindings, seed * a.eval(bindings), out);
                }
            }
            Expr::Div(a, b) => {
                let bv = b.eval(bindings);
                if !a.is_const_leaf() {
                    a.backprop(bindings, seed / bv, out);
                }
                if !b.is_const_leaf() {
                    b.backprop(bindings, -seed * a.eval(bindings) / (bv * bv), out);
                }
            }
            Expr::Pow(a, b) => {
                // d(a^b) = b·a^(b−1) da + a^b·ln a db; a term whose factor is exactly 0 (b = 0,
                // or a^b = 0) is skipped so that 0·ln 0 or 0·0^(−1) does not turn a zero
                // derivative into NaN.
                let (av, bv) = (a.eval(bindings), b.eval(bindings));
                if bv != 0.0 && a.has_variables() {
                    a.backprop(bindings, seed * bv * av.powf(bv - 1.0), out);
                }
                let power = av.powf(bv);
                if power != 0.0 && b.has_variables() {
                    b.backprop(bindings, seed * power * av.ln(), out);
                }
            }
            Expr::Func(f, a) => a.backprop(bindings, seed * f.derivative(a.eval(bindings)), out),
        }
    }

    /// Whether the node is a number (its derivative is 0 whatever the binding).
    fn is_const_leaf(&self) -> bool {
        matches!(self, Expr::Const(_))
    }

    /// Whether any θ or x occurs in the tree.
    pub fn has_variables(&self) -> bool {
        let mut any = false;
        self.visit(&mut |e| any |= matches!(e, Expr::Theta(_) | Expr::Input(_)));
        any
    }

    /// Depth, node count (both counted up to one past their limit) and whether a variable
    /// occurs, found with an explicit stack (no recursion, at most [`MAX_EXPR_NODES`] + 1
    /// nodes visited), so any tree can be measured before it is used.
    fn measure(&self) -> TreeSize {
        let mut size = TreeSize::default();
        let mut stack = vec![(self, 1usize)];
        while let Some((node, depth)) = stack.pop() {
            size.nodes += 1;
            size.depth = size.depth.max(depth);
            if size.nodes > MAX_EXPR_NODES || size.depth > MAX_EXPR_DEPTH {
                break;
            }
            match node {
                Expr::Const(_) => {}
                Expr::Theta(_) | Expr::Input(_) => size.has_variables = true,
                Expr::Neg(a) | Expr::Func(_, a) => stack.push((a, depth + 1)),
                Expr::Add(a, b)
                | Expr::Sub(a, b)
                | Expr::Mul(a, b)
                | Expr::Div(a, b)
                | Expr::Pow(a, b) => {
                    stack.push((a, depth + 1));
                    stack.push((b, depth + 1));
                }
            }
        }
        size
    }

    /// Moves the node's non-leaf children onto `stack` (leaving numbers in their place), for
    /// [`Drop`] without recursion.
    #[allow(clippy::vec_box)] // the boxes are the tree's own nodes, moved rather than re-allocated
    fn take_children(&mut self, stack: &mut Vec<Box<Expr>>) {
        let mut take = |child: &mut Box<Expr>| {
            if !matches!(**child, Expr::Const(_) | Expr::Theta(_) | Expr::Input(_)) {
                stack.push(std::mem::replace(child, Box::new(Expr::Const(0.0))));
            }
        };
        match self {
            Expr::Const(_) | Expr::Theta(_) | Expr::Input(_) => {}
            Expr::Neg(a) | Expr::Func(_, a) => take(a),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b) => {
                take(a);
                take(b);
            }
        }
    }

    /// Calls `f` on every node, parents before children.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Const(_) | Expr::Theta(_) | Expr::Input(_) => {}
            Expr::Neg(a) | Expr::Func(_, a) => a.visit(f),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b) => {
                a.visit(f);
                b.visit(f);
            }
        }
    }

    /// The expression as text in OpenQASM syntax, with `var` naming the variables (e.g.
    /// `θ[3]` → `"theta_3"`) and constants in Rust's shortest round-trip form (so parsing the
    /// text back gives the same numbers). `pow_op` is the power operator: `^` in OpenQASM 2,
    /// `**` in OpenQASM 3.
    pub fn render(&self, var: &dyn Fn(Var) -> String, pow_op: &str) -> String {
        self.render_prec(var, pow_op, 0)
    }

    /// Binding strength of the node's operator (higher binds tighter).
    fn precedence(&self) -> u8 {
        match self {
            Expr::Add(..) | Expr::Sub(..) => 1,
            Expr::Mul(..) | Expr::Div(..) => 2,
            Expr::Neg(_) => 3,
            Expr::Pow(..) => 4,
            Expr::Const(v) if v.is_sign_negative() => 3,
            _ => 5,
        }
    }

    /// [`Expr::render`] inside an operator of binding strength `outer`.
    fn render_prec(&self, var: &dyn Fn(Var) -> String, pow_op: &str, outer: u8) -> String {
        let bin = |a: &Expr, op: &str, b: &Expr, left: u8, right: u8| {
            format!(
                "{}{op}{}",
                a.render_prec(var, pow_op, left),
                b.render_prec(var, pow_op, right)
            )
        };
        let text = match self {
            Expr::Const(v) => format_number(*v),
            Expr::Theta(k) => var(Var::Theta(*k)),
            Expr::Input(i) => var(Var::Input(*i)),
            Expr::Neg(a) => format!("-{}", a.render_prec(var, pow_op, 4)),
            Expr::Add(a, b) => bin(a, " + ", b, 1, 2),
            Expr::Sub(a, b) => bin(a, " - ", b, 1, 2),
            Expr::Mul(a, b) => bin(a, "*", b, 2, 4),
            Expr::Div(a, b) => bin(a, "/", b, 2, 4),
            Expr::Pow(a, b) => bin(a, pow_op, b, 5, 4),
            Expr::Func(f, a) => format!("{}({})", f.name(), a.render_prec(var, pow_op, 0)),
        };
        if self.precedence() < outer {
            format!("({text})")
        } else {
            text
        }
    }
}

impl Drop for Expr {
    /// Frees the tree with an explicit stack: a user-built chain of any depth must not
    /// overflow the thread's stack when it is dropped.
    fn drop(&mut self) {
        let mut stack = Vec::new();
        self.take_children(&mut stack);
        while let Some(mut node) = stack.pop() {
            node.take_children(&mut stack);
        }
    }
}

/// What [`Expr::measure`] found.
#[derive(Clone, Copy, Debug, Default)]
struct TreeSize {
    nodes: usize,
    depth: usize,
    has_variables: bool,
}

impl TreeSize {
    /// Why a tree of this size is refused, if it is.
    fn refusal(&self) -> Option<String> {
        if self.depth > MAX_EXPR_DEPTH {
            Some(format!("nests deeper than {MAX_EXPR_DEPTH} levels"))
        } else if self.nodes > MAX_EXPR_NODES {
            Some(format!("has more than {MAX_EXPR_NODES} nodes"))
        } else {
            None
        }
    }
}

/// A number in a form every OpenQASM parser reads back exactly (`1.0`, `-0.25`, `1e-300`).
fn format_number(v: f64) -> String {
    let s = format!("{v:?}");
    if s.contains('.') || !v.is_finite() {
        s
    } else if let Some(e) = s.find('e') {
        // OpenQASM 2's reals need a decimal point before the exponent: 1e-300 → 1.0e-300.
        format!("{}.0{}", &s[..e], &s[e..])
    } else {
        format!("{s}.0")
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |v: Var| match v {
            Var::Theta(k) => format!("θ[{k}]"),
            Var::Input(i) => format!("x[{i}]"),
        };
        f.write_str(&self.render(&names, "^"))
    }
}

impl fmt::Display for Angle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_expr().fmt(f)
    }
}

impl Angle {
    /// The trainable parameter θ\[index\].
    pub fn theta(index: usize) -> Self {
        Angle::Theta {
            index,
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// The input feature x\[index\].
    pub fn input(index: usize) -> Self {
        Angle::Input {
            index,
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// This angle multiplied by `a` (the offset is multiplied too: a·(sθ + b)).
    pub fn times(self, a: f64) -> Self {
        self * a
    }

    /// This angle plus `b`.
    pub fn plus(self, b: f64) -> Self {
        self + b
    }

    /// f(self), e.g. `Angle::input(0).func(AngleFn::Sin)`.
    pub fn func(self, f: AngleFn) -> Self {
        match self {
            Angle::Const(v) => Angle::Const(f.apply(v)),
            other => other.unary(|e| Expr::Func(f, e)),
        }
    }

    /// self ^ exponent.
    pub fn pow(self, exponent: impl Into<Angle>) -> Self {
        match (self, exponent.into()) {
            (Angle::Const(a), Angle::Const(b)) => Angle::Const(a.powf(b)),
            (a, Angle::Const(1.0)) => a,
            (a, b) => a.node(b, Expr::Pow),
        }
    }

    /// The angle of an expression tree: a constant or affine form where the tree is one, so
    /// the fast paths (and [`Angle::is_const`]) see it.
    ///
    /// The tree is measured without recursion first: one deeper than [`MAX_EXPR_DEPTH`] or
    /// larger than [`MAX_EXPR_NODES`] is dropped and the angle remembers why, so the gate that
    /// uses it is refused with that reason.
    pub fn from_expr(expr: Expr) -> Self {
        let size = expr.measure();
        if let Some(reason) = size.refusal() {
            return Angle::Expr(Arc::new(ExprAngle {
                tree: Expr::Const(0.0),
                refused: Some(reason),
            }));
        }
        if !size.has_variables {
            return Angle::Const(expr.eval(&Bindings::none()));
        }
        match expr {
            Expr::Theta(k) => Angle::theta(k),
            Expr::Input(i) => Angle::input(i),
            other => Angle::Expr(Arc::new(ExprAngle {
                tree: other,
                refused: None,
            })),
        }
    }

    /// The angle as an expression tree (affine forms as `scale·v + offset`, with unit scales
    /// and zero offsets left out).
    pub fn to_expr(&self) -> Expr {
        let affine = |v: Expr, scale: f64, offset: f64| {
            let scaled = if scale == 1.0 {
                v
            } else if scale == -1.0 {
                Expr::Neg(Box::new(v))
            } else {
                Expr::Mul(Box::new(Expr::Const(scale)), Box::new(v))
            };
            if offset == 0.0 {
                scaled
            } else if offset < 0.0 {
                Expr::Sub(Box::new(scaled), Box::new(Expr::Const(-offset)))
            } else {
                Expr::Add(Box::new(scaled), Box::new(Expr::Const(offset)))
            }
        };
        match self {
            Angle::Const(v) => Expr::Const(*v),
            Angle::Theta {
                index,
                scale,
                offset,
            } => affine(Expr::Theta(*index), *scale, *offset),
            Angle::Input {
                index,
                scale,
                offset,
            } => affine(Expr::Input(*index), *scale, *offset),
            Angle::Expr(e) => e.tree.clone(),
        }
    }

    /// The numeric value under `bindings`. Indices were checked when the bindings were validated
    /// against the circuit, so this does not fail (a non-finite result is caught by the
    /// binding checks).
    pub fn value(&self, bindings: &Bindings<'_>) -> f64 {
        match self {
            Angle::Const(v) => *v,
            Angle::Theta {
                index,
                scale,
                offset,
            } => scale * bindings.theta.get(*index).copied().unwrap_or(0.0) + offset,
            Angle::Input {
                index,
                scale,
                offset,
            } => scale * bindings.inputs.get(*index).copied().unwrap_or(0.0) + offset,
            Angle::Expr(e) => e.tree.eval(bindings),
        }
    }

    /// Calls `out(var, ∂angle/∂var)` for the variables the angle depends on under `bindings`
    /// (a variable occurring several times in an expression may be reported several times;
    /// sum them). Constants report nothing.
    pub fn gradient(&self, bindings: &Bindings<'_>, out: &mut dyn FnMut(Var, f64)) {
        match self {
            Angle::Const(_) => {}
            Angle::Theta { index, scale, .. } => out(Var::Theta(*index), *scale),
            Angle::Input { index, scale, .. } => out(Var::Input(*index), *scale),
            Angle::Expr(e) => e.tree.backprop(bindings, 1.0, out),
        }
    }

    /// Calls `f` for every variable occurrence of the angle.
    pub fn for_each_variable(&self, f: &mut dyn FnMut(Var)) {
        match self {
            Angle::Const(_) => {}
            Angle::Theta { index, .. } => f(Var::Theta(*index)),
            Angle::Input { index, .. } => f(Var::Input(*index)),
            Angle::Expr(e) => e.tree.visit(&mut |node| match node {
                Expr::Theta(k) => f(Var::Theta(*k)),
                Expr::Input(i) => f(Var::Input(*i)),
                _ => {}
            }),
        }
    }

    /// Whether the angle is a constant (depends on no θ and no x).
    pub fn is_const(&self) -> bool {
        matches!(self, Angle::Const(_))
    }

    /// Checks what a circuit needs of an angle of `gate` (a name for the message): finite
    /// constants, scales and offsets, indices below [`super::MAX_PARAMS`], and an expression no
    /// deeper than [`MAX_EXPR_DEPTH`]. [`crate::Circuit::add`] runs it on every angle of a gate.
    pub fn check(&self, gate: &str) -> Result<()> {
        if let Some(reason) = match self {
            Angle::Expr(e) => e.refused(),
            _ => None,
        } {
            return Err(Error::InvalidArgument(format!(
                "an angle expression of gate {gate} {reason}; simplify it or split it over \
                 several gates"
            )));
        }
        let mut finite = true;
        match self {
            Angle::Const(v) => finite = v.is_finite(),
            Angle::Theta { scale, offset, .. } | Angle::Input { scale, offset, .. } => {
                finite = scale.is_finite() && offset.is_finite()
            }
            Angle::Expr(e) => e.tree.visit(&mut |node| {
                if let Expr::Const(v) = node {
                    finite &= v.is_finite();
                }
            }),
        }
        if !finite {
            return Err(Error::InvalidArgument(format!(
                "angle {self} of gate {gate} has a NaN or infinite constant, scale or offset; \
                 angles must be finite"
            )));
        }
        let mut too_large = None;
        self.for_each_variable(&mut |v| {
            let (k, name) = match v {
                Var::Theta(k) => (k, "θ"),
                Var::Input(i) => (i, "x"),
            };
            if k >= super::MAX_PARAMS && too_large.is_none() {
                too_large = Some((k, name));
            }
        });
        match too_large {
            Some((k, var)) => Err(super::oversize_error(gate, &format!("{var} index"), k)),
            None => Ok(()),
        }
    }

    /// The affine view `(variable, scale, offset)` of a `Theta` / `Input` angle.
    fn as_affine(&self) -> Option<(Var, f64, f64)> {
        match *self {
            Angle::Theta {
                index,
                scale,
                offset,
            } => Some((Var::Theta(index), scale, offset)),
            Angle::Input {
                index,
                scale,
                offset,
            } => Some((Var::Input(index), scale, offset)),
            _ => None,
        }
    }

    /// The affine angle `scale · var + offset`.
    fn affine(var: Var, scale: f64, offset: f64) -> Self {
        match var {
            Var::Theta(index) => Angle::Theta {
                index,
                scale,
                offset,
            },
            Var::Input(index) => Angle::Input {
                index,
                scale,
                offset,
            },
        }
    }

    /// The refusal of an expression too deep or too large, if this angle is one.
    fn refusal(&self) -> Option<&str> {
        match self {
            Angle::Expr(e) => e.refused(),
            _ => None,
        }
    }

    /// `op(self, other)` as an expression node (constants folded by [`Angle::from_expr`]);
    /// a refused operand makes the result refused too.
    fn node(self, other: Angle, op: fn(Box<Expr>, Box<Expr>) -> Expr) -> Angle {
        if self.refusal().is_some() {
            return self;
        }
        if other.refusal().is_some() {
            return other;
        }
        Angle::from_expr(op(Box::new(self.to_expr()), Box::new(other.to_expr())))
    }

    /// `op(self)` as an expression node; a refused operand stays refused.
    fn unary(self, op: impl FnOnce(Box<Expr>) -> Expr) -> Angle {
        if self.refusal().is_some() {
            return self;
        }
        Angle::from_expr(op(Box::new(self.to_expr())))
    }
}

impl From<f64> for Angle {
    fn from(v: f64) -> Self {
        Angle::Const(v)
    }
}

impl From<Expr> for Angle {
    fn from(e: Expr) -> Self {
        Angle::from_expr(e)
    }
}

impl Neg for Angle {
    type Output = Angle;
    fn neg(self) -> Angle {
        match self.as_affine() {
            Some((v, s, o)) => Angle::affine(v, -s, -o),
            None => match self {
                Angle::Const(v) => Angle::Const(-v),
                other => other.unary(Expr::Neg),
            },
        }
    }
}

impl Add for Angle {
    type Output = Angle;
    fn add(self, rhs: Angle) -> Angle {
        match (&self, &rhs, self.as_affine(), rhs.as_affine()) {
            (Angle::Const(a), Angle::Const(b), ..) => Angle::Const(a + b),
            (_, Angle::Const(c), Some((v, s, o)), _) | (Angle::Const(c), _, _, Some((v, s, o))) => {
                Angle::affine(v, s, o + c)
            }
            (.., Some((v, s, o)), Some((w, t, p))) if v == w => Angle::affine(v, s + t, o + p),
            _ => self.node(rhs, Expr::Add),
        }
    }
}

impl Sub for Angle {
    type Output = Angle;
    fn sub(self, rhs: Angle) -> Angle {
        match (&self, &rhs) {
            (Angle::Const(a), Angle::Const(b)) => Angle::Const(a - b),
            (_, Angle::Const(_) | Angle::Theta { .. } | Angle::Input { .. }) => self + (-rhs),
            _ => self.node(rhs, Expr::Sub),
        }
    }
}

impl Mul for Angle {
    type Output = Angle;
    fn mul(self, rhs: Angle) -> Angle {
        match (&self, &rhs, self.as_affine(), rhs.as_affine()) {
            (Angle::Const(a), Angle::Const(b), ..) => Angle::Const(a * b),
            (_, Angle::Const(c), Some((v, s, o)), _) | (Angle::Const(c), _, _, Some((v, s, o))) => {
                Angle::affine(v, s * c, o * c)
            }
            _ => self.node(rhs, Expr::Mul),
        }
    }
}

impl Div for Angle {
    type Output = Angle;
    fn div(self, rhs: Angle) -> Angle {
        match (&self, &rhs) {
            (Angle::Const(a), Angle::Const(b)) => Angle::Const(a / b),
            (Angle::Theta { .. } | Angle::Input { .. }, Angle::Const(c))
                if (1.0 / *c).is_finite() =>
            {
                let inverse = 1.0 / *c;
                self * inverse
            }
            _ => self.node(rhs, Expr::Div),
        }
    }
}

/// `Angle ∘ f64` and `f64 ∘ Angle` for every arithmetic operator.
macro_rules! scalar_ops {
    ($($trait:ident $method:ident),*) => {$(
        impl $trait<f64> for Angle {
            type Output = Angle;
            fn $method(self, rhs: f64) -> Angle {
                self.$method(Angle::Const(rhs))
            }
        }
        impl $trait<Angle> for f64 {
            type Output = Angle;
            fn $method(self, rhs: Angle) -> Angle {
                Angle::Const(self).$method(rhs)
            }
        }
    )*};
}
scalar_ops!(Add add, Sub sub, Mul mul, Div div);

/// Values for a circuit's trainable parameters θ and input features x. Borrowed, so binding
/// costs nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bindings<'a> {
    /// Trainable parameters θ.
    pub theta: &'a [f64],
    /// Input features x of one sample.
    pub inputs: &'a [f64],
}

impl<'a> Bindings<'a> {
    /// No θ and no x: for circuits with constant angles only.
    pub fn none() -> Self {
        Bindings {
            theta: &[],
            inputs: &[],
        }
    }

    /// θ only.
    pub fn theta(theta: &'a [f64]) -> Self {
        Bindings { theta, inputs: &[] }
    }

    /// θ and x.
    pub fn new(theta: &'a [f64], inputs: &'a [f64]) -> Self {
        Bindings { theta, inputs }
    }

    /// Checks the counts against what a circuit needs and that every value is finite.
    pub fn validate(&self, num_params: usize, num_inputs: usize) -> Result<()> {
        if self.theta.len() != num_params {
            return Err(Error::ParameterCount {
                kind: "trainable parameters (θ)",
                expected: num_params,
                got: self.theta.len(),
            });
        }
        if self.inputs.len() != num_inputs {
            return Err(Error::ParameterCount {
                kind: "input features (x)",
                expected: num_inputs,
                got: self.inputs.len(),
            });
        }
        if let Some(index) = self.theta.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter { kind: "θ", index });
        }
        if let Some(index) = self.inputs.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter { kind: "x", index });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const THETA: [f64; 3] = [0.3, -1.2, 0.7];
    const X: [f64; 2] = [0.9, 2.1];

    fn b() -> Bindings<'static> {
        Bindings::new(&THETA, &X)
    }

    /// Expressions covering every node kind and function.
    fn samples() -> Vec<Angle> {
        let t = Angle::theta;
        let x = Angle::input;
        vec![
            t(0) + t(1),
            (PI - x(0)) * (PI - x(1)) * 2.0,
            t(2).func(AngleFn::Sin) * t(0) - x(1) / 3.0,
            (t(0) * t(1)).func(AngleFn::Cos) + t(2).func(AngleFn::Tan),
            (t(2) + 2.0).func(AngleFn::Ln) + (t(2) * t(2)).func(AngleFn::Exp),
            (x(0) + t(2)).func(AngleFn::Sqrt) / (t(1) - 3.0),
            (t(0) * 0.5 + t(2) * 0.1).func(AngleFn::Asin) - (t(2) * t(0)).func(AngleFn::Acos),
            (t(1) + x(0)).func(AngleFn::Atan).pow(3.0) + (x(1) + t(0)).pow(t(2)),
            // Zero factors: a zero base and a zero exponent have finite derivatives.
            (t(0) - 0.3).pow(t(2) + 1.3) + (t(2) - 0.7).pow(0.0) * t(1),
            -(t(0) * x(0)),
        ]
    }

    #[test]
    fn values_match_the_closed_forms() {
        let [t0, t1, t2] = THETA;
        let [x0, x1] = X;
        let expected = [
            t0 + t1,
            (PI - x0) * (PI - x1) * 2.0,
            t2.sin() * t0 - x1 / 3.0,
            (t0 * t1).cos() + t2.tan(),
            (t2 + 2.0).ln() + (t2 * t2).exp(),
            (x0 + t2).sqrt() / (t1 - 3.0),
            (t0 * 0.5 + t2 * 0.1).asin() - (t2 * t0).acos(),
            (t1 + x0).atan().powi(3) + (x1 + t0).powf(t2),
            (t0 - 0.3).powf(t2 + 1.3) + (t2 - 0.7).powf(0.0) * t1,
            -(t0 * x0),
        ];
        for (a, e) in samples().iter().zip(expected) {
            assert!(
                (a.value(&b()) - e).abs() < 1e-14,
                "{a}: {} vs {e}",
                a.value(&b())
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        const H: f64 = 1e-6;
        for a in samples() {
            let mut grad = std::collections::BTreeMap::new();
            a.gradient(&b(), &mut |v, g| *grad.entry(v).or_insert(0.0) += g);
            let vars = (0..3).map(Var::Theta).chain((0..2).map(Var::Input));
            for v in vars {
                let (mut tp, mut tm, mut xp, mut xm) = (THETA, THETA, X, X);
                match v {
                    Var::Theta(k) => (tp[k] += H, tm[k] -= H),
                    Var::Input(i) => (xp[i] += H, xm[i] -= H),
                };
                let fd = (a.value(&Bindings::new(&tp, &xp)) - a.value(&Bindings::new(&tm, &xm)))
                    / (2.0 * H);
                let g = grad.get(&v).copied().unwrap_or(0.0);
                assert!(
                    (fd - g).abs() < 1e-7,
                    "{a}: d/d{v:?} {g} vs finite difference {fd}"
                );
            }
        }
    }

    #[test]
    fn affine_forms_and_constants_stay_simple() {
        assert_eq!(
            Angle::theta(1) * 2.0 + 1.0 - 0.5,
            Angle::Theta {
                index: 1,
                scale: 2.0,
                offset: 0.5
            }
        );
        assert_eq!(
            Angle::input(0) + Angle::input(0) * 3.0,
            Angle::Input {
                index: 0,
                scale: 4.0,
                offset: 0.0
            }
        );
        assert_eq!(
            -(Angle::theta(0) / 4.0),
            Angle::Theta {
                index: 0,
                scale: -0.25,
                offset: -0.0
            }
        );
        assert_eq!(
            (Angle::Const(2.0) * PI).func(AngleFn::Cos),
            Angle::Const((2.0 * PI).cos())
        );
        assert!(matches!(Angle::theta(0) + Angle::theta(1), Angle::Expr(_)));
        assert!(matches!(Angle::theta(0) * Angle::input(0), Angle::Expr(_)));
    }

    #[test]
    fn checks_reject_deep_non_finite_and_oversized_expressions() {
        let mut deep = Angle::theta(0);
        for k in 0..MAX_EXPR_DEPTH + 1 {
            deep = deep.func(AngleFn::Sin) + Angle::theta(k % 3 + 1);
        }
        assert!(deep.check("RX").is_err());
        // Refusal sticks through later operators.
        assert!((deep * 2.0 + Angle::theta(0)).check("RX").is_err());
        // A sum of 200 terms is a natural feature-vector angle and is accepted.
        let sum = (0..200).fold(Angle::Const(0.0), |s, k| s + Angle::theta(k) * 0.5);
        assert!(sum.check("RX").is_ok());
        // Squaring doubles the tree: refused once it passes MAX_EXPR_NODES, in bounded time
        // and memory (60 doublings would be 2^60 nodes).
        let mut wide = Angle::theta(0) * Angle::theta(1);
        for _ in 0..60 {
            wide = wide.clone() * wide;
        }
        assert!(wide.check("RX").is_err());
        // A user-built chain far deeper than the stack allows is measured, refused and
        // dropped without recursion.
        let mut chain = Expr::Theta(0);
        for _ in 0..200_000 {
            chain = Expr::Add(Box::new(chain), Box::new(Expr::Const(1.0)));
        }
        assert!(Angle::from(chain).check("RX").is_err());
        assert!((Angle::theta(0) * Angle::input(0) + f64::NAN)
            .check("RX")
            .is_err());
        let big = Angle::theta(0) + Angle::theta(crate::circuit::MAX_PARAMS);
        assert!(big.check("RX").is_err());
        assert!(samples().iter().all(|a| a.check("RX").is_ok()));
    }

    #[test]
    fn rendering_uses_parentheses_only_where_needed() {
        let t = Angle::theta;
        let names = |v: Var| match v {
            Var::Theta(k) => format!("t{k}"),
            Var::Input(i) => format!("x{i}"),
        };
        let show = |a: Angle| a.to_expr().render(&names, "**");
        assert_eq!(show((t(0) + t(1)) * 2.0), "(t0 + t1)*2.0");
        assert_eq!(show(t(0) - (t(1) + t(2) * t(0))), "t0 - (t1 + t2*t0)");
        assert_eq!(show((t(0) * t(1)).pow(t(2) * 2.0)), "(t0*t1)**(2.0*t2)");
        assert_eq!(
            show((t(0) * t(1)).func(AngleFn::Sin) / -3.0),
            "sin(t0*t1)/(-3.0)"
        );
        assert_eq!(show(t(0) * 1e-300 * t(1)), "1.0e-300*t0*t1");
    }
}
