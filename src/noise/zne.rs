//! Zero-noise extrapolation: run a noisy circuit at amplified noise (unitary folding: a gate
//! G becomes G·G†·G, each copy followed by G's channels, so the ideal result is unchanged and
//! the noise scales with the factor) and extrapolate the expectation values to zero noise.
//!
//! ```
//! # fn main() -> qshade::Result<()> {
//! use qshade::noise::zne::{zne, Extrapolation, Folding};
//! use qshade::noise::{Channel, DensityMatrix, NoiseModel};
//! use qshade::{Bindings, Circuit, Observable};
//! let mut c = Circuit::new(1)?;
//! c.ry(0, 0.4)?.rx(0, 0.3)?;
//! let mut model = NoiseModel::new();
//! model.add_all_qubit_quantum_error(Channel::depolarizing(0.02)?, &["rx", "ry"])?;
//! let z = Observable::z(0);
//! let energy = |nc: &qshade::noise::NoisyCircuit| {
//!     DensityMatrix::run(nc, &Bindings::none())?.expectation(&z)
//! };
//! let mitigated = zne(&model.apply(&c)?, &[1, 3, 5], Folding::Global,
//!                     Extrapolation::Exponential { asymptote: 0.0 }, energy)?;
//! let ideal = 0.4f64.cos() * 0.3f64.cos();
//! assert!((mitigated.value - ideal).abs() < 1e-10);
//! # Ok(()) }
//! ```

use super::model::{NoisyCircuit, NoisyOp};
use crate::circuit::{Circuit, Gate, GateKind};
use crate::error::{Error, Result};
use crate::math::linalg::dagger;
use crate::math::rng::Rng;

/// The largest scale factor folding accepts (the folded circuit has `scale ×` the gates).
pub const MAX_SCALE: usize = 101;

/// How the circuit is folded.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Folding {
    /// U → U·(U†·U)^k for scale 2k + 1.
    Global,
    /// Each gate folded ⌊(s − 1)/2⌋ times, and then gates chosen at random (seeded, without
    /// repetition) folded once more until the gate count is ≈ s × the original (Mitiq's
    /// `fold_gates_at_random`); for odd integer s every gate is folded equally.
    GatesAtRandom {
        /// Seed of the choice.
        seed: u64,
    },
}

/// How the values at the scale factors are extrapolated to scale 0.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Extrapolation {
    /// The polynomial of degree m − 1 through all m points (needs distinct scales).
    Richardson,
    /// Least-squares straight line.
    Linear,
    /// Least-squares polynomial of the given order (< number of points).
    Polynomial(usize),
    /// y = a + b·e^(−c·s) with the asymptote `a` given (0 for a traceless observable under
    /// depolarizing noise): a straight-line fit of ln|y − a|.
    Exponential {
        /// The value at infinite noise.
        asymptote: f64,
    },
}

/// The result of [`zne`]: the extrapolated value and the points it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ZneResult {
    /// The zero-noise estimate.
    pub value: f64,
    /// The scale factors used.
    pub scales: Vec<f64>,
    /// The expectation at each scale factor (the first is the unmitigated value when the
    /// first scale is 1).
    pub values: Vec<f64>,
}

/// The inverse of a gate, keeping its kind (and name) where one exists: self-inverse kinds
/// stay, S ↔ Sdg, T ↔ Tdg, rotations negate their angle, U3(θ, φ, λ)† = U3(−θ, −λ, −φ), other
/// constant kinds become `Unitary1` / `Unitary2` of U†. Angle-dependent kinds without a
/// known inverse are `Unsupported`.
pub fn inverse_gate(gate: &Gate) -> Result<Gate> {
    let kind = match &gate.kind {
        GateKind::I | GateKind::H | GateKind::X | GateKind::Y | GateKind::Z | GateKind::Swap => {
            gate.kind.clone()
        }
        GateKind::S => GateKind::Sdg,
        GateKind::Sdg => GateKind::S,
        GateKind::T => GateKind::Tdg,
        GateKind::Tdg => GateKind::T,
        GateKind::RX(a) => GateKind::RX(a.clone().times(-1.0)),
        GateKind::RY(a) => GateKind::RY(a.clone().times(-1.0)),
        GateKind::RZ(a) => GateKind::RZ(a.clone().times(-1.0)),
        GateKind::Phase(a) => GateKind::Phase(a.clone().times(-1.0)),
        GateKind::RXX(a) => GateKind::RXX(a.clone().times(-1.0)),
        GateKind::RYY(a) => GateKind::RYY(a.clone().times(-1.0)),
        GateKind::RZZ(a) => GateKind::RZZ(a.clone().times(-1.0)),
        GateKind::U3(t, p, l) => GateKind::U3(
            t.clone().times(-1.0),
            l.clone().times(-1.0),
            p.clone().times(-1.0),
        ),
        other if other.angles().is_empty() => {
            let adj = dagger(&other.matrix(&[]));
            match other.num_targets() {
                1 => GateKind::Unitary1(Box::new(std::array::from_fn(|k| adj[k]))),
                2 => GateKind::Unitary2(Box::new(std::array::from_fn(|k| adj[k]))),
                k => {
                    return Err(Error::Unsupported(format!(
                        "folding a {k}-qubit {} gate; fold circuits of one- and two-qubit kinds",
                        other.name()
                    )))
                }
            }
        }
        other => {
            return Err(Error::Unsupported(format!(
                "folding needs the inverse of gate {}; bind its angles first or use RX/RY/RZ/U3/Phase/RXX/RYY/RZZ",
                other.name()
            )))
        }
    };
    Ok(Gate {
        kind,
        targets: gate.targets.clone(),
        controls: gate.controls.clone(),
    })
}

