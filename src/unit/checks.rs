//! What Phoenix watches in a running service (DESIGN.md §4.1–§4.3, §4.7): when it is
//! ready (`[ready]`), whether it is healthy (`[health]`), whether it hangs (`[watchdog]`),
//! and which stale files to clear before a start (`stale-files`). The model with its
//! defaults, the strict raw tables, and the checks that tie a `check` to the keys it needs.
//! Pure: a probe target is parsed here, never connected to.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::error::UnitError;
use super::model::Command;
use super::signal::Signal;
use super::value::{CommandValue, DurationValue, SignalValue, checked};
use crate::probe_target::{ProbeTarget, parse_http_url, parse_tcp_address};

/// How a probe looks at a service: a command that must exit 0, a TCP connect, an HTTP GET.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    Exec(Command),
    Target(ProbeTarget),
}

impl Probe {
    /// Short, for log lines: `tcp 127.0.0.1:5432`, `http http://…/ready`, `exec pg_isready`.
    pub fn describe(&self) -> String {
        match self {
            Probe::Exec(Command::Argv(argv)) => format!("exec {}", argv.join(" ")),
            Probe::Exec(Command::Shell(line)) => format!("exec {line}"),
            Probe::Target(target) => target.to_string(),
        }
    }
}

/// When a started service counts as ready.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadyCheck {
    /// Ready once its program runs (exec succeeded).
    None,
    /// `READY=1` on its `NOTIFY_SOCKET`.
    Notify,
    /// A newline written on this descriptor (s6's notification-fd).
    Fd(i32),
    /// A probe that succeeds, polled every `interval`.
    Probe(Probe),
}

/// The `[ready]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadyConfig {
    pub check: ReadyCheck,
    /// Polling period of a probe.
    pub interval: Duration,
    /// Not ready by then: a failed start.
    pub timeout: Duration,
}

impl Default for ReadyConfig {
    fn default() -> ReadyConfig {
        ReadyConfig {
            check: ReadyCheck::None,
            interval: Duration::from_millis(250),
            timeout: Duration::from_secs(90),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnhealthy {
    /// Stop it; the death is a failure with reason `unhealthy`.
    Restart,
    /// Report and alert only.
    None,
}

/// The `[health]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthConfig {
    pub probe: Probe,
    pub interval: Duration,
    /// One probe; a slower one is a failure.
    pub timeout: Duration,
    pub start_period: Duration,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    /// A successful probe slower than this makes the service degraded.
    pub degraded_after: Duration,
    pub on_unhealthy: OnUnhealthy,
}

/// The `[watchdog]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchdogConfig {
    /// `WATCHDOG=1` (or the heartbeat file's mtime) must come within this.
    pub timeout: Duration,
    pub heartbeat_file: Option<PathBuf>,
    /// Sent to a hung service; then the stop timeout, then SIGKILL.
    pub signal: Signal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ReadyKind {
    None,
    Notify,
    Fd,
    Exec,
    Tcp,
    Http,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ProbeKind {
    Exec,
    Tcp,
    Http,
}

/// A count of at least 1 (`failure-threshold`, `success-threshold`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold(pub u32);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |value: i64| {
            u32::try_from(value)
                .ok()
                .filter(|n| *n >= 1)
                .map(Threshold)
                .ok_or_else(|| {
                    format!("invalid threshold {value}: expected a whole number of at least 1")
                })
        })
    }
}

/// A descriptor a service writes its readiness line to: 3 or above (0–2 are stdio).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotifyFd(pub i32);

impl<'de> Deserialize<'de> for NotifyFd {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |value: i64| {
            i32::try_from(value)
                .ok()
                .filter(|fd| (3..=1023).contains(fd))
                .map(NotifyFd)
                .ok_or_else(|| {
                    format!("invalid fd {value}: expected a descriptor number from 3 to 1023")
                })
        })
    }
}

