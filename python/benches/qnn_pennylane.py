"""Benchmark: a PennyLane QNN classifier's training step (mini-batch 64, adjoint) on qshade.cpu
vs lightning.qubit (adjoint) vs default.qubit (backprop), side by side in one run.

Model: AngleEmbedding(x) + StronglyEntanglingLayers(w), <Z0>, MSE loss over a mini-batch of 64
(parameter broadcasting over the batch). `--interface torch` (the default when torch imports):
the QNode wrapped in a `qml.qnn.TorchLayer`, one step = torch forward + `loss.backward()` +
SGD update; `--interface autograd`: PennyLane's autograd interface and its gradient-descent
optimizer. Prints one JSON object per (device, qubits, layers) line and a summary; not run in CI.

    python python/benches/qnn_pennylane.py [--qubits 12 16] [--layers 2 4] [--steps 3]
        [--interface torch|autograd] [--devices qshade.cpu lightning.qubit ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

BATCH = 64


def make_qnode(device: str, n: int, interface: str = "autograd"):
    if device == "qshade.cpu":
        dev, kw = qml.device("qshade.cpu", wires=n), {"diff_method": "adjoint", "device_vjp": True}
    elif device == "qshade.cpu-f32":
        dev = qml.device("qshade.cpu", wires=n, precision="f32")
        kw = {"diff_method": "adjoint", "device_vjp": True}
    elif device == "lightning.qubit":
        dev, kw = qml.device("lightning.qubit", wires=n), {"diff_method": "adjoint"}
    elif device == "lightning.qubit+vjp":
        dev = qml.device("lightning.qubit", wires=n)
        kw = {"diff_method": "adjoint", "device_vjp": True}
    else:
        dev, kw = qml.device("default.qubit", wires=n), {"diff_method": "backprop"}

    def model(inputs, w):
        qml.AngleEmbedding(inputs, wires=range(n))
        qml.StronglyEntanglingLayers(w, wires=range(n))
        return qml.expval(qml.PauliZ(0))

    qnode = qml.QNode(model, dev, interface=interface, **kw)
    if device == "default.qubit" and interface == "autograd":
        # default.qubit's broadcast backprop with autograd fails at >= 12 qubits in PennyLane
        # 0.45.1 ("shape-mismatch for sum" in tensordot); expanding the batch into 64 tapes is
        # the setting that runs.
        qnode = qml.transforms.broadcast_expand(qnode)
    return qnode


def train_torch(device: str, n: int, layers: int, steps: int, seed: int = 0):
    """The same model as a TorchLayer: one step = forward, loss.backward(), SGD update."""
    import torch

    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.uniform(0, np.pi, (BATCH, n)), dtype=torch.float64)
    y = torch.tensor(rng.choice([-1.0, 1.0], BATCH), dtype=torch.float64)
    w0 = torch.tensor(rng.uniform(0, 2 * np.pi, (layers, n, 3)), dtype=torch.float64)
    layer = qml.qnn.TorchLayer(make_qnode(device, n, "torch"), {"w": (layers, n, 3)})
    with torch.no_grad():
        layer.w.copy_(w0)
    opt = torch.optim.SGD(layer.parameters(), lr=0.05)

    def step():
        opt.zero_grad()
        loss = torch.mean((layer(x) - y) ** 2)
        loss.backward()
        opt.step()
        return float(loss.detach())

    first = step()  # warm-up step (compilation, caches), not timed
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        cost = step()
        times.append(time.perf_counter() - t0)
    return {"step_s_median": float(np.median(times)), "step_s_all": times,
            "loss_first": first, "loss_last": cost}


def train(device: str, n: int, layers: int, steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = pnp.array(rng.uniform(0, np.pi, (BATCH, n)), requires_grad=False)
    y = pnp.array(rng.choice([-1.0, 1.0], BATCH), requires_grad=False)
    w = pnp.array(rng.uniform(0, 2 * np.pi, (layers, n, 3)), requires_grad=True)
    model = make_qnode(device, n)

    def loss(w):
        return qml.math.mean((model(x, w) - y) ** 2)

    opt = qml.GradientDescentOptimizer(0.05)
    w, first = opt.step_and_cost(loss, w)  # warm-up step (compilation, caches), not timed
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        w, cost = opt.step_and_cost(loss, w)
        times.append(time.perf_counter() - t0)
    return {"step_s_median": float(np.median(times)), "step_s_all": times,
            "loss_first": float(first), "loss_last": float(cost)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qubits", type=int, nargs="+", default=[12, 16])
    ap.add_argument("--layers", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--devices", nargs="+",
                    default=["qshade.cpu", "lightning.qubit", "lightning.qubit+vjp", "default.qubit"])
    ap.add_argument("--interface", choices=["torch", "autograd"], default=None,
                    help="torch (TorchLayer; the default when torch imports) or autograd")
    args = ap.parse_args()
    if args.interface is None:
        try:
            import torch  # noqa: F401
            args.interface = "torch"
        except ImportError:
            args.interface = "autograd"
    meta = {"machine": platform.machine(), "cpus": os.cpu_count(), "batch": BATCH,
            "pennylane": qml.version(), "interface": args.interface,
            "load_average": os.getloadavg()}
    if args.interface == "torch":
        import torch
        meta["torch"] = torch.__version__
        meta["torch_threads"] = torch.get_num_threads()
    print(json.dumps({"meta": meta}))
    summary = []
    for n in args.qubits:
        for layers in args.layers:
            row = {"qubits": n, "layers": layers}
            for device in args.devices:
                run = train_torch if args.interface == "torch" else train
                r = run(device, n, layers, args.steps)
                print(json.dumps({"device": device, "qubits": n, "layers": layers, **r}), flush=True)
                row[device] = r["step_s_median"]
            others = [row[d] for d in args.devices if not d.startswith("qshade")]
            if "qshade.cpu" in row and others:
                row["speedup_vs_best_other"] = min(others) / row["qshade.cpu"]
            summary.append(row)
            print(json.dumps({"summary": row}), flush=True)


if __name__ == "__main__":
    main()
