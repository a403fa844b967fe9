//! VQE for H₂/STO-3G: the Hamiltonian's ground energy by exact diagonalisation, the
//! DoubleExcitation gate against its definition, and VQE convergence on every backend with
//! adjoint gradients, `common::adjoint_backends()` (all but the chunked GPU configurations;
//! failure messages name the backend's label).
//!
//! Threshold: the VQE energy must lie within chemical accuracy, 1.6 mHa, of the exact ground
//! energy −1.136189 Ha. The ansatz (Hartree–Fock + DoubleExcitation) spans the exact ground
//! state, so the only error left is the optimiser's: at E(θ) ≈ E₀ + ½·E''·δθ², E'' ≈ 0.86 Ha/rad²,
//! 1.6 mHa allows δθ ≈ 0.06 rad. f32 rounding on the GPU (~1e-6 Ha on a 15-term sum of
//! O(0.2) coefficients) is far below it.

mod common;

use qshade::qml::vqe::{
    double_excitation, h2_ansatz, h2_sto3g, run_vqe, run_vqe_with, VqeConfig, CHEMICAL_ACCURACY,
    H2_GROUND_STATE_ENERGY,
};
use qshade::{
    Angle, Backend, Batch, Circuit, Complex64, CpuBackend, GradientMethod, Observable, Pauli,
    Program,
};
use std::time::Instant;

/// The dense 2^n × 2^n matrix (row-major) of a Pauli sum, built factor by factor from the
/// single-qubit definitions: qubit q is bit q of the basis index (qubit 0 least significant).
/// X|b⟩ = |1−b⟩, Y|0⟩ = i|1⟩, Y|1⟩ = −i|0⟩, Z|b⟩ = (−1)^b |b⟩.
fn dense_matrix(obs: &Observable, n: usize) -> Vec<Complex64> {
    let dim = 1usize << n;
    let mut m = vec![Complex64::ZERO; dim * dim];
    for term in &obs.terms {
        for col in 0..dim {
            let (mut row, mut amp) = (col, Complex64::new(term.coeff, 0.0));
            for &(q, p) in &term.ops {
                let bit = (col >> q) & 1;
                match p {
                    Pauli::X => row ^= 1 << q,
                    Pauli::Y => {
                        row ^= 1 << q;
                        amp *= if bit == 0 {
                            Complex64::I
                        } else {
                            -Complex64::I
                        };
                    }
                    Pauli::Z => {
                        if bit == 1 {
                            amp = -amp;
                        }
                    }
                }
            }
            m[row * dim + col] += amp;
        }
    }
    m
}

/// Eigenvalues of a real symmetric `d × d` matrix (row-major) by cyclic Jacobi rotations,
/// sorted ascending.
fn jacobi_eigenvalues(mut a: Vec<f64>, d: usize) -> Vec<f64> {
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * d + j].powi(2))
            .sum();
        if off < 1e-26 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                // Rotation in the (p, q) plane that zeroes a[p][q]: tan 2φ = 2a_pq / (a_qq − a_pp).
                let tau = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = tau.signum() / (tau.abs() + (1.0 + tau * tau).sqrt());
                let t = if tau == 0.0 { 1.0 } else { t };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = t * c;
                for k in 0..d {
                    // Columns p and q: A ← A·J.
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    // Rows p and q: A ← Jᵀ·A.
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
            }
        }
    }
    let mut ev: Vec<f64> = (0..d).map(|i| a[i * d + i]).collect();
    ev.sort_by(|x, y| x.partial_cmp(y).unwrap());
    ev
}

/// Eigenvalues of a Hermitian `d × d` matrix H = A + iB through the real symmetric embedding
/// [[A, −B], [B, A]], whose spectrum is H's with every eigenvalue doubled.
fn hermitian_eigenvalues(h: &[Complex64], d: usize) -> Vec<f64> {
    let mut r = vec![0.0; 4 * d * d];
    for i in 0..d {
        for j in 0..d {
            let z = h[i * d + j];
            r[i * 2 * d + j] = z.re;
            r[(i + d) * 2 * d + j + d] = z.re;
            r[i * 2 * d + j + d] = -z.im;
            r[(i + d) * 2 * d + j] = z.im;
        }
    }
    jacobi_eigenvalues(r, 2 * d)
        .into_iter()
        .step_by(2)
        .collect()
}

