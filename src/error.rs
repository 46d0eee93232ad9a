//! Every error text Redis 7.0 replies with, in one place.
//!
//! A handler returns `Err(CmdError)`; the dispatcher turns it into an error reply. The text is the
//! whole error line, prefix included, exactly as `redis-server` sends it (without the leading `-`).

use std::borrow::Cow;

/// A command's failure, as the error line the client receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

impl CmdError {
    /// An error line whose text is built at run time (it already carries its prefix).
    pub fn new(text: impl Into<String>) -> CmdError {
        CmdError(Cow::Owned(text.into()))
    }

    /// `ERR <text>`.
    pub fn err(text: impl std::fmt::Display) -> CmdError {
        CmdError(Cow::Owned(format!("ERR {}", text)))
    }

    /// The error line without the leading `-`.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> CmdError {
        CmdError(Cow::Borrowed(s))
    }
}

/// What a command handler returns.
pub type CmdResult = Result<crate::protocol::Reply, CmdError>;

macro_rules! errors {
    ($($(#[$m:meta])* $name:ident = $text:expr;)*) => {
        $( $(#[$m])* pub const $name: CmdError = CmdError(Cow::Borrowed($text)); )*
    };
}

errors! {
    /// EVALSHA of a script the cache does not hold.
    NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";
    /// EVAL with a negative key count.
    NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative";
    /// A stream ID argument that does not parse.
    STREAM_ID_INVALID = "ERR Invalid stream ID specified as stream command argument";
    /// XADD with an ID not above the stream's last.
    STREAM_ID_SMALLER = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
    /// XADD with the explicit ID 0-0.
    STREAM_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0";
    /// XADD on a stream whose last ID is the largest possible.
    STREAM_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items";
    /// A client blocked (BLPOP, WAIT ...) when its server turned replica.
    UNBLOCKED_ROLE_CHANGE = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";
    /// REPLICAOF with a port that is not a number from 0 to 65535.
    INVALID_MASTER_PORT = "ERR Invalid master port";
    /// REPLICAOF host port sent by a replica of ours on its replication link.
    REPLICAOF_FROM_REPLICA = "ERR Command is not valid when client is a replica.";
    /// A write while fewer replicas than `min-replicas-to-write` are within
    /// `min-replicas-max-lag`.
    NOREPLICAS = "NOREPLICAS Not enough good replicas to write.";
    /// WAIT sent to a replica.
    WAIT_ON_REPLICA = "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.";
    /// A write sent by a client to a read-only replica.
    READONLY_REPLICA = "READONLY You can't write against a read only replica.";
    /// FAILOVER ABORT with no failover under way.
    FAILOVER_NONE = "ERR No failover in progress.";
    /// FAILOVER while one is under way.
    FAILOVER_RUNNING = "ERR FAILOVER already in progress.";
    /// FAILOVER sent to a replica.
    FAILOVER_ON_REPLICA = "ERR FAILOVER is not valid when server is a replica.";
    /// FAILOVER on a primary without replicas.
    FAILOVER_NO_REPLICAS = "ERR FAILOVER requires connected replicas.";
    /// FAILOVER FORCE without both TO and TIMEOUT.
    FAILOVER_FORCE = "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
    /// FAILOVER TO an address that is not one of our replicas.
    FAILOVER_NOT_REPLICA = "ERR FAILOVER target HOST and PORT is not a replica.";
    /// FAILOVER TO a replica still syncing.
    FAILOVER_NOT_ONLINE = "ERR FAILOVER target replica is not online.";
    /// FAILOVER TIMEOUT 0 or less.
    FAILOVER_TIMEOUT = "ERR FAILOVER timeout must be greater than 0";
    /// REPLICAOF during a failover.
    REPLICAOF_FAILING_OVER = "ERR REPLICAOF not allowed while failing over.";
    /// SYNC or PSYNC during a failover.
    SYNC_FAILING_OVER = "NOMASTERLINK Can't SYNC while failing over";
    /// PSYNC ... FAILOVER sent to a primary.
    PSYNC_FAILOVER_TO_MASTER = "ERR PSYNC FAILOVER can't be sent to a master.";
    /// PSYNC ... FAILOVER with another history than ours.
    PSYNC_FAILOVER_REPLID = "ERR PSYNC FAILOVER replid must match my replid.";
    /// SYNC or PSYNC sent to a replica whose own link to its primary is not up.
    SYNC_NOT_CONNECTED = "NOMASTERLINK Can't SYNC while not connected with my master";
    /// REPLCONF rdb-only with a value other than 0 or 1.
    REPLCONF_RDB_ONLY_RANGE = "ERR value is out of range, value must between 0 and 1";
    /// Any syntax problem in a command's options.
    SYNTAX = "ERR syntax error";
    /// An operation against a key of another type.
    WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
    /// An argument that must be an integer is not one (or is out of range).
    NOT_INTEGER = "ERR value is not an integer or out of range";
    /// An argument that must be a float is not one.
    NOT_FLOAT = "ERR value is not a valid float";
    /// The key does not exist (RENAME, LSET ...).
    NO_SUCH_KEY = "ERR no such key";
    /// INCR-family overflow.
    OVERFLOW = "ERR increment or decrement would overflow";
    /// A DB index outside 0..databases.
    DB_INDEX = "ERR DB index is out of range";
    /// SELECT with a non-integer.
    INVALID_DB_INDEX = "ERR invalid DB index";
    /// The expire argument of SET / GETEX / EXPIRE is not positive or overflows.
    INVALID_EXPIRE_SET = "ERR invalid expire time in 'set' command";
    /// GETEX's variant of the above.
    INVALID_EXPIRE_GETEX = "ERR invalid expire time in 'getex' command";
    /// A value larger than proto-max-bulk-len (512MB) would result.
    STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    /// An offset argument out of range (SETRANGE, SETBIT ...).
    OFFSET_RANGE = "ERR offset is out of range";
    /// A negative or over-large timeout.
    TIMEOUT_NEGATIVE = "ERR timeout is negative";
    /// RENAME / COPY / MOVE onto the same key or DB.
    SAME_OBJECT = "ERR source and destination objects are the same";
    /// INCRBYFLOAT / HINCRBYFLOAT producing a non-finite value.
    NAN_OR_INF = "ERR increment would produce NaN or Infinity";
    /// DEBUG while `enable-debug-command` is `no` (or `local` for a remote client).
    DEBUG_NOT_ALLOWED = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
    /// DEBUG LISTPACK of a value in another encoding.
    DEBUG_NOT_LISTPACK = "ERR Not a listpack encoded object.";
    /// DEBUG QUICKLIST of a value in another encoding.
    DEBUG_NOT_QUICKLIST = "ERR Not a quicklist encoded object.";
    /// DEBUG SDSLEN of a value that is not an sds string.
    DEBUG_NOT_SDS = "ERR Not an sds encoded string.";
    /// DEBUG HTSTATS-KEY of a value without a hash table.
    DEBUG_NOT_HASHTABLE = "ERR The value stored at the specified key is not represented using an hash table";
    /// DEBUG HTSTATS of a database that does not exist.
    OUT_OF_RANGE_DB = "ERR Out of range database";
    /// A save that failed (SAVE, DEBUG RELOAD): Redis's bare shared error.
    SAVE_FAILED = "ERR";
    /// DEBUG RELOAD with an unknown option.
    DEBUG_RELOAD_OPTIONS = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
    /// DEBUG RELOAD when the snapshot cannot be read back.
    DEBUG_RELOAD_FAILED = "ERR Error trying to load the RDB dump";
    /// DEBUG RELOAD NOFLUSH without MERGE meeting a key that exists (Redis stops there).
    DEBUG_RELOAD_DUPLICATE = "ERR Error trying to load the RDB dump: a loaded key already exists";
    /// DEBUG QUICKLIST-PACKED-THRESHOLD out of range.
    DEBUG_PACKED_THRESHOLD = "ERR argument must be a memory value bigger than 1 and smaller than 4gb";
    /// DEBUG PROTOCOL with an unknown type.
    DEBUG_PROTOCOL_TYPE = "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false";
    /// A reply type a RESP2 client cannot receive (DEBUG PROTOCOL PUSH).
    RESP2_NOT_SUPPORTED = "ERR RESP2 is not supported by this command";
    /// DEBUG CLIENT-EVICTION while maxmemory-clients is 0.
    DEBUG_NO_CLIENT_EVICTION = "ERR maxmemory-clients is disabled.";
    /// DEBUG MALLCTL of a name the allocator does not know.
    DEBUG_MALLCTL_UNKNOWN = "ERR No such file or directory";
    /// DEBUG CLUSTERLINK outside cluster mode.
    DEBUG_CLUSTER_ONLY = "ERR Debug option only available for cluster mode enabled setup!";
    /// MODULE LOAD / LOADEX / UNLOAD while `enable-module-command` is `no`.
    MODULE_NOT_ALLOWED = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
    /// A value that must be a float is NaN.
    NAN = "ERR value is NaN";
    /// A count that must not be negative.
    POSITIVE = "ERR value is out of range, must be positive";
    /// A command from a client that has not authenticated while `requirepass` is set.
    NOAUTH = "NOAUTH Authentication required.";
    /// What a connection from another host receives before the server closes it, while
    /// `protected-mode` is yes and the default user has no password (Redis 7.0.15's text, its
    /// "Setup a an" included).
    PROTECTED_MODE = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";
    /// What a connection past `maxclients` receives before the server closes it.
    MAX_CLIENTS_REACHED = "ERR max number of clients reached";
    /// AUTH or HELLO AUTH with a wrong user or password.
    WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";
    /// SCAN with a cursor that is not an unsigned integer.
    INVALID_CURSOR = "ERR invalid cursor";
    /// SINTERCARD (and other numkeys commands) with a numkeys below 1 or not a number.
    NUMKEYS_POSITIVE = "ERR numkeys should be greater than 0";
    /// A numkeys larger than the arguments that follow it.
    NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args";
    /// SINTERCARD's LIMIT below 0 or not a number.
    LIMIT_NEGATIVE = "ERR LIMIT can't be negative";
    /// A count parsed as a long in [-LONG_MAX, LONG_MAX] (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER).
    RANGE_LONG = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
    /// Not Redis: a random reply with repeats (negative count) longer than the playground builds.
    /// Redis would try to build it and run out of memory.
    RANDOM_REPLY_TOO_LONG = "ERR count is too large: replies with repeated random elements are limited to 1000000 elements";
    /// DECRBY with -9223372036854775808, whose negation does not fit.
    DECREMENT_OVERFLOW = "ERR decrement would overflow";
    /// SETEX's variant of the invalid expire error.
    INVALID_EXPIRE_SETEX = "ERR invalid expire time in 'setex' command";
    /// PSETEX's variant of the invalid expire error.
    INVALID_EXPIRE_PSETEX = "ERR invalid expire time in 'psetex' command";
    /// LCS on a key that holds something other than a string.
    LCS_NOT_STRINGS = "ERR The specified keys must contain string values";
    /// LCS given both LEN and IDX.
    LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX.";
    /// LCS whose table of (len1+1)*(len2+1) 32-bit cells would exceed proto-max-bulk-len.
    LCS_TABLE_TOO_BIG =
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
    /// LCS whose table could not be allocated.
    LCS_ALLOC_FAILED = "ERR Insufficient memory, failed allocating transient memory for LCS";
    /// A command refused for lack of memory.
    OOM = "OOM command not allowed when used memory > 'maxmemory'.";
    /// LSET past either end of the list.
    INDEX_OUT_OF_RANGE = "ERR index out of range";
    /// LPOS RANK 0.
    LPOS_RANK_ZERO = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
    /// LPOS COUNT below 0 or not a number.
    LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative";
    /// LPOS MAXLEN below 0 or not a number.
    LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative";
    /// LMPOP / ZMPOP COUNT below 1 or not a number.
    COUNT_POSITIVE = "ERR count should be greater than 0";
    /// HINCRBY on a field whose value is not an integer.
    HASH_NOT_INTEGER = "ERR hash value is not an integer";
    /// HINCRBYFLOAT on a field whose value is not a float.
    HASH_NOT_FLOAT = "ERR hash value is not a float";
    /// HINCRBYFLOAT with an infinite increment.
    NAN_OR_INFINITY = "ERR value is NaN or Infinity";
    /// RESTORE onto an existing key without REPLACE.
    BUSYKEY = "BUSYKEY Target key name already exists.";
    /// RESTORE of a payload whose footer (RDB version, CRC-64) does not check out.
    DUMP_PAYLOAD = "ERR DUMP payload version or checksum are wrong";
    /// RESTORE of a payload whose value does not parse.
    BAD_DATA_FORMAT = "ERR Bad data format";
    /// RESTORE with a negative TTL.
    RESTORE_TTL = "ERR Invalid TTL value, must be >= 0";
    /// RESTORE with a negative IDLETIME.
    RESTORE_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0";
    /// RESTORE with a FREQ outside 0..=255.
    RESTORE_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255";
    /// HRANDFIELD / ZRANDMEMBER WITHVALUES / WITHSCORES with |count| above i64::MAX / 2.
    VALUE_OUT_OF_RANGE = "ERR value is out of range";
}

/// XREAD / XREADGROUP with BLOCK from a script (`cmd` as the script spelled it).
pub fn block_from_script(cmd: &[u8]) -> CmdError {
    CmdError::new(format!(
        "ERR {} command is not allowed with BLOCK option from scripts",
        String::from_utf8_lossy(cmd)
    ))
}

/// `ERR wrong number of arguments for '<name>' command` (`name` is lower case, `a|b` for
/// subcommands).
pub fn wrong_arity(name: &str) -> CmdError {
    CmdError::new(format!(
        "ERR wrong number of arguments for '{}' command",
        name
    ))
}

/// `NOGROUP No such consumer group '<group>' for key name '<key>'`.
pub fn no_such_group(group: &[u8], key: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        c_str_prefix(group, usize::MAX),
        c_str_prefix(key, usize::MAX)
    )))
}

/// `NOGROUP No such key '<key>' or consumer group '<group>'<rest>` (XREADGROUP adds ` in
/// XREADGROUP with GROUP option`).
pub fn no_key_or_group(key: &[u8], group: &[u8], rest: &str) -> CmdError {
    CmdError::new(sanitize(&format!(
        "NOGROUP No such key '{}' or consumer group '{}'{}",
        c_str_prefix(key, usize::MAX),
        c_str_prefix(group, usize::MAX),
        rest
    )))
}

/// `ERR Can't execute '<cmd>': ...` — a RESP2 client in subscribed mode sent another command.
pub fn subscribed_context(cmd: &str) -> CmdError {
    CmdError::new(format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        cmd
    ))
}

/// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' ` — the preview stops
/// once 128 bytes of arguments are shown, as Redis's does.
pub fn unknown_command(argv: &[Vec<u8>]) -> CmdError {
    let mut args = String::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push('\'');
        args.push_str(&c_str_prefix(a, room));
        args.push_str("' ");
    }
    let name = argv.first().map_or(String::new(), |n| c_str_prefix(n, 128));
    CmdError::new(sanitize(&format!(
        "ERR unknown command '{}', with args beginning with: {}",
        name, args
    )))
}

/// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
pub fn unknown_subcommand(sub: &[u8], cmd: &str) -> CmdError {
    let sub = c_str_prefix(sub, 128);
    CmdError::new(sanitize(&format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        sub,
        cmd.to_ascii_uppercase()
    )))
}

/// A DEBUG subcommand that would crash or restart a real Redis: the engine has no process to
/// end, so it says so instead.
pub fn debug_unsupported(sub: &str) -> CmdError {
    CmdError::new(format!(
        "ERR DEBUG {} is not supported by this server",
        sub.to_ascii_uppercase()
    ))
}

/// Redis's `addReplySubcommandSyntaxError`: a known subcommand given arguments it does not
/// take (`sub` as typed).
pub fn subcommand_syntax(sub: &[u8], cmd: &str) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        c_str_prefix(sub, 128),
        cmd.to_ascii_uppercase()
    )))
}

