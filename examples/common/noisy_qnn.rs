//! The QNN of `examples/noisy_qnn.rs` and its loss on the exact density matrix, shared with
//! `tests/noise_qnn.rs` so the test checks the very circuit and loss the example trains.

use qshade::noise::{expectation_and_gradient, Channel, DensityMatrix, NoiseModel, NoisyCircuit};
use qshade::qml::templates::RotationAxis;
use qshade::qml::train::{predict_class, Ansatz, Dataset, Encoding, Loss, Qnn, Standardizer};
use qshade::{Bindings, Result};

/// The loss both trainings minimise: BCE on σ(4·⟨Z0⟩).
pub const LOSS: Loss = Loss::BinaryCrossEntropy { scale: 4.0 };

/// Two moons (200 points, noise 0.1, seed 3), split 70/30 with seed 1.
pub fn moons() -> Result<(Dataset, Dataset)> {
    Dataset::two_moons(200, 0.1, 3)?.split(0.3, 1)
}

/// 4 qubits re-encoding the 2 standardised features twice (RY), `layers` hardware-efficient
/// layers, readout ⟨Z0⟩ (one output, no head), θ seeded.
pub fn model(train: &Dataset, layers: usize, seed: u64) -> Result<Qnn> {
    Qnn::builder(2)
        .qubits(4)
        .encoding(Encoding::angle(RotationAxis::Y, 1.0))
        .ansatz(Ansatz::HardwareEfficient { layers })
        .classes(2)
        .standardizer(Standardizer::fit(train)?)
        .seed(seed)
        .build()
}

/// Two-qubit depolarizing `p2` after every CNOT and amplitude damping `gamma` on the qubits
/// of every gate (RY, RZ, CNOT), applied to the model's circuit.
pub fn noisy_circuit(model: &Qnn, p2: f64, gamma: f64) -> Result<NoisyCircuit> {
    let mut noise = NoiseModel::new();
    noise
        .add_all_qubit_quantum_error(Channel::depolarizing2(p2)?, &["cx"])?
        .add_all_qubit_quantum_error(Channel::amplitude_damping(gamma)?, &["ry", "rz", "cx"])?;
    noise.apply(model.circuit())
}

/// Mean loss, accuracy and dL/dθ of circuit parameters `theta` on `data` (raw features),
/// every output ⟨Z0⟩ = Tr(ρ(x, θ) Z0) from the exact density matrix of `noisy`, the gradient
/// by the density-matrix adjoint (chained through the loss).
pub fn dm_loss_and_gradient(
    model: &Qnn,
    noisy: &NoisyCircuit,
    theta: &[f64],
    data: &Dataset,
) -> Result<(f64, f64, Vec<f64>)> {
    let obs = &model.observables()[0];
    let d = data.num_features;
    let mut outputs = Vec::with_capacity(data.len());
    let mut jacobian = Vec::with_capacity(data.len());
    for row in data.features.chunks(d) {
        let inputs = model.circuit_inputs(row)?;
        let (e, g) = expectation_and_gradient(noisy, &Bindings::new(theta, &inputs), obs)?;
        outputs.push(e);
        jacobian.push(g);
    }
    let (loss, upstream) = LOSS.value_and_grad(&outputs, &data.labels, 1)?;
    let mut grad = vec![0.0; theta.len()];
    for (u, g) in upstream.iter().zip(&jacobian) {
        for (acc, gk) in grad.iter_mut().zip(g) {
            *acc += u * gk;
        }
    }
    Ok((loss, accuracy(&outputs, &data.labels), grad))
}

/// Mean loss and accuracy on `data` from the exact density matrix of `noisy` (no gradient).
pub fn dm_evaluate(
    model: &Qnn,
    noisy: &NoisyCircuit,
    theta: &[f64],
    data: &Dataset,
) -> Result<(f64, f64)> {
    let obs = &model.observables()[0];
    let mut outputs = Vec::with_capacity(data.len());
    for row in data.features.chunks(data.num_features) {
        let inputs = model.circuit_inputs(row)?;
        outputs.push(DensityMatrix::run(noisy, &Bindings::new(theta, &inputs))?.expectation(obs)?);
    }
    Ok((
        LOSS.value(&outputs, &data.labels, 1)?,
        accuracy(&outputs, &data.labels),
    ))
}

/// Fraction of one-output predictions (class 1 ⇔ output > 0) equal to the labels.
fn accuracy(outputs: &[f64], labels: &[usize]) -> f64 {
    let hits = outputs
        .iter()
        .zip(labels)
        .filter(|(o, &y)| predict_class(std::slice::from_ref(*o)) == y)
        .count();
    hits as f64 / labels.len().max(1) as f64
}
