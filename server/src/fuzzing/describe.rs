//! What two documents must agree on to be the same document, and how they
//! differ when they do not: the harness's comparisons.

use std::collections::BTreeMap;

use werktafel_shared::control::SERVER_ONLY;
use yrs::{ClientID, Doc, IdSet, ReadTxn, Snapshot, Transact};

/// The room creates the server-only maps to watch them; a document built
/// from storage gets them the same way, so that both list the same roots.
pub(super) fn ensure_server_maps(doc: &Doc) {
    for name in SERVER_ONLY {
        doc.get_or_insert_map(name);
    }
}

/// What two documents must agree on to be the same document.
#[derive(Debug, PartialEq)]
pub(super) struct Described {
    /// The state vector without clients at clock 0: yrs may list a client
    /// it only knows from a pending update, which means the same as not
    /// listing it.
    state: BTreeMap<ClientID, u32>,
    deleted: IdSet,
    missing_updates: bool,
    /// Every root's content as JSON.
    roots: BTreeMap<String, serde_json::Value>,
}

/// [`Described`] without the roots' content, for the check after every
/// step: an update that adds or deletes anything moves the state vector or
/// the delete set, so content cannot change while these stay equal.
pub(super) fn fingerprint(doc: &Doc) -> Described {
    describe_with(doc, false)
}

pub(super) fn describe(doc: &Doc) -> Described {
    describe_with(doc, true)
}

fn describe_with(doc: &Doc, content: bool) -> Described {
    let txn = doc.transact();
    // A root nobody has typed yet (only named by an update, perhaps a
    // pending one) reads as null whatever it holds; its content is compared
    // through the state vector, and whether the name is listed at all
    // depends on how the document was built, so it is left out.
    let roots = txn
        .root_refs()
        .filter(|_| content)
        .map(|(name, out)| {
            let any = yrs::types::ToJson::to_json(&out, &txn);
            let json = serde_json::to_value(&any)
                .unwrap_or_else(|e| serde_json::Value::String(format!("{any:?} ({e})")));
            (name.to_string(), json)
        })
        .filter(|(_, json)| !json.is_null())
        .collect();
    let Snapshot {
        delete_set,
        state_map,
    } = txn.snapshot();
    Described {
        state: state_map
            .iter()
            .filter(|(_, clock)| **clock > 0)
            .map(|(client, clock)| (*client, *clock))
            .collect(),
        deleted: delete_set,
        missing_updates: txn.has_missing_updates(),
        roots,
    }
}

/// The fields in which `other` differs from the room's document `live`.
pub(super) fn differences(live: &Described, name: &str, other: &Described) -> String {
    let mut out = Vec::new();
    if live.state != other.state {
        out.push(format!(
            "state vector: room {:?}, {name} {:?}",
            live.state, other.state
        ));
    }
    if live.deleted != other.deleted {
        out.push(format!(
            "delete set: room {:?}, {name} {:?}",
            live.deleted, other.deleted
        ));
    }
    if live.missing_updates != other.missing_updates {
        out.push(format!(
            "pending updates: room {}, {name} {}",
            live.missing_updates, other.missing_updates
        ));
    }
    let names: std::collections::BTreeSet<&String> =
        live.roots.keys().chain(other.roots.keys()).collect();
    for root in names {
        let (a, b) = (live.roots.get(root), other.roots.get(root));
        if a != b {
            out.push(format!("root {root:?}: room {a:?}, {name} {b:?}"));
        }
    }
    out.join("; ")
}
