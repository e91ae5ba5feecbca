//! What a run tells its reporters while it runs: one stream of typed events, in the order
//! they happen. Reporters (`crate::report`) draw progress and print lines from them; the run
//! loop knows nothing of terminals or files.

use std::sync::Arc;

use super::verdict::CaseReport;

/// One thing that happened during a run.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The named cases are about to run.
    CasesStarted { cases: usize },
    /// A named case finished (events arrive in finishing order, not case order).
    CaseFinished(&'a CaseReport),
    /// The random phase is about to start `sequences` sequences.
    RandomStarted { sequences: u64 },
    /// `done` random sequences have finished (shrinking runs not counted).
    RandomProgress { done: u64 },
    /// The concurrent phase is about to run `rounds` rounds.
    ConcurrentStarted { rounds: usize },
    /// `done` concurrent rounds have finished.
    RoundsProgress { done: usize },
}

/// Where a run sends its events; called from any task, so it must be cheap and thread-safe.
pub type Events = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// A sink that drops every event (for runs nobody watches, such as `cogsync mutants`).
pub fn ignore() -> Events {
    Arc::new(|_| {})
}
