//! The benchmarking study (issue 17): the data set generators' stated properties, the models
//! behind the `Estimator` interface (against analytic expectations on separable data, and
//! their batched use of the backend), and a tiny end-to-end study with its output files.

use qshade::qml::qkernel::KernelMatrix;
use qshade::qml::study::datasets::{
    bars_and_stripes, hidden_manifold, hyperplanes_parity, linearly_separable, suite, two_curves,
    HiddenManifold, Hyperplanes,
};
use qshade::qml::study::{
    analyse, run_study, stratified_folds, write_outputs, ModelKind, ModelSpec, QnnTraining,
    StudyConfig, StudyDataset,
};
use qshade::qml::train::Dataset;
use qshade::{
    Backend, BatchConfig, Complex64, CpuBackend, Observable, Precision, Program, QuantumState,
    Result,
};
use std::sync::atomic::{AtomicUsize, Ordering};

fn balanced(d: &Dataset, n: usize, dim: usize) {
    assert_eq!(d.len(), n);
    assert_eq!(d.num_features, dim);
    assert_eq!(d.class_counts(), vec![n / 2, n / 2], "class balance");
}

#[test]
fn linearly_separable_has_its_margin() {
    let (n, d, margin) = (200, 5, 0.3);
    let data = linearly_separable(n, d, margin, 3).unwrap();
    balanced(&data, n, d);
    for (x, &l) in data.features.chunks(d).zip(&data.labels) {
        let s = x.iter().sum::<f64>() / (d as f64).sqrt();
        assert!(s.abs() >= margin, "a point inside the margin: {s}");
        assert_eq!(l, usize::from(s > 0.0), "label is the side of w = 1/√d");
        assert!(x.iter().all(|v| (-1.0..=1.0).contains(v)));
    }
    assert!(linearly_separable(10, 2, 2.0, 0).is_err());
    assert!(linearly_separable(7, 2, 0.1, 0).is_err());
    assert!(linearly_separable(10, 0, 0.1, 0).is_err());
    assert!(linearly_separable(10, 2, f64::NAN, 0).is_err());
    // Sizes past the value cap are an error, not an attempted huge allocation.
    assert!(linearly_separable(1 << 20, 4096, 0.1, 0).is_err());
    assert!(hidden_manifold(1 << 20, 2, 4096, 0).is_err());
}

#[test]
fn hyperplanes_parity_labels_are_the_parity() {
    let (n, d, k, seed) = (120, 4, 3, 9);
    let data = hyperplanes_parity(n, d, k, seed).unwrap();
    balanced(&data, n, d);
    let planes = Hyperplanes::random(d, k, seed).unwrap();
    for (x, &l) in data.features.chunks(d).zip(&data.labels) {
        // Recompute the parity from the planes' definition, not through `parity`.
        let above = (0..k)
            .filter(|&i| {
                let w = &planes.normals[i * d..(i + 1) * d];
                w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + planes.offsets[i] > 0.0
            })
            .count();
        assert_eq!(l, above % 2);
    }
    // Flipping across exactly one plane flips the label: the parity structure.
    let one = Hyperplanes::random(2, 1, 1).unwrap();
    let w = &one.normals;
    let b = one.offsets[0];
    let norm2 = w[0] * w[0] + w[1] * w[1];
    let p = [0.3, -0.2];
    let s = w[0] * p[0] + w[1] * p[1] + b;
    let mirrored = [p[0] - 2.0 * s * w[0] / norm2, p[1] - 2.0 * s * w[1] / norm2];
    assert_ne!(one.parity(&p), one.parity(&mirrored));
    assert!(hyperplanes_parity(10, 2, 0, 0).is_err());
}

