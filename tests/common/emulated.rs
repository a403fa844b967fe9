//! Stand-in backends that check the checks: an f32 emulator (every gate in f32 arithmetic) that
//! must pass the f32 tolerances, and deliberately wrong "mutant" backends that must fail them.
//! Without these, a sweep comparing the CPU with itself could never fail and would prove
//! nothing about its own sensitivity.

use num_complex::Complex32;
use qshade::{
    Backend, Bindings, Circuit, Complex64, CpuBackend, Gate, GateKind, Observable, Precision,
    QuantumState, Result,
};

/// The part of `Backend` the amplitude comparisons use. The stand-ins below implement only
/// this, so they do not have to follow every addition to `Backend` (batching, gradients); every
/// real backend gets it through the blanket impl. Method names differ from `Backend`'s so that
/// calls on a `dyn Backend` stay unambiguous with both traits in scope.
pub trait Simulate {
    /// Amplitude precision.
    fn sim_precision(&self) -> Precision;
    /// `Backend::state_from_amplitudes`.
    fn sim_state_from(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>>;
    /// `Backend::run`.
    fn sim_run(&self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<Box<dyn QuantumState>>;
}

impl<T: Backend + ?Sized> Simulate for T {
    fn sim_precision(&self) -> Precision {
        self.precision()
    }
    fn sim_state_from(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        self.state_from_amplitudes(amplitudes)
    }
    fn sim_run(&self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<Box<dyn QuantumState>> {
        self.run(circuit, bindings)
    }
}

/// A backend that keeps amplitudes in f32 and applies every gate with f32 arithmetic, the
/// matrix computed in f64 and rounded to f32 (what a GPU f32 kernel does). Its results must
/// lie within `tolerance(Precision::F32, depth)` of the reference: a positive control of the
/// f32 bound.
pub struct F32Emulator;

struct F32State {
    amps: Vec<Complex32>,
}

fn apply_f32(amps: &mut [Complex32], m: &[Complex32], targets: &[usize], control_mask: usize) {
    let dim = 1usize << targets.len();
    let target_mask: usize = targets.iter().fold(0, |acc, &t| acc | (1 << t));
    let offsets: Vec<usize> = (0..dim)
        .map(|j| {
            targets
                .iter()
                .enumerate()
                .filter(|(b, _)| (j >> b) & 1 == 1)
                .fold(0, |acc, (_, &t)| acc | (1 << t))
        })
        .collect();
    let mut gathered = vec![Complex32::new(0.0, 0.0); dim];
    for base in 0..amps.len() {
        if base & target_mask != 0 || base & control_mask != control_mask {
            continue;
        }
        for j in 0..dim {
            gathered[j] = amps[base | offsets[j]];
        }
        for r in 0..dim {
            let mut acc = Complex32::new(0.0, 0.0);
            for j in 0..dim {
                acc += m[r * dim + j] * gathered[j];
            }
            amps[base | offsets[r]] = acc;
        }
    }
}

impl F32State {
    fn as_f64(&self) -> Vec<Complex64> {
        self.amps
            .iter()
            .map(|a| Complex64::new(a.re as f64, a.im as f64))
            .collect()
    }

    /// A CPU state of the renormalised amplitudes, for the reads the emulator does not model.
    fn cpu_copy(&self) -> Result<Box<dyn QuantumState>> {
        let mut v = self.as_f64();
        let norm = v.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
        for a in &mut v {
            *a /= norm;
        }
        CpuBackend::reference().state_from_amplitudes(&v)
    }
}

impl QuantumState for F32State {
    fn num_qubits(&self) -> usize {
        self.amps.len().trailing_zeros() as usize
    }
    fn apply(&mut self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<()> {
        if circuit.num_qubits() != self.num_qubits() {
            return Err(qshade::Error::WidthMismatch {
                circuit: circuit.num_qubits(),
                state: self.num_qubits(),
            });
        }
        circuit.check_bindings(bindings)?;
        for gate in circuit.gates() {
            let m: Vec<Complex32> = gate
                .bound_matrix(bindings)
                .iter()
                .map(|z| Complex32::new(z.re as f32, z.im as f32))
                .collect();
            apply_f32(
                &mut self.amps,
                &m,
                &gate.targets,
                gate.control_mask() as usize,
            );
        }
        Ok(())
    }
    fn amplitudes(&self) -> Result<Vec<Complex64>> {
        Ok(self.as_f64())
    }
    fn probabilities(&self) -> Result<Vec<f64>> {
        Ok(self.amps.iter().map(|a| a.norm_sqr() as f64).collect())
    }
    fn marginal_probabilities(&self, qubits: &[usize]) -> Result<Vec<f64>> {
        self.cpu_copy()?.marginal_probabilities(qubits)
    }
    fn expectation(&self, observable: &Observable) -> Result<f64> {
        self.cpu_copy()?.expectation(observable)
    }
    fn sample(&self, shots: usize, seed: u64) -> Result<Vec<u64>> {
        self.cpu_copy()?.sample(shots, seed)
    }
}

impl Simulate for F32Emulator {
    fn sim_precision(&self) -> Precision {
        Precision::F32
    }
    fn sim_state_from(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        CpuBackend::reference().state_from_amplitudes(amplitudes)?; // validation only
        Ok(Box::new(F32State {
            amps: amplitudes
                .iter()
                .map(|a| Complex32::new(a.re as f32, a.im as f32))
                .collect(),
        }))
    }
    fn sim_run(&self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<Box<dyn QuantumState>> {
        let mut state = self.sim_state_from(
            &CpuBackend::reference()
                .zero_state(circuit.num_qubits())?
                .amplitudes()?,
        )?;
        state.apply(circuit, bindings)?;
        Ok(state)
    }
}

/// Plausible backend bugs, each applied to the circuit before the (correct) CPU runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// Controls ignored.
    DropControls,
    /// A two-qubit gate's targets swapped (matrix index convention reversed).
    SwapTargets,
    /// U3's φ and λ exchanged.
    SwapU3PhiLambda,
    /// Matrices transposed instead of used as given (row/column-major mix-up).
    Transpose,
    /// Angles negated (e^{+iθ/2} for e^{−iθ/2}).
    NegateAngles,
    /// θ read where x is meant and vice versa.
    SwapThetaAndInputs,
    /// Qubit q applied as qubit n−1−q (bit order reversed).
    ReverseQubits,
}

/// The CPU backend with one [`Mutation`]: results must fail the comparisons.
pub struct Mutant(pub Mutation);

struct MutantState {
    mutation: Mutation,
    inner: Box<dyn QuantumState>,
}

fn mutate(mutation: Mutation, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<Circuit> {
    let n = circuit.num_qubits();
    let mut out = Circuit::new(n)?;
    out.declare_params(circuit.num_params())
        .declare_inputs(circuit.num_inputs());
    for g in circuit.gates() {
        let mut g = g.clone();
        match mutation {
            Mutation::DropControls => g.controls.clear(),
            Mutation::SwapTargets => g.targets.reverse(),
            Mutation::SwapU3PhiLambda => {
                if let GateKind::U3(t, p, l) = g.kind {
                    g.kind = GateKind::U3(t, l, p);
                }
            }
            Mutation::Transpose | Mutation::NegateAngles => {
                let values: Vec<f64> = g.kind.angles().iter().map(|a| a.value(bindings)).collect();
                let values: Vec<f64> = if mutation == Mutation::NegateAngles {
                    values.iter().map(|v| -v).collect()
                } else {
                    values
                };
                let m = g.kind.matrix(&values);
                let d = 1 << g.targets.len();
                let m: Vec<Complex64> = if mutation == Mutation::Transpose {
                    (0..d * d).map(|i| m[(i % d) * d + i / d]).collect()
                } else {
                    m
                };
                g.kind = if d == 2 {
                    GateKind::Unitary1(Box::new(m.try_into().unwrap()))
                } else {
                    GateKind::Unitary2(Box::new(m.try_into().unwrap()))
                };
            }
            Mutation::SwapThetaAndInputs => {} // handled on the bindings
            Mutation::ReverseQubits => {
                g.targets
                    .iter_mut()
                    .chain(g.controls.iter_mut())
                    .for_each(|q| *q = n - 1 - *q);
            }
        }
        out.add(Gate {
            kind: g.kind,
            targets: g.targets,
            controls: g.controls,
        })?;
    }
    Ok(out)
}

impl QuantumState for MutantState {
    fn num_qubits(&self) -> usize {
        self.inner.num_qubits()
    }
    fn apply(&mut self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<()> {
        circuit.check_bindings(bindings)?;
        let mutated = mutate(self.mutation, circuit, bindings)?;
        if self.mutation == Mutation::SwapThetaAndInputs
            && bindings.theta.len() == bindings.inputs.len()
        {
            return self
                .inner
                .apply(&mutated, &Bindings::new(bindings.inputs, bindings.theta));
        }
        self.inner.apply(&mutated, bindings)
    }
    fn amplitudes(&self) -> Result<Vec<Complex64>> {
        self.inner.amplitudes()
    }
    fn probabilities(&self) -> Result<Vec<f64>> {
        self.inner.probabilities()
    }
    fn marginal_probabilities(&self, qubits: &[usize]) -> Result<Vec<f64>> {
        self.inner.marginal_probabilities(qubits)
    }
    fn expectation(&self, observable: &Observable) -> Result<f64> {
        self.inner.expectation(observable)
    }
    fn sample(&self, shots: usize, seed: u64) -> Result<Vec<u64>> {
        self.inner.sample(shots, seed)
    }
}

impl Simulate for Mutant {
    fn sim_precision(&self) -> Precision {
        Precision::F64
    }
    fn sim_state_from(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        Ok(Box::new(MutantState {
            mutation: self.0,
            inner: CpuBackend::reference().state_from_amplitudes(amplitudes)?,
        }))
    }
    fn sim_run(&self, circuit: &Circuit, bindings: &Bindings<'_>) -> Result<Box<dyn QuantumState>> {
        let mut state: Box<dyn QuantumState> = Box::new(MutantState {
            mutation: self.0,
            inner: CpuBackend::reference().zero_state(circuit.num_qubits())?,
        });
        state.apply(circuit, bindings)?;
        Ok(state)
    }
}
