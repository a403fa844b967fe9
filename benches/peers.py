#!/usr/bin/env python3
"""The peer simulators (qulacs, PennyLane lightning.qubit, qiskit-aer, qsim) on the workloads of
benches/WORKLOADS.md, each verified at n = 8 against a numpy reference. One JSON line per
(simulator, workload, size) on stdout, in the shape of qshade's bench program (examples/bench.rs),
so that benches/compare.py can set them side by side.

Usage (the venv: see benches/side_by_side.sh):
    PEERS_THREADS=2 .venv-peers/bin/python benches/peers.py [--sims qulacs,aer] \\
        [--workloads gate1q,grad] [--sizes "gate1q=20,22;ansatz=16"] [--out peers.jsonl]
    .venv-peers/bin/python benches/peers.py --bandwidth     # numpy 1 GiB copy: the memory ceiling

Environment: PEERS_THREADS (threads per simulator, default 2), PEERS_BUDGET_S (timed seconds per
figure, default 15), PEERS_SKIP_S (skip a size predicted to take longer, default 60).

Each simulator variant runs in its own process, so the OpenMP runtimes the wheels bundle never
share one and a crash loses only that variant. A variant whose package is not installed is
skipped with a message (and a `skipped` line), not an error.
"""
from __future__ import annotations

import os
import sys

# Threads: every knob is fixed before numpy or a simulator is imported.
THREADS = int(os.environ.get("PEERS_THREADS", "2"))
for _var in ("OMP_NUM_THREADS", "QULACS_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_var] = str(THREADS)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

try:
    import numpy as np  # noqa: E402
except ImportError:
    sys.exit("peers.py needs numpy and the peer packages: python3 -m venv .venv-peers && "
             ".venv-peers/bin/pip install -r benches/requirements-peers.txt")

warnings.filterwarnings("ignore")

BUDGET_S = float(os.environ.get("PEERS_BUDGET_S", "15"))
SKIP_S = float(os.environ.get("PEERS_SKIP_S", "60"))
MIN_REP, MAX_REP = 3, 15
DATE = time.strftime("%Y-%m-%d")
SEED = 1234
NGATES = 100
VERIFY_N, VERIFY_B = 8, 16
WORKLOADS = ("gate1q", "gate2q", "ansatz", "grad", "batch")
SIZES = {"gate1q": (20, 22, 24), "gate2q": (20, 22, 24), "ansatz": (16, 20)}
ANSATZ_L = 10
GRAD_N, GRAD_L = 12, 6
BATCH_N, BATCH_L, BATCH_B = 10, 4, 256

# ------------------------------------------------------------------------------------------------
# Circuits as op lists, shared by every adapter and the reference:
#   ("h", q) | ("rx" | "ry" | "rz", q, angle) | ("cx", control, target)
# An angle is a float, ("t", k) = theta[k] or ("x", i) = input feature i.
# ------------------------------------------------------------------------------------------------


def ops_gate1q(n):
    return [("h", k % n) if k % 2 == 0 else ("rx", k % n, 0.3) for k in range(NGATES)]


def ops_gate2q(n):
    return [("cx", k % n, (k + 1) % n) for k in range(NGATES)]


def ops_prefix(n):
    """A product state for verifying gate2q (CNOTs leave |0…0⟩ unchanged)."""
    return [("ry", q, 0.1 + 0.17 * q) for q in range(n)] + [("rz", q, 0.05 + 0.11 * q) for q in range(n)]


def ops_ansatz(n, L):
    """Per layer l: RY(θ[2nl+2q]), RZ(θ[2nl+2q+1]) on every qubit q, then the CNOT ring."""
    ops = []
    for l in range(L):
        for q in range(n):
            ops += [("ry", q, ("t", 2 * n * l + 2 * q)), ("rz", q, ("t", 2 * n * l + 2 * q + 1))]
        ops += [("cx", q, (q + 1) % n) for q in range(n)]
    return ops


def ops_encoding(n):
    return [("rx", q, ("x", q)) for q in range(n)]


def n_params(n, L):
    return 2 * n * L


def resolve(a, theta=None, x=None):
    if isinstance(a, tuple):
        return float(theta[a[1]] if a[0] == "t" else x[a[1]])
    return float(a)


def bind(ops, theta):
    return [(op[0], op[1], resolve(op[2], theta)) if op[0] in ("rx", "ry", "rz") else op for op in ops]


def thetas(P):
    return np.random.default_rng(SEED).uniform(0, 2 * np.pi, P)


def inputs(B, n):
    return np.random.default_rng(SEED + 1).uniform(0, np.pi, (B, n))


# ------------------------------------------------------------------------------------------------
# numpy reference (complex128). A state has shape (B, 2, …, 2) with axis q+1 for qubit q, so a
# flattened state has qubit 0 as its most significant bit (cirq's and PennyLane's order).
# ------------------------------------------------------------------------------------------------


def ref_matrix(kind, a):
    """The gate's 2×2 matrix; `a` may be an array of angles (one matrix each)."""
    if kind == "h":
        return np.array([[1, 1], [1, -1]], complex) / np.sqrt(2)
    a = np.asarray(a, float)
    c, s = np.cos(a / 2), np.sin(a / 2)
    m = np.zeros(a.shape + (2, 2), complex)
    if kind == "rx":
        m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1] = c, -1j * s, -1j * s, c
    elif kind == "ry":
        m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1] = c, -s, s, c
    else:
        m[..., 0, 0], m[..., 1, 1] = np.exp(-0.5j * a), np.exp(0.5j * a)
    return m


