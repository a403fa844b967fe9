"""PennyLane devices ``qshade.cpu`` and ``qshade.gpu``.

A whole tape (with parameter broadcasting: all B rows) runs as ONE batched qshade call:

* analytic expectation values of Pauli-sum observables -> ``Backend.forward`` (B rows);
* ``diff_method="adjoint"``: device VJPs -> one ``Backend.gradient`` call (batched adjoint,
  broadcasting included); device Jacobians -> one ``Backend.jacobian`` call;
* every other measurement (var, probs, state, sample, counts, shots, non-Pauli observables)
  is taken by PennyLane's own measurement code on the final state(s) qshade computed.

Operations qshade lacks are decomposed by PennyLane using ``qshade.toml`` (Rot and CRot run
natively as their RZ RY RZ chains; with device VJPs, AngleEmbedding and StronglyEntanglingLayers
too, whole). Each device keeps the compiled circuits of the tape structures it saw last (an LRU
keyed by an exact structure key), so a training loop compiles once and then only builds the
(B, P) parameter rows per call.
"""

from __future__ import annotations

import pathlib
from collections import OrderedDict
from dataclasses import replace

import autoray
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


def _negated(angles):
    """The angles with their signs flipped (PennyLane's and Qiskit's opposite conventions)."""
    return [-a for a in angles]


def _pick(i):
    """An angle map taking the op's i-th parameter alone (one factor of a product of gates)."""
    return lambda angles: [angles[i]]


# PennyLane operation name -> the qshade standard gates (Qiskit's names) it is, in circuit
# order, each as (gate, how PennyLane's parameters become that gate's angles; None: all of them
# in order). All gates act on the op's wires. Only exact correspondences (same matrix, global
# phase included, PennyLane's wire order being Qiskit's qubit order: controls first); the gates
# and their lowerings are Rust's standard gate library (`qshade.standard_gate_names()`), and
# `qshade.toml` lists exactly these keys (a test checks both). An op that is an exact product of
# several qshade gates (Rot, CRot) maps to all of them, so PennyLane does not decompose it (one
# op instead of three per Rot on every call) and Rust still fuses the chain.
PL_TO_QSHADE = {
    "Hadamard": (("h", None),),
    "PauliX": (("x", None),),
    "PauliY": (("y", None),),
    "PauliZ": (("z", None),),
    "S": (("s", None),),
    "T": (("t", None),),
    "SX": (("sx", None),),
    "RX": (("rx", None),),
    "RY": (("ry", None),),
    "RZ": (("rz", None),),
    "PhaseShift": (("p", None),),
    "U1": (("u1", None),),
    "U2": (("u2", None),),
    "U3": (("u", None),),
    "CNOT": (("cx", None),),
    "CY": (("cy", None),),
    "CZ": (("cz", None),),
    "CH": (("ch", None),),
    "CRX": (("crx", None),),
    "CRY": (("cry", None),),
    "CRZ": (("crz", None),),
    "ControlledPhaseShift": (("cp", None),),
    "SWAP": (("swap", None),),
    "ISWAP": (("iswap", None),),
    "ECR": (("ecr", None),),
    "IsingXX": (("rxx", None),),
    "IsingYY": (("ryy", None),),
    "IsingZZ": (("rzz", None),),
    # IsingXY(phi) = exp(i phi (XX + YY) / 4) = XXPlusYY(-phi, beta=0).
    "IsingXY": (("xx_plus_yy", lambda a: [-a[0], 0.0]),),
    "Toffoli": (("ccx", None),),
    "CCZ": (("ccz", None),),
    "CSWAP": (("cswap", None),),
    "MultiControlledX": (("mcx", None),),
    # GlobalPhase(phi) = exp(-i phi) I, on no qubit; Qiskit's global_phase(g) = exp(i g).
    "GlobalPhase": (("global_phase", _negated),),
    # Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi) exactly (PennyLane's definition).
    "Rot": (("rz", _pick(0)), ("ry", _pick(1)), ("rz", _pick(2))),
    # CRot = |0><0| I + |1><1| Rot: the product of the controlled factors.
    "CRot": (("crz", _pick(0)), ("cry", _pick(1)), ("crz", _pick(2))),
}
# Compiled circuits a device keeps (one per tape structure seen most recently).
_COMPILE_CACHE_SIZE = 32

