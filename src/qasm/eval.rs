//! Evaluation of parameter expressions into [`Angle`]s.
//!
//! Every operation goes through [`binary`], [`negate`] and [`func`], so that the step from
//! affine angles (`a·θ + b`) to general angle expressions only changes these three functions.

use super::ast::{BinOp, Expr, Func};
use super::Pos;
use crate::circuit::Angle;
use crate::error::Result;
use std::collections::HashMap;

/// Names an expression can refer to: gate parameters (innermost definition) or `input`s.
pub(crate) type Scope = HashMap<String, Angle>;

/// The value of `e` where names resolve through `scope`, then the constants `pi` / `π`,
/// `tau` / `τ`, `euler` / `ℯ`.
pub(crate) fn eval(e: &Expr, scope: &Scope) -> Result<Angle> {
    match e {
        Expr::Num(v) => Ok(Angle::Const(*v)),
        Expr::Var(name, pos) => scope
            .get(name)
            .cloned()
            .or_else(|| constant(name).map(Angle::Const))
            .ok_or_else(|| {
                pos.error(&format!(
                    "undefined name `{name}` in an expression (not a gate parameter, an \
                     `input float`, or pi / tau / euler)"
                ))
            }),
        Expr::Neg(a) => Ok(negate(eval(a, scope)?)),
        Expr::Bin(op, a, b, pos) => binary(*op, eval(a, scope)?, eval(b, scope)?, *pos),
        Expr::Call(f, a, pos) => func(*f, eval(a, scope)?, *pos),
    }
}

fn constant(name: &str) -> Option<f64> {
    use std::f64::consts::{E, PI, TAU};
    match name {
        "pi" | "π" => Some(PI),
        "tau" | "τ" => Some(TAU),
        "euler" | "ℯ" => Some(E),
        _ => None,
    }
}

/// A finite constant, or an error at `pos`.
fn finite(v: f64, pos: Pos) -> Result<Angle> {
    if v.is_finite() {
        Ok(Angle::Const(v))
    } else {
        Err(pos.error(&format!(
            "the expression evaluates to {v} (division by zero, overflow, or a function outside \
             its domain); angles must be finite"
        )))
    }
}

/// `-a`.
pub(crate) fn negate(a: Angle) -> Angle {
    a.times(-1.0)
}

/// The error for an operation whose result is not affine in one parameter.
fn not_affine(pos: Pos) -> crate::error::Error {
    pos.unsupported(
        "this parameter expression: angles may be a·p + b for one `input` parameter p and \
         constants a, b (products, quotients, powers or functions of parameters, or sums of two \
         parameters, are not supported yet)",
    )
}

/// `a op b`.
pub(crate) fn binary(op: BinOp, a: Angle, b: Angle, pos: Pos) -> Result<Angle> {
    match (op, &a, &b) {
        (BinOp::Add, Angle::Const(x), Angle::Const(y)) => finite(x + y, pos),
        (BinOp::Sub, Angle::Const(x), Angle::Const(y)) => finite(x - y, pos),
        (BinOp::Mul, Angle::Const(x), Angle::Const(y)) => finite(x * y, pos),
        (BinOp::Div, Angle::Const(x), Angle::Const(y)) => finite(x / y, pos),
        (BinOp::Pow, Angle::Const(x), Angle::Const(y)) => finite(x.powf(*y), pos),
        (BinOp::Add, _, Angle::Const(y)) => Ok(a.plus(*y)),
        (BinOp::Add, Angle::Const(x), _) => Ok(b.plus(*x)),
        (BinOp::Sub, _, Angle::Const(y)) => Ok(a.plus(-y)),
        (BinOp::Sub, Angle::Const(x), _) => Ok(negate(b).plus(*x)),
        (BinOp::Mul, _, Angle::Const(y)) => Ok(a.times(*y)),
        (BinOp::Mul, Angle::Const(x), _) => Ok(b.times(*x)),
        (BinOp::Div, _, Angle::Const(y)) if *y != 0.0 => Ok(a.times(1.0 / y)),
        (BinOp::Div, _, Angle::Const(_)) => Err(pos.error("division by zero")),
        (BinOp::Add | BinOp::Sub, _, _) => {
            // The same parameter on both sides stays affine: (s1·p + o1) ± (s2·p + o2).
            let sign = if op == BinOp::Add { 1.0 } else { -1.0 };
            match (&a, &b) {
                (
                    Angle::Theta {
                        index: i,
                        scale: s1,
                        offset: o1,
                    },
                    Angle::Theta {
                        index: j,
                        scale: s2,
                        offset: o2,
                    },
                ) if i == j => Ok(Angle::Theta {
                    index: *i,
                    scale: s1 + sign * s2,
                    offset: o1 + sign * o2,
                }),
                (
                    Angle::Input {
                        index: i,
                        scale: s1,
                        offset: o1,
                    },
                    Angle::Input {
                        index: j,
                        scale: s2,
                        offset: o2,
                    },
                ) if i == j => Ok(Angle::Input {
                    index: *i,
                    scale: s1 + sign * s2,
                    offset: o1 + sign * o2,
                }),
                _ => Err(not_affine(pos)),
            }
        }
        _ => Err(not_affine(pos)),
    }
}

/// `f(a)`.
pub(crate) fn func(f: Func, a: Angle, pos: Pos) -> Result<Angle> {
    match a {
        Angle::Const(v) => finite(f.apply(v), pos),
        _ => Err(not_affine(pos)),
    }
}
