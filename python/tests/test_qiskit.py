"""qshade's EstimatorV2 / SamplerV2 against Qiskit's StatevectorEstimator / StatevectorSampler."""

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter, ParameterVector
from qiskit.circuit.library import efficient_su2, zz_feature_map
from qiskit.primitives import StatevectorEstimator, StatevectorSampler
from qiskit.quantum_info import SparsePauliOp

import qshade
from qshade.qiskit import EstimatorV2, SamplerV2


def ansatz(n=4, reps=2):
    qc = efficient_su2(n, reps=reps)
    x = Parameter("x")
    qc.rzz(2 * x + 0.5, 0, 1)  # affine expression of one parameter
    qc.crx(x * qc.parameters[0], 1, 2)  # product of two parameters: the per-row fallback
    qc.ccx(0, 1, 3)
    qc.swap(2, 3)
    return qc


def test_estimator_matches_statevector_estimator():
    rng = np.random.default_rng(0)
    qc = ansatz()
    obs = [
        SparsePauliOp(["ZZII", "IXYI"], [0.5, -0.2]),
        SparsePauliOp("IIIZ"),
        SparsePauliOp(["XXXX", "IIII"], [1.0, 0.3]),
    ]
    params = rng.uniform(-np.pi, np.pi, (5, 1, qc.num_parameters))
    pubs = [(qc, obs, params), (qc, obs[1], params[0, 0])]
    ours = EstimatorV2().run(pubs).result()
    ref = StatevectorEstimator().run(pubs).result()
    for a, b in zip(ours, ref):
        assert a.data.evs.shape == b.data.evs.shape
        np.testing.assert_allclose(a.data.evs, b.data.evs, atol=1e-10)


def test_estimator_transpiles_foreign_gates():
    qc = QuantumCircuit(3)
    theta = ParameterVector("t", 2)
    qc.h(0)
    qc.rzx(theta[0], 0, 1)  # not a qshade gate: Qiskit's transpile decomposes it
    qc.ecr(1, 2)
    qc.ry(theta[1], 2)
    obs = SparsePauliOp(["ZZZ", "XIY"], [1.0, 0.5])
    params = np.array([[0.3, -1.2], [2.0, 0.1]])
    ours = EstimatorV2().run([(qc, obs, params)]).result()[0].data.evs
    ref = StatevectorEstimator().run([(qc, obs, params)]).result()[0].data.evs
    np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_estimator_precision_adds_noise_of_that_size():
    qc = QuantumCircuit(1)
    qc.h(0)
    evs = EstimatorV2(seed=1).run([(qc, [SparsePauliOp("X")] * 4000)], precision=0.05).result()[0]
    assert abs(np.std(evs.data.evs) - 0.05) < 0.005
    assert abs(np.mean(evs.data.evs) - 1.0) < 0.01
    np.testing.assert_allclose(evs.data.stds, 0.05)


def test_sampler_matches_statevector_sampler_distribution():
    rng = np.random.default_rng(2)
    qr = QuantumRegister(4)
    ca, cb = ClassicalRegister(2, "a"), ClassicalRegister(3, "b")
    qc = QuantumCircuit(qr, ca, cb)
    base = ansatz()
    qc.compose(base, qubits=qr, inplace=True)
    qc.measure(qr[0], ca[1])
    qc.measure(qr[2], ca[0])
    qc.measure(qr[1], cb[0])
    qc.measure(qr[3], cb[2])  # cb[1] never measured: always 0
    params = rng.uniform(-np.pi, np.pi, (2, qc.num_parameters))
    shots = 20000
    ours = SamplerV2(seed=3).run([(qc, params)], shots=shots).result()[0]
    ref = StatevectorSampler(seed=4).run([(qc, params)], shots=200000).result()[0]
    for reg in ("a", "b"):
        got, want = getattr(ours.data, reg), getattr(ref.data, reg)
        assert got.shape == (2,) and got.num_shots == shots and got.num_bits == want.num_bits
        for i in range(2):
            cg, cw = got[i].get_counts(), want[i].get_counts()
            for key in set(cg) | set(cw):
                p = cw.get(key, 0) / 200000
                f = cg.get(key, 0) / shots
                assert abs(f - p) <= 5 * np.sqrt(max(p * (1 - p), 1e-4) / shots), (reg, key)


def test_sampler_rejects_mid_circuit_measurement():
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    qc.h(0)
    qc.measure(0, 0)
    with pytest.raises(qshade.QShadeError):
        SamplerV2().run([qc]).result()


def test_feature_map_kernel_from_overlaps():
    """A fidelity kernel: |<phi(x)|phi(y)>|^2 from one batched overlaps call."""
    from qiskit.quantum_info import Statevector

    from qshade.qiskit import CompiledCircuit

    fm = zz_feature_map(2, reps=2)
    comp = CompiledCircuit(fm)
    xs = np.random.default_rng(5).uniform(0, np.pi, (4, 2))
    # Feature values enter as theta here; overlaps() takes inputs, so compare states instead.
    backend = qshade.cpu()
    states = [backend.run(comp.circuit, theta=comp.theta(x[None, :])[0]).amplitudes() for x in xs]
    want = [Statevector(fm.assign_parameters(x)).data for x in xs]
    for s, w in zip(states, want):
        assert abs(abs(np.vdot(s, w)) - 1) < 1e-10


def test_backend_v2_target_and_counts():
    from qiskit import transpile
    from qiskit.quantum_info import Statevector

    from qshade.qiskit import QSHADE_GATES, QShadeBackend

    backend = QShadeBackend(num_qubits=5)
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.rzx(0.7, 0, 1)  # not a qshade gate
    qc.ecr(1, 2)  # nor this
    qc.ry(0.3, 2)
    qc.measure([0, 1, 2], [2, 0, 1])
    tqc = transpile(qc, backend=backend, optimization_level=1, seed_transpiler=1)
    assert set(tqc.count_ops()) <= set(QSHADE_GATES) | {"measure", "barrier"}
    shots = 20000
    counts = backend.run(tqc, shots=shots, seed_simulator=3).result().get_counts()
    probs = Statevector(qc.remove_final_measurements(inplace=False)).probabilities_dict()
    # Qiskit key: clbits c2 c1 c0 = q0 q2 q1.
    want = {}
    for k, p in probs.items():  # k = q2 q1 q0
        q2, q1, q0 = k
        want[q0 + q2 + q1] = want.get(q0 + q2 + q1, 0) + p
    for key in set(want) | set(counts):
        p, f = want.get(key, 0.0), counts.get(key, 0) / shots
        assert abs(f - p) <= 5 * np.sqrt(max(p * (1 - p), 1e-4) / shots), key