# Handled by the device itself: no gate.
_SPECIAL = {"Identity"}
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


# Templates the device compiles itself when it computes the VJPs (device_vjp=True, adjoint):
# their parameter is an array (features (m,), weights (L, n, 3)), one theta column per entry,
# and the VJP has the array's shape. Name -> number of dimensions of the unbatched parameter.
# (Without device VJPs PennyLane wants per-parameter Jacobian entries, which it handles for
# scalar parameters only: there PennyLane decomposes them as before.)
_TEMPLATES = {"AngleEmbedding": 1, "StronglyEntanglingLayers": 3}
_EMBEDDING_GATES = {"RX": "rx", "RY": "ry", "RZ": "rz"}
# StronglyEntanglingLayers' imprimitive, applied on wires [i, (i + r) % n] (PennyLane's order,
# as for the op itself): the parameterless 2-qubit gates PL_TO_QSHADE maps to one qshade gate.
_ENTANGLERS = {
    name: PL_TO_QSHADE[name][0][0] for name in ("CNOT", "CZ", "CY", "CH", "SWAP", "ISWAP", "ECR")
}


def _native_template(op) -> bool:
    name = op.name
    if name not in _TEMPLATES or len(op.data) != 1:
        return False
    shape = qml.math.shape(op.data[0])
    base = _TEMPLATES[name]
    if len(shape) not in (base, base + 1):
        return False
    n = len(op.wires)
    hp = op.hyperparameters
    if name == "AngleEmbedding":
        return getattr(hp.get("rotation"), "__name__", None) in _EMBEDDING_GATES and (
            shape[-1] <= n
        )
    ranges = tuple(hp.get("ranges") or ())
    return (
        getattr(hp.get("imprimitive"), "__name__", None) in _ENTANGLERS
        and tuple(shape[-2:]) == (n, 3)
        and len(ranges) == shape[-3]
        and (n == 1 or all(int(r) % n for r in ranges))
    )


def _supported_op_or_template(op) -> bool:
    return _supported_op(op) or _native_template(op)


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
    # shots first: tape.batch_size walks every op, which analytic tapes never need here.
    if tape.shots and tape.batch_size is not None:
        return broadcast_expand(tape)
    return (tape,), _null_postprocessing


def _real(value) -> float:
    return float(np.real(qml.math.toarray(qml.math.unwrap(value))))


# Observables without parameters whose Pauli form is fixed by name and wires (a cheap exact key).
_PLAIN_OBSERVABLES = frozenset({"PauliX", "PauliY", "PauliZ", "Identity", "Hadamard"})


def _exact_key(value):
    """An exact, hashable stand-in for a number or array (no rounding, unlike repr/str)."""
    if type(value) in (float, int, complex):
        return value
    a = np.asarray(qml.math.toarray(qml.math.unwrap(value)))
    return (a.dtype.str, a.shape, a.tobytes())


def _op_key(op):
    name = op.name
    if name == "QubitUnitary":  # its matrix is built into the circuit
        return (name, op.wires.labels, _exact_key(op.data[0]))
    if name == "MultiControlledX":
        hp = op.hyperparameters
        return (
            name,
            op.wires.labels,
            len(op.data),
            tuple(hp.get("control_values") or ()),
            tuple(hp.get("work_wires") or ()),
        )
    if name in _TEMPLATES:  # the unbatched parameter shape and hyperparameters fix the gates
        hp = op.hyperparameters
        shape = tuple(qml.math.shape(op.data[0])[-_TEMPLATES[name] :])
        gate = hp.get("rotation") or hp.get("imprimitive")
        return (
            name,
            op.wires.labels,
            shape,
            getattr(gate, "__name__", repr(gate)),
            tuple(hp.get("ranges") or ()),
        )
    return (name, op.wires.labels, len(op.data))


