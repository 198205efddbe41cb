//! What one service's stream still owes the console: whole lines (prefixed already), at
//! most `capacity` bytes. When a new line does not fit, the oldest lines not yet begun
//! are dropped and one marker line takes their place, `web | [phoenix: N lines
//! dropped]`, counting every line it stands for; a line already half written is always
//! finished first, so the console never shows a torn line.

use std::collections::VecDeque;
use std::io::IoSlice;

use super::{console_line, dropped_marker};

/// One queued line; a marker knows how many lines it stands for, so dropping it too only
/// grows the next marker.
#[derive(Debug)]
struct Entry {
    bytes: Vec<u8>,
    stands_for: u64,
}

#[derive(Debug)]
pub struct Outbox {
    service: String,
    entries: VecDeque<Entry>,
    bytes: usize,
    capacity: usize,
    /// Bytes of the front entry already written.
    written: usize,
    /// Dropped lines not yet in a marker entry.
    unmarked: u64,
}

impl Outbox {
    pub fn new(service: &str, capacity: usize) -> Outbox {
        Outbox {
            service: service.to_string(),
            entries: VecDeque::new(),
            bytes: 0,
            capacity,
            written: 0,
            unmarked: 0,
        }
    }

    /// Queues `line` (unprefixed); returns how many lines were dropped to make room.
    pub fn push(&mut self, line: &[u8]) -> u64 {
        let line = console_line(&self.service, line);
        let mut dropped = 0;
        // The front is kept while it is half written; the dropped lines were the oldest,
        // so their marker goes where they were, right after it.
        let keep = usize::from(self.written > 0);
        while self.bytes + line.len() + self.marker_len() > self.capacity
            && self.entries.len() > keep
        {
            dropped += self.drop_at(keep);
        }
        let fits = self.bytes + line.len() + self.marker_len() <= self.capacity;
        if !fits {
            // Nothing left to drop but a half-written line: this one goes.
            self.unmarked += 1;
            dropped += 1;
        }
        if self.unmarked > 0 {
            if self
                .entries
                .get(keep)
                .is_some_and(|entry| entry.stands_for > 0)
            {
                self.drop_at(keep);
            }
            let marker = console_line(&self.service, &dropped_marker(self.unmarked));
            self.bytes += marker.len();
            self.entries.insert(
                keep,
                Entry {
                    bytes: marker,
                    stands_for: self.unmarked,
                },
            );
            self.unmarked = 0;
        }
        if fits {
            self.bytes += line.len();
            self.entries.push_back(Entry {
                bytes: line,
                stands_for: 0,
            });
        }
        dropped
    }

    /// Drops the entry at `index` into the next marker; returns the lines newly dropped.
    fn drop_at(&mut self, index: usize) -> u64 {
        let Some(entry) = self.entries.remove(index) else {
            return 0;
        };
        self.bytes -= entry.bytes.len();
        if entry.stands_for > 0 {
            self.unmarked += entry.stands_for;
            0
        } else {
            self.unmarked += 1;
            1
        }
    }

    /// The size of the marker the dropped lines not yet marked need.
    fn marker_len(&self) -> usize {
        if self.unmarked == 0 {
            0
        } else {
            self.service.len() + 4 + dropped_marker(self.unmarked).len()
        }
    }

    /// Drops everything not begun; returns the lines dropped (markers' were counted).
    pub fn clear(&mut self) -> u64 {
        let keep = usize::from(self.written > 0);
        let mut dropped = 0;
        while self.entries.len() > keep {
            dropped += self.drop_at(keep);
        }
        self.unmarked = 0;
        dropped
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn queued_bytes(&self) -> usize {
        self.bytes - self.written
    }

    /// The front of the queue, up to `max` lines, for one `writev`.
    pub fn slices(&self, max: usize) -> Vec<IoSlice<'_>> {
        self.entries
            .iter()
            .take(max)
            .enumerate()
            .map(|(index, entry)| {
                let skip = if index == 0 { self.written } else { 0 };
                IoSlice::new(entry.bytes.get(skip..).unwrap_or_default())
            })
            .collect()
    }

    /// `count` bytes of the front were written.
    pub fn consume(&mut self, mut count: usize) {
        while count > 0 {
            let Some(front) = self.entries.front() else {
                return;
            };
            let left = front.bytes.len() - self.written;
            if count < left {
                self.written += count;
                return;
            }
            count -= left;
            self.bytes -= front.bytes.len();
            self.written = 0;
            self.entries.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(outbox: &mut Outbox) -> String {
        let mut text = Vec::new();
        while !outbox.is_empty() {
            let chunk: Vec<u8> = outbox.slices(3).iter().flat_map(|s| s.to_vec()).collect();
            text.extend_from_slice(&chunk);
            outbox.consume(chunk.len());
        }
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn lines_come_out_prefixed_in_order() {
        let mut outbox = Outbox::new("web", 1024);
        assert_eq!(outbox.push(b"one"), 0);
        assert_eq!(outbox.push(b"two"), 0);
        assert_eq!(drain(&mut outbox), "web | one\nweb | two\n");
    }

    #[test]
    fn the_oldest_lines_are_replaced_by_one_marker() {
        // Each line is "web | lineN\n", 12 bytes.
        let mut outbox = Outbox::new("web", 60);
        let dropped: u64 = (0..10)
            .map(|n| outbox.push(format!("line{n}").as_bytes()))
            .sum();
        let text = drain(&mut outbox);
        let marker = text.lines().next().unwrap();
        let count: u64 = marker
            .trim_start_matches("web | [phoenix: ")
            .trim_end_matches(" lines dropped]")
            .parse()
            .unwrap();
        assert_eq!(count, dropped, "{text}");
        let kept = text.lines().count() as u64 - 1;
        assert_eq!(kept + count, 10, "{text}");
        assert!(text.ends_with("web | line9\n"), "{text}");
        assert!(outbox.queued_bytes() == 0);
    }

    #[test]
    fn a_half_written_line_is_finished_before_anything_else() {
        let mut outbox = Outbox::new("web", 30);
        outbox.push(b"first line");
        outbox.consume(4);
        let dropped = outbox.push(b"second line that is long");
        assert_eq!(dropped, 1);
        let text = drain(&mut outbox);
        assert!(text.starts_with("| first line\n"), "{text}");
    }

    #[test]
    fn dropping_a_marker_grows_the_next_one() {
        let mut outbox = Outbox::new("w", 40);
        let mut dropped = 0;
        for n in 0..50 {
            dropped += outbox.push(format!("{n:04}").as_bytes());
        }
        let text = drain(&mut outbox);
        let markers: u64 = text
            .lines()
            .filter_map(|line| line.strip_prefix("w | [phoenix: "))
            .map(|rest| {
                rest.trim_end_matches(" lines dropped]")
                    .parse::<u64>()
                    .unwrap()
            })
            .sum();
        let kept = text
            .lines()
            .filter(|line| !line.contains("phoenix"))
            .count() as u64;
        assert_eq!(markers, dropped);
        assert_eq!(kept + dropped, 50, "{text}");
    }
}
