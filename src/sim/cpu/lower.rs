//! Lowering of a [`Program`] and its observables for the batched CPU path, once per call.
//!
//! Every gate becomes one specialised kernel: a permutation (X with any controls, SWAP), a
//! phase on the half where the target is 1 (Z, S, T, Phase, CZ, CPhase, …), a one- or
//! two-qubit diagonal (RZ, RZZ), or a dense one- or two-qubit matrix (with the rotations RX and
//! RY as their own real-coefficient loops). Fixed matrices are computed here; the matrices of
//! parameterised gates are computed per row from the row's occurrence values, on the stack.
//!
//! Adjoint derivatives use generators: for a gate U(a) with ∂U/∂a = G·U,
//! 2·Re⟨λ|∂U/∂a|ψ_before⟩ = 2·Re⟨λ|G|ψ_after⟩, so the backward step reads λ and ψ once, adds
//! the derivative and applies U† to both in the same loop over the gate's pairs (quads).
//!
//! Precision: the plan is independent of the amplitude precision `T` (a [`Real`]); matrices,
//! angles' sines and cosines and fused chain products are computed in f64 and rounded to `T`
//! once per gate and row, the kernels then run in `T`, and derivative sums are kept in f64.

use super::kernels::{
    aadd, amp, amul, cmul, cmul2, im_cb, mat2, ni_sign, pairs, pairs2, pairs2_halves, pairs_halves,
    quads, re_cb, rot_x, rot_y, scale, singles2, swap_halves, swap_pairs, Amp, PairKernel,
    PairKernel2, PauliMasks, SingleKernel2, Walk,
};
use super::permute::{PermGate, Permute, MAX_PERMUTE_BITS};
use super::real::Real;
use super::simd::{ChainPairs, ChainSums};
use crate::circuit::{GateClass, GateKind, Observable, Pauli, Permutation};
use crate::compile::program::Program;
use crate::math::linalg::{dagger2, dagger4, matmul2};
use num_complex::Complex64 as C;
use std::collections::HashMap;

fn expi(a: f64) -> C {
    C::from_polar(1.0, a)
}

/// The model's matrix of a one-qubit kind at `angles`, on the stack.
fn matrix2(kind: &GateKind, angles: &[f64]) -> [C; 4] {
    kind.matrix_2x2(angles)
}

/// The model's matrix of a two-qubit kind at `angles`, on the stack.
fn matrix4(kind: &GateKind, angles: &[f64]) -> [C; 16] {
    kind.matrix_4x4(angles)
}

/// The model's generators G_k = (∂U/∂a_k)·U† of a kind's (at most three) angles.
fn generators<const L: usize>(kind: &GateKind, angles: &[f64]) -> [[C; L]; 3] {
    let mut out = [[C::ZERO; L]; 3];
    for (k, g) in out.iter_mut().enumerate().take(angles.len()) {
        kind.generator_into(angles, k, g);
    }
    out
}

/// The entries of a matrix rounded to `T`.
#[inline(always)]
fn round<T: Real, const L: usize>(m: &[C; L]) -> [Amp<T>; L] {
    m.map(amp)
}

/// Row `r` of the 4×4 `m` times `v`.
#[inline(always)]
fn row4<T: Real>(m: &[Amp<T>; 16], r: usize, v: &[Amp<T>; 4]) -> Amp<T> {
    let a = aadd(amul(m[4 * r], v[0]), amul(m[4 * r + 1], v[1]));
    aadd(aadd(a, amul(m[4 * r + 2], v[2])), amul(m[4 * r + 3], v[3]))
}

#[inline(always)]
fn mat4<T: Real>(m: &[Amp<T>; 16], s: &mut [Amp<T>], i: [usize; 4]) {
    let v = [s[i[0]], s[i[1]], s[i[2]], s[i[3]]];
    for r in 0..4 {
        s[i[r]] = row4(m, r, &v);
    }
}

// ---------------------------------------------------------------------------------------------
// One-qubit kernels (lane form, see `kernels`)
// ---------------------------------------------------------------------------------------------

/// Per-lane sums of a derivative, added up at the end.
type Acc = [f64; 8];

fn total(acc: &Acc) -> f64 {
    acc.iter().sum()
}

/// (cos, sin) of `x` rounded to `T`.
#[inline(always)]
fn cos_sin<T: Real>(x: f64) -> (T, T) {
    let (s, c) = x.sin_cos();
    (T::from_f64(c), T::from_f64(s))
}

/// RX(θ) forward; with the (c, s) of −θ/2 its adjoint.
struct RotX<T>(T, T);
impl<T: Real> PairKernel<T> for RotX<T> {
    #[inline(always)]
    fn pair<const N: usize>(&mut self, a: &mut [T; N], b: &mut [T; N]) {
        rot_x(self.0, self.1, a, b);
    }
}

/// RY(θ) forward (or adjoint, as for [`RotX`]).
struct RotY<T>(T, T);
impl<T: Real> PairKernel<T> for RotY<T> {
    #[inline(always)]
    fn pair<const N: usize>(&mut self, a: &mut [T; N], b: &mut [T; N]) {
        rot_y(self.0, self.1, a, b);
    }
}

/// diag(d0, d1).
struct Diag<T>(Amp<T>, Amp<T>);
impl<T: Real> Diag<T> {
    /// diag(d0, d1) rounded to `T`.
    fn new(d0: C, d1: C) -> Self {
        Diag(amp(d0), amp(d1))
    }
}
impl<T: Real> PairKernel<T> for Diag<T> {
    #[inline(always)]
    fn pair<const N: usize>(&mut self, a: &mut [T; N], b: &mut [T; N]) {
        *a = cmul(self.0, a);
        *b = cmul(self.1, b);
    }
}

