//! Tcp and http probes in flight, as non-blocking sockets in PID 1's mio loop (DESIGN.md
//! §4.1, §4.2): `start` connects and registers the socket under a token of the caller's
//! range, `handle` drives it on readiness, `expire` fails the ones past their deadline, and
//! each finished probe leaves as a [`ProbeResult`] for the caller to turn into an event.
//! What a result means for a service (ready, healthy, degraded) is the core's business,
//! not this module's; so is when to probe again.
//!
//! It never blocks, panics or leaks: at most `capacity` probes and one per caller id are in
//! flight, each with a deadline; every probe that finishes, fails, expires or is cancelled
//! is deregistered and its socket closed at once. A server that accepts and never answers
//! is bounded by the timeout; one that sends an endless body by the 8 KiB head buffer.
//!
//! Readiness is edge-triggered and may be spurious, so `handle` always goes as far as the
//! socket allows and treats "not connected yet" as "wait": a stale event for a reused token
//! is harmless.

mod http;
mod tcp;

pub use http::format_post;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::probe_target::ProbeTarget;
use crate::token_slots::TokenSlots;
use crate::unit::format_duration;
use http::HttpExchange;
use tcp::Connection;

/// A probe's timeout is capped so its deadline can always be computed.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// One finished probe: `Ok` with its latency (start to success), or `Err` with the reason
/// (`connection refused`, `HTTP 503`, `timed out after 2s`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeResult {
    pub id: u64,
    pub outcome: Result<Duration, String>,
}

/// A probe that failed before it was in flight (no connect possible, no room): the caller
/// turns it into a result at once, as it would a finished probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeFailure {
    pub id: u64,
    pub reason: String,
}

impl From<ProbeFailure> for ProbeResult {
    fn from(failure: ProbeFailure) -> ProbeResult {
        ProbeResult {
            id: failure.id,
            outcome: Err(failure.reason),
        }
    }
}

/// What a probe's exchange came to after a readiness event.
enum Progress {
    Pending,
    Finished(Result<(), String>),
}

struct Probe {
    id: u64,
    stream: TcpStream,
    started: Instant,
    deadline: Instant,
    timeout: Duration,
    is_connected: bool,
    /// `None` for a tcp probe, which is over once connected.
    exchange: Option<HttpExchange>,
}

impl Probe {
    fn advance(&mut self) -> Progress {
        if !self.is_connected {
            match tcp::connection_state(&self.stream) {
                Connection::Pending => return Progress::Pending,
                Connection::Failed(reason) => return Progress::Finished(Err(reason)),
                Connection::Established => self.is_connected = true,
            }
        }
        match &mut self.exchange {
            None => Progress::Finished(Ok(())),
            Some(exchange) => exchange.advance(&mut self.stream),
        }
    }
}

pub struct Probes {
    slots: TokenSlots<Probe>,
    token_by_id: HashMap<u64, Token>,
}

impl Probes {
    /// Probes use the tokens `first_token .. first_token + capacity`, one per probe in
    /// flight; a range that would overflow is shortened.
    pub fn new(first_token: usize, capacity: usize) -> Probes {
        Probes {
            slots: TokenSlots::new(first_token, capacity),
            token_by_id: HashMap::new(),
        }
    }

    /// Whether `token` is in this module's range (a probe in flight or not).
    pub fn owns(&self, token: Token) -> bool {
        self.slots.owns(token)
    }

    pub fn in_flight(&self) -> usize {
        self.token_by_id.len()
    }

    /// Starts a non-blocking connect to `target`. At most one probe per `id` is in flight:
    /// a probe already in flight for `id` is cancelled first, silently. A failure that
    /// needs no waiting (no route, no free token) is returned at once; every later outcome
    /// arrives through `handle` or `expire`.
    pub fn start(
        &mut self,
        id: u64,
        target: &ProbeTarget,
        timeout: Duration,
        now: Instant,
        registry: &Registry,
    ) -> Result<(), ProbeFailure> {
        self.cancel(id, registry);
        let failure = |reason: String| ProbeFailure { id, reason };
        let Some(token) = self.slots.vacant() else {
            return Err(failure(format!(
                "too many probes in flight (the limit is {})",
                self.slots.capacity()
            )));
        };
        let exchange = match target {
            ProbeTarget::Tcp(_) => None,
            ProbeTarget::Http(http) => {
                Some(HttpExchange::new(http::format_request(http).into_bytes()))
            }
        };
        let request = Request {
            address: target.address(),
            exchange,
        };
        let probe = match connect(id, request, timeout, now, token, registry) {
            Ok(probe) => probe,
            Err(reason) => {
                self.slots.abandon(token);
                return Err(failure(reason));
            }
        };
        self.slots.fill(token, probe);
        self.token_by_id.insert(id, token);
        Ok(())
    }

