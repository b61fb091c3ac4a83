//! Presence bookkeeping: which connection speaks for which awareness client
//! id, which ids changed since the last tick, and which states expired.
//! The awareness states themselves live in yrs' `Awareness` beside the
//! document; this part decides what may reach it.
//!
//! A connection speaks only for the client ids it introduced: the first
//! entry for an id nobody holds claims it (up to [`MAX_AWARENESS_CLIENTS`];
//! one more is refused), and entries for an id another live connection
//! holds are dropped. Dropped rather than refused: a tab that reconnects may
//! speak before the server has seen its old connection go, and its presence
//! then returns with the next renewal.

use std::collections::HashMap;
use std::time::Duration;

use smallvec::SmallVec;
use yrs::ClientID;

use super::reason::Refusal;
use crate::metrics::METRICS;

/// Identifies one connection within the server.
pub type PeerId = u64;

/// An awareness state that is not renewed within this time is removed, as
/// y-protocols clients do (they renew every 15 seconds).
pub const AWARENESS_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest awareness state (its JSON) one client may publish. The web
/// client's is about 100 bytes (an id, a name, a colour, the note being
/// edited); every state goes to every peer and to every joiner, so a 4 MiB
/// one cost the table 4 MiB per person. A larger one closes the connection
/// with 1009.
pub const MAX_AWARENESS_STATE_BYTES: usize = 4 * 1024;

/// The most awareness client ids one connection may introduce. A browser
/// tab has one per connection (its document's client id; drafts are a
/// connection of their own), and Yjs picks a new one only when it meets
/// its own id elsewhere. One more claims the 1008 close.
pub const MAX_AWARENESS_CLIENTS: usize = 4;

/// Who owns which awareness client, and what changed since the last tick.
#[derive(Debug, Default)]
pub struct Presence {
    /// Which live peer introduced each awareness client id.
    owners: HashMap<ClientID, PeerId>,
    /// The ids each peer introduced, removed when it leaves.
    claimed: HashMap<PeerId, SmallVec<[ClientID; 1]>>,
    /// Awareness clients changed since the last tick.
    pending: Vec<ClientID>,
}

impl Presence {
    /// Keeps in `clients` only the entries `peer` may set, claiming the ids
    /// nobody holds yet; `size` gives an entry's state in bytes. Refuses the
    /// whole update (claiming nothing) if a state is too large or the peer
    /// would hold more than [`MAX_AWARENESS_CLIENTS`].
    pub fn admit<E>(
        &mut self,
        peer: PeerId,
        clients: &mut HashMap<ClientID, E>,
        size: impl Fn(&E) -> usize,
    ) -> Result<(), Refusal> {
        if let Some(largest) = clients.values().map(&size).max()
            && largest > MAX_AWARENESS_STATE_BYTES
        {
            METRICS.awareness_dropped("size");
            return Err(Refusal::AwarenessTooLarge {
                size: largest,
                limit: MAX_AWARENESS_STATE_BYTES,
            });
        }
        let held = self.claimed.get(&peer).map_or(0, SmallVec::len);
        let mut new: SmallVec<[ClientID; 1]> = SmallVec::new();
        for client in clients.keys() {
            match self.owners.get(client) {
                Some(owner) if *owner == peer => {}
                Some(_) => {}
                None => {
                    if held + new.len() >= MAX_AWARENESS_CLIENTS {
                        METRICS.awareness_dropped("count");
                        return Err(Refusal::Forbidden(
                            "a connection may publish at most 4 presences",
                        ));
                    }
                    new.push(*client);
                }
            }
        }
        clients.retain(|client, _| {
            let foreign = self.owners.get(client).is_some_and(|owner| *owner != peer);
            if foreign {
                METRICS.awareness_dropped("foreign");
            }
            !foreign
        });
        for client in &new {
            self.owners.insert(*client, peer);
        }
        if !new.is_empty() {
            self.claimed.entry(peer).or_default().extend(new);
        }
        Ok(())
    }