#[test]
fn jacobi_routine_finds_known_eigenvalues() {
    // Diag(1, 2, 3) rotated by a Givens rotation, and the Pauli Y (eigenvalues ±1, complex).
    let (c, s) = (0.6, 0.8);
    let a = vec![
        c * c + 2.0 * s * s,
        c * s * (2.0 - 1.0),
        0.0,
        c * s * (2.0 - 1.0),
        s * s + 2.0 * c * c,
        0.0,
        0.0,
        0.0,
        3.0,
    ];
    let ev = jacobi_eigenvalues(a, 3);
    for (got, want) in ev.iter().zip([1.0, 2.0, 3.0]) {
        assert!((got - want).abs() < 1e-12, "{ev:?}");
    }
    let y = dense_matrix(&Observable::y(0), 1);
    let ev = hermitian_eigenvalues(&y, 2);
    assert!(
        (ev[0] + 1.0).abs() < 1e-12 && (ev[1] - 1.0).abs() < 1e-12,
        "{ev:?}"
    );
}

#[test]
fn h2_hamiltonian_ground_energy_by_exact_diagonalisation() {
    let h = h2_sto3g();
    assert_eq!(h.terms.len(), 15);
    let m = dense_matrix(&h, 4);
    for i in 0..16 {
        for j in 0..16 {
            assert!(
                (m[i * 16 + j] - m[j * 16 + i].conj()).norm() < 1e-15,
                "H is not Hermitian at ({i}, {j})"
            );
        }
    }
    let ev = hermitian_eigenvalues(&m, 16);
    println!("H2 spectrum: {ev:?}");
    println!(
        "ground energy {:.10} Ha (reference {H2_GROUND_STATE_ENERGY})",
        ev[0]
    );
    assert!(
        (ev[0] - H2_GROUND_STATE_ENERGY).abs() < 1e-5,
        "ground energy {} vs {}",
        ev[0],
        H2_GROUND_STATE_ENERGY
    );
    // The Hartree–Fock energy ⟨0011|H|0011⟩ (qubits 0 and 1 occupied: index 3).
    println!("Hartree–Fock energy {:.10} Ha", m[3 * 16 + 3].re);
    assert!((m[3 * 16 + 3].re - HARTREE_FOCK_ENERGY).abs() < 1e-9);
}

/// The hand-built matrix agrees with the CPU backend's expectation values (so both use the
/// same qubit order).
#[test]
fn dense_matrix_agrees_with_backend_expectations() {
    let h = h2_sto3g();
    let m = dense_matrix(&h, 4);
    let cpu = CpuBackend::new();
    let mut rng = common::rng::Rng::new(11);
    for _ in 0..5 {
        let mut v: Vec<Complex64> = (0..16)
            .map(|_| Complex64::new(rng.normal(), rng.normal()))
            .collect();
        let norm = v.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
        v.iter_mut().for_each(|z| *z /= norm);
        let direct: Complex64 = (0..16)
            .flat_map(|i| (0..16).map(move |j| (i, j)))
            .map(|(i, j)| v[i].conj() * m[i * 16 + j] * v[j])
            .sum();
        let state = cpu.state_from_amplitudes(&v).unwrap();
        let e = state.expectation(&h).unwrap();
        assert!(
            (e - direct.re).abs() < 1e-12 && direct.im.abs() < 1e-12,
            "{e} vs {direct}"
        );
    }
}

