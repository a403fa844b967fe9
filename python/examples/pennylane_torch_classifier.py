"""A PennyLane TorchLayer classifier trained on qshade.gpu (falls back to qshade.cpu).

    pip install torch  # the CPU build is enough
    python python/examples/pennylane_torch_classifier.py

Each mini-batch of 64 samples is ONE batched qshade call forward and ONE backward (parameter
broadcasting + adjoint; device VJPs).
"""

import numpy as np
import pennylane as qml
import torch
import torch._dynamo  # noqa: F401  (see below)

import qshade

# torch's optimizers import its compiler stack (triton, with its own LLVM) on first use. With
# lavapipe (Mesa's software Vulkan, which links LLVM 15) already loaded by a qshade.gpu
# device, that import crashed the process (torch 2.15.0, triton 3.9.0); importing it first,
# as above, avoids it. Real GPU drivers do not load LLVM.

n, layers = 6, 3
try:
    dev = qml.device("qshade.gpu", wires=n, precision="f32")
except qshade.QShadeError as err:
    print(f"no GPU ({err}); using qshade.cpu")
    dev = qml.device("qshade.cpu", wires=n)
print("device:", dev.name, "-", dev.backend.name)


@qml.qnode(dev, interface="torch", diff_method="adjoint", device_vjp=True)
def circuit(inputs, weights):
    qml.AngleEmbedding(inputs, wires=range(n))
    qml.StronglyEntanglingLayers(weights, wires=range(n))
    return qml.expval(qml.PauliZ(0))


qlayer = qml.qnn.TorchLayer(circuit, {"weights": (layers, n, 3)})
model = torch.nn.Sequential(qlayer)

rng = np.random.default_rng(0)
x = np.concatenate([rng.normal(0.5, 0.3, (256, n)), rng.normal(2.0, 0.3, (256, n))])
y = np.concatenate([np.ones(256), -np.ones(256)])
x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)

opt = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(5):
    perm = torch.randperm(len(x))
    for i in range(0, len(x), 64):
        idx = perm[i : i + 64]
        opt.zero_grad()
        loss = torch.mean((model(x[idx]) - y[idx]) ** 2)
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = model(x)
        acc = (torch.sign(out) == y).double().mean().item()
    print(f"epoch {epoch}  loss {torch.mean((out - y) ** 2).item():.4f}  accuracy {acc:.2f}")
