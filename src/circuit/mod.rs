//! The circuit IR: gates on qubits with symbolic angles, and observables. Knows nothing about
//! any backend.
//!
//! # Qubit order
//! Qubit 0 is the **least significant bit** of a basis-state index, as in Qiskit and qulacs:
//! amplitude `k` of an `n`-qubit state is the coefficient of `|b_{n−1} … b_1 b_0⟩` where
//! `b_q = (k >> q) & 1`. So `X` on qubit 0 of `|0…0⟩` gives amplitude index 1, and on qubit 2
//! gives index 4.

mod decompose;
mod gate;
mod library;
mod observable;
mod param;

pub(crate) use decompose::dense_as_gates;
pub use decompose::MAX_UNITARY_QUBITS;
pub use gate::{Gate, GateClass, GateKind, Permutation, ShiftRule};
pub use library::{standard_gate_is_variadic, standard_gate_names, standard_gate_signature};
pub use observable::{Observable, Pauli, PauliTerm};
pub use param::{Angle, AngleFn, Bindings, Expr, ExprAngle, Var, MAX_EXPR_DEPTH, MAX_EXPR_NODES};

use crate::error::{Error, Result};
use crate::math::linalg::{dagger, matmul};
use num_complex::Complex64 as C64;

/// The largest qubit count qshade accepts (2^34 amplitudes is 128 GiB in single precision).
pub const MAX_QUBITS: usize = 34;

/// The largest number of trainable parameters θ (and of input features x) a circuit may use:
/// 2^24, a θ vector of 128 MiB. Larger indices and counts are errors, so that a stray index
/// such as `usize::MAX` cannot make a binding check overflow or a name table allocate
/// without bound.
pub const MAX_PARAMS: usize = 1 << 24;

/// Bit `q` of a qubit mask, 0 for qubits of 64 and above (which no valid circuit or observable
/// has; callers that take user input check the range first).
pub(crate) fn bit(q: usize) -> u64 {
    if q < 64 {
        1u64 << q
    } else {
        0
    }
}

/// Tolerance for the unitarity check of user matrices: max |U†U − I| entry.
pub const UNITARY_TOLERANCE: f64 = 1e-8;

/// A quantum circuit on a fixed number of qubits: an ordered list of gates whose angles may be
/// trainable parameters θ or input features x.
///
/// Every builder method validates its qubits and returns an error instead of panicking:
/// ```
/// # fn main() -> qshade::Result<()> {
/// use qshade::{Angle, Circuit};
/// let mut c = Circuit::new(2)?;
/// c.h(0)?.cnot(0, 1)?.ry(1, Angle::theta(0))?;
/// assert_eq!(c.num_params(), 1);
/// assert!(c.h(2).is_err()); // qubit out of range
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Circuit {
    num_qubits: usize,
    gates: Vec<Gate>,
    num_params: usize,
    num_inputs: usize,
    /// Names of θ entries given by [`Circuit::name_param`]; unnamed ones read `theta[k]`.
    param_names: std::collections::BTreeMap<usize, String>,
    /// The first count or index beyond [`MAX_PARAMS`] given to one of the infallible setters
    /// ([`Circuit::name_param`], [`Circuit::declare_params`], [`Circuit::declare_inputs`]):
    /// every later binding check returns it.
    oversize: Option<Error>,
}