/// PennyLane's DoubleExcitation(θ) matrix in qshade's index order for wires [w0, w1, w2, w3]:
/// identity except on |o⟩ (w0, w1 set, w2, w3 clear) and |v⟩ (w2, w3 set, w0, w1 clear), for
/// every setting of the other qubits: U|v⟩ = c|v⟩ + s|o⟩, U|o⟩ = c|o⟩ − s|v⟩.
fn double_excitation_reference(theta: f64, wires: [usize; 4], n: usize) -> Vec<Complex64> {
    let dim = 1usize << n;
    let mut u = vec![Complex64::ZERO; dim * dim];
    for k in 0..dim {
        u[k * dim + k] = Complex64::ONE;
    }
    let (o_bits, v_bits) = (
        (1 << wires[0]) | (1 << wires[1]),
        (1 << wires[2]) | (1 << wires[3]),
    );
    let mask = o_bits | v_bits;
    let (c, s) = ((theta / 2.0).cos(), (theta / 2.0).sin());
    // One 2×2 block per configuration of the other (spectator) qubits.
    for spectators in (0..dim).filter(|k| k & mask == 0) {
        let (o, v) = (spectators | o_bits, spectators | v_bits);
        u[o * dim + o] = Complex64::new(c, 0.0);
        u[v * dim + v] = Complex64::new(c, 0.0);
        u[o * dim + v] = Complex64::new(s, 0.0); // column v: c|v⟩ + s|o⟩
        u[v * dim + o] = Complex64::new(-s, 0.0); // column o: c|o⟩ − s|v⟩
    }
    u
}

#[test]
fn double_excitation_matches_its_definition() {
    let cpu = CpuBackend::new();
    for (wires, n) in [([0, 1, 2, 3], 4), ([3, 0, 4, 1], 5)] {
        for theta in [0.0, 0.3, -1.1, 2.5, std::f64::consts::PI] {
            let mut c = Circuit::new(n).unwrap();
            double_excitation(&mut c, wires, Angle::theta(0)).unwrap();
            let want = double_excitation_reference(theta, wires, n);
            let dim = 1usize << n;
            for col in 0..dim {
                let mut basis = vec![Complex64::ZERO; dim];
                basis[col] = Complex64::ONE;
                let mut state = cpu.state_from_amplitudes(&basis).unwrap();
                state.apply(&c, &qshade::Bindings::theta(&[theta])).unwrap();
                let got = state.amplitudes().unwrap();
                for row in 0..dim {
                    assert!(
                        (got[row] - want[row * dim + col]).norm() < 1e-12,
                        "wires {wires:?} θ={theta}: U[{row},{col}] = {} expected {}",
                        got[row],
                        want[row * dim + col]
                    );
                }
            }
        }
    }
}

/// Adjoint gradient of the H2 energy through the 3-controlled RY equals the analytic one:
/// E(θ) = ⟨ψ(θ)|H|ψ(θ)⟩ with ψ = c|HF⟩ − s|D⟩ is a + b·cos θ + d·sin θ; compare with a central
/// difference (h = 1e-4, error ~h²·|E'''| ≈ 1e-9) and with parameter shift.
#[test]
fn adjoint_gradient_through_the_double_excitation() {
    let program = Program::compile(&h2_ansatz().unwrap());
    let h = [h2_sto3g()];
    let cpu = CpuBackend::new();
    for theta in [0.0, 0.2, -0.7, 1.9] {
        let adj = cpu
            .gradient_batch(
                &program,
                &Batch::shared(&[theta], &[], 1),
                &h,
                &[1.0],
                GradientMethod::Adjoint,
            )
            .unwrap();
        let ps = cpu
            .gradient_batch(
                &program,
                &Batch::shared(&[theta], &[], 1),
                &h,
                &[1.0],
                GradientMethod::ParameterShift,
            )
            .unwrap();
        let e = |t: f64| {
            cpu.forward_batch(&program, &Batch::shared(&[t], &[], 1), &h)
                .unwrap()[0]
        };
        let fd = (e(theta + 1e-4) - e(theta - 1e-4)) / 2e-4;
        assert!(
            (adj.theta[0] - fd).abs() < 1e-7,
            "θ={theta}: adjoint {} vs finite difference {fd}",
            adj.theta[0]
        );
        assert!(
            (adj.theta[0] - ps.theta[0]).abs() < 1e-10,
            "θ={theta}: adjoint {} vs parameter shift {}",
            adj.theta[0],
            ps.theta[0]
        );
    }
}

