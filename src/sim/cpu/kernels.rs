//! State-vector kernels of the batched CPU path: index walks over the control subspace and the
//! per-pair loops that the lowered gates (see `lower`) run on them, generic over the amplitude
//! precision `T` (`f32` or `f64`, see [`Real`]).
//!
//! Index math: a gate touches the amplitudes whose control bits are all 1. Its *fixed* bits
//! (targets and controls) are removed from the index space; the remaining free bits are
//! enumerated by inserting zero bits at the fixed positions. Free bits below the lowest fixed
//! bit are contiguous, so the walk hands out *runs* of consecutive indices.
//!
//! Vector form: a state is a slice of [`Amp<T>`] (re, im); a kernel sees it as interleaved `T`
//! lanes (re, im, re, im, …) in fixed-size blocks of `N` lanes (`N/2` amplitudes; `N` = 8 when
//! runs allow it, else 4 or 2), written as element-wise loops that the compiler turns into SIMD
//! code. A complex factor `w` (rounded to `T` once per gate) acts on a block as
//! `w.re·v + w.im·(i-swap of v)`; derivative sums are kept per lane in f64 (each lane's product
//! computed in `T`, widened, then added) and added up at the end. Expectation values are
//! summed in f64 from the widened amplitudes.

use super::real::Real;
use num_complex::Complex64 as C;

/// One amplitude of a batched state: (re, im) in the state's precision.
pub(crate) type Amp<T> = [T; 2];

/// `c` rounded to an amplitude of precision `T`.
#[inline(always)]
pub(crate) fn amp<T: Real>(c: C) -> Amp<T> {
    [T::from_f64(c.re), T::from_f64(c.im)]
}

/// An amplitude widened to f64.
#[inline(always)]
pub(crate) fn wide<T: Real>(a: Amp<T>) -> C {
    C::new(a[0].to_f64(), a[1].to_f64())
}

/// `a·b` in precision `T` (the same operation order as `num_complex`'s product).
#[inline(always)]
pub(crate) fn amul<T: Real>(a: Amp<T>, b: Amp<T>) -> Amp<T> {
    [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]]
}

/// `a + b` in precision `T`.
#[inline(always)]
pub(crate) fn aadd<T: Real>(a: Amp<T>, b: Amp<T>) -> Amp<T> {
    [a[0] + b[0], a[1] + b[1]]
}

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

/// Lane sign of `i·v`: (i·v)[k] = i_sign()[k & 1]·v[k ^ 1].
#[inline(always)]
fn i_sign<T: Real>() -> [T; 2] {
    [-T::ONE, T::ONE]
}

/// Lane sign of `−i·v` and of Im(conj(a)·b) = Σ_k ni_sign()[k & 1]·a[k]·b[k ^ 1].
#[inline(always)]
pub(crate) fn ni_sign<T: Real>() -> [T; 2] {
    [T::ONE, -T::ONE]
}

/// `w·v` on a block of interleaved amplitudes.
#[inline(always)]
pub(crate) fn cmul<T: Real, const N: usize>(w: Amp<T>, v: &[T; N]) -> [T; N] {
    let is = i_sign::<T>();
    let mut out = [T::ZERO; N];
    for k in 0..N {
        out[k] = w[0] * v[k] + w[1] * is[k & 1] * v[k ^ 1];
    }
    out
}

/// `a·x + b·y` for complex `a`, `b`.
#[inline(always)]
pub(crate) fn cmul2<T: Real, const N: usize>(
    a: Amp<T>,
    x: &[T; N],
    b: Amp<T>,
    y: &[T; N],
) -> [T; N] {
    let is = i_sign::<T>();
    let mut out = [T::ZERO; N];
    for k in 0..N {
        out[k] =
            a[0] * x[k] + a[1] * is[k & 1] * x[k ^ 1] + b[0] * y[k] + b[1] * is[k & 1] * y[k ^ 1];
    }
    out
}

