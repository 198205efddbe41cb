//! Healing, not just restarting (DESIGN.md §4.4, §4.5): the recovery ladder a service
//! climbs when its restart budget runs out, the incidents that record each stretch of
//! trouble, and the supervision groups that restart members together. Pure decisions on
//! the instants they are given; hooks and file snapshots are actions the shell performs.

pub mod group;
pub mod incident;
pub mod ladder;

pub use group::{GroupBudget, GroupDecision, decide};
pub use incident::{Detection, Incident, IncidentIds, Outcome, Rung, StepOutcome, StepTaken};
pub use ladder::{Ladder, Mode};
