//! Not PID 1, Phoenix registers as a child subreaper by itself, says so in one warning
//! line, and reaps the orphans that are re-parented to it.

use crate::harness::{DEADLINE, Phoenix, Plain, TestResult, sh};
use crate::procfs::{status_field, zombie_children};

/// Double-forks a grandchild that writes its pid and waits for `go`; the child itself
/// stays until `done`, so the orphan is re-parented to Phoenix, not left to its parent.
/// Should the orphan escape Phoenix (no subreaper), it ends with the test's directory.
const ORPHAN_MAKER: &str = r#"
( sh -c 'echo $$ > orphan.tmp && mv orphan.tmp orphan.pid
         while [ ! -e go ] && [ -e .stderr ]; do sleep 0.01; done' & )
while [ ! -e done ]; do sleep 0.01; done
exit 0
"#;

#[test]
fn adopts_and_reaps_orphans_when_not_pid1() -> TestResult {
    let mut phoenix = Plain::start(sh(ORPHAN_MAKER))?;
    adopt_and_reap_the_orphan(&mut phoenix)?;
    phoenix.finish_when_done()?;
    let warnings: Vec<String> = phoenix
        .stderr()
        .lines()
        .filter(|line| line.contains("subreaper"))
        .map(String::from)
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning about the subreaper{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn explicit_subreaper_does_not_warn() -> TestResult {
    let mut phoenix = Plain::start(["-s", "--", "true"])?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    assert_eq!(phoenix.stderr(), "", "stderr with -s");
    Ok(())
}

/// Under a proxy that already made it a subreaper, Phoenix has nothing to warn about, and
/// it still reaps the orphans.
#[test]
fn issue_8_no_subreaper_warning_when_already_a_subreaper() -> TestResult {
    let mut phoenix = Plain::start_as_subreaper(sh(ORPHAN_MAKER))?;
    adopt_and_reap_the_orphan(&mut phoenix)?;
    phoenix.finish_when_done()?;
    assert_eq!(phoenix.stderr(), "", "stderr under a subreaper proxy");
    Ok(())
}

/// `TINI_SUBREAPER=` (set, empty) asks for a subreaper as `-s` does: tini tests presence.
/// Phoenix registers without the warning it gives when nobody asked, and reaps the orphan.
#[test]
fn issue_8_an_empty_tini_subreaper_is_an_explicit_subreaper() -> TestResult {
    let mut phoenix = Plain::start_with_env(&[("TINI_SUBREAPER", "")], sh(ORPHAN_MAKER))?;
    adopt_and_reap_the_orphan(&mut phoenix)?;
    phoenix.finish_when_done()?;
    assert_eq!(phoenix.stderr(), "", "stderr with TINI_SUBREAPER=");
    Ok(())
}

/// ORPHAN_MAKER's orphan is reparented to Phoenix, and reaped once it is let go.
fn adopt_and_reap_the_orphan(phoenix: &mut Phoenix) -> TestResult {
    let phoenix_pid = phoenix.pid()?.to_string();
    let orphan: i32 = phoenix.wait_for_file("orphan.pid")?.trim().parse()?;
    phoenix.eventually("the orphan's parent is phoenix", || {
        status_field(orphan, "PPid").as_deref() == Some(phoenix_pid.as_str())
    })?;
    phoenix.touch("go")?;
    phoenix.eventually("the orphan is reaped", || {
        status_field(orphan, "PPid").as_deref() != Some(phoenix_pid.as_str())
    })?;
    let pid = phoenix.pid()?;
    phoenix.eventually("phoenix has no zombie children", || {
        zombie_children(pid).is_empty()
    })?;
    Ok(())
}
