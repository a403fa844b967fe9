"""Writes the OpenQASM corpus of tests/qasm_corpus.rs and its reference states.

Every circuit is written by Qiskit's own exporters (qiskit.qasm2.dumps / qiskit.qasm3.dumps), or
is a hand-written program, and its reference state is Qiskit's Statevector of the program as
Qiskit reads it back with qiskit.qasm2.loads (OpenQASM 2), or the exported circuit without its
global phase (OpenQASM 3: qasm3.dumps does not write the global phase), with the parameter
values recorded beside it. OpenQASM 3 files are also read back with qiskit.qasm3.loads (needs
the qiskit-qasm3-import package) or qiskit.qasm3.loads_experimental where they can be, and
"qiskit_reader_agrees_up_to_phase" records whether that state equals the reference up to a
global phase. The versions of Qiskit and qiskit-qasm3-import are recorded in references.json.

Run from the repository root with qiskit (2.x) and numpy installed:

    python tests/qasm/gen.py
"""

import json
import math
import os

import numpy as np
import qiskit
from qiskit import QuantumCircuit, qasm2, qasm3, transpile
from qiskit.circuit import Parameter
from qiskit.quantum_info import Statevector
from qiskit.transpiler import CouplingMap

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(20261206)

# Gates (name, qubits, angles) the random circuits draw from: Qiskit names.
GATES = [
    ("h", 1, 0), ("x", 1, 0), ("y", 1, 0), ("z", 1, 0), ("s", 1, 0), ("sdg", 1, 0),
    ("t", 1, 0), ("tdg", 1, 0), ("sx", 1, 0), ("rx", 1, 1), ("ry", 1, 1), ("rz", 1, 1),
    ("p", 1, 1), ("u", 1, 3), ("cx", 2, 0), ("cy", 2, 0), ("cz", 2, 0), ("crx", 2, 1),
    ("cry", 2, 1), ("crz", 2, 1), ("cp", 2, 1), ("swap", 2, 0), ("iswap", 2, 0),
    ("rxx", 2, 1), ("ryy", 2, 1), ("rzz", 2, 1), ("ccx", 3, 0), ("ch", 2, 0),
    ("cswap", 3, 0),
]


def random_circuit(n, depth, params=()):
    qc = QuantumCircuit(n)
    for _ in range(depth):
        name, nq, na = GATES[RNG.integers(len(GATES))]
        if nq > n:
            continue
        qubits = [int(q) for q in RNG.choice(n, nq, replace=False)]
        angles = [float(RNG.uniform(-math.pi, math.pi)) for _ in range(na)]
        if params and na and RNG.random() < 0.5:
            p = params[RNG.integers(len(params))]
            angles[0] = float(RNG.uniform(-2, 2)) * p + float(RNG.uniform(-1, 1))
        getattr(qc, name)(*angles, *qubits)
    return qc


def ghz(n):
    qc = QuantumCircuit(n, n)
    qc.h(0)
    for k in range(n - 1):
        qc.cx(k, k + 1)
    qc.measure(range(n), range(n))
    return qc


