//! Running tile passes over a state: the whole state as one tile, contiguous tiles in place, or
//! copied tiles (runs copied into a per-thread buffer, written back through the pass's folded
//! permutations and diagonal if any). Tiles are independent, so a pass runs them in parallel on
//! rayon's pool (which honours `RAYON_NUM_THREADS`) when asked.
//!
//! Instruction sets: the per-tile kernel loop and the copies are compiled for the build's
//! baseline and, on x86-64, for AVX2 + FMA, picked at run time.

use super::kern::{Cl, Kern, Lanes, N};
use super::plan::{PassSpec, PermKind, Suffix};
pub(crate) use crate::math::isa::{detect_isa, Isa};
use crate::sim::cpu::real::Real;
use rayon::prelude::*;
use std::sync::Mutex;

/// Tile buffers, one per thread of the pool, kept across passes and applies (a fresh buffer
/// per pass would cost its page faults every time).
#[derive(Debug, Default)]
pub(crate) struct Scratch<T> {
    bufs: Vec<Mutex<Lanes<T>>>,
    lanes: usize,
}

impl<T> Clone for Scratch<T> {
    /// A clone starts without buffers (they are allocated on first use).
    fn clone(&self) -> Self {
        Scratch {
            bufs: Vec::new(),
            lanes: 0,
        }
    }
}

impl<T: Real> Scratch<T> {
    /// Makes sure there is a buffer of `lanes` lanes for each of `threads` threads; `false` if
    /// the memory cannot be had.
    pub(crate) fn ensure(&mut self, threads: usize, lanes: usize) -> bool {
        if self.lanes != lanes {
            self.bufs.clear();
            self.lanes = lanes;
        }
        while self.bufs.len() < threads.max(1) {
            match Lanes::zeros(lanes) {
                Some(b) => self.bufs.push(Mutex::new(b)),
                None => return false,
            }
        }
        true
    }

    /// Runs `f` on the calling thread's buffer.
    fn with(&self, f: impl FnOnce(&mut [T])) {
        if self.bufs.is_empty() {
            return;
        }
        let idx = rayon::current_thread_index().unwrap_or(0) % self.bufs.len();
        let mut buf = self.bufs[idx].lock().unwrap_or_else(|e| e.into_inner());
        f(buf.as_mut_slice())
    }
}

/// How a pass lays its tiles over the state.
#[derive(Clone, Debug)]
pub(crate) enum Layout {
    /// The whole state is one tile.
    Whole,
    /// Tiles are consecutive chunks of 2^b amplitudes.
    Contig { b: usize },
    /// Tiles hold runs of 2^r amplitudes at the offsets `runs` (one per value of the tile's
    /// high qubits); tile i starts at the index with the bits of i on the `outer` positions.
    Gather {
        b: usize,
        r: usize,
        runs: Vec<usize>,
        outer: Vec<usize>,
    },
}

/// A pass ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Pass<T> {
    pub(crate) layout: Layout,
    /// Kernels with the global mask of their controls outside the tile.
    pub(crate) kerns: Vec<(Kern<T>, u64)>,
    /// What the write-back of each tile applies (gathered layouts only).
    pub(crate) suffix: Option<SuffixTables<T>>,
}

/// A [`Suffix`] as lookup tables over the blocks of a tile. The folded permutations (X, CNOT,
/// SWAP on block bits) are affine maps of the local index over GF(2), so for each pattern of the
/// controls outside the tile the *preimage* of block d's first amplitude is
/// `lo[d & (2^lo_bits − 1)] ^ hi[d >> lo_bits]`.
#[derive(Clone, Debug)]
pub(crate) struct SuffixTables<T> {
    /// Global positions of the controls outside the tile (their values pick the pattern).
    ext: Vec<usize>,
    lo_bits: usize,
    /// Per pattern: the images of the low and the high block-index bits.
    maps: Vec<(Vec<u32>, Vec<u32>)>,
    lo: Vec<Cl<T>>,
    hi: Vec<(T, T)>,
}

