//! Seeded generators of the binary data sets of Bowles, Ahmed & Schuld, "Better than
//! classical? The subtle art of benchmarking quantum machine learning models" (2024), re-implemented
//! from their descriptions (not ported code), each with its dimension and difficulty knobs.
//! Every generator returns exactly `n / 2` rows of each class (labels 0 and 1), shuffled;
//! `n` must be even and at least 4. The user's own data loads with
//! [`Dataset::load_csv`](crate::qml::train::Dataset::load_csv) (restricted to two classes with
//! [`Dataset::select_classes`](crate::qml::train::Dataset::select_classes)).

use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::train::Dataset;
use serde::Serialize;

/// The most rows a generator makes.
pub const MAX_SAMPLES: usize = 1 << 20;
/// The most features a generator makes.
pub const MAX_DIMENSION: usize = 1 << 12;
/// The most feature values (rows × features, or rows × latent dimensions) a generator makes.
pub const MAX_VALUES: usize = 1 << 26;
/// Rejection-sampling budget: draws per requested row before a generator gives up.
const DRAWS_PER_ROW: usize = 10_000;

fn invalid<T>(msg: String) -> Result<T> {
    Err(Error::InvalidArgument(msg))
}

fn check_size(what: &str, n: usize, d: usize) -> Result<()> {
    if n < 4 || !n.is_multiple_of(2) || n > MAX_SAMPLES {
        return invalid(format!(
            "{what}: the sample count must be even, ≥ 4 and ≤ {MAX_SAMPLES} (half per class), got {n}"
        ));
    }
    if d == 0 || d > MAX_DIMENSION {
        return invalid(format!(
            "{what}: the dimension must be in 1..={MAX_DIMENSION}, got {d}"
        ));
    }
    if n.checked_mul(d).is_none_or(|v| v > MAX_VALUES) {
        return invalid(format!(
            "{what}: {n} rows × {d} features exceed {MAX_VALUES} values"
        ));
    }
    Ok(())
}

fn check_knob(what: &str, name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        invalid(format!(
            "{what}: {name} must be finite and ≥ 0, got {value}"
        ))
    }
}

/// Collects rows from `draw` (which returns a point and its label, or `None` to reject) until
/// each class has n/2, then shuffles; errors after `DRAWS_PER_ROW · n` draws.
fn balanced(
    what: &str,
    n: usize,
    d: usize,
    rng: &mut Rng,
    mut draw: impl FnMut(&mut Rng) -> Option<(Vec<f64>, usize)>,
) -> Result<Dataset> {
    let half = n / 2;
    let mut rows: Vec<(Vec<f64>, usize)> = Vec::with_capacity(n);
    let mut counts = [0usize; 2];
    let mut draws = 0usize;
    while rows.len() < n {
        draws += 1;
        if draws > DRAWS_PER_ROW.saturating_mul(n) {
            return invalid(format!(
                "{what}: could not draw {half} rows of each class in {} tries (class counts {counts:?}); make the task easier (smaller margin or offset, fewer hyperplanes)",
                DRAWS_PER_ROW.saturating_mul(n)
            ));
        }
        if let Some((x, label)) = draw(rng) {
            if label < 2 && counts[label] < half {
                counts[label] += 1;
                rows.push((x, label));
            }
        }
    }
    rng.shuffle(&mut rows);
    let mut features = Vec::with_capacity(n * d);
    let mut labels = Vec::with_capacity(n);
    for (x, l) in rows {
        features.extend_from_slice(&x);
        labels.push(l);
    }
    Dataset::new(features, labels, d, vec!["0".into(), "1".into()])
}

/// Linearly separable data: x uniform in [−1, 1]^d, label 1 ⇔ w·x > 0 with w = (1, …, 1)/√d,
/// and points closer than `margin` to the hyperplane rejected, so the classes are separated by
/// a gap of 2·margin (difficulty: a smaller margin).
pub fn linearly_separable(n: usize, d: usize, margin: f64, seed: u64) -> Result<Dataset> {
    let what = "linearly separable";
    check_size(what, n, d)?;
    check_knob(what, "margin", margin)?;
    if margin >= (d as f64).sqrt() {
        return invalid(format!(
            "{what}: margin {margin} leaves no room in [−1, 1]^{d} (must be < √d)"
        ));
    }
    let mut rng = Rng::new(seed);
    let norm = (d as f64).sqrt();
    balanced(what, n, d, &mut rng, |rng| {
        let x: Vec<f64> = (0..d).map(|_| rng.range(-1.0, 1.0)).collect();
        let s = x.iter().sum::<f64>() / norm;
        (s.abs() >= margin && s != 0.0).then(|| (x, usize::from(s > 0.0)))
    })
}

