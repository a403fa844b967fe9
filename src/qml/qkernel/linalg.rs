//! Small dense linear algebra for the kernel methods (row-major `n × n` matrices): Cholesky
//! factorisation (with jitter), triangular solves, and Jacobi eigenvalues. Crate-internal.

use crate::error::{Error, Result};

/// (row, column) of the first NaN or infinite entry of a row-major matrix with `cols` columns.
pub(crate) fn first_non_finite(a: &[f64], cols: usize) -> Option<(usize, usize)> {
    a.iter()
        .position(|v| !v.is_finite())
        .map(|k| (k / cols, k % cols))
}

fn check_square(a: &[f64], n: usize, what: &str) -> Result<()> {
    if n == 0 || a.len() != n * n {
        return Err(Error::InvalidArgument(format!(
            "{what}: {} entries is not an n × n matrix with n = {n} ≥ 1",
            a.len()
        )));
    }
    if let Some((i, j)) = first_non_finite(a, n) {
        return Err(Error::InvalidArgument(format!(
            "{what}: entry ({i}, {j}) is NaN or infinite"
        )));
    }
    Ok(())
}

/// The Cholesky factor L (row-major, lower triangular, A = L·Lᵀ) of a symmetric positive
/// definite `n × n` matrix; only the lower triangle of `a` is read. A pivot ≤
/// n·ε·max(diag A) (ε the f64 epsilon) counts as singular: the error names it.
pub(crate) fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>> {
    check_square(a, n, "cholesky")?;
    let max_diag = (0..n).map(|i| a[i * n + i].abs()).fold(0.0, f64::max);
    let threshold = n as f64 * f64::EPSILON * max_diag;
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let s = a[j * n + j] - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        if s.is_nan() || s <= threshold {
            return Err(Error::InvalidArgument(format!(
                "matrix is not (numerically) positive definite: pivot {j} is {s:.3e} (threshold {threshold:.1e})"
            )));
        }
        let d = s.sqrt();
        l[j * n + j] = d;
        for i in j + 1..n {
            let t = a[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = t / d;
        }
    }
    Ok(l)
}

/// [`cholesky`] of A, or, if that fails, of A + jitter·I with jitter = 1e-12·max(mean diag,
/// tiny), ×10 each retry, up to `max_jitter`. Returns L and the jitter used (0 if none).
pub(crate) fn cholesky_with_jitter(
    a: &[f64],
    n: usize,
    max_jitter: f64,
) -> Result<(Vec<f64>, f64)> {
    let first = match cholesky(a, n) {
        Ok(l) => return Ok((l, 0.0)),
        Err(e) => e,
    };
    if !(max_jitter.is_finite() && max_jitter > 0.0) {
        return Err(first);
    }
    let mean_diag = (0..n).map(|i| a[i * n + i].abs()).sum::<f64>() / n as f64;
    let mut jitter = 1e-12 * mean_diag.max(1e-300);
    let mut shifted = a.to_vec();
    let mut last = first;
    while jitter <= max_jitter * (1.0 + 1e-12) {
        for i in 0..n {
            shifted[i * n + i] = a[i * n + i] + jitter;
        }
        match cholesky(&shifted, n) {
            Ok(l) => return Ok((l, jitter)),
            Err(e) => last = e,
        }
        jitter *= 10.0;
    }
    Err(last)
}

/// Solves A·x = b given the Cholesky factor L of A (forward then back substitution).
pub(crate) fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>> {
    check_square(l, n, "cholesky_solve")?;
    if b.len() != n {
        return Err(Error::InvalidArgument(format!(
            "cholesky_solve: right-hand side has {} entries, expected {n}",
            b.len()
        )));
    }
    if let Some(k) = b.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "cholesky_solve: b[{k}] is NaN or infinite"
        )));
    }
    if let Some(i) = (0..n).find(|&i| l[i * n + i].is_nan() || l[i * n + i] <= 0.0) {
        return Err(Error::InvalidArgument(format!(
            "cholesky_solve: L[{i},{i}] = {} is not a positive Cholesky pivot",
            l[i * n + i]
        )));
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let s = b[i] - (0..i).map(|k| l[i * n + k] * y[k]).sum::<f64>();
        y[i] = s / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s = y[i] - (i + 1..n).map(|k| l[k * n + i] * x[k]).sum::<f64>();
        x[i] = s / l[i * n + i];
    }
    Ok(x)
}

