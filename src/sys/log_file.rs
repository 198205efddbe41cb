//! A captured service's log file: appended in batches, rotated before a line that would
//! take it past `max-size` (`output::rotation` decides), opened again after any failure.
//! A failure never stops the capture: its lines are counted as dropped, and it is
//! warned about once per condition (the same errno on the same step), with one info
//! line when the file works again.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use crate::output::rotation::{self, Step};

pub struct LogFile {
    service: String,
    path: PathBuf,
    max_size: u64,
    keep: u32,
    file: Option<File>,
    size: u64,
    /// The condition last warned about: (step, errno).
    failing: Option<(&'static str, i32)>,
}

impl LogFile {
    pub fn new(service: &str, path: PathBuf, max_size: u64, keep: u32) -> LogFile {
        LogFile {
            service: service.to_string(),
            path,
            max_size,
            keep,
            file: None,
            size: 0,
            failing: None,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends `lines` (without their newlines), each after `stamp` and a space when
    /// given; returns how many were lost.
    pub fn append<L: AsRef<[u8]>>(&mut self, stamp: Option<&str>, lines: &[L]) -> u64 {
        let extra = stamp.map_or(0, |stamp| stamp.len() + 1) + 1;
        let size = lines.iter().map(|line| line.as_ref().len() + extra).sum();
        let mut batch: Vec<u8> = Vec::with_capacity(size);
        let mut in_batch = 0u64;
        let mut lost = 0;
        for line in lines {
            let line = line.as_ref();
            if self.file.is_none() && !self.open() {
                lost += 1;
                continue;
            }
            let pending = self.size + batch.len() as u64;
            if rotation::is_due(pending, line.len() + extra, self.max_size) {
                lost += self.write(&batch, in_batch);
                batch.clear();
                in_batch = 0;
                self.rotate();
                if self.file.is_none() && !self.open() {
                    lost += 1;
                    continue;
                }
            }
            crate::output::file_line(stamp, line, &mut batch);
            in_batch += 1;
        }
        lost + self.write(&batch, in_batch)
    }

    /// Writes one batch of `count` lines; returns how many were lost.
    fn write(&mut self, batch: &[u8], count: u64) -> u64 {
        if batch.is_empty() {
            return 0;
        }
        let Some(file) = &mut self.file else {
            return count;
        };
        match file.write_all(batch) {
            Ok(()) => {
                self.size += batch.len() as u64;
                self.recovered();
                0
            }
            Err(error) => {
                self.fail("writing", &error);
                // What part was written is unknown; the size is read again at the next open.
                self.file = None;
                count
            }
        }
    }

    fn open(&mut self) -> bool {
        let opened = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o640)
            .open(&self.path)
            .and_then(|file| Ok((file.metadata()?.len(), file)));
        match opened {
            Ok((size, file)) => {
                self.size = size;
                self.file = Some(file);
                true
            }
            Err(error) => {
                self.fail("opening", &error);
                false
            }
        }
    }

    fn rotate(&mut self) {
        self.file = None;
        for step in rotation::plan(&self.path, self.keep) {
            let result = match &step {
                Step::Remove(path) => std::fs::remove_file(path),
                Step::Rename { from, to } => std::fs::rename(from, to),
            };
            match result {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    self.fail("rotating", &error);
                }
                _ => {}
            }
        }
        self.size = 0;
    }

    fn fail(&mut self, step: &'static str, error: &std::io::Error) {
        let condition = (step, error.raw_os_error().unwrap_or(0));
        if self.failing != Some(condition) {
            log::warn!(
                "{}: {step} {}: {error}; its lines are dropped from the file (console and ring still get them)",
                self.service,
                self.path.display()
            );
            self.failing = Some(condition);
        }
    }

    fn recovered(&mut self) {
        if self.failing.take().is_some() {
            log::info!("{}: writing {} again", self.service, self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_keep_files_of_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.log");
        let mut file = LogFile::new("web", path.clone(), 1000, 3);
        let lines: Vec<Vec<u8>> = (0..300)
            .map(|n| format!("line {n:03}").into_bytes())
            .collect();
        assert_eq!(file.append(Some("T"), &lines), 0);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["web.log", "web.log.1", "web.log.2"]);
        for name in &names {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(text.len() <= 1000, "{name}");
            assert!(
                text.lines()
                    .all(|line| line.len() == 10 && line.starts_with("T line "))
            );
        }
        let live = std::fs::read_to_string(&path).unwrap();
        assert!(live.ends_with("T line 299\n"), "{live}");
    }

    #[test]
    fn an_unopenable_file_loses_its_lines_and_works_once_it_can() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("web.log");
        let mut file = LogFile::new("web", path.clone(), 1 << 20, 2);
        assert_eq!(file.append(None, &[b"a".to_vec(), b"b".to_vec()]), 2);
        std::fs::create_dir(dir.path().join("missing")).unwrap();
        assert_eq!(file.append(None, &[b"c".to_vec()]), 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "c\n");
    }
}
