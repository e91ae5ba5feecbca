//! How many named cases or random sequences run at once: a fixed number (`--jobs N`), or under
//! `--jobs auto` a number that follows the endpoint's latency.
//!
//! Each case and each sequence sends its requests one after another, so with `n` of them in
//! flight the endpoint sees about `n` requests at a time and, by Little's law, the suite checks
//! `n / latency` operations per second. When the latency is the endpoint's own (a network, a
//! slow disk, `serve --latency`), more in flight buys proportionally more throughput; when the
//! latency grows because the endpoint (or this machine) is saturated, more in flight only
//! queues. The pacer tells the two apart by watching the latency per request as it changes
//! the number in flight:
//!
//! - it starts at [`AUTO_START`] (8, the old fixed default) in flight;
//! - after each window of completed units (as many as are in flight, at least
//!   [`WINDOW_UNITS_MIN`]) it takes the window's mean latency per request and compares it with
//!   the lowest window mean seen so far, the endpoint's unloaded latency;
//! - within [`GROW_BELOW`] × the lowest (the endpoint is not queueing): in flight doubles, up to
//!   `--max-inflight`;
//! - above [`SHRINK_ABOVE`] × the lowest (requests are queueing): in flight drops by a quarter,
//!   not below the start;
//! - in between, it stays.
//!
//! Against a local server (sub-millisecond answers, CPU-bound) the latency soon grows with the
//! number in flight, so the pacer stays low (16 with the embedded server, 40 with a `serve`
//! process on the 2-core development machine); against an endpoint that answers 40 ms late
//! it reaches the cap in three windows.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Where `--jobs auto` starts, and the fewest it runs at once.
pub const AUTO_START: usize = 8;
/// The default of `--max-inflight`: the most cases or sequences in flight under `--jobs auto`.
pub const INFLIGHT_MAX_DEFAULT: usize = 64;
/// The fewest completed units a window holds, so one slow case does not steer the pacer.
pub const WINDOW_UNITS_MIN: usize = 4;
/// A window whose mean latency per request is within this factor of the lowest seen doubles
/// the number in flight.
pub const GROW_BELOW: f64 = 1.25;
/// A window whose mean latency per request is above this factor of the lowest seen lowers the
/// number in flight by a quarter.
pub const SHRINK_ABOVE: f64 = 1.5;

/// `--jobs`: a fixed number of cases and sequences in flight, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// Follow the endpoint's latency, from [`AUTO_START`] up to a cap (see the module docs).
    Auto,
    /// Exactly this many (at least 1).
    Fixed(usize),
}

impl FromStr for Jobs {
    type Err = String;

    fn from_str(text: &str) -> Result<Jobs, String> {
        if text.eq_ignore_ascii_case("auto") {
            return Ok(Jobs::Auto);
        }
        match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Jobs::Fixed(n)),
            _ => Err(format!(
                "{text:?} is neither `auto` nor a number of at least 1"
            )),
        }
    }
}

impl fmt::Display for Jobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Jobs::Auto => f.write_str("auto"),
            Jobs::Fixed(n) => write!(f, "{n}"),
        }
    }
}

/// Decides how many units (cases, sequences) may be in flight; fed each finished unit.
#[derive(Debug, Clone)]
pub struct Pacer {
    auto: bool,
    limit: usize,
    floor: usize,
    ceiling: usize,
    peak: usize,
    /// The lowest window mean seen, in seconds per request.
    lowest: Option<f64>,
    window_units: usize,
    window_operations: u64,
    window_secs: f64,
}

impl Pacer {
    /// A pacer for `jobs`; `inflight_max` caps `auto` (a fixed number is taken as given).
    pub fn new(jobs: Jobs, inflight_max: usize) -> Pacer {
        let (auto, limit, ceiling) = match jobs {
            Jobs::Fixed(n) => (false, n.max(1), n.max(1)),
            Jobs::Auto => {
                let ceiling = inflight_max.max(1);
                (true, AUTO_START.min(ceiling), ceiling)
            }
        };
        Pacer {
            auto,
            limit,
            floor: limit,
            ceiling,
            peak: limit,
            lowest: None,
            window_units: 0,
            window_operations: 0,
            window_secs: 0.0,
        }
    }

    /// How many units may be in flight now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The most that were allowed in flight at once so far.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// The lowest mean latency per request of a window, once one has been seen (auto only).
    pub fn unloaded_latency(&self) -> Option<Duration> {
        self.lowest.map(Duration::from_secs_f64)
    }

