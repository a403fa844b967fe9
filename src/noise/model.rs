//! A circuit with channels between its gates ([`NoisyCircuit`]), and the noise model that
//! builds one from a circuit the user already has ([`NoiseModel`], like Qiskit Aer's).

use super::channel::{Channel, ReadoutError};
use crate::circuit::{Bindings, Circuit, Gate};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One operation of a [`NoisyCircuit`] (non-exhaustive: measurements and resets may follow).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NoisyOp {
    /// Gate `index` of [`NoisyCircuit::circuit`].
    Gate(usize),
    /// A channel on `qubits` (`qubits[j]` is bit j of the channel's matrix index).
    Channel {
        /// The channel.
        channel: Arc<Channel>,
        /// Its qubits, distinct and in range.
        qubits: Vec<usize>,
    },
}

/// A circuit's gates interleaved with noise channels, plus per-qubit readout errors. Build one
/// directly ([`NoisyCircuit::from_circuit`], [`NoisyCircuit::gate`], [`NoisyCircuit::channel`])
/// or with [`NoiseModel::apply`].
#[derive(Clone, Debug, PartialEq)]
pub struct NoisyCircuit {
    circuit: Circuit,
    ops: Vec<NoisyOp>,
    readout: Vec<Option<ReadoutError>>,
}

impl NoisyCircuit {
    /// An empty noisy circuit on `num_qubits` qubits.
    pub fn new(num_qubits: usize) -> Result<Self> {
        Ok(NoisyCircuit {
            circuit: Circuit::new(num_qubits)?,
            ops: Vec::new(),
            readout: vec![None; num_qubits],
        })
    }

    /// The noise-free circuit's gates, no channels yet (parameter declarations and names kept).
    pub fn from_circuit(circuit: &Circuit) -> Self {
        NoisyCircuit {
            circuit: circuit.clone(),
            ops: (0..circuit.gates().len()).map(NoisyOp::Gate).collect(),
            readout: vec![None; circuit.num_qubits()],
        }
    }

    /// Declares at least `count` trainable parameters θ (like [`Circuit::declare_params`]).
    pub fn declare_params(&mut self, count: usize) -> &mut Self {
        self.circuit.declare_params(count);
        self
    }

    /// Appends a gate (checked like [`Circuit::add`]).
    pub fn gate(&mut self, gate: Gate) -> Result<&mut Self> {
        self.circuit.add(gate)?;
        self.ops.push(NoisyOp::Gate(self.circuit.gates().len() - 1));
        Ok(self)
    }

    /// Appends a channel on `qubits` (as many as the channel has, distinct, in range).
    pub fn channel(&mut self, channel: Channel, qubits: &[usize]) -> Result<&mut Self> {
        self.push_channel(Arc::new(channel), qubits)
    }

    pub(crate) fn push_channel(
        &mut self,
        channel: Arc<Channel>,
        qubits: &[usize],
    ) -> Result<&mut Self> {
        if qubits.len() != channel.num_qubits() {
            return Err(Error::InvalidArgument(format!(
                "the {} channel acts on {} qubit(s) but {} were given",
                channel.name(),
                channel.num_qubits(),
                qubits.len()
            )));
        }
        check_qubits(qubits, self.num_qubits(), channel.name())?;
        self.ops.push(NoisyOp::Channel {
            channel,
            qubits: qubits.to_vec(),
        });
        Ok(self)
    }

    /// Sets the readout error of `qubit` (replacing an earlier one).
    pub fn readout_error(&mut self, error: ReadoutError, qubit: usize) -> Result<&mut Self> {
        check_qubits(&[qubit], self.num_qubits(), "readout error")?;
        self.readout[qubit] = Some(error);
        Ok(self)
    }

    /// Qubits.
    pub fn num_qubits(&self) -> usize {
        self.circuit.num_qubits()
    }

    /// The gates, in order, as a plain circuit (its θ / x counts are the noisy circuit's).
    pub fn circuit(&self) -> &Circuit {
        &self.circuit
    }

