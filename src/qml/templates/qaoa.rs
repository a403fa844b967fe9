//! QAOA for weighted MaxCut.

use crate::circuit::{Angle, Circuit, Observable, Pauli};
use crate::error::{Error, Result};

/// An undirected weighted edge (i, j, w).
pub type Edge = (usize, usize, f64);

/// Errors unless every edge weight is finite and Σ|w| is finite (so that the cut observable's
/// coefficients and every cut value are finite).
pub fn check_weights(edges: &[Edge]) -> Result<()> {
    if let Some(&(i, j, w)) = edges.iter().find(|e| !e.2.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "edge ({i}, {j}) has weight {w}; MaxCut weights must be finite"
        )));
    }
    let total: f64 = edges.iter().map(|e| e.2.abs()).sum();
    if !total.is_finite() {
        return Err(Error::InvalidArgument(
            "the edge weights sum to infinity; scale them down".into(),
        ));
    }
    Ok(())
}

/// QAOA circuit for MaxCut: H on every qubit, then `p` layers of [cost: RZZ(−γ_l·w) on every
/// edge, i.e. e^{−iγ_l C} up to a global phase for C = Σ w(1 − Z_i Z_j)/2; mixer: RX(2β_l)
/// on every qubit]. θ = [γ_0, β_0, γ_1, β_1, …], named `qaoa.gamma{l}` / `qaoa.beta{l}`.
/// Errors on an edge outside the register, a non-finite weight ([`check_weights`]) or more
/// than [`MAX_LAYERS`](super::MAX_LAYERS) layers.
pub fn qaoa_maxcut(num_qubits: usize, edges: &[Edge], p: usize) -> Result<Circuit> {
    let mut c = Circuit::new(num_qubits)?;
    check_weights(edges)?;
    super::check_layers("QAOA", p, 2, 0)?;
    for &(i, j, _) in edges {
        if i >= num_qubits || j >= num_qubits {
            return Err(Error::QubitOutOfRange {
                qubit: i.max(j),
                num_qubits,
            });
        }
    }
    for q in 0..num_qubits {
        c.h(q)?;
    }
    for l in 0..p {
        for &(i, j, w) in edges {
            c.rzz(i, j, Angle::theta(2 * l).times(-w))?;
        }
        for q in 0..num_qubits {
            c.rx(q, Angle::theta(2 * l + 1).times(2.0))?;
        }
        c.name_param(2 * l, format!("qaoa.gamma{l}"));
        c.name_param(2 * l + 1, format!("qaoa.beta{l}"));
    }
    Ok(c)
}

/// The cut-value observable C = Σ_edges w·(1 − Z_i Z_j)/2 (its expectation is the expected cut).
/// Errors on a non-finite weight ([`check_weights`]).
pub fn maxcut_observable(edges: &[Edge]) -> Result<Observable> {
    check_weights(edges)?;
    let mut obs = Observable::default();
    let total: f64 = edges.iter().map(|e| e.2).sum();
    obs.add_term(total / 2.0, &[])?;
    for &(i, j, w) in edges {
        obs.add_term(-w / 2.0, &[(i, Pauli::Z), (j, Pauli::Z)])?;
    }
    Ok(obs)
}

/// The cut value of a bitstring (bit q of `assignment` = side of node q). Nodes ≥ 64 are on
/// side 0. The weights are not checked: validate them with [`check_weights`] first (a NaN
/// weight gives NaN).
pub fn maxcut_value(edges: &[Edge], assignment: u64) -> f64 {
    edges
        .iter()
        .filter(|&&(i, j, _)| {
            let side = |q: usize| {
                u32::try_from(q)
                    .ok()
                    .and_then(|q| assignment.checked_shr(q))
            };
            (side(i).unwrap_or(0) ^ side(j).unwrap_or(0)) & 1 == 1
        })
        .map(|e| e.2)
        .sum()
}