def ref_states(ops, n, theta=None, X=None):
    """Final states, shape (B, 2**n), B = len(X) (1 without inputs)."""
    B = 1 if X is None else len(X)
    psi = np.zeros((B,) + (2,) * n, complex)
    psi[(slice(None),) + (0,) * n] = 1.0
    for op in ops:
        if op[0] == "cx":
            c, t = op[1], op[2]
            idx = [slice(None)] * (n + 1)
            idx[c + 1] = 1
            sub = psi[tuple(idx)]                          # control axis removed
            psi[tuple(idx)] = np.flip(sub, axis=t + 1 if t < c else t).copy()
            continue
        q = op[1]
        if op[0] != "h" and isinstance(op[2], tuple) and op[2][0] == "x":
            U = ref_matrix(op[0], X[:, op[2][1]])          # one matrix per sample
        else:
            U = ref_matrix(op[0], resolve(op[2], theta) if op[0] != "h" else 0)
        p = np.moveaxis(psi, q + 1, -1)
        p = p @ U.T if U.ndim == 2 else np.einsum("bij,b...j->b...i", U, p)
        psi = np.moveaxis(p, -1, q + 1)
    return psi.reshape(B, -1)


def ref_z0(states):
    p = np.abs(states.reshape(states.shape[0], 2, -1)) ** 2
    return p[:, 0].sum(1) - p[:, 1].sum(1)


def ref_grad(ops, n, theta, X=None):
    """Parameter-shift gradient of Σ_b ⟨Z0⟩_b (exact for RY/RZ)."""
    g = np.zeros(len(theta))
    for k in range(len(theta)):
        shift = np.zeros(len(theta))
        shift[k] = np.pi / 2
        g[k] = 0.5 * (ref_z0(ref_states(ops, n, theta + shift, X)).sum()
                      - ref_z0(ref_states(ops, n, theta - shift, X)).sum())
    return g


def lsb_to_ref(vec, n):
    """A state with qubit 0 as the least significant bit (qulacs, qiskit) -> reference order."""
    return np.asarray(vec).reshape((2,) * n).transpose(list(range(n))[::-1]).reshape(-1)


# ------------------------------------------------------------------------------------------------
# Adapters. Each gives, for the workloads it runs:
#   fixed(ops, n)          -> (run() -> ⟨Z0⟩, state() -> state in reference order)
#   ansatz(n, L, θ)        -> run() -> ⟨Z0⟩
#   gradfn(n, L, θ)        -> run() -> d⟨Z0⟩/dθ
#   batch(n, L, X, θ)      -> (forward() -> ⟨Z0⟩_b, fwd_grad() -> (Σ_b ⟨Z0⟩_b, gradient), how)
# ------------------------------------------------------------------------------------------------


def dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "?"


