"""The Python API against Qiskit's Statevector and numpy, on random circuits."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp, Statevector

import qshade

ONE_Q = ["h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx"]
ONE_Q_ROT = ["rx", "ry", "rz", "p"]
TWO_Q = ["cx", "cy", "cz", "swap", "iswap"]
TWO_Q_ROT = ["crx", "cry", "crz", "cp", "rxx", "ryy", "rzz"]


def random_pair(rng, n, depth, num_params):
    """The same random circuit for qshade (angles theta[k]) and for Qiskit (a ParameterVector
    `th`, bind with `qc.assign_parameters(theta)`), and random parameter values."""
    th = ParameterVector("th", num_params)
    theta = rng.uniform(-np.pi, np.pi, num_params)
    c = qshade.Circuit(n)
    qc = QuantumCircuit(n)
    for _ in range(depth):
        kind = rng.integers(0, 5)
        qs = [int(q) for q in rng.choice(n, size=3, replace=False)]
        k = int(rng.integers(0, num_params))
        if kind == 0:
            g = str(rng.choice(ONE_Q))
            c.add(g, qs[:1])
            getattr(qc, g)(qs[0])
        elif kind == 1:
            g = str(rng.choice(ONE_Q_ROT))
            c.add(g, qs[:1], [qshade.theta(k) * 0.7 + 0.1])
            getattr(qc, g)(0.7 * th[k] + 0.1, qs[0])
        elif kind == 2:
            g = str(rng.choice(TWO_Q))
            c.add(g, qs[:2])
            getattr(qc, g)(qs[0], qs[1])
        elif kind == 3:
            g = str(rng.choice(TWO_Q_ROT))
            c.add(g, qs[:2], [qshade.theta(k)])
            getattr(qc, g)(th[k], qs[0], qs[1])
        else:
            a = rng.uniform(-3, 3, 3)
            c.u(qs[0], qshade.theta(k), float(a[1]), float(a[2]))
            qc.u(th[k], a[1], a[2], qs[0])
            c.ccx(*qs)
            qc.ccx(*qs)
    c.declare_params(num_params)
    # Parameters a gate never drew still belong to the Qiskit circuit, bound in order.
    for k in range(num_params):
        if th[k] not in qc.parameters:
            qc.rz(0.0 * th[k], 0)
    return c, qc, theta


def random_pauli_sum(rng, n, terms=3):
    labels = ["".join(rng.choice(list("IXYZ"), size=n)) for _ in range(terms)]
    coeffs = rng.normal(size=terms)
    return labels, coeffs


def to_qshade_observable(labels, coeffs):
    n = len(labels[0])
    terms = []
    for label, c in zip(labels, coeffs):
        qubits = [q for q, ch in enumerate(reversed(label)) if ch != "I"]
        terms.append((float(c), "".join(label[n - 1 - q] for q in qubits), qubits))
    return qshade.Observable.from_terms(terms)


@pytest.mark.parametrize("seed", range(4))
def test_state_matches_qiskit(seed, backend_and_tol):
    backend, tol = backend_and_tol
    rng = np.random.default_rng(seed)
    c, qc, theta = random_pair(rng, 4, 25, 5)
    amps = backend.run(c, theta=theta).amplitudes()
    want = Statevector(qc.assign_parameters(theta)).data  # Qiskit: qubit 0 is the least significant bit too
    assert amps.dtype == np.complex128 and amps.shape == (16,)
    np.testing.assert_allclose(amps, want, atol=tol)


@pytest.mark.parametrize("seed", range(3))
def test_batched_forward_matches_qiskit(seed, backend_and_tol):
    backend, tol = backend_and_tol
    rng = np.random.default_rng(100 + seed)
    n, batch = 4, 6
    c, qc, _ = random_pair(rng, n, 20, 4)
    obs = [random_pauli_sum(rng, n) for _ in range(3)]
    thetas = rng.uniform(-np.pi, np.pi, (batch, 4))
    got = backend.forward(c, [to_qshade_observable(*o) for o in obs], theta=thetas)
    assert got.shape == (batch, 3)
    for b in range(batch):
        state = Statevector(qc.assign_parameters(thetas[b]))
        for j, (labels, coeffs) in enumerate(obs):
            want = state.expectation_value(SparsePauliOp(labels, coeffs)).real
            assert abs(got[b, j] - want) < tol * 10


def test_gradient_and_jacobian_match_finite_differences(backend_and_tol):
    backend, tol = backend_and_tol
    rng = np.random.default_rng(7)
    n, batch, p = 3, 5, 4
    c, _, _ = random_pair(rng, n, 18, p)
    obs = [to_qshade_observable(*random_pauli_sum(rng, n)) for _ in range(2)]
    thetas = rng.uniform(-np.pi, np.pi, (batch, p))
    upstream = rng.normal(size=(batch, 2))
    g = backend.gradient(c, obs, upstream, theta=thetas)
    values, jac, jx = backend.jacobian(c, obs, theta=thetas)
    assert jac.shape == (batch, 2, p) and jx.shape == (batch, 2, 0)
    # Central differences on the f64 reference (an independent engine), h = 1e-5.
    ref = qshade.reference()
    h = 1e-5
    fd = np.empty((batch, 2, p))
    for k in range(p):
        e = np.zeros(p)
        e[k] = h
        fd[:, :, k] = (ref.forward(c, obs, theta=thetas + e) - ref.forward(c, obs, theta=thetas - e)) / (2 * h)
    fd_tol = max(tol * 100, 1e-7)
    np.testing.assert_allclose(jac, fd, atol=fd_tol)
    np.testing.assert_allclose(values, ref.forward(c, obs, theta=thetas), atol=tol * 10)
    np.testing.assert_allclose(g.values, values, atol=tol * 10)
    np.testing.assert_allclose(g.theta_per_sample, np.einsum("bj,bjk->bk", upstream, fd), atol=fd_tol)
    # Shared theta: gradient summed over the batch.
    g1 = backend.gradient(c, obs, upstream, theta=thetas[0])
    assert g1.theta.shape == (p,) and g1.theta_per_sample is None
    np.testing.assert_allclose(g1.theta, np.einsum("bj,jk->k", upstream, fd[0]), atol=fd_tol * batch)


def test_inputs_and_shared_theta(backend_and_tol):
    backend, tol = backend_and_tol
    c = qshade.Circuit(2).ry(0, qshade.input(0)).rx(1, qshade.theta(0)).cx(0, 1)
    xs = np.array([[0.1], [0.7], [-1.3]])
    th = np.array([0.4])
    got = backend.forward(c, ["Z0", "Z1", "Z0 Z1"], theta=th, inputs=xs)
    # Analytic: <Z0> = cos x, <Z1> = cos x cos th (CNOT), <Z0Z1> = cos th.
    x = xs[:, 0]
    want = np.stack([np.cos(x), np.cos(x) * np.cos(0.4), np.full(3, np.cos(0.4))], axis=1)
    np.testing.assert_allclose(got, want, atol=tol)
    g = backend.gradient(c, ["Z1"], np.ones((3, 1)), theta=th, inputs=xs)
    np.testing.assert_allclose(g.inputs[:, 0], -np.sin(x) * np.cos(0.4), atol=tol * 10)
    np.testing.assert_allclose(g.theta, [np.sum(-np.cos(x) * np.sin(0.4))], atol=tol * 10)


def test_changing_a_circuit_between_batched_calls_is_seen(backend_and_tol):
    # Batched calls reuse the circuit's compiled program while it is unchanged; a gate added
    # (or parameters declared) in between must be seen by the next call.
    backend, tol = backend_and_tol
    c = qshade.Circuit(1).rx(0, qshade.theta(0))
    th = np.array([0.3])
    np.testing.assert_allclose(backend.forward(c, ["Z0"], theta=th), [[np.cos(0.3)]], atol=tol)
    np.testing.assert_allclose(backend.forward(c, ["Z0"], theta=th), [[np.cos(0.3)]], atol=tol)
    c.x(0)
    np.testing.assert_allclose(backend.forward(c, ["Z0"], theta=th), [[-np.cos(0.3)]], atol=tol)
    g = backend.gradient(c, ["Z0"], np.ones((1, 1)), theta=th)
    np.testing.assert_allclose(g.theta, [np.sin(0.3)], atol=tol * 10)
    c.ry(0, qshade.theta(1))
    th2 = np.array([0.3, 0.5])
    np.testing.assert_allclose(
        backend.forward(c, ["Z0"], theta=th2), [[-np.cos(0.3) * np.cos(0.5)]], atol=tol
    )


def test_sampling_matches_probabilities():
    backend = qshade.cpu()
    c = qshade.Circuit(3).ry(0, 1.1).cx(0, 1).ry(2, 0.4)
    state = backend.run(c)
    probs = state.probabilities()
    shots = 20000
    samples = state.sample(shots, seed=5)
    assert samples.dtype == np.uint64 and samples.shape == (shots,)
    freq = np.bincount(samples.astype(np.int64), minlength=8) / shots
    # 5 standard errors per outcome.
    assert np.all(np.abs(freq - probs) <= 5 * np.sqrt(probs * (1 - probs) / shots) + 1e-12)
    counts = state.sample_counts(shots, seed=5)
    assert sum(counts.values()) == shots
    np.testing.assert_allclose(state.marginal_probabilities([0]), [probs[0::2].sum(), probs[1::2].sum()], atol=1e-12)


def test_overlaps_are_inner_products():
    backend = qshade.cpu()
    c = qshade.Circuit(2).ry(0, qshade.input(0)).ry(1, qshade.input(1)).cz(0, 1).rx(0, qshade.input(1))
    xa = np.array([[0.1, 0.2], [1.0, -0.5]])
    xb = np.array([[0.3, 0.3], [0.1, 0.2], [2.0, 1.0]])
    k = backend.overlaps(c, xa, xb)
    sa = [backend.run(c, inputs=x).amplitudes() for x in xa]
    sb = [backend.run(c, inputs=x).amplitudes() for x in xb]
    want = np.array([[np.vdot(a, b) for b in sb] for a in sa])
    np.testing.assert_allclose(k, want, atol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: qshade.Circuit(2).h(2), "out of range"),
        (lambda: qshade.Circuit(2).cx(1, 1), "qubit 1"),
        (lambda: qshade.Circuit(2).add("nosuch", [0]), "unknown gate"),
        (lambda: qshade.Circuit(2).add("rx", [0]), "takes 1 angle"),
        (lambda: qshade.Circuit(2).add("cx", [0]), "takes 2 qubit"),
        (lambda: qshade.Circuit(2).add("CX", [0, 1]), "lower case"),
        (lambda: qshade.Circuit(1).rx(0, qshade.theta(0).apply("sinh")), "unknown angle function"),
        (lambda: qshade.theta(2).value([0.1]), "theta[2]"),
        (lambda: qshade.Circuit(1).rx(0, float("nan")), "finite"),
        (lambda: qshade.Observable("Q0"), ""),
        (lambda: qshade.cpu("f16"), "unknown precision"),
        (lambda: qshade.cpu().forward(qshade.Circuit(1).rx(0, qshade.theta(0)), "Z0", theta=[[1.0, 2.0]]), "θ"),
        (lambda: qshade.cpu().forward(qshade.Circuit(1).rx(0, qshade.theta(0)), "Z0", theta=[[np.inf]]), "NaN or infinite"),
        (lambda: qshade.cpu().forward(qshade.Circuit(1).h(0), "Z3"), "out of range"),
        (lambda: qshade.cpu().run(qshade.Circuit(1).h(0)).sample(0), "shot"),
    ],
)
def test_bad_input_raises_qshade_error(call, message):
    with pytest.raises(qshade.QShadeError) as info:
        call()
    assert message.lower() in str(info.value).lower()
    assert isinstance(info.value, ValueError)


def test_every_standard_gate_by_name_matches_qiskit():
    """Every gate of Rust's standard gate library is reachable from Python by name (add() and
    the generated method) and gives Qiskit's state on a random input, global phase included."""
    from qiskit.circuit.library import C3XGate, C4XGate, MCXGate, get_standard_gate_name_mapping

    qiskit_gates = get_standard_gate_name_mapping()
    aliases = {"i": "id", "phase": "p", "cnot": "cx", "toffoli": "ccx", "fredkin": "cswap",
               "cphase": "cp", "gphase": "global_phase", "c3sqrtx": "c3sx", "rc3x": "rcccx"}
    qiskit_gates = dict(qiskit_gates, c3x=C3XGate(), c4x=C4XGate())
    rng = np.random.default_rng(21)
    n = 5
    prep = rng.uniform(-np.pi, np.pi, (n, 2))
    names = qshade.standard_gate_names()
    assert {"sxdg", "r", "ecr", "rzx", "dcx", "cu", "ch", "cs", "csdg", "csx", "cswap", "ccz",
            "rccx", "mcx", "xx_plus_yy", "global_phase"} <= set(names)
    for name in names:
        nq, na = qshade.standard_gate_signature(name)
        if qshade.standard_gate_is_variadic(name):
            nq = 4
            gate = MCXGate(nq - 1)
        else:
            gate = qiskit_gates[aliases.get(name, name)]
        angles = [float(a) for a in rng.uniform(-np.pi, np.pi, na)]
        if na:
            gate = gate.copy()
            gate.params = angles
        qubits = [int(q) for q in rng.choice(n, size=nq, replace=False)]
        qc = QuantumCircuit(n)
        c = qshade.Circuit(n)
        for q in range(n):
            qc.ry(prep[q, 0], q)
            qc.rz(prep[q, 1], q)
            c.ry(q, float(prep[q, 0])).rz(q, float(prep[q, 1]))
        qc.append(gate, qubits)
        c.add(name, qubits, angles)
        want = Statevector(qc).data
        np.testing.assert_allclose(qshade.cpu().run(c).amplitudes(), want, atol=1e-10, err_msg=name)
        if not qshade.standard_gate_is_variadic(name):
            m = qshade.Circuit(n)
            for q in range(n):
                m.ry(q, float(prep[q, 0])).rz(q, float(prep[q, 1]))
            getattr(m, name)(*qubits, *angles)
            np.testing.assert_allclose(qshade.cpu().run(m).amplitudes(), want, atol=1e-10, err_msg=name)


