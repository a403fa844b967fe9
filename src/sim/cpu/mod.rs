//! The CPU backend in two forms.
//!
//! * [`CpuBackend::reference`]: the reference ([`CpuState`]): f64 amplitudes, plain loops, one
//!   generic matrix routine, deliberately simple so that it can be read and trusted. Every
//!   other backend's results are compared against it in the tests.
//! * [`CpuBackend::new`] / [`CpuBackend::with_precision`]: the fast backend ([`FastCpuState`],
//!   f64 or f32): gates fused and run tile by tile in cache with specialised, vectorised
//!   kernels, tiles in parallel (see `fast`).
//!
//! On the reference backend every call, batched ones included, runs the f64 reference
//! (`crate::sim::reference`). On the fast backend, batched programs (`forward_rows` /
//! `adjoint_rows`) take the optimised path of `batch`: rows in parallel, specialised and
//! vectorised kernels, fused one-qubit gates; a forward call with fewer rows than threads on a
//! large state runs each row through a fast state instead (parallel inside the state).
//! A batched forward call keeps its rows' final states (within the memory budget and 256 MiB,
//! see `kept`) so that an adjoint call on the same program and the same rows — the gradient
//! step that follows a forward pass in training — starts its backward sweep from them.
//!
//! Precision: a fast backend's precision is that of every call it makes, whatever the thread
//! count or the path taken. Both engines are generic over the amplitude type (`Real`: `f32`
//! or `f64`): states hold amplitudes of the backend's precision and memory budgets count
//! `Precision::bytes_per_amplitude` bytes per amplitude (8 in f32, 16 in f64), so an f32
//! adjoint row needs half the memory of an f64 one. Angles, gate matrices and fused products
//! are computed in f64 and rounded once per gate; expectation values and gradient sums are
//! accumulated in f64 from the rounded amplitudes.

mod batch;
mod fast;
mod kept;
pub(crate) mod kernels;
pub(crate) mod lower;
mod permute;
mod real;
pub(crate) mod simd;

use crate::sim::reference::adjoint::{reference_adjoint_rows, reference_forward_rows};
use crate::sim::reference::state::CpuState;
pub(crate) use batch::default_memory_budget;
use batch::{fast_adjoint_rows, fast_forward_rows};
pub use fast::CpuConfig;
use fast::FastCpuState;
use kept::Kept;
pub(crate) use real::Real;

use crate::backend::{check_amplitudes, check_rows, Backend, Precision, QuantumState};
use crate::circuit::{Bindings, Observable, MAX_QUBITS};
use crate::compile::program::{BatchConfig, Program};
use crate::error::{Error, Result};
use num_complex::Complex64;
use std::sync::{Arc, Mutex};

/// Which CPU implementation a [`CpuBackend`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Reference,
    Fast(CpuConfig),
}

/// The CPU backend. Always available. [`CpuBackend::new`] is the fast f64 backend,
/// [`CpuBackend::with_precision`] picks f32 or f64, and [`CpuBackend::reference`] is the simple
/// f64 reference, the oracle of the tests.
#[derive(Clone, Debug)]
pub struct CpuBackend {
    engine: Engine,
    /// The last one-row forward state (see [`CpuBackend::forward_rows`]), kept for the next
    /// call: allocating and first touching a large state costs more than many gates.
    cache: Arc<Mutex<StateCache>>,
}

/// One kept state per precision, of at most [`CACHE_MAX_QUBITS`] qubits; and per precision the
/// final states of the last batched forward call (see `kept`), for an adjoint call on the same
/// program and rows.
#[derive(Debug, Default)]
struct StateCache {
    single: Option<FastCpuState<f32>>,
    double: Option<FastCpuState<f64>>,
    kept_single: Option<Kept<f32>>,
    kept_double: Option<Kept<f64>>,
}

/// The largest state a backend keeps between forward calls: 2^22 amplitudes (32 MiB in single,
/// 64 MiB in double precision).
const CACHE_MAX_QUBITS: usize = 22;

/// The cache slot of a precision.
trait Cached: Real {
    fn slot(cache: &mut StateCache) -> &mut Option<FastCpuState<Self>>;
    fn kept(cache: &mut StateCache) -> &mut Option<Kept<Self>>;
}

impl Cached for f32 {
    fn slot(cache: &mut StateCache) -> &mut Option<FastCpuState<f32>> {
        &mut cache.single
    }
    fn kept(cache: &mut StateCache) -> &mut Option<Kept<f32>> {
        &mut cache.kept_single
    }
}

impl Cached for f64 {
    fn slot(cache: &mut StateCache) -> &mut Option<FastCpuState<f64>> {
        &mut cache.double
    }
    fn kept(cache: &mut StateCache) -> &mut Option<Kept<f64>> {
        &mut cache.kept_double
    }
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::new()
    }
}

