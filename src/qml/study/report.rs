//! From per-fold results to statistics, the results files and the markdown report.

use super::plots;
use super::protocol::{FoldResult, StudyResults};
use super::stats::{
    corrected_resampled_ttest, friedman, mean_ci, nemenyi_cd, wilcoxon, Friedman, MeanCi, TTest,
    Wilcoxon, NEMENYI_MAX_MODELS,
};
use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One model on one data set, over its outer folds.
#[derive(Clone, Debug, Serialize)]
pub struct ModelSummary {
    /// Data set name.
    pub dataset: String,
    /// Data set family.
    pub family: String,
    /// Feature dimension.
    pub dimension: usize,
    /// Model name.
    pub model: String,
    /// Whether the model is quantum.
    pub quantum: bool,
    /// Mean test accuracy with its 95 % Student-t interval over the outer folds.
    pub accuracy: MeanCi,
    /// Mean test ROC-AUC with its 95 % interval.
    pub roc_auc: MeanCi,
    /// Mean wall time of the final fit, seconds.
    pub fit_seconds: f64,
    /// For a quantum model: the Nadeau–Bengio corrected t-test of its per-fold accuracy
    /// against the best classical model on this data set.
    pub vs_best_classical: Option<TTest>,
}

/// A paired test across data sets, or why it could not be run.
#[derive(Clone, Debug, Serialize)]
pub struct PairedTest {
    /// The first model (a quantum model, or an entangled one).
    pub model: String,
    /// What it is compared with (`best classical`, or its separable ablation).
    pub against: String,
    /// The test, when at least one data set differs.
    pub wilcoxon: Option<Wilcoxon>,
    /// Data sets where `model` has the higher mean accuracy / the lower / equal.
    pub wins_losses_ties: (usize, usize, usize),
}

/// Everything the report says.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// Per data set × model summaries, in the order of the results.
    pub per_dataset: Vec<ModelSummary>,
    /// The best classical model (highest mean accuracy) of each data set.
    pub best_classical: BTreeMap<String, String>,
    /// Models in column order of the rank analysis.
    pub models: Vec<String>,
    /// Data sets in row order.
    pub datasets: Vec<String>,
    /// Friedman test over data sets (needs ≥ 3 models and ≥ 2 data sets).
    pub friedman: Option<Friedman>,
    /// Nemenyi critical difference at α = 0.05 of the average ranks.
    pub critical_difference: Option<f64>,
    /// Wilcoxon signed-rank tests over data sets: each quantum model vs the best classical.
    pub vs_best_classical: Vec<PairedTest>,
    /// Wilcoxon signed-rank tests over data sets: each entangled quantum model vs its
    /// separable ablation.
    pub entangled_vs_separable: Vec<PairedTest>,
    /// The headline sentences.
    pub headline: Vec<String>,
}

fn group(rows: &[FoldResult]) -> Vec<(String, String, Vec<&FoldResult>)> {
    let mut out: Vec<(String, String, Vec<&FoldResult>)> = Vec::new();
    for r in rows {
        match out
            .iter_mut()
            .find(|(d, m, _)| *d == r.dataset && *m == r.model)
        {
            Some((_, _, v)) => v.push(r),
            None => out.push((r.dataset.clone(), r.model.clone(), vec![r])),
        }
    }
    for (_, _, v) in &mut out {
        v.sort_by_key(|r| (r.repeat, r.fold));
    }
    out
}

fn unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn paired(model: &str, against: &str, a: &[f64], b: &[f64]) -> Result<PairedTest> {
    let wins = a.iter().zip(b).filter(|(x, y)| x > y).count();
    let losses = a.iter().zip(b).filter(|(x, y)| x < y).count();
    let ties = a.len() - wins - losses;
    let wilcoxon = if wins + losses > 0 {
        Some(wilcoxon(a, b)?)
    } else {
        None
    };
    Ok(PairedTest {
        model: model.into(),
        against: against.into(),
        wilcoxon,
        wins_losses_ties: (wins, losses, ties),
    })
}

