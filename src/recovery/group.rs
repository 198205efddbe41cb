//! Supervision groups (DESIGN.md §4.5): Erlang/OTP's strategies over a group of units,
//! with the group's own budget over its members' failures. Pure: given the members in
//! start order and the one that failed, says which others restart, or that the group's
//! budget ran out.

use std::collections::VecDeque;
use std::time::Instant;

use crate::unit::{GroupConfig, OnExhausted, Strategy};

/// A group's failures within its window, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupBudget {
    failures: VecDeque<Instant>,
}

impl GroupBudget {
    /// Counts a member's failure at `now`; whether the budget is now exhausted.
    pub fn record_failure(&mut self, config: &GroupConfig, now: Instant) -> bool {
        while self
            .failures
            .front()
            .is_some_and(|&at| now.saturating_duration_since(at) >= config.window)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        self.failures.len() >= config.max_failures as usize
    }

    pub fn reset(&mut self) {
        self.failures.clear();
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupDecision<T> {
    /// These other members restart (none for `one_for_one`).
    Restart(Vec<T>),
    /// The group's budget ran out: its `on-exhausted` applies to every member.
    Exhausted(OnExhausted),
}

/// What a member's failure means for the group: `members` in start order.
pub fn decide<T: PartialEq + Clone>(
    config: &GroupConfig,
    budget: &mut GroupBudget,
    members: &[T],
    failed: &T,
    now: Instant,
) -> GroupDecision<T> {
    if budget.record_failure(config, now) {
        budget.reset();
        return GroupDecision::Exhausted(config.on_exhausted);
    }
    let others = members.iter().filter(|member| *member != failed).cloned();
    GroupDecision::Restart(match config.strategy {
        Strategy::OneForOne => Vec::new(),
        Strategy::OneForAll => others.collect(),
        Strategy::RestForOne => members
            .iter()
            .skip_while(|member| *member != failed)
            .skip(1)
            .cloned()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn config(strategy: Strategy, max_failures: u32) -> GroupConfig {
        GroupConfig {
            strategy,
            max_failures,
            window: Duration::from_secs(60),
            ..GroupConfig::default()
        }
    }

    #[test]
    fn each_strategy_restarts_its_members() {
        let now = crate::testing::now();
        let members = ["db", "cache", "web", "worker"];
        for (strategy, failed, expected) in [
            (Strategy::OneForOne, "cache", vec![]),
            (Strategy::OneForAll, "cache", vec!["db", "web", "worker"]),
            (Strategy::RestForOne, "cache", vec!["web", "worker"]),
            (Strategy::RestForOne, "worker", vec![]),
            (Strategy::RestForOne, "db", vec!["cache", "web", "worker"]),
        ] {
            let mut budget = GroupBudget::default();
            let decision = decide(&config(strategy, 5), &mut budget, &members, &failed, now);
            assert_eq!(
                decision,
                GroupDecision::Restart(expected),
                "{strategy:?} {failed}"
            );
        }
    }

    #[test]
    fn the_group_budget_counts_every_members_failures_in_its_window() {
        let now = crate::testing::now();
        let config = config(Strategy::OneForAll, 3);
        let members = ["a", "b"];
        let mut budget = GroupBudget::default();
        assert!(matches!(
            decide(&config, &mut budget, &members, &"a", now),
            GroupDecision::Restart(_)
        ));
        // A failure that left the window does not count.
        let later = now + Duration::from_secs(61);
        assert!(matches!(
            decide(&config, &mut budget, &members, &"b", later),
            GroupDecision::Restart(_)
        ));
        assert!(matches!(
            decide(&config, &mut budget, &members, &"a", later),
            GroupDecision::Restart(_)
        ));
        assert_eq!(
            decide(&config, &mut budget, &members, &"b", later),
            GroupDecision::Exhausted(OnExhausted::Escalate)
        );
    }
}