class Qulacs:
    name, detail, precision, bytes_per_amp = "qulacs", "default", "double", 16   # PyPI build: f64 only
    thread_knobs = ("OMP_NUM_THREADS, QULACS_NUM_THREADS env; kernels fork only for "
                    "n >= QULACS_PARALLEL_NQUBIT_THRESHOLD (unset: built-in 13)")
    grad_method = "ParametricQuantumCircuit.backprop (reverse-mode, 1 observable)"

    def __init__(self):
        import qulacs
        self.q = qulacs

    def version(self):
        return dist_version("qulacs")

    def _z0(self, n):
        o = self.q.Observable(n)
        o.add_operator(1.0, "Z 0")
        return o

    def fixed(self, ops, n):
        c = self.q.QuantumCircuit(n)
        for op in ops:
            if op[0] == "h":
                c.add_H_gate(op[1])
            elif op[0] == "cx":
                c.add_CNOT_gate(op[1], op[2])
            else:   # RotX = exp(-i a X/2); qulacs' add_RX_gate has the opposite sign
                {"rx": c.add_RotX_gate, "ry": c.add_RotY_gate, "rz": c.add_RotZ_gate}[op[0]](op[1], op[2])
        st, obs = self.q.QuantumState(n), self._z0(n)

        def run():
            st.set_zero_state()
            c.update_quantum_state(st)
            return float(np.real(obs.get_expectation_value(st)))

        def state():
            run()
            return lsb_to_ref(st.get_vector(), n)
        return run, state

    def _param(self, n, L, enc):
        """Parametric R{X,Y,Z}(p) = exp(+i p P/2): p = −angle, d/dangle = −d/dp. Parameters in
        order: the encoding RX (if any), then the ansatz."""
        pqc = self.q.ParametricQuantumCircuit(n)
        nenc = n if enc else 0
        for q in range(nenc):
            pqc.add_parametric_RX_gate(q, 0.0)
        for op in ops_ansatz(n, L):
            if op[0] == "cx":
                pqc.add_CNOT_gate(op[1], op[2])
            else:
                {"ry": pqc.add_parametric_RY_gate, "rz": pqc.add_parametric_RZ_gate}[op[0]](op[1], 0.0)
        st, obs = self.q.QuantumState(n), self._z0(n)

        def set_values(values, offset):
            for k, v in enumerate(values):
                pqc.set_parameter(offset + k, -float(v))

        def fwd():
            st.set_zero_state()
            pqc.update_quantum_state(st)
            return float(np.real(obs.get_expectation_value(st)))

        def grad():
            return -np.asarray(pqc.backprop(obs)[nenc:], float)
        return (lambda th: set_values(th, nenc)), (lambda x: set_values(x, 0)), fwd, grad

    def ansatz(self, n, L, theta):
        set_theta, _, fwd, _ = self._param(n, L, False)
        set_theta(theta)
        return fwd

    def gradfn(self, n, L, theta):
        set_theta, _, _, grad = self._param(n, L, False)
        set_theta(theta)
        return grad

    def batch(self, n, L, X, theta):
        set_theta, set_x, fwd, grad = self._param(n, L, True)
        set_theta(theta)

        def forward():
            out = np.empty(len(X))
            for b, x in enumerate(X):
                set_x(x)
                out[b] = fwd()
            return out

        def fwd_grad():
            loss, g = 0.0, np.zeros(n_params(n, L))
            for x in X:
                set_x(x)
                loss += fwd()
                g += grad()
            return loss, g
        return forward, fwd_grad, "python loop over samples; per sample update_quantum_state + backprop"


class Lightning:
    name = "pennylane-lightning.qubit"
    thread_knobs = "OMP_NUM_THREADS env (no per-device thread option)"
    grad_method = "adjoint (diff_method='adjoint', autograd interface)"

    def __init__(self, double=False):
        import pennylane as qml
        import pennylane_lightning  # noqa: F401
        self.qml = qml
        self.cdtype = np.complex128 if double else np.complex64
        self.precision = "double" if double else "single"
        self.bytes_per_amp = 16 if double else 8
        self.detail = "c128" if double else "c64"

    def version(self):
        return f"pennylane {self.qml.__version__}, pennylane-lightning {dist_version('pennylane-lightning')}"

    def _qnode(self, n, ops, diff_method, measure="expval"):
        qml = self.qml

        def circuit(theta=None, X=None):
            for op in ops:
                if op[0] == "h":
                    qml.Hadamard(wires=op[1])
                elif op[0] == "cx":
                    qml.CNOT(wires=[op[1], op[2]])
                else:
                    a = op[2]
                    if isinstance(a, tuple):   # X[:, i]: parameter broadcasting over samples
                        a = theta[a[1]] if a[0] == "t" else X[:, a[1]]
                    {"rx": qml.RX, "ry": qml.RY, "rz": qml.RZ}[op[0]](a, wires=op[1])
            return qml.state() if measure == "state" else qml.expval(qml.PauliZ(0))
        dev = qml.device("lightning.qubit", wires=n, c_dtype=self.cdtype)
        return qml.qnode(dev, diff_method=diff_method)(circuit)

    def fixed(self, ops, n):
        run, state = self._qnode(n, ops, None), self._qnode(n, ops, None, "state")
        return (lambda: float(run())), (lambda: np.asarray(state()))

    def ansatz(self, n, L, theta):
        f = self._qnode(n, ops_ansatz(n, L), None)
        return lambda: float(f(theta))

    def gradfn(self, n, L, theta):
        from pennylane import numpy as pnp
        g = self.qml.grad(self._qnode(n, ops_ansatz(n, L), "adjoint"))
        th = pnp.array(theta, requires_grad=True)
        return lambda: np.asarray(g(th))

    def batch(self, n, L, X, theta):
        from pennylane import numpy as pnp
        ops = ops_encoding(n) + ops_ansatz(n, L)
        f_fwd, f_adj = self._qnode(n, ops, None), self._qnode(n, ops, "adjoint")
        Xp = pnp.array(X, requires_grad=False)
        th = pnp.array(theta, requires_grad=True)
        g = self.qml.grad(lambda t: pnp.sum(f_adj(t, Xp)))

        def fwd_grad():
            gr = g(th)
            return float(g.forward), np.asarray(gr)
        return (lambda: np.asarray(f_fwd(theta, X))), fwd_grad, \
            "parameter broadcasting (RX(X[:, i])), split into one tape per sample by PennyLane"


