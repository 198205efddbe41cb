//! What of a service outlives Phoenix: restart count, failure tally, circuit, and whether
//! it was failed. A record belongs to one unit definition in one services directory
//! (DESIGN.md §5): it carries the fingerprint of the unit and the canonical path of the
//! directory, and applies at start only to a unit of the same name, fingerprint and
//! directory; anything else starts fresh, with a line saying why. `failed` is kept for a
//! re-exec; a cold start is the operator's retry and starts the service again. The shell
//! turns instants into wall-clock times on disk and back; the core only sees instants.

use std::fmt;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Budget, Circuit, Service, State};
use crate::unit::Unit;

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRecord {
    pub name: String,
    /// The unit definition the record was kept for ([`fingerprint`]).
    pub fingerprint: Fingerprint,
    /// The canonical services directory the unit came from.
    pub services_dir: PathBuf,
    pub restarts: u32,
    pub consecutive: u32,
    pub failures: Vec<Instant>,
    pub circuit: Circuit,
    /// Failed for good (budget exhausted with `stop`): stays failed until reset, or until
    /// the next cold start.
    pub failed: bool,
}

/// A stable hash of a unit definition: FNV-1a (64 bits) over its `Debug` text, with the
/// unit file's directory left out (the directory is matched on its own, by its canonical
/// path). Stable across runs and builds of one Phoenix; a Phoenix whose `Debug` output of
/// a unit changed sees every record once as "unit changed", which costs a fresh budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Fingerprint {
    /// The 16 hex digits [`Fingerprint`]'s `Display` writes.
    pub fn parse(text: &str) -> Option<Fingerprint> {
        (text.len() == 16)
            .then(|| u64::from_str_radix(text, 16).ok())
            .flatten()
            .map(Fingerprint)
    }
}

pub fn fingerprint(unit: &Unit) -> Fingerprint {
    let mut unit = unit.clone();
    if let Some(file_name) = unit.source.file_name() {
        unit.source = PathBuf::from(file_name);
    }
    let mut hasher = Fnv1a::default();
    hasher.write(format!("{unit:?}").as_bytes());
    Fingerprint(hasher.finish())
}

/// FNV-1a, 64 bits: unlike `DefaultHasher`, its output is fixed by its definition.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// How this Phoenix began, which decides whether `failed` is restored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Start {
    /// A fresh process (boot, container start, the operator's restart).
    #[default]
    Cold,
    /// A re-exec of a running Phoenix, which keeps everything.
    Resumed,
}

/// The records an earlier run saved, and what they are matched against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Records {
    /// This run's services directory, canonical: saved records carry it.
    pub services_dir: PathBuf,
    /// Records not yet applied.
    pub saved: Vec<ServiceRecord>,
    pub start: Start,
}

/// Why a saved record does not apply to a unit of its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mismatch {
    OtherDirectory,
    UnitChanged,
}

impl Records {
    /// The record saved for `service`'s unit, applied (and logged) if it matches; once
    /// taken, a record is gone, so a unit removed and added again later starts fresh.
    pub fn restore(&mut self, service: &mut Service, now: Instant) {
        let name = &service.unit.name;
        let Some(position) = self.saved.iter().position(|r| &r.name == name) else {
            return;
        };
        let record = self.saved.swap_remove(position);
        match record.check(&service.unit, &self.services_dir) {
            Ok(()) => record.restore(service, self.start, now),
            Err(Mismatch::OtherDirectory) => log::info!(
                "{name}: saved state is from another services directory ({}), starting fresh",
                record.services_dir.display()
            ),
            Err(Mismatch::UnitChanged) => log::info!(
                "{name}: saved state is for another definition (unit changed), starting fresh"
            ),
        }
    }
}

impl ServiceRecord {
    /// The record of `service`, whose unit came from `services_dir`. The fingerprint is of
    /// the unit loaded from disk, also while a last-known-good definition runs.
    pub fn of(service: &Service, services_dir: &Path) -> ServiceRecord {
        let unit = service.loaded.as_deref().unwrap_or(&service.unit);
        ServiceRecord {
            name: service.unit.name.clone(),
            fingerprint: fingerprint(unit),
            services_dir: services_dir.to_path_buf(),
            restarts: service.restarts,
            consecutive: service.budget.consecutive,
            failures: service.budget.failures().copied().collect(),
            circuit: service.budget.circuit,
            failed: service.state == State::Failed,
        }
    }

    /// Whether the record was kept for this very unit in this directory.
    pub fn check(&self, unit: &Unit, services_dir: &Path) -> Result<(), Mismatch> {
        if self.services_dir != services_dir {
            Err(Mismatch::OtherDirectory)
        } else if self.fingerprint != fingerprint(unit) {
            Err(Mismatch::UnitChanged)
        } else {
            Ok(())
        }
    }

