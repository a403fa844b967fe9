//! Evaluation of parameter expressions into [`Angle`]s: constants fold to numbers (checked
//! finite), anything with an `input` parameter becomes an affine angle or an angle expression
//! through [`Angle`]'s operators.

use super::ast::{BinOp, Expr};
use super::Pos;
use crate::circuit::{Angle, AngleFn};
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
        Expr::Neg(a) => Ok(-eval(a, scope)?),
        Expr::Bin(op, a, b, pos) => binary(*op, eval(a, scope)?, eval(b, scope)?, *pos),
        Expr::Call(f, a, pos) => finite(eval(a, scope)?.func(*f), *pos),
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

/// `a`, or an error at `pos` if it is a non-finite constant.
fn finite(a: Angle, pos: Pos) -> Result<Angle> {
    match a {
        Angle::Const(v) if !v.is_finite() => Err(pos.error(&format!(
            "the expression evaluates to {v} (overflow, or a function outside its domain); \
             angles must be finite"
        ))),
        a => Ok(a),
    }
}

/// `a op b`.
fn binary(op: BinOp, a: Angle, b: Angle, pos: Pos) -> Result<Angle> {
    if op == BinOp::Div && b == Angle::Const(0.0) {
        return Err(pos.error("division by zero"));
    }
    let r = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Pow => a.pow(b),
    };
    finite(r, pos)
}

/// The function called `name` in an OpenQASM expression.
pub(crate) fn function(name: &str) -> Option<AngleFn> {
    AngleFn::from_name(name)
}
