//! The final states of a batched forward call, kept for an adjoint call on the same program
//! and rows that follows it (PennyLane's training step: the forward pass, then a VJP with the
//! same parameters), so that the adjoint's backward sweep starts from them instead of running
//! the forward sweep again.
//!
//! Safety of the reuse: the states are used only when the adjoint call's program has the same
//! qubit count and the same gates (operation by operation, [`ProgramOp`] equality: kinds,
//! targets, controls and angle slots; the program's own id is *not* compared, so that a
//! program compiled again from the same circuit still matches) and the same occurrence rows,
//! bit for bit. Any difference and the adjoint computes the states itself. The states are used
//! once: the backward sweep overwrites them, so they are marked stale before that.
//!
//! Memory: states are kept only when all rows together take at most [`KEEP_MAX_BYTES`] and
//! the call's memory budget; the buffer is then held by the backend (and reused by its next
//! forward call) until a larger call replaces it.

use super::kernels::Amp;
use super::real::Real;
use crate::compile::program::{Program, ProgramOp};

/// The most bytes of final states a backend keeps between calls: 256 MiB (64 rows of 18 qubits
/// in f64).
pub(crate) const KEEP_MAX_BYTES: u64 = 256 << 20;

/// Final states of one forward call and what they were computed from.
#[derive(Debug, Default)]
pub(crate) struct Kept<T> {
    num_qubits: usize,
    ops: Vec<ProgramOp>,
    rows: Vec<f64>,
    num_rows: usize,
    /// `num_rows × 2^num_qubits` amplitudes, row after row.
    states: Vec<Amp<T>>,
    /// Whether `states` holds the final states of (`ops`, `rows`).
    valid: bool,
}

impl<T: Real> Kept<T> {
    /// A buffer for the final states of `num_rows` rows of `program`, reusing `old`'s
    /// allocation, or `None` when they would take more than `budget` or [`KEEP_MAX_BYTES`]
    /// (or the allocation fails). The result is stale until [`Kept::fill`] is called.
    pub(crate) fn prepare(
        old: Option<Kept<T>>,
        program: &Program,
        num_rows: usize,
        budget: u64,
    ) -> Option<Kept<T>> {
        let n = program.num_qubits();
        let amps = 1usize.checked_shl(u32::try_from(n).ok()?)?;
        let total = amps.checked_mul(num_rows)?;
        let bytes = u64::try_from(total)
            .ok()?
            .checked_mul(T::PRECISION.bytes_per_amplitude())?;
        if bytes > budget.min(KEEP_MAX_BYTES) || total == 0 {
            return None;
        }
        let mut kept = old.unwrap_or_default();
        kept.valid = false;
        // Every row's forward sweep starts by writing its whole slot: a buffer of the right
        // size is reused as it is (no 2^n × rows memset per call).
        if kept.states.len() != total {
            kept.states.clear();
            kept.states.try_reserve_exact(total).ok()?;
            kept.states.resize(total, [T::ZERO; 2]);
        }
        kept.num_qubits = n;
        kept.num_rows = num_rows;
        Some(kept)
    }

    /// The state buffer, `num_rows × 2^n` amplitudes (to be filled by the forward sweep).
    pub(crate) fn states_mut(&mut self) -> &mut [Amp<T>] {
        &mut self.states
    }

    /// Marks the buffer as the final states of `program` on `rows`.
    pub(crate) fn fill(&mut self, program: &Program, rows: &[f64]) {
        self.ops.clear();
        self.ops.extend_from_slice(program.ops());
        self.rows.clear();
        self.rows.extend_from_slice(rows);
        self.valid = true;
    }

    /// Whether the kept states are those of `program` on `rows` (`num_rows` of them).
    pub(crate) fn matches(&self, program: &Program, rows: &[f64], num_rows: usize) -> bool {
        self.valid
            && self.num_qubits == program.num_qubits()
            && self.num_rows == num_rows
            && self.rows.len() == rows.len()
            && self
                .rows
                .iter()
                .zip(rows)
                .all(|(a, b)| a.to_bits() == b.to_bits())
            && self.ops.as_slice() == program.ops()
    }