/// The hidden-manifold model (Goldt et al. 2020) as used by Bowles et al.: latent
/// z ~ N(0, I_m) on an m-dimensional manifold, features x = tanh(z·F/√m) with a fixed
/// Gaussian m × d matrix F, label from a one-hidden-layer teacher network on z,
/// v·tanh(W·z/√m)/√h, thresholded at its median over the sample (so the classes balance).
/// Difficulty: a larger `manifold_dim`.
#[derive(Clone, Debug)]
pub struct HiddenManifold {
    /// Feature dimension d.
    pub dim: usize,
    /// Latent (manifold) dimension m.
    pub manifold_dim: usize,
    /// Row-major m × d embedding F.
    pub embedding: Vec<f64>,
    /// Row-major h × m teacher weights W.
    pub teacher_weights: Vec<f64>,
    /// Teacher read-out v (h values).
    pub teacher_readout: Vec<f64>,
}

/// Hidden units of the [`HiddenManifold`] teacher.
const TEACHER_HIDDEN: usize = 8;

impl HiddenManifold {
    /// The seeded embedding and teacher for d features on an m-dimensional manifold (m ≥ 1).
    pub fn random(dim: usize, manifold_dim: usize, seed: u64) -> Result<Self> {
        if manifold_dim == 0 || manifold_dim > MAX_DIMENSION || dim == 0 || dim > MAX_DIMENSION {
            return invalid(format!(
                "hidden manifold: dimensions must be in 1..={MAX_DIMENSION}, got d = {dim}, m = {manifold_dim}"
            ));
        }
        let mut rng = Rng::new(seed ^ 0x5eed_4d41_4e49_464f);
        let embedding = (0..manifold_dim * dim).map(|_| rng.normal()).collect();
        let teacher_weights = (0..TEACHER_HIDDEN * manifold_dim)
            .map(|_| rng.normal())
            .collect();
        let teacher_readout = (0..TEACHER_HIDDEN).map(|_| rng.normal()).collect();
        Ok(HiddenManifold {
            dim,
            manifold_dim,
            embedding,
            teacher_weights,
            teacher_readout,
        })
    }

    /// The features tanh(z·F/√m) of a latent point z (m values).
    pub fn features(&self, z: &[f64]) -> Vec<f64> {
        let scale = (self.manifold_dim as f64).sqrt();
        (0..self.dim)
            .map(|j| {
                let s: f64 = z
                    .iter()
                    .enumerate()
                    .map(|(i, zi)| zi * self.embedding[i * self.dim + j])
                    .sum();
                (s / scale).tanh()
            })
            .collect()
    }

    /// The teacher's score v·tanh(W·z/√m)/√h of a latent point z.
    pub fn score(&self, z: &[f64]) -> f64 {
        let m = self.manifold_dim;
        let scale = (m as f64).sqrt();
        let h = self.teacher_readout.len();
        (0..h)
            .map(|k| {
                let a: f64 = z
                    .iter()
                    .zip(&self.teacher_weights[k * m..(k + 1) * m])
                    .map(|(zi, w)| zi * w)
                    .sum();
                self.teacher_readout[k] * (a / scale).tanh()
            })
            .sum::<f64>()
            / (h as f64).sqrt()
    }
}

