"""The qshade PennyLane devices against default.qubit: values, gradients (adjoint, with and
without parameter broadcasting) and samples, on random circuits."""

import numpy as np
import pennylane as qml
import pytest
from pennylane import numpy as pnp

import qshade

ROT1 = [qml.RX, qml.RY, qml.RZ, qml.PhaseShift]
ROT2 = [qml.CRX, qml.CRY, qml.CRZ, qml.IsingXX, qml.IsingYY, qml.IsingZZ, qml.ControlledPhaseShift]
FIXED1 = [qml.Hadamard, qml.PauliX, qml.PauliY, qml.PauliZ, qml.S, qml.T, qml.SX]
FIXED2 = [qml.CNOT, qml.CY, qml.CZ, qml.SWAP, qml.ISWAP]


def random_ops(seed, n, depth):
    """A random gate list (closure over parameter vector `w`), covering native gates and a
    few PennyLane must decompose (Rot, CRot, QubitUnitary-free ones)."""
    rng = np.random.default_rng(seed)
    plan = []
    for _ in range(depth):
        kind = int(rng.integers(0, 6))
        qs = [int(q) for q in rng.choice(n, size=3, replace=False)]
        plan.append((kind, qs, int(rng.integers(0, 100)), int(rng.integers(0, 100))))

    def apply(w):
        k = 0
        for kind, qs, a, b in plan:
            if kind == 0:
                FIXED1[a % len(FIXED1)](wires=qs[0])
            elif kind == 1:
                ROT1[a % len(ROT1)](w[..., k % w.shape[-1]], wires=qs[0])
                k += 1
            elif kind == 2:
                FIXED2[a % len(FIXED2)](wires=qs[:2])
            elif kind == 3:
                ROT2[a % len(ROT2)](w[..., k % w.shape[-1]], wires=qs[:2])
                k += 1
            elif kind == 4:
                qml.Rot(w[..., k % w.shape[-1]], 0.3, w[..., (k + 1) % w.shape[-1]], wires=qs[0])
                k += 2
            else:
                qml.Toffoli(wires=qs)
                qml.U3(w[..., k % w.shape[-1]], 0.2, -0.4, wires=qs[1])
                k += 1

    return apply


def observables(n):
    return [
        qml.PauliZ(0),
        qml.PauliX(1) @ qml.PauliY(n - 1),
        0.5 * qml.PauliZ(0) @ qml.PauliZ(1) - 0.3 * qml.PauliX(2) + 0.2 * qml.Identity(0),
    ]


def qnodes(n, apply, diff_ref="backprop", device_vjp=False, **dev_kw):
    dev = qml.device("qshade.cpu", wires=n, **dev_kw)
    ref = qml.device("default.qubit", wires=n)

    def circuit(w):
        apply(w)
        return [qml.expval(o) for o in observables(n)]

    return (
        qml.QNode(circuit, dev, diff_method="adjoint", device_vjp=device_vjp),
        qml.QNode(circuit, ref, diff_method=diff_ref),
    )


@pytest.mark.parametrize("seed", range(3))
def test_expvals_and_adjoint_jacobian_match_default_qubit(seed):
    n, p = 4, 5
    apply = random_ops(seed, n, 24)
    ours, ref = qnodes(n, apply)
    w = pnp.array(np.random.default_rng(seed).uniform(-np.pi, np.pi, p), requires_grad=True)
    np.testing.assert_allclose(ours(w), ref(w), atol=1e-10)
    jac = qml.jacobian(lambda x: qml.math.stack(ours(x)))(w)
    want = qml.jacobian(lambda x: qml.math.stack(ref(x)))(w)
    np.testing.assert_allclose(jac, want, atol=1e-9)


@pytest.mark.parametrize("device_vjp", [False, True])
def test_broadcasting_with_adjoint_matches_default_qubit(device_vjp):
    """Trainable broadcast parameters: per-row gradients (device Jacobians over the expanded
    tapes, or device VJPs on the broadcast tape itself)."""
    n, p, batch = 4, 3, 7
    apply = random_ops(11, n, 20)
    ours, ref = qnodes(n, apply, device_vjp=device_vjp)
    rng = np.random.default_rng(3)
    w = pnp.array(rng.uniform(-np.pi, np.pi, (batch, p)), requires_grad=True)
    got = np.array(ours(w))
    assert got.shape == (3, batch)
    np.testing.assert_allclose(got, np.array(ref(w)), atol=1e-10)

    # A scalar loss over the whole batch: one batched adjoint call on qshade's side.
    def loss(node):
        return lambda x: qml.math.sum(node(x)[0] * node(x)[2] + node(x)[1])

    np.testing.assert_allclose(qml.grad(loss(ours))(w), qml.grad(loss(ref))(w), atol=1e-9)