/// The dense 2×2 `m` (row-major) on a pair of blocks.
#[inline(always)]
pub(crate) fn mat2<T: Real, const N: usize>(m: &[Amp<T>; 4], a: &mut [T; N], b: &mut [T; N]) {
    let (x, y) = (*a, *b);
    *a = cmul2(m[0], &x, m[1], &y);
    *b = cmul2(m[2], &x, m[3], &y);
}

/// RY-type real rotation [[c, −s], [s, c]] on a pair of blocks.
#[inline(always)]
pub(crate) fn rot_y<T: Real, const N: usize>(c: T, s: T, a: &mut [T; N], b: &mut [T; N]) {
    for k in 0..N {
        let (x, y) = (a[k], b[k]);
        a[k] = c * x - s * y;
        b[k] = s * x + c * y;
    }
}

/// RX-type rotation [[c, −i s], [−i s, c]] on a pair of blocks.
#[inline(always)]
pub(crate) fn rot_x<T: Real, const N: usize>(c: T, s: T, a: &mut [T; N], b: &mut [T; N]) {
    let ns = ni_sign::<T>();
    let (x, y) = (*a, *b);
    for k in 0..N {
        a[k] = c * x[k] + s * ns[k & 1] * y[k ^ 1];
        b[k] = c * y[k] + s * ns[k & 1] * x[k ^ 1];
    }
}

/// A kernel on pairs of blocks `(a, b)` = amplitudes with the target bit 0 and 1.
pub(crate) trait PairKernel<T> {
    /// Runs the kernel on one pair of blocks of `N` lanes.
    fn pair<const N: usize>(&mut self, a: &mut [T; N], b: &mut [T; N]);
}

/// A kernel on pairs in two states at once: (ψ0, ψ1, λ0, λ1).
pub(crate) trait PairKernel2<T> {
    /// Runs the kernel on one pair of blocks of `N` lanes in each state.
    fn pair<const N: usize>(
        &mut self,
        p0: &mut [T; N],
        p1: &mut [T; N],
        l0: &mut [T; N],
        l1: &mut [T; N],
    );
}

/// A kernel on single blocks of a half-space walk (ψ, λ).
pub(crate) trait SingleKernel2<T> {
    /// Runs the kernel on one block of `N` lanes in each state.
    fn single<const N: usize>(&mut self, p: &mut [T; N], l: &mut [T; N]);
}

/// The interleaved lanes of a state.
#[inline(always)]
fn lanes<T>(s: &mut [Amp<T>]) -> &mut [T] {
    s.as_flattened_mut()
}

#[inline(always)]
fn block<T, const N: usize>(c: &mut [T]) -> &mut [T; N] {
    c.try_into()
        .unwrap_or_else(|_| unreachable!("chunks_exact_mut yields blocks of N lanes"))
}

/// Runs `k` on every pair of the walk.
#[inline(always)]
pub(crate) fn pairs<T: Real, K: PairKernel<T>>(s: &mut [Amp<T>], w: &Walk, tbit: usize, k: &mut K) {
    match w.low {
        0 => pairs_n::<T, K, 2>(s, w, tbit, k),
        1 => pairs_n::<T, K, 4>(s, w, tbit, k),
        _ => pairs_n::<T, K, 8>(s, w, tbit, k),
    }
}

