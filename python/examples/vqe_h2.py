"""VQE for H2 with PennyLane's qchem Hamiltonian on qshade (adjoint gradients).

    python python/examples/vqe_h2.py

Prints the energy per step and compares the converged energy with the exact ground state
(the lowest eigenvalue of the same Hamiltonian).
"""

import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

symbols = ["H", "H"]
coordinates = np.array([0.0, 0.0, -0.6614, 0.0, 0.0, 0.6614])  # bohr
hamiltonian, qubits = qml.qchem.molecular_hamiltonian(symbols, coordinates)
hf = qml.qchem.hf_state(electrons=2, orbitals=qubits)
singles, doubles = qml.qchem.excitations(electrons=2, orbitals=qubits)

dev = qml.device("qshade.cpu", wires=qubits)


@qml.qnode(dev, diff_method="adjoint")
def energy(params):
    qml.AllSinglesDoubles(params, range(qubits), hf, singles, doubles)  # prepares |HF> itself
    return qml.expval(hamiltonian)


params = pnp.zeros(len(singles) + len(doubles), requires_grad=True)
opt = qml.GradientDescentOptimizer(stepsize=0.4)
for step in range(40):
    params, e = opt.step_and_cost(energy, params)
    if step % 5 == 0:
        print(f"step {step:3d}  E = {e:.8f} Ha")

exact = np.min(np.linalg.eigvalsh(qml.matrix(hamiltonian, wire_order=range(qubits))))
final = energy(params)
print(f"VQE  E = {final:.8f} Ha   exact ground state = {exact:.8f} Ha   |diff| = {abs(final - exact):.2e}")