@pytest.mark.parametrize("device_vjp, backward", [(False, "jacobian"), (True, "gradient")])
def test_broadcast_batch_is_one_batched_call(device_vjp, backward):
    """A broadcast mini-batch with adjoint reaches the backend as ONE forward call and ONE
    backward call (a batched Jacobian, or a batched VJP with device_vjp=True)."""
    n, batch = 3, 16
    dev = qml.device("qshade.cpu", wires=n)
    calls = {"forward": 0, "gradient": 0, "jacobian": 0, "run": 0}

    class Counting:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            if name in calls:
                calls[name] += 1
            return getattr(self.inner, name)

    dev._backend = Counting(dev._backend)

    def circuit(x, w):
        qml.AngleEmbedding(x, wires=range(n))
        qml.BasicEntanglerLayers(w, wires=range(n))
        return qml.expval(qml.PauliZ(0))

    ours = qml.QNode(circuit, dev, diff_method="adjoint", device_vjp=device_vjp)
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=n), diff_method="backprop")
    x = pnp.array(np.random.default_rng(0).uniform(0, 1, (batch, n)), requires_grad=False)
    w = pnp.array(np.random.default_rng(1).uniform(0, 1, (2, n)), requires_grad=True)
    g = qml.grad(lambda w: qml.math.sum(ours(x, w) ** 2))(w)
    want = qml.grad(lambda w: qml.math.sum(ref(x, w) ** 2))(w)
    np.testing.assert_allclose(g, want, atol=1e-10)
    expected = {"forward": 1, "gradient": 0, "jacobian": 0, "run": 0}
    expected[backward] = 1
    assert calls == expected


def test_state_probs_var_match_default_qubit():
    n = 3
    apply = random_ops(5, n, 15)
    w = np.random.default_rng(5).uniform(-np.pi, np.pi, 3)

    def circuit(w):
        apply(w)
        qml.GlobalPhase(0.37)
        return (
            qml.state(),
            qml.probs(wires=[2, 0]),
            qml.var(qml.PauliX(1)),
            qml.expval(qml.Hermitian(np.array([[1.0, 0.5], [0.5, -1.0]]), wires=1)),
        )

    ours = qml.QNode(circuit, qml.device("qshade.cpu", wires=n))(w)
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=n))(w)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_samples_and_counts_follow_the_distribution():
    n, shots = 3, 20000
    apply = random_ops(8, n, 12)
    w = np.random.default_rng(8).uniform(-np.pi, np.pi, 3)

    def circuit(w):
        apply(w)
        return qml.sample(wires=range(n)), qml.counts(wires=range(n)), qml.expval(qml.PauliZ(0))

    dev = qml.device("qshade.cpu", wires=n, seed=42)
    samples, counts, ez = qml.set_shots(qml.QNode(circuit, dev), shots=shots)(w)
    probs = qml.QNode(lambda w: (apply(w), qml.probs(wires=range(n)))[1], qml.device("default.qubit", wires=n))(w)
    assert samples.shape == (shots, n)
    idx = samples @ (2 ** np.arange(n)[::-1])
    freq = np.bincount(idx, minlength=2**n) / shots
    sigma = np.sqrt(probs * (1 - probs) / shots)
    assert np.all(np.abs(freq - probs) <= 5 * sigma + 1e-12)
    assert sum(counts.values()) == shots
    z = probs.reshape(2, -1).sum(axis=1) @ np.array([1, -1])
    assert abs(ez - z) <= 5 / np.sqrt(shots)


def test_torch_free_training_step_matches():
    """One optimizer step with the autograd interface lands on the same parameters."""
    n = 3
    apply = random_ops(21, n, 12)
    ours, ref = qnodes(n, apply)
    w0 = pnp.array([0.1, 0.2, 0.3], requires_grad=True)
    opt = qml.GradientDescentOptimizer(0.2)
    a = opt.step(lambda w: qml.math.sum(qml.math.stack(ours(w))), w0)
    b = opt.step(lambda w: qml.math.sum(qml.math.stack(ref(w))), w0)
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_adjoint_of_hermitian_uses_its_pauli_decomposition():
    dev = qml.device("qshade.cpu", wires=2)
    h = np.array([[1.0, 0.5 - 0.2j, 0, 0.1], [0.5 + 0.2j, -1.0, 0.3, 0], [0, 0.3, 0.2, 0], [0.1, 0, 0, 0.4]])

    def circuit(x):
        qml.RX(x, wires=0)
        qml.CRY(2 * x, wires=[0, 1])
        return qml.expval(qml.Hermitian(h, wires=[0, 1]))

    x = pnp.array(0.3, requires_grad=True)
    ours = qml.QNode(circuit, dev, diff_method="adjoint")
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=2), diff_method="backprop")
    np.testing.assert_allclose(ours(x), ref(x), atol=1e-10)
    np.testing.assert_allclose(qml.grad(ours)(x), qml.grad(ref)(x), atol=1e-10)


