"""PennyLane devices ``qshade.cpu`` and ``qshade.gpu``.

A whole tape (with parameter broadcasting: all B rows) runs as ONE batched qshade call:

* analytic expectation values of Pauli-sum observables -> ``Backend.forward`` (B rows);
* ``diff_method="adjoint"``: device VJPs -> one ``Backend.gradient`` call (batched adjoint,
  broadcasting included); device Jacobians -> one ``Backend.jacobian`` call;
* every other measurement (var, probs, state, sample, counts, shots, non-Pauli observables)
  is taken by PennyLane's own measurement code on the final state(s) qshade computed.

Operations qshade lacks are decomposed by PennyLane using ``qshade.toml``.
"""

from __future__ import annotations

import pathlib
from dataclasses import replace

import numpy as np
import pennylane as qml
from pennylane.devices import Device, ExecutionConfig
from pennylane.devices.modifiers import simulator_tracking, single_tape_support
from pennylane.devices.preprocess import (
    decompose,
    no_sampling,
    validate_adjoint_trainable_params,
    validate_device_wires,
    validate_measurements,
    validate_observables,
)
from pennylane.devices.qubit.simulate import measure_final_state
from pennylane.exceptions import DeviceError
from pennylane.measurements import ExpectationMP
from pennylane.tape import QuantumScript
from pennylane.transforms import broadcast_expand, defer_measurements
from pennylane.transforms.core import transform

try:  # PennyLane >= 0.44 calls it CompilePipeline
    from pennylane.transforms.core import CompilePipeline as _Pipeline
except ImportError:  # pragma: no cover - older PennyLane
    from pennylane.transforms.core import TransformProgram as _Pipeline

import qshade

# PennyLane operation name -> qshade gate name (Qiskit's). The one table of the device; a
# gate added to qshade is one line here and one in qshade.toml.
PL_TO_QSHADE = {
    "Hadamard": "h",
    "PauliX": "x",
    "PauliY": "y",
    "PauliZ": "z",
    "S": "s",
    "T": "t",
    "SX": "sx",
    "RX": "rx",
    "RY": "ry",
    "RZ": "rz",
    "PhaseShift": "p",
    "U3": "u",
    "CNOT": "cx",
    "CY": "cy",
    "CZ": "cz",
    "CRX": "crx",
    "CRY": "cry",
    "CRZ": "crz",
    "ControlledPhaseShift": "cp",
    "SWAP": "swap",
    "ISWAP": "iswap",
    "IsingXX": "rxx",
    "IsingYY": "ryy",
    "IsingZZ": "rzz",
    "Toffoli": "ccx",
    "CCZ": "ccz",
    "CSWAP": "cswap",
    "MultiControlledX": "mcx",
}
# Handled by the device itself: no gate (Identity) or a phase on the returned state.
_SPECIAL = {"Identity", "GlobalPhase"}
_SUPPORTED = frozenset(PL_TO_QSHADE) | _SPECIAL


def _supported_op(op) -> bool:
    if op.name == "MultiControlledX":
        return all(op.hyperparameters.get("control_values", [True]))
    if op.name == "QubitUnitary":
        # qshade's fixed 1- and 2-qubit unitaries: not batched, not trainable (else PennyLane
        # decomposes it into rotations, which qshade differentiates).
        return (
            len(op.wires) <= 2
            and qml.math.ndim(op.data[0]) == 2
            and not qml.math.requires_grad(op.data[0])
        )
    return op.name in _SUPPORTED


def _decomposer(op):
    """PennyLane's decomposition; an operator without one but with a matrix (BlockEncode,
    DoubleExcitationPlus, ...) becomes a QubitUnitary, which PennyLane decomposes further."""
    try:
        return op.decomposition()
    except qml.operation.DecompositionUndefinedError:
        if op.has_matrix and op.name != "QubitUnitary":
            return [qml.QubitUnitary(op.matrix(), wires=op.wires)]
        raise