/// `n` rows of the [`HiddenManifold`] model with d features on an m-dimensional manifold.
pub fn hidden_manifold(n: usize, d: usize, manifold_dim: usize, seed: u64) -> Result<Dataset> {
    check_size("hidden manifold", n, d)?;
    check_size("hidden manifold (latent)", n, manifold_dim.max(1))?;
    let model = HiddenManifold::random(d, manifold_dim, seed)?;
    let mut rng = Rng::new(seed);
    let latents: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..manifold_dim).map(|_| rng.normal()).collect())
        .collect();
    let scores: Vec<f64> = latents.iter().map(|z| model.score(z)).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut labels = vec![0usize; n];
    for &i in &order[n / 2..] {
        labels[i] = 1;
    }
    let mut rows: Vec<(Vec<f64>, usize)> = latents
        .iter()
        .zip(labels)
        .map(|(z, l)| (model.features(z), l))
        .collect();
    rng.shuffle(&mut rows);
    let features = rows.iter().flat_map(|(x, _)| x.iter().copied()).collect();
    let labels = rows.iter().map(|(_, l)| *l).collect();
    Dataset::new(features, labels, d, vec!["0".into(), "1".into()])
}

/// Two curves: a one-dimensional curve in d dimensions, c(t)_k = Σ_{j=1..degree}
/// [a_kj·cos(2πjt) + b_kj·sin(2πjt)]/j with seeded Gaussian coefficients and t uniform in
/// [0, 1); class 0 lies on c(t), class 1 on c(t) + offset·u with the fixed unit vector
/// u = (1, …, 1)/√d, both with Gaussian noise of standard deviation `noise` per coordinate.
/// Difficulty: a higher `degree` (a wigglier curve) and a smaller `offset`.
pub fn two_curves(
    n: usize,
    d: usize,
    degree: usize,
    offset: f64,
    noise: f64,
    seed: u64,
) -> Result<Dataset> {
    let what = "two curves";
    check_size(what, n, d)?;
    check_knob(what, "offset", offset)?;
    check_knob(what, "noise", noise)?;
    if degree == 0 || degree > 64 {
        return invalid(format!("{what}: degree must be in 1..=64, got {degree}"));
    }
    let mut rng = Rng::new(seed);
    let coef: Vec<(f64, f64)> = (0..d * degree)
        .map(|_| (rng.normal(), rng.normal()))
        .collect();
    let shift = offset / (d as f64).sqrt();
    let mut k = 0usize;
    balanced(what, n, d, &mut rng, |rng| {
        let label = k % 2;
        k += 1;
        let t = rng.uniform();
        let x = (0..d)
            .map(|i| {
                let c: f64 = (1..=degree)
                    .map(|j| {
                        let (a, b) = coef[i * degree + j - 1];
                        let w = std::f64::consts::TAU * j as f64 * t;
                        (a * w.cos() + b * w.sin()) / j as f64
                    })
                    .sum();
                c + shift * label as f64 + noise * rng.normal()
            })
            .collect();
        Some((x, label))
    })
}

/// The k hyperplanes of [`hyperplanes_parity`]: normals w_i ~ N(0, I_d), each plane through
/// a point p_i uniform in [−0.5, 0.5]^d (offset b_i = −w_i·p_i).
#[derive(Clone, Debug, Serialize)]
pub struct Hyperplanes {
    /// Feature dimension d.
    pub dim: usize,
    /// Row-major k × d normals.
    pub normals: Vec<f64>,
    /// k offsets.
    pub offsets: Vec<f64>,
}

impl Hyperplanes {
    /// `count` seeded hyperplanes in d dimensions.
    pub fn random(dim: usize, count: usize, seed: u64) -> Result<Self> {
        if dim == 0 || dim > MAX_DIMENSION || count == 0 || count > 64 {
            return invalid(format!(
                "hyperplanes parity: need 1..={MAX_DIMENSION} dimensions and 1..=64 hyperplanes, got {dim} and {count}"
            ));
        }
        let mut rng = Rng::new(seed ^ 0x7061_7269_7479);
        let mut normals = Vec::with_capacity(dim * count);
        let mut offsets = Vec::with_capacity(count);
        for _ in 0..count {
            let w: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
            let b = -w.iter().map(|wi| wi * rng.range(-0.5, 0.5)).sum::<f64>();
            normals.extend_from_slice(&w);
            offsets.push(b);
        }
        Ok(Hyperplanes {
            dim,
            normals,
            offsets,
        })
    }

