//! The writer, table by table: escaping, sample lines, cumulative histograms, and the
//! `process_*` block.

use std::time::Duration;

use super::histogram::PROBE_BUCKETS;
use super::*;

type Labels<'a> = &'a [(&'a str, &'a str)];

fn written(write: impl FnOnce(&mut Writer)) -> String {
    let mut out = String::new();
    write(&mut Writer::new(&mut out));
    out
}

#[test]
fn label_values_escape_backslash_quote_and_newline() {
    let rows = [
        ("web", "web"),
        (r"a\b", r"a\\b"),
        ("say \"hi\"", r#"say \"hi\""#),
        ("two\nlines", r"two\nlines"),
        ("é ünïcode", "é ünïcode"),
    ];
    for (value, expected) in rows {
        let mut out = String::new();
        escape_label(&mut out, value);
        assert_eq!(out, expected, "{value:?}");
    }
}

#[test]
fn samples_are_written_as_the_text_format_says() {
    let rows: [(&str, Labels, f64, &str); 6] = [
        ("up", &[], 1.0, "up 1\n"),
        (
            "x_total",
            &[("service", "web")],
            3.0,
            "x_total{service=\"web\"} 3\n",
        ),
        (
            "s",
            &[("service", "a\"b"), ("state", "running")],
            0.25,
            "s{service=\"a\\\"b\",state=\"running\"} 0.25\n",
        ),
        ("r", &[], f64::NAN, "r NaN\n"),
        ("r", &[], f64::INFINITY, "r +Inf\n"),
        ("big", &[], 1e21, "big 1000000000000000000000\n"),
    ];
    for (name, labels, value, expected) in rows {
        let text = written(|w| w.sample(name, labels, value));
        assert_eq!(text, expected);
    }
}

#[test]
fn a_family_opens_with_help_and_type() {
    let text = written(|w| w.family("x_total", Kind::Counter, "Things\\done\nwell."));
    assert_eq!(
        text,
        "# HELP x_total Things\\\\done\\nwell.\n# TYPE x_total counter\n"
    );
}

#[test]
fn histogram_buckets_are_cumulative_and_end_with_inf() {
    let mut histogram = Histogram::new(&[0.1, 1.0]);
    for millis in [50, 80, 500, 3000] {
        histogram.observe(Duration::from_millis(millis));
    }
    let text = written(|w| w.histogram("p", &[("service", "web")], &histogram));
    let expected = "\
p_bucket{service=\"web\",le=\"0.1\"} 2
p_bucket{service=\"web\",le=\"1\"} 3
p_bucket{service=\"web\",le=\"+Inf\"} 4
p_sum{service=\"web\"} 3.63
p_count{service=\"web\"} 4
";
    assert_eq!(text, expected);
}

#[test]
fn an_observation_on_a_bound_falls_in_that_bucket() {
    let mut histogram = Histogram::new(PROBE_BUCKETS);
    histogram.observe(Duration::from_millis(10));
    let counts: Vec<u64> = histogram.buckets().map(|(_, count)| count).collect();
    assert_eq!(counts.iter().sum::<u64>(), 1);
    let at = PROBE_BUCKETS.iter().position(|&b| b == 0.01).unwrap();
    assert_eq!(counts[at], 1);
}

#[test]
fn an_empty_histogram_has_zero_everywhere() {
    let histogram = Histogram::new(&[1.0]);
    let text = written(|w| w.histogram("h", &[], &histogram));
    assert_eq!(
        text,
        "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n"
    );
}

#[test]
fn the_process_block_leaves_out_what_could_not_be_read() {
    let stats = ProcessStats {
        resident_memory_bytes: Some(4096),
        cpu_seconds: Some(1.5),
        ..ProcessStats::default()
    };
    let text = render_process(&stats);
    assert!(
        text.contains("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n")
    );
    assert!(text.contains("\nprocess_resident_memory_bytes 4096\n"));
    assert!(!text.contains("process_open_fds"));
}