/// The `[ready]` table, exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawReady {
    check: Option<Spanned<ReadyKind>>,
    fd: Option<Spanned<NotifyFd>>,
    command: Option<Spanned<CommandValue>>,
    address: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    interval: Option<DurationValue>,
    timeout: Option<DurationValue>,
}

/// The `[health]` table, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawHealth {
    check: Spanned<ProbeKind>,
    command: Option<Spanned<CommandValue>>,
    address: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    interval: Option<DurationValue>,
    timeout: Option<DurationValue>,
    start_period: Option<DurationValue>,
    failure_threshold: Option<Threshold>,
    success_threshold: Option<Threshold>,
    degraded_after: Option<DurationValue>,
    on_unhealthy: Option<OnUnhealthy>,
}

/// The `[watchdog]` table, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawWatchdog {
    timeout: DurationValue,
    heartbeat_file: Option<Spanned<PathBuf>>,
    signal: Option<SignalValue>,
}

/// Where the raw tables' spans point: the file and its text.
pub struct Source<'a> {
    pub file: &'a std::path::Path,
    pub text: &'a str,
}

impl Source<'_> {
    pub(super) fn error_at<T>(
        &self,
        spanned: &Spanned<T>,
        message: impl Into<String>,
    ) -> UnitError {
        UnitError::at(self.file, self.text, spanned.span().start, message)
    }
}

/// The probe keys of a table, checked against the `check` they serve.
struct ProbeKeys {
    command: Option<Spanned<CommandValue>>,
    address: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
}

impl ProbeKeys {
    /// Every key present that `check` does not use is an error at that key's value.
    fn reject_unused(&self, source: &Source, used: &str, check: &str) -> Result<(), UnitError> {
        let present = [
            ("command", self.command.as_ref().map(Spanned::span)),
            ("address", self.address.as_ref().map(Spanned::span)),
            ("url", self.url.as_ref().map(Spanned::span)),
        ];
        for (key, span) in present {
            if let Some(span) = span.filter(|_| key != used) {
                return Err(UnitError::at(
                    source.file,
                    source.text,
                    span.start,
                    format!("'{key}' does not apply to check = \"{check}\""),
                ));
            }
        }
        Ok(())
    }

    fn probe(
        self,
        source: &Source,
        kind: ProbeKind,
        at: &Spanned<impl Sized>,
    ) -> Result<Probe, UnitError> {
        let (key, check, example) = match kind {
            ProbeKind::Exec => ("command", "exec", "command = [\"pg_isready\", \"-q\"]"),
            ProbeKind::Tcp => ("address", "tcp", "address = \"127.0.0.1:5432\""),
            ProbeKind::Http => ("url", "http", "url = \"http://127.0.0.1:8080/ready\""),
        };
        self.reject_unused(source, key, check)?;
        let missing = || source.error_at(at, format!("check = \"{check}\" needs {example}"));
        match kind {
            ProbeKind::Exec => self
                .command
                .map(|c| Probe::Exec(c.into_inner().0))
                .ok_or_else(missing),
            ProbeKind::Tcp => {
                let address = self.address.ok_or_else(missing)?;
                parse_tcp_address(address.get_ref())
                    .map(|address| Probe::Target(ProbeTarget::Tcp(address)))
                    .map_err(|message| source.error_at(&address, message))
            }
            ProbeKind::Http => {
                let url = self.url.ok_or_else(missing)?;
                parse_http_url(url.get_ref())
                    .map(|target| Probe::Target(ProbeTarget::Http(target)))
                    .map_err(|message| source.error_at(&url, message))
            }
        }
    }
}

