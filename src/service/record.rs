//! What of a service outlives Phoenix: restart count, failure tally, circuit. The shell
//! turns instants into wall-clock times on disk and back; the core only sees instants.

use std::time::Instant;

use super::{Budget, Circuit, Service, State};

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRecord {
    pub name: String,
    pub restarts: u32,
    pub consecutive: u32,
    pub failures: Vec<Instant>,
    pub circuit: Circuit,
    /// Failed for good (budget exhausted with `stop`): stays failed until reset.
    pub failed: bool,
}

impl ServiceRecord {
    pub fn of(service: &Service) -> ServiceRecord {
        ServiceRecord {
            name: service.unit.name.clone(),
            restarts: service.restarts,
            consecutive: service.budget.consecutive,
            failures: service.budget.failures().copied().collect(),
            circuit: service.budget.circuit,
            failed: service.state == State::Failed,
        }
    }

    /// Puts a saved record back on a freshly loaded service.
    pub fn restore(&self, service: &mut Service) {
        service.restarts = self.restarts;
        service.budget = Budget::restore(self.failures.clone(), self.consecutive, self.circuit);
    }
}