def _measurement_key(m):
    kind = type(m).__name__
    obs = m.obs
    if obs is not None:
        if obs.name in _PLAIN_OBSERVABLES and not obs.data:
            return (kind, obs.name, obs.wires.labels)
        sentence = _pauli_sentence(obs)
        if sentence is not None:  # the compiled observable: exact Pauli words and coefficients
            return (
                kind,
                tuple((tuple(word.items()), _exact_key(c)) for word, c in sentence.items()),
            )
    # Not a compiled observable (measured by PennyLane on the tape itself): only the kind of
    # measurement matters for the circuit; repr keeps tapes with different ones apart anyway.
    return (kind, repr(m))


def _structure_key(tape: QuantumScript):
    """Tapes with equal keys differ only in gate parameter values: they share one compiled
    circuit and observables. The key holds every op's name, wires and parameter count (and a
    fixed unitary's matrix, MultiControlledX's control values and work wires, a native
    template's parameter shape, rotation/entangler and ranges), the observables' exact Pauli
    words and coefficients, the tape's wires (which fix the standard wire map) and its shots."""
    return (
        tuple(map(_op_key, tape.operations)),
        tuple(map(_measurement_key, tape.measurements)),
        tape.wires.labels,
        tape.shots,
    )


class _Compiled:
    """A tape's structure as one qshade circuit whose every gate parameter entry is its own
    trainable theta column (tape parameter k, of unbatched shape `layout[k][1]`, is the columns
    from `layout[k][0]` on, in C order; with scalar parameters only, theta index == PennyLane's
    tape parameter index; a gate whose angles are expressions of them is differentiated
    through those in Rust), and its observables when the tape takes the fast path (analytic
    expectation values of Pauli sums). Shared by every tape with the same `_structure_key`."""

    def __init__(self, tape: QuantumScript):
        tape = tape.map_to_standard_wires()
        self.n = max(tape.num_wires, 1)
        self.circuit = qshade.Circuit(self.n)
        self.fixed = set()  # parameter indices of fixed unitaries: not angles, columns stay 0
        self.layout = []  # per tape parameter: (first theta column, unbatched shape)
        cols = 0
        for op in tape.operations:
            name = op.name
            first = cols
            if name in _TEMPLATES:
                shape = tuple(qml.math.shape(op.data[0])[-_TEMPLATES[name] :])
                self.layout.append((first, shape))
                cols += int(np.prod(shape, dtype=np.int64))
                self._add_template(op, first, shape)
                continue
            for _ in op.data:
                self.layout.append((cols, ()))
                cols += 1
            if name in _SPECIAL:
                continue
            if name == "QubitUnitary":
                # PennyLane's first wire is the most significant bit of the matrix index,
                # qshade's first qubit the least: reverse the wires.
                self.fixed.add(len(self.layout) - 1)
                matrix = np.asarray(qml.math.toarray(op.data[0]), dtype=complex)
                self.circuit.unitary([self.qubit(w) for w in reversed(op.wires)], matrix)
                continue
            if name not in PL_TO_QSHADE:  # pragma: no cover - preprocessing decomposes these
                raise DeviceError(f"qshade cannot run {name}; it should have been decomposed")
            angles = [qshade.theta(first + j) for j in range(len(op.data))]
            for gate, angle_map in PL_TO_QSHADE[name]:
                num_qubits, _ = qshade.standard_gate_signature(gate)
                qubits = [self.qubit(w) for w in op.wires] if num_qubits else []
                self.circuit.add(gate, qubits, angle_map(angles) if angle_map else angles)
        self.num_cols = cols
        self.circuit.declare_params(cols)
        # Expectation values of Pauli sums: compiled observables (forward, adjoint); analytic
        # ones take the fast path, everything else is measured by PennyLane on the states.
        pauli_expvals = all(
            isinstance(m, ExpectationMP) and _adjoint_observable(m.obs) for m in tape.measurements
        )
        self.observables = (
            [self.observable(m.obs) for m in tape.measurements] if pauli_expvals else None
        )
        self.fast = pauli_expvals and not tape.shots

    def _add_template(self, op, first: int, shape) -> None:
        """AngleEmbedding / StronglyEntanglingLayers as PennyLane decomposes them (gates in the
        same order, Rot as its RZ RY RZ chain), on theta columns `first + flat index`."""
        qubits = [self.qubit(w) for w in op.wires]
        hp = op.hyperparameters
        if op.name == "AngleEmbedding":
            gate = _EMBEDDING_GATES[hp["rotation"].__name__]
            for i in range(shape[0]):
                self.circuit.add(gate, [qubits[i]], [qshade.theta(first + i)])
            return
        entangler = _ENTANGLERS[hp["imprimitive"].__name__]
        layers, n, _ = shape
        for layer, r in zip(range(layers), hp["ranges"]):
            for i in range(n):
                c = first + (layer * n + i) * 3
                for gate, j in (("rz", 0), ("ry", 1), ("rz", 2)):
                    self.circuit.add(gate, [qubits[i]], [qshade.theta(c + j)])
            if n > 1:
                for i in range(n):
                    self.circuit.add(entangler, [qubits[i], qubits[(i + int(r)) % n]])

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


