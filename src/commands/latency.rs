//! LATENCY: DOCTOR, GRAPH, HISTORY, LATEST, RESET, HISTOGRAM, HELP over the engine's latency
//! monitor (see `engine/latency.rs`).

use super::server::{container, help_reply};
use super::spec::*;
use crate::engine::latency::{bucket_top_ns, cumulative_buckets, sparkline, Histogram};
use crate::engine::Ctx;
use crate::error::{self, CmdResult};
use crate::protocol::Reply;

/// This group's commands.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec::new("latency", -2, &[], container)
    .doc(
        Group::Server,
        "2.8.13",
        &[],
        "Reads the latency monitor's events and the per-command latency histograms.",
    )
    .complexity("Depends on the subcommand.")
    .subs(SUBCOMMANDS)];

const MONITOR: &[Flags] = &[ADMIN, NOSCRIPT, LOADING, STALE];
const REPORT_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

const SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("doctor", 2, MONITOR, doctor)
        .doc(
            Group::Server,
            "2.8.13",
            &[],
            "Explains the latency events seen, with advice, in prose.",
        )
        .tips(REPORT_TIPS)
        .complexity("O(1)"),
    CommandSpec::new("graph", 3, MONITOR, graph)
        .doc(
            Group::Server,
            "2.8.13",
            &[Arg::string("event")],
            "Draws an event's latency samples as ASCII art.",
        )
        .tips(REPORT_TIPS)
        .complexity("O(1)"),
    CommandSpec::new("help", 2, &[LOADING, STALE], help)
        .doc(
            Group::Server,
            "2.8.13",
            &[],
            "Lists the LATENCY subcommands.",
        )
        .complexity("O(1)"),
    CommandSpec::new("histogram", -2, MONITOR, histogram)
        .doc(
            Group::Server,
            "7.0.0",
            &[Arg::string("command").optional().multiple()],
            "Prints the cumulative latency distribution of commands.",
        )
        .tips(REPORT_TIPS)
        .complexity("O(N) in the number of commands named"),
    CommandSpec::new("history", 3, MONITOR, history)
        .doc(
            Group::Server,
            "2.8.13",
            &[Arg::string("event")],
            "Lists an event's samples: time and latency.",
        )
        .tips(REPORT_TIPS)
        .complexity("O(1)"),
    CommandSpec::new("latest", 2, MONITOR, latest)
        .doc(
            Group::Server,
            "2.8.13",
            &[],
            "Lists each event's latest and worst latency.",
        )
        .tips(REPORT_TIPS)
        .complexity("O(1)"),
    CommandSpec::new("reset", -2, MONITOR, reset)
        .doc(
            Group::Server,
            "2.8.13",
            &[Arg::string("event").optional().multiple()],
            "Forgets the samples of some events, or of all.",
        )
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .complexity("O(1)"),
];

/// `LATENCY HISTORY event` → array of `[unix time, milliseconds]`, oldest first.
fn history(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let samples = ctx
        .eng
        .latency
        .events
        .iter()
        .find(|(e, _)| e.as_bytes() == argv[2].as_slice())
        .map(|(_, ts)| {
            ts.in_order()
                .map(|(t, ms)| Reply::Array(vec![Reply::Integer(t), Reply::int(ms)]))
                .collect()
        })
        .unwrap_or_default();
    Ok(Reply::Array(samples))
}

/// `LATENCY LATEST` → array of `[event, unix time, latest ms, all-time worst ms]`.
fn latest(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(Reply::Array(
        ctx.eng
            .latency
            .events
            .iter()
            .map(|(e, ts)| {
                let (t, ms) = ts.latest();
                Reply::Array(vec![
                    Reply::bulk(*e),
                    Reply::Integer(t),
                    Reply::int(ms),
                    Reply::int(ts.max),
                ])
            })
            .collect(),
    ))
}

/// `LATENCY RESET [event ...]` → integer: events forgotten (names ignore case).
fn reset(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let events = &mut ctx.eng.latency.events;
    if argv.len() == 2 {
        let n = events.len();
        events.clear();
        return Ok(Reply::int(n));
    }
    let mut resets = 0;
    for name in &argv[2..] {
        let before = events.len();
        events.retain(|(e, _)| !e.as_bytes().eq_ignore_ascii_case(name));
        resets += before - events.len();
    }
    Ok(Reply::int(resets))
}

/// `LATENCY GRAPH event` → verbatim text: a title line, a rule, and the samples as a
/// sparkline labelled with how long ago each happened.
fn graph(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let now = ctx.now.div_euclid(1000);
    let Some((event, ts)) = ctx
        .eng
        .latency
        .events
        .iter()
        .find(|(e, _)| e.as_bytes() == argv[2].as_slice())
    else {
        return Err(error::latency_no_samples(&argv[2]));
    };
    let samples: Vec<(u64, String)> = ts
        .in_order()
        .map(|(t, ms)| {
            let ago = now - t;
            let label = if ago < 60 {
                format!("{}s", ago)
            } else if ago < 3600 {
                format!("{}m", ago / 60)
            } else if ago < 86400 {
                format!("{}h", ago / 3600)
            } else {
                format!("{}d", ago / 86400)
            };
            (ms, label)
        })
        .collect();
    let high = samples.iter().map(|s| s.0).max().unwrap_or(0);
    let low = samples.iter().map(|s| s.0).min().unwrap_or(0);
    let mut text = format!(
        "{} - high {} ms, low {} ms (all time high {} ms)\n{}\n",
        event,
        high,
        low,
        ts.max,
        "-".repeat(80)
    );
    text.push_str(&sparkline(&samples, 80, 4));
    Ok(Reply::Verbatim("txt", text.into_bytes()))
}

