//! The write policy: who may write what, in what state. Pure and cheap, it
//! runs before a byte of an update is read, so refusing a viewer or holding
//! back a write to a locked table costs nothing.

use std::time::{Duration, Instant};

use werktafel_shared::control::Control;

use crate::access::Role;

/// A table reloads from storage at most this often. A reload undoes an
/// update that yrs refused or that wrote a server-only map in a way the
/// screen could not tell beforehand; it rebuilds the whole document (145 ms
/// of CPU at 20,000 notes). An update that might need one within this time
/// of the last is refused unapplied instead (close 1008).
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// What becomes of a document update, decided from the writer's role and
/// how the table is run, before the update is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Screen it, apply it, store it, deliver it.
    Allow,
    /// Drop it but keep the connection: the client keeps the edit, and when
    /// the table opens again the server asks every peer for what it lacks.
    HoldBack,
    /// Refuse it and close the connection.
    Refuse,
}

/// Whether `role` may write to a table run as `control`.
///
/// A write to a locked or closed table is held back, not refused: an edit
/// made in the moment the facilitator locked is not lost, nor a reason to cut
/// the participant off (the stock client would resend it on every reconnect).
pub fn write(role: Role, control: &Control) -> Write {
    if !role.may_write() {
        Write::Refuse
    } else if role != Role::Facilitator && !control.accepts_writes() {
        Write::HoldBack
    } else {
        Write::Allow
    }
}

/// Whether a sync step 2 from `role` carries nothing to write and is to be
/// skipped unread: a read-only stock client answers the server's step 1 with
/// the delete set of its copy and no blocks (the leading 0 counts them).
pub fn is_empty_viewer_step2(role: Role, update: &[u8]) -> bool {
    role == Role::Viewer && update.first() == Some(&0)
}

/// Whether `role`'s presence reaches the table. A viewer's is dropped: the
/// plenary screen is not a person at the table, and a stock provider sends
/// presence whatever its role, so closing it would only make it reconnect.
pub fn publishes_presence(role: Role) -> bool {
    role.may_write()
}

/// When the table last reloaded from storage, and so whether it may again
/// ([`RELOAD_INTERVAL`]).
#[derive(Debug, Default)]
pub struct ReloadLimit {
    last: Option<Instant>,
}

impl ReloadLimit {
    /// Whether a reload may start at `now`.
    pub fn allows(&self, now: Instant) -> bool {
        self.last
            .is_none_or(|last| now.duration_since(last) >= RELOAD_INTERVAL)
    }

    /// A reload started at `now`.
    pub fn started(&mut self, now: Instant) {
        self.last = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use werktafel_shared::control::Phase;

    use super::*;

    #[test]
    fn role_and_control_decide_a_write() {
        let open = Control::default();
        let locked = Control {
            locked: true,
            ..Control::default()
        };
        let closed = Control {
            phase: Phase::Gesloten,
            ..Control::default()
        };
        let cases = [
            (Role::Viewer, &open, Write::Refuse),
            (Role::Viewer, &locked, Write::Refuse),
            (Role::Participant, &open, Write::Allow),
            (Role::Participant, &locked, Write::HoldBack),
            (Role::Participant, &closed, Write::HoldBack),
            (Role::Facilitator, &locked, Write::Allow),
            (Role::Facilitator, &closed, Write::Allow),
        ];
        for (role, control, expected) in cases {
            assert_eq!(write(role, control), expected, "{role:?} on {control:?}");
        }
    }

    #[test]
    fn only_a_viewers_blockless_step2_is_skipped() {
        assert!(is_empty_viewer_step2(Role::Viewer, &[0, 1, 2]));
        assert!(!is_empty_viewer_step2(Role::Viewer, &[1, 0]));
        assert!(!is_empty_viewer_step2(Role::Participant, &[0, 0]));
        assert!(!publishes_presence(Role::Viewer));
        assert!(publishes_presence(Role::Participant));
    }

    #[test]
    fn reloads_are_spaced_by_the_interval() {
        let t0 = Instant::now();
        let mut limit = ReloadLimit::default();
        assert!(limit.allows(t0));
        limit.started(t0);
        assert!(!limit.allows(t0 + RELOAD_INTERVAL / 2));
        assert!(limit.allows(t0 + RELOAD_INTERVAL));
    }
}