/// `ERR Unrecognized XCLAIM option '<opt>'`.
pub fn xclaim_option(opt: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Unrecognized XCLAIM option '{}'",
        c_str_prefix(opt, usize::MAX)
    )))
}

/// `ERR invalid longitude,latitude pair <lon>,<lat>` (both with six decimals).
pub fn geo_pair(lon: f64, lat: f64) -> CmdError {
    CmdError::new(format!(
        "ERR invalid longitude,latitude pair {:.6},{:.6}",
        lon, lat
    ))
}

/// `ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for <cmd>`.
pub fn geo_from(cmd: &str) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
        cmd
    )))
}

/// `ERR exactly one of BYRADIUS and BYBOX can be specified for <cmd>`.
pub fn geo_by(cmd: &str) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
        cmd
    )))
}

/// `ERR Unknown PFDEBUG subcommand '<sub>'`.
pub fn pfdebug_subcommand(sub: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Unknown PFDEBUG subcommand '{}'",
        c_str_prefix(sub, usize::MAX)
    )))
}

/// PFSELFTEST's failure reports (`TESTFAILED ...`), whose text is built by the test.
pub fn pfselftest_failed(what: &str) -> CmdError {
    CmdError::new(format!("TESTFAILED {}", what))
}

/// `ERR No samples available for event '<event>'` (LATENCY GRAPH).
pub fn latency_no_samples(event: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR No samples available for event '{}'",
        c_str_prefix(event, usize::MAX)
    )))
}

/// `ERR CONFIG SET failed (possibly related to argument '<name>') - <why>`.
/// CONFIG REWRITE could not read or write the config file: the system's reason.
pub fn config_rewrite_failed(why: &str) -> CmdError {
    CmdError::new(sanitize(&format!("ERR Rewriting config file: {why}")))
}

/// DEBUG CONFIG-REWRITE-FORCE-ALL could not read or write the config file.
pub fn debug_rewrite_failed(why: &str) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR CONFIG-REWRITE-FORCE-ALL failed: {why}"
    )))
}

pub fn config_set_failed(name: &[u8], why: &str) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
        c_str_prefix(name, usize::MAX),
        why
    )))
}

/// Why CONFIG SET maxclients failed: the open file limit holds only `allowed` clients.
pub fn os_cannot_hold_clients(allowed: u64) -> String {
    format!("The operating system is not able to handle the specified number of clients, try with {allowed}")
}

/// `ERR Unknown option or number of arguments for CONFIG SET - '<name>'`.
pub fn config_set_unknown(name: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
        c_str_prefix(name, usize::MAX)
    )))
}

/// `ERR Syntax error in HELLO option '<opt>'`.
pub fn hello_option(opt: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Syntax error in HELLO option '{}'",
        c_str_prefix(opt, 128)
    )))
}

/// `ERR Unknown client type '<type>'`.
pub fn client_type(kind: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Unknown client type '{}'",
        c_str_prefix(kind, 128)
    )))
}

/// `ERR No such user '<user>'`.
pub fn no_such_user(user: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR No such user '{}'",
        c_str_prefix(user, 128)
    )))
}

/// `ERR at least 1 input key is needed for '<cmd>' command`.
pub fn needs_input_key(cmd: &[u8]) -> CmdError {
    CmdError::new(format!(
        "ERR at least 1 input key is needed for '{}' command",
        String::from_utf8_lossy(cmd).to_ascii_lowercase()
    ))
}

/// Redis replaces CR and LF in error lines with spaces so they stay one line.
pub fn sanitize(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// The first `max` bytes of `b` up to any NUL byte, as C's `%.*s` would print them.
pub fn c_str_prefix(b: &[u8], max: usize) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len()).min(max);
    String::from_utf8_lossy(&b[..end]).into_owned()
}

// The generic (keyspace) group's errors.
errors! {
    /// EXPIRE-family NX combined with XX, GT or LT.
    EXPIRE_NX_CONFLICT = "ERR NX and XX, GT or LT options at the same time are not compatible";
    /// EXPIRE-family GT combined with LT.
    EXPIRE_GT_LT_CONFLICT = "ERR GT and LT options at the same time are not compatible";
    /// OBJECT FREQ while the eviction policy is not an LFU one.
    LFU_NOT_SELECTED = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    /// OBJECT IDLETIME while the eviction policy is an LFU one.
    LFU_SELECTED = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
}

/// `ERR invalid expire time in '<cmd>' command` (`cmd` lower case: `expire`, `pexpireat` ...).
pub fn invalid_expire_time(cmd: &str) -> CmdError {
    CmdError::new(format!("ERR invalid expire time in '{}' command", cmd))
}

/// `ERR Unsupported option <opt>` (EXPIRE family), the option printed as C's `%s` would.
pub fn unsupported_option(opt: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Unsupported option {}",
        c_str_prefix(opt, usize::MAX)
    )))
}

// The bitmap group's errors.
errors! {
    /// A bit offset that is not a non-negative integer below proto-max-bulk-len bytes.
    BIT_OFFSET = "ERR bit offset is not an integer or out of range";
    /// SETBIT with a bit value other than 0 or 1.
    BIT_VALUE = "ERR bit is not an integer or out of range";
    /// BITPOS with a bit other than 0 or 1.
    BIT_ARGUMENT = "ERR The bit argument must be 1 or 0.";
    /// BITOP NOT with several sources.
    BITOP_NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key.";
    /// A BITFIELD type other than i1..i64 or u1..u63.
    BITFIELD_TYPE = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
    /// BITFIELD OVERFLOW with another word than WRAP, SAT or FAIL.
    BITFIELD_OVERFLOW_TYPE = "ERR Invalid OVERFLOW type specified";
    /// BITFIELD_RO with SET or INCRBY.
    BITFIELD_RO_GET_ONLY = "ERR BITFIELD_RO only supports the GET subcommand";
}

// The HyperLogLog group's errors.
errors! {
    /// A string that is not a HyperLogLog sketch (bad magic, encoding or dense length).
    HLL_WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    /// A sparse sketch whose opcodes do not cover exactly 16384 registers.
    HLL_CORRUPT = "INVALIDOBJ Corrupted HLL object detected";
    /// PFDEBUG on a missing key.
    HLL_NO_KEY = "ERR The specified key does not exist";
    /// PFDEBUG DECODE of a dense sketch.
    HLL_NOT_SPARSE = "ERR HLL encoding is not sparse";
}

