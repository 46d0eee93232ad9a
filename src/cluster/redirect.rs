//! Which node serves a command, as Redis 7.0's getNodeByQuery decides: every key of the
//! command (of every queued command, for EXEC) must hash to one slot; that slot's owner
//! serves it, unless the slot is being migrated (keys already gone: `ASK` the target; some
//! gone: `TRYAGAIN`), imported (served after ASKING), or the cluster is down.

use super::slots::key_slot;
use super::state::ClusterState;

/// What a node does with a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// This node runs it.
    Serve,
    /// `MOVED slot endpoint:port`.
    Moved(u16, String, u16),
    /// `ASK slot endpoint:port`.
    Ask(u16, String, u16),
    /// Keys of different slots.
    CrossSlot,
    /// Several keys of a slot being moved, not all here.
    TryAgain,
    /// A key's slot has no owner.
    Unbound,
    /// The cluster is down.
    Down,
    /// The cluster is down and only reads are allowed (a write was sent).
    DownReadOnly,
}

/// How CLUSTER SLOTS, MOVED and ASK name a node (`cluster-preferred-endpoint-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Its IP address.
    Ip,
    /// Its announced hostname (`?` without one).
    Hostname,
    /// Nothing: clients use the address they reached the node at.
    Unknown,
}

impl Endpoint {
    /// The setting's value as CONFIG holds it.
    pub fn from_config(v: &str) -> Endpoint {
        match v {
            "hostname" => Endpoint::Hostname,
            "unknown-endpoint" => Endpoint::Unknown,
            _ => Endpoint::Ip,
        }
    }

    /// The endpoint text of a node.
    pub fn of<'a>(self, ip: &'a str, hostname: &'a str) -> &'a str {
        match self {
            Endpoint::Ip => ip,
            Endpoint::Hostname if hostname.is_empty() => "?",
            Endpoint::Hostname => hostname,
            Endpoint::Unknown => "",
        }
    }
}

/// What the route of a command depends on besides its keys.
#[derive(Clone, Copy, Debug, Default)]
pub struct Query {
    /// The command writes (for the down-but-readable state: the command's own flag).
    pub write: bool,
    /// The command, or any command EXEC runs, writes (for READONLY reads on a replica).
    pub any_write: bool,
    /// The client sent ASKING, or the command is allowed on an importing slot anyway.
    pub asking: bool,
    /// The client sent READONLY.
    pub readonly: bool,
    /// SSUBSCRIBE, SUNSUBSCRIBE or SPUBLISH: shard channels, not keys.
    pub pubsub_shard: bool,
    /// MIGRATE, which works on an open slot from this node.
    pub migrate: bool,
    /// `cluster-allow-reads-when-down`.
    pub reads_when_down: bool,
    /// `cluster-allow-pubsubshard-when-down`.
    pub pubsub_when_down: bool,
}

/// Routes a command naming `keys` (in the order the command names them). `exists` says
/// whether this node holds a key (without expiring or touching it).
pub fn route(
    st: &ClusterState,
    keys: &[&[u8]],
    q: Query,
    endpoint: Endpoint,
    mut exists: impl FnMut(&[u8]) -> bool,
) -> Route {
    let mut first: Option<&[u8]> = None;
    let mut slot = 0u16;
    let (mut migrating, mut importing, mut multiple) = (false, false, false);
    let (mut missing, mut existing) = (0usize, 0usize);
    for &key in keys {
        let this = key_slot(key);
        match first {
            None => {
                first = Some(key);
                slot = this;
                let Some(owner) = st.owner(slot) else {
                    return Route::Unbound;
                };
                if owner == st.myself && st.migrating.contains_key(&slot) {
                    migrating = true;
                } else if st.importing.contains_key(&slot) {
                    importing = true;
                }
            }
            Some(f) if f != key => {
                if this != slot {
                    return Route::CrossSlot;
                }
                multiple = true;
            }
            Some(_) => {}
        }
        if (migrating || importing) && !q.pubsub_shard {
            if exists(key) {
                existing += 1;
            } else {
                missing += 1;
            }
        }
    }
    let Some(owner) = first.and_then(|_| st.owner_node(slot)) else {
        return Route::Serve;
    };
    if !st.ok {
        if q.pubsub_shard {
            if !q.pubsub_when_down {
                return Route::Down;
            }
        } else if !q.reads_when_down {
            return Route::Down;
        } else if q.write {
            return Route::DownReadOnly;
        }
    }
    if (migrating || importing) && q.migrate {
        return Route::Serve;
    }
    if migrating && missing > 0 {
        if existing > 0 {
            return Route::TryAgain;
        }
        let target = st
            .migrating
            .get(&slot)
            .and_then(|id| st.node(id.as_bytes()));
        return match target {
            // Redis serves a command whose redirection names this very node.
            Some(t) if t.id == st.myself => Route::Serve,
            Some(t) => Route::Ask(slot, endpoint.of(&t.ip, &t.hostname).to_string(), t.port),
            None => Route::Serve,
        };
    }
    if importing && q.asking {
        return if multiple && missing > 0 {
            Route::TryAgain
        } else {
            Route::Serve
        };
    }
    let me = st.me();
    if (q.readonly || q.pubsub_shard)
        && !q.any_write
        && me.is_replica()
        && me.master.as_deref() == Some(owner.id.as_str())
    {
        return Route::Serve;
    }
    if owner.id == st.myself {
        Route::Serve
    } else {
        Route::Moved(
            slot,
            endpoint.of(&owner.ip, &owner.hostname).to_string(),
            owner.port,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::state::{flag, Node};

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn two_nodes() -> ClusterState {
        let mut st = ClusterState::new(A.into(), 7000, 17000);
        let mut b = ClusterState::new(B.into(), 7001, 17001).me().clone();
        b.flags = flag::MASTER;
        b.ip = "127.0.0.1".into();
        st.add_node(Node { ..b });
        for s in 0..8192 {
            st.add_slot(s, A);
        }
        for s in 8192..16384 {
            st.add_slot(s, B);
        }
        st.ok = true;
        st
    }

    #[test]
    fn routes() {
        let mut st = two_nodes();
        let q = Query::default();
        let none = |_: &[u8]| false;
        assert_eq!(route(&st, &[b"bar"], q, Endpoint::Ip, none), Route::Serve);
        assert_eq!(
            route(&st, &[b"foo"], q, Endpoint::Ip, none),
            Route::Moved(12182, "127.0.0.1".into(), 7001)
        );
        assert_eq!(
            route(&st, &[b"foo", b"bar"], q, Endpoint::Ip, none),
            Route::CrossSlot
        );
        assert_eq!(route(&st, &[], q, Endpoint::Ip, none), Route::Serve);
        st.migrating.insert(5061, B.into());
        assert_eq!(
            route(&st, &[b"bar"], q, Endpoint::Ip, none),
            Route::Ask(5061, "127.0.0.1".into(), 7001)
        );
        assert_eq!(
            route(&st, &[b"bar"], q, Endpoint::Ip, |_| true),
            Route::Serve
        );
        assert_eq!(
            route(&st, &[b"{bar}1", b"{bar}2"], q, Endpoint::Ip, |k| k
                == b"{bar}1"),
            Route::TryAgain
        );
        st.ok = false;
        assert_eq!(route(&st, &[b"bar"], q, Endpoint::Ip, none), Route::Down);
        st.del_slot(0);
        assert_eq!(route(&st, &[b""], q, Endpoint::Ip, none), Route::Unbound);
    }
}
