//! Control requests the shell answers itself — `events` from the event log, `incidents`
//! from the incident log — and every other one queued for the core.

use mio::Token;

use crate::control::protocol::{Reply, Request, format_reply};
use crate::control::server::ClientId;
use crate::core::Event;

use super::{EventLoop, HISTORY_BYTES};

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
