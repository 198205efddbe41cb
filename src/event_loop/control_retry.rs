//! A reload tries again for the control socket that the start could not make (a runtime
//! directory unwritable then, fixed since), and gives the notify sockets its directory.

use super::requests::bind_control;
use super::{EventLoop, NOTIFY_DIRECTORY};

impl EventLoop {
    pub(super) fn retry_control_socket(&mut self) {
        if self.control.is_some() || self.host.control_sockets.is_empty() {
            return;
        }
        self.control = bind_control(&self.host.control_sockets, self.poll.registry());
        if let Some(runtime) = self
            .control
            .as_ref()
            .and_then(|server| server.path().parent())
        {
            self.notify.set_directory(runtime.join(NOTIFY_DIRECTORY));
        }
    }
}