def _column(p):
    if isinstance(p, (np.ndarray, np.generic, float, int)):
        return np.asarray(p)
    return np.asarray(qml.math.toarray(qml.math.unwrap(p)))


class _Parameters:
    """One tape's gate parameters as (B, C) theta rows (`_Compiled.layout` columns):
    `batch_size` is the tape's broadcast size (None if not broadcast), `batched[k]` whether tape
    parameter k is broadcast."""

    def __init__(self, tape: QuantumScript, comp: _Compiled):
        data = [d for op in tape.operations for d in op.data]
        if len(data) != len(comp.layout):  # pragma: no cover - equal structure keys
            raise DeviceError("qshade: the tape does not match its compiled circuit")
        fixed_cols, fixed_vals, batch_cols, batch_vals = [], [], [], []
        self.batched = batched = [False] * len(data)
        sizes = set()
        for k, (d, (start, shape)) in enumerate(zip(data, comp.layout)):
            if k in comp.fixed:  # a fixed unitary: its matrix is built into the circuit
                continue
            a = _column(d)
            if a.shape == shape:
                if shape:
                    fixed_cols.extend(range(start, start + a.size))
                else:
                    fixed_cols.append(start)
                fixed_vals.append(a.reshape(-1))
            elif a.ndim == len(shape) + 1 and a.shape[1:] == shape:
                batched[k] = True
                sizes.add(a.shape[0])
                batch_cols.extend(range(start, start + a[0].size))
                batch_vals.append(a.reshape(a.shape[0], -1))
            else:
                raise ValueError(
                    f"Gate parameter {k} of the tape has shape {a.shape}; expected {shape} or a "
                    f"broadcast (batch,) + {shape}."
                )
        if len(sizes) > 1:
            raise ValueError(
                "The gate parameters of the tape are broadcast with different batch sizes "
                f"{sorted(sizes)}; broadcast parameters must share one batch size."
            )
        self.batch_size = sizes.pop() if sizes else None
        theta = np.zeros((self.batch_size or 1, comp.num_cols))
        if fixed_cols:
            theta[:, fixed_cols] = np.real(np.concatenate(fixed_vals))
        if batch_cols:
            theta[:, batch_cols] = np.real(np.concatenate(batch_vals, axis=1))
        self.theta = theta

    def vjp(self, comp: _Compiled, per_sample: np.ndarray, k: int, batched_tape: bool):
        """Tape parameter k's VJP from the per-row theta gradients (rows, C): per row if the
        parameter is broadcast, summed over the rows otherwise; in the parameter's shape."""
        start, shape = comp.layout[k]
        size = int(np.prod(shape, dtype=np.int64))
        block = per_sample[:, start : start + size]
        if batched_tape and self.batched[k]:
            return np.asarray(block.reshape((len(block),) + shape))
        return np.asarray(block.sum(axis=0).reshape(shape))


