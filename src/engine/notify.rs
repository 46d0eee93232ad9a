//! Keyspace notifications: events published over pub/sub as `notify-keyspace-events` asks.

use super::Engine;

impl Engine {
    /// Whether any keyspace notification is enabled: the one check made on the hot path.
    pub fn notifications_on(&self) -> bool {
        self.config.notify_flags != 0
    }

    /// Publishes keyspace event `event` of class `class` about `key` in database `db`: to
    /// `__keyspace@<db>__:<key>` (message: the event) when `K` is enabled, then to
    /// `__keyevent@<db>__:<event>` (message: the key) when `E` is, as Redis does. Key creations
    /// and expiries logged by the databases since the last event are published first, so
    /// subscribers see events in the order they happened.
    pub fn notify(&mut self, db: usize, class: char, event: &str, key: &[u8]) {
        if !self.notifications_on() {
            return;
        }
        self.flush_db_events();
        self.publish_event(db, class, event, key);
    }

    fn publish_event(&mut self, db: usize, class: char, event: &str, key: &[u8]) {
        let (keyspace, keyevent) = self.config.notify_targets(class);
        if keyspace {
            let mut channel = format!("__keyspace@{}__:", db).into_bytes();
            channel.extend_from_slice(key);
            self.publish(&channel, event.as_bytes());
        }
        if keyevent {
            let channel = format!("__keyevent@{}__:{}", db, event);
            self.publish(channel.as_bytes(), key);
        }
    }

    /// Publishes the `new` and `expired` events the databases logged.
    pub(super) fn flush_db_events(&mut self) {
        for db in 0..self.dbs.len() {
            if self.dbs[db].events.is_empty() {
                continue;
            }
            for (event, key) in std::mem::take(&mut self.dbs[db].events) {
                let class = if event == "new" { 'n' } else { 'x' };
                self.publish_event(db, class, event, &key);
            }
        }
    }

    /// Turns the databases' logging of `new`/`expired` events on or off to follow the
    /// configuration, so nothing is logged while notifications are off, and gives them the
    /// lazy-free settings and the clock that times expiries while the latency monitor is on.
    /// CONFIG SET calls it; after every command it only compares flags.
    #[inline]
    pub fn sync_event_tracking(&mut self) {
        // After every command: the usual case, nothing changed, is a few comparisons here.
        let (lazy, expire_clock, on) = (
            self.lazy_free(),
            self.expire_clock(),
            self.notifications_on(),
        );
        if self.dbs.first().is_none_or(|d| {
            d.lazy == lazy
                && d.expire_clock.is_some() == expire_clock.is_some()
                && d.track_events == on
        }) {
            return;
        }
        self.set_event_tracking(lazy, expire_clock, on);
    }

    /// Gives every database the settings [`Engine::sync_event_tracking`] found they differ
    /// from; events already logged are dropped when logging turns off.
    #[inline(never)]
    fn set_event_tracking(
        &mut self,
        lazy: crate::db::LazyFree,
        expire_clock: Option<super::slowlog::ClockUs>,
        on: bool,
    ) {
        for db in &mut self.dbs {
            db.lazy = lazy;
            db.expire_clock = expire_clock;
            db.track_events = on;
            if !on {
                db.events.clear();
            }
        }
    }
}
