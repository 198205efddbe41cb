//! The control socket bound, and the requests the shell answers itself — `events` from
//! the event log, `incidents` from the incident log — and every other one queued for the
//! core.

use mio::Token;

use crate::control::protocol::{Reply, Request, format_reply};
use crate::control::server::{ClientId, ControlServer};
use crate::core::Event;

use super::{CONTROL, EventLoop, HISTORY_BYTES};

impl EventLoop {
    /// A control client's (or the listener's) readiness; `events` and `incidents` are
    /// answered here from what the shell keeps, every other request goes to the core.
    pub(super) fn serve_control(&mut self, token: Token) {
        let Some(server) = &mut self.control else {
            return;
        };
        let requests = server.handle(token, self.poll.registry());
        for (client, request) in requests {
            match request {
                Request::Events { follow } => self.serve_events(client, follow),
                Request::Incidents { name } => self.serve_incidents(client, name.as_deref()),
                Request::Logs {
                    name,
                    lines,
                    follow,
                } => {
                    if let Some(server) = &mut self.control {
                        let registry = self.poll.registry();
                        self.logs
                            .serve(client, &name, lines, follow, server, registry);
                    }
                }
                request => self.queue.push_back(Event::Control {
                    client: client.to_raw(),
                    request,
                }),
            }
        }
    }

    fn serve_events(&mut self, client: ClientId, follow: bool) {
        let Some(server) = &mut self.control else {
            return;
        };
        let history = self
            .host
            .event_log
            .as_ref()
            .map(|log| log.recent(HISTORY_BYTES as u64))
            .unwrap_or_default();
        let mut budget = HISTORY_BYTES;
        let newest: Vec<Reply> = history
            .into_iter()
            .rev()
            .map(Reply::Event)
            .take_while(|reply| {
                let size = format_reply(reply).len();
                budget = budget.saturating_sub(size);
                budget > 0
            })
            .collect();
        for reply in newest.iter().rev() {
            server.reply(client, reply, self.poll.registry());
        }
        server.reply(client, &Reply::EndOfHistory, self.poll.registry());
        if follow {
            server.follow(client);
        }
    }
}

/// Listens on the first of `paths` that works; one warning for every one that did not.
pub(super) fn bind_control(
    paths: &[std::path::PathBuf],
    registry: &mio::Registry,
) -> Option<ControlServer> {
    let mut failures = Vec::new();
    for path in paths {
        match ControlServer::bind(path, registry, CONTROL) {
            Ok(server) => {
                if !failures.is_empty() {
                    log::warn!(
                        "{}; listening on {} instead",
                        failures.join("; "),
                        path.display()
                    );
                }
                return Some(server);
            }
            Err(error) => failures.push(error.to_string()),
        }
    }
    if !failures.is_empty() {
        log::warn!(
            "no control socket ({}); phoenixctl cannot reach this Phoenix",
            failures.join("; ")
        );
    }
    None
}