    /// The operations in order.
    pub fn ops(&self) -> &[NoisyOp] {
        &self.ops
    }

    /// The readout error of each qubit, if any.
    pub fn readout_errors(&self) -> &[Option<ReadoutError>] {
        &self.readout
    }

    /// Number of channel operations.
    pub fn num_channels(&self) -> usize {
        self.ops
            .iter()
            .filter(|op| matches!(op, NoisyOp::Channel { .. }))
            .count()
    }

    /// Checks `bindings` against the circuit's θ / x counts and angles.
    pub fn check_bindings(&self, bindings: &Bindings<'_>) -> Result<()> {
        self.circuit.check_bindings(bindings)
    }

    /// Rebuilds from parts (used by folding): ops index into `circuit`'s gates.
    pub(crate) fn from_parts(
        circuit: Circuit,
        ops: Vec<NoisyOp>,
        readout: Vec<Option<ReadoutError>>,
    ) -> Self {
        NoisyCircuit {
            circuit,
            ops,
            readout,
        }
    }
}

fn check_qubits(qubits: &[usize], num_qubits: usize, what: &str) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for &q in qubits {
        if q >= num_qubits {
            return Err(Error::QubitOutOfRange {
                qubit: q,
                num_qubits,
            });
        }
        if !seen.insert(q) {
            return Err(Error::RepeatedQubit {
                qubit: q,
                gate: what.to_string(),
            });
        }
    }
    Ok(())
}

/// The name a noise model matches a gate by: its lower-case display name with Qiskit's
/// spelling of the common controlled gates (`cx`, `ccx`, `cy`, `cz`, `crx`, …), e.g. `h`, `rz`,
/// `sx`, `u3`, `swap`, `rzz`, `unitary1`.
pub fn gate_name(gate: &Gate) -> String {
    normalize(&gate.display_name())
}

fn normalize(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "cnot" => "cx".into(),
        "toffoli" => "ccx".into(),
        "cphase" => "cp".into(),
        "phase" => "p".into(),
        _ => lower,
    }
}

#[derive(Clone, Debug)]
struct Rule {
    gates: Vec<String>,
    qubits: Option<Vec<usize>>,
    channel: Arc<Channel>,
}

/// Noise attached to gates by name and qubits, the way Qiskit Aer's `NoiseModel` does: after
/// every matching gate its channel acts on the gate's qubits (controls first, then targets).
/// A one-qubit channel attached to a multi-qubit gate acts on each of its qubits. Errors
/// given for specific qubits ([`NoiseModel::add_quantum_error`]) replace the all-qubit errors
/// for a gate on exactly those qubits, as in Aer.
///
/// ```
/// # fn main() -> qshade::Result<()> {
/// use qshade::noise::{Channel, NoiseModel, ReadoutError};
/// use qshade::Circuit;
/// let mut model = NoiseModel::new();
/// model
///     .add_all_qubit_quantum_error(Channel::depolarizing2(0.01)?, &["cx"])?
///     .add_all_qubit_quantum_error(Channel::amplitude_damping(0.002)?, &["h", "rz"])?
///     .add_all_qubit_readout_error(ReadoutError::new(0.02, 0.03)?);
/// let mut bell = Circuit::new(2)?;
/// bell.h(0)?.cnot(0, 1)?;
/// let noisy = model.apply(&bell)?;
/// assert_eq!(noisy.num_channels(), 2);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct NoiseModel {
    rules: Vec<Rule>,
    readout_all: Option<ReadoutError>,
    readout: BTreeMap<usize, ReadoutError>,
}

fn gate_list(gates: &[&str]) -> Result<Vec<String>> {
    if gates.is_empty() || gates.iter().any(|g| g.trim().is_empty()) {
        return Err(Error::InvalidArgument(
            "a noise-model error needs one or more non-empty gate names, e.g. [\"cx\", \"rz\"]"
                .into(),
        ));
    }
    Ok(gates.iter().map(|g| normalize(g)).collect())
}

