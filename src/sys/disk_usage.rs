//! How full a filesystem is, for `[[disk]]` checks: `statvfs(2)`, counted as `df` does
//! (used blocks over the used ones and those a non-root user could still have).

use std::path::Path;

/// The percent used of the filesystem holding `path`, or why it could not be told.
pub fn used_percent(path: &Path) -> Result<f64, String> {
    let stats = nix::sys::statvfs::statvfs(path)
        .map_err(|errno| format!("statvfs {}: {}", path.display(), errno.desc()))?;
    let used = stats.blocks().saturating_sub(stats.blocks_free()) as f64;
    let available = stats.blocks_available() as f64;
    if used + available <= 0.0 {
        return Ok(0.0);
    }
    Ok(used * 100.0 / (used + available))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_filesystem_and_names_a_missing_path() {
        let used = used_percent(Path::new("/")).unwrap();
        assert!((0.0..=100.0).contains(&used), "{used}");
        let error = used_percent(Path::new("/nonexistent/phoenix")).unwrap_err();
        assert!(error.contains("/nonexistent/phoenix"), "{error}");
    }
}