class Aer:
    name = "qiskit-aer"
    grad_method = ("parameter-shift via qiskit_aer.primitives.EstimatorV2 "
                   "(2P bound circuits in one PUB; Aer has no adjoint)")

    def __init__(self, fusion=True, double=False):
        import qiskit
        import qiskit_aer
        from qiskit import QuantumCircuit
        from qiskit.circuit import ParameterVector
        from qiskit.quantum_info import Pauli, SparsePauliOp
        from qiskit_aer.primitives import EstimatorV2
        self.qiskit, self.aer = qiskit, qiskit_aer
        self.QC, self.PV, self.Pauli = QuantumCircuit, ParameterVector, Pauli
        self.SPO, self.Est = SparsePauliOp, EstimatorV2
        self.precision = "double" if double else "single"
        self.bytes_per_amp = 16 if double else 8
        self.detail = ("fusion" if fusion else "nofusion") + ("-f64" if double else "")
        self.opts = dict(method="statevector", precision=self.precision, max_parallel_threads=THREADS,
                         max_parallel_experiments=0, fusion_enable=fusion)
        self.sim = qiskit_aer.AerSimulator(**self.opts)
        self.thread_knobs = (f"AerSimulator(max_parallel_threads={THREADS}, max_parallel_experiments=0); "
                             "intra-state threads only for n > statevector_parallel_threshold (default 14); "
                             "fusion " + ("on (default: n >= 14, up to 5-qubit)" if fusion else "off"))

    def version(self):
        return f"qiskit {self.qiskit.__version__}, qiskit-aer {self.aer.__version__}"

    def _circuit(self, ops, n, tv=None, xv=None):
        qc = self.QC(n)
        for op in ops:
            if op[0] == "h":
                qc.h(op[1])
            elif op[0] == "cx":
                qc.cx(op[1], op[2])
            else:
                a = op[2]
                if isinstance(a, tuple):
                    a = tv[a[1]] if a[0] == "t" else xv[a[1]]
                getattr(qc, op[0])(a, op[1])
        return qc

    def fixed(self, ops, n):
        qe, qs = self._circuit(ops, n), self._circuit(ops, n)
        qe.save_expectation_value(self.Pauli("Z"), [0], label="z")
        qs.save_statevector()

        def run():
            return float(np.real(self.sim.run(qe).result().data(0)["z"]))

        def state():
            return lsb_to_ref(np.asarray(self.sim.run(qs).result().get_statevector()), n)
        return run, state

    def ansatz(self, n, L, theta):
        return self.fixed(bind(ops_ansatz(n, L), theta), n)[0]

    def _param(self, n, L, enc):
        """The parametrised circuit, and a map from (θ rows, x rows) to its parameter-value rows
        (columns in qc.parameters order)."""
        tv = self.PV("t", n_params(n, L))
        xv = self.PV("x", n) if enc else None
        qc = self._circuit((ops_encoding(n) if enc else []) + ops_ansatz(n, L), n, tv, xv)
        where = {p: ("t", k) for k, p in enumerate(tv)}
        where.update({p: ("x", i) for i, p in enumerate(xv or [])})
        cols = [where[p] for p in qc.parameters]

        def values(theta_rows, x_rows=None):
            return np.stack([theta_rows[:, k] if kind == "t" else x_rows[:, k] for kind, k in cols], axis=1)
        est = self.Est(options=dict(default_precision=0.0, backend_options=self.opts))
        obs = self.SPO.from_sparse_list([("Z", [0], 1.0)], num_qubits=n)
        return (lambda vals: np.asarray(est.run([(qc, obs, vals)]).result()[0].data.evs)), values

    def gradfn(self, n, L, theta):
        P = n_params(n, L)
        evs, values = self._param(n, L, False)
        sh = np.pi / 2 * np.eye(P)
        vals = values(np.vstack([theta + sh, theta - sh]))

        def g():
            ev = evs(vals)
            return 0.5 * (ev[:P] - ev[P:])
        return g

    def batch(self, n, L, X, theta):
        P, B = n_params(n, L), len(X)
        evs, values = self._param(n, L, True)
        vf = values(np.tile(theta, (B, 1)), X)
        # per sample: θ, then θ + e_k π/2 (k < P), then θ − e_k π/2
        sh = np.pi / 2 * np.eye(P)
        rows = np.vstack([theta[None, :], theta + sh, theta - sh])
        vg = values(np.tile(rows, (B, 1)), np.repeat(X, 2 * P + 1, axis=0))

        def fwd_grad():
            ev = evs(vg).reshape(B, 2 * P + 1)
            return ev[:, 0].sum(), 0.5 * (ev[:, 1:P + 1] - ev[:, P + 1:]).sum(0)
        return (lambda: evs(vf)), fwd_grad, \
            "EstimatorV2, one PUB of B (forward) or B*(2P+1) (param-shift) bound circuits"