impl Circuit {
    /// An empty circuit on `num_qubits` qubits (1..=[`MAX_QUBITS`]).
    pub fn new(num_qubits: usize) -> Result<Self> {
        if num_qubits == 0 || num_qubits > MAX_QUBITS {
            return Err(Error::UnsupportedQubitCount {
                num_qubits,
                max: MAX_QUBITS,
            });
        }
        Ok(Circuit {
            num_qubits,
            gates: Vec::new(),
            num_params: 0,
            num_inputs: 0,
            param_names: Default::default(),
            oversize: None,
        })
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// The gates in application order.
    pub fn gates(&self) -> &[Gate] {
        &self.gates
    }

    /// Number of trainable parameters θ a binding must supply: one more than the largest θ
    /// index used, or more if [`Circuit::declare_params`] asked for it.
    pub fn num_params(&self) -> usize {
        self.num_params
    }

    /// Number of input features x a binding must supply.
    pub fn num_inputs(&self) -> usize {
        self.num_inputs
    }

    /// Makes the circuit take at least `count` θ values (e.g. parameters not used by any gate).
    ///
    /// A count above [`MAX_PARAMS`] changes nothing here, but every later binding check of the
    /// circuit (and of programs compiled from it) returns an error that names it.
    pub fn declare_params(&mut self, count: usize) -> &mut Self {
        if self.within_limit(count, "declare_params", "θ count") {
            self.num_params = self.num_params.max(count);
        }
        self
    }

    /// Names θ\[`index`\] (e.g. `"layer2.ry.q3"`), for saved parameters and reports.
    ///
    /// An index of [`MAX_PARAMS`] or more changes nothing here, but every later binding check
    /// returns an error that names it.
    pub fn name_param(&mut self, index: usize, name: impl Into<String>) -> &mut Self {
        if self.within_limit(index.saturating_add(1), "name_param", "θ index + 1") {
            self.param_names.insert(index, name.into());
            self.num_params = self.num_params.max(index + 1);
        }
        self
    }

    /// The name of every θ entry (`theta[k]` where none was given).
    pub fn param_names(&self) -> Vec<String> {
        (0..self.num_params)
            .map(|k| {
                self.param_names
                    .get(&k)
                    .cloned()
                    .unwrap_or_else(|| format!("theta[{k}]"))
            })
            .collect()
    }

    /// Makes the circuit take at least `count` x values.
    ///
    /// A count above [`MAX_PARAMS`] changes nothing here, but every later binding check
    /// returns an error that names it.
    pub fn declare_inputs(&mut self, count: usize) -> &mut Self {
        if self.within_limit(count, "declare_inputs", "x count") {
            self.num_inputs = self.num_inputs.max(count);
        }
        self
    }

    /// Whether `count` is at most [`MAX_PARAMS`]; if not, remembers the error for the binding
    /// checks (the first one wins).
    fn within_limit(&mut self, count: usize, call: &str, what: &str) -> bool {
        if count <= MAX_PARAMS {
            return true;
        }
        self.oversize
            .get_or_insert_with(|| oversize_error(call, what, count));
        false
    }

    /// The error of an earlier [`Circuit::declare_params`] / [`Circuit::declare_inputs`] /
    /// [`Circuit::name_param`] call beyond [`MAX_PARAMS`], if any.
    pub fn check_limits(&self) -> Result<()> {
        self.oversize.clone().map_or(Ok(()), Err)
    }

    /// Appends a gate after checking its qubits (in range, distinct, arity) and, for matrix
    /// gates, unitarity within [`UNITARY_TOLERANCE`].
    ///
    /// Angles must be finite (constants, scales and offsets) and θ / x indices below
    /// [`MAX_PARAMS`]; otherwise the gate is rejected and the circuit is unchanged.
    pub fn add(&mut self, gate: Gate) -> Result<&mut Self> {
        self.check_gate(&gate)?;
        for a in gate.kind.angles() {
            a.for_each_variable(&mut |v| match v {
                Var::Theta(k) => self.num_params = self.num_params.max(k + 1),
                Var::Input(k) => self.num_inputs = self.num_inputs.max(k + 1),
            });
        }
        self.gates.push(gate);
        Ok(self)
    }

    /// Appends every gate of `other` (same width).
    pub fn append(&mut self, other: &Circuit) -> Result<&mut Self> {
        if other.num_qubits != self.num_qubits {
            return Err(Error::InvalidArgument(format!(
                "cannot append a {}-qubit circuit to a {}-qubit circuit",
                other.num_qubits, self.num_qubits
            )));
        }
        for g in &other.gates {
            self.add(g.clone())?;
        }
        for (&k, name) in &other.param_names {
            self.name_param(k, name.clone());
        }
        self.declare_params(other.num_params);
        self.declare_inputs(other.num_inputs);
        if self.oversize.is_none() {
            self.oversize = other.oversize.clone();
        }
        Ok(self)
    }

    /// Every check [`Circuit::add`] makes of `gate`, without adding it.
    pub(crate) fn check_gate(&self, gate: &Gate) -> Result<()> {
        self.validate_gate(gate)?;
        for a in &gate.kind.angles() {
            a.check(&gate.display_name())?;
        }
        Ok(())
    }

    fn validate_gate(&self, gate: &Gate) -> Result<()> {
        let arity = gate.kind.num_targets();
        if gate.targets.len() != arity {
            return Err(Error::InvalidArgument(format!(
                "gate {} takes {arity} target qubit(s), got {}",
                gate.kind.name(),
                gate.targets.len()
            )));
        }
        let mut seen = 0u64;
        for &q in gate.targets.iter().chain(gate.controls.iter()) {
            if q >= self.num_qubits {
                return Err(Error::QubitOutOfRange {
                    qubit: q,
                    num_qubits: self.num_qubits,
                });
            }
            if seen & (1u64 << q) != 0 {
                return Err(Error::RepeatedQubit {
                    qubit: q,
                    gate: format!("gate {}", gate.display_name()),
                });
            }
            seen |= 1u64 << q;
        }
        match &gate.kind {
            GateKind::Unitary1(m) => check_unitary(&m[..], 2),
            GateKind::Unitary2(m) => check_unitary(&m[..], 4),
            _ => Ok(()),
        }
    }

    /// Checks `bindings` against the parameter and input counts, and that every angle
    /// resolves to a finite value (an affine angle `a·θ + b` can overflow to ±∞ for finite
    /// `a`, `θ` and `b`).
    pub fn check_bindings(&self, bindings: &Bindings<'_>) -> Result<()> {
        self.check_limits()?;
        bindings.validate(self.num_params, self.num_inputs)?;
        for gate in &self.gates {
            for a in gate.kind.angles() {
                let v = a.value(bindings);
                if !v.is_finite() {
                    return Err(non_finite_angle(&gate.label(), &a, v));
                }
            }
        }
        Ok(())
    }

    /// Checks that this circuit can be applied to a state of `state_qubits` qubits with
    /// `bindings`: the widths match and the bindings fit (what every `QuantumState::apply`
    /// checks before touching the state).
    pub fn check_applicable(&self, state_qubits: usize, bindings: &Bindings<'_>) -> Result<()> {
        if self.num_qubits != state_qubits {
            return Err(Error::WidthMismatch {
                circuit: self.num_qubits,
                state: state_qubits,
            });
        }
        self.check_bindings(bindings)
    }

    /// The circuit that undoes this one for the same bindings (gates reversed, each inverted
    /// as a dense matrix).
    pub fn inverse_bound(&self, bindings: &Bindings<'_>) -> Result<Circuit> {
        self.check_bindings(bindings)?;
        let mut inv = Circuit::new(self.num_qubits)?;
        for g in self.gates.iter().rev() {
            let adj = dagger(&g.bound_matrix(bindings));
            let kind = if g.targets.len() == 1 {
                GateKind::Unitary1(Box::new(std::array::from_fn(|k| adj[k])))
            } else {
                GateKind::Unitary2(Box::new(std::array::from_fn(|k| adj[k])))
            };
            inv.add(Gate {
                kind,
                targets: g.targets.clone(),
                controls: g.controls.clone(),
            })?;
        }
        Ok(inv)
    }

    fn one(&mut self, kind: GateKind, q: usize) -> Result<&mut Self> {
        self.add(Gate::new(kind, &[q]))
    }

    fn ctrl(&mut self, kind: GateKind, control: usize, target: usize) -> Result<&mut Self> {
        self.add(Gate::controlled(kind, &[control], &[target]))
    }

    fn two(&mut self, kind: GateKind, a: usize, b: usize) -> Result<&mut Self> {
        self.add(Gate::new(kind, &[a, b]))
    }

    /// Identity on `q` (kept as a gate; useful for tests and timing).
    pub fn id(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::I, q)
    }
    /// Hadamard on `q`.
    pub fn h(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::H, q)
    }
    /// Pauli X on `q`.
    pub fn x(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::X, q)
    }
    /// Pauli Y on `q`.
    pub fn y(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::Y, q)
    }
    /// Pauli Z on `q`.
    pub fn z(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::Z, q)
    }
    /// S on `q`.
    pub fn s(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::S, q)
    }
    /// S† on `q`.
    pub fn sdg(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::Sdg, q)
    }
    /// T on `q`.
    pub fn t(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::T, q)
    }
    /// T† on `q`.
    pub fn tdg(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::Tdg, q)
    }
    /// √X on `q`.
    pub fn sx(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::SX, q)
    }
    /// RX(angle) on `q`.
    pub fn rx(&mut self, q: usize, angle: impl Into<Angle>) -> Result<&mut Self> {
        self.one(GateKind::RX(angle.into()), q)
    }
    /// RY(angle) on `q`.
    pub fn ry(&mut self, q: usize, angle: impl Into<Angle>) -> Result<&mut Self> {
        self.one(GateKind::RY(angle.into()), q)
    }
    /// RZ(angle) on `q`.
    pub fn rz(&mut self, q: usize, angle: impl Into<Angle>) -> Result<&mut Self> {
        self.one(GateKind::RZ(angle.into()), q)
    }
    /// Phase(λ) = diag(1, e^{iλ}) on `q`.
    pub fn phase(&mut self, q: usize, lambda: impl Into<Angle>) -> Result<&mut Self> {
        self.one(GateKind::Phase(lambda.into()), q)
    }
    /// U3(θ, φ, λ) on `q`.
    pub fn u3(
        &mut self,
        q: usize,
        theta: impl Into<Angle>,
        phi: impl Into<Angle>,
        lambda: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.one(GateKind::U3(theta.into(), phi.into(), lambda.into()), q)
    }
    /// An arbitrary 2×2 unitary (row-major) on `q`; errors if not unitary within 1e-8.
    pub fn unitary1(&mut self, q: usize, matrix: [C64; 4]) -> Result<&mut Self> {
        self.one(GateKind::Unitary1(Box::new(matrix)), q)
    }
    /// CNOT (controlled X).
    pub fn cnot(&mut self, control: usize, target: usize) -> Result<&mut Self> {
        self.ctrl(GateKind::X, control, target)
    }
    /// Alias of [`Circuit::cnot`].
    pub fn cx(&mut self, control: usize, target: usize) -> Result<&mut Self> {
        self.cnot(control, target)
    }
    /// Controlled Y.
    pub fn cy(&mut self, control: usize, target: usize) -> Result<&mut Self> {
        self.ctrl(GateKind::Y, control, target)
    }
    /// Controlled Z.
    pub fn cz(&mut self, control: usize, target: usize) -> Result<&mut Self> {
        self.ctrl(GateKind::Z, control, target)
    }
    /// Controlled RX.
    pub fn crx(
        &mut self,
        control: usize,
        target: usize,
        angle: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.ctrl(GateKind::RX(angle.into()), control, target)
    }
    /// Controlled RY.
    pub fn cry(
        &mut self,
        control: usize,
        target: usize,
        angle: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.ctrl(GateKind::RY(angle.into()), control, target)
    }
    /// Controlled RZ.
    pub fn crz(
        &mut self,
        control: usize,
        target: usize,
        angle: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.ctrl(GateKind::RZ(angle.into()), control, target)
    }
    /// Controlled phase: |11⟩ gets e^{iλ}.
    pub fn cphase(
        &mut self,
        control: usize,
        target: usize,
        lambda: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.ctrl(GateKind::Phase(lambda.into()), control, target)
    }
    /// Toffoli (CCX).
    pub fn toffoli(&mut self, c0: usize, c1: usize, target: usize) -> Result<&mut Self> {
        self.add(Gate::controlled(GateKind::X, &[c0, c1], &[target]))
    }
    /// Any one-qubit kind with any number of controls (all must be |1⟩).
    pub fn multi_controlled(
        &mut self,
        kind: GateKind,
        controls: &[usize],
        target: usize,
    ) -> Result<&mut Self> {
        self.add(Gate::controlled(kind, controls, &[target]))
    }
    /// SWAP.
    pub fn swap(&mut self, a: usize, b: usize) -> Result<&mut Self> {
        self.two(GateKind::Swap, a, b)
    }
    /// iSWAP.
    pub fn iswap(&mut self, a: usize, b: usize) -> Result<&mut Self> {
        self.two(GateKind::ISwap, a, b)
    }
    /// RXX(angle).
    pub fn rxx(&mut self, a: usize, b: usize, angle: impl Into<Angle>) -> Result<&mut Self> {
        self.two(GateKind::RXX(angle.into()), a, b)
    }
    /// RYY(angle).
    pub fn ryy(&mut self, a: usize, b: usize, angle: impl Into<Angle>) -> Result<&mut Self> {
        self.two(GateKind::RYY(angle.into()), a, b)
    }
    /// RZZ(angle).
    pub fn rzz(&mut self, a: usize, b: usize, angle: impl Into<Angle>) -> Result<&mut Self> {
        self.two(GateKind::RZZ(angle.into()), a, b)
    }
    /// An arbitrary 4×4 unitary (row-major, basis index `bit(a) + 2·bit(b)`) on `(a, b)`.
    pub fn unitary2(&mut self, a: usize, b: usize, matrix: [C64; 16]) -> Result<&mut Self> {
        self.two(GateKind::Unitary2(Box::new(matrix)), a, b)
    }
}

