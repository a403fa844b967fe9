//! Kernels of the fast CPU state on a *tile*: a slice of 2^m amplitudes (m ≥ 3) stored as
//! interleaved real lanes (re, im, re, im, …) in blocks of [`N`] lanes = 8 amplitudes.
//!
//! Local qubit positions 0..3 lie inside a block ("in-block": a gate on them mixes lanes of
//! one block); position p ≥ 3 is bit p − 3 of the block index ("block bits": a gate on it
//! mixes whole blocks). Controls on block bits restrict which blocks are visited; controls on
//! in-block positions are folded into per-lane coefficients (identity on the lanes where a
//! control is 0).
//!
//! Every kernel is an element-wise loop over fixed-size lane arrays with precomputed
//! per-lane coefficient arrays, which the compiler turns into SIMD code (see `exec` for the
//! AVX2 build). A complex coefficient c acts on a block v as `c ⊙ v = re ⊙ v + ims ⊙ swap(v)`,
//! where `swap` exchanges the two lanes of each amplitude and `ims` holds (−Im c, +Im c).
//! Loops are written inline (macros and iterators, no callbacks) so that they inherit the
//! target features of the function they are compiled into.

use crate::sim::cpu::real::Real;
use num_complex::Complex64 as C64;

/// Lanes per block (8 complex amplitudes).
pub(crate) const N: usize = 16;
/// Qubit positions inside a block.
pub(crate) const BLOCK_QUBITS: usize = 3;

/// One block of lanes.
pub(crate) type Blk<T> = [T; N];

#[inline(always)]
fn blk<T>(c: &mut [T]) -> &mut Blk<T> {
    c.try_into()
        .unwrap_or_else(|_| unreachable!("chunks_exact_mut yields blocks of N lanes"))
}

/// One block of lanes aligned to 64 bytes (a cache line), the storage unit of states and tiles.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub(crate) struct Aligned<T>(Blk<T>);

/// A buffer of lanes whose start is 64-byte aligned, so that no block straddles cache lines.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Lanes<T> {
    blocks: Vec<Aligned<T>>,
}

impl<T: Real> Lanes<T> {
    /// `len` zero lanes (`len` a multiple of [`N`]), or `None` if the allocation fails.
    pub(crate) fn zeros(len: usize) -> Option<Self> {
        let count = len / N;
        let mut blocks = Vec::new();
        blocks.try_reserve_exact(count).ok()?;
        blocks.resize(count, Aligned([T::ZERO; N]));
        Some(Lanes { blocks })
    }

    /// The lanes.
    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[T] {
        // SAFETY: `Aligned<T>` is `repr(C)` around `[T; N]` with size N·size_of::<T>() (64 or
        // 128 bytes, a multiple of the alignment, so no padding): the blocks are N·count
        // consecutive, initialised `T`s.
        unsafe {
            std::slice::from_raw_parts(self.blocks.as_ptr().cast::<T>(), self.blocks.len() * N)
        }
    }

    /// The lanes, mutably.
    #[inline(always)]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as for `as_slice`; the borrow of `self` is exclusive.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.blocks.as_mut_ptr().cast::<T>(),
                self.blocks.len() * N,
            )
        }
    }
}

/// A complex coefficient per lane, in the swap form of the module docs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cl<T> {
    pub(crate) re: Blk<T>,
    pub(crate) ims: Blk<T>,
}

impl<T: Real> Cl<T> {
    /// Coefficient `f(j)` for the amplitude `j` (0..8) of the block.
    pub(crate) fn from_fn(f: impl Fn(usize) -> C64) -> Self {
        let mut re = [T::ZERO; N];
        let mut ims = [T::ZERO; N];
        for j in 0..N / 2 {
            let c = f(j);
            re[2 * j] = T::from_f64(c.re);
            re[2 * j + 1] = T::from_f64(c.re);
            ims[2 * j] = T::from_f64(-c.im);
            ims[2 * j + 1] = T::from_f64(c.im);
        }
        Cl { re, ims }
    }
}

