//! Planning one `apply` of the fast CPU state: bind every gate's matrix, fuse, classify, and
//! schedule the result into *tile passes*, each a list of kernels on local positions.
//!
//! Fusion: one-qubit gates without controls on the same qubit always merge into one matrix
//! (gates on other qubits in between commute with them); with `fusion_qubits ≥ 2` the result
//! then goes through [`crate::compile::fusion::fuse_where`], which merges neighbouring gates into dense
//! blocks of up to that many qubits. Every op is classified by its matrix (diagonal,
//! permutation, real, RX-like, general), so a fused block still gets the cheapest kernel; a
//! general one-qubit matrix D1·R·D2 (diagonal, real rotation, diagonal) with one diagonal a
//! multiple of the identity is split into the rotation and the other diagonal.
//!
//! Tiles: a pass works on tiles of 2^b amplitudes. A tile holds the qubits
//! S = {0, …, r−1} ∪ H for r ≥ `r_min` low qubits and a set H of higher ones; the other
//! qubits are fixed per tile (a tile is 2^|H| runs of 2^r consecutive amplitudes, copied into a
//! buffer unless H is empty). Consecutive ops whose targets lie in S run tile by tile while the
//! tile stays in cache. The scheduler fills a pass greedily in circuit order, also taking a
//! later op whose qubits no skipped op touches (they commute), so one pass can reach into the
//! next layer of a circuit; it ends a pass after its first run of foldable permutations (see
//! below) that later ops depend on. Controls need not be in S: a control outside it is constant
//! on a tile, and the op runs only on the tiles where it is 1.
//!
//! Diagonals: within a pass, diagonal ops are held back while the following ops commute with
//! them (ops whose targets they do not touch) and pushed through permutations (P·D = D'·P with
//! D' = D∘P), then merged into one product kernel: a per-lane table over the positions below 7
//! times a per-block table over the positions from 6, two complex products per amplitude however
//! many gates they replace.
//!
//! Folding: X (at most one control in the tile), CNOT and SWAP on block positions are affine
//! maps of the index; the ones at the end of a pass (after moving later commuting ops before
//! them), and the diagonal after them, are applied while each tile is written back (see
//! `exec::SuffixTables`) instead of costing a sweep each.

use super::kern::{imag_lanes, real_lanes, Cl, Kern, BLOCK_QUBITS, MAX_DENSE};
use crate::circuit::{Bindings, Gate, GateClass, GateKind, Permutation};
use crate::compile::fusion::{fuse_where, FusedOp};
use crate::sim::cpu::real::Real;
use num_complex::Complex64 as C64;

/// The matrix shape of an op, which picks its kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Diagonal.
    Diag,
    /// One qubit, exactly X.
    Flip,
    /// One qubit, real entries.
    Real,
    /// One qubit, real diagonal and imaginary off-diagonal (RX, Y).
    Rx,
    /// Two qubits, exactly SWAP.
    Swap,
    /// Anything else.
    General,
}

/// A bound gate or fused block on global qubits.
#[derive(Clone, Debug)]
pub(crate) struct GOp {
    /// Targets; bit j of the matrix index ↔ `targets[j]`.
    pub(crate) targets: Vec<usize>,
    /// Controls (all must be 1).
    pub(crate) controls: Vec<usize>,
    /// Row-major 2^k × 2^k matrix.
    pub(crate) m: Vec<C64>,
    /// Its shape.
    pub(crate) class: Class,
}

fn mask(qubits: &[usize]) -> u64 {
    qubits.iter().fold(0u64, |m, &q| m | 1u64 << q)
}

impl GOp {
    /// A permutation a pass can fold into its write-back (see `LPerm::foldable`), judged on
    /// global qubits (qubit q < 3 keeps its in-block position in every tile).
    fn foldable(&self) -> bool {
        let block = |q: &usize| *q >= BLOCK_QUBITS;
        match self.class {
            Class::Flip => {
                self.targets.iter().all(block)
                    && self.controls.iter().all(block)
                    && self.controls.len() <= 1
            }
            Class::Swap => self.targets.iter().all(block) && self.controls.is_empty(),
            _ => false,
        }
    }
    fn target_mask(&self) -> u64 {
        mask(&self.targets)
    }
    fn full_mask(&self) -> u64 {
        mask(&self.targets) | mask(&self.controls)
    }
}

