//! The latency monitor (Redis's latency.c): per event (`command`, `fast-command`), one sample
//! per second of the worst latency in milliseconds at or above `latency-monitor-threshold`,
//! the last 160 seconds that had one; and per command, the latency histogram LATENCY
//! HISTOGRAM and INFO latencystats print.

use super::Engine;

/// A command's calls by duration in nanoseconds: an HDR histogram from 1 ns to one second
/// with two significant digits, as Redis keeps one per command.
pub type Histogram = hdrhistogram::Histogram<u64>;

/// Records a call of `duration_us` microseconds, making the histogram on the first call.
pub fn record(histogram: &mut Option<Box<Histogram>>, duration_us: u64) {
    const LOWEST_NS: u64 = 1;
    const HIGHEST_NS: u64 = 1_000_000_000;
    let h = histogram.get_or_insert_with(|| {
        Box::new(Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, 2).expect("valid bounds"))
    });
    // Redis records at least 1 ns and at most one second. Compared before multiplying rather
    // than with `saturating_mul`: in wasm a 64-bit multiplication that checks for overflow is
    // a 128-bit one, a call to a helper.
    let ns = if duration_us >= HIGHEST_NS / 1000 {
        HIGHEST_NS
    } else {
        (duration_us * 1000).max(LOWEST_NS)
    };
    h.saturating_record(ns);
}

/// The duration (ns) at `percentile` (0 to 100) of the calls, as Redis's INFO latencystats
/// reads it: the highest value equivalent to the one the rounded count of calls reaches (the
/// lowest one for the 0th percentile).
pub fn value_at_percentile(h: &Histogram, percentile: f64) -> u64 {
    let wanted = ((percentile.min(100.0) / 100.0) * h.len() as f64 + 0.5) as u64;
    let wanted = wanted.max(1);
    let mut seen = 0;
    for v in h.iter_recorded() {
        seen += v.count_since_last_iteration();
        if seen >= wanted {
            let value = v.value_iterated_to();
            return if percentile == 0.0 {
                h.lowest_equivalent(value)
            } else {
                value
            };
        }
    }
    0
}

/// Calls at most `bucket_top_ns(k)` long, for each reporting level `k` of LATENCY HISTOGRAM.
pub fn cumulative_buckets(h: &Histogram) -> [u64; HISTOGRAM_BUCKETS] {
    let mut out = [0; HISTOGRAM_BUCKETS];
    for (k, n) in out.iter_mut().enumerate() {
        *n = h.count_between(0, bucket_top_ns(k));
    }
    // The last level holds every call, up to the one-second bound.
    out[HISTOGRAM_BUCKETS - 1] = h.len();
    out
}

/// Samples kept per event.
pub const HISTORY_LEN: usize = 160;

/// Buckets of a command's latency histogram: bucket k counts durations up to the value
/// Redis's histogram reports for 1024 ns × 2^k.
pub const HISTOGRAM_BUCKETS: usize = 21;

/// One event's time series.
#[derive(Clone, Debug)]
pub struct Series {
    /// Ring of (unix seconds, milliseconds); a time of 0 is an unused slot.
    pub samples: [(i64, u64); HISTORY_LEN],
    /// The next slot to write.
    pub idx: usize,
    /// The worst latency ever seen.
    pub max: u64,
}

impl Series {
    fn new() -> Series {
        Series {
            samples: [(0, 0); HISTORY_LEN],
            idx: 0,
            max: 0,
        }
    }

    /// Used slots, oldest first.
    pub fn in_order(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        (0..HISTORY_LEN)
            .map(move |j| self.samples[(self.idx + j) % HISTORY_LEN])
            .filter(|(t, _)| *t != 0)
    }

    /// The most recent slot.
    pub fn latest(&self) -> (i64, u64) {
        self.samples[(self.idx + HISTORY_LEN - 1) % HISTORY_LEN]
    }
}

