//! Deadlines armed by the core, ordered so the loop's poll timeout is the earliest one —
//! or none, which is how an idle Phoenix makes no system calls at all.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use crate::core::TimerId;

#[derive(Default)]
pub struct Timers {
    by_deadline: BTreeSet<(Instant, TimerId)>,
    by_id: HashMap<TimerId, Instant>,
}

impl Timers {
    /// Arms `timer`, replacing its previous deadline.
    pub fn arm(&mut self, timer: TimerId, deadline: Instant) {
        self.cancel(timer);
        self.by_deadline.insert((deadline, timer));
        self.by_id.insert(timer, deadline);
    }

    pub fn cancel(&mut self, timer: TimerId) {
        if let Some(deadline) = self.by_id.remove(&timer) {
            self.by_deadline.remove(&(deadline, timer));
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.first().map(|(deadline, _)| *deadline)
    }

    /// Removes and returns every timer due at `now`, earliest first.
    pub fn take_due(&mut self, now: Instant) -> Vec<TimerId> {
        let mut due = Vec::new();
        while let Some(&(deadline, timer)) = self.by_deadline.first() {
            if deadline > now {
                break;
            }
            self.by_deadline.pop_first();
            self.by_id.remove(&timer);
            due.push(timer);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fires_in_order_and_honours_rearm_and_cancel() {
        let start = crate::testing::now();
        let mut timers = Timers::default();
        timers.arm(1, start + Duration::from_secs(3));
        timers.arm(2, start + Duration::from_secs(1));
        timers.arm(3, start + Duration::from_secs(2));
        timers.arm(1, start + Duration::from_millis(500));
        timers.cancel(3);
        assert_eq!(
            timers.next_deadline(),
            Some(start + Duration::from_millis(500))
        );
        assert_eq!(timers.take_due(start + Duration::from_secs(5)), vec![1, 2]);
        assert_eq!(timers.next_deadline(), None);
    }
}
