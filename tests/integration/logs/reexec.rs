//! A re-exec keeps the captured pipes: the running service is not cut off (no EPIPE),
//! and its lines keep reaching the console and the file under the new image.

use crate::control::ctl::{phoenixctl, start};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

#[test]
fn captured_output_survives_a_reexec() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("talker.log");
    layout.unit(
        "talker",
        &format!(
            "command = \"echo $$ >> talker.pids; i=0; while :; do echo tick $i; i=$((i+1)); if [ -e after ]; then echo after the reexec; fi; sleep 0.05; done\"\n\
             [log]\nconsole = true\nfile = {:?}\n",
            log.display()
        ),
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_log("control: listening")?;
    phoenix.eventually("ticks in the file", || {
        phoenix.read("talker.log").contains("tick 2\n")
    })?;
    phoenixctl(&phoenix, &["reexec"])?.ok()?;
    phoenix.eventually("Phoenix resumed and answers", || {
        phoenix.stderr().contains("resumed after a re-exec")
            && phoenixctl(&phoenix, &["status"]).is_ok_and(|o| o.code == 0)
    })?;
    phoenix.touch("after")?;
    phoenix.eventually(
        "lines after the re-exec reach the file and the console",
        || {
            phoenix.read("talker.log").contains("after the reexec\n")
                && phoenix
                    .read(".stdout")
                    .contains("talker | after the reexec\n")
        },
    )?;
    assert_eq!(
        phoenix.lines("talker.pids").len(),
        1,
        "{}",
        phoenix.context()
    );
    let logs = phoenixctl(&phoenix, &["logs", "talker", "-n", "3"])?.ok()?;
    assert!(logs.stdout.contains("after the reexec"), "{logs:?}");
    Ok(())
}