/// Every event's series, in the order they first happened.
#[derive(Clone, Debug, Default)]
pub struct LatencyMonitor {
    /// (event name, series).
    pub events: Vec<(&'static str, Series)>,
}

/// The highest value (ns) Redis's histogram counts at reporting level `k` (1024 ns × 2^k):
/// its sub-bucket spans 1/128 of the level.
pub fn bucket_top_ns(k: usize) -> u64 {
    let level = 1024u64 << k;
    level + level / 128 - 1
}

impl Engine {
    /// Records a latency sample for `event` if it reaches `latency-monitor-threshold` (0
    /// disables the monitor).
    pub(super) fn latency_sample(&mut self, event: &'static str, ms: u64, now_ms: i64) {
        let threshold = self.config.latency_monitor_threshold();
        if threshold <= 0 || (ms as i128) < i128::from(threshold) {
            return;
        }
        let now = now_ms.div_euclid(1000);
        let events = &mut self.latency.events;
        let i = match events.iter().position(|(e, _)| *e == event) {
            Some(i) => i,
            None => {
                events.push((event, Series::new()));
                events.len() - 1
            }
        };
        let ts = &mut events[i].1;
        ts.max = ts.max.max(ms);
        let prev = (ts.idx + HISTORY_LEN - 1) % HISTORY_LEN;
        if ts.samples[prev].0 == now {
            ts.samples[prev].1 = ts.samples[prev].1.max(ms);
            return;
        }
        ts.samples[ts.idx] = (now, ms);
        ts.idx = (ts.idx + 1) % HISTORY_LEN;
    }
}

/// Redis's sparkline of LATENCY GRAPH: `rows` rows of `_o#` (and `|` below them) scaled
/// between the lowest and highest value, then each sample's label written downwards,
/// in blocks of `columns` samples.
pub fn sparkline(samples: &[(u64, String)], columns: usize, rows: usize) -> String {
    const FILL: &[u8] = b"_o#";
    let mut out = String::new();
    if samples.is_empty() {
        return out;
    }
    let min = samples.iter().map(|s| s.0).min().unwrap_or(0) as f64;
    let max = samples.iter().map(|s| s.0).max().unwrap_or(0) as f64;
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = (FILL.len() * rows) as i64;
    let has_labels = samples.iter().any(|s| !s.1.is_empty());
    for (b, block) in samples.chunks(columns.max(1)).enumerate() {
        if b != 0 {
            out.push('\n');
        }
        let mut row = 0usize;
        loop {
            let mut chars = vec![b' '; block.len()];
            let mut more = false;
            for (j, (value, label)) in block.iter().enumerate() {
                let relval = *value as f64 - min;
                let step = (((relval * steps as f64) as i64) as f64 / relmax) as i64;
                let step = step.clamp(0, steps - 1);
                if row < rows {
                    more = true;
                    let charidx = step - ((rows - row - 1) * FILL.len()) as i64;
                    if (0..FILL.len() as i64).contains(&charidx) {
                        chars[j] = FILL[charidx as usize];
                    } else if charidx >= FILL.len() as i64 {
                        chars[j] = b'|';
                    }
                } else {
                    if has_labels && row - rows < 1 {
                        more = true;
                        break;
                    }
                    let at = row - rows - 1;
                    if let Some(&c) = label.as_bytes().get(at) {
                        more = true;
                        chars[j] = c;
                    }
                }
            }
            if !more {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&chars));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_as_redis_prints_them() {
        // Redis prints these bucket labels (µs) for levels 4096, 32768, 65536 ns.
        assert_eq!(bucket_top_ns(2) / 1000, 4);
        assert_eq!(bucket_top_ns(5) / 1000, 33);
        assert_eq!(bucket_top_ns(6) / 1000, 66);
        let mut h = None;
        for us in [0, 1, 2, 2, u64::MAX] {
            record(&mut h, us);
        }
        let h = h.expect("made by the first call");
        let b = cumulative_buckets(&h);
        assert_eq!(
            (
                b[0],
                b[1],
                b[HISTOGRAM_BUCKETS - 2],
                b[HISTOGRAM_BUCKETS - 1]
            ),
            (2, 4, 4, 5)
        );
    }

    #[test]
    fn percentiles_as_redis_reads_them() {
        let mut h = None;
        for us in 1..=100 {
            record(&mut h, us);
        }
        let h = h.expect("made");
        // Two significant digits: a value's equivalents reach up to its sub-bucket's top.
        assert_eq!(value_at_percentile(&h, 0.0), 1_000);
        assert_eq!(value_at_percentile(&h, 1.0), h.highest_equivalent(1_000));
        assert_eq!(value_at_percentile(&h, 50.0), h.highest_equivalent(50_000));
        assert_eq!(value_at_percentile(&h, 99.9), h.highest_equivalent(100_000));
        assert_eq!(
            value_at_percentile(&h, 100.0),
            h.highest_equivalent(100_000)
        );
    }

    #[test]
    fn sparkline_of_two_samples() {
        let g = sparkline(&[(1, "2s".into()), (3, "1s".into())], 80, 4);
        assert_eq!(g, " #\n |\n |\n_|\n  \n21\nss\n");
    }
}
