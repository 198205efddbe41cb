//! The series of a scrape (DESIGN.md §8), each family in one place with its type and
//! help, rendered from the supervisor's services and counters in one `String`. The list
//! in `docs/observability.md` is checked against what this file emits.

use std::time::Instant;

use crate::health::Health;
use crate::recovery::Outcome;
use crate::service::{Service, State};
use crate::supervisor::Supervisor;
use crate::supervisor::counters::{FAILURE_REASONS, ServiceCounters};

use super::{Kind, Writer};

const OUTCOMES: [Outcome; 4] = [
    Outcome::Recovered,
    Outcome::Escalated,
    Outcome::Failed,
    Outcome::Cooldown,
];

/// Bytes per service a scrape takes, roughly: the String is sized once.
const BYTES_PER_SERVICE: usize = 2048;

/// Everything the core knows, as Prometheus text (without the shell's `process_*`).
pub fn render(supervisor: &Supervisor, now: Instant) -> String {
    let services: Vec<&Service> = supervisor
        .services()
        .iter()
        .filter(|service| !service.removed)
        .collect();
    let mut out = String::with_capacity(4096 + services.len() * BYTES_PER_SERVICE);
    let mut writer = Writer::new(&mut out);
    let counts = |service: &Service| supervisor.counters().service(service.index);
    render_states(&mut writer, &services, now, &counts);
    render_failures(&mut writer, &services, &counts);
    render_incidents(&mut writer, supervisor, &services, &counts);
    render_totals(&mut writer, supervisor);
    out
}