#[test]
fn hidden_manifold_lies_on_its_manifold() {
    let (n, d, m, seed) = (100, 6, 2, 4);
    let data = hidden_manifold(n, d, m, seed).unwrap();
    balanced(&data, n, d);
    // atanh(x) = z·F/√m is linear in the m-dimensional latent z: the d × d second-moment
    // matrix of atanh(x) has rank m, so its d − m smallest eigenvalues vanish.
    let mut g = vec![0.0; d * d];
    for x in data.features.chunks(d) {
        let a: Vec<f64> = x.iter().map(|v| v.atanh()).collect();
        for i in 0..d {
            for j in 0..d {
                g[i * d + j] += a[i] * a[j] / n as f64;
            }
        }
    }
    let mut eig = KernelMatrix::new(d, d, g).unwrap().eigenvalues().unwrap();
    eig.sort_by(|a, b| b.total_cmp(a));
    assert!(
        eig[m - 1] > 0.1,
        "the manifold spans {m} dimensions: {eig:?}"
    );
    for e in &eig[m..] {
        assert!(e.abs() < 1e-9, "beyond the manifold: {eig:?}");
    }
    // Labels are the teacher's score thresholded at the median: recompute from the model.
    let model = HiddenManifold::random(d, m, seed).unwrap();
    assert_eq!(model.embedding.len(), m * d);
    assert!(hidden_manifold(10, 3, 0, 0).is_err());
}

