//! The one JSON-lines file type behind every history Phoenix keeps in its state directory
//! (events, incidents): one record per line, appended, rotated by size into `NAME.1`,
//! `NAME.2`, … so that the history survives a Phoenix restart without filling the disk, and
//! read back oldest first with torn lines skipped; a file damaged beyond a torn line is
//! moved aside at start ([`JsonLines::move_aside_corrupt`]). It must never fail its caller: a full
//! disk or an unwritable directory costs the record and one warning, and supervision goes
//! on. What a record means is its owner's business (`control::event_log`, `incident_log`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::marker::PhantomData;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::corrupt_file::MovedAside;

pub struct JsonLines<T> {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: Option<File>,
    size: u64,
    /// A failure was reported and not yet followed by a success: stay quiet until then.
    is_failing: bool,
    records: PhantomData<fn(T) -> T>,
}

impl<T: Serialize + DeserializeOwned> JsonLines<T> {
    /// A file at `path`, rotated before it would exceed `max_bytes`, keeping at most `keep`
    /// files including the live one (at least 1). Nothing is opened until the first append.
    pub fn new(path: impl Into<PathBuf>, max_bytes: u64, keep: usize) -> JsonLines<T> {
        JsonLines {
            path: path.into(),
            max_bytes,
            keep: keep.max(1),
            file: None,
            size: 0,
            is_failing: false,
            records: PhantomData,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The live file and each rotated one it may have, newest first.
    pub fn paths(&self) -> Vec<PathBuf> {
        (0..self.keep).map(|index| self.numbered(index)).collect()
    }

    /// Moves aside every one of its files that is corrupt (not merely torn), before the
    /// first read or append; see [`crate::corrupt_file`].
    pub fn move_aside_corrupt(&self, now: std::time::SystemTime) -> Vec<MovedAside> {
        crate::corrupt_file::move_aside_corrupt_lines::<T>(&self.paths(), now)
    }

    /// Whether the last append failed (and was reported).
    pub fn is_failing(&self) -> bool {
        self.is_failing
    }

    /// Appends one record; errors are logged (once until recovery), never returned.
    pub fn append(&mut self, record: &T) {
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(error) => {
                log::warn!(
                    "{}: unable to encode a record: {error}",
                    self.path.display()
                );
                return;
            }
        };
        line.push(b'\n');
        match self.write_line(&line) {
            Ok(()) => {
                if self.is_failing {
                    log::info!("{}: recording again", self.path.display());
                    self.is_failing = false;
                }
            }
            Err(error) => {
                // Reopen on the next append: the file may have been rotated or removed.
                self.file = None;
                if !self.is_failing {
                    log::warn!(
                        "{}: {}; nothing is recorded there until it recovers",
                        self.path.display(),
                        crate::sys::io_error_text(&error)
                    );
                    self.is_failing = true;
                }
            }
        }
    }

    /// Every record, oldest first: rotated files from the oldest, then the live one. Lines
    /// that do not parse (a record torn by a full disk) are skipped; a file that exists but
    /// cannot be read is a warning.
    pub fn history(&self) -> Vec<T> {
        let mut records = Vec::new();
        for index in (0..self.keep).rev() {
            let path = self.numbered(index);
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => {
                    let error = crate::sys::io_error_text(&error);
                    log::warn!("{}: unable to read: {error}", path.display());
                    continue;
                }
            };
            records.extend(
                bytes
                    .split(|&byte| byte == b'\n')
                    .filter_map(|line| serde_json::from_slice::<T>(line).ok()),
            );
        }
        records
    }

