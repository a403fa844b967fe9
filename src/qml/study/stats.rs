//! The statistics of the study: mean with a Student-t confidence interval, ROC-AUC, the
//! Nadeau–Bengio corrected resampled t-test, the Wilcoxon signed-rank test, the Friedman test
//! and the Nemenyi critical difference. Distributions come from `statrs`; each function's
//! results are checked against scipy in the unit tests (`tests/study_stats.rs`).

use crate::error::{Error, Result};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};

fn invalid<T>(msg: String) -> Result<T> {
    Err(Error::InvalidArgument(msg))
}

fn check_finite(values: &[f64], what: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => invalid(format!("{what}: value {i} is {} (not finite)", values[i])),
        None => Ok(()),
    }
}

fn dist_err(e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("statistics: {e}"))
}

/// A mean with a two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MeanCi {
    /// Sample mean.
    pub mean: f64,
    /// Lower bound of the interval.
    pub low: f64,
    /// Upper bound of the interval.
    pub high: f64,
    /// Sample standard deviation (n − 1 in the denominator; 0 for one value).
    pub std: f64,
    /// Number of values.
    pub n: usize,
}

fn mean_var(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var)
}

/// The mean of `values` with the Student-t interval `mean ± t_{(1+c)/2, n−1}·s/√n` at
/// confidence `confidence` (e.g. 0.95), as `scipy.stats.t.interval(c, n-1, loc=mean,
/// scale=sem)`. One value gives a zero-width interval; constant values too.
pub fn mean_ci(values: &[f64], confidence: f64) -> Result<MeanCi> {
    if values.is_empty() {
        return invalid("a confidence interval needs at least one value".into());
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return invalid(format!("confidence {confidence} must be in (0, 1)"));
    }
    check_finite(values, "confidence interval")?;
    let (mean, var) = mean_var(values);
    let n = values.len();
    let half = if n > 1 && var > 0.0 {
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).map_err(dist_err)?;
        t.inverse_cdf(0.5 + confidence / 2.0) * (var / n as f64).sqrt()
    } else {
        0.0
    };
    Ok(MeanCi {
        mean,
        low: mean - half,
        high: mean + half,
        std: var.sqrt(),
        n,
    })
}

/// The area under the ROC curve of `scores` (higher = class 1) for 0/1 `labels`: the
/// Mann–Whitney probability that a random positive scores above a random negative, ties
/// counting one half (as `sklearn.metrics.roc_auc_score`). Errors unless both classes occur.
pub fn roc_auc(scores: &[f64], labels: &[usize]) -> Result<f64> {
    if scores.len() != labels.len() {
        return invalid(format!(
            "ROC-AUC: {} scores for {} labels",
            scores.len(),
            labels.len()
        ));
    }
    check_finite(scores, "ROC-AUC scores")?;
    if let Some(l) = labels.iter().find(|&&l| l > 1) {
        return invalid(format!("ROC-AUC needs 0/1 labels, got {l}"));
    }
    let ranks = average_ranks(scores);
    let n1 = labels.iter().filter(|&&l| l == 1).count();
    let n0 = labels.len() - n1;
    if n1 == 0 || n0 == 0 {
        return invalid("ROC-AUC needs samples of both classes".into());
    }
    let r1: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, &l)| l == 1)
        .map(|(r, _)| r)
        .sum();
    let u = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    Ok(u / (n1 as f64 * n0 as f64))
}

/// 1-based ranks of `values` in ascending order, ties sharing their average rank (as
/// `scipy.stats.rankdata`). Values must be finite (NaN sorts last).
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Sizes of the groups of tied values (only groups of two or more).
fn tie_groups(values: &[f64]) -> Vec<usize> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut groups = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[i] {
            j += 1;
        }
        if j > i {
            groups.push(j - i + 1);
        }
        i = j + 1;
    }
    groups
}

