//! The storage scalar of the fast CPU state: `f32` or `f64`.

use super::simd::{
    apply_2x2_f32, apply_2x2_f64, chain_back_f32, chain_back_f64, ChainPairs, ChainSums,
};
use crate::backend::Precision;
use num_complex::Complex64 as C;
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A real scalar the fast CPU state stores its amplitudes in (`f32` or `f64`; sealed).
///
/// Amplitudes are kept as interleaved pairs (re, im); gate matrices are computed in f64 and
/// rounded to this type once per gate.
pub trait Real:
    sealed::Sealed
    + Copy
    + Default
    + PartialEq
    + PartialOrd
    + Debug
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    /// The precision this type stores.
    const PRECISION: Precision;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Rounds an `f64` to this type.
    fn from_f64(v: f64) -> Self;
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
    /// A chain's backward pass (U† = `m` on ψ and λ and, with `grad`, the sums of its
    /// derivatives) by the hand-written AVX2 kernels of `simd`, where this processor and the
    /// layout allow; `None` (nothing touched): the caller runs the portable kernel.
    fn chain_back_simd(pairs: ChainPairs<'_, Self>, m: &[C; 4], grad: bool) -> Option<ChainSums>;
    /// Applies the 2×2 `m` to the pairs of qubit `q` of a whole state (its interleaved
    /// `lanes`) by the AVX2 kernel of `simd` where this processor and the size allow; false
    /// (nothing touched): the caller runs the portable kernel.
    fn apply_2x2_simd(lanes: &mut [Self], q: usize, m: &[C; 4]) -> bool;
}

impl Real for f32 {
    const PRECISION: Precision = Precision::F32;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn chain_back_simd(pairs: ChainPairs<'_, Self>, m: &[C; 4], grad: bool) -> Option<ChainSums> {
        chain_back_f32(pairs, m, grad)
    }
    fn apply_2x2_simd(lanes: &mut [Self], q: usize, m: &[C; 4]) -> bool {
        apply_2x2_f32(lanes, q, m)
    }
}

impl Real for f64 {
    const PRECISION: Precision = Precision::F64;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    fn chain_back_simd(pairs: ChainPairs<'_, Self>, m: &[C; 4], grad: bool) -> Option<ChainSums> {
        chain_back_f64(pairs, m, grad)
    }
    fn apply_2x2_simd(lanes: &mut [Self], q: usize, m: &[C; 4]) -> bool {
        apply_2x2_f64(lanes, q, m)
    }
}
