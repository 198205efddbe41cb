//! When a log file is rotated and how: before a line that would take it past `max-size`
//! (never mid-line), by renaming `web.log.N-1` to `web.log.N` down to `web.log` to
//! `web.log.1`, so that `keep` files remain, the live one included.

use std::path::{Path, PathBuf};

/// One step of a rotation, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Remove(PathBuf),
    Rename { from: PathBuf, to: PathBuf },
}

/// Whether a file of `size` bytes must be rotated before `line` bytes are added.
pub fn is_due(size: u64, line: usize, max_size: u64) -> bool {
    size > 0 && size.saturating_add(line as u64) > max_size
}

/// `path.N`.
pub fn numbered(path: &Path, number: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{number}"));
    PathBuf::from(name)
}

/// The renames that keep `keep` files: the oldest goes, each other moves up one.
pub fn plan(path: &Path, keep: u32) -> Vec<Step> {
    if keep <= 1 {
        return vec![Step::Remove(path.to_path_buf())];
    }
    let oldest = keep - 1;
    let mut steps = vec![Step::Remove(numbered(path, oldest))];
    for number in (1..oldest).rev() {
        steps.push(Step::Rename {
            from: numbered(path, number),
            to: numbered(path, number + 1),
        });
    }
    steps.push(Step::Rename {
        from: path.to_path_buf(),
        to: numbered(path, 1),
    });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_comes_before_the_line_that_would_not_fit() {
        assert!(!is_due(0, 5000, 1000), "an empty file takes any line");
        assert!(!is_due(900, 100, 1000));
        assert!(is_due(901, 100, 1000));
    }

    #[test]
    fn the_plan_keeps_keep_files() {
        let path = Path::new("/var/log/web.log");
        assert_eq!(
            plan(path, 3),
            [
                Step::Remove("/var/log/web.log.2".into()),
                Step::Rename {
                    from: "/var/log/web.log.1".into(),
                    to: "/var/log/web.log.2".into()
                },
                Step::Rename {
                    from: "/var/log/web.log".into(),
                    to: "/var/log/web.log.1".into()
                },
            ]
        );
        assert_eq!(plan(path, 1), [Step::Remove(path.into())]);
        assert_eq!(plan(path, 2).len(), 2);
    }
}