/// A two-sided t-test result.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TTest {
    /// Mean of the differences a − b.
    pub mean_difference: f64,
    /// The t statistic (0 when every difference is 0).
    pub t: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// Two-sided p-value (1 when every difference is 0).
    pub p_value: f64,
}

/// The Nadeau–Bengio corrected resampled t-test (Nadeau & Bengio 2003; Bouckaert & Frank 2004)
/// of paired per-fold scores `a` and `b` from J = repeats × folds train/test resamplings of
/// `n_train` / `n_test` samples: d_j = a_j − b_j,
/// t = d̄ / √((1/J + n_test/n_train)·s²_d), J − 1 degrees of freedom, two-sided p. The
/// `n_test/n_train` term corrects the variance for the overlap of the training sets, which the
/// plain paired t-test ignores (and so rejects far too often).
pub fn corrected_resampled_ttest(
    a: &[f64],
    b: &[f64],
    n_train: usize,
    n_test: usize,
) -> Result<TTest> {
    if a.len() != b.len() || a.len() < 2 {
        return invalid(format!(
            "the corrected t-test needs ≥ 2 paired scores, got {} and {}",
            a.len(),
            b.len()
        ));
    }
    if n_train == 0 || n_test == 0 {
        return invalid(format!(
            "the corrected t-test needs nonzero train and test sizes, got {n_train} and {n_test}"
        ));
    }
    check_finite(a, "t-test scores a")?;
    check_finite(b, "t-test scores b")?;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let (mean, var) = mean_var(&d);
    let j = d.len() as f64;
    let df = j - 1.0;
    let se = ((1.0 / j + n_test as f64 / n_train as f64) * var).sqrt();
    if se == 0.0 {
        let (t, p) = if mean == 0.0 {
            (0.0, 1.0)
        } else {
            (mean.signum() * f64::INFINITY, 0.0)
        };
        return Ok(TTest {
            mean_difference: mean,
            t: if t.is_finite() {
                t
            } else {
                mean.signum() * f64::MAX
            },
            df,
            p_value: p,
        });
    }
    let t = mean / se;
    let dist = StudentsT::new(0.0, 1.0, df).map_err(dist_err)?;
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    Ok(TTest {
        mean_difference: mean,
        t,
        df,
        p_value: p,
    })
}

/// How [`wilcoxon`] computed its p-value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum WilcoxonMethod {
    /// The exact null distribution (n ≤ 50 pairs, no ties, no zero differences).
    Exact,
    /// All 2^n sign flips of the (tied) ranks enumerated (ties or zeros, n ≤ 13 pairs): the
    /// exact conditional distribution, which scipy's permutation test enumerates too.
    Permutation,
    /// The normal approximation with the tie-corrected variance (more than 50 pairs, or ties
    /// or zeros with more than 13 pairs).
    Asymptotic,
}

/// A Wilcoxon signed-rank test result.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Wilcoxon {
    /// min(W+, W−), the statistic scipy reports for the two-sided test.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Pairs with a nonzero difference (zeros are dropped, scipy's `zero_method="wilcox"`).
    pub n: usize,
    /// How the p-value was computed.
    pub method: WilcoxonMethod,
}

/// The most pairs for which [`wilcoxon`] uses an exact distribution (as scipy's `"auto"`).
pub const WILCOXON_EXACT_MAX: usize = 50;
/// The most pairs for which [`wilcoxon`] enumerates sign flips when there are ties or zeros.
pub const WILCOXON_PERMUTATION_MAX: usize = 13;

