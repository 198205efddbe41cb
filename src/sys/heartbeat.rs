//! The age of a heartbeat file (DESIGN.md §4.3): how long ago its mtime was, by the wall
//! clock, since that is the clock a service's `touch` writes. One `stat`, never a read or
//! a write; whether the age means "hung" is the core's business, not this file's.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// `now - mtime` of `path` (a symlink is followed); a modification time in the future (a
/// clock stepped back) counts as age zero. The error names the file and the reason:
/// `heartbeat file /run/web/heartbeat: No such file or directory`.
pub fn file_age(path: &Path, now: SystemTime) -> Result<Duration, String> {
    let describe = |error: &std::io::Error| {
        format!(
            "heartbeat file {}: {}",
            path.display(),
            super::io_error_text(error)
        )
    };
    let modified = std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .map_err(|error| describe(&error))?;
    Ok(now.duration_since(modified).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_age_is_the_time_since_the_last_modification() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heartbeat");
        std::fs::write(&path, "").unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let later = modified + Duration::from_secs(7);
        assert_eq!(file_age(&path, later), Ok(Duration::from_secs(7)));
        let touched = modified + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(touched)
            .unwrap();
        assert_eq!(file_age(&path, later), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn a_future_modification_time_is_age_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heartbeat");
        std::fs::write(&path, "").unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let earlier = modified - Duration::from_secs(60);
        assert_eq!(file_age(&path, earlier), Ok(Duration::ZERO));
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let age = file_age(Path::new("/nonexistent/heartbeat"), SystemTime::now());
        assert_eq!(
            age,
            Err("heartbeat file /nonexistent/heartbeat: No such file or directory".to_string())
        );
    }
}