class Qsim:
    name, precision, bytes_per_amp = "qsim", "single", 8   # qsim's CPU simulator is f32 only
    grad_method = "parameter-shift via simulate_expectation_values_sweep (qsim has no adjoint)"

    def __init__(self, fused=2):
        import cirq
        import qsimcirq
        import sympy
        self.cirq, self.qsimcirq, self.sympy = cirq, qsimcirq, sympy
        self.detail = f"max_fused_gate_size={fused}" + (" (default)" if fused == 2 else "")
        self.sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=THREADS, max_fused_gate_size=fused))
        self.thread_knobs = (f"QSimOptions(cpu_threads={THREADS}); fusion cannot be disabled "
                             "(max_fused_gate_size 0/1 act as 2)")

    def version(self):
        return f"qsimcirq {self.qsimcirq.__version__}, cirq-core {self.cirq.__version__}"

    def _circuit(self, ops, n, ts=None, xs=None):
        cirq = self.cirq
        qs = cirq.LineQubit.range(n)
        out = []
        for op in ops:
            if op[0] == "h":
                out.append(cirq.H(qs[op[1]]))
            elif op[0] == "cx":
                out.append(cirq.CNOT(qs[op[1]], qs[op[2]]))
            else:
                a = op[2]
                if isinstance(a, tuple):
                    a = ts[a[1]] if a[0] == "t" else xs[a[1]]
                out.append({"rx": cirq.rx, "ry": cirq.ry, "rz": cirq.rz}[op[0]](a)(qs[op[1]]))
        return cirq.Circuit(out), qs

    def fixed(self, ops, n):
        c, qs = self._circuit(ops, n)
        obs = [self.cirq.Z(qs[0])]

        def run():
            return float(np.real(self.sim.simulate_expectation_values(c, observables=obs, qubit_order=qs)[0]))

        def state():
            return np.asarray(self.sim.simulate(c, qubit_order=qs).final_state_vector)
        return run, state

    def ansatz(self, n, L, theta):
        return self.fixed(bind(ops_ansatz(n, L), theta), n)[0]

    def _sweep(self, n, L, enc):
        """(resolver(θ, x), sweep(resolvers) -> ⟨Z0⟩ per resolver) for the parametrised circuit."""
        ts = self.sympy.symbols(f"t0:{n_params(n, L)}")
        xs = self.sympy.symbols(f"x0:{n}") if enc else ()
        c, qs = self._circuit((ops_encoding(n) if enc else []) + ops_ansatz(n, L), n, ts, xs)
        obs = [self.cirq.Z(qs[0])]

        def resolver(theta, x=()):
            d = {t: float(v) for t, v in zip(ts, theta)}
            d.update({s: float(v) for s, v in zip(xs, x)})
            return self.cirq.ParamResolver(d)

        def sweep(resolvers):
            ev = self.sim.simulate_expectation_values_sweep(c, obs, resolvers, qubit_order=qs)
            return np.real(np.asarray(ev))[:, 0]
        return resolver, sweep

    def gradfn(self, n, L, theta):
        P = n_params(n, L)
        resolver, sweep = self._sweep(n, L, False)
        sh = np.pi / 2 * np.eye(P)
        res = [resolver(th) for th in np.vstack([theta + sh, theta - sh])]

        def g():
            ev = sweep(res)
            return 0.5 * (ev[:P] - ev[P:])
        return g

    def batch(self, n, L, X, theta):
        P, B = n_params(n, L), len(X)
        resolver, sweep = self._sweep(n, L, True)
        sh = np.pi / 2 * np.eye(P)
        rows = np.vstack([theta[None, :], theta + sh, theta - sh])
        rf = [resolver(theta, x) for x in X]
        rg = [resolver(th, x) for x in X for th in rows]

        def fwd_grad():
            ev = sweep(rg).reshape(B, 2 * P + 1)
            return ev[:, 0].sum(), 0.5 * (ev[:, 1:P + 1] - ev[:, P + 1:]).sum(0)
        return (lambda: sweep(rf)), fwd_grad, \
            "simulate_expectation_values_sweep over B (forward) or B*(2P+1) (param-shift) resolvers"