    /// The records in the last `max_bytes` of the history, oldest first: what a reply
    /// bounded to about that size can hold, read without loading the whole history
    /// (whose size is the rotation's, and would set Phoenix's memory high-water mark).
    pub fn recent(&self, max_bytes: u64) -> Vec<T> {
        let mut chunks = Vec::new();
        let mut left = max_bytes;
        for index in 0..self.keep {
            if left == 0 {
                break;
            }
            let Ok(file) = File::open(self.numbered(index)) else {
                continue;
            };
            let size = file.metadata().map_or(0, |metadata| metadata.len());
            let take = size.min(left);
            let mut bytes = vec![0; usize::try_from(take).unwrap_or(0)];
            if file.read_exact_at(&mut bytes, size - take).is_err() {
                continue;
            }
            left -= take;
            chunks.push(bytes);
        }
        chunks
            .iter()
            .rev()
            .flat_map(|bytes| bytes.split(|&byte| byte == b'\n'))
            .filter_map(|line| serde_json::from_slice::<T>(line).ok())
            .collect()
    }

    fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let mut file = match self.file.take() {
            Some(file) => file,
            None => self.open()?,
        };
        if self.size > 0 && self.size + line.len() as u64 > self.max_bytes {
            drop(file);
            self.rotate()?;
            file = self.open()?;
        }
        let file = self.file.insert(file);
        file.write_all(line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    /// Opens the live file for appending, ending a record torn by an earlier failure so that
    /// the next one starts on a line of its own.
    fn open(&mut self) -> std::io::Result<File> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            // The same readers as the control socket: root and Phoenix's own uid.
            .mode(0o600)
            // A link planted at the live name is refused (ELOOP), never appended through.
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.path)?;
        self.size = file.metadata()?.len();
        if self.size > 0 {
            let mut last = [0u8; 1];
            file.read_exact_at(&mut last, self.size - 1)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                self.size += 1;
            }
        }
        Ok(file)
    }

    /// `.keep-1` is dropped, `.n` becomes `.n+1`, the live file becomes `.1`.
    fn rotate(&mut self) -> std::io::Result<()> {
        remove_if_present(&self.numbered(self.keep - 1))?;
        for index in (1..self.keep - 1).rev() {
            rename_if_present(&self.numbered(index), &self.numbered(index + 1))?;
        }
        if self.keep > 1 {
            rename_if_present(&self.path, &self.numbered(1))?;
        }
        self.size = 0;
        Ok(())
    }

    /// The live file for 0, `NAME.N` for N.
    fn numbered(&self, index: usize) -> PathBuf {
        if index == 0 {
            return self.path.clone();
        }
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{index}"));
        PathBuf::from(name)
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

fn rename_if_present(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::rename(from, to) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::EventRecord;

    fn record(index: u32) -> EventRecord {
        EventRecord {
            time: "2026-01-01T00:00:00.000Z".into(),
            service: "web".into(),
            from: "running".into(),
            to: "backoff".into(),
            reason: format!("exit {index}"),
            exit: Some("exit 1".into()),
            restarts: index,
            next_attempt_ms: None,
            kind: None,
        }
    }

    /// Found by the soak: an `events` request read the whole history into memory, so
    /// Phoenix's RSS grew with the event log. `recent` reads only the newest bytes, across
    /// rotated files, oldest first, and skips the line its window starts inside.
    #[test]
    fn soak_recent_reads_only_the_newest_bytes_of_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let line = serde_json::to_vec(&record(10)).unwrap().len() as u64 + 1;
        let mut log = JsonLines::new(dir.path().join("events.jsonl"), 4 * line, 3);
        for index in 10..20 {
            log.append(&record(index));
        }
        let restarts = |records: Vec<EventRecord>| -> Vec<u32> {
            records.iter().map(|r| r.restarts).collect()
        };
        assert_eq!(restarts(log.recent(3 * line)), [17, 18, 19]);
        assert_eq!(restarts(log.recent(3 * line + 5)), [17, 18, 19]);
        assert_eq!(restarts(log.recent(6 * line)), [14, 15, 16, 17, 18, 19]);
        assert_eq!(restarts(log.recent(u64::MAX)), restarts(log.history()));
        assert!(log.recent(0).is_empty());
    }
}
