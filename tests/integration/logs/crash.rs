//! What a service says before it dies is kept: the last line before a crash is in the
//! file, in `phoenixctl logs` and in the death tally; a last line without a newline is
//! ended at the exit; and a flood from one service neither delays another's restart nor
//! loses a line.

use crate::control::ctl::{phoenixctl, service_json, start};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

#[test]
fn the_last_line_before_a_crash_is_in_the_file_in_logs_and_in_the_death_tally() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("web.log");
    layout.unit(
        "web",
        &format!(
            "command = \"echo $$ >> starts; echo last words of $$; exit 3\"\n\
             [restart]\ndelay = \"100ms\"\nmax-failures = 100\n\
             [log]\nfile = {:?}\n",
            log.display()
        ),
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_lines("starts", 2)?;
    let first = phoenix.lines("starts")[0].clone();
    let words = format!("last words of {first}");
    phoenix.eventually("the file has the last words", || {
        phoenix.read("web.log").contains(&format!("{words}\n"))
    })?;
    let logs = phoenixctl(&phoenix, &["logs", "web", "-n", "100"])?.ok()?;
    assert!(logs.stdout.contains(&words), "{logs:?}");
    let json = phoenixctl(&phoenix, &["logs", "web", "--json", "-n", "1"])?.ok()?;
    let record: serde_json::Value =
        serde_json::from_str(json.stdout.lines().next().unwrap_or("{}"))?;
    assert_eq!(record["service"], "web", "{json:?}");
    assert_eq!(record["stream"], "stdout", "{json:?}");
    let service = service_json(&phoenix, "web")?;
    let deaths = service["deaths"].as_array().cloned().unwrap_or_default();
    let first_death = &deaths[0];
    assert_eq!(
        first_death["last_lines"],
        serde_json::json!([words]),
        "only that run's lines: {service}"
    );
    Ok(())
}

#[test]
fn a_partial_last_line_is_flushed_at_exit() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("job.log");
    layout.unit(
        "job",
        &format!(
            "kind = \"oneshot\"\ncommand = \"printf 'whole line\\\\nno newline at the end'\"\n[log]\nfile = {:?}\n",
            log.display()
        ),
    )?;
    let phoenix = start(layout)?;
    phoenix.eventually("the partial line is in the file", || {
        phoenix.read("job.log") == "whole line\nno newline at the end\n"
    })?;
    Ok(())
}

#[test]
fn a_flood_does_not_delay_a_restart_and_every_line_is_delivered_or_counted() -> TestResult {
    const LINES: usize = 300_000;
    let layout = ServicesDir::new()?;
    let log = layout.path("flood.log");
    layout.unit(
        "flood",
        &format!(
            "command = \"seq -f 'flood line %.0f, padded to look like a real log line' 1 {LINES}; touch flood.done; exec sleep 1000\"\n\
             [log]\nfile = {:?}\nmax-size = \"1GiB\"\nconsole = true\n",
            log.display()
        ),
    )?;
    layout.unit(
        "crasher",
        "command = \"echo x >> crashes; exit 3\"\n[restart]\ndelay = \"10ms\"\nmultiplier = 1.0\nmin-uptime = \"0s\"\nmax-failures = 10000\n[log]\nconsole = true\n",
    )?;
    let phoenix = start(layout)?;
    phoenix.eventually("the crasher is restarted again and again", || {
        phoenix.lines("crashes").len() >= 20
    })?;
    phoenix.wait_for_file("flood.done")?;
    let dropped = |phoenix: &crate::harness::Phoenix| {
        phoenix
            .read(".stdout")
            .lines()
            .filter_map(|line| line.strip_prefix("flood | [phoenix: "))
            .filter_map(|rest| rest.strip_suffix(" lines dropped]"))
            .filter_map(|count| count.parse::<usize>().ok())
            .sum::<usize>()
    };
    phoenix.eventually("every flood line is in the file", || {
        phoenix.lines("flood.log").len() == LINES
    })?;
    let console = phoenix
        .read(".stdout")
        .lines()
        .filter(|line| line.starts_with("flood | flood line"))
        .count();
    assert_eq!(
        console + dropped(&phoenix),
        LINES,
        "console lines plus dropped ones"
    );
    Ok(())
}
