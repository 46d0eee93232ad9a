//! The bus's side of elections and manual failover: FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK
//! and MFSTART received, and the messages the failover rules of
//! [`crate::cluster::failover`] ask for, sent. What the engine must do (replication, the
//! failover's write pause) waits in the state's [`crate::cluster::failover::Election`] queue.

use super::{Bus, Env};
use crate::cluster::bus::{mflags, Body, Msg, MsgType};
use crate::cluster::failover::Out;
use crate::cluster::state::ClusterState;

impl Bus {
    /// Sends what failover asked of the bus; returns the outcomes for the engine.
    pub fn send_failover(
        &mut self,
        st: &mut ClusterState,
        out: Vec<Out>,
        env: &mut Env,
    ) -> Vec<Out> {
        let mut rest = Vec::new();
        for o in out {
            match o {
                Out::BroadcastFail(about) => self.send_fail(st, &about, env),
                Out::RequestVotes { force } => self.request_votes(st, force, env),
                Out::Vote(to) => {
                    if let Some(link) = self.out_link(&to) {
                        self.send_body(st, link, Body::FailoverAuthAck, env);
                    }
                }
                Out::MfStart(to) => {
                    if let Some(link) = self.out_link(&to) {
                        self.send_body(st, link, Body::MfStart, env);
                    }
                }
                Out::Ping(to) => {
                    if let Some(link) = self.out_link(&to) {
                        self.send_ping(st, link, MsgType::Ping, env);
                    }
                }
                Out::BroadcastPong {
                    shard_replicas_only,
                } => self.broadcast_pong(st, shard_replicas_only, env),
                engine => rest.push(engine),
            }
        }
        rest
    }

    /// FAILOVER_AUTH_REQUEST to every node with a link, FORCEACK set for a manual failover
    /// (the primaries vote although our primary is up).
    fn request_votes(&mut self, st: &ClusterState, force: bool, env: &Env) {
        let mut header = self.header(st, env);
        if force {
            header.mflags[0] |= mflags::FORCEACK;
        }
        self.broadcast_with(st, header, Body::FailoverAuthRequest);
    }

    /// FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK or MFSTART from the known node `sender`.
    pub(super) fn election_message(
        &mut self,
        st: &mut ClusterState,
        sender: &str,
        msg: &Msg,
        env: &mut Env,
    ) {
        let out = match msg.body {
            Body::FailoverAuthRequest => st
                .auth_requested(sender, &msg.header, env.now, env.node_timeout)
                .unwrap_or_default(),
            Body::FailoverAuthAck => {
                if st.auth_acked(sender, msg.header.current_epoch) {
                    // Maybe the majority now: the engine runs the election step at once.
                    st.election.step_soon = true;
                }
                Vec::new()
            }
            Body::MfStart => st.mfstart_received(sender, env.now),
            _ => Vec::new(),
        };
        let rest = self.send_failover(st, out, env);
        if rest.contains(&Out::Changed) {
            self.todo_save = true;
            self.todo_update_state = true;
        }
        st.election
            .engine_out
            .extend(rest.into_iter().filter(|o| *o != Out::Changed));
    }

    /// The header's part in a manual failover: our primary's offset, sent while it is
    /// paused, is the one this replica must reach.
    pub(super) fn election_header(&mut self, st: &mut ClusterState, sender: &str, mflags0: u8) {
        let offset = st.node(sender.as_bytes()).map_or(0, |n| n.repl_offset);
        if st.primary_offset_received(sender, mflags0, offset) {
            st.election.step_soon = true;
        }
    }
}

/// The first header byte of message flags this node sends: PAUSED while it is a primary
/// being taken over by a manual failover.
pub fn own_mflags(st: &ClusterState) -> u8 {
    if st.sends_paused() {
        mflags::PAUSED
    } else {
        0
    }
}
