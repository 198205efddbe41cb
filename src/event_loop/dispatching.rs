//! How a round of events reaches the core and its actions the system: each step's
//! leading actions first (spawns, group counts, timers), with its log lines held until
//! they are done, and its bookkeeping (event log, incidents, state and alert files) after
//! them — after the next step's too when that step is the answer to this one's group
//! count, the check before a restart's spawn. A restart's fork never waits behind a log
//! line, an append or an fsync.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use crate::core::{Action, Core, Event};

use super::{EventLoop, panic_text};

impl EventLoop {
    /// Feeds queued events to the core; actions may queue more events (spawn results, group
    /// checks).
    /// A panic in a step or an action ends the round with its text; the core stays as
    /// the panic left it, for the handoff.
    pub(super) fn dispatch(&mut self, core: &mut dyn Core, now: Instant) -> Result<(), String> {
        let mut deferred = Vec::new();
        while let Some(event) = self.queue.pop_front() {
            log::debug!("event: {event:?}");
            let stepped = catch_unwind(AssertUnwindSafe(|| {
                crate::fault::before_step(&event);
                crate::logging::hold();
                let actions = core.step(event, now);
                self.perform_acting(actions, &mut deferred);
                // A group count's answer is the next step of the same restart (its
                // spawn): the lines and the bookkeeping wait for it.
                if !matches!(self.queue.front(), Some(Event::GroupChecked { .. })) {
                    self.perform_bookkeeping(&mut deferred);
                }
            }));
            if stepped.is_err() {
                // What the steps before recorded is not lost with the one that panicked.
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    self.perform_bookkeeping(&mut deferred);
                }));
            }
            stepped.map_err(|payload| panic_text(payload.as_ref()))?;
        }
        self.perform_bookkeeping(&mut deferred);
        Ok(())
    }

    /// A step's actions in order, its bookkeeping (records, state files, alerts) last: a
    /// restart's fork must not wait behind an event-log append or a state file's fsync.
    pub(super) fn perform_all(&mut self, actions: Vec<Action>) {
        let mut bookkeeping = Vec::new();
        self.perform_acting(actions, &mut bookkeeping);
        self.perform_bookkeeping(&mut bookkeeping);
    }

    /// Performs a step's actions but its bookkeeping, which goes to `bookkeeping`. The
    /// step's log lines are held until its leading actions are done — spawns, group counts
    /// (which send no signal) and timers (which touch only memory) — and written before
    /// anything else: a signal's or a stop's reason still comes before what the service
    /// prints in answer to it.
    fn perform_acting(&mut self, actions: Vec<Action>, bookkeeping: &mut Vec<Action>) {
        for action in actions {
            if action.is_bookkeeping() {
                bookkeeping.push(action);
                continue;
            }
            let leading = matches!(
                action,
                Action::Spawn { .. }
                    | Action::CheckGroup { signal: None, .. }
                    | Action::ArmTimer { .. }
                    | Action::CancelTimer { .. }
            );
            if !leading {
                crate::logging::release();
            }
            self.perform(action);
        }
    }

    /// The held log lines, then `bookkeeping` in order.
    fn perform_bookkeeping(&mut self, bookkeeping: &mut Vec<Action>) {
        crate::logging::release();
        for action in std::mem::take(bookkeeping) {
            self.perform(action);
        }
    }
}
