//! VQE for the hydrogen molecule (STO-3G, R = 0.70 Å, 4 qubits): Hartree–Fock plus one
//! DoubleExcitation(θ), trained with Adam on adjoint gradients. Runs on the GPU when an adapter
//! is found, else on the CPU reference backend.
//!
//! Run: `cargo run --release --example vqe_h2`

#[path = "common/backend.rs"]
mod backend;
#[path = "common/progress.rs"]
mod progress;

use qshade::qml::vqe::{
    h2_ansatz, h2_sto3g, run_vqe_with, VqeConfig, CHEMICAL_ACCURACY, H2_GROUND_STATE_ENERGY,
};
use qshade::Result;
use std::time::Instant;

fn main() -> Result<()> {
    let backend = backend::backend()?;

    let hamiltonian = h2_sto3g();
    let ansatz = h2_ansatz()?;
    println!(
        "H2 / STO-3G, R = 0.70 Å: {} qubits, {} Pauli terms; ansatz: Hartree–Fock |q0 q1 occupied⟩ + DoubleExcitation(θ) ({} gates, {} parameter)",
        ansatz.num_qubits(),
        hamiltonian.terms.len(),
        ansatz.gates().len(),
        ansatz.num_params()
    );
    let (bar, on_progress) = progress::bar("vqe");
    let options = VqeConfig::default()
        .iterations(80)
        .learning_rate(0.1)
        .gradient_tolerance(1e-6)
        .progress(on_progress);
    println!(
        "Adam, learning rate {}, up to {} iterations, adjoint gradients\n",
        options.learning_rate, options.iterations
    );
    let start = Instant::now();
    let result = run_vqe_with(
        backend.as_ref(),
        &ansatz,
        &hamiltonian,
        &[0.0],
        &options,
        |step| {
            if step.iteration % 5 == 0 {
                // Printed above the bar (and printed when there is no terminal to draw it on).
                bar.suspend(|| {
                    println!(
                        "  iteration {:>3}  θ = {:+.6}  E = {:+.8} Ha  |dE/dθ| = {:.2e}",
                        step.iteration, step.params[0], step.energy, step.gradient_norm
                    )
                });
            }
        },
    )?;
    bar.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let error = result.energy - H2_GROUND_STATE_ENERGY;
    println!(
        "\n{} iterations in {:.3} s ({:.2} ms each){}",
        result.energies.len(),
        elapsed,
        1e3 * elapsed / result.energies.len() as f64,
        if result.converged {
            ", gradient below tolerance"
        } else {
            ""
        }
    );
    println!("Hartree–Fock energy  {:+.8} Ha", result.energies[0]);
    println!("final θ              {:+.6}", result.params[0]);
    println!("final VQE energy     {:+.8} Ha", result.energy);
    println!("exact ground energy  {H2_GROUND_STATE_ENERGY:+.6} Ha (full CI)");
    println!(
        "error                {:+.3e} Ha = {:+.4} mHa",
        error,
        error * 1e3
    );
    println!(
        "chemical accuracy (|error| < {} mHa): {}",
        CHEMICAL_ACCURACY * 1e3,
        if error.abs() < CHEMICAL_ACCURACY {
            "yes"
        } else {
            "NO"
        }
    );
    Ok(())
}
