//! What the core does with captured output (issue 13): dropped lines are counted per
//! service in `/metrics`, and the last lines sent before an exit go into that death's
//! record in `status NAME`, and only that death's.

use super::*;
use crate::control::protocol::{Reply, Request};

const WEB: &str = "command = \"web\"\n[stop]\nmode = \"process\"\n[restart]\ndelay = \"0s\"";

#[test]
fn dropped_lines_are_counted_per_service() {
    let mut shell = Shell::boot(&[("web", WEB)]);
    for dropped in [3, 4] {
        shell.send(Event::LogLinesDropped {
            service: "web".into(),
            dropped,
        });
    }
    shell.send(Event::LogLinesDropped {
        service: "gone".into(),
        dropped: 1,
    });
    let text = crate::metrics::render(&shell.supervisor, shell.now);
    assert!(
        text.contains("phoenix_log_lines_dropped_total{service=\"web\"} 7\n"),
        "{text}"
    );
}

#[test]
fn the_last_lines_go_into_the_death_they_came_before() {
    let mut shell = Shell::boot(&[("web", WEB)]);
    shell.send(Event::LastLines {
        service: "web".into(),
        lines: vec!["panic: no database".into()],
    });
    shell.exit("web", ExitStatus::Code(1));
    shell.now += Duration::from_secs(1);
    shell.exit("web", ExitStatus::Code(2));
    let Reply::Status { services } = send_request(
        &mut shell,
        Request::Status {
            name: Some("web".into()),
        },
    ) else {
        panic!("no status");
    };
    let deaths = services[0].deaths.clone().unwrap_or_default();
    assert_eq!(deaths.len(), 2);
    assert_eq!(deaths[0].last_lines, ["panic: no database"]);
    assert!(deaths[1].last_lines.is_empty(), "{deaths:?}");
}
