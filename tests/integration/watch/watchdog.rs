//! Hangs: a service that stops sending `WATCHDOG=1` (it stopped pinging, or it was
//! SIGSTOPped), or whose heartbeat file stops moving, gets the watchdog's signal (SIGABRT)
//! and is restarted; the death is a failure with reason `hung`.

use crate::control::ctl::{service_json, start};
use crate::harness::{Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// Appends `start` and, on SIGABRT, `abrt` to `wd.log`; `body` is what it does meanwhile.
fn hanging(body: &str, watchdog: &str) -> String {
    format!(
        r#"command = '''
trap 'echo abrt >> wd.log; exit 134' ABRT
echo start >> wd.log
{body}
'''
[watchdog]
{watchdog}
[restart]
delay = "100ms"
"#
    )
}

#[track_caller]
fn assert_hung_and_restarted(phoenix: &Phoenix) -> TestResult {
    phoenix.eventually("SIGABRT, then a restart", || {
        let lines = phoenix.lines("wd.log");
        lines.len() >= 3 && lines[..3] == ["start", "abrt", "start"]
    })?;
    let service = service_json(phoenix, "svc")?;
    let deaths = service["deaths"].as_array().ok_or("no deaths")?;
    let death = deaths.first().ok_or("no death")?;
    assert_eq!(death["verdict"], "failure", "{service}");
    let reason = death["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("hung ("), "{service}");
    Ok(())
}

#[test]
fn a_service_that_stops_pinging_is_hung() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "svc",
        &hanging(
            r#"[ "$WATCHDOG_USEC" = 500000 ] && [ "$WATCHDOG_PID" = $$ ] && echo env-ok >> env.log
i=0
while [ "$i" -lt 5 ]; do systemd-notify WATCHDOG=1; sleep 0.1; i=$((i + 1)); done
while :; do sleep 0.05; done"#,
            "timeout = \"500ms\"",
        ),
    )?;
    let phoenix = start(layout)?;
    assert_hung_and_restarted(&phoenix)?;
    assert_eq!(
        phoenix.lines("env.log").first().map(String::as_str),
        Some("env-ok")
    );
    phoenix.wait_for_log("svc: hung (no heartbeat for")?;
    Ok(())
}

#[test]
fn a_stopped_service_is_hung() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "svc",
        &hanging(
            "kill -STOP $$\nwhile :; do sleep 0.05; done",
            "timeout = \"300ms\"",
        ),
    )?;
    let phoenix = start(layout)?;
    assert_hung_and_restarted(&phoenix)
}

#[test]
fn a_heartbeat_file_that_stops_moving_is_a_hang() -> TestResult {
    let layout = ServicesDir::new()?;
    let beat = layout.path("beat");
    layout.unit(
        "svc",
        &hanging(
            "i=0\nwhile [ \"$i\" -lt 5 ]; do touch beat; sleep 0.1; i=$((i + 1)); done\nwhile :; do sleep 0.05; done",
            &format!("timeout = \"600ms\"\nheartbeat-file = \"{}\"", beat.display()),
        ),
    )?;
    let phoenix = start(layout)?;
    assert_hung_and_restarted(&phoenix)
}