    /// Starts an http exchange that sends `request` as it is (a webhook's `POST`) to
    /// `address`; its outcome arrives like a probe's, a 2xx or 3xx answer a success.
    pub fn start_request(
        &mut self,
        id: u64,
        address: SocketAddr,
        request: Vec<u8>,
        timeout: Duration,
        now: Instant,
        registry: &Registry,
    ) -> Result<(), ProbeFailure> {
        self.cancel(id, registry);
        let Some(token) = self.slots.vacant() else {
            return Err(ProbeFailure {
                id,
                reason: format!(
                    "too many requests in flight (the limit is {})",
                    self.slots.capacity()
                ),
            });
        };
        let request = Request {
            address,
            exchange: Some(HttpExchange::new(request)),
        };
        match connect(id, request, timeout, now, token, registry) {
            Ok(probe) => {
                self.slots.fill(token, probe);
                self.token_by_id.insert(id, token);
                Ok(())
            }
            Err(reason) => {
                self.slots.abandon(token);
                Err(ProbeFailure { id, reason })
            }
        }
    }

    /// Drives the probe behind `token` after a readiness event; a finished probe's result
    /// goes to `out`. A probe handled at or after its deadline has timed out, whatever it
    /// got, so the outcome does not depend on whether `expire` ran first.
    pub fn handle(
        &mut self,
        token: Token,
        now: Instant,
        registry: &Registry,
        out: &mut Vec<ProbeResult>,
    ) {
        let Some(probe) = self.slots.get_mut(token) else {
            return;
        };
        if now >= probe.deadline {
            let reason = timed_out(probe.timeout);
            self.finish(token, Err(reason), registry, out);
            return;
        }
        if let Progress::Finished(outcome) = probe.advance() {
            let latency = now.saturating_duration_since(probe.started);
            self.finish(token, outcome.map(|()| latency), registry, out);
        }
    }

    /// Fails every probe whose deadline has come with `timed out after …`.
    pub fn expire(&mut self, now: Instant, registry: &Registry, out: &mut Vec<ProbeResult>) {
        let mut due: Vec<(Instant, Token, Duration)> = self
            .slots
            .iter()
            .filter(|(_, probe)| probe.deadline <= now)
            .map(|(token, probe)| (probe.deadline, token, probe.timeout))
            .collect();
        due.sort();
        for (_, token, timeout) in due {
            self.finish(token, Err(timed_out(timeout)), registry, out);
        }
    }

    /// The earliest deadline of a probe in flight, for the loop's poll timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots.iter().map(|(_, probe)| probe.deadline).min()
    }

    /// Drops the probe in flight for `id`, if any, without a result (its service stopped).
    pub fn cancel(&mut self, id: u64, registry: &Registry) {
        if let Some(token) = self.token_by_id.remove(&id) {
            self.release(token, registry);
        }
    }

    fn finish(
        &mut self,
        token: Token,
        outcome: Result<Duration, String>,
        registry: &Registry,
        out: &mut Vec<ProbeResult>,
    ) {
        if let Some(id) = self.release(token, registry) {
            self.token_by_id.remove(&id);
            out.push(ProbeResult { id, outcome });
        }
    }

    /// Deregisters and closes the probe behind `token`; returns its id.
    fn release(&mut self, token: Token, registry: &Registry) -> Option<u64> {
        let mut probe = self.slots.take(token)?;
        // Closing would remove it from epoll too; deregistering first keeps mio's view and
        // the kernel's the same.
        let _ = registry.deregister(&mut probe.stream);
        Some(probe.id)
    }
}

/// Where to connect, and the http exchange to run once connected (none: a tcp probe,
/// over once connected).
struct Request {
    address: SocketAddr,
    exchange: Option<HttpExchange>,
}

/// A connected-or-connecting probe registered under `token`, or why there is none.
fn connect(
    id: u64,
    request: Request,
    timeout: Duration,
    now: Instant,
    token: Token,
    registry: &Registry,
) -> Result<Probe, String> {
    let mut stream = TcpStream::connect(request.address)
        .map_err(|error| tcp::describe_error("connect", &error))?;
    let interest = match request.exchange {
        None => Interest::WRITABLE,
        Some(_) => Interest::READABLE | Interest::WRITABLE,
    };
    registry
        .register(&mut stream, token, interest)
        .map_err(|error| {
            format!(
                "registering the probe's socket: {}",
                crate::sys::io_error_text(&error)
            )
        })?;
    let timeout = timeout.min(MAX_TIMEOUT);
    Ok(Probe {
        id,
        stream,
        started: now,
        deadline: now.checked_add(timeout).unwrap_or(now),
        timeout,
        is_connected: false,
        exchange: request.exchange,
    })
}

fn timed_out(timeout: Duration) -> String {
    format!("timed out after {}", format_duration(timeout))
}

#[cfg(test)]
mod tests;
