"""Qiskit primitives on qshade: :class:`EstimatorV2` and :class:`SamplerV2`.

A PUB's whole parameter-value array runs as ONE batched qshade call: every distinct parameter
row times every distinct observable through ``Backend.forward`` (the estimator), or one state
per parameter row sampled by qshade (the sampler). Gates qshade lacks are decomposed by
Qiskit's ``transpile`` into qshade's gate set (``qshade.gate_table()``), not by hand.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter, ParameterExpression
from qiskit.primitives import BaseEstimatorV2, BaseSamplerV2
from qiskit.primitives.containers import (
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.primitives.primitive_job import PrimitiveJob

import qshade

# qshade's gates by Qiskit name (the transpile basis), plus multi-controlled X, run natively.
BASIS_GATES = tuple(name for name, _, _ in qshade.gate_table())
QSHADE_GATES = BASIS_GATES + ("mcx",)
_IGNORED = {"barrier", "delay"}


class CompiledCircuit:
    """A Qiskit circuit as a qshade circuit whose every parameterised gate angle is its own
    theta column, plus how to compute those columns from Qiskit's parameter values."""

    def __init__(self, qc: QuantumCircuit):
        if any(
            inst.operation.name not in QSHADE_GATES and inst.operation.name not in _IGNORED
            for inst in qc.data
        ):
            qc = transpile(qc, basis_gates=list(BASIS_GATES), optimization_level=0)
        self.parameters = list(qc.parameters)
        index = {p: k for k, p in enumerate(self.parameters)}
        self.circuit = qshade.Circuit(max(qc.num_qubits, 1))
        self.occurrences: list = []  # (column | None, scale, offset, expression)
        for inst in qc.data:
            op = inst.operation
            if op.name in _IGNORED:
                continue
            if op.name == "measure" or op.name == "reset" or inst.clbits:
                raise qshade.QShadeError(
                    f"qshade's primitives cannot run {op.name!r} inside a circuit "
                    "(only final measurements are supported)"
                )
            qubits = [qc.find_bit(q).index for q in inst.qubits]
            angles = []
            for p in op.params:
                if isinstance(p, ParameterExpression) and p.parameters:
                    angles.append(qshade.theta(len(self.occurrences)))
                    self.occurrences.append(self._occurrence(p, index))
                else:
                    angles.append(float(p))
            self.circuit.add(op.name, qubits, angles)
        self.circuit.declare_params(len(self.occurrences))

    @staticmethod
    def _occurrence(expr: ParameterExpression, index: dict):
        """How to compute one gate angle from the parameter rows: a plain column, an affine
        or bilinear form of one or two parameters (recognised by probing the expression and
        checking a further point; vectorised), or a general expression (evaluated per row)."""
        if isinstance(expr, Parameter):
            return ("affine", index[expr], 1.0, 0.0)
        params = list(expr.parameters)

        def f(*values):
            return float(expr.bind(dict(zip(params, values))).numeric())

        def close(x, y):
            return abs(x - y) <= 1e-10 * max(1.0, abs(x), abs(y))

        if len(params) == 1:
            f0, f1 = f(0.0), f(1.0)
            scale, offset = f1 - f0, f0
            if close(f(2.7), 2.7 * scale + offset) and close(f(-1.3), -1.3 * scale + offset):
                return ("affine", index[params[0]], scale, offset)
        if len(params) == 2:
            c0 = f(0.0, 0.0)
            ca, cb = f(1.0, 0.0) - c0, f(0.0, 1.0) - c0
            cab = f(1.0, 1.0) - c0 - ca - cb
            if all(
                close(f(a, b), c0 + ca * a + cb * b + cab * a * b)
                for a, b in ((2.3, -1.7), (-0.6, 3.1))
            ):
                return ("bilinear", index[params[0]], index[params[1]], c0, ca, cb, cab)
        return ("expr", expr)

    def theta(self, values: np.ndarray) -> np.ndarray:
        """Theta rows (R, K) from Qiskit parameter rows (R, P)."""
        rows = values.shape[0]
        out = np.empty((rows, len(self.occurrences)))
        for k, occ in enumerate(self.occurrences):
            if occ[0] == "affine":
                _, col, scale, offset = occ
                out[:, k] = scale * values[:, col] + offset
            elif occ[0] == "bilinear":
                _, ia, ib, c0, ca, cb, cab = occ
                a, b = values[:, ia], values[:, ib]
                out[:, k] = c0 + ca * a + cb * b + cab * a * b
            else:
                expr = occ[1]
                params = list(expr.parameters)
                cols = [self.parameters.index(p) for p in params]
                out[:, k] = [
                    float(expr.bind(dict(zip(params, values[r, cols]))).numeric())
                    for r in range(rows)
                ]
        return out


