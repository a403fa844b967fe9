"""Writes qiskit_gates.json: Qiskit's matrix of every standard gate qshade knows by name.

For every name (Qiskit's get_standard_gate_name_mapping() less the non-unitary operations,
plus the OpenQASM / Qiskit aliases qshade accepts), a few angle sets and
Operator(gate).data for each: little-endian (qubit 0 = least significant bit), global phase
included. tests/standard_gates.rs compares qshade's unitaries with these at 1e-12.

Run: python gen.py  (needs qiskit and numpy; rewrites qiskit_gates.json beside this file).
"""

import json
import os

import numpy as np
import qiskit
from qiskit.circuit.library import (
    C3XGate,
    C4XGate,
    MCXGate,
    get_standard_gate_name_mapping,
)
from qiskit.quantum_info import Operator

NOT_GATES = {"measure", "reset", "delay"}

# qshade's extra names: alias -> (Qiskit name, or a constructor)
ALIASES = {
    "i": "id",
    "cnot": "cx",
    "phase": "p",
    "cphase": "cp",
    "toffoli": "ccx",
    "fredkin": "cswap",
    "c3sqrtx": "c3sx",
    "rc3x": "rcccx",
    "gphase": "global_phase",
}
# Multi-controlled X by name (qelib1.inc / Qiskit's qasm2 output).
EXTRA = {
    "c3x": lambda: C3XGate(),
    "c4x": lambda: C4XGate(),
}
# mcx with 1, 2, 3 and 5 controls (the target last).
MCX_CONTROLS = [1, 2, 3, 5]

ANGLE_SETS = [
    [0.3, -1.1, 2.4, 0.7],
    [-2.9, 0.45, -0.2, 1.6],
    [1.234, 3.0, -2.5, -0.05],
]


def entry(name, gate, angles):
    m = Operator(gate).data
    return {
        "name": name,
        "num_qubits": gate.num_qubits,
        "angles": angles,
        "re": np.real(m).ravel().tolist(),
        "im": np.imag(m).ravel().tolist(),
    }


def main():
    mapping = get_standard_gate_name_mapping()
    gates = []
    for name in sorted(mapping):
        if name in NOT_GATES:
            continue
        gates.extend(cases(name, mapping[name]))
    for alias, target in sorted(ALIASES.items()):
        gates.extend(dict(e, name=alias) for e in cases(target, mapping[target]))
    for name, make in sorted(EXTRA.items()):
        gates.append(entry(name, make(), []))
    for k in MCX_CONTROLS:
        gates.append(entry("mcx", MCXGate(k), []))
    out = {
        "qiskit_version": qiskit.__version__,
        "convention": "Operator(gate).data, row-major, little-endian (qubit 0 = least "
        "significant bit of the row/column index), qubits in Qiskit's append order",
        "gates": gates,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qiskit_gates.json")
    # One gate per line, so that a regenerated file diffs line by line.
    head = {k: v for k, v in out.items() if k != "gates"}
    lines = [json.dumps(g, separators=(",", ":")) for g in gates]
    with open(path, "w") as f:
        f.write(json.dumps(head)[:-1] + ', "gates": [\n' + ",\n".join(lines) + "\n]}\n")
    print(f"wrote {len(gates)} matrices to {path}")


def cases(name, template):
    n = len(template.params)
    if n == 0:
        return [entry(name, template, [])]
    cls = type(template)
    return [entry(name, cls(*angles[:n]), angles[:n]) for angles in ANGLE_SETS]


if __name__ == "__main__":
    main()