def _pauli_sentence(obs):
    """The observable as a Pauli sum: its own ``pauli_rep``, else (Hermitian, Projector, ...
    on up to 6 wires) the Pauli decomposition of its matrix; None if neither exists."""
    if obs is None:
        return None
    if obs.pauli_rep is not None:
        return obs.pauli_rep
    if obs.has_matrix and len(obs.wires) <= 6:
        try:
            return qml.pauli_decompose(
                obs.matrix(), wire_order=obs.wires, pauli=True, hide_identity=False
            )
        except (ValueError, qml.exceptions.PennyLaneDeprecationWarning):  # non-Hermitian
            return None
    return None


def _adjoint_observable(obs) -> bool:
    return _pauli_sentence(obs) is not None


def _adjoint_compatible(tape) -> bool:
    return not tape.shots and all(
        isinstance(m, ExpectationMP) and _adjoint_observable(m.obs) for m in tape.measurements
    )


def _null_postprocessing(results):
    return results[0]


@transform
def _expand_broadcast_with_shots(tape: QuantumScript):
    """Samples are drawn per batch row: broadcasted tapes with shots are split."""
    if tape.batch_size is not None and tape.shots:
        return broadcast_expand(tape)
    return (tape,), _null_postprocessing


def _real(value) -> float:
    return float(np.real(qml.math.toarray(qml.math.unwrap(value))))


def _structure_key(tape: QuantumScript):
    """Tapes with equal keys differ only in gate parameter values: they share one circuit."""
    ops = tuple(
        (op.name, tuple(op.wires), len(op.data), tuple(op.hyperparameters.get("control_values", ())))
        if op.name == "MultiControlledX"
        else (op.name, tuple(op.wires), qml.math.toarray(op.data[0]).tobytes())
        if op.name == "QubitUnitary"
        else (op.name, tuple(op.wires), len(op.data))
        for op in tape.operations
    )
    meas = tuple(
        (type(m).__name__, repr(_pauli_sentence(m.obs)))
        if m.obs is not None and _pauli_sentence(m.obs) is not None
        else (type(m).__name__, repr(m))
        for m in tape.measurements
    )
    return ops, meas, tuple(tape.wires), tape.shots


def _parameter_columns(tape: QuantumScript):
    """Every gate parameter of `tape` (tape parameter order) as a float array."""
    return [
        np.zeros(())  # a fixed unitary: its matrix is built into the circuit
        if op.name == "QubitUnitary"
        else qml.math.toarray(qml.math.unwrap(p)).astype(float, copy=False)
        for op in tape.operations
        for p in op.data
    ]


def _theta_rows(columns, batch_size):
    b = batch_size or 1
    theta = np.empty((b, len(columns)))
    for k, col in enumerate(columns):
        theta[:, k] = np.broadcast_to(np.real(col), (b,))
    return theta


