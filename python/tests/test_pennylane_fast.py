"""The qshade PennyLane device's fast paths against default.qubit: Rot/CRot run natively (one
PennyLane op -> several qshade gates) and compiled circuits are cached across calls by tape
structure (reused only for tapes that differ in gate parameters alone)."""

import numpy as np
import pennylane as qml
import pytest
from pennylane import numpy as pnp

N = 3


def rot_circuit(w):
    """Rot and CRot with broadcastable parameters w[..., 0:6], between entangling gates."""
    qml.Hadamard(0)
    qml.RY(0.4, wires=1)
    qml.Rot(w[..., 0], w[..., 1], w[..., 2], wires=2)
    qml.CNOT(wires=[2, 0])
    qml.CRot(w[..., 3], w[..., 4], w[..., 5], wires=[0, 1])
    qml.Rot(w[..., 1], 0.3, w[..., 5], wires=0)
    qml.RX(0.2, wires=1)
    return [
        qml.expval(qml.PauliZ(0) @ qml.PauliX(1)),
        qml.expval(0.6 * qml.PauliY(1) - 0.25 * qml.PauliZ(2) @ qml.PauliY(0)),
    ]


@pytest.mark.parametrize("device_vjp", [False, True])
@pytest.mark.parametrize("batch", [None, 5])
def test_native_rot_and_crot_match_default_qubit(device_vjp, batch):
    """Values and adjoint gradients of Rot/CRot (native on qshade: RZ RY RZ chains) equal
    default.qubit's backprop ones on random parameters, with and without broadcasting."""
    dev = qml.device("qshade.cpu", wires=N)
    ours = qml.QNode(rot_circuit, dev, diff_method="adjoint", device_vjp=device_vjp)
    ref = qml.QNode(rot_circuit, qml.device("default.qubit", wires=N), diff_method="backprop")
    shape = (6,) if batch is None else (batch, 6)
    w = pnp.array(np.random.default_rng(7).uniform(-np.pi, np.pi, shape), requires_grad=True)

    # The device runs Rot and CRot as they are (PennyLane does not decompose them).
    tape = qml.tape.make_qscript(rot_circuit)(w)
    (processed,), _ = dev.preprocess_transforms()((tape,))
    names = [op.name for op in processed.operations]
    assert names.count("Rot") == 2 and names.count("CRot") == 1

    np.testing.assert_allclose(np.array(ours(w)), np.array(ref(w)), atol=1e-10)

    def loss(node):
        return lambda x: qml.math.sum(node(x)[0] * 0.7 + node(x)[1] ** 2)

    np.testing.assert_allclose(qml.grad(loss(ours))(w), qml.grad(loss(ref))(w), atol=1e-9)


def _cache(dev):
    return dev._compile_cache


def test_compile_cache_is_reused_with_new_parameters():
    """A training-loop-like sequence of calls on one structure compiles once and every call
    still gives default.qubit's values and gradients for ITS parameters."""
    dev = qml.device("qshade.cpu", wires=N)
    ours = qml.QNode(rot_circuit, dev, diff_method="adjoint", device_vjp=True)
    ref = qml.QNode(rot_circuit, qml.device("default.qubit", wires=N), diff_method="backprop")
    rng = np.random.default_rng(3)
    for _ in range(4):
        w = pnp.array(rng.uniform(-np.pi, np.pi, (4, 6)), requires_grad=True)
        np.testing.assert_allclose(np.array(ours(w)), np.array(ref(w)), atol=1e-10)
        g = qml.grad(lambda x: qml.math.sum(ours(x)[1]))(w)
        np.testing.assert_allclose(g, qml.grad(lambda x: qml.math.sum(ref(x)[1]))(w), atol=1e-9)
    assert len(_cache(dev)) == 1