impl<T: Real> SuffixTables<T> {
    /// Tables for tiles of 2^m amplitudes.
    pub(crate) fn new(suffix: Suffix<T>, m: usize) -> Self {
        let ext_mask = suffix.perms.iter().fold(0u64, |acc, p| acc | p.ext);
        let ext: Vec<usize> = (0..64).filter(|&q| ext_mask >> q & 1 == 1).collect();
        let block_bits = m - 3;
        let lo_bits = block_bits.min(8);
        let maps = (0..1usize << ext.len())
            .map(|pattern| {
                let set = ext
                    .iter()
                    .enumerate()
                    .fold(0u64, |acc, (j, &q)| acc | ((pattern >> j & 1) as u64) << q);
                // The affine map i ↦ A·i ⊕ c on local indices: columns of the block bits, constant.
                let mut cols: Vec<usize> = (0..block_bits).map(|j| 1usize << (j + 3)).collect();
                let mut c = 0usize;
                // The inverse map (each op is an involution: apply them last to first), so that
                // the write-back runs in destination order and its stores stream.
                for p in suffix.perms.iter().rev().filter(|p| p.ext & set == p.ext) {
                    let step = |v: usize| -> usize {
                        match p.kind {
                            PermKind::Flip(t) => {
                                if v & p.cpos == p.cpos {
                                    v ^ 1 << t
                                } else {
                                    v
                                }
                            }
                            PermKind::Swap(a, b) => {
                                if (v >> a ^ v >> b) & 1 == 1 {
                                    v ^ (1 << a | 1 << b)
                                } else {
                                    v
                                }
                            }
                        }
                    };
                    // Linear part: a controlled flip adds the target to the columns whose control
                    // bit is set; an uncontrolled flip only moves the constant.
                    for col in cols.iter_mut() {
                        *col = match p.kind {
                            PermKind::Flip(_) if p.cpos == 0 => *col,
                            _ => step(*col),
                        };
                    }
                    c = step(c);
                }
                let image = |bits: usize, first: usize, with_c: bool| -> u32 {
                    let v = (0..block_bits - first)
                        .filter(|&j| bits >> j & 1 == 1)
                        .fold(if with_c { c } else { 0 }, |acc, j| acc ^ cols[first + j]);
                    v as u32
                };
                let lo = (0..1usize << lo_bits).map(|x| image(x, 0, true)).collect();
                let hi = (0..1usize << (block_bits - lo_bits))
                    .map(|y| image(y, lo_bits, false))
                    .collect();
                (lo, hi)
            })
            .collect();
        SuffixTables {
            ext,
            lo_bits,
            maps,
            lo: suffix.lo,
            hi: suffix.hi,
        }
    }
}

impl Layout {
    /// The layout of `spec` for an `n`-qubit state and tiles of `b` qubits; `copy`: tiles are
    /// copied into a buffer even when contiguous (to fold a suffix into the write-back).
    pub(crate) fn new(spec: &PassSpec, n: usize, b: usize, copy: bool) -> Self {
        if n <= b {
            return Layout::Whole;
        }
        if spec.high.is_empty() && !copy {
            return Layout::Contig { b };
        }
        let runs = (0..1usize << spec.high.len())
            .map(|h| deposit(h, &spec.high))
            .collect();
        let outer = (spec.r..n).filter(|q| !spec.high.contains(q)).collect();
        Layout::Gather {
            b,
            r: spec.r,
            runs,
            outer,
        }
    }
}

/// The bits of `i` placed on `positions` (ascending).
#[inline(always)]
fn deposit(i: usize, positions: &[usize]) -> usize {
    positions
        .iter()
        .enumerate()
        .fold(0, |acc, (j, &p)| acc | (i >> j & 1) << p)
}

#[inline(always)]
fn run_tile_impl<T: Real>(kerns: &[(Kern<T>, u64)], s: &mut [T], base: usize) {
    for (k, ext) in kerns {
        if base as u64 & ext == *ext {
            k.run(s);
        }
    }
}

