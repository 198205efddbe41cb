//! The system calls of a re-exec: the handoff written into a memfd that survives `exec`,
//! read back (bounded) by the new image, and the `execv` of Phoenix's own binary or of
//! `phoenix-rescue`. An exec that returns is an error for the caller to act on.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The largest handoff read back; a bigger one is refused as malformed.
pub const MAX_HANDOFF_BYTES: u64 = 64 * 1024 * 1024;

/// `bytes` in an anonymous memory file whose descriptor survives `exec`; its number.
pub fn write_memfd(bytes: &[u8]) -> io::Result<RawFd> {
    let name = c"phoenix-handoff";
    // SAFETY: a valid NUL-terminated name; without MFD_CLOEXEC the descriptor is inherited
    // by the exec that follows, which is the point.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned here.
    let mut file = unsafe { File::from_raw_fd(fd) };
    file.write_all(bytes)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(file.into_raw_fd())
}

/// Reads the handoff from `fd` (then closes it), refusing one over the limit.
pub fn read_handoff(fd: RawFd) -> Result<Vec<u8>, String> {
    // SAFETY: fstat on a number we were told is ours; a bad one fails with EBADF.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `stat` is a valid, writable stat buffer.
    if unsafe { libc::fstat(fd, &mut stat) } != 0 {
        return Err(format!(
            "descriptor {fd}: {}",
            crate::sys::io_error_text(&io::Error::last_os_error())
        ));
    }
    // SAFETY: the descriptor is open (fstat succeeded) and was handed to this image to own;
    // a standard stream named by mistake is read but left open.
    let file = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    let mut bytes = Vec::new();
    let result = (&*file)
        .take(MAX_HANDOFF_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("descriptor {fd}: {}", crate::sys::io_error_text(&error)));
    if fd > 2 {
        drop(std::mem::ManuallyDrop::into_inner(file));
    }
    result?;
    if bytes.len() as u64 > MAX_HANDOFF_BYTES {
        return Err(format!("larger than {MAX_HANDOFF_BYTES} bytes"));
    }
    Ok(bytes)
}

/// Replaces this process with `program` run with `args` (argv[0] included); returns
/// only on failure.
pub fn exec(program: &Path, args: &[OsString]) -> io::Error {
    let Ok(path) = CString::new(program.as_os_str().as_bytes()) else {
        return io::Error::new(io::ErrorKind::InvalidInput, "NUL in the program path");
    };
    let mut argv = Vec::with_capacity(args.len());
    for arg in args {
        match CString::new(arg.as_bytes()) {
            Ok(arg) => argv.push(arg),
            Err(_) => return io::Error::new(io::ErrorKind::InvalidInput, "NUL in an argument"),
        }
    }
    let mut pointers: Vec<*const libc::c_char> = argv.iter().map(|arg| arg.as_ptr()).collect();
    pointers.push(std::ptr::null());
    // SAFETY: `path` and every argument are NUL-terminated and outlive the call; the
    // pointer array ends with NULL. The environment is inherited as it is.
    unsafe { libc::execv(path.as_ptr(), pointers.as_ptr()) };
    io::Error::last_os_error()
}

/// Closes a descriptor the failed exec did not consume.
pub fn close(fd: RawFd) {
    // SAFETY: closes a descriptor this module created; errors are of no use here.
    unsafe { libc::close(fd) };
}

/// Keeps `fd` open across exec by clearing its close-on-exec flag.
pub fn keep_across_exec(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFD/F_SETFD on a descriptor the caller holds.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memfd_round_trips_and_big_ones_are_refused() {
        let fd = write_memfd(b"{\"version\":1}").unwrap();
        assert_eq!(read_handoff(fd).unwrap(), b"{\"version\":1}");
        assert!(read_handoff(9999).unwrap_err().contains("descriptor 9999"));
    }
}
