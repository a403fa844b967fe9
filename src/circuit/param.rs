//! Gate angles: constants, trainable parameters θ_k, input features x_i, and affine forms of them.

use crate::error::{Error, Result};

/// A gate angle, resolved to a number when the circuit is bound.
///
/// `Theta` and `Input` are affine: the angle is `scale · θ[index] + offset` (or with `x`), which is
/// what feature maps and shared parameters need. Build them with [`Angle::theta`],
/// [`Angle::input`] and refine with [`Angle::times`] / [`Angle::plus`].
#[derive(Clone, Copy, Debug, PartialEq)]
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
        self.map_affine(|scale, offset| (a * scale, a * offset))
    }

    /// This angle plus `b`.
    pub fn plus(self, b: f64) -> Self {
        self.map_affine(|scale, offset| (scale, offset + b))
    }

    /// The angle with its (scale, offset) replaced by `f(scale, offset)`; a constant v is the
    /// offset of scale 0.
    fn map_affine(self, f: impl Fn(f64, f64) -> (f64, f64)) -> Self {
        match self {
            Angle::Const(v) => Angle::Const(f(0.0, v).1),
            Angle::Theta {
                index,
                scale,
                offset,
            } => {
                let (scale, offset) = f(scale, offset);
                Angle::Theta {
                    index,
                    scale,
                    offset,
                }
            }
            Angle::Input {
                index,
                scale,
                offset,
            } => {
                let (scale, offset) = f(scale, offset);
                Angle::Input {
                    index,
                    scale,
                    offset,
                }
            }
        }
    }

    /// The numeric value under `bindings`. Indices were checked when the bindings were validated
    /// against the circuit, so this does not fail.
    pub fn value(&self, bindings: &Bindings<'_>) -> f64 {
        match *self {
            Angle::Const(v) => v,
            Angle::Theta {
                index,
                scale,
                offset,
            } => scale * bindings.theta.get(index).copied().unwrap_or(0.0) + offset,
            Angle::Input {
                index,
                scale,
                offset,
            } => scale * bindings.inputs.get(index).copied().unwrap_or(0.0) + offset,
        }
    }

    /// Checks what a circuit needs of an angle of `gate` (a name for the message): a finite
    /// constant, scale and offset, and an index below [`super::MAX_PARAMS`].
    /// [`crate::Circuit::add`] runs it on every angle of a gate.
    pub fn check(&self, gate: &str) -> Result<()> {
        let (index, scale, offset, var) = match *self {
            Angle::Const(v) => (None, 0.0, v, ""),
            Angle::Theta {
                index,
                scale,
                offset,
            } => (Some(index), scale, offset, "θ"),
            Angle::Input {
                index,
                scale,
                offset,
            } => (Some(index), scale, offset, "x"),
        };
        if !scale.is_finite() || !offset.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "angle {self:?} of gate {gate} has a NaN or infinite constant, scale or offset; \
                 angles must be finite"
            )));
        }
        match index {
            Some(k) if k >= super::MAX_PARAMS => {
                Err(super::oversize_error(gate, &format!("{var} index"), k))
            }
            _ => Ok(()),
        }
    }

    /// The θ index this angle depends on, if any.
    pub fn theta_index(&self) -> Option<usize> {
        match *self {
            Angle::Theta { index, .. } => Some(index),
            _ => None,
        }
    }

    /// The input index this angle depends on, if any.
    pub fn input_index(&self) -> Option<usize> {
        match *self {
            Angle::Input { index, .. } => Some(index),
            _ => None,
        }
    }

    /// d(angle)/d(its variable): the affine scale, 0 for constants.
    pub fn slope(&self) -> f64 {
        match *self {
            Angle::Const(_) => 0.0,
            Angle::Theta { scale, .. } | Angle::Input { scale, .. } => scale,
        }
    }
}

impl From<f64> for Angle {
    fn from(v: f64) -> Self {
        Angle::Const(v)
    }
}

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