def _variant_circuits():
    """Circuits equal in gate parameters but differing in structure: each must get its own
    compiled circuit (a wrong reuse gives a wrong number)."""
    from scipy.stats import unitary_group

    u_a = unitary_group.rvs(4, random_state=4)
    u_b = unitary_group.rvs(4, random_state=5)

    def base(w, wire=1, obs=None, unitary=u_a, ctrl=(1, 1), gate=qml.RX):
        qml.Hadamard(0)
        qml.CNOT(wires=[0, 2])
        gate(w[0], wires=wire)
        qml.QubitUnitary(unitary, wires=[2, 1])
        qml.MultiControlledX(wires=[0, 1, 2], control_values=list(ctrl))
        qml.RY(w[1], wires=0)
        if obs is None:
            obs = 0.5 * qml.PauliZ(0) @ qml.PauliX(2) + 0.3 * qml.PauliY(1)
        return qml.expval(obs)

    return {
        "base": lambda w: base(w),
        "other wire": lambda w: base(w, wire=2),
        "other gate": lambda w: base(w, gate=qml.RZ),
        "other coefficient": lambda w: base(
            w, obs=0.5 * qml.PauliZ(0) @ qml.PauliX(2) - 0.7 * qml.PauliY(1)
        ),
        "other observable wire": lambda w: base(
            w, obs=0.5 * qml.PauliZ(0) @ qml.PauliX(2) + 0.3 * qml.PauliY(2)
        ),
        "plain observable": lambda w: base(w, obs=qml.PauliX(1)),
        "plain observable other wire": lambda w: base(w, obs=qml.PauliX(2)),
        "other unitary": lambda w: base(w, unitary=u_b),
        # control values (1, 0) are decomposed by PennyLane: a different tape anyway.
        "other controls": lambda w: base(w, ctrl=(1, 0)),
    }


def test_compile_cache_is_not_reused_for_a_different_structure():
    """Interleaved calls of circuits that differ only in structure (wires, gate, observable
    coefficients or wires, unitary matrix, control values) each match default.qubit."""
    dev = qml.device("qshade.cpu", wires=N)
    ref_dev = qml.device("default.qubit", wires=N)
    variants = _variant_circuits()
    w = pnp.array([0.37, -1.1], requires_grad=True)
    for _ in range(2):  # the second round runs from the cache
        for name, circuit in variants.items():
            ours = qml.QNode(circuit, dev, diff_method="adjoint", device_vjp=True)
            ref = qml.QNode(circuit, ref_dev, diff_method="backprop")
            np.testing.assert_allclose(ours(w), ref(w), atol=1e-10, err_msg=name)
            np.testing.assert_allclose(
                qml.grad(ours)(w), qml.grad(ref)(w), atol=1e-9, err_msg=name
            )
    assert len(_cache(dev)) == len(variants)


def test_structure_key_keeps_exact_coefficients_and_wire_labels():
    """Coefficients that differ in the 13th digit, or wire labels that differ only in name,
    are different structures (no rounding, no relabelling in the key)."""
    from qshade.pennylane_device import _structure_key

    def tape(coeff, wires=(0, 1)):
        a, b = wires
        return qml.tape.QuantumScript(
            [qml.RX(0.1, wires=a), qml.CNOT(wires=[a, b])],
            [qml.expval(coeff * qml.PauliZ(a) + 0.5 * qml.PauliX(b))],
        )

    c = 0.123456789012
    assert _structure_key(tape(c)) == _structure_key(tape(c))
    assert _structure_key(tape(c)) != _structure_key(tape(c + 1e-13))
    assert _structure_key(tape(c)) != _structure_key(tape(c, wires=(1, 0)))
    assert _structure_key(tape(c)) != _structure_key(tape(c, wires=("a", "b")))


def test_compile_cache_is_bounded_and_stays_correct():
    """More structures than the cache holds: it keeps the most recent ones only, and an
    evicted structure is compiled again correctly."""
    from qshade.pennylane_device import _COMPILE_CACHE_SIZE

    dev = qml.device("qshade.cpu", wires=2)
    ref_dev = qml.device("default.qubit", wires=2)

    def circuit_with(k):
        def circuit(x):
            qml.RY(x, wires=0)
            qml.CNOT(wires=[0, 1])
            return qml.expval((1.0 + k) * qml.PauliZ(1) + 0.1 * qml.PauliX(0))

        return circuit

    x = pnp.array(0.4, requires_grad=True)
    count = _COMPILE_CACHE_SIZE + 3
    for k in list(range(count)) + [0, 1]:
        ours = qml.QNode(circuit_with(k), dev, diff_method="adjoint")(x)
        want = qml.QNode(circuit_with(k), ref_dev)(x)
        np.testing.assert_allclose(ours, want, atol=1e-10)
        assert len(_cache(dev)) <= _COMPILE_CACHE_SIZE
    assert len(_cache(dev)) == _COMPILE_CACHE_SIZE


