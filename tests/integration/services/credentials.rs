//! `user = "nobody"` (DESIGN.md §4): the service really runs with nobody's uid, its primary
//! group and only its supplementary groups, none of root's.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::setup::ServicesDir;
use crate::harness::TestResult;
use crate::procfs::{outer_pid, status_field};

#[test]
fn service_runs_as_nobody_with_its_groups() -> TestResult {
    let layout = ServicesDir::new()?;
    // nobody must reach the scratch directory and write the one file it reports in.
    fs::set_permissions(layout.path(""), fs::Permissions::from_mode(0o755))?;
    layout.file("ids", "", 0o666)?;
    layout.unit(
        "unprivileged",
        r#"user = "nobody"
command = '''
{ echo "uid $(id -u)"; echo "gid $(id -g)"; echo "groups $(id -G)"; echo "pid $$"; } >> ids
exec sleep 1000
'''
"#,
    )?;
    let expected = expected_ids()?;
    let phoenix = layout.start(&[])?;
    let ids = phoenix.wait_for_lines("ids", 4)?;
    let context = phoenix.context();
    assert_eq!(
        ids[..3],
        [
            format!("uid {}", expected.0),
            format!("gid {}", expected.1),
            format!("groups {}", expected.2),
        ],
        "{context}"
    );
    // The kernel's view agrees: every uid and gid is nobody's, no group of root's remains.
    let inner: i32 = ids[3].trim_start_matches("pid ").parse()?;
    let outer =
        outer_pid(phoenix.pid()?, inner).ok_or(format!("pid {inner} not found{context}"))?;
    let uids = status_field(outer, "Uid").unwrap_or_default();
    assert!(
        uids.split_whitespace().all(|uid| uid == expected.0),
        "Uid: {uids}{context}"
    );
    let gids = status_field(outer, "Gid").unwrap_or_default();
    assert!(
        gids.split_whitespace().all(|gid| gid == expected.1),
        "Gid: {gids}{context}"
    );
    let groups = status_field(outer, "Groups").unwrap_or_default();
    let mut seen: BTreeSet<&str> = groups.split_whitespace().collect();
    seen.insert(&expected.1);
    let wanted: BTreeSet<&str> = expected.2.split_whitespace().collect();
    assert_eq!(seen, wanted, "Groups: {groups}{context}");
    Ok(())
}

/// nobody's uid, primary gid and group list (`id -G` order) from the user database.
fn expected_ids() -> TestResult<(String, String, String)> {
    let output = |args: &[&str]| -> TestResult<String> {
        let out = std::process::Command::new("id").args(args).output()?;
        Ok(String::from_utf8(out.stdout)?.trim().to_string())
    };
    Ok((
        output(&["-u", "nobody"])?,
        output(&["-g", "nobody"])?,
        output(&["-G", "nobody"])?,
    ))
}
