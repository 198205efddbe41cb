//! Phoenix reaps every orphan that lands on PID 1, however many, while its child runs.

use std::time::Duration;

use crate::harness::{DEADLINE, Pid1, TestResult, sh};

/// Double-forks 2000 grandchildren that exit at once, so each becomes an orphan of PID 1,
/// then waits (polling, with a deadline) until none is left alive or unreaped and writes
/// what it saw. Only the script itself may remain a child of PID 1.
const ORPHAN_STORM: &str = r#"
i=0
while [ "$i" -lt 2000 ]; do ( : & ); i=$((i + 1)); done
touch forked
orphans() { grep -l '^PPid:[[:space:]]*1$' /proc/[0-9]*/status 2>/dev/null | wc -l; }
zombies() { grep -l '^State:[[:space:]]*Z' /proc/[0-9]*/status 2>/dev/null | wc -l; }
deadline=$(( $(date +%s) + 20 ))
while :; do
    o=$(orphans); z=$(zombies)
    if [ "$o" -eq 1 ] && [ "$z" -eq 0 ]; then break; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then break; fi
    sleep 0.01
done
echo "orphans=$o zombies=$z" > result.tmp && mv result.tmp result
exit 3
"#;

#[test]
fn reaps_two_thousand_orphans() -> TestResult {
    let mut phoenix = Pid1::start(sh(ORPHAN_STORM))?;
    let status = phoenix.wait_exit(Duration::from_secs(60))?;
    assert!(
        phoenix.exists("forked"),
        "the script did not fork{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.read("result").trim(),
        "orphans=1 zombies=0",
        "{}",
        phoenix.context()
    );
    assert_eq!(status, 3, "exit status{}", phoenix.context());
    Ok(())
}

/// Leaves one orphan for PID 1, writes its pid, and waits until it is reaped.
const ONE_ORPHAN: &str = r#"
( sleep 0.05 & echo $! > orphan.tmp && mv orphan.tmp orphan.pid )
while grep -q '^PPid:[[:space:]]*1$' $(ls -d /proc/[0-9]*/status 2>/dev/null | grep -v "^/proc/$$/") 2>/dev/null
do sleep 0.01; done
exit 0
"#;

#[test]
fn issue_8_warns_about_reaped_orphans_with_w_only_in_tinis_words() -> TestResult {
    let mut quiet = Pid1::start(sh(ONE_ORPHAN))?;
    assert_eq!(
        quiet.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        quiet.context()
    );
    assert_eq!(quiet.stderr(), "", "stderr without -w");
    let mut args = vec!["-w".to_string()];
    args.extend(sh(ONE_ORPHAN));
    let mut warned = Pid1::start(args)?;
    assert_eq!(
        warned.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        warned.context()
    );
    // tini's own phrase, so tools that grep tini's output find it.
    let orphan = warned.read("orphan.pid");
    let phrase = format!("Reaped zombie process with pid={}", orphan.trim());
    assert!(
        warned.stderr().contains(&phrase),
        "no {phrase:?} with -w{}",
        warned.context()
    );
    Ok(())
}