/// One command's `{calls, histogram_usec: {bucket µs: cumulative calls}}`.
fn command_histogram(h: &Histogram) -> Reply {
    let mut previous = 0;
    let mut buckets = Vec::new();
    for (k, cumulative) in cumulative_buckets(h).into_iter().enumerate() {
        if cumulative > previous {
            buckets.push((Reply::int(bucket_top_ns(k) / 1000), Reply::int(cumulative)));
        }
        previous = cumulative;
    }
    Reply::Map(vec![
        (Reply::bulk("calls"), Reply::int(h.len())),
        (Reply::bulk("histogram_usec"), Reply::Map(buckets)),
    ])
}

/// `LATENCY HISTOGRAM [command ...]` → map of command names (`config|get` for a
/// subcommand) to their histograms, for the commands that ran since the last CONFIG
/// RESETSTAT. A named container lists its subcommands; unknown names are skipped.
fn histogram(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let all = super::commands();
    let stats = &ctx.eng.stats.cmdstats;
    let has_data = |id: usize| stats[id].latency.is_some();
    let mut ids: Vec<usize> = Vec::new();
    if argv.len() == 2 {
        ids.extend(all.iter().filter(|c| has_data(c.id)).map(|c| c.id));
    } else {
        for name in &argv[2..] {
            let found = match name.iter().position(|&b| b == b'|') {
                Some(bar) => super::find(&name[..bar]).and_then(|c| c.sub(&name[bar + 1..])),
                None => super::find(name),
            };
            let Some(cmd) = found else {
                continue;
            };
            if has_data(cmd.id) {
                ids.push(cmd.id);
            }
            ids.extend(
                all.iter()
                    .filter(|c| c.parent == Some(cmd.id) && has_data(c.id))
                    .map(|c| c.id),
            );
        }
    }
    Ok(Reply::Map(
        ids.into_iter()
            .filter_map(|id| {
                let h = stats[id].latency.as_deref()?;
                Some((Reply::bulk(all[id].full_name), command_histogram(h)))
            })
            .collect(),
    ))
}

