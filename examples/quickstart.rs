//! Quickstart: a GHZ state and a small parameterized circuit on the GPU, with the CPU reference
//! backend's answers printed beside them.
//!
//! Run: `cargo run --release --example quickstart`
//! Without a GPU on Linux, install lavapipe first: `apt-get install mesa-vulkan-drivers libvulkan1`.

use qshade::{Angle, Backend, Bindings, Circuit, CpuBackend, GpuBackend, Observable, Result};

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

fn report(label: &str, gpu: f64, cpu: f64) {
    println!(
        "  {label:<18} gpu {gpu:+.6}   cpu {cpu:+.6}   |diff| {:.1e}",
        (gpu - cpu).abs()
    );
}

fn main() -> Result<()> {
    let cpu = CpuBackend::new();
    let gpu = match GpuBackend::new() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!("adapter: {}", gpu.name());

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
    println!("  10 GPU samples: {}", bits.join(" "));

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
        "  P(q1 q0) gpu {:?}",
        pg.iter().map(|p| format!("{p:.4}")).collect::<Vec<_>>()
    );
    println!(
        "  P(q1 q0) cpu {:?}",
        pc.iter().map(|p| format!("{p:.4}")).collect::<Vec<_>>()
    );
    Ok(())
}
