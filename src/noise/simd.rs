//! The two hot loops of the trajectory engine, on a state of interleaved (re, im) lanes, for
//! one qubit's amplitude pairs (a with the qubit's bit 0, b with it 1):
//!
//! * the block sums (Σ|a|², Σ|b|², Re Σ a·conj(b), Im Σ a·conj(b)) behind the qubit's 2×2
//!   reduced block, read once per non-unitary channel;
//! * a dense 2×2 matrix applied to the pairs (a qubit's pending matrix).
//!
//! Why hand-written AVX2: written as portable lane loops (as the gate kernels are), the four
//! loop-carried accumulators defeated LLVM's vectoriser (it split them into scalars and
//! spilled them), so a read cost twice a dense pass, and the dense pass built each
//! pair-swapped vector from unaligned loads and blends (~35 instructions per 8 lanes where 16
//! do). The AVX2 + FMA versions keep their accumulators in registers and swap with one
//! permute; the portable versions stay for other processors and as the tests' reference.

use crate::math::isa::Isa;
#[cfg(target_arch = "x86_64")]
use crate::sim::cpu::simd::avx2_fits;
use crate::sim::cpu::Real;

/// A state precision whose block sums have a vectorised version.
pub(crate) trait BlockSums: Real {
    /// The block sums of qubit `q` over `lanes` (`2·2ⁿ` interleaved lanes, `q < n`) on the
    /// instruction set `isa`.
    fn block_sums(isa: Isa, lanes: &[Self], q: usize) -> [f64; 4];

    /// Applies the 2×2 `m` (row-major, entries (re, im)) to qubit `q`'s pairs of `lanes`.
    fn apply_2x2(isa: Isa, lanes: &mut [Self], q: usize, m: &[[Self; 2]; 4]);
}

/// The portable 2×2 apply.
pub(crate) fn portable_apply<T: Real>(lanes: &mut [T], q: usize, m: &[[T; 2]; 4]) {
    let half = 2usize << q;
    let mul = |w: [T; 2], x: [T; 2]| [w[0] * x[0] - w[1] * x[1], w[0] * x[1] + w[1] * x[0]];
    let add = |x: [T; 2], y: [T; 2]| [x[0] + y[0], x[1] + y[1]];
    for chunk in lanes.chunks_exact_mut(2 * half) {
        let (lo, hi) = chunk.split_at_mut(half);
        for (a, b) in lo.chunks_exact_mut(2).zip(hi.chunks_exact_mut(2)) {
            let (x, y) = ([a[0], a[1]], [b[0], b[1]]);
            let na = add(mul(m[0], x), mul(m[1], y));
            let nb = add(mul(m[2], x), mul(m[3], y));
            a.copy_from_slice(&na);
            b.copy_from_slice(&nb);
        }
    }
}

/// The portable version: per-lane sums in `T`, pairs `half = 2·2^q` lanes apart.
pub(crate) fn portable<T: Real>(lanes: &[T], q: usize) -> [f64; 4] {
    let half = 2usize << q;
    let (mut aa, mut bb, mut re, mut im) = (0.0, 0.0, 0.0, 0.0);
    for chunk in lanes.chunks_exact(2 * half) {
        let (lo, hi) = chunk.split_at(half);
        for (a, b) in lo.chunks_exact(2).zip(hi.chunks_exact(2)) {
            let (ar, ai, br, bi) = (a[0], a[1], b[0], b[1]);
            aa += (ar * ar + ai * ai).to_f64();
            bb += (br * br + bi * bi).to_f64();
            re += (ar * br + ai * bi).to_f64();
            im += (ai * br - ar * bi).to_f64();
        }
    }
    [aa, bb, re, im]
}

impl BlockSums for f32 {
    #[inline(always)]
    fn block_sums(isa: Isa, lanes: &[f32], q: usize) -> [f64; 4] {
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time, and
            // `avx2_fits` checks the length preconditions of the AVX2 loops.
            Isa::Avx2 if avx2_fits(lanes.len(), q) => unsafe { avx2::sums_f32(lanes, q) },
            _ => portable(lanes, q),
        }
    }

    #[inline(always)]
    fn apply_2x2(isa: Isa, lanes: &mut [f32], q: usize, m: &[[f32; 2]; 4]) {
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2 if avx2_fits(lanes.len(), q) => unsafe {
                crate::sim::cpu::simd::avx2::apply_f32(lanes, q, m)
            },
            _ => portable_apply(lanes, q, m),
        }
    }
}

