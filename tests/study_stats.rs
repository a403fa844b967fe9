//! The study's statistics against scipy 1.17.1 (`/usr/bin/env python3` with numpy and scipy;
//! each reference value has the snippet that produced it beside it) and a published worked
//! example (Demšar 2006). Tolerances: 1e-10 for closed forms, 1e-9 for p-values from
//! distribution functions (statrs' and scipy's special-function implementations differ in
//! the last digits).

use qshade::qml::study::stats::{
    average_ranks, corrected_resampled_ttest, friedman, mean_ci, nemenyi_cd, roc_auc, wilcoxon,
    WilcoxonMethod,
};

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol,
        "{what}: got {a}, expected {b} (tolerance {tol})"
    );
}

#[test]
fn confidence_interval_matches_scipy_t_interval() {
    // v = [0.61, 0.72, 0.68, 0.75, 0.66, 0.70]
    // st.t.interval(0.95, len(v)-1, loc=np.mean(v), scale=st.sem(v))
    //   -> (0.6353980389561694, 0.7379352943771639)
    let v = [0.61, 0.72, 0.68, 0.75, 0.66, 0.70];
    let ci = mean_ci(&v, 0.95).unwrap();
    close(ci.low, 0.6353980389561694, 1e-9, "95 % low");
    close(ci.high, 0.7379352943771639, 1e-9, "95 % high");
    close(ci.mean, 0.6866666666666666, 1e-12, "mean");
    // w = [1., 2., 4., 7.]; st.t.interval(0.99, 3, loc=np.mean(w), scale=st.sem(w))
    //   -> (-4.226796732018199, 11.2267967320182)
    let ci = mean_ci(&[1.0, 2.0, 4.0, 7.0], 0.99).unwrap();
    close(ci.low, -4.226796732018199, 1e-8, "99 % low");
    close(ci.high, 11.2267967320182, 1e-8, "99 % high");
    // One value or constant values: a zero-width interval, not NaN.
    let ci = mean_ci(&[0.5, 0.5, 0.5], 0.95).unwrap();
    assert_eq!((ci.low, ci.high), (0.5, 0.5));
    assert!(mean_ci(&[], 0.95).is_err());
    assert!(mean_ci(&[1.0, f64::NAN], 0.95).is_err());
    assert!(mean_ci(&[1.0, 2.0], 1.0).is_err());
}

#[test]
fn nadeau_bengio_matches_the_formula_evaluated_by_scipy() {
    // a = [.80,.75,.90,.85,.70,.95,.80,.85,.75,.90]; b = [.78,.70,.85,.86,.72,.90,.74,.80,.76,.84]
    // d = np.array(a) - np.array(b); J = len(d); ntr, nte = 80, 20
    // t = d.mean() / np.sqrt((1/J + nte/ntr) * d.var(ddof=1)); p = 2 * st.t.sf(abs(t), J-1)
    //   -> t = 1.5860415979130429, p = 0.1471914343488369
    let a = [0.80, 0.75, 0.90, 0.85, 0.70, 0.95, 0.80, 0.85, 0.75, 0.90];
    let b = [0.78, 0.70, 0.85, 0.86, 0.72, 0.90, 0.74, 0.80, 0.76, 0.84];
    let t = corrected_resampled_ttest(&a, &b, 80, 20).unwrap();
    close(t.t, 1.5860415979130429, 1e-10, "t");
    close(t.p_value, 0.1471914343488369, 1e-9, "p");
    assert_eq!(t.df, 9.0);
    // Symmetric in the order of the models.
    let r = corrected_resampled_ttest(&b, &a, 80, 20).unwrap();
    close(r.t, -t.t, 1e-12, "t reversed");
    close(r.p_value, t.p_value, 1e-12, "p reversed");
    // Identical scores: no difference, p = 1.
    assert_eq!(
        corrected_resampled_ttest(&a, &a, 80, 20).unwrap().p_value,
        1.0
    );
    assert!(corrected_resampled_ttest(&a, &b[..9], 80, 20).is_err());
    assert!(corrected_resampled_ttest(&a, &b, 0, 20).is_err());
}

