"""torch integrations (skipped where torch is not installed, e.g. in CI's lean venv): a
PennyLane TorchLayer on qshade.cpu vs default.qubit with torch backprop, and
qiskit-machine-learning's TorchConnector on qshade's EstimatorV2 vs StatevectorEstimator."""

import numpy as np
import pennylane as qml
import pytest

torch = pytest.importorskip("torch")


def torch_layer(device, diff_method, n, layers, **kw):
    dev = qml.device(device, wires=n)

    @qml.qnode(dev, interface="torch", diff_method=diff_method, **kw)
    def circuit(inputs, w):
        qml.AngleEmbedding(inputs, wires=range(n))
        qml.StronglyEntanglingLayers(w, wires=range(n))
        return [qml.expval(qml.PauliZ(0)), qml.expval(qml.PauliX(1) @ qml.PauliY(2))]

    return qml.qnn.TorchLayer(circuit, {"w": (layers, n, 3)})


def test_torch_layer_batch_values_and_gradients_match_default_qubit():
    n, layers, batch = 4, 2, 5
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.uniform(0, np.pi, (batch, n)), dtype=torch.float64)
    w = torch.tensor(rng.uniform(0, 2 * np.pi, (layers, n, 3)), dtype=torch.float64)
    results = []
    for layer in (
        torch_layer("qshade.cpu", "adjoint", n, layers, device_vjp=True),
        torch_layer("default.qubit", "backprop", n, layers),
    ):
        with torch.no_grad():
            layer.w.copy_(w)
        out = layer(x)  # (batch, 2)
        loss = torch.sum(out[:, 0] ** 2) + torch.sum(torch.sin(out[:, 1]))
        loss.backward()
        results.append((out.detach().numpy(), layer.w.grad.numpy().copy()))
    (ours, g_ours), (ref, g_ref) = results
    assert ours.shape == (batch, 2)
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    np.testing.assert_allclose(g_ours, g_ref, atol=1e-9)


def hybrid_model(device, diff_method, n, layers, **kw):
    """torch.nn.Sequential(Linear, TorchLayer): the QNode's inputs are a trainable layer's
    outputs. The circuit's gate parameters have mixed shapes under broadcasting (features
    (B, n), a broadcast angle (B,), a shared angle (), template weights (L, n, 3))."""
    dev = qml.device(device, wires=n)

    @qml.qnode(dev, interface="torch", diff_method=diff_method, **kw)
    def circuit(inputs, w, v):
        qml.AngleEmbedding(inputs, wires=range(n))
        qml.RX(inputs[..., 0], wires=1)
        qml.RY(v, wires=0)
        qml.StronglyEntanglingLayers(w, wires=range(n))
        return [qml.expval(qml.PauliZ(0)), qml.expval(qml.PauliX(1) @ qml.PauliY(2))]

    quantum = qml.qnn.TorchLayer(circuit, {"w": (layers, n, 3), "v": ()})
    return torch.nn.Sequential(torch.nn.Linear(n, n, dtype=torch.float64), quantum)


def test_hybrid_model_input_and_weight_gradients_match_default_qubit():
    """With device VJPs, gradients flow through the QNode to BOTH its weights and its inputs
    (here a classical Linear layer's outputs, and the data), as with default.qubit backprop."""
    n, layers, batch = 3, 2, 5
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (batch, n))
    params = None
    results = []
    for model in (
        hybrid_model("qshade.cpu", "adjoint", n, layers, device_vjp=True),
        hybrid_model("default.qubit", "backprop", n, layers),
    ):
        if params is None:
            params = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(params)
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        out = model(xt)  # (batch, 2)
        loss = torch.sum(out[:, 0] ** 2) + torch.sum(torch.sin(out[:, 1]))
        loss.backward()
        grads = {k: p.grad.numpy().copy() for k, p in model.named_parameters()}
        results.append((out.detach().numpy(), xt.grad.numpy().copy(), grads))
    (ours, gx_ours, g_ours), (ref, gx_ref, g_ref) = results
    assert ours.shape == (batch, 2)
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    np.testing.assert_allclose(gx_ours, gx_ref, atol=1e-8)
    assert sorted(g_ours) == sorted(g_ref) == ["0.bias", "0.weight", "1.v", "1.w"]
    for k in g_ref:
        assert g_ours[k].shape == g_ref[k].shape
        np.testing.assert_allclose(g_ours[k], g_ref[k], atol=1e-8)


def test_torch_connector_gradients_match_statevector_estimator():
    pytest.importorskip("qiskit_machine_learning")
    from qiskit.circuit.library import real_amplitudes, zz_feature_map
    from qiskit.primitives import StatevectorEstimator
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_machine_learning.connectors import TorchConnector
    from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
    from qiskit_machine_learning.neural_networks import EstimatorQNN

    from qshade.qiskit import EstimatorV2

    n = 3
    fm, ansatz = zz_feature_map(n, reps=1), real_amplitudes(n, reps=1)
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.uniform(0, np.pi, (6, n)))
    w0 = rng.uniform(0, 2 * np.pi, ansatz.num_parameters)
    results = []
    for estimator in (EstimatorV2(), StatevectorEstimator()):
        qnn = EstimatorQNN(
            circuit=fm.compose(ansatz),
            estimator=estimator,
            observables=SparsePauliOp(["ZZI", "IIX"], [1.0, -0.5]),
            input_params=list(fm.parameters),
            weight_params=list(ansatz.parameters),
            gradient=ParamShiftEstimatorGradient(estimator),
            default_precision=0.0,
        )
        model = TorchConnector(qnn, initial_weights=w0)
        out = model(x)
        torch.sum(out**2).backward()
        results.append((out.detach().numpy(), model.weight.grad.numpy().copy()))
    (ours, g_ours), (ref, g_ref) = results
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    np.testing.assert_allclose(g_ours, g_ref, atol=1e-9)
