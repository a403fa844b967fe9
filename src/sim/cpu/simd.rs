//! Hand-written AVX2 + FMA kernels for the hottest loop of the batched adjoint method: the
//! backward pass of a chain of one-qubit gates (see `lower::Chain::backward`), which reads
//! the four sums its derivatives need from ψ and λ and applies U† to both, in one pass.
//!
//! The portable kernel (`lower::ChainBack`, element-wise lane loops) keeps its per-lane sums
//! in the kernel's struct, behind `&mut self`, so the compiler round-trips them through memory
//! on every block and leaves most of the pass scalar; it ran at about five times the cost of a
//! forward chain step (12 qubits, f64). Here the sums live in registers (one accumulator per
//! product, so no FMA waits on another), the re/im swaps are single permutes, and U† is two
//! complex multiply-adds per register. The portable kernel stays for other processors, for the
//! layouts handled here (`None`), and as the tests' reference.
//!
//! Layout: states are interleaved (re, im) lanes; a register holds 2 (f64) or 4 (f32)
//! amplitudes. A pair's two amplitudes come from two registers loaded at the pair's two block
//! offsets; where a block is half a register (qubit 0 in f64, qubit 1 in f32), two registers
//! of consecutive blocks are recombined with one 128-bit permute each way.
//!
//! Precision: f64 sums accumulate in f64; f32 products accumulate in f32 for at most
//! [`FOLD`] register steps per lane and are then added into f64, as the portable kernel does.

use super::kernels::Amp;
use num_complex::Complex64 as C;

/// The sums a chain's derivatives are read from: (Im S00, Im S11, Re t, Im t) for
/// S_ab = Σ conj(λ_a)·ψ_b and t = S01 − conj(S10).
pub(crate) type ChainSums = [f64; 4];

/// Where the pairs of one chain's backward pass lie.
pub(crate) enum ChainPairs<'a, T> {
    /// Whole states ψ and λ; the chain's target is the amplitude offset `tbit` (a power of
    /// two), with no controls: every block of `2·tbit` amplitudes holds `tbit` pairs.
    Whole {
        psi: &'a mut [Amp<T>],
        lam: &'a mut [Amp<T>],
        tbit: usize,
    },
    /// Matching chunks of the halves of ψ and λ split at the target bit: `plo[i]` pairs with
    /// `phi[i]`, `llo[i]` with `lhi[i]`.
    Halves {
        plo: &'a mut [Amp<T>],
        phi: &'a mut [Amp<T>],
        llo: &'a mut [Amp<T>],
        lhi: &'a mut [Amp<T>],
    },
}

impl<T> ChainPairs<'_, T> {
    /// The same pairs, borrowed again (to retry another kernel after a `None`).
    pub(crate) fn reborrow(&mut self) -> ChainPairs<'_, T> {
        match self {
            ChainPairs::Whole { psi, lam, tbit } => ChainPairs::Whole {
                psi,
                lam,
                tbit: *tbit,
            },
            ChainPairs::Halves { plo, phi, llo, lhi } => ChainPairs::Halves { plo, phi, llo, lhi },
        }
    }
}

/// f32 register steps summed in f32 before the sums are added into f64.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const FOLD: usize = 16;

/// The chain's backward pass in f64 by the AVX2 kernel: the sums (zeros unless `grad`), with
/// U† = `m` applied to ψ and λ; `None` (nothing touched) where this processor lacks AVX2 +
/// FMA or the layout has no register-sized blocks.
pub(crate) fn chain_back_f64(
    pairs: ChainPairs<'_, f64>,
    m: &[C; 4],
    grad: bool,
) -> Option<ChainSums> {
    #[cfg(target_arch = "x86_64")]
    if avx2_available() {
        // SAFETY: AVX2 and FMA were detected at run time; the kernels check their layouts.
        return unsafe { avx2::chain_back_pd(pairs, m, grad) };
    }
    let _ = (pairs, m, grad);
    None
}

/// [`chain_back_f64`] for f32 states (f32 products, sums folded into f64).
pub(crate) fn chain_back_f32(
    pairs: ChainPairs<'_, f32>,
    m: &[C; 4],
    grad: bool,
) -> Option<ChainSums> {
    #[cfg(target_arch = "x86_64")]
    if avx2_available() {
        // SAFETY: AVX2 and FMA were detected at run time; the kernels check their layouts.
        return unsafe { avx2::chain_back_ps(pairs, m, grad) };
    }
    let _ = (pairs, m, grad);
    None
}

