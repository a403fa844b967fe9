//! A circuit compiled for repeated, batched execution and differentiation.
//!
//! Compiling numbers every angle *occurrence* (each gate angle, in circuit order). A binding of
//! θ and x becomes a row of occurrence values, so a batch is a `B × num_angles` matrix and both
//! backends run the same lowered program on it. Gradients come back per occurrence and the
//! chain rule through the angles (affine forms `a·θ_k + b`, shared θ, and expressions of
//! several variables) is applied here, once, for every backend and method.

use crate::circuit::{Angle, Bindings, Circuit, Gate, Observable, ShiftRule, Var};
use crate::error::{Error, Result};

/// One gate of a program and where its angle values sit in an occurrence row.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramOp {
    /// The gate (its own `Angle`s are ignored once compiled: values come from the row).
    pub gate: Gate,
    /// Index of the gate's first angle in an occurrence row.
    pub first_angle: usize,
    /// Number of angles the gate has.
    pub num_angles: usize,
}

impl ProgramOp {
    /// The gate's angle values within an occurrence row (empty if `row` is too short, which
    /// the backends' row checks rule out).
    pub fn angles<'r>(&self, row: &'r [f64]) -> &'r [f64] {
        row.get(self.first_angle..self.first_angle + self.num_angles)
            .unwrap_or(&[])
    }
}

/// A compiled circuit: gates plus a numbering of angle occurrences.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    id: u64,
    num_qubits: usize,
    num_params: usize,
    num_inputs: usize,
    ops: Vec<ProgramOp>,
    angles: Vec<Angle>,
    /// The circuit's [`Circuit::check_limits`] error, returned by every batch check.
    limits: Result<()>,
}

impl Program {
    /// Compiles `circuit` (cheap; backends cache their own device state per program).
    pub fn compile(circuit: &Circuit) -> Self {
        let mut ops = Vec::with_capacity(circuit.gates().len());
        let mut angles = Vec::new();
        for gate in circuit.gates() {
            let gate_angles = gate.kind.angles();
            ops.push(ProgramOp {
                gate: gate.clone(),
                first_angle: angles.len(),
                num_angles: gate_angles.len(),
            });
            angles.extend(gate_angles);
        }
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Program {
            id,
            num_qubits: circuit.num_qubits(),
            num_params: circuit.num_params(),
            num_inputs: circuit.num_inputs(),
            ops,
            angles,
            limits: circuit.check_limits(),
        }
    }

    /// A number unique to this compilation (backends key their device-side caches by it).
    pub fn id(&self) -> u64 {
        self.id
    }
    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }
    /// Number of trainable parameters θ.
    pub fn num_params(&self) -> usize {
        self.num_params
    }
    /// Number of input features x per sample.
    pub fn num_inputs(&self) -> usize {
        self.num_inputs
    }
    /// The gates with their occurrence positions.
    pub fn ops(&self) -> &[ProgramOp] {
        &self.ops
    }
    /// Number of angle occurrences (the length of one row).
    pub fn num_angles(&self) -> usize {
        self.angles.len()
    }
    /// The angle expression of each occurrence.
    pub fn angle_exprs(&self) -> &[Angle] {
        &self.angles
    }

    /// Writes the occurrence values for one binding into `row`.
    pub fn resolve_into(&self, theta: &[f64], inputs: &[f64], row: &mut [f64]) {
        let bindings = Bindings::new(theta, inputs);
        for (v, a) in row.iter_mut().zip(&self.angles) {
            *v = a.value(&bindings);
        }
    }

    /// The circuit with every angle replaced by its value in `row` (constant angles); errors
    /// if `row` does not hold [`Program::num_angles`] finite values.
    pub fn bind_row(&self, row: &[f64]) -> Result<Circuit> {
        crate::backend::check_rows(self, row, 1)?;
        let mut c = Circuit::new(self.num_qubits)?;
        for op in &self.ops {
            let v = op.angles(row);
            let mut gate = op.gate.clone();
            gate.kind = gate.kind.with_angles(v);
            c.add(gate)?;
        }
        Ok(c)
    }

    /// Checks that observables fit the program's width and are non-empty.
    pub fn check_observables(&self, observables: &[Observable]) -> Result<()> {
        if observables.is_empty() {
            return Err(Error::InvalidArgument(
                "at least one observable is needed".into(),
            ));
        }
        observables
            .iter()
            .try_for_each(|o| o.validate(self.num_qubits))
    }

    /// The occurrences that can be differentiated (depend on θ or x) with their shift rule.
    pub fn shift_rules(&self) -> Result<Vec<(usize, ShiftRule)>> {
        let mut out = Vec::new();
        for op in &self.ops {
            for which in 0..op.num_angles {
                let occ = op.first_angle + which;
                if self.angles[occ].is_const() {
                    continue;
                }
                let rule = op.gate.kind.shift_rule(which, op.gate.controls.len()).ok_or_else(|| {
                    Error::InvalidArgument(format!("no parameter-shift rule for angle {which} of {}; use the adjoint method", op.gate.label()))
                })?;
                out.push((occ, rule));
            }
        }
        Ok(out)
    }
}