/// A gate with the channels that follow it.
struct Unit {
    gate: Gate,
    channels: Vec<NoisyOp>,
}

/// Splits into units; channels before the first gate form a leading unit without a gate.
fn units(circuit: &NoisyCircuit) -> (Vec<NoisyOp>, Vec<Unit>) {
    let gates = circuit.circuit().gates();
    let mut lead = Vec::new();
    let mut out: Vec<Unit> = Vec::new();
    for op in circuit.ops() {
        match op {
            NoisyOp::Gate(g) => out.push(Unit {
                gate: gates[*g].clone(),
                channels: Vec::new(),
            }),
            other => match out.last_mut() {
                Some(u) => u.channels.push(other.clone()),
                None => lead.push(other.clone()),
            },
        }
    }
    (lead, out)
}

/// Builds a noisy circuit from a sequence of (gate, channels), keeping `base`'s θ / x
/// declarations, names and readout errors.
fn assemble(
    base: &NoisyCircuit,
    lead: &[NoisyOp],
    seq: &[(Gate, &[NoisyOp])],
) -> Result<NoisyCircuit> {
    let mut circuit = Circuit::new(base.num_qubits())?;
    let src = base.circuit();
    circuit.declare_params(src.num_params());
    circuit.declare_inputs(src.num_inputs());
    let mut ops: Vec<NoisyOp> = lead.to_vec();
    for (gate, channels) in seq {
        circuit.add(gate.clone())?;
        ops.push(NoisyOp::Gate(circuit.gates().len() - 1));
        ops.extend(channels.iter().cloned());
    }
    Ok(NoisyCircuit::from_parts(
        circuit,
        ops,
        base.readout_errors().to_vec(),
    ))
}

fn check_odd_scale(scale: usize) -> Result<()> {
    if scale == 0 || scale.is_multiple_of(2) || scale > MAX_SCALE {
        return Err(Error::InvalidArgument(format!(
            "global folding scale {scale} must be an odd integer in 1..={MAX_SCALE} (1, 3, 5, …)"
        )));
    }
    Ok(())
}

/// Global folding: U·(U†·U)^k for `scale = 2k + 1` (odd, 1..=[`MAX_SCALE`]). The inverse of
/// each gate is followed by the same channels as the gate.
pub fn fold_global(circuit: &NoisyCircuit, scale: usize) -> Result<NoisyCircuit> {
    check_odd_scale(scale)?;
    let (lead, units) = units(circuit);
    let inverses: Vec<Gate> = units
        .iter()
        .rev()
        .map(|u| inverse_gate(&u.gate))
        .collect::<Result<_>>()?;
    let forward: Vec<(Gate, &[NoisyOp])> = units
        .iter()
        .map(|u| (u.gate.clone(), &u.channels[..]))
        .collect();
    let backward: Vec<(Gate, &[NoisyOp])> = inverses
        .into_iter()
        .zip(units.iter().rev())
        .map(|(g, u)| (g, &u.channels[..]))
        .collect();
    let mut seq = forward.clone();
    for _ in 0..scale / 2 {
        seq.extend(backward.iter().cloned());
        seq.extend(forward.iter().cloned());
    }
    assemble(circuit, &lead, &seq)
}

/// Folds gates (G → G·G†·G, channels after each copy) so that the gate count becomes
/// ≈ `scale` × the original: every gate ⌊(scale − 1)/2⌋ times, then a seeded random choice of
/// distinct gates once more. `scale` finite in [1, [`MAX_SCALE`]].
pub fn fold_gates_at_random(circuit: &NoisyCircuit, scale: f64, seed: u64) -> Result<NoisyCircuit> {
    if !(scale.is_finite() && (1.0..=MAX_SCALE as f64).contains(&scale)) {
        return Err(Error::InvalidArgument(format!(
            "folding scale {scale} must be a finite number in [1, {MAX_SCALE}]"
        )));
    }
    let (lead, units) = units(circuit);
    let d = units.len();
    let folds_total = ((d as f64) * (scale - 1.0) / 2.0).round() as usize;
    let each = folds_total.checked_div(d).unwrap_or(0);
    let extra = folds_total - each * d;
    let mut order: Vec<usize> = (0..d).collect();
    Rng::new(seed).shuffle(&mut order);
    let mut folds = vec![each; d];
    for &i in order.iter().take(extra) {
        folds[i] += 1;
    }
    let mut seq: Vec<(Gate, &[NoisyOp])> = Vec::new();
    for (u, &k) in units.iter().zip(&folds) {
        seq.push((u.gate.clone(), &u.channels[..]));
        if k > 0 {
            let inv = inverse_gate(&u.gate)?;
            for _ in 0..k {
                seq.push((inv.clone(), &u.channels[..]));
                seq.push((u.gate.clone(), &u.channels[..]));
            }
        }
    }
    assemble(circuit, &lead, &seq)
}

