//! The `[alerts] webhook` channel: each delivery is an http `POST` through [`Probes`]
//! under this source's token range — non-blocking, `TIMEOUT` per try, `TRIES` tries with
//! `BACKOFF` between them — and its end is one `Event::AlertDelivered`. A receiver that
//! refuses, answers an error or never answers costs a few bounded tries, never a wait:
//! retries are deadlines in the loop's poll timeout like any other. At most `MAX_PENDING`
//! deliveries are kept; past that the oldest is given up as failed.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use mio::{Registry, Token};

use crate::core::Event;
use crate::probe_target::HttpTarget;
use crate::probes::{ProbeResult, Probes, format_post};

/// One try's limit, from connect to the response's status line.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Tries of one delivery before it is failed.
const TRIES: u32 = 3;
/// The wait before the second and the third try.
const BACKOFF: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];
/// Deliveries kept (in flight or waiting for a retry) at most.
const MAX_PENDING: usize = 256;

struct Delivery {
    request: Vec<u8>,
    what: String,
    tries: u32,
    /// When the next try is due; `None` while one is in flight.
    retry_at: Option<Instant>,
}

pub struct Webhooks {
    target: HttpTarget,
    requests: Probes,
    deliveries: BTreeMap<u64, Delivery>,
    next_id: u64,
}

impl Webhooks {
    /// Deliveries to `target` under the tokens `first_token .. first_token + capacity`.
    pub fn new(target: HttpTarget, first_token: usize, capacity: usize) -> Webhooks {
        Webhooks {
            target,
            requests: Probes::new(first_token, capacity),
            deliveries: BTreeMap::new(),
            next_id: 0,
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        self.requests.owns(token)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let retry = self.deliveries.values().filter_map(|d| d.retry_at).min();
        [retry, self.requests.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Posts `body` (JSON); `what` names the alert in the log lines.
    pub fn post(
        &mut self,
        body: &str,
        what: String,
        now: Instant,
        registry: &Registry,
        events: &mut VecDeque<Event>,
    ) {
        if self.deliveries.len() >= MAX_PENDING
            && let Some((oldest, delivery)) = self.deliveries.pop_first()
        {
            self.requests.cancel(oldest, registry);
            log::warn!(
                "alerts: webhook delivery of {} given up: {MAX_PENDING} deliveries pending",
                delivery.what
            );
            events.push_back(Event::AlertDelivered { ok: false });
        }
        let id = self.next_id;
        self.next_id += 1;
        let request = format_post(&self.target, "application/json", body);
        self.deliveries.insert(
            id,
            Delivery {
                request,
                what,
                tries: 0,
                retry_at: None,
            },
        );
        self.try_delivery(id, now, registry, events);
    }

    fn try_delivery(
        &mut self,
        id: u64,
        now: Instant,
        registry: &Registry,
        events: &mut VecDeque<Event>,
    ) {
        let Some(delivery) = self.deliveries.get_mut(&id) else {
            return;
        };
        delivery.tries += 1;
        delivery.retry_at = None;
        let started = self.requests.start_request(
            id,
            self.target.address,
            delivery.request.clone(),
            TIMEOUT,
            now,
            registry,
        );
        if let Err(failure) = started {
            self.finished(failure.into(), now, events);
        }
    }

    /// A readiness event on a delivery's socket.
    pub fn handle(
        &mut self,
        token: Token,
        now: Instant,
        registry: &Registry,
        events: &mut VecDeque<Event>,
    ) {
        let mut results = Vec::new();
        self.requests.handle(token, now, registry, &mut results);
        for result in results {
            self.finished(result, now, events);
        }
    }

    /// Every wake-up: tries past their timeout fail, and retries that are due start.
    pub fn expire(&mut self, now: Instant, registry: &Registry, events: &mut VecDeque<Event>) {
        let mut results = Vec::new();
        self.requests.expire(now, registry, &mut results);
        for result in results {
            self.finished(result, now, events);
        }
        let due: Vec<u64> = self
            .deliveries
            .iter()
            .filter(|(_, d)| d.retry_at.is_some_and(|at| at <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.try_delivery(id, now, registry, events);
        }
    }

    /// One try's end: delivered, retried after its backoff, or failed for good.
    fn finished(&mut self, result: ProbeResult, now: Instant, events: &mut VecDeque<Event>) {
        let Some(delivery) = self.deliveries.get_mut(&result.id) else {
            return;
        };
        let target = format!("http://{}{}", self.target.host_header, self.target.path);
        match result.outcome {
            Ok(_) => {
                log::debug!("alerts: webhook {target} took {}", delivery.what);
                self.deliveries.remove(&result.id);
                events.push_back(Event::AlertDelivered { ok: true });
            }
            Err(reason) => match BACKOFF.get(delivery.tries.saturating_sub(1) as usize) {
                Some(backoff) if delivery.tries < TRIES => {
                    log::info!(
                        "alerts: webhook {target} try {} of {TRIES} for {} failed ({reason}), trying again in {}s",
                        delivery.tries,
                        delivery.what,
                        backoff.as_secs()
                    );
                    delivery.retry_at = Some(now + *backoff);
                }
                _ => {
                    log::warn!(
                        "alerts: webhook {target} did not take {} after {TRIES} tries ({reason})",
                        delivery.what
                    );
                    self.deliveries.remove(&result.id);
                    events.push_back(Event::AlertDelivered { ok: false });
                }
            },
        }
    }
}
