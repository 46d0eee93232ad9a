//! FAILOVER: a primary hands its role to one of its replicas without losing a write (Redis
//! 7.0's coordinated failover). Writes are paused; once the target replica acknowledged every
//! byte of the stream, this server becomes its replica and asks with `PSYNC <replid> <offset>
//! FAILOVER`, which makes the target promote itself and continue our history. States, as INFO
//! shows them: `no-failover`, `waiting-for-sync`, `failover-in-progress`.

use super::replication::ReplicaState;
use super::Engine;

/// A failover under way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failover {
    /// The replica to hand over to (FAILOVER TO host port), or None for the first one in
    /// sync.
    pub target: Option<(String, u16)>,
    /// When it gives up (or, with FORCE, goes ahead anyway), in ms.
    pub end: Option<i64>,
    /// FAILOVER ... FORCE.
    pub force: bool,
    /// This server already became the target's replica (`failover-in-progress`).
    pub in_progress: bool,
}

impl Engine {
    /// INFO's master_failover_state.
    pub fn failover_state_name(&self) -> &'static str {
        match &self.repl.failover {
            None => "no-failover",
            Some(f) if f.in_progress => "failover-in-progress",
            Some(_) => "waiting-for-sync",
        }
    }

    /// Whether an attached, in-sync replica announces `host` and `port`.
    pub(crate) fn find_online_replica(&self, host: &str, port: u16) -> Option<bool> {
        self.repl
            .attached()
            .find(|(id, r)| r.listening_port == i64::from(port) && self.replica_ip(**id, r) == host)
            .map(|(_, r)| r.state == Some(ReplicaState::Online))
    }

    /// Starts a failover: writes wait from now on.
    pub(crate) fn start_failover(&mut self, failover: Failover) {
        self.repl.failover = Some(failover);
        self.pause_clients(false, i64::MAX);
    }

    /// The failover ended (done or given up): writes go on.
    fn clear_failover(&mut self) {
        if self.repl.failover.take().is_some() {
            self.unpause_clients();
        }
    }

    /// Gives the failover up; a server that already turned replica is a primary again.
    pub fn abort_failover(&mut self) {
        if self.repl.failover.as_ref().is_some_and(|f| f.in_progress) {
            self.unset_master();
        }
        self.clear_failover();
    }

    /// The target answered our PSYNC FAILOVER: done when it accepted, else given up.
    pub(crate) fn failover_psync_answered(&mut self, accepted: bool) {
        if !self.repl.failover.as_ref().is_some_and(|f| f.in_progress) {
            return;
        }
        if accepted {
            self.clear_failover();
        } else {
            self.abort_failover();
        }
    }

    /// Whether the PSYNC this server sends carries FAILOVER.
    pub(crate) fn failing_over(&self) -> bool {
        self.repl.failover.as_ref().is_some_and(|f| f.in_progress)
    }

    /// Moves a waiting failover on: at its timeout it gives up (or, with FORCE, goes ahead);
    /// once the target (or, without one, any replica) acknowledged everything, this server
    /// becomes its replica.
    pub(crate) fn update_failover(&mut self, now: i64) {
        let Some(f) = self.repl.failover.clone() else {
            return;
        };
        if f.in_progress {
            return;
        }
        if f.end.is_some_and(|end| end <= now) {
            match (&f.target, f.force) {
                (Some((host, port)), true) => {
                    self.go_failover(host.clone(), *port, now);
                }
                _ => self.abort_failover(),
            }
            return;
        }
        let offset = self.repl.offset;
        let caught_up = match &f.target {
            Some((host, port)) => self
                .repl
                .attached()
                .any(|(id, r)| {
                    r.listening_port == i64::from(*port)
                        && self.replica_ip(*id, r) == *host
                        && r.ack_offset == offset
                })
                .then(|| (host.clone(), *port)),
            None => self
                .repl
                .attached()
                .find(|(_, r)| r.ack_offset == offset)
                .and_then(|(id, r)| {
                    let port = u16::try_from(r.listening_port).ok()?;
                    Some((self.replica_ip(*id, r), port))
                }),
        };
        if let Some((host, port)) = caught_up {
            self.go_failover(host, port, now);
        }
    }

    fn go_failover(&mut self, host: String, port: u16, now: i64) {
        if let Some(f) = self.repl.failover.as_mut() {
            f.in_progress = true;
            f.target = Some((host.clone(), port));
        }
        self.set_master(&host, port, now);
    }
}