/// A real coefficient per lane: `f(j)` for amplitude `j` of the block.
pub(crate) fn real_lanes<T: Real>(f: impl Fn(usize) -> f64) -> Blk<T> {
    let mut out = [T::ZERO; N];
    for (k, o) in out.iter_mut().enumerate() {
        *o = T::from_f64(f(k / 2));
    }
    out
}

/// The `ims` lanes of a purely imaginary coefficient i·f(j).
pub(crate) fn imag_lanes<T: Real>(f: impl Fn(usize) -> f64) -> Blk<T> {
    let mut out = [T::ZERO; N];
    for (k, o) in out.iter_mut().enumerate() {
        let v = f(k / 2);
        *o = T::from_f64(if k % 2 == 0 { -v } else { v });
    }
    out
}

/// Runs of consecutive block indices whose `fixed` bits equal `set`: yields the first block of
/// each run; every run is [`Runs::run`] blocks long.
pub(crate) struct Runs {
    fixed: usize,
    set: usize,
    low: u32,
    next: usize,
    end: usize,
}

impl Runs {
    #[inline(always)]
    pub(crate) fn new(nblocks: usize, fixed: usize, set: usize) -> Self {
        if fixed == 0 {
            return Runs {
                fixed,
                set,
                low: nblocks.trailing_zeros(),
                next: 0,
                end: 1,
            };
        }
        let low = fixed.trailing_zeros();
        Runs {
            fixed,
            set,
            low,
            next: 0,
            end: nblocks >> (fixed.count_ones() + low),
        }
    }

    /// Blocks per run.
    #[inline(always)]
    pub(crate) fn run(&self) -> usize {
        1usize << self.low
    }
}

impl Iterator for Runs {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.end {
            return None;
        }
        let mut k = self.next << self.low;
        self.next += 1;
        let mut m = self.fixed;
        while m != 0 {
            let below = (1usize << m.trailing_zeros()) - 1;
            k = ((k & !below) << 1) | (k & below);
            m &= m - 1;
        }
        Some(k | self.set)
    }
}

/// `body` on every pair of blocks (x with block bit `tb` clear, y with it set) whose `fixed`
/// bits (which include `tb`) equal `set`.
macro_rules! for_pairs {
    ($s:expr, $tb:expr, $fixed:expr, $set:expr, |$x:ident, $y:ident| $body:block) => {{
        let s = $s;
        let (tb, fixed, set) = ($tb, $fixed, $set);
        if fixed == tb && set == 0 {
            for chunk in s.chunks_exact_mut(2 * tb * N) {
                let (lo, hi) = chunk.split_at_mut(tb * N);
                for (a, b) in lo.chunks_exact_mut(N).zip(hi.chunks_exact_mut(N)) {
                    let ($x, $y) = (blk(a), blk(b));
                    $body
                }
            }
        } else {
            let runs = Runs::new(s.len() / N, fixed, set);
            let run = runs.run() * N;
            for st in runs {
                let (lo, hi) = s[st * N..].split_at_mut(tb * N);
                for (a, b) in lo[..run]
                    .chunks_exact_mut(N)
                    .zip(hi[..run].chunks_exact_mut(N))
                {
                    let ($x, $y) = (blk(a), blk(b));
                    $body
                }
            }
        }
    }};
}

/// `body` on every block (with its index) whose `fixed` bits equal `set`.
macro_rules! for_blocks {
    ($s:expr, $fixed:expr, $set:expr, |$b:ident, $v:ident| $body:block) => {{
        let s = $s;
        let (fixed, set) = ($fixed, $set);
        if fixed == 0 {
            for ($b, c) in s.chunks_exact_mut(N).enumerate() {
                let $v = blk(c);
                $body
            }
        } else {
            let runs = Runs::new(s.len() / N, fixed, set);
            let run = runs.run();
            for st in runs {
                for (i, c) in s[st * N..(st + run) * N].chunks_exact_mut(N).enumerate() {
                    let ($b, $v) = (st + i, blk(c));
                    $body
                }
            }
        }
    }};
}

