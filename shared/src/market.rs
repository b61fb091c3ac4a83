//! The market stand's Yjs document (`docs/schema.md`, "The stand document"): its `meta`,
//! written once by the server from the event's team.

use yrs::{Any, Doc, Map, ReadTxn, Transact, WriteTxn};

use crate::event::Team;
use crate::schema::{META, any_array, any_i64, any_map, any_str, key};

/// `meta.kind` of a stand document (a table's `meta` has no `kind`).
pub const STAND_KIND: &str = "stand";
/// The stand document's schema version (`meta.schemaVersion`).
pub const STAND_SCHEMA_VERSION: u32 = 1;

/// Key names of a stand's `meta` beyond the table's ([`key`]).
pub mod stand_key {
    pub const KIND: &str = "kind";
    pub const TEAM: &str = "team";
    pub const MARKET_TITLE: &str = "marketTitle";
}

/// Writes the stand's `meta` from `team` unless it already has a `schemaVersion`; returns
/// whether it wrote (as [`crate::schema::ensure_meta`], one transaction).
pub fn ensure_stand_meta(doc: &Doc, team: &Team, market_title: &str) -> bool {
    let mut txn = doc.transact_mut();
    let meta = txn.get_or_insert_map(META);
    if meta.get(&txn, key::SCHEMA_VERSION).is_some() {
        return false;
    }
    meta.insert(&mut txn, stand_key::KIND, STAND_KIND);
    meta.insert(&mut txn, stand_key::MARKET_TITLE, market_title);
    let focus = any_array(team.focus.iter().map(|f| Any::from(f.as_str())));
    let team = any_map([
        ("number", Any::from(team.number)),
        ("name", Any::from(team.name.as_str())),
        ("focus", focus),
    ]);
    meta.insert(&mut txn, stand_key::TEAM, team);
    // Written last: its presence is what marks `meta` as complete.
    meta.insert(
        &mut txn,
        key::SCHEMA_VERSION,
        Any::from(STAND_SCHEMA_VERSION),
    );
    true
}

/// What a stand's `meta` says: its team and the market's title.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StandMeta {
    pub team: Team,
    pub market_title: String,
}

/// Reads a stand's `meta` back; `None` until [`ensure_stand_meta`] wrote it or for a table.
pub fn read_stand_meta(doc: &Doc) -> Option<StandMeta> {
    let txn = doc.transact();
    let meta = txn.get_map(META)?;
    let plain = |name: &str| match meta.get(&txn, name) {
        Some(yrs::Out::Any(any)) => Some(any),
        _ => None,
    };
    if !matches!(plain(stand_key::KIND), Some(Any::String(kind)) if &*kind == STAND_KIND) {
        return None;
    }
    let Some(Any::Map(team)) = plain(stand_key::TEAM) else {
        return None;
    };
    let number = any_i64(team.get("number")?).and_then(|n| u32::try_from(n).ok())?;
    let focus = match team.get("focus") {
        Some(Any::Array(items)) => items.iter().map(|f| any_str(Some(f))).collect(),
        _ => Vec::new(),
    };
    Some(StandMeta {
        team: Team {
            number,
            name: any_str(team.get("name")),
            focus,
        },
        market_title: any_str(plain(stand_key::MARKET_TITLE).as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    #[test]
    fn stand_meta_is_written_once_and_reads_back() {
        let event = Event::builtin();
        let team = event.team(6).expect("team 6");
        let doc = Doc::new();
        assert!(ensure_stand_meta(&doc, team, "Markt"));
        assert!(!ensure_stand_meta(&doc, team, "Anders"));
        let meta = read_stand_meta(&doc).expect("meta");
        assert_eq!(&meta.team, team);
        assert_eq!(meta.market_title, "Markt");
        // A table's meta is no stand's.
        let table = Doc::new();
        crate::schema::ensure_meta(&table, &event, &event.tables[0]);
        assert_eq!(read_stand_meta(&table), None);
    }
}