#[inline(always)]
fn pairs_n<T: Real, K: PairKernel<T>, const N: usize>(
    s: &mut [Amp<T>],
    w: &Walk,
    tbit: usize,
    k: &mut K,
) {
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
pub(crate) fn pairs2<T: Real, K: PairKernel2<T>>(
    psi: &mut [Amp<T>],
    lam: &mut [Amp<T>],
    w: &Walk,
    tbit: usize,
    k: &mut K,
) {
    match w.low {
        0 => pairs2_n::<T, K, 2>(psi, lam, w, tbit, k),
        1 => pairs2_n::<T, K, 4>(psi, lam, w, tbit, k),
        _ => pairs2_n::<T, K, 8>(psi, lam, w, tbit, k),
    }
}

#[inline(always)]
fn pairs2_n<T: Real, K: PairKernel2<T>, const N: usize>(
    psi: &mut [Amp<T>],
    lam: &mut [Amp<T>],
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
pub(crate) fn swap_pairs<A>(s: &mut [A], w: &Walk, tbit: usize) {
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
pub(crate) fn scale<T: Real>(s: &mut [Amp<T>], w: &Walk, p: Amp<T>) {
    match w.low {
        0 => scale_n::<T, 2>(s, w, p),
        1 => scale_n::<T, 4>(s, w, p),
        _ => scale_n::<T, 8>(s, w, p),
    }
}

#[inline(always)]
fn scale_n<T: Real, const N: usize>(s: &mut [Amp<T>], w: &Walk, p: Amp<T>) {
    let len = s.len();
    let f = lanes(s);
    let run = w.run();
    for start in w.starts(len) {
        for c in f[2 * start..2 * (start + run)].chunks_exact_mut(N) {
            let b = block::<T, N>(c);
            *b = cmul(p, b);
        }
    }
}

/// Runs `k` on every index of a half-space walk in two states.
#[inline(always)]
pub(crate) fn singles2<T: Real, K: SingleKernel2<T>>(
    psi: &mut [Amp<T>],
    lam: &mut [Amp<T>],
    w: &Walk,
    k: &mut K,
) {
    match w.low {
        0 => singles2_n::<T, K, 2>(psi, lam, w, k),
        1 => singles2_n::<T, K, 4>(psi, lam, w, k),
        _ => singles2_n::<T, K, 8>(psi, lam, w, k),
    }
}

#[inline(always)]
fn singles2_n<T: Real, K: SingleKernel2<T>, const N: usize>(
    psi: &mut [Amp<T>],
    lam: &mut [Amp<T>],
    w: &Walk,
    k: &mut K,
) {
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
pub(crate) fn re_cb<T: Real>(a: Amp<T>, b: Amp<T>) -> T {
    a[0] * b[0] + a[1] * b[1]
}

/// Im(conj(a)·b).
#[inline(always)]
pub(crate) fn im_cb<T: Real>(a: Amp<T>, b: Amp<T>) -> T {
    a[0] * b[1] - a[1] * b[0]
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

/// ⟨ψ|P|ψ⟩ (real for a Hermitian string), with no copy of the state: the amplitudes are
/// widened to f64 and the sum is kept in f64.
#[inline(always)]
pub(crate) fn pauli_expectation<T: Real>(psi: &[Amp<T>], p: &PauliMasks) -> f64 {
    if p.x == 0 {
        if p.z == 0 {
            // The identity: Σ conj(ψ_i) ψ_i (like the reference's inner product).
            return psi
                .iter()
                .map(|a| {
                    let a = wide(*a);
                    a.re * a.re + a.im * a.im
                })
                .sum();
        }
        let mut re = 0.0;
        for (i, a) in psi.iter().enumerate() {
            re += parity_sign(i & p.z) * wide(*a).norm_sqr();
        }
        return (p.phase * re).re;
    }
    let mut acc = C::new(0.0, 0.0);
    for (i, a) in psi.iter().enumerate() {
        let j = i ^ p.x;
        acc += wide(*a).conj() * (wide(psi[j]) * parity_sign(j & p.z));
    }
    (p.phase * acc).re
}

/// λ += w·Pψ, with no copy of the state (each amplitude computed in f64, rounded once).
#[inline(always)]
pub(crate) fn pauli_accumulate<T: Real>(
    lam: &mut [Amp<T>],
    psi: &[Amp<T>],
    p: &PauliMasks,
    w: f64,
) {
    let wc = p.phase * w;
    if p.x == 0 && p.z == 0 {
        for (l, a) in lam.iter_mut().zip(psi) {
            *l = amp(wide(*l) + wide(*a) * wc);
        }
        return;
    }
    for (i, l) in lam.iter_mut().enumerate() {
        let j = i ^ p.x;
        *l = amp(wide(*l) + wide(psi[j]) * (wc * parity_sign(j & p.z)));
    }
}

// ---------------------------------------------------------------------------------------------
// Kernels on two halves of a state (the split sweep's steps on the top qubit)
// ---------------------------------------------------------------------------------------------

/// Runs `k` on the pairs (`lo[i]`, `hi[i]`): matching chunks of the halves of a state below and
/// above a target bit, so that one gate on the top qubit can be cut into parallel chunks.
#[inline(always)]
pub(crate) fn pairs_halves<T: Real, K: PairKernel<T>>(
    lo: &mut [Amp<T>],
    hi: &mut [Amp<T>],
    k: &mut K,
) {
    debug_assert_eq!(lo.len(), hi.len());
    let (fl, fh) = (lanes(lo), lanes(hi));
    let whole = fl.len().min(fh.len()) / 8 * 8;
    let (fl, rl) = fl.split_at_mut(whole);
    let (fh, rh) = fh.split_at_mut(whole);
    for (a, b) in fl.chunks_exact_mut(8).zip(fh.chunks_exact_mut(8)) {
        k.pair::<8>(block(a), block(b));
    }
    for (a, b) in rl.chunks_exact_mut(2).zip(rh.chunks_exact_mut(2)) {
        k.pair::<2>(block(a), block(b));
    }
}

/// Swaps `lo[i]` and `hi[i]` for every `i` whose `ctrl` bits are all set: an X on the bit
/// that splits the halves, with controls below the chunk size, on matching chunks of them.
#[inline(always)]
pub(crate) fn swap_halves<A>(lo: &mut [A], hi: &mut [A], ctrl: usize) {
    if ctrl == 0 {
        lo.swap_with_slice(hi);
        return;
    }
    let w = Walk::new(ctrl, ctrl);
    let run = w.run();
    for start in w.starts(lo.len().min(hi.len())) {
        lo[start..start + run].swap_with_slice(&mut hi[start..start + run]);
    }
}

/// [`pairs_halves`] in two states: `k` on (ψ_lo[i], ψ_hi[i], λ_lo[i], λ_hi[i]).
#[inline(always)]
pub(crate) fn pairs2_halves<T: Real, K: PairKernel2<T>>(
    plo: &mut [Amp<T>],
    phi: &mut [Amp<T>],
    llo: &mut [Amp<T>],
    lhi: &mut [Amp<T>],
    k: &mut K,
) {
    debug_assert!(plo.len() == phi.len() && llo.len() == lhi.len() && plo.len() == llo.len());
    let (pl, ph, ll, lh) = (lanes(plo), lanes(phi), lanes(llo), lanes(lhi));
    let whole = pl.len().min(ph.len()).min(ll.len()).min(lh.len()) / 8 * 8;
    let (pl, prl) = pl.split_at_mut(whole);
    let (ph, prh) = ph.split_at_mut(whole);
    let (ll, lrl) = ll.split_at_mut(whole);
    let (lh, lrh) = lh.split_at_mut(whole);
    let blocks = pl
        .chunks_exact_mut(8)
        .zip(ph.chunks_exact_mut(8))
        .zip(ll.chunks_exact_mut(8))
        .zip(lh.chunks_exact_mut(8));
    for (((p0, p1), l0), l1) in blocks {
        k.pair::<8>(block(p0), block(p1), block(l0), block(l1));
    }
    let rest = prl
        .chunks_exact_mut(2)
        .zip(prh.chunks_exact_mut(2))
        .zip(lrl.chunks_exact_mut(2))
        .zip(lrh.chunks_exact_mut(2));
    for (((p0, p1), l0), l1) in rest {
        k.pair::<2>(block(p0), block(p1), block(l0), block(l1));
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
        let out = cmul(amp::<f64>(w), &lanes);
        for (k, z) in v.iter().enumerate() {
            let e = w * z;
            assert!((out[2 * k] - e.re).abs() < 1e-15 && (out[2 * k + 1] - e.im).abs() < 1e-15);
        }
    }
}
