//! How a service's timers and spawns are named, so that what comes back (a fired timer, a
//! spawn's result, a probe's outcome) finds its service: each service owns one timer of
//! each kind and one spawn token of each kind, numbered from its index. Pure arithmetic.

use crate::core::{ProbeId, SpawnToken, TimerId};

/// What a service's timers are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    Restart = 0,
    StopKill = 1,
    TrialReset = 2,
    FinishKill = 3,
    /// Not ready by then: a failed start.
    ReadyTimeout = 4,
    /// The next readiness or health probe is due.
    Probe = 5,
    /// An exec probe ran out of time.
    ProbeKill = 6,
    /// The watchdog's ping or heartbeat is due.
    Watchdog = 7,
    /// Ready (and healthy) for `[recovery] verify`: the run is verified good.
    Verify = 8,
    /// The `restore` hook ran out of `restore-timeout`.
    HookKill = 9,
}

/// Timer ids below this are the supervisor's own.
pub const FIRST_SERVICE_TIMER: TimerId = 16;

/// Timer ids and spawn tokens from here up are not a service's (the disk checks').
pub const RESERVED_ABOVE: u64 = u64::MAX / 2;

/// Timer kinds per service.
const TIMER_KINDS: u64 = 10;

impl TimerKind {
    pub const ALL: [TimerKind; 10] = [
        TimerKind::Restart,
        TimerKind::StopKill,
        TimerKind::TrialReset,
        TimerKind::FinishKill,
        TimerKind::ReadyTimeout,
        TimerKind::Probe,
        TimerKind::ProbeKill,
        TimerKind::Watchdog,
        TimerKind::Verify,
        TimerKind::HookKill,
    ];

    pub fn id(self, index: usize) -> TimerId {
        FIRST_SERVICE_TIMER + index as TimerId * TIMER_KINDS + self as TimerId
    }

    /// The (service index, kind) a timer id belongs to.
    pub fn decode(timer: TimerId) -> Option<(usize, TimerKind)> {
        if timer >= RESERVED_ABOVE {
            return None;
        }
        let offset = timer.checked_sub(FIRST_SERVICE_TIMER)?;
        let kind = *TimerKind::ALL.get(usize::try_from(offset % TIMER_KINDS).ok()?)?;
        Some((usize::try_from(offset / TIMER_KINDS).ok()?, kind))
    }
}

/// What a spawn of a service starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpawnKind {
    /// The service's own program.
    Program = 0,
    /// Its s6 `finish` script.
    Finish = 1,
    /// An exec readiness or health probe.
    Probe = 2,
    /// The `restore` hook of the recovery ladder.
    Hook = 3,
}

const SPAWN_KINDS: u64 = 4;

pub fn spawn_token(index: usize, kind: SpawnKind) -> SpawnToken {
    FIRST_SERVICE_TIMER + index as SpawnToken * SPAWN_KINDS + kind as SpawnToken
}

pub fn decode_spawn_token(token: SpawnToken) -> Option<(usize, SpawnKind)> {
    if token >= RESERVED_ABOVE {
        return None;
    }
    let offset = token.checked_sub(FIRST_SERVICE_TIMER)?;
    let kind = match offset % SPAWN_KINDS {
        0 => SpawnKind::Program,
        1 => SpawnKind::Finish,
        2 => SpawnKind::Probe,
        _ => SpawnKind::Hook,
    };
    Some((usize::try_from(offset / SPAWN_KINDS).ok()?, kind))
}

/// The id of a service's tcp/http probe or heartbeat check.
pub fn probe_id(index: usize) -> ProbeId {
    index as ProbeId
}

pub fn decode_probe_id(probe: ProbeId) -> Option<usize> {
    usize::try_from(probe).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_and_tokens_round_trip() {
        for index in [0, 1, 999] {
            for kind in TimerKind::ALL {
                assert_eq!(TimerKind::decode(kind.id(index)), Some((index, kind)));
            }
            for kind in [
                SpawnKind::Program,
                SpawnKind::Finish,
                SpawnKind::Probe,
                SpawnKind::Hook,
            ] {
                assert_eq!(
                    decode_spawn_token(spawn_token(index, kind)),
                    Some((index, kind))
                );
            }
            assert_eq!(decode_probe_id(probe_id(index)), Some(index));
        }
        assert_eq!(TimerKind::decode(3), None);
        assert_eq!(TimerKind::decode(RESERVED_ABOVE + 4), None);
        assert_eq!(decode_spawn_token(RESERVED_ABOVE), None);
        assert_eq!(decode_spawn_token(3), None);
    }
}