/// Writes the tile `buf` back through the suffix tables, in destination order: tile block d
/// (amplitudes from global index `base | runs[h] | off`) receives the block of its preimage,
/// times the diagonal at d.
///
/// # Safety
/// `ptr` must point to the state, and the lanes of this tile must not be touched by anyone else
/// during the call.
#[inline(always)]
unsafe fn write_back_impl<T: Real>(
    buf: &[T],
    tab: &SuffixTables<T>,
    ptr: *mut T,
    base: usize,
    r: usize,
    runs: &[usize],
) {
    let pattern = tab
        .ext
        .iter()
        .enumerate()
        .fold(0, |acc, (j, &q)| acc | (base >> q & 1) << j);
    let (lo_map, hi_map) = &tab.maps[pattern];
    let lo_mask_map = (1usize << tab.lo_bits) - 1;
    let low = (1usize << r) - 1;
    let blocks = buf.len() / N;
    let lo_mask = tab.lo.len().wrapping_sub(1);
    // Groups of 8 destination blocks share their per-block diagonal value hi[d >> 3].
    for g in 0..blocks.div_ceil(8) {
        let (hr, hm) = if tab.hi.is_empty() {
            (T::ONE, T::ZERO)
        } else {
            tab.hi[g]
        };
        let scale = hr != T::ONE || hm != T::ZERO;
        for d in 8 * g..(8 * g + 8).min(blocks) {
            let src = (lo_map[d & lo_mask_map] ^ hi_map[d >> tab.lo_bits]) as usize;
            let mut v = [T::ZERO; N];
            v.copy_from_slice(&buf[2 * src..2 * src + N]);
            if !tab.lo.is_empty() {
                let t = &tab.lo[d & lo_mask];
                let mut o = [T::ZERO; N];
                for k in 0..N {
                    o[k] = t.re[k] * v[k] + t.ims[k] * v[k ^ 1];
                }
                v = o;
            }
            if scale {
                let mut o = [T::ZERO; N];
                for j in 0..N / 2 {
                    o[2 * j] = hr * v[2 * j] - hm * v[2 * j + 1];
                    o[2 * j + 1] = hr * v[2 * j + 1] + hm * v[2 * j];
                }
                v = o;
            }
            let li = d << 3;
            let gi = base | runs[li >> r] | (li & low);
            // SAFETY: gi is an amplitude of this tile, so the N lanes from 2·gi lie in the state
            // and belong to this job.
            unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), ptr.add(2 * gi), N) };
        }
    }
}

/// The kernels of a tile in a function of their own (inlining them into the copy loops of
/// `gather_tile_impl` makes the whole slower).
#[inline(never)]
fn run_tile_outlined<T: Real>(kerns: &[(Kern<T>, u64)], s: &mut [T], base: usize) {
    run_tile(detect_isa(), kerns, s, base)
}

/// Copies `src` to `dst` (equal lengths, whole blocks) block by block.
#[inline(always)]
fn copy_blocks<T: Real>(dst: &mut [T], src: &[T]) {
    for (d, s) in dst.chunks_exact_mut(N).zip(src.chunks_exact(N)) {
        let d: &mut [T; N] = d
            .try_into()
            .unwrap_or_else(|_| unreachable!("blocks of N lanes"));
        let s: &[T; N] = s
            .try_into()
            .unwrap_or_else(|_| unreachable!("blocks of N lanes"));
        *d = *s;
    }
}