def _angle_cases():
    """(qshade angle built from theta t and inputs x, the same function in numpy)."""
    t0, t1, t2 = qshade.theta(0), qshade.theta(1), qshade.theta(2)
    x0, x1 = qshade.input(0), qshade.input(1)
    pi = np.pi
    return [
        (2 * (pi - x0) * (pi - x1), lambda t, x: 2 * (pi - x[0]) * (pi - x[1])),
        (qshade.sin(t0) * t1 + t2, lambda t, x: np.sin(t[0]) * t[1] + t[2]),
        (-t0 / (1.5 + t1 * t1) - 0.3, lambda t, x: -t[0] / (1.5 + t[1] ** 2) - 0.3),
        (t0**2 + 2**t1 - x0**t2, lambda t, x: t[0] ** 2 + 2 ** t[1] - x[0] ** t[2]),
        (1 / x0 - t0 / 2 + (1 - t1), lambda t, x: 1 / x[0] - t[0] / 2 + 1 - t[1]),
        (qshade.cos(x0 * t0) + qshade.tan(t1) + qshade.exp(-t2) + qshade.ln(x1)
         + qshade.sqrt(x1) + qshade.arcsin(t2 / 4) + qshade.arccos(t2 / 5) + qshade.arctan(t0),
         lambda t, x: np.cos(x[0] * t[0]) + np.tan(t[1]) + np.exp(-t[2]) + np.log(x[1])
         + np.sqrt(x[1]) + np.arcsin(t[2] / 4) + np.arccos(t[2] / 5) + np.arctan(t[0])),
    ]