/// A kernel bound to local positions, ready to run on tiles.
#[derive(Clone, Debug)]
pub(crate) enum Kern<T> {
    /// Complex 2×2 on block bit `tb`: x' = a⊙x + b⊙y, y' = c⊙x + d⊙y (per-lane coefficients,
    /// so in-block controls are identity lanes).
    Mat {
        tb: usize,
        fixed: usize,
        set: usize,
        c: Box<[Cl<T>; 4]>,
    },
    /// Real 2×2 with uniform coefficients on block bit `tb` (RY, H, …).
    RealU {
        tb: usize,
        fixed: usize,
        set: usize,
        m: [T; 4],
    },
    /// Real 2×2 on block bit `tb` with per-lane coefficients (in-block controls).
    Real {
        tb: usize,
        fixed: usize,
        set: usize,
        c: Box<[Blk<T>; 4]>,
    },
    /// Real diagonal and imaginary off-diagonal on block bit `tb` (RX, Y):
    /// x' = a⊙x + b⊙swap(y), y' = c⊙swap(x) + d⊙y with `b`, `c` in `ims` form.
    Rx {
        tb: usize,
        fixed: usize,
        set: usize,
        c: Box<[Blk<T>; 4]>,
    },
    /// Swap of the pair blocks (X, CNOT, Toffoli on a block-bit target).
    Flip { tb: usize, fixed: usize, set: usize },
    /// A two-qubit op with both targets in blocks (positions log2 `p` < log2 `q`):
    /// v' = c0⊙v + c1⊙perm_p(v) + c2⊙perm_q(v) + c3⊙perm_{p^q}(v).
    InMat2 {
        p: usize,
        q: usize,
        fixed: usize,
        set: usize,
        c: Box<[Cl<T>; 4]>,
    },
    /// A two-qubit op with one target in blocks (log2 `p`) and one on block bit `tb`: with x, y
    /// the pair blocks, x' = c0⊙x + c1⊙perm(x) + c2⊙y + c3⊙perm(y) and y' likewise with c4..c7.
    Mat2Lo {
        p: usize,
        tb: usize,
        fixed: usize,
        set: usize,
        c: Box<[Cl<T>; 8]>,
    },
    /// Complex 2×2 on in-block position log2(`p`): v' = c0⊙v + c1⊙perm(v), where perm
    /// exchanges amplitudes j and j ^ p.
    InMat {
        p: usize,
        fixed: usize,
        set: usize,
        c: Box<[Cl<T>; 2]>,
    },
    /// Real 2×2 on an in-block position: v' = c0⊙v + c1⊙perm(v).
    InReal {
        p: usize,
        fixed: usize,
        set: usize,
        c: Box<[Blk<T>; 2]>,
    },
    /// RX-like on an in-block position: v' = c0⊙v + c1⊙swap(perm(v)), `c1` in `ims` form.
    InRx {
        p: usize,
        fixed: usize,
        set: usize,
        c: Box<[Blk<T>; 2]>,
    },
    /// A diagonal: the block-index bits `sel` pick one of `tables` (`None`: identity).
    Diag {
        fixed: usize,
        set: usize,
        sel: Vec<usize>,
        tables: Vec<Option<Cl<T>>>,
    },
    /// A product of diagonals: `lo[b & (lo.len() − 1)]` per lane (positions below 7), then the
    /// uniform `hi[b >> 3]` (positions from 6; as (re, im), skipped where exactly 1).
    DiagProd { lo: Vec<Cl<T>>, hi: Vec<(T, T)> },
    /// Dense 2^k × 2^k on block bits `offs` (matrix bit j ↔ block offset bit `offs[j]`), k ≤ 4.
    Dense {
        offs: Vec<usize>,
        fixed: usize,
        set: usize,
        m: Vec<(T, T)>,
    },
    /// SWAP of two block bits `a` < `b`.
    Swap {
        a: usize,
        b: usize,
        fixed: usize,
        set: usize,
    },
    /// Anything else: a controlled dense matrix on local positions, scalar arithmetic.
    Generic {
        pos: Vec<usize>,
        ctrl: usize,
        m: Vec<(T, T)>,
    },
}

