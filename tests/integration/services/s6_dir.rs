//! s6-style service directories (DESIGN.md §4): `run` started in its directory, `finish`
//! given the exit code (256 when killed), the signal, the service name and the process
//! group, `env/` as an envdir over Phoenix's environment, and `down` keeping a service from
//! starting at boot.

use super::setup::ServicesDir;
use crate::harness::TestResult;

/// `run`: records its environment and process group, then exits 3 the first time, kills
/// itself the second time, and stays up from the third.
fn run_script(out: &str) -> String {
    format!(
        r#"#!/bin/sh
n=$(( $(cat {out}/count 2>/dev/null || echo 0) + 1 ))
echo $n > {out}/count
echo "$(cut -d' ' -f5 /proc/$$/stat)" >> {out}/pgids
echo "cwd=$(pwd) greeting=$GREETING first=$FIRST_LINE gone=${{GONE-unset}}" >> {out}/env
case $n in
  1) exit 3 ;;
  2) kill -KILL $$ ;;
  *) exec sleep 1000 ;;
esac
"#
    )
}

#[test]
fn s6_directory_runs_with_finish_and_envdir() -> TestResult {
    let layout = ServicesDir::new()?;
    let out = layout.path("").display().to_string();
    let out = out.trim_end_matches('/');
    layout.file("services.d/worker/run", &run_script(out), 0o755)?;
    layout.file(
        "services.d/worker/finish",
        &format!("#!/bin/sh\necho \"$@\" >> {out}/finish.args\n"),
        0o755,
    )?;
    layout.file("services.d/worker/env/GREETING", "hello world\n", 0o644)?;
    layout.file("services.d/worker/env/FIRST_LINE", "one\ntwo\n", 0o644)?;
    layout.file("services.d/worker/env/GONE", "", 0o644)?;
    layout.file(
        "services.d/worker/unit.toml",
        "[restart]\ndelay = \"100ms\"\n",
        0o644,
    )?;
    let service_dir = layout.services().join("worker").display().to_string();
    let phoenix = layout.start_with_env(&[("GONE", "inherited")], &[])?;
    let pgids = phoenix.wait_for_lines("pgids", 3)?;
    let finish = phoenix.wait_for_lines("finish.args", 2)?;
    let context = phoenix.context();
    assert_eq!(
        finish[..2],
        [
            format!("3 0 worker {}", pgids[0]),
            format!("256 9 worker {}", pgids[1]),
        ],
        "finish arguments{context}"
    );
    let expected = format!("cwd={service_dir} greeting=hello world first=one gone=unset");
    assert_eq!(phoenix.lines("env")[0], expected, "{context}");
    Ok(())
}

#[test]
fn down_file_keeps_a_service_from_starting() -> TestResult {
    let layout = ServicesDir::new()?;
    let out = layout.path("").display().to_string();
    let out = out.trim_end_matches('/');
    layout.file(
        "services.d/idle/run",
        &format!("#!/bin/sh\ntouch {out}/idle.started\nexec sleep 1000\n"),
        0o755,
    )?;
    layout.file("services.d/idle/down", "", 0o644)?;
    layout.file(
        "services.d/busy/run",
        &format!("#!/bin/sh\ntouch {out}/busy.started\nexec sleep 1000\n"),
        0o755,
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_file("busy.started")?;
    phoenix.wait_for_log("busy: down → starting")?;
    let context = phoenix.context();
    assert!(!phoenix.exists("idle.started"), "idle started{context}");
    assert!(
        !phoenix.stderr().contains("idle: down → starting"),
        "idle started{context}"
    );
    Ok(())
}
