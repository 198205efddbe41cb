//! The recent lines of one service, kept for `phoenixctl logs` and the death tally:
//! oldest out first once their bytes pass the capacity, but never fewer than
//! `MIN_LINES` lines, so the tally has its last lines even with `ring = 0`.

use std::collections::VecDeque;

use super::Line;

/// Lines the ring always keeps, whatever its capacity: the death tally shows these.
pub const MIN_LINES: usize = 5;

#[derive(Debug)]
pub struct Ring {
    lines: VecDeque<Line>,
    bytes: usize,
    capacity: usize,
    /// Lines ever pushed, so a caller can mark a moment and ask for what came after.
    pushed: u64,
}

impl Ring {
    pub fn new(capacity: usize) -> Ring {
        Ring {
            lines: VecDeque::new(),
            bytes: 0,
            capacity,
            pushed: 0,
        }
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.evict();
    }

    pub fn push(&mut self, line: Line) {
        self.bytes += line.bytes.len();
        self.pushed += 1;
        self.lines.push_back(line);
        self.evict();
    }

    /// The newest `count` lines, oldest first.
    pub fn last(&self, count: usize) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .skip(self.lines.len().saturating_sub(count))
    }

    /// Of lines of these lengths, pushed now, how many (the newest) the ring would keep.
    pub fn survivors(&self, lengths: impl DoubleEndedIterator<Item = usize>) -> usize {
        let mut bytes = 0;
        let mut count = 0;
        for length in lengths.rev() {
            if count >= MIN_LINES && bytes + length > self.capacity {
                break;
            }
            bytes += length;
            count += 1;
        }
        count
    }

    /// Counts `count` lines as pushed without keeping them (they would be evicted at once).
    pub fn skip(&mut self, count: usize) {
        self.pushed += count as u64;
    }

    /// A mark for `last_since`.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// The newest `count` lines pushed after `mark`, oldest first.
    pub fn last_since(&self, mark: u64, count: usize) -> impl Iterator<Item = &Line> {
        let since = usize::try_from(self.pushed.saturating_sub(mark)).unwrap_or(usize::MAX);
        self.last(count.min(since))
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn evict(&mut self) {
        while self.bytes > self.capacity && self.lines.len() > MIN_LINES {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.bytes.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Stream;
    use std::time::SystemTime;

    fn line(text: &str) -> Line {
        Line {
            time: SystemTime::UNIX_EPOCH,
            stream: Stream::Stdout,
            bytes: text.as_bytes().to_vec(),
        }
    }

    fn texts<'a>(lines: impl Iterator<Item = &'a Line>) -> Vec<String> {
        lines.map(Line::text).collect()
    }

    #[test]
    fn the_oldest_lines_leave_once_the_bytes_pass_the_capacity() {
        let mut ring = Ring::new(30);
        for n in 0..10 {
            ring.push(line(&format!("line {n}")));
        }
        assert_eq!(ring.len(), 5);
        assert_eq!(texts(ring.last(2)), ["line 8", "line 9"]);
        let mut big = Ring::new(1000);
        for n in 0..10 {
            big.push(line(&format!("line {n}")));
        }
        assert_eq!(big.len(), 10);
        assert_eq!(texts(big.last(100)).len(), 10);
    }

    #[test]
    fn survivors_are_the_newest_lines_that_fit() {
        let ring = Ring::new(25);
        assert_eq!(ring.survivors([10, 10, 10, 10, 10, 10, 10].into_iter()), 5);
        let big = Ring::new(1000);
        assert_eq!(big.survivors([10; 7].into_iter()), 7);
        assert_eq!(big.survivors([600, 600, 1, 1, 1, 1, 1, 1].into_iter()), 7);
    }

    #[test]
    fn lines_since_a_mark() {
        let mut ring = Ring::new(1000);
        ring.push(line("old"));
        let mark = ring.pushed();
        assert_eq!(ring.last_since(mark, 5).count(), 0);
        ring.push(line("new"));
        assert_eq!(texts(ring.last_since(mark, 5)), ["new"]);
    }

    #[test]
    fn a_zero_ring_still_keeps_the_last_five_lines() {
        let mut ring = Ring::new(0);
        for n in 0..8 {
            ring.push(line(&n.to_string()));
        }
        assert_eq!(texts(ring.last(10)), ["3", "4", "5", "6", "7"]);
    }
}
