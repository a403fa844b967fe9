//! The quantum-vs-classical benchmarking study in one command (issue 17): the data sets of
//! Bowles, Ahmed & Schuld (2024), eight quantum models (QNN, data re-uploading, IQP-kernel
//! SVM, projected-kernel SVM, each entangled and separable) and three classical ones
//! (logistic regression, RBF SVM, MLP), nested cross-validation, statistics, and a report.
//!
//! Run: `cargo run --release --example study` (default study: 100 rows per data set,
//! dimensions 2, 4 and 6 (14 data sets), 3 × 3 outer folds, 3 inner folds, 3 grid points per
//! model, 20 QNN epochs; about 2.5 minutes on a 2-core CPU), or `-- --full` for the full study (200 rows,
//! dimensions 2..10, 5 × 5 outer folds, 5 inner folds, 4 grid points, 30 epochs; meant for a
//! GPU). Writes `results.json`, `results.csv`, `report.md` and SVG plots to `--out DIR`
//! (default `study-out`).
//!
//! Flags: `--out DIR`, `--full`, `--samples N`, `--dims 2,4`, `--outer R,K`, `--inner K`,
//! `--grid B`, `--epochs E`, `--models qnn,rbf-svm,…`, `--seed S`, `--csv A.csv,B.csv` (your
//! own binary data sets instead of the generated ones), `--cpu` / `--gpu`.

#[path = "common/backend.rs"]
mod backend;
#[path = "common/progress.rs"]
mod progress;

use qshade::qml::study::{
    analyse, datasets, run_study, write_outputs, ModelSpec, QnnTraining, StudyConfig, StudyDataset,
};
use qshade::{Error, Result};
use std::path::PathBuf;

fn value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn parse<T: std::str::FromStr>(args: &[String], flag: &str, default: T) -> Result<T> {
    match value(args, flag) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| Error::InvalidArgument(format!("{flag}: cannot parse '{v}'"))),
    }
}

fn list(args: &[String], flag: &str, default: &[usize]) -> Result<Vec<usize>> {
    match value(args, flag) {
        None => Ok(default.to_vec()),
        Some(v) => v
            .split(',')
            .map(|x| {
                x.trim()
                    .parse()
                    .map_err(|_| Error::InvalidArgument(format!("{flag}: cannot parse '{x}'")))
            })
            .collect(),
    }
}

fn main() -> Result<()> {
    let backend = backend::backend()?;
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--full");
    let (samples, dims, outer, inner, grid, epochs): (
        usize,
        &[usize],
        &[usize],
        usize,
        usize,
        usize,
    ) = if full {
        (200, &[2, 4, 6, 8, 10], &[5, 5], 5, 4, 30)
    } else {
        (100, &[2, 4, 6], &[3, 3], 3, 3, 20)
    };
    let samples = parse(&args, "--samples", samples)?;
    let dims = list(&args, "--dims", dims)?;
    let outer = list(&args, "--outer", outer)?;
    if outer.len() != 2 {
        return Err(Error::InvalidArgument("--outer takes REPEATS,FOLDS".into()));
    }
    let inner = parse(&args, "--inner", inner)?;
    let grid = parse(&args, "--grid", grid)?;
    let epochs = parse(&args, "--epochs", epochs)?;
    let seed = parse(&args, "--seed", 17u64)?;
    let out = PathBuf::from(value(&args, "--out").unwrap_or("study-out"));
    let models = match value(&args, "--models") {
        None => ModelSpec::all(),
        Some(v) => v
            .split(',')
            .map(|m| ModelSpec::parse(m.trim()))
            .collect::<Result<_>>()?,
    };
    let mut cases = match value(&args, "--csv") {
        // Your own data: comma-separated CSV files instead of the generated suite.
        Some(files) => files
            .split(',')
            .map(StudyDataset::from_csv)
            .collect::<Result<Vec<_>>>()?,
        None => datasets::suite(samples, &dims, seed)?,
    };
    if cases.is_empty() {
        return Err(Error::InvalidArgument("no data sets".into()));
    }
    cases.sort_by_key(|c| c.dimension);
    let described = match value(&args, "--csv") {
        Some(files) => format!("{} data sets (CSV: {files})", cases.len()),
        None => format!("{} data sets ({samples} rows each, dimensions {dims:?}: linearly separable, hidden manifold, two curves, hyperplanes parity, bars and stripes)", cases.len()),
    };
    let protocol = format!(
        "{described}, {} models; nested cross-validation: {} × {}-fold stratified outer CV, {inner}-fold inner grid search with {grid} grid points per model, QNNs trained {epochs} epochs (batch 16, Adam, BCE); seed {seed}; backend {}.",
        models.len(),
        outer[0],
        outer[1],
        backend.name()
    );
    println!("{protocol}");
    let (bar, callback) = progress::bar("study");
    let config = StudyConfig::default()
        .outer(outer[0], outer[1])
        .inner_folds(inner)
        .grid_budget(grid)
        .training(QnnTraining {
            epochs,
            batch_size: 16,
        })
        .models(models)
        .seed(seed)
        .progress(callback);
    let results = run_study(backend.as_ref(), &cases, &config)?;
    bar.finish_and_clear();
    let analysis = analyse(&results)?;
    let files = write_outputs(&out, &results, &analysis, &protocol)?;
    println!("study wall time {:.1} s", results.wall_seconds);
    for h in &analysis.headline {
        println!("- {h}");
    }
    for f in files {
        println!("wrote {}", f.display());
    }
    println!(
        "{{\"study_wall_seconds\": {:.2}, \"fits\": {}, \"datasets\": {}}}",
        results.wall_seconds,
        results.rows.len(),
        cases.len()
    );
    Ok(())
}
