//! Finite-shot estimates on the density matrix: expectation values measured term by term in
//! the rotated basis (readout errors included), and parameter-shift gradients from those
//! samples. Seeded, so shot noise in training can be studied reproducibly.

use super::density::{apply_readout, DensityMatrix};
use super::model::{NoisyCircuit, NoisyOp};
use super::trajectory::{stream_seed, Estimate};
use crate::circuit::{Bindings, Circuit, Gate, GateKind, Observable, Pauli, Var};
use crate::error::{Error, Result};
use crate::math::rng::Rng;

/// The most shots one estimate takes (2^30; sampling needs no memory per shot).
pub const MAX_SHOTS_PER_TERM: usize = 1 << 30;

fn check_shots(shots: usize) -> Result<()> {
    if shots == 0 || shots > MAX_SHOTS_PER_TERM {
        return Err(Error::InvalidArgument(format!(
            "{shots} shots requested; use 1..={MAX_SHOTS_PER_TERM}"
        )));
    }
    Ok(())
}

/// ⟨O⟩ from `shots` measurements per Pauli term (constant terms are exact): each term's qubits
/// are rotated to the Z basis (H for X, S†·H for Y, noise-free), the measured bit strings are
/// drawn from the density matrix's probabilities with the circuit's readout errors, and the
/// term's value is the mean parity. The standard error combines the terms' sample variances.
pub fn shot_expectation(
    circuit: &NoisyCircuit,
    bindings: &Bindings<'_>,
    observable: &Observable,
    shots: usize,
    seed: u64,
) -> Result<Estimate> {
    check_shots(shots)?;
    observable.validate(circuit.num_qubits())?;
    let mut mean = 0.0;
    let mut variance = 0.0;
    for (index, term) in observable.terms.iter().enumerate() {
        if term.ops.is_empty() {
            mean += term.coeff;
            continue;
        }
        let mut rotated = circuit.clone();
        for &(q, p) in &term.ops {
            match p {
                Pauli::X => {
                    rotated.gate(Gate::new(GateKind::H, &[q]))?;
                }
                Pauli::Y => {
                    rotated.gate(Gate::new(GateKind::Sdg, &[q]))?;
                    rotated.gate(Gate::new(GateKind::H, &[q]))?;
                }
                Pauli::Z => {}
            }
        }
        let rho = DensityMatrix::run(&rotated, bindings)?;
        let probs = apply_readout(rho.probabilities(), circuit.readout_errors());
        let mask: usize = term.ops.iter().fold(0, |m, &(q, _)| m | (1usize << q));
        // P(parity odd), then `shots` Bernoulli draws through the outcome distribution.
        let mut cdf = Vec::with_capacity(probs.len());
        let mut acc = 0.0;
        for p in &probs {
            acc += p;
            cdf.push(acc);
        }
        let mut rng = Rng::new(stream_seed(seed, index as u64));
        let mut sum = 0.0;
        for _ in 0..shots {
            let u = rng.uniform() * acc;
            let k = cdf.partition_point(|&c| c <= u).min(probs.len() - 1);
            sum += if (k & mask).count_ones() % 2 == 1 {
                -1.0
            } else {
                1.0
            };
        }
        let m = sum / shots as f64;
        mean += term.coeff * m;
        // Var of a ±1 variable with mean m is 1 − m²; of the mean, / shots.
        variance += term.coeff * term.coeff * (1.0 - m * m).max(0.0) / shots as f64;
    }
    Ok(Estimate {
        mean,
        std_error: variance.sqrt(),
    })
}

/// `circuit` with gate `index` replaced by `gate`.
fn with_gate(circuit: &NoisyCircuit, index: usize, gate: Gate) -> Result<NoisyCircuit> {
    let src = circuit.circuit();
    let mut c = Circuit::new(src.num_qubits())?;
    c.declare_params(src.num_params());
    c.declare_inputs(src.num_inputs());
    for (i, g) in src.gates().iter().enumerate() {
        c.add(if i == index { gate.clone() } else { g.clone() })?;
    }
    let ops: Vec<NoisyOp> = circuit.ops().to_vec();
    Ok(NoisyCircuit::from_parts(
        c,
        ops,
        circuit.readout_errors().to_vec(),
    ))
}

/// ∂⟨O⟩/∂θ\[k\] for every trainable parameter by the parameter-shift rule, each shifted circuit
/// estimated from `shots` samples per term ([`shot_expectation`]); standard errors combine
/// the shifted estimates'. Gates whose angle has no shift rule are `Unsupported`.
pub fn shot_gradient(
    circuit: &NoisyCircuit,
    bindings: &Bindings<'_>,
    observable: &Observable,
    shots: usize,
    seed: u64,
) -> Result<Vec<Estimate>> {
    check_shots(shots)?;
    circuit.check_bindings(bindings)?;
    let p = bindings.theta.len();
    let mut mean = vec![0.0; p];
    let mut var = vec![0.0; p];
    let mut evaluation = 0u64;
    for (index, gate) in circuit.circuit().gates().iter().enumerate() {
        let angles = gate.kind.angles();
        let values: Vec<f64> = angles.iter().map(|a| a.value(bindings)).collect();
        for (which, angle) in angles.iter().enumerate() {
            let mut dtheta: Vec<(usize, f64)> = Vec::new();
            angle.gradient(bindings, &mut |v, w| {
                if let Var::Theta(k) = v {
                    dtheta.push((k, w));
                }
            });
            if dtheta.is_empty() {
                continue;
            }
            let rule = gate
                .kind
                .shift_rule(which, gate.controls.len())
                .ok_or_else(|| {
                    Error::Unsupported(format!(
                        "no parameter-shift rule for angle {which} of gate {}; use the density-matrix adjoint (expectation_and_gradient)",
                        gate.display_name()
                    ))
                })?;
            for (shift, weight) in rule.terms() {
                let mut shifted = values.clone();
                shifted[which] += shift;
                let g = Gate {
                    kind: gate.kind.with_angles(&shifted),
                    targets: gate.targets.clone(),
                    controls: gate.controls.clone(),
                };
                let e = shot_expectation(
                    &with_gate(circuit, index, g)?,
                    bindings,
                    observable,
                    shots,
                    stream_seed(seed, evaluation),
                )?;
                evaluation += 1;
                for &(k, w) in &dtheta {
                    if k < p {
                        mean[k] += w * weight * e.mean;
                        var[k] += (w * weight * e.std_error).powi(2);
                    }
                }
            }
        }
    }
    Ok(mean
        .into_iter()
        .zip(var)
        .map(|(mean, v)| Estimate {
            mean,
            std_error: v.sqrt(),
        })
        .collect())
}
