//! The read-only HTTP endpoint's answers (DESIGN.md §8): `/healthz`, `/ready`, `/metrics`,
//! `/status`, from the core's state. Pure: the shell parses requests and writes replies.

use std::time::Instant;

use crate::core::{Action, ClientId};

use super::Supervisor;

impl Supervisor {
    pub(super) fn on_http(&mut self, client: ClientId, path: &str, _now: Instant) -> Vec<Action> {
        let (status, body) = match path {
            "/healthz" => (200, "ok\n".to_string()),
            _ => (404, format!("no such path: {path}\n")),
        };
        vec![Action::HttpReply {
            client,
            status,
            content_type: "text/plain; charset=utf-8".to_string(),
            body,
        }]
    }
}