/// The kernel class of a bound 2^k × 2^k matrix (a gate or a fused product), `None` for the
/// identity: the gate model's class of the matrix ([`GateClass::of_matrix`]; blocks of more
/// than two qubits are dense unless diagonal), refined for dense one-qubit matrices into this
/// engine's real-coefficient kernels.
fn classify(k: usize, m: &[C64]) -> Option<Class> {
    let class = if k <= 2 {
        GateClass::of_matrix(m)
    } else if crate::math::linalg::is_diagonal(m) {
        GateClass::Diagonal
    } else {
        GateClass::Dense
    };
    match class {
        GateClass::Identity => None,
        GateClass::Permutation(Permutation::Flip) => Some(Class::Flip),
        GateClass::Permutation(Permutation::Swap) => Some(Class::Swap),
        c if c.is_diagonal() => Some(Class::Diag),
        _ if k == 1 && m.iter().all(|c| c.im == 0.0) => Some(Class::Real),
        _ if k == 1 && m[0].im == 0.0 && m[3].im == 0.0 && m[1].re == 0.0 && m[2].re == 0.0 => {
            Some(Class::Rx)
        }
        _ => Some(Class::General),
    }
}

/// Binds `gates` under `bindings`, merges one-qubit chains, fuses into blocks of up to
/// `fusion_qubits` qubits (when ≥ 2) and classifies; identities are dropped.
pub(crate) fn bind(gates: &[Gate], bindings: &Bindings<'_>, fusion_qubits: usize) -> Vec<GOp> {
    let mut ops: Vec<(Vec<usize>, Vec<usize>, Vec<C64>)> = Vec::with_capacity(gates.len());
    let mut open: [Option<usize>; 64] = [None; 64];
    for g in gates {
        if g.kind.class() == GateClass::Identity {
            continue;
        }
        let m = g.bound_matrix(bindings);
        if g.targets.len() == 1 && g.controls.is_empty() {
            let q = g.targets[0];
            match open[q] {
                Some(i) => ops[i].2 = crate::math::linalg::matmul(&m, &ops[i].2),
                None => {
                    ops.push((g.targets.clone(), Vec::new(), m));
                    open[q] = Some(ops.len() - 1);
                }
            }
        } else {
            for &q in g.targets.iter().chain(&g.controls) {
                open[q] = None;
            }
            ops.push((g.targets.clone(), g.controls.clone(), m));
        }
    }
    if fusion_qubits >= 2 && ops.len() > 1 {
        let gates: Vec<Gate> = ops
            .iter()
            .map(|(t, c, _)| Gate::controlled(GateKind::I, c, t))
            .collect();
        let mats: Vec<Vec<C64>> = ops.iter().map(|o| o.2.clone()).collect();
        ops = fuse_where(&gates, &mats, fusion_qubits, |_| true)
            .into_iter()
            .map(|f| match f {
                FusedOp::Gate { index } => ops[index].clone(),
                FusedOp::Dense { qubits, matrix, .. } => (qubits, Vec::new(), matrix),
            })
            .collect();
    }
    let mut out = Vec::with_capacity(ops.len());
    for (targets, controls, m) in ops {
        match classify(targets.len(), &m) {
            None => {}
            Some(Class::General) if targets.len() == 1 => match euler(&m) {
                // D1·R (or R·D2): the real rotation is the cheap real kernel and the diagonal
                // merges with its neighbours in a pass.
                Some(parts) => {
                    for (part, class) in parts {
                        if classify(1, &part).is_some() {
                            out.push(GOp {
                                targets: targets.clone(),
                                controls: controls.clone(),
                                m: part,
                                class,
                            });
                        }
                    }
                }
                None => out.push(GOp {
                    targets,
                    controls,
                    m,
                    class: Class::General,
                }),
            },
            Some(Class::Swap) if targets.iter().any(|&t| t < BLOCK_QUBITS) => {
                // A SWAP touching in-block positions (no vectorised kernel) as three CNOTs, the
                // middle one carrying the controls: CX(b→a)·CX(C ∪ {a} → b)·CX(b→a).
                let (a, b) = (targets[0], targets[1]);
                let x = vec![C64::ZERO, C64::ONE, C64::ONE, C64::ZERO];
                let mut middle = controls.clone();
                middle.push(a);
                for (t, c) in [(a, vec![b]), (b, middle), (a, vec![b])] {
                    out.push(GOp {
                        targets: vec![t],
                        controls: c,
                        m: x.clone(),
                        class: Class::Flip,
                    });
                }
            }
            Some(class) => out.push(GOp {
                targets,
                controls,
                m,
                class,
            }),
        }
    }
    out
}

/// M = diag(e0, e1)·[[c, −s], [s, c]] with real c, s and unit e0, e1 when M's rows each have
/// one phase (up to sign), checked by rebuilding M: `(c, s, e0, e1)`.
fn row_phases(m00: C64, m01: C64, m10: C64, m11: C64) -> Option<(f64, f64, C64, C64)> {
    let u = if m00.norm() >= m01.norm() { m00 } else { -m01 };
    if u.norm() == 0.0 {
        return None;
    }
    let e0 = u / u.norm();
    let (c, s) = ((m00 * e0.conj()).re, (-m01 * e0.conj()).re);
    let e1 = if s.abs() >= c.abs() { m10 / s } else { m11 / c };
    let rebuilt = [e0 * c, -e0 * s, e1 * s, e1 * c];
    let close = rebuilt
        .iter()
        .zip([m00, m01, m10, m11])
        .all(|(x, y)| (x - y).norm() <= 1e-13);
    close.then_some((c, s, e0, e1))
}

