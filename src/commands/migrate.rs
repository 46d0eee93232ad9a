//! MIGRATE: keys moved to another server, as Redis's `migrateCommand` moves them, through the
//! host's connections ([`crate::engine::migrate`]).

use super::args;
use super::spec::*;
use crate::engine::Ctx;
use crate::error::{self, CmdResult};
use crate::protocol::Reply;

/// MIGRATE's getkeys procedure (used when its KEYS option is given): the keys after KEYS, or
/// none when the key argument is not empty (the command then refuses the line).
pub(super) fn migrate_keys(line: &[Vec<u8>], out: &mut Vec<(usize, KeyFlags)>) {
    let flags = KeySpec::new(&[RW, ACCESS, DELETE], Begin::Unknown, Find::Unknown).flags;
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < line.len() {
        let a = &line[i];
        if args::is(a, "keys") {
            if line[3].is_empty() {
                first = i + 1;
                num = line.len() - first;
            } else {
                num = 0;
            }
            break;
        }
        if args::is(a, "auth") {
            i += 1;
        } else if args::is(a, "auth2") {
            i += 2;
        }
        i += 1;
    }
    out.extend(
        (first..first + num)
            .filter(|&k| k < line.len())
            .map(|k| (k, flags)),
    );
}

/// `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password |
/// AUTH2 username password] [KEYS key ...]` → `+OK` once the target restored every key
/// (which is then deleted here, unless COPY), `+NOKEY` when none of the keys exists, an IOERR
/// when the target cannot be reached or stops answering, or the target's own error. Runs as
/// Redis's does: through the host's cached connection to the target ([`MigrateHost`]), SELECT
/// only when the connection is not on that database yet, one RESTORE (with the remaining TTL
/// and REPLACE) per key in one write, one retry on a broken cached connection when nothing
/// was restored yet; it propagates as a DEL of the keys the target acknowledged.
///
/// [`MigrateHost`]: crate::engine::migrate::MigrateHost
pub(super) fn migrate(ctx: &mut Ctx, argv: &[Vec<u8>]) -> CmdResult {
    let (mut copy, mut replace) = (false, false);
    let (mut username, mut password): (Option<&[u8]>, Option<&[u8]>) = (None, None);
    let (mut first_key, mut num_keys) = (3, 1);
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let a = &argv[j];
        if args::is(a, "copy") {
            copy = true;
        } else if args::is(a, "replace") {
            replace = true;
        } else if args::is(a, "auth") {
            if more == 0 {
                return Err(error::SYNTAX);
            }
            j += 1;
            password = Some(&argv[j]);
        } else if args::is(a, "auth2") {
            if more < 2 {
                return Err(error::SYNTAX);
            }
            username = Some(&argv[j + 1]);
            password = Some(&argv[j + 2]);
            j += 2;
        } else if args::is(a, "keys") {
            if !argv[3].is_empty() {
                return Err(error::MIGRATE_KEYS_NOT_EMPTY);
            }
            first_key = j + 1;
            num_keys = argv.len() - j - 1;
            break;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let timeout = args::int(&argv[5])?;
    let dbid = args::int(&argv[4])?;
    let timeout = if timeout <= 0 { 1000 } else { timeout as u64 };

    // The keys here now (an expired one is not), with their payloads and remaining TTLs.
    let compress = ctx.eng.config.rdb_compression();
    let now = ctx.now;
    let mut moving: Vec<(&[u8], i64, Vec<u8>)> = Vec::new();
    for key in &argv[first_key..first_key + num_keys] {
        if let Some(e) = ctx.lookup_read(key) {
            let payload = crate::rdb::dump(&e.value, compress);
            let ttl = ctx.db().expire_at(key).map_or(0, |at| (at - now).max(1));
            moving.push((key, ttl, payload));
        }
    }
    if moving.is_empty() {
        return Ok(Reply::status("NOKEY"));
    }
    let (host, port) = (&argv[1], &argv[2]);
    let Some(mut hosts) = ctx.eng.migrate.take() else {
        return Err(error::MIGRATE_CONNECT);
    };
    let cluster = ctx.eng.cluster_enabled();
    let outcome = migrate_exchange(
        hosts.as_mut(),
        (host, port),
        timeout,
        dbid,
        (username, password),
        &moving,
        (replace, cluster),
    );
    ctx.eng.migrate = Some(hosts);
    let (acked, result) = match outcome {
        Ok(acked) => (acked, Ok(Reply::ok())),
        Err((acked, failure)) => (
            acked,
            Err(match failure {
                MigrateFailure::Connect => error::MIGRATE_CONNECT,
                MigrateFailure::Io { writing } => error::migrate_io(writing),
                MigrateFailure::Target(line) => error::migrate_target(&line),
            }),
        ),
    };
    if !copy && !acked.is_empty() {
        let mut del = vec![b"DEL".to_vec()];
        for &i in &acked {
            let key = moving[i].0;
            if ctx.db().delete(key, now).is_some() {
                ctx.signal_modified(key);
                ctx.notify('g', "del", key);
                ctx.dirty(1);
            }
            del.push(key.to_vec());
        }
        ctx.propagate_as(del);
    }
    result
}

/// How a MIGRATE exchange failed.
enum MigrateFailure {
    Connect,
    Io {
        writing: bool,
    },
    /// The first error line the target answered (without its `-`).
    Target(Vec<u8>),
}

/// MIGRATE's conversation with the target, with Redis's one retry. Ok: the indexes of the keys
/// (in `moving`) the target acknowledged, all of them; Err: those acknowledged before the
/// failure, and the failure.
#[allow(clippy::type_complexity)]
fn migrate_exchange(
    hosts: &mut dyn crate::engine::migrate::MigrateHost,
    (host, port): (&[u8], &[u8]),
    timeout: u64,
    dbid: i64,
    (username, password): (Option<&[u8]>, Option<&[u8]>),
    moving: &[(&[u8], i64, Vec<u8>)],
    (replace, cluster): (bool, bool),
) -> Result<Vec<usize>, (Vec<usize>, MigrateFailure)> {
    use crate::engine::migrate::IoFailure;
    use crate::engine::propagate::encode_command;
    let mut may_retry = true;
    loop {
        let Some(conn) = hosts.connect(host, port, timeout) else {
            return Err((Vec::new(), MigrateFailure::Connect));
        };
        let mut cmd = Vec::new();
        if let Some(pass) = password {
            match username {
                Some(user) => encode_command(&[b"AUTH".as_slice(), user, pass], &mut cmd),
                None => encode_command(&[b"AUTH".as_slice(), pass], &mut cmd),
            }
        }
        let select = conn.last_dbid() != dbid;
        if select {
            encode_command(
                &[b"SELECT".to_vec(), dbid.to_string().into_bytes()],
                &mut cmd,
            );
        }
        // A cluster node restores with RESTORE-ASKING, which a target importing the slot
        // accepts (a plain RESTORE would be redirected back here).
        let restore_cmd: &[u8] = if cluster {
            b"RESTORE-ASKING"
        } else {
            b"RESTORE"
        };
        for (key, ttl, payload) in moving {
            let ttl = ttl.to_string();
            let mut restore: Vec<&[u8]> = vec![restore_cmd, key, ttl.as_bytes(), payload];
            if replace {
                restore.push(b"REPLACE");
            }
            encode_command(&restore, &mut cmd);
        }
        // What failed, whether it may be retried, and whether it happened while writing.
        let failed: (IoFailure, bool, bool);
        'exchange: {
            if let Err(e) = conn.write_all(&cmd, timeout) {
                failed = (e, true, true);
                break 'exchange;
            }
            let auth_reply = match password {
                Some(_) => match conn.read_line(timeout) {
                    Ok(line) => Some(line),
                    Err(e) => {
                        failed = (e, true, false);
                        break 'exchange;
                    }
                },
                None => None,
            };
            let select_reply = if select {
                match conn.read_line(timeout) {
                    Ok(line) => Some(line),
                    Err(e) => {
                        failed = (e, true, false);
                        break 'exchange;
                    }
                }
            } else {
                None
            };
            let is_err = |l: &Option<Vec<u8>>| l.as_ref().is_some_and(|l| l.first() == Some(&b'-'));
            let mut target_error: Option<Vec<u8>> = None;
            let mut acked = Vec::new();
            for i in 0..moving.len() {
                let line = match conn.read_line(timeout) {
                    Ok(line) => line,
                    Err(e) => {
                        if target_error.is_none() && i == 0 && may_retry && e != IoFailure::TimedOut
                        {
                            failed = (e, true, false);
                            break 'exchange;
                        }
                        // Keys acknowledged so far stay moved; the cached connection goes.
                        hosts.close(host, port);
                        if let Some(t) = target_error {
                            return Err((acked, MigrateFailure::Target(t)));
                        }
                        return Err((acked, MigrateFailure::Io { writing: false }));
                    }
                };
                if is_err(&auth_reply) || is_err(&select_reply) || line.first() == Some(&b'-') {
                    if target_error.is_none() {
                        conn.set_last_dbid(-1);
                        let from = if is_err(&auth_reply) {
                            auth_reply.as_deref()
                        } else if is_err(&select_reply) {
                            select_reply.as_deref()
                        } else {
                            Some(line.as_slice())
                        };
                        target_error = from.map(|l| l[1..].to_vec());
                    }
                } else {
                    acked.push(i);
                }
            }
            if let Some(t) = target_error {
                return Err((acked, MigrateFailure::Target(t)));
            }
            conn.set_last_dbid(dbid);
            return Ok(acked);
        }
        let (error, retryable, writing) = failed;
        hosts.close(host, port);
        if retryable && may_retry && error != IoFailure::TimedOut {
            may_retry = false;
            continue;
        }
        return Err((Vec::new(), MigrateFailure::Io { writing }));
    }
}
