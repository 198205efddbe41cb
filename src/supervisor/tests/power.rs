//! Power requests and signals (DESIGN.md §10): on a machine they end the run with a power
//! action after the orderly shutdown; in a container with an exit status; a second request
//! during a shutdown can only make the end stronger.

use super::*;
use crate::control::protocol::{Reply, Request};
use crate::power::PowerAction;

fn machine(texts: &[(&str, &str)]) -> Shell {
    let mut shell = Shell::boot(texts);
    shell.supervisor.config.machine = true;
    shell
}

fn signal(shell: &mut Shell, signal: Signal) {
    shell.send(Event::Signal {
        signal,
        from_self: false,
    });
}

const WEB: (&str, &str) = ("web", "command = \"web\"");

#[test]
fn machine_signals_end_in_their_power_action_after_the_services_stopped() {
    for (sent, expected) in [
        (Signal::INT, PowerAction::Reboot),
        (Signal::TERM, PowerAction::Reboot),
        (Signal::PWR, PowerAction::Poweroff),
        (Signal::USR2, PowerAction::Poweroff),
        (Signal::USR1, PowerAction::Halt),
    ] {
        let mut shell = machine(&[WEB]);
        signal(&mut shell, sent);
        assert_eq!(shell.power, None, "{sent}: web still runs");
        shell.die_on_signals();
        assert_eq!(shell.power, Some(expected), "{sent}");
        assert_eq!(shell.exit, None, "a machine's init never exits");
    }
}

#[test]
fn in_a_container_power_signals_keep_their_old_meaning() {
    let mut shell = Shell::boot(&[WEB]);
    signal(&mut shell, Signal::INT);
    shell.die_on_signals();
    assert_eq!((shell.exit, shell.power), (Some(0), None));
}

#[test]
fn in_a_container_reboot_exits_133_and_poweroff_or_halt_0() {
    for (request, code) in [
        (Request::Reboot, 133),
        (Request::Poweroff, 0),
        (Request::Halt, 0),
    ] {
        let mut shell = Shell::boot(&[WEB]);
        let reply = send_request(&mut shell, request.clone());
        assert!(matches!(reply, Reply::Ok { .. }), "{reply:?}");
        shell.die_on_signals();
        assert_eq!((shell.exit, shell.power), (Some(code), None), "{request:?}");
    }
}

#[test]
fn the_stronger_request_wins_during_a_shutdown() {
    let mut shell = machine(&[WEB]);
    send_request(&mut shell, Request::Poweroff);
    send_request(&mut shell, Request::Reboot);
    shell.die_on_signals();
    assert_eq!(shell.power, Some(PowerAction::Poweroff));

    let mut shell = machine(&[WEB]);
    send_request(&mut shell, Request::Reboot);
    send_request(&mut shell, Request::Halt);
    shell.die_on_signals();
    assert_eq!(shell.power, Some(PowerAction::Halt));

    let mut shell = Shell::boot(&[WEB]);
    send_request(&mut shell, Request::Poweroff);
    send_request(&mut shell, Request::Reboot);
    shell.die_on_signals();
    assert_eq!(shell.exit, Some(0), "in a container too");
}

#[test]
fn a_machine_whose_run_ends_otherwise_powers_off_unless_asked_for_more() {
    let mut shell = machine(&[WEB]);
    send_request(&mut shell, Request::Shutdown);
    shell.die_on_signals();
    assert_eq!(
        (shell.exit, shell.power),
        (None, Some(PowerAction::Poweroff))
    );

    let mut shell = machine(&[WEB]);
    send_request(&mut shell, Request::Shutdown);
    send_request(&mut shell, Request::Reboot);
    shell.die_on_signals();
    assert_eq!(
        shell.power,
        Some(PowerAction::Reboot),
        "a request beats the default"
    );
}

fn critical(action: &str) -> Settings {
    let text = format!("on-critical-failure = \"{action}\"\n");
    crate::unit::parse_settings(Path::new("phoenix.toml"), &text).unwrap()
}

const CORE: (&str, &str) = (
    "core",
    "command = \"core\"\ncritical = true\n[restart]\nmax-failures = 1",
);

#[test]
fn on_critical_failure_reboot_poweroff_and_rescue() {
    // (action, on a machine, exit, power, rescue)
    let rows = [
        ("reboot", true, None, Some(PowerAction::Reboot), false),
        ("poweroff", true, None, Some(PowerAction::Poweroff), false),
        ("reboot", false, Some(133), None, false),
        ("poweroff", false, Some(9), None, false),
        ("rescue", true, None, None, true),
        ("rescue", false, None, None, true),
    ];
    for (action, is_machine, exit, power, rescue) in rows {
        let mut shell = Shell::boot(&[CORE]);
        shell.supervisor.config.machine = is_machine;
        shell.supervisor.config.settings = critical(action);
        shell.exit("core", ExitStatus::Code(9));
        let row = format!("{action} machine={is_machine}");
        assert_eq!(shell.exit, exit, "{row}");
        assert_eq!(shell.power, power, "{row}");
        assert_eq!(shell.rescue.is_some(), rescue, "{row}");
        if let Some(reason) = &shell.rescue {
            assert!(reason.contains("core exhausted its recovery"), "{reason}");
        }
    }
}

#[test]
fn a_re_exec_during_a_machine_shutdown_keeps_the_power_action() {
    let texts = [WEB];
    let mut shell = machine(&texts);
    send_request(&mut shell, Request::Reboot);
    let handoff = shell.supervisor.hand_off(shell.now);
    let json = serde_json::to_string(&handoff).unwrap();
    let mut machine_config = config();
    machine_config.machine = true;
    let mut resumed = Supervisor::new(machine_config, units(&texts), None, Default::default());
    resumed.resume_from(serde_json::from_str(&json).unwrap());
    let actions = resumed.start(shell.now);
    shell.supervisor = resumed;
    shell.perform(actions);
    shell.die_on_signals();
    assert_eq!(
        shell.power,
        Some(PowerAction::Reboot),
        "not the default power-off"
    );
}