/// A one-qubit unitary as a real rotation and a diagonal, when it is D·R or R·D (M's rows, or
/// its columns, each have one phase): the two ops to apply in order. `None` otherwise (a
/// rotation between two diagonals costs more than the dense kernel). The factors rebuild M to
/// within 1e-13 per entry.
fn euler(m: &[C64]) -> Option<[(Vec<C64>, Class); 2]> {
    let z = C64::ZERO;
    let real = |x: f64| C64::new(x, 0.0);
    if let Some((c, s, e0, e1)) = row_phases(m[0], m[1], m[2], m[3]) {
        // M = D·R: the rotation first.
        return Some([
            (vec![real(c), real(-s), real(s), real(c)], Class::Real),
            (vec![e0, z, z, e1], Class::Diag),
        ]);
    }
    // Mᵀ = D·[[c, −s], [s, c]] gives M = [[c, s], [−s, c]]·D: the diagonal first.
    let (c, s, e0, e1) = row_phases(m[0], m[2], m[1], m[3])?;
    Some([
        (vec![e0, z, z, e1], Class::Diag),
        (vec![real(c), real(s), real(-s), real(c)], Class::Real),
    ])
}

/// One pass: the tile's qubits ({0..r} ∪ `high`) and the ops it runs, in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PassSpec {
    /// Low qubits held as runs.
    pub(crate) r: usize,
    /// Higher qubits of the tile, ascending (empty: tiles are contiguous).
    pub(crate) high: Vec<usize>,
    /// Indices into the op list.
    pub(crate) ops: Vec<usize>,
}

/// Splits `ops` into passes over tiles of `b` qubits of an `n`-qubit state (runs of at least
/// 2^`r_min` amplitudes). With n ≤ b a single pass holds the whole state.
pub(crate) fn schedule(ops: &[GOp], n: usize, b: usize, r_min: usize) -> Vec<PassSpec> {
    if n <= b {
        return vec![PassSpec {
            r: n,
            high: Vec::new(),
            ops: (0..ops.len()).collect(),
        }];
    }
    let fits = |tq: u64| r_min + (tq >> r_min).count_ones() as usize <= b;
    let mut passes = Vec::new();
    let mut remaining: Vec<usize> = (0..ops.len()).collect();
    while !remaining.is_empty() {
        let (mut tq, mut blocked) = (0u64, 0u64);
        let mut taken = Vec::new();
        let mut deferred = Vec::new();
        for &i in &remaining {
            let op = &ops[i];
            if op.full_mask() & blocked == 0 && fits(tq | op.target_mask()) {
                tq |= op.target_mask();
                taken.push(i);
            } else {
                blocked |= op.full_mask();
                deferred.push(i);
            }
        }
        if taken.is_empty() {
            // Cannot happen (an op has at most MAX_DENSE + r_min ≤ b targets), but never loop.
            taken.push(deferred.remove(0));
        }
        // End the pass with its first run of foldable permutations that later ops depend on
        // (the run is then folded into the write-back instead of costing a sweep per op): the
        // ops that depend on it go back to the remaining ones.
        let mut start = 0;
        while start < taken.len() {
            if !ops[taken[start]].foldable() {
                start += 1;
                continue;
            }
            let end = taken[start..]
                .iter()
                .position(|&i| !ops[i].foldable())
                .map_or(taken.len(), |k| start + k);
            if end - start >= 2 {
                let mut cut = taken[start..end]
                    .iter()
                    .fold(0u64, |m, &i| m | ops[i].full_mask());
                let (mut keep, mut back) = (taken[..end].to_vec(), Vec::new());
                for &i in &taken[end..] {
                    if ops[i].full_mask() & cut != 0 {
                        cut |= ops[i].full_mask();
                        back.push(i);
                    } else {
                        keep.push(i);
                    }
                }
                if !back.is_empty() {
                    taken = keep;
                    tq = taken.iter().fold(0, |m, &i| m | ops[i].target_mask());
                    deferred.extend(back);
                    deferred.sort_unstable();
                    break;
                }
            }
            start = end;
        }
        let r = (r_min..=b)
            .rev()
            .find(|&r| r + (tq >> r).count_ones() as usize <= b)
            .unwrap_or(r_min);
        let high = (r..n).filter(|&q| tq >> q & 1 == 1).collect();
        passes.push(PassSpec {
            r,
            high,
            ops: taken,
        });
        remaining = deferred;
    }
    passes
}

/// An op on local positions.
struct Local<'a> {
    op: &'a GOp,
    /// Target positions.
    tpos: Vec<usize>,
    /// Position mask of the controls inside the tile.
    cpos: usize,
    /// Global mask of the controls outside the tile.
    ext: u64,
}

