//! How many lines of one kind the log takes per second: enough for an operator to
//! see what happens, too few for a flood (of refused connections, of dropped
//! players) to become a flood of log lines. Past the budget, lines are counted,
//! and the next line logged says how many were not.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Log lines per window.
const LINES_PER_WINDOW: u32 = 10;
const LOG_WINDOW: Duration = Duration::from_secs(1);

/// How many lines the log takes in the current window.
#[derive(Debug, Default)]
pub(crate) struct LogBudget {
    started: Option<Instant>,
    logged: u32,
    unlogged: u64,
}

impl LogBudget {
    /// Whether the line at `now` is logged: `Some` with how many were not since
    /// the last one that was, or `None`.
    pub(crate) fn spend(&mut self, now: Instant) -> Option<u64> {
        let expired = self
            .started
            .is_none_or(|started| now.saturating_duration_since(started) >= LOG_WINDOW);
        if expired {
            self.started = Some(now);
            self.logged = 0;
        }
        if self.logged >= LINES_PER_WINDOW {
            self.unlogged += 1;
            return None;
        }
        self.logged += 1;
        Some(std::mem::take(&mut self.unlogged))
    }
    /// [`spend`](Self::spend) now, on a budget the tasks of a process share (a
    /// poisoned lock lets the line through).
    pub(crate) fn spend_shared(budget: &Mutex<Self>) -> Option<u64> {
        budget
            .lock()
            .map_or(Some(0), |mut budget| budget.spend(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_takes_ten_lines_a_second_then_counts_the_rest() {
        let mut budget = LogBudget::default();
        let start = Instant::now();
        for n in 0..10 {
            assert_eq!(budget.spend(start + Duration::from_millis(n)), Some(0));
        }
        for n in 10..1000 {
            assert_eq!(budget.spend(start + Duration::from_millis(n)), None);
        }
        // A new second: the first line says how many were not logged.
        assert_eq!(budget.spend(start + LOG_WINDOW), Some(990));
        assert_eq!(budget.spend(start + LOG_WINDOW), Some(0));
        // After a quiet while, nothing is owed.
        assert_eq!(budget.spend(start + LOG_WINDOW * 5), Some(0));
    }
}