// The geo group's errors.
errors! {
    /// A distance unit other than M, KM, FT or MI.
    GEO_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI";
    /// A negative search radius.
    GEO_RADIUS_NEGATIVE = "ERR radius cannot be negative";
    /// A negative box width or height.
    GEO_BOX_NEGATIVE = "ERR height or width cannot be negative";
    /// A search around a member the index does not hold.
    GEO_MEMBER = "ERR could not decode requested zset member";
    /// A search COUNT below 1.
    COUNT_ABOVE_ZERO = "ERR COUNT must be > 0";
    /// ANY without COUNT.
    GEO_ANY_NEEDS_COUNT = "ERR the ANY argument requires COUNT argument";
}

errors! {
    /// A number that must fit 32 bits (LPOS RANK ...) does not.
    INT32_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647";
    /// A blocking command's timeout is not a number of seconds.
    TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range";
    /// A timeout too large to be a deadline.
    TIMEOUT_RANGE = "ERR timeout is out of range";
    /// HELLO with a protocol version that is not a number.
    PROTO_NOT_INTEGER = "ERR Protocol version is not an integer or out of range";
    /// HELLO with a protocol version other than 2 or 3.
    NOPROTO = "NOPROTO unsupported protocol version";
    /// HELLO from a client that must authenticate first.
    HELLO_NOAUTH = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
    /// AUTH while the default user has no password.
    AUTH_NO_PASSWORD = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
    /// CLIENT KILL ID with an ID that is not a number.
    INVALID_CLIENT_ID = "ERR Invalid client ID";
    /// CLIENT TRACKING with REDIRECT given twice.
    REDIRECT_TWICE = "ERR A client can only redirect to a single other client";
    /// CLIENT TRACKING REDIRECT to a client that is not connected.
    REDIRECT_MISSING = "ERR The client ID you want redirect to does not exist";
    /// CLIENT TRACKING PREFIX without BCAST.
    PREFIX_WITHOUT_BCAST = "ERR PREFIX option requires BCAST mode to be enabled";
    /// CLIENT TRACKING turning BCAST on or off while tracking.
    BCAST_SWITCH = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
    /// CLIENT TRACKING with BCAST and OPTIN or OPTOUT.
    OPT_WITH_BCAST = "ERR OPTIN and OPTOUT are not compatible with BCAST";
    /// CLIENT TRACKING with both OPTIN and OPTOUT.
    OPTIN_AND_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode";
    /// CLIENT TRACKING changing OPTIN/OPTOUT while tracking.
    OPT_SWITCH = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
    /// CLIENT CACHING without OPTIN or OPTOUT tracking.
    CACHING_NOT_OPT = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled";
    /// CLIENT CACHING YES outside OPTIN mode.
    CACHING_YES_NOT_OPTIN = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.";
    /// CLIENT CACHING NO outside OPTOUT mode.
    CACHING_NO_NOT_OPTOUT = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.";
    /// CLIENT PAUSE with a mode other than WRITE or ALL.
    PAUSE_MODE = "ERR CLIENT PAUSE mode must be WRITE or ALL";
    /// CLIENT PAUSE with too many arguments.
    PAUSE_SYNTAX = "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.";
    /// A timeout in milliseconds that is not an integer.
    TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range";
    /// MONITOR inside MULTI.
    MONITOR_DENY_BLOCKING = "ERR MONITOR isn't allowed for DENY BLOCKING client";
    /// SSUBSCRIBE inside MULTI (SUBSCRIBE and PSUBSCRIBE are let through there).
    SSUBSCRIBE_DENY_BLOCKING = "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client";
    /// CLIENT KILL of a client that is not connected.
    NO_SUCH_CLIENT = "ERR No such client";
    /// CLIENT UNBLOCK with an ID below 1.
    CLIENT_ID_NOT_POSITIVE = "ERR client-id should be greater than 0";
    /// CLIENT UNBLOCK with a reason other than TIMEOUT or ERROR.
    UNBLOCK_REASON = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
    /// COMMAND GETKEYS of a command without keys.
    GETKEYS_NO_KEYS = "ERR The command has no key arguments";
    /// COMMAND GETKEYS of a command line with the wrong number of arguments.
    GETKEYS_ARITY = "ERR Invalid number of arguments specified for command";
    /// COMMAND GETKEYS of a command line whose keys cannot be found.
    GETKEYS_INVALID = "ERR Invalid arguments specified for command";
    /// CONFIG REWRITE on a server started without a configuration file.
    NO_CONFIG_FILE = "ERR The server is running without a config file";
    /// SHUTDOWN ABORT with no shutdown to abort.
    NO_SHUTDOWN = "ERR No shutdown in progress.";
    /// XGROUP ENTRIESREAD below -1.
    ENTRIESREAD_RANGE = "ERR value for ENTRIESREAD must be positive or -1";
    /// XGROUP CREATE of a group that exists.
    BUSYGROUP = "BUSYGROUP Consumer Group name already exists";
    /// XREADGROUP without GROUP.
    XREADGROUP_NO_GROUP = "ERR Missing GROUP option for XREADGROUP";
    /// XREADGROUP with the `$` ID.
    XREADGROUP_DOLLAR = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
    /// A blocked XREADGROUP whose group was destroyed.
    NOGROUP_GONE = "NOGROUP the consumer group this client was blocked on no longer exists";
    /// An exclusive range start that cannot be incremented.
    STREAM_START_ID = "ERR invalid start ID for the interval";
    /// An exclusive range end that cannot be decremented.
    STREAM_END_ID = "ERR invalid end ID for the interval";
    /// XCLAIM's min-idle-time is not a number.
    XCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XCLAIM";
    /// XCLAIM IDLE is not a number.
    XCLAIM_IDLE = "ERR Invalid IDLE option argument for XCLAIM";
    /// XCLAIM TIME is not a number.
    XCLAIM_TIME = "ERR Invalid TIME option argument for XCLAIM";
    /// XCLAIM RETRYCOUNT is not a number.
    XCLAIM_RETRYCOUNT = "ERR Invalid RETRYCOUNT option argument for XCLAIM";
    /// XAUTOCLAIM's min-idle-time is not a number.
    XAUTOCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XAUTOCLAIM";
    /// XAUTOCLAIM COUNT too large to allocate for.
    COUNT_TOO_HIGH = "ERR Insufficient memory, failed allocating transient memory, COUNT too high.";
    /// XADD/XTRIM with both MAXLEN and MINID.
    MAXLEN_AND_MINID = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
    /// A negative MAXLEN.
    MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0.";
    /// A negative trimming LIMIT.
    TRIM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0.";
    /// XADD LIMIT without MAXLEN or MINID.
    LIMIT_WITHOUT_STRATEGY = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
    /// XTRIM without MAXLEN or MINID.
    XTRIM_NO_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy";
    /// A trimming LIMIT without `~`.
    LIMIT_WITHOUT_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option";
    /// XADD fields and values too large for one stream node.
    ELEMENTS_TOO_LARGE = "ERR Elements are too large to be stored";
    /// XSETID ENTRIESADDED below 0.
    ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive";
    /// XSETID below its own MAXDELETEDID.
    XSETID_BELOW_MAXDELETED_ARG = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
    /// XSETID below the stream's last entry.
    XSETID_BELOW_TOP = "ERR The ID specified in XSETID is smaller than the target stream top item";
    /// XSETID ENTRIESADDED below the stream's length.
    XSETID_ENTRIES_ADDED = "ERR The entries_added specified in XSETID is smaller than the target stream length";
    /// XREAD STREAMS with unequal keys and IDs.
    XREAD_UNBALANCED = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
    /// XREAD with GROUP.
    XREAD_GROUP = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
    /// XREAD with NOACK.
    XREAD_NOACK = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
    /// XREAD with the `>` ID.
    XREAD_GT_ID = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
    /// MULTI inside MULTI.
    MULTI_NESTED = "ERR MULTI calls can not be nested";
    /// DISCARD outside a transaction.
    DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI";
    /// WATCH inside a transaction.
    WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed";
    /// ZADD with both XX and NX.
    XX_AND_NX = "ERR XX and NX options at the same time are not compatible";
    /// ZADD with more than one of GT, LT and NX.
    GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible";
    /// ZADD INCR with several members.
    INCR_SINGLE_PAIR = "ERR INCR option supports a single increment-element pair";
    /// ZRANGE LIMIT without BYSCORE or BYLEX.
    LIMIT_NEEDS_BY = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
    /// ZRANGE BYLEX WITHSCORES.
    WITHSCORES_BYLEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
    /// A WEIGHTS value that is not a number.
    WEIGHT_NOT_FLOAT = "ERR weight value is not a float";
    /// A key command from a client in MONITOR mode.
    MONITOR_KEYSPACE = "ERR Replica can't interact with the keyspace";
    /// A command flagged no_multi inside MULTI.
    NOT_IN_MULTI = "ERR Command not allowed inside a transaction";
    /// EXEC outside a transaction.
    EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI";
    /// EXEC of a transaction a refused command spoiled.
    EXECABORT = "EXECABORT Transaction discarded because of previous errors.";
}