impl Local<'_> {
    fn positions(&self) -> usize {
        self.tpos.iter().fold(self.cpos, |m, &p| m | 1 << p)
    }
    fn target_positions(&self) -> usize {
        self.tpos.iter().fold(0, |m, &p| m | 1 << p)
    }
    /// The diagonal entry for local index `i` (1 where a control is 0).
    fn diag_at(&self, i: usize) -> C64 {
        if i & self.cpos != self.cpos {
            return C64::ONE;
        }
        let dim = 1usize << self.tpos.len();
        let idx = self
            .tpos
            .iter()
            .enumerate()
            .fold(0, |acc, (j, &p)| acc | (i >> p & 1) << j);
        self.op.m[idx * dim + idx]
    }
}

/// A diagonal product keeps one table over the positions below this one (per lane and block)
/// and one over the positions from [`HI_FROM`] up (per block), so that factors on neighbouring
/// positions always fit one of them.
const LO_BELOW: usize = 7;
/// See [`LO_BELOW`].
const HI_FROM: usize = 6;
/// The most positions a pending diagonal factor may span.
const MAX_FACTOR: usize = 8;

/// The bits of `i` at the positions of `mask`, packed (bit j ↔ the j-th lowest position).
fn pext(i: usize, mask: usize) -> usize {
    let (mut out, mut m, mut j) = (0, mask, 0);
    while m != 0 {
        let p = m.trailing_zeros();
        out |= (i >> p & 1) << j;
        j += 1;
        m &= m - 1;
    }
    out
}

/// The bits of `x` placed on the positions of `mask`.
fn pdep(x: usize, mask: usize) -> usize {
    let (mut out, mut m, mut j) = (0, mask, 0);
    while m != 0 {
        let p = m.trailing_zeros();
        out |= (x >> j & 1) << p;
        j += 1;
        m &= m - 1;
    }
    out
}

/// A diagonal on the local positions `supp`: `table[pext(i, supp)]` for local index i.
#[derive(Clone, Debug)]
struct Factor {
    supp: usize,
    table: Vec<C64>,
}

impl Factor {
    fn from_local(l: &Local<'_>) -> Self {
        let supp = l.positions();
        let table = (0..1usize << supp.count_ones())
            .map(|x| l.diag_at(pdep(x, supp)))
            .collect();
        Factor { supp, table }
    }

    fn at(&self, i: usize) -> C64 {
        self.table[pext(i, self.supp)]
    }

    /// The factor D' with P·D = D'·P for the permutation P (an involution): D'(i) = D(P(i)).
    fn through(&self, p: &LPerm) -> Factor {
        if p.targets() & self.supp == 0 {
            return self.clone();
        }
        let supp = self.supp | p.positions();
        let table = (0..1usize << supp.count_ones())
            .map(|x| self.at(p.apply(pdep(x, supp))))
            .collect();
        Factor { supp, table }
    }

    /// Whether the factor fits the low or the high table of a product on `m` positions.
    fn fits(&self, m: usize) -> bool {
        m <= LO_BELOW || self.supp < 1 << LO_BELOW || self.supp & ((1 << HI_FROM) - 1) == 0
    }
}

/// What a permutation op does on local positions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum PermKind {
    /// Flip the target position.
    Flip(usize),
    /// Exchange two positions.
    Swap(usize, usize),
}

/// A permutation op (X or SWAP with controls) on local positions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LPerm {
    pub(crate) kind: PermKind,
    /// Position mask of the controls inside the tile.
    pub(crate) cpos: usize,
    /// Global mask of the controls outside the tile.
    pub(crate) ext: u64,
}

impl LPerm {
    fn targets(&self) -> usize {
        match self.kind {
            PermKind::Flip(t) => 1 << t,
            PermKind::Swap(a, b) => 1 << a | 1 << b,
        }
    }
    fn positions(&self) -> usize {
        self.targets() | self.cpos
    }
    /// The image of local index `i` (controls outside the tile taken as satisfied).
    pub(crate) fn apply(&self, i: usize) -> usize {
        if i & self.cpos != self.cpos {
            return i;
        }
        match self.kind {
            PermKind::Flip(t) => i ^ 1 << t,
            PermKind::Swap(a, b) => {
                if (i >> a ^ i >> b) & 1 == 1 {
                    i ^ (1 << a | 1 << b)
                } else {
                    i
                }
            }
        }
    }
    /// Whether the op can be folded into the write-back of a tile: an affine map of the local
    /// index (X with at most one control inside the tile, SWAP with none) that moves whole
    /// blocks.
    fn foldable(&self) -> bool {
        let in_block = (1 << BLOCK_QUBITS) - 1;
        self.cpos & in_block == 0
            && self.ext.count_ones() <= 2
            && match self.kind {
                PermKind::Flip(t) => t >= BLOCK_QUBITS && self.cpos.count_ones() <= 1,
                PermKind::Swap(a, b) => self.cpos == 0 && a >= BLOCK_QUBITS && b >= BLOCK_QUBITS,
            }
    }
}

