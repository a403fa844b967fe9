//! QAOA MaxCut: the random regular graph generator, the brute-force optimum, ⟨C⟩ against the
//! closed-form p = 1 expectation on every backend of `common::all_backends()`, and training on
//! the subset named at [`TRAINING_BACKENDS`] (failure messages name the backend's label).
//!
//! Thresholds for the trained approximation ratio r = ⟨C⟩/optimum on 10-node 3-regular graphs:
//! - p = 1: r ≥ 0.6924. Farhi, Goldstone & Gutmann (arXiv:1411.4028) prove that the best p = 1
//!   angles give ⟨C⟩ ≥ 0.6924·m on every 3-regular graph with m edges (triangle-free edges are
//!   the worst case; the formula checked below gives exactly 0.6925 per edge there), and
//!   m ≥ optimum. Any correctly trained p = 1 run must clear it.
//! - p = 2: r ≥ 0.80. p = 2 contains p = 1 (γ₁ = β₁ = 0), so the floor above holds too, but it
//!   is loose: over the 10-node graphs of seeds 0..10 the trained p = 2 ratio measured
//!   0.836–0.885 (p = 1: 0.765–0.818), and a state that learned nothing (the uniform
//!   superposition, ⟨C⟩ = m/2) has r = 7.5/13 ≈ 0.58. 0.80 sits 0.036 below the worst
//!   measured value, so it tolerates optimiser and f32 differences yet fails on any real loss
//!   of training. The test graph (seed 0, triangle-free, optimum 13) measured 0.883; the test
//!   also requires p = 2 to beat p = 1 by at least 0.03 (measured +0.084).

mod common;

use qshade::qml::qaoa::{
    brute_force_maxcut, expected_cut, random_3_regular_graph, random_regular_graph, solve_maxcut,
    QaoaConfig, QaoaResult,
};
use qshade::qml::templates::{maxcut_value, Edge};
use qshade::{Backend, CpuBackend};
use std::time::Instant;

/// Training (two 60-step runs on 10 qubits per backend) runs on the default fast CPU in f64
/// and f32 and on the f32 GPU: the engines and precisions the optimiser can see. The other GPU
/// configurations (f64, chunked, fused, register blocks) compute the same ⟨C⟩ and gradients,
/// which [`p1_expectation_matches_closed_form_on_every_backend`] and `tests/gradients.rs`
/// check on every backend; training on each of them would add minutes on lavapipe.
const TRAINING_BACKENDS: [&str; 3] = ["cpu-fast-f64", "cpu-fast-f32", "gpu-f32"];

const NODES: usize = 10;
const GRAPH_SEED: u64 = 0;
const P1_THRESHOLD: f64 = 0.6924;
const P2_THRESHOLD: f64 = 0.80;

fn degrees(n: usize, edges: &[Edge]) -> Vec<usize> {
    let mut d = vec![0; n];
    for &(i, j, _) in edges {
        d[i] += 1;
        d[j] += 1;
    }
    d
}

#[test]
fn random_regular_graphs_are_simple_regular_and_seeded() {
    for n in [4, 6, 10, 12, 16, 20] {
        for seed in 0..20 {
            let e = random_3_regular_graph(n, seed).unwrap();
            assert_eq!(e.len(), 3 * n / 2);
            assert!(
                degrees(n, &e).iter().all(|&d| d == 3),
                "n={n} seed={seed}: {e:?}"
            );
            assert!(e.iter().all(|&(i, j, w)| i < j && j < n && w == 1.0));
            assert!(
                e.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)),
                "sorted, no repeated edge"
            );
            assert_eq!(
                e,
                random_3_regular_graph(n, seed).unwrap(),
                "same seed, same graph"
            );
        }
    }
    let distinct: std::collections::BTreeSet<Vec<(usize, usize)>> = (0..10)
        .map(|s| {
            random_3_regular_graph(12, s)
                .unwrap()
                .iter()
                .map(|e| (e.0, e.1))
                .collect()
        })
        .collect();
    assert!(distinct.len() >= 9, "seeds should give different graphs");
    let e = random_regular_graph(9, 4, 3).unwrap();
    assert!(degrees(9, &e).iter().all(|&d| d == 4));
    // K4 is the only 3-regular graph on 4 nodes.
    assert_eq!(random_3_regular_graph(4, 5).unwrap().len(), 6);
}

#[test]
fn random_regular_graph_errors() {
    assert!(random_3_regular_graph(11, 0).is_err(), "n·3 odd");
    assert!(random_3_regular_graph(3, 0).is_err(), "n·3 odd and n < 4");
    assert!(random_3_regular_graph(2, 0).is_err(), "n < 4");
    assert!(random_3_regular_graph(0, 0).is_err());
    assert!(random_regular_graph(6, 0, 0).is_err(), "degree 0");
}