def test_inconsistent_broadcast_is_a_clear_error():
    """A tape whose gate parameters are broadcast with different sizes, given straight to the
    device, is a ValueError naming the problem (not a numpy broadcasting error)."""
    dev = qml.device("qshade.cpu", wires=1)
    tape = qml.tape.QuantumScript(
        [qml.RX(np.array([0.1, 0.2]), wires=0), qml.RY(np.array([0.1, 0.2, 0.3]), wires=0)],
        [qml.expval(qml.PauliZ(0))],
    )
    with pytest.raises(ValueError, match="broadcast"):
        dev.execute((tape,))


def template_circuit(n, rotation="Y", imprimitive=qml.CNOT, ranges=None, features=None):
    """AngleEmbedding (features may be fewer than wires) + StronglyEntanglingLayers, then a
    Pauli-sum and a Pauli-word expectation."""
    m = n if features is None else features

    def circuit(x, w):
        qml.Hadamard(0)
        qml.AngleEmbedding(x, wires=range(n), rotation=rotation)
        qml.StronglyEntanglingLayers(w, wires=range(n), ranges=ranges, imprimitive=imprimitive)
        obs0 = qml.PauliZ(0) if n == 1 else 0.8 * qml.PauliZ(0) @ qml.PauliY(n - 1)
        return qml.expval(obs0 - 0.3 * qml.PauliX(0)), qml.expval(qml.PauliX(n - 1))

    return circuit, m


TEMPLATE_CASES = [
    # (n, rotation, imprimitive, ranges, features, trainable x, broadcast w)
    (4, "X", qml.CNOT, None, None, False, False),
    (4, "Y", qml.CZ, (3, 2), 3, True, False),
    (3, "Z", qml.CNOT, (2, 1), None, True, True),
    (1, "Y", qml.CNOT, None, None, True, False),
]


@pytest.mark.parametrize("device_vjp", [True, False])
@pytest.mark.parametrize(
    "n, rotation, imprimitive, ranges, features, train_x, bcast_w", TEMPLATE_CASES
)
def test_native_templates_match_default_qubit(
    device_vjp, n, rotation, imprimitive, ranges, features, train_x, bcast_w
):
    """With device VJPs, AngleEmbedding and StronglyEntanglingLayers reach the device whole
    (one theta column per array entry, VJPs in the parameter's shape); without them PennyLane
    decomposes them. Either way: default.qubit's values and gradients, with a broadcast
    mini-batch of features (trainable or not) and optionally broadcast weights."""
    batch, layers = 5, 2
    circuit, m = template_circuit(n, rotation, imprimitive, ranges, features)
    dev = qml.device("qshade.cpu", wires=n)
    ours = qml.QNode(circuit, dev, diff_method="adjoint", device_vjp=device_vjp)
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=n), diff_method="backprop")
    rng = np.random.default_rng(n + layers)
    x = pnp.array(rng.uniform(0, np.pi, (batch, m)), requires_grad=train_x)
    w_shape = ((batch,) if bcast_w else ()) + (layers, n, 3)
    w = pnp.array(rng.uniform(0, 2 * np.pi, w_shape), requires_grad=True)

    tape = qml.tape.make_qscript(circuit)(x, w)
    config = dev.setup_execution_config(
        qml.devices.ExecutionConfig(
            gradient_method="adjoint", use_device_jacobian_product=device_vjp
        )
    )
    processed, _ = dev.preprocess_transforms(config)((tape,))
    names = {op.name for t in processed for op in t.operations}
    assert ("StronglyEntanglingLayers" in names) == device_vjp
    assert ("AngleEmbedding" in names) == device_vjp

    np.testing.assert_allclose(np.array(ours(x, w)), np.array(ref(x, w)), atol=1e-10)

    def loss(node):
        return lambda x, w: qml.math.sum(node(x, w)[0] ** 2 + 0.5 * node(x, w)[1])

    argnums = [0, 1] if train_x else 1
    got = qml.grad(loss(ours), argnums=argnums)(x, w)
    want = qml.grad(loss(ref), argnums=argnums)(x, w)
    for a, b in zip(got if train_x else [got], want if train_x else [want]):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, atol=1e-9)