@pytest.mark.parametrize("case", range(6))
def test_angle_expressions_values_and_gradients(case):
    """Angle arithmetic from Python evaluates like numpy, its gradient equals central
    differences, and a circuit using it matches the same circuit with the number put in."""
    angle, f = _angle_cases()[case]
    rng = np.random.default_rng(case)
    t = rng.uniform(0.2, 1.0, 3)
    x = rng.uniform(0.5, 1.5, 2)
    assert abs(angle.value(t, x) - f(t, x)) < 1e-12
    gt, gx = angle.gradient(t, x)
    h = 1e-6
    for vec, grad in ((t, gt), (x, gx)):
        for k in range(len(vec)):
            e = np.zeros(len(vec))
            e[k] = h
            args = (t + e, x) if vec is t else (t, x + e)
            args_m = (t - e, x) if vec is t else (t, x - e)
            assert abs(grad[k] - (f(*args) - f(*args_m)) / (2 * h)) < 1e-6
    # In a circuit: forward and the jacobian through the expression, against the constant angle.
    c = qshade.Circuit(2).h(0).crx(0, 1, angle).ry(0, angle * 0.5)
    c.declare_params(3).declare_inputs(2)
    cpu = qshade.cpu()
    const = qshade.Circuit(2).h(0).crx(0, 1, f(t, x)).ry(0, f(t, x) * 0.5)
    np.testing.assert_allclose(cpu.forward(c, ["Z1", "X0"], theta=t, inputs=x[None]),
                               cpu.forward(const, ["Z1", "X0"]), atol=1e-12)
    _, jt, jx = cpu.jacobian(c, ["Z1"], theta=t[None], inputs=x[None])
    d = qshade.Circuit(2).h(0).crx(0, 1, qshade.theta(0)).ry(0, qshade.theta(0) * 0.5)
    _, dj, _ = cpu.jacobian(d, ["Z1"], theta=[[f(t, x)]])
    np.testing.assert_allclose(jt[0, 0], dj[0, 0, 0] * np.array(gt), atol=1e-10)
    np.testing.assert_allclose(jx[0, 0], dj[0, 0, 0] * np.array(gx), atol=1e-10)
