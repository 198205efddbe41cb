//! The probe tests' loop: a real mio `Poll` driven as the event loop would drive it, until
//! the expected results arrive or a generous deadline passes (never a fixed sleep).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use crate::probe_target::{ProbeTarget, parse_http_url};
use crate::probes::{ProbeFailure, ProbeResult, Probes};

pub const FIRST_TOKEN: usize = 100;
/// How long a test drives the loop before it gives up: far beyond what any probe here
/// needs, for a slow, busy machine.
pub const TEST_LIMIT: Duration = Duration::from_secs(20);
/// A "success" probe's timeout: it should never be what decides.
pub const GENEROUS: Duration = Duration::from_secs(10);

pub struct Harness {
    pub poll: Poll,
    events: Events,
    pub probes: Probes,
}

impl Harness {
    pub fn new(capacity: usize) -> Harness {
        Harness {
            poll: Poll::new().unwrap(),
            events: Events::with_capacity(256),
            probes: Probes::new(FIRST_TOKEN, capacity),
        }
    }

    pub fn start(
        &mut self,
        id: u64,
        target: &ProbeTarget,
        timeout: Duration,
    ) -> Result<(), ProbeFailure> {
        let registry = self.poll.registry();
        self.probes
            .start(id, target, timeout, Instant::now(), registry)
    }

    /// Drives the loop until `count` results arrived, as the event loop would: expire,
    /// poll until the next deadline, handle every ready token.
    pub fn finish(&mut self, count: usize) -> Vec<ProbeResult> {
        let limit = Instant::now() + TEST_LIMIT;
        let mut out = Vec::new();
        loop {
            self.probes
                .expire(Instant::now(), self.poll.registry(), &mut out);
            if out.len() >= count {
                return out;
            }
            let now = Instant::now();
            assert!(
                now < limit,
                "{} of {count} probes finished: {out:?}",
                out.len()
            );
            let wake = self
                .probes
                .next_deadline()
                .map_or(limit, |deadline| deadline.min(limit));
            self.poll
                .poll(&mut self.events, Some(wake.saturating_duration_since(now)))
                .unwrap();
            for event in self.events.iter() {
                assert!(self.probes.owns(event.token()), "{:?}", event.token());
                let registry = self.poll.registry();
                self.probes
                    .handle(event.token(), Instant::now(), registry, &mut out);
            }
        }
    }

    /// One probe, start to result.
    pub fn probe(&mut self, target: &ProbeTarget, timeout: Duration) -> Result<Duration, String> {
        self.start(7, target, timeout)
            .map_err(|failure| failure.reason)?;
        let results = self.finish(1);
        assert_eq!(results.len(), 1, "{results:?}");
        assert_eq!(results[0].id, 7);
        assert_eq!(self.probes.in_flight(), 0);
        assert_eq!(self.probes.next_deadline(), None);
        results[0].outcome.clone()
    }
}

pub fn tcp(address: SocketAddr) -> ProbeTarget {
    ProbeTarget::Tcp(address)
}

pub fn http(address: SocketAddr, path: &str) -> ProbeTarget {
    ProbeTarget::Http(parse_http_url(&format!("http://{address}{path}")).unwrap())
}