#[test]
fn wilcoxon_exact_permutation_and_asymptotic_match_scipy() {
    // Exact (no ties, no zeros, n ≤ 50):
    // d = np.array([1.,-2,3,4,-5,6,7,8,-9,10,11,12,13,-14]); y = np.arange(14)*3.0 + 20; x = y + d
    // st.wilcoxon(x, y) -> statistic 30.0, pvalue 0.172607421875
    let d = [
        1.0, -2.0, 3.0, 4.0, -5.0, 6.0, 7.0, 8.0, -9.0, 10.0, 11.0, 12.0, 13.0, -14.0,
    ];
    let y: Vec<f64> = (0..14).map(|i| 20.0 + 3.0 * i as f64).collect();
    let x: Vec<f64> = y.iter().zip(d).map(|(a, b)| a + b).collect();
    let w = wilcoxon(&x, &y).unwrap();
    assert_eq!(w.method, WilcoxonMethod::Exact);
    close(w.statistic, 30.0, 1e-12, "exact W");
    close(w.p_value, 0.172607421875, 1e-12, "exact p");
    // Near-equal float differences are ties (0.81 − 0.79 == 0.88 − 0.86 in f64), so scipy
    // enumerates sign flips: x1 = [.81,.92,.77,.69,.88,.95,.73,.84,.66,.91,.58];
    // y1 = [.79,.85,.80,.60,.86,.83,.74,.70,.67,.80,.61]; st.wilcoxon(x1, y1) -> 14.0, 0.0986328125
    let x1 = [
        0.81, 0.92, 0.77, 0.69, 0.88, 0.95, 0.73, 0.84, 0.66, 0.91, 0.58,
    ];
    let y1 = [
        0.79, 0.85, 0.80, 0.60, 0.86, 0.83, 0.74, 0.70, 0.67, 0.80, 0.61,
    ];
    let w = wilcoxon(&x1, &y1).unwrap();
    assert_eq!(w.method, WilcoxonMethod::Permutation);
    close(w.statistic, 14.0, 1e-12, "tied W");
    close(w.p_value, 0.0986328125, 1e-12, "tied p");
    // Ties and a zero, 12 pairs (scipy enumerates all sign flips):
    // x2 = [1..12]; y2 = [2,1,5,1,8,3,4,3,12,4,11,14]; st.wilcoxon(x2, y2) -> 22.5, 0.3818359375
    let x2: Vec<f64> = (1..=12).map(f64::from).collect();
    let y2 = [
        2.0, 1.0, 5.0, 1.0, 8.0, 3.0, 4.0, 3.0, 12.0, 4.0, 11.0, 14.0,
    ];
    let w = wilcoxon(&x2, &y2).unwrap();
    assert_eq!(w.method, WilcoxonMethod::Permutation);
    assert_eq!(w.n, 11);
    close(w.statistic, 22.5, 1e-12, "permutation W");
    close(w.p_value, 0.3818359375, 1e-12, "permutation p");
    // Ties, 20 pairs (normal approximation with tie correction):
    // st.wilcoxon(x3, y3) -> 40.0, 0.020046721577447205
    let x3 = [
        0.8, 0.7, 0.9, 0.6, 0.75, 0.85, 0.7, 0.65, 0.9, 0.8, 0.7, 0.95, 0.6, 0.55, 0.8, 0.85, 0.9,
        0.7, 0.75, 0.8,
    ];
    let y3 = [
        0.7, 0.7, 0.8, 0.7, 0.65, 0.75, 0.6, 0.75, 0.8, 0.7, 0.8, 0.85, 0.5, 0.45, 0.9, 0.75, 0.8,
        0.6, 0.65, 0.7,
    ];
    let w = wilcoxon(&x3, &y3).unwrap();
    assert_eq!(w.method, WilcoxonMethod::Asymptotic);
    close(w.statistic, 40.0, 1e-9, "asymptotic W");
    close(w.p_value, 0.020046721577447205, 1e-9, "asymptotic p");
    // 60 pairs (over 50: asymptotic):
    // x4 = np.linspace(0,1,60)**2; y4 = x4 + np.sin(np.arange(60))*0.1 + 0.01
    // st.wilcoxon(x4, y4) -> 698.0, 0.11016145833763198
    let x4: Vec<f64> = (0..60).map(|i| (i as f64 / 59.0).powi(2)).collect();
    let y4: Vec<f64> = x4
        .iter()
        .enumerate()
        .map(|(i, v)| v + (i as f64).sin() * 0.1 + 0.01)
        .collect();
    let w = wilcoxon(&x4, &y4).unwrap();
    assert_eq!(w.method, WilcoxonMethod::Asymptotic);
    close(w.statistic, 698.0, 1e-9, "n = 60 W");
    close(w.p_value, 0.11016145833763198, 1e-9, "n = 60 p");
    assert!(wilcoxon(&x, &x).is_err());
    assert!(wilcoxon(&x, &y[..3]).is_err());
}