/// `[ready]` with its defaults; `fallback` is the check when the table names none (an s6
/// directory's `notification-fd`).
pub fn ready_config(
    source: &Source,
    raw: RawReady,
    fallback: ReadyCheck,
) -> Result<ReadyConfig, UnitError> {
    let defaults = ReadyConfig::default();
    let keys = ProbeKeys {
        command: raw.command,
        address: raw.address,
        url: raw.url,
    };
    let check = match raw.check {
        None => {
            keys.reject_unused(source, "", "none")?;
            fallback
        }
        Some(check) => match *check.get_ref() {
            ReadyKind::None | ReadyKind::Notify | ReadyKind::Fd => {
                let name = match *check.get_ref() {
                    ReadyKind::Notify => "notify",
                    ReadyKind::Fd => "fd",
                    _ => "none",
                };
                keys.reject_unused(source, "", name)?;
                match *check.get_ref() {
                    ReadyKind::Notify => ReadyCheck::Notify,
                    ReadyKind::Fd => ReadyCheck::Fd(raw.fd.as_ref().map_or(3, |fd| fd.get_ref().0)),
                    _ => ReadyCheck::None,
                }
            }
            ReadyKind::Exec => ReadyCheck::Probe(keys.probe(source, ProbeKind::Exec, &check)?),
            ReadyKind::Tcp => ReadyCheck::Probe(keys.probe(source, ProbeKind::Tcp, &check)?),
            ReadyKind::Http => ReadyCheck::Probe(keys.probe(source, ProbeKind::Http, &check)?),
        },
    };
    if let Some(fd) = &raw.fd {
        if !matches!(check, ReadyCheck::Fd(_)) {
            return Err(source.error_at(fd, "'fd' does not apply unless check = \"fd\""));
        }
    }
    Ok(ReadyConfig {
        check,
        interval: raw.interval.map_or(defaults.interval, |d| d.0),
        timeout: raw.timeout.map_or(defaults.timeout, |d| d.0),
    })
}

/// `[health]` with its defaults.
pub fn health_config(source: &Source, raw: RawHealth) -> Result<HealthConfig, UnitError> {
    let keys = ProbeKeys {
        command: raw.command,
        address: raw.address,
        url: raw.url,
    };
    let probe = keys.probe(source, *raw.check.get_ref(), &raw.check)?;
    let duration = |value: Option<DurationValue>, default| value.map_or(default, |d| d.0);
    Ok(HealthConfig {
        probe,
        interval: duration(raw.interval, Duration::from_secs(10)),
        timeout: duration(raw.timeout, Duration::from_secs(2)),
        start_period: duration(raw.start_period, Duration::ZERO),
        failure_threshold: raw.failure_threshold.map_or(3, |t| t.0),
        success_threshold: raw.success_threshold.map_or(1, |t| t.0),
        degraded_after: duration(raw.degraded_after, Duration::from_secs(1)),
        on_unhealthy: raw.on_unhealthy.unwrap_or(OnUnhealthy::Restart),
    })
}

/// `[watchdog]` with its defaults.
pub fn watchdog_config(source: &Source, raw: RawWatchdog) -> Result<WatchdogConfig, UnitError> {
    if raw.timeout.0.is_zero() {
        return Err(UnitError::new(
            source.file,
            "[watchdog] timeout must be longer than 0s",
        ));
    }
    let heartbeat_file = raw
        .heartbeat_file
        .map(|path| absolute(source, path, "heartbeat-file"))
        .transpose()?;
    Ok(WatchdogConfig {
        timeout: raw.timeout.0,
        heartbeat_file,
        signal: raw.signal.map_or(Signal::ABRT, |s| s.0),
    })
}

/// `stale-files`, each absolute.
pub fn stale_files(source: &Source, raw: Vec<Spanned<PathBuf>>) -> Result<Vec<PathBuf>, UnitError> {
    raw.into_iter()
        .map(|path| absolute(source, path, "stale-files entry"))
        .collect()
}

/// `path` itself, if absolute; else an error at it naming `what` it is.
pub(super) fn absolute(
    source: &Source,
    path: Spanned<PathBuf>,
    what: &str,
) -> Result<PathBuf, UnitError> {
    if path.get_ref().is_absolute() {
        return Ok(path.into_inner());
    }
    Err(source.error_at(
        &path,
        format!(
            "invalid {what} '{}': expected an absolute path",
            path.get_ref().display()
        ),
    ))
}

#[cfg(test)]
#[path = "tests/checks.rs"]
mod tests;