class _Compiled:
    """A tape on standard wires as one qshade circuit whose every gate parameter is its own
    trainable theta (theta index == PennyLane's tape parameter index), the batch of those
    parameters as a (B, P) array, and the tape's GlobalPhase angles."""

    def __init__(self, tape: QuantumScript, num_wires: int):
        self.n = num_wires
        self.circuit = qshade.Circuit(num_wires)
        self.global_phases = []  # theta indices of GlobalPhase angles
        self.batch_size = tape.batch_size
        k = 0
        for op in tape.operations:
            name = op.name
            first = k
            k += len(op.data)
            if name == "Identity":
                continue
            if name == "GlobalPhase":
                self.global_phases.append(first)
                continue
            if name == "QubitUnitary":
                # PennyLane's first wire is the most significant bit of the matrix index,
                # qshade's first qubit the least: reverse the wires.
                matrix = np.asarray(qml.math.toarray(op.data[0]), dtype=complex)
                self.circuit.unitary([self.qubit(w) for w in reversed(op.wires)], matrix)
                continue
            gate = PL_TO_QSHADE.get(name)
            if gate is None:  # pragma: no cover - preprocessing decomposes these
                raise DeviceError(f"qshade cannot run {name}; it should have been decomposed")
            qubits = [self.qubit(w) for w in op.wires]
            angles = [qshade.theta(first + j) for j in range(len(op.data))]
            self.circuit.add(gate, qubits, angles)
        self.num_params = k
        self.circuit.declare_params(k)
        columns = _parameter_columns(tape)
        self.theta = _theta_rows(columns, tape.batch_size)
        self.batched_param = [np.ndim(col) > 0 for col in columns]

    def qubit(self, wire) -> int:
        # PennyLane's wire 0 is the most significant bit; qshade's qubit 0 the least. Mapping
        # wire i -> qubit n-1-i makes qshade's amplitude order PennyLane's.
        return self.n - 1 - int(wire)

    def observable(self, obs) -> qshade.Observable:
        terms = []
        for word, coeff in _pauli_sentence(obs).items():
            wires = list(word.keys())
            terms.append(
                (_real(coeff), "".join(word[w] for w in wires), [self.qubit(w) for w in wires])
            )
        return qshade.Observable.from_terms(terms)

    def observables(self, tape: QuantumScript):
        return [self.observable(m.obs) for m in tape.measurements]

    def global_phase(self):
        """exp(-i * sum phi) per batch row (GlobalPhase(phi) = exp(-i phi) I)."""
        phi = sum((self.theta[:, k] for k in self.global_phases), np.zeros(len(self.theta)))
        return np.exp(-1j * phi)


class _Group:
    """Tapes of one structure: one compiled circuit, all their parameter rows stacked, so the
    whole group is ONE batched qshade call. `rows[i]` is tape i's slice of the stack."""

    def __init__(self, tapes):
        self.tapes = tapes
        self.comp = _Compiled(tapes[0], max(tapes[0].num_wires, 1))
        thetas = [self.comp.theta] + [
            _theta_rows(_parameter_columns(t), t.batch_size) for t in tapes[1:]
        ]
        bounds = np.cumsum([0] + [len(t) for t in thetas])
        self.rows = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        self.theta = np.concatenate(thetas, axis=0)


def _groups(circuits):
    """(indices, _Group) for the standard-wire tapes, grouped by structure, in first-seen order."""
    tapes = [t.map_to_standard_wires() for t in circuits]
    by_key: dict = {}
    for i, t in enumerate(tapes):
        by_key.setdefault(_structure_key(t), []).append(i)
    return [(idx, _Group([tapes[i] for i in idx])) for idx in by_key.values()]


def _format_rows(values: np.ndarray, batched: bool):
    """(B, m) values as a PennyLane result: one per measurement, (B,) arrays if batched."""
    per_mp = [values[:, j] if batched else values[0, j] for j in range(values.shape[1])]
    per_mp = [np.asarray(v) for v in per_mp]
    return per_mp[0] if len(per_mp) == 1 else tuple(per_mp)


def _format_jacobian(jac: np.ndarray, batched: bool):
    """(B, m, T) -> PennyLane's nesting: measurements, then trainable parameters."""
    b, m, t = jac.shape

    def entry(j, k):
        return np.asarray(jac[:, j, k] if batched else jac[0, j, k])

    if m == 1 and t == 1:
        return entry(0, 0)
    if m == 1:
        return tuple(entry(0, k) for k in range(t))
    if t == 1:
        return tuple(entry(j, 0) for j in range(m))
    return tuple(tuple(entry(j, k) for k in range(t)) for j in range(m))


