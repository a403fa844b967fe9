//! Shared by the noise tests: random noisy circuits with every channel kind, and an
//! independent dense Kraus-sum reference (ρ → Σ K ρ K† on full 2ⁿ × 2ⁿ matrices).
#![allow(dead_code)]

use qshade::noise::{Channel, NoisyCircuit, NoisyOp};
use qshade::{Angle, Bindings, Complex64 as C64, Gate, GateKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A random valid one-qubit Kraus set (Stinespring: two columns of a random 4×4 unitary).
pub fn random_kraus(rng: &mut StdRng) -> Vec<Vec<C64>> {
    let mut cols: Vec<Vec<C64>> = Vec::new();
    for _ in 0..2 {
        let mut v: Vec<C64> = (0..4)
            .map(|_| C64::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
            .collect();
        for u in &cols {
            let dot: C64 = u.iter().zip(&v).map(|(a, b)| a.conj() * b).sum();
            for (x, y) in v.iter_mut().zip(u) {
                *x -= dot * y;
            }
        }
        let norm = v.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt();
        cols.push(v.into_iter().map(|x| x / norm).collect());
    }
    // K_e[r][c] = V[r + 2e][c] for input columns c = 0, 1.
    (0..2)
        .map(|e| {
            let mut k = vec![C64::new(0.0, 0.0); 4];
            for r in 0..2 {
                for c in 0..2 {
                    k[r * 2 + c] = cols[c][r + 2 * e];
                }
            }
            k
        })
        .collect()
}

/// Every channel kind, with random valid parameters.
pub fn random_channel(rng: &mut StdRng, kind: usize) -> Channel {
    let p = rng.random_range(0.0..1.0);
    match kind % 9 {
        0 => Channel::depolarizing(p).unwrap(),
        1 => Channel::depolarizing2(p).unwrap(),
        2 => Channel::bit_flip(p).unwrap(),
        3 => Channel::phase_flip(p).unwrap(),
        4 => Channel::amplitude_damping(p).unwrap(),
        5 => Channel::phase_damping(p).unwrap(),
        6 => {
            let t1 = rng.random_range(10.0..100.0);
            let t2 = rng.random_range(1.0..2.0 * t1);
            Channel::thermal_relaxation(t1, t2, rng.random_range(0.0..20.0)).unwrap()
        }
        7 => {
            let (a, b) = (rng.random_range(0.0..0.3), rng.random_range(0.0..0.3));
            Channel::pauli_channel(a, b, rng.random_range(0.0..0.3)).unwrap()
        }
        _ => Channel::kraus(1, random_kraus(rng)).unwrap(),
    }
}

/// Number of channel kinds `random_channel` knows.
pub const CHANNEL_KINDS: usize = 9;

/// A random parameterised noisy circuit on `n` qubits using θ[0..num_params]: random gates
/// (one- and two-qubit, controlled), each followed with probability 1/2 by a random channel.
pub fn random_noisy_circuit(
    rng: &mut StdRng,
    n: usize,
    gates: usize,
    num_params: usize,
) -> NoisyCircuit {
    let mut c = NoisyCircuit::new(n).unwrap();
    c.declare_params(num_params);
    for next in 0..gates {
        let a = rng.random_range(0..n);
        let mut b = rng.random_range(0..n);
        while n > 1 && b == a {
            b = rng.random_range(0..n);
        }
        let theta = Angle::theta(next % num_params).times(rng.random_range(0.5..1.5));
        let gate = match rng.random_range(0..9) {
            0 => Gate::new(GateKind::H, &[a]),
            1 => Gate::new(GateKind::RX(theta), &[a]),
            2 => Gate::new(GateKind::RY(theta), &[a]),
            3 => Gate::new(GateKind::RZ(theta), &[a]),
            4 => Gate::new(
                GateKind::U3(theta, Angle::Const(0.3), Angle::theta(0)),
                &[a],
            ),
            5 if n > 1 => Gate::controlled(GateKind::X, &[a], &[b]),
            6 if n > 1 => Gate::controlled(GateKind::RY(theta), &[a], &[b]),
            7 if n > 1 => Gate::new(GateKind::RZZ(theta), &[a, b]),
            8 if n > 1 => Gate::new(GateKind::RXX(theta), &[a, b]),
            _ => Gate::new(GateKind::SX, &[a]),
        };
        c.gate(gate).unwrap();
        if rng.random_bool(0.5) {
            let kind = rng.random_range(0..CHANNEL_KINDS);
            let ch = random_channel(rng, kind);
            if ch.num_qubits() == 2 && n > 1 {
                c.channel(ch, &[a, b]).unwrap();
            } else if ch.num_qubits() == 1 {
                c.channel(ch, &[a]).unwrap();
            }
        }
    }
    c
}

/// The full 2ⁿ × 2ⁿ matrix (row-major) of `m` on `qubits` (bit j ↔ qubits[j]), active only
/// where every control bit is 1.
pub fn full_matrix(n: usize, m: &[C64], qubits: &[usize], controls: &[usize]) -> Vec<C64> {
    let dim = 1usize << n;
    let k = qubits.len();
    let d = 1usize << k;
    let mut out = vec![C64::new(0.0, 0.0); dim * dim];
    for col in 0..dim {
        if !controls.iter().all(|&q| (col >> q) & 1 == 1) {
            out[col * dim + col] = C64::new(1.0, 0.0);
            continue;
        }
        let local_col: usize = (0..k).map(|j| ((col >> qubits[j]) & 1) << j).sum();
        let rest = qubits.iter().fold(col, |acc, &q| acc & !(1 << q));
        for local_row in 0..d {
            let row = (0..k).fold(rest, |acc, j| acc | (((local_row >> j) & 1) << qubits[j]));
            out[row * dim + col] = m[local_row * d + local_col];
        }
    }
    out
}

fn mul(a: &[C64], b: &[C64], dim: usize) -> Vec<C64> {
    let mut out = vec![C64::new(0.0, 0.0); dim * dim];
    for r in 0..dim {
        for j in 0..dim {
            let x = a[r * dim + j];
            if x.norm_sqr() == 0.0 {
                continue;
            }
            for c in 0..dim {
                out[r * dim + c] += x * b[j * dim + c];
            }
        }
    }
    out
}

fn adj(a: &[C64], dim: usize) -> Vec<C64> {
    let mut out = vec![C64::new(0.0, 0.0); dim * dim];
    for r in 0..dim {
        for c in 0..dim {
            out[c * dim + r] = a[r * dim + c].conj();
        }
    }
    out
}

/// The reference: ρ row-major (ρ[r][c] at r·2ⁿ + c), gates as UρU†, channels as Σ KρK†.
pub fn kraus_sum_reference(circuit: &NoisyCircuit, bindings: &Bindings) -> Vec<C64> {
    let n = circuit.num_qubits();
    let dim = 1usize << n;
    let mut rho = vec![C64::new(0.0, 0.0); dim * dim];
    rho[0] = C64::new(1.0, 0.0);
    for op in circuit.ops() {
        match op {
            NoisyOp::Gate(g) => {
                let gate = &circuit.circuit().gates()[*g];
                let u = full_matrix(
                    n,
                    &gate.bound_matrix(bindings),
                    &gate.targets,
                    &gate.controls,
                );
                rho = mul(&mul(&u, &rho, dim), &adj(&u, dim), dim);
            }
            NoisyOp::Channel { channel, qubits } => {
                let mut next = vec![C64::new(0.0, 0.0); dim * dim];
                for k in channel.kraus_operators() {
                    let kf = full_matrix(n, k, qubits, &[]);
                    let term = mul(&mul(&kf, &rho, dim), &adj(&kf, dim), dim);
                    for (x, y) in next.iter_mut().zip(term) {
                        *x += y;
                    }
                }
                rho = next;
            }
            _ => panic!("unknown op"),
        }
    }
    rho
}

/// A seeded test RNG.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}