/// Permutations and a diagonal that a pass applies while writing each tile back (instead of
/// sweeping the tile once per op): the perms in order, then the diagonal at the final indices.
#[derive(Clone, Debug)]
pub(crate) struct Suffix<T> {
    pub(crate) perms: Vec<LPerm>,
    /// Lane tables over the low positions and per-block values over the high ones, as in
    /// [`Kern::DiagProd`] (both empty: no diagonal).
    pub(crate) lo: Vec<Cl<T>>,
    pub(crate) hi: Vec<(T, T)>,
}

/// Whether and when a pass may fold its trailing permutations and diagonal into the tile
/// write-back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fold {
    /// Never (the pass works in place on the whole state).
    Never,
    /// When at least this many permutations can be folded (the pass would otherwise work in
    /// place, so folding costs a copy of each tile).
    AtLeast(usize),
    /// Whenever there is something to fold (tiles are copied anyway).
    Always,
}

/// The kernels of one pass and what its write-back folds in.
#[derive(Debug)]
pub(crate) struct PassKernels<T> {
    /// Kernels with the global mask of their controls outside the tile.
    pub(crate) kerns: Vec<(Kern<T>, u64)>,
    pub(crate) suffix: Option<Suffix<T>>,
}

/// One step of a pass before the write-back is decided.
enum Item<'a, T> {
    Kern(Kern<T>, u64, usize),
    Perm(LPerm, Local<'a>),
}

impl<T: Real> Item<'_, T> {
    fn positions(&self) -> usize {
        match self {
            Item::Kern(_, _, pos) => *pos,
            Item::Perm(p, _) => p.positions(),
        }
    }
    fn into_kern(self) -> (Kern<T>, u64) {
        match self {
            Item::Kern(k, ext, _) => (k, ext),
            Item::Perm(_, l) => (kernel(&l), l.ext),
        }
    }
}

/// Builds the kernels of one pass on tiles of `m` local positions (`r`, `high` as in
/// [`PassSpec`]). Diagonals are held back while ops commute with them (and pushed through
/// permutations), then merged into one product kernel; trailing permutations and the final
/// diagonal go to the write-back as `fold` allows. Each kernel comes with the global mask of its
/// controls outside the tile.
pub(crate) fn kernels<T: Real>(
    ops: &[GOp],
    spec: &PassSpec,
    m: usize,
    fold: Fold,
) -> PassKernels<T> {
    let local = |q: usize| {
        if q < spec.r {
            Some(q)
        } else {
            spec.high.iter().position(|&h| h == q).map(|i| spec.r + i)
        }
    };
    let mut items: Vec<Item<'_, T>> = Vec::with_capacity(spec.ops.len());
    let mut pending: Vec<Factor> = Vec::new();
    for &i in &spec.ops {
        let op = &ops[i];
        let mut l = Local {
            op,
            tpos: Vec::with_capacity(op.targets.len()),
            cpos: 0,
            ext: 0,
        };
        for &t in &op.targets {
            // Every target lies in the tile by construction of the pass.
            l.tpos.push(local(t).unwrap_or(0));
        }
        for &c in &op.controls {
            match local(c) {
                Some(p) => l.cpos |= 1 << p,
                None => l.ext |= 1u64 << c,
            }
        }
        let pending_mask = pending.iter().fold(0, |acc, f| acc | f.supp);
        match op.class {
            Class::Diag => {
                let pos = l.positions();
                if l.ext == 0 && pos.count_ones() as usize <= MAX_FACTOR {
                    pending.push(Factor::from_local(&l));
                } else {
                    // Diagonals commute with each other: no need to flush.
                    items.push(Item::Kern(diag(&l), l.ext, pos));
                }
            }
            Class::Flip | Class::Swap => {
                let kind = if op.class == Class::Flip {
                    PermKind::Flip(l.tpos[0])
                } else {
                    PermKind::Swap(l.tpos[0], l.tpos[1])
                };
                let p = LPerm {
                    kind,
                    cpos: l.cpos,
                    ext: l.ext,
                };
                if p.targets() & pending_mask != 0 {
                    let pushed: Vec<Factor> = pending.iter().map(|f| f.through(&p)).collect();
                    if l.ext == 0
                        && pushed
                            .iter()
                            .all(|f| f.supp.count_ones() as usize <= MAX_FACTOR && f.fits(m))
                    {
                        pending = pushed;
                    } else {
                        flush(&mut pending, &mut items, m);
                    }
                }
                items.push(Item::Perm(p, l));
            }
            _ => {
                if l.target_positions() & pending_mask != 0 {
                    flush(&mut pending, &mut items, m);
                }
                let pos = l.positions();
                items.push(Item::Kern(kernel(&l), l.ext, pos));
            }
        }
    }
    // The final diagonal: factors that fit the product tables may go to the write-back.
    let (tail, cross): (Vec<Factor>, Vec<Factor>) = pending.into_iter().partition(|f| f.fits(m));
    for f in cross {
        let supp = f.supp;
        items.push(Item::Kern(diag_factor(&f), 0, supp));
    }
    // Move folding candidates to the end past the steps that commute with them.
    let mut main: Vec<(Kern<T>, u64)> = Vec::with_capacity(items.len());
    let mut perms: Vec<(LPerm, Local<'_>)> = Vec::new();
    for item in items {
        match item {
            Item::Perm(p, l) if fold != Fold::Never && p.foldable() => perms.push((p, l)),
            other => {
                let pos = other.positions();
                if perms.iter().any(|(p, _)| p.positions() & pos != 0) {
                    main.extend(perms.drain(..).map(|(_, l)| (kernel(&l), l.ext)));
                }
                main.push(other.into_kern());
            }
        }
    }
    let ext_bits = perms
        .iter()
        .fold(0u64, |acc, (p, _)| acc | p.ext)
        .count_ones();
    let worth = match fold {
        Fold::Never => false,
        Fold::AtLeast(k) => perms.len() >= k,
        Fold::Always => !perms.is_empty() || !tail.is_empty(),
    };
    if !worth || ext_bits > 4 {
        main.extend(perms.into_iter().map(|(_, l)| (kernel(&l), l.ext)));
        if !tail.is_empty() {
            main.push((product(&tail, m), 0));
        }
        return PassKernels {
            kerns: main,
            suffix: None,
        };
    }
    let (lo, hi) = if tail.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        product_tables(&tail, m)
    };
    PassKernels {
        kerns: main,
        suffix: Some(Suffix {
            perms: perms.into_iter().map(|(p, _)| p).collect(),
            lo,
            hi,
        }),
    }
}