impl BlockSums for f64 {
    #[inline(always)]
    fn block_sums(isa: Isa, lanes: &[f64], q: usize) -> [f64; 4] {
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as for f32.
            Isa::Avx2 if avx2_fits(lanes.len(), q) => unsafe { avx2::sums_f64(lanes, q) },
            _ => portable(lanes, q),
        }
    }

    #[inline(always)]
    fn apply_2x2(isa: Isa, lanes: &mut [f64], q: usize, m: &[[f64; 2]; 4]) {
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2 if avx2_fits(lanes.len(), q) => unsafe {
                crate::sim::cpu::simd::avx2::apply_f64(lanes, q, m)
            },
            _ => portable_apply(lanes, q, m),
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Σ of the lanes of `v` whose bit in `mask` (one bit per lane, lane 0 lowest) is set.
    #[inline(always)]
    fn masked_sum<const L: usize>(v: [f64; L], mask: u32, sign: u32) -> f64 {
        let mut s = 0.0;
        for (k, x) in v.iter().enumerate() {
            if mask >> k & 1 == 1 {
                s += if sign >> k & 1 == 1 { -x } else { *x };
            }
        }
        s
    }

    #[inline(always)]
    unsafe fn wide_pd(v: __m256d) -> [f64; 4] {
        let mut f = [0f64; 4];
        _mm256_storeu_pd(f.as_mut_ptr(), v);
        f
    }

    /// f32: 8 lanes (4 amplitudes) per register. `lanes.len() ≥ 16`, a power of two.
    ///
    /// # Safety
    ///
    /// The CPU supports AVX2 and FMA; `lanes.len()` is a power of two ≥ 16 and
    /// `4·2^q ≤ lanes.len()` (so `2·half` divides the length and every pair of blocks, and
    /// every register load, lies inside `lanes`).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn sums_f32(lanes: &[f32], q: usize) -> [f64; 4] {
        let len = lanes.len();
        let p = lanes.as_ptr();
        let half = 2usize << q;
        // acc: |a|², |b|², Re, Im, and a second set for the two-block steps. Each f32 lane
        // sums at most FOLD products before it is added into f64 (`wide`), so the rounding
        // of a sum stays at ~FOLD·2⁻²⁴ relative whatever the qubit count (in f32 alone a lane
        // of a 24-qubit state would sum 2^20 products, up to ~3e-3 off).
        let mut acc = [_mm256_setzero_ps(); 8];
        let mut wide = [[_mm256_setzero_pd(); 2]; 8];
        let mut steps = 0usize;
        if half >= 16 {
            // Runs of ≥ 16 lanes: two blocks per step, eight independent accumulators.
            let mut base = 0;
            while base < len {
                let mut j = 0;
                while j < half {
                    // SAFETY: base + half + j + 16 ≤ base + 2·half ≤ len (2·half divides len).
                    let a = _mm256_loadu_ps(p.add(base + j));
                    let b = _mm256_loadu_ps(p.add(base + half + j));
                    let a2 = _mm256_loadu_ps(p.add(base + j + 8));
                    let b2 = _mm256_loadu_ps(p.add(base + half + j + 8));
                    acc[0] = _mm256_fmadd_ps(a, a, acc[0]);
                    acc[1] = _mm256_fmadd_ps(b, b, acc[1]);
                    acc[2] = _mm256_fmadd_ps(a, b, acc[2]);
                    acc[3] = _mm256_fmadd_ps(a, _mm256_permute_ps::<0xB1>(b), acc[3]);
                    acc[4] = _mm256_fmadd_ps(a2, a2, acc[4]);
                    acc[5] = _mm256_fmadd_ps(b2, b2, acc[5]);
                    acc[6] = _mm256_fmadd_ps(a2, b2, acc[6]);
                    acc[7] = _mm256_fmadd_ps(a2, _mm256_permute_ps::<0xB1>(b2), acc[7]);
                    fold_every(&mut steps, &mut acc, &mut wide);
                    j += 16;
                }
                base += 2 * half;
            }
        } else if half == 8 {
            // One block of a and one of b per 16 lanes.
            let mut base = 0;
            while base < len {
                // SAFETY: len is a multiple of 16 (a power of two ≥ 16) and base < len steps by
                // 16, so base + 16 ≤ len.
                let a = _mm256_loadu_ps(p.add(base));
                let b = _mm256_loadu_ps(p.add(base + 8));
                acc[0] = _mm256_fmadd_ps(a, a, acc[0]);
                acc[1] = _mm256_fmadd_ps(b, b, acc[1]);
                acc[2] = _mm256_fmadd_ps(a, b, acc[2]);
                acc[3] = _mm256_fmadd_ps(a, _mm256_permute_ps::<0xB1>(b), acc[3]);
                fold_every(&mut steps, &mut acc, &mut wide);
                base += 16;
            }
        } else {
            // half = 4 (q = 1: [a a | b b] per 128-bit lane after a swap of the 64-bit
            // halves) or 2 (q = 0: [a | b] per 128-bit lane). x·x gives |a|² and |b|² in
            // their lanes; x times x with a and b exchanged gives Re (x·x_swap) and the
            // a.re·b.im, a.im·b.re products (x times the exchanged and pair-swapped x).
            let mut base = 0;
            while base < len {
                // SAFETY: len is a multiple of 8 (a power of two ≥ 16) and base < len steps by
                // 8, so base + 8 ≤ len.
                let x = _mm256_loadu_ps(p.add(base));
                let (xs, xc) = if half == 4 {
                    // Exchange the two 128-bit halves: a ↔ b.
                    let s = _mm256_permute2f128_ps::<0x01>(x, x);
                    (s, _mm256_permute_ps::<0xB1>(s))
                } else {
                    // Within each 128-bit lane [ar ai br bi]: [br bi ar ai] and [bi br ai ar].
                    (_mm256_permute_ps::<0x4E>(x), _mm256_permute_ps::<0x1B>(x))
                };
                acc[0] = _mm256_fmadd_ps(x, x, acc[0]);
                acc[2] = _mm256_fmadd_ps(x, xs, acc[2]);
                acc[3] = _mm256_fmadd_ps(x, xc, acc[3]);
                fold_every(&mut steps, &mut acc, &mut wide);
                base += 8;
            }
            fold(&mut acc, &mut wide);
            let (sq, cr, ci) = (widen(wide[0]), widen(wide[2]), widen(wide[3]));
            // Lanes of a: bits of `a_mask`; the products a.re·b.im sit in a's even lanes.
            let a_mask = if half == 4 { 0x0F } else { 0x33 };
            let even = 0x55;
            return [
                masked_sum(sq, a_mask, 0),
                masked_sum(sq, !a_mask & 0xFF, 0),
                masked_sum(cr, a_mask, 0),
                masked_sum(ci, a_mask, even),
            ];
        }
        fold(&mut acc, &mut wide);
        let sum = |k: usize, sign: u32| {
            let (x, y) = (widen(wide[k]), widen(wide[k + 4]));
            masked_sum(
                std::array::from_fn::<f64, 8, _>(|i| x[i] + y[i]),
                0xFF,
                sign,
            )
        };
        [sum(0, 0), sum(1, 0), sum(2, 0), sum(3, 0x55)]
    }

    /// Products each f32 accumulator lane sums before it is added into f64.
    pub(super) const FOLD: usize = 256;

    /// Counts one step and folds the f32 accumulators into `wide` every [`FOLD`] steps.
    #[inline(always)]
    unsafe fn fold_every(steps: &mut usize, acc: &mut [__m256; 8], wide: &mut [[__m256d; 2]; 8]) {
        *steps += 1;
        if *steps == FOLD {
            *steps = 0;
            fold(acc, wide);
        }
    }

    /// Adds the f32 accumulators into their f64 twins (low and high four lanes) and zeroes
    /// them.
    #[inline(always)]
    unsafe fn fold(acc: &mut [__m256; 8], wide: &mut [[__m256d; 2]; 8]) {
        for (a, w) in acc.iter_mut().zip(wide.iter_mut()) {
            w[0] = _mm256_add_pd(w[0], _mm256_cvtps_pd(_mm256_castps256_ps128(*a)));
            w[1] = _mm256_add_pd(w[1], _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(*a)));
            *a = _mm256_setzero_ps();
        }
    }

    /// The eight f64 lanes of a widened accumulator.
    #[inline(always)]
    unsafe fn widen(w: [__m256d; 2]) -> [f64; 8] {
        let (lo, hi) = (wide_pd(w[0]), wide_pd(w[1]));
        [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]
    }

    /// f64: 4 lanes (2 amplitudes) per register. `lanes.len() ≥ 16`, a power of two.
    ///
    /// # Safety
    ///
    /// The CPU supports AVX2 and FMA; `lanes.len()` is a power of two ≥ 16 and
    /// `4·2^q ≤ lanes.len()` (so `2·half` divides the length and every pair of blocks, and
    /// every register load, lies inside `lanes`).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn sums_f64(lanes: &[f64], q: usize) -> [f64; 4] {
        let len = lanes.len();
        let p = lanes.as_ptr();
        let half = 2usize << q;
        let z = _mm256_setzero_pd();
        let (mut aa, mut bb, mut re, mut im) = (z, z, z, z);
        let (mut aa2, mut bb2, mut re2, mut im2) = (z, z, z, z);
        if half >= 8 {
            let mut base = 0;
            while base < len {
                let mut j = 0;
                while j < half {
                    // SAFETY: base + half + j + 8 ≤ base + 2·half ≤ len.
                    let a = _mm256_loadu_pd(p.add(base + j));
                    let b = _mm256_loadu_pd(p.add(base + half + j));
                    let a2 = _mm256_loadu_pd(p.add(base + j + 4));
                    let b2 = _mm256_loadu_pd(p.add(base + half + j + 4));
                    aa = _mm256_fmadd_pd(a, a, aa);
                    bb = _mm256_fmadd_pd(b, b, bb);
                    re = _mm256_fmadd_pd(a, b, re);
                    im = _mm256_fmadd_pd(a, _mm256_permute_pd::<0b0101>(b), im);
                    aa2 = _mm256_fmadd_pd(a2, a2, aa2);
                    bb2 = _mm256_fmadd_pd(b2, b2, bb2);
                    re2 = _mm256_fmadd_pd(a2, b2, re2);
                    im2 = _mm256_fmadd_pd(a2, _mm256_permute_pd::<0b0101>(b2), im2);
                    j += 8;
                }
                base += 2 * half;
            }
        } else if half == 4 {
            let mut base = 0;
            while base < len {
                // SAFETY: len is a multiple of 8 (a power of two ≥ 16) and base < len steps by 8,
                // so base + 8 ≤ len.
                let a = _mm256_loadu_pd(p.add(base));
                let b = _mm256_loadu_pd(p.add(base + 4));
                aa = _mm256_fmadd_pd(a, a, aa);
                bb = _mm256_fmadd_pd(b, b, bb);
                re = _mm256_fmadd_pd(a, b, re);
                im = _mm256_fmadd_pd(a, _mm256_permute_pd::<0b0101>(b), im);
                base += 8;
            }
        } else {
            // q = 0: [ar ai br bi] per register.
            let mut base = 0;
            while base < len {
                // SAFETY: len is a multiple of 4 and base < len steps by 4, so base + 4 ≤ len.
                let x = _mm256_loadu_pd(p.add(base));
                let xs = _mm256_permute4x64_pd::<0x4E>(x);
                let xc = _mm256_permute4x64_pd::<0x1B>(x);
                aa = _mm256_fmadd_pd(x, x, aa);
                re = _mm256_fmadd_pd(x, xs, re);
                im = _mm256_fmadd_pd(x, xc, im);
                base += 4;
            }
            let (sq, cr, ci) = (wide_pd(aa), wide_pd(re), wide_pd(im));
            return [
                masked_sum(sq, 0b0011, 0),
                masked_sum(sq, 0b1100, 0),
                masked_sum(cr, 0b0011, 0),
                masked_sum(ci, 0b0011, 0b0101),
            ];
        }
        let sum =
            |x: __m256d, y: __m256d, sign: u32| masked_sum(wide_pd(_mm256_add_pd(x, y)), 0xF, sign);
        [
            sum(aa, aa2, 0),
            sum(bb, bb2, 0),
            sum(re, re2, 0),
            sum(im, im2, 0b0101),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::isa::detect_isa;
    use crate::math::rng::Rng;

    fn check<T: BlockSums>(tol: f64) {
        let mut rng = Rng::new(5);
        for n in 1..=7 {
            let lanes: Vec<T> = (0..2usize << n)
                .map(|_| T::from_f64(rng.range(-1.0, 1.0)))
                .collect();
            for q in 0..n {
                // The reference in f64 from the rounded lanes.
                let wide: Vec<f64> = lanes.iter().map(|x| x.to_f64()).collect();
                let want = portable(&wide, q);
                let got = T::block_sums(detect_isa(), &lanes, q);
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= tol, "n {n} q {q}: {got:?} vs {want:?}");
                }
            }
        }
    }

    fn check_apply<T: BlockSums>(tol: f64) {
        let mut rng = Rng::new(6);
        for n in 1..=7 {
            let lanes: Vec<T> = (0..2usize << n)
                .map(|_| T::from_f64(rng.range(-1.0, 1.0)))
                .collect();
            let m: [[T; 2]; 4] = std::array::from_fn(|_| {
                [
                    T::from_f64(rng.range(-1.0, 1.0)),
                    T::from_f64(rng.range(-1.0, 1.0)),
                ]
            });
            let wide_m = m.map(|w| [w[0].to_f64(), w[1].to_f64()]);
            for q in 0..n {
                let mut want: Vec<f64> = lanes.iter().map(|x| x.to_f64()).collect();
                portable_apply(&mut want, q, &wide_m);
                let mut got = lanes.clone();
                T::apply_2x2(detect_isa(), &mut got, q, &m);
                for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g.to_f64() - w).abs() <= tol,
                        "n {n} q {q} lane {k}: {g:?} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn vectorised_2x2_apply_equals_the_portable_one() {
        check_apply::<f64>(1e-14);
        check_apply::<f32>(1e-5);
    }

    /// At 20 qubits each f32 lane of the vectorised sums adds ~2^17 products: they must still
    /// equal the f64 sums within 1e-5 relative (|a|², |b|² against themselves, the cross
    /// terms against √(Σ|a|²·Σ|b|²), their Cauchy–Schwarz bound).
    #[test]
    fn f32_block_sums_of_a_large_state_keep_f64_accuracy() {
        let mut rng = Rng::new(8);
        let n = 20;
        let lanes: Vec<f32> = (0..2usize << n)
            .map(|_| rng.range(0.0, 1.0) as f32)
            .collect();
        let wide: Vec<f64> = lanes.iter().map(|&x| f64::from(x)).collect();
        for q in [0, 1, 2, 3, 9, n - 1] {
            let want = portable(&wide, q);
            let got = f32::block_sums(detect_isa(), &lanes, q);
            let scale = [
                want[0],
                want[1],
                (want[0] * want[1]).sqrt(),
                (want[0] * want[1]).sqrt(),
            ];
            for k in 0..4 {
                let rel = (got[k] - want[k]).abs() / scale[k];
                assert!(
                    rel <= 1e-5,
                    "q {q} sum {k}: {} vs {} ({rel:e})",
                    got[k],
                    want[k]
                );
            }
        }
    }

    /// Lengths the AVX2 loops do not cover (not a power of two, or shorter than a pair of
    /// qubit-q blocks) take the portable path: the same sums, the same applied lanes.
    #[test]
    fn odd_lengths_and_wide_qubits_take_the_portable_path() {
        let mut rng = Rng::new(9);
        let m = [[0.6f32, 0.1], [-0.3, 0.2], [0.5, -0.4], [0.7, 0.0]];
        for len in [16usize, 24, 40, 48] {
            let lanes: Vec<f32> = (0..len).map(|_| rng.range(-1.0, 1.0) as f32).collect();
            for q in 0..5 {
                if len.is_power_of_two() && (4usize << q) <= len {
                    continue; // covered (with rounding tolerances) by the tests below
                }
                let got = f32::block_sums(detect_isa(), &lanes, q);
                let want = portable(&lanes, q);
                assert_eq!(got, want, "len {len} q {q}");
                let mut applied = lanes.clone();
                f32::apply_2x2(detect_isa(), &mut applied, q, &m);
                let mut reference = lanes.clone();
                portable_apply(&mut reference, q, &m);
                assert_eq!(applied, reference, "len {len} q {q}");
            }
        }
    }

    #[test]
    fn vectorised_block_sums_equal_the_portable_ones() {
        check::<f64>(1e-12);
        check::<f32>(1e-4);
    }
}
