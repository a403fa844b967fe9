//! Quickstart: a GHZ state and a small parameterized circuit on the backend
//! `qshade::choose_backend()` picks (a hardware GPU if there is one, else the fast CPU
//! backend; it says which and why), with the f64 reference backend's answers beside them.
//!
//! Run: `cargo run --release --example quickstart` (add `-- --gpu` to run on the GPU backend
//! even when its only adapter is a software rasterizer such as lavapipe).

#[path = "common/backend.rs"]
mod backend;

use qshade::{Angle, Backend, Bindings, Circuit, CpuBackend, Observable, Result};

fn ghz(n: usize) -> Result<Circuit> {
    let mut c = Circuit::new(n)?;
    c.h(0)?;
    for q in 1..n {
        c.cnot(q - 1, q)?;
    }
    Ok(c)
}

/// Two layers of RY(θ) rotations and a CNOT ladder, RX-encoded inputs in front.
fn variational(n: usize) -> Result<Circuit> {
    let mut c = Circuit::new(n)?;
    for q in 0..n {
        c.rx(q, Angle::input(q))?;
    }
    for layer in 0..2 {
        for q in 0..n {
            c.ry(q, Angle::theta(layer * n + q))?;
        }
        for q in 0..n - 1 {
            c.cnot(q, q + 1)?;
        }
    }
    Ok(c)
}

fn report(label: &str, got: f64, want: f64) {
    println!(
        "  {label:<18} backend {got:+.6}   reference {want:+.6}   |diff| {:.1e}",
        (got - want).abs()
    );
}

fn main() -> Result<()> {
    let gpu = backend::backend()?;
    let cpu = CpuBackend::reference();

    let n = 5;
    let circuit = ghz(n)?;
    let g = gpu.run(&circuit, &Bindings::none())?;
    let c = cpu.run(&circuit, &Bindings::none())?;
    println!("\nGHZ state on {n} qubits:");
    let parity = Observable::parse("Z0 Z4")?;
    let xs = Observable::parse("X0 X1 X2 X3 X4")?;
    report("<Z0 Z4>", g.expectation(&parity)?, c.expectation(&parity)?);
    report("<X0 X1 X2 X3 X4>", g.expectation(&xs)?, c.expectation(&xs)?);
    report(
        "<Z2>",
        g.expectation(&Observable::z(2))?,
        c.expectation(&Observable::z(2))?,
    );
    let shots = g.sample(10, 7)?;
    let bits: Vec<String> = shots.iter().map(|s| format!("{s:0n$b}")).collect();
    println!("  10 samples: {}", bits.join(" "));

    let circuit = variational(4)?;
    let theta: Vec<f64> = (0..circuit.num_params())
        .map(|k| 0.1 + 0.2 * k as f64)
        .collect();
    let x = [0.3, 1.1, 2.0, 0.7];
    let bindings = Bindings::new(&theta, &x);
    let g = gpu.run(&circuit, &bindings)?;
    let c = cpu.run(&circuit, &bindings)?;
    println!(
        "\nParameterized circuit ({} θ, {} inputs):",
        circuit.num_params(),
        circuit.num_inputs()
    );
    let hamiltonian = Observable::parse("0.5 Z0 Z1 - 0.3 X2 + 0.2 Y3 Y0 + 1.0")?;
    report(
        "<H>",
        g.expectation(&hamiltonian)?,
        c.expectation(&hamiltonian)?,
    );
    for q in 0..4 {
        report(
            &format!("<Z{q}>"),
            g.expectation(&Observable::z(q))?,
            c.expectation(&Observable::z(q))?,
        );
    }
    let pg = g.marginal_probabilities(&[0, 1])?;
    let pc = c.marginal_probabilities(&[0, 1])?;
    println!(
        "  P(q1 q0) backend   {:?}",
        pg.iter().map(|p| format!("{p:.4}")).collect::<Vec<_>>()
    );
    println!(
        "  P(q1 q0) reference {:?}",
        pc.iter().map(|p| format!("{p:.4}")).collect::<Vec<_>>()
    );
    Ok(())
}