fn petersen() -> Vec<Edge> {
    let mut e = Vec::new();
    for i in 0..5 {
        e.push((i, (i + 1) % 5, 1.0)); // outer cycle
        e.push((i, i + 5, 1.0)); // spokes
        e.push((5 + i, 5 + (i + 2) % 5, 1.0)); // inner pentagram
    }
    e
}

#[test]
fn brute_force_on_known_graphs() {
    let k4: Vec<Edge> = (0..4)
        .flat_map(|i| (i + 1..4).map(move |j| (i, j, 1.0)))
        .collect();
    let k33: Vec<Edge> = (0..3)
        .flat_map(|i| (3..6).map(move |j| (i, j, 1.0)))
        .collect();
    let c5: Vec<Edge> = (0..5).map(|i| (i, (i + 1) % 5, 1.0)).collect();
    let weighted = vec![(0, 1, 2.0), (1, 2, 1.0), (0, 2, 5.0)];
    for (name, n, edges, want) in [
        ("K4", 4, k4, 4.0),
        ("K3,3", 6, k33, 9.0),
        ("C5", 5, c5, 4.0),
        ("Petersen", 10, petersen(), 12.0),
        ("triangle", 3, weighted, 7.0),
    ] {
        let (v, a) = brute_force_maxcut(n, &edges).unwrap();
        assert_eq!(v, want, "{name}");
        assert_eq!(
            maxcut_value(&edges, a),
            v,
            "{name}: the assignment reaches the value"
        );
    }
    assert!(
        brute_force_maxcut(3, &[(0, 3, 1.0)]).is_err(),
        "edge outside the graph"
    );
}

/// Wang, Hadfield, Jiang & Rieffel, PRA 97, 022304 (2018), eq. for p = 1 MaxCut: for an edge
/// (u, v) with d_u, d_v other neighbours and λ triangles through it,
/// ⟨C_uv⟩ = ½ + ¼ sin 4β sin γ (cos^{d_u} γ + cos^{d_v} γ)
///          − ¼ sin² 2β cos^{d_u + d_v − 2λ} γ (1 − cos^λ 2γ).
fn p1_closed_form(n: usize, edges: &[Edge], gamma: f64, beta: f64) -> f64 {
    let deg = degrees(n, edges);
    let adjacent = |a: usize, b: usize| {
        edges
            .iter()
            .any(|&(i, j, _)| (i, j) == (a.min(b), a.max(b)))
    };
    let (cg, sg) = (gamma.cos(), gamma.sin());
    edges
        .iter()
        .map(|&(u, v, _)| {
            let (du, dv) = ((deg[u] - 1) as i32, (deg[v] - 1) as i32);
            let lambda = (0..n)
                .filter(|&w| w != u && w != v && adjacent(u, w) && adjacent(v, w))
                .count() as i32;
            0.5 + 0.25 * (4.0 * beta).sin() * sg * (cg.powi(du) + cg.powi(dv))
                - 0.25
                    * (2.0 * beta).sin().powi(2)
                    * cg.powi(du + dv - 2 * lambda)
                    * (1.0 - (2.0 * gamma).cos().powi(lambda))
        })
        .sum()
}

/// ⟨C⟩ against the closed form within 1e-10 in f64 and 1e-4 in f32 (⟨C⟩ sums 15 terms of
/// magnitude ≤ 1/2 from a depth-35 circuit; 1e-4 is generous for f32 rounding).
#[test]
fn p1_expectation_matches_closed_form_on_every_backend() {
    for (label, backend) in common::all_backends() {
        let backend = backend.as_ref();
        let tolerance = common::precision_tolerance(backend, 1e-10, 1e-4);
        // A graph with triangles (seed 5: 4 triangles) and the Petersen graph (girth 5).
        for (n, edges) in [
            (NODES, random_3_regular_graph(NODES, 5).unwrap()),
            (10, petersen()),
        ] {
            for (gamma, beta) in [
                (0.0, 0.0),
                (0.6155, std::f64::consts::PI / 8.0),
                (0.3, -0.2),
                (1.7, 0.9),
                (2.6, 0.35),
            ] {
                let got = expected_cut(backend, n, &edges, &[gamma, beta]).unwrap();
                let want = p1_closed_form(n, &edges, gamma, beta);
                assert!(
                    (got - want).abs() < tolerance,
                    "{label}: γ={gamma} β={beta}: ⟨C⟩ = {got}, closed form {want}"
                );
            }
        }
    }
}