    /// Forgets `peer`'s claims; returns the ids it held.
    pub fn leave(&mut self, peer: PeerId) -> SmallVec<[ClientID; 1]> {
        let ids = self.claimed.remove(&peer).unwrap_or_default();
        for client in &ids {
            self.owners.remove(client);
        }
        ids
    }

    /// Notes that `clients` changed, for the next tick.
    pub fn changed(&mut self, clients: impl IntoIterator<Item = ClientID>) {
        for client in clients {
            if !self.pending.contains(&client) {
                self.pending.push(client);
            }
        }
    }

    /// The clients changed since the last tick.
    pub fn take_changed(&mut self) -> Vec<ClientID> {
        std::mem::take(&mut self.pending)
    }
}

/// The clients whose state was last renewed more than
/// [`AWARENESS_TIMEOUT`] before `now_ms` (milliseconds since the epoch, as
/// yrs stamps them). `states` gives each client, whether it has a state,
/// and when it was last updated.
pub fn expired(
    states: impl IntoIterator<Item = (ClientID, bool, u64)>,
    now_ms: u64,
) -> Vec<ClientID> {
    let timeout = AWARENESS_TIMEOUT.as_millis() as u64;
    states
        .into_iter()
        .filter(|(_, has_state, last)| *has_state && now_ms.saturating_sub(*last) > timeout)
        .map(|(client, _, _)| client)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(ids: &[u64]) -> HashMap<ClientID, usize> {
        ids.iter().map(|id| (ClientID::new(*id), 10)).collect()
    }

    fn values(ids: impl IntoIterator<Item = ClientID>) -> Vec<u64> {
        let mut ids: Vec<u64> = ids.into_iter().map(|id| id.get()).collect();
        ids.sort_unstable();
        ids
    }

    fn admit(p: &mut Presence, peer: PeerId, ids: &[u64]) -> Result<Vec<u64>, Refusal> {
        let mut clients = update(ids);
        p.admit(peer, &mut clients, |size| *size)?;
        Ok(values(clients.into_keys()))
    }

    #[test]
    fn a_peer_speaks_only_for_the_ids_it_claimed() {
        let mut p = Presence::default();
        assert_eq!(admit(&mut p, 1, &[10, 11]).unwrap(), [10, 11]);
        assert_eq!(admit(&mut p, 2, &[10, 20]).unwrap(), [20], "10 is peer 1's");
        assert_eq!(admit(&mut p, 1, &[10, 20]).unwrap(), [10]);
        assert_eq!(values(p.leave(1)), [10, 11]);
        assert_eq!(admit(&mut p, 2, &[10]).unwrap(), [10], "free again");
    }

    #[test]
    fn too_many_ids_or_too_large_a_state_is_refused_and_claims_nothing() {
        let mut p = Presence::default();
        admit(&mut p, 1, &[1, 2, 3]).unwrap();
        assert!(matches!(
            admit(&mut p, 1, &[4, 5]),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(
            admit(&mut p, 1, &[4]).unwrap(),
            [4],
            "the refused update claimed nothing"
        );
        let mut big = HashMap::from([(ClientID::new(9), MAX_AWARENESS_STATE_BYTES + 1)]);
        assert!(matches!(
            p.admit(2, &mut big, |size| *size),
            Err(Refusal::AwarenessTooLarge { .. })
        ));
        assert_eq!(admit(&mut p, 3, &[9]).unwrap(), [9]);
    }

    #[test]
    fn changes_are_gathered_once_per_tick() {
        let mut p = Presence::default();
        p.changed([1, 2].map(ClientID::new));
        p.changed([2, 3].map(ClientID::new));
        assert_eq!(p.take_changed(), [1, 2, 3].map(ClientID::new));
        assert!(p.take_changed().is_empty());
    }

    #[test]
    fn states_expire_after_the_timeout_at_the_given_time() {
        let timeout = AWARENESS_TIMEOUT.as_millis() as u64;
        let now = 1_000_000;
        let states = [
            (1, true, now - timeout - 1),
            (2, true, now - timeout),
            (3, false, 0),
            (4, true, now),
        ]
        .map(|(id, has, at)| (ClientID::new(id), has, at));
        assert_eq!(expired(states, now), [ClientID::new(1)]);
    }
}