/// `LATENCY DOCTOR` → verbatim text: Redis's analysis of the events seen (this engine only
/// produces `command` and `fast-command` events), with its advice.
fn doctor(ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    let eng = &ctx.eng;
    let threshold = eng.config.int_param("latency-monitor-threshold");
    let events = &eng.latency.events;
    let now = ctx.now.div_euclid(1000);
    let mut report = String::new();
    if events.is_empty() && threshold == 0 {
        report.push_str("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n");
        return Ok(Reply::Verbatim("txt", report.into_bytes()));
    }
    let slower_than = eng.config.int_param("slowlog-log-slower-than");
    let (mut slowlog_enable, mut slowlog_tune, mut inspect, mut scheduler) =
        (false, false, false, false);
    let (mut hz, mut large_objects) = (false, false);
    let mut advices = 0;
    for (n, (event, ts)) in events.iter().enumerate() {
        if n == 0 {
            report.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let lat: Vec<(i64, u64)> = ts.samples.iter().copied().filter(|s| s.0 != 0).collect();
        let count = lat.len() as u64;
        let avg = lat
            .iter()
            .map(|s| s.1)
            .sum::<u64>()
            .checked_div(count)
            .unwrap_or(0);
        let mad = lat
            .iter()
            .map(|s| (avg as i64 - s.1 as i64).unsigned_abs())
            .sum::<u64>()
            .checked_div(count)
            .unwrap_or(0);
        let oldest = lat.iter().map(|s| s.0).min().unwrap_or(0);
        let period = if count == 0 { 0 } else { (now - oldest).max(1) };
        report.push_str(&format!(
            "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            n + 1,
            event,
            count,
            avg,
            mad,
            period as f64 / count as f64,
            ts.max
        ));
        if *event == "command" {
            if slower_than < 0 {
                slowlog_enable = true;
                advices += 1;
            } else if slower_than / 1000 > threshold {
                slowlog_tune = true;
                advices += 1;
            }
            inspect = true;
            large_objects = true;
            advices += 2;
        }
        if *event == "fast-command" {
            scheduler = true;
            advices += 1;
        }
        if *event == "expire-cycle" {
            hz = true;
            large_objects = true;
            advices += 2;
        }
        report.push('\n');
    }
    if events.is_empty() && advices == 0 {
        report.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
    } else if advices == 0 {
        report.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
    } else {
        report.push_str("\nI have a few advices for you:\n\n");
        let us = threshold.saturating_mul(1000);
        if slowlog_enable {
            report.push_str(&format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n", us));
        }
        if slowlog_tune {
            report.push_str(&format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {}'.\n", us));
        }
        if inspect {
            report.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        }
        if scheduler {
            report.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        }
        if hz && eng.config.int_param("hz") < 100 {
            report.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
        }
        if large_objects {
            report.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        }
    }
    Ok(Reply::Verbatim("txt", report.into_bytes()))
}

/// `LATENCY HELP` → array of help lines.
fn help(_ctx: &mut Ctx, _argv: &[Vec<u8>]) -> CmdResult {
    Ok(help_reply(
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    ))
}

#[cfg(test)]
mod tests {
    use crate::protocol::Reply;
    use crate::testkit::{engine, run};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A fake clock that advances 2 ms each time it is read: every command takes 2 ms.
    fn slow() -> u64 {
        static T: AtomicU64 = AtomicU64::new(0);
        T.fetch_add(2000, Ordering::Relaxed)
    }

    #[test]
    fn events_at_or_above_the_threshold() {
        let (mut eng, c) = engine();
        eng.set_clock_us(Some(slow));
        run(&mut eng, c, "CONFIG SET latency-monitor-threshold 2");
        run(&mut eng, c, "GET a");
        let Reply::Array(latest) = run(&mut eng, c, "LATENCY LATEST") else {
            panic!("an array");
        };
        // CONFIG SET ran under the new threshold too (a `command` event), then GET.
        assert_eq!(latest.len(), 2);
        let history = run(&mut eng, c, "LATENCY HISTORY fast-command");
        assert_eq!(
            history,
            Reply::Array(vec![Reply::Array(vec![
                Reply::Integer(crate::testkit::NOW / 1000),
                Reply::Integer(2)
            ])])
        );
        let Reply::Verbatim(_, graph) = run(&mut eng, c, "LATENCY GRAPH fast-command") else {
            panic!("a graph");
        };
        assert!(graph.starts_with(b"fast-command - high 2 ms, low 2 ms (all time high 2 ms)\n"));
        let Reply::Verbatim(_, doctor) = run(&mut eng, c, "LATENCY DOCTOR") else {
            panic!("a report");
        };
        assert!(doctor.starts_with(b"Dave, I have observed latency spikes"));
        assert_eq!(
            run(&mut eng, c, "LATENCY RESET FAST-COMMAND"),
            Reply::Integer(1)
        );
    }

    /// A fake clock that advances 25 ms each time it is read.
    fn slower() -> u64 {
        static T: AtomicU64 = AtomicU64::new(0);
        T.fetch_add(25_000, Ordering::Relaxed)
    }

    #[test]
    fn expiry_samples_each_deletion_and_the_cycle() {
        use crate::testkit::{run_at, NOW};
        let (mut eng, c) = engine();
        run(&mut eng, c, "CONFIG SET latency-monitor-threshold 20");
        run(&mut eng, c, "SADD big a b c");
        run(&mut eng, c, "PEXPIRE big 10");
        eng.set_clock_us(Some(slower));
        eng.tick(crate::testkit::NOW + 1000);
        let events = |eng: &mut crate::Engine| {
            let Reply::Array(latest) = run(eng, c, "LATENCY LATEST") else {
                panic!("an array");
            };
            let mut names: Vec<Vec<u8>> = latest
                .into_iter()
                .filter_map(|e| match e {
                    Reply::Array(fields) => match fields.into_iter().next() {
                        Some(Reply::Bulk(name)) => Some(name),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            names.sort();
            names
        };
        // The deletion read the clock twice (25 ms), the cycle around it more.
        assert_eq!(
            events(&mut eng),
            vec![b"expire-cycle".to_vec(), b"expire-del".to_vec()]
        );
        let Reply::Array(history) = run(&mut eng, c, "LATENCY HISTORY expire-del") else {
            panic!("an array");
        };
        assert_eq!(
            history,
            vec![Reply::Array(vec![
                Reply::Integer((crate::testkit::NOW + 1000) / 1000),
                Reply::Integer(25)
            ])]
        );
        // Nothing expires: no deletion is sampled (the slow clock makes LATENCY RESET a
        // `command` event of its own).
        run(&mut eng, c, "LATENCY RESET");
        eng.tick(crate::testkit::NOW + 2000);
        let after = events(&mut eng);
        assert!(after.contains(&b"expire-cycle".to_vec()), "{after:?}");
        assert!(!after.contains(&b"expire-del".to_vec()), "{after:?}");
        // A key found expired by a command is removed, and timed, the same way.
        eng.active_expire_enabled = false;
        run_at(&mut eng, c, NOW + 3000, "SET lazy v PX 10");
        run(&mut eng, c, "LATENCY RESET");
        assert_eq!(run_at(&mut eng, c, NOW + 4000, "GET lazy"), Reply::Nil);
        let after = events(&mut eng);
        assert!(after.contains(&b"expire-del".to_vec()), "{after:?}");
    }
}
