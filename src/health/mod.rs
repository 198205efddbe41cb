//! Health, the second dimension of a running service (DESIGN.md §4.2): probe results in,
//! `unknown` · `healthy` · `degraded` · `unhealthy` out, changing only at the thresholds.
//! Pure: the shell runs the probes and hands each outcome here with the time it ended.

use std::fmt;
use std::time::{Duration, Instant};

use crate::unit::format_duration;

/// What a probe found: success with its latency, or failure with its reason.
pub type ProbeOutcome = Result<Duration, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Health {
    /// No probe has finished yet.
    Unknown,
    Healthy,
    /// Answers, slowly: a probe succeeded but took longer than `degraded-after`.
    Degraded,
    Unhealthy,
}

impl Health {
    pub fn name(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Unhealthy => "unhealthy",
        }
    }

    pub const ALL: [Health; 4] = [
        Health::Unknown,
        Health::Healthy,
        Health::Degraded,
        Health::Unhealthy,
    ];
}

impl Health {
    pub fn from_name(name: &str) -> Option<Health> {
        Health::ALL.into_iter().find(|health| health.name() == name)
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The thresholds of a `[health]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Failures within this time after ready do not count (Docker's start period).
    pub start_period: Duration,
    /// Consecutive failures that make a service unhealthy.
    pub failure_threshold: u32,
    /// Consecutive successes that make an unhealthy service healthy again.
    pub success_threshold: u32,
    /// A successful probe slower than this is degraded.
    pub degraded_after: Option<Duration>,
}

impl Thresholds {
    /// The thresholds a unit's `[health]` table sets.
    pub fn of(health: &crate::unit::HealthConfig) -> Thresholds {
        Thresholds {
            start_period: health.start_period,
            failure_threshold: health.failure_threshold,
            success_threshold: health.success_threshold,
            degraded_after: Some(health.degraded_after),
        }
    }
}

/// One change of health, with the reason the event log shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthChange {
    pub from: Health,
    pub to: Health,
    pub reason: String,
}

/// A running service's health, fed one probe outcome at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthTracker {
    thresholds: Thresholds,
    health: Health,
    /// When the service became ready: the start period counts from here.
    ready_at: Instant,
    failures: u32,
    successes: u32,
    /// When the current run of failures began (time to detect an unhealthy service).
    first_failure_at: Option<Instant>,
    last_latency: Option<Duration>,
    last_failure: Option<String>,
}

impl HealthTracker {
    pub fn new(thresholds: Thresholds, ready_at: Instant) -> HealthTracker {
        HealthTracker {
            thresholds,
            health: Health::Unknown,
            ready_at,
            failures: 0,
            successes: 0,
            first_failure_at: None,
            last_latency: None,
            last_failure: None,
        }
    }

    /// A tracker carried across a re-exec: the health it had, counts started afresh.
    pub fn resumed(thresholds: Thresholds, health: Health, ready_at: Instant) -> HealthTracker {
        HealthTracker {
            health,
            ..HealthTracker::new(thresholds, ready_at)
        }
    }

    pub fn health(&self) -> Health {
        self.health
    }

    pub fn last_latency(&self) -> Option<Duration> {
        self.last_latency
    }

    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    /// When the failures that made it unhealthy began, while it is.
    pub fn failing_since(&self) -> Option<Instant> {
        self.first_failure_at
    }

    /// Takes one probe's outcome; returns the change of health it causes, if any.
    pub fn record(&mut self, outcome: ProbeOutcome, now: Instant) -> Option<HealthChange> {
        match outcome {
            Ok(latency) => self.record_success(latency),
            Err(reason) => self.record_failure(reason, now),
        }
    }

    fn record_success(&mut self, latency: Duration) -> Option<HealthChange> {
        self.last_latency = Some(latency);
        self.failures = 0;
        self.successes = self.successes.saturating_add(1);
        let slow = self
            .thresholds
            .degraded_after
            .is_some_and(|limit| latency > limit);
        if self.health == Health::Unhealthy && self.successes < self.thresholds.success_threshold {
            return None;
        }
        self.first_failure_at = None;
        let to = if slow {
            Health::Degraded
        } else {
            Health::Healthy
        };
        let reason = if slow {
            format!("probe took {}", format_duration(latency))
        } else if self.health == Health::Unhealthy {
            format!("{} probe(s) succeeded", self.successes)
        } else {
            format!("probe succeeded in {}", format_duration(latency))
        };
        self.change(to, reason)
    }

    fn record_failure(&mut self, reason: String, now: Instant) -> Option<HealthChange> {
        self.successes = 0;
        self.last_failure = Some(reason.clone());
        if now.saturating_duration_since(self.ready_at) < self.thresholds.start_period {
            return None;
        }
        self.failures = self.failures.saturating_add(1);
        self.first_failure_at.get_or_insert(now);
        if self.failures < self.thresholds.failure_threshold {
            return None;
        }
        let detail = format!("{} probe(s) failed: {reason}", self.failures);
        self.change(Health::Unhealthy, detail)
    }

    fn change(&mut self, to: Health, reason: String) -> Option<HealthChange> {
        if to == self.health {
            return None;
        }
        let from = self.health;
        self.health = to;
        Some(HealthChange { from, to, reason })
    }
}

#[cfg(test)]
mod tests;