/// Whether the AVX2 loops may run on `len` lanes for qubit `q`: they step through whole
/// registers and whole pairs of blocks, so `len` must be a power of two of at least 16 lanes
/// and hold a whole pair of qubit-`q` blocks (`4·2^q ≤ len`). Anything else takes the
/// portable path.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn avx2_fits(len: usize, q: usize) -> bool {
    len >= 16
        && len.is_power_of_two()
        && u32::try_from(q)
            .ok()
            .and_then(|s| len.checked_shr(s))
            .is_some_and(|blocks| blocks >= 4)
}

/// Applies the 2×2 `m` to the pairs of qubit `q` of a whole f64 state (`lanes`: its
/// interleaved lanes) by the AVX2 kernel; false (nothing touched) where this processor lacks
/// AVX2 + FMA or the state is too small for whole registers.
pub(crate) fn apply_2x2_f64(lanes: &mut [f64], q: usize, m: &[C; 4]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if avx2_available() && avx2_fits(lanes.len(), q) {
        let m = m.map(|c| [c.re, c.im]);
        // SAFETY: AVX2 and FMA were detected at run time; `avx2_fits` checked the layout.
        unsafe { avx2::apply_f64(lanes, q, &m) };
        return true;
    }
    let _ = (lanes, q, m);
    false
}

/// [`apply_2x2_f64`] for an f32 state (the entries rounded to f32).
pub(crate) fn apply_2x2_f32(lanes: &mut [f32], q: usize, m: &[C; 4]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if avx2_available() && avx2_fits(lanes.len(), q) {
        let m = m.map(|c| [c.re as f32, c.im as f32]);
        // SAFETY: AVX2 and FMA were detected at run time; `avx2_fits` checked the layout.
        unsafe { avx2::apply_f32(lanes, q, &m) };
        return true;
    }
    let _ = (lanes, q, m);
    false
}

