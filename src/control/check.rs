//! `phoenixctl check`, decided from a `status` reply (DESIGN.md §8): healthy when every
//! wanted service is ready and none is unhealthy — a Docker `HEALTHCHECK`. Pure: the client
//! asks, this judges. A service whose reply does not say whether it is wanted (an invalid
//! unit) counts as wanted, and one that does not say whether it is ready (an older Phoenix)
//! is ready when running.

use super::protocol::ServiceStatus;

/// Why each wanted service falls short, one line each ("web: starting", "db: unhealthy");
/// none when the check passes.
pub fn check_reasons(services: &[ServiceStatus]) -> Vec<String> {
    services
        .iter()
        .filter(|service| service.wanted != Some(false))
        .filter_map(reason)
        .collect()
}

/// How many services the check judged.
pub fn wanted_count(services: &[ServiceStatus]) -> usize {
    services
        .iter()
        .filter(|service| service.wanted != Some(false))
        .count()
}

fn reason(service: &ServiceStatus) -> Option<String> {
    let ready = service.ready.unwrap_or(service.state == "running");
    let unhealthy = service.health.as_deref() == Some("unhealthy");
    let mut faults = Vec::new();
    if !ready {
        faults.push(match &service.last_exit {
            Some(exit) if service.state != "starting" && service.state != "running" => {
                format!("{} (last {exit})", service.state)
            }
            _ => service.state.clone(),
        });
    }
    if unhealthy {
        faults.push("unhealthy".to_string());
    }
    (!faults.is_empty()).then(|| format!("{}: {}", service.name, faults.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::fake_server::status_of;

    fn service(name: &str, state: &str, wanted: bool, ready: bool) -> ServiceStatus {
        ServiceStatus {
            wanted: Some(wanted),
            ready: Some(ready),
            ..status_of(name, state)
        }
    }

    #[test]
    fn every_wanted_service_ready_and_none_unhealthy_passes() {
        let services = [
            service("web", "running", true, true),
            service("setup", "exited", true, true),
            service("spare", "down", false, false),
        ];
        assert_eq!(check_reasons(&services), Vec::<String>::new());
        assert_eq!(wanted_count(&services), 2);
        assert_eq!(check_reasons(&[]), Vec::<String>::new());
    }

    #[test]
    fn each_wanted_service_that_falls_short_is_a_reason() {
        let unhealthy = ServiceStatus {
            health: Some("unhealthy".to_string()),
            ..service("db", "running", true, true)
        };
        let failed = ServiceStatus {
            last_exit: Some("exit 1".to_string()),
            ..service("worker", "backoff", true, false)
        };
        let degraded = ServiceStatus {
            health: Some("degraded".to_string()),
            ..service("cache", "running", true, true)
        };
        let services = [
            service("web", "starting", true, false),
            unhealthy,
            failed,
            degraded,
        ];
        assert_eq!(
            check_reasons(&services),
            [
                "web: starting",
                "db: unhealthy",
                "worker: backoff (last exit 1)"
            ]
        );
    }

    #[test]
    fn unknown_wanted_counts_as_wanted_and_unknown_ready_means_running() {
        let invalid = ServiceStatus {
            ready: Some(false),
            ..status_of("bad", "failed")
        };
        let old_running = status_of("web", "running");
        let old_starting = status_of("db", "starting");
        assert_eq!(
            check_reasons(&[invalid, old_running, old_starting]),
            ["bad: failed", "db: starting"]
        );
    }
}
