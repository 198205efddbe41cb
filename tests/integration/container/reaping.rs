//! Orphans inside the container re-parent to Phoenix, PID 1, and are reaped.

use super::runtime::{Bundle, DEADLINE};
use crate::harness::TestResult;

/// Double-forks 50 children that exit at once (each an orphan of PID 1), then polls
/// `/proc` from inside until no zombie and no other child of PID 1 is left, or 15 s pass,
/// and writes what it last saw to `/result`.
const ORPHANS: &str = r#"
i=0
while [ "$i" -lt 50 ]; do ( : & ); i=$((i + 1)); done
touch /forked
orphans() { grep -l '^PPid:[[:space:]]*1$' /proc/[0-9]*/status 2>/dev/null | wc -l; }
zombies() { grep -l '^State:[[:space:]]*Z' /proc/[0-9]*/status 2>/dev/null | wc -l; }
deadline=$(( $(date +%s) + 15 ))
while :; do
    o=$(orphans); z=$(zombies)
    if [ "$o" -eq 1 ] && [ "$z" -eq 0 ]; then break; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then break; fi
    sleep 0.01
done
echo "orphans=$o zombies=$z" > /result.tmp && mv /result.tmp /result
exit 3
"#;

#[test]
fn orphans_in_the_container_are_reaped() -> TestResult {
    let mut container = Bundle::new()?.start(&["--", "sh", "-c", ORPHANS])?;
    let status = container.wait_exit(DEADLINE)?;
    assert!(
        container.exists("/forked"),
        "the script did not fork{}",
        container.context()
    );
    // Only the script itself is a child of PID 1 at the end.
    assert_eq!(
        container.read("/result").trim(),
        "orphans=1 zombies=0",
        "{}",
        container.context()
    );
    assert_eq!(status, 3, "exit status{}", container.context());
    Ok(())
}