/// The two-sided Wilcoxon signed-rank test of paired samples `x`, `y`, as
/// `scipy.stats.wilcoxon(x, y)` with its defaults in scipy 1.17 (zeros dropped, no continuity
/// correction, `method="auto"`: see [`WilcoxonMethod`] for which distribution is used when).
/// Errors when no nonzero difference remains.
pub fn wilcoxon(x: &[f64], y: &[f64]) -> Result<Wilcoxon> {
    if x.len() != y.len() {
        return invalid(format!(
            "the Wilcoxon test needs paired samples, got {} and {} values",
            x.len(),
            y.len()
        ));
    }
    check_finite(x, "Wilcoxon x")?;
    check_finite(y, "Wilcoxon y")?;
    let pairs = x.len();
    let all: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
    let zeros = all.iter().filter(|&&v| v == 0.0).count();
    let d: Vec<f64> = all.into_iter().filter(|&v| v != 0.0).collect();
    let n = d.len();
    if n == 0 {
        return invalid(
            "the Wilcoxon test needs at least one nonzero difference; the samples are identical"
                .into(),
        );
    }
    let abs: Vec<f64> = d.iter().map(|v| v.abs()).collect();
    let ranks = average_ranks(&abs);
    let w_plus: f64 = ranks
        .iter()
        .zip(&d)
        .filter(|(_, &v)| v > 0.0)
        .map(|(r, _)| r)
        .sum();
    let total = (n * (n + 1)) as f64 / 2.0;
    // `+ 0.0` turns the −0.0 of an empty float sum into 0.
    let statistic = w_plus.min(total - w_plus) + 0.0;
    let ties = tie_groups(&abs);
    let method = if pairs > WILCOXON_EXACT_MAX {
        WilcoxonMethod::Asymptotic
    } else if ties.is_empty() && zeros == 0 {
        WilcoxonMethod::Exact
    } else if pairs <= WILCOXON_PERMUTATION_MAX {
        WilcoxonMethod::Permutation
    } else {
        WilcoxonMethod::Asymptotic
    };
    let p_value = match method {
        WilcoxonMethod::Exact | WilcoxonMethod::Permutation => {
            // The null distribution of W+ over all 2^n sign assignments of the ranks, counted
            // on doubled ranks (average ranks are multiples of 1/2, so these are integers).
            let doubled: Vec<usize> = ranks.iter().map(|r| (2.0 * r).round() as usize).collect();
            let max: usize = doubled.iter().sum();
            let mut counts = vec![0f64; max + 1];
            counts[0] = 1.0;
            for &r in &doubled {
                for s in (r..=max).rev() {
                    counts[s] += counts[s - r];
                }
            }
            let all_signs: f64 = counts.iter().sum();
            let obs = (2.0 * w_plus).round() as usize;
            let lower: f64 = counts[..=obs].iter().sum::<f64>() / all_signs;
            let upper: f64 = counts[obs..].iter().sum::<f64>() / all_signs;
            (2.0 * lower.min(upper)).min(1.0)
        }
        WilcoxonMethod::Asymptotic => {
            let nf = n as f64;
            let mean = nf * (nf + 1.0) / 4.0;
            let tie_term: f64 = ties.iter().map(|&t| (t * t * t - t) as f64).sum::<f64>() / 48.0;
            let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term;
            if var <= 0.0 {
                1.0
            } else {
                let z = (w_plus - mean) / var.sqrt();
                let normal = Normal::new(0.0, 1.0).map_err(dist_err)?;
                (2.0 * normal.cdf(-z.abs())).min(1.0)
            }
        }
    };
    Ok(Wilcoxon {
        statistic,
        p_value,
        n,
        method,
    })
}

/// A Friedman test result with the average ranks it is based on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Friedman {
    /// The tie-corrected Friedman χ² statistic (as `scipy.stats.friedmanchisquare`).
    pub statistic: f64,
    /// p-value from χ² with k − 1 degrees of freedom.
    pub p_value: f64,
    /// Average rank of each treatment (column), 1 = best (highest score).
    pub average_ranks: Vec<f64>,
}

