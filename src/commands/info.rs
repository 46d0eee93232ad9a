//! The text of INFO: the sections Redis 7.0.15 prints, field for field, with values taken
//! from this engine. What the engine has no notion of (forks, replication links, network byte
//! counts, CPU time) reads as Redis reads on an idle server that never did it.

use std::fmt::Write;

use crate::config;
use crate::engine::replication::ReplicaState;
use crate::engine::Ctx;

/// Sections in the order Redis prints them, and whether `INFO` / `INFO default` includes them.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// Builds the INFO text for the requested section names (none: the default set). `all` and
/// `everything` select every section; unknown names select nothing.
pub fn render(ctx: &mut Ctx, requested: &[Vec<u8>]) -> String {
    let mut wanted = vec![false; SECTIONS.len()];
    if requested.is_empty() {
        for (i, (_, default)) in SECTIONS.iter().enumerate() {
            wanted[i] = *default;
        }
    }
    for arg in requested {
        let arg = arg.to_ascii_lowercase();
        for (i, (name, default)) in SECTIONS.iter().enumerate() {
            let hit = match arg.as_slice() {
                b"all" | b"everything" => true,
                b"default" => *default,
                other => other == name.as_bytes(),
            };
            wanted[i] |= hit;
        }
    }
    let mut out = String::new();
    for (i, (name, _)) in SECTIONS.iter().enumerate() {
        if !wanted[i] {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(ctx, name, &mut out);
    }
    out
}

/// Appends `field:value\r\n` lines.
struct Lines<'a>(&'a mut String);

impl Lines<'_> {
    fn kv(&mut self, field: &str, value: impl std::fmt::Display) {
        let _ = write!(self.0, "{}:{}\r\n", field, value);
    }
}

fn section(ctx: &mut Ctx, name: &str, out: &mut String) {
    let title = match name {
        "cpu" => "CPU".to_string(),
        other => {
            let mut t = other.to_string();
            t[..1].make_ascii_uppercase();
            t
        }
    };
    let _ = write!(out, "# {}\r\n", title);
    let mut l = Lines(out);
    match name {
        "server" => server(ctx, &mut l),
        "clients" => clients(ctx, &mut l),
        "memory" => memory(ctx, &mut l),
        "persistence" => persistence(ctx, &mut l),
        "stats" => stats(ctx, &mut l),
        "replication" => replication(ctx, &mut l),
        "cpu" => {
            for f in [
                "used_cpu_sys",
                "used_cpu_user",
                "used_cpu_sys_children",
                "used_cpu_user_children",
                "used_cpu_sys_main_thread",
                "used_cpu_user_main_thread",
            ] {
                l.kv(f, "0.000000");
            }
        }
        "commandstats" => {
            let mut called: Vec<_> = crate::commands::commands()
                .iter()
                .filter(|c| {
                    let s = &ctx.eng.stats.cmdstats[c.id];
                    s.calls + s.rejected + s.failed > 0
                })
                .collect();
            called.sort_by_key(|c| c.full_name);
            for cmd in called {
                let s = &ctx.eng.stats.cmdstats[cmd.id];
                let per_call = if s.calls == 0 {
                    0.0
                } else {
                    s.usec as f32 / s.calls as f32
                };
                l.kv(
                    &format!("cmdstat_{}", cmd.full_name),
                    format!(
                        "calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
                        s.calls, s.usec, per_call, s.rejected, s.failed
                    ),
                );
            }
        }
        // Listed only while latency-tracking is on (the histograms are kept meanwhile).
        "latencystats" if ctx.eng.config.latency_tracking() => {
            let percentiles = ctx.eng.config.latency_percentiles();
            let mut tracked: Vec<_> = crate::commands::commands()
                .iter()
                .filter_map(|c| Some((c, ctx.eng.stats.cmdstats[c.id].latency.as_deref()?)))
                .collect();
            tracked.sort_by_key(|(c, _)| c.full_name);
            for (cmd, h) in tracked {
                let values: Vec<String> = percentiles
                    .iter()
                    .map(|(label, p)| {
                        let ns = crate::engine::latency::value_at_percentile(h, *p);
                        format!("p{}={:.3}", label, ns as f64 / 1000.0)
                    })
                    .collect();
                l.kv(
                    &format!("latency_percentiles_usec_{}", cmd.full_name),
                    values.join(","),
                );
            }
        }
        "errorstats" => {
            for (code, n) in &ctx.eng.stats.errorstats {
                l.kv(&format!("errorstat_{}", code), format!("count={}", n));
            }
        }
        "cluster" => l.kv("cluster_enabled", u8::from(ctx.eng.cluster_enabled())),
        "keyspace" => keyspace(ctx, &mut l),
        _ => {}
    }
}

