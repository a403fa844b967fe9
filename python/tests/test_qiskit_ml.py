"""qiskit-machine-learning's EstimatorQNN on qshade's EstimatorV2 vs on StatevectorEstimator
(skipped where qiskit-machine-learning is not installed, e.g. in CI's lean venv)."""

import numpy as np
import pytest

qml_qiskit = pytest.importorskip("qiskit_machine_learning")

from qiskit.circuit.library import real_amplitudes, zz_feature_map  # noqa: E402
from qiskit.primitives import StatevectorEstimator  # noqa: E402
from qiskit.quantum_info import SparsePauliOp  # noqa: E402
from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient  # noqa: E402
from qiskit_machine_learning.neural_networks import EstimatorQNN  # noqa: E402

from qshade.qiskit import EstimatorV2  # noqa: E402


def make_qnn(estimator, n=3):
    fm = zz_feature_map(n, reps=1)
    ansatz = real_amplitudes(n, reps=2)
    qc = fm.compose(ansatz)
    return EstimatorQNN(
        circuit=qc,
        estimator=estimator,
        observables=SparsePauliOp(["ZII", "IXZ"], [1.0, 0.5]),
        input_params=list(fm.parameters),
        weight_params=list(ansatz.parameters),
        gradient=ParamShiftEstimatorGradient(estimator),
        default_precision=0.0,  # exact values on both sides (no shot-noise emulation)
    )


def test_estimator_qnn_forward_and_backward_match_statevector_estimator():
    rng = np.random.default_rng(0)
    ours, ref = make_qnn(EstimatorV2()), make_qnn(StatevectorEstimator())
    x = rng.uniform(0, np.pi, (8, ours.num_inputs))
    w = rng.uniform(0, 2 * np.pi, ours.num_weights)
    np.testing.assert_allclose(ours.forward(x, w), ref.forward(x, w), atol=1e-10)
    gi, gw = ours.backward(x, w)
    ri, rw = ref.backward(x, w)
    assert gi is None and ri is None
    np.testing.assert_allclose(gw, rw, atol=1e-9)
