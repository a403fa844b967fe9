//! QAOA for MaxCut on a seeded random 3-regular graph: trains (γ, β) with Adam on adjoint
//! gradients from several starts, then compares ⟨C⟩ with the brute-force optimum and samples
//! the most likely cut. Runs on the GPU when an adapter is found, else on the CPU.
//!
//! Run: `cargo run --release --example qaoa_maxcut [nodes] [layers] [graph seed]`
//! (default 12 nodes, p = 2, seed 2026).

#[path = "common/backend.rs"]
mod backend;
#[path = "common/progress.rs"]
mod progress;

use qshade::qml::qaoa::{random_3_regular_graph, solve_maxcut, QaoaConfig};
use qshade::{Error, Result};
use std::time::Instant;

/// A bitstring with node 0 first.
fn bits(assignment: u64, n: usize) -> String {
    (0..n)
        .map(|q| if (assignment >> q) & 1 == 1 { '1' } else { '0' })
        .collect()
}

fn arg<T: std::str::FromStr>(index: usize, default: T) -> Result<T> {
    match std::env::args().nth(index) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| Error::InvalidArgument(format!("cannot read argument {index}: '{s}'"))),
    }
}

fn main() -> Result<()> {
    let (nodes, layers, graph_seed): (usize, usize, u64) = (arg(1, 12)?, arg(2, 2)?, arg(3, 2026)?);
    let backend = backend::backend()?;

    let edges = random_3_regular_graph(nodes, graph_seed)?;
    println!(
        "\nrandom 3-regular graph, {nodes} nodes, {} edges (seed {graph_seed}):",
        edges.len()
    );
    for v in 0..nodes {
        let nbrs: Vec<usize> = edges
            .iter()
            .filter_map(|&(i, j, _)| {
                if i == v {
                    Some(j)
                } else if j == v {
                    Some(i)
                } else {
                    None
                }
            })
            .collect();
        println!("  {v:>2}: {nbrs:?}");
    }

    let (bar, on_progress) = progress::bar("qaoa");
    let options = QaoaConfig::default().layers(layers).progress(on_progress);
    println!(
        "\nQAOA p = {layers}: Adam (learning rate {}) on adjoint gradients of −⟨C⟩, {} steps, {} starts in one batch",
        options.learning_rate, options.iterations, options.restarts
    );
    let start = Instant::now();
    let r = solve_maxcut(backend.as_ref(), nodes, &edges, &options)?;
    bar.finish_and_clear();
    println!("trained in {:.2} s", start.elapsed().as_secs_f64());

    println!("\nfinal ⟨C⟩ of every start: {:.4?}", r.restart_cuts);
    println!("γ = {:.5?}", r.gammas());
    println!("β = {:.5?}", r.betas());
    println!("expected cut ⟨C⟩      {:.4}", r.expected_cut);
    println!(
        "brute-force optimum   {} (e.g. {})",
        r.optimum,
        bits(r.optimal_assignment, nodes)
    );
    println!("approximation ratio   {:.4}", r.approximation_ratio);
    println!(
        "most likely bitstring {} (node 0 first; {} of {} shots), cut {}{}",
        bits(r.most_likely, nodes),
        r.most_likely_count,
        r.shots,
        r.most_likely_cut,
        if r.most_likely_cut == r.optimum {
            " = optimum"
        } else {
            ""
        }
    );
    println!("best sampled cut      {}", r.best_sampled_cut);
    Ok(())
}