@pytest.mark.parametrize("imprimitive", [qml.CY, qml.CH, qml.SWAP, qml.ISWAP, qml.ECR])
def test_native_entanglers_match_default_qubit(imprimitive):
    """Every parameterless 2-qubit gate qshade runs natively is a StronglyEntanglingLayers
    imprimitive the device compiles whole (on wires [i, (i + r) % n], PennyLane's order, which
    matters for the asymmetric CY, CH and ECR), with default.qubit's values and gradients."""
    n = 3
    circuit, _ = template_circuit(n, "Y", imprimitive, (1, 2), None)
    dev = qml.device("qshade.cpu", wires=n)
    rng = np.random.default_rng(7)
    x = pnp.array(rng.uniform(0, np.pi, (4, n)), requires_grad=True)
    w = pnp.array(rng.uniform(0, 2 * np.pi, (2, n, 3)), requires_grad=True)
    tape = qml.tape.make_qscript(circuit)(x, w)
    config = dev.setup_execution_config(
        qml.devices.ExecutionConfig(gradient_method="adjoint", use_device_jacobian_product=True)
    )
    (processed,), _ = dev.preprocess_transforms(config)((tape,))
    assert "StronglyEntanglingLayers" in {op.name for op in processed.operations}
    ours = qml.QNode(circuit, dev, diff_method="adjoint", device_vjp=True)
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=n), diff_method="backprop")
    np.testing.assert_allclose(np.array(ours(x, w)), np.array(ref(x, w)), atol=1e-10)

    def loss(node):
        return lambda x, w: qml.math.sum(node(x, w)[0] ** 2 + 0.5 * node(x, w)[1])

    got = qml.grad(loss(ours), argnums=[0, 1])(x, w)
    want = qml.grad(loss(ref), argnums=[0, 1])(x, w)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_templates_with_other_gates_keep_unsupported_variants_decomposed():
    """A StronglyEntanglingLayers whose entangler qshade has no native gate for (SISWAP, a
    parameterless 2-qubit gate missing from PL_TO_QSHADE) is decomposed by PennyLane even with
    device VJPs, and still gives default.qubit's values and gradients."""
    n = 3
    circuit, _ = template_circuit(n, "X", qml.SISWAP, None, None)
    dev = qml.device("qshade.cpu", wires=n)
    x = pnp.array(np.random.default_rng(1).uniform(0, np.pi, (4, n)), requires_grad=False)
    w = pnp.array(np.random.default_rng(2).uniform(0, 2 * np.pi, (2, n, 3)), requires_grad=True)
    tape = qml.tape.make_qscript(circuit)(x, w)
    config = dev.setup_execution_config(
        qml.devices.ExecutionConfig(gradient_method="adjoint", use_device_jacobian_product=True)
    )
    (processed,), _ = dev.preprocess_transforms(config)((tape,))
    assert "StronglyEntanglingLayers" not in {op.name for op in processed.operations}
    ours = qml.QNode(circuit, dev, diff_method="adjoint", device_vjp=True)
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=n), diff_method="backprop")
    np.testing.assert_allclose(np.array(ours(x, w)), np.array(ref(x, w)), atol=1e-10)

    def loss(node):
        return lambda w: qml.math.sum(node(x, w)[0])

    np.testing.assert_allclose(qml.grad(loss(ours))(w), qml.grad(loss(ref))(w), atol=1e-9)


def test_compile_cache_tells_template_variants_apart():
    """Native templates that differ only in hyperparameters (entangler ranges, entangler,
    embedding rotation) or in the number of layers / features are different structures."""
    n = 4
    dev = qml.device("qshade.cpu", wires=n)
    ref_dev = qml.device("default.qubit", wires=n)
    variants = [
        dict(rotation="X", imprimitive=qml.CNOT, ranges=(1, 1), layers=2, features=4),
        dict(rotation="X", imprimitive=qml.CNOT, ranges=(1, 2), layers=2, features=4),
        dict(rotation="X", imprimitive=qml.CZ, ranges=(1, 1), layers=2, features=4),
        dict(rotation="Z", imprimitive=qml.CNOT, ranges=(1, 1), layers=2, features=4),
        dict(rotation="X", imprimitive=qml.CNOT, ranges=(1,), layers=1, features=4),
        dict(rotation="X", imprimitive=qml.CNOT, ranges=(1, 1), layers=2, features=3),
    ]
    rng = np.random.default_rng(9)
    for _ in range(2):  # the second round runs from the cache
        for v in variants:
            circuit, m = template_circuit(
                n, v["rotation"], v["imprimitive"], v["ranges"], v["features"]
            )
            x = pnp.array(rng.uniform(0, np.pi, (3, m)), requires_grad=False)
            w = pnp.array(rng.uniform(0, 2 * np.pi, (v["layers"], n, 3)), requires_grad=True)
            ours = qml.QNode(circuit, dev, diff_method="adjoint", device_vjp=True)
            ref = qml.QNode(circuit, ref_dev, diff_method="backprop")
            np.testing.assert_allclose(
                np.array(ours(x, w)), np.array(ref(x, w)), atol=1e-10, err_msg=str(v)
            )

            def loss(node):
                return lambda w: qml.math.sum(node(x, w)[0])

            np.testing.assert_allclose(qml.grad(loss(ours))(w), qml.grad(loss(ref))(w), atol=1e-9)
    assert len(_cache(dev)) == len(variants)