/// A dense 2×2 matrix.
struct Dense<T>([Amp<T>; 4]);
impl<T: Real> PairKernel<T> for Dense<T> {
    #[inline(always)]
    fn pair<const N: usize>(&mut self, a: &mut [T; N], b: &mut [T; N]) {
        mat2(&self.0, a, b);
    }
}

/// One gate of a one-qubit backward step, for one row: U† (rounded to `T`) and how its
/// derivative reads.
#[derive(Clone, Copy, Debug)]
enum BackStep<T> {
    Flip,
    /// U† = diag(1, p); `grad`: a Phase angle (G = diag(0, i), dL/da = −2·Σ Im(conj(λ1)ψ1)).
    Phase {
        p: Amp<T>,
        grad: bool,
    },
    /// U† = diag(d0, d1); `grad`: an RZ angle (G = −(i/2)Z, dL/da = Σ Im(conj(λ0)ψ0 − conj(λ1)ψ1)).
    Diag {
        d0: Amp<T>,
        d1: Amp<T>,
        grad: bool,
    },
    /// U† = RX(−θ) as (cos, sin) of −θ/2; G = −(i/2)X, dL/da = Σ Im(conj(λ0)ψ1 + conj(λ1)ψ0).
    Rx {
        c: T,
        s: T,
    },
    /// U† = RY(−θ) as (cos, sin) of −θ/2; G = −(i/2)Y, dL/da = Σ Re(conj(λ1)ψ0 − conj(λ0)ψ1).
    Ry {
        c: T,
        s: T,
    },
    Dense([Amp<T>; 4]),
    /// A parameterised kind without a specialised kernel (U3, …): U† and the model's
    /// generators G_k; dL/da_k = 2·Σ Re(conj(λ)·G_k·ψ).
    Param([Amp<T>; 4], [[Amp<T>; 4]; 3]),
}

impl<T: Real> BackStep<T> {
    /// Adds this gate's derivative terms for a pair of blocks to `acc` (each lane's term in `T`,
    /// summed in f64) and applies U† to ψ and λ.
    #[inline(always)]
    fn pair<const N: usize>(
        &self,
        acc: &mut [Acc; 3],
        p0: &mut [T; N],
        p1: &mut [T; N],
        l0: &mut [T; N],
        l1: &mut [T; N],
    ) {
        let ns = ni_sign::<T>();
        match *self {
            BackStep::Flip => {
                std::mem::swap(p0, p1);
                std::mem::swap(l0, l1);
            }
            BackStep::Phase { p, grad } => {
                if grad {
                    for k in 0..N {
                        acc[0][k] += (ns[k & 1] * l1[k] * p1[k ^ 1]).to_f64();
                    }
                }
                *p1 = cmul(p, p1);
                *l1 = cmul(p, l1);
            }
            BackStep::Diag { d0, d1, grad } => {
                if grad {
                    for k in 0..N {
                        acc[0][k] += (ns[k & 1] * (l0[k] * p0[k ^ 1] - l1[k] * p1[k ^ 1])).to_f64();
                    }
                }
                *p0 = cmul(d0, p0);
                *p1 = cmul(d1, p1);
                *l0 = cmul(d0, l0);
                *l1 = cmul(d1, l1);
            }
            BackStep::Rx { c, s } => {
                for k in 0..N {
                    acc[0][k] += (ns[k & 1] * (l0[k] * p1[k ^ 1] + l1[k] * p0[k ^ 1])).to_f64();
                }
                rot_x(c, s, p0, p1);
                rot_x(c, s, l0, l1);
            }
            BackStep::Ry { c, s } => {
                for k in 0..N {
                    acc[0][k] += (l1[k] * p0[k] - l0[k] * p1[k]).to_f64();
                }
                rot_y(c, s, p0, p1);
                rot_y(c, s, l0, l1);
            }
            BackStep::Dense(md) => {
                mat2(&md, p0, p1);
                mat2(&md, l0, l1);
            }
            BackStep::Param(md, gen) => {
                for (a, g) in acc.iter_mut().zip(&gen) {
                    let (v0, v1) = (cmul2(g[0], p0, g[1], p1), cmul2(g[2], p0, g[3], p1));
                    for k in 0..N {
                        a[k] += (l0[k] * v0[k] + l1[k] * v1[k]).to_f64();
                    }
                }
                mat2(&md, p0, p1);
                mat2(&md, l0, l1);
            }
        }
    }

    /// dL/d(angles) from the accumulated sums.
    fn finish(&self, acc: &[Acc; 3], out: &mut [f64]) {
        match self {
            BackStep::Phase { grad: true, .. } => out[0] = -2.0 * total(&acc[0]),
            BackStep::Diag { grad: true, .. } | BackStep::Rx { .. } | BackStep::Ry { .. } => {
                out[0] = total(&acc[0])
            }
            BackStep::Param(..) => {
                for (o, a) in out.iter_mut().zip(acc) {
                    *o = 2.0 * total(a);
                }
            }
            _ => {}
        }
    }
}

/// One backward step specialised for a single gate (the common case: no loop over steps).
struct Back1<T>(BackStep<T>, [Acc; 3]);

impl<T: Real> PairKernel2<T> for Back1<T> {
    #[inline(always)]
    fn pair<const N: usize>(
        &mut self,
        p0: &mut [T; N],
        p1: &mut [T; N],
        l0: &mut [T; N],
        l1: &mut [T; N],
    ) {
        self.0.pair(&mut self.1, p0, p1, l0, l1);
    }
}

/// A phase on the half where the target is 1: U† = diag(1, p) on ψ and λ; with `grad`, the
/// sums of Im(conj(λ1)ψ1).
struct PhaseBack<T>(Amp<T>, bool, Acc);