/// The largest dense kernel on block bits.
pub(crate) const MAX_DENSE: usize = 4;

impl<T: Real> Kern<T> {
    /// Applies the kernel to the tile `s` (2·2^m lanes, m ≥ 3).
    #[inline(always)]
    pub(crate) fn run(&self, s: &mut [T]) {
        match self {
            Kern::Mat { tb, fixed, set, c } => {
                let [a, b, cc, d] = **c;
                for_pairs!(s, *tb, *fixed, *set, |x, y| {
                    let (x0, y0) = (*x, *y);
                    let (mut xo, mut yo) = ([T::ZERO; N], [T::ZERO; N]);
                    for k in 0..N {
                        xo[k] = a.re[k] * x0[k]
                            + a.ims[k] * x0[k ^ 1]
                            + b.re[k] * y0[k]
                            + b.ims[k] * y0[k ^ 1];
                        yo[k] = cc.re[k] * x0[k]
                            + cc.ims[k] * x0[k ^ 1]
                            + d.re[k] * y0[k]
                            + d.ims[k] * y0[k ^ 1];
                    }
                    (*x, *y) = (xo, yo);
                });
            }
            Kern::Real { tb, fixed, set, c } => {
                let [a, b, cc, d] = **c;
                for_pairs!(s, *tb, *fixed, *set, |x, y| {
                    let (x0, y0) = (*x, *y);
                    let (mut xo, mut yo) = ([T::ZERO; N], [T::ZERO; N]);
                    for k in 0..N {
                        xo[k] = a[k] * x0[k] + b[k] * y0[k];
                        yo[k] = cc[k] * x0[k] + d[k] * y0[k];
                    }
                    (*x, *y) = (xo, yo);
                });
            }
            Kern::RealU { tb, fixed, set, m } => {
                let [a, b, cc, d] = *m;
                for_pairs!(s, *tb, *fixed, *set, |x, y| {
                    let (x0, y0) = (*x, *y);
                    let (mut xo, mut yo) = ([T::ZERO; N], [T::ZERO; N]);
                    for k in 0..N {
                        xo[k] = a * x0[k] + b * y0[k];
                        yo[k] = cc * x0[k] + d * y0[k];
                    }
                    (*x, *y) = (xo, yo);
                });
            }
            Kern::Rx { tb, fixed, set, c } => {
                let [a, b, cc, d] = **c;
                for_pairs!(s, *tb, *fixed, *set, |x, y| {
                    let (x0, y0) = (*x, *y);
                    let (mut xo, mut yo) = ([T::ZERO; N], [T::ZERO; N]);
                    for k in 0..N {
                        xo[k] = a[k] * x0[k] + b[k] * y0[k ^ 1];
                        yo[k] = cc[k] * x0[k ^ 1] + d[k] * y0[k];
                    }
                    (*x, *y) = (xo, yo);
                });
            }
            Kern::Flip { tb, fixed, set } => {
                let runs = Runs::new(s.len() / N, *fixed, *set);
                let run = runs.run() * N;
                if run <= 4 * N {
                    // Short runs: a block loop beats a call per run.
                    for_pairs!(s, *tb, *fixed, *set, |x, y| {
                        std::mem::swap(x, y);
                    });
                } else {
                    for st in runs {
                        let (lo, hi) = s[st * N..].split_at_mut(tb * N);
                        lo[..run].swap_with_slice(&mut hi[..run]);
                    }
                }
            }
            Kern::InMat { p, fixed, set, c } => match p {
                1 => in_mat::<T, 1>(s, *fixed, *set, c),
                2 => in_mat::<T, 2>(s, *fixed, *set, c),
                _ => in_mat::<T, 4>(s, *fixed, *set, c),
            },
            Kern::InReal { p, fixed, set, c } => match p {
                1 => in_real::<T, 1>(s, *fixed, *set, c),
                2 => in_real::<T, 2>(s, *fixed, *set, c),
                _ => in_real::<T, 4>(s, *fixed, *set, c),
            },
            Kern::InRx { p, fixed, set, c } => match p {
                1 => in_rx::<T, 1>(s, *fixed, *set, c),
                2 => in_rx::<T, 2>(s, *fixed, *set, c),
                _ => in_rx::<T, 4>(s, *fixed, *set, c),
            },
            Kern::Diag {
                fixed,
                set,
                sel,
                tables,
            } => {
                for_blocks!(s, *fixed, *set, |b, v| {
                    let mut idx = 0;
                    for (i, &m) in sel.iter().enumerate() {
                        if b & m != 0 {
                            idx |= 1 << i;
                        }
                    }
                    if let Some(c) = &tables[idx] {
                        let v0 = *v;
                        let mut o = [T::ZERO; N];
                        for k in 0..N {
                            o[k] = c.re[k] * v0[k] + c.ims[k] * v0[k ^ 1];
                        }
                        *v = o;
                    }
                });
            }
            Kern::DiagProd { lo, hi } => diag_prod(s, lo, hi),
            Kern::Dense {
                offs,
                fixed,
                set,
                m,
            } => dense(s, offs, *fixed, *set, m),
            Kern::Swap { a, b, fixed, set } => {
                let runs = Runs::new(s.len() / N, *fixed, *set);
                let run = runs.run() * N;
                for st in runs {
                    let (lo, hi) = s[(st + a) * N..].split_at_mut((b - a) * N);
                    lo[..run].swap_with_slice(&mut hi[..run]);
                }
            }
            Kern::InMat2 {
                p,
                q,
                fixed,
                set,
                c,
            } => match (p, q) {
                (1, 2) => in_mat2::<T, 1, 2>(s, *fixed, *set, c),
                (1, _) => in_mat2::<T, 1, 4>(s, *fixed, *set, c),
                _ => in_mat2::<T, 2, 4>(s, *fixed, *set, c),
            },
            Kern::Mat2Lo {
                p,
                tb,
                fixed,
                set,
                c,
            } => match p {
                1 => mat2_lo::<T, 1>(s, *tb, *fixed, *set, c),
                2 => mat2_lo::<T, 2>(s, *tb, *fixed, *set, c),
                _ => mat2_lo::<T, 4>(s, *tb, *fixed, *set, c),
            },
            Kern::Generic { pos, ctrl, m } => generic(s, pos, *ctrl, m),
        }
    }
}