/// Emits the pending diagonals as kernels: one as its own, several as a product (plus those that
/// fit neither product table on their own).
fn flush<T: Real>(pending: &mut Vec<Factor>, items: &mut Vec<Item<'_, T>>, m: usize) {
    let (fit, cross): (Vec<Factor>, Vec<Factor>) = pending.drain(..).partition(|f| f.fits(m));
    match fit.len() {
        0 => {}
        1 => items.push(Item::Kern(diag_factor(&fit[0]), 0, fit[0].supp)),
        _ => {
            let supp = fit.iter().fold(0, |acc, f| acc | f.supp);
            items.push(Item::Kern(product(&fit, m), 0, supp));
        }
    }
    for f in cross {
        let supp = f.supp;
        items.push(Item::Kern(diag_factor(&f), 0, supp));
    }
}

/// The kernel of one op.
fn kernel<T: Real>(l: &Local<'_>) -> Kern<T> {
    let op = l.op;
    let (lo_c, hi_c) = (l.cpos & ((1 << BLOCK_QUBITS) - 1), l.cpos >> BLOCK_QUBITS);
    let ok = |j: usize| j & lo_c == lo_c;
    if op.class == Class::Diag {
        return diag(l);
    }
    let mm = &op.m;
    let scalar = || {
        mm.iter()
            .map(|c| (T::from_f64(c.re), T::from_f64(c.im)))
            .collect::<Vec<_>>()
    };
    if op.targets.len() == 1 {
        let t = l.tpos[0];
        if t >= BLOCK_QUBITS {
            let tb = 1usize << (t - BLOCK_QUBITS);
            let (fixed, set) = (tb | hi_c, hi_c);
            // Per-lane entry `e` of the matrix, identity where an in-block control is 0.
            let entry = |e: usize, j: usize| -> C64 {
                if ok(j) {
                    mm[e]
                } else if e == 0 || e == 3 {
                    C64::ONE
                } else {
                    C64::ZERO
                }
            };
            return match op.class {
                Class::Flip if lo_c == 0 => Kern::Flip { tb, fixed, set },
                Class::Real if lo_c == 0 => Kern::RealU {
                    tb,
                    fixed,
                    set,
                    m: [0, 1, 2, 3].map(|e| T::from_f64(mm[e].re)),
                },
                Class::Flip | Class::Real => Kern::Real {
                    tb,
                    fixed,
                    set,
                    c: Box::new([0, 1, 2, 3].map(|e| real_lanes(|j| entry(e, j).re))),
                },
                Class::Rx => Kern::Rx {
                    tb,
                    fixed,
                    set,
                    c: Box::new([
                        real_lanes(|j| entry(0, j).re),
                        imag_lanes(|j| entry(1, j).im),
                        imag_lanes(|j| entry(2, j).im),
                        real_lanes(|j| entry(3, j).re),
                    ]),
                },
                _ => Kern::Mat {
                    tb,
                    fixed,
                    set,
                    c: Box::new([0, 1, 2, 3].map(|e| Cl::from_fn(|j| entry(e, j)))),
                },
            };
        }
        // In-block target: amplitude j gets P·v_j + Q·v_{j ^ p}.
        let p = 1usize << t;
        let pq = |j: usize| -> (C64, C64) {
            if !ok(j) {
                (C64::ONE, C64::ZERO)
            } else if j & p == 0 {
                (mm[0], mm[1])
            } else {
                (mm[3], mm[2])
            }
        };
        let (fixed, set) = (hi_c, hi_c);
        return match op.class {
            Class::Flip | Class::Real => Kern::InReal {
                p,
                fixed,
                set,
                c: Box::new([real_lanes(|j| pq(j).0.re), real_lanes(|j| pq(j).1.re)]),
            },
            Class::Rx => Kern::InRx {
                p,
                fixed,
                set,
                c: Box::new([real_lanes(|j| pq(j).0.re), imag_lanes(|j| pq(j).1.im)]),
            },
            _ => Kern::InMat {
                p,
                fixed,
                set,
                c: Box::new([Cl::from_fn(|j| pq(j).0), Cl::from_fn(|j| pq(j).1)]),
            },
        };
    }
    if l.tpos.len() == 2 && l.tpos.iter().any(|&p| p < BLOCK_QUBITS) {
        return two_in_block(l, lo_c, hi_c);
    }
    let all_blocks = l.tpos.iter().all(|&p| p >= BLOCK_QUBITS);
    if all_blocks && lo_c == 0 {
        let offs: Vec<usize> = l
            .tpos
            .iter()
            .map(|&p| 1usize << (p - BLOCK_QUBITS))
            .collect();
        let tmask = offs.iter().fold(0, |m, &o| m | o);
        if op.class == Class::Swap {
            let (a, b) = (offs[0].min(offs[1]), offs[0].max(offs[1]));
            return Kern::Swap {
                a,
                b,
                fixed: tmask | hi_c,
                set: hi_c,
            };
        }
        if offs.len() <= MAX_DENSE {
            return Kern::Dense {
                offs,
                fixed: tmask | hi_c,
                set: hi_c,
                m: scalar(),
            };
        }
    }
    Kern::Generic {
        pos: l.tpos.clone(),
        ctrl: l.cpos,
        m: scalar(),
    }
}

