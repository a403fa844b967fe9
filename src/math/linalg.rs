//! Small dense complex matrices, row-major `d × d` (`d = 2^k` for a `k`-qubit operator), as
//! every engine uses them: adjoint, product, Kronecker product, embedding a controlled gate on
//! a larger qubit set, and the diagonal test. One copy, shared by the gate model, fusion, the
//! reference and the fast engines.

use num_complex::Complex64 as C64;

/// The side `d` of a square row-major matrix with `len = d²` entries.
pub(crate) fn side(len: usize) -> usize {
    (len as f64).sqrt().round() as usize
}

/// The conjugate transpose M† of a square matrix.
pub(crate) fn dagger(m: &[C64]) -> Vec<C64> {
    let d = side(m.len());
    let mut out = vec![C64::ZERO; m.len()];
    for r in 0..d {
        for c in 0..d {
            out[c * d + r] = m[r * d + c].conj();
        }
    }
    out
}

/// M† of a 2×2 matrix, on the stack.
#[inline(always)]
pub(crate) fn dagger2(m: &[C64; 4]) -> [C64; 4] {
    [m[0].conj(), m[2].conj(), m[1].conj(), m[3].conj()]
}

/// M† of a 4×4 matrix, on the stack.
pub(crate) fn dagger4(m: &[C64; 16]) -> [C64; 16] {
    let mut out = [C64::ZERO; 16];
    for r in 0..4 {
        for c in 0..4 {
            out[c * 4 + r] = m[r * 4 + c].conj();
        }
    }
    out
}

/// The product A·B of two square matrices of the same side (zero entries of A skipped).
pub(crate) fn matmul(a: &[C64], b: &[C64]) -> Vec<C64> {
    let d = side(a.len());
    let mut out = vec![C64::ZERO; d * d];
    for r in 0..d {
        for j in 0..d {
            let x = a[r * d + j];
            if x == C64::ZERO {
                continue;
            }
            for c in 0..d {
                out[r * d + c] += x * b[j * d + c];
            }
        }
    }
    out
}

/// A·B of two 2×2 matrices, on the stack.
#[inline(always)]
pub(crate) fn matmul2(a: &[C64; 4], b: &[C64; 4]) -> [C64; 4] {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
    ]
}

/// The Kronecker product A ⊗ B of two 2×2 matrices in the basis index `bit(t0) + 2·bit(t1)`,
/// where B acts on t0 and A on t1.
pub(crate) fn kron2(a: &[C64], b: &[C64]) -> Vec<C64> {
    let mut out = vec![C64::ZERO; 16];
    for r1 in 0..2 {
        for c1 in 0..2 {
            for r0 in 0..2 {
                for c0 in 0..2 {
                    out[(2 * r1 + r0) * 4 + (2 * c1 + c0)] = a[2 * r1 + c1] * b[2 * r0 + c0];
                }
            }
        }
    }
    out
}

/// True when the square matrix `m` has no off-diagonal entries.
pub(crate) fn is_diagonal(m: &[C64]) -> bool {
    let d = side(m.len());
    (0..d).all(|r| (0..d).all(|c| r == c || m[r * d + c] == C64::ZERO))
}

/// The full matrix of `matrix` (on `targets`, bit j of its index ↔ `targets[j]`), controlled
/// by `controls`, embedded on the ascending qubit list `qubits` that holds all of them.
pub(crate) fn embed(
    matrix: &[C64],
    targets: &[usize],
    controls: &[usize],
    qubits: &[usize],
) -> Vec<C64> {
    let dim = 1usize << qubits.len();
    let local = |q: usize| qubits.iter().position(|&p| p == q).unwrap_or(0);
    let tpos: Vec<usize> = targets.iter().map(|&q| local(q)).collect();
    let cmask: usize = controls.iter().fold(0, |m, &q| m | (1 << local(q)));
    let tmask: usize = tpos.iter().fold(0, |m, &p| m | (1 << p));
    let sub = |s: usize| {
        tpos.iter()
            .enumerate()
            .fold(0usize, |acc, (j, &p)| acc | (((s >> p) & 1) << j))
    };
    let mut out = vec![C64::ZERO; dim * dim];
    let td = 1usize << tpos.len();
    for col in 0..dim {
        if col & cmask != cmask {
            out[col * dim + col] = C64::ONE;
            continue;
        }
        let rest = col & !tmask;
        let c = sub(col);
        for r in 0..td {
            let row = tpos
                .iter()
                .enumerate()
                .fold(rest, |acc, (j, &p)| acc | (((r >> j) & 1) << p));
            out[row * dim + col] = matrix[r * td + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(re: f64, im: f64) -> C64 {
        C64::new(re, im)
    }

    #[test]
    fn products_and_adjoints_agree_with_their_fixed_size_forms() {
        let a = [c(0.1, 0.2), c(-0.3, 0.4), c(0.5, -0.6), c(0.7, 0.8)];
        let b = [c(0.9, -0.1), c(0.2, 0.3), c(-0.4, 0.5), c(0.6, -0.7)];
        assert_eq!(matmul(&a, &b), matmul2(&a, &b).to_vec());
        assert_eq!(dagger(&a), dagger2(&a).to_vec());
        let m: Vec<C64> = (0..16).map(|k| c(k as f64, -(k as f64) / 3.0)).collect();
        let fixed: [C64; 16] = m.clone().try_into().unwrap();
        assert_eq!(dagger(&m), dagger4(&fixed).to_vec());
        // (A ⊗ B)† = A† ⊗ B†, and the identity is diagonal while A ⊗ B is not.
        assert_eq!(dagger(&kron2(&a, &b)), kron2(&dagger2(&a), &dagger2(&b)));
        assert!(is_diagonal(&[C64::ONE, C64::ZERO, C64::ZERO, C64::ONE]));
        assert!(!is_diagonal(&kron2(&a, &b)));
    }

    #[test]
    fn embedding_a_cnot_on_two_qubits() {
        let x = [C64::ZERO, C64::ONE, C64::ONE, C64::ZERO];
        // Control 0, target 1 on qubits [0, 1]: |01⟩ (index 1) ↔ |11⟩ (index 3).
        let m = embed(&x, &[1], &[0], &[0, 1]);
        let want = |r: usize, col: usize| {
            let image = [0, 3, 2, 1][col];
            if r == image {
                C64::ONE
            } else {
                C64::ZERO
            }
        };
        for r in 0..4 {
            for col in 0..4 {
                assert_eq!(m[r * 4 + col], want(r, col), "entry ({r}, {col})");
            }
        }
    }
}
