//! Files of the state directory found corrupt at start (DESIGN.md §9): each is moved aside
//! in its own directory as `NAME.corrupt-<unix time>` (nothing is lost, and the next write
//! starts a fresh file), said in one error line, and kept as an event (kind `state`,
//! service `phoenix`) for the event log once that is open. Also what "corrupt" means for a
//! JSON-lines history: damage no torn write can explain (see [`json_lines_problem`]).
//! Shell only; never fails its caller.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;

use crate::control::event_log::format_rfc3339;
use crate::control::protocol::EventRecord;

/// A corrupt file, and where it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovedAside {
    pub path: PathBuf,
    /// What was wrong with it.
    pub problem: String,
    /// Its new name, or why it could not be renamed (then it is left, and ignored).
    pub moved_to: Result<PathBuf, String>,
}

impl MovedAside {
    /// The sentence of the log line and of the event.
    pub fn describe(&self) -> String {
        let path = self.path.display();
        match &self.moved_to {
            Ok(to) => format!(
                "{path} is corrupt ({}); moved aside as {}, starting a fresh one",
                self.problem,
                to.display()
            ),
            Err(error) => format!(
                "{path} is corrupt ({}); unable to move it aside: {error}; ignoring it",
                self.problem
            ),
        }
    }

    /// The event the shell appends to the event log.
    pub fn event(&self, time: SystemTime) -> EventRecord {
        EventRecord {
            time: format_rfc3339(time),
            service: "phoenix".to_string(),
            from: "corrupt".to_string(),
            to: if self.moved_to.is_ok() {
                "moved-aside"
            } else {
                "ignored"
            }
            .to_string(),
            reason: self.describe(),
            exit: None,
            restarts: 0,
            next_attempt_ms: None,
            kind: Some("state".to_string()),
        }
    }
}

/// Renames `path` to `NAME.corrupt-<unix time>` beside it (`-2`, `-3`, … when taken) and
/// logs the error line.
pub fn move_aside(path: &Path, problem: String, now: SystemTime) -> MovedAside {
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let moved_to = free_name(path, seconds)
        .ok_or_else(|| "no free name beside it".to_string())
        .and_then(|target| {
            std::fs::rename(path, &target)
                .map(|()| target)
                .map_err(|error| crate::sys::io_error_text(&error))
        });
    let moved = MovedAside {
        path: path.to_path_buf(),
        problem,
        moved_to,
    };
    log::error!("{}", moved.describe());
    moved
}

fn free_name(path: &Path, seconds: u64) -> Option<PathBuf> {
    let base = format!("{}.corrupt-{seconds}", path.display());
    std::iter::once(base.clone())
        .chain((2..100).map(|n| format!("{base}-{n}")))
        .map(PathBuf::from)
        .find(|candidate| candidate.symlink_metadata().is_err())
}

/// A symbolic link where Phoenix keeps a file of its own was put there by someone else
/// (Phoenix writes regular files only): it is moved aside — the link itself, never what
/// it points at — and never read or written through.
pub fn move_aside_link(path: &Path, now: SystemTime) -> Option<MovedAside> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    is_link.then(|| {
        move_aside(
            path,
            "a symbolic link, not a file Phoenix wrote".to_string(),
            now,
        )
    })
}

/// Each of `paths` (a JSON-lines file and its rotations) that exists and is corrupt, or a
/// symbolic link, moved aside. A file that cannot be read is left to the reader, which
/// warns.
pub fn move_aside_corrupt_lines<T: DeserializeOwned>(
    paths: &[PathBuf],
    now: SystemTime,
) -> Vec<MovedAside> {
    paths
        .iter()
        .filter_map(|path| {
            if let Some(moved) = move_aside_link(path, now) {
                return Some(moved);
            }
            let bytes = std::fs::read(path).ok()?;
            let problem = json_lines_problem::<T>(&bytes)?;
            Some(move_aside(path, problem, now))
        })
        .collect()
}