/// A 40-hex-digit identifier derived from the start time, stable for the engine's life.
fn hex_id(seed: i64, salt: u64) -> String {
    let mut s = String::with_capacity(40);
    let mut x = seed as u64 ^ salt;
    while s.len() < 40 {
        x = crate::rng::mix64(x.wrapping_add(0x9E37_79B9_7F4A_7C15));
        let _ = write!(s, "{:016x}", x);
    }
    s.truncate(40);
    s
}

fn server(ctx: &mut Ctx, l: &mut Lines) {
    let eng = &ctx.eng;
    let uptime = ctx.now.saturating_sub(eng.started_ms).max(0) / 1000;
    l.kv("redis_version", "7.0.15");
    l.kv("redis_git_sha1", "00000000");
    l.kv("redis_git_dirty", 0);
    l.kv("redis_build_id", &hex_id(0, 0x7015)[..15]);
    l.kv(
        "redis_mode",
        if eng.cluster_enabled() {
            "cluster"
        } else {
            "standalone"
        },
    );
    l.kv("os", format!("{} {}", os_name(), std::env::consts::ARCH));
    l.kv("arch_bits", usize::BITS);
    l.kv("monotonic_clock", "host clock");
    l.kv("multiplexing_api", "host");
    l.kv("atomicvar_api", "c11-builtin");
    l.kv("gcc_version", "0.0.0");
    l.kv("process_id", process_id());
    l.kv("process_supervised", "no");
    l.kv("run_id", hex_id(eng.started_ms, 0x52));
    l.kv("tcp_port", eng.port);
    l.kv("server_time_usec", ctx.now.saturating_mul(1000));
    l.kv("uptime_in_seconds", uptime);
    l.kv("uptime_in_days", uptime / 86400);
    l.kv("hz", eng.config.hz);
    l.kv("configured_hz", eng.config.hz);
    l.kv("lru_clock", (ctx.now / 1000) & ((1 << 24) - 1));
    l.kv("executable", &eng.executable);
    l.kv("config_file", &eng.config_path);
    l.kv("io_threads_active", 0);
}

fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "windows" => "Windows",
        "" => "WebAssembly",
        other => other,
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn process_id() -> u32 {
    std::process::id()
}

#[cfg(target_arch = "wasm32")]
fn process_id() -> u32 {
    0
}

fn clients(ctx: &mut Ctx, l: &mut Lines) {
    l.kv("connected_clients", ctx.eng.clients.len());
    l.kv("cluster_connections", 0);
    l.kv("maxclients", ctx.eng.config.maxclients);
    l.kv("client_recent_max_input_buffer", 0);
    l.kv("client_recent_max_output_buffer", 0);
    // A client whose command waits for CLIENT PAUSE to end is blocked too, as Redis counts it.
    let paused = ctx.eng.clients.values().filter(|c| c.paused).count();
    l.kv("blocked_clients", ctx.eng.blocked.len() + paused);
    l.kv(
        "tracking_clients",
        ctx.eng
            .clients
            .values()
            .filter(|c| c.tracking.is_some())
            .count(),
    );
    l.kv(
        "clients_in_timeout_table",
        ctx.eng
            .blocked
            .values()
            .filter(|b| b.block.deadline.is_some())
            .count(),
    );
}

