//! A machine's name on the network, set by stage 1: the hostname (`sethostname(2)`) and
//! the loopback interface brought up (`SIOCSIFFLAGS`). Errors come back as errno text.

/// `sethostname(2)`.
pub fn set_hostname(name: &str) -> Result<(), String> {
    // SAFETY: the pointer and length describe `name`'s bytes, which outlive the call.
    let result = unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) };
    if result == 0 {
        Ok(())
    } else {
        Err(super::io_error_text(&std::io::Error::last_os_error()))
    }
}

/// `struct ifreq` as SIOCGIFFLAGS/SIOCSIFFLAGS use it: the name, then the flags, padded
/// to the kernel's 40 bytes.
#[repr(C)]
struct InterfaceFlags {
    name: [u8; 16],
    flags: libc::c_short,
    padding: [u8; 22],
}

// <linux/sockios.h>
const SIOCGIFFLAGS: libc::c_ulong = 0x8913;
const SIOCSIFFLAGS: libc::c_ulong = 0x8914;

/// Brings the loopback interface `lo` up.
pub fn loopback_up() -> Result<(), String> {
    let error = || super::io_error_text(&std::io::Error::last_os_error());
    // SAFETY: socket(2) with constant arguments.
    let socket = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if socket < 0 {
        return Err(format!("socket: {}", error()));
    }
    let mut request = InterfaceFlags {
        name: *b"lo\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        flags: 0,
        padding: [0; 22],
    };
    // SAFETY: `request` has the layout the two ioctls read and write, and outlives them.
    let result = unsafe {
        if libc::ioctl(socket, SIOCGIFFLAGS, &mut request) < 0 {
            Err(format!("SIOCGIFFLAGS: {}", error()))
        } else {
            request.flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(socket, SIOCSIFFLAGS, &request) < 0 {
                Err(format!("SIOCSIFFLAGS: {}", error()))
            } else {
                Ok(())
            }
        }
    };
    // SAFETY: closes the socket made above.
    unsafe { libc::close(socket) };
    result
}
