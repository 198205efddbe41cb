//! The HTTP endpoint as an input source of the loop: [`HttpServer`] under this source's
//! token range, its well-formed requests queued as `Event::HttpRequest` like control
//! requests, and `Action::HttpReply` written back. Speaking HTTP is `crate::http`'s; what
//! a path answers is the core's.

use std::time::Instant;

use mio::{Registry, Token};

use crate::core::{ClientId, Event};
use crate::http::HttpServer;
use crate::sys::notify_socket::Reading;
use crate::unit::HttpSettings;

use super::EventLoop;

/// The endpoint, or none (no `[http] listen`, or the address cannot be bound: a warning,
/// and Phoenix supervises without it).
pub(super) fn bind_http(
    settings: Option<&HttpSettings>,
    registry: &Registry,
    first_token: usize,
) -> Option<HttpServer> {
    match HttpServer::bind(settings?, registry, first_token) {
        Ok(server) => Some(server),
        Err(error) => {
            log::warn!("{error}; no HTTP endpoint");
            None
        }
    }
}

impl EventLoop {
    pub(super) fn serve_http(&mut self, token: Token, now: Instant) -> Reading {
        let Some(server) = &mut self.http else {
            return Reading::Drained;
        };
        let mut requests = Vec::new();
        let reading = server.handle(token, now, self.poll.registry(), &mut requests);
        for (client, path) in requests {
            self.queue.push_back(Event::HttpRequest { client, path });
        }
        reading
    }

    pub(super) fn reply_http(
        &mut self,
        client: ClientId,
        status: u16,
        content_type: &str,
        body: &str,
    ) {
        if let Some(server) = &mut self.http {
            server.reply(client, status, content_type, body, self.poll.registry());
        }
    }
}