/// `c ⊙ v[· ^ X]` added to `o` (X < 8 amplitudes).
#[inline(always)]
fn mac_perm<T: Real, const X: usize>(o: &mut Blk<T>, c: &Cl<T>, v: &Blk<T>) {
    for (k, ok) in o.iter_mut().enumerate() {
        let w = k ^ (2 * X);
        *ok += c.re[k] * v[w] + c.ims[k] * v[w ^ 1];
    }
}

#[inline(always)]
fn in_mat2<T: Real, const P: usize, const Q: usize>(
    s: &mut [T],
    fixed: usize,
    set: usize,
    c: &[Cl<T>; 4],
) {
    let c = *c;
    for_blocks!(s, fixed, set, |_b, v| {
        let v0 = *v;
        let mut o = [T::ZERO; N];
        mac_perm::<T, 0>(&mut o, &c[0], &v0);
        mac_perm::<T, P>(&mut o, &c[1], &v0);
        mac_perm::<T, Q>(&mut o, &c[2], &v0);
        match P | Q {
            3 => mac_perm::<T, 3>(&mut o, &c[3], &v0),
            5 => mac_perm::<T, 5>(&mut o, &c[3], &v0),
            _ => mac_perm::<T, 6>(&mut o, &c[3], &v0),
        }
        *v = o;
    });
}