def qft(n):
    qc = QuantumCircuit(n)
    for k in range(n):
        qc.x(k) if k % 2 == 0 else qc.h(k)
    for j in reversed(range(n)):
        qc.h(j)
        for k in reversed(range(j)):
            qc.cp(math.pi / 2 ** (j - k), k, j)
    for k in range(n // 2):
        qc.swap(k, n - 1 - k)
    return qc


def ansatz(n, layers):
    """A hardware-efficient ansatz with one input parameter per angle."""
    thetas = [Parameter(f"θ{k}") for k in range(n * layers * 2)]
    qc = QuantumCircuit(n)
    it = iter(thetas)
    for _ in range(layers):
        for q in range(n):
            qc.ry(next(it), q)
            qc.rz(2 * next(it) + 0.25, q)
        for q in range(n - 1):
            qc.cx(q, q + 1)
        qc.rzz(0.3, 0, n - 1)
    return qc


def expressions(n):
    """Angles that are general expressions of several parameters (a ZZ feature map and more)."""
    x0, x1, a, b = Parameter("x0"), Parameter("x1"), Parameter("a"), Parameter("b")
    qc = QuantumCircuit(n)
    for q in range(n):
        qc.h(q)
    qc.rz(2 * x0, 0)
    qc.rz(2 * x1, 1)
    qc.cx(0, 1)
    qc.rz(2 * (math.pi - x0) * (math.pi - x1), 1)
    qc.cx(0, 1)
    qc.ry(a + b, 2)
    qc.rx(a.sin() * x0, 2)
    qc.crz(b ** 2 - a / 3, 2, 0)
    qc.rzz(x1.exp() * 0.5 - b.cos(), 0, 2)
    qc.u(a * b, x0 - x1, 1.5 / (1 + a ** 2), 1)
    return qc


# Hand-written programs: user gate definitions, broadcasting, comments, expressions.
HAND_V2 = {
    "handwritten_defs": """OPENQASM 2.0;
include "qelib1.inc";
// A user gate built from others, with an expression in its parameter.
gate mix(a, b) p, r { ry(a/2) p; cx p, r; rz(-b*2 + pi/3) r; u2(a, b) p; }
gate twice(a) p, r { mix(a, 0.5) p, r; mix(a, -0.5) r, p; }
qreg q[2];
qreg r[2];
creg c[2];
h q;             // broadcast over a register
cx q, r;
mix(0.7, -1.1) q[0], r[1];
u1(pi/8) r[0];
cu1(0.4) q[1], r[0];
u3(0.1, 0.2, 0.3) r[1];
barrier q, r;
twice(0.3) r[0], q[1];
measure q -> c;
""",
    "handwritten_qelib": """OPENQASM 2.0;
include "qelib1.inc";
qreg a[3];
x a[0];
h a[1];
ccx a[0], a[1], a[2];
sxdg a[2];
ch a[0], a[1];
cswap a[0], a[1], a[2];
cu3(0.3, -0.2, 1.1) a[2], a[0];
cu(0.5, 0.1, -0.4, 0.2) a[1], a[2];
csx a[0], a[2];
rzz(0.9) a[0], a[1];
rxx(-0.6) a[1], a[2];
u2(0.4, -0.9) a[0];
u0(1) a[1];
""",
}


def statevector(qc):
    qc = qc.remove_final_measurements(inplace=False)
    return Statevector(qc).data


def entry(qc, path, values, reloaded_qc):
    sv = statevector(reloaded_qc if reloaded_qc is not None else qc)
    return {
        "num_qubits": qc.num_qubits,
        "theta": values,
        "reloaded_by_qiskit": reloaded_qc is not None,
        "state": [[float(z.real), float(z.imag)] for z in sv],
    }


def main():
    refs = {}

    def emit(name, qc, values=None):
        values = values or {}
        bound = qc.assign_parameters({p: values[p.name] for p in qc.parameters}) if values else qc
        text2 = qasm2.dumps(bound)
        p2 = f"{name}.v2.qasm"
        with open(os.path.join(HERE, p2), "w") as f:
            f.write(text2)
        refs[p2] = entry(bound, p2, {}, qasm2.loads(text2, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS))
        text3 = qasm3.dumps(qc)
        p3 = f"{name}.v3.qasm"
        with open(os.path.join(HERE, p3), "w") as f:
            f.write(text3)
        back, how = None, "exported circuit"
        for how_, load in (("qasm3.loads", qasm3.loads),
                           ("qasm3.loads_experimental", qasm3.loads_experimental)):
            try:
                back, how = load(text3), how_
                break
            except Exception:  # noqa: BLE001 - try the next reader
                continue
        if back is not None and values:
            back = back.assign_parameters({p: values[p.name] for p in back.parameters})
        # The reference is the exported circuit without its global phase (qasm3.dumps does not
        # write it). Qiskit's reader is only a cross-check, up to a global phase: qasm3.dumps
        # defines gates stdgates.inc lacks through others, and its sxdg (s; h; s) is SXdg only
        # up to a phase, which qasm3.loads then carries into ryy and the xx±yy gates.
        plain = bound.copy()
        plain.global_phase = 0
        refs[p3] = entry(plain, p3, values, None)
        refs[p3]["read_by"] = how
        if back is not None:
            overlap = abs(np.vdot(statevector(back), statevector(plain)))
            refs[p3]["qiskit_reader_agrees_up_to_phase"] = bool(abs(overlap - 1) < 1e-9)

    emit("ghz5", ghz(5))
    emit("qft6", qft(6))
    for k, (n, depth) in enumerate([(3, 30), (4, 60), (5, 80), (6, 120)]):
        emit(f"random{k}_{n}q", random_circuit(n, depth))
    params = [Parameter("alpha"), Parameter("beta"), Parameter("γ")]
    qc = random_circuit(4, 50, params)
    emit("random_params_4q", qc, {p.name: float(RNG.uniform(-2, 2)) for p in qc.parameters})
    qc = ansatz(4, 2)
    emit("ansatz_4q", qc, {p.name: float(RNG.uniform(-2, 2)) for p in qc.parameters})

    qc = expressions(3)
    emit("expressions_3q", qc, {p.name: float(RNG.uniform(-2, 2)) for p in qc.parameters})

    # A circuit transpiled to a line of 4 physical qubits: OpenQASM 3 addresses them as $k.
    t = transpile(random_circuit(4, 25), coupling_map=CouplingMap.from_line(4),
                  basis_gates=["rz", "sx", "x", "cx"], seed_transpiler=3, optimization_level=1)
    t.measure_all()
    emit("transpiled_4q", t)

    for name, text in HAND_V2.items():
        path = f"{name}.v2.qasm"
        with open(os.path.join(HERE, path), "w") as f:
            f.write(text)
        qc = qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
        refs[path] = entry(qc, path, {}, qc)

    # QASMBench's small circuits (tests/qasm/qasmbench/, see its README.md), as Qiskit reads them.
    bench = os.path.join(HERE, "qasmbench")
    for name in sorted(os.listdir(bench)):
        if name.endswith(".qasm"):
            with open(os.path.join(bench, name)) as f:
                qc = qasm2.loads(f.read(), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
            refs[f"qasmbench/{name}"] = entry(qc, name, {}, qc)

    with open(os.path.join(HERE, "references.json"), "w") as f:
        try:
            import qiskit_qasm3_import
            importer = qiskit_qasm3_import.__version__
        except ImportError:
            importer = None
        json.dump({"generator": "tests/qasm/gen.py", "qiskit": qiskit.__version__,
                   "qiskit_qasm3_import": importer,
                   "numpy": np.__version__, "files": refs}, f, indent=0)


if __name__ == "__main__":
    main()