fn solve(label: &str, backend: &dyn Backend, layers: usize, options: &QaoaConfig) -> QaoaResult {
    let edges = random_3_regular_graph(NODES, GRAPH_SEED).unwrap();
    let start = Instant::now();
    let r = solve_maxcut(backend, NODES, &edges, &options.clone().layers(layers)).unwrap();
    println!(
        "{label} ({}): p={layers} ⟨C⟩ = {:.4}, optimum {}, ratio {:.4}, γ = {:.4?}, β = {:.4?}, most likely {:0w$b} ({} of {} shots, cut {}), best sampled cut {}, {:.2} s",
        backend.name(),
        r.expected_cut,
        r.optimum,
        r.approximation_ratio,
        r.gammas(),
        r.betas(),
        r.most_likely,
        r.most_likely_count,
        r.shots,
        r.most_likely_cut,
        r.best_sampled_cut,
        start.elapsed().as_secs_f64(),
        w = NODES
    );
    assert_eq!(r.history.len(), options.iterations, "{label}");
    assert_eq!(r.restart_cuts.len(), options.restarts, "{label}");
    assert_eq!(r.params.len(), 2 * layers, "{label}");
    assert_eq!(r.optimum, 13.0, "{label}");
    assert!(
        r.restart_cuts.iter().all(|&c| c <= r.expected_cut),
        "{label}: the best start is returned"
    );
    assert!(
        r.expected_cut > r.history[0],
        "{label}: training improved ⟨C⟩ ({} → {})",
        r.history[0],
        r.expected_cut
    );
    assert_eq!(
        r.most_likely_cut,
        maxcut_value(&edges, r.most_likely),
        "{label}"
    );
    // The trained state puts 13% (p = 1) / 30% (p = 2) on the 6 optimal cuts (measured on the
    // CPU): the chance that 500 shots miss them all is below 0.87^500 ≈ 1e-30.
    assert_eq!(
        r.best_sampled_cut, r.optimum,
        "{label}: an optimal cut among the samples"
    );
    r
}

fn train_and_check(label: &str, backend: &dyn Backend, options: &QaoaConfig) {
    let p1 = solve(label, backend, 1, options);
    let p2 = solve(label, backend, 2, options);
    assert!(
        p1.approximation_ratio >= P1_THRESHOLD,
        "{label}: p=1 ratio {} < {P1_THRESHOLD}",
        p1.approximation_ratio
    );
    assert!(
        p2.approximation_ratio >= P2_THRESHOLD,
        "{label}: p=2 ratio {} < {P2_THRESHOLD}",
        p2.approximation_ratio
    );
    assert!(
        p2.approximation_ratio >= p1.approximation_ratio + 0.03,
        "{label}: p=2 ({}) should beat p=1 ({})",
        p2.approximation_ratio,
        p1.approximation_ratio
    );
    // Triangle-free 3-regular graph: the p = 1 optimum is 0.6925 per edge at γ = atan(1/√2), β = π/8.
    assert!(
        (p1.expected_cut / 15.0 - 0.69245).abs() < 1e-3,
        "{label}: p=1 per-edge ⟨C⟩ {}",
        p1.expected_cut / 15.0
    );
    assert!(
        p2.most_likely_cut >= p2.optimum - 1.0,
        "{label}: most likely cut {}",
        p2.most_likely_cut
    );
}

/// 60 Adam steps at learning rate 0.1 from 3 starts, 500 shots: converged to 1e-4 in ratio
/// (measured against 150 steps from 6 starts).
fn small_options() -> QaoaConfig {
    QaoaConfig::default()
        .layers(1)
        .iterations(60)
        .learning_rate(0.1)
        .restarts(3)
        .seed(7)
        .shots(500)
}

#[test]
fn qaoa_trains_past_threshold() {
    for (label, backend) in common::backends_labelled(&TRAINING_BACKENDS) {
        train_and_check(&label, backend.as_ref(), &small_options());
    }
}

#[test]
fn solve_maxcut_rejects_bad_arguments() {
    let cpu = CpuBackend::new();
    let edges = random_3_regular_graph(6, 1).unwrap();
    let ok = small_options();
    assert!(solve_maxcut(&cpu, 6, &edges, &ok.clone().layers(0)).is_err());
    assert!(solve_maxcut(&cpu, 6, &edges, &ok.clone().restarts(0)).is_err());
    assert!(solve_maxcut(&cpu, 6, &edges, &ok.clone().learning_rate(-1.0)).is_err());
    assert!(solve_maxcut(&cpu, 6, &[], &ok).is_err(), "no edges");
    assert!(
        solve_maxcut(&cpu, 5, &edges, &ok).is_err(),
        "edge outside the graph"
    );
    assert!(
        expected_cut(&cpu, 6, &edges, &[0.1]).is_err(),
        "odd parameter count"
    );
}