// FUNCTION LOAD and FUNCTION RESTORE.
errors! {
    /// FUNCTION RESTORE of a payload holding something other than function libraries.
    RESTORE_NOT_FUNCTION = "ERR given type is not a function";
    /// FUNCTION RESTORE of a library record that does not parse.
    RESTORE_FUNCTION_RECORD = "ERR Failed loading library payload";
    /// FUNCTION RESTORE with a policy other than FLUSH, APPEND or REPLACE.
    RESTORE_POLICY = "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.";
}

/// `ERR Library <name> already exists`: FUNCTION RESTORE APPEND onto a loaded library (here
/// Redis prints the name without quotes).
pub fn restore_library_exists(name: &str) -> CmdError {
    CmdError::new(format!("ERR Library {} already exists", name))
}

// A script running past busy-reply-threshold, and SCRIPT KILL / FUNCTION KILL.
errors! {
    /// Any command but the few allowed while an EVAL script runs past busy-reply-threshold.
    BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    /// The same while a function runs.
    BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
    /// SCRIPT KILL or FUNCTION KILL of a script that already wrote.
    UNKILLABLE = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
}

// ACL: users, rules and permission checks.
errors! {
    /// ACL SETUSER with a user name holding whitespace or NUL.
    ACL_BAD_USERNAME = "ERR Usernames can't contain spaces or null characters";
    /// ACL DELUSER default.
    ACL_DELETE_DEFAULT = "ERR The 'default' user cannot be removed";
    /// ACL LOAD / SAVE without an ACL file.
    ACL_NO_FILE = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";
    /// ACL SAVE that could not write the file.
    ACL_SAVE_FAILED = "ERR There was an error trying to save the ACLs. Please check the server logs for more information";
    /// ACL GENPASS with a bit count out of range.
    ACL_GENPASS_BITS = "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096";
    /// SORT ... BY pattern from a user who may not read every key.
    SORT_BY_NOPERM = "ERR BY option of SORT denied due to insufficient ACL permissions.";
    /// SORT ... GET pattern from a user who may not read every key.
    SORT_GET_NOPERM = "ERR GET option of SORT denied due to insufficient ACL permissions.";
    /// A key the user may not use.
    NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments";
    /// A channel the user may not use.
    NOPERM_CHANNEL = "NOPERM this user has no permissions to access one of the channels used as arguments";
}

/// The reason text of a refused ACL rule (Redis's `ACLSetUserStringError`).
pub fn acl_rule_reason(e: crate::types::acl::RuleError) -> &'static str {
    use crate::types::acl::RuleError as R;
    match e {
        R::UnknownName => "Unknown command or category name in ACL",
        R::Syntax => "Syntax error",
        R::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
        R::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
        R::NoSuchPassword => "The password you are trying to remove from the user does not exist",
        R::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        R::FirstArgOfSub => "Allowing first-arg of a subcommand is not supported",
    }
}

/// ACL SETUSER with a refused rule.
pub fn acl_setuser_rule(op: &[u8], e: crate::types::acl::RuleError) -> CmdError {
    CmdError::new(safe_line(&format!(
        "ERR Error in ACL SETUSER modifier '{}': {}",
        String::from_utf8_lossy(op),
        acl_rule_reason(e)
    )))
}

/// ACL SETUSER with a `(` never closed.
pub fn acl_unmatched_paren(op: &[u8]) -> CmdError {
    CmdError::new(safe_line(&format!(
        "ERR Unmatched parenthesis in acl selector starting at '{}'.",
        String::from_utf8_lossy(op)
    )))
}

/// An error line may not hold a line break: Redis turns them into spaces.
fn safe_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// A command the user may not run.
pub fn noperm_command(full_name: &str) -> CmdError {
    CmdError::new(format!(
        "NOPERM this user has no permissions to run the '{}' command",
        full_name
    ))
}

/// A queued command that the user's rules, changed since it was queued, no longer allow.
pub fn noperm_at_exec(denied: crate::types::acl::Denied) -> CmdError {
    use crate::types::acl::Denied;
    let reason = match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key => "no permission to touch the specified keys",
        Denied::Channel => "no permission to access one of the channels used as arguments",
    };
    CmdError::new(format!(
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}",
        reason
    ))
}

/// What a script's `redis.call` is told when the user may not run the command.
pub fn noperm_script(denied: crate::types::acl::Denied) -> &'static str {
    use crate::types::acl::Denied;
    match denied {
        Denied::Command => "The user executing the script can't run this command or subcommand",
        Denied::Key => "The user executing the script can't access at least one of the keys mentioned in the command arguments",
        Denied::Channel => "The user executing the script can't publish to the channel mentioned in the command",
    }
}

/// ACL CAT of a category that does not exist.
pub fn acl_unknown_category(name: &[u8]) -> CmdError {
    let name = String::from_utf8_lossy(&name[..name.len().min(128)]).into_owned();
    CmdError::new(format!("ERR Unknown category '{}'", name))
}

/// ACL DRYRUN of a user that does not exist.
pub fn acl_no_such_user(name: &[u8]) -> CmdError {
    CmdError::new(safe_line(&format!(
        "ERR User '{}' not found",
        String::from_utf8_lossy(name)
    )))
}

/// ACL DRYRUN of a command that does not exist.
pub fn acl_no_such_command(name: &[u8]) -> CmdError {
    CmdError::new(safe_line(&format!(
        "ERR Command '{}' not found",
        String::from_utf8_lossy(name)
    )))
}

/// ACL LOAD of a file with errors (the whole list of what was wrong).
pub fn acl_load_failed(errors: &str) -> CmdError {
    CmdError::new(safe_line(&format!("ERR {}", errors)))
}
/// EXEC of a transaction a command spoiled because it was refused (`why` is that refusal).
pub fn exec_abort(why: &CmdError) -> CmdError {
    let text = why.text();
    let why = text.strip_prefix("ERR ").unwrap_or(text);
    CmdError::new(format!(
        "EXECABORT Transaction discarded because of: {}",
        why
    ))
}