def _observable_parameter_shapes(tape: QuantumScript):
    """The shapes of the tape's parameters by index (read once per tape), for its trainable
    parameters that belong to the measured observables (e.g. Hamiltonian coefficients; their
    indices follow every operation's). Adjoint differentiation gives those a zero derivative,
    as PennyLane's own adjoint devices (lightning.qubit) do: gradients are taken w.r.t. the
    circuit's parameters only, and PennyLane's ``validate_adjoint_trainable_params`` warns the
    user about it."""
    return [np.shape(qml.math.unwrap(v)) for v in tape.get_parameters(trainable_only=False)]


class _Group:
    """Tapes of one structure: one compiled circuit, all their parameter rows stacked, so the
    whole group is ONE batched qshade call. `rows[i]` is tape i's slice of the stack."""

    def __init__(self, comp: _Compiled, tapes):
        self.tapes = tapes
        self.comp = comp
        self.params = [_Parameters(t, comp) for t in tapes]
        bounds = np.cumsum([0] + [len(p.theta) for p in self.params])
        self.rows = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
        self.theta = (
            self.params[0].theta
            if len(tapes) == 1
            else np.concatenate([p.theta for p in self.params], axis=0)
        )


class _TapeVJPs(tuple):
    """One tape's VJPs, one per trainable parameter, each in its parameter's shape: a plain
    tuple, plus ``squeeze``. The shapes differ under broadcasting ((B,) for a broadcast angle,
    () for a shared one, (L, n, 3) for template weights), and PennyLane's torch interface
    (``ExecuteTapes.backward``) tests ``np.squeeze(vjps).shape != (0,)`` to skip tapes with
    no trainable parameter, which for such a tuple makes numpy build an inhomogeneous array
    and raise. ``np.squeeze`` calls this method instead: its shape is (number of VJPs,), so
    the test says the same as for a homogeneous tuple and nothing is stacked."""

    __slots__ = ()

    def squeeze(self, axis=None):
        """A placeholder of shape (len(self),): only its shape is ever read."""
        return np.empty((len(self),))


# qml.math (autoray) infers a value's array library from its class's module; without this a
# _TapeVJPs would count as a library called "qshade" and qml.math.to_numpy / allclose on a
# compute_vjp result would fail. It is a plain tuple, as PennyLane's own devices return.
autoray.register_backend(_TapeVJPs, "builtins")


def _format_rows(values: np.ndarray, batched: bool):
    """(B, m) values as a PennyLane result: one per measurement, (B,) arrays if batched."""
    per_mp = [values[:, j] if batched else values[0, j] for j in range(values.shape[1])]
    per_mp = [np.asarray(v) for v in per_mp]
    return per_mp[0] if len(per_mp) == 1 else tuple(per_mp)