    /// The parity (0 or 1) of the number of hyperplanes with w_i·x + b_i > 0.
    pub fn parity(&self, x: &[f64]) -> usize {
        let above = self
            .offsets
            .iter()
            .enumerate()
            .filter(|(i, b)| {
                let w = &self.normals[i * self.dim..(i + 1) * self.dim];
                w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + **b > 0.0
            })
            .count();
        above % 2
    }
}

/// Hyperplanes parity: x uniform in [−1, 1]^d, label = the parity of the number of the
/// [`Hyperplanes::random`]`(d, hyperplanes, seed)` that x lies above. Difficulty: more
/// hyperplanes (a parity of more linear functions).
pub fn hyperplanes_parity(n: usize, d: usize, hyperplanes: usize, seed: u64) -> Result<Dataset> {
    let what = "hyperplanes parity";
    check_size(what, n, d)?;
    let planes = Hyperplanes::random(d, hyperplanes, seed)?;
    let mut rng = Rng::new(seed);
    balanced(what, n, d, &mut rng, |rng| {
        let x: Vec<f64> = (0..d).map(|_| rng.range(-1.0, 1.0)).collect();
        let label = planes.parity(&x);
        Some((x, label))
    })
}

/// Bars and stripes: `height × width` images (row-major, d = height·width) with pixels ±1;
/// class 0 ("bars") has every column constant, class 1 ("stripes") every row constant, each
/// constant drawn ±1 uniformly; the two uniform images (both bars and stripes) are rejected.
/// Gaussian noise of standard deviation `noise` is added to every pixel (difficulty).
pub fn bars_and_stripes(
    n: usize,
    width: usize,
    height: usize,
    noise: f64,
    seed: u64,
) -> Result<Dataset> {
    let what = "bars and stripes";
    if width < 2 || height < 2 {
        return invalid(format!(
            "{what}: images need width and height ≥ 2 (else every bar image is also a stripe image), got {width} × {height}"
        ));
    }
    let d = width
        .checked_mul(height)
        .ok_or_else(|| Error::InvalidArgument(format!("{what}: {width} × {height} overflows")))?;
    check_size(what, n, d)?;
    check_knob(what, "noise", noise)?;
    let mut rng = Rng::new(seed);
    let mut k = 0usize;
    balanced(what, n, d, &mut rng, |rng| {
        let label = k % 2;
        k += 1;
        let lines = if label == 0 { width } else { height };
        let signs: Vec<f64> = (0..lines)
            .map(|_| if rng.uniform() < 0.5 { -1.0 } else { 1.0 })
            .collect();
        if signs.iter().all(|&s| s == signs[0]) {
            return None;
        }
        let x = (0..d)
            .map(|p| {
                let (r, c) = (p / width, p % width);
                let s = if label == 0 { signs[c] } else { signs[r] };
                s + noise * rng.normal()
            })
            .collect();
        Some((x, label))
    })
}

/// The study's suite at the given dimensions, `n` rows each, with the knobs of the default
/// study: linearly separable (margin 0.1), hidden manifold (manifold dimension min(2, d)),
/// two curves (degree 2, offset 0.5, noise 0.1), hyperplanes parity (2 hyperplanes), and
/// bars and stripes (2 × d/2 images, noise 0.5; only even d ≥ 4). Names are `family-d<d>`.
pub fn suite(n: usize, dims: &[usize], seed: u64) -> Result<Vec<super::StudyDataset>> {
    let mut out = Vec::new();
    for (i, &d) in dims.iter().enumerate() {
        let s = seed.wrapping_add(1000 * i as u64);
        let mut cases = vec![
            ("linearly-separable", linearly_separable(n, d, 0.1, s)?),
            ("hidden-manifold", hidden_manifold(n, d, d.min(2), s + 1)?),
            ("two-curves", two_curves(n, d, 2, 0.5, 0.1, s + 2)?),
            ("hyperplanes-parity", hyperplanes_parity(n, d, 2, s + 3)?),
        ];
        if d >= 4 && d.is_multiple_of(2) {
            cases.push((
                "bars-and-stripes",
                bars_and_stripes(n, d / 2, 2, 0.5, s + 4)?,
            ));
        }
        for (family, data) in cases {
            out.push(super::StudyDataset {
                name: format!("{family}-d{d}"),
                family: family.into(),
                dimension: d,
                data,
            });
        }
    }
    Ok(out)
}
