//! Reference forward and adjoint passes over occurrence rows (see `compile::program`): one row
//! at a time, through the reference state and its generic matrix routine. The oracle for every
//! batched and differentiated result.

use super::state::{apply_matrix, braket_matrix, weighted_observables_apply, CpuState};
use crate::backend::QuantumState;
use crate::circuit::Observable;
use crate::compile::program::Program;
use crate::error::Result;
use crate::math::linalg::dagger;

/// The state after running `program` on one occurrence row from |0…0⟩.
pub fn run_row(program: &Program, row: &[f64]) -> Result<CpuState> {
    let mut state = CpuState::zero(program.num_qubits())?;
    for op in program.ops() {
        let m = op.gate.kind.matrix(op.angles(row));
        apply_matrix(
            state.amps_mut(),
            &m,
            &op.gate.targets,
            op.gate.control_mask(),
        );
    }
    Ok(state)
}

/// ⟨O_j⟩ for each row: `R × n_obs`.
pub fn reference_forward_rows(
    program: &Program,
    rows: &[f64],
    num_rows: usize,
    observables: &[Observable],
) -> Result<Vec<f64>> {
    let na = program.num_angles();
    let mut out = Vec::with_capacity(num_rows * observables.len());
    for r in 0..num_rows {
        let state = run_row(program, &rows[r * na..(r + 1) * na])?;
        out.extend(state.expectations(observables)?);
    }
    Ok(out)
}

/// Values and dL/d(occurrence) for each row by adjoint differentiation:
/// λ = Σ_j g_j O_j ψ, then for each gate from the last: ψ ← U†ψ, dL/da += 2 Re⟨λ|∂U/∂a|ψ⟩,
/// λ ← U†λ. Two states per row regardless of depth.
pub fn reference_adjoint_rows(
    program: &Program,
    rows: &[f64],
    num_rows: usize,
    observables: &[Observable],
    upstream: &[f64],
) -> Result<(Vec<f64>, Vec<f64>)> {
    let na = program.num_angles();
    let no = observables.len();
    let mut values = Vec::with_capacity(num_rows * no);
    let mut grads = vec![0.0; num_rows * na];
    for r in 0..num_rows {
        let row = &rows[r * na..(r + 1) * na];
        let state = run_row(program, row)?;
        values.extend(state.expectations(observables)?);
        let mut psi = state.amps().to_vec();
        let mut lam =
            weighted_observables_apply(&psi, observables, &upstream[r * no..(r + 1) * no]);
        for op in program.ops().iter().rev() {
            let angles = op.angles(row);
            let (targets, ctrl) = (&op.gate.targets, op.gate.control_mask());
            let inverse = dagger(&op.gate.kind.matrix(angles));
            apply_matrix(&mut psi, &inverse, targets, ctrl);
            for which in 0..op.num_angles {
                let dm = op.gate.kind.derivative(angles, which);
                grads[r * na + op.first_angle + which] =
                    2.0 * braket_matrix(&lam, &psi, &dm, targets, ctrl).re;
            }
            apply_matrix(&mut lam, &inverse, targets, ctrl);
        }
    }
    Ok((values, grads))
}