#[inline(always)]
fn mat2_lo<T: Real, const P: usize>(
    s: &mut [T],
    tb: usize,
    fixed: usize,
    set: usize,
    c: &[Cl<T>; 8],
) {
    let c = *c;
    for_pairs!(s, tb, fixed, set, |x, y| {
        let (x0, y0) = (*x, *y);
        let (mut xo, mut yo) = ([T::ZERO; N], [T::ZERO; N]);
        mac_perm::<T, 0>(&mut xo, &c[0], &x0);
        mac_perm::<T, P>(&mut xo, &c[1], &x0);
        mac_perm::<T, 0>(&mut xo, &c[2], &y0);
        mac_perm::<T, P>(&mut xo, &c[3], &y0);
        mac_perm::<T, 0>(&mut yo, &c[4], &x0);
        mac_perm::<T, P>(&mut yo, &c[5], &x0);
        mac_perm::<T, 0>(&mut yo, &c[6], &y0);
        mac_perm::<T, P>(&mut yo, &c[7], &y0);
        (*x, *y) = (xo, yo);
    });
}

#[inline(always)]
fn in_mat<T: Real, const P: usize>(s: &mut [T], fixed: usize, set: usize, c: &[Cl<T>; 2]) {
    let [a, b] = *c;
    for_blocks!(s, fixed, set, |_b, v| {
        let v0 = *v;
        let mut o = [T::ZERO; N];
        for k in 0..N {
            let w = k ^ (2 * P);
            o[k] = a.re[k] * v0[k] + a.ims[k] * v0[k ^ 1] + b.re[k] * v0[w] + b.ims[k] * v0[w ^ 1];
        }
        *v = o;
    });
}

#[inline(always)]
fn in_real<T: Real, const P: usize>(s: &mut [T], fixed: usize, set: usize, c: &[Blk<T>; 2]) {
    let [a, b] = *c;
    for_blocks!(s, fixed, set, |_b, v| {
        let v0 = *v;
        let mut o = [T::ZERO; N];
        for k in 0..N {
            o[k] = a[k] * v0[k] + b[k] * v0[k ^ (2 * P)];
        }
        *v = o;
    });
}

#[inline(always)]
fn in_rx<T: Real, const P: usize>(s: &mut [T], fixed: usize, set: usize, c: &[Blk<T>; 2]) {
    let [a, b] = *c;
    for_blocks!(s, fixed, set, |_b, v| {
        let v0 = *v;
        let mut o = [T::ZERO; N];
        for k in 0..N {
            o[k] = a[k] * v0[k] + b[k] * v0[k ^ (2 * P) ^ 1];
        }
        *v = o;
    });
}

/// `lo[b % lo.len()]` per lane, then the uniform `hi[b / 8]`, on every block b.
#[inline(always)]
fn diag_prod<T: Real>(s: &mut [T], lo: &[Cl<T>], hi: &[(T, T)]) {
    // A local copy of the lane table, so that the compiler sees it does not alias the state.
    let mut table = [Cl {
        re: [T::ZERO; N],
        ims: [T::ZERO; N],
    }; 16];
    let count = lo.len().min(16);
    table[..count].copy_from_slice(&lo[..count]);
    let lo_mask = count.wrapping_sub(1);
    // Groups of 8 blocks share their per-block value hi[b >> 3].
    for (g, group) in s.chunks_mut(8 * N).enumerate() {
        let (hr, hm) = if hi.is_empty() {
            (T::ONE, T::ZERO)
        } else {
            hi[g]
        };
        let scale = hr != T::ONE || hm != T::ZERO;
        for (j, c) in group.chunks_exact_mut(N).enumerate() {
            let v = blk(c);
            let mut o = *v;
            if count > 0 {
                let t = &table[(8 * g + j) & lo_mask];
                for k in 0..N {
                    o[k] = t.re[k] * v[k] + t.ims[k] * v[k ^ 1];
                }
            }
            if scale {
                let mut p = [T::ZERO; N];
                for jj in 0..N / 2 {
                    p[2 * jj] = hr * o[2 * jj] - hm * o[2 * jj + 1];
                    p[2 * jj + 1] = hr * o[2 * jj + 1] + hm * o[2 * jj];
                }
                o = p;
            }
            *v = o;
        }
    }
}