    /// Puts a saved record back on a freshly loaded service, saying what came back. An
    /// open circuit is announced when the supervisor resumes it.
    pub fn restore(&self, service: &mut Service, start: Start, now: Instant) {
        service.restarts = self.restarts;
        service.budget = Budget::restore(self.failures.clone(), self.consecutive, self.circuit);
        let recent = service
            .budget
            .failures_in_window(&service.unit.restart, now);
        log::info!(
            "{}: restored {}, {} in the window",
            service.unit.name,
            plural(self.restarts as usize, "restart"),
            plural(recent, "failure")
        );
        match (self.failed, start) {
            (false, _) => {}
            (true, Start::Resumed) => service.state = State::Failed,
            (true, Start::Cold) => log::info!(
                "{}: was failed when Phoenix last stopped; starting it again",
                service.unit.name
            ),
        }
    }
}

fn plural(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::parse_unit;

    fn unit(text: &str) -> Unit {
        parse_unit("web", Path::new("/srv/a/web.toml"), text).unwrap()
    }

    fn record(unit: &Unit, dir: &str, failed: bool) -> ServiceRecord {
        ServiceRecord {
            name: unit.name.clone(),
            fingerprint: fingerprint(unit),
            services_dir: PathBuf::from(dir),
            restarts: 3,
            consecutive: 2,
            failures: vec![crate::testing::now()],
            circuit: Circuit::Closed,
            failed,
        }
    }

    fn records(saved: Vec<ServiceRecord>, start: Start) -> Records {
        Records {
            services_dir: PathBuf::from("/srv/a"),
            saved,
            start,
        }
    }

    #[test]
    fn fnv1a_matches_its_published_vectors() {
        let hash = |text: &str| {
            let mut hasher = Fnv1a::default();
            hasher.write(text.as_bytes());
            hasher.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_fingerprint_follows_the_definition_not_the_directory_it_was_read_from() {
        let web = unit("command = \"run web\"");
        let mut moved = web.clone();
        moved.source = PathBuf::from("/elsewhere/web.toml");
        assert_eq!(fingerprint(&web), fingerprint(&moved));
        assert_eq!(fingerprint(&web), fingerprint(&web.clone()));
        assert_ne!(
            fingerprint(&web),
            fingerprint(&unit("command = \"run web2\""))
        );
        let mut s6 = web.clone();
        s6.source = PathBuf::from("/srv/a/web");
        assert_ne!(fingerprint(&web), fingerprint(&s6), "web.toml is not web/");
    }

    #[test]
    fn fingerprints_round_trip_through_their_text() {
        let print = fingerprint(&unit("command = \"run web\""));
        assert_eq!(Fingerprint::parse(&print.to_string()), Some(print));
        assert_eq!(Fingerprint::parse("0123"), None);
        assert_eq!(Fingerprint::parse("zzzzzzzzzzzzzzzz"), None);
    }

    #[test]
    fn a_record_applies_only_to_the_same_unit_in_the_same_directory() {
        let web = unit("command = \"run web\"");
        let changed = unit("command = \"run web\"\n[restart]\nmax-failures = 9");
        let rows = [
            ("/srv/a", &web, Ok(())),
            ("/srv/b", &web, Err(Mismatch::OtherDirectory)),
            ("/srv/a", &changed, Err(Mismatch::UnitChanged)),
            ("/srv/b", &changed, Err(Mismatch::OtherDirectory)),
        ];
        for (dir, now_unit, expected) in rows {
            let saved = record(&web, "/srv/a", false);
            assert_eq!(saved.check(now_unit, Path::new(dir)), expected, "{dir}");
        }
    }

    #[test]
    fn a_matching_record_restores_counts_and_is_used_once() {
        let web = unit("command = \"run web\"");
        let mut saved = records(vec![record(&web, "/srv/a", false)], Start::Cold);
        let mut service = Service::new(0, web.clone());
        saved.restore(&mut service, crate::testing::now());
        assert_eq!((service.restarts, service.budget.consecutive), (3, 2));
        assert!(saved.saved.is_empty());
        let mut again = Service::new(0, web);
        saved.restore(&mut again, crate::testing::now());
        assert_eq!(again.restarts, 0, "a record applies once");
    }

    #[test]
    fn a_record_of_another_directory_or_definition_is_dropped_unapplied() {
        let web = unit("command = \"run web\"");
        for saved in [
            record(&web, "/srv/b", true),
            record(&unit("command = \"old\""), "/srv/a", true),
        ] {
            let mut saved = records(vec![saved], Start::Resumed);
            let mut service = Service::new(0, web.clone());
            saved.restore(&mut service, crate::testing::now());
            assert_eq!(service.restarts, 0);
            assert_eq!(service.state, State::Down);
            assert!(saved.saved.is_empty());
        }
    }

    #[test]
    fn failed_is_restored_across_a_re_exec_only() {
        let web = unit("command = \"run web\"");
        for (start, state) in [(Start::Cold, State::Down), (Start::Resumed, State::Failed)] {
            let mut saved = records(vec![record(&web, "/srv/a", true)], start);
            let mut service = Service::new(0, web.clone());
            saved.restore(&mut service, crate::testing::now());
            assert_eq!(service.state, state, "{start:?}");
            assert_eq!(
                service.restarts, 3,
                "{start:?}: the counts come back either way"
            );
        }
    }
}
