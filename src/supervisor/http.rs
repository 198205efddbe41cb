//! The read-only HTTP endpoint's answers (DESIGN.md §8): `/healthz`, `/ready`, `/metrics`,
//! `/status`, from the core's state. Pure: the shell parses requests and writes replies.

use std::time::Instant;

use crate::core::{Action, ClientId};

use super::Supervisor;

const TEXT: &str = "text/plain; charset=utf-8";

impl Supervisor {
    pub(super) fn on_http(&mut self, client: ClientId, path: &str, now: Instant) -> Vec<Action> {
        let (status, content_type, body) = match path {
            "/healthz" => (200, TEXT, "ok\n".to_string()),
            "/metrics" => (
                200,
                crate::metrics::CONTENT_TYPE,
                crate::metrics::render(self, now),
            ),
            _ => (404, TEXT, format!("no such path: {path}\n")),
        };
        vec![Action::HttpReply {
            client,
            status,
            content_type: content_type.to_string(),
            body,
        }]
    }
}
