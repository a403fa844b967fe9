//! Rigorous quantum-vs-classical model benchmarking in the style of Bowles, Ahmed & Schuld,
//! "Better than classical? The subtle art of benchmarking quantum machine learning models"
//! (2024): their data set generators ([`datasets`]), quantum and classical models behind one
//! [`Estimator`] interface ([`models`]), nested cross-validation with the same grid budget for
//! every model ([`protocol`]), the statistics ([`stats`]: 95 % intervals, ROC-AUC, the
//! Nadeau–Bengio corrected t-test, Wilcoxon, Friedman, Nemenyi), and the results files, the
//! markdown report and SVG plots ([`report`], [`plots`]).
//!
//! `cargo run --release --example study` runs the default study; see the README.
//!
//! ```no_run
//! # fn main() -> qshade::Result<()> {
//! use qshade::qml::study::{analyse, datasets, run_study, write_outputs, StudyConfig, StudyDataset};
//! let data = datasets::hyperplanes_parity(40, 2, 2, 1)?;
//! let case = StudyDataset { name: "parity-d2".into(), family: "parity".into(), dimension: 2, data };
//! let results = run_study(&qshade::CpuBackend::new(), &[case], &StudyConfig::default())?;
//! let analysis = analyse(&results)?;
//! write_outputs(std::path::Path::new("study-out"), &results, &analysis, "2 × 3 outer folds")?;
//! # Ok(()) }
//! ```

pub mod datasets;
pub mod models;
pub mod plots;
pub mod protocol;
pub mod report;
pub mod stats;

pub use models::{Estimator, ModelKind, ModelSpec, QnnTraining};
pub use protocol::{
    run_study, stratified_folds, FoldResult, StudyConfig, StudyDataset, StudyResults,
};
pub use report::{analyse, write_outputs, Analysis};