    /// A unit finished after sending `operations` requests one after another in `elapsed`.
    pub fn finished(&mut self, operations: u64, elapsed: Duration) {
        if !self.auto || operations == 0 {
            return;
        }
        self.window_units += 1;
        self.window_operations += operations;
        self.window_secs += elapsed.as_secs_f64();
        if self.window_units < self.limit.max(WINDOW_UNITS_MIN) {
            return;
        }
        let mean = self.window_secs / self.window_operations as f64;
        self.window_units = 0;
        self.window_operations = 0;
        self.window_secs = 0.0;
        let lowest = self.lowest.map_or(mean, |l| l.min(mean));
        self.lowest = Some(lowest);
        if mean <= lowest * GROW_BELOW {
            self.limit = (self.limit * 2).min(self.ceiling);
        } else if mean > lowest * SHRINK_ABOVE {
            self.limit = (self.limit - self.limit / 4).max(self.floor);
        }
        self.peak = self.peak.max(self.limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pacer` windows of units whose latency per request `latency_at(in_flight)` gives,
    /// and returns the number in flight after each window.
    fn drive(pacer: &mut Pacer, windows: usize, latency_at: impl Fn(usize) -> f64) -> Vec<usize> {
        (0..windows)
            .map(|_| {
                let n = pacer.limit();
                for _ in 0..n.max(WINDOW_UNITS_MIN) {
                    pacer.finished(20, Duration::from_secs_f64(20.0 * latency_at(n)));
                }
                pacer.limit()
            })
            .collect()
    }

    #[test]
    fn a_fixed_number_never_moves() {
        let mut pacer = Pacer::new(Jobs::Fixed(3), 64);
        assert_eq!(drive(&mut pacer, 5, |_| 0.040), [3; 5]);
        assert_eq!(pacer.peak(), 3);
        assert_eq!(pacer.unloaded_latency(), None);
    }

    #[test]
    fn a_constant_latency_endpoint_is_driven_to_the_cap() {
        // Latency that does not depend on the load: a network, or `serve --latency 40ms`.
        let mut pacer = Pacer::new(Jobs::Auto, 64);
        assert_eq!(pacer.limit(), AUTO_START);
        assert_eq!(drive(&mut pacer, 5, |_| 0.040), [16, 32, 64, 64, 64]);
        assert_eq!(
            pacer.unloaded_latency().map(|l| l.as_micros()),
            Some(40_000)
        );
    }

    #[test]
    fn a_saturated_endpoint_is_not_flooded() {
        // A CPU-bound server: each request in flight queues behind the others.
        let mut pacer = Pacer::new(Jobs::Auto, 64);
        let limits = drive(&mut pacer, 12, |n| 0.0001 * n as f64);
        assert!(
            limits.iter().all(|&n| n <= 2 * AUTO_START),
            "in flight stays near the start: {limits:?}"
        );
        assert_eq!(*limits.last().expect("windows"), 12, "{limits:?}");
    }

    #[test]
    fn the_cap_and_the_floor_hold() {
        let mut pacer = Pacer::new(Jobs::Auto, 5);
        assert_eq!(pacer.limit(), 5, "a cap below the start is the start");
        assert_eq!(drive(&mut pacer, 3, |_| 0.010), [5, 5, 5]);
        let mut pacer = Pacer::new(Jobs::Auto, 64);
        drive(&mut pacer, 2, |_| 0.010);
        assert_eq!(pacer.limit(), 32);
        // The latency jumps tenfold: back down by quarters, never below the start.
        assert_eq!(drive(&mut pacer, 6, |_| 0.100), [24, 18, 14, 11, 9, 8]);
        assert_eq!(drive(&mut pacer, 2, |_| 0.100), [8, 8]);
        assert_eq!(pacer.peak(), 32);
    }

    #[test]
    fn jobs_parse_as_auto_or_a_positive_number() {
        assert_eq!("auto".parse::<Jobs>(), Ok(Jobs::Auto));
        assert_eq!("AUTO".parse::<Jobs>(), Ok(Jobs::Auto));
        assert_eq!("12".parse::<Jobs>(), Ok(Jobs::Fixed(12)));
        for bad in ["0", "-1", "many", ""] {
            assert!(bad.parse::<Jobs>().is_err(), "{bad:?}");
        }
        assert_eq!(Jobs::Auto.to_string(), "auto");
        assert_eq!(Jobs::Fixed(4).to_string(), "4");
    }
}