def _parameter_values(pub, compiled: CompiledCircuit) -> tuple[np.ndarray, tuple]:
    """The PUB's parameter values as rows (R, P) in ``compiled.parameters`` order."""
    shape = pub.parameter_values.shape
    if compiled.parameters:
        values = pub.parameter_values.as_array(compiled.parameters)
    else:
        values = np.zeros(shape + (0,))
    rows = int(np.prod(shape, dtype=np.int64))
    return np.asarray(values, dtype=float).reshape(rows, len(compiled.parameters)), shape


def _parameter_rows(pub, compiled: CompiledCircuit) -> tuple[np.ndarray, tuple]:
    shape = pub.parameter_values.shape
    if compiled.parameters:
        values = pub.parameter_values.as_array(compiled.parameters)
    else:
        values = np.zeros(shape + (0,))
    rows = int(np.prod(shape, dtype=np.int64))
    values = np.asarray(values, dtype=float).reshape(rows, len(compiled.parameters))
    return compiled.theta(values), shape


def _observable(obs, num_qubits: int) -> qshade.Observable:
    terms = []
    for label, coeff in obs.items():
        if len(label) != num_qubits:
            raise qshade.QShadeError(
                f"observable {label!r} acts on {len(label)} qubits, circuit has {num_qubits}"
            )
        if abs(np.imag(coeff)) > 1e-10:
            raise qshade.QShadeError(
                f"observable term {label!r} has complex coefficient {coeff}; qshade's "
                "estimator takes Hermitian observables (real coefficients)"
            )
        qubits = [q for q, ch in enumerate(reversed(label)) if ch != "I"]
        letters = "".join(label[num_qubits - 1 - q] for q in qubits)
        terms.append((float(np.real(coeff)), letters, qubits))
    return qshade.Observable.from_terms(terms)


class EstimatorV2(BaseEstimatorV2):
    """Qiskit's Estimator V2 on qshade: exact expectation values (plus Gaussian noise of the
    requested ``precision``, as ``StatevectorEstimator`` does).

    Args:
        backend: a ``qshade.Backend`` (default: ``qshade.cpu()``).
        default_precision: precision of PUBs that give none (0: exact).
        seed: seed of the noise RNG.
    """

    def __init__(self, *, backend=None, default_precision: float = 0.0, seed=None):
        self._backend = backend if backend is not None else qshade.cpu()
        self._default_precision = default_precision
        self._seed = seed

    @property
    def backend(self):
        """The qshade backend."""
        return self._backend

    def run(self, pubs, *, precision=None):
        if precision is None:
            precision = self._default_precision
        coerced = [EstimatorPub.coerce(pub, precision) for pub in pubs]
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs):
        # PUBs on the same circuit object (e.g. a gradient's shifted points) share one
        # compiled circuit and ONE batched forward call over all their rows and observables.
        rng = np.random.default_rng(self._seed)
        groups: dict = {}
        for i, pub in enumerate(pubs):
            groups.setdefault(id(pub.circuit), []).append(i)
        results = [None] * len(pubs)
        for idx in groups.values():
            for i, r in zip(idx, self._run_group([pubs[i] for i in idx], rng)):
                results[i] = r
        return PrimitiveResult(results, metadata={"version": 2})

    def _run_group(self, pubs, rng):
        circuit = pubs[0].circuit.remove_final_measurements(inplace=False)
        compiled = CompiledCircuit(circuit)
        thetas, pshapes, obs_index, observables = [], [], [], []
        seen: dict = {}
        for pub in pubs:
            values, pshape = _parameter_values(pub, compiled)
            thetas.append(values)
            pshapes.append(pshape)
            idx = []
            for o in np.ndindex(*pub.observables.shape):
                obs = pub.observables[o]
                key = tuple(sorted((k, complex(v)) for k, v in obs.items()))
                if key not in seen:
                    seen[key] = len(observables)
                    observables.append(_observable(obs, circuit.num_qubits))
                idx.append(seen[key])
            obs_index.append(np.array(idx, dtype=np.int64).reshape(pub.observables.shape))
        theta = compiled.theta(np.concatenate(thetas, axis=0))  # all PUBs' rows at once
        values = self._backend.forward(
            compiled.circuit, observables, theta=theta, batch_size=len(theta)
        )
        out, start = [], 0
        for pub, t, pshape, oi in zip(pubs, thetas, pshapes, obs_index):
            p_idx = start + np.arange(len(t)).reshape(pshape)
            start += len(t)
            pi, oj = np.broadcast_arrays(p_idx, oi)
            evs = np.asarray(values[pi, oj], dtype=float)
            if pub.precision != 0:
                evs = rng.normal(evs, pub.precision)
            stds = np.full_like(evs, pub.precision)
            out.append(
                PubResult(
                    DataBin(evs=evs, stds=stds, shape=evs.shape),
                    metadata={
                        "target_precision": pub.precision,
                        "circuit_metadata": pub.circuit.metadata,
                    },
                )
            )
        return out