/// Computes every statistic of the report from the per-fold results.
pub fn analyse(results: &StudyResults) -> Result<Analysis> {
    if results.rows.is_empty() {
        return Err(Error::InvalidArgument("no results to analyse".into()));
    }
    let groups = group(&results.rows);
    let datasets = unique(results.rows.iter().map(|r| r.dataset.clone()));
    let models = unique(results.rows.iter().map(|r| r.model.clone()));
    let acc_of = |d: &str, m: &str| -> Option<Vec<f64>> {
        groups
            .iter()
            .find(|(gd, gm, _)| gd == d && gm == m)
            .map(|(_, _, v)| v.iter().map(|r| r.accuracy).collect())
    };
    let mut best_classical = BTreeMap::new();
    for d in &datasets {
        let mut best: Option<(f64, String)> = None;
        for (gd, gm, v) in &groups {
            if gd == d && !v[0].quantum {
                let mean = v.iter().map(|r| r.accuracy).sum::<f64>() / v.len() as f64;
                if best.as_ref().is_none_or(|(b, _)| mean > *b) {
                    best = Some((mean, gm.clone()));
                }
            }
        }
        if let Some((_, m)) = best {
            best_classical.insert(d.clone(), m);
        }
    }
    let mut per_dataset = Vec::new();
    for (d, m, v) in &groups {
        let acc: Vec<f64> = v.iter().map(|r| r.accuracy).collect();
        let auc: Vec<f64> = v.iter().map(|r| r.roc_auc).collect();
        let vs_best_classical = match (v[0].quantum, best_classical.get(d)) {
            (true, Some(c)) => {
                let c_acc = acc_of(d, c).unwrap_or_default();
                if c_acc.len() == acc.len() && acc.len() >= 2 {
                    Some(corrected_resampled_ttest(
                        &acc,
                        &c_acc,
                        v[0].n_train,
                        v[0].n_test,
                    )?)
                } else {
                    None
                }
            }
            _ => None,
        };
        per_dataset.push(ModelSummary {
            dataset: d.clone(),
            family: v[0].family.clone(),
            dimension: v[0].dimension,
            model: m.clone(),
            quantum: v[0].quantum,
            accuracy: mean_ci(&acc, 0.95)?,
            roc_auc: mean_ci(&auc, 0.95)?,
            fit_seconds: v.iter().map(|r| r.fit_seconds).sum::<f64>() / v.len() as f64,
            vs_best_classical,
        });
    }
    let mean_acc = |d: &str, m: &str| -> Option<f64> {
        per_dataset
            .iter()
            .find(|s| s.dataset == d && s.model == m)
            .map(|s| s.accuracy.mean)
    };
    // Data sets × models matrix of mean accuracies (only complete rows).
    let complete: Vec<&String> = datasets
        .iter()
        .filter(|d| models.iter().all(|m| mean_acc(d, m).is_some()))
        .collect();
    let matrix: Vec<f64> = complete
        .iter()
        .flat_map(|d| models.iter().map(|m| mean_acc(d, m).unwrap_or(0.0)))
        .collect();
    let (friedman_result, critical_difference) =
        if models.len() >= 3 && complete.len() >= 2 && models.len() <= NEMENYI_MAX_MODELS {
            match friedman(&matrix, models.len()) {
                Ok(f) => (Some(f), Some(nemenyi_cd(models.len(), complete.len())?)),
                Err(_) => (None, None),
            }
        } else {
            (None, None)
        };
    let quantum_models: Vec<&String> = models
        .iter()
        .filter(|m| results.rows.iter().any(|r| &r.model == *m && r.quantum))
        .collect();
    let mut vs_best = Vec::new();
    let with_classical: Vec<&String> = complete
        .iter()
        .copied()
        .filter(|d| best_classical.contains_key(*d))
        .collect();
    for q in &quantum_models {
        let a: Vec<f64> = with_classical
            .iter()
            .map(|d| mean_acc(d, q).unwrap_or(0.0))
            .collect();
        let b: Vec<f64> = with_classical
            .iter()
            .map(|d| mean_acc(d, &best_classical[*d]).unwrap_or(0.0))
            .collect();
        if !a.is_empty() {
            vs_best.push(paired(q, "best classical", &a, &b)?);
        }
    }
    let mut ablation = Vec::new();
    for q in &quantum_models {
        let sep = format!("{q}-sep");
        if models.contains(&sep) {
            let a: Vec<f64> = complete
                .iter()
                .map(|d| mean_acc(d, q).unwrap_or(0.0))
                .collect();
            let b: Vec<f64> = complete
                .iter()
                .map(|d| mean_acc(d, &sep).unwrap_or(0.0))
                .collect();
            if !a.is_empty() {
                ablation.push(paired(q, &sep, &a, &b)?);
            }
        }
    }
    let headline = headline(
        &models,
        &results.rows,
        friedman_result.as_ref(),
        critical_difference,
        &vs_best,
        &ablation,
        with_classical.len(),
    );
    Ok(Analysis {
        per_dataset,
        best_classical,
        models,
        datasets: complete.into_iter().cloned().collect(),
        friedman: friedman_result,
        critical_difference,
        vs_best_classical: vs_best,
        entangled_vs_separable: ablation,
        headline,
    })
}