/// Eigenvalues (ascending) of a symmetric `n × n` matrix by cyclic Jacobi rotations, to
/// an off-diagonal norm ≤ 1e-15·‖A‖_F (absolute eigenvalue error ≈ 1e-15·‖A‖_F). Uses the
/// symmetric part (A + Aᵀ)/2.
pub(crate) fn symmetric_eigenvalues(a: &[f64], n: usize) -> Result<Vec<f64>> {
    check_square(a, n, "symmetric_eigenvalues")?;
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            m[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
        }
    }
    let frob = m.iter().map(|v| v * v).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| m[p * n + q] * m[p * n + q])
            .sum();
        if off.sqrt() <= 1e-15 * frob || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (kp, kq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * kp - s * kq;
                    m[k * n + q] = s * kp + c * kq;
                }
                for k in 0..n {
                    let (pk, qk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * pk - s * qk;
                    m[q * n + k] = s * pk + c * qk;
                }
            }
        }
    }
    let mut eig: Vec<f64> = (0..n).map(|i| m[i * n + i]).collect();
    eig.sort_by(f64::total_cmp);
    Ok(eig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::rng::Rng;

    /// A random symmetric matrix Q·diag(eigs)·Qᵀ with Q orthogonal (Gram–Schmidt of a random
    /// matrix).
    fn with_eigenvalues(eigs: &[f64], seed: u64) -> Vec<f64> {
        let n = eigs.len();
        let mut rng = Rng::new(seed);
        let mut q: Vec<Vec<f64>> = Vec::new();
        while q.len() < n {
            let mut v: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            for u in &q {
                let d: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(u).for_each(|(a, b)| *a -= d * b);
            }
            let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            if norm > 1e-6 {
                q.push(v.iter().map(|a| a / norm).collect());
            }
        }
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| q[k][i] * eigs[k] * q[k][j]).sum();
            }
        }
        a
    }

    #[test]
    fn cholesky_factorises_and_solves() {
        let n = 12;
        let eigs: Vec<f64> = (0..n).map(|k| 0.1 + k as f64).collect();
        let a = with_eigenvalues(&eigs, 1);
        let l = cholesky(&a, n).unwrap();
        for i in 0..n {
            for j in 0..n {
                if j > i {
                    assert_eq!(l[i * n + j], 0.0, "L is not lower triangular");
                }
                let llt: f64 = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
                assert!(
                    (llt - a[i * n + j]).abs() < 1e-12,
                    "(L Lᵀ)[{i},{j}] = {llt} vs {}",
                    a[i * n + j]
                );
            }
        }
        let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let x = cholesky_solve(&l, n, &b).unwrap();
        for i in 0..n {
            let ax: f64 = (0..n).map(|k| a[i * n + k] * x[k]).sum();
            assert!((ax - b[i]).abs() < 1e-11, "residual {i}: {}", ax - b[i]);
        }
    }

    #[test]
    fn cholesky_rejects_or_jitters_non_pd_matrices() {
        // Indefinite: no jitter up to 1e-3 helps.
        let indefinite = [1.0, 2.0, 2.0, 1.0];
        let err = cholesky(&indefinite, 2).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains("positive definite")),
            "{err}"
        );
        assert!(cholesky_with_jitter(&indefinite, 2, 1e-3).is_err());
        // Rank one (v vᵀ): singular, factorised after a small reported jitter.
        let v = [1.0, 2.0, -1.0];
        let rank_one: Vec<f64> = v
            .iter()
            .flat_map(|a| v.iter().map(move |b| a * b))
            .collect();
        assert!(cholesky(&rank_one, 3).is_err());
        let (l, jitter) = cholesky_with_jitter(&rank_one, 3, 1e-3).unwrap();
        assert!(jitter > 0.0 && jitter <= 1e-3, "jitter {jitter}");
        assert!(l.iter().all(|v| v.is_finite()));
        // A PD matrix needs none.
        let (_, none) = cholesky_with_jitter(&[2.0, 1.0, 1.0, 2.0], 2, 1e-3).unwrap();
        assert_eq!(none, 0.0);
    }

    #[test]
    fn shape_and_value_errors() {
        assert!(cholesky(&[1.0, 0.0, 0.0], 2).is_err());
        assert!(cholesky(&[], 0).is_err());
        assert!(cholesky(&[1.0, f64::NAN, 0.0, 1.0], 2).is_err());
        let l = cholesky(&[4.0, 0.0, 0.0, 9.0], 2).unwrap();
        assert!(cholesky_solve(&l, 2, &[1.0]).is_err());
        assert!(cholesky_solve(&l, 2, &[1.0, f64::INFINITY]).is_err());
        assert!(cholesky_solve(&[0.0, 0.0, 0.0, 1.0], 2, &[1.0, 1.0]).is_err());
        assert!(symmetric_eigenvalues(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(symmetric_eigenvalues(&[1.0, f64::NAN, 3.0, 1.0], 2).is_err());
    }

    #[test]
    fn jacobi_eigenvalues_are_accurate() {
        let e = symmetric_eigenvalues(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        assert!(
            (e[0] - 1.0).abs() < 1e-14 && (e[1] - 3.0).abs() < 1e-14,
            "{e:?}"
        );
        assert_eq!(symmetric_eigenvalues(&[5.0], 1).unwrap(), vec![5.0]);
        let eigs = [-2.5, -1e-3, 0.0, 0.0, 1e-6, 0.7, 3.0, 3.0, 11.0, 40.0];
        let got = symmetric_eigenvalues(&with_eigenvalues(&eigs, 3), eigs.len()).unwrap();
        for (g, w) in got.iter().zip(eigs) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }
}