#[test]
fn friedman_matches_scipy_with_and_without_ties() {
    // cols = [[.9,.8,.7,.85,.6],[.85,.8,.75,.8,.65],[.7,.6,.72,.7,.5],[.88,.79,.7,.9,.61]]
    // st.friedmanchisquare(*cols) -> 5.312499999999995, 0.15029333841879153
    let cols = [
        [0.9, 0.8, 0.7, 0.85, 0.6],
        [0.85, 0.8, 0.75, 0.8, 0.65],
        [0.7, 0.6, 0.72, 0.7, 0.5],
        [0.88, 0.79, 0.7, 0.9, 0.61],
    ];
    let rows: Vec<f64> = (0..5)
        .flat_map(|b| cols.iter().map(move |c| c[b]))
        .collect();
    let f = friedman(&rows, 4).unwrap();
    close(f.statistic, 5.3125, 1e-10, "χ²");
    close(f.p_value, 0.15029333841879153, 1e-9, "p");
    // Average ranks (1 = best): rank sums by hand from the table above.
    let sum: f64 = f.average_ranks.iter().sum();
    close(sum, 10.0, 1e-12, "ranks sum to k(k+1)/2");
    // With ties in a block (the tie-corrected statistic):
    // cols2 = [[.9,.8,.7,.85,.6,.9],[.9,.8,.75,.8,.65,.7],[.7,.6,.72,.7,.5,.7],[.88,.8,.7,.9,.61,.7]]
    // st.friedmanchisquare(*cols2) -> 6.3, 0.09789265270998831
    let cols2 = [
        [0.9, 0.8, 0.7, 0.85, 0.6, 0.9],
        [0.9, 0.8, 0.75, 0.8, 0.65, 0.7],
        [0.7, 0.6, 0.72, 0.7, 0.5, 0.7],
        [0.88, 0.8, 0.7, 0.9, 0.61, 0.7],
    ];
    let rows2: Vec<f64> = (0..6)
        .flat_map(|b| cols2.iter().map(move |c| c[b]))
        .collect();
    let f = friedman(&rows2, 4).unwrap();
    close(f.statistic, 6.3, 1e-10, "tied χ²");
    close(f.p_value, 0.09789265270998831, 1e-9, "tied p");
    assert!(friedman(&rows2, 2).is_err());
    assert!(friedman(&rows2[..4], 4).is_err());
    assert!(friedman(&[0.5; 8], 4).is_err());
}

#[test]
fn nemenyi_cd_matches_demsar_worked_example() {
    // Demšar (2006), section 3.2.2: four algorithms on 14 data sets, q_0.05 = 2.569, CD = 1.25.
    close(nemenyi_cd(4, 14).unwrap(), 1.25, 0.005, "Demšar CD");
    // scipy: st.studentized_range.ppf(0.95, 10, np.inf) / np.sqrt(2) = 3.163683577;
    // CD = q·sqrt(10·11/(6·20))
    close(
        nemenyi_cd(10, 20).unwrap(),
        3.163683577 * (110.0f64 / 120.0).sqrt(),
        1e-9,
        "k = 10",
    );
    assert!(nemenyi_cd(1, 5).is_err());
    assert!(nemenyi_cd(21, 5).is_err());
    assert!(nemenyi_cd(3, 0).is_err());
}

#[test]
fn roc_auc_and_ranks_match_scipy() {
    // st.mannwhitneyu([.9,.8,.4,.55], [.1,.4,.35,.8,.2]).statistic / 20 -> 0.85
    let scores = [0.9, 0.8, 0.4, 0.55, 0.1, 0.4, 0.35, 0.8, 0.2];
    let labels = [1, 1, 1, 1, 0, 0, 0, 0, 0];
    close(roc_auc(&scores, &labels).unwrap(), 0.85, 1e-12, "AUC");
    // st.rankdata([3, 1, 4, 1, 5]) -> [3. , 1.5, 4. , 1.5, 5. ]
    assert_eq!(
        average_ranks(&[3.0, 1.0, 4.0, 1.0, 5.0]),
        vec![3.0, 1.5, 4.0, 1.5, 5.0]
    );
    assert!(roc_auc(&[0.1, 0.2], &[1, 1]).is_err());
    assert!(roc_auc(&[0.1, f64::NAN], &[0, 1]).is_err());
}