errors! {
    /// ZINCRBY or ZADD INCR whose result is NaN.
    SCORE_NAN = "ERR resulting score is not a number (NaN)";
    /// A score range bound that is not a number.
    MIN_MAX_NOT_FLOAT = "ERR min or max is not a float";
    /// A lexicographic range bound without `[`, `(`, `-` or `+`.
    MIN_MAX_NOT_LEX = "ERR min or max not valid string range item";
    /// SORT of a value that is not a number (without ALPHA).
    SORT_NOT_DOUBLE = "ERR One or more scores can't be converted into double";
    /// SLOWLOG GET with a count below -1.
    SLOWLOG_COUNT = "ERR count should be greater than or equal to -1";
    /// An XGROUP subcommand other than CREATE ... MKSTREAM on a missing key.
    XGROUP_NO_KEY = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
    /// CLIENT SETNAME (or HELLO SETNAME) with a space or a control character.
    CLIENT_NAME_INVALID = "ERR Client names cannot contain spaces, newlines or special characters.";
    /// COMMAND GETKEYS of an unknown command.
    INVALID_COMMAND = "ERR Invalid command specified";
    /// SWAPDB's first index that is not an integer.
    SWAPDB_FIRST = "ERR invalid first DB index";
    /// SWAPDB's second index that is not an integer.
    SWAPDB_SECOND = "ERR invalid second DB index";
    /// SAVE or BGSAVE while a background save runs.
    BGSAVE_RUNNING = "ERR Background save already in progress";
    /// SHUTDOWN whose final save failed (without FORCE).
    SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs.";
    /// A blocked client ended by CLIENT UNBLOCK ... ERROR.
    CLIENT_UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
}

/// CLIENT TRACKING with prefixes that overlap (`existing`: one was already registered).
pub fn prefix_overlap(p: &[u8], q: &[u8], existing: bool) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Prefix '{}' overlaps with {} prefix '{}'. Prefixes for a single client must not overlap.",
        c_str_prefix(p, usize::MAX),
        if existing { "an existing" } else { "another provided" },
        c_str_prefix(q, usize::MAX)
    )))
}

/// XINFO STREAM with options it does not know.
pub fn xinfo_syntax(sub: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
        c_str_prefix(sub, 128)
    )))
}

// Scripts and functions.
errors! {
    /// EVAL_RO/FCALL_RO of a script or function without the no-writes flag.
    SCRIPT_WRITE_IN_RO = "ERR Can not execute a script with write flag using *_ro command.";
    /// The Lua state could not be made.
    LUA_UNAVAILABLE = "ERR Lua is not available";
    /// A script's reply nested deeper than the converter goes.
    LUA_STACK_LIMIT = "ERR reached lua stack limit";
    /// SCRIPT FLUSH with an option other than SYNC or ASYNC.
    SCRIPT_FLUSH_OPTION = "ERR SCRIPT FLUSH only support SYNC|ASYNC option";
    /// FUNCTION FLUSH with an option other than SYNC or ASYNC.
    FUNCTION_FLUSH_OPTION = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";
    /// SCRIPT KILL or FUNCTION KILL with nothing running.
    NOTBUSY = "NOTBUSY No scripts in execution right now.";
    /// SCRIPT DEBUG YES or SYNC: no debugger here.
    LUA_DEBUGGER_UNAVAILABLE = "ERR The Lua debugger is not available on this server";
    /// SCRIPT DEBUG with another mode.
    SCRIPT_DEBUG_USAGE = "ERR Use SCRIPT DEBUG YES/SYNC/NO";
    /// FUNCTION LOAD [REPLACE] without the code.
    FUNCTION_CODE_MISSING = "ERR Function code is missing";
    /// A library without its `#!` line.
    LIBRARY_METADATA_MISSING = "ERR Missing library metadata";
    /// A `#!` line that does not split into words.
    LIBRARY_METADATA_INVALID = "ERR Invalid library metadata";
    /// `name=` twice in a `#!` line.
    LIBRARY_NAME_TWICE = "ERR Invalid metadata value, name argument was given multiple times";
    /// A `#!` line without `name=`.
    LIBRARY_NAME_MISSING = "ERR Library name was not given";
    /// A library name with other characters than letters, digits and `_`.
    LIBRARY_NAME_INVALID = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
    /// A library that registers no function.
    NO_FUNCTIONS_REGISTERED = "ERR No functions registered";
    /// FCALL of an unknown function.
    FUNCTION_NOT_FOUND = "ERR Function not found";
    /// FCALL with a key count that is not a number or above the arguments.
    BAD_NUMBER_OF_KEYS = "ERR Bad number of keys provided";
    /// FUNCTION DELETE of an unknown library.
    LIBRARY_NOT_FOUND = "ERR Library not found";
    /// FUNCTION LIST LIBRARYNAME without the pattern.
    LIBRARY_PATTERN_MISSING = "ERR library name argument was not given";
    /// A script whose `#!` line has no end.
    SHEBANG_INVALID = "ERR Invalid script shebang";
    /// A script whose `#!` line does not split into words.
    SHEBANG_ENGINE_INVALID = "ERR Invalid engine in script shebang";
}

/// A `#!` line's word other than `name=...`.
pub fn library_metadata_value(part: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Invalid metadata value given: {}",
        String::from_utf8_lossy(part)
    ))
}

/// A library for an engine other than Lua.
pub fn engine_not_found(engine: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Engine '{}' not found",
        String::from_utf8_lossy(engine)
    ))
}

/// The Lua state failed to start.
pub fn lua_init_failed(why: impl std::fmt::Display) -> CmdError {
    CmdError::err(format_args!("Lua initialization failed: {}", why))
}

/// FUNCTION LOAD of a library that exists, without REPLACE.
pub fn library_exists(name: &str) -> CmdError {
    CmdError::err(format_args!("Library '{}' already exists", name))
}

/// A library registering a function another library has.
pub fn function_exists(name: &str) -> CmdError {
    CmdError::err(format_args!("Function {} already exists", name))
}

/// FUNCTION LIST with an argument it does not know.
pub fn function_list_argument(arg: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Unknown argument {}",
        c_str_prefix(arg, usize::MAX)
    ))
}

/// FUNCTION LOAD with an option it does not know.
pub fn function_load_option(arg: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Unknown option given: {}",
        String::from_utf8_lossy(arg)
    ))
}

/// A script that does not compile.
pub fn script_compile(why: impl std::fmt::Display) -> CmdError {
    CmdError::err(format_args!(
        "Error compiling script (new function): {}",
        why
    ))
}

/// A script stopped by SCRIPT KILL after the busy threshold.
pub fn script_killed(limit_ms: u64, sha: &str) -> CmdError {
    CmdError::err(format_args!(
        "Script killed after running longer than busy-reply-threshold ({} ms) script: {}",
        limit_ms, sha
    ))
}

/// A script that raised something other than an error table.
pub fn script_failed(sha: &str, msg: &str) -> CmdError {
    CmdError::err(format_args!("Error running script {}, {:.100}", sha, msg))
}

/// A `#!` line naming another engine than Lua.
pub fn shebang_engine(engine: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Unexpected engine in script shebang: {}",
        String::from_utf8_lossy(engine)
    ))
}

/// A `#!` line word other than `flags=`.
pub fn shebang_option(part: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Unknown lua shebang option: {}",
        String::from_utf8_lossy(part)
    ))
}

/// A script flag Redis does not know.
pub fn shebang_flag(flag: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Unexpected flag in script shebang: {}",
        String::from_utf8_lossy(flag)
    ))
}

