"""qshade from Python: a quantum-circuit simulator with WGSL compute-shader kernels on the GPU
(wgpu) and fast multithreaded CPU backends, with batched forward values and batched adjoint
gradients for quantum machine learning.

Quick start::

    import numpy as np, qshade
    c = qshade.Circuit(2).h(0).cx(0, 1).ry(1, qshade.theta(0))
    backend = qshade.cpu()
    values = backend.forward(c, ["Z0 Z1", "X1"], theta=np.array([[0.1], [0.2]]))  # (2, 2)

Qubit 0 is the least significant bit of a basis index (Qiskit's order). Every error qshade
reports raises :class:`QShadeError` (a ``ValueError``) with qshade's message.

Integrations: ``qml.device("qshade.cpu")`` / ``qml.device("qshade.gpu")`` (PennyLane, module
:mod:`qshade.pennylane_device`) and :mod:`qshade.qiskit` (``EstimatorV2`` / ``SamplerV2``).
"""

from __future__ import annotations

from . import _native
from ._native import (
    Angle,
    Backend,
    Gradients,
    Observable,
    QShadeError,
    State,
    choose_backend,
    cpu,
    gate_table,
    gpu,
    reference,
)

__all__ = [
    "Angle",
    "Backend",
    "Circuit",
    "Gradients",
    "Observable",
    "QShadeError",
    "State",
    "choose_backend",
    "cpu",
    "gate_table",
    "gpu",
    "input",
    "reference",
    "theta",
]

__version__ = "0.1.0"


def theta(index: int) -> Angle:
    """The trainable parameter ``theta[index]`` as a gate angle."""
    return Angle.theta(index)


def input(index: int) -> Angle:  # noqa: A001 - mirrors qshade's Angle::input
    """The input feature ``x[index]`` as a gate angle."""
    return Angle.input(index)


class Circuit(_native.Circuit):
    """A quantum circuit; gates by Qiskit name through :meth:`add` or one method per gate
    (``c.h(0)``, ``c.rx(0, 0.3)``, ``c.cx(0, 1)``, ``c.rzz(0, 1, qshade.theta(2))``, ...),
    all returning the circuit so calls chain. The methods are generated from
    :func:`gate_table`, the one table of gates the Rust side knows."""

    def mcx(self, controls, target):
        """Multi-controlled X: ``target`` flips when every qubit in ``controls`` is 1."""
        return self.add("mcx", [*controls, target])


def _make_gate_method(name: str, num_qubits: int, num_angles: int):
    def method(self, *args):
        if len(args) != num_qubits + num_angles:
            raise TypeError(
                f"{name}() takes {num_qubits} qubit(s) then {num_angles} angle(s), "
                f"got {len(args)} argument(s)"
            )
        return self.add(name, list(args[:num_qubits]), list(args[num_qubits:]))

    method.__name__ = name
    method.__doc__ = (
        f"Adds {name!r} on {num_qubits} qubit(s) (controls first) with {num_angles} angle(s)."
    )
    return method


for _name, _nq, _na in gate_table():
    setattr(Circuit, _name, _make_gate_method(_name, _nq, _na))
Circuit.cnot = Circuit.cx
Circuit.toffoli = Circuit.ccx
Circuit.phase = Circuit.p
Circuit.u3 = Circuit.u
del _name, _nq, _na