/// Dense 2^k × 2^k (k = offs.len() ≤ [`MAX_DENSE`]) on block bits, uniform coefficients.
#[inline(always)]
fn dense<T: Real>(s: &mut [T], offs: &[usize], fixed: usize, set: usize, m: &[(T, T)]) {
    let k = offs.len().min(MAX_DENSE);
    let dim = 1usize << k;
    let mut group = [0usize; 1 << MAX_DENSE];
    for (j, g) in group.iter_mut().enumerate().take(dim) {
        *g = (0..k)
            .filter(|&b| j >> b & 1 == 1)
            .fold(0, |acc, b| acc | offs[b]);
    }
    let runs = Runs::new(s.len() / N, fixed, set);
    let run = runs.run();
    let mut v = [[T::ZERO; N]; 1 << MAX_DENSE];
    let mut vs = [[T::ZERO; N]; 1 << MAX_DENSE];
    for st in runs {
        for base in st..st + run {
            for j in 0..dim {
                let src = &s[(base + group[j]) * N..(base + group[j] + 1) * N];
                v[j].copy_from_slice(src);
                for i in 0..N / 2 {
                    vs[j][2 * i] = -v[j][2 * i + 1];
                    vs[j][2 * i + 1] = v[j][2 * i];
                }
            }
            for r in 0..dim {
                let mut acc = [T::ZERO; N];
                for j in 0..dim {
                    let (mr, mi) = m[r * dim + j];
                    for l in 0..N {
                        acc[l] += mr * v[j][l] + mi * vs[j][l];
                    }
                }
                s[(base + group[r]) * N..(base + group[r] + 1) * N].copy_from_slice(&acc);
            }
        }
    }
}

/// A controlled dense matrix on local positions `pos` (matrix bit j ↔ `pos[j]`), applied where
/// the position mask `ctrl` is all 1, with scalar complex arithmetic.
fn generic<T: Real>(s: &mut [T], pos: &[usize], ctrl: usize, m: &[(T, T)]) {
    let k = pos.len();
    let dim = 1usize << k;
    let tmask = pos.iter().fold(0usize, |acc, &p| acc | 1 << p);
    let offs: Vec<usize> = (0..dim)
        .map(|j| {
            (0..k)
                .filter(|&b| j >> b & 1 == 1)
                .fold(0, |acc, b| acc | 1 << pos[b])
        })
        .collect();
    let mut v = vec![(T::ZERO, T::ZERO); dim];
    let len = s.len() / 2;
    for base in 0..len {
        if base & tmask != 0 || base & ctrl != ctrl {
            continue;
        }
        for (x, &o) in v.iter_mut().zip(&offs) {
            *x = (s[2 * (base | o)], s[2 * (base | o) + 1]);
        }
        for (r, &o) in offs.iter().enumerate() {
            let (mut re, mut im) = (T::ZERO, T::ZERO);
            for (j, &(xr, xi)) in v.iter().enumerate() {
                let (mr, mi) = m[r * dim + j];
                re += mr * xr - mi * xi;
                im += mr * xi + mi * xr;
            }
            s[2 * (base | o)] = re;
            s[2 * (base | o) + 1] = im;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_enumerate_the_selected_blocks() {
        let nb = 64;
        for (fixed, set) in [
            (0b101usize, 0b001usize),
            (0b1100, 0b0100),
            (0b1, 0),
            (0, 0),
            (0b100000, 0b100000),
        ] {
            let runs = Runs::new(nb, fixed, set);
            let run = runs.run();
            let seen: Vec<usize> = runs.flat_map(|s| s..s + run).collect();
            let want: Vec<usize> = (0..nb).filter(|b| b & fixed == set).collect();
            assert_eq!(seen, want, "fixed {fixed:b} set {set:b}");
        }
    }
}
