//! The one conversion between the monotonic clock the core reasons in and the wall clock
//! files are stamped with: both read once, at one moment, and every instant of a record
//! converted against that pair (so the instants of one record keep their order and gaps).
//! Shell only: the pure core never reads a clock.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The monotonic and the wall clock, read together.
pub struct Clocks {
    instant: Instant,
    wall_ms: u64,
}

impl Clocks {
    pub fn now() -> Clocks {
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis);
        Clocks {
            instant: Instant::now(),
            wall_ms,
        }
    }

    /// Milliseconds since the Unix epoch at `at` (0 for anything before it).
    pub fn to_wall(&self, at: Instant) -> u64 {
        if at >= self.instant {
            self.wall_ms.saturating_add(millis(at - self.instant))
        } else {
            self.wall_ms.saturating_sub(millis(self.instant - at))
        }
    }

    /// The wall-clock time of `at`.
    pub fn to_system_time(&self, at: Instant) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.to_wall(at))
    }

    /// The instant of a wall-clock time in milliseconds; one before the monotonic clock's
    /// origin becomes the moment the clocks were read.
    pub fn to_instant(&self, wall_ms: u64) -> Instant {
        if wall_ms >= self.wall_ms {
            self.instant + Duration::from_millis(wall_ms - self.wall_ms)
        } else {
            let ago = Duration::from_millis(self.wall_ms - wall_ms);
            self.instant.checked_sub(ago).unwrap_or(self.instant)
        }
    }
}

/// A duration in whole milliseconds, saturating (a `u64` of milliseconds lasts 584 million
/// years).
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_through_the_wall_clock() {
        let clocks = Clocks::now();
        let later = clocks.instant + Duration::from_secs(90);
        let wall = clocks.to_wall(later);
        assert_eq!(wall - clocks.to_wall(clocks.instant), 90_000);
        assert_eq!(clocks.to_instant(wall), later);
        let earlier = clocks.instant.checked_sub(Duration::from_millis(1500));
        if let Some(earlier) = earlier {
            assert_eq!(clocks.wall_ms - clocks.to_wall(earlier), 1500);
            let since = clocks
                .to_system_time(clocks.instant)
                .duration_since(clocks.to_system_time(earlier))
                .unwrap();
            assert_eq!(since, Duration::from_millis(1500));
        }
    }
}