/// Why `bytes` is not a history of `T` records, or `None` when it is one. Damage a torn
/// write explains is not corruption: a last line cut short (even inside a character), or
/// a lone cut line an earlier run ended with a newline before appending again. Corrupt:
/// a NUL byte, an invalid UTF-8 sequence, a first line that does not even begin like a
/// record, or more lines that fail to parse than lines that do (at least two).
pub fn json_lines_problem<T: DeserializeOwned>(bytes: &[u8]) -> Option<String> {
    if let Some(at) = bytes.iter().position(|&byte| byte == 0) {
        return Some(format!("a NUL byte at offset {at}"));
    }
    let (mut good, mut bad, mut seen_first) = (0usize, 0usize, false);
    let mut lines = bytes.split(|&byte| byte == b'\n').peekable();
    let mut number = 0;
    while let Some(line) = lines.next() {
        number += 1;
        let is_last = lines.peek().is_none();
        if line.trim_ascii().is_empty() {
            continue;
        }
        if std::str::from_utf8(line).is_err_and(|error| error.error_len().is_some()) {
            return Some(format!("line {number} is not UTF-8"));
        }
        if !seen_first && !line.trim_ascii_start().starts_with(b"{") {
            return Some(format!("line {number} is not a JSON record"));
        }
        seen_first = true;
        if is_last {
            // Unterminated: at most a record torn by a full disk.
            break;
        }
        match serde_json::from_slice::<T>(line) {
            Ok(_) => good += 1,
            Err(_) => bad += 1,
        }
    }
    (bad >= 2 && bad > good).then(|| format!("{bad} of {} lines are not records", good + bad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Record {
        id: u64,
    }

    fn problem(bytes: &[u8]) -> Option<String> {
        json_lines_problem::<Record>(bytes)
    }

    #[test]
    fn what_a_torn_write_explains_is_not_corruption() {
        let rows: [&[u8]; 7] = [
            b"",
            b"{\"id\":1}\n{\"id\":2}\n",
            b"{\"id\":1}\n{\"id\":2",
            b"{\"id\":1}\n{\"id\":2, \"x\": \"\xc3",
            b"{\"id\"\n{\"id\":2}\n",
            b"{\"id\":1}\n{\"id\n{\"id\":2}\n{\"id\":3",
            b"\n\n{\"id\":1}\n\n",
        ];
        for bytes in rows {
            assert_eq!(problem(bytes), None, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn damage_no_torn_write_explains_is_corruption() {
        let rows: [(&[u8], &str); 6] = [
            (b"{\"id\":1}\n\0\0\0\0", "a NUL byte at offset 9"),
            (b"{\"id\":1}\n{\"x\xff\"}\n", "line 2 is not UTF-8"),
            (b"hello\n{\"id\":1}\n", "line 1 is not a JSON record"),
            (b"garbage", "line 1 is not a JSON record"),
            (b"{\"a\n{\"b\n{\"id\":1}\n", "2 of 3 lines are not records"),
            (
                b"{\"id\":1}\n{\"x\":1}\n{\"y\":2}\n",
                "2 of 3 lines are not records",
            ),
        ];
        for (bytes, expected) in rows {
            assert_eq!(problem(bytes).as_deref(), Some(expected), "{bytes:?}");
        }
    }

    #[test]
    fn random_bytes_are_corrupt() {
        // A fixed xorshift stream: the same "random" file every run.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect();
        assert!(problem(&bytes).is_some());
    }

    #[test]
    fn a_corrupt_file_is_renamed_beside_itself_and_a_taken_name_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        std::fs::write(&path, b"first").unwrap();
        let first = move_aside(&path, "bad".into(), now);
        let first_target = dir.path().join("state.json.corrupt-1700000000");
        assert_eq!(first.moved_to, Ok(first_target.clone()));
        std::fs::write(&path, b"second").unwrap();
        let second = move_aside(&path, "bad".into(), now);
        let second_target = dir.path().join("state.json.corrupt-1700000000-2");
        assert_eq!(second.moved_to, Ok(second_target.clone()));
        assert_eq!(std::fs::read(first_target).unwrap(), b"first");
        assert_eq!(std::fs::read(second_target).unwrap(), b"second");
        assert!(!path.exists());
        let event = second.event(now);
        assert_eq!(
            (event.service.as_str(), event.kind.as_deref()),
            ("phoenix", Some("state"))
        );
        assert!(event.reason.contains("moved aside as"), "{}", event.reason);
    }

    #[test]
    fn only_corrupt_files_of_a_history_are_moved() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("events.jsonl");
        let rotated = dir.path().join("events.jsonl.1");
        std::fs::write(&live, b"{\"id\":1}\n").unwrap();
        std::fs::write(&rotated, b"\x00\x01\x02").unwrap();
        let paths = [
            live.clone(),
            rotated.clone(),
            dir.path().join("events.jsonl.2"),
        ];
        let moved = move_aside_corrupt_lines::<Record>(&paths, SystemTime::now());
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].path, rotated);
        assert!(live.exists() && !rotated.exists());
    }
}
