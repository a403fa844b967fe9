//! Variational ansätze with named trainable parameters.

use crate::circuit::{Angle, Circuit};
use crate::error::Result;

/// The hardware-efficient ansatz of the benchmark workloads: `layers` times [for every qubit q:
/// RY(θ[first + 2nl + 2q]) then RZ(θ[first + 2nl + 2q + 1]); then CNOT(q, (q+1) mod n) for
/// q = 0..n−1 (a ring; for n = 2 the two CNOTs of the pair)]. Uses 2·n·layers parameters
/// starting at θ\[`first_param`\], named `hea.l{l}.ry.q{q}` / `hea.l{l}.rz.q{q}`. At most
/// [`MAX_LAYERS`](super::MAX_LAYERS) layers.
pub fn hardware_efficient(num_qubits: usize, layers: usize, first_param: usize) -> Result<Circuit> {
    let n = num_qubits;
    let mut c = Circuit::new(n)?;
    super::check_layers("hardware-efficient ansatz", layers, 2 * n, first_param)?;
    for l in 0..layers {
        for q in 0..n {
            let k = first_param + 2 * n * l + 2 * q;
            c.ry(q, Angle::theta(k))?.rz(q, Angle::theta(k + 1))?;
            c.name_param(k, format!("hea.l{l}.ry.q{q}"));
            c.name_param(k + 1, format!("hea.l{l}.rz.q{q}"));
        }
        if n > 1 {
            for q in 0..n {
                c.cnot(q, (q + 1) % n)?;
            }
        }
    }
    Ok(c)
}

/// PennyLane's `StronglyEntanglingLayers`: `layers` times [Rot(φ, θ, ω) = RZ(ω)·RY(θ)·RZ(φ) on
/// every qubit; CNOT(q, (q + r) mod n) with range r = (l mod (n−1)) + 1]. 3·n·layers
/// parameters from θ\[`first_param`\], named `sel.l{l}.{phi,theta,omega}.q{q}`. At most
/// [`MAX_LAYERS`](super::MAX_LAYERS) layers.
pub fn strongly_entangling(
    num_qubits: usize,
    layers: usize,
    first_param: usize,
) -> Result<Circuit> {
    let n = num_qubits;
    let mut c = Circuit::new(n)?;
    super::check_layers("strongly entangling ansatz", layers, 3 * n, first_param)?;
    for l in 0..layers {
        for q in 0..n {
            let k = first_param + 3 * (n * l + q);
            c.rz(q, Angle::theta(k))?
                .ry(q, Angle::theta(k + 1))?
                .rz(q, Angle::theta(k + 2))?;
            for (i, name) in ["phi", "theta", "omega"].iter().enumerate() {
                c.name_param(k + i, format!("sel.l{l}.{name}.q{q}"));
            }
        }
        if n > 1 {
            let r = (l % (n - 1)) + 1;
            for q in 0..n {
                c.cnot(q, (q + r) % n)?;
            }
        }
    }
    Ok(c)
}