impl<T: Real> SingleKernel2<T> for PhaseBack<T> {
    #[inline(always)]
    fn single<const N: usize>(&mut self, p: &mut [T; N], l: &mut [T; N]) {
        if self.1 {
            let ns = ni_sign::<T>();
            for k in 0..N {
                self.2[k] += (ns[k & 1] * l[k] * p[k ^ 1]).to_f64();
            }
        }
        *p = cmul(self.0, p);
        *l = cmul(self.0, l);
    }
}

// ---------------------------------------------------------------------------------------------
// Lowered gates
// ---------------------------------------------------------------------------------------------

/// What a lowered gate does.
#[derive(Clone, Debug)]
enum Kind {
    /// The identity.
    Skip,
    /// X (any controls): swap the pair.
    Flip,
    /// SWAP (any controls): swap quad entries 1 and 2.
    Swap,
    /// diag(1, p), on the half where the target is 1.
    PhaseFixed(C),
    /// Phase(λ) on the half where the target is 1.
    PhaseParam,
    /// diag(d0, d1).
    Diag1Fixed(C, C),
    /// RZ(θ).
    Rz,
    /// A dense one-qubit matrix and its adjoint.
    Dense1Fixed([C; 4], [C; 4]),
    /// RX(θ).
    Rx,
    /// RY(θ).
    Ry,
    /// A parameterised one-qubit kind without a specialised kernel (U3, …): matrix and
    /// generators from the gate model per row.
    Param1,
    /// A two-qubit diagonal.
    Diag2Fixed([C; 4]),
    /// RZZ(θ).
    Rzz,
    /// A dense two-qubit matrix and its adjoint.
    Dense2Fixed(Box<([C; 16], [C; 16])>),
    /// A parameterised two-qubit kind without a specialised kernel (RXX, RYY, …).
    Param2,
}

/// One lowered gate.
#[derive(Clone, Debug)]
pub(crate) struct LoweredOp {
    kind: Kind,
    /// The gate's kind in the gate model: its matrices and generators, per row.
    model: Box<GateKind>,
    walk: Walk,
    /// Bit of the first target.
    b0: usize,
    /// Bit of the second target (two-qubit kinds).
    b1: usize,
    /// The control bits.
    ctrl: usize,
    first_angle: usize,
    num_angles: usize,
}

impl LoweredOp {
    fn lower(
        kind: &GateKind,
        targets: &[usize],
        ctrl: usize,
        first_angle: usize,
        num_angles: usize,
    ) -> Self {
        let b0 = 1usize << targets[0];
        let b1 = targets.get(1).map_or(0, |&t| 1usize << t);
        let parameterised = !kind.angles().is_empty();
        let k = match (kind.class(), targets.len()) {
            (GateClass::Identity, _) => Kind::Skip,
            (GateClass::Permutation(Permutation::Flip), _) => Kind::Flip,
            (GateClass::Permutation(Permutation::Swap), _) => Kind::Swap,
            // Specialised kernels for the common rotations.
            _ if matches!(kind, GateKind::Phase(_)) => Kind::PhaseParam,
            _ if matches!(kind, GateKind::RZ(_)) => Kind::Rz,
            _ if matches!(kind, GateKind::RX(_)) => Kind::Rx,
            _ if matches!(kind, GateKind::RY(_)) => Kind::Ry,
            _ if matches!(kind, GateKind::RZZ(_)) => Kind::Rzz,
            (_, 1) if parameterised => Kind::Param1,
            (_, _) if parameterised => Kind::Param2,
            (GateClass::Phase, _) => Kind::PhaseFixed(kind.matrix(&[])[3]),
            (GateClass::Diagonal, 1) => {
                let m = matrix2(kind, &[]);
                Kind::Diag1Fixed(m[0], m[3])
            }
            (GateClass::Diagonal, _) => {
                let m = matrix4(kind, &[]);
                Kind::Diag2Fixed([m[0], m[5], m[10], m[15]])
            }
            (_, 1) => {
                let m = matrix2(kind, &[]);
                Kind::Dense1Fixed(m, dagger2(&m))
            }
            (_, _) => {
                let m = matrix4(kind, &[]);
                Kind::Dense2Fixed(Box::new((m, dagger4(&m))))
            }
        };
        let walk = match k {
            Kind::Skip => Walk::new(b0, 0),
            Kind::PhaseFixed(_) | Kind::PhaseParam => Walk::new(b0 | ctrl, b0 | ctrl),
            _ => Walk::new(b0 | b1 | ctrl, ctrl),
        };
        LoweredOp {
            kind: k,
            model: Box::new(kind.clone()),
            walk,
            b0,
            b1,
            ctrl,
            first_angle,
            num_angles,
        }
    }

