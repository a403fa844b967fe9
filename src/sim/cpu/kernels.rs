//! State-vector kernels of the batched CPU path: index walks over the control subspace and the
//! per-pair loops that the lowered gates (see `lower`) run on them.
//!
//! Index math: a gate touches the amplitudes whose control bits are all 1. Its *fixed* bits
//! (targets and controls) are removed from the index space; the remaining free bits are
//! enumerated by inserting zero bits at the fixed positions. Free bits below the lowest fixed
//! bit are contiguous, so the walk hands out *runs* of consecutive indices.
//!
//! Vector form: a kernel sees the amplitudes as interleaved `f64` lanes (re, im, re, im, …) in
//! fixed-size blocks of `N` lanes (`N/2` amplitudes; `N` = 8 when runs allow it, else 4 or 2),
//! written as element-wise loops that the compiler turns into SIMD code. A complex factor `w`
//! acts on a block as `w.re·v + w.im·(i-swap of v)`; derivative sums are kept per lane and
//! added up at the end.

use num_complex::Complex64 as C;

/// Enumerates the base indices of a gate: all indices whose `fixed` bits equal `set`.
#[derive(Clone, Debug)]
pub(crate) struct Walk {
    /// Fixed bit positions, ascending.
    positions: Vec<u32>,
    /// The lowest fixed position: runs are `1 << low` long.
    low: u32,
    /// Bits set in every base index (the controls; for a half-space walk also the target).
    set: usize,
}

impl Walk {
    /// A walk over the indices whose `fixed_mask` bits equal `set` (`set ⊆ fixed_mask`,
    /// `fixed_mask ≠ 0`).
    pub(crate) fn new(fixed_mask: usize, set: usize) -> Self {
        debug_assert!(fixed_mask != 0 && set & !fixed_mask == 0);
        let positions: Vec<u32> = (0..usize::BITS)
            .filter(|&p| fixed_mask >> p & 1 == 1)
            .collect();
        Walk {
            low: positions[0],
            positions,
            set,
        }
    }

    /// The highest fixed bit position.
    pub(crate) fn highest(&self) -> usize {
        self.positions.last().map_or(0, |&p| p as usize)
    }

    /// The length of every run: `1 << low`.
    #[inline(always)]
    fn run(&self) -> usize {
        1usize << self.low
    }

    /// The first index of every run of [`Walk::run`] consecutive base indices in a state of
    /// `len` amplitudes. (An iterator rather than a callback, so that the loops stay in the
    /// caller's function and inherit its target features.)
    #[inline(always)]
    fn starts(&self, len: usize) -> Starts<'_> {
        Starts {
            walk: self,
            next: 0,
            end: len >> (self.positions.len() + self.low as usize),
        }
    }
}

/// Iterator of [`Walk::starts`].
pub(crate) struct Starts<'w> {
    walk: &'w Walk,
    next: usize,
    end: usize,
}

impl Iterator for Starts<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.end {
            return None;
        }
        let mut k = self.next << self.walk.low;
        self.next += 1;
        for &p in &self.walk.positions {
            let below = (1usize << p) - 1;
            k = ((k & !below) << 1) | (k & below);
        }
        Some(k | self.walk.set)
    }
}

/// Lane sign of `i·v`: (i·v)[k] = I_SIGN[k & 1]·v[k ^ 1].
const I_SIGN: [f64; 2] = [-1.0, 1.0];
/// Lane sign of `−i·v` and of Im(conj(a)·b) = Σ_k NI_SIGN[k & 1]·a[k]·b[k ^ 1].
pub(crate) const NI_SIGN: [f64; 2] = [1.0, -1.0];

