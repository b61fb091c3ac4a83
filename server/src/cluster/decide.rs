//! Who serves a table, decided from what PostgreSQL says about its lease:
//! pure, no I/O, so every case is a unit test. [`super::lease`] reads the
//! row ([`LeaseRow`]), asks [`decide`], and runs the claim it asks for.

/// A table's lease as stored: its row in `tables` (if any) joined with its
/// owner's row in `nodes`. `alive` is judged by PostgreSQL's clock
/// (`heartbeat_at > now() - ttl`), never this node's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// The owning node, or `None` for a table nobody holds (never claimed,
    /// or released on shutdown).
    pub owner: Option<String>,
    pub epoch: i64,
    /// The owner's advertised address, if it is registered.
    pub addr: Option<String>,
    /// Whether the owner's heartbeat is within the TTL.
    pub alive: bool,
}

/// What this node does about a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It holds the lease at this epoch: serve the table here.
    Here { epoch: i64 },
    /// Another live node holds it: relay to it.
    There {
        node: String,
        addr: String,
        epoch: i64,
    },
    /// Nobody live holds it: claim it. `over` is the epoch the claim must
    /// still find (compare-and-set), `None` when the table has no row yet.
    Claim { over: Option<i64> },
}

/// What `me` should do about a table whose lease is `row` (`None`: the
/// table has no row yet).
pub fn decide(me: &str, row: Option<&LeaseRow>) -> Decision {
    let Some(row) = row else {
        return Decision::Claim { over: None };
    };
    match &row.owner {
        // Our own lease stands even if our heartbeat lapsed a moment ago:
        // nobody took it, and if someone does, the epoch check in every
        // append stops us.
        Some(owner) if owner == me => Decision::Here { epoch: row.epoch },
        Some(owner) if row.alive => match &row.addr {
            Some(addr) => Decision::There {
                node: owner.clone(),
                addr: addr.clone(),
                epoch: row.epoch,
            },
            // Alive without an address cannot happen (the heartbeat writes
            // both); treat it as gone rather than relay nowhere.
            None => Decision::Claim {
                over: Some(row.epoch),
            },
        },
        _ => Decision::Claim {
            over: Some(row.epoch),
        },
    }
}

/// What became of the leases this node believed it held, after reading the
/// ones PostgreSQL says it holds: each `(table, epoch)` in `believed` that
/// is not in `stored` at the same epoch was lost (taken over, or released
/// by an operator).
pub fn lost<'a, K: Eq + 'a>(
    believed: impl IntoIterator<Item = (&'a K, i64)>,
    stored: &[(K, i64)],
) -> Vec<&'a K> {
    believed
        .into_iter()
        .filter(|(key, epoch)| !stored.iter().any(|(k, e)| k == *key && e == epoch))
        .map(|(key, _)| key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(owner: Option<&str>, epoch: i64, alive: bool) -> LeaseRow {
        LeaseRow {
            owner: owner.map(str::to_owned),
            epoch,
            addr: owner.map(|o| format!("{o}.internal:8080")),
            alive,
        }
    }

    #[test]
    fn a_table_without_a_row_is_claimed_from_nothing() {
        assert_eq!(decide("a", None), Decision::Claim { over: None });
    }

    #[test]
    fn a_table_held_here_is_served_here_at_its_epoch() {
        assert_eq!(
            decide("a", Some(&row(Some("a"), 4, true))),
            Decision::Here { epoch: 4 }
        );
        // Our heartbeat lapsed but nobody took the table: still ours.
        assert_eq!(
            decide("a", Some(&row(Some("a"), 4, false))),
            Decision::Here { epoch: 4 }
        );
    }

    #[test]
    fn a_table_held_by_a_live_node_is_relayed_there() {
        assert_eq!(
            decide("a", Some(&row(Some("b"), 2, true))),
            Decision::There {
                node: "b".into(),
                addr: "b.internal:8080".into(),
                epoch: 2
            }
        );
    }

    #[test]
    fn a_table_whose_owner_expired_or_left_is_taken_over_at_its_epoch() {
        assert_eq!(
            decide("a", Some(&row(Some("b"), 2, false))),
            Decision::Claim { over: Some(2) }
        );
        assert_eq!(
            decide("a", Some(&row(None, 7, false))),
            Decision::Claim { over: Some(7) }
        );
        let mut nowhere = row(Some("b"), 3, true);
        nowhere.addr = None;
        assert_eq!(
            decide("a", Some(&nowhere)),
            Decision::Claim { over: Some(3) }
        );
    }

    #[test]
    fn a_lease_is_lost_when_its_epoch_or_owner_changed() {
        let believed = [("t1", 1), ("t2", 5), ("t3", 2)];
        let stored = [("t1", 1), ("t2", 6)];
        let lost = lost(believed.iter().map(|(k, e)| (k, *e)), &stored);
        assert_eq!(lost, vec![&"t2", &"t3"]);
        assert!(super::lost(believed.iter().map(|(k, e)| (k, *e)), &believed).is_empty());
    }
}
