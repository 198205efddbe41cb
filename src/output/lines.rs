//! Cutting a byte stream into lines: each `\n` ends one, a line that reaches
//! `MAX_LINE_BYTES` without one is cut there, and the unfinished rest waits for more bytes
//! or for `finish` (the writer is gone). Bytes pass unchanged: no UTF-8 is assumed.

use std::borrow::Cow;

use crate::unit::log::MAX_LINE_BYTES;

#[derive(Debug, Default)]
pub struct LineSplitter {
    /// The unfinished line so far, shorter than `MAX_LINE_BYTES`.
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Appends `bytes`; every line they complete goes to `lines`, without its newline,
    /// borrowed from `bytes` unless it began in an earlier call.
    pub fn push<'a>(&mut self, mut bytes: &'a [u8], lines: &mut Vec<Cow<'a, [u8]>>) {
        while !bytes.is_empty() {
            let room = MAX_LINE_BYTES - self.partial.len();
            let window = bytes.get(..room.min(bytes.len())).unwrap_or(bytes);
            let (line, rest) = match memchr::memchr(b'\n', window) {
                Some(newline) => (
                    window.get(..newline).unwrap_or_default(),
                    bytes.get(newline + 1..).unwrap_or_default(),
                ),
                None if window.len() == room => (window, bytes.get(room..).unwrap_or_default()),
                None => {
                    self.partial.extend_from_slice(window);
                    return;
                }
            };
            if self.partial.is_empty() {
                lines.push(Cow::Borrowed(line));
            } else {
                self.partial.extend_from_slice(line);
                lines.push(Cow::Owned(std::mem::take(&mut self.partial)));
            }
            bytes = rest;
        }
    }

    /// The unfinished line, if any, as a line of its own.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        (!self.partial.is_empty()).then(|| std::mem::take(&mut self.partial))
    }

    pub fn pending_bytes(&self) -> usize {
        self.partial.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Option<Vec<u8>>) {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        for chunk in chunks {
            let mut found = Vec::new();
            splitter.push(chunk, &mut found);
            lines.extend(found.into_iter().map(Cow::into_owned));
        }
        (lines, splitter.finish())
    }

    #[test]
    fn newlines_end_lines_across_chunks() {
        let (lines, rest) = split(&[b"one\ntw", b"o\n\nthr", b"ee"]);
        assert_eq!(lines, [&b"one"[..], b"two", b""]);
        assert_eq!(rest, Some(b"three".to_vec()));
    }

    #[test]
    fn a_long_line_is_cut_at_the_limit_exactly() {
        let long = vec![b'x'; MAX_LINE_BYTES * 2 + 10];
        let mut input = long.clone();
        input.push(b'\n');
        let (lines, rest) = split(&[&input[..100], &input[100..]]);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].len(), MAX_LINE_BYTES);
        assert_eq!(lines[1].len(), MAX_LINE_BYTES);
        assert_eq!(lines[2].len(), 10);
        assert_eq!(rest, None);
        assert_eq!(lines.concat(), long);
    }

    #[test]
    fn a_line_of_exactly_the_limit_then_its_newline_is_one_line_and_an_empty_one() {
        let mut input = vec![b'y'; MAX_LINE_BYTES];
        input.push(b'\n');
        let (lines, _) = split(&[&input]);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].is_empty());
    }

    #[test]
    fn binary_bytes_pass_unchanged() {
        let (lines, rest) = split(&[b"\xff\x00\xc3(\n\x80"]);
        assert_eq!(lines, [b"\xff\x00\xc3(".to_vec()]);
        assert_eq!(rest, Some(b"\x80".to_vec()));
    }
}