// The request parser's complaints, each sent as `ERR Protocol error: <what>`.
/// An inline request longer than the query buffer allows.
pub const PROTO_INLINE_TOO_BIG: &str = "too big inline request";
/// An inline request with an unclosed quote.
pub const PROTO_UNBALANCED_QUOTES: &str = "unbalanced quotes in request";
/// A `*count` line without its end in reach.
pub const PROTO_MBULK_TOO_BIG: &str = "too big mbulk count string";
/// A `*count` that is not a number in range.
pub const PROTO_MBULK_LENGTH: &str = "invalid multibulk length";
/// A `$length` line without its end in reach.
pub const PROTO_BULK_TOO_BIG: &str = "too big bulk count string";
/// A `$length` that is not a number in range.
pub const PROTO_BULK_LENGTH: &str = "invalid bulk length";
/// What a script stopped by SCRIPT KILL or FUNCTION KILL raises inside Lua.
pub const LUA_KILLED_BY_USER: &str = "Script killed by user with SCRIPT KILL...";
/// A `*count` above what a client that has not authenticated may send.
pub const PROTO_UNAUTH_MBULK_LENGTH: &str = "unauthenticated multibulk length";
/// A `$length` above what a client that has not authenticated may send.
pub const PROTO_UNAUTH_BULK_LENGTH: &str = "unauthenticated bulk length";

/// The whole protocol error line for `what`.
pub fn protocol(what: &str) -> String {
    format!("ERR Protocol error: {}", what)
}

/// A multibulk element that does not start with `$` (the byte is quoted raw).
pub fn protocol_expected_dollar(got: u8) -> String {
    protocol(&format!("expected '$', got '{}'", got as char))
}

/// A blocked XREADGROUP whose stream was deleted while it waited.
pub const STREAM_GONE: CmdError =
    CmdError(Cow::Borrowed("UNBLOCKED the stream key no longer exists"));

/// REPLCONF ip-address longer than a host name may be.
pub fn replconf_ip_too_long(len: usize) -> CmdError {
    CmdError::err(format_args!(
        "REPLCONF ip-address provided by replica instance is too long: {len} bytes"
    ))
}

/// REPLCONF rdb-filter-only naming something other than `functions`.
pub fn replconf_filter_option(word: &str) -> CmdError {
    CmdError::err(format_args!("Unsupported rdb-filter-only option: {word}"))
}

/// REPLCONF with an option it does not know.
pub fn replconf_unknown(opt: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Unrecognized REPLCONF option: {}",
        String::from_utf8_lossy(opt)
    ))
}

/// MIGRATE with KEYS and a key argument that is not empty.
pub const MIGRATE_KEYS_NOT_EMPTY: CmdError = CmdError(Cow::Borrowed(
    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
));
/// MIGRATE could not connect to the target (Redis's text, "client" included).
pub const MIGRATE_CONNECT: CmdError = CmdError(Cow::Borrowed(
    "IOERR error or timeout connecting to the client",
));
/// MIGRATE lost the target while writing (`true`) or reading (`false`).
pub fn migrate_io(writing: bool) -> CmdError {
    CmdError::new(format!(
        "IOERR error or timeout {} to target instance",
        if writing { "writing" } else { "reading" }
    ))
}
/// The target answered MIGRATE's AUTH, SELECT or RESTORE with an error.
pub fn migrate_target(error_line: &[u8]) -> CmdError {
    CmdError::err(format!(
        "Target instance replied with error: {}",
        String::from_utf8_lossy(error_line)
    ))
}

/// CLUSTER, READONLY, READWRITE and ASKING on a server without cluster support.
pub const CLUSTER_DISABLED: CmdError = CmdError(Cow::Borrowed(
    "ERR This instance has cluster support disabled",
));

/// A command without the `stale` flag on a replica whose link is down while
/// `replica-serve-stale-data` is `no`.
/// A command refused while the server loads its data (Redis's `shared.loadingerr`).
pub const LOADING: CmdError = CmdError(Cow::Borrowed(
    "LOADING Redis is loading the dataset in memory",
));

pub const MASTERDOWN: CmdError = CmdError(Cow::Borrowed(
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
));
/// A script with flags but not `allow-stale`, reaching the run on a stale replica.
pub const MASTERDOWN_SCRIPT: CmdError = CmdError(Cow::Borrowed(
    "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.",
));

/// A script declaring `no-cluster` on a cluster node.
pub const SCRIPT_NO_CLUSTER: CmdError = CmdError(Cow::Borrowed(
    "ERR Can not run script on cluster, 'no-cluster' flag is set.",
));

/// CLUSTER ... with a slot that is not an integer from 0 to 16383.
pub const CLUSTER_BAD_SLOT: CmdError = CmdError(Cow::Borrowed("ERR Invalid or out of range slot"));
/// CLUSTER COUNTKEYSINSLOT with a slot out of range.
pub const CLUSTER_INVALID_SLOT: CmdError = CmdError(Cow::Borrowed("ERR Invalid slot"));
/// CLUSTER GETKEYSINSLOT with a slot out of range or a negative count.
pub const CLUSTER_SLOT_OR_COUNT: CmdError =
    CmdError(Cow::Borrowed("ERR Invalid slot or number of keys"));
/// CLUSTER FLUSHSLOTS with keys in database 0.
pub const CLUSTER_FLUSHSLOTS_KEYS: CmdError = CmdError(Cow::Borrowed(
    "ERR DB must be empty to perform CLUSTER FLUSHSLOTS.",
));
/// CLUSTER SETSLOT on a replica.
pub const CLUSTER_SETSLOT_REPLICA: CmdError =
    CmdError(Cow::Borrowed("ERR Please use SETSLOT only with masters."));
/// CLUSTER SETSLOT ... naming a replica.
pub const CLUSTER_TARGET_NOT_MASTER: CmdError =
    CmdError(Cow::Borrowed("ERR Target node is not a master"));
/// CLUSTER SETSLOT with an unknown action or the wrong arguments for it.
pub const CLUSTER_SETSLOT_SYNTAX: CmdError = CmdError(Cow::Borrowed(
    "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP",
));
/// CLUSTER FORGET of this node.
pub const CLUSTER_FORGET_MYSELF: CmdError = CmdError(Cow::Borrowed(
    "ERR I tried hard but I can't forget myself...",
));
/// CLUSTER FORGET of this replica's primary.
pub const CLUSTER_FORGET_MASTER: CmdError = CmdError(Cow::Borrowed("ERR Can't forget my master!"));
/// CLUSTER REPLICATE of this node.
pub const CLUSTER_REPLICATE_MYSELF: CmdError =
    CmdError(Cow::Borrowed("ERR Can't replicate myself"));
/// CLUSTER REPLICATE of a replica.
pub const CLUSTER_REPLICATE_REPLICA: CmdError = CmdError(Cow::Borrowed(
    "ERR I can only replicate a master, not a replica.",
));
/// CLUSTER REPLICATE on a primary with slots or keys.
pub const CLUSTER_REPLICATE_NOT_EMPTY: CmdError = CmdError(Cow::Borrowed(
    "ERR To set a master the node must be empty and without assigned slots.",
));
/// CLUSTER REPLICAS of a replica.
pub const CLUSTER_NOT_A_MASTER: CmdError =
    CmdError(Cow::Borrowed("ERR The specified node is not a master"));
