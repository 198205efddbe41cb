//! The mount system calls of a machine's boot and end (DESIGN.md §10): `mount(2)` of the
//! filesystems stage 1 provides, `umount2(2)`, the read-only remount of what will not
//! unmount, and `sync(2)`. Errors come back as errno text for the boot's log.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::boot::mount_table::{MountOption, StageOneMount};

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| "NUL in the path".to_string())
}

fn last_error() -> String {
    super::io_error_text(&std::io::Error::last_os_error())
}

/// Mounts `mount`, creating its mount point first when it is missing.
pub fn mount(mount: &StageOneMount) -> Result<(), String> {
    let target = Path::new(mount.target);
    if !target.is_dir() {
        std::fs::create_dir_all(target).map_err(|error| {
            format!(
                "unable to create the mount point: {}",
                super::io_error_text(&error)
            )
        })?;
    }
    let flags = mount.options.iter().fold(0, |flags, option| {
        flags
            | match option {
                MountOption::NoSuid => libc::MS_NOSUID,
                MountOption::NoDev => libc::MS_NODEV,
                MountOption::NoExec => libc::MS_NOEXEC,
            }
    });
    let source = CString::new(mount.source).map_err(|_| "NUL in the source".to_string())?;
    let fstype = CString::new(mount.fstype).map_err(|_| "NUL in the type".to_string())?;
    let data = CString::new(mount.data).map_err(|_| "NUL in the options".to_string())?;
    let target = c_path(target)?;
    // SAFETY: every pointer is a NUL-terminated string that outlives the call.
    let result = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

pub fn unmount(target: &Path) -> Result<(), String> {
    let target = c_path(target)?;
    // SAFETY: a NUL-terminated path; no flags.
    if unsafe { libc::umount2(target.as_ptr(), 0) } == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

pub fn remount_read_only(target: &Path) -> Result<(), String> {
    let target = c_path(target)?;
    // SAFETY: a NUL-terminated target; null source, type and data are allowed for a
    // remount.
    let result = unsafe {
        libc::mount(
            std::ptr::null(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT | libc::MS_RDONLY,
            std::ptr::null(),
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

pub fn sync() {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}
