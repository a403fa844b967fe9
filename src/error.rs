//! The one error type of qshade. Every message says what went wrong and what to do about it.

use std::fmt;

/// Everything that can go wrong in qshade. Library code never panics on user input; it returns
/// one of these.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A gate or observable names a qubit that the circuit or state does not have.
    QubitOutOfRange {
        /// The offending qubit index.
        qubit: usize,
        /// The number of qubits available.
        num_qubits: usize,
    },
    /// The same qubit appears twice in one gate (as two targets, or as target and control), in
    /// one Pauli term, or in one list of qubits.
    RepeatedQubit {
        /// The qubit that appears more than once.
        qubit: usize,
        /// What it appears in, as a phrase: `gate CNOT`, `Pauli term "Z0 Z0"`, `marginal qubit
        /// list`.
        gate: String,
    },
    /// A user-supplied matrix is not unitary within the stated tolerance.
    NotUnitary {
        /// The largest entry of |U†U − I|.
        deviation: f64,
        /// The tolerance it was checked against.
        tolerance: f64,
    },
    /// A matrix has the wrong number of entries for its qubit count.
    BadMatrixSize {
        /// Entries expected (4 for one qubit, 16 for two).
        expected: usize,
        /// Entries given.
        got: usize,
    },
    /// The number of bound values does not match what the circuit uses.
    ParameterCount {
        /// "trainable parameters (θ)" or "input features (x)".
        kind: &'static str,
        /// How many the circuit needs.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// A bound value is NaN or infinite.
    NonFiniteParameter {
        /// "θ" or "x".
        kind: &'static str,
        /// The index of the value.
        index: usize,
    },
    /// A circuit applied to a state of a different width.
    WidthMismatch {
        /// Qubits in the circuit.
        circuit: usize,
        /// Qubits in the state.
        state: usize,
    },
    /// The circuit or state has zero qubits or more than qshade can index.
    UnsupportedQubitCount {
        /// The requested count.
        num_qubits: usize,
        /// The largest count supported.
        max: usize,
    },
    /// The state (or batch, or sample) does not fit in the memory budget of the backend: host
    /// memory on the CPU backend, the adapter's memory on a GPU. Nothing was allocated.
    OutOfDeviceMemory {
        /// Bytes the state (plus scratch) needs.
        needed: u64,
        /// Bytes the budget allows (`CpuConfig::memory_budget` / `BatchConfig::memory_budget`
        /// on the CPU, `GpuConfig::memory_budget` / the adapter's limits on a GPU).
        available: u64,
    },
    /// No GPU adapter could be found.
    NoAdapter {
        /// What the adapter request reported.
        reason: String,
    },
    /// The adapter lacks a feature the request needs (e.g. SHADER_F64 for double precision).
    MissingFeature {
        /// The wgpu feature's name.
        feature: &'static str,
        /// The adapter's name.
        adapter: String,
    },
    /// wgpu reported an error while creating the device or running work.
    Device(String),
    /// A vector given as amplitudes is not a valid state (wrong length or not normalised).
    InvalidState(String),
    /// An argument is outside its valid range (e.g. zero shots, an empty observable list).
    InvalidArgument(String),
    /// The request is valid but this backend cannot do it; the message says what to use instead.
    Unsupported(String),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        message: String,
    },
    /// A gate name (e.g. given to `Circuit::add_standard`) that qshade does not know.
    UnknownGate {
        /// The name as given (at most 64 characters of it).
        name: String,
        /// Known names close to it, or where to find the list.
        hint: String,
    },
    /// A text file (CSV data, saved parameters) is malformed.
    Parse {
        /// What was being read, e.g. "CSV" or "parameter file".
        what: &'static str,
        /// 1-based line number.
        line: usize,
        /// What is wrong with that line.
        message: String,
    },
    // qasm: OpenQASM import errors.
    /// An OpenQASM program is malformed or uses something qshade does not simulate.
    Qasm {
        /// 1-based line of the offending token.
        line: usize,
        /// 1-based column (in characters) of the offending token.
        column: usize,
        /// What is wrong there, and what to do about it.
        message: String,
    },
    // --- noise (issue 16) ---
    /// A noise channel's parameters are invalid: a probability outside [0, 1], T2 > 2·T1, a
    /// Kraus set that is not completely positive and trace preserving within the tolerance, …
    InvalidChannel {
        /// The channel, e.g. `depolarizing` or `kraus`.
        channel: &'static str,
        /// What is wrong and the valid range.
        message: String,
    },
}

