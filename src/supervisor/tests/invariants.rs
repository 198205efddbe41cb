//! Property tests of the supervisor over random event sequences (DESIGN.md §10): at most
//! one live program per service, no spawn once shutdown began, no restart (nor `finish`)
//! while the last program's process group has leftovers, an exit only after shutdown, the
//! pid index in step with the processes, never two probes of one service in flight (exec
//! probes are programs named `NAME/probe`); and restart delays monotonic and capped. Two
//! of the services climb recovery ladders (with `heal` and `reset` thrown in): at most one
//! open incident each, never two steps tried at once.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;

use super::Shell;
use crate::core::Event;
use crate::exit_status::ExitStatus;
use crate::unit::Signal;

#[derive(Clone, Debug)]
enum Input {
    Exit {
        which: usize,
        code: u8,
        after_ms: u64,
    },
    FireTimer {
        which: usize,
    },
    Signal(i32),
    /// A live program leaves a process behind in its group (it daemonized).
    Daemonize {
        which: usize,
    },
    /// A leftover dies and is reaped.
    LeftoverDies {
        which: usize,
    },
    /// A service's notify socket or readiness descriptor delivers a message.
    Notify {
        which: usize,
        message: usize,
    },
    /// A tcp/http probe in flight ends.
    ProbeEnds {
        which: usize,
        ok: bool,
    },
    /// `phoenixctl heal` or `reset` for one of the services with a ladder.
    Heal {
        which: usize,
        reset: bool,
    },
}

fn message(index: usize) -> crate::notify::NotifyMessage {
    use crate::notify::NotifyMessage::*;
    let all = [
        Ready,
        Watchdog,
        WatchdogTrigger,
        Status("busy".into()),
        ExtendTimeout(Duration::from_secs(1)),
        Stopping,
        MainPid(7),
    ];
    all[index % all.len()].clone()
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => (0..8usize, 0..3u8, 0..3000u64).prop_map(|(which, code, after_ms)| Input::Exit { which, code, after_ms }),
        4 => (0..16usize).prop_map(|which| Input::FireTimer { which }),
        1 => prop::sample::select(vec![1, 2, 10, 15, 12]).prop_map(Input::Signal),
        1 => (0..8usize).prop_map(|which| Input::Daemonize { which }),
        2 => (0..8usize).prop_map(|which| Input::LeftoverDies { which }),
        2 => (0..8usize, 0..7usize).prop_map(|(which, message)| Input::Notify { which, message }),
        3 => (0..8usize, any::<bool>()).prop_map(|(which, ok)| Input::ProbeEnds { which, ok }),
        1 => (0..2usize, any::<bool>()).prop_map(|(which, reset)| Input::Heal { which, reset }),
    ]
}