/// Forward calls on states of at least this many qubits with fewer rows than threads run each
/// row through a fast state (parallel inside it) rather than rows in parallel.
const SINGLE_STATE_QUBITS: usize = 12;

impl CpuBackend {
    /// The fast CPU backend in f64.
    pub fn new() -> Self {
        Self::with_config(CpuConfig::default())
    }

    /// The fast CPU backend in `precision`.
    pub fn with_precision(precision: Precision) -> Self {
        Self::with_config(CpuConfig::with_precision(precision))
    }

    /// The fast CPU backend with explicit tuning (tile size, fusion, parallelism).
    pub fn with_config(config: CpuConfig) -> Self {
        CpuBackend {
            engine: Engine::Fast(config),
            cache: Arc::default(),
        }
    }

    /// The reference backend: [`CpuState`] (f64, one generic matrix routine per gate).
    pub fn reference() -> Self {
        CpuBackend {
            engine: Engine::Reference,
            cache: Arc::default(),
        }
    }

    /// The fast backend's configuration (`None` for the reference).
    pub fn config(&self) -> Option<CpuConfig> {
        match self.engine {
            Engine::Reference => None,
            Engine::Fast(c) => Some(c),
        }
    }

    /// ⟨O_j⟩ per row through one fast state of precision `T` of at most `budget` bytes, reused
    /// across the rows (and kept for the next call when small enough).
    fn forward_rows_single<T: Cached>(
        &self,
        config: CpuConfig,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        budget: u64,
    ) -> Result<Vec<f64>> {
        let n = program.num_qubits();
        let kept = match self.cache.try_lock() {
            Ok(mut cache) => T::slot(&mut cache)
                .take()
                .filter(|s| s.num_qubits() == n && *s.config() == config),
            Err(_) => None,
        };
        let mut state = match kept {
            Some(s) => s,
            None => FastCpuState::<T>::zero_within(n, config, budget)?,
        };
        let na = program.num_angles();
        let mut out = Vec::with_capacity(num_rows * observables.len());
        for r in 0..num_rows {
            let circuit = program.bind_row(&rows[r * na..(r + 1) * na])?;
            state.reset();
            state.apply(&circuit, &Bindings::none())?;
            out.extend(state.expectations(observables)?);
        }
        if n <= CACHE_MAX_QUBITS {
            if let Ok(mut cache) = self.cache.try_lock() {
                *T::slot(&mut cache) = Some(state);
            }
        }
        Ok(out)
    }
}

impl CpuBackend {
    /// The batched forward path, keeping the rows' final states for a following adjoint call
    /// when they fit the call's memory budget and `kept::KEEP_MAX_BYTES` (see `kept`).
    fn forward_rows_keep<T: Cached>(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        options: &BatchConfig,
    ) -> Result<Vec<f64>> {
        let budget = options.memory_budget.unwrap_or_else(default_memory_budget);
        let mut keep = Kept::prepare(self.take_kept::<T>(), program, num_rows, budget);
        let out =
            fast_forward_rows::<T>(program, rows, num_rows, observables, options, keep.as_mut());
        self.put_kept::<T>(keep);
        out
    }

    /// The kept buffer of precision `T`, taken out of the cache (None when empty or when
    /// another call holds the cache: a missed reuse, never a wait).
    fn take_kept<T: Cached>(&self) -> Option<Kept<T>> {
        self.cache
            .try_lock()
            .ok()
            .and_then(|mut cache| T::kept(&mut cache).take())
    }

    /// Puts a kept buffer back for the next call (dropped when another call holds the cache).
    fn put_kept<T: Cached>(&self, kept: Option<Kept<T>>) {
        if let (Some(k), Ok(mut cache)) = (kept, self.cache.try_lock()) {
            *T::kept(&mut cache) = Some(k);
        }
    }