/// `w·v` on a block of interleaved amplitudes.
#[inline(always)]
pub(crate) fn cmul<const N: usize>(w: C, v: &[f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    for k in 0..N {
        out[k] = w.re * v[k] + w.im * I_SIGN[k & 1] * v[k ^ 1];
    }
    out
}

/// `a·x + b·y` for complex `a`, `b`.
#[inline(always)]
pub(crate) fn cmul2<const N: usize>(a: C, x: &[f64; N], b: C, y: &[f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    for k in 0..N {
        out[k] = a.re * x[k]
            + a.im * I_SIGN[k & 1] * x[k ^ 1]
            + b.re * y[k]
            + b.im * I_SIGN[k & 1] * y[k ^ 1];
    }
    out
}

/// The dense 2×2 `m` (row-major) on a pair of blocks.
#[inline(always)]
pub(crate) fn mat2<const N: usize>(m: &[C; 4], a: &mut [f64; N], b: &mut [f64; N]) {
    let (x, y) = (*a, *b);
    *a = cmul2(m[0], &x, m[1], &y);
    *b = cmul2(m[2], &x, m[3], &y);
}

/// RY-type real rotation [[c, −s], [s, c]] on a pair of blocks.
#[inline(always)]
pub(crate) fn rot_y<const N: usize>(c: f64, s: f64, a: &mut [f64; N], b: &mut [f64; N]) {
    for k in 0..N {
        let (x, y) = (a[k], b[k]);
        a[k] = c * x - s * y;
        b[k] = s * x + c * y;
    }
}

/// RX-type rotation [[c, −i s], [−i s, c]] on a pair of blocks.
#[inline(always)]
pub(crate) fn rot_x<const N: usize>(c: f64, s: f64, a: &mut [f64; N], b: &mut [f64; N]) {
    let (x, y) = (*a, *b);
    for k in 0..N {
        a[k] = c * x[k] + s * NI_SIGN[k & 1] * y[k ^ 1];
        b[k] = c * y[k] + s * NI_SIGN[k & 1] * x[k ^ 1];
    }
}

/// A kernel on pairs of blocks `(a, b)` = amplitudes with the target bit 0 and 1.
pub(crate) trait PairKernel {
    fn pair<const N: usize>(&mut self, a: &mut [f64; N], b: &mut [f64; N]);
}

/// A kernel on pairs in two states at once: (ψ0, ψ1, λ0, λ1).
pub(crate) trait PairKernel2 {
    fn pair<const N: usize>(
        &mut self,
        p0: &mut [f64; N],
        p1: &mut [f64; N],
        l0: &mut [f64; N],
        l1: &mut [f64; N],
    );
}

/// A kernel on single blocks of a half-space walk (ψ, λ).
pub(crate) trait SingleKernel2 {
    fn single<const N: usize>(&mut self, p: &mut [f64; N], l: &mut [f64; N]);
}

fn lanes(s: &mut [C]) -> &mut [f64] {
    bytemuck::cast_slice_mut(s)
}

fn block<const N: usize>(c: &mut [f64]) -> &mut [f64; N] {
    c.try_into()
        .unwrap_or_else(|_| unreachable!("chunks_exact_mut yields blocks of N lanes"))
}

/// Runs `k` on every pair of the walk.
#[inline(always)]
pub(crate) fn pairs<K: PairKernel>(s: &mut [C], w: &Walk, tbit: usize, k: &mut K) {
    match w.low {
        0 => pairs_n::<K, 2>(s, w, tbit, k),
        1 => pairs_n::<K, 4>(s, w, tbit, k),
        _ => pairs_n::<K, 8>(s, w, tbit, k),
    }
}

#[inline(always)]
fn pairs_n<K: PairKernel, const N: usize>(s: &mut [C], w: &Walk, tbit: usize, k: &mut K) {
    let len = s.len();
    let f = lanes(s);
    if w.positions.len() == 1 && tbit == 1 && w.set == 0 {
        // Target qubit 0, no controls: the pairs are adjacent amplitudes.
        for c in f.chunks_exact_mut(4) {
            let (a, b) = c.split_at_mut(2);
            k.pair::<2>(block(a), block(b));
        }
        return;
    }
    let run = w.run();
    for start in w.starts(len) {
        let (lo, hi) = f[2 * start..].split_at_mut(2 * tbit);
        for (a, b) in lo[..2 * run]
            .chunks_exact_mut(N)
            .zip(hi[..2 * run].chunks_exact_mut(N))
        {
            k.pair::<N>(block(a), block(b));
        }
    }
}

/// Runs `k` on every pair of the walk in two states.
#[inline(always)]
pub(crate) fn pairs2<K: PairKernel2>(
    psi: &mut [C],
    lam: &mut [C],
    w: &Walk,
    tbit: usize,
    k: &mut K,
) {
    match w.low {
        0 => pairs2_n::<K, 2>(psi, lam, w, tbit, k),
        1 => pairs2_n::<K, 4>(psi, lam, w, tbit, k),
        _ => pairs2_n::<K, 8>(psi, lam, w, tbit, k),
    }
}

#[inline(always)]
fn pairs2_n<K: PairKernel2, const N: usize>(
    psi: &mut [C],
    lam: &mut [C],
    w: &Walk,
    tbit: usize,
    k: &mut K,
) {
    debug_assert_eq!(psi.len(), lam.len());
    let len = psi.len();
    let (fp, fl) = (lanes(psi), lanes(lam));
    if w.positions.len() == 1 && tbit == 1 && w.set == 0 {
        for (p, l) in fp.chunks_exact_mut(4).zip(fl.chunks_exact_mut(4)) {
            let (p0, p1) = p.split_at_mut(2);
            let (l0, l1) = l.split_at_mut(2);
            k.pair::<2>(block(p0), block(p1), block(l0), block(l1));
        }
        return;
    }
    let run = w.run();
    for start in w.starts(len) {
        let (plo, phi) = fp[2 * start..].split_at_mut(2 * tbit);
        let (llo, lhi) = fl[2 * start..].split_at_mut(2 * tbit);
        let blocks = plo[..2 * run]
            .chunks_exact_mut(N)
            .zip(phi[..2 * run].chunks_exact_mut(N))
            .zip(llo[..2 * run].chunks_exact_mut(N))
            .zip(lhi[..2 * run].chunks_exact_mut(N));
        for (((p0, p1), l0), l1) in blocks {
            k.pair::<N>(block(p0), block(p1), block(l0), block(l1));
        }
    }
}

/// Swaps the two halves of every pair of the walk (X with any controls).
#[inline(always)]
pub(crate) fn swap_pairs(s: &mut [C], w: &Walk, tbit: usize) {
    let (len, run) = (s.len(), w.run());
    for start in w.starts(len) {
        let (lo, hi) = s[start..].split_at_mut(tbit);
        if run >= 8 {
            lo[..run].swap_with_slice(&mut hi[..run]);
        } else {
            for (a, b) in lo[..run].iter_mut().zip(&mut hi[..run]) {
                std::mem::swap(a, b);
            }
        }
    }
}

/// Multiplies every index of the walk by `p` (a phase on a half-space walk).
#[inline(always)]
pub(crate) fn scale(s: &mut [C], w: &Walk, p: C) {
    match w.low {
        0 => scale_n::<2>(s, w, p),
        1 => scale_n::<4>(s, w, p),
        _ => scale_n::<8>(s, w, p),
    }
}

#[inline(always)]
fn scale_n<const N: usize>(s: &mut [C], w: &Walk, p: C) {
    let len = s.len();
    let f = lanes(s);
    let run = w.run();
    for start in w.starts(len) {
        for c in f[2 * start..2 * (start + run)].chunks_exact_mut(N) {
            let b = block::<N>(c);
            *b = cmul(p, b);
        }
    }
}

/// Runs `k` on every index of a half-space walk in two states.
#[inline(always)]
pub(crate) fn singles2<K: SingleKernel2>(psi: &mut [C], lam: &mut [C], w: &Walk, k: &mut K) {
    match w.low {
        0 => singles2_n::<K, 2>(psi, lam, w, k),
        1 => singles2_n::<K, 4>(psi, lam, w, k),
        _ => singles2_n::<K, 8>(psi, lam, w, k),
    }
}

#[inline(always)]
fn singles2_n<K: SingleKernel2, const N: usize>(psi: &mut [C], lam: &mut [C], w: &Walk, k: &mut K) {
    let len = psi.len();
    let (fp, fl) = (lanes(psi), lanes(lam));
    let run = w.run();
    for start in w.starts(len) {
        let r = 2 * start..2 * (start + run);
        for (p, l) in fp[r.clone()]
            .chunks_exact_mut(N)
            .zip(fl[r].chunks_exact_mut(N))
        {
            k.single::<N>(block(p), block(l));
        }
    }
}

/// `f(s, [i0, i1, i2, i3])` on every quad of a two-target walk: `i_k` = base + offset of
/// matrix index k (bit 0 ↔ `b0`, bit 1 ↔ `b1`).
#[inline(always)]
pub(crate) fn quads<S: ?Sized>(
    s: &mut S,
    len: usize,
    w: &Walk,
    b0: usize,
    b1: usize,
    mut f: impl FnMut(&mut S, [usize; 4]),
) {
    let run = w.run();
    for start in w.starts(len) {
        for i in start..start + run {
            f(s, [i, i | b0, i | b1, i | b0 | b1]);
        }
    }
}

/// Re(conj(a)·b).
#[inline(always)]
pub(crate) fn re_cb(a: C, b: C) -> f64 {
    a.re * b.re + a.im * b.im
}

/// Im(conj(a)·b).
#[inline(always)]
pub(crate) fn im_cb(a: C, b: C) -> f64 {
    a.re * b.im - a.im * b.re
}

/// ±1 by the parity of `bits`.
#[inline(always)]
fn parity_sign(bits: usize) -> f64 {
    1.0 - 2.0 * (bits.count_ones() & 1) as f64
}

/// A Pauli string as masks: (Pψ)[i] = phase · (−1)^{popcount((i ⊕ x) ∧ z)} · ψ[i ⊕ x], where
/// `phase` = i^{#Y}.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PauliMasks {
    pub x: usize,
    pub z: usize,
    pub phase: C,
}

/// ⟨ψ|P|ψ⟩ (real for a Hermitian string), with no copy of the state.
#[inline(always)]
pub(crate) fn pauli_expectation(psi: &[C], p: &PauliMasks) -> f64 {
    if p.x == 0 {
        if p.z == 0 {
            // The identity: Σ conj(ψ_i) ψ_i (like the reference's inner product).
            return psi.iter().map(|a| re_cb(*a, *a)).sum();
        }
        let mut re = 0.0;
        for (i, a) in psi.iter().enumerate() {
            re += parity_sign(i & p.z) * a.norm_sqr();
        }
        return (p.phase * re).re;
    }
    let mut acc = C::new(0.0, 0.0);
    for (i, a) in psi.iter().enumerate() {
        let j = i ^ p.x;
        acc += a.conj() * (psi[j] * parity_sign(j & p.z));
    }
    (p.phase * acc).re
}

/// λ += w·Pψ, with no copy of the state.
#[inline(always)]
pub(crate) fn pauli_accumulate(lam: &mut [C], psi: &[C], p: &PauliMasks, w: f64) {
    let wc = p.phase * w;
    if p.x == 0 && p.z == 0 {
        for (l, a) in lam.iter_mut().zip(psi) {
            *l += a * wc;
        }
        return;
    }
    for (i, l) in lam.iter_mut().enumerate() {
        let j = i ^ p.x;
        *l += psi[j] * (wc * parity_sign(j & p.z));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_enumerates_the_control_subspace() {
        let len = 1 << 6;
        // target 2, controls 0 and 4: bases have bit 2 = 0 and bits 0, 4 = 1.
        let w = Walk::new(0b10101, 0b10001);
        let seen: Vec<usize> = w.starts(len).flat_map(|s| s..s + w.run()).collect();
        let expected: Vec<usize> = (0..len).filter(|i| i & 0b10101 == 0b10001).collect();
        assert_eq!(seen, expected);
        let w = Walk::new(0b1100, 0);
        let seen: Vec<usize> = w.starts(len).flat_map(|s| s..s + w.run()).collect();
        let expected: Vec<usize> = (0..len).filter(|i| i & 0b1100 == 0).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn lane_complex_arithmetic() {
        let (w, v) = (C::new(0.3, -1.7), [C::new(1.5, 2.0), C::new(-0.5, 0.25)]);
        let lanes = [v[0].re, v[0].im, v[1].re, v[1].im];
        let out = cmul(w, &lanes);
        for (k, z) in v.iter().enumerate() {
            let e = w * z;
            assert!((out[2 * k] - e.re).abs() < 1e-15 && (out[2 * k + 1] - e.im).abs() < 1e-15);
        }
    }
}