/// The θ of a batch: one vector for every sample, or one row per sample.
#[derive(Clone, Copy, Debug)]
pub enum ThetaBatch<'a> {
    /// The same θ (length `num_params`) for every sample.
    Shared(&'a [f64]),
    /// Row-major `B × num_params`.
    PerSample(&'a [f64]),
}

/// B bindings of one program: θ (shared or per sample) and a `B × num_inputs` input matrix.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// Trainable parameters.
    pub theta: ThetaBatch<'a>,
    /// Row-major `B × num_inputs` features (empty when the circuit has no inputs).
    pub inputs: &'a [f64],
    /// B, the number of samples.
    pub size: usize,
}

impl<'a> Batch<'a> {
    /// B samples sharing one θ; `inputs` is row-major `B × num_inputs`.
    pub fn shared(theta: &'a [f64], inputs: &'a [f64], size: usize) -> Self {
        Batch {
            theta: ThetaBatch::Shared(theta),
            inputs,
            size,
        }
    }

    /// B samples with their own θ rows (`B × num_params`) and inputs (`B × num_inputs`).
    pub fn per_sample(theta: &'a [f64], inputs: &'a [f64], size: usize) -> Self {
        Batch {
            theta: ThetaBatch::PerSample(theta),
            inputs,
            size,
        }
    }

    /// Sample b's θ (empty if the batch holds no such row; [`Batch::validate`] checks the
    /// shapes).
    pub fn theta_row(&self, b: usize, num_params: usize) -> &'a [f64] {
        match self.theta {
            ThetaBatch::Shared(t) => t,
            ThetaBatch::PerSample(t) => row_of(t, b, num_params),
        }
    }

    /// Sample b's inputs (empty if the batch holds no such row).
    pub fn input_row(&self, b: usize, num_inputs: usize) -> &'a [f64] {
        row_of(self.inputs, b, num_inputs)
    }

    /// Checks shapes and finiteness against `program`, and that the batch's occurrence rows
    /// (`B × num_angles` values, 8 bytes each) fit in the host memory budget.
    pub fn validate(&self, program: &Program) -> Result<()> {
        program.limits.clone()?;
        if self.size == 0 {
            return Err(Error::InvalidArgument(
                "batch size must be at least 1".into(),
            ));
        }
        let (p, i) = (program.num_params(), program.num_inputs());
        let too_large = |what: &str| {
            Error::InvalidArgument(format!(
                "a batch of {} samples × {what} overflows the address space; use smaller batches",
                self.size
            ))
        };
        let expect_theta = p
            .checked_mul(self.size)
            .ok_or_else(|| too_large("num_params"))?;
        let expect_inputs = i
            .checked_mul(self.size)
            .ok_or_else(|| too_large("num_inputs"))?;
        let row_bytes = (program.num_angles().max(1) as u64)
            .checked_mul(self.size as u64)
            .and_then(|v| v.checked_mul(8))
            .ok_or_else(|| too_large("num_angles"))?;
        let budget = crate::sim::cpu::default_memory_budget();
        if row_bytes > budget {
            return Err(Error::OutOfDeviceMemory {
                needed: row_bytes,
                available: budget,
            });
        }
        let theta_len = match self.theta {
            ThetaBatch::Shared(t) => {
                if t.len() != p {
                    return Err(Error::ParameterCount {
                        kind: "trainable parameters (θ)",
                        expected: p,
                        got: t.len(),
                    });
                }
                t.len()
            }
            ThetaBatch::PerSample(t) => {
                if t.len() != expect_theta {
                    return Err(Error::InvalidArgument(format!(
                        "per-sample θ has {} values, expected B × num_params = {} × {p}",
                        t.len(),
                        self.size
                    )));
                }
                t.len()
            }
        };
        if self.inputs.len() != expect_inputs {
            return Err(Error::InvalidArgument(format!(
                "inputs have {} values, expected B × num_inputs = {} × {i}",
                self.inputs.len(),
                self.size
            )));
        }
        let theta = match self.theta {
            ThetaBatch::Shared(t) | ThetaBatch::PerSample(t) => t,
        };
        if let Some(k) = theta[..theta_len].iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter {
                kind: "θ",
                index: k,
            });
        }
        if let Some(k) = self.inputs.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter {
                kind: "x",
                index: k,
            });
        }
        Ok(())
    }

    /// The `B × num_angles` occurrence matrix after [`Batch::validate`], with a check that
    /// every value is finite (an angle can overflow, or leave a function's domain, for finite
    /// inputs).
    pub fn resolve_checked(&self, program: &Program) -> Result<Vec<f64>> {
        self.validate(program)?;
        let rows = self.resolve(program);
        let na = program.num_angles();
        match rows.iter().position(|v| !v.is_finite()) {
            None => Ok(rows),
            Some(k) => {
                let (sample, occ) = (k / na, k % na);
                let op = program
                    .ops
                    .iter()
                    .find(|op| occ < op.first_angle + op.num_angles);
                Err(crate::circuit::non_finite_angle(
                    &format!(
                        "{} (sample {sample})",
                        op.map_or_else(String::new, |op| op.gate.label())
                    ),
                    &program.angles[occ],
                    rows[k],
                ))
            }
        }
    }

    /// The `B × num_angles` occurrence matrix (unchecked: see [`Batch::resolve_checked`]).
    pub fn resolve(&self, program: &Program) -> Vec<f64> {
        let n = program.num_angles();
        let mut rows = vec![0.0; self.size * n];
        for b in 0..self.size {
            program.resolve_into(
                self.theta_row(b, program.num_params()),
                self.input_row(b, program.num_inputs()),
                &mut rows[b * n..(b + 1) * n],
            );
        }
        rows
    }
}