/// Redis's `bytesToHuman`: B below 1K, then two decimals with K, M, G, T, P.
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: &[(&str, f64)] = &[
        ("K", 1024.0),
        ("M", 1024.0 * 1024.0),
        ("G", 1024.0 * 1024.0 * 1024.0),
        ("T", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("P", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ];
    if n < 1024 {
        return format!("{}B", n);
    }
    let d = n as f64;
    for (i, (unit, size)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map_or(f64::INFINITY, |u| u.1);
        if d < next {
            return format!("{:.2}{}", d / size, unit);
        }
    }
    format!("{}B", n)
}

fn memory(ctx: &mut Ctx, l: &mut Lines) {
    // The peak is the highest measure taken (here, or before a command under maxmemory).
    let used = ctx.eng.measure_memory();
    let peak = ctx.eng.stats.peak_memory;
    let eng = &ctx.eng;
    let startup = eng.used_memory_startup();
    let overhead = startup + eng.used_memory_clients();
    let dataset = used.saturating_sub(overhead);
    let perc = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    l.kv("used_memory", used);
    l.kv("used_memory_human", bytes_to_human(used));
    l.kv("used_memory_rss", used);
    l.kv("used_memory_rss_human", bytes_to_human(used));
    l.kv("used_memory_peak", peak);
    l.kv("used_memory_peak_human", bytes_to_human(peak));
    l.kv("used_memory_peak_perc", format!("{:.2}%", perc(used, peak)));
    l.kv("used_memory_overhead", overhead);
    l.kv("used_memory_startup", startup);
    l.kv("used_memory_dataset", dataset);
    l.kv(
        "used_memory_dataset_perc",
        format!("{:.2}%", perc(dataset, used)),
    );
    l.kv("allocator_allocated", used);
    l.kv("allocator_active", used);
    l.kv("allocator_resident", used);
    l.kv("total_system_memory", 0);
    l.kv("total_system_memory_human", "0B");
    l.kv("used_memory_lua", 0);
    l.kv("used_memory_vm_eval", 0);
    l.kv("used_memory_lua_human", "0B");
    l.kv("used_memory_scripts_eval", 0);
    l.kv("number_of_cached_scripts", eng.scripts.cache.len());
    l.kv(
        "number_of_functions",
        eng.scripts
            .libraries
            .values()
            .map(|l| l.functions.len())
            .sum::<usize>(),
    );
    l.kv("number_of_libraries", eng.scripts.libraries.len());
    l.kv("used_memory_vm_functions", 0);
    l.kv("used_memory_vm_total", 0);
    l.kv("used_memory_vm_total_human", "0B");
    l.kv("used_memory_functions", 0);
    l.kv("used_memory_scripts", 0);
    l.kv("used_memory_scripts_human", "0B");
    l.kv("maxmemory", eng.config.maxmemory);
    l.kv("maxmemory_human", bytes_to_human(eng.config.maxmemory));
    l.kv("maxmemory_policy", &eng.config.maxmemory_policy);
    l.kv("allocator_frag_ratio", "1.00");
    l.kv("allocator_frag_bytes", 0);
    l.kv("allocator_rss_ratio", "1.00");
    l.kv("allocator_rss_bytes", 0);
    l.kv("rss_overhead_ratio", "1.00");
    l.kv("rss_overhead_bytes", 0);
    l.kv("mem_fragmentation_ratio", "1.00");
    l.kv("mem_fragmentation_bytes", 0);
    l.kv("mem_not_counted_for_evict", eng.memory.not_counted);
    l.kv("mem_replication_backlog", 0);
    l.kv("mem_total_replication_buffers", 0);
    l.kv("mem_clients_slaves", 0);
    l.kv("mem_clients_normal", eng.used_memory_clients());
    l.kv("mem_cluster_links", 0);
    l.kv("mem_aof_buffer", 0);
    l.kv("mem_allocator", "libc");
    l.kv("active_defrag_running", 0);
    l.kv("lazyfree_pending_objects", 0);
    l.kv("lazyfreed_objects", eng.lazyfreed_objects());
}

fn persistence(ctx: &mut Ctx, l: &mut Lines) {
    let eng = &ctx.eng;
    l.kv("loading", u8::from(eng.loading.is_some()));
    for f in [
        "async_loading",
        "current_cow_peak",
        "current_cow_size",
        "current_cow_size_age",
    ] {
        l.kv(f, 0);
    }
    l.kv("current_fork_perc", "0.00");
    l.kv("current_save_keys_processed", 0);
    l.kv("current_save_keys_total", 0);
    l.kv("rdb_changes_since_last_save", eng.dirty);
    l.kv(
        "rdb_bgsave_in_progress",
        u8::from(eng.persist.bgsave_in_progress),
    );
    l.kv("rdb_last_save_time", eng.last_save_s);
    l.kv(
        "rdb_last_bgsave_status",
        if eng.persist.last_failed { "err" } else { "ok" },
    );
    l.kv("rdb_last_bgsave_time_sec", -1);
    l.kv("rdb_current_bgsave_time_sec", -1);
    l.kv("rdb_saves", eng.persist.saves);
    l.kv("rdb_last_cow_size", 0);
    l.kv("rdb_last_load_keys_expired", eng.persist.last_load_keys.1);
    l.kv("rdb_last_load_keys_loaded", eng.persist.last_load_keys.0);
    l.kv("aof_enabled", u8::from(eng.config.appendonly));
    l.kv("aof_rewrite_in_progress", 0);
    l.kv(
        "aof_rewrite_scheduled",
        u8::from(eng.persist.aof_rewrite_scheduled),
    );
    l.kv(
        "aof_last_rewrite_time_sec",
        eng.persist.aof_last_rewrite_time_sec,
    );
    l.kv("aof_current_rewrite_time_sec", -1);
    l.kv(
        "aof_last_bgrewrite_status",
        if eng.persist.aof_last_rewrite_ok {
            "ok"
        } else {
            "err"
        },
    );
    l.kv("aof_rewrites", eng.persist.aof_rewrites);
    l.kv(
        "aof_rewrites_consecutive_failures",
        eng.persist.aof_rewrite_failures,
    );
    l.kv(
        "aof_last_write_status",
        if eng.persist.aof_last_write_ok {
            "ok"
        } else {
            "err"
        },
    );
    l.kv("aof_last_cow_size", 0);
    l.kv("module_fork_in_progress", 0);
    l.kv("module_fork_last_cow_size", 0);
    if eng.config.appendonly {
        l.kv("aof_current_size", eng.persist.aof_current_size);
        l.kv("aof_base_size", eng.persist.aof_base_size);
        l.kv("aof_pending_rewrite", 0);
        l.kv("aof_buffer_length", 0);
        l.kv("aof_pending_bio_fsync", 0);
        l.kv("aof_delayed_fsync", 0);
    }
    if let Some(load) = &eng.loading {
        // Redis's estimate: the rest at the pace so far, or a made-up second at first.
        let (perc, remaining) = match load.total_bytes {
            0 => (0.0, 1),
            total => (
                load.loaded_bytes as f64 / total as f64 * 100.0,
                total.saturating_sub(load.loaded_bytes),
            ),
        };
        let elapsed = u64::try_from(ctx.now.div_euclid(1000) - load.start_s).unwrap_or(0);
        let eta = match elapsed {
            0 => 1,
            e => e.saturating_mul(remaining) / (load.loaded_bytes + 1),
        };
        l.kv("loading_start_time", load.start_s);
        l.kv("loading_total_bytes", load.total_bytes);
        l.kv("loading_rdb_used_mem", load.rdb_used_mem);
        l.kv("loading_loaded_bytes", load.loaded_bytes);
        l.kv("loading_loaded_perc", format!("{perc:.2}"));
        l.kv("loading_eta_seconds", eta);
    }
}

fn stats(ctx: &mut Ctx, l: &mut Lines) {
    let eng = &ctx.eng;
    let s = &eng.stats;
    let expired: u64 = eng.dbs.iter().map(|d| d.expired_keys).sum();
    l.kv("total_connections_received", s.connections);
    l.kv("total_commands_processed", s.commands);
    l.kv("instantaneous_ops_per_sec", 0);
    l.kv("total_net_input_bytes", 0);
    l.kv("total_net_output_bytes", 0);
    l.kv("total_net_repl_input_bytes", 0);
    l.kv("total_net_repl_output_bytes", 0);
    for f in [
        "instantaneous_input_kbps",
        "instantaneous_output_kbps",
        "instantaneous_input_repl_kbps",
        "instantaneous_output_repl_kbps",
    ] {
        l.kv(f, "0.00");
    }
    l.kv("rejected_connections", ctx.eng.stats.rejected_connections);
    l.kv("sync_full", ctx.eng.repl.sync_full);
    l.kv("sync_partial_ok", ctx.eng.repl.sync_partial_ok);
    l.kv("sync_partial_err", ctx.eng.repl.sync_partial_err);
    l.kv("expired_keys", expired);
    l.kv("expired_stale_perc", "0.00");
    for f in [
        "expired_time_cap_reached_count",
        "expire_cycle_cpu_milliseconds",
    ] {
        l.kv(f, 0);
    }
    l.kv("evicted_keys", eng.memory.evicted_keys);
    l.kv("evicted_clients", s.evicted_clients);
    for f in [
        "total_eviction_exceeded_time",
        "current_eviction_exceeded_time",
    ] {
        l.kv(f, 0);
    }
    l.kv("keyspace_hits", s.hits);
    l.kv("keyspace_misses", s.misses);
    l.kv("pubsub_channels", eng.pubsub.channel_count());
    l.kv("pubsub_patterns", eng.pubsub.pattern_count());
    let shard_channels: std::collections::HashSet<&Vec<u8>> =
        eng.clients.values().flat_map(|c| c.ssubs.iter()).collect();
    l.kv("pubsubshard_channels", shard_channels.len());
    l.kv("latest_fork_usec", 0);
    l.kv("total_forks", eng.persist.forks);
    l.kv(
        "migrate_cached_sockets",
        eng.migrate.as_ref().map_or(0, |m| m.cached()),
    );
    for f in [
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
    ] {
        l.kv(f, 0);
    }
    let t = &ctx.eng.tracking;
    l.kv("tracking_total_keys", t.keys.len());
    l.kv(
        "tracking_total_items",
        t.keys.values().map(Vec::len).sum::<usize>(),
    );
    l.kv("tracking_total_prefixes", t.prefixes.len());
    l.kv("unexpected_error_replies", 0);
    l.kv("total_error_replies", s.error_replies);
    l.kv("dump_payload_sanitizations", 0);
    l.kv("total_reads_processed", s.commands);
    l.kv("total_writes_processed", s.commands);
    for f in [
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ] {
        l.kv(f, 0);
    }
}

fn replication(ctx: &mut Ctx, l: &mut Lines) {
    let eng = &ctx.eng;
    let repl = &eng.repl;
    let secs_since = |ms: i64| (ctx.now - ms).max(0) / 1000;
    if let Some(link) = &repl.link {
        let up = eng.link_state_name() == "connected";
        l.kv("role", "slave");
        l.kv("master_host", &link.host);
        l.kv("master_port", link.port);
        l.kv("master_link_status", if up { "up" } else { "down" });
        l.kv(
            "master_last_io_seconds_ago",
            if up { secs_since(link.last_io_ms) } else { -1 },
        );
        let transfer = eng.link_transfer_progress();
        l.kv("master_sync_in_progress", u8::from(transfer.is_some()));
        l.kv("slave_read_repl_offset", repl.offset);
        l.kv("slave_repl_offset", repl.offset);
        if let Some((total, read)) = transfer {
            let perc = if total > 0 {
                read as f64 * 100.0 / total as f64
            } else {
                0.0
            };
            l.kv("master_sync_total_bytes", total);
            l.kv("master_sync_read_bytes", read);
            l.kv("master_sync_left_bytes", total - read);
            l.kv("master_sync_perc", format!("{perc:.2}"));
            l.kv(
                "master_sync_last_io_seconds_ago",
                secs_since(link.last_io_ms),
            );
        }
        if !up {
            l.kv(
                "master_link_down_since_seconds",
                link.down_since_ms.map_or(-1, secs_since),
            );
        }
        l.kv("slave_priority", eng.config.get_named("replica-priority"));
        let yes = |name: &str| u8::from(eng.config.get_named(name) == "yes");
        l.kv("slave_read_only", yes("replica-read-only"));
        l.kv("replica_announced", yes("replica-announced"));
    } else {
        l.kv("role", "master");
    }
    l.kv("connected_slaves", repl.attached_count());
    let configured = |name: &str| eng.config.get_named(name) != "0";
    if configured("min-replicas-to-write") && configured("min-replicas-max-lag") {
        l.kv("min_slaves_good_slaves", eng.good_replicas(ctx.now));
    }
    for (i, (id, r)) in repl.attached().enumerate() {
        let lag = match r.state {
            Some(ReplicaState::Online) => (ctx.now - r.ack_ms).max(0) / 1000,
            _ => 0,
        };
        l.kv(
            &format!("slave{i}"),
            format!(
                "ip={},port={},state={},offset={},lag={}",
                eng.replica_ip(*id, r),
                r.listening_port,
                r.state.map_or("", ReplicaState::name),
                r.ack_offset,
                lag
            ),
        );
    }
    l.kv("master_failover_state", eng.failover_state_name());
    l.kv("master_replid", &repl.replid);
    l.kv("master_replid2", &repl.replid2);
    l.kv("master_repl_offset", repl.offset);
    l.kv("second_repl_offset", repl.second_offset);
    l.kv("repl_backlog_active", u8::from(repl.backlog.is_some()));
    let backlog = config::lookup(b"repl-backlog-size").map(|p| eng.config.get(p));
    l.kv("repl_backlog_size", backlog.unwrap_or_default());
    let (first, histlen) = repl.backlog_span();
    l.kv("repl_backlog_first_byte_offset", first);
    l.kv("repl_backlog_histlen", histlen);
}

/// `db<N>:keys=K,expires=E,avg_ttl=T` for each non-empty database; avg_ttl is the running
/// estimate the periodic tick keeps, as Redis's expire cycle does (0 until the first tick).
fn keyspace(ctx: &mut Ctx, l: &mut Lines) {
    for (i, db) in ctx.eng.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        l.kv(
            &format!("db{}", i),
            format!(
                "keys={},expires={},avg_ttl={}",
                db.len(),
                db.volatile_len(),
                db.avg_ttl
            ),
        );
    }
}