/// Builders named after Qiskit's standard gates (each is exactly [`Circuit::add_standard`]
/// with that name: Qiskit's matrix, qubit order and parameter order).
impl Circuit {
    /// √X† on `q` (Qiskit's `sxdg`).
    pub fn sxdg(&mut self, q: usize) -> Result<&mut Self> {
        self.one(GateKind::SXdg, q)
    }
    /// Phase(λ) on `q` under Qiskit's name `p` (alias of [`Circuit::phase`]).
    pub fn p(&mut self, q: usize, lambda: impl Into<Angle>) -> Result<&mut Self> {
        self.phase(q, lambda)
    }
    /// Qiskit's `u(θ, φ, λ)` (alias of [`Circuit::u3`]).
    pub fn u(
        &mut self,
        q: usize,
        theta: impl Into<Angle>,
        phi: impl Into<Angle>,
        lambda: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.u3(q, theta, phi, lambda)
    }
    /// R(θ, φ) = exp(−iθ(cos φ·X + sin φ·Y)/2) on `q` (Qiskit's `r`).
    pub fn r(
        &mut self,
        q: usize,
        theta: impl Into<Angle>,
        phi: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.one(GateKind::R(theta.into(), phi.into()), q)
    }
    /// The global phase e^{iγ} (Qiskit's `global_phase`; placed on qubit 0 as e^{iγ}·I).
    pub fn global_phase(&mut self, gamma: impl Into<Angle>) -> Result<&mut Self> {
        self.one(GateKind::GlobalPhase(gamma.into()), 0)
    }
    /// Controlled phase under Qiskit's name `cp` (alias of [`Circuit::cphase`]).
    pub fn cp(
        &mut self,
        control: usize,
        target: usize,
        lambda: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.cphase(control, target, lambda)
    }
    /// Controlled Hadamard (Qiskit's `ch`).
    pub fn ch(&mut self, control: usize, target: usize) -> Result<&mut Self> {
        self.ctrl(GateKind::H, control, target)
    }
    /// Controlled S (Qiskit's `cs`).
    pub fn cs(&mut self, control: usize, target: usize) -> Result<&mut Self> {
        self.ctrl(GateKind::S, control, target)
    }
    /// Controlled S† (Qiskit's `csdg`).
    pub fn csdg(&mut self, control: usize, target: usize) -> Result<&mut Self> {
        self.ctrl(GateKind::Sdg, control, target)
    }
    /// Controlled √X (Qiskit's `csx`).
    pub fn csx(&mut self, control: usize, target: usize) -> Result<&mut Self> {
        self.ctrl(GateKind::SX, control, target)
    }
    /// Controlled U3(θ, φ, λ) (Qiskit's `cu3`).
    pub fn cu3(
        &mut self,
        control: usize,
        target: usize,
        theta: impl Into<Angle>,
        phi: impl Into<Angle>,
        lambda: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.ctrl(
            GateKind::U3(theta.into(), phi.into(), lambda.into()),
            control,
            target,
        )
    }
    /// Qiskit's `cu(θ, φ, λ, γ)`: controlled e^{iγ}·U3(θ, φ, λ) (a phase e^{iγ} on the
    /// control's |1⟩, then the controlled U3).
    pub fn cu(
        &mut self,
        control: usize,
        target: usize,
        theta: impl Into<Angle>,
        phi: impl Into<Angle>,
        lambda: impl Into<Angle>,
        gamma: impl Into<Angle>,
    ) -> Result<&mut Self> {
        let angles = [theta.into(), phi.into(), lambda.into(), gamma.into()];
        self.add_standard("cu", &[control, target], &angles)
    }
    /// Toffoli under Qiskit's name `ccx` (alias of [`Circuit::toffoli`]).
    pub fn ccx(&mut self, c0: usize, c1: usize, target: usize) -> Result<&mut Self> {
        self.toffoli(c0, c1, target)
    }
    /// Doubly controlled Z (Qiskit's `ccz`).
    pub fn ccz(&mut self, c0: usize, c1: usize, target: usize) -> Result<&mut Self> {
        self.add(Gate::controlled(GateKind::Z, &[c0, c1], &[target]))
    }
    /// X with any number (≥ 1) of controls (Qiskit's `mcx`).
    pub fn mcx(&mut self, controls: &[usize], target: usize) -> Result<&mut Self> {
        if controls.is_empty() {
            return Err(Error::InvalidArgument(
                "mcx needs at least one control; use x for an uncontrolled X".to_string(),
            ));
        }
        self.multi_controlled(GateKind::X, controls, target)
    }
    /// Controlled SWAP of `a` and `b` (Qiskit's `cswap`, the Fredkin gate).
    pub fn cswap(&mut self, control: usize, a: usize, b: usize) -> Result<&mut Self> {
        self.add(Gate::controlled(GateKind::Swap, &[control], &[a, b]))
    }
    /// The relative-phase Toffoli (Qiskit's `rccx`, by Qiskit's definition).
    pub fn rccx(&mut self, c0: usize, c1: usize, target: usize) -> Result<&mut Self> {
        self.add_standard("rccx", &[c0, c1, target], &[])
    }
    /// The relative-phase 3-controlled X (Qiskit's `rcccx`, by Qiskit's definition).
    pub fn rcccx(&mut self, c0: usize, c1: usize, c2: usize, target: usize) -> Result<&mut Self> {
        self.add_standard("rcccx", &[c0, c1, c2, target], &[])
    }
    /// The echoed cross-resonance gate on `(a, b)` (Qiskit's `ecr`).
    pub fn ecr(&mut self, a: usize, b: usize) -> Result<&mut Self> {
        self.two(GateKind::ECR, a, b)
    }
    /// CX(a → b) then CX(b → a) (Qiskit's `dcx`).
    pub fn dcx(&mut self, a: usize, b: usize) -> Result<&mut Self> {
        self.two(GateKind::DCX, a, b)
    }
    /// RZX(θ) = exp(−iθ·Z_a X_b/2) (Qiskit's `rzx`: Z on `a`, X on `b`).
    pub fn rzx(&mut self, a: usize, b: usize, theta: impl Into<Angle>) -> Result<&mut Self> {
        self.two(GateKind::RZX(theta.into()), a, b)
    }
    /// XX−YY(θ, β) on `(a, b)` (Qiskit's `xx_minus_yy`).
    pub fn xx_minus_yy(
        &mut self,
        a: usize,
        b: usize,
        theta: impl Into<Angle>,
        beta: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.two(GateKind::XXMinusYY(theta.into(), beta.into()), a, b)
    }
    /// XX+YY(θ, β) on `(a, b)` (Qiskit's `xx_plus_yy`).
    pub fn xx_plus_yy(
        &mut self,
        a: usize,
        b: usize,
        theta: impl Into<Angle>,
        beta: impl Into<Angle>,
    ) -> Result<&mut Self> {
        self.two(GateKind::XXPlusYY(theta.into(), beta.into()), a, b)
    }
}