/// ⟨HF|H|HF⟩ = the diagonal entry of |0011⟩ (qubits 0, 1 occupied): the sum of the Z
/// coefficients with signs (−1)^(occupied factors) and the constant.
const HARTREE_FOCK_ENERGY: f64 = -0.04207897647782276 - 2.0 * 0.17771287465139946
    + 2.0 * -0.24274280513140462
    + 0.17059738328801052
    - 2.0 * 0.12293305056183798
    - 2.0 * 0.1676831945771896
    + 0.17627640804319591;

/// The small VQE every backend must pass: 60 Adam steps at learning rate 0.1 from θ = 0 (the
/// Hartree–Fock state, 18.8 mHa above the ground state).
fn vqe_converges_on(label: &str, backend: &dyn Backend) {
    let options = VqeConfig::default().iterations(60).learning_rate(0.1);
    let start = Instant::now();
    let mut calls = 0;
    let result = run_vqe_with(
        backend,
        &h2_ansatz().unwrap(),
        &h2_sto3g(),
        &[0.0],
        &options,
        |step| {
            assert_eq!(step.iteration, calls);
            calls += 1;
        },
    )
    .unwrap();
    let error = result.energy - H2_GROUND_STATE_ENERGY;
    println!(
        "{label} ({}): E = {:.8} Ha, error {:+.2e} Ha, θ = {:.6}, {} iterations in {:.3} s",
        backend.name(),
        result.energy,
        error,
        result.params[0],
        result.energies.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(calls, 60, "{label}");
    assert_eq!(result.energies.len(), 60, "{label}");
    assert!(
        (result.energies[0] - HARTREE_FOCK_ENERGY).abs() < 1e-5,
        "{label}: Hartree–Fock energy {}",
        result.energies[0]
    );
    assert!(
        error.abs() < CHEMICAL_ACCURACY,
        "{label}: VQE energy {} is {error:+.3e} Ha from {H2_GROUND_STATE_ENERGY}",
        result.energy
    );
    // Variational: never (beyond rounding) below the exact ground energy.
    assert!(
        result
            .energies
            .iter()
            .all(|&e| e > H2_GROUND_STATE_ENERGY - 1e-5),
        "{label}: an energy below the ground energy: {:?}",
        result.energies
    );
}

#[test]
fn vqe_h2_reaches_chemical_accuracy_on_every_backend() {
    for (label, backend) in common::adjoint_backends() {
        vqe_converges_on(&label, backend.as_ref());
    }
}

#[test]
fn vqe_rejects_bad_arguments() {
    let cpu = CpuBackend::new();
    let h = h2_sto3g();
    let ansatz = h2_ansatz().unwrap();
    let opts = VqeConfig::default();
    assert!(
        run_vqe(&cpu, &ansatz, &h, &[0.0, 1.0], &opts).is_err(),
        "wrong parameter count"
    );
    assert!(
        run_vqe(&cpu, &ansatz, &h, &[f64::NAN], &opts).is_err(),
        "non-finite parameter"
    );
    assert!(
        run_vqe(&cpu, &ansatz, &Observable::z(7), &[0.0], &opts).is_err(),
        "observable wider than the ansatz"
    );
    assert!(run_vqe(&cpu, &ansatz, &h, &[0.0], &opts.clone().learning_rate(0.0)).is_err());
    let mut with_input = Circuit::new(4).unwrap();
    with_input
        .rx(0, Angle::input(0))
        .unwrap()
        .ry(1, Angle::theta(0))
        .unwrap();
    assert!(
        run_vqe(&cpu, &with_input, &h, &[0.0], &opts).is_err(),
        "ansatz with inputs"
    );
    // Early stop: a tolerance above the initial gradient stops at once.
    let r = run_vqe(&cpu, &ansatz, &h, &[0.0], &opts.gradient_tolerance(10.0)).unwrap();
    assert!(r.converged && r.energies.len() == 1 && r.params == vec![0.0]);
}