/// The Friedman test of `scores`, `blocks` rows (data sets) × `k` columns (models), row-major,
/// higher = better. Ranks within each row (ties averaged), χ²_F = [12/(n k (k+1))·Σ_j R_j² −
/// 3 n (k+1)] / (1 − Σ(t³ − t)/(n (k³ − k))), as `scipy.stats.friedmanchisquare(*columns)`.
/// Needs k ≥ 3 treatments and n ≥ 2 blocks; a block with all scores tied contributes no
/// information and makes the statistic undefined when every block is so (error).
pub fn friedman(scores: &[f64], k: usize) -> Result<Friedman> {
    if k < 3 {
        return invalid(format!(
            "the Friedman test needs at least 3 models, got {k}"
        ));
    }
    if scores.is_empty() || !scores.len().is_multiple_of(k) {
        return invalid(format!(
            "Friedman: {} scores do not form rows of {k} models",
            scores.len()
        ));
    }
    check_finite(scores, "Friedman scores")?;
    let n = scores.len() / k;
    if n < 2 {
        return invalid(format!(
            "the Friedman test needs at least 2 data sets, got {n}"
        ));
    }
    let mut rank_sums = vec![0.0; k];
    let mut best_rank_sums = vec![0.0; k];
    let mut tie_sum = 0.0;
    for row in scores.chunks(k) {
        let ranks = average_ranks(row);
        for (j, r) in ranks.iter().enumerate() {
            rank_sums[j] += r;
            best_rank_sums[j] += (k + 1) as f64 - r;
        }
        tie_sum += tie_groups(row)
            .iter()
            .map(|&t| (t * t * t - t) as f64)
            .sum::<f64>();
    }
    let (nf, kf) = (n as f64, k as f64);
    let ssbn: f64 = rank_sums.iter().map(|r| r * r).sum();
    let c = 1.0 - tie_sum / (kf * (kf * kf - 1.0) * nf);
    if c <= 0.0 {
        return invalid("Friedman: every data set ties all models; the test is undefined".into());
    }
    let statistic = (12.0 / (kf * nf * (kf + 1.0)) * ssbn - 3.0 * nf * (kf + 1.0)) / c;
    let chi = ChiSquared::new(kf - 1.0).map_err(dist_err)?;
    Ok(Friedman {
        statistic,
        p_value: chi.sf(statistic).clamp(0.0, 1.0),
        average_ranks: best_rank_sums.iter().map(|r| r / nf).collect(),
    })
}

/// q_0.05 of the Nemenyi test for k = 2..=20 models: the studentized range quantile
/// divided by √2 (Demšar 2006, table 5(a), gives them to 3 decimals for k ≤ 10), from scipy 1.17.1:
/// `[scipy.stats.studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2) for k in range(2, 21)]`.
const NEMENYI_Q05: [f64; 19] = [
    1.959963985,
    2.343700586,
    2.569031773,
    2.727774371,
    2.84970542,
    2.948320018,
    3.03087845,
    3.101730341,
    3.163683577,
    3.218653607,
    3.268003924,
    3.312738593,
    3.353617752,
    3.391230284,
    3.426041379,
    3.458424707,
    3.488684799,
    3.517073009,
    3.543799132,
];

/// The largest number of models [`nemenyi_cd`] has a critical value for.
pub const NEMENYI_MAX_MODELS: usize = 20;

/// The Nemenyi critical difference at α = 0.05 for `k` models ranked on `n` data sets:
/// CD = q_0.05·√(k(k+1)/(6n)) (Demšar 2006). Two models whose average ranks differ by more
/// are significantly different.
pub fn nemenyi_cd(k: usize, n: usize) -> Result<f64> {
    if !(2..=NEMENYI_MAX_MODELS).contains(&k) || n == 0 {
        return invalid(format!(
            "the Nemenyi critical difference needs 2..={NEMENYI_MAX_MODELS} models and ≥ 1 data set, got {k} models and {n} data sets"
        ));
    }
    let q = NEMENYI_Q05[k - 2];
    Ok(q * ((k * (k + 1)) as f64 / (6.0 * n as f64)).sqrt())
}