/// The error of a `call` whose `what` (`count`) exceeds [`MAX_PARAMS`].
pub(crate) fn oversize_error(call: &str, what: &str, count: usize) -> Error {
    Error::InvalidArgument(format!(
        "{call}: {what} {count} exceeds the limit of {MAX_PARAMS} trainable parameters / input \
         features per circuit (qshade::circuit::MAX_PARAMS); use smaller indices"
    ))
}

/// The error of an angle `angle` of `gate` that resolves to the non-finite `value`.
pub(crate) fn non_finite_angle(gate: &str, angle: &Angle, value: f64) -> Error {
    Error::InvalidArgument(format!(
        "angle {angle} of {gate} evaluates to {value} for the bound values (an overflow, or a \
         function outside its domain such as ln or sqrt of a negative number); use other \
         bound values or a different expression"
    ))
}

/// Checks that a row-major `d × d` matrix is unitary within [`UNITARY_TOLERANCE`].
pub fn check_unitary(m: &[C64], d: usize) -> Result<()> {
    if d.checked_mul(d) != Some(m.len()) {
        return Err(Error::BadMatrixSize {
            expected: d.saturating_mul(d),
            got: m.len(),
        });
    }
    if m.iter().any(|z| !z.re.is_finite() || !z.im.is_finite()) {
        return Err(Error::NotUnitary {
            deviation: f64::INFINITY,
            tolerance: UNITARY_TOLERANCE,
        });
    }
    // max |(U†U − I)_rk|
    let product = matmul(&dagger(m), m);
    let worst = (0..d * d)
        .map(|i| {
            let expected = if i % (d + 1) == 0 {
                C64::ONE
            } else {
                C64::ZERO
            };
            (product[i] - expected).norm()
        })
        .fold(0.0f64, f64::max);
    if worst > UNITARY_TOLERANCE {
        return Err(Error::NotUnitary {
            deviation: worst,
            tolerance: UNITARY_TOLERANCE,
        });
    }
    Ok(())
}
