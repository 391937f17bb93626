//! The mock's clock: frozen until told to move, or running on wall time with an offset
//! and a speed factor. One clock per mock; nothing here is global.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How the clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase")]
pub enum ClockMode {
    /// Time moves only when the clock is advanced. The default when embedded.
    Frozen,
    /// Time follows the wall clock, `speed` virtual seconds per real second, plus every
    /// advance. The default for the binary.
    Running {
        /// Virtual seconds per wall-clock second; 1.0 is real time.
        speed: f64,
    },
}

impl ClockMode {
    /// `frozen` or `running`.
    pub fn name(&self) -> &'static str {
        match self {
            ClockMode::Frozen => "frozen",
            ClockMode::Running { .. } => "running",
        }
    }
}

#[derive(Debug)]
struct Anchor {
    mode: ClockMode,
    /// Virtual unix ms at `wall`.
    virtual_ms: u64,
    wall: Instant,
}

/// A virtual clock. Reads are cheap; moves are forward only.
#[derive(Debug)]
pub struct Clock {
    anchor: Mutex<Anchor>,
}

/// A request to move the clock backwards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the clock only moves forward: {requested} is before the current time {now}")]
pub struct BackwardsError {
    /// The current unix ms.
    pub now: u64,
    /// The unix ms asked for.
    pub requested: u64,
}

impl Clock {
    /// A clock reading `start_ms`, moving as `mode` says.
    pub fn new(start_ms: u64, mode: ClockMode) -> Self {
        Clock {
            anchor: Mutex::new(Anchor {
                mode,
                virtual_ms: start_ms,
                wall: wall_now(),
            }),
        }
    }

    /// The current virtual time, unix ms.
    pub fn now_ms(&self) -> u64 {
        let anchor = self.lock();
        read(&anchor, wall_now())
    }

    /// How the clock moves now.
    pub fn mode(&self) -> ClockMode {
        self.lock().mode
    }

    /// Switches the mode; the reading carries on from where it is.
    pub fn set_mode(&self, mode: ClockMode) {
        let mut anchor = self.lock();
        let wall = wall_now();
        anchor.virtual_ms = read(&anchor, wall);
        anchor.wall = wall;
        anchor.mode = mode;
    }

    /// Moves the clock to `target` if that is later than now; never moves it back.
    pub(crate) fn move_forward_to(&self, target: u64) {
        let mut anchor = self.lock();
        let wall = wall_now();
        let now = read(&anchor, wall);
        anchor.virtual_ms = now.max(target);
        anchor.wall = wall;
    }

    /// Sets the reading and the mode outright, as a reset or an import does.
    pub(crate) fn reset(&self, now_ms: u64, mode: ClockMode) {
        let mut anchor = self.lock();
        anchor.virtual_ms = now_ms;
        anchor.wall = wall_now();
        anchor.mode = mode;
    }

    /// Checks that `target` is not in the past.
    ///
    /// # Errors
    /// [`BackwardsError`] when `target` is before the current time.
    pub fn check_forward(&self, target: u64) -> Result<(), BackwardsError> {
        let now = self.now_ms();
        if target < now {
            return Err(BackwardsError {
                now,
                requested: target,
            });
        }
        Ok(())
    }

    /// How long on the wall clock until the virtual time reaches `at`; `None` when the
    /// clock is frozen and will never get there by itself.
    pub(crate) fn wall_time_until(&self, at: u64) -> Option<Duration> {
        let anchor = self.lock();
        let ClockMode::Running { speed } = anchor.mode else {
            return None;
        };
        let now = read(&anchor, wall_now());
        let virtual_ms = at.saturating_sub(now) as f64;
        Some(Duration::from_secs_f64(
            virtual_ms / 1000.0 / speed.max(f64::MIN_POSITIVE),
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Anchor> {
        // A poisoned lock only means another thread panicked mid-read; the anchor is
        // always left consistent, so keep going.
        self.anchor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn read(anchor: &Anchor, wall: Instant) -> u64 {
    match anchor.mode {
        ClockMode::Frozen => anchor.virtual_ms,
        ClockMode::Running { speed } => {
            let elapsed_ms = wall.saturating_duration_since(anchor.wall).as_secs_f64() * 1000.0;
            anchor.virtual_ms + (elapsed_ms * speed) as u64
        }
    }
}

#[allow(clippy::disallowed_methods)] // reason: the clock is the one place wall time is read
fn wall_now() -> Instant {
    Instant::now()
}

/// The wall clock's unix ms, used only to choose a default start for a new clock.
#[allow(clippy::disallowed_methods)] // reason: picking the default start is a wall-clock read
pub fn wall_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frozen_clock_stays_where_it_is() {
        let clock = Clock::new(1_000, ClockMode::Frozen);

        assert_eq!(clock.now_ms(), 1_000);
        assert_eq!(clock.wall_time_until(5_000), None);
    }

    #[test]
    fn moving_forward_never_goes_back() {
        let clock = Clock::new(1_000, ClockMode::Frozen);

        clock.move_forward_to(5_000);
        clock.move_forward_to(2_000);

        assert_eq!(clock.now_ms(), 5_000);
    }

    #[test]
    fn a_target_in_the_past_is_refused() {
        let clock = Clock::new(10_000, ClockMode::Frozen);

        let error = clock.check_forward(9_999).unwrap_err();

        assert_eq!(
            error,
            BackwardsError {
                now: 10_000,
                requested: 9_999
            }
        );
        assert!(error.to_string().contains("only moves forward"));
    }

    #[test]
    fn a_running_clock_never_reads_less_than_its_start() {
        let clock = Clock::new(10_000, ClockMode::Running { speed: 1000.0 });

        assert!(clock.now_ms() >= 10_000);
        assert!(clock.wall_time_until(0).is_some());
    }

    #[test]
    fn switching_modes_keeps_the_reading() {
        let clock = Clock::new(10_000, ClockMode::Frozen);

        clock.set_mode(ClockMode::Running { speed: 1.0 });
        clock.set_mode(ClockMode::Frozen);

        assert!(clock.now_ms() >= 10_000);
        assert_eq!(clock.mode(), ClockMode::Frozen);
    }
}