/// Row `b` of a row-major matrix with rows of `len` values, or empty if there is none.
fn row_of(values: &[f64], b: usize, len: usize) -> &[f64] {
    b.checked_mul(len)
        .and_then(|start| values.get(start..start.checked_add(len)?))
        .unwrap_or(&[])
}

/// How gradients are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GradientMethod {
    /// Adjoint differentiation: one forward and one backward sweep, O(1) states per sample.
    #[default]
    Adjoint,
    /// Parameter-shift: 2 (or 4 for controlled rotations) shifted forward runs per angle
    /// occurrence, all in one batch. What hardware needs; slower on a simulator.
    ParameterShift,
}

/// Options for batched runs.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct BatchConfig {
    /// Bytes the scheduler may use for states and scratch; default: a fraction of the device's
    /// memory (GPU) or of the host's (CPU). The batch is split into sub-batches that fit.
    pub memory_budget: Option<u64>,
    /// Upper bound on the sub-batch size (mostly for tests).
    pub max_sub_batch: Option<usize>,
}

setters!(BatchConfig {
    memory_budget: Option<u64>,
    max_sub_batch: Option<usize>,
});

/// What [`crate::Backend::gradient_batch`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients {
    /// ⟨O_j⟩_b, row-major `B × num_observables`.
    pub values: Vec<f64>,
    /// dL/dθ summed over the batch (`num_params`).
    pub theta: Vec<f64>,
    /// dL/dθ per sample (`B × num_params`), when asked for.
    pub theta_per_sample: Option<Vec<f64>>,
    /// dL/dx per sample (`B × num_inputs`).
    pub inputs: Vec<f64>,
}