    /// The batched adjoint path, starting from the kept final states of the last forward call
    /// when they are those of `program` on `rows` (else computing them).
    fn adjoint_rows_kept<T: Cached>(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        upstream: &[f64],
        options: &BatchConfig,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut taken = self.take_kept::<T>();
        let states = taken
            .as_mut()
            .filter(|k| k.matches(program, rows, num_rows))
            .map(|k| k.take_states());
        let out = fast_adjoint_rows::<T>(
            program,
            rows,
            num_rows,
            observables,
            upstream,
            options,
            states,
        );
        // The buffer (now stale if it was used) is kept for the next forward call.
        self.put_kept::<T>(taken);
        out
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> String {
        match self.engine {
            Engine::Reference => "cpu-reference (f64)".to_string(),
            Engine::Fast(c) => format!(
                "cpu ({})",
                if c.precision == Precision::F32 {
                    "f32"
                } else {
                    "f64"
                }
            ),
        }
    }

    fn precision(&self) -> Precision {
        match self.engine {
            Engine::Reference => Precision::F64,
            Engine::Fast(c) => c.precision,
        }
    }

    fn zero_state(&self, num_qubits: usize) -> Result<Box<dyn QuantumState>> {
        if num_qubits == 0 || num_qubits > MAX_QUBITS {
            return Err(Error::UnsupportedQubitCount {
                num_qubits,
                max: MAX_QUBITS,
            });
        }
        Ok(match self.engine {
            Engine::Reference => Box::new(CpuState::zero(num_qubits)?),
            Engine::Fast(c) if c.precision == Precision::F32 => {
                Box::new(FastCpuState::<f32>::zero(num_qubits, c)?)
            }
            Engine::Fast(c) => Box::new(FastCpuState::<f64>::zero(num_qubits, c)?),
        })
    }

    fn state_from_amplitudes(&self, amplitudes: &[Complex64]) -> Result<Box<dyn QuantumState>> {
        Ok(match self.engine {
            Engine::Reference => {
                let n = check_amplitudes(amplitudes)?;
                crate::backend::check_budget(
                    16 * amplitudes.len() as u64,
                    default_memory_budget(),
                )?;
                Box::new(CpuState::from_amplitudes_unchecked(n, amplitudes.to_vec()))
            }
            Engine::Fast(c) if c.precision == Precision::F32 => {
                Box::new(FastCpuState::<f32>::from_amplitudes(amplitudes, c)?)
            }
            Engine::Fast(c) => Box::new(FastCpuState::<f64>::from_amplitudes(amplitudes, c)?),
        })
    }

    /// The batched path (`batch::fast_forward_rows`, in the backend's precision): rows in
    /// parallel, specialised kernels. On the fast backend, fewer rows than threads on a state of
    /// 12 or more qubits run one row at a time through a fast state of the same precision
    /// (tiles in parallel); the backend keeps that state (up to 22 qubits) for its next such
    /// call.
    fn forward_rows(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        options: &BatchConfig,
    ) -> Result<Vec<f64>> {
        // Finite rows of the right shape, as on the GPU (a NaN angle would give NaN values).
        check_rows(program, rows, num_rows)?;
        match self.engine {
            Engine::Reference => {
                batch::check_forward(program, rows, num_rows, observables, options, 16)?;
                reference_forward_rows(program, rows, num_rows, observables)
            }
            Engine::Fast(c)
                if program.num_qubits() >= SINGLE_STATE_QUBITS
                    && num_rows < rayon::current_num_threads().max(2) =>
            {
                batch::check_forward(
                    program,
                    rows,
                    num_rows,
                    observables,
                    options,
                    c.precision.bytes_per_amplitude(),
                )?;
                // The call's budget if it names one, else the backend's.
                let budget = options.memory_budget.unwrap_or_else(|| c.budget());
                if c.precision == Precision::F32 {
                    self.forward_rows_single::<f32>(c, program, rows, num_rows, observables, budget)
                } else {
                    self.forward_rows_single::<f64>(c, program, rows, num_rows, observables, budget)
                }
            }
            Engine::Fast(c) if c.precision == Precision::F32 => {
                self.forward_rows_keep::<f32>(program, rows, num_rows, observables, options)
            }
            Engine::Fast(_) => {
                self.forward_rows_keep::<f64>(program, rows, num_rows, observables, options)
            }
        }
    }

    /// The batched adjoint path (`batch::fast_adjoint_rows`, ψ and λ in the backend's
    /// precision); on the reference backend the reference adjoint sweep, its oracle.
    fn adjoint_rows(
        &self,
        program: &Program,
        rows: &[f64],
        num_rows: usize,
        observables: &[Observable],
        upstream: &[f64],
        options: &BatchConfig,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        check_rows(program, rows, num_rows)?;
        match self.engine {
            Engine::Reference => {
                // ψ and λ per row: twice one state's memory.
                batch::check_forward(program, rows, num_rows, observables, options, 32)?;
                crate::compile::program::check_upstream(upstream, num_rows, observables.len())?;
                reference_adjoint_rows(program, rows, num_rows, observables, upstream)
            }
            Engine::Fast(c) if c.precision == Precision::F32 => self.adjoint_rows_kept::<f32>(
                program,
                rows,
                num_rows,
                observables,
                upstream,
                options,
            ),
            Engine::Fast(_) => self.adjoint_rows_kept::<f64>(
                program,
                rows,
                num_rows,
                observables,
                upstream,
                options,
            ),
        }
    }
}