/// Whether the AVX2 kernels may run (std caches the detection).
#[cfg(target_arch = "x86_64")]
fn avx2_available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// (Im S00, Im S11, Re t, Im t) from the six per-lane sums l0·swap(p0), l1·swap(p1), l0·p1,
/// l1·p0, l0·swap(p1), l1·swap(p0) (even lanes are real parts): Im(conj(a)·b) is the even
/// lanes of a·swap(b) minus the odd ones, Re(conj(a)·b) all lanes of a·b.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn finish(acc: &[[f64; 8]; 6]) -> ChainSums {
    // (f64 registers fill lanes 0..4; the rest are zero.)
    let signed =
        |a: &[f64]| a.iter().step_by(2).sum::<f64>() - a.iter().skip(1).step_by(2).sum::<f64>();
    let total = |a: &[f64]| a.iter().sum::<f64>();
    [
        signed(&acc[0]),
        signed(&acc[1]),
        total(&acc[2]) - total(&acc[3]),
        signed(&acc[4]) + signed(&acc[5]),
    ]
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use super::{finish, ChainPairs, ChainSums, C, FOLD};
    use std::arch::x86_64::*;

    /// A complex matrix entry as (re, im) broadcasts.
    type Bc<V> = (V, V);

    /// w·x + v·y for complex w, v given as (re, im) broadcasts and the pair-swapped xs, ys:
    /// even lanes re·x − im·xs, odd lanes re·x + im·xs.
    #[inline(always)]
    unsafe fn cmadd_ps(
        (wr, wi): (__m256, __m256),
        x: __m256,
        xs: __m256,
        (vr, vi): (__m256, __m256),
        y: __m256,
        ys: __m256,
    ) -> __m256 {
        let p = _mm256_fmadd_ps(vr, y, _mm256_mul_ps(wr, x));
        let q = _mm256_fmadd_ps(vi, ys, _mm256_mul_ps(wi, xs));
        _mm256_addsub_ps(p, q)
    }

    #[inline(always)]
    unsafe fn cmadd_pd(
        (wr, wi): (__m256d, __m256d),
        x: __m256d,
        xs: __m256d,
        (vr, vi): (__m256d, __m256d),
        y: __m256d,
        ys: __m256d,
    ) -> __m256d {
        let p = _mm256_fmadd_pd(vr, y, _mm256_mul_pd(wr, x));
        let q = _mm256_fmadd_pd(vi, ys, _mm256_mul_pd(wi, xs));
        _mm256_addsub_pd(p, q)
    }

    /// f32 2×2 apply. `lanes.len() ≥ 16`, a power of two.
    ///
    /// # Safety
    ///
    /// The CPU supports AVX2 and FMA; `lanes.len()` is a power of two ≥ 16 and
    /// `4·2^q ≤ lanes.len()` (so `2·half` divides the length and every pair of blocks, and
    /// every register load, lies inside `lanes`).
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn apply_f32(lanes: &mut [f32], q: usize, m: &[[f32; 2]; 4]) {
        let len = lanes.len();
        let p = lanes.as_mut_ptr();
        let half = 2usize << q;
        let bc = |w: [f32; 2]| (_mm256_set1_ps(w[0]), _mm256_set1_ps(w[1]));
        if half >= 8 {
            let (m00, m01, m10, m11) = (bc(m[0]), bc(m[1]), bc(m[2]), bc(m[3]));
            let mut base = 0;
            while base < len {
                let mut j = 0;
                while j < half {
                    // SAFETY: base + half + j + 8 ≤ base + 2·half ≤ len.
                    let pa = p.add(base + j);
                    let pb = p.add(base + half + j);
                    let a = _mm256_loadu_ps(pa);
                    let b = _mm256_loadu_ps(pb);
                    let as_ = _mm256_permute_ps::<0xB1>(a);
                    let bs = _mm256_permute_ps::<0xB1>(b);
                    _mm256_storeu_ps(pa, cmadd_ps(m00, a, as_, m01, b, bs));
                    _mm256_storeu_ps(pb, cmadd_ps(m10, a, as_, m11, b, bs));
                    j += 8;
                }
                base += 2 * half;
            }
            return;
        }
        // half = 4 (q = 1: [a a | b b]) or 2 (q = 0: [a b | a b]): each lane's own and partner
        // coefficients as vectors, the partner amplitudes by a permute.
        let lane_coeffs = |a_side: [f32; 2], b_side: [f32; 2]| -> (__m256, __m256) {
            let mut re = [0f32; 8];
            let mut im = [0f32; 8];
            for k in 0..8 {
                let w = if k & half == 0 { a_side } else { b_side };
                re[k] = w[0];
                im[k] = w[1];
            }
            (_mm256_loadu_ps(re.as_ptr()), _mm256_loadu_ps(im.as_ptr()))
        };
        let own = lane_coeffs(m[0], m[3]);
        let other = lane_coeffs(m[1], m[2]);
        let mut base = 0;
        while base < len {
            let px = p.add(base);
            // SAFETY: len is a multiple of 8 and base < len steps by 8, so the load and the
            // store of px cover base..base + 8 ≤ len.
            let x = _mm256_loadu_ps(px);
            let y = if half == 4 {
                _mm256_permute2f128_ps::<0x01>(x, x)
            } else {
                _mm256_permute_ps::<0x4E>(x)
            };
            let xs = _mm256_permute_ps::<0xB1>(x);
            let ys = _mm256_permute_ps::<0xB1>(y);
            _mm256_storeu_ps(px, cmadd_ps(own, x, xs, other, y, ys));
            base += 8;
        }
    }

    /// f64 2×2 apply. `lanes.len() ≥ 16`, a power of two.
    ///
    /// # Safety
    ///
    /// The CPU supports AVX2 and FMA; `lanes.len()` is a power of two ≥ 16 and
    /// `4·2^q ≤ lanes.len()` (so `2·half` divides the length and every pair of blocks, and
    /// every register load, lies inside `lanes`).
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn apply_f64(lanes: &mut [f64], q: usize, m: &[[f64; 2]; 4]) {
        let len = lanes.len();
        let p = lanes.as_mut_ptr();
        let half = 2usize << q;
        let bc = |w: [f64; 2]| (_mm256_set1_pd(w[0]), _mm256_set1_pd(w[1]));
        if half >= 4 {
            let (m00, m01, m10, m11) = (bc(m[0]), bc(m[1]), bc(m[2]), bc(m[3]));
            let mut base = 0;
            while base < len {
                let mut j = 0;
                while j < half {
                    // SAFETY: base + half + j + 4 ≤ base + 2·half ≤ len.
                    let pa = p.add(base + j);
                    let pb = p.add(base + half + j);
                    let a = _mm256_loadu_pd(pa);
                    let b = _mm256_loadu_pd(pb);
                    let as_ = _mm256_permute_pd::<0b0101>(a);
                    let bs = _mm256_permute_pd::<0b0101>(b);
                    _mm256_storeu_pd(pa, cmadd_pd(m00, a, as_, m01, b, bs));
                    _mm256_storeu_pd(pb, cmadd_pd(m10, a, as_, m11, b, bs));
                    j += 4;
                }
                base += 2 * half;
            }
            return;
        }
        // q = 0: [ar ai br bi] per register.
        let own = (
            _mm256_setr_pd(m[0][0], m[0][0], m[3][0], m[3][0]),
            _mm256_setr_pd(m[0][1], m[0][1], m[3][1], m[3][1]),
        );
        let other = (
            _mm256_setr_pd(m[1][0], m[1][0], m[2][0], m[2][0]),
            _mm256_setr_pd(m[1][1], m[1][1], m[2][1], m[2][1]),
        );
        let mut base = 0;
        while base < len {
            let px = p.add(base);
            // SAFETY: len is a multiple of 4 and base < len steps by 4, so the load and the
            // store of px cover base..base + 4 ≤ len.
            let x = _mm256_loadu_pd(px);
            let y = _mm256_permute4x64_pd::<0x4E>(x);
            let xs = _mm256_permute_pd::<0b0101>(x);
            let ys = _mm256_permute_pd::<0b0101>(y);
            _mm256_storeu_pd(px, cmadd_pd(own, x, xs, other, y, ys));
            base += 4;
        }
    }

    /// An AVX2 register of interleaved (re, im) lanes, f64 (`__m256d`, 2 amplitudes) or f32
    /// (`__m256`, 4 amplitudes): the operations the chain kernel needs, so that one generic
    /// kernel serves both precisions. (Plain `#[inline(always)]` functions: they are inlined
    /// into the `target_feature` entry points below, which compile them with AVX2 + FMA.)
    ///
    /// # Safety
    ///
    /// Every method (and the generic `step`, `run`, `whole`, `halves` built on them) may only
    /// run inside `chain_back_pd` / `chain_back_ps`, i.e. on a CPU with AVX2 + FMA; bounds are
    /// checked by slicing (`load` / `store` take `s[..LANES]`).
    pub(super) trait Reg: Copy {
        /// The lane scalar.
        type F: Copy;
        /// Lanes per register.
        const LANES: usize;
        /// The f32/f64 sums of this precision.
        type Acc: Sums<Self>;
        unsafe fn load(s: &[Self::F]) -> Self;
        unsafe fn store(self, s: &mut [Self::F]);
        unsafe fn zero() -> Self;
        unsafe fn splat(v: f64) -> Self;
        /// Each amplitude's re and im swapped.
        unsafe fn swap(self) -> Self;
        unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self;
        /// w·x + v·y for complex broadcasts w, v and the re/im-swapped xs, ys.
        unsafe fn cmadd(w: Bc<Self>, x: Self, xs: Self, v: Bc<Self>, y: Self, ys: Self) -> Self;
        /// The low 128-bit halves of a and b, and the high ones.
        unsafe fn halves(a: Self, b: Self) -> (Self, Self);
    }

    /// The six per-lane sums of a chain's backward pass, added up in f64.
    ///
    /// # Safety
    ///
    /// As for [`Reg`]: only inside `chain_back_pd` / `chain_back_ps` (AVX2 + FMA).
    pub(super) trait Sums<R> {
        unsafe fn new() -> Self;
        fn regs(&mut self) -> &mut [R; 6];
        /// Counts one register step (f32 folds its sums into f64 every [`FOLD`] steps).
        unsafe fn count(&mut self);
        unsafe fn finish(self) -> ChainSums;
    }

    impl Reg for __m256d {
        type F = f64;
        const LANES: usize = 4;
        type Acc = [__m256d; 6];
        #[inline(always)]
        unsafe fn load(s: &[f64]) -> Self {
            _mm256_loadu_pd(s[..4].as_ptr())
        }
        #[inline(always)]
        unsafe fn store(self, s: &mut [f64]) {
            _mm256_storeu_pd(s[..4].as_mut_ptr(), self)
        }
        #[inline(always)]
        unsafe fn zero() -> Self {
            _mm256_setzero_pd()
        }
        #[inline(always)]
        unsafe fn splat(v: f64) -> Self {
            _mm256_set1_pd(v)
        }
        #[inline(always)]
        unsafe fn swap(self) -> Self {
            _mm256_permute_pd::<0b0101>(self)
        }
        #[inline(always)]
        unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self {
            _mm256_fmadd_pd(a, b, c)
        }
        #[inline(always)]
        unsafe fn cmadd(w: Bc<Self>, x: Self, xs: Self, v: Bc<Self>, y: Self, ys: Self) -> Self {
            cmadd_pd(w, x, xs, v, y, ys)
        }
        #[inline(always)]
        unsafe fn halves(a: Self, b: Self) -> (Self, Self) {
            (
                _mm256_permute2f128_pd::<0x20>(a, b),
                _mm256_permute2f128_pd::<0x31>(a, b),
            )
        }
    }

    impl Reg for __m256 {
        type F = f32;
        const LANES: usize = 8;
        type Acc = AccPs;
        #[inline(always)]
        unsafe fn load(s: &[f32]) -> Self {
            _mm256_loadu_ps(s[..8].as_ptr())
        }
        #[inline(always)]
        unsafe fn store(self, s: &mut [f32]) {
            _mm256_storeu_ps(s[..8].as_mut_ptr(), self)
        }
        #[inline(always)]
        unsafe fn zero() -> Self {
            _mm256_setzero_ps()
        }
        #[inline(always)]
        unsafe fn splat(v: f64) -> Self {
            // The entries rounded to f32, as the portable kernel rounds them.
            _mm256_set1_ps(v as f32)
        }
        #[inline(always)]
        unsafe fn swap(self) -> Self {
            _mm256_permute_ps::<0xB1>(self)
        }
        #[inline(always)]
        unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self {
            _mm256_fmadd_ps(a, b, c)
        }
        #[inline(always)]
        unsafe fn cmadd(w: Bc<Self>, x: Self, xs: Self, v: Bc<Self>, y: Self, ys: Self) -> Self {
            cmadd_ps(w, x, xs, v, y, ys)
        }
        #[inline(always)]
        unsafe fn halves(a: Self, b: Self) -> (Self, Self) {
            (
                _mm256_permute2f128_ps::<0x20>(a, b),
                _mm256_permute2f128_ps::<0x31>(a, b),
            )
        }
    }

    impl Sums<__m256d> for [__m256d; 6] {
        #[inline(always)]
        unsafe fn new() -> Self {
            [_mm256_setzero_pd(); 6]
        }
        #[inline(always)]
        fn regs(&mut self) -> &mut [__m256d; 6] {
            self
        }
        #[inline(always)]
        unsafe fn count(&mut self) {}
        #[inline(always)]
        unsafe fn finish(self) -> ChainSums {
            let mut lanes = [[0.0; 8]; 6];
            for (l, v) in lanes.iter_mut().zip(self) {
                _mm256_storeu_pd(l.as_mut_ptr(), v);
            }
            finish(&lanes)
        }
    }

    /// f32 accumulators and their f64 totals.
    pub(super) struct AccPs {
        acc: [__m256; 6],
        steps: usize,
        wide: [[__m256d; 2]; 6],
    }

    impl AccPs {
        #[inline(always)]
        unsafe fn fold(&mut self) {
            for (a, w) in self.acc.iter_mut().zip(self.wide.iter_mut()) {
                let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(*a));
                let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(*a));
                w[0] = _mm256_add_pd(w[0], lo);
                w[1] = _mm256_add_pd(w[1], hi);
                *a = _mm256_setzero_ps();
            }
            self.steps = 0;
        }
    }

    impl Sums<__m256> for AccPs {
        #[inline(always)]
        unsafe fn new() -> Self {
            AccPs {
                acc: [_mm256_setzero_ps(); 6],
                steps: 0,
                wide: [[_mm256_setzero_pd(); 2]; 6],
            }
        }
        #[inline(always)]
        fn regs(&mut self) -> &mut [__m256; 6] {
            &mut self.acc
        }
        #[inline(always)]
        unsafe fn count(&mut self) {
            self.steps += 1;
            if self.steps == FOLD {
                self.fold();
            }
        }
        #[inline(always)]
        unsafe fn finish(mut self) -> ChainSums {
            self.fold();
            let mut lanes = [[0.0; 8]; 6];
            for (l, [lo, hi]) in lanes.iter_mut().zip(&self.wide) {
                _mm256_storeu_pd(l.as_mut_ptr(), *lo);
                _mm256_storeu_pd(l[4..].as_mut_ptr(), *hi);
            }
            finish(&lanes)
        }
    }

    /// One register step: the six products into `acc` (with `GRAD`), then U† (`m`) on
    /// (p0, p1) and (l0, l1); returns the new [p0, p1, l0, l1].
    #[inline(always)]
    unsafe fn step<R: Reg, const GRAD: bool>(
        m: &[Bc<R>; 4],
        acc: &mut R::Acc,
        [p0, p1, l0, l1]: [R; 4],
    ) -> [R; 4] {
        let (q0, q1, r0, r1) = (p0.swap(), p1.swap(), l0.swap(), l1.swap());
        if GRAD {
            let a = acc.regs();
            a[0] = R::fmadd(l0, q0, a[0]);
            a[1] = R::fmadd(l1, q1, a[1]);
            a[2] = R::fmadd(l0, p1, a[2]);
            a[3] = R::fmadd(l1, p0, a[3]);
            a[4] = R::fmadd(l0, q1, a[4]);
            a[5] = R::fmadd(l1, q0, a[5]);
            acc.count();
        }
        [
            R::cmadd(m[0], p0, q0, m[1], p1, q1),
            R::cmadd(m[2], p0, q0, m[3], p1, q1),
            R::cmadd(m[0], l0, r0, m[1], l1, r1),
            R::cmadd(m[2], l0, r0, m[3], l1, r1),
        ]
    }

    /// The matrix entries as (re, im) broadcasts.
    #[inline(always)]
    unsafe fn matrix<R: Reg>(m: &[C; 4]) -> [Bc<R>; 4] {
        let mut out = [(R::zero(), R::zero()); 4];
        for (o, c) in out.iter_mut().zip(m) {
            *o = (R::splat(c.re), R::splat(c.im));
        }
        out
    }

    /// Four equal-length lane slices (p0, p1, l0, l1), stepped through together.
    type Quad<'a, F> = [&'a mut [F]; 4];

    /// Loads, steps and stores every register of `q` (lengths multiples of `R::LANES`).
    #[inline(always)]
    unsafe fn run<R: Reg, const GRAD: bool>(q: Quad<'_, R::F>, m: &[Bc<R>; 4], acc: &mut R::Acc) {
        let w = R::LANES;
        let [a, b, c, d] = q;
        for (((a, b), c), d) in a
            .chunks_exact_mut(w)
            .zip(b.chunks_exact_mut(w))
            .zip(c.chunks_exact_mut(w))
            .zip(d.chunks_exact_mut(w))
        {
            let v = [R::load(a), R::load(b), R::load(c), R::load(d)];
            let [oa, ob, oc, od] = step::<R, GRAD>(m, acc, v);
            oa.store(a);
            ob.store(b);
            oc.store(c);
            od.store(d);
        }
    }

    /// Whole states (lane slices), target offset `tbit` amplitudes: blocks of a whole
    /// register or more step through `run`; blocks of half a register are recombined.
    #[inline(always)]
    unsafe fn whole<R: Reg, const GRAD: bool>(
        psi: &mut [R::F],
        lam: &mut [R::F],
        tbit: usize,
        m: &[C; 4],
    ) -> Option<ChainSums> {
        let (w, block) = (R::LANES, 4 * tbit); // block: lanes of 2·tbit amplitudes
        if psi.len() != lam.len()
            || !tbit.is_power_of_two()
            || block < w
            || !psi.len().is_multiple_of(block.max(2 * w))
        {
            return None;
        }
        let m = matrix::<R>(m);
        let mut acc = R::Acc::new();
        if block >= 2 * w {
            for (bp, bl) in psi.chunks_exact_mut(block).zip(lam.chunks_exact_mut(block)) {
                let (p0, p1) = bp.split_at_mut(block / 2);
                let (l0, l1) = bl.split_at_mut(block / 2);
                run::<R, GRAD>([p0, p1, l0, l1], &m, &mut acc);
            }
        } else {
            // A block is half a register (f64 qubit 0, f32 qubit 1): two registers of
            // consecutive blocks recombine into (p0, p1) and back.
            for (bp, bl) in psi.chunks_exact_mut(2 * w).zip(lam.chunks_exact_mut(2 * w)) {
                let (bp0, bp1) = bp.split_at_mut(w);
                let (bl0, bl1) = bl.split_at_mut(w);
                let (p0, p1) = R::halves(R::load(bp0), R::load(bp1));
                let (l0, l1) = R::halves(R::load(bl0), R::load(bl1));
                let [p0, p1, l0, l1] = step::<R, GRAD>(&m, &mut acc, [p0, p1, l0, l1]);
                let (x, y) = R::halves(p0, p1);
                x.store(bp0);
                y.store(bp1);
                let (x, y) = R::halves(l0, l1);
                x.store(bl0);
                y.store(bl1);
            }
        }
        Some(acc.finish())
    }

    /// Matching chunks of the halves of ψ and λ.
    #[inline(always)]
    unsafe fn halves<R: Reg>(q: Quad<'_, R::F>, m: &[C; 4], grad: bool) -> Option<ChainSums> {
        let len = q[0].len();
        if q.iter().any(|s| s.len() != len) || !len.is_multiple_of(R::LANES) {
            return None;
        }
        let m = matrix::<R>(m);
        let mut acc = R::Acc::new();
        if grad {
            run::<R, true>(q, &m, &mut acc);
        } else {
            run::<R, false>(q, &m, &mut acc);
        }
        Some(acc.finish())
    }

    /// The chain's backward pass on `pairs` in precision `R` (see `chain_back_f64`).
    #[inline(always)]
    unsafe fn chain_back<R: Reg>(
        pairs: ChainPairs<'_, R::F>,
        m: &[C; 4],
        grad: bool,
    ) -> Option<ChainSums> {
        match (pairs, grad) {
            (ChainPairs::Whole { psi, lam, tbit }, true) => {
                whole::<R, true>(psi.as_flattened_mut(), lam.as_flattened_mut(), tbit, m)
            }
            (ChainPairs::Whole { psi, lam, tbit }, false) => {
                whole::<R, false>(psi.as_flattened_mut(), lam.as_flattened_mut(), tbit, m)
            }
            (ChainPairs::Halves { plo, phi, llo, lhi }, g) => {
                let q = [plo, phi, llo, lhi].map(|s| s.as_flattened_mut());
                halves::<R>(q, m, g)
            }
        }
    }

    /// [`chain_back`] in f64, compiled with AVX2 + FMA.
    ///
    /// # Safety
    ///
    /// The CPU supports AVX2 and FMA (the kernels check their layouts themselves).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn chain_back_pd(
        pairs: ChainPairs<'_, f64>,
        m: &[C; 4],
        grad: bool,
    ) -> Option<ChainSums> {
        chain_back::<__m256d>(pairs, m, grad)
    }

    /// [`chain_back`] in f32 (sums folded into f64), compiled with AVX2 + FMA.
    ///
    /// # Safety
    ///
    /// The CPU supports AVX2 and FMA (the kernels check their layouts themselves).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn chain_back_ps(
        pairs: ChainPairs<'_, f32>,
        m: &[C; 4],
        grad: bool,
    ) -> Option<ChainSums> {
        chain_back::<__m256>(pairs, m, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::cpu::kernels::Walk;

    /// A deterministic pseudo-random amplitude stream.
    fn state<T: crate::sim::cpu::Real>(len: usize, seed: u64) -> Vec<Amp<T>> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        (0..len)
            .map(|_| [T::from_f64(next()), T::from_f64(next())])
            .collect()
    }

    fn c<T: crate::sim::cpu::Real>(a: Amp<T>) -> C {
        C::new(a[0].to_f64(), a[1].to_f64())
    }

    /// The sums and the states after U† computed pair by pair in complex f64.
    fn reference<T: crate::sim::cpu::Real>(
        psi: &[Amp<T>],
        lam: &[Amp<T>],
        tbit: usize,
        m: &[C; 4],
    ) -> (ChainSums, Vec<C>, Vec<C>) {
        let mut s = [[C::new(0.0, 0.0); 2]; 2];
        let (mut p, mut l): (Vec<C>, Vec<C>) = (
            psi.iter().map(|&a| c(a)).collect(),
            lam.iter().map(|&a| c(a)).collect(),
        );
        for i in (0..psi.len()).filter(|i| i & tbit == 0) {
            let (pv, lv) = ([p[i], p[i + tbit]], [l[i], l[i + tbit]]);
            for a in 0..2 {
                for b in 0..2 {
                    s[a][b] += lv[a].conj() * pv[b];
                }
            }
            for (v, st) in [(pv, &mut p), (lv, &mut l)] {
                st[i] = m[0] * v[0] + m[1] * v[1];
                st[i + tbit] = m[2] * v[0] + m[3] * v[1];
            }
        }
        let t = s[0][1] - s[1][0].conj();
        ([s[0][0].im, s[1][1].im, t.re, t.im], p, l)
    }

    fn matrix() -> [C; 4] {
        // Any 2×2 will do for the kernels; a unitary keeps magnitudes in range.
        let (a, b) = (C::from_polar(0.6, 0.3), C::from_polar(0.8, -1.1));
        [a, -b.conj(), b, a.conj()]
    }

    fn check<T: crate::sim::cpu::Real>(
        run: fn(ChainPairs<'_, T>, &[C; 4], bool) -> Option<ChainSums>,
        tol: f64,
    ) {
        // 9 qubits: up to 64 register steps per pass, so the f32 sums fold into f64 mid-pass
        // (every FOLD = 16 steps), not only at the end.
        let n = 9;
        let len = 1usize << n;
        let m = matrix();
        for q in 0..n {
            let tbit = 1usize << q;
            for grad in [true, false] {
                let (mut psi, mut lam) = (
                    state::<T>(len, 3 + q as u64),
                    state::<T>(len, 40 + q as u64),
                );
                let (sums, p, l) = reference(&psi, &lam, tbit, &m);
                let pairs = ChainPairs::Whole {
                    psi: &mut psi,
                    lam: &mut lam,
                    tbit,
                };
                let Some(got) = run(pairs, &m, grad) else {
                    // Only layouts below a register's block may be refused (f32 qubit 0).
                    assert!(
                        T::PRECISION.bytes_per_amplitude() == 8 && q == 0,
                        "q={q} refused"
                    );
                    continue;
                };
                let want = if grad { sums } else { [0.0; 4] };
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= tol * (1.0 + w.abs()),
                        "q={q} sums {got:?} vs {want:?}"
                    );
                }
                for (st, r) in [(&psi, &p), (&lam, &l)] {
                    for (a, b) in st.iter().zip(r) {
                        assert!((c(*a) - b).norm() <= tol, "q={q} state {:?} vs {b}", c(*a));
                    }
                }
            }
        }
        // Halves: lo[i] pairs with hi[i].
        let half = len / 2;
        let (mut psi, mut lam) = (state::<T>(len, 7), state::<T>(len, 8));
        let (sums, p, l) = reference(&psi, &lam, half, &m);
        let (plo, phi) = psi.split_at_mut(half);
        let (llo, lhi) = lam.split_at_mut(half);
        let got = run(ChainPairs::Halves { plo, phi, llo, lhi }, &m, true);
        let got = got.expect("register-sized halves run");
        for (g, w) in got.iter().zip(sums) {
            assert!(
                (g - w).abs() <= tol * (1.0 + w.abs()),
                "halves sums {got:?} vs {sums:?}"
            );
        }
        for (st, r) in [(&psi, &p), (&lam, &l)] {
            for (a, b) in st.iter().zip(r) {
                assert!((c(*a) - b).norm() <= tol, "halves state");
            }
        }
    }

    /// The portable kernels as a runner of [`check`] (they always run).
    fn portable<T: crate::sim::cpu::Real>(
        mut pairs: ChainPairs<'_, T>,
        m: &[C; 4],
        grad: bool,
    ) -> Option<ChainSums> {
        let tbit = match pairs.reborrow() {
            ChainPairs::Whole { tbit, .. } => tbit,
            ChainPairs::Halves { .. } => 1, // (the walk is not used for halves)
        };
        let walk = Walk::new(tbit, 0);
        Some(crate::sim::cpu::lower::chain_back_portable(
            pairs, &walk, m, grad,
        ))
    }

    #[test]
    fn avx2_chain_backward_matches_pairwise_complex_math() {
        #[cfg(target_arch = "x86_64")]
        if !avx2_available() {
            return; // nothing to compare: the kernels refuse to run
        }
        check::<f64>(chain_back_f64, 1e-12);
        check::<f32>(chain_back_f32, 2e-5);
    }

    /// The portable kernels (the path of processors without AVX2; on this one the chains take
    /// the AVX2 kernels on both instruction-set variants of the row passes) against the same
    /// pair-by-pair math, backward and forward.
    #[test]
    fn portable_chain_kernels_match_pairwise_complex_math() {
        check::<f64>(portable::<f64>, 1e-12);
        check::<f32>(portable::<f32>, 2e-5);
        let m = matrix();
        for q in 0..7 {
            let tbit = 1usize << q;
            let mut psi = state::<f64>(128, 60 + q as u64);
            let (_, want, _) = reference(&psi, &psi.clone(), tbit, &m);
            crate::sim::cpu::lower::chain_apply_portable(&mut psi, &Walk::new(tbit, 0), &m);
            for (a, b) in psi.iter().zip(&want) {
                assert!((c(*a) - b).norm() <= 1e-12, "forward q={q}");
            }
        }
    }
}