impl NoiseModel {
    /// A model without noise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attaches `channel` after every gate named in `gates` on any qubits.
    pub fn add_all_qubit_quantum_error(
        &mut self,
        channel: Channel,
        gates: &[&str],
    ) -> Result<&mut Self> {
        self.rules.push(Rule {
            gates: gate_list(gates)?,
            qubits: None,
            channel: Arc::new(channel),
        });
        Ok(self)
    }

    /// Attaches `channel` after every gate named in `gates` acting on exactly `qubits`
    /// (controls first, then targets, as in Qiskit: `cx` on [control, target]).
    pub fn add_quantum_error(
        &mut self,
        channel: Channel,
        gates: &[&str],
        qubits: &[usize],
    ) -> Result<&mut Self> {
        check_qubits(qubits, usize::MAX, "noise-model qubit list")?;
        if qubits.is_empty() {
            return Err(Error::InvalidArgument(
                "add_quantum_error needs the gate's qubits; use add_all_qubit_quantum_error for every qubit".into(),
            ));
        }
        self.rules.push(Rule {
            gates: gate_list(gates)?,
            qubits: Some(qubits.to_vec()),
            channel: Arc::new(channel),
        });
        Ok(self)
    }

    /// Sets the readout error of every qubit without a specific one.
    pub fn add_all_qubit_readout_error(&mut self, error: ReadoutError) -> &mut Self {
        self.readout_all = Some(error);
        self
    }

    /// Sets the readout error of `qubit`.
    pub fn add_readout_error(&mut self, error: ReadoutError, qubit: usize) -> &mut Self {
        self.readout.insert(qubit, error);
        self
    }

    /// The noisy version of `circuit`: every gate followed by the channels the model attaches
    /// to it. Errors if a channel does not fit a gate (a two-qubit channel on a one-qubit
    /// gate) or a readout error names a qubit the circuit lacks.
    pub fn apply(&self, circuit: &Circuit) -> Result<NoisyCircuit> {
        let mut noisy = NoisyCircuit::from_circuit(circuit);
        noisy.ops.clear();
        for (index, gate) in circuit.gates().iter().enumerate() {
            noisy.ops.push(NoisyOp::Gate(index));
            for (channel, qubits) in self.channels_for(gate)? {
                noisy.push_channel(channel, &qubits)?;
            }
        }
        for (&q, e) in &self.readout {
            noisy.readout_error(*e, q)?;
        }
        if let Some(e) = self.readout_all {
            for slot in noisy.readout.iter_mut().filter(|s| s.is_none()) {
                *slot = Some(e);
            }
        }
        Ok(noisy)
    }

    /// The (channel, qubits) pairs that follow `gate`.
    pub(crate) fn channels_for(&self, gate: &Gate) -> Result<Vec<(Arc<Channel>, Vec<usize>)>> {
        let name = gate_name(gate);
        let qubits: Vec<usize> = gate.controls.iter().chain(&gate.targets).copied().collect();
        let local: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.qubits.as_deref() == Some(&qubits[..]) && r.gates.contains(&name))
            .collect();
        let chosen: Vec<&Rule> = if local.is_empty() {
            self.rules
                .iter()
                .filter(|r| r.qubits.is_none() && r.gates.contains(&name))
                .collect()
        } else {
            local
        };
        let mut out = Vec::new();
        for rule in chosen {
            let k = rule.channel.num_qubits();
            if k == qubits.len() {
                out.push((rule.channel.clone(), qubits.clone()));
            } else if k == 1 {
                for &q in &qubits {
                    out.push((rule.channel.clone(), vec![q]));
                }
            } else {
                return Err(Error::InvalidArgument(format!(
                    "the noise model attaches a {k}-qubit {} channel to gate {} on {} qubit(s); \
                     attach channels with as many qubits as the gate, or one-qubit channels",
                    rule.channel.name(),
                    gate.display_name(),
                    qubits.len()
                )));
            }
        }
        Ok(out)
    }
}