fn render_states<'a>(
    writer: &mut Writer,
    services: &[&'a Service],
    now: Instant,
    counts: &dyn Fn(&'a Service) -> Option<&'a ServiceCounters>,
) {
    let name = "phoenix_service_up";
    writer.family(
        name,
        Kind::Gauge,
        "1 while the service's program runs and is up.",
    );
    for service in services {
        let up = service.state.is_up() && service.pid.is_some();
        writer.sample(
            name,
            &[("service", service.name())],
            f64::from(u8::from(up)),
        );
    }
    let name = "phoenix_service_state";
    let help = "1 for the state the service is in, 0 for the others.";
    writer.family(name, Kind::Gauge, help);
    for service in services {
        for state in State::ALL {
            let labels = [("service", service.name()), ("state", state.name())];
            writer.sample(name, &labels, f64::from(u8::from(service.state == state)));
        }
    }
    let name = "phoenix_service_state_seconds";
    writer.family(
        name,
        Kind::Gauge,
        "Seconds since the service entered its state.",
    );
    for service in services {
        let since = counts(service).and_then(|c| c.state_since);
        let seconds = since.map_or(0.0, |at| now.saturating_duration_since(at).as_secs_f64());
        writer.sample(name, &[("service", service.name())], seconds);
    }
    let name = "phoenix_service_health";
    let help = "1 for the health of a service with [health], 0 for the others.";
    writer.family(name, Kind::Gauge, help);
    for service in services.iter().filter(|s| s.unit.health.is_some()) {
        let current = service
            .watch
            .health
            .as_ref()
            .map_or(Health::Unknown, |tracker| tracker.health());
        for health in Health::ALL {
            let labels = [("service", service.name()), ("health", health.name())];
            writer.sample(name, &labels, f64::from(u8::from(current == health)));
        }
    }
}

fn render_failures<'a>(
    writer: &mut Writer,
    services: &[&'a Service],
    counts: &dyn Fn(&'a Service) -> Option<&'a ServiceCounters>,
) {
    let name = "phoenix_service_restarts_total";
    writer.family(name, Kind::Counter, "Automatic restarts of the service.");
    for service in services {
        let restarts = f64::from(service.restarts);
        writer.sample(name, &[("service", service.name())], restarts);
    }
    let name = "phoenix_service_failures_total";
    let help = "Failures judged, by how they were detected.";
    writer.family(name, Kind::Counter, help);
    for service in services {
        let failures = counts(service).map(|c| &c.failures);
        for reason in FAILURE_REASONS {
            let count = failures.and_then(|f| f.get(reason)).copied().unwrap_or(0);
            let labels = [("service", service.name()), ("reason", reason)];
            writer.sample(name, &labels, count as f64);
        }
    }
    let name = "phoenix_log_lines_dropped_total";
    let help = "Lines of captured output dropped: the console or the file could not keep up.";
    writer.family(name, Kind::Counter, help);
    for service in services {
        let dropped = counts(service).map_or(0, |c| c.log_lines_dropped);
        writer.sample(name, &[("service", service.name())], dropped as f64);
    }
    let name = "phoenix_probe_duration_seconds";
    writer.family(
        name,
        Kind::Histogram,
        "Latency of the service's health probes.",
    );
    for service in services.iter().filter(|s| s.unit.health.is_some()) {
        if let Some(counts) = counts(service) {
            let labels = [("service", service.name())];
            writer.histogram(name, &labels, &counts.probe_duration);
        }
    }
}

fn render_incidents<'a>(
    writer: &mut Writer,
    supervisor: &Supervisor,
    services: &[&'a Service],
    counts: &dyn Fn(&'a Service) -> Option<&'a ServiceCounters>,
) {
    let name = "phoenix_service_incident_open";
    writer.family(
        name,
        Kind::Gauge,
        "1 while the service has an open incident.",
    );
    for service in services {
        let open = f64::from(u8::from(service.incident.is_some()));
        writer.sample(name, &[("service", service.name())], open);
    }
    let name = "phoenix_incidents_total";
    writer.family(name, Kind::Counter, "Incidents closed, by outcome.");
    for service in services {
        let incidents = counts(service).map(|c| &c.incidents);
        for outcome in OUTCOMES {
            let count = incidents.and_then(|i| i.get(outcome.name())).copied();
            let labels = [("service", service.name()), ("outcome", outcome.name())];
            writer.sample(name, &labels, count.unwrap_or(0) as f64);
        }
    }
    let name = "phoenix_recovery_steps_total";
    let help = "Steps of closed incidents, by rung and outcome.";
    writer.family(name, Kind::Counter, help);
    for service in services {
        for ((step, outcome), count) in counts(service).into_iter().flat_map(|c| &c.steps) {
            let labels = [
                ("service", service.name()),
                ("step", step),
                ("outcome", outcome),
            ];
            writer.sample(name, &labels, *count as f64);
        }
    }
    let counters = supervisor.counters();
    let name = "phoenix_time_to_detect_seconds";
    let help = "From a failure to its detection, over closed incidents.";
    writer.family(name, Kind::Histogram, help);
    writer.histogram(name, &[], &counters.time_to_detect);
    let name = "phoenix_time_to_recover_seconds";
    let help = "From a failure to the start of the run verified good, over recovered incidents.";
    writer.family(name, Kind::Histogram, help);
    writer.histogram(name, &[], &counters.time_to_recover);
    let name = "phoenix_recovery_success_ratio";
    let help = "Recovered incidents over closed ones (NaN before any closed).";
    writer.family(name, Kind::Gauge, help);
    let closed = counters.time_to_detect.count();
    let recovered = counters.time_to_recover.count();
    let ratio = if closed == 0 {
        f64::NAN
    } else {
        recovered as f64 / closed as f64
    };
    writer.sample(name, &[], ratio);
}

fn render_totals(writer: &mut Writer, supervisor: &Supervisor) {
    let orphans = supervisor.counters().orphans_reaped as f64;
    let totals = [
        (
            "phoenix_orphans_reaped_total",
            "Adopted orphans reaped.",
            orphans,
        ),
        (
            "phoenix_alerts_sent_total",
            "Alerts delivered.",
            supervisor.counters().alerts_sent as f64,
        ),
        (
            "phoenix_alerts_failed_total",
            "Alerts given up after their retries.",
            supervisor.counters().alerts_failed as f64,
        ),
    ];
    for (name, help, value) in totals {
        writer.family(name, Kind::Counter, help);
        writer.sample(name, &[], value);
    }
}
