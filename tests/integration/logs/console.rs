//! The console: each line as `name | line`, stderr lines on Phoenix's stderr; and a
//! console nobody reads, which costs dropped (and counted) lines, never supervision or
//! unbounded memory.

use crate::control::ctl::{phoenixctl, service_json, start};
use crate::harness::{Pid1, TestResult};
use crate::http::client::curl;
use crate::logs::rss_kib;
use crate::services::setup::ServicesDir;
use crate::watch::servers::free_port;

#[test]
fn lines_are_prefixed_on_the_console_and_stderr_stays_stderr() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "web",
        "command = \"echo hello from web; echo trouble >&2; exec sleep 1000\"\n[log]\nconsole = true\n",
    )?;
    layout.unit("db", "command = \"echo db up; exec sleep 1000\"\n")?;
    layout.settings("[log]\ndefault = { console = true }\n")?;
    let phoenix = start(layout)?;
    phoenix.eventually("prefixed lines on stdout", || {
        let stdout = phoenix.read(".stdout");
        stdout.contains("web | hello from web\n") && stdout.contains("db | db up\n")
    })?;
    phoenix.wait_for_log("web | trouble\n")?;
    assert!(
        !phoenix.read(".stdout").contains("trouble"),
        "{}",
        phoenix.context()
    );
    Ok(())
}

/// A service writing as fast as it can, while Phoenix's stdout is a pipe nobody reads
/// (opened read-write, so it never breaks, only fills).
#[test]
fn a_console_nobody_reads_drops_and_counts_lines_and_supervision_goes_on() -> TestResult {
    let layout = ServicesDir::new()?;
    let port = free_port()?;
    layout.settings(&format!(
        "[http]\nlisten = \"127.0.0.1:{port}\"\n[log]\ndefault = {{ console = true }}\n"
    ))?;
    layout.unit(
        "flood",
        "command = \"yes 'a line of flood, written as fast as the pipe takes it'\"\n",
    )?;
    layout.unit(
        "crasher",
        "command = \"echo starting; sleep 0.2; exit 3\"\n[restart]\ndelay = \"50ms\"\nmax-failures = 1000\n",
    )?;
    let fifo = layout.path("console.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))?;
    let args = layout.args();
    let dir = layout.into_dir();
    let wrapper = format!("exec \"$@\" 1<>{}", fifo.display());
    let phoenix = Pid1::start_wrapped(dir, &[], &["sh", "-c", &wrapper, "sh"], args)?;
    phoenix.eventually("the endpoint answers", || {
        curl(port, "/healthz", &[]).is_ok()
    })?;
    let dropped = || -> u64 {
        curl(port, "/metrics", &[])
            .ok()
            .and_then(|(_, body)| {
                body.lines()
                    .find_map(|line| {
                        line.strip_prefix("phoenix_log_lines_dropped_total{service=\"flood\"} ")
                    })
                    .and_then(|value| value.trim().parse::<f64>().ok())
            })
            .map_or(0, |value| value as u64)
    };
    phoenix.eventually("flood's lines are dropped", || dropped() > 1000)?;
    let before = rss_kib(&phoenix)?;
    let restarts = |phoenix| {
        service_json(phoenix, "crasher")
            .ok()
            .and_then(|service| service["restarts"].as_u64())
            .unwrap_or(0)
    };
    let restarts_then = restarts(&phoenix);
    phoenix.eventually("the crasher is restarted during the flood", || {
        restarts(&phoenix) >= restarts_then + 3
    })?;
    let first = dropped();
    phoenix.eventually("drops keep being counted", || dropped() > first + 100_000)?;
    let after = rss_kib(&phoenix)?;
    assert!(
        after < before + 16 * 1024,
        "RSS grew from {before} KiB to {after} KiB{}",
        phoenix.context()
    );
    phoenixctl(&phoenix, &["status"])?.ok()?;
    Ok(())
}