# Variant -> (constructor, workloads it runs). Each simulator's first variant is its default;
# the f64 ones give a like-precision comparison with qshade's f64 backend.
VARIANTS = {
    "qulacs": (Qulacs, WORKLOADS),
    "lightning": (lambda: Lightning(False), WORKLOADS),
    "aer": (lambda: Aer(True), WORKLOADS),
    "aer-nofusion": (lambda: Aer(False), ("gate1q", "gate2q", "ansatz")),
    "qsim": (lambda: Qsim(2), WORKLOADS),
    "qsim-f4": (lambda: Qsim(4), ("gate1q", "gate2q", "ansatz")),
    "lightning-f64": (lambda: Lightning(True), ("gate1q", "gate2q")),
    "aer-nofusion-f64": (lambda: Aer(False, True), ("gate1q", "gate2q")),
}

# ------------------------------------------------------------------------------------------------
# Timing, output, verification
# ------------------------------------------------------------------------------------------------


def measure(fn):
    """One untimed warm-up call, then as many timed calls as fit PEERS_BUDGET_S (3 to 15)."""
    t0 = time.perf_counter()
    out = fn()
    warmup = time.perf_counter() - t0
    reps = max(MIN_REP, min(MAX_REP, int(BUDGET_S / max(warmup, 1e-9))))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return out, dict(median_s=statistics.median(ts), min_s=min(ts), max_s=max(ts), repeats=reps, warmup_s=warmup)


def _jsonable(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.generic,)):
        return o.item()
    return str(o)


def emit(rec):
    print(json.dumps(rec, default=_jsonable), flush=True)


def verdict(err, ad, **extra):
    tol = 2e-4 if ad.precision == "single" else 1e-9
    return dict(n=VERIFY_N, max_abs_err=float(err), tol=tol, ok=bool(err <= tol), **extra)


def host():
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except Exception:
        model = platform.processor()
    return f"{model}, {os.cpu_count()} cpus, {platform.system()} {platform.release()}"


# ------------------------------------------------------------------------------------------------
# Workloads
# ------------------------------------------------------------------------------------------------


def too_slow(prev, n, growth):
    """Predicted seconds per run at size n from the last size's median, if beyond PEERS_SKIP_S."""
    if prev is None:
        return None
    pred = prev[0] * growth ** (n - prev[1])
    return pred if pred * (1 + MIN_REP) > SKIP_S else None


def gate_workload(ad, base, w, ns):
    mk = ops_gate1q if w == "gate1q" else ops_gate2q
    vops = mk(VERIFY_N) if w == "gate1q" else ops_prefix(VERIFY_N) + mk(VERIFY_N)
    ref = ref_states(vops, VERIFY_N)
    run, state = ad.fixed(vops, VERIFY_N)
    ver = verdict(max(np.max(np.abs(state() - ref[0])), abs(run() - ref_z0(ref)[0])), ad)
    prev = None
    for n in ns:
        pred = too_slow(prev, n, 2.0)
        if pred:
            emit(dict(base, workload=w, n=n, skipped=f"predicted {pred:.1f} s per run"))
            continue
        z, t = measure(ad.fixed(mk(n), n)[0])
        _, t0 = measure(ad.fixed([], n)[0])          # no gates: allocation, initialisation, ⟨Z0⟩
        per_gate = t["median_s"] / NGATES
        net = max(t["median_s"] - t0["median_s"], 1e-12) / NGATES
        traffic = 2 * 2 ** n * ad.bytes_per_amp
        emit(dict(base, workload=w, n=n, gates=NGATES, **t, per_gate_s=per_gate,
                  eff_bw_GBps=traffic / per_gate / 1e9, empty_circuit_s=t0["median_s"],
                  per_gate_net_s=net, eff_bw_net_GBps=traffic / net / 1e9, result_z0=z, verify=ver))
        prev = (t["median_s"], n)