    /// The gate's angle values in the occurrence row `row`.
    #[inline(always)]
    fn angles<'r>(&self, row: &'r [f64]) -> &'r [f64] {
        &row[self.first_angle..self.first_angle + self.num_angles]
    }

    /// Applies the gate for the occurrence values `row`.
    #[inline(always)]
    fn apply<T: Real>(&self, row: &[f64], s: &mut [Amp<T>]) {
        let a = |k: usize| row[self.first_angle + k];
        let (w, b0, b1) = (&self.walk, self.b0, self.b1);
        let len = s.len();
        let diag4 = |s: &mut [Amp<T>], d: [C; 4]| {
            let d = round::<T, 4>(&d);
            quads(s, len, w, b0, b1, |s, i| {
                for k in 0..4 {
                    s[i[k]] = amul(s[i[k]], d[k]);
                }
            });
        };
        match &self.kind {
            Kind::Skip => {}
            Kind::Flip => swap_pairs(s, w, b0),
            Kind::Swap => quads(s, len, w, b0, b1, |s, i| s.swap(i[1], i[2])),
            Kind::PhaseFixed(p) => scale(s, w, amp(*p)),
            Kind::PhaseParam => scale(s, w, amp(expi(a(0)))),
            Kind::Diag1Fixed(d0, d1) => pairs(s, w, b0, &mut Diag::new(*d0, *d1)),
            Kind::Rz => pairs(
                s,
                w,
                b0,
                &mut Diag::new(expi(-a(0) / 2.0), expi(a(0) / 2.0)),
            ),
            Kind::Dense1Fixed(m, _) => pairs(s, w, b0, &mut Dense(round(m))),
            Kind::Rx => {
                let (c, sn) = cos_sin(a(0) / 2.0);
                pairs(s, w, b0, &mut RotX(c, sn));
            }
            Kind::Ry => {
                let (c, sn) = cos_sin(a(0) / 2.0);
                pairs(s, w, b0, &mut RotY(c, sn));
            }
            Kind::Param1 => pairs(
                s,
                w,
                b0,
                &mut Dense(round(&matrix2(&self.model, self.angles(row)))),
            ),
            Kind::Diag2Fixed(d) => diag4(s, *d),
            Kind::Rzz => {
                let (e0, e1) = (expi(-a(0) / 2.0), expi(a(0) / 2.0));
                diag4(s, [e0, e1, e1, e0]);
            }
            Kind::Dense2Fixed(mm) => {
                let m = round(&mm.0);
                quads(s, len, w, b0, b1, |s, i| mat4(&m, s, i));
            }
            Kind::Param2 => {
                let m = round(&matrix4(&self.model, self.angles(row)));
                quads(s, len, w, b0, b1, |s, i| mat4(&m, s, i));
            }
        }
    }

    /// The gate as one gate of a fused permutation run: a controlled X (at least one
    /// control; an uncontrolled X joins chains) or a SWAP (any controls), every touched bit
    /// below [`MAX_PERMUTE_BITS`]; `None` for anything else.
    fn perm_gate(&self) -> Option<PermGate> {
        let touched = self.b0 | self.b1 | self.ctrl;
        if touched >> MAX_PERMUTE_BITS != 0 {
            return None;
        }
        match self.kind {
            Kind::Flip if self.ctrl != 0 => Some(PermGate::Flip {
                target: self.b0,
                ctrl: self.ctrl,
            }),
            Kind::Swap => Some(PermGate::Swap {
                a: self.b0,
                b: self.b1,
                ctrl: self.ctrl,
            }),
            _ => None,
        }
    }

    /// Whether the gate can join a chain: one target, no controls, not the identity.
    fn chainable(&self, num_controls: usize) -> bool {
        num_controls == 0
            && matches!(
                self.kind,
                Kind::Flip
                    | Kind::PhaseFixed(_)
                    | Kind::PhaseParam
                    | Kind::Diag1Fixed(..)
                    | Kind::Rz
                    | Kind::Dense1Fixed(..)
                    | Kind::Rx
                    | Kind::Ry
                    | Kind::Param1
            )
    }

    /// The 2×2 matrix of a one-qubit gate for the row.
    fn matrix1(&self, row: &[f64]) -> [C; 4] {
        match &self.kind {
            Kind::PhaseFixed(p) => [C::ONE, C::ZERO, C::ZERO, *p],
            Kind::Diag1Fixed(d0, d1) => [*d0, C::ZERO, C::ZERO, *d1],
            Kind::Dense1Fixed(m, _) => *m,
            // Flip, the rotations and every other one-qubit kind: the gate model's matrix.
            _ => matrix2(&self.model, self.angles(row)),
        }
    }

    /// The backward step of a one-qubit gate for the row (`None` for other kinds).
    fn back_step<T: Real>(&self, row: &[f64]) -> Option<BackStep<T>> {
        let a = |k: usize| row[self.first_angle + k];
        Some(match &self.kind {
            Kind::Flip => BackStep::Flip,
            Kind::PhaseFixed(p) => BackStep::Phase {
                p: amp(p.conj()),
                grad: false,
            },
            Kind::PhaseParam => BackStep::Phase {
                p: amp(expi(-a(0))),
                grad: true,
            },
            Kind::Diag1Fixed(d0, d1) => BackStep::Diag {
                d0: amp(d0.conj()),
                d1: amp(d1.conj()),
                grad: false,
            },
            Kind::Rz => BackStep::Diag {
                d0: amp(expi(a(0) / 2.0)),
                d1: amp(expi(-a(0) / 2.0)),
                grad: true,
            },
            Kind::Dense1Fixed(_, md) => BackStep::Dense(round(md)),
            Kind::Rx => {
                let (c, s) = cos_sin(-a(0) / 2.0);
                BackStep::Rx { c, s }
            }
            Kind::Ry => {
                let (c, s) = cos_sin(-a(0) / 2.0);
                BackStep::Ry { c, s }
            }
            Kind::Param1 => {
                let angles = self.angles(row);
                BackStep::Param(
                    round(&dagger2(&matrix2(&self.model, angles))),
                    generators::<4>(&self.model, angles).map(|g| round(&g)),
                )
            }
            _ => return None,
        })
    }

    /// One backward step of the adjoint method: with `psi` = the state after this gate and
    /// `lam` = λ after it, writes dL/d(angle k) = 2·Re⟨λ|∂U/∂a_k|ψ_before⟩ into
    /// `grads[first_angle + k]` and leaves ψ ← U†ψ, λ ← U†λ. One pass over both states.
    #[inline(always)]
    fn backward<T: Real>(
        &self,
        row: &[f64],
        psi: &mut [Amp<T>],
        lam: &mut [Amp<T>],
        grads: &mut [f64],
    ) {
        let a = |k: usize| row[self.first_angle + k];
        let (w, b0, b1) = (&self.walk, self.b0, self.b1);
        let len = psi.len();
        let out = &mut grads[self.first_angle..self.first_angle + self.num_angles];
        match &self.kind {
            Kind::Skip => {}
            Kind::Flip => {
                swap_pairs(psi, w, b0);
                swap_pairs(lam, w, b0);
            }
            Kind::Swap => quads(&mut (psi, lam), len, w, b0, b1, |(p, l), i| {
                p.swap(i[1], i[2]);
                l.swap(i[1], i[2]);
            }),
            Kind::PhaseFixed(p) => {
                singles2(psi, lam, w, &mut PhaseBack(amp(p.conj()), false, [0.0; 8]))
            }
            Kind::PhaseParam => {
                let mut k = PhaseBack(amp(expi(-a(0))), true, [0.0; 8]);
                singles2(psi, lam, w, &mut k);
                out[0] = -2.0 * total(&k.2);
            }
            Kind::Diag1Fixed(..)
            | Kind::Rz
            | Kind::Dense1Fixed(..)
            | Kind::Rx
            | Kind::Ry
            | Kind::Param1 => {
                if let Some(step) = self.back_step(row) {
                    let mut k = Back1(step, [[0.0; 8]; 3]);
                    pairs2(psi, lam, w, b0, &mut k);
                    k.0.finish(&k.1, out);
                }
            }
            Kind::Diag2Fixed(d) => {
                let d = round::<T, 4>(&d.map(|v| v.conj()));
                quads(&mut (psi, lam), len, w, b0, b1, |(p, l), i| {
                    for k in 0..4 {
                        p[i[k]] = amul(p[i[k]], d[k]);
                        l[i[k]] = amul(l[i[k]], d[k]);
                    }
                });
            }
            Kind::Rzz => {
                // G = −(i/2)Z⊗Z: grad = Σ_k z_k·Im(conj(λ_k)ψ_k).
                let (e0, e1) = (expi(a(0) / 2.0), expi(-a(0) / 2.0));
                let d = round::<T, 4>(&[e0, e1, e1, e0]);
                let zs = [1.0, -1.0, -1.0, 1.0];
                let mut g = 0.0;
                quads(&mut (psi, lam), len, w, b0, b1, |(p, l), i| {
                    for k in 0..4 {
                        g += zs[k] * im_cb(l[i[k]], p[i[k]]).to_f64();
                        p[i[k]] = amul(p[i[k]], d[k]);
                        l[i[k]] = amul(l[i[k]], d[k]);
                    }
                });
                out[0] = g;
            }
            Kind::Dense2Fixed(mm) => {
                let md = round(&mm.1);
                quads(&mut (psi, lam), len, w, b0, b1, |(p, l), i| {
                    mat4(&md, p, i);
                    mat4(&md, l, i);
                });
            }
            Kind::Param2 => {
                let angles = self.angles(row);
                let md = round(&dagger4(&matrix4(&self.model, angles)));
                let gens = generators::<16>(&self.model, angles).map(|g| round(&g));
                let mut g = [0.0; 3];
                quads(&mut (psi, lam), len, w, b0, b1, |(p, l), i| {
                    let v = [p[i[0]], p[i[1]], p[i[2]], p[i[3]]];
                    for (gk, gen) in g.iter_mut().zip(&gens).take(angles.len()) {
                        for r in 0..4 {
                            *gk += re_cb(l[i[r]], row4(gen, r, &v)).to_f64();
                        }
                    }
                    mat4(&md, p, i);
                    mat4(&md, l, i);
                });
                for (o, gk) in out.iter_mut().zip(g) {
                    *o = 2.0 * gk;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Chains of one-qubit gates
// ---------------------------------------------------------------------------------------------

/// The most gates one chain holds.
const MAX_CHAIN: usize = 8;

/// Consecutive one-qubit gates on one qubit (gates on other qubits in between commute with
/// them): one pass forward with their product, one fused pass backward.
#[derive(Clone, Debug)]
pub(crate) struct Chain {
    gates: Vec<LoweredOp>,
    /// The pairs of the target (built once per plan: the portable kernels walk them).
    walk: Walk,
    tbit: usize,
}

impl Chain {
    /// Applies the chain's product for the row.
    #[inline(always)]
    fn apply<T: Real>(&self, row: &[f64], s: &mut [Amp<T>]) {
        let mut m = self.gates[0].matrix1(row);
        for g in &self.gates[1..] {
            m = matmul2(&g.matrix1(row), &m);
        }
        let q = self.tbit.trailing_zeros() as usize;
        if !T::apply_2x2_simd(s.as_flattened_mut(), q, &m) {
            chain_apply_portable(s, &self.walk, &m);
        }
    }

    /// The adjoint backward step of the whole chain in one pass over the pairs, with one fused
    /// U† per state (see [`ChainBack`]): for U = U_k⋯U_1 and ψ, λ after the chain,
    /// dL/da = 2·Re⟨λ|A|ψ⟩ for every angle a of gate j, with the fixed 2×2
    /// A = W·G·W†, W = U_k⋯U_{j+1} and G = (∂U_j/∂a)·U_j† the gate model's generator. The pass
    /// accumulates the four sums ⟨λ|A|ψ⟩ needs and applies U† to ψ and λ; the derivatives are
    /// then read from the sums on the host.
    #[inline(always)]
    fn backward<T: Real>(
        &self,
        row: &[f64],
        psi: &mut [Amp<T>],
        lam: &mut [Amp<T>],
        grads: &mut [f64],
    ) {
        let tbit = self.tbit;
        self.backward_pairs(row, ChainPairs::Whole { psi, lam, tbit }, grads);
    }

    /// [`Chain::backward`] on matching chunks of the two halves of ψ and λ split at the
    /// chain's target bit (`plo[i]` pairs with `phi[i]`): the chain on the top qubit, cut into
    /// chunks that can run in parallel. The derivatives written are this chunk's share.
    #[inline(always)]
    fn backward_halves<T: Real>(
        &self,
        row: &[f64],
        (plo, phi): (&mut [Amp<T>], &mut [Amp<T>]),
        (llo, lhi): (&mut [Amp<T>], &mut [Amp<T>]),
        grads: &mut [f64],
    ) {
        let pairs = ChainPairs::Halves { plo, phi, llo, lhi };
        self.backward_pairs(row, pairs, grads);
    }

    /// The backward pass on `pairs`: the AVX2 kernel where it runs, else the portable one.
    #[inline(always)]
    fn backward_pairs<T: Real>(
        &self,
        row: &[f64],
        mut pairs: ChainPairs<'_, T>,
        grads: &mut [f64],
    ) {
        let (md, forms, count) = self.back_forms(row);
        let grad = count > 0;
        let sums = match T::chain_back_simd(pairs.reborrow(), &md, grad) {
            Some(sums) => sums,
            None => chain_back_portable(pairs, &self.walk, &md, grad),
        };
        write_derivatives(&forms[..count], &sums, grads);
    }

    /// U† and, for every angle of the chain, (A, its index in the row) with
    /// A = W·G·W† (see [`Chain::backward`]); the number of angles.
    #[inline(always)]
    fn back_forms(&self, row: &[f64]) -> ([C; 4], [Form; 3 * MAX_CHAIN], usize) {
        // W = the product of the gates after the current one, built from the last gate down.
        let mut w = [C::ONE, C::ZERO, C::ZERO, C::ONE];
        let mut forms = [([C::ZERO; 4], 0usize); 3 * MAX_CHAIN];
        let mut count = 0;
        for g in self.gates.iter().rev() {
            let angles = g.angles(row);
            for (k, form) in (0..angles.len()).zip(forms[count..].iter_mut()) {
                let mut gen = [C::ZERO; 4];
                g.model.generator_into(angles, k, &mut gen);
                *form = (matmul2(&matmul2(&w, &gen), &dagger2(&w)), g.first_angle + k);
                count += 1;
            }
            w = matmul2(&w, &g.matrix1(row));
        }
        // `w` is now U itself.
        (dagger2(&w), forms, count)
    }

    /// Applies the chain's product on matching chunks of the two halves of a state split at
    /// the chain's target bit (`lo[i]` pairs with `hi[i]`).
    #[inline(always)]
    fn apply_halves<T: Real>(&self, row: &[f64], lo: &mut [Amp<T>], hi: &mut [Amp<T>]) {
        let mut m = self.gates[0].matrix1(row);
        for g in &self.gates[1..] {
            m = matmul2(&g.matrix1(row), &m);
        }
        pairs_halves(lo, hi, &mut Dense(round(&m)));
    }
}

/// The fixed 2×2 A of one angle of a chain and the angle's index in the row.
type Form = ([C; 4], usize);

/// A chain's backward pass over pairs of blocks (ψ0, ψ1, λ0, λ1): with `GRAD`, the per-lane
/// sums of l0·p0', l1·p1', l0·p1 − l1·p0 and l0·p1' + l1·p0' (' = the other lane of the same
/// amplitude), from which Im S00, Im S11 and t = S01 − conj(S10) follow for
/// S_ab = Σ conj(λ_a)ψ_b; then U† (`m`) on ψ and on λ. Each lane's terms are summed in `T`
/// over at most [`FLUSH`] blocks, then added to f64 sums (so that the hot loop stays in `T`
/// vectors while long sums keep f64 precision).
struct ChainBack<T, const GRAD: bool> {
    m: [Amp<T>; 4],
    lanes: [[T; 8]; 4],
    blocks: u32,
    acc: [Acc; 4],
}

/// Blocks a chain's backward sums in `T` before adding them to its f64 sums.
const FLUSH: u32 = 16;

impl<T: Real, const GRAD: bool> ChainBack<T, GRAD> {
    fn new(m: [Amp<T>; 4]) -> Self {
        ChainBack {
            m,
            lanes: [[T::ZERO; 8]; 4],
            blocks: 0,
            acc: [[0.0; 8]; 4],
        }
    }

    /// Adds the `T` lane sums to the f64 sums.
    #[inline(always)]
    fn flush(&mut self) {
        for (a, l) in self.acc.iter_mut().zip(self.lanes.iter_mut()) {
            for (a, l) in a.iter_mut().zip(l.iter_mut()) {
                *a += l.to_f64();
                *l = T::ZERO;
            }
        }
        self.blocks = 0;
    }

    /// (Im S00, Im S11, Re t, Im t) from the lane sums (even lanes are real parts).
    fn sums(&mut self) -> [f64; 4] {
        self.flush();
        let signed =
            |a: &Acc| a.iter().step_by(2).sum::<f64>() - a.iter().skip(1).step_by(2).sum::<f64>();
        [
            signed(&self.acc[0]),
            signed(&self.acc[1]),
            total(&self.acc[2]),
            signed(&self.acc[3]),
        ]
    }
}

/// A chain's forward 2×2 `m` on the pairs of `walk` (`Walk::new(tbit, 0)`: one target, no
/// controls) of a whole state by the portable kernel (the path without AVX2, and the tests'
/// check of it).
#[inline(always)]
pub(crate) fn chain_apply_portable<T: Real>(s: &mut [Amp<T>], walk: &Walk, m: &[C; 4]) {
    pairs(s, walk, 1 << walk.highest(), &mut Dense(round(m)));
}

/// A chain's backward pass (U† = `m` on ψ and λ; with `grad`, the sums of its derivatives,
/// else zeros) by the portable kernel [`ChainBack`] (the path without AVX2, and the tests'
/// check of it); `walk` is the chain's (`Walk::new(tbit, 0)`), used for whole states.
#[inline(always)]
pub(crate) fn chain_back_portable<T: Real>(
    pairs: ChainPairs<'_, T>,
    walk: &Walk,
    m: &[C; 4],
    grad: bool,
) -> ChainSums {
    fn run<T: Real, const GRAD: bool>(
        pairs: ChainPairs<'_, T>,
        walk: &Walk,
        m: &[C; 4],
    ) -> ChainSums {
        let mut k = ChainBack::<T, GRAD>::new(round(m));
        match pairs {
            ChainPairs::Whole { psi, lam, tbit } => {
                debug_assert_eq!(tbit, 1 << walk.highest());
                pairs2(psi, lam, walk, tbit, &mut k)
            }
            ChainPairs::Halves { plo, phi, llo, lhi } => pairs2_halves(plo, phi, llo, lhi, &mut k),
        }
        if GRAD {
            k.sums()
        } else {
            [0.0; 4]
        }
    }
    if grad {
        run::<T, true>(pairs, walk, m)
    } else {
        run::<T, false>(pairs, walk, m)
    }
}

/// Writes every angle's derivative into `grads` from a chain's sums (Im S00, Im S11, Re t,
/// Im t): 2·Re⟨λ|A|ψ⟩ = 2·Re Σ_ab A_ab·S_ab for an anti-Hermitian A (every generator of a
/// unitary, and so every W·G·W†): A00 = i·α0, A11 = i·α1, A10 = −conj(A01), so the sum is
/// −α0·Im S00 − α1·Im S11 + Re(A01·t).
fn write_derivatives(forms: &[Form], s: &ChainSums, grads: &mut [f64]) {
    for (a, i) in forms {
        grads[*i] = 2.0 * (-a[0].im * s[0] - a[3].im * s[1] + a[1].re * s[2] - a[1].im * s[3]);
    }
}

impl<T: Real, const GRAD: bool> PairKernel2<T> for ChainBack<T, GRAD> {
    #[inline(always)]
    fn pair<const N: usize>(
        &mut self,
        p0: &mut [T; N],
        p1: &mut [T; N],
        l0: &mut [T; N],
        l1: &mut [T; N],
    ) {
        if GRAD {
            // ψ with the two lanes of every amplitude swapped.
            let q0: [T; N] = std::array::from_fn(|k| p0[k ^ 1]);
            let q1: [T; N] = std::array::from_fn(|k| p1[k ^ 1]);
            let [a0, a1, a2, a3] = &mut self.lanes;
            for k in 0..N {
                a0[k] += l0[k] * q0[k];
                a1[k] += l1[k] * q1[k];
                a2[k] += l0[k] * p1[k] - l1[k] * p0[k];
                a3[k] += l0[k] * q1[k] + l1[k] * q0[k];
            }
            self.blocks += 1;
            if self.blocks == FLUSH {
                self.flush();
            }
        }
        mat2(&self.m, p0, p1);
        mat2(&self.m, l0, l1);
    }
}

/// One step of a lowered program.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// A single gate.
    Op(LoweredOp),
    /// Fused one-qubit gates on one qubit.
    Chain(Chain),
    /// A fused run of permutation gates (CNOT ladders and rings, SWAPs, Toffolis).
    Permute(Permute),
}

impl Step {
    /// The highest qubit the step touches: on blocks of 2^k amplitudes with k above it, the
    /// step acts on each block independently.
    pub(crate) fn highest_qubit(&self) -> usize {
        match self {
            Step::Op(op) => op.walk.highest(),
            Step::Chain(c) => c.tbit.trailing_zeros() as usize,
            Step::Permute(p) => p.highest_qubit(),
        }
    }

    /// Applies the step for the occurrence values `row`.
    #[inline(always)]
    pub(crate) fn apply<T: Real>(&self, row: &[f64], s: &mut [Amp<T>]) {
        match self {
            Step::Op(op) => op.apply(row, s),
            Step::Chain(c) => c.apply(row, s),
            Step::Permute(p) => p.apply(s),
        }
    }

    /// The adjoint method's backward step (see [`LoweredOp::backward`]).
    #[inline(always)]
    pub(crate) fn backward<T: Real>(
        &self,
        row: &[f64],
        psi: &mut [Amp<T>],
        lam: &mut [Amp<T>],
        grads: &mut [f64],
    ) {
        match self {
            Step::Op(op) => op.backward(row, psi, lam, grads),
            Step::Chain(c) => c.backward(row, psi, lam, grads),
            Step::Permute(p) => {
                p.apply_inverse(psi);
                p.apply_inverse(lam);
            }
        }
    }
}

impl Step {
    /// Whether the step can run on matching chunks of `2^chunk_bits` amplitudes of the two
    /// halves of a state split at its highest qubit ([`Step::apply_halves`],
    /// [`Step::backward_halves`]): a chain, or an X (CNOT, Toffoli, …) whose target is that
    /// qubit and whose controls lie below the chunk size.
    pub(crate) fn splits_in_halves(&self, chunk_bits: usize) -> bool {
        match self {
            Step::Chain(_) => true,
            Step::Permute(_) => false,
            Step::Op(op) => {
                matches!(op.kind, Kind::Flip)
                    && op.b0 == 1 << op.walk.highest()
                    && op.ctrl >> chunk_bits == 0
            }
        }
    }

    /// Applies the step on matching chunks `lo`, `hi` of the halves below and above its
    /// highest qubit; steps that cannot do nothing (see [`Step::splits_in_halves`]).
    #[inline(always)]
    pub(crate) fn apply_halves<T: Real>(&self, row: &[f64], lo: &mut [Amp<T>], hi: &mut [Amp<T>]) {
        match self {
            Step::Chain(c) => c.apply_halves(row, lo, hi),
            Step::Op(op) if matches!(op.kind, Kind::Flip) => swap_halves(lo, hi, op.ctrl),
            Step::Op(_) | Step::Permute(_) => {}
        }
    }

    /// The backward step of a chain on matching chunks of the halves of ψ and λ (see
    /// [`Step::apply_halves`]), writing this chunk's share of the derivatives.
    #[inline(always)]
    pub(crate) fn backward_halves<T: Real>(
        &self,
        row: &[f64],
        psi: (&mut [Amp<T>], &mut [Amp<T>]),
        lam: (&mut [Amp<T>], &mut [Amp<T>]),
        grads: &mut [f64],
    ) {
        match self {
            Step::Chain(c) => c.backward_halves(row, psi, lam, grads),
            Step::Op(op) if matches!(op.kind, Kind::Flip) => {
                swap_halves(psi.0, psi.1, op.ctrl);
                swap_halves(lam.0, lam.1, op.ctrl);
            }
            Step::Op(_) | Step::Permute(_) => {}
        }
    }
}

/// Groups the lowered gates into steps: a one-qubit gate without controls joins the open chain
/// of its qubit when no gate has touched that qubit since (it commutes with everything in
/// between); any other gate closes the chains of the qubits it touches.
fn fuse(num_qubits: usize, ops: Vec<(LoweredOp, usize, usize)>) -> Vec<Step> {
    let mut groups: Vec<Vec<LoweredOp>> = Vec::new();
    let mut open: Vec<Option<usize>> = vec![None; num_qubits];
    // The last group, when it is a run of permutation gates that the next one may join.
    let mut open_run: Option<usize> = None;
    for (op, touched, num_controls) in ops {
        if matches!(op.kind, Kind::Skip) {
            continue;
        }
        if op.chainable(num_controls) {
            let q = op.b0.trailing_zeros() as usize;
            match open[q] {
                Some(i) if groups[i].len() < MAX_CHAIN => groups[i].push(op),
                _ => {
                    groups.push(vec![op]);
                    open[q] = Some(groups.len() - 1);
                }
            }
        } else {
            for (q, slot) in open.iter_mut().enumerate() {
                if touched >> q & 1 == 1 {
                    *slot = None;
                }
            }
            // A permutation gate joins the run of permutation gates just before it (chain
            // gates that joined earlier groups since commute with it: they are on qubits
            // the run has not touched).
            let fusable = op.perm_gate().is_some();
            match open_run {
                Some(i) if fusable && i + 1 == groups.len() => groups[i].push(op),
                _ => {
                    groups.push(vec![op]);
                    open_run = fusable.then(|| groups.len() - 1);
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|mut g| {
            let run: Option<Vec<PermGate>> = g.iter().map(LoweredOp::perm_gate).collect();
            match (g.len(), run) {
                (1, _) => Step::Op(g.remove(0)),
                (_, Some(run)) => Step::Permute(Permute::new(&run)),
                _ => {
                    let tbit = g[0].b0;
                    Step::Chain(Chain {
                        gates: g,
                        walk: Walk::new(tbit, 0),
                        tbit,
                    })
                }
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

/// A program and its observables, lowered once per call.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) num_qubits: usize,
    pub(crate) num_angles: usize,
    pub(crate) steps: Vec<Step>,
    /// The distinct Pauli strings of all observables.
    pub(crate) strings: Vec<PauliMasks>,
    /// Per observable: (string index, coefficient) for each of its terms.
    pub(crate) observables: Vec<Vec<(usize, f64)>>,
}

impl Plan {
    pub(crate) fn new(program: &Program, observables: &[Observable]) -> Self {
        let lowered = program
            .ops()
            .iter()
            .map(|op| {
                let ctrl = op.gate.control_mask() as usize;
                let touched = op.gate.targets.iter().fold(ctrl, |m, &t| m | 1usize << t);
                (
                    LoweredOp::lower(
                        &op.gate.kind,
                        &op.gate.targets,
                        ctrl,
                        op.first_angle,
                        op.num_angles,
                    ),
                    touched,
                    op.gate.controls.len(),
                )
            })
            .collect();
        let steps = fuse(program.num_qubits(), lowered);
        let (strings, obs) = lower_observables(observables);
        Plan {
            num_qubits: program.num_qubits(),
            num_angles: program.num_angles(),
            steps,
            strings,
            observables: obs,
        }
    }
}

/// The distinct Pauli strings of `observables` and each observable's (string, coefficient)
/// terms.
#[allow(clippy::type_complexity)]
pub(crate) fn lower_observables(
    observables: &[Observable],
) -> (Vec<PauliMasks>, Vec<Vec<(usize, f64)>>) {
    let mut strings: Vec<PauliMasks> = Vec::new();
    // (x, z) masks → index in `strings` (the phase follows from the masks).
    let mut index: HashMap<(usize, usize), usize> = HashMap::new();
    let obs = observables
        .iter()
        .map(|o| {
            o.terms
                .iter()
                .map(|t| {
                    let phase = match t.ops.iter().filter(|(_, p)| *p == Pauli::Y).count() % 4 {
                        0 => C::new(1.0, 0.0),
                        1 => C::new(0.0, 1.0),
                        2 => C::new(-1.0, 0.0),
                        _ => C::new(0.0, -1.0),
                    };
                    let m = PauliMasks {
                        x: t.x_mask() as usize,
                        z: t.z_mask() as usize,
                        phase,
                    };
                    let idx = *index.entry((m.x, m.z)).or_insert_with(|| {
                        strings.push(m);
                        strings.len() - 1
                    });
                    (idx, t.coeff)
                })
                .collect()
        })
        .collect();
    (strings, obs)
}