/// A two-qubit op with one or both targets inside blocks, as per-lane coefficients on the
/// in-block permutations of its blocks (in-block controls give identity lanes).
fn two_in_block<T: Real>(l: &Local<'_>, lo_c: usize, hi_c: usize) -> Kern<T> {
    let m = &l.op.m;
    let ok = |j: usize| j & lo_c == lo_c;
    let (p0, p1) = (l.tpos[0], l.tpos[1]);
    // Matrix index of local index bits: bit 0 ↔ target 0, bit 1 ↔ target 1.
    let index = |i: usize| (i >> p0 & 1) | (i >> p1 & 1) << 1;
    let entry = |row_i: usize, col_i: usize, j: usize| -> C64 {
        if ok(j) {
            m[index(row_i) * 4 + index(col_i)]
        } else if row_i == col_i {
            C64::ONE
        } else {
            C64::ZERO
        }
    };
    if p0 < BLOCK_QUBITS && p1 < BLOCK_QUBITS {
        // Amplitude j of a block gets Σ_s c_s(j)·v[j ^ s] for s ∈ {0, P, Q, P ^ Q}.
        let (p, q) = (1usize << p0.min(p1), 1usize << p0.max(p1));
        let c = [0, p, q, p | q].map(|x| Cl::from_fn(|j| entry(j, j ^ x, j)));
        return Kern::InMat2 {
            p,
            q,
            fixed: hi_c,
            set: hi_c,
            c: Box::new(c),
        };
    }
    // One target in a block (bit `p`), one on block bit `tb`: with x, y the blocks where the
    // block target is 0, 1, amplitude j of x gets a·x[j] + b·x[j^p] + c·y[j] + d·y[j^p], and
    // of y the same with the next four.
    let (lo_pos, hi_pos) = if p0 < BLOCK_QUBITS {
        (p0, p1)
    } else {
        (p1, p0)
    };
    let (p, hb) = (1usize << lo_pos, 1usize << hi_pos);
    let tb = 1usize << (hi_pos - BLOCK_QUBITS);
    let mut c = Vec::with_capacity(8);
    for row_block in [0, hb] {
        for (col_block, flip) in [(0, 0), (0, p), (hb, 0), (hb, p)] {
            c.push(Cl::from_fn(|j| {
                entry(row_block | j, col_block | (j ^ flip), j)
            }));
        }
    }
    let c: [Cl<T>; 8] = std::array::from_fn(|k| c[k]);
    Kern::Mat2Lo {
        p,
        tb,
        fixed: tb | hi_c,
        set: hi_c,
        c: Box::new(c),
    }
}

/// A diagonal op as a table kernel indexed by its block-bit targets.
fn diag<T: Real>(l: &Local<'_>) -> Kern<T> {
    let hi_c = l.cpos >> BLOCK_QUBITS;
    let sel_pos: Vec<usize> = l
        .tpos
        .iter()
        .copied()
        .filter(|&p| p >= BLOCK_QUBITS)
        .collect();
    let controls = l.cpos & !((1 << BLOCK_QUBITS) - 1);
    diag_table_kernel(&sel_pos, controls, hi_c, |i| l.diag_at(i))
}