fn headline(
    models: &[String],
    rows: &[FoldResult],
    friedman: Option<&Friedman>,
    cd: Option<f64>,
    vs_best: &[PairedTest],
    ablation: &[PairedTest],
    n_datasets: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let is_quantum = |m: &str| rows.iter().any(|r| r.model == m && r.quantum);
    if let Some(f) = friedman {
        let mut order: Vec<usize> = (0..models.len()).collect();
        order.sort_by(|&a, &b| f.average_ranks[a].total_cmp(&f.average_ranks[b]));
        let top: Vec<String> = order
            .iter()
            .take(3)
            .map(|&i| {
                let kind = if is_quantum(&models[i]) {
                    "quantum"
                } else {
                    "classical"
                };
                format!("{} ({kind}, {:.2})", models[i], f.average_ranks[i])
            })
            .collect();
        out.push(format!(
            "Best average ranks over {n_datasets} data sets: {} (Friedman χ² = {:.2}, p = {}; Nemenyi CD = {:.2}).",
            top.join(", "),
            f.statistic,
            p_str(f.p_value),
            cd.unwrap_or(f64::NAN)
        ));
    }
    if !vs_best.is_empty() {
        let beaten = vs_best.iter().filter(|t| t.wins_losses_ties.0 == 0).count();
        let wins: usize = vs_best.iter().map(|t| t.wins_losses_ties.0).sum();
        let losses: usize = vs_best.iter().map(|t| t.wins_losses_ties.1).sum();
        let significant = vs_best
            .iter()
            .filter(|t| {
                t.wilcoxon.is_some_and(|w| w.p_value < 0.05)
                    && t.wins_losses_ties.0 > t.wins_losses_ties.1
            })
            .count();
        out.push(format!(
            "Quantum vs the best classical model per data set: {wins} wins, {losses} losses over {} (model, data set) pairs; {beaten} of {} quantum models never beat it; {significant} beat it significantly (Wilcoxon p < 0.05).",
            vs_best.len() * n_datasets,
            vs_best.len()
        ));
        if losses > wins {
            out.push("This reproduces the qualitative finding of Bowles, Ahmed & Schuld (2024): out-of-the-box classical models outperform the quantum classifiers.".into());
        } else {
            out.push("This differs from Bowles, Ahmed & Schuld (2024), where out-of-the-box classical models won: here the quantum models won at least as often. Likely causes at small scale: few rows, few qubits and short training leave every model near the same accuracy, so wins and losses are within the folds' noise; the per-data-set corrected t-tests say which differences are significant.".into());
        }
    }
    if !ablation.is_empty() {
        let (w, l, t) = ablation.iter().fold((0, 0, 0), |acc, p| {
            (
                acc.0 + p.wins_losses_ties.0,
                acc.1 + p.wins_losses_ties.1,
                acc.2 + p.wins_losses_ties.2,
            )
        });
        let significant = ablation
            .iter()
            .filter(|p| {
                p.wilcoxon.is_some_and(|x| x.p_value < 0.05)
                    && p.wins_losses_ties.0 > p.wins_losses_ties.1
            })
            .count();
        out.push(format!(
            "Removing entanglement: the separable ablation matched or beat the entangled model in {} of {} (model, data set) pairs ({w} entangled wins, {l} losses, {t} ties); entanglement helped significantly for {significant} of {} models.",
            l + t,
            w + l + t,
            ablation.len()
        ));
    }
    out
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn ci(c: &MeanCi) -> String {
    format!("{:.3} [{:.3}, {:.3}]", c.mean, c.low, c.high)
}

fn p_str(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// The markdown report: the headline, the protocol, per-data-set tables and the
/// cross-data-set tests, with links to the plots `plot_files` (relative paths).
pub fn markdown(
    results: &StudyResults,
    analysis: &Analysis,
    protocol: &str,
    plot_files: &[String],
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# qshade quantum-vs-classical study\n");
    let _ = writeln!(s, "## Headline\n");
    for h in &analysis.headline {
        let _ = writeln!(s, "- {h}");
    }
    let _ = writeln!(s, "\n## Protocol\n\n{protocol}\n");
    let _ = writeln!(
        s,
        "Wall time of the study: {:.1} s. Accuracy and ROC-AUC: mean over the outer folds with the 95 % Student-t interval. `p (NB)`: Nadeau–Bengio corrected resampled t-test of the model's per-fold accuracy against the best classical model of that data set (two-sided).\n",
        results.wall_seconds
    );
    let _ = writeln!(s, "## Per data set\n");
    for d in unique(analysis.per_dataset.iter().map(|x| x.dataset.clone())) {
        let best = analysis.best_classical.get(&d).cloned().unwrap_or_default();
        let _ = writeln!(s, "### {d} (best classical: {best})\n");
        let _ = writeln!(s, "| model | kind | accuracy [95 % CI] | ROC-AUC [95 % CI] | fit s | Δacc vs best classical | p (NB) |");
        let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- | --- |");
        for m in analysis.per_dataset.iter().filter(|x| x.dataset == d) {
            let (delta, p) = match &m.vs_best_classical {
                Some(t) => (format!("{:+.3}", t.mean_difference), p_str(t.p_value)),
                None => ("".into(), "".into()),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.3} | {delta} | {p} |",
                m.model,
                if m.quantum { "quantum" } else { "classical" },
                ci(&m.accuracy),
                ci(&m.roc_auc),
                m.fit_seconds
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Across data sets\n");
    if let Some(f) = &analysis.friedman {
        let _ = writeln!(
            s,
            "Friedman test over {} data sets × {} models: χ² = {:.3}, p = {}. Nemenyi critical difference (α = 0.05): {:.3}.\n",
            analysis.datasets.len(),
            analysis.models.len(),
            f.statistic,
            p_str(f.p_value),
            analysis.critical_difference.unwrap_or(f64::NAN)
        );
        let mut order: Vec<usize> = (0..analysis.models.len()).collect();
        order.sort_by(|&a, &b| f.average_ranks[a].total_cmp(&f.average_ranks[b]));
        let _ = writeln!(s, "| rank | model | average rank |\n| --- | --- | --- |");
        for (i, &k) in order.iter().enumerate() {
            let _ = writeln!(
                s,
                "| {} | {} | {:.2} |",
                i + 1,
                analysis.models[k],
                f.average_ranks[k]
            );
        }
        let _ = writeln!(s);
    } else {
        let _ = writeln!(
            s,
            "(The Friedman test needs ≥ 3 models and ≥ 2 data sets.)\n"
        );
    }
    for (title, tests) in [
        (
            "Wilcoxon signed-rank over data sets: quantum model vs the best classical model",
            &analysis.vs_best_classical,
        ),
        (
            "Wilcoxon signed-rank over data sets: entangled vs separable",
            &analysis.entangled_vs_separable,
        ),
    ] {
        if tests.is_empty() {
            continue;
        }
        let _ = writeln!(s, "{title}:\n\n| model | against | wins / losses / ties | W | p |\n| --- | --- | --- | --- | --- |");
        for t in tests {
            let (w, p) = match &t.wilcoxon {
                Some(x) => (format!("{}", x.statistic), p_str(x.p_value)),
                None => ("—".into(), "— (all tied)".into()),
            };
            let (a, b, c) = t.wins_losses_ties;
            let _ = writeln!(
                s,
                "| {} | {} | {a} / {b} / {c} | {w} | {p} |",
                t.model, t.against
            );
        }
        let _ = writeln!(s);
    }
    if !plot_files.is_empty() {
        let _ = writeln!(s, "## Plots\n");
        for p in plot_files {
            let _ = writeln!(s, "![{p}]({p})\n");
        }
    }
    s
}

/// Writes `results.json` (protocol, every fold, the analysis), `results.csv` (one row per
/// model × data set × fold), `report.md` and the SVG plots into `dir` (created if missing);
/// returns the files written.
pub fn write_outputs(
    dir: &Path,
    results: &StudyResults,
    analysis: &Analysis,
    protocol: &str,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let mut written = Vec::new();
    let csv_path = dir.join("results.csv");
    let mut w = csv::Writer::from_path(&csv_path).map_err(|e| io_err(&csv_path, e))?;
    for r in &results.rows {
        w.serialize(r).map_err(|e| io_err(&csv_path, e))?;
    }
    w.flush().map_err(|e| io_err(&csv_path, e))?;
    written.push(csv_path);
    let json_path = dir.join("results.json");
    let json = serde_json::json!({
        "protocol": protocol,
        "wall_seconds": results.wall_seconds,
        "rows": results.rows,
        "analysis": analysis,
    });
    let text = serde_json::to_string_pretty(&json).map_err(|e| io_err(&json_path, e))?;
    std::fs::write(&json_path, text).map_err(|e| io_err(&json_path, e))?;
    written.push(json_path);
    let plot_files = plots::write_plots(dir, analysis)?;
    let names: Vec<String> = plot_files
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    written.extend(plot_files);
    let md_path = dir.join("report.md");
    std::fs::write(&md_path, markdown(results, analysis, protocol, &names))
        .map_err(|e| io_err(&md_path, e))?;
    written.push(md_path);
    Ok(written)
}
