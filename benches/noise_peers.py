#!/usr/bin/env python3
"""Peers of examples/noise_bench.rs on the same noisy circuit (one JSON line per figure):
T = 1000 trajectories of the 12-qubit depth-20 circuit with qsim (cirq noise, one trajectory
per repetition) and Qiskit Aer's statevector method with noise (one trajectory per shot); the
10-qubit density matrix with Aer's density_matrix method and PennyLane default.mixed. Each
prints ⟨Z0⟩ (exact for the density matrices, a 1000-shot estimate for the trajectories) so the
conventions can be checked against qshade's numbers.

Circuit: DEPTH layers of RY(0.1 + 0.37·sin(layer·n + q)) on every qubit, then CNOTs on (0,1),
(2,3), … (even layers) / (1,2), (3,4), … (odd layers). After each RY: depolarizing p1 (Aer's
convention ρ → (1 − p)ρ + p·I/2; cirq/PennyLane take 3p/4) and amplitude damping γ; after each
CNOT: two-qubit depolarizing p2 (cirq: 15·p2/16; PennyLane: its 16 Pauli Kraus operators).

Usage: PEERS_THREADS=2 python benches/noise_peers.py [--sims qsim,aer_sv,aer_dm,pl_mixed]
Needs: numpy, cirq, qsimcirq, qiskit, qiskit-aer, pennylane.
"""
import os
import sys

THREADS = int(os.environ.get("PEERS_THREADS", "2"))
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(THREADS)

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

DEPTH, P1, GAMMA, P2, T = 20, 0.001, 0.001, 0.01, 1000


def angle(layer, n, q):
    return 0.1 + 0.37 * math.sin(layer * n + q)


def pairs(layer, n):
    return [(a, a + 1) for a in range(layer % 2, n - 1, 2)]


def timed(fn, reps):
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def emit(sim, workload, n, median_s, z0, **extra):
    print(json.dumps({"sim": sim, "workload": workload, "n": n, "depth": DEPTH,
                      "threads": THREADS, "median_s": round(median_s, 6), "z0": z0, **extra}),
          flush=True)


def qsim(n):
    import cirq
    import qsimcirq
    qs = cirq.LineQubit.range(n)
    c = cirq.Circuit()
    for layer in range(DEPTH):
        for q in range(n):
            c.append(cirq.ry(angle(layer, n, q))(qs[q]))
            c.append(cirq.depolarize(0.75 * P1)(qs[q]))
            c.append(cirq.amplitude_damp(GAMMA)(qs[q]))
        for a, b in pairs(layer, n):
            c.append(cirq.CNOT(qs[a], qs[b]))
            c.append(cirq.depolarize(15 * P2 / 16, n_qubits=2)(qs[a], qs[b]))
    c.append(cirq.measure(qs[0], key="m"))
    sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=THREADS))
    med, res = timed(lambda: sim.run(c, repetitions=T), 3)
    bits = res.measurements["m"][:, 0]
    emit("qsim", "noise_trajectories", n, med, float(1 - 2 * bits.mean()), trajectories=T)


def aer_circuit(n, measure):
    from qiskit import QuantumCircuit
    from qiskit_aer.noise import amplitude_damping_error, depolarizing_error
    d1 = depolarizing_error(P1, 1).to_instruction()
    ad = amplitude_damping_error(GAMMA).to_instruction()
    d2 = depolarizing_error(P2, 2).to_instruction()
    qc = QuantumCircuit(n, 1)
    for layer in range(DEPTH):
        for q in range(n):
            qc.ry(angle(layer, n, q), q)
            qc.append(d1, [q])
            qc.append(ad, [q])
        for a, b in pairs(layer, n):
            qc.cx(a, b)
            qc.append(d2, [a, b])
    if measure:
        qc.measure(0, 0)
    return qc


def aer_sv(n):
    from qiskit_aer import AerSimulator
    qc = aer_circuit(n, True)
    sim = AerSimulator(method="statevector", max_parallel_threads=THREADS)
    med, res = timed(lambda: sim.run(qc, shots=T, seed_simulator=1).result(), 3)
    counts = res.get_counts()
    z0 = (counts.get("0", 0) - counts.get("1", 0)) / T
    emit("aer_statevector_noise", "noise_trajectories", n, med, z0, trajectories=T)


def aer_dm(n):
    from qiskit.quantum_info import Pauli
    from qiskit_aer import AerSimulator
    qc = aer_circuit(n, False)
    qc.save_expectation_value(Pauli("Z"), [0])
    sim = AerSimulator(method="density_matrix", max_parallel_threads=THREADS)
    med, res = timed(lambda: sim.run(qc).result(), 3)
    emit("aer_density_matrix", "noise_density", n, med, float(res.data(0)["expectation_value"]))


def pl_mixed(n):
    import pennylane as qml
    paulis = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
              np.diag([1, -1])]
    k2 = []
    for i in range(16):
        p = 1 - 15 * P2 / 16 if i == 0 else P2 / 16
        # PennyLane's wire order: the first wire is the most significant bit.
        k2.append(math.sqrt(p) * np.kron(paulis[i >> 2], paulis[i & 3]))
    dev = qml.device("default.mixed", wires=n)

    @qml.qnode(dev)
    def circuit():
        for layer in range(DEPTH):
            for q in range(n):
                qml.RY(angle(layer, n, q), wires=q)
                qml.DepolarizingChannel(0.75 * P1, wires=q)
                qml.AmplitudeDamping(GAMMA, wires=q)
            for a, b in pairs(layer, n):
                qml.CNOT(wires=[a, b])
                qml.QubitChannel(k2, wires=[a, b])
        return qml.expval(qml.PauliZ(0))

    med, z0 = timed(circuit, 1)
    emit("pennylane_default_mixed", "noise_density", n, med, float(z0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", default="qsim,aer_sv,aer_dm,pl_mixed")
    ap.add_argument("--trajectory-qubits", type=int, default=12)
    ap.add_argument("--density-qubits", type=int, default=10)
    args = ap.parse_args()
    runs = {"qsim": lambda: qsim(args.trajectory_qubits),
            "aer_sv": lambda: aer_sv(args.trajectory_qubits),
            "aer_dm": lambda: aer_dm(args.density_qubits),
            "pl_mixed": lambda: pl_mixed(args.density_qubits)}
    for name in args.sims.split(","):
        try:
            runs[name]()
        except ImportError as e:
            print(json.dumps({"sim": name, "skipped": str(e)}), file=sys.stderr)


if __name__ == "__main__":
    main()
