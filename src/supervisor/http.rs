//! The read-only HTTP endpoint's answers (DESIGN.md §8): `/healthz`, `/ready`, `/metrics`,
//! `/status`, from the core's state. Pure: the shell parses requests and writes replies.

use std::time::Instant;

use crate::control::protocol::Reply;
use crate::core::{Action, ClientId};

use super::Supervisor;

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

impl Supervisor {
    pub(super) fn on_http(&mut self, client: ClientId, path: &str, now: Instant) -> Vec<Action> {
        let (status, content_type, body) = match path {
            "/healthz" => (200, TEXT, "ok\n".to_string()),
            "/ready" => self.readiness_page(),
            "/status" => (200, JSON, self.status_json(now)),
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

    /// 200 when every wanted service is ready, else 503 with one `name: state` line for
    /// each that is not.
    fn readiness_page(&self) -> (u16, &'static str, String) {
        let waiting: String = self
            .services
            .iter()
            .filter(|s| s.wanted && !s.removed && !s.is_ready())
            .map(|s| format!("{}: {}\n", s.name(), s.state))
            .collect();
        if waiting.is_empty() {
            (200, TEXT, "ready\n".to_string())
        } else {
            (503, TEXT, waiting)
        }
    }

    /// The services array of `phoenixctl --json status`.
    fn status_json(&self, now: Instant) -> String {
        let services = match self.status(None, now) {
            Reply::Status { services } => services,
            _ => Vec::new(),
        };
        // Serialising these plain structs cannot fail; an empty array keeps the body JSON.
        let mut text = serde_json::to_string_pretty(&services).unwrap_or_else(|_| "[]".to_string());
        text.push('\n');
        text
    }
}