@simulator_tracking
@single_tape_support
class QShadeDevice(Device):
    """A qshade simulator as a PennyLane device (base of ``qshade.cpu`` and ``qshade.gpu``).

    Args:
        wires: number of wires or their labels (None: as the circuit needs).
        shots: default shots (None: analytic).
        seed: seed of the sampling RNG (None: fresh entropy).
        precision: "f64" or "f32".
        backend: an explicit ``qshade.Backend`` (overrides ``precision``).
    """

    config_filepath = pathlib.Path(__file__).parent / "qshade.toml"
    short_name = "qshade"

    def __init__(self, wires=None, shots=None, seed=None, precision=None, backend=None):
        super().__init__(wires=wires, shots=shots)
        self._rng = np.random.default_rng(seed)
        self._backend = backend if backend is not None else self._make_backend(precision)

    def _make_backend(self, precision):  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def name(self):
        return self.short_name

    @property
    def backend(self) -> qshade.Backend:
        """The qshade backend this device runs on."""
        return self._backend

    # ---- configuration -------------------------------------------------------------------

    def supports_derivatives(self, execution_config=None, circuit=None) -> bool:
        if execution_config is None:
            return True
        if execution_config.gradient_method not in {"adjoint", "best", "device"}:
            return False
        if circuit is None:
            return True
        if execution_config.gradient_method == "best":
            return _adjoint_compatible(circuit)
        return not circuit.shots

    def supports_vjp(self, execution_config=None, circuit=None) -> bool:
        return self.supports_derivatives(execution_config, circuit)

    def setup_execution_config(self, config=None, circuit=None) -> ExecutionConfig:
        config = config or ExecutionConfig()
        updated = {}
        method = config.gradient_method
        if method in {"best", "device"}:
            method = "adjoint"
            updated["gradient_method"] = method
        if config.use_device_gradient is None:
            updated["use_device_gradient"] = method == "adjoint"
        if config.use_device_jacobian_product is None:
            updated["use_device_jacobian_product"] = False
        if config.grad_on_execution is None:
            updated["grad_on_execution"] = False
        mcm = config.mcm_config
        if mcm.mcm_method not in (None, "deferred"):
            raise DeviceError(
                f"mcm_method {mcm.mcm_method!r} is not supported by {self.name}; use 'deferred'"
            )
        updated["mcm_config"] = replace(mcm, mcm_method="deferred")
        updated["convert_to_numpy"] = True
        return replace(config, **updated)

    def preprocess_transforms(self, execution_config=None):
        config = execution_config or self.setup_execution_config()
        program = _Pipeline()
        program.add_transform(defer_measurements, allow_postselect=False)
        program.add_transform(
            decompose,
            stopping_condition=_supported_op,
            skip_initial_state_prep=False,
            decomposer=_decomposer,
            target_gates=set(_SUPPORTED) | {"QubitUnitary"},
            name=self.name,
        )
        program.add_transform(validate_device_wires, self.wires, name=self.name)
        program.add_transform(validate_measurements, name=self.name)
        program.add_transform(_expand_broadcast_with_shots)
        if config.gradient_method == "adjoint":
            name = f"adjoint + {self.name}"
            program.add_transform(no_sampling, name=name)
            program.add_transform(validate_observables, _adjoint_observable, name=name)
            program.add_transform(
                validate_measurements,
                analytic_measurements=lambda m: isinstance(m, ExpectationMP),
                name=name,
            )
            if not config.use_device_jacobian_product:
                # PennyLane's Jacobian format has no batch axis for a broadcast parameter; the
                # expanded tapes share one structure and still run as ONE batched call.
                program.add_transform(broadcast_expand)
            program.add_transform(validate_adjoint_trainable_params)
        return program

    # ---- execution -----------------------------------------------------------------------

    @staticmethod
    def _fast_path(tape: QuantumScript) -> bool:
        return _adjoint_compatible(tape)

    def _measure_states(self, tape: QuantumScript, comp: _Compiled, theta: np.ndarray):
        batched = tape.batch_size is not None
        states = np.stack([self._backend.run(comp.circuit, theta=row).amplitudes() for row in theta])
        phase = np.exp(-1j * theta[:, comp.global_phases].sum(axis=1))
        states = states * phase[:, None]
        shape = (2,) * comp.n
        states = states.reshape((len(states),) + shape) if batched else states[0].reshape(shape)
        return measure_final_state(tape, states, batched, rng=self._rng)

    def execute(self, circuits, execution_config=None):
        results = [None] * len(circuits)
        for idx, group in _groups(circuits):
            tape0, comp = group.tapes[0], group.comp
            if self._fast_path(tape0):
                values = self._backend.forward(
                    comp.circuit, comp.observables(tape0), theta=group.theta
                )
                for i, t, rows in zip(idx, group.tapes, group.rows):
                    results[i] = _format_rows(values[rows], t.batch_size is not None)
            else:
                for i, t, rows in zip(idx, group.tapes, group.rows):
                    results[i] = self._measure_states(t, comp, group.theta[rows])
        return tuple(results)

    def _jacobians(self, circuits):
        values_out = [None] * len(circuits)
        jacs_out = [None] * len(circuits)
        for idx, group in _groups(circuits):
            comp = group.comp
            values, jac, _ = self._backend.jacobian(
                comp.circuit, comp.observables(group.tapes[0]), theta=group.theta
            )
            for i, t, rows in zip(idx, group.tapes, group.rows):
                batched = t.batch_size is not None
                trainable = list(t.trainable_params)
                values_out[i] = _format_rows(values[rows], batched)
                jacs_out[i] = _format_jacobian(jac[rows][:, :, trainable], batched)
        return tuple(values_out), tuple(jacs_out)

    def compute_derivatives(self, circuits, execution_config=None):
        return self._jacobians(circuits)[1]

    def execute_and_compute_derivatives(self, circuits, execution_config=None):
        return self._jacobians(circuits)

    def _vjps(self, circuits, cotangents):
        values_out = [None] * len(circuits)
        vjps_out = [None] * len(circuits)
        for idx, group in _groups(circuits):
            comp = group.comp
            observables = comp.observables(group.tapes[0])
            m = len(observables)
            upstream = np.empty((len(group.theta), m))
            for i, rows in zip(idx, group.rows):
                b = rows.stop - rows.start
                cot = [cotangents[i]] if m == 1 else list(cotangents[i])
                for j, c in enumerate(cot):
                    upstream[rows, j] = np.broadcast_to(np.real(qml.math.toarray(c)), (b,))
            g = self._backend.gradient(
                comp.circuit, observables, upstream, theta=group.theta, per_sample_theta=True
            )
            for i, t, rows in zip(idx, group.tapes, group.rows):
                batched = t.batch_size is not None
                per_sample = g.theta_per_sample[rows]
                columns = _parameter_columns(t) if i != idx[0] else None
                out = []
                for k in t.trainable_params:
                    is_batched = (
                        comp.batched_param[k] if columns is None else np.ndim(columns[k]) > 0
                    )
                    if batched and is_batched:
                        out.append(np.asarray(per_sample[:, k]))
                    else:
                        out.append(np.asarray(per_sample[:, k].sum()))
                values_out[i] = _format_rows(g.values[rows], batched)
                vjps_out[i] = tuple(out)
        return tuple(values_out), tuple(vjps_out)

    def compute_vjp(self, circuits, cotangents, execution_config=None):
        return self._vjps(circuits, cotangents)[1]

    def execute_and_compute_vjp(self, circuits, cotangents, execution_config=None):
        return self._vjps(circuits, cotangents)


class QShadeCPU(QShadeDevice):
    """``qml.device("qshade.cpu", wires=..., precision="f64")``: qshade's fast multithreaded
    CPU backend (f64 by default)."""

    short_name = "qshade.cpu"

    def _make_backend(self, precision):
        return qshade.cpu(precision or "f64")


class QShadeGPU(QShadeDevice):
    """``qml.device("qshade.gpu", wires=..., precision="f32")``: qshade's WGSL/wgpu GPU
    backend (f32 by default; "f64" needs an adapter with 64-bit float shaders). Raises
    ``qshade.QShadeError`` when no GPU adapter is usable."""

    short_name = "qshade.gpu"

    def _make_backend(self, precision):
        return qshade.gpu(precision or "f32")
