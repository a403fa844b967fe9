"""Reference density matrices of random noisy circuits from Qiskit Aer's density-matrix method,
for tests/noise_aer.rs. Writes tests/data/noise_aer.json (Aer's and Qiskit's versions recorded).

Run: python tests/data/gen_noise_aer.py   (needs qiskit, qiskit-aer, numpy)
Aer's density_matrix method has no cry instruction, so CRY enters as its unitary matrix.
Qubit order: Aer's and qshade's agree (qubit 0 is the least significant bit).
"""
import json
import os

import numpy as np
import qiskit
import qiskit_aer
from qiskit import QuantumCircuit
from qiskit.circuit.library import CRYGate
from qiskit_aer import AerSimulator
from qiskit_aer.noise import (amplitude_damping_error, depolarizing_error, kraus_error,
                              pauli_error, phase_damping_error, thermal_relaxation_error)

rng = np.random.default_rng(2026)


def random_kraus():
    # Stinespring: two columns of a random 4x4 unitary; K_e[r][c] = V[r + 2e][c].
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    q, _ = np.linalg.qr(a)
    return [np.array([[q[r + 2 * e, c] for c in range(2)] for r in range(2)]) for e in range(2)]


def random_channel(n, qubits):
    kind = int(rng.integers(0, 9))
    p = float(rng.uniform(0, 1))
    if kind == 1 and n > 1:
        b = int(rng.choice([q for q in range(n) if q != qubits[0]]))
        return {"channel": "depolarizing2", "qubits": [qubits[0], b], "params": [p]}, \
            depolarizing_error(p, 2), [qubits[0], b]
    q = [qubits[0]]
    if kind in (0, 1):
        return {"channel": "depolarizing", "qubits": q, "params": [p]}, depolarizing_error(p, 1), q
    if kind == 2:
        return {"channel": "bit_flip", "qubits": q, "params": [p]}, \
            pauli_error([("X", p), ("I", 1 - p)]), q
    if kind == 3:
        return {"channel": "phase_flip", "qubits": q, "params": [p]}, \
            pauli_error([("Z", p), ("I", 1 - p)]), q
    if kind == 4:
        return {"channel": "amplitude_damping", "qubits": q, "params": [p]}, amplitude_damping_error(p), q
    if kind == 5:
        return {"channel": "phase_damping", "qubits": q, "params": [p]}, phase_damping_error(p), q
    if kind == 6:
        t1 = float(rng.uniform(10, 100))
        t2 = float(rng.uniform(1, 2 * t1))
        t = float(rng.uniform(0, 20))
        return {"channel": "thermal_relaxation", "qubits": q, "params": [t1, t2, t]}, \
            thermal_relaxation_error(t1, t2, t), q
    if kind == 7:
        px, py, pz = (float(v) for v in rng.uniform(0, 0.3, size=3))
        return {"channel": "pauli", "qubits": q, "params": [px, py, pz]}, \
            pauli_error([("X", px), ("Y", py), ("Z", pz), ("I", 1 - px - py - pz)]), q
    ks = random_kraus()
    flat = [[[float(v.real), float(v.imag)] for v in k.flatten()] for k in ks]
    return {"channel": "kraus", "qubits": q, "params": [], "kraus": flat}, kraus_error(ks), q


def random_circuit(n, depth):
    qc = QuantumCircuit(n)
    ops = []
    for _ in range(depth):
        a = int(rng.integers(0, n))
        b = int(rng.choice([q for q in range(n) if q != a])) if n > 1 else a
        t = float(rng.uniform(-3, 3))
        kind = int(rng.integers(0, 9))
        if kind == 0:
            qc.h(a); ops.append({"gate": "h", "qubits": [a], "params": []})
        elif kind == 1:
            qc.rx(t, a); ops.append({"gate": "rx", "qubits": [a], "params": [t]})
        elif kind == 2:
            qc.ry(t, a); ops.append({"gate": "ry", "qubits": [a], "params": [t]})
        elif kind == 3:
            qc.rz(t, a); ops.append({"gate": "rz", "qubits": [a], "params": [t]})
        elif kind == 4:
            p, l = (float(v) for v in rng.uniform(-3, 3, size=2))
            qc.u(t, p, l, a); ops.append({"gate": "u3", "qubits": [a], "params": [t, p, l]})
        elif kind == 5 and n > 1:
            qc.cx(a, b); ops.append({"gate": "cx", "qubits": [a, b], "params": []})
        elif kind == 6 and n > 1:
            qc.unitary(CRYGate(t).to_matrix(), [a, b], label='cry'); ops.append({"gate": "cry", "qubits": [a, b], "params": [t]})
        elif kind == 7 and n > 1:
            qc.rzz(t, a, b); ops.append({"gate": "rzz", "qubits": [a, b], "params": [t]})
        else:
            qc.sx(a); ops.append({"gate": "sx", "qubits": [a], "params": []})
        if rng.uniform() < 0.6:
            op, err, qubits = random_channel(n, [a])
            qc.append(err.to_instruction(), qubits)
            ops.append(op)
    qc.save_density_matrix()
    return qc, ops


def main():
    sim = AerSimulator(method="density_matrix", precision="double")
    cases = []
    for i in range(12):
        n = 1 + i % 4
        qc, ops = random_circuit(n, 14)
        rho = np.asarray(sim.run(qc).result().data(0)["density_matrix"])
        cases.append({
            "num_qubits": n,
            "ops": ops,
            "rho": [[[float(v.real), float(v.imag)] for v in row] for row in rho],
        })
    out = {
        "generator": "tests/data/gen_noise_aer.py",
        "qiskit_aer_version": qiskit_aer.__version__,
        "qiskit_version": qiskit.__version__,
        "method": "AerSimulator(method='density_matrix', precision='double')",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "noise_aer.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {path}: {len(cases)} circuits, qiskit-aer {qiskit_aer.__version__}")


if __name__ == "__main__":
    main()