/// `Result` with qshade's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

fn human_bytes(bytes: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.2} GiB", b / GIB)
    } else {
        format!("{:.1} MiB", b / MIB)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::QubitOutOfRange { qubit, num_qubits } => write!(
                f,
                "qubit {qubit} is out of range: valid qubits are 0..{} ({num_qubits} qubits)",
                num_qubits.saturating_sub(1)
            ),
            Error::RepeatedQubit { qubit, gate } => write!(
                f,
                "qubit {qubit} appears more than once in {gate}; the qubits of a gate (targets and controls), \
                 of a Pauli term and of a qubit list must be distinct"
            ),
            Error::NotUnitary { deviation, tolerance } => write!(
                f,
                "matrix is not unitary: max |U†U − I| = {deviation:.3e} exceeds tolerance {tolerance:.1e}"
            ),
            Error::BadMatrixSize { expected, got } => write!(
                f,
                "matrix has {got} entries, expected {expected} (row-major, 2^k × 2^k for k qubits)"
            ),
            Error::ParameterCount { kind, expected, got } => write!(
                f,
                "the circuit uses {expected} {kind} but {got} were bound"
            ),
            Error::NonFiniteParameter { kind, index } => {
                write!(f, "bound value {kind}[{index}] is NaN or infinite")
            }
            Error::WidthMismatch { circuit, state } => write!(
                f,
                "circuit acts on {circuit} qubits but the state has {state}"
            ),
            Error::UnsupportedQubitCount { num_qubits, max } => write!(
                f,
                "{num_qubits} qubits is not supported: use 1..={max} qubits"
            ),
            Error::OutOfDeviceMemory { needed, available } => write!(
                f,
                "the request needs {} ({needed} bytes) but the memory budget allows only {} ({available} bytes) \
                 (host memory on the CPU backend, the adapter's memory on a GPU); use fewer qubits, single \
                 precision or smaller batches, or raise the budget with CpuConfig::memory_budget / \
                 BatchConfig::memory_budget (CPU, default a quarter of the available host memory) or \
                 GpuConfig::memory_budget / BatchConfig::memory_budget (GPU)",
                human_bytes(*needed),
                human_bytes(*available)
            ),
            Error::NoAdapter { reason } => write!(
                f,
                "no GPU adapter found ({reason}); install a Vulkan/Metal/DX12 driver \
                 (on Linux without a GPU: `apt-get install mesa-vulkan-drivers libvulkan1` for lavapipe), \
                 or use the CPU backend: qshade::CpuBackend::new()"
            ),
            Error::MissingFeature { feature, adapter } => write!(
                f,
                "adapter \"{adapter}\" does not support {feature}; use Precision::F32 on this adapter, \
                 or the CPU backend (f64: qshade::CpuBackend::new())"
            ),
            Error::Device(msg) => write!(f, "GPU device error: {msg}"),
            Error::InvalidState(msg) => write!(f, "invalid state vector: {msg}"),
            Error::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
            Error::Unsupported(msg) => write!(f, "unsupported: {msg}"),
            Error::Io { path, message } => write!(f, "cannot access {path}: {message}"),
            Error::Parse { what, line, message } => write!(f, "{what} line {line}: {message}"),
            Error::UnknownGate { name, hint } => {
                write!(f, "unknown gate \"{name}\"; {hint}")
            }
            Error::Qasm { line, column, message } => {
                write!(f, "OpenQASM line {line}, column {column}: {message}")
            }
            // --- noise (issue 16) ---
            Error::InvalidChannel { channel, message } => {
                write!(f, "invalid {channel} channel: {message}")
            }
        }
    }
}

impl std::error::Error for Error {}