@pytest.mark.parametrize("device_vjp", [False, True])
@pytest.mark.parametrize("batch", [None, 3])
def test_trainable_observable_parameters_get_zero_adjoint_derivatives(device_vjp, batch):
    """Trainable Hamiltonian coefficients under adjoint differentiation: PennyLane warns that
    gradients are taken w.r.t. the circuit's parameters only, and the device gives what
    lightning.qubit's adjoint gives (default.qubit's adjoint misplaces the entries here): the
    circuit parameter's true derivative (default.qubit backprop) and 0 for the coefficients;
    the values follow the coefficients."""

    def circuit(x, coeffs):
        qml.RX(x, wires=0)
        qml.CNOT(wires=[0, 1])
        qml.RY(0.3, wires=1)
        return qml.expval(qml.Hamiltonian(coeffs, [qml.PauliZ(0), qml.PauliX(1) @ qml.PauliZ(0)]))

    rng = np.random.default_rng(4)
    x = pnp.array(rng.uniform(0, np.pi, batch), requires_grad=True)
    coeffs = pnp.array([0.7, -1.2], requires_grad=True)
    kw = dict(diff_method="adjoint", device_vjp=device_vjp)
    ours = qml.QNode(circuit, qml.device("qshade.cpu", wires=2), **kw)
    lightning = qml.QNode(circuit, qml.device("lightning.qubit", wires=2), **kw)
    exact = qml.QNode(circuit, qml.device("default.qubit", wires=2), diff_method="backprop")
    with pytest.warns(UserWarning, match="Gradients are computed only"):
        value = ours(x, coeffs)
    np.testing.assert_allclose(value, exact(x, coeffs), atol=1e-12)
    with pytest.warns(UserWarning, match="Gradients are computed only"):
        got = qml.jacobian(ours)(x, coeffs)
    with pytest.warns(UserWarning, match="Gradients are computed only"):
        want = qml.jacobian(lightning)(x, coeffs)
    for a, b in zip(got, want):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, atol=1e-9)
    np.testing.assert_allclose(got[0], qml.jacobian(exact, argnums=0)(x, coeffs), atol=1e-9)
    np.testing.assert_array_equal(got[1], np.zeros_like(want[1]))


def test_direct_compute_vjp_results_are_plain_numpy_for_qml_math():
    """``dev.compute_vjp`` called directly (PennyLane's Device API) returns a tuple qml.math
    treats as numpy (its VJPs have mixed shapes under broadcasting), with the analytic values:
    RX(x) on 0, RY(t) on 1, CNOT: <Z1> = cos(x) cos(t)."""
    dev = qml.device("qshade.cpu", wires=2)
    x, t = np.array([0.3, 0.8, 1.1]), 0.4
    tape = qml.tape.QuantumScript(
        [qml.RX(x, wires=0), qml.RY(t, wires=1), qml.CNOT(wires=[0, 1])],
        [qml.expval(qml.PauliZ(1))],
        trainable_params=[0, 1],
    )
    config = dev.setup_execution_config(
        qml.devices.ExecutionConfig(gradient_method="adjoint", use_device_jacobian_product=True)
    )
    dy = np.array([1.0, -0.5, 0.25])
    vjp = dev.compute_vjp(tape, dy, config)
    assert qml.math.get_interface(vjp) == "numpy"
    want_x = dy * -np.sin(x) * np.cos(t)
    want_t = np.sum(dy * -np.cos(x) * np.sin(t))
    assert qml.math.allclose(qml.math.to_numpy(vjp[0]), want_x, atol=1e-12)
    assert qml.math.allclose(vjp[1], want_t, atol=1e-12)