/// A diagonal table kernel: one table of 8 lane values per setting of the block bits at
/// `sel_pos` (`None` where all are 1), the local index of lane j being `base | selected | j`;
/// `fixed_set` block bits must be set for the kernel to apply.
fn diag_table_kernel<T: Real>(
    sel_pos: &[usize],
    base: usize,
    fixed_set: usize,
    at: impl Fn(usize) -> C64,
) -> Kern<T> {
    let sel: Vec<usize> = sel_pos
        .iter()
        .map(|&p| 1usize << (p - BLOCK_QUBITS))
        .collect();
    let tables = (0..1usize << sel.len())
        .map(|s| {
            let index = sel_pos
                .iter()
                .enumerate()
                .fold(base, |acc, (i, &p)| acc | (s >> i & 1) << p);
            let values: Vec<C64> = (0..8).map(|j| at(index | j)).collect();
            if values.iter().all(|&v| v == C64::ONE) {
                None
            } else {
                Some(Cl::from_fn(|j| values[j]))
            }
        })
        .collect();
    Kern::Diag {
        fixed: fixed_set,
        set: fixed_set,
        sel,
        tables,
    }
}

/// The lane table (positions below [`LO_BELOW`]) and block table (positions from [`HI_FROM`])
/// of the product of `factors` on `m` positions (each factor fits one of them).
fn product_tables<T: Real>(factors: &[Factor], m: usize) -> (Vec<Cl<T>>, Vec<(T, T)>) {
    let lo_bits = m.min(LO_BELOW);
    let mut lo_val = vec![C64::ONE; 1usize << lo_bits];
    let mut hi_val = if m > LO_BELOW {
        vec![C64::ONE; 1usize << (m - HI_FROM)]
    } else {
        Vec::new()
    };
    let (mut any_lo, mut any_hi) = (false, false);
    for f in factors {
        if f.supp < 1 << lo_bits {
            any_lo = true;
            for (i, v) in lo_val.iter_mut().enumerate() {
                *v *= f.at(i);
            }
        } else {
            any_hi = true;
            for (h, v) in hi_val.iter_mut().enumerate() {
                *v *= f.at(h << HI_FROM);
            }
        }
    }
    let lo = if any_lo {
        lo_val.chunks(8).map(|c| Cl::from_fn(|j| c[j])).collect()
    } else {
        Vec::new()
    };
    let hi = if any_hi {
        hi_val
            .iter()
            .map(|c| (T::from_f64(c.re), T::from_f64(c.im)))
            .collect()
    } else {
        Vec::new()
    };
    (lo, hi)
}

/// The product of `factors` as one kernel.
fn product<T: Real>(factors: &[Factor], m: usize) -> Kern<T> {
    let (lo, hi) = product_tables(factors, m);
    Kern::DiagProd { lo, hi }
}

/// One diagonal factor as a table kernel indexed by its block-bit positions.
fn diag_factor<T: Real>(f: &Factor) -> Kern<T> {
    let sel_pos: Vec<usize> = (BLOCK_QUBITS..usize::BITS as usize)
        .filter(|&p| f.supp >> p & 1 == 1)
        .collect();
    diag_table_kernel(&sel_pos, 0, 0, |i| f.at(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(targets: &[usize], controls: &[usize]) -> GOp {
        GOp {
            targets: targets.to_vec(),
            controls: controls.to_vec(),
            m: Vec::new(),
            class: Class::General,
        }
    }

    #[test]
    fn passes_cover_every_op_once_in_a_valid_order() {
        let n = 12;
        let mut ops = Vec::new();
        for layer in 0..3 {
            for q in 0..n {
                ops.push(op(&[q], &[]));
            }
            for q in 0..n {
                ops.push(op(&[(q + 1 + layer) % n], &[q]));
            }
        }
        let passes = schedule(&ops, n, 6, 3);
        let order: Vec<usize> = passes.iter().flat_map(|p| p.ops.clone()).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..ops.len()).collect::<Vec<_>>());
        // Every pair of ops that share a qubit keeps its order.
        for (x, &a) in order.iter().enumerate() {
            for &b in &order[x + 1..] {
                if ops[a].full_mask() & ops[b].full_mask() != 0 {
                    assert!(
                        a < b,
                        "op {a} ran before op {b} although they share a qubit"
                    );
                }
            }
        }
        for p in &passes {
            assert!(p.r >= 3 && p.r + p.high.len() <= 6, "{p:?}");
            for &i in &p.ops {
                for &t in &ops[i].targets {
                    assert!(
                        t < p.r || p.high.contains(&t),
                        "target {t} outside the tile of {p:?}"
                    );
                }
            }
        }
    }
}
