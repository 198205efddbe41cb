//! Prometheus text format 0.0.4 (DESIGN.md §8): the writer helpers — HELP and TYPE lines,
//! escaped labels, samples, cumulative histograms — and the series rendered from the
//! core's state (`series.rs`). Pure: no clock, no system call; the shell adds Phoenix's own
//! `process_*` block (`process.rs`) from what it reads in /proc.

pub mod histogram;
mod process;
mod series;
#[cfg(test)]
mod tests;

use std::fmt::Write;

pub use histogram::Histogram;
pub use process::{ProcessStats, render_process};
pub use series::render;

/// The content type of a scrape in the text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The kinds of metric family the text format knows and Phoenix uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Appends samples to one scrape's text. Writing to a `String` cannot fail, so the
/// `fmt::Result`s are dropped.
pub struct Writer<'a> {
    out: &'a mut String,
}

impl<'a> Writer<'a> {
    pub fn new(out: &'a mut String) -> Writer<'a> {
        Writer { out }
    }

    /// The `# HELP` and `# TYPE` lines that open a family.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let _ = write!(self.out, "# HELP {name} ");
        escape_help(self.out, help);
        let _ = writeln!(self.out, "\n# TYPE {name} {}", kind.name());
    }

    /// One sample: `name{label="value",…} value`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        write_labels(self.out, labels, None);
        self.out.push(' ');
        write_value(self.out, value);
        self.out.push('\n');
    }

    /// A histogram's `_bucket{le=…}` (cumulative, ending with `+Inf`), `_sum` and `_count`.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], histogram: &Histogram) {
        let mut cumulative = 0;
        let mut le = String::with_capacity(16);
        for (bound, count) in histogram.buckets() {
            cumulative += count;
            le.clear();
            write_value(&mut le, bound);
            let _ = write!(self.out, "{name}_bucket");
            write_labels(self.out, labels, Some(&le));
            let _ = writeln!(self.out, " {cumulative}");
        }
        let _ = write!(self.out, "{name}_bucket");
        write_labels(self.out, labels, Some("+Inf"));
        let _ = writeln!(self.out, " {}", histogram.count());
        let _ = write!(self.out, "{name}_sum");
        write_labels(self.out, labels, None);
        self.out.push(' ');
        write_value(self.out, histogram.sum());
        let _ = write!(self.out, "\n{name}_count");
        write_labels(self.out, labels, None);
        let _ = writeln!(self.out, " {}", histogram.count());
    }
}

fn write_labels(out: &mut String, labels: &[(&str, &str)], le: Option<&str>) {
    if labels.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (name, value) in labels.iter().copied().chain(le.map(|le| ("le", le))) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(name);
        out.push_str("=\"");
        escape_label(out, value);
        out.push('"');
    }
    out.push('}');
}

/// A label value: backslash, double quote and newline escaped.
pub fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP text: backslash and newline escaped (a quote is fine there).
fn escape_help(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Integers without a fraction, others as Rust's shortest round-trip form; infinities
/// and NaN as the format spells them.
fn write_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{value}");
    }
}