def ansatz_workload(ad, base, ns):
    L = ANSATZ_L
    th = thetas(n_params(VERIFY_N, L))
    ref = ref_z0(ref_states(ops_ansatz(VERIFY_N, L), VERIFY_N, th))[0]
    ver = verdict(abs(ad.ansatz(VERIFY_N, L, th)() - ref), ad)
    prev = None
    for n in ns:
        pred = too_slow(prev, n, 2.0)
        if pred:
            emit(dict(base, workload="ansatz", n=n, L=L, skipped=f"predicted {pred:.1f} s per run"))
            continue
        z, t = measure(ad.ansatz(n, L, thetas(n_params(n, L))))
        emit(dict(base, workload="ansatz", n=n, L=L, params=n_params(n, L), gates=3 * n * L, **t,
                  result_z0=z, verify=ver))
        prev = (t["median_s"], n)


def grad_workload(ad, base):
    thv = thetas(n_params(VERIFY_N, GRAD_L))
    gref = ref_grad(ops_ansatz(VERIFY_N, GRAD_L), VERIFY_N, thv)
    ver = verdict(np.max(np.abs(ad.gradfn(VERIFY_N, GRAD_L, thv)() - gref)), ad)
    n, L = GRAD_N, GRAD_L
    th = thetas(n_params(n, L))
    g, t = measure(ad.gradfn(n, L, th))
    f, tf = measure(ad.ansatz(n, L, th))
    emit(dict(base, workload="grad", n=n, L=L, params=n_params(n, L), method=ad.grad_method, **t,
              forward_s=tf["median_s"], grad_over_forward=t["median_s"] / tf["median_s"], result_z0=f,
              result_grad_norm=float(np.linalg.norm(g)), result_grad_head=np.asarray(g[:4]), verify=ver))


def batch_workload(ad, base):
    nv, L = VERIFY_N, BATCH_L
    Xv, thv = inputs(VERIFY_B, nv), thetas(n_params(nv, L))
    opsv = ops_encoding(nv) + ops_ansatz(nv, L)
    fref = ref_z0(ref_states(opsv, nv, thv, Xv))
    gref = ref_grad(opsv, nv, thv, Xv)
    fw, fg, _ = ad.batch(nv, L, Xv, thv)
    loss, g = fg()
    err = max(np.max(np.abs(fw() - fref)), abs(loss - fref.sum()), np.max(np.abs(g - gref)))
    ver = verdict(err, ad, B=VERIFY_B)

    n, B = BATCH_N, BATCH_B
    X, th = inputs(B, n), thetas(n_params(n, L))
    fw, fg, how = ad.batch(n, L, X, th)
    common = dict(base, workload="batch", n=n, L=L, params=n_params(n, L), batch=B)
    out, t = measure(fw)
    emit(dict(common, mode="forward", how=how, **t, per_sample_s=t["median_s"] / B,
              result_sum_z0=float(np.sum(out)), verify=ver))
    if "parameter-shift" in ad.grad_method:    # (2P+1) forwards: skip when far beyond the budget
        pred = t["median_s"] * (2 * n_params(n, L) + 1)
        if pred * (1 + MIN_REP) > SKIP_S * 4:
            emit(dict(common, mode="forward+grad", method=ad.grad_method,
                      skipped=f"predicted {pred:.1f} s per run (param-shift: (2P+1)x forward)"))
            return
    (loss, g), t = measure(fg)
    emit(dict(common, mode="forward+grad", method=ad.grad_method, how=how, **t,
              per_sample_s=t["median_s"] / B, result_loss=float(loss),
              result_grad_norm=float(np.linalg.norm(g)), verify=ver))