    /// The states, for one use by the adjoint sweep (which overwrites them): marked stale.
    pub(crate) fn take_states(&mut self) -> &mut [Amp<T>] {
        self.valid = false;
        &mut self.states
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::{Backend, Precision};
    use crate::circuit::{Angle, Circuit, Observable};
    use crate::compile::program::{Batch, Program};
    use crate::sim::cpu::CpuBackend;
    use crate::GradientMethod;
    use crate::Gradients;

    /// Chains with angles on every qubit and a ring of CNOTs; `shift` moves one CNOT's target
    /// (same angle count, different state).
    fn circuit(n: usize, shift: bool) -> Circuit {
        let mut c = Circuit::new(n).unwrap();
        for q in 0..n {
            c.rx(q, Angle::input(0).times(0.3 + 0.1 * q as f64))
                .unwrap()
                .rz(q, Angle::theta(q % 3))
                .unwrap()
                .ry(q, Angle::theta((q + 1) % 3).plus(0.2))
                .unwrap();
        }
        for q in 0..n {
            let t = if shift && q == 0 { 2 } else { (q + 1) % n };
            c.cnot(q, t).unwrap();
        }
        for q in 0..n {
            c.u3(q, Angle::theta(0), Angle::theta(1), Angle::theta(2))
                .unwrap();
        }
        c.declare_params(3).declare_inputs(1);
        c
    }

    fn valid(b: &CpuBackend, precision: Precision) -> bool {
        let cache = b.cache.lock().unwrap();
        match precision {
            Precision::F32 => cache.kept_single.as_ref().is_some_and(|k| k.valid),
            _ => cache.kept_double.as_ref().is_some_and(|k| k.valid),
        }
    }

    fn close(what: &str, want: &Gradients, got: &Gradients, tol: f64) {
        let pairs = want
            .values
            .iter()
            .zip(&got.values)
            .chain(want.theta.iter().zip(&got.theta))
            .chain(want.inputs.iter().zip(&got.inputs));
        for (a, b) in pairs {
            assert!((a - b).abs() < tol, "{what}: {a} vs {b}");
        }
    }

    /// A gradient call right after a forward call starts from the forward's kept final states
    /// only when the program's gates and the rows are the same: the same rows (also through a
    /// program compiled again) use them and give the reference gradient; a changed θ or a
    /// changed circuit between the two calls is seen (the states are not used, and the result
    /// is the reference's for the new call). Rows-in-parallel (8 qubits) and split (16 qubits)
    /// paths, f64 and f32, 2 threads.
    #[test]
    fn a_gradient_reuses_the_forward_states_only_for_the_same_program_and_rows() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            for (n, precision, tol) in [
                (8, Precision::F64, 1e-10),
                (16, Precision::F64, 1e-10),
                (8, Precision::F32, 2e-4),
            ] {
                check(n, precision, tol);
            }
        });
    }

    fn check(n: usize, precision: Precision, tol: f64) {
        let what = |case: &str| format!("{n} qubits, {precision:?}: {case}");
        let backend = CpuBackend::with_precision(precision);
        let reference = CpuBackend::reference();
        let program = Program::compile(&circuit(n, false));
        let other = Program::compile(&circuit(n, true));
        let obs = [
            Observable::parse("Z0 + 0.5 X1 Z2").unwrap(),
            Observable::y(n - 1),
        ];
        let b = 4;
        let (theta, theta2) = ([0.3, -1.1, 2.0], [0.3, -1.1, 2.0001]);
        let x = [0.1, 0.7, -0.4, 1.3];
        let batch = Batch::shared(&theta, &x, b);
        let batch2 = Batch::shared(&theta2, &x, b);
        let up: Vec<f64> = (0..2 * b).map(|k| 0.5 - 0.2 * k as f64).collect();
        let grad = |be: &CpuBackend, p: &Program, bt: &Batch<'_>| {
            be.gradient_batch(p, bt, &obs, &up, GradientMethod::Adjoint)
                .unwrap()
        };

        // The same program and rows: the kept states are used (and then stale).
        backend.forward_batch(&program, &batch, &obs).unwrap();
        assert!(valid(&backend, precision), "{}", what("kept"));
        let got = grad(&backend, &program, &batch);
        assert!(!valid(&backend, precision), "{}", what("used"));
        close(
            &what("same"),
            &grad(&reference, &program, &batch),
            &got,
            tol,
        );

        // A program compiled again from the same circuit matches too.
        backend.forward_batch(&program, &batch, &obs).unwrap();
        let again = Program::compile(&circuit(n, false));
        let got = grad(&backend, &again, &batch);
        assert!(!valid(&backend, precision), "{}", what("recompiled"));
        close(
            &what("recompiled"),
            &grad(&reference, &again, &batch),
            &got,
            tol,
        );

        // θ changed between the calls.
        backend.forward_batch(&program, &batch, &obs).unwrap();
        let got = grad(&backend, &program, &batch2);
        assert!(valid(&backend, precision), "{}", what("θ changed: unused"));
        close(
            &what("θ changed"),
            &grad(&reference, &program, &batch2),
            &got,
            tol,
        );

        // The circuit changed between the calls (same rows).
        let got = grad(&backend, &other, &batch);
        assert!(
            valid(&backend, precision),
            "{}",
            what("circuit changed: unused")
        );
        close(
            &what("circuit changed"),
            &grad(&reference, &other, &batch),
            &got,
            tol,
        );
    }
}