def test_unsupported_adjoint_request_is_a_clear_error():
    dev = qml.device("qshade.cpu", wires=1)

    @qml.qnode(dev, diff_method="adjoint")
    def circuit(x):
        qml.RX(x, wires=0)
        return qml.probs(wires=0)

    with pytest.raises(qml.exceptions.DeviceError):
        qml.jacobian(circuit)(pnp.array(0.3, requires_grad=True))


def test_unitaries_and_ops_without_decomposition_match_default_qubit():
    """QubitUnitary on 1 and 2 wires runs natively (wire order!), larger ones and operators
    PennyLane cannot decompose (DoubleExcitationPlus) go through their matrix."""
    from scipy.stats import unitary_group

    u2 = unitary_group.rvs(4, random_state=1)
    u3 = unitary_group.rvs(8, random_state=2)

    def circuit():
        qml.Hadamard(0)
        qml.RY(0.4, wires=2)
        qml.QubitUnitary(u2, wires=[2, 0])
        qml.QubitUnitary(u3, wires=[1, 3, 0])
        qml.DoubleExcitationPlus(0.7, wires=[0, 1, 2, 3])
        return qml.state()

    ours = qml.QNode(circuit, qml.device("qshade.cpu", wires=4))()
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=4))()
    np.testing.assert_allclose(ours, ref, atol=1e-9)


def _native_op_cases():
    """One instance-maker per PennyLane operation the device runs natively (PL_TO_QSHADE),
    on wires that are not in order, with random parameters."""
    from qshade.pennylane_device import PL_TO_QSHADE

    rng = np.random.default_rng(11)
    cases = []
    for name in sorted(PL_TO_QSHADE):
        cls = getattr(qml, name)
        if name == "MultiControlledX":
            wires = [3, 0, 2, 1]
        elif name == "GlobalPhase":
            wires = []
        else:
            wires = [3, 1, 0][: cls.num_wires]
        cases.append((name, cls, wires, rng.uniform(-np.pi, np.pi, cls.num_params)))
    return cases


@pytest.mark.parametrize("name, cls, wires, params", _native_op_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_native_op_matches_default_qubit(name, cls, wires, params):
    """Each PennyLane op mapped onto a Rust standard gate gives default.qubit's state (global
    phase included) on a random entangled input, and adjoint gradients of its parameters
    equal to default.qubit's backprop ones."""
    n = 4
    prep = np.random.default_rng(3).uniform(-np.pi, np.pi, (n, 2))

    def circuit(p, measure):
        for q in range(n):
            qml.RY(prep[q, 0], wires=q)
            qml.RZ(prep[q, 1], wires=q)
        qml.CNOT(wires=[0, 1])
        qml.CNOT(wires=[2, 3])
        qml.CRY(0.7, wires=[1, 2])
        cls(*[p[i] for i in range(len(params))], wires=wires)
        qml.RX(0.3, wires=1)  # so that a wrong phase on one branch shows in expectations
        qml.CNOT(wires=[1, 3])
        return measure()

    ours = qml.device("qshade.cpu", wires=n)
    ref = qml.device("default.qubit", wires=n)
    # Is the op run natively (not decomposed)? The tape the device executes keeps it.
    tape = qml.tape.make_qscript(circuit)(pnp.array(params), qml.state)
    (processed,), _ = ours.preprocess_transforms()((tape,))
    assert name in [op.name for op in processed.operations]
    state = qml.QNode(circuit, ours)(params, qml.state)
    want = qml.QNode(circuit, ref)(params, qml.state)
    np.testing.assert_allclose(state, want, atol=1e-10)
    if len(params):
        obs = lambda: qml.expval(qml.PauliX(1) @ qml.PauliZ(3) + 0.4 * qml.PauliY(0))  # noqa: E731
        p = pnp.array(params, requires_grad=True)
        g = qml.jacobian(qml.QNode(circuit, ours, diff_method="adjoint"))(p, obs)
        gw = qml.jacobian(qml.QNode(circuit, ref, diff_method="backprop"))(p, obs)
        np.testing.assert_allclose(g, gw, atol=1e-9)


def test_capabilities_file_lists_exactly_the_mapped_ops_and_rust_knows_them():
    """qshade.toml, the device's PennyLane -> Qiskit name map and Rust's standard gate library
    agree: every mapped gate exists in Rust, and the TOML declares exactly the mapped ops."""
    import tomllib

    from qshade.pennylane_device import _SPECIAL, PL_TO_QSHADE, QShadeDevice

    names = set(qshade.standard_gate_names())
    for pl, gates in PL_TO_QSHADE.items():
        assert gates, pl
        for gate, _ in gates:
            assert gate in names, (pl, gate)
    with open(QShadeDevice.config_filepath, "rb") as f:
        toml_gates = set(tomllib.load(f)["operators"]["gates"])
    assert toml_gates == set(PL_TO_QSHADE) | _SPECIAL | {"QubitUnitary"}