/// One gathered tile: copies its runs (2^r amplitudes at `base | runs[h]`) into `buf`, runs
/// the kernels, and writes it back (through the suffix if any).
///
/// # Safety
/// `ptr` must point to the state, every run must lie in it, and no one else may touch the
/// tile's lanes during the call.
#[inline(always)]
unsafe fn gather_tile_impl<T: Real>(
    kerns: &[(Kern<T>, u64)],
    suffix: Option<&SuffixTables<T>>,
    buf: &mut [T],
    ptr: *mut T,
    base: usize,
    r: usize,
    runs: &[usize],
) {
    let run = 2usize << r;
    for (h, &o) in runs.iter().enumerate() {
        // SAFETY: the run lies in the state and belongs to this job (caller).
        let src = unsafe { std::slice::from_raw_parts(ptr.add(2 * (base | o)), run) };
        copy_blocks(&mut buf[h * run..(h + 1) * run], src);
    }
    run_tile_outlined(kerns, buf, base);
    if let Some(tab) = suffix {
        // SAFETY: forwarded from the caller.
        unsafe { write_back_impl(buf, tab, ptr, base, r, runs) };
        return;
    }
    for (h, &o) in runs.iter().enumerate() {
        // SAFETY: as for the copy in.
        let dst = unsafe { std::slice::from_raw_parts_mut(ptr.add(2 * (base | o)), run) };
        copy_blocks(dst, &buf[h * run..(h + 1) * run]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gather_tile_avx2<T: Real>(
    kerns: &[(Kern<T>, u64)],
    suffix: Option<&SuffixTables<T>>,
    buf: &mut [T],
    ptr: *mut T,
    base: usize,
    r: usize,
    runs: &[usize],
) {
    // SAFETY: forwarded from the caller.
    unsafe { gather_tile_impl(kerns, suffix, buf, ptr, base, r, runs) }
}

/// See [`gather_tile_impl`].
///
/// # Safety
/// As for [`gather_tile_impl`].
#[allow(clippy::too_many_arguments)]
unsafe fn gather_tile<T: Real>(
    isa: Isa,
    kerns: &[(Kern<T>, u64)],
    suffix: Option<&SuffixTables<T>>,
    buf: &mut [T],
    ptr: *mut T,
    base: usize,
    r: usize,
    runs: &[usize],
) {
    match isa {
        // SAFETY: AVX2 and FMA were detected; the rest is forwarded from the caller.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { gather_tile_avx2(kerns, suffix, buf, ptr, base, r, runs) },
        // SAFETY: forwarded from the caller.
        Isa::Base => unsafe { gather_tile_impl(kerns, suffix, buf, ptr, base, r, runs) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_tile_avx2<T: Real>(kerns: &[(Kern<T>, u64)], s: &mut [T], base: usize) {
    run_tile_impl(kerns, s, base)
}

/// Runs `kerns` on the tile `s` whose first amplitude has the global index `base`.
fn run_tile<T: Real>(isa: Isa, kerns: &[(Kern<T>, u64)], s: &mut [T], base: usize) {
    match isa {
        // SAFETY: `Isa::Avx2` is only chosen after detecting AVX2 and FMA at run time.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { run_tile_avx2(kerns, s, base) },
        Isa::Base => run_tile_impl(kerns, s, base),
    }
}

/// A state pointer shared by the tile jobs of a gather pass.
struct StatePtr<T>(*mut T);
// SAFETY: the jobs of one pass touch pairwise disjoint amplitudes (distinct tiles), see
// `Pass::run`.
unsafe impl<T: Send> Send for StatePtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for StatePtr<T> {}

impl<T> StatePtr<T> {
    /// The pointer (a method, so that closures capture the whole `Sync` wrapper).
    fn get(&self) -> *mut T {
        self.0
    }
}

impl<T: Real> Pass<T> {
    /// Runs the pass on the interleaved state `amps` of `n` qubits, tiles in parallel when
    /// `parallel`.
    ///
    /// Gathered layouts need `scratch` to hold buffers of 2^(b+1) lanes (see
    /// [`Scratch::ensure`]).
    pub(crate) fn run(
        &self,
        isa: Isa,
        amps: &mut [T],
        n: usize,
        parallel: bool,
        scratch: &Scratch<T>,
    ) {
        if self.kerns.is_empty() && self.suffix.is_none() {
            return;
        }
        match &self.layout {
            Layout::Whole => run_tile(isa, &self.kerns, amps, 0),
            Layout::Contig { b } => {
                let chunk = 2usize << b;
                if parallel {
                    amps.par_chunks_mut(chunk)
                        .enumerate()
                        .for_each(|(i, c)| run_tile(isa, &self.kerns, c, i << b));
                } else {
                    for (i, c) in amps.chunks_mut(chunk).enumerate() {
                        run_tile(isa, &self.kerns, c, i << b);
                    }
                }
            }
            Layout::Gather { b, r, runs, outer } => {
                let (b, run) = (*b, 2usize << r);
                let _ = run;
                let tiles = 1usize << (n - b);
                let total = amps.len();
                let ptr = StatePtr(amps.as_mut_ptr());
                let tile = |buf: &mut [T], i: usize| {
                    let base = deposit(i, outer);
                    debug_assert!(runs.iter().all(|&o| 2 * (base | o) + run <= total));
                    // SAFETY: every run `2·(base | o) .. + run` lies in the state (base | o < 2^n
                    // and the run stays below the next multiple of 2^r), and tile i is the only
                    // job touching these lanes.
                    unsafe {
                        gather_tile(
                            isa,
                            &self.kerns,
                            self.suffix.as_ref(),
                            buf,
                            ptr.get(),
                            base,
                            *r,
                            runs,
                        )
                    };
                };
                if parallel {
                    let per_job = (tiles / (4 * rayon::current_num_threads())).max(1);
                    (0..tiles)
                        .into_par_iter()
                        .with_min_len(per_job)
                        .for_each(|i| scratch.with(|buf| tile(&mut buf[..2 << b], i)));
                } else {
                    scratch.with(|buf| {
                        for i in 0..tiles {
                            tile(&mut buf[..2 << b], i);
                        }
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod speed {
    use super::*;
    use crate::circuit::{Bindings, Circuit};
    use crate::sim::cpu::fast::plan::{bind, kernels, schedule};
    use std::time::Instant;

    fn time<T: Real>(label: &str, c: &Circuit, b: usize) {
        let n = c.num_qubits();
        let ops = bind(c.gates(), &Bindings::none(), 1);
        let specs = schedule(&ops, n, b, 4);
        assert_eq!(specs.len(), 1);
        let kerns =
            kernels::<T>(&ops, &specs[0], n, crate::sim::cpu::fast::plan::Fold::Never).kerns;
        let mut lanes = Lanes::<T>::zeros(2 << n).unwrap();
        let s = lanes.as_mut_slice();
        s.fill(T::from_f64(0.01));
        let isa = detect_isa();
        let reps = 4000;
        run_tile(isa, &kerns, s, 0);
        let t0 = Instant::now();
        for _ in 0..reps {
            run_tile(isa, &kerns, s, 0);
        }
        let dt = t0.elapsed().as_secs_f64() / reps as f64 / kerns.len() as f64;
        eprintln!(
            "{label:>12} {:?}: {:.3} ns/amp per kernel ({} kernels)",
            T::PRECISION,
            dt * 1e9 / (1 << n) as f64,
            kerns.len()
        );
    }

    #[test]
    #[ignore]
    fn kernel_speed() {
        type G = fn(&mut Circuit, usize);
        let gates: [(&str, G); 7] = [
            ("ry", |c, q| drop(c.ry(q, 0.3))),
            ("h", |c, q| drop(c.h(q))),
            ("rx", |c, q| drop(c.rx(q, 0.3))),
            ("u3", |c, q| drop(c.u3(q, 0.3, 0.2, 0.1))),
            ("rz", |c, q| drop(c.rz(q, 0.3))),
            ("cx", |c, q| drop(c.cnot(q, (q + 1) % c.num_qubits()))),
            ("cz", |c, q| drop(c.cz(q, (q + 1) % c.num_qubits()))),
        ];
        for (label, g) in gates.iter().take(1).chain(gates.iter()) {
            for (part, lo, hi) in [("lo", 0usize, 3usize), ("hi", 3, 11)] {
                for prec in [32, 64] {
                    let n = if prec == 32 { 12 } else { 11 };
                    let mut c = Circuit::new(n).unwrap();
                    for q in lo..hi.min(n) {
                        g(&mut c, q);
                    }
                    let l = format!("{label} {part}");
                    if prec == 32 {
                        time::<f32>(&l, &c, n);
                    } else {
                        time::<f64>(&l, &c, n);
                    }
                }
            }
        }
    }
}
