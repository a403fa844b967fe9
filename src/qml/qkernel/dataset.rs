//! The seeded synthetic data set of Havlíček et al. ([`ad_hoc_dataset`]).

use crate::backend::Backend;
use crate::circuit::{Circuit, Observable};
use crate::compile::program::{Batch, Program};
use crate::error::{Error, Result};
use crate::math::rng::Rng;
use crate::qml::templates::{zz_feature_map, Entanglement};
use crate::qml::train::Dataset;

/// Class index of the +1 samples.
const POSITIVE: usize = 1;
/// Class index of the −1 samples.
const NEGATIVE: usize = 0;

/// A seeded synthetic data set in the style of Havlíček et al. (Nature 567, 209 (2019)) and
/// Qiskit's `ad_hoc_data`: x uniform in [0, 2π)^n, and with |φ(x)⟩ the
/// [`zz_feature_map`]`(n, 2, Full)` state and V a fixed seeded random circuit,
/// m(x) = ⟨φ(x)|V† Z_0⋯Z_{n−1} V|φ(x)⟩; the label is +1 if m(x) ≥ `gap`, −1 if m(x) ≤ −`gap`,
/// and the sample is rejected otherwise. Because m(x) = Tr(ρ(x) M) is linear in
/// ρ(x) = |φ(x)⟩⟨φ(x)|, the classes are separated with margin by a linear function in the
/// feature space of the ZZ fidelity kernel Tr(ρ(x)ρ(x′)): a ZZ-kernel classifier can learn them
/// exactly, while the decision boundary in x is highly oscillatory for a classical kernel.
///
/// Returns a [`Dataset`] of `2 · per_class` samples with two classes, named `"-1"` (class
/// index 0) and `"+1"` (class index 1), alternating +1, −1 (class 1, 0, 1, …; so any
/// even-length prefix is balanced). The class indices are the classifier's labels: with
/// [`KernelClassifier`](super::KernelClassifier) the larger one, +1, is the positive class. Labels are computed on the f64 CPU backend. Errors if `gap` ∉ [0, 1) or the
/// rejection sampling needs more than 1000 candidates per sample.
pub fn ad_hoc_dataset(num_qubits: usize, per_class: usize, gap: f64, seed: u64) -> Result<Dataset> {
    if !(1..=10).contains(&num_qubits) {
        return Err(Error::InvalidArgument(format!(
            "ad hoc data sets are generated for 1..=10 qubits, got {num_qubits}"
        )));
    }
    if per_class == 0 {
        return Err(Error::InvalidArgument("per_class must be ≥ 1".into()));
    }
    if !(gap.is_finite() && (0.0..1.0).contains(&gap)) {
        return Err(Error::InvalidArgument(format!(
            "gap must be in [0, 1), got {gap}"
        )));
    }
    let map = zz_feature_map(num_qubits, 2, Entanglement::Full)?;
    let mut rng = Rng::new(seed);
    // V: three layers of random U3 rotations with a CNOT ring between them.
    let mut v = Circuit::new(num_qubits)?;
    for layer in 0..3 {
        for q in 0..num_qubits {
            v.u3(
                q,
                rng.range(0.0, std::f64::consts::TAU),
                rng.range(0.0, std::f64::consts::TAU),
                rng.range(0.0, std::f64::consts::TAU),
            )?;
        }
        if layer < 2 && num_qubits > 1 {
            for q in 0..num_qubits {
                let t = (q + 1) % num_qubits;
                if t != q && !(num_qubits == 2 && q == 1) {
                    v.cnot(q, t)?;
                }
            }
        }
    }
    let mut labeller = map.circuit.clone();
    labeller.append(&v)?;
    let program = Program::compile(&labeller);
    let parity = (0..num_qubits)
        .map(|q| format!("Z{q}"))
        .collect::<Vec<_>>()
        .join(" ");
    let observable = [Observable::parse(&parity)?];
    let cpu = crate::sim::cpu::CpuBackend::new();
    let (mut pos, mut neg): (Vec<Vec<f64>>, Vec<Vec<f64>>) = (Vec::new(), Vec::new());
    let budget = per_class.saturating_mul(2000);
    let mut tried = 0;
    const CHUNK: usize = 256;
    while pos.len() < per_class || neg.len() < per_class {
        if tried >= budget {
            return Err(Error::InvalidArgument(format!(
                "gap {gap} rejected too many samples ({tried} tried, {} + {} kept); use a smaller gap",
                pos.len(),
                neg.len()
            )));
        }
        let raw: Vec<f64> = (0..CHUNK * num_qubits)
            .map(|_| rng.range(0.0, std::f64::consts::TAU))
            .collect();
        let inputs = map.features_batch(&raw)?;
        let m = cpu.forward_batch(&program, &Batch::shared(&[], &inputs, CHUNK), &observable)?;
        for (s, &value) in m.iter().enumerate() {
            let sample = raw[s * num_qubits..(s + 1) * num_qubits].to_vec();
            if value >= gap && pos.len() < per_class {
                pos.push(sample);
            } else if value <= -gap && neg.len() < per_class {
                neg.push(sample);
            }
        }
        tried += CHUNK;
    }
    let mut x = Vec::with_capacity(pos.len() * 2 * num_qubits);
    let mut labels = Vec::with_capacity(pos.len() * 2);
    for (p, n) in pos.into_iter().zip(neg) {
        x.extend(p);
        labels.push(POSITIVE);
        x.extend(n);
        labels.push(NEGATIVE);
    }
    Dataset::new(x, labels, num_qubits, vec!["-1".into(), "+1".into()])
}
