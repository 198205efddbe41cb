//! The supervisor across a re-exec: a second supervisor over the same units, resumed from
//! the first one's handoff, starts nothing, knows every pid, and judges the next death.

use super::*;

#[test]
fn a_resumed_supervisor_starts_nothing_and_still_restarts_what_dies() {
    let texts = [
        ("db", "command = \"db\""),
        (
            "web",
            "command = \"web\"\nrequires = [\"db\"]\n[restart]\ndelay = \"1s\"",
        ),
    ];
    let mut shell = Shell::boot(&texts);
    let db = shell.pid_of("db").unwrap();
    let web = shell.pid_of("web").unwrap();
    let handoff = shell.supervisor.hand_off(shell.now);
    let json = serde_json::to_string(&handoff).unwrap();

    let mut resumed = Supervisor::new(config(), units(&texts), None, Default::default());
    resumed.resume_from(serde_json::from_str(&json).unwrap());
    let actions = resumed.start(shell.now);
    assert!(
        !actions.iter().any(|a| matches!(a, Action::Spawn { .. })),
        "{actions:?}"
    );
    let adopted: Vec<Pid> = actions
        .iter()
        .filter_map(|a| match a {
            Action::AdoptProgram { pid, .. } => Some(*pid),
            _ => None,
        })
        .collect();
    assert_eq!(adopted, [db, web]);
    assert_eq!(resumed.service("web").unwrap().state, State::Running);
    // web dies: the resumed supervisor knows its pid and backs off before a restart.
    shell.supervisor = resumed;
    shell.exit("web", ExitStatus::Code(1));
    assert_eq!(shell.state("web"), State::Backoff);
}