def run_worker(variant, workloads, sizes):
    make, allowed = VARIANTS[variant]
    try:
        ad = make()
    except ImportError as e:
        emit(dict(variant=variant, skipped=f"not installed: {e}", date=DATE))
        print(f"# skip {variant}: not installed ({e}); see benches/requirements-peers.txt",
              file=sys.stderr, flush=True)
        return
    base = dict(sim=ad.name, variant=variant, detail=ad.detail, version=ad.version(), precision=ad.precision,
                bytes_per_amp=ad.bytes_per_amp, threads=THREADS, thread_knobs=ad.thread_knobs, date=DATE,
                host=host())
    for w in workloads:
        if w not in allowed:
            continue
        try:
            if w in ("gate1q", "gate2q"):
                gate_workload(ad, base, w, sizes.get(w, SIZES[w]))
            elif w == "ansatz":
                ansatz_workload(ad, base, sizes.get(w, SIZES[w]))
            elif w == "grad":
                grad_workload(ad, base)
            else:
                batch_workload(ad, base)
        except Exception as e:   # record it and go on with the next workload
            emit(dict(base, workload=w, error=f"{type(e).__name__}: {e}"[:500]))


def bandwidth():
    """numpy's 1 GiB copy: the memory-bandwidth ceiling that per-gate figures are read against."""
    nbytes = 1 << 30
    src = np.ones(nbytes // 8)
    dst = np.zeros_like(src)
    np.copyto(dst, src)                               # touch the pages before timing
    _, t = measure(lambda: np.copyto(dst, src))
    emit(dict(sim="numpy-copy", workload="membw", bytes=nbytes, **t,
              GBps_read_plus_write=2 * nbytes / t["median_s"] / 1e9, threads=1, version=np.__version__,
              date=DATE, host=host(), note="np.copyto(dst, src), 1 GiB float64 each; read+write = 2 GiB"))


def summary(variant, lines):
    """One stderr line per variant: figures, skips, errors and failed verifications."""
    recs = [json.loads(l) for l in lines]
    failed = [f"{r.get('workload')} n={r.get('n')}" for r in recs if r.get("verify", {}).get("ok") is False]
    errors = [r["error"] for r in recs if "error" in r]
    figures = sum(1 for r in recs if "median_s" in r)
    skipped = sum(1 for r in recs if "skipped" in r)
    msg = f"# {variant}: {figures} figures, {skipped} skipped, {len(errors)} errors"
    msg += f"; VERIFICATION FAILED: {', '.join(failed)}" if failed else "; verified" if figures else ""
    for e in errors:
        msg += f"\n#   error: {e[:300]}"
    return msg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", default=",".join(VARIANTS), help="comma list of: " + ", ".join(VARIANTS))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--sizes", default="", help='timed sizes, e.g. "gate1q=20,22;ansatz=16"')
    ap.add_argument("--out", default="", help="also append the JSON lines to this file")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per simulator process")
    ap.add_argument("--bandwidth", action="store_true", help="only the numpy copy bandwidth")
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()

    sims = [s for s in a.sims.split(",") if s]
    workloads = [w for w in a.workloads.split(",") if w]
    sizes = {}
    for part in filter(None, a.sizes.split(";")):
        k, _, v = part.partition("=")
        sizes[k.strip()] = tuple(int(x) for x in v.split(","))
    bad = [s for s in sims if s not in VARIANTS] + [w for w in workloads + list(sizes) if w not in WORKLOADS]
    if bad:
        ap.error(f"unknown: {', '.join(bad)}")

    if a.bandwidth:
        bandwidth()
        return
    if a.worker:
        run_worker(a.worker, workloads, sizes)
        return

    outf = open(a.out, "a") if a.out else None
    for v in sims:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", v,
               "--workloads", ",".join(workloads), "--sizes", a.sizes]
        t0 = time.time()
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=a.timeout)
            out, err, failure = p.stdout, p.stderr, p.returncode and f"worker exit {p.returncode}"
        except subprocess.TimeoutExpired as e:
            out, err = (x.decode() if isinstance(x, bytes) else x or "" for x in (e.stdout, e.stderr))
            failure = f"worker timeout after {a.timeout:.0f} s"
        lines = [l for l in out.splitlines() if l.startswith("{")]
        if failure:
            lines.append(json.dumps(dict(variant=v, error=failure, stderr_tail=err[-800:], date=DATE)))
        else:
            sys.stderr.write("".join(l + "\n" for l in err.splitlines() if l.startswith("# ")))
        for l in lines:
            print(l, flush=True)
            if outf:
                outf.write(l + "\n")
                outf.flush()
        print(summary(v, lines) + f" ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