def _format_jacobian(blocks, m: int, batched: bool):
    """Per trainable parameter (B, m) + shape blocks -> PennyLane's nesting: measurements, then
    trainable parameters."""
    t = len(blocks)

    def entry(j, k):
        return np.asarray(blocks[k][:, j] if batched else blocks[k][0, j])

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
        # structure key -> _Compiled, least recently used first (bounded: _COMPILE_CACHE_SIZE).
        self._compile_cache: OrderedDict = OrderedDict()

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
        templates = config.gradient_method == "adjoint" and bool(
            config.use_device_jacobian_product
        )
        program = _Pipeline()
        program.add_transform(defer_measurements, allow_postselect=False)
        program.add_transform(
            decompose,
            stopping_condition=_supported_op_or_template if templates else _supported_op,
            skip_initial_state_prep=False,
            decomposer=_decomposer,
            target_gates=set(_SUPPORTED)
            | {"QubitUnitary"}
            | (set(_TEMPLATES) if templates else set()),
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

    def _compiled(self, tape: QuantumScript) -> _Compiled:
        """The compiled circuit of `tape`'s structure, from the device's LRU cache: a training
        loop compiles once and then only builds theta rows per call."""
        key = _structure_key(tape)
        cache = self._compile_cache
        comp = cache.get(key)
        if comp is None:
            comp = _Compiled(tape)
            cache[key] = comp
            if len(cache) > _COMPILE_CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return comp

    def _groups(self, circuits):
        """(indices, _Group) for the tapes, grouped by structure, in first-seen order."""
        by_comp: dict = {}
        for i, t in enumerate(circuits):
            comp = self._compiled(t)
            by_comp.setdefault(id(comp), (comp, []))[1].append(i)
        return [
            (idx, _Group(comp, [circuits[i] for i in idx])) for comp, idx in by_comp.values()
        ]

    def _measure_states(self, tape: QuantumScript, comp: _Compiled, params: _Parameters):
        batched = params.batch_size is not None
        rows = params.theta
        states = np.stack([self._backend.run(comp.circuit, theta=row).amplitudes() for row in rows])
        shape = (2,) * comp.n
        states = states.reshape((len(states),) + shape) if batched else states[0].reshape(shape)
        return measure_final_state(tape.map_to_standard_wires(), states, batched, rng=self._rng)

    def execute(self, circuits, execution_config=None):
        results = [None] * len(circuits)
        for idx, group in self._groups(circuits):
            comp = group.comp
            if comp.fast:
                values = self._backend.forward(comp.circuit, comp.observables, theta=group.theta)
                for i, p, rows in zip(idx, group.params, group.rows):
                    results[i] = _format_rows(values[rows], p.batch_size is not None)
            else:
                for i, t, p in zip(idx, group.tapes, group.params):
                    results[i] = self._measure_states(t, comp, p)
        return tuple(results)

    @staticmethod
    def _observables(comp: _Compiled):
        if comp.observables is None:  # pragma: no cover - preprocessing validates this
            raise DeviceError("qshade differentiates expectation values of Pauli sums only")
        return comp.observables

    def _jacobians(self, circuits):
        values_out = [None] * len(circuits)
        jacs_out = [None] * len(circuits)
        for idx, group in self._groups(circuits):
            comp = group.comp
            values, jac, _ = self._backend.jacobian(
                comp.circuit, self._observables(comp), theta=group.theta
            )
            m = jac.shape[1]
            for i, t, p, rows in zip(idx, group.tapes, group.params, group.rows):
                batched = p.batch_size is not None
                j = jac[rows]
                blocks = []
                obs_shapes = None
                for k in t.trainable_params:
                    if k >= len(comp.layout):  # an observable's parameter: derivative 0
                        obs_shapes = obs_shapes or _observable_parameter_shapes(t)
                        blocks.append(np.zeros(j.shape[:2] + obs_shapes[k]))
                        continue
                    start, shape = comp.layout[k]
                    size = int(np.prod(shape, dtype=np.int64))
                    blocks.append(j[:, :, start : start + size].reshape(j.shape[:2] + shape))
                values_out[i] = _format_rows(values[rows], batched)
                jacs_out[i] = _format_jacobian(blocks, m, batched)
        return tuple(values_out), tuple(jacs_out)

    def compute_derivatives(self, circuits, execution_config=None):
        return self._jacobians(circuits)[1]

    def execute_and_compute_derivatives(self, circuits, execution_config=None):
        return self._jacobians(circuits)

    def _vjps(self, circuits, cotangents):
        values_out = [None] * len(circuits)
        vjps_out = [None] * len(circuits)
        for idx, group in self._groups(circuits):
            comp = group.comp
            observables = self._observables(comp)
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
            for i, t, p, rows in zip(idx, group.tapes, group.params, group.rows):
                batched = p.batch_size is not None
                per_sample = g.theta_per_sample[rows]
                obs_shapes = (
                    _observable_parameter_shapes(t)
                    if any(k >= len(comp.layout) for k in t.trainable_params)
                    else None
                )
                out = _TapeVJPs(
                    p.vjp(comp, per_sample, k, batched)
                    if k < len(comp.layout)
                    else np.zeros(obs_shapes[k])  # an observable's parameter: 0
                    for k in t.trainable_params
                )
                values_out[i] = _format_rows(g.values[rows], batched)
                vjps_out[i] = out
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
