//! Feature encodings.

use crate::circuit::{Angle, Circuit, Gate, GateKind};
use crate::error::{Error, Result};
use std::f64::consts::PI;

/// Axis of an angle encoding's rotations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationAxis {
    /// RX(x_i).
    X,
    /// RY(x_i).
    Y,
    /// RZ(x_i) (after nothing: use after a Hadamard layer or another encoding).
    Z,
}

/// Which qubit pairs a feature map entangles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entanglement {
    /// Pairs (i, i+1).
    Linear,
    /// Every pair i < j.
    Full,
}

impl Entanglement {
    fn pairs(self, n: usize) -> Vec<(usize, usize)> {
        match self {
            Entanglement::Linear => (0..n.saturating_sub(1)).map(|i| (i, i + 1)).collect(),
            Entanglement::Full => (0..n)
                .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
                .collect(),
        }
    }
}

/// Angle encoding: R_axis(scale·x_i) on qubit i, for i < n (x has n features).
pub fn angle_encoding(num_qubits: usize, axis: RotationAxis, scale: f64) -> Result<Circuit> {
    let mut c = Circuit::new(num_qubits)?;
    for q in 0..num_qubits {
        let a = Angle::input(q).times(scale);
        match axis {
            RotationAxis::X => c.rx(q, a)?,
            RotationAxis::Y => c.ry(q, a)?,
            RotationAxis::Z => c.rz(q, a)?,
        };
    }
    Ok(c)
}

/// A circuit whose inputs are features derived from a raw sample (products of features).
#[derive(Clone, Debug)]
pub struct FeatureMap {
    /// The encoding circuit; its inputs are the derived features.
    pub circuit: Circuit,
    /// Raw features per sample.
    pub num_raw: usize,
    /// Derived feature k = Π over the listed (raw index, offset) of (offset − x_raw), or the
    /// raw x itself when the list is a single `(i, None)`.
    derived: Vec<Derived>,
}

#[derive(Clone, Debug)]
enum Derived {
    Raw(usize),
    /// (π − x_i)(π − x_j) (Havlíček et al.).
    ShiftedProduct(usize, usize),
    /// x_i · x_j (IQP).
    Product(usize, usize),
}

impl FeatureMap {
    /// The circuit's inputs for one raw sample.
    pub fn features(&self, x: &[f64]) -> Result<Vec<f64>> {
        if x.len() != self.num_raw {
            return Err(Error::ParameterCount {
                kind: "raw features",
                expected: self.num_raw,
                got: x.len(),
            });
        }
        // `num_raw` is a public field: an edited map may name features x does not have.
        let at = |i: usize| {
            x.get(i).copied().ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "the feature map reads raw feature {i} but num_raw is {} (was it edited?)",
                    self.num_raw
                ))
            })
        };
        self.derived
            .iter()
            .map(|d| {
                Ok(match *d {
                    Derived::Raw(i) => at(i)?,
                    Derived::ShiftedProduct(i, j) => (PI - at(i)?) * (PI - at(j)?),
                    Derived::Product(i, j) => at(i)? * at(j)?,
                })
            })
            .collect()
    }

    /// Derived features for a row-major `B × num_raw` matrix: `B × circuit.num_inputs()`.
    pub fn features_batch(&self, xs: &[f64]) -> Result<Vec<f64>> {
        if self.num_raw == 0 || !xs.len().is_multiple_of(self.num_raw) {
            return Err(Error::InvalidArgument(format!(
                "{} values is not a whole number of {}-feature samples",
                xs.len(),
                self.num_raw
            )));
        }
        let mut out = Vec::new();
        for row in xs.chunks(self.num_raw) {
            out.extend(self.features(row)?);
        }
        Ok(out)
    }
}

/// The ZZ feature map of Havlíček et al. (Qiskit's `ZZFeatureMap`): `reps` times
/// [H on every qubit; P(2·x_i) on qubit i; for each entangled pair (i, j):
/// CNOT(i, j) · P(2·(π − x_i)(π − x_j)) on j · CNOT(i, j)].
pub fn zz_feature_map(
    num_qubits: usize,
    reps: usize,
    entanglement: Entanglement,
) -> Result<FeatureMap> {
    let mut c = Circuit::new(num_qubits)?;
    super::check_layers("zz feature map", reps, 0, 0)?;
    let pairs = entanglement.pairs(num_qubits);
    let mut derived: Vec<Derived> = (0..num_qubits).map(Derived::Raw).collect();
    derived.extend(pairs.iter().map(|&(i, j)| Derived::ShiftedProduct(i, j)));
    for _ in 0..reps {
        for q in 0..num_qubits {
            c.h(q)?;
            c.phase(q, Angle::input(q).times(2.0))?;
        }
        for (k, &(i, j)) in pairs.iter().enumerate() {
            c.cnot(i, j)?;
            c.phase(j, Angle::input(num_qubits + k).times(2.0))?;
            c.cnot(i, j)?;
        }
    }
    c.declare_inputs(derived.len());
    Ok(FeatureMap {
        circuit: c,
        num_raw: num_qubits,
        derived,
    })
}