def _measurement_map(qc: QuantumCircuit):
    """{(creg name, bit): qubit} of the circuit's final measurements."""
    active_q = set(range(qc.num_qubits))
    active_c = set(range(qc.num_clbits))
    mapping = {}
    for inst in reversed(qc.data):
        if inst.operation.name == "measure":
            loc = qc.find_bit(inst.clbits[0])
            q = qc.find_bit(inst.qubits[0]).index
            if loc.index in active_c and q in active_q:
                for reg, bit in loc.registers:
                    mapping[(reg.name, bit)] = q
                active_c.remove(loc.index)
        elif inst.operation.name not in _IGNORED:
            for qq in inst.qubits:
                active_q.discard(qc.find_bit(qq).index)
        if not active_c or not active_q:
            break
    return mapping


class SamplerV2(BaseSamplerV2):
    """Qiskit's Sampler V2 on qshade: final measurements sampled from qshade's state with a
    seeded RNG (like ``StatevectorSampler``).

    Args:
        backend: a ``qshade.Backend`` (default: ``qshade.cpu()``).
        default_shots: shots of PUBs that give none.
        seed: sampling seed (None: fresh entropy per run).
    """

    def __init__(self, *, backend=None, default_shots: int = 1024, seed=None):
        self._backend = backend if backend is not None else qshade.cpu()
        self._default_shots = default_shots
        self._seed = seed

    @property
    def backend(self):
        """The qshade backend."""
        return self._backend

    def run(self, pubs, *, shots=None):
        if shots is None:
            shots = self._default_shots
        coerced = [SamplerPub.coerce(pub, shots) for pub in pubs]
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs):
        return PrimitiveResult([self._run_pub(p) for p in pubs], metadata={"version": 2})

    def _run_pub(self, pub) -> SamplerPubResult:
        qc = pub.circuit
        mapping = _measurement_map(qc)
        stripped = qc.remove_final_measurements(inplace=False)
        compiled = CompiledCircuit(stripped)
        theta, pshape = _parameter_rows(pub, compiled)
        seeds = np.random.default_rng(self._seed).integers(0, 2**63, size=len(theta))
        samples = np.empty((len(theta), pub.shots), dtype=np.uint64)
        for r, row in enumerate(theta):
            state = self._backend.run(compiled.circuit, theta=row)
            samples[r] = state.sample(pub.shots, int(seeds[r]))
        meas = {}
        for creg in qc.cregs:
            n = creg.size
            nbytes = (n + 7) // 8
            bits = np.zeros((len(theta), pub.shots, nbytes * 8), dtype=np.uint8)
            for b in range(n):
                q = mapping.get((creg.name, b))
                if q is not None:
                    # Column nbytes*8-1-b holds bit b (big-endian packing, bit 0 last).
                    bits[:, :, nbytes * 8 - 1 - b] = (samples >> np.uint64(q)) & np.uint64(1)
            packed = np.packbits(bits, axis=-1).reshape(pshape + (pub.shots, nbytes))
            meas[creg.name] = BitArray(packed, n)
        return SamplerPubResult(
            DataBin(**meas, shape=pub.shape),
            metadata={"shots": pub.shots, "circuit_metadata": qc.metadata},
        )