/// Applies the chain rule from per-occurrence gradients (`B × num_angles`) to θ and x through
/// each angle's expression, evaluated at sample b's binding; errors if `d_angles` does not
/// hold `size` rows of finite values or an angle's derivative is not finite there (e.g.
/// `sqrt(θ)` at θ = 0).
pub fn chain_rule(
    program: &Program,
    batch: &Batch<'_>,
    d_angles: &[f64],
    per_sample_theta: bool,
    values: Vec<f64>,
) -> Result<Gradients> {
    let size = batch.size;
    crate::backend::check_rows(program, d_angles, size)?;
    let (na, np, ni) = (
        program.num_angles(),
        program.num_params(),
        program.num_inputs(),
    );
    let mut theta = vec![0.0; np];
    let mut per_sample = if per_sample_theta {
        Some(vec![0.0; size * np])
    } else {
        None
    };
    let mut inputs = vec![0.0; size * ni];
    for b in 0..size {
        let bindings = Bindings::new(batch.theta_row(b, np), batch.input_row(b, ni));
        for (o, angle) in program.angle_exprs().iter().enumerate() {
            let upstream = d_angles[b * na + o];
            let mut finite = true;
            angle.gradient(&bindings, &mut |var, slope| {
                let g = upstream * slope;
                finite &= slope.is_finite();
                match var {
                    Var::Theta(index) => {
                        if let Some(t) = theta.get_mut(index) {
                            *t += g;
                        }
                        if let Some(t) = per_sample
                            .as_mut()
                            .and_then(|ps| ps.get_mut(b * np + index))
                        {
                            *t += g;
                        }
                    }
                    Var::Input(index) => {
                        if let Some(x) = inputs.get_mut(b * ni + index) {
                            *x += g;
                        }
                    }
                }
            });
            if !finite {
                return Err(Error::InvalidArgument(format!(
                    "the derivative of angle {angle} (occurrence {o}, sample {b}) is not finite \
                     at the bound values (e.g. sqrt or ln at 0); gradients are undefined there"
                )));
            }
        }
    }
    let all = theta
        .iter()
        .chain(&inputs)
        .chain(per_sample.iter().flatten());
    if all.into_iter().any(|g| !g.is_finite()) {
        return Err(Error::InvalidArgument(
            "a gradient overflowed to infinity or NaN through an angle's scale or expression; \
             use smaller scales or bound values"
                .into(),
        ));
    }
    Ok(Gradients {
        values,
        theta,
        theta_per_sample: per_sample,
        inputs,
    })
}

/// Checks the upstream gradient's shape (`B × num_observables`).
pub fn check_upstream(upstream: &[f64], size: usize, num_observables: usize) -> Result<()> {
    if Some(upstream.len()) != size.checked_mul(num_observables) {
        return Err(Error::InvalidArgument(format!(
            "upstream gradient has {} values, expected B × num_observables = {size} × {num_observables}",
            upstream.len()
        )));
    }
    if let Some(k) = upstream.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "upstream gradient entry {k} is NaN or infinite"
        )));
    }
    Ok(())
}

/// dL/d(occurrence) by parameter shift, using `forward(rows, count)` (occurrence rows →
/// `count × n_obs` values) on all shifted rows in large batches.
pub fn parameter_shift(
    program: &Program,
    rows: &[f64],
    size: usize,
    num_observables: usize,
    upstream: &[f64],
    mut forward: impl FnMut(&[f64], usize) -> Result<Vec<f64>>,
) -> Result<Vec<f64>> {
    crate::backend::check_rows(program, rows, size)?;
    check_upstream(upstream, size, num_observables)?;
    let na = program.num_angles();
    let rules = program.shift_rules()?;
    // (sample, occurrence, weight) for every shifted row.
    let mut plan: Vec<(usize, usize, f64, f64)> = Vec::new();
    for b in 0..size {
        for &(occ, rule) in &rules {
            for (shift, weight) in rule.terms() {
                plan.push((b, occ, shift, weight));
            }
        }
    }
    let mut d_angles = vec![0.0; size * na];
    const ROWS_PER_CALL: usize = 8192;
    for part in plan.chunks(ROWS_PER_CALL) {
        let mut shifted = Vec::with_capacity(part.len() * na);
        for &(b, occ, shift, _) in part {
            let start = shifted.len();
            shifted.extend_from_slice(&rows[b * na..(b + 1) * na]);
            shifted[start + occ] += shift;
        }
        let values = forward(&shifted, part.len())?;
        if values.len() != part.len() * num_observables {
            return Err(Error::InvalidArgument(format!(
                "the forward function returned {} values for {} rows of {num_observables} \
                 observables",
                values.len(),
                part.len()
            )));
        }
        for (r, &(b, occ, _, weight)) in part.iter().enumerate() {
            let dl: f64 = (0..num_observables)
                .map(|j| upstream[b * num_observables + j] * values[r * num_observables + j])
                .sum();
            d_angles[b * na + occ] += weight * dl;
        }
    }
    Ok(d_angles)
}
