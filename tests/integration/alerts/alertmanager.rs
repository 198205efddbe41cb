//! The webhook channel against a real Alertmanager (Debian's `prometheus-alertmanager`) on
//! loopback, its API v2 read back with curl: a service failed for good is a critical alert
//! there; an unhealthy service is a warning alert, resolved (gone from the active alerts)
//! when its incident closes recovered; a circuit that opened is one too, resolved once the
//! trial start after the cooldown runs verified good.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::harness::{TestResult, eventually, scratch};
use crate::services::setup::ServicesDir;
use crate::watch::servers::free_port;

const BINARY: &str = "/usr/bin/prometheus-alertmanager";

/// A routing tree that notifies nobody: the test reads the alerts from the API.
const CONFIG: &str = "route:\n  receiver: nobody\n  group_wait: 1s\nreceivers:\n  - name: nobody\n";

/// A running Alertmanager, killed on drop.
pub struct Alertmanager {
    process: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    pub fn start() -> TestResult<Alertmanager> {
        let dir = scratch()?;
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(&config, CONFIG)?;
        let port = free_port()?;
        let process = Command::new(BINARY)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("{BINARY}: {error} (install prometheus-alertmanager)"))?;
        let alertmanager = Alertmanager {
            process,
            port,
            _dir: dir,
        };
        eventually("Alertmanager listens", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        })?;
        eventually("Alertmanager is ready", || {
            alertmanager
                .get("/-/ready")
                .is_some_and(|body| body.contains("OK"))
        })?;
        Ok(alertmanager)
    }

    fn get(&self, path: &str) -> Option<String> {
        let output = Command::new("curl")
            .args(["-sf", "--max-time", "2"])
            .arg(format!("http://127.0.0.1:{}{path}", self.port))
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The active alerts, as the API lists them.
    pub fn alerts(&self) -> Vec<Value> {
        self.get("/api/v2/alerts")
            .and_then(|body| serde_json::from_str::<Value>(&body).ok())
            .and_then(|value| value.as_array().cloned())
            .unwrap_or_default()
    }

    /// The active alert named `alertname` for `service`, if any.
    pub fn alert(&self, alertname: &str, service: &str) -> Option<Value> {
        self.alerts().into_iter().find(|alert| {
            alert["labels"]["alertname"] == alertname && alert["labels"]["service"] == service
        })
    }

    pub fn webhook_settings(&self) -> String {
        format!(
            "[alerts]\nwebhook = \"http://127.0.0.1:{}/api/v2/alerts\"\nformat = \"alertmanager\"\n",
            self.port
        )
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[test]
fn a_service_failed_for_good_is_a_critical_alert_in_alertmanager() -> TestResult {
    let alertmanager = Alertmanager::start()?;
    let layout = ServicesDir::new()?;
    layout.settings(&alertmanager.webhook_settings())?;
    layout.unit(
        "doomed",
        "command = \"exit 1\"\n[restart]\ndelay = \"50ms\"\nmax-failures = 1\non-exhausted = \"stop\"\n",
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.eventually("Alertmanager holds PhoenixServiceFailed for doomed", || {
        alertmanager
            .alert("PhoenixServiceFailed", "doomed")
            .is_some()
    })?;
    let alert = alertmanager
        .alert("PhoenixServiceFailed", "doomed")
        .unwrap_or_default();
    let context = phoenix.context();
    assert_eq!(alert["labels"]["severity"], "critical", "{alert}{context}");
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    let summary = alert["annotations"]["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with("doomed: failed"), "{alert}");
    Ok(())
}

/// Crashes twice (the budget: the circuit opens), then runs for good at the trial start.
const TRIPS_THEN_HOLDS: &str = r#"command = '''
n=$(cat count 2>/dev/null || echo 0)
echo $((n + 1)) > count
[ "$n" -ge 2 ] && exec sleep 1000
exit 1
'''
[restart]
delay = "50ms"
max-failures = 2
cooldown = "2s"
[recovery]
verify = "300ms"
"#;

#[test]
fn an_open_circuit_fires_and_the_verified_trial_start_resolves_it() -> TestResult {
    let alertmanager = Alertmanager::start()?;
    let layout = ServicesDir::new()?;
    layout.settings(&alertmanager.webhook_settings())?;
    layout.unit("tripping", TRIPS_THEN_HOLDS)?;
    let phoenix = layout.start(&[])?;
    phoenix.eventually("Alertmanager holds PhoenixCircuitOpen for tripping", || {
        alertmanager
            .alert("PhoenixCircuitOpen", "tripping")
            .is_some()
    })?;
    let alert = alertmanager
        .alert("PhoenixCircuitOpen", "tripping")
        .unwrap_or_default();
    assert_eq!(alert["labels"]["severity"], "warning", "{alert}");
    phoenix.eventually("the trial start resolves the alert in Alertmanager", || {
        alertmanager
            .alert("PhoenixCircuitOpen", "tripping")
            .is_none()
    })?;
    phoenix.wait_for_log("resolving 1 alert(s) of tripping")?;
    assert!(
        phoenix.lines("count").first().is_some_and(|n| n == "3"),
        "the third start held{}",
        phoenix.context()
    );
    Ok(())
}

/// Unhealthy in its first run (its probe fails while `sick` exists), healthy after the
/// restart that `on-unhealthy` gives it.
const SICK_THEN_WELL: &str = r#"command = '''
n=$(cat count 2>/dev/null || echo 0)
echo $((n + 1)) > count
if [ "$n" -eq 0 ]; then touch sick; else rm -f sick; fi
exec sleep 1000
'''
[restart]
delay = "50ms"
[health]
check = "exec"
command = "test ! -e sick"
interval = "100ms"
failure-threshold = 2
[recovery]
verify = "500ms"
"#;

#[test]
fn an_incident_that_closes_recovered_resolves_the_unhealthy_alert() -> TestResult {
    let alertmanager = Alertmanager::start()?;
    let layout = ServicesDir::new()?;
    layout.settings(&alertmanager.webhook_settings())?;
    layout.unit("sickly", SICK_THEN_WELL)?;
    let phoenix = layout.start(&[])?;
    phoenix.eventually(
        "Alertmanager holds PhoenixServiceUnhealthy for sickly",
        || {
            alertmanager
                .alert("PhoenixServiceUnhealthy", "sickly")
                .is_some()
        },
    )?;
    phoenix.wait_for_log("sickly: incident 1 recovered")?;
    phoenix.eventually("the recovery resolves the alert in Alertmanager", || {
        alertmanager
            .alert("PhoenixServiceUnhealthy", "sickly")
            .is_none()
    })?;
    let context = phoenix.context();
    assert!(
        phoenix.stderr().contains("resolving 1 alert(s) of sickly"),
        "{context}"
    );
    assert_eq!(phoenix.read("count").trim(), "2", "{context}");
    Ok(())
}