proptest! {
    #[test]
    fn invariants_hold_over_random_events(inputs in prop::collection::vec(input(), 1..120)) {
        let mut shell = Shell::boot(&[
            ("setup", "kind = \"oneshot\"\ncommand = \"true\"\n[restart]\npolicy = \"on-failure\"\ndelay = \"100ms\""),
            ("db", "command = \"db\"\nafter = [\"setup\"]\n[restart]\ndelay = \"100ms\"\nmax-failures = 3\nwindow = \"10s\"\ncooldown = \"1s\"\n[recovery]\nsteps = [\"safe-mode\", \"restore\"]\nverify = \"1s\"\nsafe-mode = { command = \"db --safe\" }\nrestore = \"restore-db\"\nrestore-timeout = \"2s\""),
            ("web", "command = \"web\"\nrequires = [\"db\"]\n[restart]\nmax-failures = 2\non-exhausted = \"stop\"\n[recovery]\nsteps = [\"rollback\", \"restart-dependencies\"]\nverify = \"500ms\""),
            ("app", "command = \"app\"\nwants = [\"web\"]\n[restart]\nmax-failures = 2\non-exhausted = \"escalate\""),
            ("api", "command = \"api\"\n[ready]\ncheck = \"notify\"\ntimeout = \"2s\"\n[health]\ncheck = \"tcp\"\naddress = \"127.0.0.1:1\"\ninterval = \"1s\"\nfailure-threshold = 2\n[watchdog]\ntimeout = \"3s\"\n[restart]\ndelay = \"100ms\""),
            ("cache", "command = \"cache\"\nafter = [\"api\"]\n[ready]\ncheck = \"http\"\nurl = \"http://127.0.0.1:1/\"\n[health]\ncheck = \"exec\"\ncommand = \"check\"\ninterval = \"1s\"\n[restart]\ndelay = \"100ms\""),
        ]);
        let mut shutdown_seen = false;
        for input in inputs {
            match input {
                Input::Exit { which, code, after_ms } => {
                    shell.now += Duration::from_millis(after_ms);
                    let Some((&pid, _)) = shell.live.iter().nth(which % shell.live.len().max(1)) else { continue };
                    shell.live.remove(&pid);
                    let drained = shell.drained();
                    shell.deliver([Event::Exited { pid, status: ExitStatus::Code(code) }, drained]);
                }
                Input::Daemonize { which } => {
                    let programs: Vec<_> = shell.live.iter().filter(|(_, name)| !name.ends_with("/finish")).map(|(pid, _)| *pid).collect();
                    let Some(&pid) = programs.get(which % programs.len().max(1)) else { continue };
                    *shell.groups.entry(pid).or_default() += 1;
                }
                Input::LeftoverDies { which } => {
                    let groups: Vec<_> = shell.groups.keys().copied().collect();
                    let Some(&pgid) = groups.get(which % groups.len().max(1)) else { continue };
                    shell.leftover_dies(pgid);
                }
                Input::FireTimer { which } => {
                    let mut timers: Vec<_> = shell.timers.iter().map(|(t, d)| (*d, *t)).collect();
                    timers.sort();
                    let Some(&(deadline, timer)) = timers.get(which % timers.len().max(1)) else { continue };
                    shell.timers.remove(&timer);
                    shell.now = shell.now.max(deadline);
                    shell.send(Event::TimerFired { timer });
                }
                Input::Notify { which, message: index } => {
                    let programs: Vec<_> = shell.live.iter().filter(|(_, name)| !name.contains('/')).map(|(pid, name)| (*pid, name.clone())).collect();
                    let Some((_, name)) = programs.get(which % programs.len().max(1)).cloned() else { continue };
                    let Some(index_of) = shell.supervisor.services().iter().position(|s| s.name() == name) else { continue };
                    let token = crate::service::spawn_token(index_of, crate::service::SpawnKind::Program);
                    shell.send(Event::Notified { token, messages: vec![message(index)] });
                }
                Input::ProbeEnds { which, ok } => {
                    let probes: Vec<u64> = shell.probes.iter().copied().collect();
                    let Some(&probe) = probes.get(which % probes.len().max(1)) else { continue };
                    shell.probes.remove(&probe);
                    let outcome = if ok { Ok(Duration::from_millis(3)) } else { Err("connection refused".to_string()) };
                    shell.send(Event::ProbeFinished { probe, outcome });
                }
                Input::Heal { which, reset } => {
                    use crate::control::protocol::Request;
                    let name = ["db", "web"][which].to_string();
                    let request = if reset { Request::Reset { name } } else { Request::Heal { name } };
                    super::send_request(&mut shell, request);
                }
                Input::Signal(number) => {
                    let signal = Signal::from_number(number).unwrap();
                    shell.send(Event::Signal { signal, from_self: false });
                }
            }
            shutdown_seen |= shell.supervisor.shutting_down;
            for incident in &shell.incidents {
                let trying = incident.steps.iter().filter(|s| s.outcome == crate::recovery::StepOutcome::Trying).count();
                prop_assert!(trying <= 1, "{:?}", incident.steps);
            }
            for service in shell.supervisor.services() {
                let ids: std::collections::BTreeSet<u64> = shell.incidents.iter()
                    .filter(|i| i.service == service.unit.name)
                    .map(|i| i.id)
                    .filter(|id| shell.incidents.iter().rev().find(|i| i.id == *id).is_some_and(|i| i.is_open()))
                    .collect();
                prop_assert!(ids.len() <= 1, "{}: open incidents {ids:?}", service.unit.name);
                prop_assert!(service.ladder.next <= service.unit.recovery.steps.len());
            }
            // At most one live program per service.
            let mut per_service: HashMap<&str, usize> = HashMap::new();
            for name in shell.live.values() {
                *per_service.entry(name.as_str()).or_default() += 1;
            }
            prop_assert!(per_service.values().all(|&n| n <= 1), "{per_service:?}");
            prop_assert!(!shell.spawned_after_shutdown);
            prop_assert!(!shell.spawned_over_leftovers);
            prop_assert!(!shell.double_probe, "two probes of one service in flight");
            for service in shell.supervisor.services() {
                prop_assert_eq!(service.pid.is_some(), shell.pid_of(service.name()).is_some(), "{}", service.name());
                prop_assert!(!(service.is_sweeping() && service.pid.is_some()), "{}", service.name());
            }
            if shell.exit.is_some() {
                prop_assert!(shutdown_seen);
                break;
            }
        }
    }

    #[test]
    fn delays_are_monotonic_and_capped(delay_ms in 0..5000u64, multiplier in 1.0..4.0f64, max_ms in 0..120_000u64) {
        let mut config = crate::unit::RestartConfig::defaults(crate::unit::Kind::Daemon, false);
        config.delay = Duration::from_millis(delay_ms);
        config.multiplier = multiplier;
        config.max_delay = Duration::from_millis(max_ms);
        let mut previous = Duration::ZERO;
        for n in 1..64 {
            let delay = config.delay_for(n);
            prop_assert!(delay >= previous);
            prop_assert!(delay <= config.max_delay);
            previous = delay;
        }
    }
}