#[test]
fn two_curves_and_bars_and_stripes_have_their_structure() {
    let data = two_curves(60, 3, 2, 0.8, 0.0, 5).unwrap();
    balanced(&data, 60, 3);
    // Noise-free, class 1 is class 0's curve shifted by offset·(1, …, 1)/√d: shifted back,
    // class-1 points lie on the class-0 curve (nearest neighbours close), unshifted they
    // do not.
    let (d, offset) = (3, 2.0);
    let data = two_curves(400, d, 2, offset, 0.0, 8).unwrap();
    let rows: Vec<(&[f64], usize)> = data
        .features
        .chunks(d)
        .zip(data.labels.iter().copied())
        .collect();
    let curve: Vec<&[f64]> = rows.iter().filter(|r| r.1 == 0).map(|r| r.0).collect();
    let nearest = |p: &[f64]| {
        curve
            .iter()
            .map(|c| {
                c.iter()
                    .zip(p)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let shift = offset / (d as f64).sqrt();
    let (mut back, mut raw) = (0.0, 0.0);
    for (x, _) in rows.iter().filter(|r| r.1 == 1) {
        let moved: Vec<f64> = x.iter().map(|v| v - shift).collect();
        back += nearest(&moved);
        raw += nearest(x);
    }
    assert!(back < 0.2 * raw, "shifted back {back}, unshifted {raw}");
    let data = bars_and_stripes(80, 3, 2, 0.0, 6).unwrap();
    balanced(&data, 80, 6);
    for (x, &l) in data.features.chunks(6).zip(&data.labels) {
        let (w, h) = (3, 2);
        let cols_constant = (0..w).all(|c| (0..h).all(|r| x[r * w + c] == x[c]));
        let rows_constant = (0..h).all(|r| (0..w).all(|c| x[r * w + c] == x[r * w]));
        assert!(x.iter().all(|v| v.abs() == 1.0));
        assert_eq!(l == 0, cols_constant, "bars: every column constant");
        assert_eq!(l == 1, rows_constant, "stripes: every row constant");
        assert!(
            !(cols_constant && rows_constant),
            "uniform images are excluded"
        );
    }
    assert!(bars_and_stripes(10, 1, 4, 0.0, 0).is_err());
    assert!(two_curves(10, 2, 0, 0.5, 0.1, 0).is_err());
    let cases = suite(20, &[2, 4], 1).unwrap();
    assert_eq!(cases.len(), 9);
}

#[test]
fn stratified_folds_partition_and_stratify() {
    let labels: Vec<usize> = (0..30).map(|i| usize::from(i % 3 == 0)).collect();
    let folds = stratified_folds(&labels, 5, 2).unwrap();
    let mut all: Vec<usize> = folds.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..30).collect::<Vec<_>>());
    for f in &folds {
        assert_eq!(f.len(), 6);
        assert_eq!(f.iter().filter(|&&i| labels[i] == 1).count(), 2);
    }
    assert!(stratified_folds(&labels, 11, 0).is_err());
    assert!(stratified_folds(&labels, 1, 0).is_err());
}

/// The CPU backend, counting the batched calls that reach it and any per-state use.
struct Counting {
    inner: CpuBackend,
    forward: AtomicUsize,
    forward_rows: AtomicUsize,
    adjoint: AtomicUsize,
    overlaps: AtomicUsize,
    states: AtomicUsize,
}

impl Counting {
    fn new() -> Self {
        Counting {
            inner: CpuBackend::new(),
            forward: AtomicUsize::new(0),
            forward_rows: AtomicUsize::new(0),
            adjoint: AtomicUsize::new(0),
            overlaps: AtomicUsize::new(0),
            states: AtomicUsize::new(0),
        }
    }
    fn counts(&self) -> [usize; 5] {
        [
            self.forward.load(Ordering::SeqCst),
            self.forward_rows.load(Ordering::SeqCst),
            self.adjoint.load(Ordering::SeqCst),
            self.overlaps.load(Ordering::SeqCst),
            self.states.load(Ordering::SeqCst),
        ]
    }
}

impl Backend for Counting {
    fn name(&self) -> String {
        "counting".into()
    }
    fn precision(&self) -> Precision {
        self.inner.precision()
    }
    fn zero_state(&self, n: usize) -> Result<Box<dyn QuantumState>> {
        self.states.fetch_add(1, Ordering::SeqCst);
        self.inner.zero_state(n)
    }
    fn state_from_amplitudes(&self, a: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        self.states.fetch_add(1, Ordering::SeqCst);
        self.inner.state_from_amplitudes(a)
    }
    fn forward_rows(
        &self,
        p: &Program,
        rows: &[f64],
        n: usize,
        o: &[Observable],
        c: &BatchConfig,
    ) -> Result<Vec<f64>> {
        self.forward.fetch_add(1, Ordering::SeqCst);
        self.forward_rows.fetch_add(n, Ordering::SeqCst);
        self.inner.forward_rows(p, rows, n, o, c)
    }
    fn adjoint_rows(
        &self,
        p: &Program,
        rows: &[f64],
        n: usize,
        o: &[Observable],
        u: &[f64],
        c: &BatchConfig,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        self.adjoint.fetch_add(1, Ordering::SeqCst);
        self.inner.adjoint_rows(p, rows, n, o, u, c)
    }
    fn overlaps(
        &self,
        p: &Program,
        a: &[f64],
        na: usize,
        b: &[f64],
        nb: usize,
        c: &BatchConfig,
    ) -> Result<Vec<Complex64>> {
        self.overlaps.fetch_add(1, Ordering::SeqCst);
        self.inner.overlaps(p, a, na, b, nb, c)
    }
}

fn accuracy(pred: &[usize], labels: &[usize]) -> f64 {
    pred.iter().zip(labels).filter(|(a, b)| a == b).count() as f64 / labels.len() as f64
}

#[test]
fn quantum_models_make_one_batched_call_per_mini_batch_or_gram_block() {
    let data = linearly_separable(24, 3, 0.2, 1).unwrap();
    let (epochs, batch) = (2, 8);
    let training = QnnTraining {
        epochs,
        batch_size: batch,
    };
    for kind in [ModelKind::Qnn, ModelKind::ReUploading] {
        let b = Counting::new();
        let spec = ModelSpec {
            kind,
            separable: false,
        };
        let mut m = spec.build(&spec.grid(1).unwrap()[0], training, 0).unwrap();
        m.fit(&b, &data).unwrap();
        // Per epoch: 24/8 = 3 gradient calls and one evaluation pass; no single states.
        assert_eq!(
            b.counts(),
            [epochs, epochs * 24, epochs * 3, 0, 0],
            "{kind:?} fit"
        );
        m.decision_function(&b, &data.features).unwrap();
        assert_eq!(
            b.counts()[..2],
            [epochs + 1, epochs * 24 + 24],
            "{kind:?} predict"
        );
    }
    // Fidelity kernel: one Gram block to fit, one (test × train) to predict.
    let b = Counting::new();
    let spec = ModelSpec {
        kind: ModelKind::IqpKernel,
        separable: false,
    };
    let mut m = spec.build(&spec.grid(1).unwrap()[0], training, 0).unwrap();
    m.fit(&b, &data).unwrap();
    assert_eq!(b.counts(), [0, 0, 0, 1, 0], "IQP fit");
    m.decision_function(&b, &data.features[..9]).unwrap();
    assert_eq!(b.counts(), [0, 0, 0, 2, 0], "IQP predict");
    // Projected kernel: one forward pass of all rows per block.
    let b = Counting::new();
    let spec = ModelSpec {
        kind: ModelKind::ProjectedKernel,
        separable: true,
    };
    let mut m = spec.build(&spec.grid(1).unwrap()[0], training, 0).unwrap();
    m.fit(&b, &data).unwrap();
    assert_eq!(b.counts(), [1, 24, 0, 0, 0], "PQK fit");
    m.decision_function(&b, &data.features[..9]).unwrap();
    assert_eq!(b.counts(), [2, 27, 0, 0, 0], "PQK predict");
}

#[test]
fn every_model_learns_separable_data_and_rejects_bad_input() {
    // A wide margin: every model should classify held-out points of a linearly separable set
    // almost perfectly (an analytic expectation, not a recorded output).
    let train = linearly_separable(40, 2, 0.4, 11).unwrap();
    let test = linearly_separable(40, 2, 0.4, 12).unwrap();
    let cpu = CpuBackend::new();
    let training = QnnTraining {
        epochs: 20,
        batch_size: 8,
    };
    for spec in ModelSpec::all() {
        let hyper = spec.grid(4).unwrap().pop().unwrap();
        let mut m = spec.build(&hyper, training, 3).unwrap();
        assert!(
            m.decision_function(&cpu, &test.features).is_err(),
            "unfitted"
        );
        m.fit(&cpu, &train).unwrap();
        let acc = accuracy(&m.predict(&cpu, &test.features).unwrap(), &test.labels);
        assert!(acc >= 0.85, "{}: held-out accuracy {acc}", spec.name());
        assert!(
            m.decision_function(&cpu, &test.features[..3]).is_err(),
            "ragged rows"
        );
        assert_eq!(m.hyperparameters(), hyper, "{}", spec.name());
    }
    let three = Dataset::iris().unwrap();
    let spec = ModelSpec::parse("logistic").unwrap();
    let mut m = spec.build(&vec![], training, 0).unwrap();
    assert!(m.fit(&cpu, &three).is_err(), "three classes");
    assert!(ModelSpec::parse("nope").is_err());
    assert!(spec.grid(0).is_err() && spec.grid(5).is_err());
    assert!(spec
        .build(&vec![("alpha".into(), -1.0)], training, 0)
        .is_err());
}

#[test]
fn tiny_study_end_to_end() {
    let cases: Vec<StudyDataset> = suite(24, &[2, 4], 5)
        .unwrap()
        .into_iter()
        .filter(|c| c.family != "two-curves" && c.family != "hidden-manifold")
        .collect();
    let config = StudyConfig::default()
        .outer(2, 2)
        .inner_folds(2)
        .grid_budget(2)
        .training(QnnTraining {
            epochs: 3,
            batch_size: 8,
        })
        .seed(3);
    let cpu = CpuBackend::new();
    let results = run_study(&cpu, &cases, &config).unwrap();
    let k = ModelSpec::all().len();
    assert_eq!(results.rows.len(), cases.len() * k * 4);
    for r in &results.rows {
        assert!((0.0..=1.0).contains(&r.accuracy) && (0.0..=1.0).contains(&r.roc_auc));
        assert_eq!(r.n_train + r.n_test, 24);
        assert_eq!(r.n_test, 12, "stratified halves");
    }
    // Same seed, same folds and fits: reproducible.
    let again = run_study(&cpu, &cases[..1], &config).unwrap();
    let first: Vec<f64> = results.rows[..again.rows.len()]
        .iter()
        .map(|r| r.accuracy)
        .collect();
    assert_eq!(
        first,
        again.rows.iter().map(|r| r.accuracy).collect::<Vec<_>>()
    );
    let analysis = analyse(&results).unwrap();
    assert_eq!(analysis.per_dataset.len(), cases.len() * k);
    let f = analysis
        .friedman
        .as_ref()
        .expect("Friedman over 5 data sets");
    let rank_sum: f64 = f.average_ranks.iter().sum();
    assert!((rank_sum - (k * (k + 1)) as f64 / 2.0).abs() < 1e-9);
    assert_eq!(analysis.vs_best_classical.len(), 8);
    assert_eq!(analysis.entangled_vs_separable.len(), 4);
    let dir = std::env::temp_dir().join(format!("qshade-study-test-{}", std::process::id()));
    let files = write_outputs(&dir, &results, &analysis, "tiny").unwrap();
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), results.rows.len() + 1);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), results.rows.len());
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Headline") && md.contains("critical_difference.svg"));
    for f in &files {
        if f.extension().is_some_and(|e| e == "svg") {
            let svg = std::fs::read_to_string(f).unwrap();
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    // A multi-class data set is refused with a clear error.
    let iris = StudyDataset {
        name: "iris".into(),
        family: "iris".into(),
        dimension: 4,
        data: Dataset::iris().unwrap(),
    };
    assert!(run_study(&cpu, &[iris], &config).is_err());
}

#[test]
fn csv_data_sets_load_and_must_be_binary() {
    let dir = std::env::temp_dir();
    let two = dir.join(format!("qshade-study-two-{}.csv", std::process::id()));
    let three = dir.join(format!("qshade-study-three-{}.csv", std::process::id()));
    std::fs::write(&two, "a,b,class\n0.1,0.2,yes\n0.3,0.1,no\n0.5,0.9,yes\n").unwrap();
    std::fs::write(&three, "0.1,0.2,x\n0.3,0.1,y\n0.5,0.9,z\n").unwrap();
    let case = StudyDataset::from_csv(&two).unwrap();
    assert_eq!(
        (case.dimension, case.data.len(), case.family.as_str()),
        (2, 3, "csv")
    );
    assert_eq!(case.data.labels, vec![0, 1, 0]);
    assert!(StudyDataset::from_csv(&three).is_err());
    assert!(StudyDataset::from_csv(dir.join("qshade-no-such-file.csv")).is_err());
    std::fs::remove_file(two).ok();
    std::fs::remove_file(three).ok();
}

#[test]
fn models_with_an_intercept_find_an_off_centre_boundary() {
    // One feature; class 0: 30 points in [0, 1], class 1: 10 points in [2, 2.3]. The gap's
    // middle (1.5) is far from the standardised origin, so a model's bias (intercept, SVM ρ,
    // kernel-SVM b) decides the side of test points in the gap's outer parts.
    let mut x: Vec<f64> = (0..30).map(|i| i as f64 / 29.0).collect();
    x.extend((0..10).map(|i| 2.0 + 0.3 * i as f64 / 9.0));
    let labels: Vec<usize> = (0..40).map(|i| usize::from(i >= 30)).collect();
    let train = Dataset::new(x, labels, 1, vec!["0".into(), "1".into()]).unwrap();
    let test_x = [0.5, 1.1, 1.9, 2.5];
    let test_y = [0, 0, 1, 1];
    let cpu = CpuBackend::new();
    for name in ["logistic", "rbf-svm", "mlp", "iqp-svm-sep", "pqk-svm-sep"] {
        let spec = ModelSpec::parse(name).unwrap();
        let hyper = spec.grid(4).unwrap().pop().unwrap();
        let mut m = spec.build(&hyper, QnnTraining::default(), 1).unwrap();
        m.fit(&cpu, &train).unwrap();
        let pred = m.predict(&cpu, &test_x).unwrap();
        assert_eq!(pred, test_y, "{name}");
        if name == "rbf-svm" {
            // KKT: the support vectors at the gap's edges (x = 1 and x = 2, free multipliers
            // on separable data) lie on the margins, y·f(x) = 1, which fixes the SVM's offset.
            let f = m.decision_function(&cpu, &[1.0, 2.0]).unwrap();
            assert!(
                (f[0] + 1.0).abs() < 1e-2 && (f[1] - 1.0).abs() < 1e-2,
                "{name}: margins {f:?}"
            );
        }
    }
}
