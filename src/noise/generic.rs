//! The generic trajectory engine of the first version, kept as the tests' reference for the
//! fused engine (`fast`): the f64 kernel of `kernel`, one pass per gate and per Kraus norm, and
//! an explicit renormalisation after every non-unitary Kraus choice. Draws one uniform number
//! per channel, in circuit order, like the fused engine.

use super::kernel::{apply, fixed_probabilities, is_identity, norm_after, Uncontrolled};
use super::model::{NoisyCircuit, NoisyOp};
use crate::circuit::Bindings;
use crate::math::rng::Rng;
use num_complex::Complex64 as C64;

/// A Kraus operator with its fixed probability when it is √p times a unitary.
pub(crate) struct Kraus {
    matrix: Vec<C64>,
    /// `Some((p, U))` for K = √p·U.
    unitary: Option<(f64, Vec<C64>)>,
}

pub(crate) enum Step {
    Gate {
        qubits: Vec<usize>,
        ctrl: u64,
        u: Vec<C64>,
    },
    Channel {
        qubits: Vec<usize>,
        kraus: Vec<Kraus>,
    },
}

pub(crate) fn compile(circuit: &NoisyCircuit, bindings: &Bindings<'_>) -> Vec<Step> {
    let gates = circuit.circuit().gates();
    let mut steps = Vec::new();
    for op in circuit.ops() {
        match op {
            NoisyOp::Gate(g) => {
                let gate = &gates[*g];
                steps.push(Step::Gate {
                    qubits: gate.targets.clone(),
                    ctrl: gate.control_mask(),
                    u: gate.bound_matrix(bindings),
                });
            }
            NoisyOp::Channel { channel, qubits } => {
                let mut kraus: Vec<Kraus> = channel
                    .kraus_operators()
                    .iter()
                    .zip(fixed_probabilities(channel))
                    .map(|(k, fixed)| Kraus {
                        matrix: k.clone(),
                        unitary: fixed.map(|p| {
                            let s = 1.0 / p.sqrt();
                            (p, k.iter().map(|v| v * s).collect())
                        }),
                    })
                    .collect();
                // Stage one: the scaled unitaries, by their fixed probabilities.
                kraus.sort_by_key(|k| k.unitary.is_none());
                steps.push(Step::Channel {
                    qubits: qubits.clone(),
                    kraus,
                });
            }
        }
    }
    steps
}

/// Runs one trajectory into `psi`.
pub(crate) fn run_one(steps: &[Step], psi: &mut [C64], rng: &mut Rng) {
    psi.iter_mut().for_each(|v| *v = C64::ZERO);
    psi[0] = C64::ONE;
    for step in steps {
        match step {
            Step::Gate { qubits, ctrl, u } => apply(psi, qubits, u, *ctrl, Uncontrolled::Keep),
            Step::Channel { qubits, kraus } => {
                let r = rng.uniform();
                let mut cumulative = 0.0;
                let mut fallback = None;
                let mut chosen = None;
                for (i, k) in kraus.iter().enumerate() {
                    if let Some((p, u)) = &k.unitary {
                        cumulative += p;
                        if r < cumulative {
                            if !is_identity(u) {
                                apply(psi, qubits, u, 0, Uncontrolled::Keep);
                            }
                            chosen = Some(None);
                            break;
                        }
                        continue;
                    }
                    let norm2 = norm_after(psi, qubits, &k.matrix);
                    cumulative += norm2;
                    if norm2 > 0.0 {
                        fallback = Some((i, norm2));
                        if r < cumulative {
                            chosen = Some(Some((i, norm2)));
                            break;
                        }
                    }
                }
                // Rounding can leave r just above Σ p_i: take the last operator with weight.
                if let Some((i, norm2)) = chosen.unwrap_or(fallback) {
                    apply(psi, qubits, &kraus[i].matrix, 0, Uncontrolled::Keep);
                    let s = 1.0 / norm2.sqrt();
                    psi.iter_mut().for_each(|a| *a *= s);
                }
            }
        }
    }
}
