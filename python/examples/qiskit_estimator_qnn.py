"""A qiskit-machine-learning EstimatorQNN classifier trained on qshade's EstimatorV2.

    python python/examples/qiskit_estimator_qnn.py

Two Gaussian blobs, a ZZ feature map + RealAmplitudes ansatz, <Z...Z> as the score, squared
loss, plain gradient descent on the QNN's parameter-shift gradient (one batched qshade call
per gradient: all shifted points of all samples). Prints loss and accuracy. With torch
installed it then trains the same QNN through qiskit-machine-learning's `TorchConnector`.
"""

import numpy as np
from qiskit.circuit.library import real_amplitudes, zz_feature_map
from qiskit.quantum_info import SparsePauliOp
from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
from qiskit_machine_learning.neural_networks import EstimatorQNN

from qshade.qiskit import EstimatorV2

n = 4
rng = np.random.default_rng(0)
x = np.concatenate([rng.normal(0.8, 0.3, (32, n)), rng.normal(2.2, 0.3, (32, n))])
y = np.concatenate([np.ones(32), -np.ones(32)])

fm = zz_feature_map(n, reps=1)
ansatz = real_amplitudes(n, reps=2)
estimator = EstimatorV2()  # qshade.cpu(); EstimatorV2(backend=qshade.gpu()) on a GPU
qnn = EstimatorQNN(
    circuit=fm.compose(ansatz),
    estimator=estimator,
    observables=SparsePauliOp("Z" * n),
    input_params=list(fm.parameters),
    weight_params=list(ansatz.parameters),
    gradient=ParamShiftEstimatorGradient(estimator),
    default_precision=0.0,
)

w = rng.uniform(0, 2 * np.pi, qnn.num_weights)
for step in range(30):
    out = qnn.forward(x, w)[:, 0]
    _, grad = qnn.backward(x, w)  # (batch, 1, num_weights)
    loss = np.mean((out - y) ** 2)
    w -= 0.3 * np.mean(2 * (out - y)[:, None] * grad[:, 0, :], axis=0)
    if step % 5 == 0:
        print(f"step {step:3d}  loss {loss:.4f}  accuracy {np.mean(np.sign(out) == y):.2f}")
out = qnn.forward(x, w)[:, 0]
print(f"final  loss {np.mean((out - y) ** 2):.4f}  accuracy {np.mean(np.sign(out) == y):.2f}")

try:
    import torch
    from qiskit_machine_learning.connectors import TorchConnector
except ImportError:
    print("torch not installed: skipping the TorchConnector run")
else:
    model = TorchConnector(qnn, initial_weights=rng.uniform(0, 2 * np.pi, qnn.num_weights))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    xt, yt = torch.tensor(x), torch.tensor(y)
    for step in range(15):
        opt.zero_grad()
        out = model(xt)[:, 0]
        loss = torch.mean((out - yt) ** 2)
        loss.backward()  # EstimatorQNN.backward -> one batched qshade call
        opt.step()
        if step % 5 == 0:
            acc = torch.mean((torch.sign(out) == yt).double()).item()
            print(f"torch step {step:3d}  loss {loss.item():.4f}  accuracy {acc:.2f}")
