//! Progress reports from long QML calls: training ([`crate::qml::train::fit`]), VQE
//! ([`crate::qml::vqe::run_vqe`]), QAOA ([`crate::qml::qaoa::solve_maxcut`]) and quantum-kernel
//! Gram matrices ([`crate::qml::qkernel::FidelityKernel`]).
//!
//! One API everywhere: the configuration (or kernel) takes a callback with `.progress(f)`
//! (`FidelityKernel::with_progress(f)` for kernels), and the call invokes `f` with a
//! [`Progress`] after every unit of work: `done` of `total` units finished, what the unit is,
//! and the current loss or energy where there is one. The callback runs on the calling thread,
//! between units, so it may be slow without slowing the simulation's inner loops; hook a
//! progress bar to it:
//!
//! ```
//! use qshade::qml::vqe::VqeConfig;
//! let config = VqeConfig::default().progress(|p| {
//!     if p.done == p.total {
//!         println!("{} {}/{} done, loss {:?}", p.what, p.done, p.total, p.loss);
//!     }
//! });
//! # let _ = config;
//! ```

use std::fmt;
use std::sync::Arc;

/// One progress report: `done` of `total` units of `what` are finished.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Units finished so far (1..=total).
    pub done: usize,
    /// Units the call will do at most (an early stop, e.g. VQE's gradient tolerance, ends
    /// before `done == total`).
    pub total: usize,
    /// The unit: `"training batches"`, `"vqe iterations"`, `"qaoa steps"`, `"kernel rows"`.
    pub what: &'static str,
    /// The latest loss (training: the mini-batch's loss; VQE: the energy; QAOA: the best
    /// start's ⟨C⟩), when the unit has one.
    pub loss: Option<f64>,
}

impl Progress {
    /// A report of `done` of `total` units of `what`, with an optional loss.
    pub fn new(done: usize, total: usize, what: &'static str, loss: Option<f64>) -> Self {
        Progress {
            done,
            total,
            what,
            loss,
        }
    }
}

/// A progress callback, shared (cheap to clone) and callable from any thread. Two callbacks
/// compare equal when they are the same closure (the same `Arc`), so configurations that hold
/// one keep `PartialEq`.
#[derive(Clone)]
pub struct ProgressFn(Arc<dyn Fn(&Progress) + Send + Sync>);

impl ProgressFn {
    /// Wraps a closure.
    pub fn new(f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        ProgressFn(Arc::new(f))
    }

    /// Calls the closure with `report`.
    pub fn report(&self, report: &Progress) {
        (self.0)(report)
    }
}

impl fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressFn(..)")
    }
}

impl PartialEq for ProgressFn {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Calls `callback` (if any) with `done` of `total` units of `what`.
pub(crate) fn report(
    callback: &Option<ProgressFn>,
    done: usize,
    total: usize,
    what: &'static str,
    loss: Option<f64>,
) {
    if let Some(f) = callback {
        f.report(&Progress::new(done, total, what, loss));
    }
}

/// Adds a `progress` method (taking a closure) to a `#[non_exhaustive]` configuration with a
/// `progress: Option<ProgressFn>` field.
macro_rules! progress_setter {
    ($ty:ident) => {
        impl $ty {
            #[doc = concat!("Sets [`", stringify!($ty), "::progress`]: `f` is called with a")]
            /// [`Progress`](crate::qml::progress::Progress) after every unit of work (see
            /// [`crate::qml::progress`]).
            #[must_use]
            pub fn progress(
                mut self,
                f: impl Fn(&crate::qml::progress::Progress) + Send + Sync + 'static,
            ) -> Self {
                self.progress = Some(crate::qml::progress::ProgressFn::new(f));
                self
            }
        }
    };
}
pub(crate) use progress_setter;