/// CLUSTER FAILOVER on a primary.
pub const CLUSTER_FAILOVER_MASTER: CmdError = CmdError(Cow::Borrowed(
    "ERR You should send CLUSTER FAILOVER to a replica",
));
/// CLUSTER FAILOVER on a replica whose primary it does not know.
pub const CLUSTER_FAILOVER_NO_MASTER: CmdError = CmdError(Cow::Borrowed(
    "ERR I'm a replica but my master is unknown to me",
));
/// CLUSTER FAILOVER without FORCE while the primary is down.
pub const CLUSTER_FAILOVER_MASTER_DOWN: CmdError = CmdError(Cow::Borrowed(
    "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE",
));
/// CLUSTER SET-CONFIG-EPOCH once other nodes are known.
pub const CLUSTER_EPOCH_NOT_ALONE: CmdError = CmdError(Cow::Borrowed(
    "ERR The user can assign a config epoch only when the node does not know any other node.",
));
/// CLUSTER SET-CONFIG-EPOCH when the node has an epoch already.
pub const CLUSTER_EPOCH_SET: CmdError =
    CmdError(Cow::Borrowed("ERR Node config epoch is already non-zero"));
/// CLUSTER RESET of a primary holding keys.
pub const CLUSTER_RESET_KEYS: CmdError = CmdError(Cow::Borrowed(
    "ERR CLUSTER RESET can't be called with master nodes containing keys",
));
/// A command naming keys of different slots.
pub const CROSSSLOT: CmdError = CmdError(Cow::Borrowed(
    "CROSSSLOT Keys in request don't hash to the same slot",
));
/// Several keys of a slot that is being migrated or imported, not all of them here.
pub const TRYAGAIN: CmdError = CmdError(Cow::Borrowed(
    "TRYAGAIN Multiple keys request during rehashing of slot",
));
/// A key command while the cluster is down.
pub const CLUSTERDOWN: CmdError = CmdError(Cow::Borrowed("CLUSTERDOWN The cluster is down"));
/// A write while the cluster is down and `cluster-allow-reads-when-down` is yes.
pub const CLUSTERDOWN_READONLY: CmdError = CmdError(Cow::Borrowed(
    "CLUSTERDOWN The cluster is down and only accepts read commands",
));
/// A key of a slot no node serves.
pub const CLUSTERDOWN_UNBOUND: CmdError =
    CmdError(Cow::Borrowed("CLUSTERDOWN Hash slot not served"));
/// SELECT of a database other than 0 on a cluster node.
pub const SELECT_CLUSTER: CmdError =
    CmdError(Cow::Borrowed("ERR SELECT is not allowed in cluster mode"));
/// MOVE on a cluster node.
pub const MOVE_CLUSTER: CmdError =
    CmdError(Cow::Borrowed("ERR MOVE is not allowed in cluster mode"));
/// REPLICAOF on a cluster node.
pub const REPLICAOF_CLUSTER: CmdError =
    CmdError(Cow::Borrowed("ERR REPLICAOF not allowed in cluster mode."));
/// FAILOVER on a cluster node.
pub const FAILOVER_CLUSTER: CmdError = CmdError(Cow::Borrowed(
    "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.",
));
/// SWAPDB on a cluster node.
pub const SWAPDB_CLUSTER: CmdError =
    CmdError(Cow::Borrowed("ERR SWAPDB is not allowed in cluster mode"));
/// COPY ... DB on a cluster node.
pub const COPY_CLUSTER: CmdError = CmdError(Cow::Borrowed(
    "ERR Copying to another database is not allowed in cluster mode",
));
/// A script's command on a key this node does not serve.
pub const SCRIPT_NON_LOCAL_KEY: &str =
    "Script attempted to access a non local key in a cluster node";
/// A script's command while the cluster is down.
pub const SCRIPT_CLUSTER_DOWN: &str =
    "Script attempted to execute a command while the cluster is down";
/// A script's write while the cluster is down and only reads are allowed.
pub const SCRIPT_CLUSTER_DOWN_READONLY: &str =
    "Script attempted to execute a write command while the cluster is down and readonly";
/// A script's commands on keys of different slots.
pub const SCRIPT_CROSS_SLOT: &str =
    "Script attempted to access keys that do not hash to the same slot";

/// ADDSLOTS of a slot that has an owner.
pub fn cluster_slot_busy(slot: u16) -> CmdError {
    CmdError::err(format!("Slot {slot} is already busy"))
}

/// DELSLOTS of a slot without an owner.
pub fn cluster_slot_unassigned(slot: u16) -> CmdError {
    CmdError::err(format!("Slot {slot} is already unassigned"))
}

/// ADDSLOTS / DELSLOTS naming a slot twice.
pub fn cluster_slot_repeated(slot: u16) -> CmdError {
    CmdError::err(format!("Slot {slot} specified multiple times"))
}

/// ADDSLOTSRANGE / DELSLOTSRANGE with a range backwards.
pub fn cluster_range_backwards(start: u16, end: u16) -> CmdError {
    CmdError::err(format!(
        "start slot number {start} is greater than end slot number {end}"
    ))
}

/// SETSLOT MIGRATING of a slot this node does not own.
pub fn cluster_not_owner(slot: u16) -> CmdError {
    CmdError::err(format!("I'm not the owner of hash slot {slot}"))
}

/// SETSLOT IMPORTING of a slot this node owns.
pub fn cluster_already_owner(slot: u16) -> CmdError {
    CmdError::err(format!("I'm already the owner of hash slot {slot}"))
}

/// SETSLOT MIGRATING / IMPORTING naming an unknown node.
pub fn cluster_dont_know(id: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR I don't know about node {}",
        c_str_prefix(id, usize::MAX)
    )))
}

/// A CLUSTER subcommand naming an unknown node.
pub fn cluster_unknown_node(id: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Unknown node {}",
        c_str_prefix(id, usize::MAX)
    )))
}

/// SETSLOT NODE giving away a slot that still has keys here.
pub fn cluster_slot_has_keys(slot: u16) -> CmdError {
    CmdError::err(format!(
        "Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot."
    ))
}

/// CLUSTER SAVECONFIG failed.
pub fn cluster_save_failed(why: &str) -> CmdError {
    CmdError::err(format!("error saving the cluster node config: {why}"))
}

/// CLUSTER SET-CONFIG-EPOCH with a negative epoch.
pub fn cluster_bad_epoch(epoch: i64) -> CmdError {
    CmdError::err(format!("Invalid config epoch specified: {epoch}"))
}

/// CLUSTER MEET with a port that is not a number.
pub fn cluster_meet_port(port: &[u8], bus: bool) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Invalid TCP {} port specified: {}",
        if bus { "bus" } else { "base" },
        c_str_prefix(port, usize::MAX)
    )))
}

/// CLUSTER MEET with an address or port out of range.
pub fn cluster_meet_address(ip: &[u8], port: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Invalid node address specified: {}:{}",
        c_str_prefix(ip, usize::MAX),
        c_str_prefix(port, usize::MAX)
    )))
}

/// DEBUG CLUSTERLINK KILL with a direction other than from, to or all.
pub fn cluster_link_direction(dir: &[u8]) -> CmdError {
    CmdError::new(sanitize(&format!(
        "ERR Unknown direction {}",
        c_str_prefix(dir, usize::MAX)
    )))
}

/// `MOVED slot endpoint:port`.
pub fn moved(slot: u16, endpoint: &str, port: u16) -> CmdError {
    CmdError::new(format!("MOVED {slot} {endpoint}:{port}"))
}

/// `ASK slot endpoint:port`.
pub fn ask(slot: u16, endpoint: &str, port: u16) -> CmdError {
    CmdError::new(format!("ASK {slot} {endpoint}:{port}"))
}

/// Whether an error is a cluster redirection or refusal (EXEC sends it as it is, not as
/// EXECABORT).
pub fn is_cluster_redirection(e: &CmdError) -> bool {
    ["MOVED ", "ASK ", "CROSSSLOT ", "TRYAGAIN ", "CLUSTERDOWN "]
        .iter()
        .any(|p| e.0.starts_with(p))
}
