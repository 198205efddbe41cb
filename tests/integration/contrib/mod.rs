//! The files in `contrib/` are checked by the tools that will read them: `promtool` for
//! the Prometheus configuration and rules, `systemd-analyze verify` for the systemd unit,
//! a YAML parser (python3-yaml) for the Kubernetes pod, and the Dockerfile's `HEALTHCHECK`
//! against the paths it installs, `phoenix --check` for the demo appliance. No PID 1 here.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::TestResult;

fn contrib(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path)
}

/// Runs `command`; an error with its output unless it exits 0.
#[track_caller]
fn succeeds(command: &mut Command) -> TestResult<String> {
    let output = command
        .output()
        .map_err(|error| format!("unable to run {command:?}: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("{command:?}: {}\n{stdout}{stderr}", output.status).into());
    }
    Ok(stdout)
}

#[test]
fn promtool_accepts_the_scrape_config() -> TestResult {
    let out = succeeds(
        Command::new("promtool")
            .args(["check", "config"])
            .arg(contrib("prometheus/prometheus.yml")),
    )?;
    assert!(out.contains("SUCCESS"), "{out}");
    let text = std::fs::read_to_string(contrib("prometheus/prometheus.yml"))?;
    assert!(text.contains("localhost:9100") && text.contains("/metrics"));
    Ok(())
}

#[test]
fn promtool_accepts_the_alert_rules_on_phoenix_metrics() -> TestResult {
    let out = succeeds(
        Command::new("promtool")
            .args(["check", "rules"])
            .arg(contrib("prometheus/rules.yml")),
    )?;
    assert!(out.contains("SUCCESS: 5 rules found"), "{out}");
    let text = std::fs::read_to_string(contrib("prometheus/rules.yml"))?;
    for metric in [
        "phoenix_service_up",
        "phoenix_service_restarts_total",
        "phoenix_incidents_total",
        "phoenix_service_health{health=\"unhealthy\"}",
    ] {
        assert!(text.contains(metric), "rules.yml does not use {metric}");
    }
    Ok(())
}

/// `systemd-analyze verify` runs without systemd as PID 1; it insists that `ExecStart`
/// names an executable, so the copy it checks names the phoenix this test run built
/// instead of `/usr/local/bin/phoenix`.
#[test]
fn systemd_analyze_verifies_the_unit() -> TestResult {
    let unit = std::fs::read_to_string(contrib("systemd/phoenix.service"))?;
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30",
        "ExecStart=/usr/local/bin/phoenix --services /etc/phoenix/services.d",
        "KillMode=mixed",
        "TimeoutStopSec=15",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "phoenix.service lacks {line}"
        );
    }
    let dir = tempfile::tempdir()?;
    let copy = dir.path().join("phoenix.service");
    let built = env!("CARGO_BIN_EXE_phoenix");
    std::fs::write(&copy, unit.replace("/usr/local/bin/phoenix", built))?;
    succeeds(Command::new("systemd-analyze").arg("verify").arg(&copy))?;
    Ok(())
}

/// The pod as JSON, by python3-yaml (no YAML crate in Phoenix's dependencies).
fn pod() -> TestResult<Value> {
    let script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))";
    let out = succeeds(
        Command::new("python3")
            .args(["-c", script])
            .arg(contrib("kubernetes/pod.yaml")),
    )?;
    Ok(serde_json::from_str(&out)?)
}

#[test]
fn the_pod_probes_phoenix_and_outlasts_its_shutdown() -> TestResult {
    let pod = pod()?;
    assert_eq!(pod["kind"], "Pod");
    // Above the default shutdown-timeout of 9s.
    let grace = pod["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .ok_or("no terminationGracePeriodSeconds")?;
    assert!(grace > 9, "grace period {grace}s");
    let container = &pod["spec"]["containers"][0];
    assert_eq!(container["command"][0], "/sbin/phoenix");
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/ready")] {
        assert_eq!(container[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(container[probe]["httpGet"]["port"], 9100, "{probe}");
    }
    assert_eq!(container["ports"][0]["containerPort"], 9100);
    Ok(())
}

#[test]
fn the_dockerfile_health_check_runs_the_installed_phoenixctl() -> TestResult {
    let text = std::fs::read_to_string(contrib("Dockerfile"))?;
    assert!(text.contains("COPY --from=build /src/target/release/phoenixctl /sbin/phoenixctl"));
    assert!(text.contains(r#"HEALTHCHECK CMD ["/sbin/phoenixctl", "check"]"#));
    // phoenixctl needs the control socket, which only services mode has.
    assert!(text.contains("ENV PHOENIX_SERVICES="));
    Ok(())
}

#[test]
fn the_demo_appliance_units_and_settings_are_valid() -> TestResult {
    let out = succeeds(
        Command::new(env!("CARGO_BIN_EXE_phoenix"))
            .arg("--check")
            .arg("--services")
            .arg(contrib("appliance/services.d"))
            .arg("--config")
            .arg(contrib("appliance/phoenix.toml")),
    )?;
    assert!(out.contains("3 unit(s), all valid"), "{out}");
    Ok(())
}
