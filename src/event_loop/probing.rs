//! Tcp and http probes as an input source of the loop: [`Probes`] under this source's
//! token range, with its results turned into `Event::ProbeFinished` and queued. A probe
//! that fails before it is in flight answers at once, behind what already waits; one that
//! is restarted or cancelled answers no more, not even from the queue (`core::Action`
//! promises it). Connecting, reading and deadlines are `crate::probes`'s; what a result
//! means is the core's.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mio::{Registry, Token};

use crate::core::{Event, ProbeId};
use crate::probe_target::ProbeTarget;
use crate::probes::{ProbeResult, Probes};

pub struct ProbeSource {
    probes: Probes,
}

impl ProbeSource {
    /// Probes under the tokens `first_token .. first_token + capacity`.
    pub fn new(first_token: usize, capacity: usize) -> ProbeSource {
        ProbeSource {
            probes: Probes::new(first_token, capacity),
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        self.probes.owns(token)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.probes.next_deadline()
    }

    /// `Action::StartProbe`: replaces any probe `probe` in flight or answered but unread.
    pub fn start(
        &mut self,
        probe: ProbeId,
        target: &ProbeTarget,
        timeout: Duration,
        registry: &Registry,
        events: &mut VecDeque<Event>,
    ) {
        forget_results(probe, events);
        let started = self
            .probes
            .start(probe, target, timeout, Instant::now(), registry);
        if let Err(failure) = started {
            events.push_back(finished(failure.into()));
        }
    }

    /// `Action::CancelProbe`: no `ProbeFinished` comes for `probe` after this.
    pub fn cancel(&mut self, probe: ProbeId, registry: &Registry, events: &mut VecDeque<Event>) {
        forget_results(probe, events);
        self.probes.cancel(probe, registry);
    }

    /// A readiness event on a probe's socket.
    pub fn handle(
        &mut self,
        token: Token,
        now: Instant,
        registry: &Registry,
        events: &mut VecDeque<Event>,
    ) {
        let mut results = Vec::new();
        self.probes.handle(token, now, registry, &mut results);
        events.extend(results.into_iter().map(finished));
    }

    /// Every wake-up: the probes whose deadline has come fail as timed out.
    pub fn expire(&mut self, now: Instant, registry: &Registry, events: &mut VecDeque<Event>) {
        let mut results = Vec::new();
        self.probes.expire(now, registry, &mut results);
        events.extend(results.into_iter().map(finished));
    }
}

fn finished(result: ProbeResult) -> Event {
    Event::ProbeFinished {
        probe: result.id,
        outcome: result.outcome,
    }
}

fn forget_results(probe: ProbeId, events: &mut VecDeque<Event>) {
    events.retain(
        |event| !matches!(event, Event::ProbeFinished { probe: queued, .. } if *queued == probe),
    );
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use mio::{Events, Poll};

    use super::*;

    const FIRST_TOKEN: usize = 100;

    fn refused_target() -> ProbeTarget {
        // A port just closed: nobody listens there.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        ProbeTarget::Tcp(address)
    }

    /// Serves readiness until `events` holds something or the deadline passes.
    fn serve(poll: &mut Poll, source: &mut ProbeSource, events: &mut VecDeque<Event>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut ready = Events::with_capacity(8);
        while events.is_empty() && Instant::now() < deadline {
            poll.poll(&mut ready, Some(Duration::from_millis(50)))
                .unwrap();
            for event in &ready {
                assert!(source.owns(event.token()));
                source.handle(event.token(), Instant::now(), poll.registry(), events);
            }
            source.expire(Instant::now(), poll.registry(), events);
        }
    }

    #[test]
    fn a_finished_probe_becomes_an_event() {
        let mut poll = Poll::new().unwrap();
        let mut source = ProbeSource::new(FIRST_TOKEN, 4);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = ProbeTarget::Tcp(listener.local_addr().unwrap());
        let mut events = VecDeque::new();
        source.start(
            7,
            &target,
            Duration::from_secs(5),
            poll.registry(),
            &mut events,
        );
        serve(&mut poll, &mut source, &mut events);
        assert!(
            matches!(
                events.make_contiguous(),
                [Event::ProbeFinished {
                    probe: 7,
                    outcome: Ok(_)
                }]
            ),
            "{events:?}"
        );
    }

    #[test]
    fn a_refused_probe_fails_and_a_cancelled_one_says_nothing() {
        let mut poll = Poll::new().unwrap();
        let mut source = ProbeSource::new(FIRST_TOKEN, 4);
        let mut events = VecDeque::new();
        let target = refused_target();
        source.start(
            1,
            &target,
            Duration::from_secs(5),
            poll.registry(),
            &mut events,
        );
        serve(&mut poll, &mut source, &mut events);
        assert!(
            matches!(
                events.make_contiguous(),
                [Event::ProbeFinished { probe: 1, outcome: Err(reason) }]
                    if reason.contains("refused")
            ),
            "{events:?}"
        );
        source.cancel(1, poll.registry(), &mut events);
        assert!(events.is_empty(), "a queued result is forgotten too");
        source.start(
            2,
            &target,
            Duration::from_secs(5),
            poll.registry(),
            &mut events,
        );
        source.cancel(2, poll.registry(), &mut events);
        let mut ready = Events::with_capacity(8);
        poll.poll(&mut ready, Some(Duration::from_millis(100)))
            .unwrap();
        assert!(ready.is_empty(), "a cancelled probe is deregistered");
        assert_eq!(source.next_deadline(), None);
    }

    #[test]
    fn a_probe_without_room_fails_at_once() {
        let poll = Poll::new().unwrap();
        let mut source = ProbeSource::new(FIRST_TOKEN, 1);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = ProbeTarget::Tcp(listener.local_addr().unwrap());
        let mut events = VecDeque::new();
        source.start(
            1,
            &target,
            Duration::from_secs(5),
            poll.registry(),
            &mut events,
        );
        source.start(
            2,
            &target,
            Duration::from_secs(5),
            poll.registry(),
            &mut events,
        );
        assert!(
            matches!(
                events.make_contiguous(),
                [Event::ProbeFinished { probe: 2, outcome: Err(reason) }]
                    if reason.starts_with("too many probes in flight")
            ),
            "{events:?}"
        );
        assert!(source.next_deadline().is_some());
    }
}