/// IQP encoding (PennyLane's `IQPEmbedding`): `reps` times [H on every qubit; RZ(x_i) on qubit i;
/// RZZ(x_i·x_j) on every pair i < j].
pub fn iqp_encoding(num_qubits: usize, reps: usize) -> Result<FeatureMap> {
    let mut c = Circuit::new(num_qubits)?;
    super::check_layers("iqp encoding", reps, 0, 0)?;
    let pairs = Entanglement::Full.pairs(num_qubits);
    let mut derived: Vec<Derived> = (0..num_qubits).map(Derived::Raw).collect();
    derived.extend(pairs.iter().map(|&(i, j)| Derived::Product(i, j)));
    for _ in 0..reps {
        for q in 0..num_qubits {
            c.h(q)?;
            c.rz(q, Angle::input(q))?;
        }
        for (k, &(i, j)) in pairs.iter().enumerate() {
            c.rzz(i, j, Angle::input(num_qubits + k))?;
        }
    }
    c.declare_inputs(derived.len());
    Ok(FeatureMap {
        circuit: c,
        num_raw: num_qubits,
        derived,
    })
}

/// The most qubits [`amplitude_encoding`] builds a circuit for: it uses O(2^n) multi-controlled
/// gates, which beyond this are too many to simulate gate by gate.
pub const MAX_AMPLITUDE_QUBITS: usize = 16;

/// Amplitude encoding: a circuit preparing `vector` (complex or real, padded with zeros to
/// 2^num_qubits and normalised) from |0…0⟩, by Möttönen-style cascades of multi-controlled RY
/// (magnitudes, most significant qubit first) and multi-controlled phases. Uses O(2^n) gates:
/// meant for the small registers amplitude encoding is used with. For large states, load the
/// vector directly with `Backend::state_from_amplitudes`.
///
/// Errors (before allocating anything) for 0 or more than [`MAX_AMPLITUDE_QUBITS`] qubits, a
/// vector longer than 2^num_qubits, or a zero or non-finite vector.
pub fn amplitude_encoding(vector: &[num_complex::Complex64], num_qubits: usize) -> Result<Circuit> {
    if num_qubits == 0 || num_qubits > MAX_AMPLITUDE_QUBITS {
        return Err(Error::UnsupportedQubitCount {
            num_qubits,
            max: MAX_AMPLITUDE_QUBITS,
        });
    }
    let dim = 1usize << num_qubits;
    if vector.is_empty() || vector.len() > dim {
        return Err(Error::InvalidArgument(format!(
            "amplitude encoding of {} values needs 1..={dim} values for {num_qubits} qubits",
            vector.len()
        )));
    }
    // Scaled by the largest magnitude so that huge (finite) entries do not overflow the norm.
    let scale = vector.iter().fold(0.0f64, |m, a| m.max(a.norm()));
    if !scale.is_finite() || scale == 0.0 {
        return Err(Error::InvalidState(
            "cannot amplitude-encode a zero or non-finite vector".into(),
        ));
    }
    let vector: Vec<num_complex::Complex64> = vector.iter().map(|a| a / scale).collect();
    let norm = vector.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return Err(Error::InvalidState(
            "cannot amplitude-encode a zero or non-finite vector".into(),
        ));
    }
    let mut amps = vec![num_complex::Complex64::ZERO; dim];
    for (a, v) in amps.iter_mut().zip(&vector) {
        *a = v / norm;
    }
    let mut c = Circuit::new(num_qubits)?;
    // Magnitudes: qubit q (from n−1 down to 0), conditioned on every pattern of the higher qubits.
    for q in (0..num_qubits).rev() {
        let higher: Vec<usize> = (q + 1..num_qubits).collect();
        for pattern in 0..(1usize << higher.len()) {
            let prefix = pattern << (q + 1);
            let block = |bit: usize| -> f64 {
                let lo = prefix | (bit << q);
                (0..(1usize << q))
                    .map(|k| amps[lo | k].norm_sqr())
                    .sum::<f64>()
            };
            let (p0, p1) = (block(0), block(1));
            if p0 + p1 <= 0.0 {
                continue;
            }
            let theta = 2.0 * p1.sqrt().atan2(p0.sqrt());
            if theta.abs() < 1e-15 {
                continue;
            }
            controlled_on_pattern(
                &mut c,
                &higher,
                pattern,
                GateKind::RY(Angle::Const(theta)),
                q,
            )?;
        }
    }
    // Phases: e^{i·arg(a_k)} on every basis state with a non-zero amplitude.
    for (k, a) in amps.iter().enumerate() {
        let phase = a.arg();
        if a.norm_sqr() == 0.0 || phase.abs() < 1e-15 {
            continue;
        }
        // Phase on |k⟩: X on the zero bits, then a phase on |1…1⟩ (controls 1..n−1, target 0).
        let zeros: Vec<usize> = (0..num_qubits).filter(|&q| (k >> q) & 1 == 0).collect();
        for &q in &zeros {
            c.x(q)?;
        }
        let controls: Vec<usize> = (1..num_qubits).collect();
        c.add(Gate::controlled(
            GateKind::Phase(Angle::Const(phase)),
            &controls,
            &[0],
        ))?;
        for &q in &zeros {
            c.x(q)?;
        }
    }
    Ok(c)
}

/// Applies `kind` on `target` controlled on the qubits `controls` having the bit values of
/// `pattern` (bit j ↔ controls[j]), by conjugating the 0-valued controls with X.
fn controlled_on_pattern(
    c: &mut Circuit,
    controls: &[usize],
    pattern: usize,
    kind: GateKind,
    target: usize,
) -> Result<()> {
    let zeros: Vec<usize> = controls
        .iter()
        .enumerate()
        .filter(|(j, _)| (pattern >> j) & 1 == 0)
        .map(|(_, &q)| q)
        .collect();
    for &q in &zeros {
        c.x(q)?;
    }
    c.add(Gate::controlled(kind, controls, &[target]))?;
    for &q in &zeros {
        c.x(q)?;
    }
    Ok(())
}
