//! Where the control socket lives when nothing says otherwise (DESIGN.md §7):
//! `/run/phoenix` for root, `$XDG_RUNTIME_DIR/phoenix` for anyone else (falling back to
//! the temporary directory), and `control.sock` inside it. `phoenixctl` uses the same rule,
//! after `--socket` and `$PHOENIX_SOCKET`.

use std::path::PathBuf;

pub const SOCKET_NAME: &str = "control.sock";

pub fn default_runtime_dir() -> PathBuf {
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/run/phoenix");
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("phoenix")
}

pub fn default_socket_path() -> PathBuf {
    default_runtime_dir().join(SOCKET_NAME)
}
