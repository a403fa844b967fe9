"""Benchmark: qiskit-machine-learning EstimatorQNN forward + backward (parameter-shift
gradient through the Estimator, mini-batch 64) on qshade's EstimatorV2 vs Aer's EstimatorV2.
Prints JSON lines; not run in CI (needs qiskit-machine-learning and qiskit-aer).

    python python/benches/qnn_qiskit.py [--qubits 12] [--reps 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from qiskit.circuit.library import real_amplitudes, zz_feature_map
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2 as AerEstimator
from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
from qiskit_machine_learning.neural_networks import EstimatorQNN

from qshade.qiskit import EstimatorV2 as QShadeEstimator

BATCH = 64


def make_qnn(estimator, n, reps):
    fm = zz_feature_map(n, reps=1)
    ansatz = real_amplitudes(n, reps=reps)
    qc = fm.compose(ansatz)
    return EstimatorQNN(
        circuit=qc,
        estimator=estimator,
        observables=SparsePauliOp("Z" + "I" * (n - 1)),
        input_params=list(fm.parameters),
        weight_params=list(ansatz.parameters),
        gradient=ParamShiftEstimatorGradient(estimator),
        default_precision=0.0,
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qubits", type=int, nargs="+", default=[12])
    ap.add_argument("--reps", type=int, nargs="+", default=[2])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--estimators", nargs="+", default=["qshade", "aer"])
    args = ap.parse_args()
    print(json.dumps({"meta": {"cpus": os.cpu_count(), "batch": BATCH}}))
    for n in args.qubits:
        for reps in args.reps:
            rng = np.random.default_rng(0)
            x = rng.uniform(0, np.pi, (BATCH, n))
            row = {"qubits": n, "reps": reps}
            grads = {}
            estimators = {"qshade": QShadeEstimator, "aer": AerEstimator}
            for name in args.estimators:
                est = estimators[name]()
                qnn = make_qnn(est, n, reps)
                w = np.random.default_rng(1).uniform(0, 2 * np.pi, qnn.num_weights)
                qnn.forward(x[:2], w)  # warm-up
                times = []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    qnn.forward(x, w)
                    _, gw = qnn.backward(x, w)
                    times.append(time.perf_counter() - t0)
                grads[name] = gw
                row[name] = float(np.median(times))
                print(json.dumps({"estimator": name, "qubits": n, "reps": reps,
                                  "num_weights": qnn.num_weights, "step_s_all": times}), flush=True)
            if len(grads) == 2:
                row["max_grad_diff"] = float(np.max(np.abs(grads["qshade"] - grads["aer"])))
                row["speedup"] = row["aer"] / row["qshade"]
            print(json.dumps({"summary": row}), flush=True)


if __name__ == "__main__":
    main()