def qshade_target(num_qubits: int):
    """A ``Target`` listing qshade's gates (ideal, on every qubit) and measurement, so
    ``transpile(circuit, backend=QShadeBackend())`` emits only gates qshade runs natively."""
    from qiskit.circuit import Measure
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit.transpiler import Target

    gates = get_standard_gate_name_mapping()
    target = Target(description="qshade", num_qubits=num_qubits)
    for name in BASIS_GATES:
        target.add_instruction(gates[name], name=name)
    target.add_instruction(Measure())
    return target


class QShadeBackend:
    """A Qiskit ``BackendV2`` on qshade: ``backend.target`` lists qshade's gates, and
    ``backend.run(circuits, shots=..., seed_simulator=...)`` samples their final measurements
    (counts in ``job.result().get_counts()``). Built lazily so importing :mod:`qshade.qiskit`
    does not need ``qiskit.providers``.

    Args:
        backend: a ``qshade.Backend`` (default ``qshade.cpu()``).
        num_qubits: width of the target (default 30).
    """

    def __new__(cls, backend=None, num_qubits: int = 30):
        return _make_backend_class()(backend=backend, num_qubits=num_qubits)


_BACKEND_CLASS = None


def _make_backend_class():
    global _BACKEND_CLASS
    if _BACKEND_CLASS is not None:
        return _BACKEND_CLASS
    import uuid

    from qiskit.providers import BackendV2, JobStatus, JobV1, Options
    from qiskit.result import Result

    class _Job(JobV1):
        def __init__(self, backend, job_id, result):
            super().__init__(backend, job_id)
            self._result = result

        def submit(self):
            return None

        def result(self):
            return self._result

        def status(self):
            return JobStatus.DONE

    class _QShadeBackendV2(BackendV2):
        __doc__ = QShadeBackend.__doc__

        def __init__(self, backend=None, num_qubits: int = 30):
            super().__init__(name="qshade", description="qshade simulator", backend_version="0.1.0")
            self._qshade = backend if backend is not None else qshade.cpu()
            self._target = qshade_target(num_qubits)

        @property
        def target(self):
            return self._target

        @property
        def max_circuits(self):
            return None

        @classmethod
        def _default_options(cls):
            return Options(shots=1024, seed_simulator=None)

        def run(self, run_input, **options):
            circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
            shots = int(options.get("shots", self.options.shots))
            seed = options.get("seed_simulator", self.options.seed_simulator)
            rng = np.random.default_rng(seed)
            results = [self._run_one(qc, shots, int(rng.integers(0, 2**63))) for qc in circuits]
            job_id = str(uuid.uuid4())
            result = Result.from_dict(
                {
                    "backend_name": self.name,
                    "backend_version": self.backend_version,
                    "job_id": job_id,
                    "success": True,
                    "results": results,
                }
            )
            return _Job(self, job_id, result)

        def _run_one(self, qc, shots, seed):
            final = {}  # clbit index -> qubit index of the final measurements
            for (reg, bit), q in _measurement_map(qc).items():
                final[qc.find_bit(qc.cregs[[r.name for r in qc.cregs].index(reg)][bit]).index] = q
            compiled = CompiledCircuit(qc.remove_final_measurements(inplace=False))
            theta = compiled.theta(np.zeros((1, 0))) if compiled.occurrences else None
            if compiled.parameters:
                raise qshade.QShadeError("bind the circuit's parameters before backend.run")
            state = self._qshade.run(compiled.circuit, theta=None if theta is None else theta[0])
            samples = state.sample(shots, seed)
            values = np.zeros(shots, dtype=np.uint64)
            for c, q in final.items():
                values |= ((samples >> np.uint64(q)) & np.uint64(1)) << np.uint64(c)
            keys, counts = np.unique(values, return_counts=True)
            return {
                "shots": shots,
                "success": True,
                "data": {"counts": {hex(int(k)): int(v) for k, v in zip(keys, counts)}},
                "header": {
                    "name": qc.name,
                    "creg_sizes": [[r.name, r.size] for r in qc.cregs],
                    "memory_slots": qc.num_clbits,
                },
            }

    _BACKEND_CLASS = _QShadeBackendV2
    return _BACKEND_CLASS