/// Zero-noise extrapolation of `expectation` (any function of a noisy circuit: a
/// density-matrix or trajectory estimate, a finite-shot one, …): folds `circuit` to each of
/// `scales` (odd integers; at least two, or one more than the polynomial order), evaluates,
/// and extrapolates to zero noise.
pub fn zne(
    circuit: &NoisyCircuit,
    scales: &[usize],
    folding: Folding,
    extrapolation: Extrapolation,
    mut expectation: impl FnMut(&NoisyCircuit) -> Result<f64>,
) -> Result<ZneResult> {
    let mut values = Vec::with_capacity(scales.len());
    for &s in scales {
        check_odd_scale(s)?;
        let folded = match folding {
            Folding::Global => fold_global(circuit, s)?,
            Folding::GatesAtRandom { seed } => fold_gates_at_random(circuit, s as f64, seed)?,
        };
        values.push(expectation(&folded)?);
    }
    let xs: Vec<f64> = scales.iter().map(|&s| s as f64).collect();
    let value = extrapolate(&xs, &values, extrapolation)?;
    Ok(ZneResult {
        value,
        scales: xs,
        values,
    })
}

/// The value at scale 0 of `extrapolation` fitted to (scales, values). Errors on too few or
/// repeated points, non-finite values, or (exponential) values on both sides of, or on, the
/// asymptote.
pub fn extrapolate(scales: &[f64], values: &[f64], extrapolation: Extrapolation) -> Result<f64> {
    if scales.len() != values.len() {
        return Err(Error::InvalidArgument(format!(
            "{} scale factors but {} values",
            scales.len(),
            values.len()
        )));
    }
    if scales.len() < 2 {
        return Err(Error::InvalidArgument(
            "extrapolation needs at least two scale factors, e.g. [1, 3]".into(),
        ));
    }
    if scales.iter().chain(values).any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(
            "scale factors and values must be finite".into(),
        ));
    }
    for (i, a) in scales.iter().enumerate() {
        if scales[..i].contains(a) {
            return Err(Error::InvalidArgument(format!(
                "scale factor {a} appears twice; extrapolation needs distinct scale factors"
            )));
        }
    }
    match extrapolation {
        Extrapolation::Richardson => Ok(richardson(scales, values)),
        Extrapolation::Linear => polyfit_at_zero(scales, values, 1),
        Extrapolation::Polynomial(order) => polyfit_at_zero(scales, values, order),
        Extrapolation::Exponential { asymptote } => {
            if !asymptote.is_finite() {
                return Err(Error::InvalidArgument(
                    "the asymptote must be finite".into(),
                ));
            }
            let shifted: Vec<f64> = values.iter().map(|v| v - asymptote).collect();
            let sign = shifted[0].signum();
            if shifted.iter().any(|v| *v == 0.0 || v.signum() != sign) {
                return Err(Error::InvalidArgument(format!(
                    "exponential extrapolation needs every value strictly on one side of the asymptote {asymptote}"
                )));
            }
            let logs: Vec<f64> = shifted.iter().map(|v| v.abs().ln()).collect();
            Ok(asymptote + sign * polyfit_at_zero(scales, &logs, 1)?.exp())
        }
    }
}

/// Lagrange interpolation at 0.
fn richardson(xs: &[f64], ys: &[f64]) -> f64 {
    xs.iter()
        .zip(ys)
        .enumerate()
        .map(|(i, (xi, yi))| {
            let w: f64 = xs
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, xj)| xj / (xj - xi))
                .product();
            yi * w
        })
        .sum()
}

/// The least-squares polynomial of `order`'s constant coefficient (normal equations,
/// Gaussian elimination with partial pivoting).
fn polyfit_at_zero(xs: &[f64], ys: &[f64], order: usize) -> Result<f64> {
    if order + 1 > xs.len() {
        return Err(Error::InvalidArgument(format!(
            "a polynomial of order {order} needs at least {} scale factors, got {}",
            order + 1,
            xs.len()
        )));
    }
    let m = order + 1;
    let mut a = vec![vec![0.0; m + 1]; m];
    for (x, y) in xs.iter().zip(ys) {
        let powers: Vec<f64> = (0..m).map(|k| x.powi(k as i32)).collect();
        for r in 0..m {
            for c in 0..m {
                a[r][c] += powers[r] * powers[c];
            }
            a[r][m] += powers[r] * y;
        }
    }
    for col in 0..m {
        let pivot = (col..m)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let p = a[col][col];
        if p.abs() < 1e-300 {
            return Err(Error::InvalidArgument(
                "the fit is singular; use more distinct scale factors".into(),
            ));
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / p;
                for (x, q) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * q;
                }
            }
        }
    }
    Ok(a[0][m] / a[0][0])
}
